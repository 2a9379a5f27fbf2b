/* user_expr.c — the update and condition expressions of a user's writes (see user_expr.h). */
#include "user_expr.h"

#include "ddb_value.h"

#include <stdio.h>
#include <string.h>

#define MAX_EXPRESSION    1024u /* an expression is built from names we choose and <= 16 tags */
#define ALIAS_SIZE        32u   /* "#attr" or ":name" for the attribute and value names we choose */
#define VERSION_NAME_SIZE 24u   /* "v" and a size_t index; its ":" alias fits ALIAS_SIZE */
#define SET_KEYWORD       "SET "

ua_status user_expr_init(user_expr *e) {
    buf_init(&e->text, MAX_EXPRESSION);
    e->names = json_object();
    e->values = json_object();
    return e->names && e->values ? UA_OK : UA_ERR_NOMEM;
}

void user_expr_free(user_expr *e) {
    buf_free(&e->text);
    json_decref(e->names);
    json_decref(e->values);
}

/* Records "#attr" → attr. */
static ua_status expr_name(user_expr *e, const char *attr) {
    char alias[ALIAS_SIZE];
    snprintf(alias, sizeof alias, "#%s", attr);
    return json_object_set_new(e->names, alias, json_string(attr)) == 0 ? UA_OK : UA_ERR_NOMEM;
}

/* Records ":name" → value (stolen; NULL when making it ran out of memory). */
static ua_status expr_value(user_expr *e, const char *name, json_t *value) {
    char alias[ALIAS_SIZE];
    snprintf(alias, sizeof alias, ":%s", name);
    return value && json_object_set_new(e->values, alias, value) == 0 ? UA_OK : UA_ERR_NOMEM;
}

/* Appends ", #attr = :value" (without the comma first) to a SET clause; value is stolen. */
static ua_status expr_set(user_expr *e, const char *attr, const char *value_name, json_t *value) {
    bool first = e->text.len == strlen(SET_KEYWORD); /* nothing but the keyword yet */
    ua_status st = buf_appendf(&e->text, "%s#%s = :%s", first ? "" : ", ", attr, value_name);
    if (st == UA_OK)
        st = expr_name(e, attr);
    if (st == UA_OK)
        return expr_value(e, value_name, value);
    json_decref(value);
    return st;
}

/* The SET of the fields the body gives: email with its emailLower. */
static ua_status set_fields(user_expr *e, const user_fields *in) {
    ua_status st = UA_OK;
    if (in->has_name)
        st = expr_set(e, "name", "name", user_item_av_span(in->name));
    if (st == UA_OK && in->has_email) {
        char lower[UA_MAX_EMAIL_OCTETS + 1];
        user_item_email_lower(in->email, lower);
        st = expr_set(e, "email", "email", user_item_av_span(in->email));
        if (st == UA_OK)
            st = expr_set(e, "emailLower", "emailLower", ddb_av_s(lower));
    }
    if (st == UA_OK && json_is_integer(in->age))
        st = expr_set(e, "age", "age", ddb_av_n(json_integer_value(in->age)));
    return st;
}

ua_status user_expr_update(user_expr *e, const user_fields *in, int64_t now_ms, const char *token) {
    char now[USER_ITEM_TIMESTAMP_SIZE];
    user_item_timestamp(now_ms, now);
    ua_status st = buf_append_str(&e->text, SET_KEYWORD);
    if (st == UA_OK)
        st = set_fields(e, in);
    if (st == UA_OK)
        st = expr_set(e, "updatedAt", "now", ddb_av_s(now));
    if (st == UA_OK)
        st = expr_set(e, USER_ITEM_WRITE_TOKEN, "token", ddb_av_s(token));
    if (st == UA_OK)
        st = buf_append_str(&e->text, ", #version = #version + :one");
    if (st == UA_OK)
        st = expr_name(e, "version");
    if (st == UA_OK)
        st = expr_value(e, "one", ddb_av_n(1));
    if (st == UA_OK && json_is_null(in->age)) {
        st = buf_append_str(&e->text, " REMOVE #age");
        if (st == UA_OK)
            st = expr_name(e, "age");
    }
    return st;
}

/* " AND #version IN (:v0, ...)", the values and the name going to vars. */
static ua_status version_in(user_expr *cond, user_expr *vars, const long long *versions, size_t n) {
    ua_status st = buf_append_str(&cond->text, " AND #version IN (");
    for (size_t i = 0; i < n && st == UA_OK; i++) {
        char name[VERSION_NAME_SIZE];
        snprintf(name, sizeof name, "v%zu", i);
        st = buf_appendf(&cond->text, "%s:%s", i ? ", " : "", name);
        if (st == UA_OK)
            st = expr_value(vars, name, ddb_av_n(versions[i]));
    }
    if (st == UA_OK)
        st = buf_append_char(&cond->text, ')');
    return st == UA_OK ? expr_name(vars, "version") : st;
}

ua_status user_expr_condition(user_expr *cond, user_expr *vars, bool guard_token,
                              const long long *versions, size_t n_versions) {
    ua_status st = buf_append_str(&cond->text, "attribute_exists(userId)");
    if (st == UA_OK && guard_token)
        st = buf_append_str(&cond->text, " AND (attribute_not_exists(#" USER_ITEM_WRITE_TOKEN
                                         ") OR #" USER_ITEM_WRITE_TOKEN " <> :token)");
    if (st != UA_OK || n_versions == 0)
        return st;
    return version_in(cond, vars, versions, n_versions);
}

ua_status user_expr_same_email(user_expr *cond) {
    return buf_append_str(&cond->text, " AND #emailLower = :emailLower");
}

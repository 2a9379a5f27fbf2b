/* user_list.c — the list's query and the page it answers (see user_list.h). */
#include "user_list.h"

#include "page_token.h"
#include "user_item.h"
#include "validate.h"

#define MSG_LIMIT                                                                                  \
    "must be an integer from " UA_STR(UA_LIST_MIN_LIMIT) " to " UA_STR(UA_LIST_MAX_LIMIT)

/* How many values query parameter name has; *v is the one value when there is exactly one
 * (NULL when it is not a string), else NULL. */
static size_t query_value(const api_request *req, const char *name, const json_t **v) {
    const json_t *vals = req->query ? json_object_get(req->query, name) : NULL;
    size_t n = json_array_size(vals);
    const json_t *first = n == 1 ? json_array_get(vals, 0) : NULL;
    *v = json_is_string(first) ? first : NULL;
    return n;
}

/* limit: absent → the default, else a decimal integer in the list's bounds, given once. */
static ua_status read_limit(const api_request *req, long *limit, json_t *errors) {
    const json_t *v;
    size_t count = query_value(req, "limit", &v);
    *limit = UA_LIST_DEFAULT_LIMIT;
    if (count == 0)
        return UA_OK;
    if (count > 1)
        return validate_add_error(errors, "limit", "must be given once");
    const char *s = v ? json_string_value(v) : "";
    size_t len = v ? json_string_length(v) : 0;
    long n = 0;
    bool ok = len > 0;
    for (size_t i = 0; i < len && ok; i++) {
        ok = s[i] >= '0' && s[i] <= '9';
        if (ok && n <= UA_LIST_MAX_LIMIT) /* stop growing: anything past the cap is refused */
            n = n * 10 + (s[i] - '0');
    }
    if (!ok || n < UA_LIST_MIN_LIMIT || n > UA_LIST_MAX_LIMIT)
        return validate_add_error(errors, "limit", MSG_LIMIT);
    *limit = n;
    return UA_OK;
}

static ua_status read_next_token(const api_request *req, user_list_query *q, json_t *errors) {
    const json_t *v;
    size_t count = query_value(req, "nextToken", &v);
    q->has_start = false;
    if (count == 0)
        return UA_OK;
    if (count > 1)
        return validate_add_error(errors, "nextToken", "must be given once");
    if (!v || !page_token_decode((ua_span){json_string_value(v), json_string_length(v)}, q->start))
        return validate_add_error(errors, "nextToken", "is not a token this API issued");
    q->has_start = true;
    return UA_OK;
}

/* email: absent, or an address by the create's rules (after trimming), given once. */
static ua_status read_email(const api_request *req, user_list_query *q, json_t *errors) {
    const json_t *v;
    size_t count = query_value(req, "email", &v);
    q->has_email = false;
    if (count == 0)
        return UA_OK;
    if (count > 1)
        return validate_add_error(errors, "email", "must be given once");
    ua_span email = validate_trim((ua_span){json_string_value(v), v ? json_string_length(v) : 0});
    const char *msg = v ? validate_email(email) : "must be a valid email address";
    if (msg)
        return validate_add_error(errors, "email", msg);
    user_item_email_lower(email, q->email_lower);
    q->has_email = true;
    return UA_OK;
}

ua_status user_list_read_query(const api_request *req, user_list_query *q, json_t *errors) {
    ua_status st = read_limit(req, &q->limit, errors);
    if (st == UA_OK)
        st = read_next_token(req, q, errors);
    if (st == UA_OK)
        st = read_email(req, q, errors);
    if (st == UA_OK && q->has_email && q->has_start)
        st = validate_add_error(errors, "nextToken", "cannot be combined with email");
    return st;
}

/* The users of a Scan's Items, skipping items that are not users. New reference. */
static ua_status users_of(const json_t *items, json_t **users) {
    size_t i;
    const json_t *item;
    json_t *list = json_array();
    if (!list)
        return UA_ERR_NOMEM;
    json_array_foreach(items, i, item) {
        json_t *user;
        long long version;
        ua_status st = user_item_to_user(item, &user, &version);
        if (st == UA_OK && json_array_append_new(list, user) != 0)
            st = UA_ERR_NOMEM;
        if (st == UA_ERR_NOMEM) {
            json_decref(list);
            return st;
        }
    }
    *users = list;
    return UA_OK;
}

/* Sets the page's nextToken to the token for last_key. */
static ua_status set_next_token(json_t *page, const json_t *last_key) {
    buf token;
    buf_init(&token, UA_MAX_NEXT_TOKEN_CHARS);
    ua_status st = page_token_encode(last_key, &token);
    if (st == UA_OK && json_object_set_new(page, "nextToken", json_string(buf_str(&token))) != 0)
        st = UA_ERR_NOMEM;
    buf_free(&token);
    return st;
}

/* The page of reply's Items, with the token for its LastEvaluatedKey when with_token. */
static ua_status page_of(const json_t *reply, bool with_token, json_t **doc) {
    json_t *users = NULL, *page = NULL;
    ua_status st = users_of(json_object_get(reply, "Items"), &users);
    if (st == UA_OK) {
        page = json_pack("{s:O, s:I}", "users", users, "count", (json_int_t)json_array_size(users));
        st = page ? UA_OK : UA_ERR_NOMEM;
    }
    json_decref(users);
    const json_t *last = with_token ? json_object_get(reply, "LastEvaluatedKey") : NULL;
    if (st == UA_OK && last)
        st = set_next_token(page, last);
    if (st != UA_OK) {
        json_decref(page);
        page = NULL;
    }
    *doc = page;
    return st;
}

ua_status user_list_page(const json_t *scan_reply, json_t **doc) {
    return page_of(scan_reply, true, doc);
}

ua_status user_list_lookup_page(const json_t *query_reply, json_t **doc) {
    return page_of(query_reply, false, doc);
}

/* user_item.c — users as DynamoDB items and as the API's resources (see user_item.h). */
#include "user_item.h"

#include "ddb_value.h"
#include "router.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define MS_PER_SECOND 1000

/* The resource's fields that are S attributes of the item: these, then age, then the stamps,
 * then version is the contract's order. */
static const char *const RESOURCE_STRINGS[] = {"userId", "name", "email"};
static const char *const RESOURCE_STAMPS[] = {"createdAt", "updatedAt"};
#define N_RESOURCE_STRINGS (sizeof RESOURCE_STRINGS / sizeof RESOURCE_STRINGS[0])
#define N_RESOURCE_STAMPS  (sizeof RESOURCE_STAMPS / sizeof RESOURCE_STAMPS[0])

json_t *user_item_key(const char *id) {
    return json_pack("{s:{s:s}}", "userId", "S", id);
}

json_t *user_item_av_span(ua_span s) {
    return json_pack("{s:s%}", "S", s.ptr, s.len);
}

void user_item_timestamp(int64_t ms, char out[USER_ITEM_TIMESTAMP_SIZE]) {
    int64_t secs = ms / MS_PER_SECOND, milli = ms % MS_PER_SECOND;
    if (milli < 0) {
        milli += MS_PER_SECOND;
        secs--;
    }
    time_t t = (time_t)secs;
    struct tm tm;
    if (!gmtime_r(&t, &tm))
        memset(&tm, 0, sizeof tm);
    snprintf(out, USER_ITEM_TIMESTAMP_SIZE, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
             (int)milli);
}

void user_item_email_lower(ua_span email, char out[UA_MAX_EMAIL_OCTETS + 1]) {
    size_t i;
    for (i = 0; i < email.len && i < UA_MAX_EMAIL_OCTETS; i++) {
        char c = email.ptr[i];
        out[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
    }
    out[i] = '\0';
}

/* Sets attribute name of item to av (stolen, may be NULL); false when out of memory. */
static bool set_attr(json_t *item, const char *name, json_t *av) {
    return json_object_set_new(item, name, av) == 0;
}

ua_status user_item_new(const user_fields *in, const char *id, const char *token, int64_t now_ms,
                        json_t **item) {
    char now[USER_ITEM_TIMESTAMP_SIZE], lower[UA_MAX_EMAIL_OCTETS + 1];
    user_item_timestamp(now_ms, now);
    user_item_email_lower(in->email, lower);

    json_t *it = json_pack("{s:o, s:o, s:o, s:o, s:o}", "userId", ddb_av_s(id), "name",
                           user_item_av_span(in->name), "email", user_item_av_span(in->email),
                           "emailLower", ddb_av_s(lower), USER_ITEM_WRITE_TOKEN, ddb_av_s(token));
    bool ok = it && (!in->age || set_attr(it, "age", ddb_av_n(json_integer_value(in->age)))) &&
              set_attr(it, "createdAt", ddb_av_s(now)) &&
              set_attr(it, "updatedAt", ddb_av_s(now)) && set_attr(it, "version", ddb_av_n(1));
    if (!ok) {
        json_decref(it);
        it = NULL;
    }
    *item = it;
    return ok ? UA_OK : UA_ERR_NOMEM;
}

ua_status user_item_apply(const json_t *old, const user_fields *in, const char *token,
                          int64_t now_ms, json_t **item) {
    long long version;
    *item = NULL;
    if (!ddb_item_n(old, "version", &version))
        return UA_ERR_INVALID;
    char now[USER_ITEM_TIMESTAMP_SIZE], lower[UA_MAX_EMAIL_OCTETS + 1];
    user_item_timestamp(now_ms, now);
    json_t *it = json_deep_copy(old);
    bool ok = it && (!in->has_name || set_attr(it, "name", user_item_av_span(in->name)));
    if (ok && in->has_email) {
        user_item_email_lower(in->email, lower);
        ok = set_attr(it, "email", user_item_av_span(in->email)) &&
             set_attr(it, "emailLower", ddb_av_s(lower));
    }
    if (ok && json_is_integer(in->age))
        ok = set_attr(it, "age", ddb_av_n(json_integer_value(in->age)));
    else if (ok && json_is_null(in->age))
        json_object_del(it, "age"); /* fails only when there was none: nothing to remove */
    ok = ok && set_attr(it, "updatedAt", ddb_av_s(now)) &&
         set_attr(it, USER_ITEM_WRITE_TOKEN, ddb_av_s(token)) &&
         set_attr(it, "version", ddb_av_n(version + 1));
    if (!ok) {
        json_decref(it);
        return UA_ERR_NOMEM;
    }
    *item = it;
    return UA_OK;
}

/* Shares the S of each attribute in names[0..n) with user under the same name. */
static ua_status share_strings(const json_t *item, const char *const *names, size_t n,
                               json_t *user) {
    for (size_t i = 0; i < n; i++) {
        json_t *s = ddb_item_s_json(item, names[i]);
        if (!s)
            return UA_ERR_INVALID;
        if (json_object_set(user, names[i], s) != 0)
            return UA_ERR_NOMEM;
    }
    return UA_OK;
}

ua_status user_item_to_user(const json_t *item, json_t **user, long long *version) {
    long long age = 0;
    bool has_age = json_object_get(item, "age") != NULL;
    const json_t *id = ddb_item_s_json(item, "userId");

    *user = NULL;
    /* An id that is not canonical was not written by this API, and could not be addressed. */
    if (!json_is_object(item) || !id ||
        !router_is_canonical_uuid(json_string_value(id), json_string_length(id)) ||
        !ddb_item_n(item, "version", version) || (has_age && !ddb_item_n(item, "age", &age)))
        return UA_ERR_INVALID;
    json_t *u = json_object();
    if (!u)
        return UA_ERR_NOMEM;
    ua_status st = share_strings(item, RESOURCE_STRINGS, N_RESOURCE_STRINGS, u);
    if (st == UA_OK && has_age && json_object_set_new(u, "age", json_integer(age)) != 0)
        st = UA_ERR_NOMEM;
    if (st == UA_OK)
        st = share_strings(item, RESOURCE_STAMPS, N_RESOURCE_STAMPS, u);
    if (st == UA_OK && json_object_set_new(u, "version", json_integer(*version)) != 0)
        st = UA_ERR_NOMEM;
    if (st != UA_OK) {
        json_decref(u);
        return st;
    }
    *user = u;
    return UA_OK;
}

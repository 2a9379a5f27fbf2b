/* idempotency.c — Idempotency-Key and its record (see idempotency.h). */
#include "idempotency.h"

#include "ddb_value.h"
#include "sigv4.h"
#include "user_item.h"

#include <stdio.h>
#include <string.h>

#define MSG_KEY                                                                                    \
    "must be 1 to " UA_STR(IDEMPOTENCY_KEY_MAX) " printable ASCII characters, given once"
#define MS_PER_S   1000
#define AGE_DIGITS sizeof "-9223372036854775808"

static bool key_ok(const json_t *v) {
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    if (!s || n == 0 || n > IDEMPOTENCY_KEY_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x20 || s[i] > 0x7E)
            return false;
    return true;
}

ua_status idempotency_read_key(const api_request *req, idempotency_key *k, json_t *errors) {
    const json_t *vals = req->headers ? json_object_get(req->headers, "idempotency-key") : NULL;
    k->present = false;
    k->key[0] = '\0';
    if (json_array_size(vals) == 0)
        return UA_OK;
    const json_t *v = json_array_get(vals, 0);
    if (json_array_size(vals) != 1 || !key_ok(v))
        return validate_add_error(errors, "Idempotency-Key", MSG_KEY);
    memcpy(k->key, json_string_value(v), json_string_length(v) + 1);
    k->present = true;
    return UA_OK;
}

void idempotency_request_hash(const user_fields *in, char out[IDEMPOTENCY_HASH_SIZE]) {
    /* name NUL email NUL age: a name or email never holds NUL (the field rules refuse control
     * characters), so no two requests share a text. */
    char age[AGE_DIGITS] = "";
    if (json_is_integer(in->age))
        snprintf(age, sizeof age, "%lld", (long long)json_integer_value(in->age));
    size_t n_age = strlen(age), len = in->name.len + 1 + in->email.len + 1 + n_age;
    char text[UA_MAX_BODY_BYTES + 2 + AGE_DIGITS];
    if (len > sizeof text) { /* cannot happen: both fields come from a body of at most 16 KiB */
        memset(out, '0', IDEMPOTENCY_HASH_SIZE - 1);
        out[IDEMPOTENCY_HASH_SIZE - 1] = '\0';
        return;
    }
    char *p = text;
    memcpy(p, in->name.ptr, in->name.len);
    p += in->name.len;
    *p++ = '\0';
    memcpy(p, in->email.ptr, in->email.len);
    p += in->email.len;
    *p++ = '\0';
    memcpy(p, age, n_age);
    sigv4_sha256_hex(text, len, out);
}

json_t *idempotency_put(const char *table, const idempotency_key *k,
                        const idempotency_record *record, int64_t now_ms) {
    char pk[sizeof IDEMPOTENCY_PREFIX + IDEMPOTENCY_KEY_MAX], created[USER_ITEM_TIMESTAMP_SIZE];
    snprintf(pk, sizeof pk, IDEMPOTENCY_PREFIX "%s", k->key);
    user_item_timestamp(now_ms, created);
    long long now_s = (long long)(now_ms / MS_PER_S);
    return json_pack("{s:{s:s, s:{s:o, s:o, s:o, s:o, s:o, s:o}, s:s, s:{s:s}, s:{s:o}, s:s}}",
                     "Put", "TableName", table, "Item", "pk", ddb_av_s(pk), "requestHash",
                     ddb_av_s(record->request_hash), "userId", ddb_av_s(record->user_id),
                     "response", user_item_av_span(record->response), "createdAt",
                     ddb_av_s(created), "expiresAt", ddb_av_n(now_s + IDEMPOTENCY_TTL_S),
                     "ConditionExpression", "attribute_not_exists(pk) OR #expiresAt <= :now",
                     "ExpressionAttributeNames", "#expiresAt", "expiresAt",
                     "ExpressionAttributeValues", ":now", ddb_av_n(now_s),
                     "ReturnValuesOnConditionCheckFailure", "ALL_OLD");
}

bool idempotency_record_read(const json_t *item, idempotency_record *r) {
    const json_t *response = ddb_item_s_json(item, "response");
    r->request_hash = ddb_item_s(item, "requestHash");
    r->user_id = ddb_item_s(item, "userId");
    r->response = (ua_span){json_string_value(response), json_string_length(response)};
    return r->request_hash && r->user_id && response;
}

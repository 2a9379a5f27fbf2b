/* fuzz_next_token.c — the page token decoder, through users_handle GET /users?nextToken=...:
 * a token is either 400 VALIDATION_FAILED naming nextToken with no DynamoDB call, or strict
 * base64url (no padding, unused bits zero) of JSON that is exactly a well-formed key
 * {"userId":{"S":"<canonical id>"}} (blanks and escapes allowed), which starts one Scan at
 * that key; the page's own nextToken is then the API's spelling of the same key.
 *
 * Input: the token's bytes. */
#include "fuzz_support.h"

#include "router.h"
#include "validate.h"

#include <stdlib.h>
#include <string.h>

#define DEADLINE_MS 1795523706789LL

/* The token the API would issue for id: computed here independently of users.c. */
static void issued_token(const char *id, char *out, size_t cap) {
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    char raw[128];
    int n = snprintf(raw, sizeof raw, "{\"userId\":{\"S\":\"%s\"}}", id);
    size_t o = 0;
    unsigned acc = 0, bits = 0;
    for (int i = 0; i < n && o + 2 < cap; i++) {
        acc = (acc << 8) | (unsigned char)raw[i];
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            out[o++] = alphabet[(acc >> bits) & 63u];
        }
        acc &= (1u << bits) - 1;
    }
    if (bits > 0)
        out[o++] = alphabet[(acc << (6 - bits)) & 63u];
    out[o] = '\0';
}

/* Whether token is strict base64url of JSON equal to key. */
static bool decodes_to(const uint8_t *token, size_t len, const json_t *key) {
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    unsigned char raw[512];
    size_t n = 0;
    unsigned acc = 0, bits = 0;
    if (len % 4 == 1)
        return false;
    for (size_t i = 0; i < len; i++) {
        const char *p = memchr(alphabet, token[i], 64);
        if (!p || n == sizeof raw)
            return false;
        acc = (acc << 6) | (unsigned)(p - alphabet);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            raw[n++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    if (acc != 0)
        return false;
    json_t *doc = json_loadb((const char *)raw, n, JSON_REJECT_DUPLICATES, NULL);
    bool same = doc && json_equal(doc, key);
    json_decref(doc);
    return same;
}

/* Answers the Scan with one user and the key it started from as LastEvaluatedKey. */
static ddb_status echo_call(void *ctx, ddb_op op, const json_t *request, int64_t deadline_ms,
                            ddb_reply *reply) {
    fuzz_ddb *f = ctx;
    json_t *key = json_deep_copy(json_object_get(request, "ExclusiveStartKey"));
    json_t *body = json_pack("{s:[], s:i}", "Items", "Count", 0);
    if (!body)
        abort();
    if (key)
        json_object_set_new(body, "LastEvaluatedKey", key);
    fake_ddb_push(&f->fake, DDB_OK, body, NULL, 1);
    return fake_ddb_port(&f->fake).call(&f->fake, op, request, deadline_ms, reply);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    /* Query values reach the handler as whole UTF-8 strings: apigw drops anything else. */
    if (memchr(data, '\0', size) || !validate_utf8((const char *)data, size))
        return 0;
    fuzz_ddb ddb;
    fuzz_ddb_init(&ddb, 0, 0);
    users_deps deps = fuzz_deps(&ddb, NULL);
    deps.ddb = (ddb_port){.call = echo_call, .ctx = &ddb};
    json_t *token = json_stringn((const char *)data, size);
    api_request req = {.method = "GET",
                       .path = "/users",
                       .headers = json_object(),
                       .query = json_pack("{s:[o]}", "nextToken", token),
                       .request_id = "api-request-id"};
    api_response resp;
    users_outcome outcome;
    if (!token || !req.headers || !req.query || api_response_init(&resp) != UA_OK)
        abort();
    users_handle(&deps, &req, DEADLINE_MS, &resp, &outcome);
    fuzz_check_answer(&deps, &ddb, &req, &resp, &outcome, APIGW_V2);

    if (resp.status == 400) {
        json_t *doc = json_loadb(buf_str(&resp.body), resp.body.len, 0, NULL);
        const json_t *field =
            json_object_get(json_array_get(json_object_get(doc, "errors"), 0), "field");
        if (ddb.fake.n_calls != 0 || !json_is_string(field) ||
            strcmp(json_string_value(field), "nextToken") != 0)
            fuzz_fail("a refused token did not name nextToken: %s", buf_str(&resp.body));
        json_decref(doc);
    } else if (resp.status == 200) {
        const json_t *start = json_object_get(ddb.fake.calls[0].request, "ExclusiveStartKey");
        const json_t *id = json_object_get(json_object_get(start, "userId"), "S");
        if (json_object_size(start) != 1 || !json_is_string(id) ||
            !router_is_canonical_uuid(json_string_value(id), json_string_length(id)))
            fuzz_fail("a token started a Scan at a key that is not ours");
        char want[128];
        issued_token(json_string_value(id), want, sizeof want);
        if (!decodes_to(data, size, start))
            fuzz_fail("token %.*s accepted, but it does not decode to the key %s", (int)size,
                      (const char *)data, want);
        json_t *doc = json_loadb(buf_str(&resp.body), resp.body.len, 0, NULL);
        const char *again = json_string_value(json_object_get(doc, "nextToken"));
        if (!again || strcmp(again, want) != 0)
            fuzz_fail("the page's nextToken %s is not the API's token for the key",
                      again ? again : "(none)");
        json_decref(doc);
    } else {
        fuzz_fail("a page token answered %d", resp.status);
    }
    api_response_free(&resp);
    json_decref(req.headers);
    json_decref(req.query);
    fuzz_ddb_free(&ddb);
    return 0;
}

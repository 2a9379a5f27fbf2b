/* fuzz_ddb_response.c — the DynamoDB response side on arbitrary JSON: ddb_unmarshal (and a
 * marshal round trip), ddb_parse_error_type, the item helpers, and the users handler reading
 * the document as the reply to each of its operations.
 *
 * Input: byte 0 picks the operation and whether the reply is a success or a failed
 * condition; the rest is the reply document. */
#include "ddb_value.h"
#include "fuzz_support.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define ID          "3f0c8a9e-8d1b-4c2a-9f5e-2b7d3c1a4e6f"
#define DEADLINE_MS 1795523706789LL

/* Numbers compare by value: DynamoDB's N has no integer/real distinction. */
static bool same_value(const json_t *a, const json_t *b) {
    if (json_is_number(a) && json_is_number(b)) {
        if (json_is_integer(a) && json_is_integer(b))
            return json_integer_value(a) == json_integer_value(b);
        return json_number_value(a) == json_number_value(b);
    }
    if (json_typeof(a) != json_typeof(b))
        return false;
    if (json_is_object(a)) {
        const char *key;
        const json_t *v;
        if (json_object_size(a) != json_object_size(b))
            return false;
        json_object_foreach((json_t *)a, key, v) {
            const json_t *w = json_object_get(b, key);
            if (!w || !same_value(v, w))
                return false;
        }
        return true;
    }
    if (json_is_array(a)) {
        if (json_array_size(a) != json_array_size(b))
            return false;
        for (size_t i = 0; i < json_array_size(a); i++)
            if (!same_value(json_array_get(a, i), json_array_get(b, i)))
                return false;
        return true;
    }
    return json_equal(a, b);
}

static void check_value_side(const json_t *doc) {
    json_t *plain = ddb_unmarshal(doc);
    if (plain) {
        json_t *av = ddb_marshal(plain);
        json_t *again = av ? ddb_unmarshal(av) : NULL;
        if (!again || !same_value(plain, again))
            fuzz_fail("marshal(unmarshal(x)) does not read back the same value");
        json_decref(again);
        json_decref(av);
        json_decref(plain);
    }

    char type[96];
    memset(type, 'x', sizeof type);
    bool got = ddb_parse_error_type(doc, type, sizeof type);
    size_t len = strnlen(type, sizeof type);
    if (len == sizeof type || (got && len == 0) || (!got && len != 0))
        fuzz_fail("ddb_parse_error_type left %zu bytes (returned %d)", len, got);
    char tiny[1];
    if (ddb_parse_error_type(doc, tiny, sizeof tiny) || tiny[0] != '\0')
        fuzz_fail("ddb_parse_error_type wrote into a one-byte buffer");

    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)doc, key, v) {
        long long n;
        const char *s = ddb_item_s(doc, key);
        if (s && !json_is_string(json_object_get(v, "S")))
            fuzz_fail("ddb_item_s found a string that is not there");
        if (ddb_item_n(doc, key, &n) && !json_is_string(json_object_get(v, "N")))
            fuzz_fail("ddb_item_n found a number that is not there");
    }
}

/* The request each mode sends, and the reply doc is answered to it. */
typedef struct mode {
    const char *method, *path, *body;
} mode;

static const mode modes[] = {
    {"GET", "/users/" ID, NULL},
    {"GET", "/users", NULL},
    {"PATCH", "/users/" ID, "{\"name\":\"Ada\"}"},
    {"POST", "/users", "{\"name\":\"Ada\",\"email\":\"ada@example.com\",\"age\":36}"},
    {"DELETE", "/users/" ID, NULL},
};
#define N_MODES (sizeof modes / sizeof modes[0])

static void check_handler_side(const json_t *doc, uint8_t sel) {
    const mode *m = &modes[sel % N_MODES];
    bool condition = (sel / N_MODES) % 2u;
    fuzz_ddb ddb;
    fuzz_ddb_init(&ddb, 0, 0);
    fake_ddb_push(&ddb.fake, condition ? DDB_CONDITION_FAILED : DDB_OK, json_deep_copy(doc),
                  condition ? "ConditionalCheckFailedException" : NULL, 1);
    users_deps deps = fuzz_deps(&ddb, NULL);
    deps.ddb = fake_ddb_port(&ddb.fake);

    api_request req = {.method = m->method,
                       .path = m->path,
                       .headers = json_pack("{s:[s]}", "content-type", "application/json"),
                       .query = json_object(),
                       .body = m->body,
                       .body_len = m->body ? strlen(m->body) : 0,
                       .request_id = "api-request-id"};
    api_response resp;
    users_outcome outcome;
    if (!req.headers || !req.query || api_response_init(&resp) != UA_OK)
        abort();
    users_handle(&deps, &req, DEADLINE_MS, &resp, &outcome);
    fuzz_check_answer(&deps, &ddb, &req, &resp, &outcome, APIGW_V1);
    /* One scripted reply: a delete or an address change that reads on finds no second one
     * (an unscripted call fails) and must answer from that. */
    if (ddb.fake.n_calls < 1 || ddb.fake.n_calls > 2)
        fuzz_fail("%s %s made %zu calls", m->method, m->path, ddb.fake.n_calls);
    api_response_free(&resp);
    json_decref(req.headers);
    json_decref(req.query);
    fuzz_ddb_free(&ddb);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1)
        return 0;
    /* As ddb.c reads a reply: NULs allowed (other writers' items may hold U+0000). */
    json_t *doc = json_loadb((const char *)data + 1, size - 1, JSON_ALLOW_NUL, NULL);
    if (!doc)
        return 0;
    check_value_side(doc);
    check_handler_side(doc, data[0]);
    json_decref(doc);
    return 0;
}

/* test_idempotency.c — Idempotency-Key and its record (idempotency.h): the key's rules, the
 * request hash, the record a create puts, how it expires, and reading it back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ddb_value.h"
#include "idempotency.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CLAIMS  "UsersTable-claims"
#define ID      "3f0c8a9e-8d1b-4c2a-9f5e-2b7d3c1a4e6f"
#define NOW_MS  1795523696789LL
#define NOW_S   1795523696LL
#define NOW_ISO "2026-11-24T12:34:56.789Z"
#define MSG_KEY "must be 1 to 128 printable ASCII characters, given once"

/* ---- The key ---- */

/* Reads the key of a request whose idempotency-key lines are values (JSON array text; NULL:
 * no such header). Returns the errors (new reference). */
static json_t *read_key(const char *values, idempotency_key *k) {
    json_t *headers = json_object();
    assert_non_null(headers);
    if (values)
        assert_int_equal(
            json_object_set_new(headers, "idempotency-key", json_loads(values, 0, NULL)), 0);
    api_request req = {.method = "POST", .path = "/users", .headers = headers};
    json_t *errors = json_array();
    assert_non_null(errors);
    memset(k, 0x5a, sizeof *k); /* every field must be set */
    assert_int_equal(idempotency_read_key(&req, k, errors), UA_OK);
    json_decref(headers);
    return errors;
}

static void expect_key(const char *values, const char *want) {
    idempotency_key k;
    json_t *errors = read_key(values, &k);
    if (json_array_size(errors) != 0)
        fail_msg("%s refused", values);
    assert_true(k.present);
    assert_string_equal(k.key, want);
    json_decref(errors);
}

static void expect_refused(const char *values) {
    idempotency_key k;
    json_t *errors = read_key(values, &k);
    if (json_array_size(errors) != 1)
        fail_msg("%s: %zu errors, want 1", values, json_array_size(errors));
    json_t *want = json_pack("[{s:s, s:s}]", "field", "Idempotency-Key", "message", MSG_KEY);
    assert_true(json_equal(errors, want));
    assert_false(k.present);
    assert_string_equal(k.key, "");
    json_decref(want);
    json_decref(errors);
}

static void test_key_absent(void **state) {
    (void)state;
    idempotency_key k;
    json_t *errors = read_key(NULL, &k);
    assert_int_equal(json_array_size(errors), 0);
    assert_false(k.present);
    assert_string_equal(k.key, "");
    json_decref(errors);
    /* No headers at all; an empty list of lines is no header either. */
    api_request req = {.method = "POST", .path = "/users"};
    errors = json_array();
    assert_int_equal(idempotency_read_key(&req, &k, errors), UA_OK);
    assert_false(k.present);
    assert_int_equal(json_array_size(errors), 0);
    json_decref(errors);
    errors = read_key("[]", &k);
    assert_false(k.present);
    assert_int_equal(json_array_size(errors), 0);
    json_decref(errors);
}

static void test_key_rules(void **state) {
    (void)state;
    expect_key("[\"a\"]", "a");
    expect_key("[\" \"]", " "); /* 0x20 and 0x7E are the ends of the range, both in */
    expect_key("[\"~\"]", "~");
    expect_key("[\"  spaced key  \"]", "  spaced key  "); /* kept as sent, not trimmed */
    expect_key("[\"7b2e4f1c-2d3a-4b5c-9e8f-0a1b2c3d4e5f\"]",
               "7b2e4f1c-2d3a-4b5c-9e8f-0a1b2c3d4e5f");

    char k128[IDEMPOTENCY_KEY_MAX + 1], values[IDEMPOTENCY_KEY_MAX + 16];
    memset(k128, 'k', IDEMPOTENCY_KEY_MAX);
    k128[IDEMPOTENCY_KEY_MAX] = '\0';
    snprintf(values, sizeof values, "[\"%s\"]", k128);
    expect_key(values, k128);
    snprintf(values, sizeof values, "[\"%sk\"]", k128);
    expect_refused(values);

    static const char *const refused[] = {
        "[\"\"]",
        "[\"a\\u001fb\"]",
        "[\"tab\\there\"]",
        "[\"a\\rb\"]",
        "[\"del\\u007f\"]",
        "[\"caf\\u00e9\"]",
        "[\"\\u2603\"]",
        "[\"a\",\"b\"]",
        "[\"k\",\"k\"]",
        "[null]",
        "[7]",
        "[\"k\",null]",
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
        expect_refused(refused[i]);

    /* A NUL inside the value. */
    json_t *headers = json_pack("{s:[s#]}", "idempotency-key", "a\0b", (size_t)3);
    api_request req = {.method = "POST", .path = "/users", .headers = headers};
    json_t *errors = json_array();
    idempotency_key k;
    assert_int_equal(idempotency_read_key(&req, &k, errors), UA_OK);
    assert_int_equal(json_array_size(errors), 1);
    assert_false(k.present);
    json_decref(errors);
    json_decref(headers);
}

/* ---- The request hash ---- */

/* Hex SHA-256 of len bytes, computed here, apart from the code under test. */
static void sha256_hex(const void *data, size_t len, char out[65]) {
    unsigned char md[32];
    unsigned int n = 0;
    assert_int_equal(EVP_Digest(data, len, md, &n, EVP_sha256(), NULL), 1);
    assert_int_equal(n, 32);
    for (size_t i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* The hash of a create body (JSON text), after the field rules have trimmed it. */
static void hash_body(const char *body, char out[IDEMPOTENCY_HASH_SIZE]) {
    json_t *doc = json_loads(body, 0, NULL);
    json_t *errors = json_array();
    assert_non_null(doc);
    user_fields in;
    assert_int_equal(validate_user_fields(doc, true, &in, errors), UA_OK);
    if (json_array_size(errors) != 0)
        fail_msg("%s is not a valid create", body);
    idempotency_request_hash(&in, out);
    json_decref(errors);
    json_decref(doc);
}

/* The hash is of the stored fields: name, NUL, email, NUL, age in decimal (nothing when
 * absent). Records written by one build are judged by the next: the text must not drift. */
static void test_hash_is_sha256_of_the_fields(void **state) {
    (void)state;
    char got[IDEMPOTENCY_HASH_SIZE], want[65];
    hash_body("{\"name\":\"Ada Lovelace\",\"email\":\"Ada@Example.com\",\"age\":36}", got);
    sha256_hex("Ada Lovelace\0Ada@Example.com\0"
               "36",
               31, want);
    assert_string_equal(got, want);
    hash_body("{\"name\":\"Ada\",\"email\":\"a@b.co\"}", got);
    sha256_hex("Ada\0a@b.co\0", 11, want);
    assert_string_equal(got, want);
    hash_body("{\"name\":\"\\u00c9mile\",\"email\":\"e@b.co\",\"age\":0}", got);
    sha256_hex("\xc3\x89mile\0e@b.co\0"
               "0",
               15, want);
    assert_string_equal(got, want);
}

/* Spellings of one request hash alike; a change to any field does not. */
static void test_hash_is_stable_and_sensitive(void **state) {
    (void)state;
    char base[IDEMPOTENCY_HASH_SIZE], other[IDEMPOTENCY_HASH_SIZE];
    const char *body = "{\"name\":\"Ada Lovelace\",\"email\":\"Ada@Example.com\",\"age\":36}";
    hash_body(body, base);
    hash_body(body, other);
    assert_string_equal(base, other);
    static const char *const same[] = {
        "{\"age\":36,\"email\":\"Ada@Example.com\",\"name\":\"Ada Lovelace\"}",
        "  {\"name\" : \"Ada Lovelace\",\n\"email\":\"Ada@Example.com\", \"age\":36}  ",
        "{\"name\":\" \\t Ada Lovelace\\r\\n\",\"email\":\"  Ada@Example.com \",\"age\":36}",
        "{\"name\":\"Ada\\u0020Lovelace\",\"email\":\"Ada\\u0040Example.com\",\"age\":36}",
    };
    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++) {
        hash_body(same[i], other);
        if (strcmp(base, other) != 0)
            fail_msg("%s hashes otherwise", same[i]);
    }
    static const char *const differ[] = {
        "{\"name\":\"Ada lovelace\",\"email\":\"Ada@Example.com\",\"age\":36}",
        "{\"name\":\"Ada Lovelace.\",\"email\":\"Ada@Example.com\",\"age\":36}",
        "{\"name\":\"Ada  Lovelace\",\"email\":\"Ada@Example.com\",\"age\":36}",
        "{\"name\":\"Ada Lovelace\",\"email\":\"ada@example.com\",\"age\":36}", /* stored as sent */
        "{\"name\":\"Ada Lovelace\",\"email\":\"Ada@Example.co\",\"age\":36}",
        "{\"name\":\"Ada Lovelace\",\"email\":\"Ada@Example.com\",\"age\":37}",
        "{\"name\":\"Ada Lovelace\",\"email\":\"Ada@Example.com\",\"age\":3}",
        "{\"name\":\"Ada Lovelace\",\"email\":\"Ada@Example.com\"}",
    };
    for (size_t i = 0; i < sizeof differ / sizeof differ[0]; i++) {
        hash_body(differ[i], other);
        if (strcmp(base, other) == 0)
            fail_msg("%s hashes as %s", differ[i], body);
    }
    /* The separators keep the fields apart: the same characters split otherwise differ. */
    char a[IDEMPOTENCY_HASH_SIZE], b[IDEMPOTENCY_HASH_SIZE];
    hash_body("{\"name\":\"Ada a\",\"email\":\"b@c.de\"}", a);
    hash_body("{\"name\":\"Ada\",\"email\":\"ab@c.de\"}", b);
    assert_string_not_equal(a, b);
    hash_body("{\"name\":\"Ada\",\"email\":\"b@c.de\",\"age\":1}", a);
    hash_body("{\"name\":\"Ada\",\"email\":\"b@c.de\",\"age\":0}", b);
    assert_string_not_equal(a, b);
    hash_body("{\"name\":\"Ada\",\"email\":\"b@c.de\"}", a);
    assert_string_not_equal(a, b); /* no age is not age 0 */
}

/* ---- The record ---- */

static const json_t *put_item(const json_t *put) {
    return json_object_get(json_object_get(put, "Put"), "Item");
}

static long long n_of(const json_t *av) {
    const char *s = json_string_value(json_object_get(av, "N"));
    assert_non_null(s);
    return atoll(s);
}

/* The record's Put: the key, the request, the user, the first answer and when it expires,
 * conditional on no unexpired record holding the key, returning it when one does. */
static void test_put(void **state) {
    (void)state;
    idempotency_key k = {.present = true, .key = "k-1"};
    const char *response = "{\"userId\":\"" ID "\",\"name\":\"Ada \\\"A\\\" L\\u00e9\"}";
    idempotency_record r = {
        .request_hash = "ab12", .user_id = ID, .response = {response, strlen(response)}};
    json_t *put = idempotency_put(CLAIMS, &k, &r, NOW_MS);
    assert_non_null(put);
    json_t *want = json_pack(
        "{s:{s:s, s:{s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}}, s:s, s:{s:s}, "
        "s:{s:{s:s}}, s:s}}",
        "Put", "TableName", CLAIMS, "Item", "pk", "S", "idem#k-1", "requestHash", "S", "ab12",
        "userId", "S", ID, "response", "S", response, "createdAt", "S", NOW_ISO, "expiresAt", "N",
        "1795610096", "ConditionExpression", "attribute_not_exists(pk) OR #expiresAt <= :now",
        "ExpressionAttributeNames", "#expiresAt", "expiresAt", "ExpressionAttributeValues", ":now",
        "N", "1795523696", "ReturnValuesOnConditionCheckFailure", "ALL_OLD");
    assert_non_null(want);
    if (!json_equal(put, want)) {
        char *g = json_dumps(put, JSON_COMPACT | JSON_SORT_KEYS);
        fail_msg("got %s", g ? g : "?");
    }
    json_decref(want);
    json_decref(put);

    /* The longest key fits whole; the response's bytes go in as they are, NULs too. */
    idempotency_key longest = {.present = true};
    memset(longest.key, '~', IDEMPOTENCY_KEY_MAX);
    longest.key[IDEMPOTENCY_KEY_MAX] = '\0';
    r.response = (ua_span){"a\0b", 3};
    put = idempotency_put(CLAIMS, &longest, &r, NOW_MS);
    const char *pk = ddb_item_s(put_item(put), "pk");
    assert_non_null(pk);
    assert_int_equal(strlen(pk), strlen(IDEMPOTENCY_PREFIX) + IDEMPOTENCY_KEY_MAX);
    assert_string_equal(pk + strlen(IDEMPOTENCY_PREFIX), longest.key);
    const json_t *s = ddb_item_s_json(put_item(put), "response");
    assert_int_equal(json_string_length(s), 3);
    assert_memory_equal(json_string_value(s), "a\0b", 3);
    json_decref(put);

    /* A response that is not UTF-8 cannot be stored: no record rather than a wrong one. */
    r.response = (ua_span){"\xff", 1};
    assert_null(idempotency_put(CLAIMS, &k, &r, NOW_MS));
}

/* Whether the put made at put_ms may replace the record made at record_ms: its condition,
 * evaluated as DynamoDB does on the values both carry. */
static bool replaces(int64_t record_ms, int64_t put_ms) {
    idempotency_key k = {.present = true, .key = "k"};
    idempotency_record r = {.request_hash = "h", .user_id = ID, .response = {"{}", 2}};
    json_t *first = idempotency_put(CLAIMS, &k, &r, record_ms);
    json_t *second = idempotency_put(CLAIMS, &k, &r, put_ms);
    assert_non_null(first);
    assert_non_null(second);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(second, "Put"), "ConditionExpression")),
        "attribute_not_exists(pk) OR #expiresAt <= :now");
    long long expires = n_of(json_object_get(put_item(first), "expiresAt"));
    long long now = n_of(json_object_get(
        json_object_get(json_object_get(second, "Put"), "ExpressionAttributeValues"), ":now"));
    json_decref(first);
    json_decref(second);
    return expires <= now;
}

/* A record holds its key for 24 hours, counted in whole seconds (the TTL attribute's unit):
 * from the second its expiresAt names, the key is new again, whether or not DynamoDB's TTL
 * has deleted the record yet. */
static void test_expiry(void **state) {
    (void)state;
    const int64_t day_ms = IDEMPOTENCY_TTL_S * 1000;
    assert_int_equal(IDEMPOTENCY_TTL_S, 86400);
    assert_false(replaces(NOW_MS, NOW_MS));
    assert_false(replaces(NOW_MS, NOW_MS + 1000));
    assert_false(replaces(NOW_MS, NOW_MS + day_ms - 1000));
    assert_true(replaces(NOW_MS, NOW_MS + day_ms));
    assert_true(replaces(NOW_MS, NOW_MS + 30 * day_ms));
    /* Seconds, not milliseconds: a record made at .999 s is free again at the second boundary
     * 24 hours on: up to 999 ms early. */
    const int64_t at_999 = (NOW_MS / 1000) * 1000 + 999;
    assert_true(replaces(at_999, at_999 + day_ms - 999));
    assert_false(replaces(at_999, at_999 + day_ms - 1000));
}

/* ---- Reading a record back ---- */

#define RECORD_FMT                                                                                 \
    "{\"pk\":{\"S\":\"idem#k\"},\"requestHash\":%s,\"userId\":%s,\"response\":%s,"                 \
    "\"createdAt\":{\"S\":\"" NOW_ISO "\"},\"expiresAt\":{\"N\":\"1795610096\"}}"

static json_t *record(const char *hash, const char *user, const char *response) {
    char text[1024];
    snprintf(text, sizeof text, RECORD_FMT, hash, user, response);
    json_t *item = json_loads(text, 0, NULL);
    assert_non_null(item);
    return item;
}

static void test_record_read(void **state) {
    (void)state;
    json_t *item =
        record("{\"S\":\"ab12\"}", "{\"S\":\"" ID "\"}", "{\"S\":\"{\\\"userId\\\":1}\"}");
    idempotency_record r;
    assert_true(idempotency_record_read(item, &r));
    assert_string_equal(r.request_hash, "ab12");
    assert_string_equal(r.user_id, ID);
    assert_int_equal(r.response.len, strlen("{\"userId\":1}"));
    assert_memory_equal(r.response.ptr, "{\"userId\":1}", r.response.len);
    /* Borrowed from the item, not copied. */
    assert_ptr_equal(r.user_id, ddb_item_s(item, "userId"));
    json_decref(item);

    /* What a put writes, reads back as it was given. */
    idempotency_key k = {.present = true, .key = "k"};
    const char *response = "{\"name\":\"\\u00e9\"}";
    idempotency_record in = {
        .request_hash = "cd34", .user_id = ID, .response = {response, strlen(response)}};
    json_t *put = idempotency_put(CLAIMS, &k, &in, NOW_MS);
    assert_true(idempotency_record_read(put_item(put), &r));
    assert_string_equal(r.request_hash, "cd34");
    assert_string_equal(r.user_id, ID);
    assert_int_equal(r.response.len, strlen(response));
    assert_memory_equal(r.response.ptr, response, r.response.len);
    json_decref(put);

    static const char *const broken[][3] = {
        {"null", "{\"S\":\"" ID "\"}", "{\"S\":\"{}\"}"},
        {"{\"S\":\"ab\"}", "null", "{\"S\":\"{}\"}"},
        {"{\"S\":\"ab\"}", "{\"S\":\"" ID "\"}", "null"},
        {"{\"N\":\"12\"}", "{\"S\":\"" ID "\"}", "{\"S\":\"{}\"}"},
        {"{\"S\":\"ab\"}", "{\"S\":\"" ID "\"}", "{\"B\":\"e30=\"}"},
        {"{\"S\":\"ab\"}", "\"" ID "\"", "{\"S\":\"{}\"}"},
    };
    for (size_t i = 0; i < sizeof broken / sizeof broken[0]; i++) {
        item = record(broken[i][0], broken[i][1], broken[i][2]);
        if (idempotency_record_read(item, &r))
            fail_msg("record %zu read", i);
        json_decref(item);
    }
    assert_false(idempotency_record_read(NULL, &r));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_absent),
        cmocka_unit_test(test_key_rules),
        cmocka_unit_test(test_hash_is_sha256_of_the_fields),
        cmocka_unit_test(test_hash_is_stable_and_sensitive),
        cmocka_unit_test(test_put),
        cmocka_unit_test(test_expiry),
        cmocka_unit_test(test_record_read),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

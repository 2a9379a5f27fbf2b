/* test_api.c — the plain request's header and query accessors, and the one way a response
 * header is set. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "api.h"

#include <string.h>

static json_t *parse(const char *text) {
    json_error_t err;
    json_t *j = json_loads(text, 0, &err);
    if (!j)
        fail_msg("bad test JSON: %s", err.text);
    return j;
}

static void test_header_counts_and_first_value(void **state) {
    (void)state;
    api_request r = {.method = "GET", .path = "/users", .request_id = "r"};
    r.headers = parse("{\"if-match\":[\"\\\"1\\\"\",\"\\\"2\\\"\"],\"origin\":[\"https://a\"],"
                      "\"x-empty\":[],\"x-blank\":[\"\"]}");
    const char *v = "stale";
    assert_int_equal(api_header(&r, "if-match", &v), 2);
    assert_string_equal(v, "\"1\"");
    assert_int_equal(api_header(&r, "origin", &v), 1);
    assert_string_equal(v, "https://a");
    assert_int_equal(api_header(&r, "x-blank", &v), 1);
    assert_string_equal(v, "");
    v = "stale";
    assert_int_equal(api_header(&r, "x-empty", &v), 0);
    assert_null(v);
    v = "stale";
    assert_int_equal(api_header(&r, "missing", &v), 0);
    assert_null(v);
    /* Names are looked up as given: apigw lower-cases them. */
    assert_int_equal(api_header(&r, "Origin", &v), 0);
    /* The value is optional: a count alone. */
    assert_int_equal(api_header(&r, "if-match", NULL), 2);
    json_decref(r.headers);

    /* A request without headers has none. */
    r.headers = NULL;
    v = "stale";
    assert_int_equal(api_header(&r, "origin", &v), 0);
    assert_null(v);
}

static void test_query_counts_and_first_value(void **state) {
    (void)state;
    api_request r = {.method = "GET", .path = "/users", .request_id = "r"};
    r.query = parse("{\"limit\":[\"10\",\"20\"],\"nextToken\":[\"abc\"],\"x\":\"not an array\"}");
    const char *v = NULL;
    assert_int_equal(api_query(&r, "limit", &v), 2);
    assert_string_equal(v, "10");
    assert_int_equal(api_query(&r, "nextToken", &v), 1);
    assert_string_equal(v, "abc");
    v = "stale";
    assert_int_equal(api_query(&r, "x", &v), 0); /* only arrays of values count */
    assert_null(v);
    assert_int_equal(api_query(&r, "LIMIT", NULL), 0);
    json_decref(r.query);
    r.query = NULL;
    assert_int_equal(api_query(&r, "limit", &v), 0);
    assert_null(v);
}

static void test_response_starts_empty(void **state) {
    (void)state;
    api_response resp;
    assert_int_equal(api_response_init(&resp), UA_OK);
    assert_int_equal(resp.status, 0);
    assert_int_equal(resp.body.len, 0);
    assert_int_equal(resp.body.max, UA_MAX_RESPONSE_BYTES);
    assert_true(json_is_object(resp.headers));
    assert_int_equal(json_object_size(resp.headers), 0);
    api_response_free(&resp);
    assert_null(resp.headers);
    api_response_free(&resp); /* freeing twice is harmless */
}

static void test_set_header_refuses_control_characters(void **state) {
    (void)state;
    static const char *const bad_values[] = {"a\r\nSet-Cookie: x=1",
                                             "a\nb",
                                             "a\rb",
                                             "\x01",
                                             "a\x1f",
                                             "\x7f",
                                             "a\vb",
                                             "a\fb",
                                             "\x1b[31m"};
    api_response resp;
    assert_int_equal(api_response_init(&resp), UA_OK);
    for (size_t i = 0; i < sizeof bad_values / sizeof bad_values[0]; i++)
        if (api_response_set_header(&resp, "X-Test", bad_values[i]) != UA_ERR_INVALID)
            fail_msg("accepted value %zu", i);
    assert_int_equal(api_response_set_header(&resp, "X-Test", "\xff\xfe"), UA_ERR_INVALID);
    assert_int_equal(api_response_set_header(&resp, "X-Test", NULL), UA_ERR_INVALID);
    assert_int_equal(json_object_size(resp.headers), 0);

    /* Tab is field content; so are UTF-8 and an empty value. */
    assert_int_equal(api_response_set_header(&resp, "X-Tab", "a\tb"), UA_OK);
    assert_int_equal(api_response_set_header(&resp, "X-Utf8", "caf\xc3\xa9"), UA_OK);
    assert_int_equal(api_response_set_header(&resp, "X-Empty", ""), UA_OK);
    assert_int_equal(json_object_size(resp.headers), 3);
    api_response_free(&resp);
}

static void test_set_header_refuses_names_that_are_not_tokens(void **state) {
    (void)state;
    static const char *const bad_names[] = {"",          "X Y",  "X:Y", "X\r\nY", "X\nY", "(X)",
                                            "X\x7f",     "X\tY", "X/Y", "X@Y",    "X;Y",  "\"X\"",
                                            "X\xc3\xa9", "[X]",  "X,Y", "X=Y",    "{X}",  "X?"};
    api_response resp;
    assert_int_equal(api_response_init(&resp), UA_OK);
    for (size_t i = 0; i < sizeof bad_names / sizeof bad_names[0]; i++)
        if (api_response_set_header(&resp, bad_names[i], "v") != UA_ERR_INVALID)
            fail_msg("accepted name %zu", i);
    assert_int_equal(api_response_set_header(&resp, NULL, "v"), UA_ERR_INVALID);
    assert_int_equal(json_object_size(resp.headers), 0);
    /* Every tchar is allowed. */
    assert_int_equal(api_response_set_header(&resp, "!#$%&'*+-.^_`|~09azAZ", "v"), UA_OK);
    api_response_free(&resp);
}

/* Setting a header again replaces its value and keeps its place. */
static void test_set_header_replaces(void **state) {
    (void)state;
    api_response resp;
    assert_int_equal(api_response_init(&resp), UA_OK);
    assert_int_equal(api_response_set_header(&resp, "Content-Type", "text/plain"), UA_OK);
    assert_int_equal(api_response_set_header(&resp, "ETag", "\"1\""), UA_OK);
    assert_int_equal(api_response_set_header(&resp, "Content-Type", "application/json"), UA_OK);
    assert_int_equal(json_object_size(resp.headers), 2);
    assert_string_equal(json_string_value(json_object_get(resp.headers, "Content-Type")),
                        "application/json");
    void *it = json_object_iter(resp.headers);
    assert_string_equal(json_object_iter_key(it), "Content-Type");
    /* A refused value leaves the old one in place. */
    assert_int_equal(api_response_set_header(&resp, "ETag", "\"2\"\r\n"), UA_ERR_INVALID);
    assert_string_equal(json_string_value(json_object_get(resp.headers, "ETag")), "\"1\"");
    api_response_free(&resp);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_counts_and_first_value),
        cmocka_unit_test(test_query_counts_and_first_value),
        cmocka_unit_test(test_response_starts_empty),
        cmocka_unit_test(test_set_header_refuses_control_characters),
        cmocka_unit_test(test_set_header_refuses_names_that_are_not_tokens),
        cmocka_unit_test(test_set_header_replaces),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_cors.c — the CORS headers: any origin by default, exact matching against a list, the
 * first listed origin otherwise, Vary, and Access-Control-Expose-Headers on every answer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "cors.h"

#include <string.h>

#define LIST " https://a.example , https://b.example,https://c.example:8443 "

/* The headers cors_set_headers wrote for a request carrying the n given Origin headers. */
typedef struct answer {
    api_response resp;
    ua_status st;
} answer;

static void answer_for(answer *a, const char *allowed, const char *const *origins, size_t n) {
    json_t *values = json_array();
    assert_non_null(values);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(json_array_append_new(values, json_string(origins[i])), 0);
    json_t *headers = json_object();
    assert_non_null(headers);
    if (n > 0)
        assert_int_equal(json_object_set_new(headers, "origin", values), 0);
    else
        json_decref(values);
    api_request req = {.method = "GET", .path = "/users", .headers = headers, .request_id = "r"};
    assert_int_equal(api_response_init(&a->resp), UA_OK);
    a->st = cors_set_headers(&a->resp, &req, allowed);
    json_decref(headers);
}

static const char *header(const answer *a, const char *name) {
    return json_string_value(json_object_get(a->resp.headers, name));
}

/* Asserts the answer allowed exactly origin, and frees it. */
static void expect_origin(answer *a, const char *origin, bool vary) {
    assert_int_equal(a->st, UA_OK);
    assert_string_equal(header(a, "Access-Control-Allow-Origin"), origin);
    if (vary)
        assert_string_equal(header(a, "Vary"), "Origin");
    else
        assert_null(header(a, "Vary"));
    assert_string_equal(header(a, "Access-Control-Expose-Headers"), "ETag, Location");
    api_response_free(&a->resp);
}

static void test_blank_list_allows_any_origin(void **state) {
    (void)state;
    static const char *const anys[] = {"*", " * ", "\t*\t", "", " ", ",", " , ,", NULL};
    const char *origin[] = {"https://b.example"};
    answer a;
    for (size_t i = 0; i < sizeof anys / sizeof anys[0]; i++) {
        answer_for(&a, anys[i], origin, 1);
        expect_origin(&a, "*", false);
        answer_for(&a, anys[i], NULL, 0);
        expect_origin(&a, "*", false);
    }
}

static void test_listed_origin_is_echoed_exactly(void **state) {
    (void)state;
    answer a;
    const char *b[] = {"https://b.example"};
    answer_for(&a, LIST, b, 1);
    expect_origin(&a, "https://b.example", true);
    const char *c[] = {"https://c.example:8443"};
    answer_for(&a, LIST, c, 1);
    expect_origin(&a, "https://c.example:8443", true);
    const char *first[] = {"https://a.example"};
    answer_for(&a, LIST, first, 1);
    expect_origin(&a, "https://a.example", true);
    /* Entries are trimmed of tabs too, and empty entries skipped. */
    answer_for(&a, ",,\thttps://x.example\t,, https://y.example",
               (const char *[]){"https://y.example"}, 1);
    expect_origin(&a, "https://y.example", true);
}

/* Anything but an exact match gets the first listed origin: never the request's own. */
static void test_unlisted_origin_gets_the_first(void **state) {
    (void)state;
    static const char *const strangers[] = {"https://evil.example",
                                            "https://a.example.evil",
                                            "https://A.example",
                                            "https://a.example/",
                                            "https://b.exam",
                                            "https://c.example",
                                            "http://a.example",
                                            " https://b.example",
                                            "https://b.example ",
                                            "*",
                                            "null",
                                            ""};
    answer a;
    for (size_t i = 0; i < sizeof strangers / sizeof strangers[0]; i++) {
        answer_for(&a, LIST, &strangers[i], 1);
        expect_origin(&a, "https://a.example", true);
    }
    answer_for(&a, ",,\thttps://x.example\t,, https://y.example", &strangers[0], 1);
    expect_origin(&a, "https://x.example", true);
}

/* No Origin, or more than one: nothing to match, so the first listed origin and Vary. */
static void test_missing_or_repeated_origin_gets_the_first(void **state) {
    (void)state;
    answer a;
    answer_for(&a, LIST, NULL, 0);
    expect_origin(&a, "https://a.example", true);
    const char *twice[] = {"https://b.example", "https://b.example"};
    answer_for(&a, LIST, twice, 2);
    expect_origin(&a, "https://a.example", true);
    const char *two[] = {"https://b.example", "https://c.example:8443"};
    answer_for(&a, LIST, two, 2);
    expect_origin(&a, "https://a.example", true);

    /* A request without a header object at all. */
    api_request bare = {.method = "GET", .path = "/users", .request_id = "r"};
    assert_int_equal(api_response_init(&a.resp), UA_OK);
    a.st = cors_set_headers(&a.resp, &bare, LIST);
    expect_origin(&a, "https://a.example", true);
}

/* The headers replace what was there, and nothing else of the response changes. */
static void test_headers_replace_and_nothing_else_changes(void **state) {
    (void)state;
    answer a;
    assert_int_equal(api_response_init(&a.resp), UA_OK);
    a.resp.status = 201;
    assert_int_equal(api_response_set_header(&a.resp, "Access-Control-Allow-Origin", "stale"),
                     UA_OK);
    assert_int_equal(api_response_set_header(&a.resp, "ETag", "\"3\""), UA_OK);
    api_request req = {.method = "GET", .path = "/users", .request_id = "r"};
    a.st = cors_set_headers(&a.resp, &req, NULL);
    assert_int_equal(a.resp.status, 201);
    assert_int_equal(a.resp.body.len, 0);
    assert_string_equal(header(&a, "ETag"), "\"3\"");
    assert_int_equal(json_object_size(a.resp.headers), 3);
    expect_origin(&a, "*", false);
}

/* A listed origin that cannot be a header value is refused, never sent. */
static void test_listed_origin_with_a_control_character_is_refused(void **state) {
    (void)state;
    answer a;
    answer_for(&a, "https://a.example\r\nSet-Cookie: x=1", NULL, 0);
    assert_int_equal(a.st, UA_ERR_INVALID);
    assert_null(header(&a, "Access-Control-Allow-Origin"));
    api_response_free(&a.resp);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_blank_list_allows_any_origin),
        cmocka_unit_test(test_listed_origin_is_echoed_exactly),
        cmocka_unit_test(test_unlisted_origin_gets_the_first),
        cmocka_unit_test(test_missing_or_repeated_origin_gets_the_first),
        cmocka_unit_test(test_headers_replace_and_nothing_else_changes),
        cmocka_unit_test(test_listed_origin_with_a_control_character_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

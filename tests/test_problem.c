/* test_problem.c — RFC 9457 problem documents: their shape, the titles, the request id and
 * errors[]. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "problem.h"

#include <string.h>

/* The body of resp as JSON; the caller decrefs it. */
static json_t *body_of(const api_response *resp) {
    json_error_t err;
    json_t *doc = json_loadb(buf_str(&resp->body), resp->body.len, 0, &err);
    if (!doc)
        fail_msg("problem body is not JSON (%s): %s", err.text, buf_str(&resp->body));
    return doc;
}

static const char *str(const json_t *doc, const char *key) {
    return json_string_value(json_object_get(doc, key));
}

static void test_document_has_the_contract_shape(void **state) {
    (void)state;
    api_response resp;
    assert_int_equal(api_response_init(&resp), UA_OK);
    assert_int_equal(problem_write(&resp, 404, "NOT_FOUND", "no user u-1", NULL, "req-1"), UA_OK);
    assert_int_equal(resp.status, 404);
    assert_string_equal(json_string_value(json_object_get(resp.headers, "Content-Type")),
                        "application/problem+json");
    assert_string_equal(PROBLEM_CONTENT_TYPE, "application/problem+json");

    json_t *doc = body_of(&resp);
    assert_true(json_is_object(doc));
    assert_int_equal(json_object_size(doc), 6); /* no errors member when none are given */
    assert_string_equal(str(doc, "type"), "about:blank");
    assert_string_equal(str(doc, "title"), "Not Found");
    assert_true(json_is_integer(json_object_get(doc, "status")));
    assert_int_equal(json_integer_value(json_object_get(doc, "status")), 404);
    assert_string_equal(str(doc, "code"), "NOT_FOUND");
    assert_string_equal(str(doc, "detail"), "no user u-1");
    assert_string_equal(str(doc, "requestId"), "req-1");
    assert_null(json_object_get(doc, "errors"));
    json_decref(doc);
    api_response_free(&resp);
}

static void test_titles_are_the_reason_phrases(void **state) {
    (void)state;
    static const struct {
        int status;
        const char *title;
    } cases[] = {
        {400, "Bad Request"},
        {404, "Not Found"},
        {405, "Method Not Allowed"},
        {409, "Conflict"},
        {412, "Precondition Failed"},
        {413, "Content Too Large"},
        {415, "Unsupported Media Type"},
        {422, "Unprocessable Content"},
        {500, "Internal Server Error"},
        {503, "Service Unavailable"},
        {200, "Error"}, /* statuses this API never writes a problem for */
        {418, "Error"},
        {0, "Error"},
        {-1, "Error"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_string_equal(problem_title(cases[i].status), cases[i].title);
        api_response resp;
        assert_int_equal(api_response_init(&resp), UA_OK);
        assert_int_equal(problem_write(&resp, cases[i].status, "C", "d", NULL, "r"), UA_OK);
        json_t *doc = body_of(&resp);
        assert_string_equal(str(doc, "title"), cases[i].title);
        json_decref(doc);
        api_response_free(&resp);
    }
}

/* The request id is echoed as given; none, or one that cannot go into JSON, is "". */
static void test_request_id(void **state) {
    (void)state;
    static const struct {
        const char *given, *echoed;
    } cases[] = {
        {"c6af9ac6-7b61-11e6-9a41-93e8deadbeef", "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"},
        {"", ""},
        {NULL, ""},
        {"bad\xff utf-8", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        api_response resp;
        assert_int_equal(api_response_init(&resp), UA_OK);
        assert_int_equal(problem_write(&resp, 400, "VALIDATION", "d", NULL, cases[i].given), UA_OK);
        json_t *doc = body_of(&resp);
        assert_string_equal(str(doc, "requestId"), cases[i].echoed);
        json_decref(doc);
        api_response_free(&resp);
    }
}

/* errors[] goes in as given, and stays the caller's. */
static void test_errors_are_included_and_borrowed(void **state) {
    (void)state;
    json_t *errors = json_pack("[{s:s, s:s}, {s:s, s:s}]", "field", "email", "message",
                               "must be an email address", "field", "age", "message",
                               "must be an integer from 0 to 150");
    assert_non_null(errors);
    size_t refs = errors->refcount;
    api_response resp;
    assert_int_equal(api_response_init(&resp), UA_OK);
    assert_int_equal(problem_write(&resp, 422, "VALIDATION", "2 fields are invalid", errors, "r"),
                     UA_OK);
    assert_int_equal(errors->refcount, refs);
    json_t *doc = body_of(&resp);
    assert_int_equal(json_object_size(doc), 7);
    assert_true(json_equal(json_object_get(doc, "errors"), errors));
    assert_string_equal(str(doc, "title"), "Unprocessable Content");
    json_decref(doc);
    api_response_free(&resp);
    assert_int_equal(errors->refcount, refs);
    json_decref(errors);
}

/* A problem replaces the status and the body, and keeps the other headers. */
static void test_replaces_status_and_body(void **state) {
    (void)state;
    api_response resp;
    assert_int_equal(api_response_init(&resp), UA_OK);
    resp.status = 200;
    assert_int_equal(buf_append_str(&resp.body, "{\"users\":[]}"), UA_OK);
    assert_int_equal(api_response_set_header(&resp, "Content-Type", "application/json"), UA_OK);
    assert_int_equal(api_response_set_header(&resp, "Retry-After", "1"), UA_OK);
    assert_int_equal(problem_write(&resp, 503, "UNAVAILABLE", "try again", NULL, "r"), UA_OK);
    assert_int_equal(resp.status, 503);
    assert_string_equal(json_string_value(json_object_get(resp.headers, "Content-Type")),
                        PROBLEM_CONTENT_TYPE);
    assert_string_equal(json_string_value(json_object_get(resp.headers, "Retry-After")), "1");
    json_t *doc = body_of(&resp);
    assert_string_equal(str(doc, "code"), "UNAVAILABLE");
    assert_null(json_object_get(doc, "users"));
    json_decref(doc);
    api_response_free(&resp);
}

/* A body limit too small for the document: an error, and the status is left alone. */
static void test_too_small_a_body_is_an_error(void **state) {
    (void)state;
    api_response resp;
    assert_int_equal(api_response_init(&resp), UA_OK);
    resp.status = 200;
    resp.body.max = 16;
    assert_int_equal(problem_write(&resp, 500, "INTERNAL", "d", NULL, "r"), UA_ERR_TOO_BIG);
    assert_int_equal(resp.status, 200);
    assert_null(json_object_get(resp.headers, "Content-Type"));
    api_response_free(&resp);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_document_has_the_contract_shape),
        cmocka_unit_test(test_titles_are_the_reason_phrases),
        cmocka_unit_test(test_request_id),
        cmocka_unit_test(test_errors_are_included_and_borrowed),
        cmocka_unit_test(test_replaces_status_and_body),
        cmocka_unit_test(test_too_small_a_body_is_an_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

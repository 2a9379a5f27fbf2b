/* test_gateway_response_v2.c — the local gateway's payload 2.0 answers
 * (src/gateway/gw_response_v2.c) against what deployed HTTP APIs were seen sending their
 * clients ($USERS_TESTDATA/events/gateway-observed/dotnet-V2_*.json), plus AWS's documented
 * defaults (JSON without statusCode is the body), cookies, base64 bodies, the keys payload 2.0
 * ignores (multiValueHeaders) and each malformed answer, which an HTTP API turns into a 500. */
#include "gw_response_v2.h"
#include "testdata.h"

#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#define ISE "{\"message\":\"Internal Server Error\"}"

/* $USERS_TESTDATA/events/gateway-observed/<name>. New reference. */
static json_t *load_snapshot(const char *name) {
    char path[256];
    snprintf(path, sizeof path, "gateway-observed/%s", name);
    return testdata_event(path);
}

static ua_status translate(const char *doc, gw_http_response *out, const char **why) {
    gw_http_response_init(out);
    return gw_response_from_proxy_v2(doc, strlen(doc), out, why);
}

static void assert_body(const gw_http_response *r, const char *want) {
    assert_int_equal(r->body.len, strlen(want));
    assert_memory_equal(r->body.data, want, r->body.len);
}

/* The n-th value (from 0) of header name, or NULL. */
static const char *nth_header(const gw_http_response *r, const char *name, size_t n) {
    for (size_t i = 0; i < r->nheaders; i++) {
        if (strcasecmp(r->headers[i].name, name) == 0 && n-- == 0)
            return r->headers[i].value;
    }
    return NULL;
}

/* out has the snapshot's status, body and Content-Type. */
static void assert_like_snapshot(const gw_http_response *out, const char *snapshot) {
    json_t *snap = load_snapshot(snapshot);
    assert_int_equal(out->status, json_integer_value(json_object_get(snap, "StatusCode")));
    assert_body(out, json_string_value(json_object_get(snap, "Content")));
    json_t *ct =
        json_array_get(json_object_get(json_object_get(snap, "Headers"), "Content-Type"), 0);
    assert_string_equal(gw_http_response_header(out, "Content-Type"), json_string_value(ct));
    json_decref(snap);
}

/* A text body without Content-Type: text/plain; charset=utf-8, not REST's application/json. */
static void test_defaults_to_text_plain_like_observed(void **state) {
    (void)state;
    gw_http_response r;
    assert_int_equal(translate("{\"statusCode\":200,\"body\":\"Hello, World!\"}", &r, NULL), UA_OK);
    assert_like_snapshot(&r, "dotnet-V2_DefaultsToTextPlainContentType.json");
    gw_http_response_free(&r);
}

/* statusCode 0: 500 {"message":"Internal Server Error"} (REST says 502). */
static void test_zero_status_like_observed(void **state) {
    (void)state;
    gw_http_response r;
    const char *why = NULL;
    assert_int_equal(
        translate("{\"statusCode\":0,\"body\":\"{\\\"message\\\":\\\"Hello\\\"}\"}", &r, &why),
        UA_ERR_INVALID);
    assert_non_null(why);
    assert_like_snapshot(&r, "dotnet-V2_HandlesZeroStatusCode.json");
    gw_http_response_free(&r);
}

/* Valid JSON without statusCode is the body: 200, application/json, the bytes as sent. */
static void test_json_without_status_is_the_body(void **state) {
    (void)state;
    static const char *const docs[] = {"{\"name\":\"Ada\",\"body\":\"x\"}", "[1, 2]", "\"hello\"",
                                       "42", "{}"};
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        gw_http_response r;
        assert_int_equal(translate(docs[i], &r, NULL), UA_OK);
        assert_int_equal(r.status, 200);
        assert_body(&r, docs[i]);
        assert_string_equal(gw_http_response_header(&r, "Content-Type"), "application/json");
        assert_int_equal(r.nheaders, 1);
        gw_http_response_free(&r);
    }
}

/* What the bootstrap sends: status, headers, body, isBase64Encoded false. */
static void test_bootstrap_answer(void **state) {
    (void)state;
    gw_http_response r;
    assert_int_equal(
        translate("{\"statusCode\":201,\"headers\":{\"Content-Type\":\"application/json; "
                  "charset=utf-8\",\"ETag\":\"\\\"1\\\"\",\"Location\":\"/users/a\"},\"body\":"
                  "\"{\\\"a\\\":1}\",\"isBase64Encoded\":false}",
                  &r, NULL),
        UA_OK);
    assert_int_equal(r.status, 201);
    assert_body(&r, "{\"a\":1}");
    assert_string_equal(gw_http_response_header(&r, "Content-Type"),
                        "application/json; charset=utf-8");
    assert_string_equal(gw_http_response_header(&r, "ETag"), "\"1\"");
    assert_string_equal(gw_http_response_header(&r, "Location"), "/users/a");
    assert_int_equal(r.nheaders, 3);
    gw_http_response_free(&r);
    /* No body: no Content-Type is made up. */
    assert_int_equal(translate("{\"statusCode\":204,\"headers\":{}}", &r, NULL), UA_OK);
    assert_int_equal(r.status, 204);
    assert_int_equal(r.body.len, 0);
    assert_null(gw_http_response_header(&r, "Content-Type"));
    gw_http_response_free(&r);
}

/* Each cookie is one Set-Cookie header (the Function URL response fixture's two cookies). */
static void test_cookies_become_set_cookie(void **state) {
    (void)state;
    json_t *fixture = testdata_event("go-lambda-urls-response.json");
    char *doc = json_dumps(fixture, JSON_COMPACT);
    gw_http_response r;
    assert_int_equal(translate(doc, &r, NULL), UA_OK);
    assert_int_equal(r.status, json_integer_value(json_object_get(fixture, "statusCode")));
    json_t *cookies = json_object_get(fixture, "cookies");
    assert_true(json_array_size(cookies) == 2);
    for (size_t i = 0; i < json_array_size(cookies); i++)
        assert_string_equal(nth_header(&r, "Set-Cookie", i),
                            json_string_value(json_array_get(cookies, i)));
    assert_null(nth_header(&r, "Set-Cookie", 2));
    gw_http_response_free(&r);
    free(doc);
    json_decref(fixture);
}

/* Payload 2.0 has no multiValueHeaders: the key is ignored, not merged and not an error. */
static void test_multi_value_headers_ignored(void **state) {
    (void)state;
    gw_http_response r;
    assert_int_equal(translate("{\"statusCode\":200,\"headers\":{\"X-A\":\"single\"},"
                               "\"multiValueHeaders\":{\"X-A\":[\"m1\",\"m2\"],\"X-B\":[\"b\"]},"
                               "\"body\":\"{}\",\"somethingElse\":1}",
                               &r, NULL),
                     UA_OK);
    assert_string_equal(gw_http_response_header(&r, "X-A"), "single");
    assert_null(nth_header(&r, "X-A", 1));
    assert_null(gw_http_response_header(&r, "X-B"));
    gw_http_response_free(&r);
}

static void test_base64_body(void **state) {
    (void)state;
    gw_http_response r;
    assert_int_equal(translate("{\"statusCode\":200,\"headers\":{\"Content-Type\":\"image/png\"},"
                               "\"body\":\"/wA=\",\"isBase64Encoded\":true}",
                               &r, NULL),
                     UA_OK);
    assert_int_equal(r.body.len, 2);
    assert_memory_equal(r.body.data, "\xff\x00", 2);
    gw_http_response_free(&r);
}

/* Every malformed answer is the HTTP API's 500, with a reason. */
static void test_malformed_answers(void **state) {
    (void)state;
    static const char *const docs[] = {
        "not json",
        "{\"statusCode\":600}",
        "{\"statusCode\":99}",
        "{\"statusCode\":\"abc\"}",
        "{\"statusCode\":200,\"headers\":[]}",
        "{\"statusCode\":200,\"headers\":{\"X\":{\"a\":1}}}",
        "{\"statusCode\":200,\"cookies\":\"a=1\"}",
        "{\"statusCode\":200,\"cookies\":[1]}",
        "{\"statusCode\":200,\"body\":{}}",
        "{\"statusCode\":200,\"body\":\"x\",\"isBase64Encoded\":\"yes\"}",
        "{\"statusCode\":200,\"body\":\"!!\",\"isBase64Encoded\":true}",
    };
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        gw_http_response r;
        const char *why = NULL;
        if (translate(docs[i], &r, &why) != UA_ERR_INVALID)
            fail_msg("%s was accepted", docs[i]);
        assert_non_null(why);
        assert_int_equal(r.status, 500);
        assert_body(&r, ISE);
        assert_string_equal(gw_http_response_header(&r, "Content-Type"), "application/json");
        assert_null(gw_http_response_header(&r, "x-amzn-ErrorType"));
        gw_http_response_free(&r);
    }
}

/* The HTTP API's own answers: never a problem document, never REST's wording. */
static void test_faults(void **state) {
    (void)state;
    static const struct {
        gw_fault f;
        unsigned status;
        const char *body;
    } cases[] = {
        {GW_FAULT_MALFORMED, 500, ISE},
        {GW_FAULT_INTERNAL, 500, ISE},
        {GW_FAULT_TIMEOUT, 503, "{\"message\":\"Service Unavailable\"}"},
        {GW_FAULT_UNAVAILABLE, 503, "{\"message\":\"Service Unavailable\"}"},
        {GW_FAULT_TOO_LONG, 413, "{\"message\":\"Request Entity Too Large\"}"},
        {GW_FAULT_THROTTLED, 429, "{\"message\":\"Too Many Requests\"}"},
        {GW_FAULT_NOT_FOUND, 404, "{\"message\":\"Not Found\"}"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        gw_http_response r;
        gw_http_response_init(&r);
        assert_int_equal(gw_response_fault_v2(cases[i].f, &r), UA_OK);
        assert_int_equal(r.status, cases[i].status);
        assert_body(&r, cases[i].body);
        assert_string_equal(gw_http_response_header(&r, "Content-Type"), "application/json");
        assert_int_equal(r.nheaders, 1);
        gw_http_response_free(&r);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_to_text_plain_like_observed),
        cmocka_unit_test(test_zero_status_like_observed),
        cmocka_unit_test(test_json_without_status_is_the_body),
        cmocka_unit_test(test_bootstrap_answer),
        cmocka_unit_test(test_cookies_become_set_cookie),
        cmocka_unit_test(test_multi_value_headers_ignored),
        cmocka_unit_test(test_base64_body),
        cmocka_unit_test(test_malformed_answers),
        cmocka_unit_test(test_faults),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_gateway_cors.c — the HTTP API's CORS in the local gateway (src/gateway/gw_cors.c):
 * which origins are allowed, what counts as a preflight, the preflight answer, and that the
 * function's CORS headers are replaced by the API's. */
#include "gw_cors.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

static void test_allowed_origins(void **state) {
    (void)state;
    /* Any origin: unset, blank, "*", nothing but commas. */
    static const char *const any[] = {NULL, "", "  ", "*", " * ", ",,"};
    for (size_t i = 0; i < sizeof any / sizeof any[0]; i++)
        assert_string_equal(gw_cors_allow_origin(any[i], "https://a.example"), "*");
    const char *list = "https://a.example, https://b.example ,https://c.example";
    assert_string_equal(gw_cors_allow_origin(list, "https://b.example"), "https://b.example");
    assert_string_equal(gw_cors_allow_origin(list, "https://c.example"), "https://c.example");
    /* Exact matches only: no case folding, no prefix, no other port. */
    assert_null(gw_cors_allow_origin(list, "https://B.example"));
    assert_null(gw_cors_allow_origin(list, "https://a.example:8443"));
    assert_null(gw_cors_allow_origin(list, "https://a.exampl"));
    assert_null(gw_cors_allow_origin(list, "https://evil.example"));
    /* No Origin: no CORS headers, even for "*". */
    assert_null(gw_cors_allow_origin("*", NULL));
    assert_null(gw_cors_allow_origin(list, ""));
}

static void test_what_is_a_preflight(void **state) {
    (void)state;
    assert_true(gw_cors_is_preflight("OPTIONS", "https://a.example", "PUT"));
    assert_false(gw_cors_is_preflight("OPTIONS", NULL, "PUT"));
    assert_false(gw_cors_is_preflight("OPTIONS", "https://a.example", NULL));
    assert_false(gw_cors_is_preflight("OPTIONS", "https://a.example", ""));
    assert_false(gw_cors_is_preflight("GET", "https://a.example", "PUT"));
    assert_false(gw_cors_is_preflight("options", "https://a.example", "PUT"));
}

static void test_preflight_answer(void **state) {
    (void)state;
    gw_http_response r;
    gw_http_response_init(&r);
    assert_int_equal(gw_cors_preflight("https://a.example", "https://a.example", &r), UA_OK);
    assert_int_equal(r.status, 204);
    assert_int_equal(r.body.len, 0);
    assert_string_equal(gw_http_response_header(&r, "Access-Control-Allow-Origin"),
                        "https://a.example");
    assert_string_equal(gw_http_response_header(&r, "Access-Control-Allow-Methods"),
                        GW_CORS_ALLOW_METHODS);
    assert_string_equal(gw_http_response_header(&r, "Access-Control-Max-Age"), GW_CORS_MAX_AGE);
    const char *allow_headers = gw_http_response_header(&r, "Access-Control-Allow-Headers");
    assert_non_null(allow_headers);
    /* What users-api.md asks a preflight to allow, less X-Api-Key (no API keys on an HTTP API,
     * and not in infra/openapi-http.yaml's CORS configuration). */
    static const char *const needed[] = {"Content-Type", "Authorization",
                                         "X-Amz-Date",   "X-Amz-Security-Token",
                                         "If-Match",     "Idempotency-Key"};
    for (size_t i = 0; i < sizeof needed / sizeof needed[0]; i++)
        assert_non_null(strstr(allow_headers, needed[i]));
    /* A method the API has is allowed, and so is every method of the contract. */
    static const char *const methods[] = {"GET", "POST", "PUT", "PATCH", "DELETE"};
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        assert_non_null(strstr(GW_CORS_ALLOW_METHODS, methods[i]));
    /* An origin not on the list: 204 without CORS headers (the browser then refuses). */
    assert_int_equal(gw_cors_preflight("https://a.example", "https://evil.example", &r), UA_OK);
    assert_int_equal(r.status, 204);
    assert_int_equal(r.nheaders, 0);
    gw_http_response_free(&r);
}

/* The function's Access-Control-* headers go, whatever their case; the API's come in. */
static void test_apply_replaces_function_headers(void **state) {
    (void)state;
    gw_http_response r;
    gw_http_response_init(&r);
    r.status = 200;
    assert_int_equal(gw_http_response_add(&r, "Content-Type", "application/json"), UA_OK);
    assert_int_equal(gw_http_response_add(&r, "Access-Control-Allow-Origin", "https://x"), UA_OK);
    assert_int_equal(gw_http_response_add(&r, "Vary", "Origin"), UA_OK);
    assert_int_equal(gw_http_response_add(&r, "access-control-expose-headers", "X-Other"), UA_OK);
    assert_int_equal(gw_http_response_add(&r, "ETag", "\"1\""), UA_OK);
    assert_int_equal(gw_cors_apply("*", "https://a.example", &r), UA_OK);
    assert_int_equal(r.nheaders, 5);
    assert_string_equal(gw_http_response_header(&r, "Access-Control-Allow-Origin"), "*");
    assert_string_equal(gw_http_response_header(&r, "Access-Control-Expose-Headers"),
                        GW_CORS_EXPOSE_HEADERS);
    /* Everything else is kept, in order. */
    assert_string_equal(r.headers[0].name, "Content-Type");
    assert_string_equal(r.headers[1].name, "Vary");
    assert_string_equal(r.headers[2].name, "ETag");
    /* No Origin: the function's CORS headers are gone and none are added. */
    assert_int_equal(gw_http_response_add(&r, "Access-Control-Allow-Origin", "*"), UA_OK);
    assert_int_equal(gw_cors_apply("*", NULL, &r), UA_OK);
    assert_null(gw_http_response_header(&r, "Access-Control-Allow-Origin"));
    assert_null(gw_http_response_header(&r, "Access-Control-Expose-Headers"));
    assert_int_equal(r.nheaders, 3);
    gw_http_response_free(&r);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_allowed_origins),
        cmocka_unit_test(test_what_is_a_preflight),
        cmocka_unit_test(test_preflight_answer),
        cmocka_unit_test(test_apply_replaces_function_headers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_gateway_event_v2.c — the local gateway's payload 2.0 events (src/gateway/gw_event_v2.c)
 * against real HTTP API events from $USERS_TESTDATA/events: the same keys with the same JSON
 * types, the values API Gateway was observed sending (lower-case headers, comma-joined repeats,
 * cookies, decoded path parameters, the raw query kept), its routes, the binary rules; and, end
 * to end, that the bootstrap's own parser (apigw_parse) reads what we build. */
#include "apigw.h"
#include "gw_event_v2.h"
#include "testdata.h"

#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define T0_MS  1585112607686LL /* timeEpoch of the dotnet put-withbody HTTP API capture */
#define REQ_ID "J7jk9g-7oAMEJGw="

static gw_kv kv(const char *name, const char *value) {
    return (gw_kv){name, strlen(name), value, strlen(value)};
}

static gw_request request(const char *method, const char *target, const gw_kv *headers,
                          size_t nheaders, const char *body, size_t body_len) {
    return (gw_request){.method = method,
                        .target = target,
                        .target_len = strlen(target),
                        .protocol = "HTTP/1.1",
                        .headers = headers,
                        .nheaders = nheaders,
                        .body = body,
                        .body_len = body_len,
                        .source_ip = "192.0.2.7",
                        .port = 3000,
                        .request_id = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
                        .extended_request_id = REQ_ID,
                        .trace_id = "Root=1-5e7ae61f-bb13a2d967a67dd51b8aca50",
                        .time_ms = T0_MS};
}

/* Builds the event for one request; fails the test when it cannot. */
static json_t *build(const char *method, const char *target, const gw_kv *headers, size_t nheaders,
                     const char *body, size_t body_len) {
    gw_request req = request(method, target, headers, nheaders, body, body_len);
    json_t *ev = NULL;
    assert_int_equal(gw_event_v2_build(&req, &ev), UA_OK);
    assert_non_null(ev);
    return ev;
}

static json_t *build_get(const char *target) {
    gw_kv h[] = {kv("Host", "127.0.0.1:3000"), kv("User-Agent", "curl/8.0")};
    return build("GET", target, h, 2, NULL, 0);
}

/* The client's headers of a capture (API Gateway's own left out), sent again. */
static size_t client_headers(json_t *cap, gw_kv *h, size_t max) {
    size_t n = 0;
    const char *key;
    json_t *v;
    json_object_foreach(json_object_get(cap, "headers"), key, v) {
        if (strncmp(key, "x-forwarded-", 12) == 0 || strcmp(key, "x-amzn-trace-id") == 0)
            continue;
        if (n < max)
            h[n++] = kv(key, json_string_value(v));
    }
    return n;
}

/* Every top-level, requestContext and requestContext.http key of captures from deployed HTTP
 * APIs, with the same JSON types: a PUT with a body and a path parameter, a GET with a query,
 * and a GET with neither. */
static void test_shape_matches_http_api_captures(void **state) {
    (void)state;
    static const struct {
        const char *capture, *method, *target;
    } cases[] = {
        {"dotnet-values-put-withbody-httpapi-v2-request.json", "PUT", "/users/abc"},
        {"dotnet-values-get-querystring-httpapi-v2-mv-request.json", "GET",
         "/users/abc?firstName=Lewis&mv-test=value1&mv-test=value2"},
        {"rust-apigw_v2_proxy_request_minimal.json", "GET", "/users"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        json_t *cap = testdata_event(cases[c].capture);
        gw_kv h[64];
        size_t n = client_headers(cap, h, 64);
        const char *body = json_string_value(json_object_get(cap, "body"));
        json_t *ours = build(cases[c].method, cases[c].target, h, n, body, body ? strlen(body) : 0);
        testdata_assert_same_shape(ours, cap, cases[c].capture);
        json_t *ctx = json_object_get(ours, "requestContext");
        json_t *cap_ctx = json_object_get(cap, "requestContext");
        testdata_assert_same_shape(ctx, cap_ctx, "requestContext");
        testdata_assert_same_shape(json_object_get(ctx, "http"), json_object_get(cap_ctx, "http"),
                                   "requestContext.http");
        /* No stage variables: HTTP APIs leave the key out. */
        assert_null(json_object_get(ours, "stageVariables"));
        json_decref(ours);
        json_decref(cap);
    }
}

/* The values the capture has, where a local stack can have the same. */
static void test_values_like_http_api_capture(void **state) {
    (void)state;
    json_t *cap = testdata_event("dotnet-values-put-withbody-httpapi-v2-request.json");
    gw_kv h[64];
    size_t n = client_headers(cap, h, 64);
    const char *body = testdata_str(cap, "body");
    json_t *ev = build("PUT", "/users/abc", h, n, body, strlen(body));
    assert_string_equal(testdata_str(ev, "version"), "2.0");
    assert_string_equal(testdata_str(ev, "routeKey"), "PUT /users/{userId}");
    assert_string_equal(testdata_str(ev, "rawPath"), "/users/abc");
    assert_string_equal(testdata_str(ev, "rawQueryString"), "");
    assert_string_equal(testdata_str(ev, "body"), body);
    assert_true(json_is_false(json_object_get(ev, "isBase64Encoded")));
    assert_string_equal(testdata_str(json_object_get(ev, "pathParameters"), "userId"), "abc");
    json_t *ctx = json_object_get(ev, "requestContext");
    json_t *cap_ctx = json_object_get(cap, "requestContext");
    /* Same clock reading, same rendering. */
    assert_string_equal(testdata_str(ctx, "time"), testdata_str(cap_ctx, "time"));
    assert_int_equal(json_integer_value(json_object_get(ctx, "timeEpoch")), T0_MS);
    assert_string_equal(testdata_str(ctx, "stage"), "$default");
    assert_string_equal(testdata_str(ctx, "routeKey"), "PUT /users/{userId}");
    assert_string_equal(testdata_str(ctx, "requestId"), REQ_ID);
    assert_string_equal(testdata_str(ctx, "domainName"), testdata_str(cap_ctx, "domainName"));
    assert_string_equal(testdata_str(ctx, "domainPrefix"), testdata_str(cap_ctx, "domainPrefix"));
    json_t *http = json_object_get(ctx, "http");
    assert_string_equal(testdata_str(http, "method"), "PUT");
    assert_string_equal(testdata_str(http, "path"), "/users/abc");
    assert_string_equal(testdata_str(http, "protocol"), "HTTP/1.1");
    assert_string_equal(testdata_str(http, "sourceIp"), "192.0.2.7");
    assert_string_equal(testdata_str(http, "userAgent"), "PostmanRuntime/7.20.1");
    /* The client's headers come back as the capture has them; API Gateway's are added. */
    json_t *headers = json_object_get(ev, "headers");
    testdata_assert_gateway_headers(headers, json_object_get(cap, "headers"), "192.0.2.7", "3000",
                                    "Root=1-5e7ae61f-bb13a2d967a67dd51b8aca50");
    json_decref(ev);
    json_decref(cap);
}

/* The query of gateway-observed/dotnet-V2_UrlEncodedQueryString: decoded and comma-joined in
 * queryStringParameters, byte for byte as sent in rawQueryString. */
static void test_query_like_observed(void **state) {
    (void)state;
    json_t *snap = testdata_event("gateway-observed/dotnet-V2_UrlEncodedQueryString.json");
    json_t *ev = build_get("/users?q=Hello%20World&tag=C%23%20Programming&tag=.NET%20Core");
    assert_true(json_equal(json_object_get(ev, "queryStringParameters"),
                           json_object_get(snap, "QueryStringParameters")));
    assert_string_equal(testdata_str(ev, "rawQueryString"), testdata_str(snap, "RawQueryString"));
    assert_string_equal(testdata_str(ev, "routeKey"), "GET /users");
    assert_null(json_object_get(ev, "pathParameters"));
    json_decref(ev);
    json_decref(snap);
    /* '+' is a space in the map, and stays '+' in the raw string. */
    ev = build_get("/users?name=Ada+Lovelace&e=a%2Bb%40x");
    assert_string_equal(testdata_str(json_object_get(ev, "queryStringParameters"), "name"),
                        "Ada Lovelace");
    assert_string_equal(testdata_str(json_object_get(ev, "queryStringParameters"), "e"), "a+b@x");
    assert_string_equal(testdata_str(ev, "rawQueryString"), "name=Ada+Lovelace&e=a%2Bb%40x");
    json_decref(ev);
}

/* gateway-observed/dotnet-V2_SimpleGetRequest: the Cookie header becomes the cookies array and
 * leaves headers; repeated query values are comma-joined. */
static void test_cookies_like_observed(void **state) {
    (void)state;
    json_t *snap = testdata_event("gateway-observed/dotnet-V2_SimpleGetRequest.json");
    gw_kv h[] = {kv("Accept", "text/html, application/json"),
                 kv("Cookie", "session=abc123; theme=dark"), kv("X-Custom-Header", "value1")};
    json_t *ev = build("POST", "/users?status=pending&tag=important&tag=urgent", h, 3, NULL, 0);
    assert_true(json_equal(json_object_get(ev, "cookies"), json_object_get(snap, "Cookies")));
    assert_true(json_equal(json_object_get(ev, "queryStringParameters"),
                           json_object_get(snap, "QueryStringParameters")));
    json_t *headers = json_object_get(ev, "headers");
    assert_null(json_object_get(headers, "cookie"));
    assert_string_equal(testdata_str(headers, "x-custom-header"), "value1");
    assert_string_equal(testdata_str(headers, "accept"), "text/html, application/json");
    json_decref(ev);
    json_decref(snap);
    /* Two Cookie lines, odd spacing and empty pieces. */
    gw_kv two[] = {kv("Cookie", "a=1;b=2 ; ;"), kv("cookie", "c=3")};
    ev = build("GET", "/users", two, 2, NULL, 0);
    json_t *want = json_pack("[s,s,s]", "a=1", "b=2", "c=3");
    assert_true(json_equal(json_object_get(ev, "cookies"), want));
    json_decref(want);
    json_decref(ev);
    /* No Cookie header: no cookies key. */
    ev = build_get("/users");
    assert_null(json_object_get(ev, "cookies"));
    json_decref(ev);
}

/* Repeated headers are one lower-case name with the values comma-joined, in order. */
static void test_repeated_headers_joined(void **state) {
    (void)state;
    gw_kv h[] = {kv("X-Multi", "one"), kv("x-multi", "two"), kv("X-MULTI", "three"),
                 kv("If-Match", "\"1\"")};
    json_t *ev = build("GET", "/users", h, 4, NULL, 0);
    json_t *headers = json_object_get(ev, "headers");
    assert_string_equal(testdata_str(headers, "x-multi"), "one,two,three");
    assert_string_equal(testdata_str(headers, "if-match"), "\"1\"");
    const char *key;
    json_t *v;
    json_object_foreach(headers, key, v) {
        for (const char *c = key; *c; c++)
            assert_false(*c >= 'A' && *c <= 'Z');
    }
    json_decref(ev);
    /* The client's X-Forwarded-For chain gets the address appended. */
    gw_kv xff[] = {kv("X-Forwarded-For", "203.0.113.9")};
    ev = build("GET", "/users", xff, 1, NULL, 0);
    assert_string_equal(testdata_str(json_object_get(ev, "headers"), "x-forwarded-for"),
                        "203.0.113.9, 192.0.2.7");
    json_decref(ev);
}

/* rawPath decodes its escapes but %2F; the path parameter is decoded whole (the %2F capture). */
static void test_path_decoding(void **state) {
    (void)state;
    json_t *cap = testdata_event("dotnet-encode-slash-in-resource-path-httpapi-v2.json");
    assert_string_equal(testdata_str(cap, "rawPath"), "/api/resourcepath/encoding/a%2Fb");
    assert_string_equal(testdata_str(json_object_get(cap, "pathParameters"), "proxy"),
                        "api/resourcepath/encoding/a/b");
    json_decref(cap);
    json_t *ev = build_get("/users/a%2Fb");
    assert_string_equal(testdata_str(ev, "rawPath"), "/users/a%2Fb");
    assert_string_equal(
        testdata_str(json_object_get(json_object_get(ev, "requestContext"), "http"), "path"),
        "/users/a%2Fb");
    assert_string_equal(testdata_str(json_object_get(ev, "pathParameters"), "userId"), "a/b");
    json_decref(ev);
    /* gateway-observed/dotnet-V2_SpecialCharactersInPath: %20 arrives as a space. */
    ev = build_get("/users/Summer%20Sale%202023");
    assert_string_equal(testdata_str(ev, "rawPath"), "/users/Summer Sale 2023");
    assert_string_equal(testdata_str(json_object_get(ev, "pathParameters"), "userId"),
                        "Summer Sale 2023");
    json_decref(ev);
    /* Decoded once, from the segment as sent: x%2525 is x%25 in both (decoding rawPath again
     * would make the parameter x%). */
    ev = build_get("/users/x%2525");
    assert_string_equal(testdata_str(ev, "rawPath"), "/users/x%25");
    assert_string_equal(testdata_str(json_object_get(ev, "pathParameters"), "userId"), "x%25");
    json_decref(ev);
    /* Escapes that would give bad UTF-8 or a NUL are kept as sent; a lone '%' stays. */
    ev = build_get("/users/%ff%fe");
    assert_string_equal(testdata_str(ev, "rawPath"), "/users/%ff%fe");
    json_decref(ev);
    ev = build_get("/users/a%00b");
    assert_string_equal(testdata_str(ev, "rawPath"), "/users/a%00b");
    assert_string_equal(testdata_str(json_object_get(ev, "pathParameters"), "userId"), "a%00b");
    json_decref(ev);
    ev = build_get("/users/100%");
    assert_string_equal(testdata_str(ev, "rawPath"), "/users/100%");
    json_decref(ev);
    buf b;
    buf_init(&b, 64);
    assert_int_equal(gw_event_v2_raw_path("/a%41%2f%2F", 11, &b), UA_OK);
    assert_string_equal(buf_str(&b), "/aA%2f%2F");
    buf_free(&b);
}

/* The routes of infra/openapi-http.yaml: method routes, the paths' ANY routes, catch-alls. */
static void test_routes(void **state) {
    (void)state;
    static const struct {
        const char *method, *target, *route, *param, *value;
    } cases[] = {
        {"GET", "/users", "GET /users", NULL, NULL},
        {"POST", "/users", "POST /users", NULL, NULL},
        {"DELETE", "/users", "ANY /users", NULL, NULL},
        {"OPTIONS", "/users?x=1", "ANY /users", NULL, NULL},
        {"GET", "http://localhost:3000/users/u-1?x=1", "GET /users/{userId}", "userId", "u-1"},
        {"PATCH", "/users/u-1", "PATCH /users/{userId}", "userId", "u-1"},
        {"POST", "/users/u-1", "ANY /users/{userId}", "userId", "u-1"},
        {"HEAD", "/users/u-1", "ANY /users/{userId}", "userId", "u-1"},
        {"GET", "/", "ANY /", NULL, NULL},
        {"GET", "/widgets", "ANY /{proxy+}", "proxy", "widgets"},
        {"GET", "/users/", "ANY /{proxy+}", "proxy", "users/"},
        {"PUT", "/users/a/b%2Fc", "ANY /{proxy+}", "proxy", "users/a/b/c"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        gw_request req = request(cases[i].method, cases[i].target, NULL, 0, NULL, 0);
        json_t *ev = NULL;
        assert_int_equal(gw_event_v2_build(&req, &ev), UA_OK);
        assert_string_equal(testdata_str(ev, "routeKey"), cases[i].route);
        assert_string_equal(testdata_str(json_object_get(ev, "requestContext"), "routeKey"),
                            cases[i].route);
        json_t *params = json_object_get(ev, "pathParameters");
        if (cases[i].param)
            assert_string_equal(testdata_str(params, cases[i].param), cases[i].value);
        else
            assert_null(params);
        json_decref(ev);
    }
}

/* Bodies: absent when empty; text when UTF-8 and text-like; base64 otherwise, as the Function
 * URL capture with content-type "idk" shows. */
static void test_body_encoding(void **state) {
    (void)state;
    json_t *ev = build_get("/users");
    assert_null(json_object_get(ev, "body"));
    assert_true(json_is_false(json_object_get(ev, "isBase64Encoded")));
    json_decref(ev);
    json_t *cap = testdata_event(
        "go-lambdaurl-function-url-domain-only-request-with-base64-encoded-body.json");
    gw_kv idk[] = {
        kv("Content-Type", testdata_str(json_object_get(cap, "headers"), "content-type"))};
    ev = build("POST", "/users", idk, 1, "<idk/>", 6);
    assert_string_equal(testdata_str(ev, "body"), testdata_str(cap, "body"));
    assert_true(json_is_true(json_object_get(ev, "isBase64Encoded")));
    json_decref(ev);
    json_decref(cap);
    gw_kv js[] = {kv("Content-Type", "application/json; charset=utf-8")};
    ev = build("POST", "/users", js, 1, "{\"a\":1}", 7);
    assert_string_equal(testdata_str(ev, "body"), "{\"a\":1}");
    assert_true(json_is_false(json_object_get(ev, "isBase64Encoded")));
    json_decref(ev);
    ev = build("POST", "/users", js, 1, "\xff\x00", 2); /* not UTF-8: base64 whatever the type */
    assert_string_equal(testdata_str(ev, "body"), "/wA=");
    assert_true(json_is_true(json_object_get(ev, "isBase64Encoded")));
    json_decref(ev);
}

static void test_bad_requests_are_refused(void **state) {
    (void)state;
    json_t *ev = NULL;
    gw_request req = request("", "/users", NULL, 0, NULL, 0);
    assert_int_equal(gw_event_v2_build(&req, &ev), UA_ERR_INVALID);
    req = request("GET", "users", NULL, 0, NULL, 0);
    assert_int_equal(gw_event_v2_build(&req, &ev), UA_ERR_INVALID);
    req = request("GET", "*", NULL, 0, NULL, 0);
    assert_int_equal(gw_event_v2_build(&req, &ev), UA_ERR_INVALID);
    assert_null(ev);
}

/* The bootstrap reads our 2.0 event as the HTTP API request it is. */
static void test_bootstrap_parser_reads_it(void **state) {
    (void)state;
    gw_kv h[] = {kv("Host", "localhost"), kv("Content-Type", "application/json"),
                 kv("If-Match", "\"1\""), kv("Cookie", "a=1; b=2")};
    json_t *ev = build("PATCH", "/users/abc?limit=3&limit=4", h, 4, "{\"age\":3}", 9);
    char *doc = json_dumps(ev, JSON_COMPACT);
    assert_non_null(doc);
    apigw_event parsed;
    assert_int_equal(apigw_parse(doc, strlen(doc), "lambda-id", &parsed), UA_OK);
    assert_int_equal(parsed.format, APIGW_V2);
    assert_string_equal(parsed.req.method, "PATCH");
    assert_string_equal(parsed.req.path, "/users/abc");
    assert_int_equal(parsed.req.body_len, 9);
    assert_memory_equal(parsed.req.body, "{\"age\":3}", 9);
    assert_string_equal(parsed.req.request_id, REQ_ID);
    const char *v = NULL;
    assert_int_equal(api_header(&parsed.req, "if-match", &v), 1);
    assert_string_equal(v, "\"1\"");
    assert_int_equal(api_header(&parsed.req, "cookie", &v), 1);
    assert_string_equal(v, "a=1; b=2");
    assert_int_equal(api_query(&parsed.req, "limit", &v), 2);
    assert_string_equal(v, "3");
    apigw_event_free(&parsed);
    free(doc);
    json_decref(ev);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shape_matches_http_api_captures),
        cmocka_unit_test(test_values_like_http_api_capture),
        cmocka_unit_test(test_query_like_observed),
        cmocka_unit_test(test_cookies_like_observed),
        cmocka_unit_test(test_repeated_headers_joined),
        cmocka_unit_test(test_path_decoding),
        cmocka_unit_test(test_routes),
        cmocka_unit_test(test_body_encoding),
        cmocka_unit_test(test_bad_requests_are_refused),
        cmocka_unit_test(test_bootstrap_parser_reads_it),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

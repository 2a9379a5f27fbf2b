/* test_gateway_event.c — the local gateway's proxy events (src/gateway/gw_event.c) against
 * real REST API payload 1.0 events from $USERS_TESTDATA/events: the same keys with the same
 * JSON types, the same query and header values where API Gateway was observed, and the binary
 * rules; and, end to end, that the bootstrap's own parser (apigw_parse) reads what we build. */
#include "apigw.h"
#include "gw_event.h"
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

#define T0_MS 1576187809658LL /* requestTimeEpoch of the dotnet check-content-length capture */

static gw_kv kv(const char *name, const char *value) {
    return (gw_kv){name, strlen(name), value, strlen(value)};
}

/* Builds the event for one request; fails the test when it cannot. */
static json_t *build(const char *method, const char *target, const gw_kv *headers, size_t nheaders,
                     const char *body, size_t body_len) {
    gw_request req = {.method = method,
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
                      .extended_request_id = "EnGhRFC7PHcFffA=",
                      .trace_id = "Root=1-5df2b7a1-fe3252987294e6c23d6f3e34",
                      .time_ms = T0_MS};
    json_t *ev = NULL;
    assert_int_equal(gw_event_build(&req, &ev), UA_OK);
    assert_non_null(ev);
    return ev;
}

static json_t *build_get(const char *target) {
    gw_kv h[] = {kv("Host", "127.0.0.1:3000"), kv("User-Agent", "curl/8.0")};
    return build("GET", target, h, 2, NULL, 0);
}

/* Postman's headers from the dotnet check-content-length capture, as a client sends them. */
static json_t *build_like_capture(json_t *cap, const char *target) {
    json_t *mv = json_object_get(cap, "multiValueHeaders");
    gw_kv h[64];
    size_t n = 0;
    const char *key;
    json_t *arr;
    json_object_foreach(mv, key, arr) {
        if (strncmp(key, "X-Forwarded-", 12) == 0 || strcmp(key, "X-Amzn-Trace-Id") == 0)
            continue; /* API Gateway's own */
        size_t i;
        json_t *v;
        json_array_foreach(arr, i, v) {
            h[n++] = kv(key, json_string_value(v));
        }
    }
    const char *body = testdata_str(cap, "body");
    return build("POST", target, h, n, body, strlen(body));
}

/* Every top-level, requestContext and identity key of a capture from a deployed REST API,
 * with the same JSON types. */
static void test_shape_matches_rest_capture(void **state) {
    (void)state;
    static const char *const captures[] = {
        "dotnet-check-content-length-withcontent-apigateway.json",
        "dotnet-check-content-length-nocontent-apigateway.json",
        "dotnet-encode-slash-in-resource-path.json"};
    for (size_t c = 0; c < sizeof captures / sizeof captures[0]; c++) {
        json_t *cap = testdata_event(captures[c]);
        json_t *ours;
        if (json_is_string(json_object_get(cap, "body")))
            ours = build_like_capture(cap, "/users/abc");
        else
            ours = build_get("/users/abc");
        /* The capture's body type is the one to match: null (nocontent) or a string. */
        testdata_assert_same_shape(ours, cap, captures[c]);
        json_t *ctx = json_object_get(ours, "requestContext");
        testdata_assert_same_shape(ctx, json_object_get(cap, "requestContext"), "requestContext");
        testdata_assert_same_shape(
            json_object_get(ctx, "identity"),
            json_object_get(json_object_get(cap, "requestContext"), "identity"),
            "requestContext.identity");
        json_decref(ours);
        json_decref(cap);
    }
}

/* The values the capture has, where a local stack can have the same. */
static void test_values_like_rest_capture(void **state) {
    (void)state;
    json_t *cap = testdata_event("dotnet-check-content-length-withcontent-apigateway.json");
    json_t *ev = build_like_capture(cap, "/users/abc");
    assert_string_equal(testdata_str(ev, "httpMethod"), "POST");
    assert_string_equal(testdata_str(ev, "body"), "{\"hello\":\"world\"}");
    assert_true(json_is_false(json_object_get(ev, "isBase64Encoded")));
    json_t *ctx = json_object_get(ev, "requestContext");
    json_t *cap_ctx = json_object_get(cap, "requestContext");
    /* Same clock reading, same rendering. */
    assert_string_equal(testdata_str(ctx, "requestTime"), testdata_str(cap_ctx, "requestTime"));
    assert_int_equal(json_integer_value(json_object_get(ctx, "requestTimeEpoch")), T0_MS);
    assert_string_equal(testdata_str(ctx, "protocol"), "HTTP/1.1");
    assert_string_equal(testdata_str(ctx, "stage"), "local");
    assert_string_equal(testdata_str(ctx, "path"), "/local/users/abc");
    assert_string_equal(testdata_str(ctx, "resourcePath"), "/users/{userId}");
    assert_string_equal(testdata_str(ctx, "requestId"), "c6af9ac6-7b61-11e6-9a41-93e8deadbeef");
    assert_string_equal(testdata_str(ctx, "extendedRequestId"), "EnGhRFC7PHcFffA=");
    assert_string_equal(testdata_str(ctx, "httpMethod"), "POST");
    json_t *id = json_object_get(ctx, "identity");
    assert_string_equal(testdata_str(id, "sourceIp"), "192.0.2.7");
    assert_string_equal(testdata_str(id, "userAgent"), "PostmanRuntime/7.6.0");
    /* Client headers keep their names and values; the capture's own ones are API Gateway's. */
    json_t *headers = json_object_get(ev, "headers");
    testdata_assert_gateway_headers(headers, json_object_get(cap, "headers"), "192.0.2.7", "3000",
                                    "Root=1-5df2b7a1-fe3252987294e6c23d6f3e34");
    json_decref(ev);
    json_decref(cap);
}

/* REST v1 leaves the path (and the path parameter) percent-encoded: the %2F capture. */
static void test_path_stays_encoded(void **state) {
    (void)state;
    json_t *cap = testdata_event("dotnet-encode-slash-in-resource-path.json");
    assert_string_equal(testdata_str(cap, "path"), "/api/resourcepath/encoding/a%2Fb");
    json_t *ev = build_get("/users/a%2Fb");
    assert_string_equal(testdata_str(ev, "path"), "/users/a%2Fb");
    assert_string_equal(testdata_str(ev, "resource"), "/users/{userId}");
    assert_string_equal(testdata_str(json_object_get(ev, "pathParameters"), "userId"), "a%2Fb");
    json_decref(ev);
    json_decref(cap);
}

/* The query maps of gateway-observed/ snapshots (PascalCase keys there), byte for byte. */
static void test_query_like_observed(void **state) {
    (void)state;
    static const struct {
        const char *snapshot, *target;
    } cases[] = {
        {"gateway-observed/dotnet-V1_UrlEncodedQueryStringRest.json",
         "/test4/api/search?q=Hello%20World&tag=C%23%20Programming&tag=.NET%20Core"},
        {"gateway-observed/dotnet-V1_SimpleGetRequestRest.json",
         "/test1/api/users/123/orders?status=pending&tag=important&tag=urgent"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *snap = testdata_event(cases[i].snapshot);
        json_t *ev = build_get(cases[i].target);
        assert_true(json_equal(json_object_get(ev, "queryStringParameters"),
                               json_object_get(snap, "QueryStringParameters")));
        assert_true(json_equal(json_object_get(ev, "multiValueQueryStringParameters"),
                               json_object_get(snap, "MultiValueQueryStringParameters")));
        /* Not one of our resources: resource is the path, and no path parameters. */
        assert_string_equal(testdata_str(ev, "resource"), testdata_str(ev, "path"));
        assert_true(json_is_null(json_object_get(ev, "pathParameters")));
        json_decref(ev);
        json_decref(snap);
    }
}

/* The snapshot's headers as the client sent them come back unchanged (Cookie included). */
static void test_headers_like_observed(void **state) {
    (void)state;
    json_t *snap = testdata_event("gateway-observed/dotnet-V1_SimpleGetRequestRest.json");
    json_t *mv = json_object_get(snap, "MultiValueHeaders");
    gw_kv h[32];
    size_t n = 0;
    const char *key;
    json_t *arr;
    json_object_foreach(mv, key, arr) {
        if (strncmp(key, "X-Forwarded-", 12) != 0)
            h[n++] = kv(key, json_string_value(json_array_get(arr, 0)));
    }
    json_t *ev = build("POST", "/test1/api/users/123/orders", h, n, NULL, 0);
    json_t *ours = json_object_get(ev, "multiValueHeaders");
    json_object_foreach(mv, key, arr) {
        if (strncmp(key, "X-Forwarded-", 12) != 0)
            assert_true(json_equal(json_object_get(ours, key), arr));
    }
    /* The trace header the client sent is kept, not replaced. */
    assert_string_equal(testdata_str(json_object_get(ev, "headers"), "X-Amzn-Trace-Id"),
                        "Root=1-67fd87f5-7643e6a875203f06341af04f");
    assert_true(json_is_null(json_object_get(ev, "body")));
    json_decref(ev);
    json_decref(snap);
}

static void test_null_query_maps_when_absent(void **state) {
    (void)state;
    static const char *const targets[] = {"/users", "/users?", "/users?&", "/users?=x"};
    for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++) {
        json_t *ev = build_get(targets[i]);
        assert_true(json_is_null(json_object_get(ev, "queryStringParameters")));
        assert_true(json_is_null(json_object_get(ev, "multiValueQueryStringParameters")));
        assert_string_equal(testdata_str(ev, "path"), "/users");
        json_decref(ev);
    }
}

static void test_query_decoding(void **state) {
    (void)state;
    json_t *ev = build_get("/users?limit=5&flag&a+b=c+d&bad=%zz&raw=%ff&e=%C3%A9&limit=7");
    json_t *q = json_object_get(ev, "queryStringParameters");
    json_t *mq = json_object_get(ev, "multiValueQueryStringParameters");
    assert_string_equal(testdata_str(q, "limit"), "7"); /* the last value */
    assert_int_equal(json_array_size(json_object_get(mq, "limit")), 2);
    assert_string_equal(json_string_value(json_array_get(json_object_get(mq, "limit"), 0)), "5");
    assert_string_equal(testdata_str(q, "flag"), "");
    assert_string_equal(testdata_str(q, "a b"), "c d"); /* '+' is a space, as REST APIs decode it */
    assert_string_equal(testdata_str(q, "bad"), "%zz"); /* not an escape: passed as sent */
    assert_string_equal(testdata_str(q, "raw"), "%ff"); /* decodes to a byte that is not UTF-8 */
    assert_string_equal(testdata_str(q, "e"), "\xc3\xa9");
    json_decref(ev);
}

static void test_multi_value_headers(void **state) {
    (void)state;
    gw_kv h[] = {kv("Host", "localhost"),
                 kv("X-Test", "one"),
                 kv("x-test", "two"),
                 kv("Accept", "*/*"),
                 kv("X-Forwarded-For", "198.51.100.1"),
                 kv("X-Forwarded-Proto", "https")};
    json_t *ev = build("GET", "/users", h, sizeof h / sizeof h[0], NULL, 0);
    json_t *single = json_object_get(ev, "headers");
    json_t *multi = json_object_get(ev, "multiValueHeaders");
    assert_string_equal(testdata_str(single, "X-Test"), "two"); /* the last value wins */
    assert_null(json_object_get(single, "x-test"));             /* the first spelling names it */
    json_t *both = json_pack("[ss]", "one", "two");
    assert_true(json_equal(json_object_get(multi, "X-Test"), both));
    json_decref(both);
    /* API Gateway appends the caller's address and says how it was reached. */
    assert_string_equal(testdata_str(single, "X-Forwarded-For"), "198.51.100.1, 192.0.2.7");
    assert_string_equal(testdata_str(single, "X-Forwarded-Proto"), "http");
    assert_int_equal(json_array_size(json_object_get(multi, "X-Forwarded-Proto")), 1);
    /* Every key of one map is in the other. */
    assert_int_equal(json_object_size(single), json_object_size(multi));
    json_decref(ev);
}

static void test_latin1_header_bytes(void **state) {
    (void)state;
    gw_kv h[] = {kv("X-Name", "caf\xe9")};
    json_t *ev = build("GET", "/users", h, 1, NULL, 0);
    assert_string_equal(testdata_str(json_object_get(ev, "headers"), "X-Name"), "caf\xc3\xa9");
    json_decref(ev);
}

static void test_resources(void **state) {
    (void)state;
    static const struct {
        const char *target, *resource, *user_id; /* user_id NULL: pathParameters null */
    } cases[] = {
        {"/users", "/users", NULL},
        {"/users?limit=1", "/users", NULL},
        {"/users/3f0c8a9e-8d1b-4c2a-9f5e-2b7d3c1a4e6f", "/users/{userId}",
         "3f0c8a9e-8d1b-4c2a-9f5e-2b7d3c1a4e6f"},
        {"/users/a%20b", "/users/{userId}", "a%20b"},
        {"/users/", "/users/", NULL},
        {"/users/a/b", "/users/a/b", NULL},
        {"/usersx", "/usersx", NULL},
        {"/", "/", NULL},
        {"/other/path", "/other/path", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *ev = build_get(cases[i].target);
        assert_string_equal(testdata_str(ev, "resource"), cases[i].resource);
        assert_string_equal(testdata_str(json_object_get(ev, "requestContext"), "resourcePath"),
                            cases[i].resource);
        json_t *pp = json_object_get(ev, "pathParameters");
        if (cases[i].user_id) {
            assert_int_equal(json_object_size(pp), 1);
            assert_string_equal(testdata_str(pp, "userId"), cases[i].user_id);
        } else {
            assert_true(json_is_null(pp));
        }
        json_decref(ev);
    }
}

/* Binary bodies travel as base64; text as text. */
static void test_body_encoding(void **state) {
    (void)state;
    static const struct {
        const char *content_type; /* NULL: no header */
        const char *body;
        size_t len;
        bool base64;
        const char *expect; /* the event's body */
    } cases[] = {
        {NULL, "\xff\x00\x01", 3, true, "/wAB"},
        {"application/json", "\xc3\x28", 2, true, "wyg="}, /* not UTF-8 */
        {"application/octet-stream", "hello", 5, true, "aGVsbG8="},
        {"image/png", "\x89PNG", 4, true, "iVBORw=="},
        {"application/json", "{\"a\":1}", 7, false, "{\"a\":1}"},
        {"application/json; charset=utf-8", "{}", 2, false, "{}"},
        {"text/plain", "caf\xc3\xa9", 5, false, "caf\xc3\xa9"},
        {"application/problem+json", "{}", 2, false, "{}"},
        {"application/x-www-form-urlencoded", "a=b", 3, false, "a=b"},
        {NULL, "{\"name\":\"x\"}", 12, false, "{\"name\":\"x\"}"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        gw_kv h[2] = {kv("Host", "localhost")};
        size_t n = 1;
        if (cases[i].content_type)
            h[n++] = kv("Content-Type", cases[i].content_type);
        json_t *ev = build("POST", "/users", h, n, cases[i].body, cases[i].len);
        assert_int_equal(json_is_true(json_object_get(ev, "isBase64Encoded")), cases[i].base64);
        assert_string_equal(testdata_str(ev, "body"), cases[i].expect);
        json_decref(ev);
    }
    /* A NUL inside UTF-8 text stays text: the bootstrap must see (and refuse) it. */
    gw_kv h[] = {kv("Content-Type", "application/json")};
    json_t *ev = build("POST", "/users", h, 1, "{\"a\":\"\0\"}", 9);
    assert_true(json_is_false(json_object_get(ev, "isBase64Encoded")));
    assert_int_equal(json_string_length(json_object_get(ev, "body")), 9);
    json_decref(ev);
    /* No body: null, and false. */
    ev = build("POST", "/users", h, 1, NULL, 0);
    assert_true(json_is_null(json_object_get(ev, "body")));
    assert_true(json_is_false(json_object_get(ev, "isBase64Encoded")));
    json_decref(ev);
}

static void test_bad_requests_are_refused(void **state) {
    (void)state;
    gw_request req = {.method = "GET", .target = "users", .target_len = 5};
    json_t *ev = NULL;
    assert_int_equal(gw_event_build(&req, &ev), UA_ERR_INVALID);
    assert_null(ev);
    req.method = "";
    req.target = "/users";
    req.target_len = 6;
    assert_int_equal(gw_event_build(&req, &ev), UA_ERR_INVALID);
    /* An absolute-form target is cut to its path. */
    json_t *abs = build_get("http://127.0.0.1:3000/users/abc?x=1");
    assert_string_equal(testdata_str(abs, "path"), "/users/abc");
    assert_string_equal(testdata_str(json_object_get(abs, "queryStringParameters"), "x"), "1");
    json_decref(abs);
}

static void test_body_is_text(void **state) {
    (void)state;
    assert_true(gw_body_is_text(NULL, 0, "abc", 3));
    assert_true(gw_body_is_text(" TEXT/HTML ; q=1", 16, "abc", 3));
    assert_true(gw_body_is_text("application/vnd.api+json", 24, "{}", 2));
    assert_true(gw_body_is_text("application/soap+xml", 20, "<a/>", 4));
    assert_false(gw_body_is_text("application/pdf", 15, "abc", 3));
    assert_false(gw_body_is_text("text/plain", 10, "\x80", 1));
}

/* What we build is what the bootstrap's parser expects of a REST v1 event. */
static void test_bootstrap_parser_reads_it(void **state) {
    (void)state;
    gw_kv h[] = {kv("Host", "localhost"), kv("Content-Type", "application/json"),
                 kv("If-Match", "\"1\""), kv("if-match", "\"2\"")};
    json_t *ev = build("PATCH", "/users/abc?limit=3&limit=4", h, 4, "{\"age\":3}", 9);
    char *doc = json_dumps(ev, JSON_COMPACT);
    assert_non_null(doc);
    apigw_event parsed;
    assert_int_equal(apigw_parse(doc, strlen(doc), "lambda-id", &parsed), UA_OK);
    assert_int_equal(parsed.format, APIGW_V1);
    assert_string_equal(parsed.req.method, "PATCH");
    assert_string_equal(parsed.req.path, "/users/abc");
    assert_int_equal(parsed.req.body_len, 9);
    assert_memory_equal(parsed.req.body, "{\"age\":3}", 9);
    assert_string_equal(parsed.req.request_id, "c6af9ac6-7b61-11e6-9a41-93e8deadbeef");
    const char *v = NULL;
    assert_int_equal(api_header(&parsed.req, "if-match", &v), 2);
    assert_string_equal(v, "\"1\"");
    assert_int_equal(api_query(&parsed.req, "limit", &v), 2);
    assert_string_equal(v, "3");
    apigw_event_free(&parsed);
    free(doc);
    json_decref(ev);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shape_matches_rest_capture),
        cmocka_unit_test(test_values_like_rest_capture),
        cmocka_unit_test(test_path_stays_encoded),
        cmocka_unit_test(test_query_like_observed),
        cmocka_unit_test(test_headers_like_observed),
        cmocka_unit_test(test_null_query_maps_when_absent),
        cmocka_unit_test(test_query_decoding),
        cmocka_unit_test(test_multi_value_headers),
        cmocka_unit_test(test_latin1_header_bytes),
        cmocka_unit_test(test_resources),
        cmocka_unit_test(test_body_encoding),
        cmocka_unit_test(test_bad_requests_are_refused),
        cmocka_unit_test(test_body_is_text),
        cmocka_unit_test(test_bootstrap_parser_reads_it),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_apigw.c — API Gateway events to requests and responses to proxy answers, against every
 * recorded event in $USERS_TESTDATA/events (see its README) and synthetic edge cases. */
#include "apigw.h"

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define LAMBDA_ID "lambda-request-id-0001"

/* ---- Helpers ---- */

static char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s", path);
    buf b;
    buf_init(&b, UA_MAX_EVENT_BYTES);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        assert_int_equal(buf_append(&b, chunk, n), UA_OK);
    fclose(f);
    *len = b.len;
    return buf_steal(&b);
}

static const char *testdata(void) {
    const char *dir = getenv("USERS_TESTDATA");
    if (!dir || !*dir)
        fail_msg("USERS_TESTDATA is not set (the shared testdata folder)");
    return dir;
}

static char *event_path(const char *subdir, const char *name) {
    buf b;
    buf_init(&b, 4096);
    assert_int_equal(buf_appendf(&b, "%s/events/%s%s", testdata(), subdir, name), UA_OK);
    return buf_steal(&b);
}

static ua_status parse_file(const char *name, apigw_event *ev) {
    size_t len;
    char *path = event_path("", name);
    char *text = read_file(path, &len);
    ua_status st = apigw_parse(text, len, LAMBDA_ID, ev);
    free(text);
    free(path);
    return st;
}

/* Parses a fixture that must be a proxy event. */
static void parse_ok(const char *name, apigw_event *ev) {
    ua_status st = parse_file(name, ev);
    if (st != UA_OK)
        fail_msg("%s: apigw_parse returned %d", name, st);
}

/* Parses JSON written with ' for " (to keep the C readable); the text holds no apostrophe. */
static ua_status parse_text(const char *text, apigw_event *ev) {
    char *copy = strdup(text);
    assert_non_null(copy);
    for (char *p = copy; *p; p++)
        if (*p == '\'')
            *p = '"';
    ua_status st = apigw_parse(copy, strlen(copy), LAMBDA_ID, ev);
    free(copy);
    return st;
}

static void parse_text_ok(const char *text, apigw_event *ev) {
    ua_status st = parse_text(text, ev);
    if (st != UA_OK)
        fail_msg("%s: apigw_parse returned %d", text, st);
}

/* Parses a jansson document as an event. */
static ua_status parse_doc(json_t *doc, const char *lambda_id, apigw_event *ev) {
    char *text = json_dumps(doc, JSON_COMPACT);
    assert_non_null(text);
    ua_status st = apigw_parse(text, strlen(text), lambda_id, ev);
    free(text);
    return st;
}

/* Asserts that map[name] holds exactly the n strings that follow, in order. */
static void assert_values(const json_t *map, const char *name, size_t n, ...) {
    json_t *vals = json_object_get(map, name);
    size_t have = json_is_array(vals) ? json_array_size(vals) : 0;
    if (have != n)
        fail_msg("%s: %zu values, want %zu", name, have, n);
    va_list ap;
    va_start(ap, n);
    for (size_t i = 0; i < n; i++) {
        const char *want = va_arg(ap, const char *);
        const char *got = json_string_value(json_array_get(vals, i));
        if (!got || strcmp(got, want) != 0)
            fail_msg("%s[%zu]: \"%s\", want \"%s\"", name, i, got ? got : "(not a string)", want);
    }
    va_end(ap);
}

static void assert_body(const api_request *r, const char *want, size_t want_len) {
    assert_non_null(r->body);
    assert_int_equal(r->body_len, want_len);
    assert_memory_equal(r->body, want, want_len);
    assert_false(r->body_bad_base64);
}

/* ---- Every recorded event ---- */

typedef struct fixture {
    const char *file;
    apigw_format format; /* 0: not a proxy event, apigw_parse must say UA_ERR_INVALID */
    const char *method;
    const char *path; /* routing path: leading '/' ensured, v2 named stage removed */
    const char *request_id;
} fixture;

/* Facts read off each file and its README note, not computed. */
static const fixture FIXTURES[] = {
    {"dotnet-additional-path-parameters-in-non-proxy-path.json", APIGW_V1, "GET", "/path/bar/api",
     "dbb330b2-1de5-11e8-b1a9-3f92103b3613"},
    {"dotnet-authtest-access-request-httpapi-v2.json", APIGW_V2, "GET", "/api/authtest",
     "J7m8fgZWoAMEJEA="},
    {"dotnet-authtest-access-request.json", APIGW_V1, "GET", "/api/authtest",
     "7713b963-f984-11e7-b02a-f346964d4540"},
    {"dotnet-check-content-length-nocontent-apigateway.json", APIGW_V1, "POST", "/api/values",
     "ec60ed0b-0c02-4d5e-bbb9-57bb77b798c0"},
    {"dotnet-check-content-length-withcontent-apigateway.json", APIGW_V1, "POST", "/api/values",
     "ec60ed0b-0c02-4d5e-bbb9-57bb77b798c0"},
    {"dotnet-encode-plus-in-resource-path.json", APIGW_V1, "GET",
     "/api/resourcepath/string/foo+bar", "dbb330b2-1de5-11e8-b1a9-3f92103b3613"},
    {"dotnet-encode-slash-in-resource-path-httpapi-v2.json", APIGW_V2, "GET",
     "/api/resourcepath/encoding/a%2Fb", "J7lbEgpRIAMEJKQ="},
    {"dotnet-encode-slash-in-resource-path.json", APIGW_V1, "GET",
     "/api/resourcepath/encoding/a%2Fb", "b34371ef-6b09-11e9-86d0-b596427e6920"},
    {"dotnet-encode-space-in-resource-path-and-query.json", APIGW_V1, "GET", "/foo%20bar",
     "f705df8a-1dea-11e8-8c32-e5fe822e2654"},
    {"dotnet-trailing-slash-in-path.json", APIGW_V1, "GET", "/foo/",
     "7713b963-f984-11e7-b02a-f346964d4540"},
    {"dotnet-values-delete-no-content-type-apigateway-request.json", APIGW_V1, "DELETE",
     "/api/values/1", "cbb0b56b-62dd-11e8-8e09-279e66e99d50"},
    {"dotnet-values-get-customauthorizer-apigateway-request.json", APIGW_V1, "GET",
     "/api/resourcepath/5", "test-invoke-request"},
    {"dotnet-values-get-querystring-apigateway-encoding-request.json", APIGW_V1, "GET",
     "/api/rawquerystring/json", "test-invoke-request"},
    {"dotnet-values-get-querystring-httpapi-v2-mv-request.json", APIGW_V2, "GET",
     "/api/querystring", "J62m0g3MoAMEPAg="},
    {"dotnet-values-get-single-apigateway-request.json", APIGW_V1, "GET", "/api/resourcepath/5",
     "test-invoke-request"},
    {"dotnet-values-put-no-body-request.json", APIGW_V1, "PUT", "/api/values/no-body",
     "b5738763-be0a-4ded-945b-a92895dbc5de"},
    {"dotnet-values-put-withbody-apigateway-request.json", APIGW_V1, "PUT", "/api/bodytests",
     "test-invoke-request"},
    {"dotnet-values-put-withbody-httpapi-v2-request.json", APIGW_V2, "PUT", "/api/bodytests",
     "J7jk9g-7oAMEJGw="},
    {"go-apigw-request.json", APIGW_V1, "POST", "/hello/world",
     "deef4878-7910-11e6-8f14-25afc3e9ae33"},
    {"go-apigw-response.json", 0, NULL, NULL, NULL},
    {"go-apigw-restapi-openapi-request.json", APIGW_V1, "POST", "/hello/world",
     "deef4878-7910-11e6-8f14-25afc3e9ae33"},
    {"go-apigw-v2-request-iam.json", APIGW_V2, "GET", "/my/path", "id"},
    {"go-apigw-v2-request-jwt-authorizer.json", APIGW_V2, "GET", "/my/path", "id"},
    {"go-apigw-v2-request-no-authorizer.json", APIGW_V2, "GET", "/", "LV7fzho-PHcEJPw="},
    {"go-dynamodb-event.json", 0, NULL, NULL, NULL},
    {"go-dynamodb-time-window-event.json", 0, NULL, NULL, NULL},
    {"go-lambda-urls-response.json", 0, NULL, NULL, NULL},
    {"go-lambdaurl-function-url-domain-only-get-request-trailing-slash.json", APIGW_V2, "GET", "/",
     "3a72f39b-d6bd-4a4f-b040-f94d09b4daa3"},
    {"go-lambdaurl-function-url-domain-only-get-request.json", APIGW_V2, "GET", "/",
     "deeb7e49-a9a8-4a8f-bcd1-5482231e2087"},
    {"go-lambdaurl-function-url-domain-only-request-with-base64-encoded-body.json", APIGW_V2,
     "POST", "/", "9701a3d4-36ad-40bd-bf0b-a525c987d27f"},
    {"go-lambdaurl-function-url-request-with-headers-and-cookies-and-text-body.json", APIGW_V2,
     "POST", "/hello", "5bbd0e3e-fe7a-4299-9076-32d4de45391b"},
    {"powertools-apiGatewayProxyEvent.json", APIGW_V1, "GET", "/my/path", "id="},
    {"powertools-apiGatewayProxyEventAnotherPath.json", APIGW_V1, "GET", "/my/anotherPath", "id="},
    {"powertools-apiGatewayProxyEventNoOrigin.json", APIGW_V1, "GET", "/my/path", "id="},
    {"powertools-apiGatewayProxyEventPrincipalId.json", APIGW_V1, "POST", "/trip",
     "34972478-2843-4ced-a657-253108738274"},
    {"powertools-apiGatewayProxyV2Event.json", APIGW_V2, "POST", "/my/path", "id"},
    {"powertools-apigatewayeSchemaMiddlwareValidEvent.json", APIGW_V1, "POST", "/my/path", "id="},
    {"powertools-dynamoStreamEvent.json", 0, NULL, NULL, NULL},
    {"powertools-lambdaFunctionUrlEvent.json", APIGW_V2, "GET", "/", "id"},
    {"rust-apigw_no_host.json", APIGW_V1, "GET", "/hello", "41b45ea3-70b5-11e6-b7bd-69b5aaebc7d9"},
    {"rust-apigw_proxy_request.json", APIGW_V1, "GET", "/hello",
     "41b45ea3-70b5-11e6-b7bd-69b5aaebc7d9"},
    {"rust-apigw_v2_proxy_request_minimal.json", APIGW_V2, "GET", "/", "MIZRNhJtIAMEMDw="},
    {"rust-apigw_v2_proxy_request_with_stage_in_path.json", APIGW_V2, "POST", "/my/path", "id"},
    {"rust-apigw_v2_sam_local.json", APIGW_V2, "GET", "/hello",
     "1ac06eee-f687-44ec-9036-dfd49d0be0a3"},
    {"rust-example-apigw-console-request.json", APIGW_V1, "POST", "/path/to/resource",
     "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"},
    {"rust-example-apigw-console-test-request.json", APIGW_V1, "POST", "/myPath",
     "e5488776-afe4-4e5e-92b1-37bd23f234d6"},
    {"rust-example-apigw-request-multi-value-parameters.json", APIGW_V1, "POST", "/hello/world",
     "deef4878-7910-11e6-8f14-25afc3e9ae33"},
    {"rust-example-apigw-sam-http-request.json", APIGW_V2, "GET", "/dump",
     "b3ea2f1a-9f2a-48a4-8791-0db24e5d40e5"},
    {"rust-example-apigw-sam-rest-request.json", APIGW_V1, "GET", "/test",
     "ea86b9eb-c688-4bbb-8309-a1671442bea9"},
    {"rust-example-apigw-v2-request-multi-value-parameters.json", APIGW_V2, "GET", "/my/path",
     "id"},
    {"rust-lambda_function_url_request.json", APIGW_V2, "GET", "/my/path", "MIZRNhJtIAMEMDw="},
    {"sam-AwsProxy-generated.json", APIGW_V1, "POST", "/path/to/resource",
     "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"},
    {"sam-DynamoDBUpdate-generated.json", 0, NULL, NULL, NULL},
};

#define N_FIXTURES (sizeof FIXTURES / sizeof FIXTURES[0])

static const fixture *find_fixture(const char *file) {
    for (size_t i = 0; i < N_FIXTURES; i++)
        if (strcmp(FIXTURES[i].file, file) == 0)
            return &FIXTURES[i];
    return NULL;
}

static bool has_suffix(const char *s, const char *suffix) {
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* What holds for every parsed event, checked against the file read independently: the maps
 * are name → non-empty array of strings, header names lower-case, every header the event
 * names can be found, and a body that is not base64 comes through byte for byte. */
static void check_invariants(const char *file, const apigw_event *ev) {
    const char *name;
    json_t *vals;
    json_object_foreach(ev->req.headers, name, vals) {
        for (const char *p = name; *p; p++)
            if (*p >= 'A' && *p <= 'Z')
                fail_msg("%s: header name %s not lower-case", file, name);
        assert_true(json_array_size(vals) > 0);
    }
    json_object_foreach(ev->req.query, name, vals) {
        assert_true(json_array_size(vals) > 0);
    }
    char *path = event_path("", file);
    json_t *doc = json_load_file(path, JSON_ALLOW_NUL, NULL);
    free(path);
    assert_non_null(doc);
    json_t *v;
    json_object_foreach(json_object_get(doc, "headers"), name, v) {
        char lower[256];
        size_t n = strlen(name);
        assert_true(n < sizeof lower);
        for (size_t i = 0; i <= n; i++)
            lower[i] = (name[i] >= 'A' && name[i] <= 'Z') ? (char)(name[i] - 'A' + 'a') : name[i];
        if (json_is_string(v) && api_header(&ev->req, lower, NULL) == 0)
            fail_msg("%s: header %s lost", file, name);
    }
    json_t *body = json_object_get(doc, "body");
    if (!json_is_string(body))
        assert_null(ev->req.body);
    else if (!json_is_true(json_object_get(doc, "isBase64Encoded")))
        assert_body(&ev->req, json_string_value(body), json_string_length(body));
    json_decref(doc);
}

static void check_fixture(const fixture *fx) {
    apigw_event ev;
    ua_status st = parse_file(fx->file, &ev);
    if (!fx->format) {
        if (st != UA_ERR_INVALID)
            fail_msg("%s: not a proxy event, yet apigw_parse returned %d", fx->file, st);
        apigw_event_free(&ev); /* harmless after a failure */
        return;
    }
    if (st != UA_OK)
        fail_msg("%s: apigw_parse returned %d", fx->file, st);
    if (ev.format != fx->format)
        fail_msg("%s: format %d, want %d", fx->file, ev.format, fx->format);
    if (strcmp(ev.req.method, fx->method) != 0 || strcmp(ev.req.path, fx->path) != 0 ||
        strcmp(ev.req.request_id, fx->request_id) != 0)
        fail_msg("%s: %s %s (%s), want %s %s (%s)", fx->file, ev.req.method, ev.req.path,
                 ev.req.request_id, fx->method, fx->path, fx->request_id);
    check_invariants(fx->file, &ev);
    apigw_event_free(&ev);
}

static void test_every_recorded_event(void **state) {
    (void)state;
    char *dir_path = event_path("", "");
    DIR *dir = opendir(dir_path);
    if (!dir)
        fail_msg("cannot open %s", dir_path);
    bool seen[N_FIXTURES] = {false};
    size_t files = 0;
    struct dirent *de;
    while ((de = readdir(dir)) != NULL) {
        if (!has_suffix(de->d_name, ".json"))
            continue;
        const fixture *fx = find_fixture(de->d_name);
        if (!fx)
            fail_msg("%s: no expectation in FIXTURES; add one from its README note", de->d_name);
        seen[fx - FIXTURES] = true;
        check_fixture(fx);
        files++;
    }
    closedir(dir);
    free(dir_path);
    for (size_t i = 0; i < N_FIXTURES; i++)
        if (!seen[i])
            fail_msg("%s: listed in FIXTURES but not in the folder", FIXTURES[i].file);
    assert_int_equal(files, N_FIXTURES);
}

/* ---- Headers, query parameters, bodies of particular recorded events ---- */

static void test_recorded_headers(void **state) {
    apigw_event ev;
    const char *v;
    (void)state;

    /* The repeated header: headers.headerName holds only the last value. */
    parse_ok("rust-example-apigw-request-multi-value-parameters.json", &ev);
    assert_values(ev.req.headers, "headername", 2, "headerValue", "headerValue2");
    assert_int_equal(api_header(&ev.req, "content-type", &v), 1);
    assert_string_equal(v, "application/json");
    assert_int_equal(api_header(&ev.req, "Content-Type", NULL), 0); /* stored lower-case */
    apigw_event_free(&ev);

    parse_ok("powertools-apiGatewayProxyEvent.json", &ev);
    assert_values(ev.req.headers, "header2", 2, "value1", "value2");
    assert_values(ev.req.headers, "origin", 1, "https://aws.amazon.com");
    apigw_event_free(&ev);

    parse_ok("powertools-apiGatewayProxyEventNoOrigin.json", &ev);
    assert_int_equal(api_header(&ev.req, "origin", NULL), 0);
    apigw_event_free(&ev);

    /* The two Host headers of the SAM template disagree: the multi-value map wins. */
    parse_ok("sam-AwsProxy-generated.json", &ev);
    assert_values(ev.req.headers, "host", 1, "0123456789.execute-api.us-east-1.amazonaws.com");
    apigw_event_free(&ev);

    parse_ok("rust-apigw_no_host.json", &ev);
    assert_int_equal(api_header(&ev.req, "host", NULL), 0);
    apigw_event_free(&ev);
    parse_ok("rust-apigw_proxy_request.json", &ev);
    assert_int_equal(api_header(&ev.req, "host", NULL), 1);
    apigw_event_free(&ev);

    /* v2 joins repeats with commas; the Cookie header stays when the event kept it. */
    parse_ok("go-lambdaurl-function-url-request-with-headers-and-cookies-and-text-body.json", &ev);
    assert_values(ev.req.headers, "header2", 1, "h1,h2");
    assert_values(ev.req.headers, "cookie", 1, "foo=bar; hello=hello");
    apigw_event_free(&ev);

    /* ... and is rebuilt from cookies[] when the event moved it there. */
    parse_ok("go-apigw-v2-request-iam.json", &ev);
    assert_values(ev.req.headers, "cookie", 1, "cookie1; cookie2");
    assert_values(ev.req.headers, "header1", 1, "value1");
    apigw_event_free(&ev);

    /* sam local's empty cookies array adds nothing. */
    parse_ok("rust-apigw_v2_sam_local.json", &ev);
    assert_int_equal(api_header(&ev.req, "cookie", NULL), 0);
    apigw_event_free(&ev);

    /* headers: null, no multi-value maps (console test-invoke). */
    parse_ok("dotnet-values-get-single-apigateway-request.json", &ev);
    assert_true(json_is_object(ev.req.headers));
    assert_int_equal(json_object_size(ev.req.headers), 0);
    apigw_event_free(&ev);
}

static void test_recorded_query(void **state) {
    apigw_event ev;
    const char *v;
    (void)state;

    parse_ok("rust-example-apigw-request-multi-value-parameters.json", &ev);
    assert_values(ev.req.query, "name", 2, "me", "me2");
    apigw_event_free(&ev);

    parse_ok("powertools-apiGatewayProxyEvent.json", &ev);
    assert_values(ev.req.query, "parameter1", 2, "value1", "value2");
    assert_values(ev.req.query, "parameter2", 1, "value");
    assert_int_equal(api_query(&ev.req, "parameter1", &v), 2);
    assert_string_equal(v, "value1");
    apigw_event_free(&ev);

    /* REST v1 hands query values over decoded. */
    parse_ok("dotnet-encode-space-in-resource-path-and-query.json", &ev);
    assert_values(ev.req.query, "greeting", 1, "hello world");
    apigw_event_free(&ev);
    parse_ok("dotnet-values-get-querystring-apigateway-encoding-request.json", &ev);
    assert_values(ev.req.query, "url", 1, "http://www.gooogle.com");
    assert_values(ev.req.query, "testDateTimeOffset", 1, "2019-03-12T16:06:06.549817+00:00");
    apigw_event_free(&ev);

    /* v2: from rawQueryString, so repeats stay apart; names keep their case. */
    parse_ok("dotnet-values-get-querystring-httpapi-v2-mv-request.json", &ev);
    assert_values(ev.req.query, "mv-test", 2, "value1", "value2");
    assert_values(ev.req.query, "firstName", 1, "Lewis");
    apigw_event_free(&ev);
    parse_ok("rust-example-apigw-v2-request-multi-value-parameters.json", &ev);
    assert_values(ev.req.query, "Parameter1", 2, "value1", "value2");
    assert_int_equal(api_query(&ev.req, "parameter1", NULL), 0);
    apigw_event_free(&ev);

    /* No queryStringParameters key at all: rawQueryString is the only source. */
    parse_ok("rust-lambda_function_url_request.json", &ev);
    assert_values(ev.req.query, "parameter1", 2, "value1", "value2");
    assert_values(ev.req.query, "parameter2", 1, "value");
    apigw_event_free(&ev);

    parse_ok("rust-apigw_v2_sam_local.json", &ev);
    assert_int_equal(json_object_size(ev.req.query), 0);
    apigw_event_free(&ev);
}

static void test_recorded_null_and_missing(void **state) {
    apigw_event ev;
    (void)state;

    /* Console Test button: every map null. */
    parse_ok("rust-example-apigw-console-test-request.json", &ev);
    assert_int_equal(json_object_size(ev.req.headers), 0);
    assert_int_equal(json_object_size(ev.req.query), 0);
    assert_body(&ev.req, "{\r\n\t\"a\": 1\r\n}", 13);
    apigw_event_free(&ev);

    parse_ok("rust-example-apigw-sam-rest-request.json", &ev);
    assert_int_equal(json_object_size(ev.req.query), 0);
    assert_null(ev.req.body);
    apigw_event_free(&ev);

    /* Only resource, path, httpMethod and requestContext. */
    parse_ok("powertools-apiGatewayProxyEventPrincipalId.json", &ev);
    assert_int_equal(json_object_size(ev.req.headers), 0);
    assert_int_equal(json_object_size(ev.req.query), 0);
    assert_null(ev.req.body);
    assert_false(ev.req.body_bad_base64);
    apigw_event_free(&ev);
}

static void test_recorded_bodies(void **state) {
    apigw_event ev;
    (void)state;

    parse_ok("sam-AwsProxy-generated.json", &ev);
    assert_body(&ev.req, "{\"test\":\"body\"}", 15);
    apigw_event_free(&ev);

    parse_ok("go-lambdaurl-function-url-domain-only-request-with-base64-encoded-body.json", &ev);
    assert_body(&ev.req, "<idk/>", 6);
    apigw_event_free(&ev);

    /* isBase64Encoded, but "Hello from Lambda!" is not base64. */
    parse_ok("powertools-apiGatewayProxyEventAnotherPath.json", &ev);
    assert_true(ev.req.body_bad_base64);
    assert_null(ev.req.body);
    assert_int_equal(ev.req.body_len, 0);
    apigw_event_free(&ev);

    parse_ok("dotnet-check-content-length-nocontent-apigateway.json", &ev);
    assert_null(ev.req.body);
    assert_false(ev.req.body_bad_base64);
    apigw_event_free(&ev);

    parse_ok("dotnet-check-content-length-withcontent-apigateway.json", &ev);
    assert_body(&ev.req, "{\"hello\":\"world\"}", 17);
    apigw_event_free(&ev);

    /* An empty body string is a body of zero bytes, not no body. */
    parse_ok("rust-apigw_v2_sam_local.json", &ev);
    assert_body(&ev.req, "", 0);
    apigw_event_free(&ev);

    parse_ok("go-apigw-request.json", &ev);
    assert_body(&ev.req, "{\r\n\t\"a\": 1\r\n}", 13);
    apigw_event_free(&ev);
}

/* ---- gateway-observed request snapshots ---- */

/* The snapshots were re-serialised with PascalCase keys; the README says to lower-case the
 * first letter of each key to get the event the function received. */
static json_t *camel_case(json_t *v) {
    if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v); i++)
            json_array_set_new(v, i, camel_case(json_incref(json_array_get(v, i))));
        return v;
    }
    if (!json_is_object(v))
        return v;
    json_t *out = json_object();
    const char *key;
    json_t *val;
    json_object_foreach(v, key, val) {
        char *k = strdup(key);
        assert_non_null(k);
        if (k[0] >= 'A' && k[0] <= 'Z')
            k[0] = (char)(k[0] - 'A' + 'a');
        json_object_set_new(out, k, camel_case(json_incref(val)));
        free(k);
    }
    json_decref(v);
    return out;
}

static json_t *load_snapshot(const char *name) {
    char *path = event_path("gateway-observed/", name);
    json_t *doc = json_load_file(path, 0, NULL);
    if (!doc)
        fail_msg("cannot load %s", path);
    free(path);
    return camel_case(doc);
}

static void parse_snapshot(const char *name, apigw_event *ev) {
    json_t *doc = load_snapshot(name);
    ua_status st = parse_doc(doc, LAMBDA_ID, ev);
    json_decref(doc);
    if (st != UA_OK)
        fail_msg("%s: apigw_parse returned %d", name, st);
}

static void test_gateway_observed_requests(void **state) {
    apigw_event ev;
    (void)state;

    parse_snapshot("dotnet-V1_SimpleGetRequestRest.json", &ev);
    assert_int_equal(ev.format, APIGW_V1);
    assert_string_equal(ev.req.method, "POST");
    assert_string_equal(ev.req.path, "/test1/api/users/123/orders");
    assert_string_equal(ev.req.request_id, "4acd49e9-9210-4d04-8e04-0f26a4e92537");
    assert_values(ev.req.query, "tag", 2, "important", "urgent");
    assert_values(ev.req.headers, "cookie", 1, "session=abc123; theme=dark");
    apigw_event_free(&ev);

    /* REST v1 leaves the path percent-encoded, and so does the parser. */
    parse_snapshot("dotnet-V1_SpecialCharactersInPathRest.json", &ev);
    assert_string_equal(ev.req.path, "/test5/api/users/****%20Doe/orders/Summer%20Sale%202023");
    apigw_event_free(&ev);

    parse_snapshot("dotnet-V1_UrlEncodedQueryStringRest.json", &ev);
    assert_values(ev.req.query, "tag", 2, "C# Programming", ".NET Core");
    assert_values(ev.req.query, "q", 1, "Hello World");
    apigw_event_free(&ev);

    /* HTTP API decodes rawPath itself. */
    parse_snapshot("dotnet-V2_SpecialCharactersInPath.json", &ev);
    assert_int_equal(ev.format, APIGW_V2);
    assert_string_equal(ev.req.path, "/test13/api/users/**** Doe/orders/Summer Sale 2023");
    apigw_event_free(&ev);

    parse_snapshot("dotnet-V2_SimpleGetRequest.json", &ev);
    assert_values(ev.req.query, "tag", 2, "important", "urgent");
    assert_values(ev.req.headers, "cookie", 1, "session=abc123; theme=dark");
    apigw_event_free(&ev);
}

/* Our decoding of rawQueryString agrees with the one API Gateway did for the same request in
 * queryStringParameters (which joins repeats with ','). */
static void test_raw_query_decoding_matches_gateway(void **state) {
    (void)state;
    json_t *doc = load_snapshot("dotnet-V2_UrlEncodedQueryString.json");
    apigw_event ev;
    assert_int_equal(parse_doc(doc, LAMBDA_ID, &ev), UA_OK);
    json_t *gw = json_object_get(doc, "queryStringParameters");
    assert_int_equal(json_object_size(ev.req.query), json_object_size(gw));
    const char *name;
    json_t *joined;
    json_object_foreach(gw, name, joined) {
        json_t *ours = json_object_get(ev.req.query, name);
        assert_non_null(ours);
        buf b;
        buf_init(&b, 4096);
        for (size_t i = 0; i < json_array_size(ours); i++)
            assert_int_equal(
                buf_appendf(&b, "%s%s", i ? "," : "", json_string_value(json_array_get(ours, i))),
                UA_OK);
        assert_string_equal(buf_str(&b), json_string_value(joined));
        buf_free(&b);
    }
    assert_values(ev.req.query, "tag", 2, "C# Programming", ".NET Core");
    apigw_event_free(&ev);
    json_decref(doc);
}

/* ---- Synthetic events ---- */

static void test_not_proxy_events(void **state) {
    static const char *const texts[] = {
        "",
        "{",
        "[]",
        "3",
        "'GET'",
        "null",
        "{}",
        "{'version':'1.0'}",
        "{'version':'2.0x','rawPath':'/users'}",
        "{'version':2.0,'rawPath':'/users'}",
        "{'Records':[{'eventName':'INSERT'}]}",
        "{'statusCode':200,'body':''}",
        "{'key1':'value1','key2':'value2','key3':'value3'}",
        "{'HttpMethod':'GET','Path':'/users'}",
        "{'httpMethod':'GET'} trailing",
        /* Shaped like events, with members of types API Gateway never sends. */
        "{'httpMethod':5,'path':[],'headers':'x'}",
        "{'version':'2.0','rawPath':7,'requestContext':{'http':{'method':null}}}",
    };
    (void)state;
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        apigw_event ev;
        ua_status st = parse_text(texts[i], &ev);
        if (st != UA_ERR_INVALID)
            fail_msg("%s: returned %d, want UA_ERR_INVALID", texts[i], st);
        apigw_event_free(&ev);
    }
    apigw_event ev;
    assert_int_equal(apigw_parse(NULL, 0, LAMBDA_ID, &ev), UA_ERR_INVALID);
    const char bad_utf8[] = "{\"httpMethod\":\"GET\",\"path\":\"/\xff\"}";
    assert_int_equal(apigw_parse(bad_utf8, sizeof bad_utf8 - 1, LAMBDA_ID, &ev), UA_ERR_INVALID);
    /* The length is honoured: a valid event cut short is not one. */
    const char *whole = "{\"httpMethod\":\"GET\"}";
    assert_int_equal(apigw_parse(whole, strlen(whole) - 1, LAMBDA_ID, &ev), UA_ERR_INVALID);
    assert_int_equal(apigw_parse(whole, strlen(whole), LAMBDA_ID, &ev), UA_OK);
    apigw_event_free(&ev);
}

/* Only the format marker is essential: what the router needs may be missing, and then it
 * answers 404 or 405 rather than the runtime failing the invocation. */
static void test_missing_method_and_path(void **state) {
    static const struct {
        const char *text;
        apigw_format format;
        const char *method;
        const char *path;
    } cases[] = {
        {"{'httpMethod':'GET'}", APIGW_V1, "GET", ""},
        {"{'httpMethod':'GET','requestContext':{}}", APIGW_V1, "GET", ""},
        {"{'version':'2.0'}", APIGW_V2, "", ""},
        {"{'version':'2.0','requestContext':{}}", APIGW_V2, "", ""},
        {"{'version':'2.0','requestContext':{'http':{}}}", APIGW_V2, "", ""},
        {"{'version':'2.0','rawPath':'/users','requestContext':{'http':{}}}", APIGW_V2, "",
         "/users"},
        {"{'version':'2.0','requestContext':{'http':{'method':'GET'}}}", APIGW_V2, "GET", ""},
        /* Without rawPath, requestContext.http.path. */
        {"{'version':'2.0','requestContext':{'http':{'path':'/users'}}}", APIGW_V2, "", "/users"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        apigw_event ev;
        parse_text_ok(cases[i].text, &ev);
        assert_int_equal(ev.format, cases[i].format);
        assert_string_equal(ev.req.method, cases[i].method);
        assert_string_equal(ev.req.path, cases[i].path);
        assert_string_equal(ev.req.request_id, LAMBDA_ID);
        assert_int_equal(json_object_size(ev.req.headers), 0);
        assert_int_equal(json_object_size(ev.req.query), 0);
        assert_null(ev.req.body);
        apigw_event_free(&ev);
    }
}

/* ---- Members of the wrong type ---- */

/* An event of format with every member that has a fixed type, each of the type API Gateway
 * sends it as (JSON written with ' for "). */
static json_t *full_event(apigw_format format) {
    static const char v1[] =
        "{'version':'1.0','resource':'/users/{userId}','path':'/users/abc','httpMethod':'GET',"
        "'headers':{'Accept':'application/json'},'multiValueHeaders':{'Accept':['*/*']},"
        "'queryStringParameters':{'limit':'5'},'multiValueQueryStringParameters':{'limit':['5']},"
        "'pathParameters':{'userId':'abc'},'stageVariables':{'v':'1'},'body':'',"
        "'isBase64Encoded':false,'requestContext':{'requestId':'rid','stage':'prod'}}";
    static const char v2[] =
        "{'version':'2.0','routeKey':'GET /users/{userId}','rawPath':'/users/abc',"
        "'rawQueryString':'limit=5','cookies':['a=b'],'headers':{'accept':'application/json'},"
        "'queryStringParameters':{'limit':'5'},'pathParameters':{'userId':'abc'},"
        "'stageVariables':{'v':'1'},'body':'','isBase64Encoded':false,'requestContext':"
        "{'requestId':'rid','stage':'$default','http':{'method':'GET','path':'/users/abc'}}}";
    char *text = strdup(format == APIGW_V1 ? v1 : v2);
    assert_non_null(text);
    for (char *p = text; *p; p++)
        if (*p == '\'')
            *p = '"';
    json_t *doc = json_loads(text, 0, NULL);
    free(text);
    assert_non_null(doc);
    return doc;
}

/* Sets the member at keys (up to three, from the root) to value (stolen), making the objects
 * on the way when they are missing. */
static void set_member(json_t *doc, const char *const keys[3], json_t *value) {
    json_t *parent = doc;
    size_t k = 0;
    for (; k < 2 && keys[k + 1]; k++) {
        json_t *child = json_object_get(parent, keys[k]);
        if (!json_is_object(child)) {
            child = json_object();
            assert_int_equal(json_object_set_new(parent, keys[k], child), 0);
        }
        parent = child;
    }
    assert_int_equal(json_object_set_new(parent, keys[k], value), 0);
}

/* A member's types as API Gateway sends them, restated here from its documentation and the
 * recorded events rather than taken from apigw.c. */
typedef enum member_kind {
    STRING,
    STRING_OR_NULL,
    OBJECT,
    OBJECT_OR_NULL,
    ARRAY_OR_NULL,
    BOOLEAN
} member_kind;

static const struct {
    const char *keys[3];
    member_kind kind;
} TYPED_MEMBERS[] = {
    {{"version"}, STRING},
    {{"resource"}, STRING},
    {{"routeKey"}, STRING},
    {{"httpMethod"}, STRING},
    {{"path"}, STRING},
    {{"rawPath"}, STRING},
    {{"rawQueryString"}, STRING},
    {{"cookies"}, ARRAY_OR_NULL},
    {{"headers"}, OBJECT_OR_NULL},
    {{"multiValueHeaders"}, OBJECT_OR_NULL},
    {{"queryStringParameters"}, OBJECT_OR_NULL},
    {{"multiValueQueryStringParameters"}, OBJECT_OR_NULL},
    {{"pathParameters"}, OBJECT_OR_NULL},
    {{"stageVariables"}, OBJECT_OR_NULL},
    {{"body"}, STRING_OR_NULL},
    {{"isBase64Encoded"}, BOOLEAN},
    {{"requestContext"}, OBJECT},
    {{"requestContext", "requestId"}, STRING},
    {{"requestContext", "stage"}, STRING},
    {{"requestContext", "http"}, OBJECT},
    {{"requestContext", "http", "method"}, STRING},
    {{"requestContext", "http", "path"}, STRING},
};

/* Whether API Gateway sends a member of kind as the JSON value v. */
static bool sent_as(member_kind kind, const json_t *v) {
    switch (kind) {
        case STRING:
            return json_is_string(v);
        case STRING_OR_NULL:
            return json_is_string(v) || json_is_null(v);
        case OBJECT:
            return json_is_object(v);
        case OBJECT_OR_NULL:
            return json_is_object(v) || json_is_null(v);
        case ARRAY_OR_NULL:
            return json_is_array(v) || json_is_null(v);
        case BOOLEAN:
            return json_is_boolean(v);
    }
    return false;
}

/* "requestContext.http.method" for a member's keys. */
static const char *member_name(const char *const keys[3], char *out, size_t size) {
    snprintf(out, size, "%s%s%s%s%s", keys[0], keys[1] ? "." : "", keys[1] ? keys[1] : "",
             keys[2] ? "." : "", keys[2] ? keys[2] : "");
    return out;
}

/* Every member of the wrong type, in either format, makes the document not an event; null
 * where API Gateway sends null leaves it one. */
static void test_ill_typed_members_are_not_events(void **state) {
    static const apigw_format formats[] = {APIGW_V1, APIGW_V2};
    static const char *const values[] = {"5",    "-1.5",          "\"x\"", "\"\"",
                                         "true", "false",         "[]",    "[\"GET\"]",
                                         "{}",   "{\"a\":\"b\"}", "null"};
    size_t checked = 0;
    (void)state;
    for (size_t f = 0; f < sizeof formats / sizeof formats[0]; f++) {
        json_t *base = full_event(formats[f]);
        apigw_event ev;
        assert_int_equal(parse_doc(base, LAMBDA_ID, &ev), UA_OK);
        assert_int_equal(ev.format, formats[f]);
        apigw_event_free(&ev);
        for (size_t m = 0; m < sizeof TYPED_MEMBERS / sizeof TYPED_MEMBERS[0]; m++) {
            for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
                json_t *value = json_loads(values[i], JSON_DECODE_ANY, NULL);
                assert_non_null(value);
                /* Of the right types only null is tried here: another string may change what
                 * the event is (a version other than "2.0"), and the bases and the recorded
                 * events hold every right type. */
                bool right = sent_as(TYPED_MEMBERS[m].kind, value);
                if (right && !json_is_null(value)) {
                    json_decref(value);
                    continue;
                }
                json_t *doc = json_deep_copy(base);
                set_member(doc, TYPED_MEMBERS[m].keys, value);
                ua_status st = parse_doc(doc, LAMBDA_ID, &ev);
                ua_status want = right ? UA_OK : UA_ERR_INVALID;
                char name[64];
                if (st != want)
                    fail_msg("payload %d, %s = %s: returned %d, want %d", (int)formats[f],
                             member_name(TYPED_MEMBERS[m].keys, name, sizeof name), values[i], st,
                             want);
                if (st == UA_ERR_INVALID)
                    assert_null(ev.root);
                apigw_event_free(&ev);
                json_decref(doc);
                checked++;
            }
        }
        json_decref(base);
    }
    assert_true(checked > 300);
}

/* null is what API Gateway sends for a map, cookies or a body it has none of: read as none. */
static void test_null_where_api_gateway_sends_null(void **state) {
    apigw_event ev;
    (void)state;
    parse_text_ok("{'httpMethod':'POST','path':'/users','headers':null,'multiValueHeaders':null,"
                  "'queryStringParameters':null,'multiValueQueryStringParameters':null,"
                  "'pathParameters':null,'stageVariables':null,'body':null,"
                  "'isBase64Encoded':false,'requestContext':{'requestId':'r1'}}",
                  &ev);
    assert_int_equal(ev.format, APIGW_V1);
    assert_string_equal(ev.req.method, "POST");
    assert_string_equal(ev.req.path, "/users");
    assert_string_equal(ev.req.request_id, "r1");
    assert_int_equal(json_object_size(ev.req.headers), 0);
    assert_int_equal(json_object_size(ev.req.query), 0);
    assert_null(ev.req.body);
    assert_false(ev.req.body_bad_base64);
    apigw_event_free(&ev);

    parse_text_ok("{'version':'2.0','rawPath':'/users','rawQueryString':'','cookies':null,"
                  "'headers':null,'queryStringParameters':null,'pathParameters':null,"
                  "'stageVariables':null,'body':null,'isBase64Encoded':true,"
                  "'requestContext':{'http':{'method':'GET'}}}",
                  &ev);
    assert_int_equal(ev.format, APIGW_V2);
    assert_string_equal(ev.req.method, "GET");
    assert_string_equal(ev.req.path, "/users");
    assert_int_equal(json_object_size(ev.req.headers), 0);
    assert_int_equal(json_object_size(ev.req.query), 0);
    assert_null(ev.req.body);
    assert_false(ev.req.body_bad_base64);
    apigw_event_free(&ev);
}

/* The members the method and path come from, and requestContext, may not be null: API
 * Gateway always sends them filled in, and "missing" is the key left out. */
static void test_null_where_api_gateway_never_sends_it(void **state) {
    static const char *const texts[] = {
        "{'httpMethod':null}",
        "{'httpMethod':null,'path':'/users'}",
        "{'httpMethod':'GET','path':null}",
        "{'httpMethod':'GET','path':'/users','resource':null}",
        "{'httpMethod':'GET','path':'/users','requestContext':null}",
        "{'httpMethod':'GET','path':'/users','requestContext':{'requestId':null}}",
        "{'httpMethod':'GET','path':'/users','isBase64Encoded':null}",
        "{'version':'2.0','rawPath':null}",
        "{'version':'2.0','rawPath':'/users','rawQueryString':null}",
        "{'version':'2.0','rawPath':'/users','routeKey':null}",
        "{'version':'2.0','rawPath':'/users','requestContext':{'http':null}}",
        "{'version':'2.0','rawPath':'/users','requestContext':{'http':{'method':null}}}",
        "{'version':'2.0','rawPath':'/users','requestContext':{'stage':null}}",
        "{'version':null,'httpMethod':'GET'}",
    };
    (void)state;
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        apigw_event ev;
        ua_status st = parse_text(texts[i], &ev);
        if (st != UA_ERR_INVALID)
            fail_msg("%s: returned %d, want UA_ERR_INVALID", texts[i], st);
        apigw_event_free(&ev);
    }
}

static void test_v1_path(void **state) {
    apigw_event ev;
    (void)state;
    parse_text_ok("{'httpMethod':'GET','path':'users/x'}", &ev);
    assert_string_equal(ev.req.path, "/users/x");
    apigw_event_free(&ev);
    /* A REST event's path never holds the stage, so a path that starts like it stays. */
    parse_text_ok("{'httpMethod':'GET','path':'/Prod/users','requestContext':{'stage':'Prod'}}",
                  &ev);
    assert_string_equal(ev.req.path, "/Prod/users");
    apigw_event_free(&ev);
    /* path wins over what resource and pathParameters say. */
    parse_text_ok("{'httpMethod':'GET','resource':'/users/{userId}','path':'/users/a%2Fb',"
                  "'pathParameters':{'userId':'a/b'}}",
                  &ev);
    assert_string_equal(ev.req.path, "/users/a%2Fb");
    apigw_event_free(&ev);
}

static void test_v2_stage_stripping(void **state) {
    static const struct {
        const char *stage; /* NULL: no stage key */
        const char *raw_path;
        const char *want;
    } cases[] = {
        {"Prod", "/Prod/users", "/users"},
        {"Prod", "/Prod/users/abc", "/users/abc"},
        {"Prod", "/Prod", "/"},
        {"Prod", "/Prod/", "/"},
        {"Prod", "/Production/users", "/Production/users"},
        {"Prod", "/prod/users", "/prod/users"},
        {"Prod", "/users", "/users"},
        {"Prod", "/users/Prod", "/users/Prod"},
        {"Prod", "Prod/users", "/users"},
        {"users", "/users/users", "/users"},
        {"$default", "/$default/users", "/$default/users"},
        {"", "/users", "/users"},
        {NULL, "/users", "/users"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *ctx = json_pack("{s:{s:s}}", "http", "method", "GET");
        if (cases[i].stage)
            json_object_set_new(ctx, "stage", json_string(cases[i].stage));
        json_t *doc = json_pack("{s:s, s:s, s:o}", "version", "2.0", "rawPath", cases[i].raw_path,
                                "requestContext", ctx);
        apigw_event ev;
        assert_int_equal(parse_doc(doc, LAMBDA_ID, &ev), UA_OK);
        if (strcmp(ev.req.path, cases[i].want) != 0)
            fail_msg("stage %s, rawPath %s: path %s, want %s", cases[i].stage, cases[i].raw_path,
                     ev.req.path, cases[i].want);
        apigw_event_free(&ev);
        json_decref(doc);
    }
}

static void test_v2_raw_query(void **state) {
    apigw_event ev;
    (void)state;
    parse_text_ok("{'version':'2.0','rawQueryString':"
                  "'a=1%202&b=x+y&c&=z&&d=%zz&e=%00&f=%C3&g=%e2%82%AC&h=%4&a=3&k%2Bq=v=w'}",
                  &ev);
    assert_values(ev.req.query, "a", 2, "1 2", "3");
    assert_values(ev.req.query, "b", 1, "x y");
    assert_values(ev.req.query, "c", 1, "");
    assert_values(ev.req.query, "d", 1, "%zz");
    assert_values(ev.req.query, "e", 1, "%00"); /* a NUL would cut the value short */
    assert_values(ev.req.query, "f", 1, "%C3"); /* not UTF-8 */
    assert_values(ev.req.query, "g", 1, "\xe2\x82\xac");
    assert_values(ev.req.query, "h", 1, "%4");
    assert_values(ev.req.query, "k+q", 1, "v=w");
    assert_int_equal(api_query(&ev.req, "", NULL), 0);
    assert_int_equal(json_object_size(ev.req.query), 9);
    apigw_event_free(&ev);

    /* Without rawQueryString the map is all there is; its joined repeats stay joined. */
    parse_text_ok("{'version':'2.0','rawQueryString':'','queryStringParameters':"
                  "{'limit':'1,2','n':null,'x':'y'}}",
                  &ev);
    assert_values(ev.req.query, "limit", 1, "1,2");
    assert_values(ev.req.query, "x", 1, "y");
    assert_int_equal(api_query(&ev.req, "n", NULL), 0);
    apigw_event_free(&ev);
}

static void test_non_string_values_ignored(void **state) {
    apigw_event ev;
    (void)state;
    parse_text_ok("{'httpMethod':'GET','path':'/users',"
                  "'headers':{'X-Num':5,'X-Null':null,'X-Obj':{},'X-Arr':['a'],'X-Ok':'v',"
                  "'X-Bool':true,'':'empty-name'},"
                  "'multiValueHeaders':{'X-M':[1,'two',null,{'a':1},'three'],'X-S':'lone',"
                  "'X-N':5,'X-E':[]},"
                  "'queryStringParameters':{'q':1,'r':'s'},"
                  "'multiValueQueryStringParameters':{'m':[true,'1'],'z':null}}",
                  &ev);
    assert_int_equal(api_header(&ev.req, "x-num", NULL), 0);
    assert_int_equal(api_header(&ev.req, "x-null", NULL), 0);
    assert_int_equal(api_header(&ev.req, "x-obj", NULL), 0);
    assert_int_equal(api_header(&ev.req, "x-arr", NULL), 0);
    assert_int_equal(api_header(&ev.req, "x-bool", NULL), 0);
    assert_int_equal(api_header(&ev.req, "x-n", NULL), 0);
    assert_int_equal(api_header(&ev.req, "x-e", NULL), 0);
    assert_int_equal(api_header(&ev.req, "", NULL), 0);
    assert_values(ev.req.headers, "x-ok", 1, "v");
    assert_values(ev.req.headers, "x-m", 2, "two", "three");
    assert_values(ev.req.headers, "x-s", 1, "lone");
    assert_int_equal(json_object_size(ev.req.headers), 3);
    assert_values(ev.req.query, "r", 1, "s");
    assert_values(ev.req.query, "m", 1, "1");
    assert_int_equal(json_object_size(ev.req.query), 2);
    apigw_event_free(&ev);
}

static void test_multi_value_merging(void **state) {
    apigw_event ev;
    (void)state;
    /* Names differing in case are one header; the multi map holds every value; the single
     * map only fills names it lacks. Query names keep their case. */
    parse_text_ok("{'httpMethod':'GET','path':'/users',"
                  "'multiValueHeaders':{'If-Match':['1'],'if-match':['2'],'X-Only-Multi':['m']},"
                  "'headers':{'If-Match':'2','X-Only-Single':'s','X-Only-Multi':'other'},"
                  "'multiValueQueryStringParameters':{'limit':['5','6']},"
                  "'queryStringParameters':{'limit':'6','Limit':'7'}}",
                  &ev);
    assert_values(ev.req.headers, "if-match", 2, "1", "2");
    assert_values(ev.req.headers, "x-only-multi", 1, "m");
    assert_values(ev.req.headers, "x-only-single", 1, "s");
    assert_values(ev.req.query, "limit", 2, "5", "6");
    assert_values(ev.req.query, "Limit", 1, "7");
    apigw_event_free(&ev);
}

static void test_nul_bytes(void **state) {
    apigw_event ev;
    (void)state;
    /* A NUL in the body is kept (the body parser rejects it); body_len counts past it. */
    static const char body_nul[] =
        "{\"httpMethod\":\"POST\",\"path\":\"/users\",\"body\":\"{\\\"a\\\":\\u0000}\"}";
    assert_int_equal(apigw_parse(body_nul, sizeof body_nul - 1, LAMBDA_ID, &ev), UA_OK);
    assert_body(&ev.req, "{\"a\":\0}", 7);
    apigw_event_free(&ev);

    /* Base64 of "a\0b". */
    parse_text_ok("{'httpMethod':'POST','isBase64Encoded':true,'body':'YQBi'}", &ev);
    assert_body(&ev.req, "a\0b", 3);
    apigw_event_free(&ev);

    /* Strings a C reader would cut short count as absent. */
    static const char cut[] = "{\"httpMethod\":\"GET\\u0000X\",\"path\":\"/users\\u0000/x\","
                              "\"headers\":{\"a\":\"1\\u00002\",\"b\":\"ok\"},"
                              "\"requestContext\":{\"requestId\":\"r\\u0000\"}}";
    assert_int_equal(apigw_parse(cut, sizeof cut - 1, LAMBDA_ID, &ev), UA_OK);
    assert_string_equal(ev.req.method, "");
    assert_string_equal(ev.req.path, "");
    assert_int_equal(api_header(&ev.req, "a", NULL), 0);
    assert_values(ev.req.headers, "b", 1, "ok");
    assert_string_equal(ev.req.request_id, LAMBDA_ID);
    apigw_event_free(&ev);

    /* A NUL in a key (a query name decoded from %00) still yields a request, not an
     * invocation error; the name cannot match anything and the NUL in the body stays a
     * control character. */
    static const char key_nul[] =
        "{\"httpMethod\":\"GET\",\"path\":\"/users\",\"queryStringParameters\":"
        "{\"limit\\u0000\":\"5\",\"ok\":\"1\"},\"body\":\"x\\u0000y\\\\u0000\"}";
    assert_int_equal(apigw_parse(key_nul, sizeof key_nul - 1, LAMBDA_ID, &ev), UA_OK);
    assert_string_equal(ev.req.path, "/users");
    assert_int_equal(api_query(&ev.req, "limit", NULL), 0);
    assert_values(ev.req.query, "ok", 1, "1");
    assert_int_equal(ev.req.body_len, 9);
    assert_true((unsigned char)ev.req.body[1] < 0x20);
    assert_memory_equal(ev.req.body + 3, "\\u0000", 6); /* an escaped backslash is not an escape */
    apigw_event_free(&ev);
}

static void test_request_id(void **state) {
    static const struct {
        const char *ctx; /* requestContext as JSON (with '), NULL for none */
        const char *want;
    } cases[] = {
        {"{'requestId':'abc-123'}", "abc-123"},
        {"{'requestId':''}", LAMBDA_ID},
        {"{}", LAMBDA_ID},
        {NULL, LAMBDA_ID},
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[256];
        snprintf(text, sizeof text, "{'httpMethod':'GET'%s%s}",
                 cases[i].ctx ? ",'requestContext':" : "", cases[i].ctx ? cases[i].ctx : "");
        apigw_event ev;
        parse_text_ok(text, &ev);
        assert_string_equal(ev.req.request_id, cases[i].want);
        apigw_event_free(&ev);
    }

    /* Too long for a log line or a problem document: the Lambda id instead. */
    char long_id[UA_MAX_REQUEST_ID + 1];
    memset(long_id, 'r', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = '\0';
    json_t *doc =
        json_pack("{s:s, s:{s:s}}", "httpMethod", "GET", "requestContext", "requestId", long_id);
    apigw_event ev;
    assert_int_equal(parse_doc(doc, LAMBDA_ID, &ev), UA_OK);
    assert_string_equal(ev.req.request_id, LAMBDA_ID);
    apigw_event_free(&ev);
    long_id[UA_MAX_REQUEST_ID - 1] = '\0'; /* the longest that fits */
    json_object_set_new(json_object_get(doc, "requestContext"), "requestId", json_string(long_id));
    assert_int_equal(parse_doc(doc, LAMBDA_ID, &ev), UA_OK);
    assert_string_equal(ev.req.request_id, long_id);
    apigw_event_free(&ev);
    json_object_del(doc, "requestContext");

    /* No Lambda id either: "", never NULL; an over-long one is cut to fit. */
    assert_int_equal(parse_doc(doc, NULL, &ev), UA_OK);
    assert_non_null(ev.req.request_id);
    assert_string_equal(ev.req.request_id, "");
    apigw_event_free(&ev);
    memset(long_id, 'L', UA_MAX_REQUEST_ID);
    long_id[UA_MAX_REQUEST_ID] = '\0';
    assert_int_equal(parse_doc(doc, long_id, &ev), UA_OK);
    assert_int_equal(strlen(ev.req.request_id), UA_MAX_REQUEST_ID - 1);
    assert_memory_equal(ev.req.request_id, long_id, UA_MAX_REQUEST_ID - 1);
    apigw_event_free(&ev);
    json_decref(doc);
}

/* A test-side encoder, to check the decoder on every byte value. */
static char *b64_encode(const unsigned char *p, size_t n) {
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *out = malloc((n + 2) / 3 * 4 + 1);
    assert_non_null(out);
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < n)
            v |= p[i + 2];
        out[o++] = alphabet[v >> 18 & 63];
        out[o++] = alphabet[v >> 12 & 63];
        out[o++] = i + 1 < n ? alphabet[v >> 6 & 63] : '=';
        out[o++] = i + 2 < n ? alphabet[v & 63] : '=';
    }
    out[o] = '\0';
    return out;
}

/* Parses a v1 event with isBase64Encoded and body b64. */
static void parse_b64(const char *b64, apigw_event *ev) {
    json_t *doc = json_pack("{s:s, s:s, s:b, s:s}", "httpMethod", "POST", "path", "/users",
                            "isBase64Encoded", 1, "body", b64);
    assert_int_equal(parse_doc(doc, LAMBDA_ID, ev), UA_OK);
    json_decref(doc);
}

static void test_base64_strict(void **state) {
    static const struct {
        const char *in;
        const char *out; /* NULL: must be rejected */
    } cases[] = {
        {"", ""},
        {"Zg==", "f"},
        {"Zm8=", "fo"},
        {"Zm9v", "foo"},
        {"Zm9vYmFy", "foobar"},
        {"+/+/", "\xfb\xff\xbf"},
        {"Zg", NULL}, /* padding is required */
        {"Zg=", NULL},
        {"Zm9", NULL},
        {"Zh==", NULL}, /* unused bits set */
        {"Zm9=", NULL},
        {"Z===", NULL},
        {"====", NULL},
        {"=Zg=", NULL},
        {"Zg==Zg==", NULL}, /* padding only at the end */
        {"Zm9v\n", NULL},   /* no whitespace */
        {"Zm9v\r\nYmFy", NULL},
        {" Zm9v", NULL},
        {"Zm 9v", NULL},
        {"-_-_", NULL}, /* base64url is another alphabet */
        {"Zm9v!", NULL},
        {"Hello from Lambda!", NULL},
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        apigw_event ev;
        parse_b64(cases[i].in, &ev);
        if (cases[i].out) {
            if (ev.req.body_bad_base64 || !ev.req.body)
                fail_msg("\"%s\" rejected", cases[i].in);
            assert_body(&ev.req, cases[i].out, strlen(cases[i].out));
        } else if (!ev.req.body_bad_base64 || ev.req.body) {
            fail_msg("\"%s\" accepted", cases[i].in);
        }
        apigw_event_free(&ev);
    }
}

static void test_base64_every_byte(void **state) {
    unsigned char bytes[256 + 2];
    (void)state;
    for (size_t i = 0; i < sizeof bytes; i++)
        bytes[i] = (unsigned char)(i * 7 + 3);
    /* Three lengths, for each amount of padding. */
    for (size_t n = sizeof bytes - 2; n <= sizeof bytes; n++) {
        char *b64 = b64_encode(bytes, n);
        apigw_event ev;
        parse_b64(b64, &ev);
        assert_body(&ev.req, (const char *)bytes, n);
        apigw_event_free(&ev);
        free(b64);
    }
}

static void test_base64_flag_and_null_body(void **state) {
    apigw_event ev;
    (void)state;
    parse_text_ok("{'httpMethod':'POST','isBase64Encoded':true,'body':null}", &ev);
    assert_null(ev.req.body);
    assert_false(ev.req.body_bad_base64);
    apigw_event_free(&ev);
    parse_text_ok("{'httpMethod':'POST','isBase64Encoded':false,'body':'Zm9v'}", &ev);
    assert_body(&ev.req, "Zm9v", 4);
    apigw_event_free(&ev);
    /* Only a JSON boolean is a flag: a string is no event at all. */
    assert_int_equal(
        parse_text("{'httpMethod':'POST','isBase64Encoded':'true','body':'Zm9v'}", &ev),
        UA_ERR_INVALID);
    apigw_event_free(&ev);
    parse_text_ok("{'version':'2.0','isBase64Encoded':true,'body':'Zm9v'}", &ev);
    assert_body(&ev.req, "foo", 3);
    apigw_event_free(&ev);
}

static char *big_event(size_t body_len, char fill, bool b64, size_t *len) {
    buf b;
    buf_init(&b, body_len + 256);
    assert_int_equal(buf_appendf(&b,
                                 "{\"httpMethod\":\"POST\",\"path\":\"/users\","
                                 "\"isBase64Encoded\":%s,\"body\":\"",
                                 b64 ? "true" : "false"),
                     UA_OK);
    for (size_t i = 0; i < body_len; i++)
        assert_int_equal(buf_append_char(&b, fill), UA_OK);
    assert_int_equal(buf_append_str(&b, "\"}"), UA_OK);
    *len = b.len;
    return buf_steal(&b);
}

static void test_huge_events(void **state) {
    apigw_event ev;
    size_t len;
    (void)state;
    /* A 5 MB body is the handler's to refuse (413), not the parser's. */
    char *text = big_event(5u * 1024 * 1024, 'a', false, &len);
    assert_int_equal(apigw_parse(text, len, LAMBDA_ID, &ev), UA_OK);
    assert_int_equal(ev.req.body_len, 5u * 1024 * 1024);
    assert_int_equal(ev.req.body[ev.req.body_len - 1], 'a');
    apigw_event_free(&ev);
    free(text);

    /* 4 MB of "////" is 3 MB of 0xff. */
    text = big_event(4u * 1024 * 1024, '/', true, &len);
    assert_int_equal(apigw_parse(text, len, LAMBDA_ID, &ev), UA_OK);
    assert_int_equal(ev.req.body_len, 3u * 1024 * 1024);
    assert_int_equal((unsigned char)ev.req.body[0], 0xff);
    assert_int_equal((unsigned char)ev.req.body[ev.req.body_len - 1], 0xff);
    apigw_event_free(&ev);
    free(text);

    /* Past the event limit: refused before parsing. */
    text = big_event(UA_MAX_EVENT_BYTES, 'a', false, &len);
    assert_true(len > UA_MAX_EVENT_BYTES);
    assert_int_equal(apigw_parse(text, len, LAMBDA_ID, &ev), UA_ERR_TOO_BIG);
    apigw_event_free(&ev);
    free(text);
}

/* ---- Responses ---- */

/* Formats resp and parses the answer back. */
static json_t *format_and_load(apigw_format format, const api_response *resp) {
    buf out;
    buf_init(&out, UA_MAX_RESPONSE_BYTES);
    assert_int_equal(apigw_format_response(format, resp, &out), UA_OK);
    assert_null(memchr(out.data, '\n', out.len)); /* compact, body newlines escaped */
    json_error_t err;
    json_t *doc = json_loadb(out.data, out.len, JSON_ALLOW_NUL | JSON_REJECT_DUPLICATES, &err);
    if (!doc)
        fail_msg("answer is not JSON: %s: %s", err.text, buf_str(&out));
    buf_free(&out);
    return doc;
}

static void make_response(api_response *r, int status, const char *body, size_t len) {
    assert_int_equal(api_response_init(r), UA_OK);
    r->status = status;
    assert_int_equal(buf_append(&r->body, body, len), UA_OK);
}

static void test_response_round_trip(void **state) {
    static const char body[] = "{\"name\":\"Ada \\\"Q\\\" L\\u00e9\",\"note\":\"line1\nline2\","
                               "\"x\":\"\xc3\xa7\xc3\xa9 \xf0\x9f\x98\x80 \\\\ / \t\"}";
    static const apigw_format formats[] = {APIGW_V1, APIGW_V2};
    (void)state;
    for (size_t f = 0; f < 2; f++) {
        api_response r;
        make_response(&r, 201, body, sizeof body - 1);
        assert_int_equal(api_response_set_header(&r, "Content-Type", "application/json"), UA_OK);
        assert_int_equal(api_response_set_header(&r, "ETag", "\"3\""), UA_OK);
        assert_int_equal(api_response_set_header(&r, "Location", "/users/x"), UA_OK);
        json_t *doc = format_and_load(formats[f], &r);
        assert_int_equal(json_object_size(doc), 4);
        json_t *status = json_object_get(doc, "statusCode");
        assert_true(json_is_integer(status));
        assert_int_equal(json_integer_value(status), 201);
        assert_true(json_equal(json_object_get(doc, "headers"), r.headers));
        json_t *b = json_object_get(doc, "body");
        assert_true(json_is_string(b));
        assert_int_equal(json_string_length(b), sizeof body - 1);
        assert_memory_equal(json_string_value(b), body, sizeof body - 1);
        assert_true(json_is_false(json_object_get(doc, "isBase64Encoded")));
        json_decref(doc);
        api_response_free(&r);
    }
}

static void test_response_shapes(void **state) {
    api_response r;
    (void)state;
    /* Header order is kept; a 204 has an empty body string; no header is still an object. */
    make_response(&r, 204, "", 0);
    assert_int_equal(api_response_set_header(&r, "B-First", "1"), UA_OK);
    assert_int_equal(api_response_set_header(&r, "A-Second", "2"), UA_OK);
    buf out;
    buf_init(&out, 4096);
    assert_int_equal(apigw_format_response(APIGW_V1, &r, &out), UA_OK);
    assert_string_equal(buf_str(&out), "{\"statusCode\":204,\"headers\":{\"B-First\":\"1\","
                                       "\"A-Second\":\"2\"},\"body\":\"\","
                                       "\"isBase64Encoded\":false}");
    json_object_clear(r.headers);
    /* A header value that is not a string would be a 502: left out. */
    json_object_set_new(r.headers, "X-Num", json_integer(1));
    json_object_set_new(r.headers, "X-Ok", json_string("y"));
    json_t *doc = format_and_load(APIGW_V2, &r);
    assert_int_equal(json_object_size(json_object_get(doc, "headers")), 1);
    assert_string_equal(json_string_value(json_object_get(json_object_get(doc, "headers"), "X-Ok")),
                        "y");
    json_decref(doc);
    /* Whatever out held before is replaced. */
    buf_reset(&out);
    assert_int_equal(buf_append_str(&out, "stale"), UA_OK);
    assert_int_equal(apigw_format_response(APIGW_V1, &r, &out), UA_OK);
    assert_int_equal(out.data[0], '{');
    buf_free(&out);
    api_response_free(&r);

    /* A NUL in the body survives as \u0000. */
    make_response(&r, 400, "a\0b", 3);
    doc = format_and_load(APIGW_V1, &r);
    assert_int_equal(json_string_length(json_object_get(doc, "body")), 3);
    assert_memory_equal(json_string_value(json_object_get(doc, "body")), "a\0b", 3);
    json_decref(doc);
    api_response_free(&r);
}

/* The keys we send are ones the payload's own model knows (the recorded responses). */
static void test_response_keys_known_to_format(void **state) {
    static const struct {
        apigw_format format;
        const char *model;
    } cases[] = {{APIGW_V1, "go-apigw-response.json"}, {APIGW_V2, "go-lambda-urls-response.json"}};
    (void)state;
    for (size_t i = 0; i < 2; i++) {
        char *path = event_path("", cases[i].model);
        json_t *model = json_load_file(path, 0, NULL);
        free(path);
        assert_non_null(model);
        api_response r;
        make_response(&r, 200, "{}", 2);
        json_t *doc = format_and_load(cases[i].format, &r);
        const char *key;
        json_t *v;
        json_object_foreach(doc, key, v) {
            /* go-apigw-response.json predates isBase64Encoded in REST answers. */
            if (!json_object_get(model, key) && strcmp(key, "isBase64Encoded") != 0)
                fail_msg("%s: %s is not a key of the format", cases[i].model, key);
        }
        json_decref(doc);
        json_decref(model);
        api_response_free(&r);
    }
}

static void test_response_refusals(void **state) {
    static const int bad_status[] = {0, -1, 99, 600, 1000};
    api_response r;
    buf out;
    (void)state;
    buf_init(&out, 4096);
    for (size_t i = 0; i < sizeof bad_status / sizeof bad_status[0]; i++) {
        make_response(&r, bad_status[i], "{}", 2);
        assert_int_equal(buf_append_str(&out, "stale"), UA_OK);
        assert_int_equal(apigw_format_response(APIGW_V1, &r, &out), UA_ERR_INVALID);
        assert_int_equal(out.len, 0);
        api_response_free(&r);
    }
    make_response(&r, 100, "{}", 2);
    assert_int_equal(apigw_format_response(APIGW_V2, &r, &out), UA_OK);
    r.status = 599;
    assert_int_equal(apigw_format_response(APIGW_V2, &r, &out), UA_OK);
    assert_int_equal(apigw_format_response((apigw_format)3, &r, &out), UA_ERR_INVALID);
    api_response_free(&r);

    make_response(&r, 200, "\xff\xfe", 2); /* not UTF-8 */
    assert_int_equal(apigw_format_response(APIGW_V1, &r, &out), UA_ERR_INVALID);
    api_response_free(&r);
    buf_free(&out);
}

static void test_response_bounded(void **state) {
    api_response r;
    buf out;
    (void)state;
    make_response(&r, 200, "{\"k\":\"a fairly long body\"}", 26);
    buf_init(&out, UA_MAX_RESPONSE_BYTES);
    assert_int_equal(apigw_format_response(APIGW_V1, &r, &out), UA_OK);
    size_t need = out.len;
    buf_free(&out);

    buf_init(&out, need);
    assert_int_equal(apigw_format_response(APIGW_V1, &r, &out), UA_OK);
    assert_int_equal(out.len, need);
    buf_free(&out);

    buf_init(&out, need - 1);
    assert_int_equal(apigw_format_response(APIGW_V1, &r, &out), UA_ERR_TOO_BIG);
    assert_int_equal(out.len, 0);
    buf_free(&out);
    api_response_free(&r);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_recorded_event),
        cmocka_unit_test(test_recorded_headers),
        cmocka_unit_test(test_recorded_query),
        cmocka_unit_test(test_recorded_null_and_missing),
        cmocka_unit_test(test_recorded_bodies),
        cmocka_unit_test(test_gateway_observed_requests),
        cmocka_unit_test(test_raw_query_decoding_matches_gateway),
        cmocka_unit_test(test_not_proxy_events),
        cmocka_unit_test(test_missing_method_and_path),
        cmocka_unit_test(test_ill_typed_members_are_not_events),
        cmocka_unit_test(test_null_where_api_gateway_sends_null),
        cmocka_unit_test(test_null_where_api_gateway_never_sends_it),
        cmocka_unit_test(test_v1_path),
        cmocka_unit_test(test_v2_stage_stripping),
        cmocka_unit_test(test_v2_raw_query),
        cmocka_unit_test(test_non_string_values_ignored),
        cmocka_unit_test(test_multi_value_merging),
        cmocka_unit_test(test_nul_bytes),
        cmocka_unit_test(test_request_id),
        cmocka_unit_test(test_base64_strict),
        cmocka_unit_test(test_base64_every_byte),
        cmocka_unit_test(test_base64_flag_and_null_body),
        cmocka_unit_test(test_huge_events),
        cmocka_unit_test(test_response_round_trip),
        cmocka_unit_test(test_response_shapes),
        cmocka_unit_test(test_response_keys_known_to_format),
        cmocka_unit_test(test_response_refusals),
        cmocka_unit_test(test_response_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_gateway_response.c — the local gateway's proxy response translation
 * (src/gateway/gw_response.c) against what deployed REST APIs were seen sending their clients
 * (the *Rest.json files of $USERS_TESTDATA/events/gateway-observed/), plus base64 bodies, header
 * merging and each malformed answer that API Gateway turns into a 502. */
#include "gw_response.h"
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

/* $USERS_TESTDATA/events/gateway-observed/<name>. New reference. */
static json_t *load_snapshot(const char *name) {
    char path[256];
    snprintf(path, sizeof path, "gateway-observed/%s", name);
    return testdata_event(path);
}

/* Headers the HTTP server (not the translation) adds: transport and request ids. */
static int added_by_server(const char *name) {
    static const char *const names[] = {"Date",           "Connection",
                                        "Content-Length", "x-amzn-RequestId",
                                        "x-amz-apigw-id", "X-Amzn-Trace-Id"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strcasecmp(name, names[i]) == 0)
            return 1;
    }
    return 0;
}

/* out equals the snapshot: status, body, and every header (values in order) but the ones
 * the server adds, and no header the snapshot lacks. */
static void assert_like_snapshot(const gw_http_response *out, const char *snapshot) {
    json_t *snap = load_snapshot(snapshot);
    assert_int_equal(out->status, json_integer_value(json_object_get(snap, "StatusCode")));
    const char *content = json_string_value(json_object_get(snap, "Content"));
    assert_int_equal(out->body.len, strlen(content));
    assert_memory_equal(out->body.data, content, out->body.len);
    json_t *headers = json_object_get(snap, "Headers");
    const char *name;
    json_t *values;
    json_object_foreach(headers, name, values) {
        if (added_by_server(name))
            continue;
        size_t k = 0;
        for (size_t i = 0; i < out->nheaders; i++) {
            if (strcasecmp(out->headers[i].name, name) != 0)
                continue;
            if (k >= json_array_size(values))
                fail_msg("%s: more %s values than the snapshot", snapshot, name);
            assert_string_equal(out->headers[i].value,
                                json_string_value(json_array_get(values, k)));
            k++;
        }
        if (k != json_array_size(values))
            fail_msg("%s: header %s has %zu values, the snapshot %zu", snapshot, name, k,
                     json_array_size(values));
    }
    for (size_t i = 0; i < out->nheaders; i++) {
        int known = 0;
        json_object_foreach(headers, name, values) {
            known = known || strcasecmp(out->headers[i].name, name) == 0;
        }
        if (!known)
            fail_msg("%s: header %s is not in the snapshot", snapshot, out->headers[i].name);
    }
    json_decref(snap);
}

static ua_status translate(const char *doc, gw_http_response *out, const char **why) {
    return gw_response_from_proxy(doc, strlen(doc), out, why);
}

/* Each REST case of gateway-observed/, with the Lambda output its test sources give. */
static void test_observed_rest_responses(void **state) {
    (void)state;
    static const struct {
        const char *snapshot;
        const char *lambda_output;
        ua_status status;
    } cases[] = {
        {"dotnet-V1_SimpleJsonResponseRest.json",
         "{\"statusCode\":200,\"headers\":{\"Content-Type\":\"application/json\"},"
         "\"body\":\"{\\\"message\\\":\\\"Hello, World!\\\"}\"}",
         UA_OK},
        {"dotnet-V1_SetsCorrectStatusCodeRest.json",
         "{\"statusCode\":201,\"body\":\"{\\\"message\\\":\\\"Created\\\"}\"}", UA_OK},
        {"dotnet-V1_SetsMultiValueHeadersRest.json",
         "{\"statusCode\":200,\"multiValueHeaders\":{\"X-Multi-Header\":[\"Value1\",\"Value2\"]},"
         "\"body\":\"{\\\"message\\\":\\\"With MultiValueHeaders\\\"}\"}",
         UA_OK},
        {"dotnet-V1_CombinesSingleAndMultiValueHeadersRest.json",
         "{\"statusCode\":200,\"headers\":{\"Content-Type\":\"application/json\","
         "\"X-Custom-Header\":\"single-value\",\"Combined-Header\":\"single-value\"},"
         "\"multiValueHeaders\":{\"X-Multi-Header\":[\"multi-value1\",\"multi-value2\"],"
         "\"Combined-Header\":[\"multi-value1\",\"multi-value2\"]},"
         "\"body\":\"{\\\"message\\\":\\\"With Combined Headers\\\"}\"}",
         UA_OK},
        {"dotnet-V1_DefaultsToCorrectContentTYpeRest.json",
         "{\"statusCode\":200,\"body\":\"Hello, World!\"}", UA_OK},
        {"dotnet-V1_HandlesZeroStatusCodeRest.json",
         "{\"statusCode\":0,\"body\":\"{\\\"key\\\":\\\"This body should be replaced\\\"}\"}",
         UA_ERR_INVALID},
        {"dotnet-ToApiGatewayProxyResponse_InvalidJson_ReturnsErrorResponseRest.json",
         "Not a valid proxy response object", UA_ERR_INVALID},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        gw_http_response out;
        gw_http_response_init(&out);
        const char *why = NULL;
        assert_int_equal(translate(cases[i].lambda_output, &out, &why), cases[i].status);
        if (cases[i].status == UA_OK)
            assert_null(why);
        else
            assert_non_null(why);
        assert_like_snapshot(&out, cases[i].snapshot);
        gw_http_response_free(&out);
    }
}

/* Everything API Gateway calls a malformed proxy response: 502 with its error type. */
static void test_malformed_answers(void **state) {
    (void)state;
    static const char *const docs[] = {
        "{\"body\":\"no status\"}",
        "{\"statusCode\":0}",
        "{\"statusCode\":99}",
        "{\"statusCode\":600}",
        "{\"statusCode\":-200}",
        "{\"statusCode\":200.5}",
        "{\"statusCode\":\"2x0\"}",
        "{\"statusCode\":null}",
        "{\"statusCode\":true}",
        "{\"statusCode\":200,\"body\":{\"message\":\"an object\"}}",
        "{\"statusCode\":200,\"body\":42}",
        "{\"statusCode\":200,\"headers\":[\"a\"]}",
        "{\"statusCode\":200,\"headers\":\"a: b\"}",
        "{\"statusCode\":200,\"headers\":{\"a\":{\"nested\":1}}}",
        "{\"statusCode\":200,\"multiValueHeaders\":{\"a\":\"not an array\"}}",
        "{\"statusCode\":200,\"multiValueHeaders\":{\"a\":[[\"nested\"]]}}",
        "{\"statusCode\":200,\"isBase64Encoded\":\"yes\"}",
        "{\"statusCode\":200,\"isBase64Encoded\":true,\"body\":\"not base64!\"}",
        "{\"statusCode\":200,\"cookies\":[\"a=b\"]}", /* a v2 key: REST does not know it */
        "[200]",
        "\"200\"",
        "null",
    };
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        gw_http_response out;
        gw_http_response_init(&out);
        const char *why = NULL;
        if (translate(docs[i], &out, &why) != UA_ERR_INVALID)
            fail_msg("accepted: %s", docs[i]);
        assert_non_null(why);
        assert_int_equal(out.status, 502);
        assert_string_equal(gw_http_response_header(&out, "x-amzn-ErrorType"),
                            "InternalServerErrorException");
        assert_string_equal(gw_http_response_header(&out, "Content-Type"), "application/json");
        assert_string_equal(buf_str(&out.body), "{\"message\": \"Internal server error\"}");
        assert_int_equal(out.nheaders, 2);
        gw_http_response_free(&out);
    }
    /* Not JSON at all: the other 502 body, as observed. */
    static const char *const not_json[] = {"", "{", "<html>", "{\"statusCode\":200,}"};
    for (size_t i = 0; i < sizeof not_json / sizeof not_json[0]; i++) {
        gw_http_response out;
        gw_http_response_init(&out);
        assert_int_equal(translate(not_json[i], &out, NULL), UA_ERR_INVALID);
        assert_int_equal(out.status, 502);
        assert_string_equal(buf_str(&out.body), "{\"message\":\"Internal server error\"}");
        gw_http_response_free(&out);
    }
}

static void test_accepted_variants(void **state) {
    (void)state;
    gw_http_response out;
    gw_http_response_init(&out);
    /* A status as a string of digits, null maps and body, scalars as header values. */
    assert_int_equal(translate("{\"statusCode\":\"404\",\"headers\":null,\"multiValueHeaders\":"
                               "null,\"body\":null,\"isBase64Encoded\":null}",
                               &out, NULL),
                     UA_OK);
    assert_int_equal(out.status, 404);
    assert_int_equal(out.body.len, 0);
    assert_string_equal(gw_http_response_header(&out, "Content-Type"), "application/json");
    assert_int_equal(translate("{\"statusCode\":204,\"headers\":{\"X-N\":5,\"X-B\":true,"
                               "\"X-Null\":null},\"multiValueHeaders\":{\"X-M\":[1.5,false]}}",
                               &out, NULL),
                     UA_OK);
    assert_int_equal(out.status, 204);
    assert_string_equal(gw_http_response_header(&out, "X-N"), "5");
    assert_string_equal(gw_http_response_header(&out, "X-B"), "true");
    assert_null(gw_http_response_header(&out, "X-Null"));
    assert_string_equal(gw_http_response_header(&out, "X-M"), "1.5");
    gw_http_response_free(&out);
}

static void test_base64_body(void **state) {
    (void)state;
    gw_http_response out;
    gw_http_response_init(&out);
    assert_int_equal(translate("{\"statusCode\":200,\"isBase64Encoded\":true,\"headers\":"
                               "{\"Content-Type\":\"image/png\"},\"body\":\"AAEC/w==\"}",
                               &out, NULL),
                     UA_OK);
    assert_int_equal(out.body.len, 4);
    assert_memory_equal(out.body.data, "\x00\x01\x02\xff", 4);
    assert_string_equal(gw_http_response_header(&out, "Content-Type"), "image/png");
    /* isBase64Encoded false: the text is the body, even when it looks like base64. */
    assert_int_equal(
        translate("{\"statusCode\":200,\"isBase64Encoded\":false,\"body\":\"AAEC/w==\"}", &out,
                  NULL),
        UA_OK);
    assert_string_equal(buf_str(&out.body), "AAEC/w==");
    /* A NUL inside a JSON string body reaches the client. */
    assert_int_equal(translate("{\"statusCode\":200,\"body\":\"a\\u0000b\"}", &out, NULL), UA_OK);
    assert_int_equal(out.body.len, 3);
    assert_memory_equal(out.body.data, "a\0b", 3);
    gw_http_response_free(&out);
}

static void test_headers_merged_and_remapped(void **state) {
    (void)state;
    gw_http_response out;
    gw_http_response_init(&out);
    assert_int_equal(
        translate("{\"statusCode\":200,\"headers\":{\"content-type\":\"text/plain\","
                  "\"x-dup\":\"single\",\"Content-Length\":\"999\",\"Connection\":\"close\","
                  "\"Bad Name\":\"x\",\"X-Bad-Value\":\"a\\r\\nInjected: yes\"},"
                  "\"multiValueHeaders\":{\"X-Dup\":[\"m1\",\"m2\"],\"Set-Cookie\":[\"a=1\","
                  "\"b=2\"]},\"body\":\"hi\"}",
                  &out, NULL),
        UA_OK);
    /* Names matched ignoring case, the multi-value spelling and values first. */
    const char *dup[3] = {"", "", ""};
    size_t ndup = 0, ncookie = 0;
    for (size_t i = 0; i < out.nheaders; i++) {
        if (strcmp(out.headers[i].name, "X-Dup") == 0 && ndup < 3)
            dup[ndup++] = out.headers[i].value;
        assert_string_not_equal(out.headers[i].name, "x-dup");
        if (strcmp(out.headers[i].name, "Set-Cookie") == 0)
            ncookie++;
    }
    assert_int_equal(ndup, 3);
    assert_string_equal(dup[0], "m1");
    assert_string_equal(dup[1], "m2");
    assert_string_equal(dup[2], "single");
    assert_int_equal(ncookie, 2);
    /* The function's Content-Type stands; no default is added beside it. */
    assert_string_equal(gw_http_response_header(&out, "Content-Type"), "text/plain");
    size_t nct = 0;
    for (size_t i = 0; i < out.nheaders; i++)
        nct += strcasecmp(out.headers[i].name, "Content-Type") == 0;
    assert_int_equal(nct, 1);
    /* Framing headers are renamed, never sent as they are. */
    assert_null(gw_http_response_header(&out, "Content-Length"));
    assert_null(gw_http_response_header(&out, "Connection"));
    assert_string_equal(gw_http_response_header(&out, "x-amzn-Remapped-Content-Length"), "999");
    assert_string_equal(gw_http_response_header(&out, "x-amzn-Remapped-Connection"), "close");
    /* What could not be sent is dropped. */
    assert_null(gw_http_response_header(&out, "Bad Name"));
    assert_null(gw_http_response_header(&out, "X-Bad-Value"));
    assert_null(gw_http_response_header(&out, "Injected"));
    gw_http_response_free(&out);
}

static void test_faults(void **state) {
    (void)state;
    static const struct {
        gw_fault fault;
        unsigned status;
        const char *body;
    } cases[] = {
        {GW_FAULT_TIMEOUT, 504, "{\"message\": \"Endpoint request timed out\"}"},
        {GW_FAULT_TOO_LONG, 413, "{\"message\":\"Request Too Long\"}"},
        {GW_FAULT_THROTTLED, 429, "{\"message\":\"Too Many Requests\"}"},
        {GW_FAULT_INTERNAL, 502, "{\"message\": \"Internal server error\"}"},
        {GW_FAULT_MALFORMED, 502, "{\"message\":\"Internal server error\"}"},
        {GW_FAULT_UNAVAILABLE, 503, "{\"message\":\"Service Unavailable\"}"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        gw_http_response out;
        gw_http_response_init(&out);
        assert_int_equal(gw_response_fault(cases[i].fault, &out), UA_OK);
        assert_int_equal(out.status, cases[i].status);
        assert_string_equal(buf_str(&out.body), cases[i].body);
        assert_string_equal(gw_http_response_header(&out, "Content-Type"), "application/json");
        gw_http_response_free(&out);
    }
}

static void test_response_add_refuses_unsafe(void **state) {
    (void)state;
    gw_http_response out;
    gw_http_response_init(&out);
    assert_int_equal(gw_http_response_add(&out, "X-Ok", "a\tb"), UA_OK);
    assert_int_equal(gw_http_response_add(&out, "X:No", "v"), UA_ERR_INVALID);
    assert_int_equal(gw_http_response_add(&out, "", "v"), UA_ERR_INVALID);
    assert_int_equal(gw_http_response_add(&out, "X-No", "a\nb"), UA_ERR_INVALID);
    assert_int_equal(gw_http_response_add(&out, "X-No", "a\x7f"), UA_ERR_INVALID);
    for (unsigned i = 1; i < GW_MAX_RESPONSE_HEADERS; i++)
        assert_int_equal(gw_http_response_add(&out, "X-Many", "v"), UA_OK);
    assert_int_equal(gw_http_response_add(&out, "X-Many", "v"), UA_ERR_TOO_BIG);
    gw_http_response_free(&out);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_observed_rest_responses),
        cmocka_unit_test(test_malformed_answers),
        cmocka_unit_test(test_accepted_variants),
        cmocka_unit_test(test_base64_body),
        cmocka_unit_test(test_headers_merged_and_remapped),
        cmocka_unit_test(test_faults),
        cmocka_unit_test(test_response_add_refuses_unsafe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

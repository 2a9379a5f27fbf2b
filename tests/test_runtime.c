/* test_runtime.c — the Runtime API client against a scripted fake Runtime API on loopback. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "fake_http.h"
#include "http.h"
#include "runtime.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct fixture {
    fake_http *api;
    rt_client *rt;
    rt_invocation inv;
} fixture;

static int setup(void **state) {
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->api = fake_http_start();
    assert_non_null(f->api);
    char host[64];
    snprintf(host, sizeof host, "127.0.0.1:%d", fake_http_port(f->api));
    f->rt = rt_client_new(host);
    assert_non_null(f->rt);
    rt_invocation_init(&f->inv);
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fixture *f = *state;
    rt_invocation_free(&f->inv);
    rt_client_free(f->rt);
    fake_http_stop(f->api);
    free(f);
    return 0;
}

static void push_event(fixture *f, const char *headers, const char *body) {
    fake_response r = {.status = 200, .headers = headers, .body = body};
    fake_http_push(f->api, &r);
}

static void push_status(fixture *f, int status) {
    fake_response r = {.status = status, .body = "{\"status\":\"OK\"}"};
    fake_http_push(f->api, &r);
}

static void test_next_reads_the_invocation(void **state) {
    fixture *f = *state;
    push_event(f,
               "Lambda-Runtime-Aws-Request-Id: 8476a536-e9f4-11e8-9739-2dfe598c3fcd\r\n"
               "Lambda-Runtime-Deadline-Ms: 1542409706888\r\n"
               "Lambda-Runtime-Trace-Id: Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Sampled=1\r\n"
               "Lambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:us-east-1:1:function:f\r\n",
               "{\"httpMethod\":\"GET\"}");
    assert_int_equal(rt_next(f->rt, &f->inv), UA_OK);
    assert_string_equal(f->inv.request_id, "8476a536-e9f4-11e8-9739-2dfe598c3fcd");
    assert_true(f->inv.deadline_ms == 1542409706888LL);
    assert_string_equal(f->inv.trace_id, "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Sampled=1");
    assert_string_equal(getenv("_X_AMZN_TRACE_ID"), f->inv.trace_id);
    assert_string_equal(buf_str(&f->inv.event), "{\"httpMethod\":\"GET\"}");

    const fake_request *req = fake_http_request(f->api, 0);
    assert_non_null(req);
    assert_string_equal(req->method, "GET");
    assert_string_equal(req->path, "/2018-06-01/runtime/invocation/next");

    /* The next invocation has no trace id: the previous one must not leak into it. */
    push_event(f, "Lambda-Runtime-Aws-Request-Id: second\r\n", "{}");
    assert_int_equal(rt_next(f->rt, &f->inv), UA_OK);
    assert_string_equal(f->inv.request_id, "second");
    assert_null(getenv("_X_AMZN_TRACE_ID"));
    assert_string_equal(f->inv.trace_id, "");
    assert_true(f->inv.deadline_ms == 0);
    assert_string_equal(buf_str(&f->inv.event), "{}");
}

static void test_respond_posts_the_answer(void **state) {
    fixture *f = *state;
    push_status(f, 202);
    const char answer[] = "{\"statusCode\":200}";
    assert_int_equal(rt_respond(f->rt, "abc-123", answer, sizeof answer - 1), UA_OK);
    const fake_request *req = fake_http_request(f->api, 0);
    assert_string_equal(req->method, "POST");
    assert_string_equal(req->path, "/2018-06-01/runtime/invocation/abc-123/response");
    assert_int_equal(req->body_len, sizeof answer - 1);
    assert_memory_equal(req->body, answer, sizeof answer - 1);
    char v[64];
    assert_false(fake_request_header(req, "Lambda-Runtime-Function-Error-Type", v, sizeof v));

    /* Anything but 202 is a failed post, which the caller logs. */
    push_status(f, 400);
    assert_int_equal(rt_respond(f->rt, "abc-123", answer, sizeof answer - 1), UA_ERR_IO);
}

static void assert_error_document(const fake_request *req, const char *type, const char *msg) {
    char v[128];
    assert_true(fake_request_header(req, "Lambda-Runtime-Function-Error-Type", v, sizeof v));
    assert_string_equal(v, type);
    json_error_t err;
    json_t *doc = json_loadb(req->body, req->body_len, 0, &err);
    assert_non_null(doc);
    assert_string_equal(json_string_value(json_object_get(doc, "errorType")), type);
    assert_string_equal(json_string_value(json_object_get(doc, "errorMessage")), msg);
    assert_int_equal(json_object_size(doc), 2);
    json_decref(doc);
}

static void test_fail_and_init_error_post_error_documents(void **state) {
    fixture *f = *state;
    push_status(f, 202);
    assert_int_equal(rt_fail(f->rt, "id-1", "InvalidEvent", "not \"an\" event"), UA_OK);
    const fake_request *req = fake_http_request(f->api, 0);
    assert_string_equal(req->path, "/2018-06-01/runtime/invocation/id-1/error");
    assert_error_document(req, "InvalidEvent", "not \"an\" event");

    push_status(f, 202);
    assert_int_equal(rt_init_error(f->rt, "Runtime.ConfigError", "USERS_TABLE is not set"), UA_OK);
    req = fake_http_request(f->api, 1);
    assert_string_equal(req->path, "/2018-06-01/runtime/init/error");
    assert_error_document(req, "Runtime.ConfigError", "USERS_TABLE is not set");
}

static void test_next_failures(void **state) {
    fixture *f = *state;
    /* The Runtime API answering an error status: Lambda is replacing us. */
    fake_response err = {.status = 500, .body = "{}"};
    fake_http_push(f->api, &err);
    assert_int_equal(rt_next(f->rt, &f->inv), UA_ERR_IO);

    /* No request id, or one that cannot be put in a URL path. */
    push_event(f, NULL, "{}");
    assert_int_equal(rt_next(f->rt, &f->inv), UA_ERR_INVALID);
    push_event(f, "Lambda-Runtime-Aws-Request-Id: ../../init/error\r\n", "{}");
    assert_int_equal(rt_next(f->rt, &f->inv), UA_ERR_INVALID);

    /* The connection closed without an answer. */
    fake_response closed = {.fault = FAKE_CLOSE};
    fake_http_push(f->api, &closed);
    assert_int_equal(rt_next(f->rt, &f->inv), UA_ERR_IO);

    /* And the client recovers on the next call. */
    push_event(f, "Lambda-Runtime-Aws-Request-Id: ok\r\n", "{}");
    assert_int_equal(rt_next(f->rt, &f->inv), UA_OK);
    assert_string_equal(f->inv.request_id, "ok");
}

static void test_oversized_event_keeps_the_request_id(void **state) {
    fixture *f = *state;
    size_t n = UA_MAX_EVENT_BYTES + 1;
    char *big = malloc(n + 1);
    assert_non_null(big);
    memset(big, 'x', n);
    big[n] = '\0';
    fake_response r = {.status = 200,
                       .headers = "Lambda-Runtime-Aws-Request-Id: too-big-1\r\n",
                       .body = big,
                       .body_len = n};
    fake_http_push(f->api, &r);
    free(big); /* the fake copied it */
    assert_int_equal(rt_next(f->rt, &f->inv), UA_ERR_TOO_BIG);
    assert_string_equal(f->inv.request_id, "too-big-1");

    /* The loop answers it with an error and goes on. */
    push_status(f, 202);
    assert_int_equal(rt_fail(f->rt, f->inv.request_id, "InvalidEvent", "too large"), UA_OK);
    push_event(f, "Lambda-Runtime-Aws-Request-Id: after\r\n", "{\"a\":1}");
    assert_int_equal(rt_next(f->rt, &f->inv), UA_OK);
    assert_string_equal(buf_str(&f->inv.event), "{\"a\":1}");
}

static void test_connection_is_reused(void **state) {
    fixture *f = *state;
    for (int i = 0; i < 5; i++) {
        push_event(f, "Lambda-Runtime-Aws-Request-Id: r\r\n", "{}");
        assert_int_equal(rt_next(f->rt, &f->inv), UA_OK);
        push_status(f, 202);
        assert_int_equal(rt_respond(f->rt, "r", "{}", 2), UA_OK);
    }
    assert_int_equal(fake_http_request_count(f->api), 10);
    assert_int_equal(fake_http_connection_count(f->api), 1);
}

static void test_bad_api_address(void **state) {
    (void)state;
    assert_null(rt_client_new(NULL));
    assert_null(rt_client_new(""));
    /* Nothing listens on port 1: next fails instead of hanging. */
    rt_client *rt = rt_client_new("127.0.0.1:1");
    assert_non_null(rt);
    rt_invocation inv;
    rt_invocation_init(&inv);
    assert_int_equal(rt_next(rt, &inv), UA_ERR_IO);
    rt_invocation_free(&inv);
    rt_client_free(rt);
}

int main(void) {
    if (http_global_init() != UA_OK)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_next_reads_the_invocation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_respond_posts_the_answer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fail_and_init_error_post_error_documents, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_next_failures, setup, teardown),
        cmocka_unit_test_setup_teardown(test_oversized_event_keeps_the_request_id, setup, teardown),
        cmocka_unit_test_setup_teardown(test_connection_is_reused, setup, teardown),
        cmocka_unit_test(test_bad_api_address),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    http_global_cleanup();
    return rc;
}

/* test_http.c — the libcurl client against the scripted fake server: keep-alive, headers,
 * limits, timeouts and broken connections. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "fake_http.h"
#include "http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct fixture {
    fake_http *fake;
    http_client *client;
    http_result res;
    char url[128];
} fixture;

static int setup(void **state) {
    fixture *fx = calloc(1, sizeof *fx);
    assert_non_null(fx);
    fx->fake = fake_http_start();
    assert_non_null(fx->fake);
    fx->client = http_client_new(NULL);
    assert_non_null(fx->client);
    http_result_init(&fx->res);
    snprintf(fx->url, sizeof fx->url, "%s/path?q=1", fake_http_url(fx->fake));
    *state = fx;
    return 0;
}

static int teardown(void **state) {
    fixture *fx = *state;
    http_result_free(&fx->res);
    http_client_free(fx->client);
    fake_http_stop(fx->fake);
    free(fx);
    return 0;
}

static long long mono_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static http_call get_call(const fixture *fx) {
    return (http_call){.method = "GET", .url = fx->url, .timeout_ms = 5000, .max_response = 4096};
}

static void test_get_reads_status_and_body(void **state) {
    fixture *fx = *state;
    fake_http_push(fx->fake, &(fake_response){.status = 201, .body = "hello"});
    http_call call = get_call(fx);
    assert_int_equal(http_perform(fx->client, &call, &fx->res), HTTP_DONE);
    assert_int_equal(fx->res.status, 201);
    assert_int_equal(fx->res.body.len, 5);
    assert_string_equal(buf_str(&fx->res.body), "hello");
    const fake_request *req = fake_http_request(fx->fake, 0);
    assert_non_null(req);
    assert_string_equal(req->method, "GET");
    assert_string_equal(req->path, "/path?q=1");
}

static void test_server_error_is_done(void **state) {
    fixture *fx = *state;
    fake_http_push(fx->fake, &(fake_response){.status = 500, .body = "{}"});
    http_call call = get_call(fx);
    assert_int_equal(http_perform(fx->client, &call, &fx->res), HTTP_DONE);
    assert_int_equal(fx->res.status, 500);
}

static void test_keep_alive_reuses_one_connection(void **state) {
    fixture *fx = *state;
    fake_http_push(fx->fake, &(fake_response){.body = "one"});
    fake_http_push(fx->fake, &(fake_response){.body = "two"});
    http_call call = get_call(fx);
    assert_int_equal(http_perform(fx->client, &call, &fx->res), HTTP_DONE);
    assert_string_equal(buf_str(&fx->res.body), "one");
    assert_int_equal(http_perform(fx->client, &call, &fx->res), HTTP_DONE);
    assert_string_equal(buf_str(&fx->res.body), "two");
    assert_int_equal(fake_http_request_count(fx->fake), 2);
    assert_int_equal(fake_http_connection_count(fx->fake), 1);
    assert_int_equal(fake_http_request(fx->fake, 1)->connection, 1);
}

static void test_reconnects_after_server_closes(void **state) {
    fixture *fx = *state;
    fake_http_push(fx->fake, &(fake_response){.body = "one", .close = true});
    fake_http_push(fx->fake, &(fake_response){.body = "two"});
    http_call call = get_call(fx);
    assert_int_equal(http_perform(fx->client, &call, &fx->res), HTTP_DONE);
    assert_int_equal(http_perform(fx->client, &call, &fx->res), HTTP_DONE);
    assert_string_equal(buf_str(&fx->res.body), "two");
    assert_int_equal(fake_http_connection_count(fx->fake), 2);
}

static void test_post_sends_body_and_headers(void **state) {
    fixture *fx = *state;
    static const char body[] = "{\"a\":1}\0tail"; /* a NUL inside: the length rules */
    const http_header headers[] = {{"Content-Type", "application/json"}, {"X-Empty", ""}};
    fake_http_push(fx->fake, &(fake_response){.body = "ok"});
    http_call call = {.method = "POST",
                      .url = fx->url,
                      .headers = headers,
                      .n_headers = 2,
                      .body = body,
                      .body_len = sizeof body - 1,
                      .timeout_ms = 5000,
                      .max_response = 100};
    assert_int_equal(http_perform(fx->client, &call, &fx->res), HTTP_DONE);
    const fake_request *req = fake_http_request(fx->fake, 0);
    assert_string_equal(req->method, "POST");
    assert_int_equal(req->body_len, sizeof body - 1);
    assert_memory_equal(req->body, body, sizeof body - 1);
    char v[128];
    assert_true(fake_request_header(req, "content-type", v, sizeof v));
    assert_string_equal(v, "application/json");
    assert_true(fake_request_header(req, "X-Empty", v, sizeof v));
    assert_string_equal(v, "");
    assert_false(fake_request_header(req, "Expect", v, sizeof v));
    assert_false(fake_request_header(req, "Accept", v, sizeof v));
}

static void test_post_then_get_drops_the_body(void **state) {
    fixture *fx = *state;
    http_call post = {.method = "POST",
                      .url = fx->url,
                      .body = "abc",
                      .body_len = 3,
                      .timeout_ms = 5000,
                      .max_response = 100};
    http_call get = get_call(fx);
    assert_int_equal(http_perform(fx->client, &post, &fx->res), HTTP_DONE);
    assert_int_equal(http_perform(fx->client, &get, &fx->res), HTTP_DONE);
    const fake_request *req = fake_http_request(fx->fake, 1);
    assert_string_equal(req->method, "GET");
    assert_int_equal(req->body_len, 0);
}

static void test_header_lookup_is_case_insensitive_and_trimmed(void **state) {
    fixture *fx = *state;
    fake_http_push(fx->fake,
                   &(fake_response){.headers = "X-Foo:   bar baz  \r\nX-Amz-Crc32: 42\r\n"});
    http_call call = get_call(fx);
    assert_int_equal(http_perform(fx->client, &call, &fx->res), HTTP_DONE);
    ua_span v;
    assert_true(http_result_header(&fx->res, "x-foo", &v));
    assert_int_equal(v.len, 7);
    assert_memory_equal(v.ptr, "bar baz", 7);
    assert_true(http_result_header(&fx->res, "x-amz-crc32", &v));
    assert_int_equal(v.len, 2);
    assert_memory_equal(v.ptr, "42", 2);
    assert_true(http_result_header(&fx->res, "CONTENT-LENGTH", &v));
    assert_memory_equal(v.ptr, "0", 1);
    assert_false(http_result_header(&fx->res, "x-fo", &v));
    assert_false(http_result_header(&fx->res, "x-missing", &v));
}

static void test_headers_are_those_of_the_last_call(void **state) {
    fixture *fx = *state;
    fake_http_push(fx->fake, &(fake_response){.headers = "X-One: 1\r\n"});
    fake_http_push(fx->fake, &(fake_response){.headers = "X-Two: 2\r\n"});
    http_call call = get_call(fx);
    ua_span v;
    assert_int_equal(http_perform(fx->client, &call, &fx->res), HTTP_DONE);
    assert_true(http_result_header(&fx->res, "X-One", &v));
    assert_int_equal(http_perform(fx->client, &call, &fx->res), HTTP_DONE);
    assert_false(http_result_header(&fx->res, "X-One", &v));
    assert_true(http_result_header(&fx->res, "X-Two", &v));
}

static void test_body_over_limit_is_too_big(void **state) {
    fixture *fx = *state;
    char big[1001];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    http_call call = get_call(fx);
    call.max_response = 1000;
    /* Exactly the limit fits; one more byte does not, whether announced or not. */
    fake_http_push(fx->fake, &(fake_response){.body = big});
    assert_int_equal(http_perform(fx->client, &call, &fx->res), HTTP_DONE);
    assert_int_equal(fx->res.body.len, 1000);
    call.max_response = 999;
    fake_http_push(fx->fake, &(fake_response){.body = big});
    assert_int_equal(http_perform(fx->client, &call, &fx->res), HTTP_TOO_BIG);
    fake_http_push(fx->fake, &(fake_response){.body = big, .no_length = true});
    assert_int_equal(http_perform(fx->client, &call, &fx->res), HTTP_TOO_BIG);
    assert_true(fx->res.body.len <= 999);
    /* The client still works afterwards. */
    fake_http_push(fx->fake, &(fake_response){.body = "small"});
    assert_int_equal(http_perform(fx->client, &call, &fx->res), HTTP_DONE);
    assert_string_equal(buf_str(&fx->res.body), "small");
}

static void test_stall_past_timeout_times_out(void **state) {
    fixture *fx = *state;
    fake_http_push(fx->fake, &(fake_response){.body = "late", .stall_ms = 3000});
    http_call call = get_call(fx);
    call.timeout_ms = 200;
    long long t0 = mono_ms();
    assert_int_equal(http_perform(fx->client, &call, &fx->res), HTTP_TIMEOUT);
    long long took = mono_ms() - t0;
    assert_true(took >= 150);
    assert_true(took < 1500);
    assert_int_equal(fx->res.status, 0);
    assert_true(fx->res.error[0] != '\0');
}

static void test_close_without_answer_is_broken(void **state) {
    fixture *fx = *state;
    fake_http_push(fx->fake, &(fake_response){.fault = FAKE_CLOSE});
    http_call call = get_call(fx);
    assert_int_equal(http_perform(fx->client, &call, &fx->res), HTTP_BROKEN);
}

/* On a kept-alive connection that dies before any answer, libcurl sends the request again on
 * a new connection by itself: the result says the request went out twice. */
static void test_silent_resend_is_counted(void **state) {
    fixture *fx = *state;
    http_call call = {.method = "POST",
                      .url = fx->url,
                      .body = "{}",
                      .body_len = 2,
                      .timeout_ms = 5000,
                      .max_response = 4096};
    fake_http_push(fx->fake, &(fake_response){.body = "first"});
    assert_int_equal(http_perform(fx->client, &call, &fx->res), HTTP_DONE);
    assert_int_equal(fx->res.sends, 1);
    fake_http_push(fx->fake, &(fake_response){.fault = FAKE_CLOSE});
    fake_http_push(fx->fake, &(fake_response){.body = "second"});
    assert_int_equal(http_perform(fx->client, &call, &fx->res), HTTP_DONE);
    assert_string_equal(buf_str(&fx->res.body), "second");
    assert_int_equal(fake_http_request_count(fx->fake), 3);
    assert_int_equal(fx->res.sends, 2);
    /* Nothing listening: no request went out at all. */
    fake_http *gone = fake_http_start();
    assert_non_null(gone);
    char url[128];
    snprintf(url, sizeof url, "%s/", fake_http_url(gone));
    fake_http_stop(gone);
    call.url = url;
    assert_int_equal(http_perform(fx->client, &call, &fx->res), HTTP_NOT_SENT);
    assert_int_equal(fx->res.sends, 0);
}

static void test_truncated_body_is_broken(void **state) {
    fixture *fx = *state;
    fake_http_push(fx->fake, &(fake_response){.body = "0123456789", .fault = FAKE_TRUNCATE});
    http_call call = get_call(fx);
    assert_int_equal(http_perform(fx->client, &call, &fx->res), HTTP_BROKEN);
}

static void test_closed_port_is_not_sent(void **state) {
    fixture *fx = *state;
    fake_http *gone = fake_http_start();
    assert_non_null(gone);
    char url[128];
    snprintf(url, sizeof url, "%s/", fake_http_url(gone));
    fake_http_stop(gone);
    http_call call = get_call(fx);
    call.url = url;
    assert_int_equal(http_perform(fx->client, &call, &fx->res), HTTP_NOT_SENT);
}

static void test_header_injection_is_refused(void **state) {
    fixture *fx = *state;
    const http_header bad[] = {{"X-A", "v\r\nX-Injected: 1"}};
    http_call call = get_call(fx);
    call.headers = bad;
    call.n_headers = 1;
    assert_int_equal(http_perform(fx->client, &call, &fx->res), HTTP_FAILED);
    assert_int_equal(fake_http_request_count(fx->fake), 0);
}

static void test_other_schemes_are_refused(void **state) {
    fixture *fx = *state;
    http_call call = get_call(fx);
    call.url = "file:///etc/passwd";
    assert_int_equal(http_perform(fx->client, &call, &fx->res), HTTP_FAILED);
    assert_int_equal(fx->res.body.len, 0);
}

static void test_default_ca_file(void **state) {
    (void)state;
    const char *env = getenv("SSL_CERT_FILE");
    char *saved = env ? strdup(env) : NULL;
    setenv("SSL_CERT_FILE", "/some/bundle.pem", 1);
    assert_string_equal(http_default_ca_file(), "/some/bundle.pem");
    unsetenv("SSL_CERT_FILE");
    const char *ca = http_default_ca_file();
    if (ca)
        assert_int_equal(access(ca, R_OK), 0);
    else
        assert_int_not_equal(access("/etc/ssl/certs/ca-certificates.crt", R_OK), 0);
    if (saved)
        setenv("SSL_CERT_FILE", saved, 1);
    free(saved);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_get_reads_status_and_body, setup, teardown),
        cmocka_unit_test_setup_teardown(test_server_error_is_done, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keep_alive_reuses_one_connection, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reconnects_after_server_closes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_post_sends_body_and_headers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_post_then_get_drops_the_body, setup, teardown),
        cmocka_unit_test_setup_teardown(test_header_lookup_is_case_insensitive_and_trimmed, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_headers_are_those_of_the_last_call, setup, teardown),
        cmocka_unit_test_setup_teardown(test_body_over_limit_is_too_big, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stall_past_timeout_times_out, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_without_answer_is_broken, setup, teardown),
        cmocka_unit_test_setup_teardown(test_silent_resend_is_counted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncated_body_is_broken, setup, teardown),
        cmocka_unit_test_setup_teardown(test_closed_port_is_not_sent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_header_injection_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_schemes_are_refused, setup, teardown),
        cmocka_unit_test(test_default_ca_file),
    };
    if (http_global_init() != UA_OK)
        return 1;
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    http_global_cleanup();
    return failed;
}

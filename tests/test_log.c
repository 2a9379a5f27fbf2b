/* test_log.c — log lines are one valid JSON object each, escaped, and filtered by level. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "log.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Captures what the logger writes through a pipe, one test at a time. */
typedef struct capture {
    int fds[2];
    char text[65536];
} capture;

static void capture_start(capture *c) {
    assert_int_equal(pipe(c->fds), 0);
    log_set_fd(c->fds[1]);
}

/* Stops capturing and returns every line written, NUL-terminated. */
static const char *capture_end(capture *c) {
    log_set_fd(1);
    close(c->fds[1]);
    size_t n = 0;
    ssize_t got;
    while ((got = read(c->fds[0], c->text + n, sizeof c->text - 1 - n)) > 0)
        n += (size_t)got;
    close(c->fds[0]);
    c->text[n] = '\0';
    return c->text;
}

/* Parses the single line in text; fails the test unless there is exactly one valid line. */
static json_t *only_line(const char *text) {
    const char *nl = strchr(text, '\n');
    assert_non_null(nl);
    assert_int_equal(nl[1], '\0');
    json_error_t err;
    json_t *doc = json_loadb(text, (size_t)(nl - text), 0, &err);
    if (!doc)
        fail_msg("not JSON (%s): %s", err.text, text);
    return doc;
}

static const char *field(json_t *doc, const char *name) {
    return json_string_value(json_object_get(doc, name));
}

static void test_message_line(void **state) {
    (void)state;
    capture c;
    log_set_level(LOG_LEVEL_INFO);
    capture_start(&c);
    log_message(LOG_LEVEL_WARN, "req-1", "retrying %s after %d ms", "PutItem", 25);
    json_t *doc = only_line(capture_end(&c));
    assert_string_equal(field(doc, "level"), "WARN");
    assert_string_equal(field(doc, "requestId"), "req-1");
    assert_string_equal(field(doc, "message"), "retrying PutItem after 25 ms");
    const char *ts = field(doc, "timestamp");
    assert_non_null(ts);
    /* 2026-11-24T12:34:56.789Z */
    assert_int_equal(strlen(ts), 24);
    assert_int_equal(ts[10], 'T');
    assert_int_equal(ts[19], '.');
    assert_int_equal(ts[23], 'Z');
    json_decref(doc);
}

static void test_levels_filter(void **state) {
    (void)state;
    capture c;
    log_set_level(LOG_LEVEL_WARN);
    capture_start(&c);
    log_message(LOG_LEVEL_DEBUG, NULL, "debug");
    log_message(LOG_LEVEL_INFO, NULL, "info");
    log_message(LOG_LEVEL_ERROR, NULL, "error");
    json_t *doc = only_line(capture_end(&c));
    assert_string_equal(field(doc, "message"), "error");
    assert_null(json_object_get(doc, "requestId"));
    json_decref(doc);
    log_set_level(LOG_LEVEL_INFO);
}

static void test_level_from_env(void **state) {
    (void)state;
    unsetenv("AWS_LAMBDA_LOG_LEVEL");
    setenv("LOG_LEVEL", "debug", 1);
    log_init_from_env();
    assert_int_equal(log_get_level(), LOG_LEVEL_DEBUG);
    setenv("LOG_LEVEL", "nonsense", 1);
    setenv("AWS_LAMBDA_LOG_LEVEL", "ERROR", 1);
    log_init_from_env();
    assert_int_equal(log_get_level(), LOG_LEVEL_ERROR);
    unsetenv("LOG_LEVEL");
    unsetenv("AWS_LAMBDA_LOG_LEVEL");
    log_init_from_env();
    assert_int_equal(log_get_level(), LOG_LEVEL_INFO);
}

static void test_client_data_is_escaped(void **state) {
    (void)state;
    capture c;
    log_set_level(LOG_LEVEL_INFO);
    /* A method a client controls: quotes, a newline, a control byte and invalid UTF-8. */
    const char *method = "GE\"T\n\x01\xff\xc3(";
    log_invocation line = {.request_id = "r\"1", .method = method, .status = 404};
    capture_start(&c);
    log_invocation_line(&line);
    json_t *doc = only_line(capture_end(&c));
    assert_string_equal(field(doc, "requestId"), "r\"1");
    assert_string_equal(field(doc, "method"), "GE\"T\n\x01\xef\xbf\xbd\xef\xbf\xbd(");
    json_decref(doc);
}

#define FFFD "\xEF\xBF\xBD"

/* Bytes the strict decoder refuses each become U+FFFD, one per maximal subpart (the WHATWG
 * count), and the line parses: jansson refuses a line that is not UTF-8. */
static void test_invalid_utf8_is_replaced(void **state) {
    (void)state;
    static const struct {
        const char *what, *in, *want;
    } cases[] = {
        {"overlong 2-byte NUL", "a\xC0\x80z", "a" FFFD FFFD "z"},
        {"overlong 3-byte NUL", "a\xE0\x80\x80z", "a" FFFD FFFD FFFD "z"},
        {"overlong 4-byte NUL", "a\xF0\x80\x80\x80z", "a" FFFD FFFD FFFD FFFD "z"},
        {"surrogate U+D800", "a\xED\xA0\x80z", "a" FFFD FFFD FFFD "z"},
        {"surrogate U+DFFF", "a\xED\xBF\xBFz", "a" FFFD FFFD FFFD "z"},
        {"U+110000", "a\xF4\x90\x80\x80z", "a" FFFD FFFD FFFD FFFD "z"},
        {"F5 lead", "a\xF5\x80\x80\x80z", "a" FFFD FFFD FFFD FFFD "z"},
        {"FF byte", "a\xFFz", "a" FFFD "z"},
        {"lone continuation", "a\x80z", "a" FFFD "z"},
        {"truncated 3-byte at the end", "ab\xE2\x82", "ab" FFFD},
        {"truncated 4-byte at the end", "ab\xF0\x9F\x98", "ab" FFFD},
        {"truncated 3-byte before ASCII", "\xE2\x82(", FFFD "("},
        {"well-formed passes", "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\xF4\x8F\xBF\xBF",
         "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\xF4\x8F\xBF\xBF"},
    };
    log_set_level(LOG_LEVEL_INFO);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        capture c;
        log_invocation line = {.request_id = "r", .method = cases[i].in, .status = 400};
        capture_start(&c);
        log_invocation_line(&line);
        json_t *doc = only_line(capture_end(&c));
        if (strcmp(field(doc, "method"), cases[i].want) != 0)
            fail_msg("'%s': escaped differently", cases[i].what);
        json_decref(doc);
    }
}

static void test_invocation_line_fields(void **state) {
    (void)state;
    capture c;
    log_set_level(LOG_LEVEL_INFO);
    log_invocation ok = {.request_id = "a",
                         .method = "GET",
                         .route = "/users/{userId}",
                         .status = 200,
                         .duration_ms = 1.5,
                         .ddb_attempts = 1};
    capture_start(&c);
    log_invocation_line(&ok);
    json_t *doc = only_line(capture_end(&c));
    assert_string_equal(field(doc, "level"), "INFO");
    assert_string_equal(field(doc, "route"), "/users/{userId}");
    assert_int_equal(json_integer_value(json_object_get(doc, "status")), 200);
    assert_int_equal(json_integer_value(json_object_get(doc, "ddbAttempts")), 1);
    assert_true(json_real_value(json_object_get(doc, "durationMs")) == 1.5);
    assert_null(json_object_get(doc, "ddbError"));
    assert_null(json_object_get(doc, "code"));
    json_decref(doc);

    log_invocation failed = {.request_id = "b",
                             .method = "POST",
                             .route = "/users",
                             .status = 503,
                             .ddb_attempts = 8,
                             .ddb_error = "ThrottlingException",
                             .code = "SERVICE_UNAVAILABLE"};
    capture_start(&c);
    log_invocation_line(&failed);
    doc = only_line(capture_end(&c));
    assert_string_equal(field(doc, "level"), "ERROR");
    assert_string_equal(field(doc, "ddbError"), "ThrottlingException");
    assert_string_equal(field(doc, "code"), "SERVICE_UNAVAILABLE");
    json_decref(doc);

    /* At ERROR, a success is not logged, a 5xx is. */
    log_set_level(LOG_LEVEL_ERROR);
    capture_start(&c);
    log_invocation_line(&ok);
    assert_string_equal(capture_end(&c), "");
    log_set_level(LOG_LEVEL_INFO);
}

/* Lambda's fields: who asked, the trace, the cold start and the function. */
static void test_invocation_line_lambda_fields(void **state) {
    (void)state;
    capture c;
    log_set_level(LOG_LEVEL_INFO);
    log_invocation cold = {.request_id = "api-1",
                           .aws_request_id = "8f507cfc-0ba1-4a5c-9e9c-6e1f0c6c1c0d",
                           .trace_id = "1-5759e988-bd862e3fe1be46a994272793",
                           .cold_start = true,
                           .function_name = "users-api-Function",
                           .function_version = "$LATEST",
                           .method = "GET",
                           .route = "/users",
                           .status = 200};
    capture_start(&c);
    log_invocation_line(&cold);
    json_t *doc = only_line(capture_end(&c));
    assert_string_equal(field(doc, "requestId"), "api-1");
    assert_string_equal(field(doc, "awsRequestId"), "8f507cfc-0ba1-4a5c-9e9c-6e1f0c6c1c0d");
    assert_string_equal(field(doc, "traceId"), "1-5759e988-bd862e3fe1be46a994272793");
    assert_true(json_is_true(json_object_get(doc, "coldStart")));
    assert_string_equal(field(doc, "functionName"), "users-api-Function");
    assert_string_equal(field(doc, "functionVersion"), "$LATEST");
    assert_string_equal(field(doc, "message"), "invocation");
    assert_null(json_object_get(doc, "_aws")); /* no metrics asked for */
    json_decref(doc);

    /* A warm invocation without a trace or Lambda's environment: coldStart false, the other
     * members left out rather than empty. */
    log_invocation warm = {.request_id = "api-2",
                           .aws_request_id = "",
                           .trace_id = "",
                           .function_name = NULL,
                           .function_version = "",
                           .method = "GET",
                           .status = 404};
    capture_start(&c);
    log_invocation_line(&warm);
    doc = only_line(capture_end(&c));
    assert_true(json_is_false(json_object_get(doc, "coldStart")));
    assert_null(json_object_get(doc, "awsRequestId"));
    assert_null(json_object_get(doc, "traceId"));
    assert_null(json_object_get(doc, "functionName"));
    assert_null(json_object_get(doc, "functionVersion"));
    assert_null(json_object_get(doc, "route"));
    json_decref(doc);

    /* What comes from the environment is escaped like the rest. */
    log_invocation odd = {.request_id = "api-3",
                          .aws_request_id = "a\"b",
                          .function_name = "fn\n\x01",
                          .function_version = "\xff",
                          .method = "GET",
                          .status = 200};
    capture_start(&c);
    log_invocation_line(&odd);
    doc = only_line(capture_end(&c));
    assert_string_equal(field(doc, "awsRequestId"), "a\"b");
    assert_string_equal(field(doc, "functionName"), "fn\n\x01");
    assert_string_equal(field(doc, "functionVersion"), "\xef\xbf\xbd");
    json_decref(doc);
}

/* A line that carries metrics is their only record: it is written whatever the level. */
static void test_metrics_line_ignores_the_level(void **state) {
    (void)state;
    capture c;
    emf_config cfg = {.namespace_ = "UsersApi", .service = "users-api", .per_operation = true};
    emf_values v = {.timestamp_ms = 1795523696789LL, .operation = "GetUser", .latency_ms = 2.5};
    log_invocation line = {.request_id = "api-1",
                           .method = "GET",
                           .route = "/users/{userId}",
                           .status = 200,
                           .metrics_config = &cfg,
                           .metrics = &v};
    log_set_level(LOG_LEVEL_ERROR);
    capture_start(&c);
    log_invocation_line(&line);
    json_t *doc = only_line(capture_end(&c));
    assert_string_equal(field(doc, "level"), "INFO"); /* its level is still what it is */
    json_t *aws = json_object_get(doc, "_aws");
    assert_non_null(aws);
    assert_int_equal(json_integer_value(json_object_get(aws, "Timestamp")), 1795523696789LL);
    assert_string_equal(field(doc, "Operation"), "GetUser");
    assert_string_equal(field(doc, "Service"), "users-api");
    assert_true(json_number_value(json_object_get(doc, "Latency")) == 2.5);
    json_decref(doc);

    /* Without metrics the level decides, as before. */
    line.metrics = NULL;
    line.metrics_config = NULL;
    capture_start(&c);
    log_invocation_line(&line);
    assert_string_equal(capture_end(&c), "");
    log_set_level(LOG_LEVEL_INFO);
}

/* Several invocations of one process: one line each, the first alone cold. */
static void test_lines_over_several_invocations(void **state) {
    (void)state;
    capture c;
    emf_config cfg = {.namespace_ = "UsersApi", .service = "users-api", .per_operation = true};
    log_set_level(LOG_LEVEL_INFO);
    capture_start(&c);
    for (int i = 0; i < 3; i++) {
        char id[16];
        snprintf(id, sizeof id, "aws-%d", i);
        emf_values v = {.timestamp_ms = 1795523696789LL + i,
                        .operation = "ListUsers",
                        .latency_ms = 1.0,
                        .cold_start = i == 0};
        log_invocation line = {.request_id = "api",
                               .aws_request_id = id,
                               .cold_start = i == 0,
                               .method = "GET",
                               .status = 200,
                               .metrics_config = &cfg,
                               .metrics = &v};
        log_invocation_line(&line);
    }
    const char *text = capture_end(&c);
    for (int i = 0; i < 3; i++) {
        const char *nl = strchr(text, '\n');
        assert_non_null(nl);
        json_t *doc = json_loadb(text, (size_t)(nl - text), 0, NULL);
        assert_non_null(doc);
        char id[16];
        snprintf(id, sizeof id, "aws-%d", i);
        assert_string_equal(field(doc, "awsRequestId"), id);
        assert_int_equal(json_is_true(json_object_get(doc, "coldStart")), i == 0);
        assert_int_equal(json_object_get(doc, "ColdStart") != NULL, i == 0);
        json_decref(doc);
        text = nl + 1;
    }
    assert_string_equal(text, "");
}

static void test_overlong_line_stays_json(void **state) {
    (void)state;
    capture c;
    char *long_id = malloc(20000);
    assert_non_null(long_id);
    memset(long_id, 'i', 19999);
    long_id[19999] = '\0';
    log_invocation line = {.request_id = long_id, .method = "GET", .status = 200};
    capture_start(&c);
    log_invocation_line(&line);
    json_t *doc = only_line(capture_end(&c));
    assert_string_equal(field(doc, "level"), "WARN");
    json_decref(doc);
    free(long_id);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_message_line),
        cmocka_unit_test(test_levels_filter),
        cmocka_unit_test(test_level_from_env),
        cmocka_unit_test(test_client_data_is_escaped),
        cmocka_unit_test(test_invalid_utf8_is_replaced),
        cmocka_unit_test(test_invocation_line_fields),
        cmocka_unit_test(test_invocation_line_lambda_fields),
        cmocka_unit_test(test_metrics_line_ignores_the_level),
        cmocka_unit_test(test_lines_over_several_invocations),
        cmocka_unit_test(test_overlong_line_stays_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

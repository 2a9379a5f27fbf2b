/* test_faults.c — fault injection: the real DynamoDB client and users handler against a
 * misbehaving DynamoDB (tests/support/fake_http), and the real bootstrap binary against a
 * misbehaving Lambda Runtime API (users-api.md, "When DynamoDB misbehaves"; decisions.md,
 * "DynamoDB faults" and "Events and the process").
 *
 * Each DynamoDB fault is checked three ways: once, then success (retried, one more attempt);
 * for ever (503 SERVICE_UNAVAILABLE with Retry-After, answered before the deadline); and the
 * next request served fine afterwards. Writes are reported as success only when DynamoDB
 * acknowledged them. The measured time to spare before each deadline is printed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "bootproc.h"
#include "ddb.h"
#include "fake_ddb.h"
#include "fake_http.h"
#include "users.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "http.h"

#define ID      "3f0c8a9e-8d1b-4c2a-9f5e-2b7d3c1a4e6f"
#define NOW_MS  1795523696789LL
#define NOW_ISO "2026-11-24T12:34:56.789Z"
#define CT      "Content-Type: application/x-amz-json-1.0\r\n"
#define ERR     "com.amazonaws.dynamodb.v20120810#"
#define ERROR_BODY(type)                                                                           \
    "{\"__type\":\"" ERR type "\",\"message\":\"The request was refused by the test\"}"

/* The item a create of CREATE_BODY writes, given the fixed clock and id. */
#define CREATE_BODY "{\"name\":\"Ada Lovelace\",\"email\":\"Ada@Example.com\",\"age\":36}"
/* A stored item; the write token is the request's (the fixed id source hands out ID for it
 * too) or somebody else's. */
#define OTHER_TOKEN "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
#define ITEM_FIELDS(name, token)                                                                   \
    "\"userId\":{\"S\":\"" ID "\"},\"name\":{\"S\":\"" name "\"},"                                 \
    "\"lastWriteToken\":{\"S\":\"" token "\"},"                                                    \
    "\"email\":{\"S\":\"Ada@Example.com\"},\"emailLower\":{\"S\":\"ada@example.com\"},"            \
    "\"age\":{\"N\":\"36\"},\"createdAt\":{\"S\":\"" NOW_ISO "\"},"                                \
    "\"updatedAt\":{\"S\":\"" NOW_ISO "\"},\"version\":{\"N\":\"1\"}"
#define OWN_ITEM   "{" ITEM_FIELDS("Ada Lovelace", ID) "}"
#define OTHER_ITEM "{" ITEM_FIELDS("Somebody Else", OTHER_TOKEN) "}"

#ifndef USERS_BOOTSTRAP
#error "USERS_BOOTSTRAP (the bootstrap binary's path) must be defined by tests/CMakeLists.txt"
#endif

static int64_t wall_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- The handler over the real client ---- */

typedef struct t {
    fake_http *fake;
    ddb_client *client;
    int64_t now;
    users_deps deps;
    api_response resp;
    bool have_resp;
    users_outcome out;
    json_t *body;
    double elapsed_ms; /* of the last request */
} t;

static int64_t fixed_clock(void *ctx) {
    return *(const int64_t *)ctx;
}

static void fixed_id(char out[UA_UUID_LEN + 1], void *ctx) {
    (void)ctx;
    memcpy(out, ID, UA_UUID_LEN + 1);
}

static int setup(void **state) {
    t *x = calloc(1, sizeof *x);
    assert_non_null(x);
    x->fake = fake_http_start();
    assert_non_null(x->fake);
    char err[128];
    ddb_config cfg = {.region = "eu-west-1",
                      .endpoint = fake_http_url(x->fake),
                      .access_key_id = "AKIDEXAMPLE",
                      .secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"};
    x->client = ddb_client_new(&cfg, err, sizeof err);
    if (!x->client)
        fail_msg("ddb_client_new: %s", err);
    x->now = NOW_MS;
    x->deps = (users_deps){.table = "UsersTable",
                           .claims_table = "UsersTable-claims",
                           .ddb = ddb_client_port(x->client),
                           .now_ms = fixed_clock,
                           .clock_ctx = &x->now,
                           .new_id = fixed_id};
    *state = x;
    return 0;
}

static void drop(t *x) {
    if (x->have_resp)
        api_response_free(&x->resp);
    x->have_resp = false;
    json_decref(x->body);
    x->body = NULL;
}

static int teardown(void **state) {
    t *x = *state;
    drop(x);
    ddb_client_free(x->client);
    fake_http_stop(x->fake);
    free(x);
    return 0;
}

static double mono_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Handles method path (body, If-Match may be NULL) with the deadline deadline_ms from now;
 * returns the status. x->body holds the parsed answer. */
static int handle(t *x, const char *method, const char *path, const char *body,
                  const char *if_match, int64_t deadline_in_ms) {
    drop(x);
    api_request req = {.method = method,
                       .path = path,
                       .headers = json_object(),
                       .query = json_object(),
                       .body = body,
                       .body_len = body ? strlen(body) : 0,
                       .request_id = "faults-request"};
    assert_non_null(req.headers);
    if (body)
        json_object_set_new(req.headers, "content-type", json_pack("[s]", "application/json"));
    if (if_match)
        json_object_set_new(req.headers, "if-match", json_pack("[s]", if_match));
    assert_int_equal(api_response_init(&x->resp), UA_OK);
    x->have_resp = true;
    double start = mono_ms();
    users_handle(&x->deps, &req, wall_ms() + deadline_in_ms, &x->resp, &x->out);
    x->elapsed_ms = mono_ms() - start;
    json_decref(req.headers);
    json_decref(req.query);
    if (x->resp.body.len)
        x->body = json_loadb(buf_str(&x->resp.body), x->resp.body.len, 0, NULL);
    return x->resp.status;
}

static const char *header(const t *x, const char *name) {
    return json_string_value(json_object_get(x->resp.headers, name));
}

static void assert_problem(const t *x, int status, const char *code) {
    assert_int_equal(x->resp.status, status);
    assert_non_null(x->body);
    assert_string_equal(json_string_value(json_object_get(x->body, "code")), code);
    assert_int_equal(json_integer_value(json_object_get(x->body, "status")), status);
    assert_string_equal(header(x, "Content-Type"), "application/problem+json");
}

static void push_item(t *x, const char *item) {
    char body[1024];
    snprintf(body, sizeof body, "{\"Item\":%s}", item);
    fake_http_push(x->fake, &(fake_response){.headers = CT, .body = body, .crc = true});
}

static void push_error(t *x, int status, const char *type, const char *item) {
    char body[1024];
    snprintf(body, sizeof body, "{\"__type\":\"" ERR "%s\",\"message\":\"x\"%s%s}", type,
             item ? ",\"Item\":" : "", item ? item : "");
    fake_http_push(x->fake,
                   &(fake_response){.status = status, .headers = CT, .body = body, .crc = true});
}

/* The faults the contract retries, as the fake server produces them. */
typedef struct fault {
    const char *name;
    fake_response r;
} fault;

static const fault retried[] = {
    {"ProvisionedThroughputExceededException",
     {.status = 400,
      .headers = CT,
      .body = ERROR_BODY("ProvisionedThroughputExceededException"),
      .crc = true}},
    {"ThrottlingException",
     {.status = 400, .headers = CT, .body = ERROR_BODY("ThrottlingException"), .crc = true}},
    {"RequestLimitExceeded",
     {.status = 400, .headers = CT, .body = ERROR_BODY("RequestLimitExceeded"), .crc = true}},
    {"500 InternalServerError",
     {.status = 500, .headers = CT, .body = ERROR_BODY("InternalServerError"), .crc = true}},
    {"503 ServiceUnavailable",
     {.status = 503, .headers = CT, .body = ERROR_BODY("ServiceUnavailable"), .crc = true}},
    {"429 from a proxy", {.status = 429, .body = "Too Many Requests"}},
    {"200 with garbage", {.body = "<html>surprise</html>"}},
    {"200 with an empty body", {.headers = CT}},
    {"500 with garbage", {.status = 500, .body = "\x01\x02\x03"}},
    {"truncated body",
     {.headers = CT, .body = "{\"Item\":{\"userId\":{\"S\":\"x\"}}}", .fault = FAKE_TRUNCATE}},
    {"wrong x-amz-crc32", {.headers = CT, .body = "{\"Item\":{}}", .fault = FAKE_BAD_CRC}},
    {"connection closed", {.fault = FAKE_CLOSE}},
    {"body cut by a closed connection", {.headers = CT, .body = "{\"Item\":", .no_length = true}},
};
#define N_RETRIED (sizeof retried / sizeof retried[0])

/* ---- DynamoDB faults ---- */

static void test_each_fault_once_is_retried(void **state) {
    t *x = *state;
    for (size_t i = 0; i < N_RETRIED; i++) {
        fake_http_reset(x->fake);
        fake_http_push(x->fake, &retried[i].r);
        push_item(x, OWN_ITEM);
        int status = handle(x, "GET", "/users/" ID, NULL, NULL, 5000);
        /* libcurl itself resends a request whose reused connection died before any answer
         * arrived: DynamoDB saw two requests either way, and the count says so (issue 11). */
        if (status != 200 || x->out.ddb_attempts != 2)
            fail_msg("%s once: status %d after %u attempts", retried[i].name, status,
                     x->out.ddb_attempts);
        assert_int_equal(fake_http_request_count(x->fake), 2);
        assert_string_equal(json_string_value(json_object_get(x->body, "userId")), ID);
    }
}

static void test_each_fault_forever_is_503_before_the_deadline(void **state) {
    t *x = *state;
    const int64_t budget = 900;
    double worst_spare = 1e9;
    for (size_t i = 0; i < N_RETRIED; i++) {
        fake_http_reset(x->fake);
        fake_http_set_default(x->fake, &retried[i].r);
        int status = handle(x, "GET", "/users/" ID, NULL, NULL, budget);
        if (status != 503)
            fail_msg("%s for ever: status %d", retried[i].name, status);
        assert_problem(x, 503, "SERVICE_UNAVAILABLE");
        assert_string_equal(header(x, "Retry-After"), "1");
        /* At most UA_DDB_MAX_ATTEMPTS attempts of ours, each of which libcurl may send twice on
         * a kept-alive connection found dead; every request that reached the server counted. */
        assert_true(fake_http_request_count(x->fake) >= 1);
        assert_true(x->out.ddb_attempts >= fake_http_request_count(x->fake));
        assert_true(x->out.ddb_attempts <= 2 * UA_DDB_MAX_ATTEMPTS);
        if (x->elapsed_ms >= (double)budget)
            fail_msg("%s: answered after %.0f ms, past the %lld ms deadline", retried[i].name,
                     x->elapsed_ms, (long long)budget);
        if ((double)budget - x->elapsed_ms < worst_spare)
            worst_spare = (double)budget - x->elapsed_ms;

        /* The next request is served as if nothing had happened. */
        fake_http_set_default(x->fake, &(fake_response){.status = 404});
        fake_http_reset(x->fake);
        push_item(x, OWN_ITEM);
        assert_int_equal(handle(x, "GET", "/users/" ID, NULL, NULL, 5000), 200);
        assert_int_equal(x->out.ddb_attempts, 1);
    }
    print_message("faults for ever: 503 with at least %.0f ms to spare of a %lld ms deadline\n",
                  worst_spare, (long long)budget);
}

static void test_retries_stop_at_the_attempt_cap(void **state) {
    t *x = *state;
    fake_http_set_default(x->fake, &retried[4].r); /* 503 for ever, and a long deadline */
    assert_int_equal(handle(x, "DELETE", "/users/" ID, NULL, NULL, 20000), 503);
    assert_problem(x, 503, "SERVICE_UNAVAILABLE");
    assert_int_equal(x->out.ddb_attempts, UA_DDB_MAX_ATTEMPTS);
    assert_int_equal(fake_http_request_count(x->fake), UA_DDB_MAX_ATTEMPTS);
    /* Seven full-jitter sleeps under 25·2^n ms capped at 1 s: at most 2.575 s in all. */
    assert_true(x->elapsed_ms < 2575 + 1000);
    print_message("8 attempts against a 503 for ever took %.0f ms\n", x->elapsed_ms);
}

static void test_stalled_dynamodb_is_503_before_the_deadline(void **state) {
    t *x = *state;
    fake_http_set_default(x->fake, &(fake_response){.headers = CT, .body = "{}", .stall_ms = 8000});
    const int64_t budget = 1500;
    assert_int_equal(handle(x, "POST", "/users", CREATE_BODY, NULL, budget), 503);
    assert_problem(x, 503, "SERVICE_UNAVAILABLE");
    assert_true(x->elapsed_ms < (double)budget);
    /* It waited for DynamoDB until the margin, not less. */
    assert_true(x->elapsed_ms >= (double)(budget - UA_DEADLINE_MARGIN_MS - 100));
    print_message("stalled DynamoDB: 503 after %.0f ms of a %lld ms deadline\n", x->elapsed_ms,
                  (long long)budget);
}

static void test_expired_deadline_is_503_without_a_request(void **state) {
    t *x = *state;
    assert_int_equal(handle(x, "GET", "/users/" ID, NULL, NULL, UA_DEADLINE_MARGIN_MS - 50), 503);
    assert_problem(x, 503, "SERVICE_UNAVAILABLE");
    assert_int_equal(fake_http_request_count(x->fake), 0);
}

static void test_non_retryable_errors_are_500_and_hide_the_type(void **state) {
    t *x = *state;
    static const char *const types[] = {"ValidationException", "AccessDeniedException",
                                        "ResourceNotFoundException"};
    for (size_t i = 0; i < 3; i++) {
        fake_http_reset(x->fake);
        push_error(x, 400, types[i], NULL);
        assert_int_equal(handle(x, "GET", "/users/" ID, NULL, NULL, 5000), 500);
        assert_problem(x, 500, "INTERNAL");
        assert_int_equal(x->out.ddb_attempts, 1);
        assert_string_equal(x->out.ddb_error, types[i]);
        assert_null(strstr(buf_str(&x->resp.body), types[i]));
        assert_null(strstr(buf_str(&x->resp.body), "refused"));
    }
}

/* ---- Writes: success only when acknowledged ---- */

/* A TransactionCanceledException as DynamoDB sends it, with reasons (a JSON array). */
static void push_cancelled(t *x, const char *reasons) {
    char body[1024];
    snprintf(body, sizeof body,
             "{\"__type\":\"" ERR "TransactionCanceledException\",\"Message\":\"Transaction "
             "cancelled, please refer cancellation reasons for specific reasons\","
             "\"CancellationReasons\":%s}",
             reasons);
    fake_http_push(x->fake,
                   &(fake_response){.status = 400, .headers = CT, .body = body, .crc = true});
}

#define R_NONE "{\"Code\":\"None\"}"
#define R_FAILED                                                                                   \
    "{\"Code\":\"ConditionalCheckFailed\",\"Message\":\"The conditional request failed\"}"
#define R_CONFLICT                                                                                 \
    "{\"Code\":\"TransactionConflict\",\"Message\":\"Transaction is ongoing for the item\"}"
#define R_CLAIM_OF_OTHER                                                                           \
    "{\"Code\":\"ConditionalCheckFailed\",\"Item\":{\"pk\":{\"S\":\"email#ada@example.com\"},"     \
    "\"userId\":{\"S\":\"0b6f3c9e-1d2a-4e5f-8a7b-9c0d1e2f3a4b\"}}}"

/* The two requests of a retried call went out byte for byte the same, as op. */
static void assert_same_request_twice(const t *x, const char *op) {
    const fake_request *a = fake_http_request(x->fake, 0), *b = fake_http_request(x->fake, 1);
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(a->body_len, b->body_len);
    assert_memory_equal(a->body, b->body, a->body_len);
    char target[64], want[64];
    snprintf(want, sizeof want, "DynamoDB_20120810.%s", op);
    assert_true(fake_request_header(b, "X-Amz-Target", target, sizeof target));
    assert_string_equal(target, want);
}

/* A create's transaction whose answer was lost is sent again with the same client token;
 * DynamoDB answers the retry of an applied transaction with success, which is the 201. */
static void test_create_lost_then_acknowledged_is_201(void **state) {
    t *x = *state;
    static const fake_response lost[] = {{.fault = FAKE_CLOSE},
                                         {.headers = CT, .body = "{}", .fault = FAKE_TRUNCATE},
                                         {.status = 500, .body = "{}"}};
    for (size_t i = 0; i < 3; i++) {
        fake_http_reset(x->fake);
        fake_http_push(x->fake, &lost[i]);
        fake_http_push(x->fake, &(fake_response){.headers = CT, .body = "{}", .crc = true});
        assert_int_equal(handle(x, "POST", "/users", CREATE_BODY, NULL, 5000), 201);
        assert_int_equal(x->out.ddb_attempts, 2);
        assert_string_equal(header(x, "Location"), "/users/" ID);
        assert_string_equal(header(x, "ETag"), "\"1\"");
        assert_string_equal(json_string_value(json_object_get(x->body, "name")), "Ada Lovelace");
        /* The retry sent the same items under the same client token. */
        assert_same_request_twice(x, "TransactWriteItems");
        const char *sent = fake_http_request(x->fake, 0)->body;
        assert_non_null(strstr(sent, "\"ClientRequestToken\":\"" ID "\""));
        assert_non_null(strstr(sent, "attribute_not_exists(userId)"));
        assert_non_null(strstr(sent, "\"email#ada@example.com\""));
    }
}

/* A retry that is cancelled was not applied (the client token would have made it succeed):
 * never a 201, and what the cancellation says holds. */
static void test_create_lost_then_cancelled_is_not_201(void **state) {
    t *x = *state;
    fake_http_push(x->fake, &(fake_response){.fault = FAKE_CLOSE});
    push_cancelled(x, "[" R_NONE "," R_CLAIM_OF_OTHER "]");
    assert_int_equal(handle(x, "POST", "/users", CREATE_BODY, NULL, 5000), 409);
    assert_problem(x, 409, "EMAIL_TAKEN");
    assert_null(header(x, "Location"));
    assert_null(header(x, "ETag"));

    fake_http_reset(x->fake); /* the new id already taken: not this request's to claim */
    fake_http_push(x->fake, &(fake_response){.fault = FAKE_CLOSE});
    push_cancelled(x, "[" R_FAILED "," R_NONE "]");
    assert_int_equal(handle(x, "POST", "/users", CREATE_BODY, NULL, 5000), 500);
    assert_problem(x, 500, "INTERNAL");
    assert_null(header(x, "Location"));
}

/* A transaction cancelled only by a conflict with another transaction (or throttled) is
 * retried like any passing fault: success once it passes, 503 before the deadline when it never
 * does. A failed condition outweighs a conflict on another item: no retry can help it. */
static void test_transaction_conflicts_are_retried(void **state) {
    t *x = *state;
    push_cancelled(x, "[" R_NONE "," R_CONFLICT "]");
    push_cancelled(x, "[" R_CONFLICT "," R_NONE "]");
    fake_http_push(x->fake, &(fake_response){.headers = CT, .body = "{}", .crc = true});
    assert_int_equal(handle(x, "POST", "/users", CREATE_BODY, NULL, 5000), 201);
    assert_int_equal(x->out.ddb_attempts, 3);
    assert_int_equal(fake_http_request_count(x->fake), 3);
    assert_same_request_twice(x, "TransactWriteItems");

    /* TransactionInProgressException: the same token still running; TransactionConflict-
     * Exception: a single-item write meeting a transaction. */
    fake_http_reset(x->fake);
    push_error(x, 400, "TransactionInProgressException", NULL);
    fake_http_push(x->fake, &(fake_response){.headers = CT, .body = "{}", .crc = true});
    assert_int_equal(handle(x, "POST", "/users", CREATE_BODY, NULL, 5000), 201);
    assert_int_equal(x->out.ddb_attempts, 2);
    fake_http_reset(x->fake);
    push_error(x, 400, "TransactionConflictException", NULL);
    char body[1024];
    snprintf(body, sizeof body, "{\"Attributes\":%s}", OWN_ITEM);
    fake_http_push(x->fake, &(fake_response){.headers = CT, .body = body, .crc = true});
    assert_int_equal(handle(x, "PATCH", "/users/" ID, "{\"age\":36}", NULL, 5000), 200);
    assert_int_equal(x->out.ddb_attempts, 2);

    fake_http_reset(x->fake);
    push_cancelled(x, "[" R_CONFLICT "," R_CLAIM_OF_OTHER "]");
    assert_int_equal(handle(x, "POST", "/users", CREATE_BODY, NULL, 5000), 409);
    assert_int_equal(x->out.ddb_attempts, 1);

    /* For ever: 503 with Retry-After, within the deadline. */
    fake_http_reset(x->fake);
    fake_http_set_default(
        x->fake, &(fake_response){.status = 400,
                                  .headers = CT,
                                  .body = "{\"__type\":\"" ERR "TransactionCanceledException\","
                                          "\"CancellationReasons\":[" R_NONE "," R_CONFLICT "]}",
                                  .crc = true});
    const int64_t budget = 900;
    assert_int_equal(handle(x, "POST", "/users", CREATE_BODY, NULL, budget), 503);
    assert_problem(x, 503, "SERVICE_UNAVAILABLE");
    assert_string_equal(header(x, "Retry-After"), "1");
    assert_null(header(x, "Location"));
    assert_string_equal(x->out.ddb_error, "TransactionCanceledException");
    assert_true(x->out.ddb_attempts >= 2);
    assert_true(x->elapsed_ms < (double)budget);
    print_message("transaction conflicts for ever: 503 after %u attempts in %.0f ms of %lld\n",
                  x->out.ddb_attempts, x->elapsed_ms, (long long)budget);
    fake_http_set_default(x->fake, &(fake_response){.status = 404});
}

static void test_put_never_acknowledged_is_never_201(void **state) {
    t *x = *state;
    fake_http_set_default(x->fake, &(fake_response){.fault = FAKE_CLOSE});
    assert_int_equal(handle(x, "POST", "/users", CREATE_BODY, NULL, 1500), 503);
    assert_problem(x, 503, "SERVICE_UNAVAILABLE");
    assert_null(header(x, "Location"));
    assert_true(x->out.ddb_attempts >= 2);
}

static void test_update_lost_then_own_token_is_200(void **state) {
    t *x = *state;
    static const fake_response lost[] = {{.fault = FAKE_CLOSE},
                                         {.headers = CT, .body = "{}", .fault = FAKE_TRUNCATE},
                                         {.status = 500, .body = "{}"}};
    for (size_t i = 0; i < 3; i++) {
        for (int tagged = 0; tagged < 2; tagged++) {
            fake_http_reset(x->fake);
            fake_http_push(x->fake, &lost[i]);
            push_error(x, 400, "ConditionalCheckFailedException", OWN_ITEM);
            int status =
                handle(x, "PATCH", "/users/" ID, "{\"age\":36}", tagged ? "\"1\"" : NULL, 5000);
            assert_int_equal(status, 200);
            assert_string_equal(header(x, "ETag"), "\"1\"");
            assert_string_equal(json_string_value(json_object_get(x->body, "name")),
                                "Ada Lovelace");
            assert_int_equal(x->out.ddb_attempts, 2);
            /* Every attempt carried the token, in the value and in the condition. */
            const fake_request *a = fake_http_request(x->fake, 0);
            const fake_request *b = fake_http_request(x->fake, 1);
            assert_int_equal(a->body_len, b->body_len);
            assert_memory_equal(a->body, b->body, a->body_len);
            assert_non_null(strstr(a->body, "#lastWriteToken <> :token"));
            assert_non_null(strstr(a->body, "\":token\":{\"S\":\"" ID "\"}"));
        }
    }
}

static void test_update_lost_then_gone_is_503_not_404(void **state) {
    t *x = *state;
    fake_http_push(x->fake, &(fake_response){.fault = FAKE_CLOSE});
    push_error(x, 400, "ConditionalCheckFailedException", NULL);
    assert_int_equal(handle(x, "PATCH", "/users/" ID, "{\"age\":37}", NULL, 5000), 503);
    assert_problem(x, 503, "SERVICE_UNAVAILABLE");
    assert_non_null(header(x, "Retry-After"));

    /* Acknowledged on the retry: what DynamoDB answered is what the client sees. */
    fake_http_reset(x->fake);
    fake_http_push(x->fake, &(fake_response){.fault = FAKE_CLOSE});
    char body[1024];
    snprintf(body, sizeof body, "{\"Attributes\":%s}", OWN_ITEM);
    fake_http_push(x->fake, &(fake_response){.headers = CT, .body = body, .crc = true});
    assert_int_equal(handle(x, "PATCH", "/users/" ID, "{\"age\":36}", NULL, 5000), 200);
    assert_string_equal(header(x, "ETag"), "\"1\"");
    assert_int_equal(fake_http_request_count(x->fake), 2);
}

/* After a lost answer, another writer's token proves nothing: 503. After a throttled attempt
 * (DynamoDB refused it, so it was not applied) the same failure is the 412 it says. */
static void test_conditional_update_lost_then_moved_on(void **state) {
    t *x = *state;
    fake_http_push(x->fake, &(fake_response){.status = 503, .body = "{}"});
    push_error(x, 400, "ConditionalCheckFailedException", OTHER_ITEM);
    assert_int_equal(handle(x, "PUT", "/users/" ID, "{\"age\":37}", "\"1\"", 5000), 503);
    assert_problem(x, 503, "SERVICE_UNAVAILABLE");

    fake_http_reset(x->fake);
    push_error(x, 400, "ThrottlingException", NULL);
    push_error(x, 400, "ConditionalCheckFailedException", OTHER_ITEM);
    assert_int_equal(handle(x, "PUT", "/users/" ID, "{\"age\":37}", "\"1\"", 5000), 412);
    assert_problem(x, 412, "PRECONDITION_FAILED");
}

/* A delete reads the user, then deletes it in a transaction. That transaction's answer lost:
 * the retry carries the same client token, so DynamoDB answers success when the first attempt
 * was applied, and a cancelled retry proves it was not: the next read tells the truth. */
static void test_delete_lost_answer_is_settled_by_the_client_token(void **state) {
    t *x = *state;
    push_item(x, OWN_ITEM);
    fake_http_push(x->fake, &(fake_response){.headers = CT, .body = "{}", .fault = FAKE_TRUNCATE});
    fake_http_push(x->fake, &(fake_response){.headers = CT, .body = "{}", .crc = true});
    assert_int_equal(handle(x, "DELETE", "/users/" ID, NULL, NULL, 5000), 200);
    assert_int_equal(x->out.ddb_attempts, 3);
    const fake_request *a = fake_http_request(x->fake, 1), *b = fake_http_request(x->fake, 2);
    assert_int_equal(a->body_len, b->body_len);
    assert_memory_equal(a->body, b->body, a->body_len);
    assert_non_null(strstr(a->body, "\"ClientRequestToken\""));
    assert_non_null(strstr(a->body, "\"email#ada@example.com\""));

    /* Cancelled on the retry, and the user gone by the next read: 404. */
    fake_http_reset(x->fake);
    push_item(x, OWN_ITEM);
    fake_http_push(x->fake, &(fake_response){.fault = FAKE_CLOSE});
    push_cancelled(x, "[" R_FAILED "," R_NONE "]");
    fake_http_push(x->fake, &(fake_response){.headers = CT, .body = "{}", .crc = true});
    assert_int_equal(handle(x, "DELETE", "/users/" ID, NULL, NULL, 5000), 404);
    assert_problem(x, 404, "NOT_FOUND");

    /* The read alone answers If-Match: 412 without a transaction. */
    fake_http_reset(x->fake);
    push_item(x, OTHER_ITEM);
    assert_int_equal(handle(x, "DELETE", "/users/" ID, NULL, "\"7\"", 5000), 412);
    assert_int_equal(fake_http_request_count(x->fake), 1);

    /* A transaction never answered: 503, never 200. */
    fake_http_reset(x->fake);
    push_item(x, OWN_ITEM);
    fake_http_set_default(x->fake, &(fake_response){.fault = FAKE_CLOSE});
    assert_int_equal(handle(x, "DELETE", "/users/" ID, NULL, NULL, 1500), 503);
    assert_non_null(header(x, "Retry-After"));
    fake_http_set_default(x->fake, &(fake_response){.status = 404});
}

/* ---- Replies that are not what was asked for ---- */

static void test_items_that_are_not_users(void **state) {
    t *x = *state;
    /* Regression: an item whose userId is not a canonical id (written by something else) was
     * returned as a user with that id, which no GET could address. */
    static const char *const not_users[] = {
        "{\"userId\":{\"S\":\"3F0C8A9E-8D1B-4C2A-9F5E-2B7D3C1A4E6F\"},\"name\":{\"S\":\"a\"},"
        "\"email\":{\"S\":\"a@b.cd\"},\"createdAt\":{\"S\":\"" NOW_ISO "\"},"
        "\"updatedAt\":{\"S\":\"" NOW_ISO "\"},\"version\":{\"N\":\"1\"}}",
        "{\"userId\":{\"S\":\"legacy-7\"},\"name\":{\"S\":\"a\"},\"email\":{\"S\":\"a@b.cd\"},"
        "\"createdAt\":{\"S\":\"" NOW_ISO "\"},\"updatedAt\":{\"S\":\"" NOW_ISO "\"},"
        "\"version\":{\"N\":\"1\"}}",
        "{\"userId\":{\"S\":\"" ID "\"},\"name\":{\"S\":\"a\"},\"email\":{\"S\":\"a@b.cd\"},"
        "\"createdAt\":{\"S\":\"" NOW_ISO "\"},\"updatedAt\":{\"S\":\"" NOW_ISO "\"},"
        "\"version\":{\"N\":\"1.5\"}}",
        "{\"userId\":{\"S\":\"" ID "\"},\"name\":{\"N\":\"1\"},\"email\":{\"S\":\"a@b.cd\"},"
        "\"createdAt\":{\"S\":\"" NOW_ISO "\"},\"updatedAt\":{\"S\":\"" NOW_ISO "\"},"
        "\"version\":{\"N\":\"1\"}}",
    };
    for (size_t i = 0; i < sizeof not_users / sizeof not_users[0]; i++) {
        fake_http_reset(x->fake);
        push_item(x, not_users[i]);
        assert_int_equal(handle(x, "GET", "/users/" ID, NULL, NULL, 5000), 500);
        assert_problem(x, 500, "INTERNAL");

        char page[2048];
        snprintf(page, sizeof page, "{\"Items\":[%s,%s],\"Count\":2}", not_users[i], OWN_ITEM);
        fake_http_reset(x->fake);
        fake_http_push(x->fake, &(fake_response){.headers = CT, .body = page, .crc = true});
        assert_int_equal(handle(x, "GET", "/users", NULL, NULL, 5000), 200);
        const json_t *users = json_object_get(x->body, "users");
        assert_int_equal(json_array_size(users), 1);
        assert_string_equal(json_string_value(json_object_get(json_array_get(users, 0), "userId")),
                            ID);
        assert_int_equal(json_integer_value(json_object_get(x->body, "count")), 1);
    }
}

static void test_foreign_page_key_is_500(void **state) {
    t *x = *state;
    fake_http_push(x->fake, &(fake_response){.headers = CT,
                                             .body = "{\"Items\":[],\"Count\":0,"
                                                     "\"LastEvaluatedKey\":{\"id\":{\"N\":\"7\"}}}",
                                             .crc = true});
    assert_int_equal(handle(x, "GET", "/users", NULL, NULL, 5000), 500);
    assert_problem(x, 500, "INTERNAL");
}

/* ---- Memory running out ---- */

static long alloc_budget = -1; /* jansson allocations before the one that fails; -1: none */
static bool alloc_failed;

/* Fails one allocation, the budget-th, and lets the others through: memory that runs short
 * for a moment, as when one large request fails and small ones still succeed. */
static void *failing_malloc(size_t n) {
    if (alloc_budget-- == 0) {
        alloc_failed = true;
        return NULL;
    }
    return malloc(n);
}

/* Leaves zeros where the handler's frames will be, as a fresh stack would. */
static void __attribute__((noinline)) zero_stack(void) {
    volatile char junk[64 * 1024];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = 0;
}

/* Regression: when jansson could not allocate its lexer it failed without setting an error
 * code, and the handler read the code anyway (uninitialised memory, found by valgrind): a
 * fresh stack made it "unknown", answered 400 INVALID_JSON "line -1, column -1" for a valid
 * body. Out of memory is ours, not the client's fault: 500, or the success once memory
 * suffices. (jansson itself reports an allocation failure in the middle of a string as a
 * syntax error at that spot: that 400 cannot be told apart, and is let through.) */
static void test_out_of_memory_is_never_blamed_on_the_body(void **state) {
    (void)state;
    static const char *const methods[] = {"POST", "PATCH"};
    for (size_t m = 0; m < 2; m++) {
        bool completed = false;
        for (long budget = 0; budget < 5000 && !completed; budget++) {
            fake_ddb ddb;
            fake_ddb_init(&ddb);
            fake_ddb_push_json(&ddb, DDB_OK, m == 0 ? "{}" : "{\"Attributes\":" OWN_ITEM "}", NULL);
            int64_t now = NOW_MS;
            users_deps deps = {.table = "UsersTable",
                               .claims_table = "UsersTable-claims",
                               .ddb = fake_ddb_port(&ddb),
                               .now_ms = fixed_clock,
                               .clock_ctx = &now,
                               .new_id = fixed_id};
            api_request req = {.method = methods[m],
                               .path = m == 0 ? "/users" : "/users/" ID,
                               .headers = json_pack("{s:[s]}", "content-type", "application/json"),
                               .query = json_object(),
                               .body = CREATE_BODY,
                               .body_len = strlen(CREATE_BODY),
                               .request_id = "oom"};
            api_response resp;
            users_outcome out;
            assert_int_equal(api_response_init(&resp), UA_OK);
            alloc_failed = false;
            alloc_budget = budget;
            json_set_alloc_funcs(failing_malloc, free);
            zero_stack();
            users_handle(&deps, &req, wall_ms() + 5000, &resp, &out);
            json_set_alloc_funcs(malloc, free);
            alloc_budget = -1;
            int want = m == 0 ? 201 : 200;
            bool blamed = resp.status == 400 && strstr(buf_str(&resp.body), "line -1");
            if (blamed || (resp.status != 500 && resp.status != want && resp.status != 400))
                fail_msg("%s with %ld allocations allowed: status %d (%s)", methods[m], budget,
                         resp.status, buf_str(&resp.body));
            completed = !alloc_failed;
            if (completed)
                assert_int_equal(resp.status, want);
            api_response_free(&resp);
            json_decref(req.headers);
            json_decref(req.query);
            fake_ddb_free(&ddb);
        }
        assert_true(completed);
    }
}

/* ---- TLS: a DynamoDB endpoint that cannot prove who it is ---- */

/* A one-connection HTTPS server with a self-signed certificate for IP 127.0.0.1. */
typedef struct tls_server {
    int listen_fd, port;
    SSL_CTX *ctx;
    X509 *cert;
    EVP_PKEY *key;
    pthread_t thread;
    bool handshake_ok;
} tls_server;

static X509 *self_signed(EVP_PKEY *key) {
    X509 *x = X509_new();
    assert_non_null(x);
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, key);
    X509_NAME *name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"127.0.0.1", -1, -1,
                               0);
    X509_set_issuer_name(x, name);
    X509V3_CTX v3;
    X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
    X509_EXTENSION *san = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, "IP:127.0.0.1");
    assert_non_null(san);
    X509_add_ext(x, san, -1);
    X509_EXTENSION_free(san);
    assert_true(X509_sign(x, key, EVP_sha256()) > 0);
    return x;
}

static void *tls_serve(void *arg) {
    tls_server *s = arg;
    int fd = accept(s->listen_fd, NULL, NULL);
    if (fd < 0)
        return NULL;
    SSL *ssl = SSL_new(s->ctx);
    SSL_set_fd(ssl, fd);
    if (SSL_accept(ssl) == 1) {
        s->handshake_ok = true;
        char in[8192];
        (void)SSL_read(ssl, in, sizeof in); /* the request head; the body may follow */
        static const char answer[] = "HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.0"
                                     "\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}";
        SSL_write(ssl, answer, (int)sizeof answer - 1);
        SSL_shutdown(ssl);
    }
    SSL_free(ssl);
    close(fd);
    return NULL;
}

static void tls_start(tls_server *s) {
    memset(s, 0, sizeof *s);
    s->key = EVP_EC_gen("P-256");
    assert_non_null(s->key);
    s->cert = self_signed(s->key);
    s->ctx = SSL_CTX_new(TLS_server_method());
    assert_non_null(s->ctx);
    assert_int_equal(SSL_CTX_use_certificate(s->ctx, s->cert), 1);
    assert_int_equal(SSL_CTX_use_PrivateKey(s->ctx, s->key), 1);
    s->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    assert_int_equal(bind(s->listen_fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(s->listen_fd, 4), 0);
    assert_int_equal(getsockname(s->listen_fd, (struct sockaddr *)&a, &len), 0);
    s->port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(&s->thread, NULL, tls_serve, s), 0);
}

static void tls_stop(tls_server *s) {
    shutdown(s->listen_fd, SHUT_RDWR);
    close(s->listen_fd);
    pthread_join(s->thread, NULL);
    SSL_CTX_free(s->ctx);
    X509_free(s->cert);
    EVP_PKEY_free(s->key);
}

/* Calls DynamoDB at https://host:port once with the given CA file. */
static ddb_status tls_call(const char *host, int port, const char *ca_file, ddb_reply *reply) {
    char endpoint[64], err[128];
    snprintf(endpoint, sizeof endpoint, "https://%s:%d", host, port);
    ddb_config cfg = {.region = "eu-west-1",
                      .endpoint = endpoint,
                      .access_key_id = "AKIDEXAMPLE",
                      .secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                      .ca_file = ca_file};
    ddb_client *c = ddb_client_new(&cfg, err, sizeof err);
    if (!c)
        fail_msg("ddb_client_new: %s", err);
    json_t *req = json_pack("{s:s}", "TableName", "UsersTable");
    ddb_reply_init(reply);
    ddb_status st = ddb_client_call(c, DDB_SCAN, req, wall_ms() + 5000, reply);
    json_decref(req);
    ddb_client_free(c);
    return st;
}

static void test_untrusted_dynamodb_is_never_talked_to(void **state) {
    (void)state;
    assert_int_equal(http_global_init(), UA_OK);
    tls_server s;
    ddb_reply reply;

    /* Self-signed, not in the system's trust store: refused at once, not retried. */
    tls_start(&s);
    assert_int_equal(tls_call("127.0.0.1", s.port, NULL, &reply), DDB_FAILED);
    assert_int_equal(reply.attempts, 1);
    assert_int_equal(reply.http_status, 0);
    ddb_reply_clear(&reply);
    tls_stop(&s);
    assert_false(s.handshake_ok);

    /* The same server trusted through ca_file: the call goes through, so it was the
     * verification that refused it above. */
    char pem[] = "/tmp/faults-ca-XXXXXX";
    int fd = mkstemp(pem);
    assert_true(fd >= 0);
    tls_start(&s);
    FILE *f = fdopen(fd, "w");
    assert_non_null(f);
    assert_int_equal(PEM_write_X509(f, s.cert), 1);
    fclose(f);
    assert_int_equal(tls_call("127.0.0.1", s.port, pem, &reply), DDB_OK);
    ddb_reply_clear(&reply);
    tls_stop(&s);
    assert_true(s.handshake_ok);

    /* Trusted, but for another name: the host name is verified too. */
    tls_start(&s);
    assert_int_equal(tls_call("localhost", s.port, pem, &reply), DDB_FAILED);
    assert_int_equal(reply.attempts, 1);
    ddb_reply_clear(&reply);
    tls_stop(&s);
    assert_false(s.handshake_ok);
    unlink(pem);
}

/* ---- The Runtime API misbehaving, against the real bootstrap ---- */

#define EVENT_404                                                                                  \
    "{\"httpMethod\":\"GET\",\"path\":\"/nowhere\",\"headers\":{},\"requestContext\":"             \
    "{\"requestId\":\"apigw-1\"},\"body\":null,\"isBase64Encoded\":false}"
#define EVENT_BAD_ID                                                                               \
    "{\"httpMethod\":\"GET\",\"path\":\"/users/not-an-id\",\"headers\":{},\"requestContext\":"     \
    "{\"requestId\":\"apigw-2\"},\"body\":null,\"isBase64Encoded\":false}"

/* Every line the bootstrap wrote to stdout is one JSON object. */
static void assert_log_is_json(const bootproc *p) {
    char *copy = strdup(p->out ? p->out : "");
    assert_non_null(copy);
    size_t lines = 0;
    for (char *save = NULL, *line = strtok_r(copy, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        json_t *doc = json_loads(line, 0, NULL);
        if (!json_is_object(doc))
            fail_msg("log line is not a JSON object: %s", line);
        json_decref(doc);
        lines++;
    }
    free(copy);
    assert_true(lines > 0);
    assert_null(strstr(p->out, "bootprocSecretNeverLogged"));
    assert_null(strstr(p->err, "bootprocSecretNeverLogged"));
}

static void run_boot(fake_http *rt, fake_http *ddb, const char *const *env, bootproc *p) {
    if (!bootproc_run(USERS_BOOTSTRAP, rt, ddb, env, 60000, p))
        fail_msg("could not start %s", USERS_BOOTSTRAP);
    if (p->status < 0)
        fail_msg("bootstrap did not exit in time\n%s\n%s", p->out, p->err);
    if (bootproc_sanitizer_report(p))
        fail_msg("sanitizer report from bootstrap:\n%s", p->err);
    assert_log_is_json(p);
}

static void test_failing_next_exits_non_zero(void **state) {
    (void)state;
    static const struct {
        const char *name;
        fake_response r;
    } nexts[] = {
        {"500", {.status = 500, .body = "{\"errorType\":\"Boom\"}"}},
        {"200 without a request id", {.body = "garbage"}},
        {"200 with a request id that is not one",
         {.headers = "Lambda-Runtime-Aws-Request-Id: ../../x\r\n", .body = "{}"}},
        {"connection closed", {.fault = FAKE_CLOSE}},
        {"truncated",
         {.headers = "Lambda-Runtime-Aws-Request-Id: r-1\r\n",
          .body = EVENT_404,
          .fault = FAKE_TRUNCATE}},
    };
    for (size_t i = 0; i < sizeof nexts / sizeof nexts[0]; i++) {
        fake_http *rt = fake_http_start();
        assert_non_null(rt);
        fake_http_set_default(rt, &nexts[i].r);
        bootproc p;
        run_boot(rt, NULL, NULL, &p);
        if (p.status == 0)
            fail_msg("next %s: exit status 0", nexts[i].name);
        assert_non_null(strstr(p.out, "Runtime API next failed"));
        assert_non_null(strstr(p.out, "\"level\":\"ERROR\""));
        assert_int_equal(fake_http_request_count(rt), 1); /* no spinning on a dead API */
        assert_null(bootproc_find(rt, "/response", 0));
        bootproc_free(&p);
        fake_http_stop(rt);
    }
}

static void test_failed_response_post_is_logged_and_the_loop_goes_on(void **state) {
    (void)state;
    fake_http *rt = fake_http_start();
    assert_non_null(rt);
    bootproc_push_event(rt, "req-1", EVENT_404, 0, 5000);
    fake_http_push(rt, &(fake_response){.status = 500, .body = "{}"}); /* response refused */
    bootproc_push_event(rt, "req-2", EVENT_BAD_ID, 0, 5000);
    fake_http_push(rt, &(fake_response){.status = 202,
                                        .body = "{\"status\":\"OK\"}",
                                        .fault = FAKE_TRUNCATE}); /* answer cut short */
    bootproc_push_event(rt, "req-3", EVENT_404, 0, 5000);
    bootproc_push_accepted(rt);
    bootproc p;
    run_boot(rt, NULL, NULL, &p); /* the queue runs dry: next answers 404 and it exits */
    assert_int_equal(p.status, 1);
    assert_non_null(strstr(p.out, "could not post the response"));
    for (int i = 1; i <= 3; i++) {
        char path[64];
        snprintf(path, sizeof path, "/invocation/req-%d/response", i);
        const fake_request *r = bootproc_find(rt, path, 0);
        if (!r)
            fail_msg("no response for req-%d", i);
        json_t *doc = json_loadb(r->body, r->body_len, 0, NULL);
        assert_int_equal(json_integer_value(json_object_get(doc, "statusCode")), 404);
        json_decref(doc);
    }
    assert_non_null(strstr(p.out, "\"requestId\":\"apigw-2\""));
    bootproc_free(&p);
    fake_http_stop(rt);
}

static void test_events_that_cannot_be_served_are_invocation_errors(void **state) {
    (void)state;
    size_t big_len = UA_MAX_EVENT_BYTES + 1;
    char *big = malloc(big_len + 1);
    assert_non_null(big);
    memset(big, ' ', big_len);
    memcpy(big, "{\"httpMethod\":\"GET\"}", 20);
    big[big_len] = '\0';

    static const char *const not_events[] = {
        "{}", "[1,2]", "garbage", "{\"httpMethod\":", "{\"Records\":[{\"eventName\":\"INSERT\"}]}"};
    size_t n = sizeof not_events / sizeof not_events[0];
    fake_http *rt = fake_http_start();
    assert_non_null(rt);
    bootproc_push_event(rt, "too-big", big, big_len, 5000);
    bootproc_push_accepted(rt);
    for (size_t i = 0; i < n; i++) {
        char id[32];
        snprintf(id, sizeof id, "not-event-%zu", i);
        bootproc_push_event(rt, id, not_events[i], 0, 5000);
        bootproc_push_accepted(rt);
    }
    bootproc_push_event(rt, "fine", EVENT_404, 0, 5000);
    bootproc_push_accepted(rt);
    bootproc p;
    run_boot(rt, NULL, NULL, &p);
    assert_int_equal(p.status, 1); /* only from the final 404 of next */

    const fake_request *r = bootproc_find(rt, "/invocation/too-big/error", 0);
    assert_non_null(r);
    char type[64];
    assert_true(fake_request_header(r, "Lambda-Runtime-Function-Error-Type", type, sizeof type));
    assert_string_equal(type, "InvalidEvent");
    for (size_t i = 0; i < n; i++) {
        char path[64];
        snprintf(path, sizeof path, "/invocation/not-event-%zu/error", i);
        r = bootproc_find(rt, path, 0);
        if (!r)
            fail_msg("%s was not answered with an invocation error", not_events[i]);
        json_t *doc = json_loadb(r->body, r->body_len, 0, NULL);
        assert_string_equal(json_string_value(json_object_get(doc, "errorType")), "InvalidEvent");
        json_decref(doc);
    }
    assert_non_null(bootproc_find(rt, "/invocation/fine/response", 0));
    bootproc_free(&p);
    fake_http_stop(rt);
    free(big);
}

static void test_missing_configuration_is_an_init_error(void **state) {
    (void)state;
    fake_http *rt = fake_http_start();
    assert_non_null(rt);
    bootproc_push_accepted(rt);
    static const char *const env[] = {"USERS_TABLE=", NULL};
    bootproc p;
    run_boot(rt, NULL, env, &p);
    assert_int_equal(p.status, 1);
    const fake_request *r = bootproc_find(rt, "/runtime/init/error", 0);
    assert_non_null(r);
    assert_non_null(strstr(r->body, "USERS_TABLE"));
    assert_null(bootproc_find(rt, "/next", 0));
    bootproc_free(&p);
    fake_http_stop(rt);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_each_fault_once_is_retried, setup, teardown),
        cmocka_unit_test_setup_teardown(test_each_fault_forever_is_503_before_the_deadline, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_retries_stop_at_the_attempt_cap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stalled_dynamodb_is_503_before_the_deadline, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_expired_deadline_is_503_without_a_request, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_non_retryable_errors_are_500_and_hide_the_type, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_create_lost_then_acknowledged_is_201, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_lost_then_cancelled_is_not_201, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_transaction_conflicts_are_retried, setup, teardown),
        cmocka_unit_test_setup_teardown(test_put_never_acknowledged_is_never_201, setup, teardown),
        cmocka_unit_test_setup_teardown(test_update_lost_then_own_token_is_200, setup, teardown),
        cmocka_unit_test_setup_teardown(test_update_lost_then_gone_is_503_not_404, setup, teardown),
        cmocka_unit_test_setup_teardown(test_conditional_update_lost_then_moved_on, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_delete_lost_answer_is_settled_by_the_client_token,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_items_that_are_not_users, setup, teardown),
        cmocka_unit_test_setup_teardown(test_foreign_page_key_is_500, setup, teardown),
        cmocka_unit_test(test_out_of_memory_is_never_blamed_on_the_body),
        cmocka_unit_test(test_untrusted_dynamodb_is_never_talked_to),
        cmocka_unit_test(test_failing_next_exits_non_zero),
        cmocka_unit_test(test_failed_response_post_is_logged_and_the_loop_goes_on),
        cmocka_unit_test(test_events_that_cannot_be_served_are_invocation_errors),
        cmocka_unit_test(test_missing_configuration_is_an_init_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_ddb_observe.c — the observing port: per-invocation totals, one X-Ray subsegment per
 * DynamoDB call (received on a real UDP socket) when sampled and a daemon is set, and the trace
 * header passed on to DynamoDB. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ddb_observe.h"
#include "fake_http.h"
#include "http.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define ROOT        "1-5759e988-bd862e3fe1be46a994272793"
#define PARENT      "53995c3f42cd8ad8"
#define REGION      "eu-west-1"
#define HEADER      "{\"format\": \"json\", \"version\": 1}\n"
#define SAMPLED     "Root=" ROOT ";Parent=" PARENT ";Sampled=1"
#define NOT_SAMPLED "Root=" ROOT ";Parent=" PARENT ";Sampled=0"

/* ---- A scripted inner port ---- */

typedef struct scripted {
    ddb_status status;
    long http_status;
    const char *error_type;
    unsigned attempts;
    const char *request_id;
    int sleep_ms;
} scripted;

#define MAX_SCRIPT 16

typedef struct inner {
    scripted script[MAX_SCRIPT];
    size_t n, next;
    ddb_op ops[MAX_SCRIPT];
    const json_t *requests[MAX_SCRIPT]; /* borrowed: the pointer the observer passed on */
    int64_t deadlines[MAX_SCRIPT];
    size_t calls;
} inner;

static void sleep_ms(int ms) {
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

static ddb_status inner_call(void *ctx, ddb_op op, const json_t *request, int64_t deadline_ms,
                             ddb_reply *reply) {
    inner *in = ctx;
    if (in->next == in->n)
        fail_msg("unscripted call");
    const scripted *s = &in->script[in->next++];
    in->ops[in->calls] = op;
    in->requests[in->calls] = request;
    in->deadlines[in->calls] = deadline_ms;
    in->calls++;
    if (s->sleep_ms)
        sleep_ms(s->sleep_ms);
    ddb_reply_clear(reply);
    reply->attempts = s->attempts;
    reply->http_status = s->http_status;
    snprintf(reply->error_type, sizeof reply->error_type, "%s", s->error_type ? s->error_type : "");
    snprintf(reply->request_id, sizeof reply->request_id, "%s", s->request_id ? s->request_id : "");
    reply->body = json_pack("{s:i}", "answer", (int)in->calls);
    return s->status;
}

static void script(inner *in, scripted s) {
    assert_true(in->n < MAX_SCRIPT);
    in->script[in->n++] = s;
}

/* ---- A UDP daemon on loopback ---- */

typedef struct daemon_socket {
    int fd;
    char address[64];
} daemon_socket;

static void daemon_socket_open(daemon_socket *d) {
    d->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    assert_true(d->fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    assert_int_equal(bind(d->fd, (struct sockaddr *)&a, len), 0);
    assert_int_equal(getsockname(d->fd, (struct sockaddr *)&a, &len), 0);
    snprintf(d->address, sizeof d->address, "127.0.0.1:%d", ntohs(a.sin_port));
}

/* The next subsegment document received within timeout_ms (new reference), or NULL. The
 * daemon header is checked and stripped. */
static json_t *next_subsegment(const daemon_socket *d, int timeout_ms) {
    struct pollfd p = {.fd = d->fd, .events = POLLIN};
    if (poll(&p, 1, timeout_ms) != 1)
        return NULL;
    static char got[XRAY_MAX_DATAGRAM + 1];
    ssize_t n = recv(d->fd, got, sizeof got - 1, 0);
    assert_true(n > 0);
    got[n] = '\0';
    if (strncmp(got, HEADER, strlen(HEADER)) != 0)
        fail_msg("datagram without the daemon header: %s", got);
    json_error_t err;
    json_t *doc = json_loads(got + strlen(HEADER), JSON_REJECT_DUPLICATES, &err);
    if (!doc)
        fail_msg("subsegment is not JSON (%s): %s", err.text, got);
    return doc;
}

/* ---- Fixture ---- */

typedef struct fixture {
    inner in;
    daemon_socket sock;
    xray_daemon *daemon;
    ddb_observer obs;
    ddb_port port;
    ddb_reply reply;
    json_t *get_request;
} fixture;

static int setup(void **state) {
    fixture *fx = calloc(1, sizeof *fx);
    assert_non_null(fx);
    daemon_socket_open(&fx->sock);
    char err[128];
    fx->daemon = xray_daemon_open(fx->sock.address, err, sizeof err);
    if (!fx->daemon)
        fail_msg("%s: %s", fx->sock.address, err);
    ddb_port in = {.call = inner_call, .ctx = &fx->in};
    ddb_observer_init(&fx->obs, in, NULL, fx->daemon, REGION);
    fx->port = ddb_observer_port(&fx->obs);
    ddb_reply_init(&fx->reply);
    fx->get_request =
        json_pack("{s:s,s:{s:{s:s}}}", "TableName", "Users", "Key", "userId", "S", "u-1");
    assert_non_null(fx->get_request);
    *state = fx;
    return 0;
}

static int teardown(void **state) {
    fixture *fx = *state;
    ddb_reply_clear(&fx->reply);
    json_decref(fx->get_request);
    ddb_observer_free(&fx->obs);
    xray_daemon_close(fx->daemon);
    close(fx->sock.fd);
    free(fx);
    return 0;
}

static void begin(fixture *fx, const char *header) {
    trace_context t;
    trace_parse(header, &t);
    ddb_observer_begin(&fx->obs, &t);
}

static ddb_status call(fixture *fx, ddb_op op, const json_t *request) {
    return fx->port.call(fx->port.ctx, op, request, 123456, &fx->reply);
}

static int64_t wall_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static const char *str(const json_t *o, const char *key) {
    return json_string_value(json_object_get(o, key));
}

static bool flag(const json_t *doc, const char *name) {
    const json_t *v = json_object_get(doc, name);
    if (v && !json_is_true(v))
        fail_msg("%s is present but not true", name);
    return v != NULL;
}

/* ---- Totals ---- */

static void test_totals_and_pass_through(void **state) {
    fixture *fx = *state;
    begin(fx, NOT_SAMPLED);
    script(&fx->in, (scripted){DDB_OK, 200, NULL, 1, "R1", 5});
    script(&fx->in, (scripted){DDB_UNAVAILABLE, 500, "InternalServerError", 3, NULL, 5});
    script(&fx->in,
           (scripted){DDB_CONDITION_FAILED, 400, "ConditionalCheckFailedException", 2, NULL, 0});

    assert_int_equal(call(fx, DDB_GET_ITEM, fx->get_request), DDB_OK);
    /* The inner port's answer reaches the caller unchanged. */
    assert_int_equal(json_integer_value(json_object_get(fx->reply.body, "answer")), 1);
    assert_string_equal(fx->reply.request_id, "R1");
    assert_int_equal(fx->reply.http_status, 200);
    assert_int_equal(call(fx, DDB_PUT_ITEM, fx->get_request), DDB_UNAVAILABLE);
    assert_string_equal(fx->reply.error_type, "InternalServerError");
    assert_int_equal(call(fx, DDB_DELETE_ITEM, fx->get_request), DDB_CONDITION_FAILED);
    assert_int_equal(fx->reply.attempts, 2);

    assert_int_equal(fx->in.calls, 3);
    assert_int_equal(fx->in.ops[0], DDB_GET_ITEM);
    assert_int_equal(fx->in.ops[1], DDB_PUT_ITEM);
    assert_int_equal(fx->in.ops[2], DDB_DELETE_ITEM);
    assert_ptr_equal(fx->in.requests[0], fx->get_request);
    assert_int_equal(fx->in.deadlines[2], 123456);

    assert_int_equal(fx->obs.totals.calls, 3);
    assert_int_equal(fx->obs.totals.attempts, 6);
    assert_int_equal(fx->obs.totals.retries, 3);
    /* The two 5 ms calls are in the time, and nothing near a second is. */
    assert_true(fx->obs.totals.busy_us >= 10000);
    assert_true(fx->obs.totals.busy_us < 1000000);
}

/* A call that sent nothing (no time left for a request) made no retry: the retries never
 * count below zero. */
static void test_retries_of_a_call_that_sent_nothing(void **state) {
    fixture *fx = *state;
    begin(fx, NOT_SAMPLED);
    script(&fx->in, (scripted){DDB_UNAVAILABLE, 0, "no time left for a request", 0, NULL, 0});
    script(&fx->in, (scripted){DDB_OK, 200, NULL, 2, NULL, 0});
    assert_int_equal(call(fx, DDB_GET_ITEM, fx->get_request), DDB_UNAVAILABLE);
    assert_int_equal(call(fx, DDB_GET_ITEM, fx->get_request), DDB_OK);
    assert_int_equal(fx->obs.totals.calls, 2);
    assert_int_equal(fx->obs.totals.attempts, 2);
    assert_int_equal(fx->obs.totals.retries, 1);
}

static void test_begin_resets_totals(void **state) {
    fixture *fx = *state;
    begin(fx, SAMPLED);
    script(&fx->in, (scripted){DDB_OK, 200, NULL, 4, NULL, 1});
    assert_int_equal(call(fx, DDB_GET_ITEM, fx->get_request), DDB_OK);
    assert_int_equal(fx->obs.totals.calls, 1);
    assert_int_equal(fx->obs.totals.attempts, 4);
    json_decref(next_subsegment(&fx->sock, 2000));

    begin(fx, NOT_SAMPLED);
    assert_int_equal(fx->obs.totals.calls, 0);
    assert_int_equal(fx->obs.totals.attempts, 0);
    assert_int_equal(fx->obs.totals.busy_us, 0);
    /* The new invocation's trace replaced the old one: it is not sampled, nothing is sent. */
    assert_false(fx->obs.trace.sampled);
    script(&fx->in, (scripted){DDB_OK, 200, NULL, 1, NULL, 0});
    assert_int_equal(call(fx, DDB_GET_ITEM, fx->get_request), DDB_OK);
    assert_int_equal(fx->obs.totals.calls, 1);
    assert_int_equal(fx->obs.totals.attempts, 1);
    json_t *none = next_subsegment(&fx->sock, 100);
    assert_null(none);
}

/* ---- Subsegments ---- */

static void test_sampled_sends_one_subsegment_per_call(void **state) {
    fixture *fx = *state;
    begin(fx, SAMPLED);
    script(&fx->in, (scripted){DDB_OK, 200, NULL, 1, "REQ-ONE", 3});
    script(&fx->in, (scripted){DDB_OK, 200, NULL, 3, "REQ-TWO", 0});
    int64_t before = wall_us();
    assert_int_equal(call(fx, DDB_GET_ITEM, fx->get_request), DDB_OK);
    assert_int_equal(call(fx, DDB_PUT_ITEM, fx->get_request), DDB_OK);
    int64_t after = wall_us();

    static const char *const ops[] = {"GetItem", "PutItem"};
    static const char *const req_ids[] = {"REQ-ONE", "REQ-TWO"};
    static const unsigned retries[] = {0, 2};
    char ids[2][TRACE_ID_LEN + 1];
    for (int i = 0; i < 2; i++) {
        json_t *doc = next_subsegment(&fx->sock, 2000);
        if (!doc)
            fail_msg("no subsegment for call %d", i);
        assert_string_equal(str(doc, "name"), "DynamoDB");
        const char *id = str(doc, "id");
        assert_non_null(id);
        assert_int_equal(strlen(id), TRACE_ID_LEN);
        assert_true(trace_is_hex(id, TRACE_ID_LEN));
        snprintf(ids[i], sizeof ids[i], "%s", id);
        assert_string_equal(str(doc, "trace_id"), ROOT);
        assert_string_equal(str(doc, "parent_id"), PARENT);
        assert_string_equal(str(doc, "type"), "subsegment");
        assert_string_equal(str(doc, "namespace"), "aws");
        double start = json_number_value(json_object_get(doc, "start_time"));
        double end = json_number_value(json_object_get(doc, "end_time"));
        assert_true(start >= (double)before / 1e6 - 0.001);
        assert_true(end <= (double)after / 1e6 + 0.001);
        assert_true(end >= start);
        if (i == 0)
            assert_true(end - start >= 0.003 - 1e-6); /* the 3 ms the call took */
        json_t *aws = json_object_get(doc, "aws");
        assert_string_equal(str(aws, "operation"), ops[i]);
        assert_string_equal(str(aws, "table_name"), "Users");
        assert_string_equal(str(aws, "region"), REGION);
        assert_int_equal(json_integer_value(json_object_get(aws, "retries")), retries[i]);
        assert_string_equal(str(aws, "request_id"), req_ids[i]);
        assert_int_equal(json_integer_value(json_object_get(
                             json_object_get(json_object_get(doc, "http"), "response"), "status")),
                         200);
        assert_false(flag(doc, "error"));
        assert_false(flag(doc, "throttle"));
        assert_false(flag(doc, "fault"));
        json_decref(doc);
    }
    assert_string_not_equal(ids[0], ids[1]);
    json_t *extra = next_subsegment(&fx->sock, 100);
    assert_null(extra);
    unsigned long sent, dropped;
    xray_daemon_counts(fx->daemon, &sent, &dropped);
    assert_int_equal(sent, 2);
    assert_int_equal(dropped, 0);
}

static void test_no_subsegment_unless_sampled_with_a_daemon(void **state) {
    fixture *fx = *state;
    static const char *const headers[] = {
        NOT_SAMPLED,
        "Root=" ROOT ";Parent=" PARENT, /* no decision: not sampled */
        "Root=" ROOT ";Sampled=1",      /* nothing to hang it on */
        "Parent=" PARENT ";Sampled=1",  /* no trace */
        "",
    };
    for (size_t i = 0; i < sizeof headers / sizeof headers[0]; i++) {
        begin(fx, headers[i]);
        script(&fx->in, (scripted){DDB_OK, 200, NULL, 1, NULL, 0});
        assert_int_equal(call(fx, DDB_GET_ITEM, fx->get_request), DDB_OK);
        json_t *doc = next_subsegment(&fx->sock, 50);
        if (doc) {
            json_decref(doc);
            fail_msg("a subsegment for \"%s\"", headers[i]);
        }
        assert_int_equal(fx->obs.totals.calls, 1);
    }

    /* Sampled, but no daemon: counted, nothing sent. */
    ddb_observer bare;
    ddb_observer_init(&bare, (ddb_port){.call = inner_call, .ctx = &fx->in}, NULL, NULL, REGION);
    trace_context t;
    trace_parse(SAMPLED, &t);
    ddb_observer_begin(&bare, &t);
    script(&fx->in, (scripted){DDB_OK, 200, NULL, 2, NULL, 0});
    ddb_port p = ddb_observer_port(&bare);
    assert_int_equal(p.call(p.ctx, DDB_GET_ITEM, fx->get_request, 0, &fx->reply), DDB_OK);
    assert_int_equal(bare.totals.calls, 1);
    assert_int_equal(bare.totals.attempts, 2);
    json_t *doc = next_subsegment(&fx->sock, 50);
    assert_null(doc);
    ddb_observer_free(&bare);

    unsigned long sent, dropped;
    xray_daemon_counts(fx->daemon, &sent, &dropped);
    assert_int_equal(sent + dropped, 0);
}

/* How X-Ray reads each outcome: error for a 4xx, throttle (with error) for throttling, fault
 * for a 5xx or no answer at all. */
static void test_error_throttle_fault(void **state) {
    fixture *fx = *state;
    static const struct {
        scripted s;
        bool error, throttle, fault;
    } cases[] = {
        {{DDB_UNAVAILABLE, 400, "ThrottlingException", 8, "T1", 0}, true, true, false},
        {{DDB_UNAVAILABLE, 400, "ProvisionedThroughputExceededException", 3, NULL, 0},
         true,
         true,
         false},
        {{DDB_UNAVAILABLE, 400, "RequestLimitExceeded", 2, NULL, 0}, true, true, false},
        {{DDB_UNAVAILABLE, 429, "", 4, NULL, 0}, true, true, false},
        {{DDB_FAILED, 400, "ValidationException", 1, "V1", 0}, true, false, false},
        {{DDB_CONDITION_FAILED, 400, "ConditionalCheckFailedException", 1, NULL, 0},
         true,
         false,
         false},
        {{DDB_FAILED, 403, "AccessDeniedException", 1, NULL, 0}, true, false, false},
        {{DDB_UNAVAILABLE, 500, "InternalServerError", 8, NULL, 0}, false, false, true},
        {{DDB_UNAVAILABLE, 503, "ServiceUnavailable", 2, NULL, 0}, false, false, true},
        {{DDB_UNAVAILABLE, 0, "transport: Timeout was reached", 3, NULL, 0}, false, false, true},
        {{DDB_OK, 200, NULL, 2, NULL, 0}, false, false, false},
    };
    begin(fx, SAMPLED);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        script(&fx->in, cases[i].s);
        assert_int_equal(call(fx, DDB_UPDATE_ITEM, fx->get_request), cases[i].s.status);
        json_t *doc = next_subsegment(&fx->sock, 2000);
        if (!doc)
            fail_msg("case %zu: no subsegment", i);
        if (flag(doc, "error") != cases[i].error || flag(doc, "throttle") != cases[i].throttle ||
            flag(doc, "fault") != cases[i].fault) {
            char *text = json_dumps(doc, JSON_COMPACT);
            fail_msg("case %zu (%ld %s): flags wrong in %s", i, cases[i].s.http_status,
                     cases[i].s.error_type ? cases[i].s.error_type : "", text);
        }
        json_t *aws = json_object_get(doc, "aws");
        assert_int_equal(json_integer_value(json_object_get(aws, "retries")),
                         cases[i].s.attempts - 1);
        assert_string_equal(str(aws, "operation"), "UpdateItem");
        const json_t *status =
            json_object_get(json_object_get(json_object_get(doc, "http"), "response"), "status");
        if (cases[i].s.http_status == 0)
            assert_null(json_object_get(doc, "http"));
        else
            assert_int_equal(json_integer_value(status), cases[i].s.http_status);
        if (cases[i].s.request_id)
            assert_string_equal(str(aws, "request_id"), cases[i].s.request_id);
        else
            assert_null(json_object_get(aws, "request_id"));
        json_decref(doc);
    }
    assert_int_equal(fx->obs.totals.calls, sizeof cases / sizeof cases[0]);
    assert_int_equal(fx->obs.totals.attempts, 8 + 3 + 2 + 4 + 1 + 1 + 1 + 8 + 2 + 3 + 2);
}

/* A call that made no attempt at all (no time left) still says none was answered. */
static void test_no_attempt(void **state) {
    fixture *fx = *state;
    begin(fx, SAMPLED);
    script(&fx->in, (scripted){DDB_UNAVAILABLE, 0, "no time left for a request", 0, NULL, 0});
    assert_int_equal(call(fx, DDB_GET_ITEM, fx->get_request), DDB_UNAVAILABLE);
    json_t *doc = next_subsegment(&fx->sock, 2000);
    assert_non_null(doc);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(doc, "aws"), "retries")),
                     0);
    assert_true(flag(doc, "fault"));
    json_decref(doc);
    assert_int_equal(fx->obs.totals.calls, 1);
    assert_int_equal(fx->obs.totals.attempts, 0);
}

static void test_tables_of_a_transaction(void **state) {
    fixture *fx = *state;
    json_error_t err;
    json_t *txn = json_loads("{\"TransactItems\":["
                             "{\"Put\":{\"TableName\":\"Users\",\"Item\":{}}},"
                             "{\"Put\":{\"TableName\":\"Users-claims\",\"Item\":{}}},"
                             "{\"Delete\":{\"TableName\":\"Users-claims\",\"Key\":{}}},"
                             "{\"Update\":{\"TableName\":\"Users\",\"Key\":{}}},"
                             "{\"ConditionCheck\":{\"TableName\":\"Idempotency\",\"Key\":{}}}"
                             "],\"ClientRequestToken\":\"tok\"}",
                             0, &err);
    assert_non_null(txn);
    json_t *no_table = json_loads("{\"Key\":{}}", 0, &err);
    assert_non_null(no_table);
    begin(fx, SAMPLED);
    script(&fx->in, (scripted){DDB_OK, 200, NULL, 1, NULL, 0});
    script(&fx->in, (scripted){DDB_OK, 200, NULL, 1, NULL, 0});
    assert_int_equal(call(fx, DDB_TRANSACT_WRITE_ITEMS, txn), DDB_OK);
    assert_int_equal(call(fx, DDB_GET_ITEM, no_table), DDB_OK);

    json_t *doc = next_subsegment(&fx->sock, 2000);
    assert_non_null(doc);
    json_t *aws = json_object_get(doc, "aws");
    assert_string_equal(str(aws, "operation"), "TransactWriteItems");
    assert_null(json_object_get(aws, "table_name"));
    char *names = json_dumps(json_object_get(aws, "table_names"), JSON_COMPACT);
    assert_string_equal(names, "[\"Users\",\"Users-claims\",\"Idempotency\"]");
    free(names);
    json_decref(doc);

    doc = next_subsegment(&fx->sock, 2000);
    assert_non_null(doc);
    aws = json_object_get(doc, "aws");
    assert_null(json_object_get(aws, "table_name"));
    assert_null(json_object_get(aws, "table_names"));
    json_decref(doc);
    json_decref(txn);
    json_decref(no_table);
}

/* ---- The trace header, through a real client ---- */

#define CT_HEADER "Content-Type: application/x-amz-json-1.0\r\n"

static void test_trace_header_reaches_dynamodb(void **state) {
    fixture *fx = *state;
    fake_http *srv = fake_http_start();
    assert_non_null(srv);
    fake_http_set_default(
        srv, &(fake_response){.headers = CT_HEADER
                              "x-amzn-RequestId: "
                              "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklmnop\r\n",
                              .body = "{}",
                              .crc = true});
    ddb_config cfg = {.region = REGION,
                      .endpoint = fake_http_url(srv),
                      .access_key_id = "AKIDEXAMPLE",
                      .secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"};
    char err[128];
    ddb_client *client = ddb_client_new(&cfg, err, sizeof err);
    if (!client)
        fail_msg("ddb_client_new: %s", err);
    ddb_observer obs;
    ddb_observer_init(&obs, ddb_client_port(client), client, fx->daemon, REGION);
    ddb_port p = ddb_observer_port(&obs);
    int64_t deadline = wall_us() / 1000 + 5000;

    /* Sampled: the header names the subsegment as DynamoDB's parent. */
    trace_context t;
    trace_parse(SAMPLED, &t);
    ddb_observer_begin(&obs, &t);
    assert_int_equal(p.call(p.ctx, DDB_GET_ITEM, fx->get_request, deadline, &fx->reply), DDB_OK);
    json_t *doc = next_subsegment(&fx->sock, 2000);
    assert_non_null(doc);
    char want[TRACE_HEADER_MAX + 16], got[256], auth[1024];
    snprintf(want, sizeof want, "Root=" ROOT ";Parent=%s;Sampled=1", str(doc, "id"));
    assert_string_equal(str(json_object_get(doc, "aws"), "request_id"),
                        "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklmnop");
    json_decref(doc);
    const fake_request *r = fake_http_request(srv, 0);
    assert_non_null(r);
    assert_true(fake_request_header(r, "X-Amzn-Trace-Id", got, sizeof got));
    assert_string_equal(got, want);
    assert_true(fake_request_header(r, "Authorization", auth, sizeof auth));
    assert_null(strstr(auth, "x-amzn-trace-id"));

    /* Not sampled: the function's own segment is the parent, and the decision goes along. */
    trace_parse(NOT_SAMPLED, &t);
    ddb_observer_begin(&obs, &t);
    assert_int_equal(p.call(p.ctx, DDB_GET_ITEM, fx->get_request, deadline, &fx->reply), DDB_OK);
    r = fake_http_request(srv, 1);
    assert_non_null(r);
    assert_true(fake_request_header(r, "X-Amzn-Trace-Id", got, sizeof got));
    assert_string_equal(got, NOT_SAMPLED);

    /* No trace: no header. */
    trace_parse(NULL, &t);
    ddb_observer_begin(&obs, &t);
    assert_int_equal(p.call(p.ctx, DDB_GET_ITEM, fx->get_request, deadline, &fx->reply), DDB_OK);
    r = fake_http_request(srv, 2);
    assert_non_null(r);
    assert_false(fake_request_header(r, "X-Amzn-Trace-Id", got, sizeof got));

    /* The header lasts for the observed call only: a call past the observer carries none. */
    trace_parse(SAMPLED, &t);
    ddb_observer_begin(&obs, &t);
    assert_int_equal(p.call(p.ctx, DDB_GET_ITEM, fx->get_request, deadline, &fx->reply), DDB_OK);
    json_decref(next_subsegment(&fx->sock, 2000));
    assert_int_equal(ddb_client_call(client, DDB_GET_ITEM, fx->get_request, deadline, &fx->reply),
                     DDB_OK);
    r = fake_http_request(srv, 4);
    assert_non_null(r);
    assert_false(fake_request_header(r, "X-Amzn-Trace-Id", got, sizeof got));
    assert_int_equal(obs.totals.calls, 1);
    assert_int_equal(obs.totals.attempts, 1);

    ddb_observer_free(&obs);
    ddb_client_free(client);
    fake_http_stop(srv);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_totals_and_pass_through, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retries_of_a_call_that_sent_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_begin_resets_totals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sampled_sends_one_subsegment_per_call, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_no_subsegment_unless_sampled_with_a_daemon, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_error_throttle_fault, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_attempt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tables_of_a_transaction, setup, teardown),
        cmocka_unit_test_setup_teardown(test_trace_header_reaches_dynamodb, setup, teardown),
    };
    if (http_global_init() != UA_OK)
        return 1;
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    http_global_cleanup();
    return failed;
}

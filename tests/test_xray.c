/* test_xray.c — X-Ray subsegment documents, daemon addresses, and datagrams over real UDP
 * sockets on loopback. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "xray.h"

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

#define HEADER "{\"format\": \"json\", \"version\": 1}\n"
#define ROOT   "1-5759e988-bd862e3fe1be46a994272793"
#define PARENT "53995c3f42cd8ad8"
#define ID     "0123456789abcdef"
#define REQID  "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklmnop"

/* ---- A UDP listener on loopback ---- */

typedef struct listener {
    int fd;
    int port;
    char address[64]; /* "127.0.0.1:<port>" or "[::1]:<port>" */
} listener;

/* Binds a datagram socket on host (IPv4 or IPv6 literal) port 0; false when the family is not
 * available on this machine. */
static bool listener_open(listener *l, int family) {
    l->fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (l->fd < 0)
        return false;
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    socklen_t len;
    if (family == AF_INET) {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        a->sin_family = AF_INET;
        a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        len = sizeof *a;
    } else {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        a->sin6_family = AF_INET6;
        a->sin6_addr = in6addr_loopback;
        len = sizeof *a;
    }
    if (bind(l->fd, (struct sockaddr *)&ss, len) != 0 ||
        getsockname(l->fd, (struct sockaddr *)&ss, &len) != 0) {
        close(l->fd);
        return false;
    }
    if (family == AF_INET) {
        l->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
        snprintf(l->address, sizeof l->address, "127.0.0.1:%d", l->port);
    } else {
        l->port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
        snprintf(l->address, sizeof l->address, "[::1]:%d", l->port);
    }
    return true;
}

/* The next datagram within timeout_ms into out (NUL-terminated); its length, or -1 if none
 * came. */
static ssize_t listener_recv(const listener *l, char *out, size_t cap, int timeout_ms) {
    struct pollfd p = {.fd = l->fd, .events = POLLIN};
    if (poll(&p, 1, timeout_ms) != 1)
        return -1;
    ssize_t n = recv(l->fd, out, cap - 1, 0);
    if (n >= 0)
        out[n] = '\0';
    return n;
}

static void listener_close(listener *l) {
    close(l->fd);
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- Formatting ---- */

static const char *const one_table[] = {"UsersTable"};
static const char *const two_tables[] = {"UsersTable", "UsersTable-claims"};

static xray_subsegment full(void) {
    xray_subsegment s = {.trace_id = ROOT,
                         .parent_id = PARENT,
                         .start_us = 1700000000000123LL,
                         .end_us = 1700000000042000LL,
                         .operation = "GetItem",
                         .table_names = one_table,
                         .n_tables = 1,
                         .region = "eu-west-1",
                         .retries = 2,
                         .request_id = REQID,
                         .http_status = 500,
                         .error = true,
                         .throttle = true,
                         .fault = true};
    memcpy(s.id, ID, sizeof s.id);
    return s;
}

/* Formats s, checks the daemon header line, and returns the document (new reference) with its
 * text in *text (owned by b). */
static json_t *format(const xray_subsegment *s, buf *b, const char **text) {
    buf_init(b, XRAY_MAX_DATAGRAM);
    assert_int_equal(xray_format_subsegment(s, b), UA_OK);
    const char *all = buf_str(b);
    assert_int_equal(strlen(all), b->len);
    if (strncmp(all, HEADER, strlen(HEADER)) != 0)
        fail_msg("datagram does not start with the daemon header: %s", all);
    *text = all + strlen(HEADER);
    assert_null(strchr(*text, '\n')); /* the document is one line */
    json_error_t err;
    json_t *doc = json_loads(*text, JSON_REJECT_DUPLICATES, &err);
    if (!doc)
        fail_msg("document is not JSON (%s): %s", err.text, *text);
    return doc;
}

static const char *str(const json_t *o, const char *key) {
    return json_string_value(json_object_get(o, key));
}

static void test_format_every_field(void **state) {
    (void)state;
    xray_subsegment s = full();
    buf b;
    const char *text;
    json_t *doc = format(&s, &b, &text);

    assert_int_equal(json_object_size(doc), 13);
    assert_string_equal(str(doc, "name"), "DynamoDB");
    assert_string_equal(str(doc, "id"), ID);
    assert_string_equal(str(doc, "trace_id"), ROOT);
    assert_string_equal(str(doc, "parent_id"), PARENT);
    assert_string_equal(str(doc, "type"), "subsegment");
    assert_string_equal(str(doc, "namespace"), "aws");
    /* Epoch seconds with exactly six decimals: microseconds survive. */
    assert_non_null(strstr(text, "\"start_time\":1700000000.000123,"));
    assert_non_null(strstr(text, "\"end_time\":1700000000.042000,"));
    assert_true(json_is_real(json_object_get(doc, "start_time")));
    assert_true(json_real_value(json_object_get(doc, "end_time")) >
                json_real_value(json_object_get(doc, "start_time")));

    json_t *aws = json_object_get(doc, "aws");
    assert_true(json_is_object(aws));
    assert_int_equal(json_object_size(aws), 5);
    assert_string_equal(str(aws, "operation"), "GetItem");
    assert_string_equal(str(aws, "table_name"), "UsersTable");
    assert_null(json_object_get(aws, "table_names"));
    assert_string_equal(str(aws, "region"), "eu-west-1");
    assert_int_equal(json_integer_value(json_object_get(aws, "retries")), 2);
    assert_true(json_is_integer(json_object_get(aws, "retries")));
    assert_string_equal(str(aws, "request_id"), REQID);

    json_t *http = json_object_get(doc, "http");
    assert_int_equal(json_object_size(http), 1);
    json_t *response = json_object_get(http, "response");
    assert_int_equal(json_object_size(response), 1);
    assert_int_equal(json_integer_value(json_object_get(response, "status")), 500);

    assert_true(json_is_true(json_object_get(doc, "error")));
    assert_true(json_is_true(json_object_get(doc, "throttle")));
    assert_true(json_is_true(json_object_get(doc, "fault")));
    json_decref(doc);
    buf_free(&b);
}

static void test_format_success_has_no_flags(void **state) {
    (void)state;
    xray_subsegment s = full();
    s.http_status = 200;
    s.error = s.throttle = s.fault = false;
    s.retries = 0;
    buf b;
    const char *text;
    json_t *doc = format(&s, &b, &text);
    assert_null(json_object_get(doc, "error"));
    assert_null(json_object_get(doc, "throttle"));
    assert_null(json_object_get(doc, "fault"));
    assert_int_equal(json_integer_value(json_object_get(json_object_get(doc, "aws"), "retries")),
                     0);
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(json_object_get(doc, "http"), "response"), "status")),
                     200);
    json_decref(doc);
    buf_free(&b);

    /* No answer at all: no http member, the fault alone. */
    s.http_status = 0;
    s.fault = true;
    doc = format(&s, &b, &text);
    assert_null(json_object_get(doc, "http"));
    assert_true(json_is_true(json_object_get(doc, "fault")));
    assert_null(json_object_get(doc, "error"));
    json_decref(doc);
    buf_free(&b);
}

static void test_times_keep_six_decimals(void **state) {
    (void)state;
    static const struct {
        int64_t us;
        const char *want;
    } cases[] = {
        {1700000000000000LL, "1700000000.000000"},
        {1700000000000001LL, "1700000000.000001"},
        {1700000000999999LL, "1700000000.999999"},
        {1700000001100000LL, "1700000001.100000"},
        {1LL, "0.000001"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        xray_subsegment s = full();
        s.start_us = cases[i].us;
        s.end_us = cases[i].us;
        buf b;
        const char *text;
        json_t *doc = format(&s, &b, &text);
        char want[96];
        snprintf(want, sizeof want, "\"start_time\":%s,\"end_time\":%s,", cases[i].want,
                 cases[i].want);
        if (!strstr(text, want))
            fail_msg("%lld us: want %s in %s", (long long)cases[i].us, want, text);
        json_decref(doc);
        buf_free(&b);
    }
}

static void test_table_name_or_names(void **state) {
    (void)state;
    xray_subsegment s = full();
    s.operation = "TransactWriteItems";
    s.table_names = two_tables;
    s.n_tables = 2;
    buf b;
    const char *text;
    json_t *doc = format(&s, &b, &text);
    json_t *aws = json_object_get(doc, "aws");
    assert_null(json_object_get(aws, "table_name"));
    json_t *names = json_object_get(aws, "table_names");
    assert_int_equal(json_array_size(names), 2);
    assert_string_equal(json_string_value(json_array_get(names, 0)), "UsersTable");
    assert_string_equal(json_string_value(json_array_get(names, 1)), "UsersTable-claims");
    json_decref(doc);
    buf_free(&b);

    /* No table known: neither member. */
    s.n_tables = 0;
    s.table_names = NULL;
    doc = format(&s, &b, &text);
    aws = json_object_get(doc, "aws");
    assert_null(json_object_get(aws, "table_name"));
    assert_null(json_object_get(aws, "table_names"));
    json_decref(doc);
    buf_free(&b);
}

/* A string that is not plain is left out, never escaped into the document. */
static void test_non_plain_strings_are_left_out(void **state) {
    (void)state;
    static const char *const bad_one[] = {"Users\"Table"};
    static const char *const mixed[] = {"Users Table", "Claims", "x\\y", "Idem.1"};
    xray_subsegment s = full();
    s.table_names = bad_one;
    s.region = "eu west 1";
    s.request_id = "id\"},\"fault\":false,\"x\":{\"";
    buf b;
    const char *text;
    json_t *doc = format(&s, &b, &text);
    json_t *aws = json_object_get(doc, "aws");
    assert_null(json_object_get(aws, "table_name"));
    assert_null(json_object_get(aws, "region"));
    assert_null(json_object_get(aws, "request_id"));
    assert_true(json_is_true(json_object_get(doc, "fault")));
    assert_int_equal(json_object_size(aws), 2); /* operation, retries */
    json_decref(doc);
    buf_free(&b);

    s.table_names = mixed;
    s.n_tables = 4;
    s.region = "";
    s.request_id = NULL;
    doc = format(&s, &b, &text);
    json_t *names = json_object_get(json_object_get(doc, "aws"), "table_names");
    assert_int_equal(json_array_size(names), 2);
    assert_string_equal(json_string_value(json_array_get(names, 0)), "Claims");
    assert_string_equal(json_string_value(json_array_get(names, 1)), "Idem.1");
    json_decref(doc);
    buf_free(&b);

    /* Without a plain operation, trace id or parent there is no document at all. */
    const char *fields[] = {"operation", "trace_id", "parent_id"};
    for (size_t i = 0; i < 3; i++) {
        for (int bad = 0; bad < 3; bad++) {
            const char *v = bad == 0 ? NULL : bad == 1 ? "" : "Get Item";
            s = full();
            if (i == 0)
                s.operation = v;
            else if (i == 1)
                s.trace_id = v;
            else
                s.parent_id = v;
            buf_init(&b, XRAY_MAX_DATAGRAM);
            assert_int_equal(buf_append_str(&b, "stale"), UA_OK);
            if (xray_format_subsegment(&s, &b) != UA_ERR_INVALID)
                fail_msg("%s = \"%s\" was accepted", fields[i], v ? v : "(null)");
            assert_int_equal(b.len, 0);
            buf_free(&b);
        }
    }
}

static void test_format_resets_and_respects_the_limit(void **state) {
    (void)state;
    xray_subsegment s = full();
    buf b;
    buf_init(&b, XRAY_MAX_DATAGRAM);
    assert_int_equal(buf_append_str(&b, "left over"), UA_OK);
    assert_int_equal(xray_format_subsegment(&s, &b), UA_OK);
    assert_int_equal(strncmp(buf_str(&b), HEADER, strlen(HEADER)), 0);
    buf_free(&b);

    /* A plain table name longer than the datagram may hold. */
    char *big = malloc(XRAY_MAX_DATAGRAM + 1);
    assert_non_null(big);
    memset(big, 'T', XRAY_MAX_DATAGRAM);
    big[XRAY_MAX_DATAGRAM] = '\0';
    const char *const names[] = {big};
    s.table_names = names;
    buf_init(&b, XRAY_MAX_DATAGRAM);
    assert_int_equal(xray_format_subsegment(&s, &b), UA_ERR_TOO_BIG);
    assert_true(b.len <= XRAY_MAX_DATAGRAM);
    buf_free(&b);
    free(big);
}

/* ---- Ids ---- */

static int cmp_ids(const void *a, const void *b) {
    return strcmp(a, b);
}

static void test_new_ids(void **state) {
    (void)state;
    enum { N = 2000 };
    static char ids[N][TRACE_ID_LEN + 1];
    for (size_t i = 0; i < N; i++) {
        memset(ids[i], 'x', sizeof ids[i]);
        xray_new_id(ids[i]);
        assert_int_equal(strlen(ids[i]), TRACE_ID_LEN);
        for (size_t k = 0; k < TRACE_ID_LEN; k++) {
            char c = ids[i][k];
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
                fail_msg("id %s is not lowercase hex", ids[i]);
        }
    }
    qsort(ids, N, sizeof ids[0], cmp_ids);
    for (size_t i = 1; i < N; i++)
        if (strcmp(ids[i - 1], ids[i]) == 0)
            fail_msg("id %s handed out twice", ids[i]);
    /* Not all the same nibble in one position: the ids are random, not a counter. */
    assert_int_not_equal(ids[0][0], ids[N - 1][0]);
}

/* ---- Addresses ---- */

static void test_addresses_accepted(void **state) {
    (void)state;
    static const char *const ok[] = {
        "127.0.0.1:2000",
        "169.254.79.129:2000", /* Lambda's */
        "10.0.0.1:65535",
        "127.0.0.1:1",
        "[::1]:2000",
        "[fe80::1]:2000",
        "[2001:db8::42]:3000",
        "tcp:127.0.0.1:2000 udp:127.0.0.1:2000",
        "udp:127.0.0.1:2000 tcp:127.0.0.1:2000",
        "tcp:[::1]:2000 udp:[::1]:2001",
        "udp:169.254.79.129:2000",
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        char err[128] = "stale";
        xray_daemon *d = xray_daemon_open(ok[i], err, sizeof err);
        if (!d)
            fail_msg("\"%s\" refused: %s", ok[i], err);
        assert_string_equal(err, "");
        unsigned long sent = 9, dropped = 9;
        xray_daemon_counts(d, &sent, &dropped);
        assert_int_equal(sent, 0);
        assert_int_equal(dropped, 0);
        xray_daemon_close(d);
    }
}

static void test_addresses_refused(void **state) {
    (void)state;
    static const char *const bad[] = {
        "localhost:2000", /* a name: no DNS, ever */
        "xray.local:2000",
        "udp:localhost:2000",
        "tcp:127.0.0.1:2000 udp:localhost:2000",
        "127.0.0.1",
        "127.0.0.1:",
        ":2000",
        "127.0.0.1:0",
        "127.0.0.1:65536",
        "127.0.0.1:99999",
        "127.0.0.1:123456",
        "127.0.0.1:20a0",
        "127.0.0.1:-1",
        "127.0.0.1:+200",
        "256.0.0.1:2000",
        "127.0.0:2000",
        "[::1]",
        "[::1]2000",
        "[::1]:",
        "[::1:2000",
        "[]:2000",
        "[localhost]:2000",
        "[127.0.0.1:2000",
        " 127.0.0.1:2000",
        "garbage",
        "udp:",
        "[0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef]:2000",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char err[128] = "";
        xray_daemon *d = xray_daemon_open(bad[i], err, sizeof err);
        if (d) {
            xray_daemon_close(d);
            fail_msg("\"%s\" accepted", bad[i]);
        }
        if (!err[0])
            fail_msg("\"%s\" refused without a reason", bad[i]);
    }
}

static void test_no_address_is_no_daemon(void **state) {
    (void)state;
    char err[64] = "stale";
    assert_null(xray_daemon_open(NULL, err, sizeof err));
    assert_string_equal(err, "");
    strcpy(err, "stale");
    assert_null(xray_daemon_open("", err, sizeof err));
    assert_string_equal(err, "");
    /* No daemon: sending is a no-op that reports the drop, counting reads zero. */
    assert_false(xray_daemon_send(NULL, "x", 1));
    unsigned long sent = 9, dropped = 9;
    xray_daemon_counts(NULL, &sent, &dropped);
    assert_int_equal(sent, 0);
    assert_int_equal(dropped, 0);
    xray_daemon_close(NULL);
}

/* ---- Sending ---- */

static void test_round_trip_ipv4(void **state) {
    (void)state;
    listener l;
    assert_true(listener_open(&l, AF_INET));
    char err[128];
    xray_daemon *d = xray_daemon_open(l.address, err, sizeof err);
    if (!d)
        fail_msg("%s: %s", l.address, err);

    xray_subsegment s = full();
    buf b;
    buf_init(&b, XRAY_MAX_DATAGRAM);
    assert_int_equal(xray_format_subsegment(&s, &b), UA_OK);
    assert_true(xray_daemon_send(d, buf_str(&b), b.len));

    char got[XRAY_MAX_DATAGRAM + 16];
    ssize_t n = listener_recv(&l, got, sizeof got, 2000);
    assert_int_equal(n, (ssize_t)b.len);
    assert_memory_equal(got, buf_str(&b), b.len);
    /* Exactly the document, whole: header, newline, then the JSON. */
    char want[XRAY_MAX_DATAGRAM];
    snprintf(want, sizeof want,
             HEADER "{\"name\":\"DynamoDB\",\"id\":\"" ID "\",\"trace_id\":\"" ROOT
                    "\",\"parent_id\":\"" PARENT "\",\"type\":\"subsegment\","
                    "\"namespace\":\"aws\",\"start_time\":1700000000.000123,"
                    "\"end_time\":1700000000.042000,\"aws\":{\"operation\":\"GetItem\","
                    "\"table_name\":\"UsersTable\",\"region\":\"eu-west-1\",\"retries\":2,"
                    "\"request_id\":\"" REQID "\"},\"http\":{\"response\":{\"status\":500}},"
                    "\"error\":true,\"throttle\":true,\"fault\":true}");
    assert_string_equal(got, want);

    /* A second datagram is a datagram of its own. */
    assert_true(xray_daemon_send(d, "abc", 3));
    n = listener_recv(&l, got, sizeof got, 2000);
    assert_int_equal(n, 3);
    assert_string_equal(got, "abc");
    unsigned long sent, dropped;
    xray_daemon_counts(d, &sent, &dropped);
    assert_int_equal(sent, 2);
    assert_int_equal(dropped, 0);

    buf_free(&b);
    xray_daemon_close(d);
    listener_close(&l);
}

/* The SDKs' two-address form: datagrams go to the udp: part, not the tcp: one. */
static void test_round_trip_udp_part(void **state) {
    (void)state;
    listener udp, tcp;
    assert_true(listener_open(&udp, AF_INET));
    assert_true(listener_open(&tcp, AF_INET));
    char address[160], err[128];
    snprintf(address, sizeof address, "tcp:%s udp:%s", tcp.address, udp.address);
    xray_daemon *d = xray_daemon_open(address, err, sizeof err);
    if (!d)
        fail_msg("%s: %s", address, err);
    assert_true(xray_daemon_send(d, "to-udp", 6));
    char got[64];
    assert_int_equal(listener_recv(&udp, got, sizeof got, 2000), 6);
    assert_string_equal(got, "to-udp");
    assert_int_equal(listener_recv(&tcp, got, sizeof got, 100), -1);
    xray_daemon_close(d);

    snprintf(address, sizeof address, "udp:%s tcp:%s", udp.address, tcp.address);
    d = xray_daemon_open(address, err, sizeof err);
    if (!d)
        fail_msg("%s: %s", address, err);
    assert_true(xray_daemon_send(d, "again", 5));
    assert_int_equal(listener_recv(&udp, got, sizeof got, 2000), 5);
    assert_string_equal(got, "again");
    assert_int_equal(listener_recv(&tcp, got, sizeof got, 100), -1);
    xray_daemon_close(d);
    listener_close(&udp);
    listener_close(&tcp);
}

static void test_round_trip_ipv6(void **state) {
    (void)state;
    listener l;
    if (!listener_open(&l, AF_INET6))
        skip(); /* no IPv6 loopback on this machine */
    char err[128];
    xray_daemon *d = xray_daemon_open(l.address, err, sizeof err);
    if (!d)
        fail_msg("%s: %s", l.address, err);
    assert_true(xray_daemon_send(d, "v6", 2));
    char got[16];
    assert_int_equal(listener_recv(&l, got, sizeof got, 2000), 2);
    assert_string_equal(got, "v6");
    xray_daemon_close(d);
    listener_close(&l);
}

/* Nobody listens: sending neither blocks nor fails the caller, and every datagram is counted
 * once, as sent or dropped. */
static void test_dead_daemon_costs_nothing(void **state) {
    (void)state;
    listener l;
    assert_true(listener_open(&l, AF_INET));
    char address[64];
    snprintf(address, sizeof address, "%s", l.address);
    listener_close(&l); /* the port is now closed: ICMP port unreachable comes back */

    char err[128];
    xray_daemon *d = xray_daemon_open(address, err, sizeof err);
    if (!d)
        fail_msg("%s: %s", address, err);
    xray_subsegment s = full();
    buf b;
    buf_init(&b, XRAY_MAX_DATAGRAM);
    assert_int_equal(xray_format_subsegment(&s, &b), UA_OK);
    enum { N = 200 };
    unsigned ok = 0;
    double t0 = now_s();
    for (int i = 0; i < N; i++)
        ok += xray_daemon_send(d, buf_str(&b), b.len) ? 1u : 0u;
    double took = now_s() - t0;
    if (took > 1.0)
        fail_msg("%d sends to a dead daemon took %.3f s", N, took);
    unsigned long sent, dropped;
    xray_daemon_counts(d, &sent, &dropped);
    assert_int_equal(sent + dropped, N);
    assert_int_equal(sent, ok);
    assert_true(sent >= 1); /* the first send cannot know yet that nobody listens */
    buf_free(&b);
    xray_daemon_close(d);
}

/* A daemon that never reads: its queue fills, ours never waits for it. */
static void test_full_daemon_costs_nothing(void **state) {
    (void)state;
    listener l;
    assert_true(listener_open(&l, AF_INET));
    int small = 1024;
    assert_int_equal(setsockopt(l.fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small), 0);
    char err[128];
    xray_daemon *d = xray_daemon_open(l.address, err, sizeof err);
    if (!d)
        fail_msg("%s: %s", l.address, err);
    static char big[XRAY_MAX_DATAGRAM];
    memset(big, 'd', sizeof big);
    enum { N = 2000 };
    double t0 = now_s();
    for (int i = 0; i < N; i++)
        (void)xray_daemon_send(d, big, sizeof big);
    double took = now_s() - t0;
    if (took > 2.0)
        fail_msg("%d sends to a full daemon took %.3f s", N, took);
    unsigned long sent, dropped;
    xray_daemon_counts(d, &sent, &dropped);
    assert_int_equal(sent + dropped, N);
    xray_daemon_close(d);
    listener_close(&l);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_every_field),
        cmocka_unit_test(test_format_success_has_no_flags),
        cmocka_unit_test(test_times_keep_six_decimals),
        cmocka_unit_test(test_table_name_or_names),
        cmocka_unit_test(test_non_plain_strings_are_left_out),
        cmocka_unit_test(test_format_resets_and_respects_the_limit),
        cmocka_unit_test(test_new_ids),
        cmocka_unit_test(test_addresses_accepted),
        cmocka_unit_test(test_addresses_refused),
        cmocka_unit_test(test_no_address_is_no_daemon),
        cmocka_unit_test(test_round_trip_ipv4),
        cmocka_unit_test(test_round_trip_udp_part),
        cmocka_unit_test(test_round_trip_ipv6),
        cmocka_unit_test(test_dead_daemon_costs_nothing),
        cmocka_unit_test(test_full_daemon_costs_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

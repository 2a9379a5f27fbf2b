/* bench_driver.c — the benchmark's fakes and its measuring driver in one small program.
 *
 * A Lambda Runtime API and a DynamoDB on loopback, both answering at once from canned
 * documents (single thread, epoll, HTTP/1.1 keep-alive), and the measurements made through
 * them on a child process (the bootstrap, or the Python comparison runtime):
 *
 *   bench_driver cold [opts] -- CMD...   exec → first GET /next, and exec → first /response
 *   bench_driver warm [opts] -- CMD...   CPU (user+sys) and RSS of the child every K invocations
 *   bench_driver ops  [opts] -- CMD...   DynamoDB requests per operation, counted per X-Amz-Target
 *   bench_driver ddb  [opts]             only the fake DynamoDB, until SIGTERM (for the gateway)
 *
 * Options: --events DIR (one NAME.json per operation in OP_FILES), --runs N and --next-only
 * (cold), --invocations N, --every K and --op NAME (warm; default get), --rounds N (ops),
 * --port P (ddb), --cpu N (pin the driver, and so the child, to one CPU), --trace MODE
 * (the Lambda-Runtime-Trace-Id of each event: "unsampled", the default, "sampled" — the
 * driver then also plays the X-Ray daemon on a UDP port named in AWS_XRAY_DAEMON_ADDRESS,
 * and counts the datagrams — or "none").
 * Every invocation must answer its operation's status (OP_STATUS); warm counts the others as
 * bad, ops prints them and exits 1.
 * Output is one record per line, "name key=value ...", read by tests/bench/bench.py.
 * The child's environment is the driver's plus AWS_LAMBDA_RUNTIME_API and the DynamoDB
 * endpoint; its stdout and stderr go to /dev/null unless BENCH_CHILD_LOG names a file.
 * BENCH_GRACEFUL=1 ends the child by answering its last /next with 500 rather than SIGKILL
 * (for profilers that write their data at exit: callgrind, heaptrack). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS       64
#define MAX_REQUEST     (1u << 20) /* requests larger than this are a bug in the child */
#define EVENT_KINDS     8
#define CHILD_TIMEOUT_S 60 /* no answer from the child for this long ends the run */

enum role { ROLE_RUNTIME, ROLE_DDB };
enum op {
    OP_GET,
    OP_CREATE,
    OP_LIST,
    OP_UPDATE,
    OP_DELETE,
    OP_CREATE_IDEMPOTENT, /* with an Idempotency-Key */
    OP_LOOKUP,            /* GET /users?email= */
    OP_UPDATE_EMAIL,      /* an update that changes the address */
};
static const char *const OP_FILES[EVENT_KINDS] = {
    "get", "create", "list", "update", "delete", "create_idempotent", "lookup", "update_email"};
/* The status each event must be answered with (the contract's success for it). */
static const int OP_STATUS[EVENT_KINDS] = {200, 201, 200, 200, 200, 201, 200, 200};
/* DynamoDB targets, counted at the fake; the last slot counts anything else. */
static const char *const TARGETS[] = {
    "GetItem", "PutItem", "Scan", "UpdateItem", "DeleteItem", "TransactWriteItems", "Query"};
#define N_TARGETS 7
enum target { T_GET, T_PUT, T_SCAN, T_UPDATE, T_DELETE, T_TRANSACT, T_QUERY };

/* ---- Canned DynamoDB answers: one user, as the handlers read it ---- */

#define ITEM                                                                                       \
    "{\"userId\":{\"S\":\"3f0c8a9e-8d1b-4c2a-9f5e-2b7d3c1a4e6f\"},\"name\":{\"S\":\"Ada "          \
    "Lovelace\"},\"email\":{\"S\":\"ada@example.com\"},\"emailLower\":{\"S\":\"ada@example."       \
    "com\"},\"age\":{\"N\":\"36\"},\"createdAt\":{\"S\":\"2026-11-24T12:34:56.789Z\"},"            \
    "\"updatedAt\":{\"S\":\"2026-11-24T12:34:56.789Z\"},\"version\":{\"N\":\"1\"}}"
/* The stored user's address, lower-cased: a Query for it finds the user, and an UpdateItem
 * that sets another fails its condition, as DynamoDB would answer them. */
#define STORED_EMAIL_LOWER "ada@example.com"
/* One answer per target (in TARGETS order), then the two answers that depend on the request. */
enum reply { R_UPDATE_CONDITION_FAILED = N_TARGETS, R_QUERY_NONE, N_REPLIES };
static const struct {
    const char *status, *body;
} DDB_REPLIES[N_REPLIES] = {
    [T_GET] = {"200 OK", "{\"Item\":" ITEM "}"},
    [T_PUT] = {"200 OK", "{}"},
    [T_SCAN] = {"200 OK", "{\"Items\":[" ITEM "],\"Count\":1,\"ScannedCount\":1}"},
    [T_UPDATE] = {"200 OK", "{\"Attributes\":" ITEM "}"},
    [T_DELETE] = {"200 OK", "{}"},
    [T_TRANSACT] = {"200 OK", "{}"},
    [T_QUERY] = {"200 OK", "{\"Items\":[" ITEM "],\"Count\":1,\"ScannedCount\":1}"},
    /* ReturnValuesOnConditionCheckFailure ALL_OLD: the stored item comes with the refusal. */
    [R_UPDATE_CONDITION_FAILED] = {"400 Bad Request",
                                   "{\"__type\":\"com.amazonaws.dynamodb.v20120810#"
                                   "ConditionalCheckFailedException\",\"message\":\"The "
                                   "conditional request failed\",\"Item\":" ITEM "}"},
    [R_QUERY_NONE] = {"200 OK", "{\"Items\":[],\"Count\":0,\"ScannedCount\":0}"},
};

typedef struct conn {
    int fd;
    enum role role;
    unsigned gen; /* which child run accepted it: requests from an older child are ignored */
    char *in;
    size_t len, cap;
} conn;

typedef struct driver {
    int ep, rt_listen, ddb_listen;
    int rt_port, ddb_port;
    conn conns[MAX_CONNS];
    unsigned gen;
    /* canned payloads */
    char *events[EVENT_KINDS];
    size_t event_len[EVENT_KINDS];
    char ddb_resp[N_REPLIES][2048];
    size_t ddb_resp_len[N_REPLIES];
    int want_status; /* what every /response must carry (0: any 2xx) */
    /* what the current child has done */
    pid_t child;
    unsigned long long invocations; /* /response or /error posts */
    unsigned long long nexts;       /* /next requests seen */
    unsigned long long ddb_count[N_TARGETS + 1];
    unsigned long long bad_status, errors, init_errors; /* bad: not want_status */
    int last_status;                                    /* statusCode of the last /response */
    /* the caller's hook for a /next: answer it now (with an event kind), or hold it */
    conn *held;
    unsigned long long req_seq;
    bool closed; /* a connection closed since the last look at the child */
    /* tracing: what the events' trace header says, and the stand-in X-Ray daemon */
    enum trace_mode { TRACE_UNSAMPLED, TRACE_SAMPLED, TRACE_NONE } trace;
    int xray_fd; /* -1 unless sampled */
    unsigned long long datagrams;
} driver;

static volatile sig_atomic_t stop_requested;

static void die(const char *what) {
    fprintf(stderr, "bench_driver: %s: %s\n", what, errno ? strerror(errno) : "failed");
    exit(2);
}

static int64_t now_ns(clockid_t clock) {
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* CRC-32 (IEEE), as DynamoDB's x-amz-crc32. */
static uint32_t crc32_ieee(const char *p, size_t n) {
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= (unsigned char)p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
    }
    return ~c;
}

static char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f)
        die(path);
    size_t cap = 4096, n = 0;
    char *data = malloc(cap);
    size_t got;
    while (data && (got = fread(data + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap)
            data = realloc(data, cap *= 2);
    }
    fclose(f);
    if (!data)
        die("out of memory");
    while (n > 0 && (data[n - 1] == '\n' || data[n - 1] == '\r'))
        n--; /* Lambda sends the document without a trailing newline */
    *len = n;
    return data;
}

/* ---- Sockets ---- */

static int listen_on(int port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 64) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &alen) != 0)
        die("listen on 127.0.0.1");
    return fd;
}

static int port_of(int fd) {
    struct sockaddr_in a;
    socklen_t alen = sizeof a;
    if (getsockname(fd, (struct sockaddr *)&a, &alen) != 0)
        die("getsockname");
    return ntohs(a.sin_port);
}

static void watch(driver *d, int fd, void *ptr) {
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = ptr};
    if (epoll_ctl(d->ep, EPOLL_CTL_ADD, fd, &ev) != 0)
        die("epoll_ctl");
}

static void conn_close(driver *d, conn *c) {
    if (d->held == c)
        d->held = NULL;
    d->closed = true;
    epoll_ctl(d->ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    c->fd = -1;
    c->len = 0;
}

static void accept_on(driver *d, int lfd, enum role role) {
    int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0)
        return;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    for (size_t i = 0; i < MAX_CONNS; i++) {
        conn *c = &d->conns[i];
        if (c->fd < 0) {
            c->fd = fd;
            c->role = role;
            c->gen = d->gen;
            c->len = 0;
            watch(d, fd, c);
            return;
        }
    }
    close(fd); /* more connections than any sane child opens */
}

/* Writes all of iov; the peer reads at once, so a blocking write never waits long. */
static void send_all(driver *d, conn *c, struct iovec *iov, int n) {
    while (n > 0) {
        ssize_t w = writev(c->fd, iov, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            conn_close(d, c);
            return;
        }
        size_t left = (size_t)w;
        while (n > 0 && left >= iov->iov_len) {
            left -= iov->iov_len;
            iov++;
            n--;
        }
        if (n > 0) {
            iov->iov_base = (char *)iov->iov_base + left;
            iov->iov_len -= left;
        }
    }
}

static void send_simple(driver *d, conn *c, const char *status, const char *body) {
    char head[256];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
                     status, strlen(body));
    struct iovec iov[2] = {{head, (size_t)n}, {(void *)body, strlen(body)}};
    send_all(d, c, iov, 2);
}

/* ---- The Runtime API ---- */

/* Answers a held or fresh /next with the event of the given kind. */
static void send_event(driver *d, conn *c, enum op kind) {
    char head[640];
    unsigned long long seq = ++d->req_seq;
    long long deadline = now_ns(CLOCK_REALTIME) / 1000000 + 30000;
    char trace[128] = "";
    if (d->trace != TRACE_NONE)
        snprintf(trace, sizeof trace,
                 "Lambda-Runtime-Trace-Id: Root=1-6745a1b2-3c4d5e6f7a8b9c0d1e2f3a4b;"
                 "Parent=%016llx;Sampled=%d\r\n",
                 seq, d->trace == TRACE_SAMPLED ? 1 : 0);
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                     "Lambda-Runtime-Aws-Request-Id: 8476a536-e9f4-11e8-9739-%012llx\r\n"
                     "Lambda-Runtime-Deadline-Ms: %lld\r\n"
                     "Lambda-Runtime-Invoked-Function-Arn: "
                     "arn:aws:lambda:eu-west-1:123456789012:function:users-api\r\n"
                     "%sContent-Length: %zu\r\n\r\n",
                     seq, deadline, trace, d->event_len[kind]);
    struct iovec iov[2] = {{head, (size_t)n}, {d->events[kind], d->event_len[kind]}};
    send_all(d, c, iov, 2);
}

/* statusCode of a proxy response document, -1 when absent. */
static int status_code(const char *body, size_t len) {
    const char *k = memmem(body, len, "\"statusCode\"", 12);
    if (!k)
        return -1;
    k += 12;
    while (k < body + len && (*k == ':' || *k == ' '))
        k++;
    return (int)strtol(k, NULL, 10);
}

/* ---- One parsed request ---- */

typedef struct request {
    char method[8];
    const char *path;
    size_t path_len;
    const char *target; /* X-Amz-Target value, or NULL */
    size_t target_len;
    const char *body;
    size_t body_len;
} request;

/* Parses one whole request from c->in; returns its length, 0 when incomplete. */
static size_t parse_request(const conn *c, request *r) {
    const char *end = memmem(c->in, c->len, "\r\n\r\n", 4);
    if (!end)
        return 0;
    size_t head_len = (size_t)(end - c->in) + 4;
    const char *sp = memchr(c->in, ' ', head_len);
    if (!sp || (size_t)(sp - c->in) >= sizeof r->method)
        return SIZE_MAX;
    memcpy(r->method, c->in, (size_t)(sp - c->in));
    r->method[sp - c->in] = '\0';
    r->path = sp + 1;
    const char *sp2 = memchr(r->path, ' ', head_len - (size_t)(r->path - c->in));
    if (!sp2)
        return SIZE_MAX;
    r->path_len = (size_t)(sp2 - r->path);
    size_t content_length = 0;
    r->target = NULL;
    r->target_len = 0;
    for (const char *line = (const char *)memchr(c->in, '\n', head_len) + 1; line < end;) {
        const char *eol = memchr(line, '\r', (size_t)(end - line) + 1);
        size_t ll = (size_t)(eol - line);
        if (ll > 15 && strncasecmp(line, "content-length:", 15) == 0)
            content_length = strtoul(line + 15, NULL, 10);
        else if (ll > 13 && strncasecmp(line, "x-amz-target:", 13) == 0) {
            r->target = line + 13;
            while (*r->target == ' ')
                r->target++;
            r->target_len = (size_t)(eol - r->target);
        }
        line = eol + 2;
    }
    if (content_length > MAX_REQUEST)
        return SIZE_MAX;
    if (c->len < head_len + content_length)
        return 0;
    r->body = c->in + head_len;
    r->body_len = content_length;
    return head_len + content_length;
}

static bool path_is(const request *r, const char *s) {
    return r->path_len == strlen(s) && memcmp(r->path, s, r->path_len) == 0;
}

static bool path_ends(const request *r, const char *s) {
    size_t n = strlen(s);
    return r->path_len >= n && memcmp(r->path + r->path_len - n, s, n) == 0;
}

typedef struct hooks {
    /* A /next arrived: answer with an event (return its kind) or hold it (return -1). */
    int (*on_next)(driver *d, void *ctx);
    void (*on_response)(driver *d, void *ctx, int status);
    void *ctx;
} hooks;

/* The string value of ":name" in a request's ExpressionAttributeValues ({":name":{"S":"..."}},
 * as the bootstrap writes it, compact) into out; false when absent. */
static bool value_s(const request *r, const char *name, char *out, size_t cap) {
    char key[64];
    int n = snprintf(key, sizeof key, "\"%s\":{\"S\":\"", name);
    const char *v = memmem(r->body, r->body_len, key, (size_t)n);
    if (!v)
        return false;
    v += n;
    const char *end = memchr(v, '"', r->body_len - (size_t)(v - r->body));
    if (!end || (size_t)(end - v) >= cap)
        return false;
    memcpy(out, v, (size_t)(end - v));
    out[end - v] = '\0';
    return true;
}

/* The answer for target t as DynamoDB holding the one user would give it: a Query finds the
 * user only by its address; an UpdateItem that sets another address fails the condition the
 * bootstrap puts on it (the stored emailLower must equal the new one), so that the address
 * change goes on to its transaction. */
static size_t reply_for(size_t t, const request *r) {
    char email[256];
    if (t == T_QUERY && value_s(r, ":emailLower", email, sizeof email) &&
        strcmp(email, STORED_EMAIL_LOWER) != 0)
        return R_QUERY_NONE;
    if (t == T_UPDATE && value_s(r, ":emailLower", email, sizeof email) &&
        strcmp(email, STORED_EMAIL_LOWER) != 0)
        return R_UPDATE_CONDITION_FAILED;
    return t;
}

static void serve_ddb(driver *d, conn *c, const request *r) {
    static const char prefix[] = "DynamoDB_20120810.";
    size_t t = N_TARGETS;
    if (r->target && r->target_len > sizeof prefix - 1 &&
        memcmp(r->target, prefix, sizeof prefix - 1) == 0)
        for (t = 0; t < N_TARGETS; t++)
            if (r->target_len - (sizeof prefix - 1) == strlen(TARGETS[t]) &&
                memcmp(r->target + sizeof prefix - 1, TARGETS[t], strlen(TARGETS[t])) == 0)
                break;
    d->ddb_count[t]++;
    if (t == N_TARGETS) {
        send_simple(d, c, "400 Bad Request",
                    "{\"__type\":\"com.amazon.coral.validate#ValidationException\"}");
        return;
    }
    size_t a = reply_for(t, r);
    struct iovec iov[1] = {{d->ddb_resp[a], d->ddb_resp_len[a]}};
    send_all(d, c, iov, 1);
}

static void serve_runtime(driver *d, conn *c, const request *r, const hooks *h) {
    if (strcmp(r->method, "GET") == 0 && path_is(r, "/2018-06-01/runtime/invocation/next")) {
        d->nexts++;
        d->held = c;
        int kind = h->on_next(d, h->ctx);
        if (kind >= 0 && d->held == c) {
            d->held = NULL;
            send_event(d, c, (enum op)kind);
        }
        return;
    }
    if (strcmp(r->method, "POST") == 0 && path_ends(r, "/response")) {
        d->invocations++;
        d->last_status = status_code(r->body, r->body_len);
        if (d->want_status ? d->last_status != d->want_status
                           : d->last_status < 200 || d->last_status > 299)
            d->bad_status++;
        send_simple(d, c, "202 Accepted", "{\"status\":\"OK\"}");
        if (h->on_response)
            h->on_response(d, h->ctx, d->last_status);
        return;
    }
    if (strcmp(r->method, "POST") == 0 && path_is(r, "/2018-06-01/runtime/init/error")) {
        d->init_errors++;
        send_simple(d, c, "202 Accepted", "{\"status\":\"OK\"}");
        return;
    }
    if (strcmp(r->method, "POST") == 0 && path_ends(r, "/error")) {
        d->invocations++;
        d->errors++;
        send_simple(d, c, "202 Accepted", "{\"status\":\"OK\"}");
        if (h->on_response)
            h->on_response(d, h->ctx, -1);
        return;
    }
    send_simple(d, c, "404 Not Found", "{\"errorMessage\":\"unknown path\"}");
}

static void on_readable(driver *d, conn *c, const hooks *h) {
    if (c->cap - c->len < 65536) {
        size_t cap = c->cap ? c->cap * 2 : 131072;
        char *grown = realloc(c->in, cap);
        if (!grown)
            die("out of memory");
        c->in = grown;
        c->cap = cap;
    }
    ssize_t n = read(c->fd, c->in + c->len, c->cap - c->len);
    if (n <= 0) {
        if (n < 0 && errno == EINTR)
            return;
        conn_close(d, c);
        return;
    }
    c->len += (size_t)n;
    for (;;) {
        request r;
        size_t used = parse_request(c, &r);
        if (used == 0)
            return;
        if (used == SIZE_MAX || c->len > MAX_REQUEST) {
            conn_close(d, c);
            return;
        }
        if (c->gen == d->gen) { /* a killed child's last words are not counted */
            if (c->role == ROLE_DDB)
                serve_ddb(d, c, &r);
            else
                serve_runtime(d, c, &r, h);
        }
        if (c->fd < 0)
            return;
        memmove(c->in, c->in + used, c->len - used);
        c->len -= used;
    }
}

static void sig_stop(int sig) {
    (void)sig;
    stop_requested = 1;
}

/* Reads every datagram waiting on the stand-in X-Ray daemon, counting them. */
static void drain_datagrams(driver *d) {
    char b[65536];
    while (recv(d->xray_fd, b, sizeof b, MSG_DONTWAIT) > 0)
        d->datagrams++;
}

/* Serves until *done, or until the child has been silent for CHILD_TIMEOUT_S. */
static void serve_until(driver *d, const hooks *h, const bool *done) {
    int64_t last = now_ns(CLOCK_MONOTONIC);
    while (!*done && !stop_requested) {
        struct epoll_event evs[16];
        int n = epoll_wait(d->ep, evs, 16, 1000);
        if (n < 0 && errno != EINTR)
            die("epoll_wait");
        if (n > 0)
            last = now_ns(CLOCK_MONOTONIC);
        else if (now_ns(CLOCK_MONOTONIC) - last > (int64_t)CHILD_TIMEOUT_S * 1000000000) {
            fprintf(stderr, "bench_driver: the child said nothing for %d s\n", CHILD_TIMEOUT_S);
            exit(3);
        }
        for (int i = 0; i < n; i++) {
            void *p = evs[i].data.ptr;
            if (p == &d->rt_listen)
                accept_on(d, d->rt_listen, ROLE_RUNTIME);
            else if (p == &d->ddb_listen)
                accept_on(d, d->ddb_listen, ROLE_DDB);
            else if (p == &d->xray_fd)
                drain_datagrams(d);
            else if (((conn *)p)->fd >= 0)
                on_readable(d, p, h);
        }
        /* Only on a quiet second or a closed connection: a wait4 per wake-up would be the
         * driver's largest cost. */
        if (d->child > 0 && !*done && (n == 0 || d->closed)) {
            int st;
            d->closed = false;
            if (waitpid(d->child, &st, WNOHANG) == d->child) {
                fprintf(stderr, "bench_driver: the child exited early (status %d)\n", st);
                exit(3);
            }
        }
    }
}

/* ---- Set-up, the child ---- */

/* A UDP socket on loopback for the child's X-Ray datagrams, watched like the listeners. */
static void open_xray(driver *d) {
    d->xray_fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (d->xray_fd < 0 || bind(d->xray_fd, (struct sockaddr *)&a, sizeof a) != 0)
        die("the X-Ray daemon's socket");
    watch(d, d->xray_fd, &d->xray_fd);
}

static void driver_init(driver *d, const char *events_dir, int ddb_port, bool runtime) {
    memset(d, 0, sizeof *d);
    d->xray_fd = -1;
    for (size_t i = 0; i < MAX_CONNS; i++)
        d->conns[i].fd = -1;
    d->ep = epoll_create1(EPOLL_CLOEXEC);
    if (d->ep < 0)
        die("epoll_create1");
    d->ddb_listen = listen_on(ddb_port);
    d->ddb_port = port_of(d->ddb_listen);
    watch(d, d->ddb_listen, &d->ddb_listen);
    d->rt_listen = -1;
    if (runtime) {
        d->rt_listen = listen_on(0);
        d->rt_port = port_of(d->rt_listen);
        watch(d, d->rt_listen, &d->rt_listen);
        for (int k = 0; k < EVENT_KINDS; k++) {
            char path[4096];
            snprintf(path, sizeof path, "%s/%s.json", events_dir, OP_FILES[k]);
            d->events[k] = read_file(path, &d->event_len[k]);
        }
    }
    for (int t = 0; t < N_REPLIES; t++) {
        const char *body = DDB_REPLIES[t].body;
        size_t len = strlen(body);
        int n =
            snprintf(d->ddb_resp[t], sizeof d->ddb_resp[t],
                     "HTTP/1.1 %s\r\nServer: Server\r\nDate: Thu, 26 Nov 2026 12:00:00 GMT\r\n"
                     "Content-Type: application/x-amz-json-1.0\r\nContent-Length: %zu\r\n"
                     "Connection: keep-alive\r\n"
                     "x-amzn-RequestId: 5HKV0JBB4Q0K5RT7PNJF0T0JQ7VV4KQNSO5AEMVJF66Q9ASUAAJG\r\n"
                     "x-amz-crc32: %u\r\n\r\n%s",
                     DDB_REPLIES[t].status, len, crc32_ieee(body, len), body);
        if (n < 0 || (size_t)n >= sizeof d->ddb_resp[t])
            die("a canned DynamoDB answer is too long");
        d->ddb_resp_len[t] = (size_t)n;
    }
    signal(SIGPIPE, SIG_IGN);
}

/* The child's exec time (CLOCK_MONOTONIC ns), written by the child just before execve. */
static int64_t *exec_stamp;

static void child_env(const driver *d) {
    char v[128];
    snprintf(v, sizeof v, "127.0.0.1:%d", d->rt_port);
    setenv("AWS_LAMBDA_RUNTIME_API", v, 1);
    snprintf(v, sizeof v, "http://127.0.0.1:%d", d->ddb_port);
    setenv("AWS_ENDPOINT_URL_DYNAMODB", v, 1);
    setenv("USERS_TABLE", getenv("USERS_TABLE") ? getenv("USERS_TABLE") : "Users", 1);
    setenv("AWS_REGION", getenv("AWS_REGION") ? getenv("AWS_REGION") : "eu-west-1", 1);
    setenv("AWS_DEFAULT_REGION", getenv("AWS_REGION"), 1); /* Lambda sets both; boto3 reads this */
    setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE", 0);
    setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", 0);
    if (d->xray_fd >= 0) {
        snprintf(v, sizeof v, "127.0.0.1:%d", port_of(d->xray_fd));
        setenv("AWS_XRAY_DAEMON_ADDRESS", v, 1);
    } else {
        unsetenv("AWS_XRAY_DAEMON_ADDRESS");
    }
}

static void start_child(driver *d, char **argv) {
    d->gen++;
    d->invocations = d->nexts = d->bad_status = d->errors = d->init_errors = 0;
    d->last_status = 0;
    memset(d->ddb_count, 0, sizeof d->ddb_count);
    const char *log = getenv("BENCH_CHILD_LOG");
    pid_t pid = fork();
    if (pid < 0)
        die("fork");
    if (pid == 0) {
        int out = open(log && *log ? log : "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (out >= 0) {
            dup2(out, 1);
            dup2(out, 2);
        }
        *exec_stamp = now_ns(CLOCK_MONOTONIC);
        execvp(argv[0], argv);
        _exit(127);
    }
    d->child = pid;
}

/* SIGKILL: the child is blocked in /next, which is how Lambda freezes or ends it anyway.
 * With BENCH_GRACEFUL set, the held /next is answered 500 instead, so that the child exits by
 * itself (profilers such as callgrind and heaptrack write their data then). */
static void end_child(driver *d) {
    if (d->child <= 0)
        return;
    const char *graceful = getenv("BENCH_GRACEFUL");
    if (graceful && *graceful && d->held) {
        send_simple(d, d->held, "500 Internal Server Error", "{\"errorMessage\":\"stop\"}");
        for (int i = 0; i < 3000 && waitpid(d->child, NULL, WNOHANG) == 0; i++)
            usleep(10000);
    }
    kill(d->child, SIGKILL);
    waitpid(d->child, NULL, 0);
    d->child = 0;
    for (size_t i = 0; i < MAX_CONNS; i++)
        if (d->conns[i].fd >= 0)
            conn_close(d, &d->conns[i]);
}

/* The child's CPU time (user+sys, all threads, ns) and memory (kB). */
typedef struct usage {
    int64_t cpu_ns;
    long long utime, stime; /* from /proc/<pid>/stat, clock ticks */
    long rss_kb, hwm_kb;
} usage;

static void read_usage(pid_t pid, usage *u) {
    clockid_t cid;
    struct timespec ts;
    memset(u, 0, sizeof *u);
    if (clock_getcpuclockid(pid, &cid) == 0 && clock_gettime(cid, &ts) == 0)
        u->cpu_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
    char path[64], line[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (f) {
        if (fgets(line, sizeof line, f)) {
            const char *p = strrchr(line, ')'); /* comm may hold spaces */
            unsigned long long ut = 0, st = 0;
            if (p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut,
                            &st) == 2)
                u->utime = (long long)ut, u->stime = (long long)st;
        }
        fclose(f);
    }
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    f = fopen(path, "r");
    if (f) {
        while (fgets(line, sizeof line, f)) {
            if (strncmp(line, "VmRSS:", 6) == 0)
                u->rss_kb = strtol(line + 6, NULL, 10);
            else if (strncmp(line, "VmHWM:", 6) == 0)
                u->hwm_kb = strtol(line + 6, NULL, 10);
        }
        fclose(f);
    }
}

/* ---- cold ---- */

typedef struct cold_ctx {
    int64_t t_next, t_resp;
    bool next_only; /* stop at the first /next (the connect-only reference program) */
    bool done;
} cold_ctx;

static int cold_next(driver *d, void *ctx) {
    cold_ctx *c = ctx;
    if (d->nexts == 1) {
        c->t_next = now_ns(CLOCK_MONOTONIC);
        if (!c->next_only)
            return OP_GET;
    }
    c->done = true; /* the second /next: the first invocation is over */
    return -1;
}

static void cold_response(driver *d, void *ctx, int status) {
    cold_ctx *c = ctx;
    (void)d;
    (void)status;
    c->t_resp = now_ns(CLOCK_MONOTONIC);
}

static int run_cold(driver *d, unsigned runs, bool next_only, char **argv) {
    d->want_status = OP_STATUS[OP_GET];
    for (unsigned i = 0; i < runs && !stop_requested; i++) {
        cold_ctx c = {.next_only = next_only};
        hooks h = {cold_next, cold_response, &c};
        start_child(d, argv);
        serve_until(d, &h, &c.done);
        int64_t t0 = *exec_stamp;
        unsigned long long ddb = 0;
        for (int t = 0; t <= N_TARGETS; t++)
            ddb += d->ddb_count[t];
        end_child(d);
        printf("cold run=%u next_us=%.1f first_us=%.1f status=%d ddb=%llu errors=%llu\n", i,
               (double)(c.t_next - t0) / 1e3, c.t_resp ? (double)(c.t_resp - t0) / 1e3 : -1.0,
               d->last_status, ddb, d->errors + d->init_errors);
        fflush(stdout);
    }
    return 0;
}

/* ---- warm ---- */

typedef struct warm_ctx {
    unsigned long long total, every;
    enum op op; /* the event every invocation gets */
    bool done;
    int64_t wall0;
} warm_ctx;

static int warm_next(driver *d, void *ctx) {
    warm_ctx *w = ctx;
    unsigned long long done_inv = d->invocations;
    if (done_inv % w->every == 0 || done_inv == w->total) {
        usage u;
        read_usage(d->child, &u);
        unsigned long long ddb = 0;
        for (int t = 0; t <= N_TARGETS; t++)
            ddb += d->ddb_count[t];
        int64_t wall = now_ns(CLOCK_MONOTONIC);
        if (done_inv == 0)
            w->wall0 = wall;
        printf(
            "warm op=%s invocations=%llu cpu_ns=%lld utime=%lld stime=%lld rss_kb=%ld "
            "hwm_kb=%ld wall_ns=%lld ddb=%llu bad=%llu errors=%llu last_status=%d datagrams=%llu\n",
            OP_FILES[w->op], done_inv, (long long)u.cpu_ns, u.utime, u.stime, u.rss_kb, u.hwm_kb,
            (long long)(wall - w->wall0), ddb, d->bad_status, d->errors + d->init_errors,
            d->last_status, d->datagrams);
        fflush(stdout);
    }
    if (done_inv >= w->total) {
        w->done = true;
        return -1;
    }
    return (int)w->op;
}

static int run_warm(driver *d, enum op op, unsigned long long total, unsigned long long every,
                    char **argv) {
    warm_ctx w = {.total = total, .every = every ? every : total, .op = op};
    hooks h = {warm_next, NULL, &w};
    d->want_status = OP_STATUS[op];
    start_child(d, argv);
    serve_until(d, &h, &w.done);
    long tck = sysconf(_SC_CLK_TCK);
    printf("warm clk_tck=%ld\n", tck);
    end_child(d);
    if (d->bad_status || d->errors || d->init_errors) {
        fprintf(stderr, "bench_driver: %s: %llu of %llu invocations did not answer %d (last: %d)\n",
                OP_FILES[op], d->bad_status + d->errors + d->init_errors, d->invocations,
                OP_STATUS[op], d->last_status);
        return 1;
    }
    return 0;
}

/* ---- ops ---- */

typedef struct ops_ctx {
    unsigned rounds, sent;
    unsigned wrong; /* answers other than the operation's status */
    unsigned long long before[N_TARGETS + 1];
    enum op current;
    bool done;
} ops_ctx;

static const enum op OPS_ORDER[EVENT_KINDS] = {
    OP_CREATE, OP_CREATE_IDEMPOTENT, OP_GET,   OP_LOOKUP, OP_LIST,
    OP_UPDATE, OP_UPDATE_EMAIL,      OP_DELETE};

static int ops_next(driver *d, void *ctx) {
    ops_ctx *o = ctx;
    if (o->sent >= o->rounds * EVENT_KINDS) {
        o->done = true;
        return -1;
    }
    o->current = OPS_ORDER[o->sent++ % EVENT_KINDS];
    d->want_status = OP_STATUS[o->current];
    memcpy(o->before, d->ddb_count, sizeof o->before);
    return (int)o->current;
}

static void ops_response(driver *d, void *ctx, int status) {
    ops_ctx *o = ctx;
    unsigned long long total = 0;
    char detail[256] = "";
    size_t off = 0;
    for (int t = 0; t <= N_TARGETS; t++) {
        unsigned long long n = d->ddb_count[t] - o->before[t];
        total += n;
        if (n && off < sizeof detail)
            off += (size_t)snprintf(detail + off, sizeof detail - off, "%s%s:%llu", off ? "," : "",
                                    t < N_TARGETS ? TARGETS[t] : "other", n);
    }
    printf("op name=%s ddb=%llu targets=%s status=%d want=%d\n", OP_FILES[o->current], total,
           off ? detail : "-", status, OP_STATUS[o->current]);
    fflush(stdout);
    if (status != OP_STATUS[o->current] && o->wrong++ == 0)
        fprintf(stderr, "bench_driver: %s answered %d, not %d\n", OP_FILES[o->current], status,
                OP_STATUS[o->current]);
}

static int run_ops(driver *d, unsigned rounds, char **argv) {
    ops_ctx o = {.rounds = rounds};
    hooks h = {ops_next, ops_response, &o};
    start_child(d, argv);
    serve_until(d, &h, &o.done);
    end_child(d);
    if (o.wrong)
        fprintf(stderr, "bench_driver: %u of %u invocations answered another status\n", o.wrong,
                o.sent);
    return o.wrong ? 1 : 0;
}

/* ---- ddb (for the gateway) ---- */

static int no_next(driver *d, void *ctx) {
    (void)d;
    (void)ctx;
    return -1;
}

static int run_ddb(driver *d) {
    hooks h = {no_next, NULL, NULL};
    printf("ddb port=%d\n", d->ddb_port);
    fflush(stdout);
    struct sigaction sa = {.sa_handler = sig_stop};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    /* Silence is normal here: wait without the child timeout. */
    while (!stop_requested) {
        struct epoll_event evs[16];
        int n = epoll_wait(d->ep, evs, 16, -1);
        for (int i = 0; i < n; i++) {
            void *p = evs[i].data.ptr;
            if (p == &d->ddb_listen)
                accept_on(d, d->ddb_listen, ROLE_DDB);
            else if (((conn *)p)->fd >= 0)
                on_readable(d, p, &h);
        }
    }
    printf("ddb");
    for (int t = 0; t <= N_TARGETS; t++)
        printf(" %s=%llu", t < N_TARGETS ? TARGETS[t] : "other", d->ddb_count[t]);
    printf("\n");
    return 0;
}

static void usage_exit(void) {
    fputs("usage: bench_driver cold|warm|ops [--events DIR] [--cpu N] [--runs N] [--next-only] "
          "[--invocations N] [--every K] [--op NAME] [--rounds N] [--trace none|unsampled|sampled] "
          "-- CMD [ARGS...]\n"
          "       bench_driver ddb [--port P]\n",
          stderr);
    exit(2);
}

int main(int argc, char **argv) {
    if (argc < 2)
        usage_exit();
    const char *mode = argv[1], *events = "tests/bench/events";
    unsigned long long runs = 20, invocations = 20000, every = 10000, rounds = 20;
    int port = 0, cpu = -1, i = 2, op = OP_GET;
    const char *trace = "unsampled";
    bool next_only = false;
    for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
        if (strcmp(argv[i], "--next-only") == 0) {
            next_only = true;
            continue;
        }
        if (i + 1 >= argc)
            usage_exit();
        const char *o = argv[i], *v = argv[++i];
        if (strcmp(o, "--events") == 0)
            events = v;
        else if (strcmp(o, "--runs") == 0)
            runs = strtoull(v, NULL, 10);
        else if (strcmp(o, "--invocations") == 0)
            invocations = strtoull(v, NULL, 10);
        else if (strcmp(o, "--every") == 0)
            every = strtoull(v, NULL, 10);
        else if (strcmp(o, "--rounds") == 0)
            rounds = strtoull(v, NULL, 10);
        else if (strcmp(o, "--port") == 0)
            port = atoi(v);
        else if (strcmp(o, "--cpu") == 0)
            cpu = atoi(v);
        else if (strcmp(o, "--trace") == 0)
            trace = v;
        else if (strcmp(o, "--op") == 0) {
            for (op = 0; op < EVENT_KINDS && strcmp(v, OP_FILES[op]) != 0; op++)
                ;
            if (op == EVENT_KINDS)
                usage_exit();
        } else
            usage_exit();
    }
    char **cmd = i < argc ? argv + i + 1 : NULL;
    bool need_child = strcmp(mode, "ddb") != 0;
    if (need_child && (!cmd || !*cmd))
        usage_exit();

    /* Driver and child on one CPU: waking a task on another vCPU costs an inter-processor
     * interrupt, which in a VM is a hypervisor exit whose price depends on the host, and the
     * sender pays it in its system time. Pinned, the figures are the child's own work. */
    if (cpu >= 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET((size_t)cpu, &set);
        if (sched_setaffinity(0, sizeof set, &set) != 0)
            die("sched_setaffinity");
    }
    static driver d;
    driver_init(&d, events, port, need_child);
    if (strcmp(trace, "sampled") == 0) {
        d.trace = TRACE_SAMPLED;
        open_xray(&d);
    } else if (strcmp(trace, "none") == 0) {
        d.trace = TRACE_NONE;
    } else if (strcmp(trace, "unsampled") != 0) {
        usage_exit();
    }
    exec_stamp =
        mmap(NULL, sizeof *exec_stamp, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (exec_stamp == MAP_FAILED)
        die("mmap");
    if (need_child)
        child_env(&d);
    if (strcmp(mode, "cold") == 0)
        return run_cold(&d, (unsigned)runs, next_only, cmd);
    if (strcmp(mode, "warm") == 0)
        return run_warm(&d, (enum op)op, invocations, every, cmd);
    if (strcmp(mode, "ops") == 0)
        return run_ops(&d, (unsigned)rounds, cmd);
    if (strcmp(mode, "ddb") == 0)
        return run_ddb(&d);
    usage_exit();
    return 2;
}

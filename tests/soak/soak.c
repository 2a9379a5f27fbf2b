/* soak.c — many mixed invocations through the real bootstrap against fakes on loopback, with
 * the process's memory sampled as it goes (issue 7).
 *
 *   users_soak BOOTSTRAP [COUNT [INTERVAL]]     (defaults: 100000, 10000)
 *
 * One thread plays the Lambda Runtime API, another DynamoDB (plain sockets, HTTP/1.1 keep-
 * alive, canned answers by X-Amz-Target, a throttling error now and then so retries run too).
 * Invocations cycle through creates (with and without an Idempotency-Key), gets, pages,
 * lookups by email, updates (one of them changing the address: a refused UpdateItem, then a
 * transaction), deletes (a read, then a transaction), preflights, payload 2.0 base64 bodies,
 * and bad input (validation, 404, 405, 413, bad tokens, non-events). Every
 * answer's status is checked. Every INTERVAL invocations, while the bootstrap waits on `next`,
 * VmRSS and VmHWM are read from /proc/<pid>/status. After COUNT, `next` answers 500 and the
 * bootstrap must leave through its normal exit path (status 1).
 *
 * Fails (exit 1) on a wrong answer, a sanitizer report, an abnormal exit, or VmRSS growing
 * from the first sample after warm-up to the last by more than SOAK_MAX_GROWTH_KB (default
 * 1024; SOAK_MAX_GROWTH_KB=-1 skips the check, as sanitizer builds must: ASan's quarantine
 * grows by design). Prints the table of samples. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define ID          "3f0c8a9e-8d1b-4c2a-9f5e-2b7d3c1a4e6f"
#define MAX_SAMPLES 1024
#define MAX_REQUEST (1024 * 1024)
#define CT_JSON     "application/json"

#define STORED                                                                                     \
    "{\"userId\":{\"S\":\"" ID "\"},\"name\":{\"S\":\"Ada Lovelace\"},"                            \
    "\"email\":{\"S\":\"ada@example.com\"},\"emailLower\":{\"S\":\"ada@example.com\"},"            \
    "\"age\":{\"N\":\"36\"},\"createdAt\":{\"S\":\"2026-11-24T12:34:56.789Z\"},"                   \
    "\"updatedAt\":{\"S\":\"2026-11-24T12:34:56.789Z\"},\"version\":{\"N\":\"7\"}}"

typedef struct sample {
    unsigned long invocations;
    long rss_kb, hwm_kb;
    double seconds;
} sample;

static struct {
    unsigned long count, interval;
    pid_t pid;
    int rt_listen, ddb_listen;
    double start;
    unsigned long served;          /* invocations handed out */
    unsigned long answered, wrong; /* responses and errors seen, and how many were unexpected */
    unsigned long ddb_calls, throttled;
    sample samples[MAX_SAMPLES];
    size_t n_samples;
    char first_wrong[512];
    volatile bool done;
} g;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long long wall_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int listen_loopback(int *port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 8) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        perror("soak: listen");
        exit(2);
    }
    *port = ntohs(a.sin_port);
    return fd;
}

/* ---- Minimal HTTP/1.1 ---- */

/* memmem, which POSIX lacks. */
static const char *find(const char *hay, size_t len, const char *needle) {
    size_t n = strlen(needle);
    for (size_t i = 0; n <= len && i <= len - n; i++)
        if (memcmp(hay + i, needle, n) == 0)
            return hay + i;
    return NULL;
}

typedef struct conn {
    int fd;
    char *buf;
    size_t len, cap;
} conn;

typedef struct request {
    char method[16];
    char path[256];
    char target[64]; /* X-Amz-Target */
    const char *body;
    size_t body_len;
} request;

static bool send_all(int fd, const char *p, size_t n) {
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

static bool reply(int fd, int status, const char *extra_headers, const char *body, size_t len) {
    char head[1024];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d X\r\nContent-Type: " CT_JSON "\r\nContent-Length: %zu\r\n%s\r\n",
                     status, len, extra_headers ? extra_headers : "");
    return send_all(fd, head, (size_t)n) && send_all(fd, body, len);
}

/* The value of header name in the head [p, end), copied into out; false when absent. */
static bool header_value(const char *p, const char *end, const char *name, char *out, size_t cap) {
    size_t nlen = strlen(name);
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol)
            eol = end;
        if ((size_t)(eol - p) > nlen && strncasecmp(p, name, nlen) == 0 && p[nlen] == ':') {
            const char *v = p + nlen + 1;
            while (v < eol && *v == ' ')
                v++;
            size_t vlen = (size_t)(eol - v);
            if (vlen > 0 && v[vlen - 1] == '\r')
                vlen--;
            if (vlen >= cap)
                vlen = cap - 1;
            memcpy(out, v, vlen);
            out[vlen] = '\0';
            return true;
        }
        p = eol + 1;
    }
    return false;
}

/* Reads one request into r (its body borrowed from c until the next call). false at EOF. */
static bool read_request(conn *c, request *r, size_t *consumed) {
    if (*consumed) {
        memmove(c->buf, c->buf + *consumed, c->len - *consumed);
        c->len -= *consumed;
        *consumed = 0;
    }
    for (;;) {
        const char *end = find(c->buf, c->len, "\r\n\r\n");
        if (end) {
            size_t head = (size_t)(end - c->buf) + 4;
            char cl[32] = "0";
            header_value(c->buf, end, "Content-Length", cl, sizeof cl);
            size_t body = (size_t)strtoul(cl, NULL, 10);
            if (body > MAX_REQUEST)
                return false;
            if (c->len >= head + body) {
                memset(r, 0, sizeof *r);
                sscanf(c->buf, "%15s %255s", r->method, r->path);
                header_value(c->buf, end, "X-Amz-Target", r->target, sizeof r->target);
                r->body = c->buf + head;
                r->body_len = body;
                *consumed = head + body;
                return true;
            }
        }
        if (c->cap - c->len < 65536) {
            size_t cap = c->cap ? c->cap * 2 : 131072;
            char *grown = cap <= 4 * (size_t)MAX_REQUEST ? realloc(c->buf, cap) : NULL;
            if (!grown)
                return false;
            c->buf = grown;
            c->cap = cap;
        }
        ssize_t n = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        c->len += (size_t)n;
    }
}

/* ---- The workload ---- */

/* Invocation i: its event into out, and the answer it must get (0: an invocation error). */
static int make_event(unsigned long i, char *out, size_t cap) {
    static const char v1[] =
        "{\"resource\":\"/users\",\"httpMethod\":\"%s\",\"path\":\"%s\",\"headers\":{%s},"
        "\"multiValueHeaders\":null,\"queryStringParameters\":%s,"
        "\"multiValueQueryStringParameters\":null,\"requestContext\":{\"requestId\":\"gw-%lu\","
        "\"stage\":\"prod\"},\"body\":%s,\"isBase64Encoded\":false}";
    static const char json_ct[] =
        "\"Content-Type\":\"application/json\",\"Origin\":\"https://a.b\"";
    static char big[20100];
    if (!big[0]) {
        memset(big, ' ', sizeof big - 1);
        memcpy(big, "\"{}", 3);
        big[sizeof big - 2] = '"';
    }
    switch (i % 10) {
        case 0:
            snprintf(out, cap, v1, "POST", "/users", json_ct, "null", i,
                     "\"{\\\"name\\\":\\\"Ada Lovelace\\\",\\\"email\\\":\\\"ada@example.com\\\","
                     "\\\"age\\\":36}\"");
            return 201;
        case 1:
            snprintf(out, cap, v1, "GET", "/users/" ID, "", "null", i, "null");
            return 200;
        case 2:
            snprintf(out, cap, v1, "GET", "/users", "", "{\"limit\":\"2\"}", i, "null");
            return 200;
        case 3:
            snprintf(out, cap, v1, "PATCH", "/users/" ID, json_ct, "null", i,
                     "\"{\\\"age\\\":null,\\\"name\\\":\\\" B\\u00e9a \\\"}\"");
            return 200;
        case 4:
            snprintf(out, cap, v1, "DELETE", "/users/" ID, "\"If-Match\":\"\\\"7\\\"\"", "null", i,
                     "null");
            return 200;
        case 5:
            snprintf(out, cap, v1, "POST", "/users", json_ct, "null", i,
                     "\"{\\\"name\\\":\\\"\\\",\\\"email\\\":\\\"x\\\",\\\"age\\\":1.5}\"");
            return 400;
        case 6:
            snprintf(out, cap, v1, "GET", "/users/NOT-AN-ID", "", "null", i, "null");
            return 404;
        case 7:
            snprintf(out, cap, v1, "OPTIONS", "/users", "", "null", i, "null");
            return 204;
        case 8: /* payload 2.0, base64 body: {"email":"b@c.de"} */
            snprintf(
                out, cap,
                "{\"version\":\"2.0\",\"rawPath\":\"/users/" ID "\",\"rawQueryString\":\"\","
                "\"headers\":{\"content-type\":\"application/json\"},\"requestContext\":{"
                "\"requestId\":\"gw2-%lu\",\"stage\":\"$default\",\"http\":{\"method\":\"PUT\"}},"
                "\"body\":\"eyJlbWFpbCI6ImJAYy5kZSJ9\",\"isBase64Encoded\":true}",
                i);
            return 200;
        default:
            switch ((i / 10) % 6) {
                case 0:
                    snprintf(out, cap, "{\"Records\":[{\"eventName\":\"INSERT\",\"n\":%lu}]}", i);
                    return 0;
                case 1:
                    snprintf(out, cap, v1, "POST", "/users", json_ct, "null", i, big);
                    return 413;
                case 2:
                    snprintf(out, cap, v1, "GET", "/users", "", "{\"nextToken\":\"e30\"}", i,
                             "null");
                    return 400;
                case 3:
                    snprintf(out, cap, v1, "GET", "/users", "", "{\"email\":\" ADA@example.com\"}",
                             i, "null");
                    return 200;
                case 4: {
                    char headers[160];
                    snprintf(headers, sizeof headers, "%s,\"Idempotency-Key\":\"soak-%lu\"",
                             json_ct, i);
                    snprintf(out, cap, v1, "POST", "/users", headers, "null", i,
                             "\"{\\\"name\\\":\\\"Ada\\\",\\\"email\\\":\\\"ada@example.com\\\","
                             "\\\"age\\\":36}\"");
                    return 201;
                }
                default:
                    snprintf(out, cap, v1, "HEAD", "/users/" ID, "", "null", i, "null");
                    return 405;
            }
    }
}

static void take_sample(unsigned long invocations) {
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)g.pid);
    FILE *f = fopen(path, "r");
    if (!f || g.n_samples == MAX_SAMPLES) {
        if (f)
            fclose(f);
        return;
    }
    sample *s = &g.samples[g.n_samples++];
    s->invocations = invocations;
    s->seconds = now_s() - g.start;
    s->rss_kb = s->hwm_kb = -1;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "VmRSS:", 6) == 0)
            s->rss_kb = strtol(line + 6, NULL, 10);
        else if (strncmp(line, "VmHWM:", 6) == 0)
            s->hwm_kb = strtol(line + 6, NULL, 10);
    }
    fclose(f);
    printf("%12lu %10ld %10ld %9.1f\n", s->invocations, s->rss_kb, s->hwm_kb, s->seconds);
    fflush(stdout);
}

static void note_wrong(unsigned long i, const char *what, long got, long want) {
    if (g.wrong++ == 0)
        snprintf(g.first_wrong, sizeof g.first_wrong, "invocation %lu: %s %ld, want %ld", i, what,
                 got, want);
}

/* ---- The fake Runtime API ---- */

static void serve_runtime(int fd) {
    conn c = {.fd = fd};
    request r;
    size_t consumed = 0;
    static char event[32768];
    static int want[1];
    while (read_request(&c, &r, &consumed)) {
        if (strcmp(r.method, "GET") == 0 && strstr(r.path, "/invocation/next")) {
            if (g.served % g.interval == 0)
                take_sample(g.served);
            if (g.served == g.count) {
                g.done = true;
                reply(fd, 500, NULL, "{\"errorType\":\"SoakOver\"}", 24);
                break;
            }
            want[0] = make_event(g.served, event, sizeof event);
            char headers[256];
            snprintf(headers, sizeof headers,
                     "Lambda-Runtime-Aws-Request-Id: soak-%lu\r\n"
                     "Lambda-Runtime-Deadline-Ms: %lld\r\n",
                     g.served, wall_ms() + 10000);
            g.served++;
            if (!reply(fd, 200, headers, event, strlen(event)))
                break;
        } else if (strcmp(r.method, "POST") == 0) {
            unsigned long i = g.served - 1;
            g.answered++;
            if (strstr(r.path, "/error")) {
                if (want[0] != 0)
                    note_wrong(i, "an invocation error instead of status", 0, want[0]);
            } else {
                const char *sc = find(r.body, r.body_len, "\"statusCode\":");
                long got = sc ? strtol(sc + 13, NULL, 10) : -1;
                if (got != want[0])
                    note_wrong(i, "status", got, want[0]);
            }
            if (!reply(fd, 202, NULL, "{\"status\":\"OK\"}", 15))
                break;
        } else {
            reply(fd, 404, NULL, "{}", 2);
        }
    }
    free(c.buf);
}

static void *runtime_thread(void *arg) {
    (void)arg;
    while (!g.done) {
        int fd = accept(g.rt_listen, NULL, NULL);
        if (fd < 0)
            continue;
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        serve_runtime(fd);
        close(fd);
    }
    return NULL;
}

/* ---- The fake DynamoDB ---- */

static uint32_t crc32(const char *p, size_t n) {
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        crc ^= (unsigned char)p[i];
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

/* Whether the request's ExpressionAttributeValues give ":emailLower" another address than the
 * stored user's (the bootstrap writes them compact: ":emailLower":{"S":"..."}). */
static bool other_email(const request *r) {
    static const char key[] = "\":emailLower\":{\"S\":\"";
    static const char stored[] = "ada@example.com\"";
    const char *v = find(r->body, r->body_len, key);
    if (!v)
        return false;
    v += sizeof key - 1;
    size_t left = r->body_len - (size_t)(v - r->body);
    return left < sizeof stored - 1 || memcmp(v, stored, sizeof stored - 1) != 0;
}

static void serve_ddb(int fd) {
    conn c = {.fd = fd};
    request r;
    size_t consumed = 0;
    while (read_request(&c, &r, &consumed)) {
        const char *op = strchr(r.target, '.') ? strchr(r.target, '.') + 1 : "";
        const char *body = "{}";
        int status = 200;
        if (++g.ddb_calls % 500 == 0) {
            g.throttled++;
            status = 400;
            body = "{\"__type\":\"com.amazonaws.dynamodb.v20120810#ThrottlingException\","
                   "\"message\":\"Rate of requests exceeds the allowed throughput.\"}";
        } else if (strcmp(op, "GetItem") == 0) {
            body = "{\"Item\":" STORED "}";
        } else if (strcmp(op, "UpdateItem") == 0 && other_email(&r)) {
            /* The condition that the address stays fails; ALL_OLD comes with the refusal. */
            status = 400;
            body = "{\"__type\":\"com.amazonaws.dynamodb.v20120810#"
                   "ConditionalCheckFailedException\",\"message\":\"The conditional request "
                   "failed\",\"Item\":" STORED "}";
        } else if (strcmp(op, "UpdateItem") == 0) {
            body = "{\"Attributes\":" STORED "}";
        } else if (strcmp(op, "Query") == 0) {
            body = other_email(&r) ? "{\"Items\":[],\"Count\":0,\"ScannedCount\":0}"
                                   : "{\"Items\":[" STORED "],\"Count\":1,\"ScannedCount\":1}";
        } else if (strcmp(op, "TransactWriteItems") == 0 || strcmp(op, "PutItem") == 0) {
            body = "{}";
        } else if (strcmp(op, "Scan") == 0) {
            body = "{\"Items\":[" STORED "," STORED "],\"Count\":2,\"ScannedCount\":2,"
                   "\"LastEvaluatedKey\":{\"userId\":{\"S\":\"" ID "\"}}}";
        }
        char headers[128];
        snprintf(headers, sizeof headers, "x-amz-crc32: %lu\r\nx-amzn-RequestId: soak\r\n",
                 (unsigned long)crc32(body, strlen(body)));
        if (!reply(fd, status, headers, body, strlen(body)))
            break;
    }
    free(c.buf);
}

static void *ddb_thread(void *arg) {
    (void)arg;
    for (;;) {
        int fd = accept(g.ddb_listen, NULL, NULL);
        if (fd < 0)
            continue;
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        serve_ddb(fd);
        close(fd);
    }
    return NULL;
}

/* ---- Main ---- */

static pid_t spawn_bootstrap(const char *path, int rt_port, int ddb_port, int err_fd) {
    char api[64], endpoint[96];
    snprintf(api, sizeof api, "AWS_LAMBDA_RUNTIME_API=127.0.0.1:%d", rt_port);
    snprintf(endpoint, sizeof endpoint, "AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:%d", ddb_port);
    char *env[32] = {api,
                     endpoint,
                     "USERS_TABLE=Users",
                     "AWS_REGION=eu-west-1",
                     "AWS_ACCESS_KEY_ID=AKIDEXAMPLE",
                     "AWS_SECRET_ACCESS_KEY=soakSecret",
                     "LOG_LEVEL=INFO",
                     "ALLOWED_ORIGINS=https://a.b,https://c.d"};
    size_t n = 8;
    for (char **e = environ; *e && n < 31; e++)
        if (strncmp(*e, "PATH=", 5) == 0 || strstr(*e, "SAN_OPTIONS="))
            env[n++] = *e;
    env[n] = NULL;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, err_fd, 2);
    char *argv[] = {(char *)path, NULL};
    pid_t pid;
    int rc = posix_spawn(&pid, path, &fa, NULL, argv, env);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
        fprintf(stderr, "soak: cannot start %s: %s\n", path, strerror(rc));
        exit(2);
    }
    return pid;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s BOOTSTRAP [COUNT [INTERVAL]]\n", argv[0]);
        return 2;
    }
    g.count = argc > 2 ? strtoul(argv[2], NULL, 10) : 100000;
    g.interval = argc > 3 ? strtoul(argv[3], NULL, 10) : 10000;
    const char *growth_env = getenv("SOAK_MAX_GROWTH_KB");
    long max_growth = growth_env && *growth_env ? strtol(growth_env, NULL, 10) : 1024;
    long timeout_s = getenv("SOAK_TIMEOUT_S") ? strtol(getenv("SOAK_TIMEOUT_S"), NULL, 10) : 1800;
    if (g.count == 0 || g.interval == 0 || g.count / g.interval >= MAX_SAMPLES) {
        fprintf(stderr, "soak: COUNT and INTERVAL must be positive, COUNT/INTERVAL < %d\n",
                MAX_SAMPLES);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    int rt_port, ddb_port;
    g.rt_listen = listen_loopback(&rt_port);
    g.ddb_listen = listen_loopback(&ddb_port);
    char err_path[] = "/tmp/soak-stderr-XXXXXX";
    int err_fd = mkstemp(err_path);
    if (err_fd < 0) {
        perror("soak: mkstemp");
        return 2;
    }

    printf("soak: %lu invocations, a sample every %lu\n", g.count, g.interval);
    printf("%12s %10s %10s %9s\n", "invocations", "VmRSS kB", "VmHWM kB", "seconds");
    g.start = now_s();
    g.pid = spawn_bootstrap(argv[1], rt_port, ddb_port, err_fd);
    pthread_t rt, ddb;
    pthread_create(&ddb, NULL, ddb_thread, NULL);
    pthread_create(&rt, NULL, runtime_thread, NULL);

    int wstatus = 0, status = -1;
    for (;;) {
        pid_t w = waitpid(g.pid, &wstatus, WNOHANG);
        if (w == g.pid) {
            status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
            break;
        }
        if (now_s() - g.start > (double)timeout_s) {
            kill(g.pid, SIGKILL);
            waitpid(g.pid, &wstatus, 0);
            fprintf(stderr, "soak: timed out after %ld s\n", timeout_s);
            break;
        }
        struct timespec pause = {0, 20000000};
        nanosleep(&pause, NULL);
    }
    double elapsed = now_s() - g.start;

    /* The bootstrap's stderr: any sanitizer report fails the run. */
    char tail[4096] = "";
    ssize_t got = pread(err_fd, tail, sizeof tail - 1, 0);
    tail[got > 0 ? got : 0] = '\0';
    close(err_fd);
    unlink(err_path);
    bool sanitizer = strstr(tail, "Sanitizer") || strstr(tail, "runtime error:");

    long first = -1, last = -1, peak = 0;
    for (size_t i = 0; i < g.n_samples; i++) {
        if (g.samples[i].invocations >= g.interval && first < 0)
            first = g.samples[i].rss_kb; /* the first sample after warm-up */
        last = g.samples[i].rss_kb;
        if (g.samples[i].hwm_kb > peak)
            peak = g.samples[i].hwm_kb;
    }
    long growth = first >= 0 ? last - first : 0;
    printf("soak: %lu served, %lu answered, %lu wrong, %lu DynamoDB calls (%lu throttled), "
           "%.1f s (%.0f invocations/s), exit status %d\n",
           g.served, g.answered, g.wrong, g.ddb_calls, g.throttled, elapsed,
           (double)g.served / elapsed, status);
    printf("soak: VmRSS %ld kB after warm-up, %ld kB at the end (%+ld kB); VmHWM %ld kB\n", first,
           last, growth, peak);

    fflush(stdout);
    bool ok = true;
    if (g.served != g.count || g.answered != g.count) {
        fprintf(stderr, "soak: %lu of %lu invocations served and answered\n", g.answered, g.count);
        ok = false;
    }
    if (g.wrong) {
        fprintf(stderr, "soak: %lu wrong answers; the first: %s\n", g.wrong, g.first_wrong);
        ok = false;
    }
    if (status != 1) { /* 1: `next` failed, the normal way out */
        fprintf(stderr, "soak: bootstrap exit status %d, want 1\n%s\n", status, tail);
        ok = false;
    }
    if (sanitizer) {
        fprintf(stderr, "soak: sanitizer report from bootstrap:\n%s\n", tail);
        ok = false;
    }
    if (max_growth >= 0 && growth > max_growth) {
        fprintf(stderr, "soak: VmRSS grew by %ld kB after warm-up (limit %ld kB)\n", growth,
                max_growth);
        ok = false;
    }
    printf("soak: %s\n", ok ? "passed" : "FAILED");
    return ok ? 0 : 1;
}

/* fake_http.c — a scripted keep-alive HTTP/1.1 server in a thread, for tests (see fake_http.h). */
#include "fake_http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define FAKE_MAX_CONNS   32
#define FAKE_MAX_REQUEST (8u * 1024u * 1024u) /* one request, head and body */

/* A queued answer, owning its strings. */
typedef struct answer {
    int status;
    char *headers;
    char *body;
    size_t body_len;
    fake_fault fault;
    int stall_ms;
    bool crc;
    bool close;
    bool no_length;
} answer;

typedef struct conn {
    int fd; /* -1 when the slot is free */
    unsigned id;
    char *in; /* bytes received and not yet consumed */
    size_t in_len, in_cap;
    bool waiting; /* an answer is due at due_ms */
    long long due_ms;
    answer pending;
} conn;

struct fake_http {
    int listen_fd;
    int port;
    char url[64];
    int wake[2]; /* written to once to stop the thread */
    pthread_t thread;
    pthread_mutex_t mu; /* guards everything below */
    answer *queue;
    size_t q_head, q_len, q_cap;
    answer fallback;
    fake_request **reqs; /* pointers, so a record stays put while the array grows */
    size_t n_reqs, cap_reqs;
    size_t n_conns;
    conn conns[FAKE_MAX_CONNS]; /* the server thread's own */
};

static long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A bit-at-a-time CRC-32, independent of the code under test. */
static uint32_t crc32_slow(const char *p, size_t len) {
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < len; i++) {
        crc ^= (unsigned char)p[i];
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

static char *dup_bytes(const char *p, size_t n) {
    char *d = malloc(n + 1);
    if (!d)
        abort();
    if (n)
        memcpy(d, p, n);
    d[n] = '\0';
    return d;
}

static answer answer_from(const fake_response *r) {
    answer a = {
        .status = r->status ? r->status : 200,
        .fault = r->fault,
        .stall_ms = r->stall_ms,
        .crc = r->crc,
        .close = r->close || r->no_length,
        .no_length = r->no_length,
    };
    a.headers = dup_bytes(r->headers ? r->headers : "", r->headers ? strlen(r->headers) : 0);
    a.body_len = r->body ? (r->body_len ? r->body_len : strlen(r->body)) : 0;
    a.body = dup_bytes(r->body ? r->body : "", a.body_len);
    return a;
}

static answer answer_copy(const answer *a) {
    answer c = *a;
    c.headers = dup_bytes(a->headers, strlen(a->headers));
    c.body = dup_bytes(a->body, a->body_len);
    return c;
}

static void answer_free(answer *a) {
    free(a->headers);
    free(a->body);
    a->headers = a->body = NULL;
}

/* ---- Talking to one connection ---- */

static void conn_close(conn *c) {
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    free(c->in);
    c->in = NULL;
    c->in_len = c->in_cap = 0;
    if (c->waiting)
        answer_free(&c->pending);
    c->waiting = false;
}

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

static const char *reason(int status) {
    switch (status) {
        case 200:
            return "OK";
        case 400:
            return "Bad Request";
        case 404:
            return "Not Found";
        case 500:
            return "Internal Server Error";
        case 503:
            return "Service Unavailable";
        default:
            return "Status";
    }
}

/* Carries out answer a on c, faults included; closes c when the answer says so. */
static void conn_answer(conn *c, answer *a) {
    char head[512];
    if (a->fault == FAKE_CLOSE) {
        conn_close(c);
        return;
    }
    int n = snprintf(head, sizeof head, "HTTP/1.1 %d %s\r\n", a->status, reason(a->status));
    if (!a->no_length)
        n += snprintf(head + n, sizeof head - (size_t)n, "Content-Length: %zu\r\n", a->body_len);
    uint32_t crc = crc32_slow(a->body, a->body_len);
    if (a->crc || a->fault == FAKE_BAD_CRC)
        n += snprintf(head + n, sizeof head - (size_t)n, "x-amz-crc32: %lu\r\n",
                      (unsigned long)(a->fault == FAKE_BAD_CRC ? crc ^ 0x5A5Au : crc));
    if (a->close)
        n += snprintf(head + n, sizeof head - (size_t)n, "Connection: close\r\n");
    size_t body_len = a->fault == FAKE_TRUNCATE ? a->body_len / 2 : a->body_len;
    bool ok = send_all(c->fd, head, (size_t)n) && send_all(c->fd, a->headers, strlen(a->headers)) &&
              send_all(c->fd, "\r\n", 2) && send_all(c->fd, a->body, body_len);
    if (!ok || a->close || a->fault == FAKE_TRUNCATE)
        conn_close(c);
}

/* Length of the request's body as its Content-Length says (0 when absent). */
static size_t content_length(const char *headers, size_t len) {
    const char *p = headers, *end = headers + len;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol)
            eol = end;
        if ((size_t)(eol - p) > 15 && strncasecmp(p, "Content-Length:", 15) == 0)
            return (size_t)strtoull(p + 15, NULL, 10);
        p = eol + 1;
    }
    return 0;
}

static void record(fake_http *f, const conn *c, const char *head, size_t head_len, const char *body,
                   size_t body_len) {
    fake_request *r = calloc(1, sizeof *r);
    if (!r)
        abort();
    const char *sp1 = memchr(head, ' ', head_len);
    const char *eol = memchr(head, '\n', head_len);
    const char *sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(head + head_len - sp1 - 1)) : NULL;
    if (sp1 && sp2 && eol && sp2 < eol) {
        snprintf(r->method, sizeof r->method, "%.*s", (int)(sp1 - head), head);
        snprintf(r->path, sizeof r->path, "%.*s", (int)(sp2 - sp1 - 1), sp1 + 1);
    }
    const char *hdrs = eol ? eol + 1 : head + head_len;
    r->headers = dup_bytes(hdrs, (size_t)(head + head_len - hdrs));
    r->body = dup_bytes(body, body_len);
    r->body_len = body_len;
    r->connection = c->id;

    pthread_mutex_lock(&f->mu);
    if (f->n_reqs == f->cap_reqs) {
        size_t cap = f->cap_reqs ? f->cap_reqs * 2 : 16;
        fake_request **grown = realloc(f->reqs, cap * sizeof *grown);
        if (!grown)
            abort();
        f->reqs = grown;
        f->cap_reqs = cap;
    }
    f->reqs[f->n_reqs++] = r;
    pthread_mutex_unlock(&f->mu);
}

static answer next_answer(fake_http *f) {
    answer a;
    pthread_mutex_lock(&f->mu);
    if (f->q_head < f->q_len)
        a = f->queue[f->q_head++];
    else
        a = answer_copy(&f->fallback);
    pthread_mutex_unlock(&f->mu);
    return a;
}

/* Answers every complete request buffered on c, stopping at one that must wait. */
static void conn_serve(fake_http *f, conn *c) {
    while (c->fd >= 0 && !c->waiting && c->in_len > 0) {
        char *end = NULL;
        for (size_t i = 0; i + 4 <= c->in_len; i++)
            if (memcmp(c->in + i, "\r\n\r\n", 4) == 0) {
                end = c->in + i;
                break;
            }
        if (!end)
            return;
        size_t head_len = (size_t)(end - c->in) + 2; /* keep the last header's CRLF */
        size_t body_off = head_len + 2;
        size_t body_len = content_length(c->in, head_len);
        if (body_len > FAKE_MAX_REQUEST || c->in_len - body_off < body_len) {
            if (body_len > FAKE_MAX_REQUEST)
                conn_close(c);
            return;
        }
        record(f, c, c->in, head_len, c->in + body_off, body_len);
        size_t used = body_off + body_len;
        memmove(c->in, c->in + used, c->in_len - used);
        c->in_len -= used;

        answer a = next_answer(f);
        if (a.stall_ms > 0) {
            c->pending = a;
            c->waiting = true;
            c->due_ms = now_ms() + a.stall_ms;
            return;
        }
        conn_answer(c, &a);
        answer_free(&a);
    }
}

static void conn_read(conn *c) {
    if (c->in_cap - c->in_len < 4096) {
        size_t cap = c->in_cap ? c->in_cap * 2 : 8192;
        char *grown = cap <= 2 * FAKE_MAX_REQUEST ? realloc(c->in, cap) : NULL;
        if (!grown) {
            conn_close(c);
            return;
        }
        c->in = grown;
        c->in_cap = cap;
    }
    ssize_t n = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, 0);
    if (n < 0 && errno == EINTR)
        return;
    if (n <= 0) {
        conn_close(c);
        return;
    }
    c->in_len += (size_t)n;
}

/* ---- The server thread ---- */

static void accept_one(fake_http *f) {
    int fd = accept(f->listen_fd, NULL, NULL);
    if (fd < 0)
        return;
    /* Answers go out in pieces (head, then body): without this, Nagle's algorithm holds the
     * second piece for the client's delayed ACK, some 40 ms a request. */
    int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    for (size_t i = 0; i < FAKE_MAX_CONNS; i++) {
        conn *c = &f->conns[i];
        if (c->fd < 0) {
            memset(c, 0, sizeof *c);
            c->fd = fd;
            pthread_mutex_lock(&f->mu);
            c->id = (unsigned)++f->n_conns;
            pthread_mutex_unlock(&f->mu);
            return;
        }
    }
    close(fd);
}

/* Milliseconds until the earliest stalled answer is due, -1 when none is. */
static int poll_timeout(const fake_http *f) {
    long long soonest = -1, now = now_ms();
    for (size_t i = 0; i < FAKE_MAX_CONNS; i++) {
        const conn *c = &f->conns[i];
        if (c->fd >= 0 && c->waiting) {
            long long left = c->due_ms > now ? c->due_ms - now : 0;
            if (soonest < 0 || left < soonest)
                soonest = left;
        }
    }
    return (int)soonest;
}

static void *serve(void *arg) {
    fake_http *f = arg;
    struct pollfd fds[FAKE_MAX_CONNS + 2];
    size_t slot[FAKE_MAX_CONNS + 2];
    for (;;) {
        nfds_t n = 0;
        fds[n++] = (struct pollfd){.fd = f->wake[0], .events = POLLIN};
        fds[n++] = (struct pollfd){.fd = f->listen_fd, .events = POLLIN};
        for (size_t i = 0; i < FAKE_MAX_CONNS; i++)
            if (f->conns[i].fd >= 0) {
                slot[n] = i;
                fds[n++] = (struct pollfd){.fd = f->conns[i].fd, .events = POLLIN};
            }
        if (poll(fds, n, poll_timeout(f)) < 0 && errno != EINTR)
            break;
        if (fds[0].revents)
            break;
        if (fds[1].revents & POLLIN)
            accept_one(f);
        for (nfds_t k = 2; k < n; k++)
            if (fds[k].revents)
                conn_read(&f->conns[slot[k]]);
        long long now = now_ms();
        for (size_t i = 0; i < FAKE_MAX_CONNS; i++) {
            conn *c = &f->conns[i];
            if (c->fd >= 0 && c->waiting && c->due_ms <= now) {
                answer a = c->pending;
                c->waiting = false;
                conn_answer(c, &a);
                answer_free(&a);
            }
            if (c->fd >= 0)
                conn_serve(f, c);
        }
    }
    return NULL;
}

/* ---- Public ---- */

fake_http *fake_http_start(void) {
    fake_http *f = calloc(1, sizeof *f);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = 0};
    socklen_t alen = sizeof addr;
    if (!f)
        return NULL;
    for (size_t i = 0; i < FAKE_MAX_CONNS; i++)
        f->conns[i].fd = -1;
    f->fallback = answer_from(&(fake_response){.status = 404});
    pthread_mutex_init(&f->mu, NULL);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    f->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    if (f->listen_fd < 0 || bind(f->listen_fd, (struct sockaddr *)&addr, sizeof addr) != 0 ||
        listen(f->listen_fd, 16) != 0 ||
        getsockname(f->listen_fd, (struct sockaddr *)&addr, &alen) != 0 || pipe(f->wake) != 0)
        goto fail;
    f->port = ntohs(addr.sin_port);
    snprintf(f->url, sizeof f->url, "http://127.0.0.1:%d", f->port);
    if (pthread_create(&f->thread, NULL, serve, f) != 0) {
        close(f->wake[0]);
        close(f->wake[1]);
        goto fail;
    }
    return f;
fail:
    if (f->listen_fd >= 0)
        close(f->listen_fd);
    answer_free(&f->fallback);
    pthread_mutex_destroy(&f->mu);
    free(f);
    return NULL;
}

static void forget_requests(fake_http *f) {
    for (size_t i = 0; i < f->n_reqs; i++) {
        free(f->reqs[i]->headers);
        free(f->reqs[i]->body);
        free(f->reqs[i]);
    }
    f->n_reqs = 0;
    for (size_t i = f->q_head; i < f->q_len; i++)
        answer_free(&f->queue[i]);
    f->q_head = f->q_len = 0;
}

void fake_http_stop(fake_http *f) {
    if (!f)
        return;
    ssize_t w = write(f->wake[1], "x", 1);
    (void)w;
    pthread_join(f->thread, NULL);
    for (size_t i = 0; i < FAKE_MAX_CONNS; i++)
        conn_close(&f->conns[i]);
    close(f->listen_fd);
    close(f->wake[0]);
    close(f->wake[1]);
    forget_requests(f);
    free(f->reqs);
    free(f->queue);
    answer_free(&f->fallback);
    pthread_mutex_destroy(&f->mu);
    free(f);
}

int fake_http_port(const fake_http *f) {
    return f->port;
}

const char *fake_http_url(const fake_http *f) {
    return f->url;
}

void fake_http_push(fake_http *f, const fake_response *r) {
    answer a = answer_from(r);
    pthread_mutex_lock(&f->mu);
    if (f->q_len == f->q_cap) {
        size_t cap = f->q_cap ? f->q_cap * 2 : 16;
        answer *grown = realloc(f->queue, cap * sizeof *grown);
        if (!grown)
            abort();
        f->queue = grown;
        f->q_cap = cap;
    }
    f->queue[f->q_len++] = a;
    pthread_mutex_unlock(&f->mu);
}

void fake_http_set_default(fake_http *f, const fake_response *r) {
    answer a = answer_from(r);
    pthread_mutex_lock(&f->mu);
    answer_free(&f->fallback);
    f->fallback = a;
    pthread_mutex_unlock(&f->mu);
}

size_t fake_http_request_count(fake_http *f) {
    pthread_mutex_lock(&f->mu);
    size_t n = f->n_reqs;
    pthread_mutex_unlock(&f->mu);
    return n;
}

size_t fake_http_connection_count(fake_http *f) {
    pthread_mutex_lock(&f->mu);
    size_t n = f->n_conns;
    pthread_mutex_unlock(&f->mu);
    return n;
}

const fake_request *fake_http_request(fake_http *f, size_t i) {
    pthread_mutex_lock(&f->mu);
    const fake_request *r = i < f->n_reqs ? f->reqs[i] : NULL;
    pthread_mutex_unlock(&f->mu);
    return r;
}

void fake_http_reset(fake_http *f) {
    pthread_mutex_lock(&f->mu);
    forget_requests(f);
    f->n_conns = 0;
    pthread_mutex_unlock(&f->mu);
}

bool fake_request_header(const fake_request *req, const char *name, char *out, size_t out_len) {
    size_t name_len = strlen(name);
    const char *p = req->headers;
    while (*p) {
        const char *eol = strchr(p, '\n');
        size_t line_len = eol ? (size_t)(eol - p) : strlen(p);
        if (line_len > name_len && p[name_len] == ':' && strncasecmp(p, name, name_len) == 0) {
            const char *v = p + name_len + 1;
            size_t v_len = line_len - name_len - 1;
            while (v_len && (*v == ' ' || *v == '\t'))
                v++, v_len--;
            while (v_len && (v[v_len - 1] == '\r' || v[v_len - 1] == ' '))
                v_len--;
            snprintf(out, out_len, "%.*s", (int)v_len, v);
            return true;
        }
        if (!eol)
            break;
        p = eol + 1;
    }
    return false;
}

/* gw_trace.c — the --trace console (see gw_trace.h).
 *
 * One mutex guards the table of requests. HTTP threads add and end requests, the relay thread
 * hands in log lines, and the console thread receives datagrams and prints what is due; text
 * is built under the mutex and written after it is released. */
#include "gw_trace.h"

#include "clock.h"
#include "gw_codec.h"
#include "gw_invlog.h"
#include "gw_log.h"
#include "gw_sys.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define TICK_MS         50
#define MAX_TARGET      256u /* bytes of a request target kept */
#define SHOWN_TARGET    200u /* bytes of it printed */
#define MAX_CALLS_TEXT  ((size_t)32 * 1024)
#define MAX_BLOCK       ((size_t)64 * 1024)
#define RECV_BUFFER     (1024 * 1024) /* the socket's receive buffer: bursts are not dropped */
#define SHOWN_MALFORMED 60u           /* bytes of a malformed datagram printed */

/* One request followed from its invocation to its printed block. */
typedef struct entry {
    uint64_t handle; /* 0: the slot is free */
    trace_context ids;
    char method[16];
    char target[MAX_TARGET];
    size_t target_len;
    char api_id[40], lambda_id[40];
    bool ended;
    unsigned status;
    char outcome[24];
    double gateway_ms;
    int64_t ended_ms;
    bool has_line;
    gw_invlog line;
    int64_t line_ms;
    buf calls; /* the formatted subsegments, one per line */
    bool printed;
    int64_t printed_ms;
} entry;

/* A block that is due to be printed: which entry, and its handle to sort by. */
typedef struct due_block {
    uint64_t handle;
    size_t index;
} due_block;

struct gw_trace {
    int fd; /* the UDP socket */
    int wake[2];
    pthread_t thread;
    pthread_mutex_t mu;
    bool stopping;
    uint64_t next_handle;
    entry *entries;   /* GW_TRACE_MAX_INVOCATIONS */
    due_block *ready; /* the console thread's: the blocks due, in order */
};

static void write_text(const buf *b) {
    const char *p = b->data;
    size_t n = b->len;
    while (n) {
        ssize_t w = write(2, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        p += w;
        n -= (size_t)w;
    }
}

static void copy_id(char *out, size_t n, const char *s) {
    snprintf(out, n, "%s", s ? s : "");
}

/* ---- matching (under mu) ---- */

/* The request a subsegment belongs to: its Parent is unique to one invocation; the Root alone
 * is not when clients send their own. */
static entry *by_trace(gw_trace *t, const char *root, const char *parent) {
    entry *best = NULL;
    for (size_t i = 0; i < GW_TRACE_MAX_INVOCATIONS; i++) {
        entry *e = &t->entries[i];
        if (!e->handle || strcmp(e->ids.root, root) != 0)
            continue;
        if (parent && strcmp(e->ids.parent, parent) == 0)
            return e;
        if (!best || e->handle > best->handle)
            best = e;
    }
    return best;
}

static entry *by_request_id(gw_trace *t, const char *id) {
    if (!*id)
        return NULL;
    for (size_t i = 0; i < GW_TRACE_MAX_INVOCATIONS; i++) {
        entry *e = &t->entries[i];
        if (e->handle && (strcmp(e->lambda_id, id) == 0 || strcmp(e->api_id, id) == 0))
            return e;
    }
    return NULL;
}

/* ---- text ---- */

/* "POST /users 201" (and the outcome when the function did not answer). */
static ua_status append_request(buf *b, const entry *e) {
    ua_status st = gw_printable(e->method, strlen(e->method), sizeof e->method, b);
    if (st == UA_OK)
        st = buf_append_char(b, ' ');
    if (st == UA_OK)
        st = gw_printable(e->target, e->target_len, SHOWN_TARGET, b);
    if (st == UA_OK && e->ended)
        st = buf_appendf(b, " %u", e->status);
    if (st == UA_OK && e->ended && strcmp(e->outcome, "response") != 0)
        st = buf_appendf(b, " (%s)", e->outcome);
    return st;
}

static ua_status append_trace_note(buf *b, const entry *e, const char *extra) {
    return buf_appendf(b, " (trace %s%s%s)", e->ids.root, e->ids.sampled ? "" : ", not sampled",
                       extra);
}

/* The block of one request; e->calls is emptied. */
static ua_status block(buf *b, entry *e) {
    ua_status st = append_request(b, e);
    if (st == UA_OK)
        st = buf_append_char(b, ' ');
    if (st == UA_OK && e->has_line)
        st = gw_invlog_format(&e->line, b);
    else if (st == UA_OK && e->ended)
        st = buf_appendf(b, "%.1f ms at the gateway, no invocation log line", e->gateway_ms);
    else if (st == UA_OK)
        st = buf_append_str(b, "unanswered");
    if (st == UA_OK)
        st = append_trace_note(b, e, "");
    if (st == UA_OK)
        st = buf_append_char(b, '\n');
    if (st == UA_OK && e->calls.len)
        st = buf_append(b, e->calls.data, e->calls.len);
    buf_free(&e->calls);
    return st;
}

/* ---- the console thread ---- */

static void on_malformed(const char *data, size_t len, const char *why) {
    buf b;
    buf_init(&b, 512);
    ua_status st = buf_appendf(&b, "X-Ray: malformed datagram (%zu bytes): %s: \"", len, why);
    if (st == UA_OK)
        st = gw_printable(data, len, SHOWN_MALFORMED, &b);
    if (st == UA_OK)
        st = buf_append_str(&b, "\"\n");
    if (st == UA_OK)
        write_text(&b);
    buf_free(&b);
}

static void on_datagram(gw_trace *t, const char *data, size_t len) {
    gw_xray_call call;
    char why[160];
    if (len == 0) {
        on_malformed(data, len, "empty");
        return;
    }
    if (gw_xray_parse(data, len, &call, why, sizeof why) != UA_OK) {
        on_malformed(data, len, why);
        return;
    }
    buf line, out;
    buf_init(&line, 1024);
    buf_init(&out, 2048);
    ua_status st = buf_append_str(&line, "  ");
    if (st == UA_OK)
        st = gw_xray_format(&call, &line);
    pthread_mutex_lock(&t->mu);
    entry *e = by_trace(t, call.trace_id, call.parent_id);
    if (st == UA_OK && e && !e->printed) {
        if (buf_append(&e->calls, line.data, line.len) != UA_OK ||
            buf_append_char(&e->calls, '\n') != UA_OK)
            gw_log("WARN", "trace %s: too many subsegments to show", e->ids.root);
    } else if (st == UA_OK && e) {
        st = buf_append(&out, line.data, line.len);
        if (st == UA_OK)
            st = buf_append_str(&out, " (late, for ");
        if (st == UA_OK)
            st = append_request(&out, e);
        if (st == UA_OK)
            st = append_trace_note(&out, e, ")\n");
    } else if (st == UA_OK) {
        st = buf_append(&out, line.data + 2, line.len - 2);
        if (st == UA_OK)
            st = buf_append_str(&out, " (trace ");
        if (st == UA_OK)
            st = gw_printable(call.trace_id, strlen(call.trace_id), 64, &out);
        if (st == UA_OK)
            st = buf_append_str(&out, ": no request of this gateway)\n");
    }
    pthread_mutex_unlock(&t->mu);
    if (st == UA_OK && out.len)
        write_text(&out);
    buf_free(&line);
    buf_free(&out);
}

static void receive_all(gw_trace *t, char *data) {
    for (;;) {
        ssize_t n = recv(t->fd, data, GW_XRAY_MAX_DATAGRAM, MSG_DONTWAIT | MSG_TRUNC);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return;
        if ((size_t)n > GW_XRAY_MAX_DATAGRAM)
            on_malformed(data, GW_XRAY_MAX_DATAGRAM, "over 64 KiB, cut short");
        else
            on_datagram(t, data, (size_t)n);
    }
}

static int cmp_handle(const void *a, const void *b) {
    uint64_t x = ((const due_block *)a)->handle, y = ((const due_block *)b)->handle;
    return x < y ? -1 : x > y;
}

static bool due(const entry *e, int64_t now, bool all) {
    if (!e->handle || e->printed)
        return false;
    if (all)
        return true;
    if (!e->ended)
        return false;
    if (e->has_line) {
        int64_t last = e->line_ms > e->ended_ms ? e->line_ms : e->ended_ms;
        return now >= last + GW_TRACE_SETTLE_MS;
    }
    return now >= e->ended_ms + GW_TRACE_WAIT_MS;
}

/* Prints the blocks that are due (all of them when all), oldest request first. */
static void flush(gw_trace *t, bool all) {
    due_block *ready = t->ready;
    size_t n = 0;
    buf out;
    buf_init(&out, MAX_BLOCK * 4);
    int64_t now = ua_monotonic_ms();
    pthread_mutex_lock(&t->mu);
    for (size_t i = 0; i < GW_TRACE_MAX_INVOCATIONS; i++) {
        if (due(&t->entries[i], now, all))
            ready[n++] = (due_block){t->entries[i].handle, i};
    }
    qsort(ready, n, sizeof ready[0], cmp_handle);
    for (size_t i = 0; i < n; i++) {
        entry *e = &t->entries[ready[i].index];
        buf one;
        buf_init(&one, MAX_BLOCK);
        if (block(&one, e) != UA_OK || buf_append(&out, one.data, one.len) != UA_OK)
            gw_log("WARN", "trace %s: the block is too long to show", e->ids.root);
        buf_free(&one);
        e->printed = true;
        e->printed_ms = now;
    }
    pthread_mutex_unlock(&t->mu);
    write_text(&out);
    buf_free(&out);
}

static void *console_main(void *arg) {
    gw_trace *t = arg;
    char *data = malloc(GW_XRAY_MAX_DATAGRAM);
    if (!data) {
        gw_log("ERROR", "out of memory: --trace prints nothing");
        return NULL;
    }
    for (;;) {
        struct pollfd fds[2] = {{.fd = t->fd, .events = POLLIN},
                                {.fd = t->wake[0], .events = POLLIN}};
        (void)poll(fds, 2, TICK_MS);
        receive_all(t, data);
        pthread_mutex_lock(&t->mu);
        bool stopping = t->stopping;
        pthread_mutex_unlock(&t->mu);
        flush(t, stopping);
        if (stopping)
            break;
    }
    free(data);
    return NULL;
}

/* ---- the public side ---- */

static void release(gw_trace *t) {
    free(t->entries);
    free(t->ready);
    free(t);
}

gw_trace *gw_trace_start(unsigned port, unsigned *bound, char *err, size_t errlen) {
    gw_trace *t = calloc(1, sizeof *t);
    if (t) {
        t->entries = calloc(GW_TRACE_MAX_INVOCATIONS, sizeof *t->entries);
        t->ready = calloc(GW_TRACE_MAX_INVOCATIONS, sizeof *t->ready);
    }
    if (!t || !t->entries || !t->ready) {
        snprintf(err, errlen, "out of memory");
        if (t)
            release(t);
        return NULL;
    }
    t->fd = gw_bind_udp("127.0.0.1", port, bound, err, errlen);
    if (t->fd < 0) {
        release(t);
        return NULL;
    }
    int size = RECV_BUFFER;
    (void)setsockopt(t->fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    t->next_handle = 1;
    bool ok = pipe(t->wake) == 0;
    if (ok) {
        (void)fcntl(t->wake[0], F_SETFD, FD_CLOEXEC);
        (void)fcntl(t->wake[1], F_SETFD, FD_CLOEXEC);
        ok = pthread_mutex_init(&t->mu, NULL) == 0;
        if (ok && pthread_create(&t->thread, NULL, console_main, t) != 0) {
            pthread_mutex_destroy(&t->mu);
            ok = false;
        }
        if (!ok) {
            close(t->wake[0]);
            close(t->wake[1]);
        }
    }
    if (!ok) {
        snprintf(err, errlen, "cannot start the --trace console");
        close(t->fd);
        release(t);
        return NULL;
    }
    return t;
}

/* A slot for a new request: a free one, else the one printed longest ago. Under mu. */
static entry *free_slot(gw_trace *t) {
    entry *oldest = NULL;
    for (size_t i = 0; i < GW_TRACE_MAX_INVOCATIONS; i++) {
        entry *e = &t->entries[i];
        if (!e->handle)
            return e;
        if (e->printed && (!oldest || e->printed_ms < oldest->printed_ms ||
                           (e->printed_ms == oldest->printed_ms && e->handle < oldest->handle)))
            oldest = e;
    }
    return oldest;
}

uint64_t gw_trace_begin(gw_trace *t, const gw_trace_request *req) {
    if (!t)
        return 0;
    pthread_mutex_lock(&t->mu);
    entry *e = free_slot(t);
    uint64_t handle = 0;
    if (e) {
        buf_free(&e->calls);
        memset(e, 0, sizeof *e);
        handle = e->handle = t->next_handle++;
        e->ids = *req->ids;
        copy_id(e->method, sizeof e->method, req->method);
        e->target_len = req->target ? strlen(req->target) : 0;
        if (e->target_len > MAX_TARGET)
            e->target_len = MAX_TARGET;
        if (e->target_len)
            memcpy(e->target, req->target, e->target_len);
        copy_id(e->api_id, sizeof e->api_id, req->api_request_id);
        copy_id(e->lambda_id, sizeof e->lambda_id, req->lambda_request_id);
        buf_init(&e->calls, MAX_CALLS_TEXT);
    }
    pthread_mutex_unlock(&t->mu);
    return handle;
}

void gw_trace_end(gw_trace *t, uint64_t handle, unsigned status, const char *outcome,
                  double latency_ms) {
    if (!t || !handle)
        return;
    pthread_mutex_lock(&t->mu);
    for (size_t i = 0; i < GW_TRACE_MAX_INVOCATIONS; i++) {
        entry *e = &t->entries[i];
        if (e->handle == handle) {
            e->ended = true;
            e->status = status;
            copy_id(e->outcome, sizeof e->outcome, outcome);
            e->gateway_ms = latency_ms;
            e->ended_ms = ua_monotonic_ms();
            break;
        }
    }
    pthread_mutex_unlock(&t->mu);
}

void gw_trace_on_line(void *ctx, const char *line, size_t len) {
    gw_trace *t = ctx;
    gw_invlog l;
    if (gw_invlog_parse(line, len, &l) != UA_OK)
        return;
    buf out;
    buf_init(&out, MAX_BLOCK);
    ua_status st = UA_OK;
    pthread_mutex_lock(&t->mu);
    entry *e = by_request_id(t, l.aws_request_id);
    if (!e)
        e = by_request_id(t, l.request_id);
    if (!e && l.trace_id[0])
        e = by_trace(t, l.trace_id, NULL);
    if (e && !e->printed && !e->has_line) {
        e->has_line = true;
        e->line = l;
        e->line_ms = ua_monotonic_ms();
    } else if (e) {
        st = append_request(&out, e);
        if (st == UA_OK)
            st = buf_append_char(&out, ' ');
        if (st == UA_OK)
            st = gw_invlog_format(&l, &out);
        if (st == UA_OK)
            st = append_trace_note(&out, e, ", a log line after its block");
        if (st == UA_OK)
            st = buf_append_char(&out, '\n');
    } else {
        const char *method = l.method[0] ? l.method : "-";
        const char *route = l.route[0] ? l.route : "-";
        st = gw_printable(method, strlen(method), GW_INVLOG_MAX_FIELD, &out);
        if (st == UA_OK)
            st = buf_append_char(&out, ' ');
        if (st == UA_OK)
            st = gw_printable(route, strlen(route), SHOWN_TARGET, &out);
        if (st == UA_OK && l.status >= 0)
            st = buf_appendf(&out, " %ld", l.status);
        if (st == UA_OK)
            st = buf_append_char(&out, ' ');
        if (st == UA_OK)
            st = gw_invlog_format(&l, &out);
        if (st == UA_OK)
            st = buf_append_str(&out, " (no request of this gateway)\n");
    }
    pthread_mutex_unlock(&t->mu);
    if (st == UA_OK && out.len)
        write_text(&out);
    buf_free(&out);
}

void gw_trace_stop(gw_trace *t) {
    if (!t)
        return;
    pthread_mutex_lock(&t->mu);
    t->stopping = true;
    pthread_mutex_unlock(&t->mu);
    ssize_t w = write(t->wake[1], "", 1);
    (void)w;
    pthread_join(t->thread, NULL);
    for (size_t i = 0; i < GW_TRACE_MAX_INVOCATIONS; i++)
        buf_free(&t->entries[i].calls);
    close(t->fd);
    close(t->wake[0]);
    close(t->wake[1]);
    pthread_mutex_destroy(&t->mu);
    release(t);
}

/* gw_relay.c — bootstraps' stdout, passed on line by line (see gw_relay.h). */
#define _GNU_SOURCE /* pipe2 */ // NOLINT(bugprone-reserved-identifier)
#include "gw_relay.h"

#include "gw_log.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define READ_CHUNK 16384u

/* One pipe and the part of a line read from it so far. */
typedef struct source {
    int fd;
    char *line; /* GW_RELAY_MAX_LINE bytes */
    size_t len;
    bool overlong; /* passing on a line too long to keep: not handed to the callback */
} source;

struct gw_relay {
    int out_fd;
    gw_relay_line_fn on_line;
    void *ctx;
    pthread_mutex_t mu; /* guards pending, npending, held and stopping */
    int pending[GW_RELAY_MAX_PIPES];
    size_t npending;
    size_t held; /* pipes pending or open */
    bool stopping;
    int wake[2]; /* a byte on wake[1] makes the thread look at pending and stopping */
    pthread_t thread;
    source sources[GW_RELAY_MAX_PIPES]; /* the thread's own */
    size_t nsources;
};

static void write_all(int fd, const char *p, size_t n) {
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return; /* nowhere to say so: the gateway's stdout itself is gone */
        p += w;
        n -= (size_t)w;
    }
}

/* Passes on src's complete lines; keeps the rest. */
static void take_lines(gw_relay *r, source *src) {
    size_t start = 0;
    for (;;) {
        char *nl = memchr(src->line + start, '\n', src->len - start);
        if (!nl)
            break;
        size_t end = (size_t)(nl - src->line);
        write_all(r->out_fd, src->line + start, end - start + 1);
        if (!src->overlong)
            r->on_line(r->ctx, src->line + start, end - start);
        src->overlong = false;
        start = end + 1;
    }
    memmove(src->line, src->line + start, src->len - start);
    src->len -= start;
    if (src->len == GW_RELAY_MAX_LINE) {
        write_all(r->out_fd, src->line, src->len);
        src->len = 0;
        src->overlong = true;
    }
}

/* Reads what src holds. false at its end (or an error): src is then flushed and closed. */
static bool drain(gw_relay *r, source *src) {
    for (;;) {
        size_t room = GW_RELAY_MAX_LINE - src->len;
        ssize_t n = read(src->fd, src->line + src->len, room < READ_CHUNK ? room : READ_CHUNK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return true;
        if (n <= 0) {
            if (src->len) /* a last line without its newline: passed on as it is */
                write_all(r->out_fd, src->line, src->len);
            close(src->fd);
            src->fd = -1;
            return false;
        }
        src->len += (size_t)n;
        take_lines(r, src);
    }
}

static void adopt_pending(gw_relay *r) {
    pthread_mutex_lock(&r->mu);
    for (size_t i = 0; i < r->npending; i++) {
        source *s = &r->sources[r->nsources];
        s->line = malloc(GW_RELAY_MAX_LINE);
        if (!s->line) {
            gw_log("WARN", "out of memory: a bootstrap's stdout is dropped");
            close(r->pending[i]);
            r->held--;
            continue;
        }
        s->fd = r->pending[i];
        s->len = 0;
        s->overlong = false;
        r->nsources++;
    }
    r->npending = 0;
    pthread_mutex_unlock(&r->mu);
}

static void forget_closed(gw_relay *r) {
    size_t k = 0;
    for (size_t i = 0; i < r->nsources; i++) {
        if (r->sources[i].fd >= 0)
            r->sources[k++] = r->sources[i];
        else
            free(r->sources[i].line);
    }
    pthread_mutex_lock(&r->mu);
    r->held -= r->nsources - k;
    pthread_mutex_unlock(&r->mu);
    r->nsources = k;
}

static void *relay_main(void *arg) {
    gw_relay *r = arg;
    struct pollfd fds[GW_RELAY_MAX_PIPES + 1];
    for (;;) {
        adopt_pending(r);
        pthread_mutex_lock(&r->mu);
        bool stopping = r->stopping;
        pthread_mutex_unlock(&r->mu);
        if (stopping)
            break;
        fds[0] = (struct pollfd){.fd = r->wake[0], .events = POLLIN};
        for (size_t i = 0; i < r->nsources; i++)
            fds[i + 1] = (struct pollfd){.fd = r->sources[i].fd, .events = POLLIN};
        if (poll(fds, (nfds_t)(r->nsources + 1), -1) < 0)
            continue;
        if (fds[0].revents) {
            char b[64];
            while (read(r->wake[0], b, sizeof b) > 0)
                ;
        }
        for (size_t i = 0; i < r->nsources; i++) {
            if (fds[i + 1].revents)
                (void)drain(r, &r->sources[i]);
        }
        forget_closed(r);
    }
    /* Stopping: what the pipes hold now, then nothing more. */
    for (size_t i = 0; i < r->nsources; i++) {
        source *src = &r->sources[i];
        if (drain(r, src)) {
            write_all(r->out_fd, src->line, src->len); /* a line cut short by the stop */
            close(src->fd);
        }
        free(src->line);
    }
    r->nsources = 0;
    return NULL;
}

gw_relay *gw_relay_start(int out_fd, gw_relay_line_fn on_line, void *ctx) {
    gw_relay *r = calloc(1, sizeof *r);
    if (!r || pipe2(r->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
        gw_log("ERROR", "cannot set up the bootstraps' stdout relay");
        free(r);
        return NULL;
    }
    r->out_fd = out_fd;
    r->on_line = on_line;
    r->ctx = ctx;
    if (pthread_mutex_init(&r->mu, NULL) != 0 ||
        pthread_create(&r->thread, NULL, relay_main, r) != 0) {
        gw_log("ERROR", "cannot start the bootstraps' stdout relay");
        close(r->wake[0]);
        close(r->wake[1]);
        free(r);
        return NULL;
    }
    return r;
}

static void wake(gw_relay *r) {
    ssize_t w = write(r->wake[1], "", 1);
    (void)w; /* a full pipe already wakes the thread */
}

int gw_relay_add(gw_relay *r, int fd) {
    pthread_mutex_lock(&r->mu);
    bool room = !r->stopping && r->held < GW_RELAY_MAX_PIPES;
    if (room && fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == 0) {
        r->pending[r->npending++] = fd;
        r->held++;
    } else {
        room = false;
    }
    pthread_mutex_unlock(&r->mu);
    if (room)
        wake(r);
    return room ? 0 : -1;
}

void gw_relay_stop(gw_relay *r) {
    if (!r)
        return;
    pthread_mutex_lock(&r->mu);
    r->stopping = true;
    pthread_mutex_unlock(&r->mu);
    wake(r);
    pthread_join(r->thread, NULL);
    for (size_t i = 0; i < r->npending; i++)
        close(r->pending[i]);
    close(r->wake[0]);
    close(r->wake[1]);
    pthread_mutex_destroy(&r->mu);
    free(r);
}

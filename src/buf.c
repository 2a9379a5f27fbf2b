/* buf.c — bounded growable byte buffer (see buf.h). */
#include "buf.h"

#include <openssl/crypto.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The first allocation: most bufs hold a header line or a short document. */
#define BUF_FIRST_CAP 64u

void buf_init(buf *b, size_t max) {
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
    b->wipe = false;
}

void buf_init_secret(buf *b, size_t max) {
    buf_init(b, max);
    b->wipe = true;
}

/* Overwrites what a secret-holding buffer holds: its bytes and the NUL after them. Nothing past
 * that was ever written but by a failed format, which wipes it at once (buf_vappendf). */
static void wipe(buf *b) {
    if (b->wipe && b->data)
        OPENSSL_cleanse(b->data, b->len + 1);
}

/* realloc, except that a secret-holding buffer's old block is wiped before it is freed. */
static char *regrow(buf *b, size_t cap) {
    if (!b->wipe)
        return realloc(b->data, cap);
    char *p = malloc(cap);
    if (p && b->data) {
        memcpy(p, b->data, b->len + 1);
        wipe(b);
        free(b->data);
    }
    return p;
}

/* Makes room for extra more bytes plus the trailing NUL, growing geometrically but never past
 * max + 1: a buffer never holds memory its limit forbids it to use. */
static ua_status reserve(buf *b, size_t extra) {
    if (extra > b->max || b->len > b->max - extra)
        return UA_ERR_TOO_BIG;
    size_t need = b->len + extra + 1;
    if (need == 0)
        return UA_ERR_TOO_BIG; /* len + extra is SIZE_MAX: no room for the NUL */
    if (need <= b->cap)
        return UA_OK;
    size_t cap = b->cap ? b->cap : BUF_FIRST_CAP;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    if (b->max < SIZE_MAX && cap > b->max + 1)
        cap = b->max + 1; /* still >= need, since len + extra <= max */
    char *p = regrow(b, cap);
    if (!p)
        return UA_ERR_NOMEM;
    b->data = p;
    b->cap = cap;
    return UA_OK;
}

ua_status buf_append(buf *b, const void *p, size_t n) {
    ua_status st = reserve(b, n);
    if (st != UA_OK)
        return st;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return UA_OK;
}

ua_status buf_append_str(buf *b, const char *s) {
    return buf_append(b, s, strlen(s));
}

ua_status buf_append_char(buf *b, char c) {
    return buf_append(b, &c, 1);
}

ua_status buf_vappendf(buf *b, const char *fmt, va_list ap) {
    va_list again;
    va_copy(again, ap);
    /* Most text fits in the room already allocated: format once into it, and only when it does
     * not, grow and format again (formatting twice every time cost 2% of an invocation). */
    size_t room = b->data ? b->cap - b->len : 0;
    int n = vsnprintf(room ? b->data + b->len : NULL, room, fmt, ap); // NOLINT
    ua_status st = UA_OK;
    if (n < 0) {
        st = UA_ERR_INVALID;
    } else if ((size_t)n >= room) {
        st = reserve(b, (size_t)n);
        if (st == UA_OK)
            vsnprintf(b->data + b->len, (size_t)n + 1, fmt, again); // NOLINT
    } else if ((size_t)n > b->max - b->len) {
        st = UA_ERR_TOO_BIG;
    }
    if (st == UA_OK)
        b->len += (size_t)n;
    va_end(again);
    if (st != UA_OK && b->data) {
        if (b->wipe) /* a failed first try wrote past len */
            OPENSSL_cleanse(b->data + b->len, b->cap - b->len);
        b->data[b->len] = '\0'; /* the buffer is unchanged */
    }
    return st;
}

ua_status buf_appendf(buf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    ua_status st = buf_vappendf(b, fmt, ap);
    va_end(ap);
    return st;
}

/* json_dump_callback's sink; keeps the buf's own status, which jansson does not pass on. */
typedef struct json_sink {
    buf *b;
    ua_status st;
} json_sink;

static int json_to_buf(const char *p, size_t n, void *data) {
    json_sink *sink = data;
    sink->st = buf_append(sink->b, p, n);
    return sink->st == UA_OK ? 0 : -1;
}

ua_status buf_append_json(buf *b, const json_t *doc) {
    json_sink sink = {b, UA_OK};
    size_t before = b->len;
    if (json_dump_callback(doc, json_to_buf, &sink, JSON_COMPACT) == 0)
        return UA_OK;
    b->len = before;
    if (b->data)
        b->data[before] = '\0';
    return sink.st != UA_OK ? sink.st : UA_ERR_NOMEM;
}

const char *buf_str(const buf *b) {
    return b->data ? b->data : "";
}

void buf_reset(buf *b) {
    wipe(b);
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

void buf_free(buf *b) {
    wipe(b);
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

char *buf_steal(buf *b) {
    char *p = b->data;
    if (!p) {
        p = malloc(1);
        if (p)
            p[0] = '\0';
    }
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    return p;
}

/* buf.h — an owning, growable byte buffer that carries its own size limit.
 *
 * Everything built from untrusted input (event bodies, responses, log lines) goes through a
 * buf so that no input can grow memory past a known bound. The bytes are always followed by
 * a NUL (not counted in len), so a buf of text can be handed to C string functions. */
#ifndef USERS_BUF_H
#define USERS_BUF_H

#include "common.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct buf {
    char *data; /* owned; NULL until the first append */
    size_t len; /* bytes in use, excluding the trailing NUL */
    size_t cap; /* bytes allocated; growth never takes it past max + 1 (the bytes and the NUL) */
    size_t max; /* len may never exceed this */
    bool wipe;  /* holds secrets: every byte is wiped before its memory is reused or freed */
} buf;

/* Empty buffer that will refuse to hold more than max bytes. Allocates nothing. */
void buf_init(buf *b, size_t max);

/* As buf_init, for a buffer that will hold a secret (a signature, a session token): buf_reset,
 * buf_free and growth wipe the old bytes (OPENSSL_cleanse) before the memory is reused or
 * freed. */
void buf_init_secret(buf *b, size_t max);

/* Appends n bytes; UA_ERR_TOO_BIG (and b unchanged) when len would pass max. */
UA_WARN_UNUSED ua_status buf_append(buf *b, const void *p, size_t n);
UA_WARN_UNUSED ua_status buf_append_str(buf *b, const char *s);
UA_WARN_UNUSED ua_status buf_append_char(buf *b, char c);
UA_WARN_UNUSED ua_status buf_appendf(buf *b, const char *fmt, ...) UA_PRINTF(2, 3);
UA_WARN_UNUSED ua_status buf_vappendf(buf *b, const char *fmt, va_list ap) UA_PRINTF(2, 0);

/* Appends doc as compact JSON. On failure (UA_ERR_TOO_BIG, UA_ERR_NOMEM) b is left as it was:
 * never half a document. */
UA_WARN_UNUSED ua_status buf_append_json(buf *b, const json_t *doc);

/* The contents as a C string: "" for an empty buffer, never NULL. Borrowed. */
const char *buf_str(const buf *b);

/* Forgets the contents but keeps the memory, for reuse across invocations (wiping it first
 * when the buffer holds secrets). */
void buf_reset(buf *b);

/* Frees the memory; the buffer may be used again after buf_init. */
void buf_free(buf *b);

/* Hands the bytes to the caller (who frees them with free()); b becomes empty. */
UA_WARN_UNUSED char *buf_steal(buf *b);

#endif

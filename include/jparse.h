/* jparse.h — a strict, single-pass JSON reader that builds a jansson tree.
 *
 * jansson's own reader fetches every byte through a callback and copies every string one byte
 * at a time; on the 2.5 KB event of each invocation that was a third of the function's CPU
 * time (BENCHMARKS.md). jparse reads the same grammar from a (pointer, length) view in one
 * pass, copies a string without escapes once (one with escapes is decoded into a scratch
 * buffer first), and hands back an ordinary json_t, so everything downstream still works on
 * jansson's data model. It reads the events (apigw.c) and DynamoDB's replies (ddb.c).
 *
 * It accepts exactly what json_loadb accepts with the matching flags, and builds an equal
 * tree: the fuzz_jparse target holds the two readers to that on arbitrary input. The one
 * exception is deliberate: a raw NUL byte is always refused, where jansson skips one that
 * follows a number or a literal. In particular: RFC 8259 grammar; an object or array at the
 * top; strict UTF-8 (utf8.h: no overlongs, surrogates or values past U+10FFFF) and no raw
 * control characters in strings; \u escapes with paired surrogates; nesting to a depth of
 * JSON_PARSER_MAX_DEPTH values; a number whose magnitude overflows a double is refused, and so
 * is an integer past 64 bits unless JPARSE_INT_AS_REAL reads it as a real; for repeated keys
 * the last one wins. */
#ifndef USERS_JPARSE_H
#define USERS_JPARSE_H

#include "common.h"

#include <jansson.h>
#include <stddef.h>

typedef enum jparse_flags {
    JPARSE_ALLOW_NUL = 1u << 0,         /* \u0000 in a string value (never in a key) */
    JPARSE_INT_AS_REAL = 1u << 1,       /* integers become reals, as JSON_DECODE_INT_AS_REAL */
    JPARSE_REJECT_DUPLICATES = 1u << 2, /* a repeated key in one object is an error */
    JPARSE_NUL_AS_SOH = 1u << 3         /* \u0000 is read as U+0001, in keys and values */
} jparse_flags;

typedef enum jparse_error {
    JPARSE_OK = 0,
    JPARSE_SYNTAX,       /* not JSON, or not UTF-8, or a control character in a string */
    JPARSE_NUL_IN_KEY,   /* an object key holds \u0000 (jansson keys are C strings) */
    JPARSE_NUL_IN_VALUE, /* a string holds \u0000 without JPARSE_ALLOW_NUL */
    JPARSE_TOO_DEEP,     /* nested past JSON_PARSER_MAX_DEPTH */
    JPARSE_RANGE,        /* a number out of range */
    JPARSE_DUPLICATE,    /* a repeated key, with JPARSE_REJECT_DUPLICATES */
    JPARSE_NOMEM         /* an allocation failed */
} jparse_error;

/* Reads text[0..len) (no NUL terminator needed; a NUL byte in it is an error). Returns a new
 * reference to the object or array, or NULL with the reason in *err (err may be NULL). */
UA_WARN_UNUSED json_t *jparse(const char *text, size_t len, unsigned flags, jparse_error *err);

#endif

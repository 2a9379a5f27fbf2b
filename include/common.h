/* common.h — the project's one status type, its limits, and the byte view shared by all modules.
 *
 * Every limit the contract (../shared/spec/users-api.md) or the platform imposes is a named
 * constant here, so a reader finds them in one place and a change touches one line. */
#ifndef USERS_COMMON_H
#define USERS_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__GNUC__) || defined(__clang__)
#define UA_WARN_UNUSED  __attribute__((warn_unused_result))
#define UA_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define UA_WARN_UNUSED
#define UA_PRINTF(f, a)
#endif

/* A constant's digits as a string literal, for the messages that state a limit: such limits
 * are plain decimal literals (no suffix), so that the message reads "100", never "100u". */
#define UA_STR(x)  UA_STR_(x)
#define UA_STR_(x) #x

/* One result type across the project. Modules whose callers must tell more outcomes apart have
 * their own: ddb_status (ddb.h), http_outcome (http.h), jparse_error (jparse.h). */
typedef enum ua_status {
    UA_OK = 0,
    UA_ERR_NOMEM,    /* allocation failed */
    UA_ERR_TOO_BIG,  /* a bounded buffer or input passed its limit */
    UA_ERR_INVALID,  /* malformed input */
    UA_ERR_IO,       /* network or system call failed */
    UA_ERR_TIMEOUT,  /* a deadline passed */
    UA_ERR_NOT_FOUND /* a looked-up item is absent */
} ua_status;

/* A non-owning view of bytes: never assumed NUL-terminated. */
typedef struct ua_span {
    const char *ptr;
    size_t len;
} ua_span;

/* ---- Character classes shared by the parsers ---- */

/* RFC 9110 tchar: what a header name, a method or a media type token is made of. */
static inline bool ua_is_tchar(unsigned char c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* The value of one hexadecimal digit, or -1. */
static inline int ua_hex_value(unsigned char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* ---- The contract's limits (users-api.md) ---- */
#define UA_MAX_BODY_BYTES       16384u /* request body after base64 decoding; 16385 is 413 */
#define UA_MIN_NAME_CODEPOINTS  1
#define UA_MAX_NAME_CODEPOINTS  100
#define UA_MAX_EMAIL_OCTETS     254u
#define UA_MAX_EMAIL_LOCAL      64u
#define UA_MAX_EMAIL_DOMAIN     253u
#define UA_MAX_EMAIL_LABEL      63u
#define UA_MIN_AGE              0
#define UA_MAX_AGE              150
#define UA_LIST_DEFAULT_LIMIT   20
#define UA_LIST_MIN_LIMIT       1
#define UA_LIST_MAX_LIMIT       100
#define UA_MAX_TABLE_NAME       255u /* DynamoDB's own limit on a table name */
#define UA_UUID_LEN             36u  /* canonical 8-4-4-4-12 form, without NUL */
#define UA_MAX_IF_MATCH_TAGS    16u  /* entity tags accepted in one If-Match header */
#define UA_MAX_NEXT_TOKEN_CHARS 256u /* longer tokens cannot be ours: 400 without decoding */

/* ---- Platform limits ---- */
/* An event is read whole up to this size so that an oversized body (API Gateway allows 10 MB;
 * Lambda itself stops at 6 MB) still gets its 413; a larger event is an invocation error. */
#define UA_MAX_EVENT_BYTES    ((size_t)16 * 1024 * 1024)
#define UA_KEEP_EVENT_BUFFER  ((size_t)1024 * 1024) /* larger event buffers are freed after use */
#define UA_MAX_RESPONSE_BYTES ((size_t)6 * 1024 * 1024) /* Lambda's synchronous response limit */
#define UA_MAX_DDB_RESPONSE   ((size_t)4 * 1024 * 1024) /* a Scan page is at most 1 MB of items */
#define UA_MAX_HEADER_BLOCK   ((size_t)64 * 1024) /* response headers kept from one HTTP call */
#define UA_MAX_REQUEST_ID     128u
/* A DynamoDB error type, or why no answer came, as kept for the log (ddbError), with its NUL. */
#define UA_MAX_DDB_ERROR_TYPE 96u

/* ---- DynamoDB retry policy (users-api.md, "When DynamoDB misbehaves") ---- */
#define UA_DDB_MAX_ATTEMPTS             8 /* first try plus up to 7 retries */
#define UA_DDB_BACKOFF_BASE_MS          25 /* full jitter: sleep uniform in [0, min(cap, base*2^n)) */
#define UA_DDB_BACKOFF_CAP_MS           1000
#define UA_DDB_ATTEMPT_TIMEOUT_MS       2000 /* one attempt never waits longer than this, */
#define UA_DDB_MIN_ATTEMPT_MS           100 /* nor longer than half the time left, unless under this */
#define UA_DDB_CONNECT_TIMEOUT_MS       500 /* TCP + TLS set-up of one attempt, at most */
#define UA_DDB_CREDENTIAL_FAILURE_LIMIT 3   /* calls in a row: then 503 and a fresh environment */
#define UA_DEADLINE_MARGIN_MS           300 /* kept back from the invocation deadline to answer */
#define UA_RETRY_AFTER_SECONDS          1   /* Retry-After sent with a 503 */
/* A read-then-transaction write (an address change, a delete) starts again when another write
 * moved the user between its read and its transaction; this many times at most, then 503. */
#define UA_WRITE_ROUNDS 3u

#endif

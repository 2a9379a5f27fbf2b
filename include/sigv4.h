/* sigv4.h — AWS Signature Version 4 (AWS4-HMAC-SHA256) request signing, header variant.
 *
 * Knows nothing of DynamoDB or curl: it turns a request description into the canonical
 * request, the string to sign and the Authorization header. The signing key is derived once
 * per (secret, date, region, service) and cached in the sigv4_signer. */
#ifndef USERS_SIGV4_H
#define USERS_SIGV4_H

#include "buf.h"
#include "common.h"

#include <stdbool.h>
#include <time.h>

/* Limits on what the signer accepts; anything larger is UA_ERR_INVALID. They bound the stack
 * space canonicalisation uses, so no input can make the signer's memory grow. */
#define SIGV4_MAX_PATH_LEN         4096u /* bytes of r->path */
#define SIGV4_MAX_QUERY_LEN        8192u /* bytes of r->query */
#define SIGV4_MAX_QUERY_PARAMS     64u   /* '&'-separated parameters */
#define SIGV4_MAX_HEADERS          64u   /* r->n_headers */
#define SIGV4_MAX_HEADER_NAME_LEN  256u
#define SIGV4_MAX_HEADER_VALUE_LEN 16384u /* also bounds the session token */
#define SIGV4_MAX_KEY_LEN          128u   /* access key id and secret access key */
#define SIGV4_MAX_SCOPE_PART_LEN   31u    /* region and service (fit sigv4_signer's fields) */

typedef struct sigv4_credentials {
    const char *access_key_id;     /* borrowed, required */
    const char *secret_access_key; /* borrowed, required; never logged */
    const char *session_token;     /* borrowed; NULL or "" when there is none */
} sigv4_credentials;

/* One request header as the caller will send it. Borrowed, NUL-terminated. The name must be
 * an HTTP token; the value may not hold control characters other than tab (obs-folds are
 * the caller's to unfold), so nothing signed here can smuggle a CR/LF onto the wire. */
typedef struct sigv4_header {
    const char *name;
    const char *value;
} sigv4_header;

typedef struct sigv4_request {
    const char *method; /* "POST" */
    const char *path;   /* not yet URI-encoded: "/" or "/ሴ" ("%" is a literal); "" means "/" */
    const char *query;  /* raw query string without '?' (%XX escapes allowed), NULL when none */
    const sigv4_header *headers; /* must include Host; X-Amz-Date and the token are added,
                                    so they (and Authorization) may not be in here */
    size_t n_headers;
    const void *body;
    size_t body_len;
    bool normalize_path;     /* remove "." / ".." segments and merge "//" (all but S3) */
    bool sign_body;          /* add and sign x-amz-content-sha256 (S3 wants it; DynamoDB does
                                not: the body's hash ends every canonical request anyway) */
    bool omit_session_token; /* send the token but leave it out of the signature */
} sigv4_request;

/* Cache of the derived signing key. Zero-initialise (or sigv4_signer_init) before first use. */
typedef struct sigv4_signer {
    char date[9]; /* YYYYMMDD of the cached key, "" when none */
    char region[SIGV4_MAX_SCOPE_PART_LEN + 1];
    char service[SIGV4_MAX_SCOPE_PART_LEN + 1];
    unsigned char secret_id[32]; /* SHA-256 of the secret the key was derived from */
    unsigned char key[32];
    unsigned derivations; /* how many times a key was derived (tests check the cache) */
} sigv4_signer;

/* What signing produced. The two optional bufs are filled only when non-NULL (tests). */
typedef struct sigv4_output {
    char amz_date[17];       /* "20150830T123600Z", the X-Amz-Date header value */
    char signature[65];      /* lowercase hex */
    char content_sha256[65]; /* hex SHA-256 of the body (x-amz-content-sha256 when sign_body) */
    buf authorization;       /* Authorization header value; caller inits and frees */
    buf *canonical_request;  /* optional */
    buf *string_to_sign;     /* optional */
} sigv4_output;

/* Empties the cache, wiping any key it held (also the way to forget a secret). */
void sigv4_signer_init(sigv4_signer *s);

/* Signs r at time now (UTC). On UA_OK, out holds the date, signature and Authorization; the
 * caller then sends r's headers plus X-Amz-Date: out->amz_date, X-Amz-Security-Token:
 * c->session_token (when set, whether signed or not), x-amz-content-sha256:
 * out->content_sha256 (when r->sign_body) and Authorization: out->authorization.
 * All pointers are borrowed; out's bufs are the caller's (reset here, then filled).
 * Fails with UA_ERR_INVALID on anything it cannot canonicalise (no Host, bad %-escape, a
 * limit above passed, a header it adds itself given by the caller, bad credentials or scope),
 * UA_ERR_TOO_BIG when one of out's bufs is too small, UA_ERR_NOMEM when OpenSSL fails. On
 * failure out's contents are unspecified but its bufs may still be freed. */
UA_WARN_UNUSED ua_status sigv4_sign(sigv4_signer *s, const sigv4_credentials *c, const char *region,
                                    const char *service, time_t now, const sigv4_request *r,
                                    sigv4_output *out);

/* Lower-case hex SHA-256 of data into out[65]. */
void sigv4_sha256_hex(const void *data, size_t len, char out[65]);

#endif

/* gw_docs.h — the local gateway's own pages: the API's OpenAPI document at /openapi.json and
 * /openapi.yaml, and Swagger UI at /docs (its page) and /docs/<file> (swagger-ui-dist's files).
 * These paths never reach the function; every other path does, as before.
 *
 * A small file server, read-only: GET and HEAD only (else 405 with Allow), a file name under
 * /docs/ is one path segment of [A-Za-z0-9._-] not starting with a dot (anything else is 404:
 * no percent-decoding, no "..", no sub-directories, no dot files), opened with O_NOFOLLOW
 * under the directory given at start and served only when it is a regular file. Answers carry
 * their Content-Type, X-Content-Type-Options: nosniff, Cache-Control: no-cache and a strong
 * ETag (size and modification time), and If-None-Match gets 304. The page and the documents
 * are same-origin with the API they describe, so they need no CORS headers; the API's own
 * answers keep the function's CORS headers as before. */
#ifndef USERS_GW_DOCS_H
#define USERS_GW_DOCS_H

#include "common.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GW_DOCS_MAX_NAME  128u /* the longest file name under /docs/ */
#define GW_DOCS_ETAG_SIZE 48u  /* room for "\"<16 hex>-<16 hex>\"" and the NUL */

/* What a request target names. */
typedef enum gw_docs_kind {
    GW_DOCS_NONE = 0,  /* not the gateway's: the function's */
    GW_DOCS_SPEC_JSON, /* /openapi.json */
    GW_DOCS_SPEC_YAML, /* /openapi.yaml */
    GW_DOCS_PAGE,      /* /docs, /docs/, /docs/index.html: the Swagger UI page */
    GW_DOCS_FILE,      /* /docs/<name>: a file of the docs directory */
    GW_DOCS_NOT_FOUND  /* under /docs/ but no name this server would ever open */
} gw_docs_kind;

/* Pure. The kind of the raw request target (target_len bytes, not NUL-terminated; a query
 * string is ignored). For GW_DOCS_FILE, the file name is copied NUL-terminated to name (cap
 * bytes, at least GW_DOCS_MAX_NAME + 1). */
gw_docs_kind gw_docs_match(const char *target, size_t target_len, char *name, size_t cap);

/* Pure. The Content-Type for a file name, by its extension (application/octet-stream when
 * unknown). Static storage. */
const char *gw_docs_content_type(const char *name);

/* Pure. The strong ETag of a file of size bytes last modified at mtime_ns, quoted, into out
 * (GW_DOCS_ETAG_SIZE bytes). */
void gw_docs_etag(uint64_t size, int64_t mtime_ns, char out[GW_DOCS_ETAG_SIZE]);

/* Pure. Whether an If-None-Match header value (a list of entity tags, weak or strong, or "*")
 * names etag: the weak comparison RFC 9110 prescribes for If-None-Match. NULL matches nothing. */
bool gw_docs_etag_matches(const char *if_none_match, const char *etag);

/* Pure. The Swagger UI page (HTML, static storage): loads swagger-ui-dist from /docs/ and the
 * document from /openapi.json. */
const char *gw_docs_page(void);

/* The directories served: owned by the server once open. */
typedef struct gw_docs gw_docs;

/* Opens spec_dir (holding openapi.json and openapi.yaml, both required) and ui_dir (Swagger
 * UI's files: swagger-ui-bundle.js and swagger-ui.css required). NULL with a reason in err
 * (errlen bytes) when either is missing or unreadable. The files are opened per request, so
 * a document regenerated while the gateway runs is served as it now is. */
gw_docs *gw_docs_open(const char *spec_dir, const char *ui_dir, char *err, size_t errlen);

void gw_docs_close(gw_docs *d);

/* An answer the gateway gives itself. */
typedef struct gw_docs_answer {
    unsigned status;              /* 200, 304, 404, 405 or 500 */
    int fd;                       /* the file to send (owned by the caller once returned), or -1 */
    uint64_t size;                /* its size, when fd >= 0 */
    const char *body;             /* else this body (static storage), body_len bytes */
    size_t body_len;              /* */
    const char *content_type;     /* static storage */
    char etag[GW_DOCS_ETAG_SIZE]; /* "" for none */
    bool allow;                   /* 405: send Allow: GET, HEAD */
} gw_docs_answer;

/* The answer to method on a target of the given kind (not GW_DOCS_NONE), with the request's
 * If-None-Match (or NULL). d may be NULL: the gateway runs without docs, and says so in a 404.
 * Returns UA_OK, or UA_ERR_INTERNAL when a file exists but cannot be read (then a 500). */
ua_status gw_docs_answer_for(const gw_docs *d, gw_docs_kind kind, const char *name,
                             const char *method, const char *if_none_match, gw_docs_answer *out);

struct MHD_Connection;

/* The server's hook, called when a request's headers are in: when the target is the docs'
 * own, queues the answer on c (HEAD: the same headers, no body), logs the access line and
 * returns 1 (or -1 when the answer could not be queued: the connection is to be closed);
 * returns 0 for any other target, which goes to the function. d may be NULL. */
int gw_docs_serve(const gw_docs *d, struct MHD_Connection *c, const char *method,
                  const char *target, size_t target_len);

#endif

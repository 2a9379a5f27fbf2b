/* gw_request.h — one HTTP request as the local gateway received it, and what both proxy payload
 * formats (gw_event.c: REST API, 1.0; gw_event_v2.c: HTTP API, 2.0) read off it the same way:
 * the route, the wire strings, the header and query maps, the body as text or base64, the
 * request time and the domain prefix. Kept in one place so the two formats cannot drift apart
 * where API Gateway treats them alike. */
#ifndef USERS_GW_REQUEST_H
#define USERS_GW_REQUEST_H

#include "buf.h"
#include "common.h"
#include "span.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define GW_MAX_BODY     ((size_t)10 * 1024 * 1024) /* API Gateway's payload limit: more is 413 */
#define GW_MAX_HEADERS  256u                       /* header lines kept from one request */
#define GW_RESOURCE_COL "/users"
#define GW_RESOURCE_ONE "/users/{userId}"

/* One header line as received: views into the server's memory, not NUL-terminated. */
typedef struct gw_kv {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
} gw_kv;

/* Everything the event is built from. All pointers are borrowed for the call. */
typedef struct gw_request {
    const char *method; /* "GET" */
    const char *target; /* the raw request target: path, then "?query" when present */
    size_t target_len;
    const char *protocol; /* "HTTP/1.1" */
    const gw_kv *headers; /* in the order received */
    size_t nheaders;
    const char *body; /* may be NULL when body_len is 0 */
    size_t body_len;
    const char *source_ip;  /* the client's address */
    unsigned port;          /* the port the request arrived on (X-Forwarded-Port) */
    const char *request_id; /* API Gateway request id (a UUID) */
    const char *extended_request_id;
    const char *trace_id; /* "Root=1-…", added as X-Amzn-Trace-Id when the client sent none */
    int64_t time_ms;      /* arrival, Unix epoch milliseconds */
} gw_request;

/* The resource template path matches: GW_RESOURCE_COL, GW_RESOURCE_ONE (then *user_id is the
 * raw last segment), or NULL. */
const char *gw_match_resource(const char *path, size_t len, ua_span *user_id);

/* Whether a body goes into the event as text: the bytes are UTF-8 and the Content-Type is absent
 * or text-like (text/-, JSON, +json, XML, +xml, form, JavaScript). content_type may be NULL. */
bool gw_body_is_text(const char *content_type, size_t ct_len, const char *body, size_t len);

/* A JSON string of bytes that came off the wire: UTF-8 as is, anything else read as Latin-1.
 * New reference; NULL when out of memory. */
json_t *gw_wire_string(const char *p, size_t n);

/* json_object_set_new that also fails (-1) when value is NULL (it could not be made). */
int gw_json_put(json_t *obj, const char *key, json_t *value);

/* The key of obj equal to name ignoring ASCII case, or NULL. Borrowed. */
const char *gw_json_find_ci(json_t *obj, const char *name);

/* The target's path and query (views into t): an absolute-form target ("http://host/p") is cut
 * to its path; *query is empty when there is no '?'. */
void gw_split_target(const char *t, size_t n, ua_span *path, ua_span *query);

/* The path and query of req's target (gw_split_target), after the checks both payload formats
 * make: UA_ERR_INVALID when req has no method, or a target whose path does not start with '/'. */
UA_WARN_UNUSED ua_status gw_request_target(const gw_request *req, ua_span *path, ua_span *query);

/* The request's headers as {name: [values...]} (new reference, NULL when out of memory): names
 * as received (the first spelling wins when a client repeats a name in another case), values
 * in order, then the headers API Gateway adds on the way to the integration: X-Forwarded-For
 * (the request's address appended to the client's chain), X-Forwarded-Port, X-Forwarded-Proto
 * and X-Amzn-Trace-Id (req->trace_id, when the client sent none). At most GW_MAX_HEADERS lines
 * are read. */
json_t *gw_header_map(const gw_request *req);

/* The last value of a header in a gw_header_map (name matched ignoring case), or NULL.
 * Borrowed from mv. */
const char *gw_header_last(json_t *mv, const char *name);

/* The raw query string as {name: [values...]} (new reference, NULL when out of memory), names
 * and values decoded ('+' and %XX); a component that does not decode to UTF-8 is kept as sent.
 * An empty object when there is no parameter. */
json_t *gw_query_map(ua_span query);

/* Sets "body" and "isBase64Encoded" on ev for a non-empty request body: the body as a string
 * and false when gw_body_is_text says so for content_type (may be NULL), else its base64 and
 * true. 0, or -1 when out of memory. */
int gw_put_body(json_t *ev, const gw_request *req, const char *content_type);

#define GW_TIME_LEN 32u

/* The arrival time as API Gateway writes requestTime / time: "05/Dec/2026:09:06:25 +0000". */
void gw_request_time(int64_t time_ms, char out[GW_TIME_LEN]);

#define GW_PREFIX_LEN 64u

/* The domain prefix of a Host value (what comes before the first '.' or ':'), cut to fit. */
void gw_domain_prefix(const char *host, char out[GW_PREFIX_LEN]);

#endif

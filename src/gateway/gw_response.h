/* gw_response.h — what a REST API (Lambda proxy integration) sends its client: the
 * function's proxy response turned into HTTP, or API Gateway's own error answers.
 *
 * The rules follow what deployed REST APIs were seen doing
 * (../shared/testdata/events/gateway-observed/):
 *   - the answer must be a JSON object with only statusCode, headers, multiValueHeaders, body
 *     and isBase64Encoded; statusCode an integer (or a string of digits) from 100 to 599;
 *     headers an object of scalars, multiValueHeaders an object of arrays of scalars (null
 *     is "none" for both, a number or boolean value is written as JSON writes it); body a
 *     string or null; isBase64Encoded a boolean or null, and when true the body must be
 *     base64. Anything else is a malformed proxy response: 502.
 *   - headers and multiValueHeaders are merged, multi-value first ("A: m1, m2, single");
 *     names matched ignoring case.
 *   - Content-Type defaults to application/json.
 *   - headers that would change the HTTP framing (Connection, Content-Length, Date,
 *     Keep-Alive, Server, Trailer, Transfer-Encoding, Upgrade) are renamed
 *     x-amzn-Remapped-<name>, as API Gateway does; a name that is not an HTTP token or a value
 *     with a control character is dropped. */
#ifndef USERS_GW_RESPONSE_H
#define USERS_GW_RESPONSE_H

#include "buf.h"
#include "common.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define GW_MAX_RESPONSE_HEADERS 256u

typedef struct gw_header {
    char *name;  /* owned */
    char *value; /* owned */
} gw_header;

/* An HTTP answer ready to send (the server adds Date, Content-Length, request ids). */
typedef struct gw_http_response {
    unsigned status;
    gw_header *headers; /* owned array, in sending order */
    size_t nheaders;
    buf body; /* owned */
} gw_http_response;

/* API Gateway's own answers. */
typedef enum gw_fault {
    GW_FAULT_MALFORMED,   /* 502 {"message":"Internal server error"}: the answer is not JSON */
    GW_FAULT_INTERNAL,    /* 502 {"message": "Internal server error"} + x-amzn-ErrorType:
                             bad proxy fields, function error, crash, response over 6 MB */
    GW_FAULT_TIMEOUT,     /* 504 {"message": "Endpoint request timed out"} */
    GW_FAULT_TOO_LONG,    /* 413 {"message":"Request Too Long"} */
    GW_FAULT_THROTTLED,   /* 429 {"message":"Too Many Requests"}: the queue is full */
    GW_FAULT_UNAVAILABLE, /* 503 {"message":"Service Unavailable"}: shutting down */
    GW_FAULT_NOT_FOUND    /* no route: 403 {"message":"Missing Authentication Token"} (REST;
                             unused there, as every path goes to the function) */
} gw_fault;

void gw_http_response_init(gw_http_response *r);
void gw_http_response_free(gw_http_response *r);

/* Appends a header (copies name and value). UA_ERR_INVALID when the name is not an HTTP
 * token or the value holds a control character other than tab; UA_ERR_TOO_BIG past
 * GW_MAX_RESPONSE_HEADERS. */
UA_WARN_UNUSED ua_status gw_http_response_add(gw_http_response *r, const char *name,
                                              const char *value);

/* Values of the first header named name (ignoring case), or NULL. Borrowed. */
const char *gw_http_response_header(const gw_http_response *r, const char *name);

/* Turns the function's answer (len bytes, not NUL-terminated) into out (reset first).
 * UA_OK when the answer was a well-formed proxy response; UA_ERR_INVALID when it was not, and
 * out then holds API Gateway's 502 (*why, when why is not NULL, says what was wrong: a static
 * string); UA_ERR_NOMEM. */
UA_WARN_UNUSED ua_status gw_response_from_proxy(const char *doc, size_t len, gw_http_response *out,
                                                const char **why);

/* Fills out (reset first) with API Gateway's answer for f. */
UA_WARN_UNUSED ua_status gw_response_fault(gw_fault f, gw_http_response *out);

/* ---- Shared with gw_response_v2.c (the HTTP API's answers) ---- */

/* Fills out (reset first) with status, Content-Type: application/json, x-amzn-ErrorType when
 * error_type is not NULL, and body. */
UA_WARN_UNUSED ua_status gw_response_answer(unsigned status, const char *body,
                                            const char *error_type, gw_http_response *out);

/* A proxy answer's header value as text: strings as they are, numbers and booleans as JSON
 * writes them. NULL for null (skipped); NULL and *bad set for objects, arrays and strings with
 * a NUL inside. New memory (free it). */
char *gw_header_text(json_t *v, bool *bad);

/* Adds a function's header to out: framing headers (Connection, Content-Length, Date, ...)
 * renamed x-amzn-Remapped-<name>, a header that cannot be sent dropped (UA_OK).
 * UA_ERR_TOO_BIG past GW_MAX_RESPONSE_HEADERS, UA_ERR_NOMEM. */
UA_WARN_UNUSED ua_status gw_response_emit_header(gw_http_response *out, const char *name,
                                                 const char *value);

/* A proxy answer's statusCode: an integer, or a string of 1 to 3 digits; 0 when neither. */
unsigned gw_status_of(json_t *v);

/* Appends a proxy answer's body (a JSON string; anything else appends nothing) to out->body,
 * base64-decoded when b64 is true; a body that is not base64 sets *reason (a static string)
 * and appends nothing. UA_ERR_TOO_BIG past 6 MB, UA_ERR_NOMEM. */
UA_WARN_UNUSED ua_status gw_response_body(json_t *body, json_t *b64, gw_http_response *out,
                                          const char **reason);

#endif

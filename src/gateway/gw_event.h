/* gw_event.h — one HTTP request as API Gateway (REST API, Lambda proxy integration, payload
 * format 1.0) hands it to the function: the event the local gateway posts to the bootstrap.
 *
 * The shape follows captures of deployed REST APIs (../shared/testdata/events/): the same
 * top-level keys, requestContext keys and identity keys, with the same JSON types.
 *   resource, pathParameters  "/users" or "/users/{userId}" when the path matches (the
 *                             userId left percent-encoded, as REST v1 does), else the path
 *                             itself and null.
 *   path                      the request path as sent, never percent-decoded.
 *   headers, multiValueHeaders  names as received (the first spelling of a name wins when a
 *                             client repeats it in another case); headers holds the last
 *                             value, multiValueHeaders all of them. API Gateway's own
 *                             X-Forwarded-For (appended to the client's), X-Forwarded-Port,
 *                             X-Forwarded-Proto and X-Amzn-Trace-Id (when absent) are added.
 *   queryStringParameters, multiValueQueryStringParameters  decoded ('+' and %XX), last
 *                             value / all values; null when the URL has no parameter. A
 *                             component that does not decode to UTF-8 is passed as sent.
 *   body, isBase64Encoded     null/false when empty. Text (a string, false) when the bytes
 *                             are UTF-8 and the Content-Type is absent or text-like (text/-,
 *                             JSON, XML, form, JavaScript); base64 (true) otherwise — what a
 *                             REST API whose binaryMediaTypes lists every non-text type does.
 * Header bytes that are not UTF-8 are read as Latin-1. */
#ifndef USERS_GW_EVENT_H
#define USERS_GW_EVENT_H

#include "buf.h"
#include "common.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define GW_STAGE        "local"
#define GW_ACCOUNT_ID   "123456789012"
#define GW_API_ID       "local00api"
#define GW_RESOURCE_ID  "l0c4l1"
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

/* Whether a body goes into the event as text (see above). content_type may be NULL. */
bool gw_body_is_text(const char *content_type, size_t ct_len, const char *body, size_t len);

/* Builds the event. *out is a new reference (json_decref it). UA_ERR_NOMEM, or UA_ERR_INVALID
 * when req lacks a method or a target that starts with '/'. */
UA_WARN_UNUSED ua_status gw_event_build(const gw_request *req, json_t **out);

#endif

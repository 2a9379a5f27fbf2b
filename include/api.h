/* api.h — the plain HTTP request and response that flow between apigw, router and users.
 *
 * apigw fills an api_request from an event and turns an api_response back into the event's
 * answer; users reads the one and writes the other. Neither side sees the event format. */
#ifndef USERS_API_H
#define USERS_API_H

#include "buf.h"
#include "common.h"

#include <jansson.h>
#include <stdbool.h>

typedef struct api_request {
    const char *method; /* as sent ("GET"); "" when absent */
    const char *path;   /* routing path, stage prefix removed, still percent-encoded */
    json_t *headers;    /* object: lower-case name → array of string values; owned */
    json_t *query;      /* object: name → array of string values; owned */
    const char *body;   /* decoded body bytes (may hold NULs); NULL when there is none */
    size_t body_len;
    bool body_bad_base64;   /* isBase64Encoded but the body does not decode */
    const char *request_id; /* API Gateway's request id, else Lambda's; never NULL */
} api_request;

typedef struct api_response {
    int status;
    json_t *headers; /* object: name → string, in insertion order; owned */
    buf body;        /* owned */
} api_response;

/* How many values header name (lower-case) has, and the first one (borrowed) in *value. */
size_t api_header(const api_request *r, const char *name, const char **value);

/* The same for a query parameter. */
size_t api_query(const api_request *r, const char *name, const char **value);

/* Empty response with status 0. UA_ERR_NOMEM when the header object cannot be made. */
UA_WARN_UNUSED ua_status api_response_init(api_response *r);
void api_response_free(api_response *r);

/* Sets (replaces) a header. Refuses (UA_ERR_INVALID) a name that is not an HTTP token or a
 * value holding a control character, so CR/LF can never reach a response header. */
UA_WARN_UNUSED ua_status api_response_set_header(api_response *r, const char *name,
                                                 const char *value);

#endif

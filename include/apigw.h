/* apigw.h — API Gateway proxy events (REST payload 1.0; HTTP API and function URL payload
 * 2.0) to an api_request, and an api_response back to the proxy answer of the same format.
 *
 * What the parser needs of an event, and nothing more: a JSON object that is either payload
 * 2.0 ("version": "2.0") or payload 1.0 (has an "httpMethod" key), whose members are, when
 * present, of the JSON type API Gateway sends them as: every top-level member of both formats,
 * and requestContext's requestId, stage, http, http.method and http.path (the table is in
 * apigw.c). null is such a type only for the maps, cookies and body, which API Gateway sends as
 * null when there are none. Any member may be missing: a missing method or path becomes "" (the
 * router then answers 404 or 405), a missing map an empty one. A value inside a map or cookies
 * that is not a string is ignored, and so is a string holding a NUL (which C strings would
 * silently cut) there or as the method, path or request id. */
#ifndef USERS_APIGW_H
#define USERS_APIGW_H

#include "api.h"
#include "buf.h"
#include "common.h"

typedef enum apigw_format {
    APIGW_V1 = 1, /* REST API proxy integration */
    APIGW_V2 = 2  /* HTTP API, Lambda function URL */
} apigw_format;

/* A parsed event: the request and what it borrows from. */
typedef struct apigw_event {
    apigw_format format;
    api_request req;
    json_t *root; /* the event document, owned; req's strings borrow from it */
    buf body;     /* decoded base64 body when there was one, owned */
    buf path;     /* the path when it had to be rebuilt (leading '/' added), owned */
    char lambda_request_id[UA_MAX_REQUEST_ID];
} apigw_event;

/* Parses an event of len bytes (not NUL-terminated). lambda_request_id (may be NULL) is used
 * when the event has no usable API Gateway request id. UA_ERR_INVALID when the document is
 * not a payload 1.0 or 2.0 proxy event, or a member has a type API Gateway never sends it as
 * (the caller answers with an invocation error), UA_ERR_TOO_BIG when len passes
 * UA_MAX_EVENT_BYTES, UA_ERR_NOMEM. On success free with apigw_event_free; on failure out holds
 * nothing (freeing it anyway is harmless). A body that is not valid base64 is not an error
 * here: req.body_bad_base64 is set and req.body is NULL.
 *
 * The request it fills in:
 *   method      v1 httpMethod, v2 requestContext.http.method; "" when absent.
 *   path        v1 path, v2 rawPath less a leading "/<stage>" (named stages only); a missing
 *               leading '/' is added; never percent-decoded.
 *   headers     names lower-cased. v1: multiValueHeaders wins for the names it has (it holds
 *               every value), headers fills in the rest. v2: headers (repeats arrive
 *               comma-joined as one value), plus "cookie" rebuilt from cookies[] when the
 *               event moved it there.
 *   query       names as sent. v1: multiValueQueryStringParameters, then
 *               queryStringParameters, as for headers. v2: rawQueryString, decoded here
 *               ('+' and %XX; a value that would decode to a NUL or to bad UTF-8 is kept
 *               as sent), so repeats stay apart; when rawQueryString is empty or absent,
 *               queryStringParameters (repeats comma-joined, left so).
 *   body        the body string, base64-decoded (strictly) when isBase64Encoded is true.
 *   request_id  requestContext.requestId when a non-empty string shorter than
 *               UA_MAX_REQUEST_ID, else lambda_request_id. */
UA_WARN_UNUSED ua_status apigw_parse(const char *event, size_t len, const char *lambda_request_id,
                                     apigw_event *out);
void apigw_event_free(apigw_event *ev);

/* Writes the proxy answer for resp in format into out (reset first): {"statusCode",
 * "headers", "body", "isBase64Encoded": false}, compact, in that order; the same four keys
 * serve both formats (every body this API sends is UTF-8 JSON, and it never repeats a header
 * or sets a cookie). Header values that are not strings are left out. UA_ERR_INVALID when the
 * status is outside 100..599 (API Gateway would turn it into a 502) or the body is not UTF-8,
 * UA_ERR_TOO_BIG when out's limit is passed (out is then left empty), UA_ERR_NOMEM. */
UA_WARN_UNUSED ua_status apigw_format_response(apigw_format format, const api_response *resp,
                                               buf *out);

#endif

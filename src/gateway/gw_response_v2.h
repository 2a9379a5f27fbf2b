/* gw_response_v2.h — what an HTTP API (Lambda proxy integration, payload format 2.0) sends
 * its client: the function's answer turned into HTTP, or the HTTP API's own error answers.
 *
 * The rules (AWS's "Lambda function response for format 2.0", and
 * ../shared/testdata/events/gateway-observed/dotnet-V2_*):
 *   - an answer that is valid JSON but no object, or an object without statusCode, is the
 *     body itself: 200, Content-Type application/json, the bytes as the function sent them.
 *   - an object with statusCode: statusCode an integer (or a string of digits) from 100 to
 *     599; headers an object of scalars (null is "none"); cookies an array of strings, each
 *     sent as one Set-Cookie header; body a string or null; isBase64Encoded a boolean or null
 *     (when true the body must be base64). Other keys, multiValueHeaders among them, are
 *     ignored: payload 2.0 has no multi-value headers (repeat a value with commas, or use
 *     cookies). Anything else is malformed: 500 {"message":"Internal Server Error"}.
 *   - Content-Type defaults to "text/plain; charset=utf-8" when the answer has a body and no
 *     Content-Type (a REST API would say application/json).
 *   - framing headers renamed x-amzn-Remapped-<name> as gw_response.c does for REST. */
#ifndef USERS_GW_RESPONSE_V2_H
#define USERS_GW_RESPONSE_V2_H

#include "gw_response.h"

#define GW_V2_DEFAULT_CONTENT_TYPE "text/plain; charset=utf-8"

/* Turns the function's answer (len bytes, not NUL-terminated) into out (reset first).
 * UA_OK when the HTTP API would pass it on; UA_ERR_INVALID when it would not, and out then
 * holds the HTTP API's 500 (*why, when why is not NULL, says what was wrong: a static string);
 * UA_ERR_NOMEM. */
UA_WARN_UNUSED ua_status gw_response_from_proxy_v2(const char *doc, size_t len,
                                                   gw_http_response *out, const char **why);

/* Fills out (reset first) with the HTTP API's own answer for f: 500 {"message":"Internal
 * Server Error"} (malformed answer, function error, crash, answer over 6 MB), 503
 * {"message":"Service Unavailable"} (integration timeout, shutting down), 413 {"message":
 * "Request Entity Too Large"}, 429 {"message":"Too Many Requests"}, 404 {"message":"Not
 * Found"} (no route). Never a problem document: HTTP APIs cannot customise these. */
UA_WARN_UNUSED ua_status gw_response_fault_v2(gw_fault f, gw_http_response *out);

#endif

/* gw_event_v2.h — one HTTP request as an HTTP API (Lambda proxy integration, payload format
 * 2.0) hands it to the function: the event `users-gateway --api http` posts to the bootstrap.
 *
 * The shape follows captures of deployed HTTP APIs (../shared/testdata/events/, the
 * files named v2 and gateway-observed/dotnet-V2_...): the same keys with the same JSON types.
 *   version, routeKey         "2.0"; the route of infra/openapi-http.yaml the request takes
 *                             (requestContext.routeKey too): "GET /users", "POST /users",
 *                             "GET|PUT|PATCH|DELETE /users/{userId}", else that path's
 *                             "ANY ..." route; any other path "ANY /" or "ANY /{proxy+}" (the
 *                             template's catch-alls, so the function answers them: 404).
 *   rawPath, http.path        the path with its percent-escapes decoded, except %2F, which
 *                             would change the path's segments (captures: "%20" arrives as a
 *                             space, "a%2Fb" stays). Kept as sent when decoding would give
 *                             bad UTF-8 or a NUL.
 *   rawQueryString            the query as sent, never decoded ("" when none).
 *   cookies                   the Cookie headers split at ';' and trimmed, in order; absent
 *                             when there are none. The Cookie header is not in headers.
 *   headers                   names lower-cased; repeated headers joined with ',' in order;
 *                             x-forwarded-for (appended to the client's), x-forwarded-port,
 *                             x-forwarded-proto and x-amzn-trace-id (when absent) added.
 *   queryStringParameters     decoded ('+' and %XX), repeated values joined with ','; absent
 *                             when the URL has no parameter.
 *   pathParameters            {"userId": ...} on /users/{userId}, {"proxy": the path less its
 *                             '/'} on the catch-all, percent-DECODED (HTTP APIs decode path
 *                             parameters; REST v1 does not); absent on /users and /.
 *   requestContext            accountId, apiId, domainName, domainPrefix, http {method, path,
 *                             protocol, sourceIp, userAgent}, requestId (the short id HTTP APIs
 *                             use, also sent back as Apigw-Requestid), routeKey, stage
 *                             "$default", time, timeEpoch.
 *   body, isBase64Encoded     absent/false when empty; text or base64 by gw_body_is_text.
 *   stageVariables            absent.
 * Header bytes that are not UTF-8 are read as Latin-1. */
#ifndef USERS_GW_EVENT_V2_H
#define USERS_GW_EVENT_V2_H

#include "common.h"
#include "gw_request.h"

#include <jansson.h>

#define GW_V2_STAGE       "$default"
#define GW_V2_ROUTE_PROXY "/{proxy+}"

/* Appends rawPath for the raw request path p[0..n) to out (see above). UA_ERR_TOO_BIG or
 * UA_ERR_NOMEM from out. */
UA_WARN_UNUSED ua_status gw_event_v2_raw_path(const char *p, size_t n, buf *out);

/* Builds the event; req->extended_request_id is the request id. *out is a new reference
 * (json_decref it). UA_ERR_INVALID when req lacks a method or a target that starts with '/',
 * UA_ERR_NOMEM. */
UA_WARN_UNUSED ua_status gw_event_v2_build(const gw_request *req, json_t **out);

#endif

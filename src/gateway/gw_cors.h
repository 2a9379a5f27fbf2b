/* gw_cors.h — CORS as an HTTP API with a CORS configuration does it (`users-gateway --api
 * http`): the gateway, not the function, answers preflights and sets the CORS headers.
 *
 * What is imitated (AWS, "Configure CORS for HTTP APIs"):
 *   - a preflight (OPTIONS with Origin and Access-Control-Request-Method) is answered 204 by
 *     the gateway, on any path, without calling the function;
 *   - every other answer loses the function's Access-Control-* headers (HTTP APIs ignore the
 *     integration's CORS headers) and, when the request's Origin is allowed, gets the
 *     configured ones;
 *   - an Origin that is not allowed, or no Origin at all, gets no CORS header.
 * The configuration is the one the deployed HTTP API gets: allowOrigins from ALLOWED_ORIGINS
 * (the same --allowed-origins setting the function reads: NULL, blank or "*" is any origin,
 * else a comma-separated list matched exactly), and the methods, headers, exposed headers and
 * max age below: infra/openapi-http.yaml's x-amazon-apigateway-cors (the function's preflight
 * values less X-Api-Key, which an HTTP API has no use for). */
#ifndef USERS_GW_CORS_H
#define USERS_GW_CORS_H

#include "common.h"
#include "cors.h"
#include "gw_response.h"

#include <stdbool.h>

#define GW_CORS_ALLOW_METHODS "GET, POST, PUT, PATCH, DELETE, OPTIONS"
#define GW_CORS_ALLOW_HEADERS                                                                      \
    "Content-Type, Authorization, X-Amz-Date, X-Amz-Security-Token, If-Match, Idempotency-Key"
#define GW_CORS_EXPOSE_HEADERS CORS_EXPOSE_HEADERS /* the function's own (include/cors.h) */
#define GW_CORS_MAX_AGE        "600"

/* The Access-Control-Allow-Origin value for a request's Origin (may be NULL): "*" when any
 * origin is allowed, origin itself when listed, else NULL (not allowed, or no Origin).
 * Borrowed (a literal or origin). */
const char *gw_cors_allow_origin(const char *allowed_origins, const char *origin);

/* Whether the gateway answers this request itself as a preflight. */
bool gw_cors_is_preflight(const char *method, const char *origin, const char *request_method);

/* Fills out (reset first) with the preflight answer: 204, no body, and when the origin is
 * allowed Access-Control-Allow-Origin, -Allow-Methods, -Allow-Headers and -Max-Age. */
UA_WARN_UNUSED ua_status gw_cors_preflight(const char *allowed_origins, const char *origin,
                                           gw_http_response *out);

/* Removes the function's Access-Control-* headers from out, then adds
 * Access-Control-Allow-Origin and -Expose-Headers when the origin is allowed. */
UA_WARN_UNUSED ua_status gw_cors_apply(const char *allowed_origins, const char *origin,
                                       gw_http_response *out);

#endif

/* gw_server.h — API Gateway's side of the local stack: HTTP on a port, each request turned
 * into a proxy event (gw_event), run by the pool (gw_pool), and its answer turned back into
 * HTTP (gw_response); one access-log line per request.
 *
 * libmicrohttpd in thread-per-connection mode: a request's thread blocks until its
 * invocation has an outcome. Bodies over GW_MAX_BODY (10 MB) are answered 413 as API Gateway
 * does, from the Content-Length alone when there is one; an event over Lambda's 6 MB request
 * limit is answered 413 too. Every answer carries x-amzn-RequestId (the event's
 * requestContext.requestId), x-amz-apigw-id (its extendedRequestId) and X-Amzn-Trace-Id
 * ("Root=..."; the event's X-Amzn-Trace-Id when the client sent none).
 *
 * With GW_API_HTTP it plays an HTTP API instead (payload 2.0, infra/openapi-http.yaml's routes,
 * CORS configured at the API): preflights are answered by the server (gw_cors.h), the function's
 * CORS headers are replaced, errors are the HTTP API's, and answers carry Apigw-Requestid (the
 * event's requestContext.requestId) instead of the REST ids.
 *
 * Tracing as API Gateway and Lambda do it with tracing on: each request gets a trace Root (the
 * client's, when its X-Amzn-Trace-Id carries one) and the bootstrap gets
 * Lambda-Runtime-Trace-Id "Root=...;Parent=<16 hex>;Sampled=1" (Sampled=0 when the server is
 * told not to sample, or the client's header says so). */
#ifndef USERS_GW_SERVER_H
#define USERS_GW_SERVER_H

#include "gw_docs.h"
#include "gw_pool.h"
#include "gw_trace.h"

#include <stdbool.h>

typedef struct gw_server gw_server;

/* Which API Gateway the server plays. */
typedef enum gw_api {
    GW_API_REST = 0, /* REST API, payload 1.0 (gw_event.c, gw_response.c) */
    GW_API_HTTP      /* HTTP API, payload 2.0 (gw_event_v2.c, gw_response_v2.c, gw_cors.c) */
} gw_api;

typedef struct gw_server_config {
    unsigned port;   /* the port the listening socket is bound to (for X-Forwarded-Port) */
    gw_pool *pool;   /* runs the invocations; borrowed, must outlive the server */
    bool sampled;    /* the sampling decision when the client's trace header makes none */
    gw_trace *trace; /* NULL, or the --trace console told of every invocation (borrowed) */
    gw_api api;      /* GW_API_REST unless told otherwise */
    const char *allowed_origins; /* GW_API_HTTP's CORS configuration (ALLOWED_ORIGINS; NULL:
                                    any origin); borrowed, must outlive the server */
    gw_docs *docs; /* NULL, or /openapi.json, /openapi.yaml and /docs (borrowed): gw_docs.h */
} gw_server_config;

/* Listens on fd (from gw_listen; the server owns it from now on) and serves as cfg says (cfg
 * is copied). NULL (logged) when the server cannot start; fd is closed then. */
gw_server *gw_server_start(int fd, const gw_server_config *cfg);

/* Stops accepting connections; requests in progress go on. */
void gw_server_quiesce(gw_server *s);

/* Closes every connection (after the pool has been stopped, none waits long) and frees. */
void gw_server_stop(gw_server *s);

#endif

/* gw_trace.h — the --trace console: what production's X-Ray and CloudWatch would show of each
 * invocation, printed readably on the gateway's stderr.
 *
 * It binds a UDP socket on 127.0.0.1 (the bootstraps' AWS_XRAY_DAEMON_ADDRESS) and receives
 * the subsegments the bootstraps send there; it reads each bootstrap's invocation log line
 * (handed over by gw_relay); and it groups both under the HTTP request they belong to, by
 * trace id (the log line also by request id). Once the request is answered and its log line
 * is in (or GW_TRACE_WAIT_MS have passed without one), one block is printed:
 *
 *   POST /users 201 CreateUser latency 4.1 ms ddb 3.2 ms retries 0 cold-start (trace 1-...)
 *     DynamoDB TransactWriteItems Users 3.0 ms status 200 retries 0
 *
 * A datagram that is not a daemon datagram is printed as malformed; one whose trace is not a
 * request of this gateway's, or that comes after its block, is printed on a line of its own.
 * Each block is one write(2), so blocks never interleave with each other or the JSON lines. */
#ifndef USERS_GW_TRACE_H
#define USERS_GW_TRACE_H

#include "gw_xray.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GW_TRACE_MAX_INVOCATIONS 1024u /* tracked at once; more go untracked */
#define GW_TRACE_SETTLE_MS       50    /* after the log line, for datagrams still in flight */
#define GW_TRACE_WAIT_MS         1000  /* for a log line that may never come */

typedef struct gw_trace gw_trace;

/* Binds 127.0.0.1:port (0: a free port; the one bound goes to *bound) and starts the thread.
 * NULL with a reason in err when the port cannot be had. */
gw_trace *gw_trace_start(unsigned port, unsigned *bound, char *err, size_t errlen);

/* What is known of a request when it is handed to the pool. Strings are borrowed. */
typedef struct gw_trace_request {
    const trace_context *ids;
    const char *method;
    const char *target; /* the raw request target */
    const char *api_request_id;
    const char *lambda_request_id;
} gw_trace_request;

/* Starts following a request; returns its handle for gw_trace_end, 0 when it goes untracked
 * (too many at once). Thread-safe; t may be NULL (then 0). */
uint64_t gw_trace_begin(gw_trace *t, const gw_trace_request *req);

/* The request was answered: the status the client got, how (gw_outcome_name), and how long
 * the gateway took. */
void gw_trace_end(gw_trace *t, uint64_t handle, unsigned status, const char *outcome,
                  double latency_ms);

/* One line of a bootstrap's stdout (a gw_relay_line_fn: ctx is the gw_trace). */
void gw_trace_on_line(void *ctx, const char *line, size_t len);

/* Prints every block still waiting, stops the thread, closes the socket and frees. NULL is a
 * no-op. */
void gw_trace_stop(gw_trace *t);

#endif

/* gw_pool.h — Lambda's side of the local stack: N unmodified bootstrap processes, each
 * serving one invocation at a time through the Lambda Runtime API, fed from one FIFO queue.
 *
 * Each bootstrap gets its own Runtime API listener on an ephemeral loopback port
 * (AWS_LAMBDA_RUNTIME_API=127.0.0.1:<port>), made afresh at every (re)spawn, so a request on
 * a listener always identifies one live process and nothing a killed process sent can touch
 * its successor. A listener serves:
 *   GET  /2018-06-01/runtime/invocation/next          blocks until an invocation is assigned;
 *        200 with the event and Lambda-Runtime-Aws-Request-Id, -Deadline-Ms (now + timeout),
 *        -Invoked-Function-Arn and -Trace-Id.
 *   POST /2018-06-01/runtime/invocation/{id}/response 202; 400 for an id that is not the one
 *        this process is running (unknown or answered); 413 over 6 MB (the client then gets
 *        502).
 *   POST /2018-06-01/runtime/invocation/{id}/error    202 (the client gets 502).
 *   POST /2018-06-01/runtime/init/error               202, logged; the process is killed and
 *        its start counts as failed.
 * A process that exits, or runs past its deadline, is killed (SIGKILL to its process group)
 * and replaced; its client gets 502 (died) or 504 (deadline). A start that fails (init error,
 * exit before the first /next, no /next within the init timeout) fails the oldest queued
 * invocation with 502, as Lambda fails the invoke that met a failed init, and the next start
 * waits 0.1 s, doubling up to 5 s. */
#ifndef USERS_GW_POOL_H
#define USERS_GW_POOL_H

#include "buf.h"
#include "common.h"
#include "gw_relay.h"

#include <stddef.h>

#define GW_MAX_INSTANCES       64u
#define GW_LAMBDA_MAX_RESPONSE ((size_t)6 * 1024 * 1024) /* synchronous response limit, bytes */
#define GW_LAMBDA_MAX_EVENT    ((size_t)6 * 1024 * 1024) /* synchronous request limit, bytes */

typedef struct gw_pool gw_pool;

typedef struct gw_pool_config {
    const char *bootstrap;    /* the executable, run without arguments */
    char *const *envp;        /* its environment, NULL-terminated; borrowed while the pool
                                 lives (AWS_LAMBDA_RUNTIME_API is added per process) */
    unsigned instances;       /* 1..GW_MAX_INSTANCES */
    unsigned timeout_s;       /* the function timeout: invocation deadline and queue wait */
    unsigned init_timeout_s;  /* a start must reach /next within this */
    unsigned queue_max;       /* invocations waiting beyond this are refused */
    const char *function_arn; /* Lambda-Runtime-Invoked-Function-Arn */
    gw_relay *relay;          /* NULL: the bootstraps write to the gateway's stdout; else
                                 each writes to a pipe handed to the relay (borrowed) */
} gw_pool_config;

typedef enum gw_outcome {
    GW_OUT_RESPONSE,       /* the function answered: response holds its document */
    GW_OUT_FUNCTION_ERROR, /* it posted /error, or asked for the next event without answering */
    GW_OUT_TOO_LARGE,      /* its answer was over GW_LAMBDA_MAX_RESPONSE */
    GW_OUT_DIED,           /* the process exited while running it */
    GW_OUT_TIMEOUT,        /* deadline passed (the process was killed), or queued too long */
    GW_OUT_INIT_FAILED,    /* a bootstrap failed to start while it waited */
    GW_OUT_THROTTLED,      /* the queue was full */
    GW_OUT_SHUTDOWN        /* the gateway is stopping */
} gw_outcome;

/* Short name for logs: "response", "function-error", ... */
const char *gw_outcome_name(gw_outcome o);

typedef struct gw_invocation {
    const char *event; /* in: the event document, borrowed for the call */
    size_t event_len;
    const char *trace_id; /* in: Lambda-Runtime-Trace-Id */
    gw_outcome outcome;   /* out */
    buf response;         /* out: initialised by gw_pool_invoke; the caller frees it */
    int instance;         /* out: the bootstrap that ran it, -1 when none did */
    char request_id[40];  /* in/out: the Lambda request id; made (a UUID) when the caller left
                             it "", and "" when no invocation was queued */
} gw_invocation;

/* Starts the supervisor, which spawns the bootstraps. NULL (logged) when threads cannot be
 * made. cfg and what it points to must outlive the pool. */
gw_pool *gw_pool_start(const gw_pool_config *cfg);

/* Runs one invocation: queues it and blocks until it has an outcome. Thread-safe. */
void gw_pool_invoke(gw_pool *p, gw_invocation *inv);

/* The pids of the bootstraps running now; returns how many were written (at most max). */
size_t gw_pool_pids(gw_pool *p, long *pids, size_t max);

/* Stops: queued invocations end with GW_OUT_SHUTDOWN, running ones when their process is
 * gone; bootstraps get SIGTERM, then SIGKILL after a short grace; listeners close. Later
 * gw_pool_invoke calls return GW_OUT_SHUTDOWN at once. Idempotent. */
void gw_pool_stop(gw_pool *p);

/* Frees a stopped pool (stops it first if needed). */
void gw_pool_free(gw_pool *p);

#endif

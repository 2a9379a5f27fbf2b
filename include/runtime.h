/* runtime.h — the Lambda Runtime API client: next invocation, response, errors.
 *
 * Knows nothing of routes or DynamoDB: it moves event and answer bytes between Lambda (or
 * the local stack, or a test harness) and the process. */
#ifndef USERS_RUNTIME_H
#define USERS_RUNTIME_H

#include "buf.h"
#include "common.h"

#include <stdint.h>

typedef struct rt_client rt_client;

/* Longest Lambda-Runtime-Trace-Id kept, with its NUL; a longer one is dropped. */
#define RT_MAX_TRACE_ID 512u

typedef struct rt_invocation {
    char request_id[UA_MAX_REQUEST_ID]; /* Lambda-Runtime-Aws-Request-Id */
    int64_t deadline_ms;                /* Lambda-Runtime-Deadline-Ms, epoch ms (0 if absent) */
    char trace_id[RT_MAX_TRACE_ID];     /* Lambda-Runtime-Trace-Id, "" if absent */
    buf event;                          /* the event document; owned, reused across calls */
} rt_invocation;

/* api is AWS_LAMBDA_RUNTIME_API ("host:port"). NULL on out of memory. */
UA_WARN_UNUSED rt_client *rt_client_new(const char *api);
void rt_client_free(rt_client *c);

void rt_invocation_init(rt_invocation *inv);
void rt_invocation_free(rt_invocation *inv);

/* Waits for the next invocation. Sets _X_AMZN_TRACE_ID from the trace header (unsets it when
 * absent). UA_ERR_IO when the Runtime API cannot be reached or answers other than 200, and
 * UA_ERR_INVALID when the answer lacks a request id: Lambda then replaces the environment.
 * UA_ERR_TOO_BIG when the event passes UA_MAX_EVENT_BYTES: request_id is set, so the caller
 * can answer the invocation with an error and go on. */
UA_WARN_UNUSED ua_status rt_next(rt_client *c, rt_invocation *inv);

/* POSTs the answer to .../invocation/{id}/response. */
UA_WARN_UNUSED ua_status rt_respond(rt_client *c, const char *request_id, const char *body,
                                    size_t len);

/* POSTs {"errorMessage","errorType"} to .../invocation/{id}/error with the
 * Lambda-Runtime-Function-Error-Type header. */
UA_WARN_UNUSED ua_status rt_fail(rt_client *c, const char *request_id, const char *error_type,
                                 const char *message);

/* POSTs the same document to /runtime/init/error. */
UA_WARN_UNUSED ua_status rt_init_error(rt_client *c, const char *error_type, const char *message);

#endif

/* log.h — structured logs: one JSON object per line on stdout, as Lambda's JSON log format
 * expects. User data is JSON-escaped; no body or email is logged at INFO; credentials never. */
#ifndef USERS_LOG_H
#define USERS_LOG_H

#include "common.h"
#include "emf.h"

#include <stdbool.h>

#include <stdint.h>

typedef enum log_level {
    LOG_LEVEL_DEBUG = 0,
    LOG_LEVEL_INFO,
    LOG_LEVEL_WARN,
    LOG_LEVEL_ERROR
} log_level;

/* Reads LOG_LEVEL, else AWS_LAMBDA_LOG_LEVEL (DEBUG, INFO, WARN, ERROR; default INFO). */
void log_init_from_env(void);
void log_set_level(log_level level);
log_level log_get_level(void);

/* Where lines go (a file descriptor; 1 by default). Tests point it at a pipe or file. */
void log_set_fd(int fd);

/* One line {"timestamp","level","requestId","message"} when level is enabled. request_id may
 * be NULL. */
void log_message(log_level level, const char *request_id, const char *fmt, ...) UA_PRINTF(3, 4);

/* The line written once per invocation: what happened, who asked (the API's request id and
 * Lambda's), the trace, and the invocation's metrics (emf.h) when metrics is set. */
typedef struct log_invocation {
    const char *request_id;       /* the API's (requestContext.requestId) */
    const char *aws_request_id;   /* Lambda's (Lambda-Runtime-Aws-Request-Id) */
    const char *trace_id;         /* the trace's Root, NULL or "" when none */
    bool cold_start;              /* the process's first invocation */
    const char *function_name;    /* AWS_LAMBDA_FUNCTION_NAME, NULL when unset */
    const char *function_version; /* AWS_LAMBDA_FUNCTION_VERSION, NULL when unset */
    const char *method;
    const char *route; /* route template, NULL when unrouted */
    int status;
    double duration_ms;
    unsigned ddb_attempts;
    const char *ddb_error;            /* DynamoDB error type, NULL or "" when none */
    const char *code;                 /* problem code, NULL when the answer is a success */
    const emf_config *metrics_config; /* with metrics: the EMF members; NULL for none */
    const emf_values *metrics;
} log_invocation;

/* Writes the invocation's line: at ERROR for a 5xx, else INFO. A line that carries metrics is
 * written whatever the level (it is the metrics' only record); without, the level decides. */
void log_invocation_line(const log_invocation *f);

#endif

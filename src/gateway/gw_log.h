/* gw_log.h — the local gateway's own log lines on stderr: one JSON object per line, each
 * written with a single write(2) so lines from many threads (and the bootstraps, which share
 * the terminal) never interleave mid-line. */
#ifndef USERS_GW_LOG_H
#define USERS_GW_LOG_H

#include "common.h"

/* {"time","level","source":"gateway","message"} */
void gw_log(const char *level, const char *fmt, ...) UA_PRINTF(2, 3);

/* The access log: one line per HTTP request. */
typedef struct gw_access {
    const char *request_id;        /* API Gateway request id */
    const char *lambda_request_id; /* "" when no function ran */
    const char *method;
    const char *path;
    unsigned status;
    double latency_ms;
    int instance;        /* which bootstrap served it, -1 for none */
    const char *outcome; /* "response", "timeout", "function-error", ... */
    const char *detail;  /* why the gateway answered itself, or NULL */
} gw_access;

void gw_log_access(const gw_access *a);

#endif

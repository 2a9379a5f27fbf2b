/* gw_invlog.h — the bootstrap's per-invocation log line ("message":"invocation"), read for the
 * local console: its ids, its metrics (the EMF members when it has them, else the older
 * durationMs and ddbAttempts), and whether its EMF document keeps the specification's rules.
 *
 * Every field is optional: a line from an older bootstrap, or one that lacks a member, reads
 * as far as it goes. */
#ifndef USERS_GW_INVLOG_H
#define USERS_GW_INVLOG_H

#include "buf.h"
#include "common.h"

#include <stdbool.h>
#include <stddef.h>

#define GW_INVLOG_MAX_FIELD   128u
#define GW_INVLOG_MAX_PROBLEM 160u

typedef struct gw_invlog {
    char trace_id[GW_INVLOG_MAX_FIELD];       /* traceId: the Root */
    char aws_request_id[GW_INVLOG_MAX_FIELD]; /* awsRequestId: Lambda's request id */
    char request_id[GW_INVLOG_MAX_FIELD];     /* requestId */
    char method[GW_INVLOG_MAX_FIELD];
    char route[GW_INVLOG_MAX_FIELD];
    char operation[GW_INVLOG_MAX_FIELD]; /* Operation (the EMF dimension) */
    char code[GW_INVLOG_MAX_FIELD];      /* the problem code of an error answer */
    char ddb_error[GW_INVLOG_MAX_FIELD];
    long status;       /* -1 when absent */
    double latency_ms; /* Latency, else durationMs; -1 when neither */
    double ddb_ms;     /* DynamoDBLatency; -1 when absent */
    long retries;      /* DynamoDBRetries, else ddbAttempts less one; -1 when unknown */
    long attempts;     /* ddbAttempts; -1 when absent */
    bool cold_start;   /* coldStart true, or a ColdStart metric */
    bool has_emf;      /* an _aws member */
    char emf_problem[GW_INVLOG_MAX_PROBLEM]; /* the first EMF rule broken, "" when none */
} gw_invlog;

/* Reads one stdout line (len bytes, no newline needed). UA_ERR_INVALID when it is not a JSON
 * object with "message":"invocation". */
UA_WARN_UNUSED ua_status gw_invlog_parse(const char *line, size_t len, gw_invlog *out);

/* Appends the metrics as one readable fragment, without method, path or status, e.g.
 * "CreateUser latency 4.1 ms ddb 3.2 ms retries 0 cold-start". */
UA_WARN_UNUSED ua_status gw_invlog_format(const gw_invlog *l, buf *out);

#endif

/* gw_xray.h — X-Ray as the local stack plays it: the trace ids Lambda hands a traced function,
 * and the X-Ray daemon's UDP datagrams read and printed for a person.
 *
 * A trace id is "1-<8 hex: epoch seconds>-<24 hex: random>", a segment id 16 hex digits. A
 * daemon datagram is the header line {"format": "json", "version": 1}, a newline, and one
 * segment document; the bootstrap sends one subsegment per DynamoDB call. Everything read here
 * is untrusted: (pointer, length) views, never assumed NUL-terminated. */
#ifndef USERS_GW_XRAY_H
#define USERS_GW_XRAY_H

#include "buf.h"
#include "common.h"
#include "trace.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GW_XRAY_MAX_DATAGRAM 65536u
#define GW_XRAY_MAX_HEADER   1024u /* the Lambda-Runtime-Trace-Id we make, with room */
#define GW_XRAY_MAX_FIELD    128u  /* any one string kept from a datagram, NUL included */
#define GW_XRAY_MAX_PROBLEM  160u

/* Ids for a new invocation, as API Gateway with tracing on and Lambda make them: when client
 * (the request's X-Amzn-Trace-Id, may be NULL) carries a well-formed Root, the trace goes on
 * under it, and its Sampled=0 or Sampled=1 is honoured; otherwise a new Root dated epoch_s.
 * sampled is the decision when the client made none. The Parent is always new. The
 * Lambda-Runtime-Trace-Id the bootstrap gets is trace_format(out, out->parent, ...). */
void gw_xray_new_ids(int64_t epoch_s, bool sampled, const char *client, size_t client_len,
                     trace_context *out);

/* One subsegment from a datagram, as far as it could be read. Strings are "" when absent,
 * numbers -1 (times: has_times false). */
typedef struct gw_xray_call {
    char name[GW_XRAY_MAX_FIELD];
    char trace_id[GW_XRAY_MAX_FIELD];
    char parent_id[GW_XRAY_MAX_FIELD];
    char operation[GW_XRAY_MAX_FIELD]; /* aws.operation */
    char table[GW_XRAY_MAX_FIELD];     /* aws.table_name, or aws.table_names joined by "," */
    double start_time, end_time;       /* epoch seconds */
    bool has_times;
    bool in_progress;
    long status;  /* http.response.status */
    long retries; /* aws.retries */
    bool error, throttle, fault;
    char problem[GW_XRAY_MAX_PROBLEM]; /* the first thing X-Ray would refuse, "" when none */
} gw_xray_call;

/* Reads one datagram. UA_ERR_INVALID when it is not a daemon datagram at all (no header line,
 * a header other than {"format": "json", "version": 1}, or a document that is not a JSON
 * object): why (whylen bytes) then says which. A document that is an object but not a valid
 * subsegment is UA_OK with out->problem set. */
UA_WARN_UNUSED ua_status gw_xray_parse(const char *data, size_t len, gw_xray_call *out, char *why,
                                       size_t whylen);

/* Appends the call as one line without its newline, e.g.
 * "DynamoDB TransactWriteItems Users 12.3 ms status 200 retries 0 [throttle]". */
UA_WARN_UNUSED ua_status gw_xray_format(const gw_xray_call *c, buf *out);

#endif

/* ddb_observe.h — watches the DynamoDB calls of an invocation: how long they took and how
 * many attempts they made (the invocation's metrics), and, when the invocation is traced, one
 * X-Ray subsegment per call with the trace passed on to DynamoDB.
 *
 * A ddb_port in front of another: the operations call it as they would the client, and know
 * nothing of metrics or traces. main.c begins each invocation with its trace and reads the
 * totals when the answer is sent. */
#ifndef USERS_DDB_OBSERVE_H
#define USERS_DDB_OBSERVE_H

#include "buf.h"
#include "ddb.h"
#include "trace.h"
#include "xray.h"

#include <stdint.h>

/* What an invocation's DynamoDB calls added up to. */
typedef struct ddb_observed {
    unsigned calls;    /* calls made (each may have made several attempts) */
    unsigned attempts; /* HTTP requests sent */
    unsigned retries;  /* attempts beyond each call's first (a call that sent none adds 0) */
    int64_t busy_us;   /* time spent in the calls, retries and pauses included */
} ddb_observed;

typedef struct ddb_observer {
    ddb_port inner;      /* where calls go */
    ddb_client *client;  /* the client behind inner, for the trace header; NULL for none */
    xray_daemon *daemon; /* borrowed; NULL: no subsegments are sent */
    const char *region;  /* borrowed, for the subsegments */
    trace_context trace; /* this invocation's */
    ddb_observed totals; /* this invocation's */
    buf datagram;        /* reused across calls */
} ddb_observer;

/* Sets o up in front of inner (client may be NULL when inner is not a ddb_client: then no
 * trace header is sent). daemon and region are borrowed for o's lifetime. */
void ddb_observer_init(ddb_observer *o, ddb_port inner, ddb_client *client, xray_daemon *daemon,
                       const char *region);
void ddb_observer_free(ddb_observer *o);

/* Starts an invocation: its trace (copied) and zero totals. */
void ddb_observer_begin(ddb_observer *o, const trace_context *trace);

/* The port the operations use. */
ddb_port ddb_observer_port(ddb_observer *o);

#endif

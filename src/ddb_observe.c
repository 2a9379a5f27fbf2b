/* ddb_observe.c — timing, counting and tracing each DynamoDB call (see ddb_observe.h). */
#include "ddb_observe.h"

#include "clock.h"

#include <string.h>

/* The tables a request names: TableName, or each TransactItems entry's. */
#define MAX_TABLES 4u

void ddb_observer_init(ddb_observer *o, ddb_port inner, ddb_client *client, xray_daemon *daemon,
                       const char *region) {
    memset(o, 0, sizeof *o);
    o->inner = inner;
    o->client = client;
    o->daemon = daemon;
    o->region = region;
    buf_init(&o->datagram, XRAY_MAX_DATAGRAM);
}

void ddb_observer_free(ddb_observer *o) {
    buf_free(&o->datagram);
}

void ddb_observer_begin(ddb_observer *o, const trace_context *trace) {
    o->trace = *trace;
    memset(&o->totals, 0, sizeof o->totals);
}

/* The distinct table names of request (borrowed from it) into names; returns how many. */
static size_t tables_of(const json_t *request, const char *names[MAX_TABLES]) {
    size_t n = 0;
    const char *one = json_string_value(json_object_get(request, "TableName"));
    if (one) {
        names[n++] = one;
        return n;
    }
    size_t i;
    const json_t *entry;
    json_array_foreach(json_object_get(request, "TransactItems"), i, entry) {
        const char *key;
        const json_t *action;
        json_object_foreach((json_t *)entry, key, action) {
            const char *t = json_string_value(json_object_get(action, "TableName"));
            bool seen = !t;
            for (size_t k = 0; k < n && !seen; k++)
                seen = strcmp(names[k], t) == 0;
            if (!seen && n < MAX_TABLES)
                names[n++] = t;
        }
    }
    return n;
}

/* Throttling as DynamoDB says it: a 400 with one of these types, or a 429. */
static bool throttled(const ddb_reply *r) {
    return r->http_status == 429 || strcmp(r->error_type, "ThrottlingException") == 0 ||
           strcmp(r->error_type, "ProvisionedThroughputExceededException") == 0 ||
           strcmp(r->error_type, "RequestLimitExceeded") == 0;
}

/* Sends the subsegment of one finished call; a datagram that cannot be built or sent is
 * dropped: tracing never changes an answer. */
static void send_subsegment(ddb_observer *o, const char *id, ddb_op op, const json_t *request,
                            int64_t start_us, int64_t end_us, const ddb_reply *r) {
    const char *names[MAX_TABLES];
    size_t n = tables_of(request, names);
    bool throttle = throttled(r);
    xray_subsegment s = {.trace_id = o->trace.root,
                         .parent_id = o->trace.parent,
                         .start_us = start_us,
                         .end_us = end_us,
                         .operation = ddb_op_name(op),
                         .table_names = names,
                         .n_tables = n,
                         .region = o->region,
                         .retries = r->attempts > 0 ? r->attempts - 1 : 0,
                         .request_id = r->request_id,
                         .http_status = r->http_status,
                         .error = throttle || (r->http_status >= 400 && r->http_status < 500),
                         .throttle = throttle,
                         .fault = r->http_status >= 500 || r->http_status == 0};
    memcpy(s.id, id, sizeof s.id);
    if (xray_format_subsegment(&s, &o->datagram) == UA_OK)
        (void)xray_daemon_send(o->daemon, buf_str(&o->datagram), o->datagram.len);
}

static ddb_status observed_call(void *ctx, ddb_op op, const json_t *request, int64_t deadline_ms,
                                ddb_reply *reply) {
    ddb_observer *o = ctx;
    char id[TRACE_ID_LEN + 1] = "";
    bool record = o->daemon && trace_records(&o->trace);
    if (record)
        xray_new_id(id);
    char header[TRACE_HEADER_MAX];
    if (o->client && trace_format(&o->trace, record ? id : o->trace.parent, header))
        ddb_client_set_trace_header(o->client, header);

    int64_t start_us = ua_wall_us(), t0 = ua_monotonic_us();
    ddb_status st = o->inner.call(o->inner.ctx, op, request, deadline_ms, reply);
    int64_t t1 = ua_monotonic_us();

    if (o->client)
        ddb_client_set_trace_header(o->client, NULL);
    o->totals.calls++;
    o->totals.attempts += reply->attempts;
    o->totals.retries += reply->attempts > 0 ? reply->attempts - 1 : 0;
    o->totals.busy_us += t1 - t0;
    if (record)
        send_subsegment(o, id, op, request, start_us, start_us + (t1 - t0), reply);
    return st;
}

ddb_port ddb_observer_port(ddb_observer *o) {
    return (ddb_port){.call = observed_call, .ctx = o};
}

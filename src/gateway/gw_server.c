/* gw_server.c — HTTP in, proxy event through the pool, HTTP out (see gw_server.h). */
#include "gw_server.h"

#include "clock.h"
#include "gw_cors.h"
#include "gw_event.h"
#include "gw_event_v2.h"
#include "gw_log.h"
#include "gw_response.h"
#include "gw_response_v2.h"
#include "gw_sys.h"
#include "gw_xray.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define CONNECTION_TIMEOUT_S 120u /* idle keep-alive connections are closed after this */

struct gw_server {
    struct MHD_Daemon *daemon;
    gw_server_config cfg;
    bool quiesced;
};

/* One HTTP request: made by the URI logger (the only place MHD shows the raw target). */
typedef struct http_req {
    char *target;
    size_t target_len;
    buf body;
    bool started;
    bool too_big;
    int64_t t0_us; /* monotonic */
    int64_t t0_epoch;
} http_req;

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c) {
    (void)cls;
    (void)c;
    http_req *rq = calloc(1, sizeof *rq);
    if (!rq)
        return NULL;
    rq->target_len = strlen(uri);
    rq->target = strdup(uri);
    if (!rq->target) {
        free(rq);
        return NULL;
    }
    buf_init(&rq->body, GW_MAX_BODY);
    rq->t0_us = ua_monotonic_us();
    rq->t0_epoch = ua_wall_ms();
    return rq;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **state,
                         enum MHD_RequestTerminationCode why) {
    (void)cls;
    (void)c;
    (void)why;
    http_req *rq = *state;
    if (rq) {
        buf_free(&rq->body);
        free(rq->target);
        free(rq);
        *state = NULL;
    }
}

/* Header lines as received, collected for the event. */
typedef struct header_list {
    gw_kv items[GW_MAX_HEADERS];
    size_t n;
} header_list;

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                      size_t key_size, const char *value, size_t value_size) {
    (void)kind;
    header_list *h = cls;
    if (h->n >= GW_MAX_HEADERS)
        return MHD_NO;
    h->items[h->n++] = (gw_kv){key, key_size, value ? value : "", value ? value_size : 0};
    return MHD_YES;
}

static void client_ip(struct MHD_Connection *c, char *out, size_t n) {
    snprintf(out, n, "127.0.0.1");
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (!ci || !ci->client_addr)
        return;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out,
                  (socklen_t)n);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, out,
                  (socklen_t)n);
}

/* Sends resp, with the ids API Gateway adds to every answer: a REST API's three, or an HTTP
 * API's Apigw-Requestid (its request id is what REST calls the extended one). */
static enum MHD_Result send_response(struct MHD_Connection *c, gw_api api,
                                     const gw_http_response *resp, const char *request_id,
                                     const char *ext_id, const char *trace_root) {
    struct MHD_Response *r = MHD_create_response_from_buffer(
        resp->body.len, resp->body.data ? resp->body.data : (void *)"", MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    for (size_t i = 0; i < resp->nheaders; i++) {
        if (MHD_add_response_header(r, resp->headers[i].name, resp->headers[i].value) != MHD_YES)
            gw_log("WARN", "header %s could not be sent", resp->headers[i].name);
    }
    if (api == GW_API_HTTP) {
        (void)MHD_add_response_header(r, "Apigw-Requestid", ext_id);
    } else {
        (void)MHD_add_response_header(r, "x-amzn-RequestId", request_id);
        (void)MHD_add_response_header(r, "x-amz-apigw-id", ext_id);
        (void)MHD_add_response_header(r, "X-Amzn-Trace-Id", trace_root);
    }
    enum MHD_Result ok = MHD_queue_response(c, resp->status, r);
    MHD_destroy_response(r);
    return ok;
}

/* The answer for an outcome other than a well-formed function response. */
static gw_fault fault_for(gw_outcome o) {
    switch (o) {
        case GW_OUT_TIMEOUT:
            return GW_FAULT_TIMEOUT;
        case GW_OUT_THROTTLED:
            return GW_FAULT_THROTTLED;
        case GW_OUT_SHUTDOWN:
            return GW_FAULT_UNAVAILABLE;
        default:
            return GW_FAULT_INTERNAL;
    }
}

/* API Gateway's own answer for f, as the API type words it. */
static ua_status api_fault(const gw_server *s, gw_fault f, gw_http_response *out) {
    return s->cfg.api == GW_API_HTTP ? gw_response_fault_v2(f, out) : gw_response_fault(f, out);
}

/* The proxy event for req in the API type's payload format. */
static ua_status build_event(const gw_server *s, const gw_request *req, json_t **event) {
    return s->cfg.api == GW_API_HTTP ? gw_event_v2_build(req, event) : gw_event_build(req, event);
}

/* The function's answer read as the API type reads it. */
static ua_status from_proxy(const gw_server *s, const buf *answer, gw_http_response *out,
                            const char **why) {
    const char *doc = answer->data ? answer->data : "";
    return s->cfg.api == GW_API_HTTP ? gw_response_from_proxy_v2(doc, answer->len, out, why)
                                     : gw_response_from_proxy(doc, answer->len, out, why);
}

/* Runs one complete request: event, invocation, answer, access log. */
static enum MHD_Result serve(gw_server *s, struct MHD_Connection *c, const char *method,
                             const char *version, http_req *rq) {
    char request_id[40], ext_id[17], trace_root[48], lambda_trace[GW_XRAY_MAX_HEADER], ip[64];
    gw_uuid(request_id);
    gw_extended_id(ext_id);
    trace_context ids;
    const char *client_trace = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Amzn-Trace-Id");
    gw_xray_new_ids(rq->t0_epoch / 1000, s->cfg.sampled, client_trace,
                    client_trace ? strlen(client_trace) : 0, &ids);
    snprintf(trace_root, sizeof trace_root, "Root=%s", ids.root);
    (void)trace_format(&ids, ids.parent, lambda_trace);
    client_ip(c, ip, sizeof ip);

    const bool http_api = s->cfg.api == GW_API_HTTP;
    const char *origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");
    const bool preflight =
        http_api && !rq->too_big &&
        gw_cors_is_preflight(
            method, origin,
            MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Access-Control-Request-Method"));
    gw_access log = {.request_id = http_api ? ext_id : request_id,
                     .lambda_request_id = "",
                     .method = method,
                     .path = rq->target,
                     .instance = -1,
                     .outcome = "gateway",
                     .detail = NULL};
    gw_http_response resp;
    gw_http_response_init(&resp);
    gw_invocation inv;
    memset(&inv, 0, sizeof inv);
    buf_init(&inv.response, 0);
    ua_status st = UA_OK;
    uint64_t traced = 0; /* the --trace console's handle, 0 when it does not follow this one */

    if (rq->too_big) {
        st = api_fault(s, GW_FAULT_TOO_LONG, &resp);
        log.detail = "request body over 10 MB";
    } else if (preflight) {
        st = gw_cors_preflight(s->cfg.allowed_origins, origin, &resp);
        log.detail = "CORS preflight answered by the HTTP API";
    } else {
        header_list *headers = calloc(1, sizeof *headers);
        json_t *event = NULL;
        if (headers)
            (void)MHD_get_connection_values_n(c, MHD_HEADER_KIND, collect_header, headers);
        gw_request req = {.method = method,
                          .target = rq->target,
                          .target_len = rq->target_len,
                          .protocol = version && *version ? version : "HTTP/1.1",
                          .headers = headers ? headers->items : NULL,
                          .nheaders = headers ? headers->n : 0,
                          .body = rq->body.data,
                          .body_len = rq->body.len,
                          .source_ip = ip,
                          .port = s->cfg.port,
                          .request_id = request_id,
                          .extended_request_id = ext_id,
                          .trace_id = trace_root,
                          .time_ms = rq->t0_epoch};
        char *doc = NULL;
        ua_status built = headers ? build_event(s, &req, &event) : UA_ERR_NOMEM;
        if (built == UA_OK)
            doc = json_dumps(event, JSON_COMPACT);
        json_decref(event);
        free(headers);
        if (built == UA_ERR_NOT_FOUND) {
            st = api_fault(s, GW_FAULT_NOT_FOUND, &resp);
            log.detail = "no route matches the path";
        } else if (!doc) {
            st = api_fault(s, GW_FAULT_INTERNAL, &resp);
            log.detail = "the event could not be built";
        } else if (strlen(doc) > GW_LAMBDA_MAX_EVENT) {
            st = api_fault(s, GW_FAULT_TOO_LONG, &resp);
            log.detail = "event over Lambda's 6 MB request limit";
        } else {
            inv.event = doc;
            inv.event_len = strlen(doc);
            inv.trace_id = lambda_trace;
            buf_free(&inv.response);
            gw_uuid(inv.request_id);
            gw_trace_request treq = {.ids = &ids,
                                     .method = method,
                                     .target = rq->target,
                                     .api_request_id = log.request_id,
                                     .lambda_request_id = inv.request_id};
            traced = gw_trace_begin(s->cfg.trace, &treq);
            gw_pool_invoke(s->cfg.pool, &inv);
            log.lambda_request_id = inv.request_id;
            log.instance = inv.instance;
            log.outcome = gw_outcome_name(inv.outcome);
            if (inv.outcome == GW_OUT_RESPONSE) {
                st = from_proxy(s, &inv.response, &resp, &log.detail);
                if (st == UA_ERR_INVALID) {
                    gw_log("WARN",
                           "Execution failed due to configuration error: Malformed Lambda "
                           "proxy response (%s)",
                           log.detail);
                    st = UA_OK;
                }
                if (st == UA_OK && resp.status < 200) {
                    log.detail = "1xx status codes cannot end an HTTP exchange";
                    st = api_fault(s, GW_FAULT_INTERNAL, &resp);
                }
            } else {
                st = api_fault(s, fault_for(inv.outcome), &resp);
            }
        }
        free(doc);
    }
    if (st == UA_OK && http_api && !preflight)
        st = gw_cors_apply(s->cfg.allowed_origins, origin, &resp);
    if (st != UA_OK) {
        log.detail = "out of memory";
        gw_http_response_free(&resp);
        gw_http_response_init(&resp);
        resp.status = 500;
    }
    enum MHD_Result ok = send_response(c, s->cfg.api, &resp, request_id, ext_id, trace_root);
    log.status = resp.status;
    log.latency_ms = (double)(ua_monotonic_us() - rq->t0_us) / 1000.0;
    gw_log_access(&log);
    gw_trace_end(s->cfg.trace, traced, resp.status, log.outcome, log.latency_ms);
    gw_http_response_free(&resp);
    buf_free(&inv.response);
    return ok;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
                               const char *method, const char *version, const char *upload_data,
                               size_t *upload_size, void **state) {
    (void)url; /* already unescaped by MHD: the raw target comes from on_uri */
    gw_server *s = cls;
    http_req *rq = *state;
    if (!rq) {
        static const char oom[] = "{\"message\":\"Internal server error\"}";
        struct MHD_Response *r =
            MHD_create_response_from_buffer(sizeof oom - 1, (void *)oom, MHD_RESPMEM_PERSISTENT);
        if (!r)
            return MHD_NO;
        enum MHD_Result ok = MHD_queue_response(c, 500, r);
        MHD_destroy_response(r);
        return ok;
    }
    if (!rq->started) {
        rq->started = true;
        /* The gateway's own pages (gw_docs.h) never become events. */
        int docs = gw_docs_serve(s->cfg.docs, c, method, rq->target, rq->target_len);
        if (docs != 0)
            return docs > 0 ? MHD_YES : MHD_NO;
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
        if (cl && strtoull(cl, NULL, 10) > GW_MAX_BODY) {
            rq->too_big = true;
            /* A client that waits for "100 Continue" learns it at once and sends nothing;
             * any other is read to the end (and the bytes dropped), so it sees the 413
             * instead of a connection reset in the middle of its upload. */
            const char *expect = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Expect");
            if (expect && strcasecmp(expect, "100-continue") == 0)
                return serve(s, c, method, version, rq);
        }
        return MHD_YES;
    }
    if (*upload_size) {
        if (!rq->too_big && buf_append(&rq->body, upload_data, *upload_size) != UA_OK)
            rq->too_big = true;
        *upload_size = 0;
        return MHD_YES;
    }
    return serve(s, c, method, version, rq);
}

gw_server *gw_server_start(int fd, const gw_server_config *cfg) {
    gw_server *s = calloc(1, sizeof *s);
    if (!s) {
        close(fd);
        return NULL;
    }
    s->cfg = *cfg;
    s->daemon = MHD_start_daemon(
        MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC |
            MHD_USE_ERROR_LOG,
        0, NULL, NULL, handler, s, MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_URI_LOG_CALLBACK,
        on_uri, NULL, MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
        MHD_OPTION_CONNECTION_TIMEOUT, CONNECTION_TIMEOUT_S, MHD_OPTION_END);
    if (!s->daemon) {
        gw_log("ERROR", "cannot start the HTTP server on port %u", cfg->port);
        close(fd);
        free(s);
        return NULL;
    }
    return s;
}

void gw_server_quiesce(gw_server *s) {
    if (s && !s->quiesced) {
        MHD_socket fd = MHD_quiesce_daemon(s->daemon);
        if (fd != MHD_INVALID_SOCKET)
            close(fd);
        s->quiesced = true;
    }
}

void gw_server_stop(gw_server *s) {
    if (!s)
        return;
    MHD_stop_daemon(s->daemon);
    free(s);
}

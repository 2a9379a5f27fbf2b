/* runtime.c — Lambda Runtime API client over one kept-alive loopback connection. */
#define _XOPEN_SOURCE 700 // NOLINT(bugprone-reserved-identifier): putenv
#include "runtime.h"

#include "http.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RT_API_VERSION     "2018-06-01"
#define RT_MAX_URL         512u
#define RT_POST_TIMEOUT_MS 10000L /* posting to loopback never takes this long */
#define RT_MAX_ERROR_DOC   4096u
#define RT_MAX_POST_REPLY  ((size_t)64 * 1024) /* the Runtime API's answer to a POST */
/* A path under the base URL: "/runtime/invocation/{id}/response" and the like. */
#define RT_MAX_PATH (UA_MAX_REQUEST_ID + 64u)

struct rt_client {
    http_client *http;
    http_result result;
    char base[RT_MAX_URL]; /* "http://host:port/2018-06-01" */
};

rt_client *rt_client_new(const char *api) {
    if (!api || !*api || strlen(api) > RT_MAX_URL - 32)
        return NULL;
    rt_client *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->http = http_client_new(NULL);
    if (!c->http) {
        free(c);
        return NULL;
    }
    http_result_init(&c->result);
    snprintf(c->base, sizeof c->base, "http://%s/" RT_API_VERSION, api);
    return c;
}

void rt_client_free(rt_client *c) {
    if (!c)
        return;
    http_result_free(&c->result);
    http_client_free(c->http);
    free(c);
}

void rt_invocation_init(rt_invocation *inv) {
    memset(inv, 0, sizeof *inv);
    buf_init(&inv->event, UA_MAX_EVENT_BYTES);
}

void rt_invocation_free(rt_invocation *inv) {
    buf_free(&inv->event);
}

/* Copies a header value into a fixed field; false when absent or too long to be genuine. */
static bool copy_header(const http_result *r, const char *name, char *out, size_t out_len) {
    ua_span v;
    out[0] = '\0';
    if (!http_result_header(r, name, &v) || v.len == 0 || v.len >= out_len)
        return false;
    memcpy(out, v.ptr, v.len);
    out[v.len] = '\0';
    return true;
}

/* _X_AMZN_TRACE_ID lives in this one buffer, handed to putenv and rewritten in place. setenv
 * with a new value per invocation (Lambda's trace ids always differ) makes glibc keep every
 * value ever set, since a getenv pointer must stay valid: about 140 bytes per invocation,
 * without end (measured by scripts/bench.sh). */
#define TRACE_ENV_NAME "_X_AMZN_TRACE_ID"
static char trace_env[sizeof TRACE_ENV_NAME "=" + sizeof(((rt_invocation *)0)->trace_id)];

static void set_trace_env(const char *trace_id) {
    if (!*trace_id) {
        unsetenv(TRACE_ENV_NAME);
        return;
    }
    snprintf(trace_env, sizeof trace_env, TRACE_ENV_NAME "=%s", trace_id);
    /* (Re)install the buffer when the environment does not hold it: the first time, after an
     * unset, or after a setenv elsewhere replaced it. */
    if (getenv(TRACE_ENV_NAME) != trace_env + sizeof TRACE_ENV_NAME)
        putenv(trace_env);
}

/* Request ids become part of a URL path: allow only what Lambda's ids are made of. */
static bool safe_request_id(const char *id) {
    if (!*id)
        return false;
    for (const char *p = id; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '_' || *p == '.'))
            return false;
    return true;
}

ua_status rt_next(rt_client *c, rt_invocation *inv) {
    char url[RT_MAX_URL + 32];
    snprintf(url, sizeof url, "%s/runtime/invocation/next", c->base);
    http_call call = {.method = "GET", .url = url, .max_response = UA_MAX_EVENT_BYTES};
    http_outcome got = http_perform(c->http, &call, &c->result);
    /* A too-big answer has no status (the transfer was cut); its request id header decides. */
    if (got != HTTP_TOO_BIG && (got != HTTP_DONE || c->result.status != 200))
        return UA_ERR_IO;

    char deadline[32];
    if (!copy_header(&c->result, "Lambda-Runtime-Aws-Request-Id", inv->request_id,
                     sizeof inv->request_id) ||
        !safe_request_id(inv->request_id))
        return UA_ERR_INVALID;
    if (got == HTTP_TOO_BIG) {
        /* The headers arrived whole: the invocation can still be answered with an error. */
        buf_reset(&c->result.body);
        return UA_ERR_TOO_BIG;
    }
    inv->deadline_ms = 0;
    if (copy_header(&c->result, "Lambda-Runtime-Deadline-Ms", deadline, sizeof deadline))
        inv->deadline_ms = strtoll(deadline, NULL, 10);
    copy_header(&c->result, "Lambda-Runtime-Trace-Id", inv->trace_id, sizeof inv->trace_id);
    set_trace_env(inv->trace_id);

    /* Hand the body over without copying: swap buffers with the event. */
    buf tmp = inv->event;
    inv->event = c->result.body;
    c->result.body = tmp;
    buf_reset(&c->result.body);
    return UA_OK;
}

static ua_status post(rt_client *c, const char *path, const char *error_type, const char *body,
                      size_t len) {
    char url[RT_MAX_URL + RT_MAX_PATH];
    snprintf(url, sizeof url, "%s%s", c->base, path);
    http_header headers[2] = {{"Content-Type", "application/json"},
                              {"Lambda-Runtime-Function-Error-Type", error_type}};
    http_call call = {.method = "POST",
                      .url = url,
                      .headers = headers,
                      .n_headers = error_type ? 2 : 1,
                      .body = body,
                      .body_len = len,
                      .timeout_ms = RT_POST_TIMEOUT_MS,
                      .max_response = RT_MAX_POST_REPLY};
    if (http_perform(c->http, &call, &c->result) != HTTP_DONE)
        return UA_ERR_IO;
    return c->result.status == 202 ? UA_OK : UA_ERR_IO;
}

ua_status rt_respond(rt_client *c, const char *request_id, const char *body, size_t len) {
    char path[RT_MAX_PATH];
    snprintf(path, sizeof path, "/runtime/invocation/%s/response", request_id);
    return post(c, path, NULL, body, len);
}

/* Posts {"errorMessage","errorType"} to path. */
static ua_status post_error(rt_client *c, const char *path, const char *error_type,
                            const char *message) {
    json_t *doc = json_pack("{s:s, s:s}", "errorMessage", message ? message : "", "errorType",
                            error_type ? error_type : "Error");
    if (!doc)
        return UA_ERR_NOMEM;
    char text[RT_MAX_ERROR_DOC];
    size_t n = json_dumpb(doc, text, sizeof text, JSON_COMPACT);
    json_decref(doc);
    if (n == 0 || n > sizeof text)
        return UA_ERR_TOO_BIG;
    return post(c, path, error_type ? error_type : "Error", text, n);
}

ua_status rt_fail(rt_client *c, const char *request_id, const char *error_type,
                  const char *message) {
    char path[RT_MAX_PATH];
    snprintf(path, sizeof path, "/runtime/invocation/%s/error", request_id);
    return post_error(c, path, error_type, message);
}

ua_status rt_init_error(rt_client *c, const char *error_type, const char *message) {
    return post_error(c, "/runtime/init/error", error_type, message);
}

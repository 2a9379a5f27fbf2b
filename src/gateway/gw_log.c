/* gw_log.c — JSON log lines on stderr (see gw_log.h). */
#include "gw_log.h"

#include "buf.h"
#include "clock.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define GW_LOG_MAX_LINE 16384u

static void iso_now(char *out, size_t n) {
    int64_t ms = ua_wall_ms();
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    out[0] = '\0';
    if (gmtime_r(&secs, &tm)) {
        char base[32];
        strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(out, n, "%s.%03dZ", base, (int)(ms % 1000));
    }
}

/* Writes obj as one line and releases it. */
static void emit(json_t *obj) {
    if (!obj)
        return;
    char *text = json_dumps(obj, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(10));
    json_decref(obj);
    if (!text)
        return;
    buf line;
    buf_init(&line, GW_LOG_MAX_LINE);
    if (buf_append_str(&line, text) == UA_OK && buf_append_char(&line, '\n') == UA_OK) {
        ssize_t w = write(2, line.data, line.len);
        (void)w;
    }
    buf_free(&line);
    free(text);
}

void gw_log(const char *level, const char *fmt, ...) {
    char msg[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    char when[40];
    iso_now(when, sizeof when);
    /* The message may hold bytes from a bootstrap: json_string refuses non-UTF-8. */
    json_t *m = json_string(msg);
    if (!m)
        m = json_string("(message not UTF-8)");
    emit(json_pack("{s:s,s:s,s:s,s:o}", "time", when, "level", level, "source", "gateway",
                   "message", m));
}

void gw_log_access(const gw_access *a) {
    char when[40];
    iso_now(when, sizeof when);
    json_t *path = json_string(a->path ? a->path : "");
    if (!path)
        path = json_string("(path not UTF-8)");
    json_t *obj = json_pack(
        "{s:s,s:s,s:s,s:s,s:s,s:o,s:i,s:f,s:s,s:s}", "time", when, "level", "INFO", "source",
        "access", "requestId", a->request_id ? a->request_id : "", "method",
        a->method ? a->method : "", "path", path, "status", (int)a->status, "latencyMs",
        (double)(int64_t)(a->latency_ms * 10.0) / 10.0, "lambdaRequestId",
        a->lambda_request_id ? a->lambda_request_id : "", "outcome", a->outcome ? a->outcome : "");
    if (obj && a->instance >= 0)
        json_object_set_new(obj, "instance", json_integer(a->instance));
    if (obj && a->detail)
        json_object_set_new(obj, "detail", json_string(a->detail));
    emit(obj);
}

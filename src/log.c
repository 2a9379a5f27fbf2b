/* log.c — one JSON object per line, written with a single write(2) (see log.h). */
#include "log.h"

#include "buf.h"
#include "utf8.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

/* A longer line is cut, never split: the logs stay one JSON object per line. */
#define LOG_MAX_LINE 8192u

static log_level g_level = LOG_LEVEL_INFO;
static int g_fd = 1;

static const char *const level_names[] = {"DEBUG", "INFO", "WARN", "ERROR"};

static bool parse_level(const char *s, log_level *out) {
    for (size_t i = 0; i < sizeof level_names / sizeof level_names[0]; i++) {
        if (s && strcasecmp(s, level_names[i]) == 0) {
            *out = (log_level)i;
            return true;
        }
    }
    /* Lambda's own names for the two levels we fold together. */
    if (s && strcasecmp(s, "TRACE") == 0) {
        *out = LOG_LEVEL_DEBUG;
        return true;
    }
    if (s && strcasecmp(s, "FATAL") == 0) {
        *out = LOG_LEVEL_ERROR;
        return true;
    }
    return false;
}

void log_init_from_env(void) {
    log_level level = LOG_LEVEL_INFO;
    if (!parse_level(getenv("LOG_LEVEL"), &level))
        (void)parse_level(getenv("AWS_LAMBDA_LOG_LEVEL"), &level);
    g_level = level;
}

void log_set_level(log_level level) {
    g_level = level;
}

log_level log_get_level(void) {
    return g_level;
}

void log_set_fd(int fd) {
    g_fd = fd;
}

/* Whether c goes into a JSON string as it is: printable ASCII other than '"' and '\\'. */
static bool json_plain(unsigned char c) {
    return c >= 0x20 && c < 0x7F && c != '"' && c != '\\';
}

/* Appends s as a JSON string literal, so that the line stays valid JSON and valid UTF-8 whatever
 * a client sent. Quotes, backslashes and control characters (DEL too) are escaped. Bytes that
 * are not well-formed UTF-8 become U+FFFD, one for each maximal subpart as utf8_decode reads
 * it (Unicode's "substitution of maximal subparts", what browsers do): C0 80 becomes two
 * U+FFFD, ED A0 80 (a surrogate) three, F4 90 80 80 (past U+10FFFF) four, E2 82 cut short by
 * the end of s or by an ASCII byte one. */
static ua_status append_json_string(buf *b, const char *s) {
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    size_t len = strlen((const char *)p), i = 0;
    ua_status st = buf_append_char(b, '"');
    while (st == UA_OK && i < len) {
        size_t run = i;
        while (run < len && json_plain(p[run]))
            run++;
        if (run > i) {
            st = buf_append(b, p + i, run - i);
            i = run;
            continue;
        }
        unsigned char c = p[i];
        if (c == '"' || c == '\\') {
            char esc[2] = {'\\', (char)c};
            st = buf_append(b, esc, 2);
            i++;
        } else if (c < 0x80) {
            char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            st = buf_append(b, esc, 6);
            i++;
        } else {
            uint32_t cp;
            size_t n = utf8_decode(p + i, len - i, &cp);
            st = cp == UTF8_INVALID ? buf_append(b, UTF8_REPLACEMENT, UTF8_REPLACEMENT_LEN)
                                    : buf_append(b, p + i, n);
            i += n;
        }
    }
    return st == UA_OK ? buf_append_char(b, '"') : st;
}

static ua_status append_timestamp(buf *b) {
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    return buf_appendf(b, "{\"timestamp\":\"%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ\"",
                       tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                       tm.tm_sec, ts.tv_nsec / 1000000L);
}

static ua_status append_field(buf *b, const char *name, const char *value) {
    ua_status st = buf_appendf(b, ",\"%s\":", name);
    return st == UA_OK ? append_json_string(b, value) : st;
}

/* Ends and writes the line built in b; when building it failed (too long), writes a short
 * valid line saying so instead of a cut one. */
static void emit(buf *b, ua_status built) {
    if (built != UA_OK || buf_append_str(b, "}\n") != UA_OK) {
        buf_reset(b);
        if (append_timestamp(b) != UA_OK || buf_append_str(b, ",\"level\":\"WARN\",\"message\":"
                                                              "\"log line too long\"}\n") != UA_OK)
            return;
    }
    const char *p = buf_str(b);
    size_t left = b->len;
    while (left) {
        ssize_t n = write(g_fd, p, left);
        if (n <= 0)
            return; /* nowhere to report a failing log */
        p += n;
        left -= (size_t)n;
    }
}

void log_message(log_level level, const char *request_id, const char *fmt, ...) {
    if (level < g_level)
        return;
    char msg[LOG_MAX_LINE / 2];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);

    buf b;
    buf_init(&b, LOG_MAX_LINE);
    ua_status st = append_timestamp(&b);
    if (st == UA_OK)
        st = append_field(&b, "level", level_names[level]);
    if (st == UA_OK && request_id)
        st = append_field(&b, "requestId", request_id);
    if (st == UA_OK)
        st = append_field(&b, "message", msg);
    emit(&b, st);
    buf_free(&b);
}

/* Appends ,"name":"value" when value is set. */
static ua_status append_optional(buf *b, const char *name, const char *value) {
    return value && *value ? append_field(b, name, value) : UA_OK;
}

void log_invocation_line(const log_invocation *f) {
    log_level level = f->status >= 500 ? LOG_LEVEL_ERROR : LOG_LEVEL_INFO;
    if (level < g_level && !f->metrics)
        return;
    buf b;
    buf_init(&b, LOG_MAX_LINE);
    ua_status st = append_timestamp(&b);
    if (st == UA_OK)
        st = append_field(&b, "level", level_names[level]);
    if (st == UA_OK)
        st = append_field(&b, "requestId", f->request_id);
    if (st == UA_OK)
        st = append_optional(&b, "awsRequestId", f->aws_request_id);
    if (st == UA_OK)
        st = append_optional(&b, "traceId", f->trace_id);
    if (st == UA_OK)
        st = buf_appendf(&b, ",\"coldStart\":%s", f->cold_start ? "true" : "false");
    if (st == UA_OK)
        st = append_optional(&b, "functionName", f->function_name);
    if (st == UA_OK)
        st = append_optional(&b, "functionVersion", f->function_version);
    if (st == UA_OK)
        st = append_field(&b, "message", "invocation");
    if (st == UA_OK)
        st = append_field(&b, "method", f->method);
    if (st == UA_OK && f->route)
        st = append_field(&b, "route", f->route);
    if (st == UA_OK)
        st = buf_appendf(&b, ",\"status\":%d,\"durationMs\":%.3f,\"ddbAttempts\":%u", f->status,
                         f->duration_ms, f->ddb_attempts);
    if (st == UA_OK && f->ddb_error && *f->ddb_error)
        st = append_field(&b, "ddbError", f->ddb_error);
    if (st == UA_OK && f->code)
        st = append_field(&b, "code", f->code);
    if (st == UA_OK && f->metrics && f->metrics_config)
        st = emf_append(&b, f->metrics_config, f->metrics);
    emit(&b, st);
    buf_free(&b);
}

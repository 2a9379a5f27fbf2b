/* gw_invlog.c — the bootstrap's invocation line, read and summarised (see gw_invlog.h). */
#include "gw_invlog.h"

#include "emf.h"
#include "gw_codec.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#define EMF_MAX_DIMENSIONS 30u   /* keys in one dimension set */
#define EMF_MAX_METRICS    100u  /* metrics in one directive */
#define EMF_MAX_NAMESPACE  1024u /* characters */

static void copy_str(const json_t *obj, const char *key, char *out) {
    const char *v = json_string_value(json_object_get(obj, key));
    snprintf(out, GW_INVLOG_MAX_FIELD, "%s", v ? v : "");
}

static double number_or(const json_t *obj, const char *key, double dflt) {
    const json_t *v = json_object_get(obj, key);
    return json_is_number(v) ? json_number_value(v) : dflt;
}

/* A metric's value: a number, or an array of numbers (at most 100). */
static bool metric_value(const json_t *v) {
    if (json_is_number(v))
        return true;
    if (!json_is_array(v) || json_array_size(v) == 0 || json_array_size(v) > 100)
        return false;
    size_t i;
    const json_t *e;
    json_array_foreach(v, i, e) {
        if (!json_is_number(e))
            return false;
    }
    return true;
}

static bool check_dimensions(const json_t *doc, const json_t *sets, char *why, size_t n) {
    if (!json_is_array(sets)) {
        snprintf(why, n, "Dimensions is not an array");
        return false;
    }
    size_t i, k;
    const json_t *set, *key;
    json_array_foreach(sets, i, set) {
        if (!json_is_array(set) || json_array_size(set) > EMF_MAX_DIMENSIONS) {
            snprintf(why, n, "a dimension set is not an array of at most 30 names");
            return false;
        }
        json_array_foreach(set, k, key) {
            const char *name = json_string_value(key);
            if (!name) {
                snprintf(why, n, "a dimension name is not a string");
                return false;
            }
            if (!json_is_string(json_object_get(doc, name))) {
                snprintf(why, n, "dimension %.60s is not a top-level string", name);
                return false;
            }
        }
    }
    return true;
}

static bool check_metrics(const json_t *doc, const json_t *metrics, char *why, size_t n) {
    if (!json_is_array(metrics) || json_array_size(metrics) > EMF_MAX_METRICS) {
        snprintf(why, n, "Metrics is not an array of at most 100 definitions");
        return false;
    }
    size_t i;
    const json_t *m;
    json_array_foreach(metrics, i, m) {
        const char *name = json_string_value(json_object_get(m, "Name"));
        const json_t *unit = json_object_get(m, "Unit");
        const json_t *res = json_object_get(m, "StorageResolution");
        if (!name || !*name) {
            snprintf(why, n, "a metric has no Name");
            return false;
        }
        if (unit && !(json_is_string(unit) && emf_unit_known(json_string_value(unit)))) {
            snprintf(why, n, "metric %.60s: Unit is not one of CloudWatch's units", name);
            return false;
        }
        if (res && !(json_is_integer(res) &&
                     (json_integer_value(res) == 1 || json_integer_value(res) == 60))) {
            snprintf(why, n, "metric %.60s: StorageResolution is neither 1 nor 60", name);
            return false;
        }
        if (!metric_value(json_object_get(doc, name))) {
            snprintf(why, n, "metric %.60s has no top-level number", name);
            return false;
        }
    }
    return true;
}

/* The EMF specification's rules for the _aws member and what it points to. */
static bool check_emf(const json_t *doc, const json_t *aws, char *why, size_t n) {
    if (!json_is_object(aws)) {
        snprintf(why, n, "_aws is not an object");
        return false;
    }
    if (!json_is_integer(json_object_get(aws, "Timestamp"))) {
        snprintf(why, n, "_aws.Timestamp is not an integer (epoch ms)");
        return false;
    }
    const json_t *directives = json_object_get(aws, "CloudWatchMetrics");
    if (!json_is_array(directives)) {
        snprintf(why, n, "_aws.CloudWatchMetrics is not an array");
        return false;
    }
    size_t i;
    const json_t *d;
    json_array_foreach(directives, i, d) {
        const char *ns = json_string_value(json_object_get(d, "Namespace"));
        if (!ns || !*ns || strlen(ns) > EMF_MAX_NAMESPACE) {
            snprintf(why, n, "a directive has no Namespace");
            return false;
        }
        if (!check_dimensions(doc, json_object_get(d, "Dimensions"), why, n) ||
            !check_metrics(doc, json_object_get(d, "Metrics"), why, n))
            return false;
    }
    return true;
}

ua_status gw_invlog_parse(const char *line, size_t len, gw_invlog *out) {
    memset(out, 0, sizeof *out);
    out->status = -1;
    out->latency_ms = -1;
    out->ddb_ms = -1;
    out->retries = -1;
    out->attempts = -1;
    json_t *doc = json_loadb(line, len, 0, NULL);
    const char *message = json_string_value(json_object_get(doc, "message"));
    if (!json_is_object(doc) || !message || strcmp(message, "invocation") != 0) {
        json_decref(doc);
        return UA_ERR_INVALID;
    }
    copy_str(doc, "traceId", out->trace_id);
    copy_str(doc, "awsRequestId", out->aws_request_id);
    copy_str(doc, "requestId", out->request_id);
    copy_str(doc, "method", out->method);
    copy_str(doc, "route", out->route);
    copy_str(doc, "Operation", out->operation);
    copy_str(doc, "code", out->code);
    copy_str(doc, "ddbError", out->ddb_error);
    const json_t *status = json_object_get(doc, "status");
    if (json_is_integer(status))
        out->status = (long)json_integer_value(status);
    out->latency_ms = number_or(doc, "Latency", number_or(doc, "durationMs", -1));
    out->ddb_ms = number_or(doc, "DynamoDBLatency", -1);
    const json_t *attempts = json_object_get(doc, "ddbAttempts");
    if (json_is_integer(attempts))
        out->attempts = (long)json_integer_value(attempts);
    const json_t *retries = json_object_get(doc, "DynamoDBRetries");
    if (json_is_number(retries))
        out->retries = (long)json_number_value(retries);
    else if (out->attempts > 0)
        out->retries = out->attempts - 1;
    out->cold_start =
        json_is_true(json_object_get(doc, "coldStart")) || number_or(doc, "ColdStart", 0) > 0;
    const json_t *aws = json_object_get(doc, "_aws");
    out->has_emf = aws != NULL;
    if (aws)
        (void)check_emf(doc, aws, out->emf_problem, sizeof out->emf_problem);
    json_decref(doc);
    return UA_OK;
}

static ua_status word(buf *out, const char *label, const char *s) {
    if (!*s)
        return UA_OK;
    ua_status st = buf_appendf(out, "%s%s", out->len ? " " : "", label);
    return st == UA_OK ? gw_printable(s, strlen(s), GW_INVLOG_MAX_PROBLEM, out) : st;
}

ua_status gw_invlog_format(const gw_invlog *l, buf *out) {
    buf part;
    buf_init(&part, 4 * GW_INVLOG_MAX_FIELD + GW_INVLOG_MAX_PROBLEM + 128);
    ua_status st = word(&part, "", l->operation);
    if (st == UA_OK && l->latency_ms >= 0)
        st = buf_appendf(&part, "%slatency %.1f ms", part.len ? " " : "", l->latency_ms);
    if (st == UA_OK && l->ddb_ms >= 0)
        st = buf_appendf(&part, " ddb %.1f ms", l->ddb_ms);
    /* Retries mean something once DynamoDB was called. */
    if (st == UA_OK && l->retries >= 0 && (l->ddb_ms >= 0 || l->attempts > 0 || l->retries > 0))
        st = buf_appendf(&part, "%sretries %ld", part.len ? " " : "", l->retries);
    if (st == UA_OK && l->cold_start)
        st = buf_appendf(&part, "%scold-start", part.len ? " " : "");
    if (st == UA_OK)
        st = word(&part, "error ", l->code);
    if (st == UA_OK)
        st = word(&part, "ddb-error ", l->ddb_error);
    if (st == UA_OK && l->emf_problem[0]) {
        st = word(&part, "[EMF: ", l->emf_problem);
        if (st == UA_OK)
            st = buf_append_char(&part, ']');
    }
    if (st == UA_OK)
        st = part.len ? buf_append(out, part.data, part.len) : buf_append_str(out, "(no metrics)");
    buf_free(&part);
    return st;
}

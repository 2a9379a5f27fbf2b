/* gw_xray.c — trace ids, and daemon datagrams read and printed (see gw_xray.h). */
#include "gw_xray.h"

#include "gw_codec.h"
#include "gw_sys.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

/* The client's X-Amzn-Trace-Id: "Root=...;Parent=...;Sampled=1", fields in any order, spaces
 * around them allowed. *sampled is 0, 1, or -1 when the header makes no decision. */
static bool client_root(const char *h, size_t n, char *root, int *sampled) {
    bool found = false;
    *sampled = -1;
    size_t i = 0;
    while (i < n) {
        size_t end = i;
        while (end < n && h[end] != ';')
            end++;
        size_t a = i, b = end;
        while (a < b && h[a] == ' ')
            a++;
        while (b > a && h[b - 1] == ' ')
            b--;
        if (b - a > 5 && memcmp(h + a, "Root=", 5) == 0 && trace_is_root(h + a + 5, b - a - 5)) {
            memcpy(root, h + a + 5, TRACE_ROOT_LEN);
            root[TRACE_ROOT_LEN] = '\0';
            found = true;
        } else if (b - a == 9 && memcmp(h + a, "Sampled=", 8) == 0 &&
                   (h[a + 8] == '0' || h[a + 8] == '1')) {
            *sampled = h[a + 8] - '0';
        }
        i = end + 1;
    }
    return found;
}

void gw_xray_new_ids(int64_t epoch_s, bool sampled, const char *client, size_t client_len,
                     trace_context *out) {
    int decided = -1;
    if (!client || !client_root(client, client_len, out->root, &decided)) {
        char rnd[25];
        gw_random_hex(rnd, 24);
        snprintf(out->root, sizeof out->root, "1-%08llx-%s", (unsigned long long)(uint32_t)epoch_s,
                 rnd);
        decided = -1;
    }
    out->sampled = decided < 0 ? sampled : decided == 1;
    gw_random_hex(out->parent, TRACE_ID_LEN);
}

/* ---- datagrams ---- */

static void copy_str(const json_t *obj, const char *key, char *out) {
    const char *v = json_string_value(json_object_get(obj, key));
    snprintf(out, GW_XRAY_MAX_FIELD, "%s", v ? v : "");
}

/* A transaction's tables (aws.table_names) as "a,b", cut at the field's size. */
static void join_tables(const json_t *names, char *out) {
    size_t i, used = 0;
    const json_t *name;
    out[0] = '\0';
    json_array_foreach(names, i, name) {
        const char *v = json_string_value(name);
        if (!v || used >= GW_XRAY_MAX_FIELD - 1)
            continue;
        int n = snprintf(out + used, GW_XRAY_MAX_FIELD - used, "%s%s", used ? "," : "", v);
        used = n < 0 ? used : used + (size_t)n;
    }
}

static void problem(gw_xray_call *c, const char *what) {
    if (!c->problem[0])
        snprintf(c->problem, sizeof c->problem, "%s", what);
}

/* A flag: true only when the member is true; anything but a boolean is a problem. */
static bool flag(const json_t *doc, const char *key, gw_xray_call *c) {
    const json_t *v = json_object_get(doc, key);
    if (v && !json_is_boolean(v)) {
        char what[64];
        snprintf(what, sizeof what, "%s is not a boolean", key);
        problem(c, what);
    }
    return json_is_true(v);
}

/* What X-Ray would refuse of an independent subsegment, first problem only. */
static void check(const json_t *doc, gw_xray_call *c) {
    const json_t *start = json_object_get(doc, "start_time");
    const json_t *end = json_object_get(doc, "end_time");
    const char *type = json_string_value(json_object_get(doc, "type"));
    const char *ns = json_string_value(json_object_get(doc, "namespace"));
    char id[GW_XRAY_MAX_FIELD];
    copy_str(doc, "id", id);
    if (!c->name[0])
        problem(c, "no name");
    if (!trace_is_hex(id, TRACE_ID_LEN))
        problem(c, "id is not 16 hex digits");
    if (!trace_is_root(c->trace_id, strlen(c->trace_id)))
        problem(c, "trace_id is not 1-<8 hex>-<24 hex>");
    if (!type || strcmp(type, "subsegment") != 0)
        problem(c, "type is not \"subsegment\"");
    if (!trace_is_hex(c->parent_id, TRACE_ID_LEN))
        problem(c, "parent_id is not 16 hex digits");
    if (!json_is_number(start))
        problem(c, "no start_time");
    if (!json_is_number(end) && !c->in_progress)
        problem(c, "no end_time, and not in_progress");
    if (c->has_times && c->end_time < c->start_time)
        problem(c, "end_time is before start_time");
    if (ns && strcmp(ns, "aws") != 0 && strcmp(ns, "remote") != 0)
        problem(c, "namespace is neither \"aws\" nor \"remote\"");
}

ua_status gw_xray_parse(const char *data, size_t len, gw_xray_call *out, char *why, size_t whylen) {
    memset(out, 0, sizeof *out);
    out->status = -1;
    out->retries = -1;
    why[0] = '\0';
    const char *nl = memchr(data, '\n', len);
    if (!nl) {
        snprintf(why, whylen, "no header line");
        return UA_ERR_INVALID;
    }
    json_t *header = json_loadb(data, (size_t)(nl - data), 0, NULL);
    const char *format = NULL;
    json_int_t version = 0;
    json_error_t err;
    bool header_ok = header &&
                     json_unpack_ex(header, &err, JSON_STRICT, "{s:s,s:I}", "format", &format,
                                    "version", &version) == 0 &&
                     strcmp(format, "json") == 0 && version == 1;
    json_decref(header);
    if (!header_ok) {
        snprintf(why, whylen, "the header line is not {\"format\": \"json\", \"version\": 1}");
        return UA_ERR_INVALID;
    }
    size_t rest = len - (size_t)(nl - data) - 1;
    json_t *doc = json_loadb(nl + 1, rest, 0, &err);
    if (!json_is_object(doc)) {
        snprintf(why, whylen, "the document is not a JSON object%s%s", doc ? "" : ": ",
                 doc ? "" : err.text);
        json_decref(doc);
        return UA_ERR_INVALID;
    }
    const json_t *aws = json_object_get(doc, "aws");
    const json_t *response = json_object_get(json_object_get(doc, "http"), "response");
    copy_str(doc, "name", out->name);
    copy_str(doc, "trace_id", out->trace_id);
    copy_str(doc, "parent_id", out->parent_id);
    copy_str(aws, "operation", out->operation);
    copy_str(aws, "table_name", out->table);
    if (!out->table[0])
        join_tables(json_object_get(aws, "table_names"), out->table);
    const json_t *start = json_object_get(doc, "start_time");
    const json_t *end = json_object_get(doc, "end_time");
    out->has_times = json_is_number(start) && json_is_number(end);
    if (out->has_times) {
        out->start_time = json_number_value(start);
        out->end_time = json_number_value(end);
    }
    out->in_progress = json_is_true(json_object_get(doc, "in_progress"));
    const json_t *status = json_object_get(response, "status");
    if (json_is_integer(status))
        out->status = (long)json_integer_value(status);
    const json_t *retries = json_object_get(aws, "retries");
    if (json_is_integer(retries))
        out->retries = (long)json_integer_value(retries);
    out->error = flag(doc, "error", out);
    out->throttle = flag(doc, "throttle", out);
    out->fault = flag(doc, "fault", out);
    check(doc, out);
    json_decref(doc);
    return UA_OK;
}

static ua_status field(buf *out, const char *s) {
    if (!*s)
        return UA_OK;
    if (buf_append_char(out, ' ') != UA_OK)
        return UA_ERR_TOO_BIG;
    return gw_printable(s, strlen(s), GW_XRAY_MAX_FIELD, out);
}

ua_status gw_xray_format(const gw_xray_call *c, buf *out) {
    ua_status st = gw_printable(c->name[0] ? c->name : "(no name)",
                                strlen(c->name[0] ? c->name : "(no name)"), GW_XRAY_MAX_FIELD, out);
    if (st == UA_OK)
        st = field(out, c->operation);
    if (st == UA_OK)
        st = field(out, c->table);
    if (st == UA_OK && c->has_times)
        st = buf_appendf(out, " %.1f ms", (c->end_time - c->start_time) * 1000.0);
    if (st == UA_OK && c->in_progress)
        st = buf_append_str(out, " in progress");
    if (st == UA_OK && c->status >= 0)
        st = buf_appendf(out, " status %ld", c->status);
    if (st == UA_OK && c->retries >= 0)
        st = buf_appendf(out, " retries %ld", c->retries);
    if (st == UA_OK && (c->error || c->throttle || c->fault))
        st = buf_appendf(out, " [%s%s%s%s%s]", c->error ? "error" : "",
                         c->error && (c->throttle || c->fault) ? " " : "",
                         c->throttle ? "throttle" : "", c->throttle && c->fault ? " " : "",
                         c->fault ? "fault" : "");
    if (st == UA_OK && c->problem[0])
        st = buf_appendf(out, " [invalid subsegment: %s]", c->problem);
    return st;
}

/* gw_request.c — what both payload formats read off one HTTP request (see gw_request.h). */
#include "gw_request.h"

#include "codec.h"
#include "gw_codec.h"
#include "utf8.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

json_t *gw_wire_string(const char *p, size_t n) {
    if (utf8_valid(p, n))
        return json_stringn(p ? p : "", n);
    buf b;
    buf_init(&b, 4 * n + 1);
    json_t *s = gw_latin1_to_utf8(p, n, &b) == UA_OK ? json_stringn(buf_str(&b), b.len) : NULL;
    buf_free(&b);
    return s;
}

int gw_json_put(json_t *obj, const char *key, json_t *value) {
    return value ? json_object_set_new(obj, key, value) : -1;
}

const char *gw_json_find_ci(json_t *obj, const char *name) {
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v) {
        if (strcasecmp(key, name) == 0)
            return key;
    }
    return NULL;
}

const char *gw_match_resource(const char *path, size_t len, ua_span *user_id) {
    static const char col[] = "/users";
    const size_t col_len = sizeof col - 1;
    if (len < col_len || memcmp(path, col, col_len) != 0)
        return NULL;
    if (len == col_len)
        return GW_RESOURCE_COL;
    if (path[col_len] != '/' || len == col_len + 1)
        return NULL;
    const char *seg = path + col_len + 1;
    size_t seg_len = len - col_len - 1;
    if (memchr(seg, '/', seg_len))
        return NULL;
    if (user_id) {
        user_id->ptr = seg;
        user_id->len = seg_len;
    }
    return GW_RESOURCE_ONE;
}

bool gw_body_is_text(const char *content_type, size_t ct_len, const char *body, size_t len) {
    if (!utf8_valid(body, len))
        return false;
    if (!content_type)
        return true;
    ua_span mt, params;
    ua_span_cut((ua_span){content_type, ct_len}, ';', &mt, &params);
    mt = ua_span_trim_ows(mt);
    if (mt.len == 0)
        return true;
    return ua_span_starts_with_ignore_case(mt, "text/") ||
           ua_span_eq_ignore_case(mt, "application/json") ||
           ua_span_eq_ignore_case(mt, "application/xml") ||
           ua_span_eq_ignore_case(mt, "application/javascript") ||
           ua_span_eq_ignore_case(mt, "application/x-www-form-urlencoded") ||
           ua_span_ends_with_ignore_case(mt, "+json") || ua_span_ends_with_ignore_case(mt, "+xml");
}

void gw_split_target(const char *t, size_t n, ua_span *path, ua_span *query) {
    for (size_t k = 0; k + 3 <= n && k < 8; k++) {
        if (memcmp(t + k, "://", 3) == 0) {
            const char *slash = memchr(t + k + 3, '/', n - k - 3);
            size_t skip = slash ? (size_t)(slash - t) : n;
            t += skip;
            n -= skip;
            break;
        }
    }
    const char *q = memchr(t, '?', n);
    path->ptr = t;
    path->len = q ? (size_t)(q - t) : n;
    query->ptr = q ? q + 1 : t + n;
    query->len = q ? n - path->len - 1 : 0;
}

ua_status gw_request_target(const gw_request *req, ua_span *path, ua_span *query) {
    if (!req->method || !*req->method || !req->target)
        return UA_ERR_INVALID;
    gw_split_target(req->target, req->target_len, path, query);
    return path->len > 0 && path->ptr[0] == '/' ? UA_OK : UA_ERR_INVALID;
}

/* Appends value to the array under the header name (matched ignoring case), or adds it. */
static int add_header(json_t *mv, json_t *name, json_t *value) {
    const char *key = gw_json_find_ci(mv, json_string_value(name));
    if (key) {
        json_decref(name);
        return json_array_append_new(json_object_get(mv, key), value);
    }
    json_t *arr = json_array();
    if (!arr || json_array_append_new(arr, value) != 0) {
        json_decref(arr);
        json_decref(name);
        return -1;
    }
    int rc = json_object_set_new(mv, json_string_value(name), arr);
    json_decref(name);
    return rc;
}

/* Replaces every spelling of name with one header holding value. */
static int set_header(json_t *mv, const char *name, const char *value) {
    const char *key;
    while ((key = gw_json_find_ci(mv, name)) != NULL)
        json_object_del(mv, key);
    json_t *arr = json_pack("[s]", value);
    return arr ? json_object_set_new(mv, name, arr) : -1;
}

const char *gw_header_last(json_t *mv, const char *name) {
    const char *key = gw_json_find_ci(mv, name);
    if (!key)
        return NULL;
    json_t *arr = json_object_get(mv, key);
    size_t n = json_array_size(arr);
    return n ? json_string_value(json_array_get(arr, n - 1)) : NULL;
}

/* The headers API Gateway adds on the way to the integration. */
static int add_gateway_headers(json_t *mv, const gw_request *req) {
    char port[16];
    snprintf(port, sizeof port, "%u", req->port);
    const char *ip = req->source_ip ? req->source_ip : "127.0.0.1";
    const char *xff_key = gw_json_find_ci(mv, "X-Forwarded-For");
    if (xff_key) {
        /* The client's chain, then the address the request came from. */
        buf chain;
        buf_init(&chain, (size_t)64 * 1024);
        json_t *arr = json_object_get(mv, xff_key);
        size_t i;
        json_t *v;
        int ok = 1;
        json_array_foreach(arr, i, v) {
            ok = ok && buf_appendf(&chain, "%s, ", json_string_value(v)) == UA_OK;
        }
        ok = ok && buf_append_str(&chain, ip) == UA_OK;
        int rc =
            ok ? json_array_clear(arr) | json_array_append_new(arr, json_string(buf_str(&chain)))
               : -1;
        buf_free(&chain);
        if (rc != 0)
            return -1;
    } else if (set_header(mv, "X-Forwarded-For", ip) != 0) {
        return -1;
    }
    if (set_header(mv, "X-Forwarded-Port", port) != 0 ||
        set_header(mv, "X-Forwarded-Proto", "http") != 0)
        return -1;
    if (!gw_json_find_ci(mv, "X-Amzn-Trace-Id") && req->trace_id &&
        set_header(mv, "X-Amzn-Trace-Id", req->trace_id) != 0)
        return -1;
    return 0;
}

json_t *gw_header_map(const gw_request *req) {
    json_t *mv = json_object();
    if (!mv)
        return NULL;
    size_t n = req->nheaders;
    if (n > GW_MAX_HEADERS)
        n = GW_MAX_HEADERS; /* the rest are dropped, as a proxy drops what it cannot hold */
    for (size_t i = 0; i < n; i++) {
        const gw_kv *h = &req->headers[i];
        json_t *name = gw_wire_string(h->name, h->name_len);
        json_t *value = gw_wire_string(h->value, h->value_len);
        if (!name || !value || add_header(mv, name, value) != 0) {
            json_decref(value);
            json_decref(mv);
            return NULL;
        }
    }
    if (add_gateway_headers(mv, req) != 0) {
        json_decref(mv);
        return NULL;
    }
    return mv;
}

/* One query component decoded, or as sent when it does not decode to UTF-8. */
static json_t *query_component(ua_span text) {
    buf b;
    buf_init(&b, text.len);
    json_t *s = NULL;
    if (codec_query_decode(text.ptr, text.len, CODEC_QUERY_STRICT_ESCAPES, &b) == UA_OK &&
        utf8_valid(b.data ? b.data : "", b.len))
        s = json_stringn(buf_str(&b), b.len);
    else
        s = gw_wire_string(text.ptr, text.len);
    buf_free(&b);
    return s;
}

json_t *gw_query_map(ua_span query) {
    json_t *multi = json_object();
    int rc = multi ? 0 : -1;
    ua_span name, text;
    while (rc == 0 && codec_query_next(&query, &name, &text)) {
        json_t *key = query_component(name);
        json_t *value = query_component(text);
        if (!key || !value) {
            json_decref(key);
            json_decref(value);
            rc = -1;
            break;
        }
        const char *k = json_string_value(key);
        json_t *arr = json_object_get(multi, k);
        if (!arr) {
            arr = json_array();
            rc = arr ? json_object_set_new(multi, k, arr) : -1;
        }
        if (rc == 0)
            rc = json_array_append(arr, value);
        json_decref(key);
        json_decref(value);
    }
    if (rc != 0) {
        json_decref(multi);
        return NULL;
    }
    return multi;
}

int gw_put_body(json_t *ev, const gw_request *req, const char *content_type) {
    const char *ct = content_type;
    if (gw_body_is_text(ct, ct ? strlen(ct) : 0, req->body, req->body_len))
        return gw_json_put(ev, "body", json_stringn(req->body, req->body_len)) |
               gw_json_put(ev, "isBase64Encoded", json_false());
    buf b64;
    buf_init(&b64, (req->body_len / 3 + 1) * 4);
    int rc = codec_base64_encode(req->body, req->body_len, &b64) == UA_OK
                 ? gw_json_put(ev, "body", json_stringn(buf_str(&b64), b64.len))
                 : -1;
    buf_free(&b64);
    return rc | gw_json_put(ev, "isBase64Encoded", json_true());
}

void gw_request_time(int64_t time_ms, char out[GW_TIME_LEN]) {
    out[0] = '\0';
    time_t secs = (time_t)(time_ms / 1000);
    struct tm tm;
    if (gmtime_r(&secs, &tm))
        strftime(out, GW_TIME_LEN, "%d/%b/%Y:%H:%M:%S +0000", &tm);
}

void gw_domain_prefix(const char *host, char out[GW_PREFIX_LEN]) {
    size_t plen = strcspn(host, ".:");
    snprintf(out, GW_PREFIX_LEN, "%.*s", (int)(plen < GW_PREFIX_LEN - 1 ? plen : GW_PREFIX_LEN - 1),
             host);
}

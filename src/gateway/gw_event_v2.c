/* gw_event_v2.c — an HTTP request → an HTTP API proxy event, payload 2.0 (see gw_event_v2.h). */
#include "gw_event_v2.h"

#include "gw_event.h"
#include "utf8.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static int hex_value(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)tolower((unsigned char)c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Appends p[0..n) with its %XX escapes decoded; keep_slash leaves "%2F" as it is. A '%' not
 * followed by two hex digits stays literal. */
static ua_status percent_decode(const char *p, size_t n, bool keep_slash, buf *out) {
    ua_status st = UA_OK;
    for (size_t i = 0; i < n && st == UA_OK; i++) {
        int hi = i + 2 < n && p[i] == '%' ? hex_value(p[i + 1]) : -1;
        int lo = hi >= 0 ? hex_value(p[i + 2]) : -1;
        if (lo < 0 || (keep_slash && hi * 16 + lo == '/')) {
            st = buf_append_char(out, p[i]);
            continue;
        }
        st = buf_append_char(out, (char)(hi * 16 + lo));
        i += 2;
    }
    return st;
}

/* A percent-decoded JSON string, or the text as sent when it would not be UTF-8 without NUL. */
static json_t *decoded_string(const char *p, size_t n, bool keep_slash) {
    buf b;
    buf_init(&b, n + 1);
    json_t *s = NULL;
    ua_status st = percent_decode(p, n, keep_slash, &b);
    if (st == UA_OK && utf8_valid(b.data ? b.data : "", b.len) &&
        !memchr(b.data ? b.data : "", '\0', b.len))
        s = json_stringn(buf_str(&b), b.len);
    else if (st == UA_OK)
        s = gw_wire_string(p, n);
    buf_free(&b);
    return s;
}

ua_status gw_event_v2_raw_path(const char *p, size_t n, buf *out) {
    size_t mark = out->len;
    ua_status st = percent_decode(p, n, true, out);
    if (st != UA_OK)
        return st;
    const char *d = out->data ? out->data + mark : "";
    if (utf8_valid(d, out->len - mark) && !memchr(d, '\0', out->len - mark))
        return UA_OK;
    out->len = mark;
    return buf_append(out, p, n);
}

/* Appends each non-empty cookie of one Cookie header value to cookies. */
static int split_cookies(json_t *cookies, const char *value) {
    ua_span rest = ua_span_from_cstr(value), piece;
    while (ua_span_split(&rest, ';', &piece)) {
        piece = ua_span_trim_ows(piece);
        if (piece.len && json_array_append_new(cookies, json_stringn(piece.ptr, piece.len)) != 0)
            return -1;
    }
    return 0;
}

/* headers (lower-case names, repeats comma-joined) and cookies (the Cookie headers, split). */
static int build_headers(json_t *ev, const gw_request *req) {
    json_t *mv = gw_header_map(req);
    json_t *headers = mv ? json_object() : NULL, *cookies = mv ? json_array() : NULL;
    int rc = headers && cookies ? 0 : -1;
    buf joined, lower;
    buf_init(&joined, (size_t)1 << 20);
    buf_init(&lower, 1024);
    const char *key;
    json_t *arr;
    json_object_foreach(mv, key, arr) {
        size_t i;
        json_t *v;
        if (rc != 0)
            break;
        if (strcasecmp(key, "Cookie") == 0) {
            json_array_foreach(arr, i, v) {
                rc = rc || split_cookies(cookies, json_string_value(v));
            }
            continue;
        }
        buf_reset(&joined);
        buf_reset(&lower);
        json_array_foreach(arr, i, v) {
            if (i > 0 && buf_append_char(&joined, ',') != UA_OK)
                rc = -1;
            if (rc == 0 && buf_append_str(&joined, json_string_value(v)) != UA_OK)
                rc = -1;
        }
        for (const char *c = key; rc == 0 && *c; c++)
            rc = buf_append_char(&lower, (char)tolower((unsigned char)*c)) == UA_OK ? 0 : -1;
        if (rc == 0)
            rc = gw_json_put(headers, buf_str(&lower), json_stringn(buf_str(&joined), joined.len));
    }
    buf_free(&joined);
    buf_free(&lower);
    json_decref(mv);
    if (rc == 0 && json_array_size(cookies) > 0) {
        rc = json_object_set(ev, "cookies", cookies);
    }
    json_decref(cookies);
    if (rc == 0)
        return gw_json_put(ev, "headers", headers);
    json_decref(headers);
    return -1;
}

/* queryStringParameters: decoded, repeated values comma-joined; absent when there is none. */
static int build_query(json_t *ev, ua_span query) {
    json_t *multi = gw_query_map(query);
    if (!multi)
        return -1;
    json_t *single = json_object();
    int rc = single ? 0 : -1;
    buf joined;
    buf_init(&joined, query.len + 1);
    const char *key;
    json_t *arr;
    json_object_foreach(multi, key, arr) {
        size_t i;
        json_t *v;
        buf_reset(&joined);
        json_array_foreach(arr, i, v) {
            if (rc == 0 && i > 0)
                rc = buf_append_char(&joined, ',') == UA_OK ? 0 : -1;
            if (rc == 0)
                rc = buf_append(&joined, json_string_value(v), json_string_length(v)) == UA_OK ? 0
                                                                                               : -1;
        }
        if (rc == 0)
            rc = gw_json_put(single, key, json_stringn(buf_str(&joined), joined.len));
    }
    buf_free(&joined);
    json_decref(multi);
    if (rc == 0 && json_object_size(single) > 0)
        return gw_json_put(ev, "queryStringParameters", single);
    json_decref(single);
    return rc;
}

static json_t *build_context(const gw_request *req, json_t *ev, const char *route) {
    json_t *headers = json_object_get(ev, "headers");
    const char *host = json_string_value(json_object_get(headers, "host"));
    const char *ua = json_string_value(json_object_get(headers, "user-agent"));
    if (!host || !*host)
        host = "localhost";
    char prefix[GW_PREFIX_LEN], when[GW_TIME_LEN];
    gw_domain_prefix(host, prefix);
    gw_request_time(req->time_ms, when);
    json_t *http = json_pack(
        "{s:s,s:O,s:s,s:s,s:s}", "method", req->method, "path", json_object_get(ev, "rawPath"),
        "protocol", req->protocol ? req->protocol : "HTTP/1.1", "sourceIp",
        req->source_ip ? req->source_ip : "127.0.0.1", "userAgent", ua ? ua : "");
    return json_pack("{s:s,s:s,s:s,s:s,s:o,s:s,s:s,s:s,s:s,s:I}", "accountId", GW_ACCOUNT_ID,
                     "apiId", GW_API_ID, "domainName", host, "domainPrefix", prefix, "http", http,
                     "requestId", req->extended_request_id ? req->extended_request_id : "",
                     "routeKey", route, "stage", GW_V2_STAGE, "time", when, "timeEpoch",
                     (json_int_t)req->time_ms);
}

static int build_body(json_t *ev, const gw_request *req) {
    if (req->body_len == 0)
        return gw_json_put(ev, "isBase64Encoded", json_false());
    const char *ct =
        json_string_value(json_object_get(json_object_get(ev, "headers"), "content-type"));
    return gw_put_body(ev, req, ct);
}

/* The template's route for a request (infra/openapi-http.yaml): a method route where the path
 * declares that method, else the path's ANY route; "ANY /" and "ANY /{proxy+}" take the rest. */
static void route_key(const char *method, const char *resource, bool root, char out[48]) {
    static const char *const col[] = {"GET", "POST"};
    static const char *const one[] = {"GET", "PUT", "PATCH", "DELETE"};
    const char *const *methods = NULL;
    size_t n = 0;
    if (resource && strcmp(resource, GW_RESOURCE_COL) == 0) {
        methods = col;
        n = sizeof col / sizeof col[0];
    } else if (resource) {
        methods = one;
        n = sizeof one / sizeof one[0];
    }
    const char *verb = "ANY";
    for (size_t i = 0; i < n; i++) {
        if (strcmp(method, methods[i]) == 0)
            verb = methods[i];
    }
    snprintf(out, 48, "%s %s", verb, resource ? resource : root ? "/" : GW_V2_ROUTE_PROXY);
}

ua_status gw_event_v2_build(const gw_request *req, json_t **out) {
    *out = NULL;
    ua_span path, query;
    if (gw_request_target(req, &path, &query) != UA_OK)
        return UA_ERR_INVALID;
    buf raw;
    buf_init(&raw, path.len + 1);
    ua_status st = gw_event_v2_raw_path(path.ptr, path.len, &raw);
    ua_span user_id = {NULL, 0};
    const char *resource = st == UA_OK ? gw_match_resource(buf_str(&raw), raw.len, &user_id) : NULL;
    json_t *ev = st == UA_OK ? json_object() : NULL;
    if (st != UA_OK || !ev) {
        buf_free(&raw);
        return st != UA_OK ? st : UA_ERR_NOMEM;
    }
    char route[48];
    route_key(req->method, resource, raw.len == 1, route);
    /* The parameter is decoded once, from the segment as sent (rawPath is decoded already):
     * userId on /users/{userId}, the whole path less its '/' on the catch-all. */
    const char *param = "userId";
    ua_span sent_id = {NULL, 0};
    if (user_id.ptr && gw_match_resource(path.ptr, path.len, &sent_id) && sent_id.ptr)
        user_id = sent_id;
    if (!resource && raw.len > 1) {
        param = "proxy";
        user_id = (ua_span){path.ptr + 1, path.len - 1};
    }
    int rc = gw_json_put(ev, "version", json_string("2.0")) |
             gw_json_put(ev, "routeKey", json_string(route)) |
             gw_json_put(ev, "rawPath", gw_wire_string(buf_str(&raw), raw.len)) |
             gw_json_put(ev, "rawQueryString", gw_wire_string(query.ptr, query.len));
    rc = rc || build_headers(ev, req);
    rc = rc || build_query(ev, query);
    if (rc == 0 && user_id.ptr)
        rc =
            gw_json_put(ev, "pathParameters",
                        json_pack("{s:o}", param, decoded_string(user_id.ptr, user_id.len, false)));
    rc = rc || gw_json_put(ev, "requestContext", build_context(req, ev, route));
    rc = rc || build_body(ev, req);
    buf_free(&raw);
    if (rc != 0) {
        json_decref(ev);
        return UA_ERR_NOMEM;
    }
    *out = ev;
    return UA_OK;
}

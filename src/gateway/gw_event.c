/* gw_event.c — an HTTP request → a REST API proxy event, payload 1.0 (see gw_event.h). */
#include "gw_event.h"

#include "codec.h"
#include "gw_codec.h"
#include "span.h"
#include "utf8.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* A JSON string of bytes that came off the wire: UTF-8 as is, anything else read as Latin-1. */
static json_t *wire_string(const char *p, size_t n) {
    if (utf8_valid(p, n))
        return json_stringn(p ? p : "", n);
    buf b;
    buf_init(&b, 4 * n + 1);
    json_t *s = gw_latin1_to_utf8(p, n, &b) == UA_OK ? json_stringn(buf_str(&b), b.len) : NULL;
    buf_free(&b);
    return s;
}

/* json_object_set_new that also fails when the value could not be made. */
static int put(json_t *obj, const char *key, json_t *value) {
    return value ? json_object_set_new(obj, key, value) : -1;
}

/* The key of obj equal to name ignoring ASCII case, or NULL. */
static const char *find_ci(json_t *obj, const char *name) {
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

/* Appends value to the array under the header name (matched ignoring case), or adds it. */
static int add_header(json_t *mv, json_t *name, json_t *value) {
    const char *key = find_ci(mv, json_string_value(name));
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
    while ((key = find_ci(mv, name)) != NULL)
        json_object_del(mv, key);
    json_t *arr = json_pack("[s]", value);
    return arr ? json_object_set_new(mv, name, arr) : -1;
}

/* The last value of a header (matched ignoring case), borrowed from mv, or NULL. */
static const char *last_value(json_t *mv, const char *name) {
    const char *key = find_ci(mv, name);
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
    const char *xff_key = find_ci(mv, "X-Forwarded-For");
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
    if (!find_ci(mv, "X-Amzn-Trace-Id") && req->trace_id &&
        set_header(mv, "X-Amzn-Trace-Id", req->trace_id) != 0)
        return -1;
    return 0;
}

/* headers and multiValueHeaders: the client's, then the ones API Gateway adds. */
static int build_headers(json_t *ev, const gw_request *req) {
    json_t *mv = json_object();
    if (!mv)
        return -1;
    size_t n = req->nheaders;
    if (n > GW_MAX_HEADERS)
        n = GW_MAX_HEADERS; /* the rest are dropped, as a proxy drops what it cannot hold */
    for (size_t i = 0; i < n; i++) {
        const gw_kv *h = &req->headers[i];
        json_t *name = wire_string(h->name, h->name_len);
        json_t *value = wire_string(h->value, h->value_len);
        if (!name || !value || add_header(mv, name, value) != 0) {
            json_decref(value);
            json_decref(mv);
            return -1;
        }
    }
    if (add_gateway_headers(mv, req) != 0) {
        json_decref(mv);
        return -1;
    }
    json_t *single = json_object_size(mv) ? json_object() : json_null();
    const char *key;
    json_t *arr;
    json_object_foreach(mv, key, arr) {
        json_t *last = json_array_get(arr, json_array_size(arr) - 1);
        if (!single || json_object_set(single, key, last) != 0) {
            json_decref(single);
            json_decref(mv);
            return -1;
        }
    }
    if (json_object_size(mv) == 0) {
        json_decref(mv);
        mv = json_null();
    }
    return put(ev, "headers", single) | put(ev, "multiValueHeaders", mv);
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
        s = wire_string(text.ptr, text.len);
    buf_free(&b);
    return s;
}

static int build_query(json_t *ev, ua_span query) {
    json_t *single = json_object(), *multi = json_object();
    int rc = single && multi ? 0 : -1;
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
            rc = json_object_set(single, k, value) | json_array_append(arr, value);
        json_decref(key);
        json_decref(value);
    }
    if (rc != 0) {
        json_decref(single);
        json_decref(multi);
        return -1;
    }
    if (json_object_size(single) == 0) {
        json_decref(single);
        json_decref(multi);
        single = json_null();
        multi = json_null();
    }
    return put(ev, "queryStringParameters", single) |
           put(ev, "multiValueQueryStringParameters", multi);
}

static int build_body(json_t *ev, const gw_request *req, json_t *mv) {
    if (req->body_len == 0)
        return put(ev, "body", json_null()) | put(ev, "isBase64Encoded", json_false());
    const char *ct = json_is_object(mv) ? last_value(mv, "Content-Type") : NULL;
    if (gw_body_is_text(ct, ct ? strlen(ct) : 0, req->body, req->body_len))
        return put(ev, "body", json_stringn(req->body, req->body_len)) |
               put(ev, "isBase64Encoded", json_false());
    buf b64;
    buf_init(&b64, (req->body_len / 3 + 1) * 4);
    int rc = codec_base64_encode(req->body, req->body_len, &b64) == UA_OK
                 ? put(ev, "body", json_stringn(buf_str(&b64), b64.len))
                 : -1;
    buf_free(&b64);
    return rc | put(ev, "isBase64Encoded", json_true());
}

static json_t *build_identity(const gw_request *req, json_t *mv) {
    const char *ua = json_is_object(mv) ? last_value(mv, "User-Agent") : NULL;
    return json_pack("{s:n,s:n,s:n,s:n,s:s,s:n,s:n,s:n,s:n,s:n,s:o,s:n}", "cognitoIdentityPoolId",
                     "accountId", "cognitoIdentityId", "caller", "sourceIp",
                     req->source_ip ? req->source_ip : "127.0.0.1", "principalOrgId", "accessKey",
                     "cognitoAuthenticationType", "cognitoAuthenticationProvider", "userArn",
                     "userAgent", ua ? json_string(ua) : json_null(), "user");
}

static json_t *build_context(const gw_request *req, json_t *ev, const char *resource) {
    json_t *mv = json_object_get(ev, "multiValueHeaders");
    const char *host = json_is_object(mv) ? last_value(mv, "Host") : NULL;
    if (!host || !*host)
        host = "localhost";
    char prefix[64];
    size_t plen = strcspn(host, ".:");
    snprintf(prefix, sizeof prefix, "%.*s", (int)(plen < 63 ? plen : 63), host);

    char when[64] = "";
    time_t secs = (time_t)(req->time_ms / 1000);
    struct tm tm;
    if (gmtime_r(&secs, &tm))
        strftime(when, sizeof when, "%d/%b/%Y:%H:%M:%S +0000", &tm);

    json_t *path = json_object_get(ev, "path");
    buf stage_path;
    buf_init(&stage_path, json_string_length(path) + sizeof GW_STAGE + 2);
    json_t *ctx = NULL;
    if (buf_appendf(&stage_path, "/%s%s", GW_STAGE, json_string_value(path)) == UA_OK) {
        ctx = json_pack(
            "{s:s,s:s,s:s,s:s,s:s,s:s%,s:s,s:s,s:s,s:s,s:I,s:s,s:o,s:s,s:s}", "resourceId",
            GW_RESOURCE_ID, "resourcePath", resource, "httpMethod", req->method,
            "extendedRequestId", req->extended_request_id ? req->extended_request_id : "",
            "requestTime", when, "path", buf_str(&stage_path), stage_path.len, "accountId",
            GW_ACCOUNT_ID, "protocol", req->protocol ? req->protocol : "HTTP/1.1", "stage",
            GW_STAGE, "domainPrefix", prefix, "requestTimeEpoch", (json_int_t)req->time_ms,
            "requestId", req->request_id ? req->request_id : "", "identity",
            build_identity(req, mv), "domainName", host, "apiId", GW_API_ID);
    }
    buf_free(&stage_path);
    return ctx;
}

/* The target's path and query: an absolute-form target ("http://host/p") is cut to its path. */
static void split_target(const char *t, size_t n, ua_span *path, ua_span *query) {
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

ua_status gw_event_build(const gw_request *req, json_t **out) {
    *out = NULL;
    if (!req->method || !*req->method || !req->target)
        return UA_ERR_INVALID;
    ua_span path, query;
    split_target(req->target, req->target_len, &path, &query);
    if (path.len == 0 || path.ptr[0] != '/')
        return UA_ERR_INVALID;

    json_t *ev = json_object();
    if (!ev)
        return UA_ERR_NOMEM;
    ua_span user_id = {NULL, 0};
    const char *resource = gw_match_resource(path.ptr, path.len, &user_id);
    json_t *path_json = wire_string(path.ptr, path.len);
    int rc = put(ev, "resource", resource ? json_string(resource) : json_copy(path_json)) |
             put(ev, "path", path_json) | put(ev, "httpMethod", json_string(req->method));
    rc = rc || build_headers(ev, req);
    rc = rc || build_query(ev, query);
    if (rc == 0) {
        json_t *params = resource && user_id.ptr
                             ? json_pack("{s:o}", "userId", wire_string(user_id.ptr, user_id.len))
                             : json_null();
        rc = put(ev, "pathParameters", params) | put(ev, "stageVariables", json_null());
    }
    if (rc == 0) {
        const char *res = json_string_value(json_object_get(ev, "resource"));
        rc = put(ev, "requestContext", build_context(req, ev, res));
    }
    rc = rc || build_body(ev, req, json_object_get(ev, "multiValueHeaders"));
    if (rc != 0) {
        json_decref(ev);
        return UA_ERR_NOMEM;
    }
    *out = ev;
    return UA_OK;
}

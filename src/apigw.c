/* apigw.c — API Gateway proxy events (payload 1.0 and 2.0) to an api_request, and back. */
#include "apigw.h"

#include "codec.h"
#include "jparse.h"
#include "span.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* ---- Reading values that may be missing, null or of any type ---- */

/* v's text when v is a string a C reader sees whole (no NUL inside, which strcmp and friends
 * would silently cut at), else NULL. Borrowed. */
static const char *whole_str(const json_t *v) {
    if (!json_is_string(v))
        return NULL;
    const char *s = json_string_value(v);
    return memchr(s, '\0', json_string_length(v)) ? NULL : s;
}

/* obj[key] as a whole string; NULL when obj is not an object, or the value is absent or not a
 * string. */
static const char *get_str(const json_t *obj, const char *key) {
    return whole_str(json_object_get(obj, key));
}

/* ---- The name → [values] maps of api_request ---- */

/* Appends value (a new reference, stolen; NULL means allocation failed) to map[name]. */
static ua_status map_add(json_t *map, const char *name, json_t *value) {
    if (!value)
        return UA_ERR_NOMEM;
    json_t *vals = json_object_get(map, name);
    if (!vals) {
        vals = json_array();
        if (json_object_set_new(map, name, vals) != 0) {
            json_decref(value);
            return UA_ERR_NOMEM;
        }
    }
    return json_array_append_new(vals, value) == 0 ? UA_OK : UA_ERR_NOMEM;
}

/* Appends v to map[name] when it is a whole string; any other value is ignored. */
static ua_status add_if_str(json_t *map, const char *name, json_t *v) {
    return whole_str(v) ? map_add(map, name, json_incref(v)) : UA_OK;
}

/* The key a name is stored under: header names are case-insensitive, so lower-cased (in
 * scratch). *key is NULL for a name that cannot be looked up (empty, or holding a NUL). */
static ua_status map_key(const char *name, size_t len, bool lower, buf *scratch, const char **key) {
    *key = NULL;
    if (len == 0 || memchr(name, '\0', len))
        return UA_OK;
    if (!lower) {
        *key = name;
        return UA_OK;
    }
    buf_reset(scratch);
    ua_status st = buf_append(scratch, name, len);
    if (st != UA_OK)
        return st;
    for (size_t i = 0; i < len; i++)
        if (scratch->data[i] >= 'A' && scratch->data[i] <= 'Z')
            scratch->data[i] = (char)(scratch->data[i] - 'A' + 'a');
    *key = scratch->data;
    return UA_OK;
}

/* Adds an event map (headers, query parameters) to dst. A multi-value map holds arrays (a
 * lone string counts as one value). A single-value map is read after it and fills in only the
 * names dst lacks: where both exist the multi-value one holds every value, the single one
 * just the last (or, in hand-made events, some other) one. */
static ua_status merge_map(json_t *dst, json_t *src, bool multi, bool lower, buf *scratch) {
    const char *name;
    size_t name_len;
    json_t *v;
    if (!json_is_object(src))
        return UA_OK;
    json_object_keylen_foreach(src, name, name_len, v) {
        const char *key;
        ua_status st = map_key(name, name_len, lower, scratch, &key);
        if (st != UA_OK)
            return st;
        if (!key || (!multi && json_object_get(dst, key)))
            continue;
        if (multi && json_is_array(v)) {
            size_t i;
            json_t *e;
            json_array_foreach(v, i, e) {
                if ((st = add_if_str(dst, key, e)) != UA_OK)
                    return st;
            }
        } else if ((st = add_if_str(dst, key, v)) != UA_OK) {
            return st;
        }
    }
    return UA_OK;
}

/* One name or value of a raw query string as a new JSON string, decoded the way API Gateway
 * decodes the query maps it builds ('+' is a space, %XX a byte). A component that would
 * decode to a NUL or to bad UTF-8 is kept as sent, so it can never pass as another value; a
 * '%' not followed by two hex digits stays literal. NULL only when out of memory. */
static json_t *query_component(ua_span s, buf *scratch) {
    buf_reset(scratch);
    json_t *v = codec_query_decode(s.ptr, s.len, CODEC_QUERY_REFUSE_NUL, scratch) == UA_OK
                    ? json_stringn(buf_str(scratch), scratch->len)
                    : NULL;
    return v ? v : json_stringn(s.ptr, s.len);
}

/* Splits a raw query string ("a=1&b=2&a=3") into map, keeping repeats apart. A piece without
 * '=' is a name with the value ""; empty pieces and empty names are skipped. */
static ua_status query_from_raw(json_t *map, const char *raw, buf *scratch) {
    ua_span rest = ua_span_from_cstr(raw), name_text, value_text;
    while (codec_query_next(&rest, &name_text, &value_text)) {
        json_t *name = query_component(name_text, scratch);
        if (!name)
            return UA_ERR_NOMEM;
        ua_status st = map_add(map, json_string_value(name), query_component(value_text, scratch));
        json_decref(name);
        if (st != UA_OK)
            return st;
    }
    return UA_OK;
}

/* Payload 2.0 moves the Cookie header into a cookies array; put it back as one header, the
 * way the client sent it, unless the event kept the header too. */
static ua_status cookie_header(json_t *headers, const json_t *cookies, buf *scratch) {
    size_t i;
    json_t *c;
    if (json_object_get(headers, "cookie") || !json_is_array(cookies))
        return UA_OK;
    buf_reset(scratch);
    json_array_foreach(cookies, i, c) {
        const char *s = whole_str(c);
        if (!s || !*s)
            continue;
        ua_status st = scratch->len ? buf_append_str(scratch, "; ") : UA_OK;
        if (st == UA_OK)
            st = buf_append_str(scratch, s);
        if (st != UA_OK)
            return st;
    }
    return scratch->len ? map_add(headers, "cookie", json_string(buf_str(scratch))) : UA_OK;
}

/* ---- Body ---- */

/* The body string, which may hold NULs (its length is json_string_length), decoded when the
 * event says it is base64. A body that is not base64 leaves body NULL and body_bad_base64
 * set: the handler answers 400, not this parser. */
static ua_status take_body(apigw_event *ev) {
    json_t *body = json_object_get(ev->root, "body");
    if (!json_is_string(body))
        return UA_OK;
    const char *s = json_string_value(body);
    size_t n = json_string_length(body);
    if (!json_is_true(json_object_get(ev->root, "isBase64Encoded"))) {
        ev->req.body = s;
        ev->req.body_len = n;
        return UA_OK;
    }
    /* Strictly: each body has exactly one encoding, the one API Gateway produces. */
    ua_status st = codec_base64_decode(s, n, 0, &ev->body);
    if (st == UA_ERR_INVALID) {
        buf_reset(&ev->body);
        ev->req.body_bad_base64 = true;
        return UA_OK;
    }
    if (st != UA_OK)
        return st;
    ev->req.body = buf_str(&ev->body);
    ev->req.body_len = ev->body.len;
    return UA_OK;
}

/* ---- Path and request id ---- */

/* A payload 2.0 event from a named stage carries the stage in rawPath ("/Prod/users"); the
 * $default stage does not. Returns path without it (a suffix of path, or "/"). */
static const char *strip_stage(const char *path, const char *stage) {
    if (!stage || !*stage || strcmp(stage, "$default") == 0 || path[0] != '/')
        return path;
    size_t n = strlen(stage);
    if (strncmp(path + 1, stage, n) != 0)
        return path;
    if (path[n + 1] == '\0')
        return "/";
    return path[n + 1] == '/' ? path + n + 1 : path;
}

/* The routing path: "" when the event has none; a leading '/' added where a (hand-made)
 * event lacks it; the stage removed for payload 2.0. Percent-encoding is left as it came. */
static ua_status take_path(apigw_event *ev, const char *path) {
    if (!path)
        path = "";
    if (*path && *path != '/') {
        ua_status st = buf_append_char(&ev->path, '/');
        if (st == UA_OK)
            st = buf_append_str(&ev->path, path);
        if (st != UA_OK)
            return st;
        path = buf_str(&ev->path);
    }
    if (ev->format == APIGW_V2)
        path = strip_stage(path, get_str(json_object_get(ev->root, "requestContext"), "stage"));
    ev->req.path = path;
    return UA_OK;
}

/* API Gateway's request id when it is usable in a problem document and a log line, else the
 * Lambda one. */
static const char *request_id(const apigw_event *ev) {
    const char *id = get_str(json_object_get(ev->root, "requestContext"), "requestId");
    if (id && *id && strlen(id) < UA_MAX_REQUEST_ID)
        return id;
    return ev->lambda_request_id;
}

/* ---- The two payload formats ---- */

static ua_status parse_v1(apigw_event *ev, buf *scratch) {
    json_t *root = ev->root;
    api_request *r = &ev->req;
    ua_status st;
    if ((st = merge_map(r->headers, json_object_get(root, "multiValueHeaders"), true, true,
                        scratch)) != UA_OK ||
        (st = merge_map(r->headers, json_object_get(root, "headers"), false, true, scratch)) !=
            UA_OK ||
        (st = merge_map(r->query, json_object_get(root, "multiValueQueryStringParameters"), true,
                        false, scratch)) != UA_OK ||
        (st = merge_map(r->query, json_object_get(root, "queryStringParameters"), false, false,
                        scratch)) != UA_OK)
        return st;
    const char *method = get_str(root, "httpMethod");
    r->method = method ? method : "";
    return take_path(ev, get_str(root, "path"));
}

static ua_status parse_v2(apigw_event *ev, buf *scratch) {
    json_t *root = ev->root;
    json_t *http = json_object_get(json_object_get(root, "requestContext"), "http");
    api_request *r = &ev->req;
    ua_status st;
    if ((st = merge_map(r->headers, json_object_get(root, "headers"), false, true, scratch)) !=
            UA_OK ||
        (st = cookie_header(r->headers, json_object_get(root, "cookies"), scratch)) != UA_OK)
        return st;
    /* rawQueryString keeps repeated parameters apart; the map joins them with commas. */
    const char *raw_query = get_str(root, "rawQueryString");
    if (raw_query && *raw_query)
        st = query_from_raw(r->query, raw_query, scratch);
    else
        st = merge_map(r->query, json_object_get(root, "queryStringParameters"), false, false,
                       scratch);
    if (st != UA_OK)
        return st;
    const char *method = get_str(http, "method");
    r->method = method ? method : "";
    const char *path = get_str(root, "rawPath");
    return take_path(ev, path ? path : get_str(http, "path"));
}

/* jansson keys are C strings, so a NUL in an object key is refused, and a query parameter name
 * API Gateway decoded from "%00" would be one. Rather than fail the invocation (a 502 for a
 * client's typo), such an event is read again with every \u0000 escape taken as U+0001: still a
 * control character, which every later check rejects, and the same length. */
static json_t *load_event(const char *event, size_t len) {
    const unsigned flags = JPARSE_ALLOW_NUL | JPARSE_INT_AS_REAL; /* no number is read */
    jparse_error err;
    json_t *root = jparse(event, len, flags, &err);
    if (root || err != JPARSE_NUL_IN_KEY)
        return root;
    return jparse(event, len, flags | JPARSE_NUL_AS_SOH, NULL);
}

/* ---- What an event is ---- */

/* A set of JSON types: bit t stands for json_type t. */
enum {
    JT_OBJECT = 1u << JSON_OBJECT,
    JT_ARRAY = 1u << JSON_ARRAY,
    JT_STRING = 1u << JSON_STRING,
    JT_BOOLEAN = 1u << JSON_TRUE | 1u << JSON_FALSE,
    JT_NULL = 1u << JSON_NULL
};

/* A member of a proxy event and the types API Gateway sends it as. */
typedef struct event_member {
    const char *keys[3]; /* the member's path from the root; unused entries NULL */
    size_t top_len;      /* strlen(keys[0]) */
    unsigned types;
} event_member;

#define TOP(key, types)                                                                            \
    { {key, NULL, NULL}, sizeof(key) - 1, types }
#define NESTED(k0, k1, k2, types)                                                                  \
    { {k0, k1, k2}, sizeof(k0) - 1, types }

/* Every top-level member of both payload formats, and what the parser reads of
 * requestContext. null is allowed only where API Gateway sends it for "none" (the maps,
 * cookies, body). Values inside the maps and arrays, and the rest of requestContext, are not
 * checked here: they are read only where they are strings. */
static const event_member EVENT_MEMBERS[] = {
    TOP("version", JT_STRING),
    TOP("resource", JT_STRING),
    TOP("routeKey", JT_STRING),
    TOP("httpMethod", JT_STRING),
    TOP("path", JT_STRING),
    TOP("rawPath", JT_STRING),
    TOP("rawQueryString", JT_STRING),
    TOP("cookies", JT_ARRAY | JT_NULL),
    TOP("headers", JT_OBJECT | JT_NULL),
    TOP("multiValueHeaders", JT_OBJECT | JT_NULL),
    TOP("queryStringParameters", JT_OBJECT | JT_NULL),
    TOP("multiValueQueryStringParameters", JT_OBJECT | JT_NULL),
    TOP("pathParameters", JT_OBJECT | JT_NULL),
    TOP("stageVariables", JT_OBJECT | JT_NULL),
    TOP("body", JT_STRING | JT_NULL),
    TOP("isBase64Encoded", JT_BOOLEAN),
    TOP("requestContext", JT_OBJECT),
    NESTED("requestContext", "requestId", NULL, JT_STRING),
    NESTED("requestContext", "stage", NULL, JT_STRING),
    NESTED("requestContext", "http", NULL, JT_OBJECT),
    NESTED("requestContext", "http", "method", JT_STRING),
    NESTED("requestContext", "http", "path", JT_STRING),
};
#define N_EVENT_MEMBERS (sizeof EVENT_MEMBERS / sizeof EVENT_MEMBERS[0])

static bool type_allowed(const event_member *m, const json_t *v) {
    return (m->types & 1u << json_typeof(v)) != 0;
}

/* Whether every member of EVENT_MEMBERS that root has is of a type API Gateway sends it as.
 * The top level is checked in one walk over the members the event has (a look-up per row
 * would hash every name); the few deeper rows are looked up. A member under a parent that is
 * not an object is not looked for: the parent's row fails. */
static bool members_well_typed(const json_t *root) {
    const char *key;
    size_t key_len;
    json_t *v;
    json_object_keylen_foreach((json_t *)root, key, key_len, v) {
        for (size_t i = 0; i < N_EVENT_MEMBERS && !EVENT_MEMBERS[i].keys[1]; i++) {
            const event_member *m = &EVENT_MEMBERS[i];
            if (m->top_len == key_len && memcmp(m->keys[0], key, key_len) == 0) {
                if (!type_allowed(m, v))
                    return false;
                break;
            }
        }
    }
    for (size_t i = 0; i < N_EVENT_MEMBERS; i++) {
        const event_member *m = &EVENT_MEMBERS[i];
        if (!m->keys[1])
            continue;
        const json_t *n = root;
        for (size_t k = 0; n && k < sizeof m->keys / sizeof m->keys[0] && m->keys[k]; k++)
            n = json_object_get(n, m->keys[k]);
        if (n && !type_allowed(m, n))
            return false;
    }
    return true;
}

static apigw_format detect_format(const json_t *root) {
    const char *version = get_str(root, "version");
    if (version && strcmp(version, "2.0") == 0)
        return APIGW_V2;
    return json_object_get(root, "httpMethod") ? APIGW_V1 : 0;
}

ua_status apigw_parse(const char *event, size_t len, const char *lambda_request_id,
                      apigw_event *out) {
    *out = (apigw_event){0};
    buf_init(&out->body, UA_MAX_EVENT_BYTES);
    buf_init(&out->path, UA_MAX_EVENT_BYTES);
    if (lambda_request_id) {
        size_t n = strnlen(lambda_request_id, UA_MAX_REQUEST_ID - 1);
        memcpy(out->lambda_request_id, lambda_request_id, n);
    }
    out->req.method = "";
    out->req.path = "";
    out->req.request_id = out->lambda_request_id;
    if (len > UA_MAX_EVENT_BYTES)
        return UA_ERR_TOO_BIG;
    if (!event)
        return UA_ERR_INVALID;
    out->root = load_event(event, len);
    if (json_is_object(out->root) && members_well_typed(out->root))
        out->format = detect_format(out->root);
    if (!out->format) {
        apigw_event_free(out);
        return UA_ERR_INVALID;
    }
    out->req.headers = json_object();
    out->req.query = json_object();
    ua_status st = out->req.headers && out->req.query ? UA_OK : UA_ERR_NOMEM;
    buf scratch;
    buf_init(&scratch, UA_MAX_EVENT_BYTES);
    if (st == UA_OK)
        st = out->format == APIGW_V2 ? parse_v2(out, &scratch) : parse_v1(out, &scratch);
    if (st == UA_OK)
        st = take_body(out);
    buf_free(&scratch);
    if (st != UA_OK) {
        apigw_event_free(out);
        return st;
    }
    out->req.request_id = request_id(out);
    return UA_OK;
}

void apigw_event_free(apigw_event *ev) {
    json_decref(ev->req.headers);
    json_decref(ev->req.query);
    json_decref(ev->root);
    ev->req.headers = NULL;
    ev->req.query = NULL;
    ev->root = NULL;
    buf_free(&ev->body);
    buf_free(&ev->path);
    ev->req.method = "";
    ev->req.path = "";
    ev->req.body = NULL;
    ev->req.body_len = 0;
    ev->req.request_id = ev->lambda_request_id;
}

/* ---- Response ---- */

/* A copy of headers with only the string values: API Gateway answers 502 to any other. */
static json_t *string_headers(json_t *headers) {
    const char *name;
    json_t *v;
    json_t *copy = json_object();
    if (!copy)
        return NULL;
    json_object_foreach(headers, name, v) {
        if (json_is_string(v) && json_object_set(copy, name, v) != 0) {
            json_decref(copy);
            return NULL;
        }
    }
    return copy;
}

ua_status apigw_format_response(apigw_format format, const api_response *resp, buf *out) {
    buf_reset(out);
    if ((format != APIGW_V1 && format != APIGW_V2) || resp->status < 100 || resp->status > 599)
        return UA_ERR_INVALID;
    json_t *body = json_stringn(buf_str(&resp->body), resp->body.len);
    if (!body)
        return UA_ERR_INVALID; /* not UTF-8 */
    json_t *headers = string_headers(resp->headers);
    json_t *doc = headers ? json_pack("{s:i, s:O, s:O, s:b}", "statusCode", resp->status, "headers",
                                      headers, "body", body, "isBase64Encoded", 0)
                          : NULL;
    json_decref(headers);
    json_decref(body);
    if (!doc)
        return UA_ERR_NOMEM;
    ua_status st = buf_append_json(out, doc);
    json_decref(doc);
    return st;
}

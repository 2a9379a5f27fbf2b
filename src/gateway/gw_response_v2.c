/* gw_response_v2.c — payload 2.0 answer → HTTP, and the HTTP API's own errors (see
 * gw_response_v2.h). */
#include "gw_response_v2.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* Byte for byte what an HTTP API sends (gateway-observed/ for the 500). */
static const char *const fault_bodies[] = {
    [GW_FAULT_MALFORMED] = "{\"message\":\"Internal Server Error\"}",
    [GW_FAULT_INTERNAL] = "{\"message\":\"Internal Server Error\"}",
    [GW_FAULT_TIMEOUT] = "{\"message\":\"Service Unavailable\"}",
    [GW_FAULT_TOO_LONG] = "{\"message\":\"Request Entity Too Large\"}",
    [GW_FAULT_THROTTLED] = "{\"message\":\"Too Many Requests\"}",
    [GW_FAULT_UNAVAILABLE] = "{\"message\":\"Service Unavailable\"}",
    [GW_FAULT_NOT_FOUND] = "{\"message\":\"Not Found\"}",
};
static const unsigned fault_status[] = {
    [GW_FAULT_MALFORMED] = 500, [GW_FAULT_INTERNAL] = 500,  [GW_FAULT_TIMEOUT] = 503,
    [GW_FAULT_TOO_LONG] = 413,  [GW_FAULT_THROTTLED] = 429, [GW_FAULT_UNAVAILABLE] = 503,
    [GW_FAULT_NOT_FOUND] = 404,
};

ua_status gw_response_fault_v2(gw_fault f, gw_http_response *out) {
    return gw_response_answer(fault_status[f], fault_bodies[f], NULL, out);
}

static ua_status malformed(gw_http_response *out, const char **why, const char *reason) {
    if (why)
        *why = reason;
    ua_status st = gw_response_fault_v2(GW_FAULT_INTERNAL, out);
    return st == UA_OK ? UA_ERR_INVALID : st;
}

/* headers: each scalar value as one header. 1 malformed, -1 out of memory, 0 ok. */
static int add_headers(json_t *headers, gw_http_response *out) {
    const char *key;
    json_t *v;
    json_object_foreach(headers, key, v) {
        bool bad = false;
        char *text = gw_header_text(v, &bad);
        ua_status st = text ? gw_response_emit_header(out, key, text) : UA_OK;
        free(text);
        if (bad || st == UA_ERR_TOO_BIG)
            return 1;
        if (st != UA_OK)
            return -1;
    }
    return 0;
}

/* cookies: each string one Set-Cookie header. 1 malformed, -1 out of memory, 0 ok. */
static int add_cookies(json_t *cookies, gw_http_response *out) {
    size_t i;
    json_t *c;
    json_array_foreach(cookies, i, c) {
        if (!json_is_string(c) || strlen(json_string_value(c)) != json_string_length(c))
            return 1;
        ua_status st = gw_response_emit_header(out, "Set-Cookie", json_string_value(c));
        if (st == UA_ERR_TOO_BIG)
            return 1;
        if (st != UA_OK)
            return -1;
    }
    return 0;
}

/* The function's answer taken as the body: what an HTTP API does with JSON that has no
 * statusCode. */
static ua_status as_body(const char *doc, size_t len, gw_http_response *out, const char **why) {
    ua_status st = buf_append(&out->body, doc, len);
    if (st == UA_ERR_TOO_BIG)
        return malformed(out, why, "the body is over 6 MB");
    if (st == UA_OK)
        st = gw_http_response_add(out, "Content-Type", "application/json");
    if (st == UA_OK)
        out->status = 200;
    return st;
}

ua_status gw_response_from_proxy_v2(const char *doc, size_t len, gw_http_response *out,
                                    const char **why) {
    gw_http_response_free(out);
    gw_http_response_init(out);
    if (why)
        *why = NULL;
    json_error_t err;
    json_t *root = json_loadb(doc, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
    if (!root)
        return malformed(out, why, "the function's answer is not JSON");
    json_t *status = json_object_get(root, "statusCode");
    if (!status) {
        json_decref(root);
        return as_body(doc, len, out, why);
    }
    json_t *headers = json_object_get(root, "headers"), *cookies = json_object_get(root, "cookies");
    json_t *body = json_object_get(root, "body"), *b64 = json_object_get(root, "isBase64Encoded");
    const char *reason = NULL;
    ua_status st = UA_OK;
    unsigned code = gw_status_of(status);
    if (code < 100 || code > 599)
        reason = "statusCode is not an HTTP status (100..599)";
    else if (headers && !json_is_object(headers) && !json_is_null(headers))
        reason = "headers is not an object";
    else if (cookies && !json_is_array(cookies) && !json_is_null(cookies))
        reason = "cookies is not an array";
    else if (body && !json_is_string(body) && !json_is_null(body))
        reason = "body is not a string";
    else if (b64 && !json_is_boolean(b64) && !json_is_null(b64))
        reason = "isBase64Encoded is not a boolean";
    int rc = reason ? 0 : add_headers(headers, out);
    if (rc == 0 && !reason)
        rc = add_cookies(cookies, out);
    if (rc > 0)
        reason = "a header is not a string, number or boolean, or a cookie not a string";
    else if (rc < 0)
        st = UA_ERR_NOMEM;
    if (!reason && st == UA_OK)
        st = gw_response_body(body, b64, out, &reason);
    if (!reason && st == UA_OK && out->body.len > 0 &&
        !gw_http_response_header(out, "Content-Type"))
        st = gw_http_response_add(out, "Content-Type", GW_V2_DEFAULT_CONTENT_TYPE);
    json_decref(root);
    if (reason)
        return malformed(out, why, reason);
    if (st == UA_ERR_TOO_BIG)
        return malformed(out, why, "the body is over 6 MB");
    if (st != UA_OK)
        return st;
    out->status = code;
    return UA_OK;
}

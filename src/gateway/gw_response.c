/* gw_response.c — proxy response → HTTP answer, and API Gateway's own errors (see
 * gw_response.h). */
#include "gw_response.h"

#include "codec.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void gw_http_response_init(gw_http_response *r) {
    r->status = 0;
    r->headers = NULL;
    r->nheaders = 0;
    buf_init(&r->body, UA_MAX_RESPONSE_BYTES);
}

void gw_http_response_free(gw_http_response *r) {
    for (size_t i = 0; i < r->nheaders; i++) {
        free(r->headers[i].name);
        free(r->headers[i].value);
    }
    free(r->headers);
    r->headers = NULL;
    r->nheaders = 0;
    buf_free(&r->body);
}

static void reset(gw_http_response *r) {
    gw_http_response_free(r);
    gw_http_response_init(r);
}

static bool is_token(const char *s) {
    if (!*s)
        return false;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c <= 0x20 || c >= 0x7F || strchr("\"(),/:;<=>?@[\\]{}", c))
            return false;
    }
    return true;
}

static bool is_field_value(const char *s) {
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c < 0x20 && c != '\t') || c == 0x7F)
            return false;
    }
    return true;
}

ua_status gw_http_response_add(gw_http_response *r, const char *name, const char *value) {
    if (!is_token(name) || !is_field_value(value))
        return UA_ERR_INVALID;
    if (r->nheaders >= GW_MAX_RESPONSE_HEADERS)
        return UA_ERR_TOO_BIG;
    gw_header *grown = realloc(r->headers, (r->nheaders + 1) * sizeof *grown);
    if (!grown)
        return UA_ERR_NOMEM;
    r->headers = grown;
    char *n = strdup(name), *v = strdup(value);
    if (!n || !v) {
        free(n);
        free(v);
        return UA_ERR_NOMEM;
    }
    r->headers[r->nheaders].name = n;
    r->headers[r->nheaders].value = v;
    r->nheaders++;
    return UA_OK;
}

const char *gw_http_response_header(const gw_http_response *r, const char *name) {
    for (size_t i = 0; i < r->nheaders; i++) {
        if (strcasecmp(r->headers[i].name, name) == 0)
            return r->headers[i].value;
    }
    return NULL;
}

typedef struct fault_answer {
    unsigned status;
    const char *body;
    const char *error_type; /* x-amzn-ErrorType, or NULL */
} fault_answer;

/* Byte for byte what API Gateway sends (gateway-observed/ for the two 502s). */
static const fault_answer faults[] = {
    [GW_FAULT_MALFORMED] = {502, "{\"message\":\"Internal server error\"}", NULL},
    [GW_FAULT_INTERNAL] = {502, "{\"message\": \"Internal server error\"}",
                           "InternalServerErrorException"},
    [GW_FAULT_TIMEOUT] = {504, "{\"message\": \"Endpoint request timed out\"}", NULL},
    [GW_FAULT_TOO_LONG] = {413, "{\"message\":\"Request Too Long\"}", NULL},
    [GW_FAULT_THROTTLED] = {429, "{\"message\":\"Too Many Requests\"}", NULL},
    [GW_FAULT_UNAVAILABLE] = {503, "{\"message\":\"Service Unavailable\"}", NULL},
    [GW_FAULT_NOT_FOUND] = {403, "{\"message\":\"Missing Authentication Token\"}",
                            "MissingAuthenticationTokenException"},
};

ua_status gw_response_answer(unsigned status, const char *body, const char *error_type,
                             gw_http_response *out) {
    reset(out);
    out->status = status;
    ua_status st = gw_http_response_add(out, "Content-Type", "application/json");
    if (st == UA_OK && error_type)
        st = gw_http_response_add(out, "x-amzn-ErrorType", error_type);
    if (st == UA_OK)
        st = buf_append_str(&out->body, body);
    return st;
}

ua_status gw_response_fault(gw_fault f, gw_http_response *out) {
    const fault_answer *a = &faults[f];
    return gw_response_answer(a->status, a->body, a->error_type, out);
}

/* A header value as text: strings as they are, numbers and booleans as JSON writes them.
 * NULL (and *bad set) for objects and arrays; NULL for null (skipped). New memory. */
char *gw_header_text(json_t *v, bool *bad) {
    if (json_is_null(v))
        return NULL;
    if (json_is_string(v)) {
        if (strlen(json_string_value(v)) != json_string_length(v)) {
            *bad = true; /* a NUL inside */
            return NULL;
        }
        return strdup(json_string_value(v));
    }
    if (json_is_number(v) || json_is_boolean(v))
        return json_dumps(v, JSON_ENCODE_ANY);
    *bad = true;
    return NULL;
}

/* Appends value to the merged list under name (matched ignoring case). */
static int merge_value(json_t *merged, const char *name, const char *value) {
    const char *key;
    json_t *arr;
    json_object_foreach(merged, key, arr) {
        if (strcasecmp(key, name) == 0)
            return json_array_append_new(arr, json_string(value));
    }
    arr = json_array();
    if (!arr || json_array_append_new(arr, json_string(value)) != 0) {
        json_decref(arr);
        return -1;
    }
    return json_object_set_new(merged, name, arr);
}

static const char *const remapped[] = {"Connection",        "Content-Length", "Date",
                                       "Keep-Alive",        "Server",         "Trailer",
                                       "Transfer-Encoding", "Upgrade"};

ua_status gw_response_emit_header(gw_http_response *out, const char *name, const char *value) {
    char renamed[256];
    for (size_t i = 0; i < sizeof remapped / sizeof remapped[0]; i++) {
        if (strcasecmp(name, remapped[i]) == 0) {
            snprintf(renamed, sizeof renamed, "x-amzn-Remapped-%s", name);
            name = renamed;
            break;
        }
    }
    ua_status st = gw_http_response_add(out, name, value);
    return st == UA_ERR_INVALID ? UA_OK : st; /* dropped: it could not be sent */
}

/* Merges multiValueHeaders then headers into out. 1 malformed, -1 out of memory, 0 ok. */
static int translate_headers(json_t *single, json_t *multi, gw_http_response *out) {
    json_t *merged = json_object();
    if (!merged)
        return -1;
    int rc = 0;
    const char *key;
    json_t *v;
    json_object_foreach(multi, key, v) {
        if (json_is_null(v))
            continue;
        if (!json_is_array(v)) {
            rc = 1;
            break;
        }
        size_t i;
        json_t *item;
        json_array_foreach(v, i, item) {
            bool bad = false;
            char *text = gw_header_text(item, &bad);
            if (bad) {
                rc = 1;
            } else if (text && merge_value(merged, key, text) != 0) {
                rc = -1;
            }
            free(text);
            if (rc)
                break;
        }
        if (rc)
            break;
    }
    if (rc == 0) {
        json_object_foreach(single, key, v) {
            bool bad = false;
            char *text = gw_header_text(v, &bad);
            if (bad)
                rc = 1;
            else if (text && merge_value(merged, key, text) != 0)
                rc = -1;
            free(text);
            if (rc)
                break;
        }
    }
    json_t *arr;
    json_object_foreach(merged, key, arr) {
        size_t i;
        json_t *item;
        json_array_foreach(arr, i, item) {
            if (rc == 0) {
                ua_status st = gw_response_emit_header(out, key, json_string_value(item));
                rc = st == UA_OK ? 0 : st == UA_ERR_TOO_BIG ? 1 : -1;
            }
        }
    }
    json_decref(merged);
    return rc;
}

ua_status gw_response_body(json_t *body, json_t *b64, gw_http_response *out, const char **reason) {
    if (!json_is_string(body))
        return UA_OK;
    const char *text = json_string_value(body);
    size_t n = json_string_length(body);
    if (!json_is_true(b64))
        return buf_append(&out->body, text, n);
    ua_status st = codec_base64_decode(text, n, CODEC_BASE64_PAD_OPTIONAL, &out->body);
    if (st != UA_ERR_INVALID)
        return st;
    *reason = "isBase64Encoded is true but the body is not base64";
    return UA_OK;
}

/* The status code: an integer, or a string of 1 to 3 digits. 0 when neither. */
unsigned gw_status_of(json_t *v) {
    if (json_is_integer(v)) {
        json_int_t s = json_integer_value(v);
        return s >= 0 && s < 1000 ? (unsigned)s : 0;
    }
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        size_t n = json_string_length(v);
        if (n == 0 || n > 3 || strspn(s, "0123456789") != n)
            return 0;
        return (unsigned)strtoul(s, NULL, 10);
    }
    return 0;
}

static ua_status malformed(gw_http_response *out, gw_fault f, const char **why,
                           const char *reason) {
    if (why)
        *why = reason;
    ua_status st = gw_response_fault(f, out);
    return st == UA_OK ? UA_ERR_INVALID : st;
}

ua_status gw_response_from_proxy(const char *doc, size_t len, gw_http_response *out,
                                 const char **why) {
    reset(out);
    if (why)
        *why = NULL;
    json_error_t err;
    json_t *root = json_loadb(doc, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
    if (!root)
        return malformed(out, GW_FAULT_MALFORMED, why, "the function's answer is not JSON");
    ua_status st = UA_OK;
    const char *reason = NULL;
    json_t *status = NULL, *single = NULL, *multi = NULL, *body = NULL, *b64 = NULL;
    if (!json_is_object(root)) {
        reason = "the function's answer is not a JSON object";
    } else {
        const char *key;
        json_t *v;
        json_object_foreach(root, key, v) {
            if (strcmp(key, "statusCode") == 0)
                status = v;
            else if (strcmp(key, "headers") == 0)
                single = v;
            else if (strcmp(key, "multiValueHeaders") == 0)
                multi = v;
            else if (strcmp(key, "body") == 0)
                body = v;
            else if (strcmp(key, "isBase64Encoded") == 0)
                b64 = v;
            else
                reason = "the function's answer has a key a REST API does not know";
        }
    }
    unsigned code = gw_status_of(status);
    if (!reason && (code < 100 || code > 599))
        reason = "statusCode is missing or not an HTTP status (100..599)";
    if (!reason && ((single && !json_is_object(single) && !json_is_null(single)) ||
                    (multi && !json_is_object(multi) && !json_is_null(multi))))
        reason = "headers or multiValueHeaders is not an object";
    if (!reason && body && !json_is_string(body) && !json_is_null(body))
        reason = "body is not a string";
    if (!reason && b64 && !json_is_boolean(b64) && !json_is_null(b64))
        reason = "isBase64Encoded is not a boolean";
    if (!reason) {
        int rc = translate_headers(single, multi, out);
        if (rc < 0)
            st = UA_ERR_NOMEM;
        else if (rc > 0)
            reason = "a header value is not a string, number or boolean";
    }
    if (!reason && st == UA_OK)
        st = gw_response_body(body, b64, out, &reason);
    if (!reason && st == UA_OK && !gw_http_response_header(out, "Content-Type"))
        st = gw_http_response_add(out, "Content-Type", "application/json");
    json_decref(root);
    if (reason)
        return malformed(out, GW_FAULT_INTERNAL, why, reason);
    if (st == UA_ERR_TOO_BIG)
        return malformed(out, GW_FAULT_INTERNAL, why, "the body is over 6 MB");
    if (st != UA_OK)
        return st;
    out->status = code;
    return UA_OK;
}

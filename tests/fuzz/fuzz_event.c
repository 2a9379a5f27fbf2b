/* fuzz_event.c — the event parser (payload 1.0 and 2.0) on arbitrary bytes: either an
 * invocation error (UA_ERR_INVALID) or a request whose every field keeps apigw.h's promises
 * (members of the types API Gateway sends among them), and an answer in the event's format
 * that is valid JSON. */
#include "fuzz_support.h"

#include "router.h"

#include <stdlib.h>
#include <string.h>

static void check_map(const json_t *map, bool lower, const char *what) {
    const char *name;
    size_t name_len;
    const json_t *vals;
    if (!json_is_object(map))
        fuzz_fail("%s is not an object", what);
    json_object_keylen_foreach((json_t *)map, name, name_len, vals) {
        size_t i;
        const json_t *v;
        if (name_len == 0 || memchr(name, '\0', name_len))
            fuzz_fail("%s holds an empty or NUL-bearing name", what);
        for (size_t k = 0; lower && k < name_len; k++)
            if (name[k] >= 'A' && name[k] <= 'Z')
                fuzz_fail("header name %s is not lower-case", name);
        if (!json_is_array(vals) || json_array_size(vals) == 0)
            fuzz_fail("%s[%s] is not a non-empty array", what, name);
        json_array_foreach(vals, i, v) {
            if (!json_is_string(v) || memchr(json_string_value(v), '\0', json_string_length(v)))
                fuzz_fail("%s[%s][%zu] is not a whole string", what, name, i);
        }
    }
}

/* An accepted event had no member of a type API Gateway never sends it as (docs/decisions.md);
 * restated here for the members the method and path come from, and the maps. */
static void check_member_types(const json_t *root) {
    static const char *const strings[] = {"httpMethod", "path", "rawPath"};
    static const char *const maps[] = {"headers", "multiValueHeaders", "queryStringParameters",
                                       "multiValueQueryStringParameters"};
    for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++) {
        const json_t *v = json_object_get(root, strings[i]);
        if (v && !json_is_string(v))
            fuzz_fail("accepted with %s not a string", strings[i]);
    }
    for (size_t i = 0; i < sizeof maps / sizeof maps[0]; i++) {
        const json_t *v = json_object_get(root, maps[i]);
        if (v && !json_is_object(v) && !json_is_null(v))
            fuzz_fail("accepted with %s neither an object nor null", maps[i]);
    }
    const json_t *http = json_object_get(json_object_get(root, "requestContext"), "http");
    const json_t *method = json_object_get(http, "method");
    if (method && !json_is_string(method))
        fuzz_fail("accepted with requestContext.http.method not a string");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    apigw_event ev;
    ua_status st = apigw_parse((const char *)data, size, "lambda-request-id", &ev);
    if (st != UA_OK) {
        if (st != UA_ERR_INVALID)
            fuzz_fail("apigw_parse: status %d for %zu bytes", (int)st, size);
        if (ev.root || ev.req.headers || ev.req.query)
            fuzz_fail("a failed parse left something behind");
        apigw_event_free(&ev);
        return 0;
    }
    const api_request *r = &ev.req;
    if (ev.format != APIGW_V1 && ev.format != APIGW_V2)
        fuzz_fail("format %d", (int)ev.format);
    if (!r->method || !r->path || !r->request_id || strlen(r->request_id) >= UA_MAX_REQUEST_ID)
        fuzz_fail("method, path or request id missing or too long");
    if (r->path[0] != '\0' && r->path[0] != '/')
        fuzz_fail("path %s does not start with '/'", r->path);
    if (r->body_bad_base64 && r->body)
        fuzz_fail("a body that did not decode was kept");
    if (!r->body && r->body_len)
        fuzz_fail("body length without a body");
    check_member_types(ev.root);
    check_map(r->headers, true, "headers");
    check_map(r->query, false, "query");
    route_match m = router_match(r->method, r->path);
    if (m.id_valid && !router_is_canonical_uuid(m.user_id, strlen(m.user_id)))
        fuzz_fail("router accepted %s", m.user_id);

    /* The same event answered: a 404 problem is enough to exercise the format. */
    api_response resp;
    buf out;
    if (api_response_init(&resp) != UA_OK)
        abort();
    resp.status = 404;
    if (api_response_set_header(&resp, "Content-Type", "application/problem+json") != UA_OK ||
        buf_append_str(&resp.body, "{\"status\":404}") != UA_OK)
        abort();
    buf_init(&out, UA_MAX_RESPONSE_BYTES);
    if (apigw_format_response(ev.format, &resp, &out) != UA_OK)
        fuzz_fail("the answer to a parsed event could not be written");
    json_t *answer = json_loadb(buf_str(&out), out.len, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(answer))
        fuzz_fail("the answer to a parsed event is not a JSON object");
    json_decref(answer);
    buf_free(&out);
    api_response_free(&resp);
    apigw_event_free(&ev);
    return 0;
}

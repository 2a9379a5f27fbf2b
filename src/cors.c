/* cors.c — the CORS response headers (see cors.h). */
#include "cors.h"

#include "span.h"

#include <string.h>

/* The next non-empty entry of a comma-separated list, trimmed; false at the end. */
static bool next_origin(ua_span *rest, ua_span *entry) {
    ua_span piece;
    while (ua_span_split(rest, ',', &piece)) {
        *entry = ua_span_trim_ows(piece);
        if (entry->len > 0)
            return true;
    }
    return false;
}

/* The request's Origin when it was sent exactly once, as a string. */
static bool request_origin(const api_request *req, ua_span *origin) {
    const json_t *vals = req->headers ? json_object_get(req->headers, "origin") : NULL;
    const json_t *v = json_array_size(vals) == 1 ? json_array_get(vals, 0) : NULL;
    if (!json_is_string(v))
        return false;
    *origin = (ua_span){json_string_value(v), json_string_length(v)};
    return true;
}

static ua_status set_header_span(api_response *resp, const char *name, ua_span value) {
    buf tmp;
    buf_init(&tmp, value.len);
    ua_status st = buf_append(&tmp, value.ptr, value.len);
    if (st == UA_OK)
        st = api_response_set_header(resp, name, buf_str(&tmp));
    buf_free(&tmp);
    return st;
}

/* Access-Control-Allow-Origin for a configured list: the request's origin when listed, else
 * the first entry, never an origin that is not on the list. */
static ua_status allow_listed_origin(api_response *resp, const api_request *req, const char *list) {
    ua_span origin = {NULL, 0}, entry, first = {NULL, 0};
    bool have_origin = request_origin(req, &origin);
    ua_span rest = ua_span_from_cstr(list);

    while (next_origin(&rest, &entry)) {
        if (!first.ptr)
            first = entry;
        if (have_origin && ua_span_eq(entry, origin))
            return set_header_span(resp, "Access-Control-Allow-Origin", entry);
    }
    return set_header_span(resp, "Access-Control-Allow-Origin", first);
}

/* NULL, blank, "*" or nothing but commas: any origin, as when ALLOWED_ORIGINS is unset. */
static bool allows_any(const char *allowed) {
    if (!allowed)
        return true;
    ua_span rest = ua_span_from_cstr(allowed), entry;
    ua_span all = ua_span_trim_ows(rest);
    if (all.len == 1 && all.ptr[0] == '*')
        return true;
    return !next_origin(&rest, &entry);
}

ua_status cors_set_headers(api_response *resp, const api_request *req,
                           const char *allowed_origins) {
    ua_status st;

    if (allows_any(allowed_origins)) {
        st = api_response_set_header(resp, "Access-Control-Allow-Origin", "*");
    } else {
        st = allow_listed_origin(resp, req, allowed_origins);
        if (st == UA_OK)
            st = api_response_set_header(resp, "Vary", "Origin");
    }
    if (st == UA_OK)
        st = api_response_set_header(resp, "Access-Control-Expose-Headers", CORS_EXPOSE_HEADERS);
    return st;
}

/* gw_cors.c — the HTTP API's CORS (see gw_cors.h). */
#include "gw_cors.h"

#include "span.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *gw_cors_allow_origin(const char *allowed_origins, const char *origin) {
    if (!origin || !*origin)
        return NULL;
    ua_span rest = ua_span_from_cstr(allowed_origins ? allowed_origins : ""), entry;
    ua_span all = ua_span_trim_ows(rest);
    if (all.len == 0 || (all.len == 1 && all.ptr[0] == '*'))
        return "*";
    ua_span want = ua_span_from_cstr(origin);
    bool listed_any = false;
    while (ua_span_split(&rest, ',', &entry)) {
        entry = ua_span_trim_ows(entry);
        listed_any = listed_any || entry.len > 0;
        if (entry.len > 0 && ua_span_eq(entry, want))
            return origin;
    }
    return listed_any ? NULL : "*"; /* nothing but commas: any origin, as the function reads it */
}

bool gw_cors_is_preflight(const char *method, const char *origin, const char *request_method) {
    return method && strcmp(method, "OPTIONS") == 0 && origin && *origin && request_method &&
           *request_method;
}

ua_status gw_cors_preflight(const char *allowed_origins, const char *origin,
                            gw_http_response *out) {
    gw_http_response_free(out);
    gw_http_response_init(out);
    out->status = 204;
    const char *allow = gw_cors_allow_origin(allowed_origins, origin);
    if (!allow)
        return UA_OK;
    ua_status st = gw_http_response_add(out, "access-control-allow-origin", allow);
    if (st == UA_OK)
        st = gw_http_response_add(out, "access-control-allow-methods", GW_CORS_ALLOW_METHODS);
    if (st == UA_OK)
        st = gw_http_response_add(out, "access-control-allow-headers", GW_CORS_ALLOW_HEADERS);
    if (st == UA_OK)
        st = gw_http_response_add(out, "access-control-max-age", GW_CORS_MAX_AGE);
    return st;
}

ua_status gw_cors_apply(const char *allowed_origins, const char *origin, gw_http_response *out) {
    static const char prefix[] = "access-control-";
    size_t kept = 0;
    for (size_t i = 0; i < out->nheaders; i++) {
        if (strncasecmp(out->headers[i].name, prefix, sizeof prefix - 1) == 0) {
            free(out->headers[i].name);
            free(out->headers[i].value);
        } else {
            out->headers[kept++] = out->headers[i];
        }
    }
    out->nheaders = kept;
    const char *allow = gw_cors_allow_origin(allowed_origins, origin);
    if (!allow)
        return UA_OK;
    ua_status st = gw_http_response_add(out, "access-control-allow-origin", allow);
    if (st == UA_OK)
        st = gw_http_response_add(out, "access-control-expose-headers", GW_CORS_EXPOSE_HEADERS);
    return st;
}

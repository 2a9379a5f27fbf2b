/* gw_event.c — an HTTP request → a REST API proxy event, payload 1.0 (see gw_event.h). */
#include "gw_event.h"

#include <stdio.h>
#include <string.h>

/* headers and multiValueHeaders: the client's, then the ones API Gateway adds. */
static int build_headers(json_t *ev, const gw_request *req) {
    json_t *mv = gw_header_map(req);
    if (!mv)
        return -1;
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
    return gw_json_put(ev, "headers", single) | gw_json_put(ev, "multiValueHeaders", mv);
}

/* queryStringParameters (the last value) and multiValueQueryStringParameters (all). */
static int build_query(json_t *ev, ua_span query) {
    json_t *multi = gw_query_map(query);
    json_t *single = multi ? json_object() : NULL;
    int rc = single ? 0 : -1;
    const char *key;
    json_t *arr;
    json_object_foreach(multi, key, arr) {
        if (rc == 0)
            rc = json_object_set(single, key, json_array_get(arr, json_array_size(arr) - 1));
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
    return gw_json_put(ev, "queryStringParameters", single) |
           gw_json_put(ev, "multiValueQueryStringParameters", multi);
}

static int build_body(json_t *ev, const gw_request *req, json_t *mv) {
    if (req->body_len == 0)
        return gw_json_put(ev, "body", json_null()) |
               gw_json_put(ev, "isBase64Encoded", json_false());
    return gw_put_body(ev, req, json_is_object(mv) ? gw_header_last(mv, "Content-Type") : NULL);
}

static json_t *build_identity(const gw_request *req, json_t *mv) {
    const char *ua = json_is_object(mv) ? gw_header_last(mv, "User-Agent") : NULL;
    return json_pack("{s:n,s:n,s:n,s:n,s:s,s:n,s:n,s:n,s:n,s:n,s:o,s:n}", "cognitoIdentityPoolId",
                     "accountId", "cognitoIdentityId", "caller", "sourceIp",
                     req->source_ip ? req->source_ip : "127.0.0.1", "principalOrgId", "accessKey",
                     "cognitoAuthenticationType", "cognitoAuthenticationProvider", "userArn",
                     "userAgent", ua ? json_string(ua) : json_null(), "user");
}

static json_t *build_context(const gw_request *req, json_t *ev, const char *resource) {
    json_t *mv = json_object_get(ev, "multiValueHeaders");
    const char *host = json_is_object(mv) ? gw_header_last(mv, "Host") : NULL;
    if (!host || !*host)
        host = "localhost";
    char prefix[GW_PREFIX_LEN], when[GW_TIME_LEN];
    gw_domain_prefix(host, prefix);
    gw_request_time(req->time_ms, when);

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

ua_status gw_event_build(const gw_request *req, json_t **out) {
    *out = NULL;
    ua_span path, query;
    if (gw_request_target(req, &path, &query) != UA_OK)
        return UA_ERR_INVALID;

    json_t *ev = json_object();
    if (!ev)
        return UA_ERR_NOMEM;
    ua_span user_id = {NULL, 0};
    const char *resource = gw_match_resource(path.ptr, path.len, &user_id);
    json_t *path_json = gw_wire_string(path.ptr, path.len);
    int rc = gw_json_put(ev, "resource", resource ? json_string(resource) : json_copy(path_json)) |
             gw_json_put(ev, "path", path_json) |
             gw_json_put(ev, "httpMethod", json_string(req->method));
    rc = rc || build_headers(ev, req);
    rc = rc || build_query(ev, query);
    if (rc == 0) {
        json_t *params =
            resource && user_id.ptr
                ? json_pack("{s:o}", "userId", gw_wire_string(user_id.ptr, user_id.len))
                : json_null();
        rc = gw_json_put(ev, "pathParameters", params) |
             gw_json_put(ev, "stageVariables", json_null());
    }
    if (rc == 0) {
        const char *res = json_string_value(json_object_get(ev, "resource"));
        rc = gw_json_put(ev, "requestContext", build_context(req, ev, res));
    }
    rc = rc || build_body(ev, req, json_object_get(ev, "multiValueHeaders"));
    if (rc != 0) {
        json_decref(ev);
        return UA_ERR_NOMEM;
    }
    *out = ev;
    return UA_OK;
}

/* users.c — the Users API's entry point: routes a request (404, 405, the path id), hands it to
 * its operation (ops.h), and adds the headers every answer carries (users-api.md). */
#include "users.h"

#include "cors.h"
#include "op.h"
#include "ops.h"
#include "router.h"

/* ---- The handler ---- */

/* Route (404), method (405), path id (404); then the operation runs the rest in order. */
static ua_status dispatch(op_ctx *h) {
    if (h->route.resource == ROUTE_NONE)
        return op_not_found(h);
    if (h->route.op == OP_NONE) {
        ua_status st = op_problem(h, 405, "METHOD_NOT_ALLOWED",
                                  "The method is not allowed on this resource; see Allow");
        return st == UA_OK ? api_response_set_header(h->resp, "Allow", h->route.allow) : st;
    }
    if (h->route.op == OP_PREFLIGHT)
        return op_preflight(h); /* even for an id that is not canonical: no lookup happens */
    if (h->route.resource == ROUTE_USER && !h->route.id_valid)
        return op_not_found(h);
    switch (h->route.op) {
        case OP_LIST:
            return op_list(h);
        case OP_CREATE:
            return op_create(h);
        case OP_GET:
            return op_get(h);
        case OP_UPDATE_PUT:
        case OP_UPDATE_PATCH:
            return op_update(h);
        case OP_DELETE:
            return op_delete(h);
        default:
            return op_internal_error(h);
    }
}

/* The operation's name in metrics and traces (users_outcome.operation). A list with an email
 * parameter is the lookup, whatever its value. */
static const char *operation_name(const route_match *route, const api_request *req) {
    if (route->resource == ROUTE_NONE)
        return "Unrouted";
    switch (route->op) {
        case OP_PREFLIGHT:
            return "Preflight";
        case OP_LIST:
            return api_query(req, "email", NULL) > 0 ? "FindUserByEmail" : "ListUsers";
        case OP_CREATE:
            return "CreateUser";
        case OP_GET:
            return "GetUser";
        case OP_UPDATE_PUT:
        case OP_UPDATE_PATCH:
            return "UpdateUser";
        case OP_DELETE:
            return "DeleteUser";
        case OP_NONE:
        default:
            return "Unrouted";
    }
}

/* The headers every answer carries. */
static ua_status common_headers(op_ctx *h) {
    ua_status st = api_response_set_header(h->resp, "Cache-Control", "no-store");
    if (st == UA_OK)
        st = api_response_set_header(h->resp, "X-Content-Type-Options", "nosniff");
    if (st == UA_OK)
        st = cors_set_headers(h->resp, h->req, h->deps->allowed_origins);
    return st;
}

/* Last resort when building the answer failed (out of memory, a limit): drop whatever was
 * half-built and answer 500, as a problem document when that still fits. */
static void answer_internal(op_ctx *h) {
    api_response *resp = h->resp;
    if (resp->headers)
        json_object_clear(resp->headers);
    else
        resp->headers = json_object();
    buf_reset(&resp->body);
    resp->status = 500;
    h->out->code = "INTERNAL";
    if (!resp->headers || op_internal_error(h) != UA_OK || common_headers(h) != UA_OK) {
        if (resp->headers)
            json_object_clear(resp->headers);
        buf_reset(&resp->body);
        resp->status = 500;
    }
}

void users_handle(const users_deps *deps, const api_request *req, int64_t deadline_ms,
                  api_response *resp, users_outcome *outcome) {
    api_request safe = *req;
    if (!safe.method)
        safe.method = "";
    if (!safe.request_id)
        safe.request_id = "";
    op_ctx h = {.deps = deps,
                .req = &safe,
                .resp = resp,
                .out = outcome,
                .deadline_ms = deadline_ms,
                .route = router_match(safe.method, safe.path)};

    outcome->route = h.route.template;
    outcome->operation = operation_name(&h.route, &safe);
    outcome->ddb_attempts = 0;
    outcome->ddb_error[0] = '\0';
    outcome->code = NULL;

    ua_status st = resp->headers ? dispatch(&h) : UA_ERR_NOMEM;
    if (st == UA_OK)
        st = common_headers(&h);
    if (st != UA_OK || resp->status == 0)
        answer_internal(&h);
}

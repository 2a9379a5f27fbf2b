/* users.c — the Users API operations: the contract's checks in its order, then one DynamoDB
 * call, then the answer with the headers every response carries (users-api.md). */
#include "users.h"

#include "cors.h"
#include "ddb_value.h"
#include "http_fields.h"
#include "problem.h"
#include "router.h"
#include "user_expr.h"
#include "user_item.h"
#include "user_list.h"
#include "validate.h"

#include <stdio.h>
#include <string.h>

#define JSON_CONTENT_TYPE "application/json; charset=utf-8"
#define PREFLIGHT_ALLOW_HEADERS                                                                    \
    "Content-Type, Authorization, X-Api-Key, X-Amz-Date, X-Amz-Security-Token, If-Match, "         \
    "Idempotency-Key"
#define PREFLIGHT_MAX_AGE "600"
#define DETAIL_SIZE       96u /* a problem detail built here, numbers included */
#define ETAG_SIZE         sizeof "\"-9223372036854775808\"" /* any version, quoted */
#define RETRY_AFTER_SIZE  sizeof "-2147483648"              /* any int of seconds */

/* One request being handled: what every step needs to answer it. */
typedef struct handling {
    const users_deps *deps;
    const api_request *req;
    api_response *resp;
    users_outcome *out;
    int64_t deadline_ms;
    route_match route;
    char token[UA_UUID_LEN + 1]; /* this request's write token; "" until a write needs one */
} handling;

/* The bytes of a JSON string, borrowed from it. */
static ua_span string_span(const json_t *s) {
    return (ua_span){json_string_value(s), json_string_length(s)};
}

/* ---- Answers ---- */

static ua_status problem(handling *h, int status, const char *code, const char *detail) {
    h->out->code = code;
    return problem_write(h->resp, status, code, detail, NULL, h->req->request_id);
}

static ua_status validation_problem(handling *h, const json_t *errors) {
    char detail[DETAIL_SIZE];
    size_t n = json_array_size(errors);
    if (n == 1)
        snprintf(detail, sizeof detail, "1 field is invalid");
    else
        snprintf(detail, sizeof detail, "%zu fields are invalid", n);
    h->out->code = "VALIDATION_FAILED";
    return problem_write(h->resp, 400, "VALIDATION_FAILED", detail, errors, h->req->request_id);
}

/* After the checks: true when they failed (*st) or found errors, which are then answered with
 * a 400 (into *st); either way the operation does not run. */
static bool stopped_by_checks(handling *h, ua_status *st, const json_t *errors) {
    bool found = json_array_size(errors) > 0;
    if (*st == UA_OK && found)
        *st = validation_problem(h, errors);
    return *st != UA_OK || found;
}

static ua_status not_found(handling *h) {
    return problem(h, 404, "NOT_FOUND",
                   h->route.resource == ROUTE_USER ? "No user has this id"
                                                   : "There is no resource at this path");
}

static ua_status internal_error(handling *h) {
    return problem(h, 500, "INTERNAL", "The request could not be completed");
}

static ua_status send_json(handling *h, int status, const json_t *doc) {
    buf_reset(&h->resp->body);
    ua_status st = buf_append_json(&h->resp->body, doc);
    if (st != UA_OK)
        return st;
    h->resp->status = status;
    return api_response_set_header(h->resp, "Content-Type", JSON_CONTENT_TYPE);
}

static ua_status set_etag(handling *h, long long version) {
    char etag[ETAG_SIZE];
    snprintf(etag, sizeof etag, "\"%lld\"", version);
    return api_response_set_header(h->resp, "ETag", etag);
}

/* Answers status with the user for item, and its ETag; 500 when the item is not a user. */
static ua_status send_user(handling *h, int status, const json_t *item) {
    json_t *user;
    long long version;
    ua_status st = user_item_to_user(item, &user, &version);
    if (st == UA_ERR_INVALID)
        return internal_error(h);
    if (st != UA_OK)
        return st;
    st = send_json(h, status, user);
    if (st == UA_OK)
        st = set_etag(h, version);
    json_decref(user);
    return st;
}

/* ---- DynamoDB ---- */

static ddb_status call_ddb(handling *h, ddb_op op, const json_t *request, ddb_reply *reply) {
    ddb_reply_init(reply);
    ddb_status st = h->deps->ddb.call(h->deps->ddb.ctx, op, request, h->deadline_ms, reply);
    h->out->ddb_attempts += reply->attempts;
    if (st != DDB_OK)
        snprintf(h->out->ddb_error, sizeof h->out->ddb_error, "%s", reply->error_type);
    return st;
}

/* The failures every operation answers alike. The error type stays in the outcome, for the
 * log; clients learn only that it was our fault or a passing one. */
static ua_status ddb_failure(handling *h, ddb_status st) {
    if (st != DDB_UNAVAILABLE)
        return internal_error(h);
    ua_status s = problem(h, 503, "SERVICE_UNAVAILABLE",
                          "The service is temporarily unavailable; retry after a moment");
    char secs[RETRY_AFTER_SIZE];
    snprintf(secs, sizeof secs, "%d", UA_RETRY_AFTER_SECONDS);
    return s == UA_OK ? api_response_set_header(h->resp, "Retry-After", secs) : s;
}

/* The item a failed condition returned (ALL_OLD), borrowed; NULL when there was none. */
static const json_t *old_item(const ddb_reply *reply) {
    const json_t *item = json_object_get(reply->body, "Item");
    return json_is_object(item) ? item : NULL;
}

/* Whether the item a failed condition returned carries this request's write token: an earlier
 * attempt of this very request was applied and its answer lost. */
static bool written_by_this_request(const handling *h, const ddb_reply *reply) {
    const char *token = ddb_item_s(old_item(reply), USER_ITEM_WRITE_TOKEN);
    return reply->maybe_applied && h->token[0] && token && strcmp(token, h->token) == 0;
}

/* A write's condition failed: ALL_OLD tells a missing user (404) from another version (412)
 * without a second request. */
static ua_status condition_failure(handling *h, const ddb_reply *reply) {
    if (old_item(reply))
        return problem(h, 412, "PRECONDITION_FAILED",
                       "The user's current version does not match If-Match");
    return not_found(h);
}

/* ---- Media type, size and JSON ---- */

static const char *const JSON_TYPES[] = {"application/json", NULL};
static const char *const PATCH_TYPES[] = {"application/json", "application/merge-patch+json", NULL};

/* Content-Type: exactly one, application/json (or, for PATCH, application/merge-patch+json). */
static bool media_type_ok(const api_request *req, bool patch) {
    const json_t *vals = req->headers ? json_object_get(req->headers, "content-type") : NULL;
    const json_t *v = json_array_size(vals) == 1 ? json_array_get(vals, 0) : NULL;
    return json_is_string(v) &&
           http_media_type_is(string_span(v), patch ? PATCH_TYPES : JSON_TYPES);
}

/* Answers a body jansson refused: which rule it broke, never the parser's raw text (which
 * can quote bytes that are not UTF-8). */
static ua_status json_problem(handling *h, const json_error_t *err) {
    char detail[DETAIL_SIZE];
    /* jansson fails without a message (and without an error code: reading one would read
     * uninitialised memory) only when it cannot allocate its lexer. */
    if (err->text[0] == '\0')
        return UA_ERR_NOMEM;
    switch (json_error_code(err)) {
        case json_error_out_of_memory:
            return UA_ERR_NOMEM;
        case json_error_duplicate_key:
            return problem(h, 400, "INVALID_JSON", "The body has a duplicate key");
        case json_error_numeric_overflow:
            return problem(h, 400, "INVALID_JSON", "The body holds a number out of range");
        case json_error_stack_overflow:
            return problem(h, 400, "INVALID_JSON", "The body is nested too deeply");
        case json_error_null_character:
        case json_error_null_byte_in_key:
            return problem(h, 400, "INVALID_JSON", "The body holds a NUL character");
        case json_error_invalid_utf8:
            return problem(h, 400, "INVALID_JSON", "The body is not valid UTF-8");
        default:
            snprintf(detail, sizeof detail, "The body is not valid JSON (line %d, column %d)",
                     err->line, err->column);
            return problem(h, 400, "INVALID_JSON", detail);
    }
}

/* The body of a create or update as a JSON object, after the media type (415), size (413)
 * and JSON (400) checks. Returns UA_OK with *body NULL when a problem has been answered. */
static ua_status read_body(handling *h, json_t **body) {
    const api_request *req = h->req;
    bool patch = h->route.op == OP_UPDATE_PATCH;
    const char *p = req->body;
    size_t n = p ? req->body_len : 0;

    *body = NULL;
    if (!media_type_ok(req, patch))
        return problem(h, 415, "UNSUPPORTED_MEDIA_TYPE",
                       patch ? "Content-Type must be application/json or "
                               "application/merge-patch+json"
                             : "Content-Type must be application/json");
    if (n > UA_MAX_BODY_BYTES) {
        char detail[DETAIL_SIZE];
        snprintf(detail, sizeof detail, "The body must be at most %u bytes", UA_MAX_BODY_BYTES);
        return problem(h, 413, "PAYLOAD_TOO_LARGE", detail);
    }
    if (req->body_bad_base64)
        return problem(h, 400, "INVALID_JSON", "The body is marked base64 but does not decode");
    if (n == 0)
        return problem(h, 400, "INVALID_JSON", "The body is empty; send a JSON object");
    if (!validate_utf8(p, n))
        return problem(h, 400, "INVALID_JSON", "The body is not valid UTF-8");
    if (memchr(p, '\0', n))
        return problem(h, 400, "INVALID_JSON", "The body holds a NUL character");

    json_error_t err;
    /* An escaped \u0000 is valid JSON: it reaches the field rules (a name or email holding
     * it is VALIDATION_FAILED). A raw NUL byte is not JSON and was refused above. */
    json_t *doc = json_loadb(p, n, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &err);
    if (!doc)
        return json_problem(h, &err);
    if (!json_is_object(doc)) {
        json_decref(doc);
        return problem(h, 400, "INVALID_JSON", "The body must be a JSON object");
    }
    *body = doc;
    return UA_OK;
}

/* ---- If-Match ---- */

/* If-Match, every field line of it, into m; adds an error for the field "If-Match" when it is
 * malformed. When tags were listed but none can match, the condition asks for version 0, which
 * is never written: DynamoDB still tells 404 from 412. */
static ua_status check_if_match(const api_request *req, http_if_match *m, json_t *errors) {
    const json_t *vals = req->headers ? json_object_get(req->headers, "if-match") : NULL;
    const json_t *v;
    size_t i;
    bool ok = true;

    http_if_match_init(m);
    if (json_array_size(vals) == 0)
        return UA_OK;
    json_array_foreach(vals, i, v) {
        ok = ok && json_is_string(v) && http_if_match_add_line(m, string_span(v));
    }
    if (ok && http_if_match_finish(m)) {
        if (m->conditional && m->n == 0)
            m->versions[m->n++] = 0;
        return UA_OK;
    }
    http_if_match_init(m);
    return validate_add_error(errors, "If-Match",
                              "must be \"*\" or a list of entity tags like \"3\"");
}

/* ---- Operations ---- */

static ua_status op_preflight(handling *h) {
    ua_status st = api_response_set_header(h->resp, "Access-Control-Allow-Methods", h->route.allow);
    if (st == UA_OK)
        st = api_response_set_header(h->resp, "Access-Control-Allow-Headers",
                                     PREFLIGHT_ALLOW_HEADERS);
    if (st == UA_OK)
        st = api_response_set_header(h->resp, "Access-Control-Max-Age", PREFLIGHT_MAX_AGE);
    h->resp->status = 204;
    return st;
}

static ua_status op_get(handling *h) {
    json_t *request = json_pack("{s:s, s:o, s:b}", "TableName", h->deps->table, "Key",
                                user_item_key(h->route.user_id), "ConsistentRead", 1);
    if (!request)
        return UA_ERR_NOMEM;
    ddb_reply reply;
    ddb_status ds = call_ddb(h, DDB_GET_ITEM, request, &reply);
    json_decref(request);

    ua_status st;
    const json_t *item = json_object_get(reply.body, "Item");
    if (ds != DDB_OK)
        st = ddb_failure(h, ds);
    else if (!item)
        st = not_found(h);
    else
        st = send_user(h, 200, item);
    ddb_reply_clear(&reply);
    return st;
}

/* The item a create writes: a new id, then this request's write token. */
static ua_status new_item(handling *h, const user_fields *in, json_t **item) {
    char id[UA_UUID_LEN + 1];
    h->deps->new_id(id, h->deps->id_ctx);
    int64_t now = h->deps->now_ms(h->deps->clock_ctx);
    h->deps->new_id(h->token, h->deps->id_ctx);
    return user_item_new(in, id, h->token, now, item);
}

static ua_status put_user(handling *h, const json_t *item) {
    json_t *request = json_pack("{s:s, s:O, s:s, s:s}", "TableName", h->deps->table, "Item", item,
                                "ConditionExpression", "attribute_not_exists(userId)",
                                "ReturnValuesOnConditionCheckFailure", "ALL_OLD");
    if (!request)
        return UA_ERR_NOMEM;
    ddb_reply reply;
    ddb_status ds = call_ddb(h, DDB_PUT_ITEM, request, &reply);
    json_decref(request);

    /* A retry of a put DynamoDB had already applied meets our own item: that is success, and
     * the answer is the one the first attempt would have given. */
    if (ds == DDB_CONDITION_FAILED && written_by_this_request(h, &reply))
        ds = DDB_OK;
    ua_status st = UA_OK;
    if (ds != DDB_OK) {
        st = ddb_failure(h, ds == DDB_CONDITION_FAILED ? DDB_FAILED : ds);
    } else {
        st = send_user(h, 201, item);
        if (st == UA_OK && h->resp->status == 201) {
            char location[sizeof "/users/" + UA_UUID_LEN];
            snprintf(location, sizeof location, "/users/%s", ddb_item_s(item, "userId"));
            st = api_response_set_header(h->resp, "Location", location);
        }
    }
    ddb_reply_clear(&reply);
    return st;
}

static ua_status op_create(handling *h) {
    json_t *body, *errors = NULL, *item = NULL;
    user_fields in;
    ua_status st = read_body(h, &body);
    if (st != UA_OK || !body)
        return st;
    errors = json_array();
    st = errors ? validate_user_fields(body, true, &in, errors) : UA_ERR_NOMEM;
    if (!stopped_by_checks(h, &st, errors) && (st = new_item(h, &in, &item)) == UA_OK)
        st = put_user(h, item);
    json_decref(item);
    json_decref(errors);
    json_decref(body);
    return st;
}

/* The answer to a write whose condition failed or that DynamoDB refused. After a lost answer a
 * failed condition proves nothing by itself: an earlier attempt may have been applied (an
 * update's own token was checked before this). Only an item that still exists proves a delete
 * was not applied (ids are never reused); anything else is an unknown outcome: 503 with
 * Retry-After, never a 404 or 412 that may be false. */
static ua_status write_failure(handling *h, ddb_status ds, const ddb_reply *reply,
                               bool item_proves_not_applied) {
    if (ds != DDB_CONDITION_FAILED)
        return ddb_failure(h, ds);
    if (reply->maybe_applied && !(item_proves_not_applied && old_item(reply))) {
        snprintf(h->out->ddb_error, sizeof h->out->ddb_error,
                 "ConditionalCheckFailedException after a lost answer: outcome unknown");
        return ddb_failure(h, DDB_UNAVAILABLE);
    }
    return condition_failure(h, reply);
}

static ua_status update_user(handling *h, const user_fields *in, const http_if_match *m) {
    user_expr set, cond;
    h->deps->new_id(h->token, h->deps->id_ctx);
    int64_t now = h->deps->now_ms(h->deps->clock_ctx);
    ua_status st = user_expr_init(&set);
    if (user_expr_init(&cond) != UA_OK) /* both initialised, so both can be freed */
        st = UA_ERR_NOMEM;
    if (st == UA_OK)
        st = user_expr_update(&set, in, now, h->token);
    if (st == UA_OK)
        st = user_expr_condition(&cond, &set, true, m->versions, m->n);
    json_t *request = NULL;
    if (st == UA_OK) {
        request = json_pack("{s:s, s:o, s:s, s:s, s:O, s:O, s:s, s:s}", "TableName", h->deps->table,
                            "Key", user_item_key(h->route.user_id), "UpdateExpression",
                            buf_str(&set.text), "ConditionExpression", buf_str(&cond.text),
                            "ExpressionAttributeNames", set.names, "ExpressionAttributeValues",
                            set.values, "ReturnValues", "ALL_NEW",
                            "ReturnValuesOnConditionCheckFailure", "ALL_OLD");
        st = request ? UA_OK : UA_ERR_NOMEM;
    }
    user_expr_free(&set);
    user_expr_free(&cond);
    if (st != UA_OK)
        return st;

    ddb_reply reply;
    ddb_status ds = call_ddb(h, DDB_UPDATE_ITEM, request, &reply);
    json_decref(request);
    if (ds == DDB_OK)
        st = send_user(h, 200, json_object_get(reply.body, "Attributes"));
    else if (ds == DDB_CONDITION_FAILED && written_by_this_request(h, &reply))
        st = send_user(h, 200, old_item(&reply)); /* ALL_OLD is what this request wrote */
    else
        st = write_failure(h, ds, &reply, false);
    ddb_reply_clear(&reply);
    return st;
}

static ua_status op_update(handling *h) {
    json_t *body, *errors;
    user_fields in;
    http_if_match m;
    ua_status st = read_body(h, &body);
    if (st != UA_OK || !body)
        return st;
    errors = json_array();
    st = errors ? validate_user_fields(body, false, &in, errors) : UA_ERR_NOMEM;
    if (st == UA_OK)
        st = check_if_match(h->req, &m, errors);
    if (!stopped_by_checks(h, &st, errors))
        st = update_user(h, &in, &m);
    json_decref(errors);
    json_decref(body);
    return st;
}

static ua_status delete_user(handling *h, const http_if_match *m) {
    user_expr cond;
    ua_status st = user_expr_init(&cond);
    if (st == UA_OK)
        st = user_expr_condition(&cond, &cond, false, m->versions, m->n);
    json_t *request = NULL;
    if (st == UA_OK) {
        request = json_pack("{s:s, s:o, s:s, s:s}", "TableName", h->deps->table, "Key",
                            user_item_key(h->route.user_id), "ConditionExpression",
                            buf_str(&cond.text), "ReturnValuesOnConditionCheckFailure", "ALL_OLD");
        /* DynamoDB refuses empty name and value maps: send them only when used. */
        if (request && json_object_size(cond.names) > 0 &&
            (json_object_set(request, "ExpressionAttributeNames", cond.names) != 0 ||
             json_object_set(request, "ExpressionAttributeValues", cond.values) != 0)) {
            json_decref(request);
            request = NULL;
        }
        st = request ? UA_OK : UA_ERR_NOMEM;
    }
    user_expr_free(&cond);
    if (st != UA_OK)
        return st;

    ddb_reply reply;
    ddb_status ds = call_ddb(h, DDB_DELETE_ITEM, request, &reply);
    json_decref(request);
    if (ds == DDB_OK) {
        json_t *doc =
            json_pack("{s:s, s:s}", "message", "User deleted", "userId", h->route.user_id);
        st = doc ? send_json(h, 200, doc) : UA_ERR_NOMEM;
        json_decref(doc);
    } else {
        st = write_failure(h, ds, &reply, true);
    }
    ddb_reply_clear(&reply);
    return st;
}

static ua_status op_delete(handling *h) {
    http_if_match m;
    json_t *errors = json_array();
    ua_status st = errors ? check_if_match(h->req, &m, errors) : UA_ERR_NOMEM;
    if (!stopped_by_checks(h, &st, errors))
        st = delete_user(h, &m);
    json_decref(errors);
    return st;
}

/* ---- List ---- */

static ua_status scan_users(handling *h, long limit, const char *start_id) {
    json_t *request = json_pack("{s:s, s:I, s:b}", "TableName", h->deps->table, "Limit",
                                (json_int_t)limit, "ConsistentRead", 1);
    if (!request)
        return UA_ERR_NOMEM;
    if (start_id &&
        json_object_set_new(request, "ExclusiveStartKey", user_item_key(start_id)) != 0) {
        json_decref(request);
        return UA_ERR_NOMEM;
    }
    ddb_reply reply;
    ddb_status ds = call_ddb(h, DDB_SCAN, request, &reply);
    json_decref(request);

    ua_status st;
    json_t *doc = NULL;
    if (ds != DDB_OK) {
        st = ddb_failure(h, ds);
    } else {
        st = user_list_page(reply.body, &doc);
        if (st == UA_ERR_INVALID) /* a LastEvaluatedKey that is not ours */
            st = internal_error(h);
        else if (st == UA_OK)
            st = send_json(h, 200, doc);
    }
    json_decref(doc);
    ddb_reply_clear(&reply);
    return st;
}

static ua_status op_list(handling *h) {
    user_list_query q;
    json_t *errors = json_array();
    ua_status st = errors ? user_list_read_query(h->req, &q, errors) : UA_ERR_NOMEM;
    if (!stopped_by_checks(h, &st, errors))
        st = scan_users(h, q.limit, q.has_start ? q.start : NULL);
    json_decref(errors);
    return st;
}

/* ---- The handler ---- */

/* Route (404), method (405), path id (404); then the operation runs the rest in order. */
static ua_status dispatch(handling *h) {
    if (h->route.resource == ROUTE_NONE)
        return not_found(h);
    if (h->route.op == OP_NONE) {
        ua_status st = problem(h, 405, "METHOD_NOT_ALLOWED",
                               "The method is not allowed on this resource; see Allow");
        return st == UA_OK ? api_response_set_header(h->resp, "Allow", h->route.allow) : st;
    }
    if (h->route.op == OP_PREFLIGHT)
        return op_preflight(h); /* even for an id that is not canonical: no lookup happens */
    if (h->route.resource == ROUTE_USER && !h->route.id_valid)
        return not_found(h);
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
            return internal_error(h);
    }
}

/* The headers every answer carries. */
static ua_status common_headers(handling *h) {
    ua_status st = api_response_set_header(h->resp, "Cache-Control", "no-store");
    if (st == UA_OK)
        st = api_response_set_header(h->resp, "X-Content-Type-Options", "nosniff");
    if (st == UA_OK)
        st = cors_set_headers(h->resp, h->req, h->deps->allowed_origins);
    return st;
}

/* Last resort when building the answer failed (out of memory, a limit): drop whatever was
 * half-built and answer 500, as a problem document when that still fits. */
static void answer_internal(handling *h) {
    api_response *resp = h->resp;
    if (resp->headers)
        json_object_clear(resp->headers);
    else
        resp->headers = json_object();
    buf_reset(&resp->body);
    resp->status = 500;
    h->out->code = "INTERNAL";
    if (!resp->headers || internal_error(h) != UA_OK || common_headers(h) != UA_OK) {
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
    handling h = {.deps = deps,
                  .req = &safe,
                  .resp = resp,
                  .out = outcome,
                  .deadline_ms = deadline_ms,
                  .route = router_match(safe.method, safe.path)};

    outcome->route = h.route.template;
    outcome->ddb_attempts = 0;
    outcome->ddb_error[0] = '\0';
    outcome->code = NULL;

    ua_status st = resp->headers ? dispatch(&h) : UA_ERR_NOMEM;
    if (st == UA_OK)
        st = common_headers(&h);
    if (st != UA_OK || resp->status == 0)
        answer_internal(&h);
}

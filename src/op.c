/* op.c — the steps every operation shares (see op.h). */
#include "op.h"

#include "ddb_value.h"
#include "http_fields.h"
#include "problem.h"
#include "user_item.h"
#include "validate.h"

#include <stdio.h>
#include <string.h>

#define DETAIL_SIZE      96u /* a problem detail built here, numbers included */
#define ETAG_SIZE        sizeof "\"-9223372036854775808\"" /* any version, quoted */
#define RETRY_AFTER_SIZE sizeof "-2147483648"              /* any int of seconds */

/* The bytes of a JSON string, borrowed from it. */
static ua_span string_span(const json_t *s) {
    return (ua_span){json_string_value(s), json_string_length(s)};
}

/* ---- Answers ---- */

ua_status op_problem(op_ctx *h, int status, const char *code, const char *detail) {
    h->out->code = code;
    return problem_write(h->resp, status, code, detail, NULL, h->req->request_id);
}

static ua_status validation_problem(op_ctx *h, const json_t *errors) {
    char detail[DETAIL_SIZE];
    size_t n = json_array_size(errors);
    if (n == 1)
        snprintf(detail, sizeof detail, "1 field is invalid");
    else
        snprintf(detail, sizeof detail, "%zu fields are invalid", n);
    h->out->code = "VALIDATION_FAILED";
    return problem_write(h->resp, 400, "VALIDATION_FAILED", detail, errors, h->req->request_id);
}

bool op_stopped_by_checks(op_ctx *h, ua_status *st, const json_t *errors) {
    bool found = json_array_size(errors) > 0;
    if (*st == UA_OK && found)
        *st = validation_problem(h, errors);
    return *st != UA_OK || found;
}

ua_status op_not_found(op_ctx *h) {
    return op_problem(h, 404, "NOT_FOUND",
                      h->route.resource == ROUTE_USER ? "No user has this id"
                                                      : "There is no resource at this path");
}

ua_status op_internal_error(op_ctx *h) {
    return op_problem(h, 500, "INTERNAL", "The request could not be completed");
}

ua_status op_email_taken(op_ctx *h) {
    json_t *errors = json_array();
    ua_status st = errors ? validate_add_error(errors, "email", "is already taken by another user")
                          : UA_ERR_NOMEM;
    h->out->code = "EMAIL_TAKEN";
    if (st == UA_OK)
        st = problem_write(h->resp, 409, "EMAIL_TAKEN", "Another user has this email address",
                           errors, h->req->request_id);
    json_decref(errors);
    return st;
}

void op_reset_answer(op_ctx *h) {
    if (h->resp->headers)
        json_object_clear(h->resp->headers);
    buf_reset(&h->resp->body);
    h->resp->status = 0;
}

ua_status op_send_json(op_ctx *h, int status, const json_t *doc) {
    buf_reset(&h->resp->body);
    ua_status st = buf_append_json(&h->resp->body, doc);
    if (st != UA_OK)
        return st;
    h->resp->status = status;
    return api_response_set_header(h->resp, "Content-Type", OP_JSON_CONTENT_TYPE);
}

ua_status op_set_etag(op_ctx *h, long long version) {
    char etag[ETAG_SIZE];
    snprintf(etag, sizeof etag, "\"%lld\"", version);
    return api_response_set_header(h->resp, "ETag", etag);
}

ua_status op_send_user(op_ctx *h, int status, const json_t *item) {
    json_t *user;
    long long version;
    ua_status st = user_item_to_user(item, &user, &version);
    if (st == UA_ERR_INVALID)
        return op_internal_error(h);
    if (st != UA_OK)
        return st;
    st = op_send_json(h, status, user);
    if (st == UA_OK)
        st = op_set_etag(h, version);
    json_decref(user);
    return st;
}

/* ---- DynamoDB ---- */

ddb_status op_call_ddb(op_ctx *h, ddb_op op, const json_t *request, ddb_reply *reply) {
    ddb_reply_init(reply);
    ddb_status st = h->deps->ddb.call(h->deps->ddb.ctx, op, request, h->deadline_ms, reply);
    h->out->ddb_attempts += reply->attempts;
    if (st != DDB_OK)
        snprintf(h->out->ddb_error, sizeof h->out->ddb_error, "%s", reply->error_type);
    return st;
}

ua_status op_ddb_failure(op_ctx *h, ddb_status st) {
    if (st != DDB_UNAVAILABLE)
        return op_internal_error(h);
    ua_status s = op_problem(h, 503, "SERVICE_UNAVAILABLE",
                             "The service is temporarily unavailable; retry after a moment");
    char secs[RETRY_AFTER_SIZE];
    snprintf(secs, sizeof secs, "%d", UA_RETRY_AFTER_SECONDS);
    return s == UA_OK ? api_response_set_header(h->resp, "Retry-After", secs) : s;
}

const json_t *op_old_item(const ddb_reply *reply) {
    const json_t *item = json_object_get(reply->body, "Item");
    return json_is_object(item) ? item : NULL;
}

bool op_written_by_this_request(const op_ctx *h, const ddb_reply *reply, const json_t *item) {
    const char *token = ddb_item_s(item, USER_ITEM_WRITE_TOKEN);
    return reply->maybe_applied && h->token[0] && token && strcmp(token, h->token) == 0;
}

ua_status op_precondition_failure(op_ctx *h, const json_t *item) {
    if (item)
        return op_problem(h, 412, "PRECONDITION_FAILED",
                          "The user's current version does not match If-Match");
    return op_not_found(h);
}

ddb_status op_read_user(op_ctx *h, ddb_reply *reply) {
    json_t *request = json_pack("{s:s, s:o, s:b}", "TableName", h->deps->table, "Key",
                                user_item_key(h->route.user_id), "ConsistentRead", 1);
    if (!request) {
        ddb_reply_init(reply);
        snprintf(h->out->ddb_error, sizeof h->out->ddb_error, "out of memory");
        return DDB_FAILED;
    }
    ddb_status st = op_call_ddb(h, DDB_GET_ITEM, request, reply);
    json_decref(request);
    return st;
}

ddb_status op_transact(op_ctx *h, json_t *items, const char *client_token, ddb_reply *reply) {
    json_t *request =
        json_pack("{s:o, s:s}", "TransactItems", items, "ClientRequestToken", client_token);
    if (!request) {
        ddb_reply_init(reply);
        snprintf(h->out->ddb_error, sizeof h->out->ddb_error, "out of memory");
        return DDB_FAILED;
    }
    ddb_status st = op_call_ddb(h, DDB_TRANSACT_WRITE_ITEMS, request, reply);
    json_decref(request);
    return st;
}

ua_status op_in_rounds(op_ctx *h, op_round round, void *state, const char *why) {
    bool again = true;
    ua_status st = UA_OK;
    for (unsigned n = 0; again && st == UA_OK && n < UA_WRITE_ROUNDS; n++)
        st = round(h, state, &again);
    if (st != UA_OK || !again)
        return st;
    snprintf(h->out->ddb_error, sizeof h->out->ddb_error, "%s", why);
    return op_ddb_failure(h, DDB_UNAVAILABLE);
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
static ua_status json_problem(op_ctx *h, const json_error_t *err) {
    char detail[DETAIL_SIZE];
    /* jansson fails without a message (and without an error code: reading one would read
     * uninitialised memory) only when it cannot allocate its lexer. */
    if (err->text[0] == '\0')
        return UA_ERR_NOMEM;
    switch (json_error_code(err)) {
        case json_error_out_of_memory:
            return UA_ERR_NOMEM;
        case json_error_duplicate_key:
            return op_problem(h, 400, "INVALID_JSON", "The body has a duplicate key");
        case json_error_numeric_overflow:
            return op_problem(h, 400, "INVALID_JSON", "The body holds a number out of range");
        case json_error_stack_overflow:
            return op_problem(h, 400, "INVALID_JSON", "The body is nested too deeply");
        case json_error_null_character:
        case json_error_null_byte_in_key:
            return op_problem(h, 400, "INVALID_JSON", "The body holds a NUL character");
        case json_error_invalid_utf8:
            return op_problem(h, 400, "INVALID_JSON", "The body is not valid UTF-8");
        default:
            snprintf(detail, sizeof detail, "The body is not valid JSON (line %d, column %d)",
                     err->line, err->column);
            return op_problem(h, 400, "INVALID_JSON", detail);
    }
}

ua_status op_read_body(op_ctx *h, json_t **body) {
    const api_request *req = h->req;
    bool patch = h->route.op == OP_UPDATE_PATCH;
    const char *p = req->body;
    size_t n = p ? req->body_len : 0;

    *body = NULL;
    if (!media_type_ok(req, patch))
        return op_problem(h, 415, "UNSUPPORTED_MEDIA_TYPE",
                          patch ? "Content-Type must be application/json or "
                                  "application/merge-patch+json"
                                : "Content-Type must be application/json");
    if (n > UA_MAX_BODY_BYTES) {
        char detail[DETAIL_SIZE];
        snprintf(detail, sizeof detail, "The body must be at most %u bytes", UA_MAX_BODY_BYTES);
        return op_problem(h, 413, "PAYLOAD_TOO_LARGE", detail);
    }
    if (req->body_bad_base64)
        return op_problem(h, 400, "INVALID_JSON", "The body is marked base64 but does not decode");
    if (n == 0)
        return op_problem(h, 400, "INVALID_JSON", "The body is empty; send a JSON object");
    if (!validate_utf8(p, n))
        return op_problem(h, 400, "INVALID_JSON", "The body is not valid UTF-8");
    if (memchr(p, '\0', n))
        return op_problem(h, 400, "INVALID_JSON", "The body holds a NUL character");

    json_error_t err;
    /* An escaped \u0000 is valid JSON: it reaches the field rules (a name or email holding
     * it is VALIDATION_FAILED). A raw NUL byte is not JSON and was refused above. */
    json_t *doc = json_loadb(p, n, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &err);
    if (!doc)
        return json_problem(h, &err);
    if (!json_is_object(doc)) {
        json_decref(doc);
        return op_problem(h, 400, "INVALID_JSON", "The body must be a JSON object");
    }
    *body = doc;
    return UA_OK;
}

/* ---- If-Match ---- */

ua_status op_check_if_match(const api_request *req, http_if_match *m, json_t *errors) {
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

ua_status op_write_failure(op_ctx *h, ddb_status ds, const ddb_reply *reply,
                           bool item_proves_not_applied) {
    if (ds != DDB_CONDITION_FAILED)
        return op_ddb_failure(h, ds);
    if (reply->maybe_applied && !(item_proves_not_applied && op_old_item(reply))) {
        snprintf(h->out->ddb_error, sizeof h->out->ddb_error,
                 "ConditionalCheckFailedException after a lost answer: outcome unknown");
        return op_ddb_failure(h, DDB_UNAVAILABLE);
    }
    return op_precondition_failure(h, op_old_item(reply));
}

bool op_if_match_passes(const http_if_match *m, long long version) {
    if (!m->conditional)
        return true;
    for (size_t i = 0; i < m->n; i++)
        if (m->versions[i] == version)
            return true;
    return false;
}

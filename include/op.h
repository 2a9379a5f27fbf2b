/* op.h — one request being handled, and the steps every operation shares: the answers (a
 * problem document, a user, a DynamoDB failure), the DynamoDB call that counts its attempts,
 * reading a body through the contract's checks, If-Match, and the lost-answer rules.
 *
 * users.c routes a request and hands an op_ctx to one operation (ops.h); the operations are
 * written with these steps, so that every one of them answers alike. */
#ifndef USERS_OP_H
#define USERS_OP_H

#include "api.h"
#include "common.h"
#include "ddb.h"
#include "http_fields.h"
#include "router.h"
#include "users.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define OP_JSON_CONTENT_TYPE "application/json; charset=utf-8"

/* One request being handled: what every step needs to answer it. */
typedef struct op_ctx {
    const users_deps *deps;
    const api_request *req;
    api_response *resp;
    users_outcome *out;
    int64_t deadline_ms;
    route_match route;
    char token[UA_UUID_LEN + 1]; /* this request's write token; "" until a write needs one */
} op_ctx;

/* ---- Answers ---- */

/* A problem document (problem.h) with code and detail (both static or copied). */
UA_WARN_UNUSED ua_status op_problem(op_ctx *h, int status, const char *code, const char *detail);

/* After the checks: true when they failed (*st) or found errors, which are then answered with
 * a 400 (into *st); either way the operation does not run. */
UA_WARN_UNUSED bool op_stopped_by_checks(op_ctx *h, ua_status *st, const json_t *errors);

UA_WARN_UNUSED ua_status op_not_found(op_ctx *h);      /* 404 for the route's resource */
UA_WARN_UNUSED ua_status op_internal_error(op_ctx *h); /* 500 INTERNAL */

/* status with doc (borrowed) as the JSON body. */
UA_WARN_UNUSED ua_status op_send_json(op_ctx *h, int status, const json_t *doc);

/* ETag: "<version>". */
UA_WARN_UNUSED ua_status op_set_etag(op_ctx *h, long long version);

/* Answers status with the user for item (borrowed), and its ETag; 500 when the item is not a
 * user. */
UA_WARN_UNUSED ua_status op_send_user(op_ctx *h, int status, const json_t *item);

/* 409 EMAIL_TAKEN, naming the field email. */
UA_WARN_UNUSED ua_status op_email_taken(op_ctx *h);

/* Forgets a half-built answer (status, headers and body) so that another can be given. */
void op_reset_answer(op_ctx *h);

/* ---- DynamoDB ---- */

/* Calls op with request (borrowed) by the request's deadline; reply is initialised here and the
 * caller clears it. The attempts and the error type go to the outcome, for the log line. */
UA_WARN_UNUSED ddb_status op_call_ddb(op_ctx *h, ddb_op op, const json_t *request,
                                      ddb_reply *reply);

/* A consistent GetItem of the route's user: reply->body holds "Item" when it exists. */
UA_WARN_UNUSED ddb_status op_read_user(op_ctx *h, ddb_reply *reply);

/* A TransactWriteItems of items (stolen) with client_token as its ClientRequestToken, which
 * makes DynamoDB answer a retry of an applied transaction with success instead of applying it
 * again (for ten minutes, far beyond any deadline). */
UA_WARN_UNUSED ddb_status op_transact(op_ctx *h, json_t *items, const char *client_token,
                                      ddb_reply *reply);

/* The failures every operation answers alike: 503 with Retry-After for DDB_UNAVAILABLE, else
 * 500. The error type stays in the outcome, for the log; clients learn only that it was our
 * fault or a passing one. */
UA_WARN_UNUSED ua_status op_ddb_failure(op_ctx *h, ddb_status st);

/* The item a failed condition returned (ALL_OLD), borrowed; NULL when there was none. */
UA_WARN_UNUSED const json_t *op_old_item(const ddb_reply *reply);

/* Whether item (borrowed, may be NULL) carries this request's write token after a lost
 * answer: an earlier attempt of this very request was applied. */
UA_WARN_UNUSED bool op_written_by_this_request(const op_ctx *h, const ddb_reply *reply,
                                               const json_t *item);

/* The answer to a write whose condition failed or that DynamoDB refused. After a lost answer a
 * failed condition proves nothing by itself: an earlier attempt may have been applied (an
 * update's own token was checked before this). Only an item that still exists proves a delete
 * was not applied (ids are never reused); anything else is an unknown outcome: 503 with
 * Retry-After, never a 404 or 412 that may be false. Without a lost answer, ALL_OLD tells a
 * missing user (404) from another version (412). */
UA_WARN_UNUSED ua_status op_write_failure(op_ctx *h, ddb_status ds, const ddb_reply *reply,
                                          bool item_proves_not_applied);

/* The answer to a write that found ALL_OLD item (borrowed, may be NULL) where it wanted the
 * user at one of m's versions: 404 without an item, else 412. */
UA_WARN_UNUSED ua_status op_precondition_failure(op_ctx *h, const json_t *item);

/* Runs round until it stops asking for another (*again false), at most UA_WRITE_ROUNDS times:
 * a read-then-transaction write whose user moved in between starts over. When the rounds run
 * out, 503 with why in the log. */
typedef ua_status (*op_round)(op_ctx *h, void *state, bool *again);
UA_WARN_UNUSED ua_status op_in_rounds(op_ctx *h, op_round round, void *state, const char *why);

/* ---- The request ---- */

/* The body of a create or update as a JSON object, after the media type (415), size (413)
 * and JSON (400) checks. Returns UA_OK with *body NULL when a problem has been answered. */
UA_WARN_UNUSED ua_status op_read_body(op_ctx *h, json_t **body);

/* If-Match, every field line of it, into m; adds an error for the field "If-Match" when it is
 * malformed. When tags were listed but none can match, the condition asks for version 0, which
 * is never written: DynamoDB still tells 404 from 412. */
UA_WARN_UNUSED ua_status op_check_if_match(const api_request *req, http_if_match *m,
                                           json_t *errors);

/* Whether a user at version passes m: unconditional, or one of its versions. */
UA_WARN_UNUSED bool op_if_match_passes(const http_if_match *m, long long version);

#endif

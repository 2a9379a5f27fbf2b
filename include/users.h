/* users.h — the Users API contract (../shared/spec/users-api.md): the five operations,
 * validation, problem documents, ETag / If-Match, CORS and the response headers.
 *
 * A handler knows nothing of API Gateway or HTTP transport: it reads an api_request and
 * writes an api_response, and reaches DynamoDB, the clock and the id generator only through
 * the collaborators in users_deps, so tests can pass fakes. */
#ifndef USERS_USERS_H
#define USERS_USERS_H

#include "api.h"
#include "common.h"
#include "ddb.h"

#include <stdint.h>

typedef struct users_deps {
    const char *table;           /* DynamoDB table name, borrowed */
    const char *claims_table;    /* the claims table (email claims, idempotency records) */
    const char *allowed_origins; /* ALLOWED_ORIGINS: NULL or "*" = any, else "a,b,c" */
    ddb_port ddb;
    int64_t (*now_ms)(void *ctx); /* wall clock, epoch milliseconds */
    void *clock_ctx;
    void (*new_id)(char out[UA_UUID_LEN + 1], void *ctx); /* lowercase UUID v4 */
    void *id_ctx;
} users_deps;

/* What the invocation log line needs to know of the handling. */
typedef struct users_outcome {
    const char *route; /* "/users", "/users/{userId}" or NULL when unrouted; static */
    /* The operation the request was routed to, also when it was refused (a 400 on POST
     * /users is CreateUser): CreateUser, GetUser, ListUsers, FindUserByEmail, UpdateUser,
     * DeleteUser, Preflight, or Unrouted (no route, or a method the path does not allow);
     * static */
    const char *operation;
    unsigned ddb_attempts;                 /* HTTP requests made to DynamoDB */
    char ddb_error[UA_MAX_DDB_ERROR_TYPE]; /* DynamoDB error type behind a 5xx or 4xx, "" when none
                                            */
    const char *code; /* problem code when the answer is an error, else NULL; static */
} users_outcome;

/* Handles one request: resp (initialised by the caller) receives status, headers and body.
 * deadline_ms is the epoch millisecond by which the answer must be ready. Never fails: even
 * out of memory yields a 500 problem document, or a bare 500 when not even that fits. */
void users_handle(const users_deps *deps, const api_request *req, int64_t deadline_ms,
                  api_response *resp, users_outcome *outcome);

#endif

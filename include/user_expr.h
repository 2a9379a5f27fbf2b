/* user_expr.h — the DynamoDB expressions a write of a user sends: an update's SET (and REMOVE),
 * and the condition of a write on an existing user.
 *
 * Every attribute is aliased ("#name" → name, as DynamoDB reserves words like "name"), and every
 * value is a placeholder (":name" → AttributeValue), recorded beside the text. */
#ifndef USERS_USER_EXPR_H
#define USERS_USER_EXPR_H

#include "buf.h"
#include "common.h"
#include "user_item.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* An expression under construction, with the names and values it refers to. All three are
 * owned by the expression. */
typedef struct user_expr {
    buf text;
    json_t *names;  /* ExpressionAttributeNames: "#attr" → attr */
    json_t *values; /* ExpressionAttributeValues: ":name" → AttributeValue */
} user_expr;

/* An empty expression. UA_ERR_NOMEM when out of memory; e can be freed either way. */
UA_WARN_UNUSED ua_status user_expr_init(user_expr *e);
void user_expr_free(user_expr *e);

/* Appends to e (empty) the update of in: "SET" each field given (email with its emailLower),
 * updatedAt to now_ms (epoch milliseconds), the write token to token (NUL-terminated, borrowed)
 * and version to version + 1, then "REMOVE" age when in->age is JSON null. version and
 * updatedAt change on every update, even one that changes no value. */
UA_WARN_UNUSED ua_status user_expr_update(user_expr *e, const user_fields *in, int64_t now_ms,
                                          const char *token);

/* Appends to cond->text the condition of a write on an existing user: that it exists; with
 * guard_token, that its write token is not this request's (true on a first attempt, false on a
 * retry of a write that was applied: vars must be the update of user_expr_update, whose name
 * and value for the token it uses); and, when n_versions > 0, that its version is one of
 * versions[0..n_versions). The names and values it adds go to vars: the update's own
 * expression, or cond itself when there is no update. */
UA_WARN_UNUSED ua_status user_expr_condition(user_expr *cond, user_expr *vars, bool guard_token,
                                             const long long *versions, size_t n_versions);

/* Appends to cond->text " AND #emailLower = :emailLower": that the stored address is the one
 * the update sets, compared case-insensitively. The name and value it uses are those of
 * user_expr_update for fields that hold an email, sent beside it. */
UA_WARN_UNUSED ua_status user_expr_same_email(user_expr *cond);

#endif

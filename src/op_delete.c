/* op_delete.c — DELETE /users/{userId} (see ops.h): a consistent read names the user's version
 * and address; one TransactWriteItems then deletes the user at exactly that version and
 * releases the address (decisions.md: why a delete costs two requests). */
#include "ops.h"

#include "ddb_txn.h"
#include "ddb_value.h"
#include "email_claim.h"
#include "user_item.h"

#include <stdio.h>
#include <string.h>

enum { AT_USER = 0, AT_CLAIM = 1 }; /* TransactItems order */

/* The transaction that deletes the user stored as item at version, releasing its address when
 * release (the claim is the user's). */
static json_t *delete_items(op_ctx *h, const json_t *item, long long version, bool release) {
    char lower[UA_MAX_EMAIL_OCTETS + 1];
    const char *email = ddb_item_s(item, "email");
    user_item_email_lower((ua_span){email, email ? strlen(email) : 0}, lower);
    json_t *items =
        json_pack("[{s:{s:s, s:o, s:s, s:{s:s}, s:{s:o}}}]", "Delete", "TableName", h->deps->table,
                  "Key", user_item_key(h->route.user_id), "ConditionExpression",
                  "#version = :version", "ExpressionAttributeNames", "#version", "version",
                  "ExpressionAttributeValues", ":version", ddb_av_n(version));
    if (items && release &&
        json_array_append_new(
            items, email_claim_delete(h->deps->claims_table, lower, h->route.user_id)) != 0) {
        json_decref(items);
        items = NULL;
    }
    return items;
}

static ua_status answer_deleted(op_ctx *h) {
    json_t *doc = json_pack("{s:s, s:s}", "message", "User deleted", "userId", h->route.user_id);
    ua_status st = doc ? op_send_json(h, 200, doc) : UA_ERR_NOMEM;
    json_decref(doc);
    return st;
}

/* Deletes the user item (borrowed) read at the start of this round. *again when it moved
 * since, or its address is held by another user: the caller starts over. */
static ua_status delete_read_user(op_ctx *h, const json_t *item, bool *release, bool *again) {
    long long version;
    char client_token[UA_UUID_LEN + 1];
    *again = false;
    if (!ddb_item_n(item, "version", &version))
        return op_internal_error(h);
    json_t *items = delete_items(h, item, version, *release);
    if (!items)
        return UA_ERR_NOMEM;
    h->deps->new_id(client_token, h->deps->id_ctx);

    ddb_reply reply;
    ddb_status ds = op_transact(h, items, client_token, &reply);
    ua_status st = UA_OK;
    if (ds == DDB_OK) {
        st = answer_deleted(h);
    } else if (ds != DDB_CONDITION_FAILED) {
        st = op_ddb_failure(h, ds);
    } else {
        if (ddb_txn_condition_failed(reply.body, AT_CLAIM))
            *release = false; /* held by another user (data from before the back-fill) */
        *again = true;
    }
    ddb_reply_clear(&reply);
    return st;
}

/* A delete across its rounds. */
typedef struct deleting {
    const http_if_match *m;
    bool release; /* the claim is the user's to release (false: another user's) */
} deleting;

/* One round: read the user (404, 412 from what is stored), then the transaction. */
static ua_status delete_round(op_ctx *h, void *state, bool *again) {
    deleting *d = state;
    ddb_reply reply;
    long long version = 0;
    *again = false;
    ddb_status ds = op_read_user(h, &reply);
    const json_t *item = json_object_get(reply.body, "Item");
    ua_status st;
    if (ds != DDB_OK)
        st = op_ddb_failure(h, ds);
    else if (!json_is_object(item))
        st = op_not_found(h);
    else if (ddb_item_n(item, "version", &version) && !op_if_match_passes(d->m, version))
        st = op_precondition_failure(h, item);
    else
        st = delete_read_user(h, item, &d->release, again);
    ddb_reply_clear(&reply);
    return st;
}

static ua_status delete_user(op_ctx *h, const http_if_match *m) {
    deleting d = {.m = m, .release = true};
    return op_in_rounds(h, delete_round, &d, "the user kept changing under a delete");
}

ua_status op_delete(op_ctx *h) {
    http_if_match m;
    json_t *errors = json_array();
    ua_status st = errors ? op_check_if_match(h->req, &m, errors) : UA_ERR_NOMEM;
    if (!op_stopped_by_checks(h, &st, errors))
        st = delete_user(h, &m);
    json_decref(errors);
    return st;
}

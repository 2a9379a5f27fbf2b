/* op_update.c — PUT and PATCH /users/{userId} (see ops.h): the contract's partial update.
 *
 * One UpdateItem, as in phase 1, whenever the stored address stays (case-insensitively) the
 * same: the body has no email, or the same one in any case. When the address changes, that
 * UpdateItem's condition fails and returns the stored item, which names the old address and
 * the version; one TransactWriteItems then updates the user at exactly that version, claims
 * the new address and releases the old (decisions.md: why an address change costs two
 * requests). */
#include "ops.h"

#include "ddb_txn.h"
#include "ddb_value.h"
#include "email_claim.h"
#include "user_expr.h"
#include "user_item.h"
#include "validate.h"

#include <string.h>

/* One update of the route's user: the fields, the If-Match, the time and what a change of
 * address has learnt. */
typedef struct updating {
    const user_fields *in;
    const http_if_match *m;
    int64_t now_ms;
    bool release_old; /* the old claim is the user's to release (false: another user's) */
} updating;

/* The update's parts, without ReturnValues: TableName, Key, the SET of the fields and a
 * condition: that the user exists, and either (first_try) the If-Match versions, the write
 * token guard and, with an email, the same address; or exactly version at_version. New
 * reference into *request; NULL on failure. */
static ua_status update_request(op_ctx *h, const updating *u, bool first_try, long long at_version,
                                json_t **request) {
    user_expr set, cond;
    *request = NULL;
    ua_status st = user_expr_init(&set);
    if (user_expr_init(&cond) != UA_OK) /* both initialised, so both can be freed */
        st = UA_ERR_NOMEM;
    if (st == UA_OK)
        st = user_expr_update(&set, u->in, u->now_ms, h->token);
    if (st == UA_OK && first_try)
        st = user_expr_condition(&cond, &set, true, u->m->versions, u->m->n);
    else if (st == UA_OK)
        st = user_expr_condition(&cond, &set, false, &at_version, 1);
    if (st == UA_OK && first_try && u->in->has_email)
        st = user_expr_same_email(&cond);
    if (st == UA_OK) {
        *request = json_pack("{s:s, s:o, s:s, s:s, s:O, s:O, s:s}", "TableName", h->deps->table,
                             "Key", user_item_key(h->route.user_id), "UpdateExpression",
                             buf_str(&set.text), "ConditionExpression", buf_str(&cond.text),
                             "ExpressionAttributeNames", set.names, "ExpressionAttributeValues",
                             set.values, "ReturnValuesOnConditionCheckFailure", "ALL_OLD");
        st = *request ? UA_OK : UA_ERR_NOMEM;
    }
    user_expr_free(&set);
    user_expr_free(&cond);
    return st;
}

/* The transaction of an address change from old (the stored item): the update at old's
 * version, the new claim, and the release of the old claim when it is the user's. */
static json_t *change_items(op_ctx *h, const updating *u, const json_t *old, long long version) {
    char lower[UA_MAX_EMAIL_OCTETS + 1], old_lower[UA_MAX_EMAIL_OCTETS + 1];
    const char *old_email = ddb_item_s(old, "email");
    user_item_email_lower(u->in->email, lower);
    user_item_email_lower((ua_span){old_email, old_email ? strlen(old_email) : 0}, old_lower);
    json_t *update;
    if (update_request(h, u, false, version, &update) != UA_OK)
        return NULL;
    json_t *items = json_pack("[{s:o}, o]", "Update", update,
                              email_claim_put(h->deps->claims_table, lower, h->route.user_id));
    if (items && u->release_old &&
        json_array_append_new(
            items, email_claim_delete(h->deps->claims_table, old_lower, h->route.user_id)) != 0) {
        json_decref(items);
        items = NULL;
    }
    return items;
}

enum { AT_USER = 0, AT_NEW_CLAIM = 1, AT_OLD_CLAIM = 2 }; /* change_items' order */

/* Changes the address of old (the stored item). *again when the user moved meanwhile, or the
 * old claim was not the user's: the caller starts over. */
static ua_status change_email(op_ctx *h, updating *u, const json_t *old, bool *again) {
    long long version;
    char client_token[UA_UUID_LEN + 1];
    *again = false;
    if (!ddb_item_n(old, "version", &version))
        return op_internal_error(h);
    json_t *items = change_items(h, u, old, version);
    if (!items)
        return UA_ERR_NOMEM;
    /* Each transaction its own token: one reused with other items would be refused. */
    h->deps->new_id(client_token, h->deps->id_ctx);

    ddb_reply reply;
    ddb_status ds = op_transact(h, items, client_token, &reply);
    ua_status st = UA_OK;
    json_t *item = NULL;
    if (ds == DDB_OK) {
        st = user_item_apply(old, u->in, h->token, u->now_ms, &item);
        st = st == UA_ERR_INVALID ? op_internal_error(h) : st;
        if (item)
            st = op_send_user(h, 200, item);
    } else if (ds != DDB_CONDITION_FAILED) {
        st = op_ddb_failure(h, ds);
    } else if (ddb_txn_condition_failed(reply.body, AT_NEW_CLAIM)) {
        st = op_email_taken(h);
    } else {
        /* The user moved since it was read, or the old address is held by another user (data
         * from before the back-fill): start over, releasing only what is the user's. */
        if (ddb_txn_condition_failed(reply.body, AT_OLD_CLAIM))
            u->release_old = false;
        *again = true;
    }
    json_decref(item);
    ddb_reply_clear(&reply);
    return st;
}

/* Whether a failed first try found the user at an If-Match version under another address, with
 * no earlier attempt of its own possibly applied: an address change. */
static bool address_changes(const updating *u, const ddb_reply *reply, const json_t *old) {
    char lower[UA_MAX_EMAIL_OCTETS + 1];
    long long version;
    if (!u->in->has_email || !old || reply->maybe_applied || !ddb_item_n(old, "version", &version))
        return false;
    const char *stored = ddb_item_s(old, "emailLower");
    user_item_email_lower(u->in->email, lower);
    return op_if_match_passes(u->m, version) && (!stored || strcmp(stored, lower) != 0);
}

/* One round: the UpdateItem, then the transaction when the address changes. */
static ua_status update_round(op_ctx *h, void *state, bool *again) {
    updating *u = state;
    json_t *request;
    *again = false;
    ua_status st = update_request(h, u, true, 0, &request);
    if (st == UA_OK && json_object_set_new(request, "ReturnValues", json_string("ALL_NEW")) != 0)
        st = UA_ERR_NOMEM;
    if (st != UA_OK) {
        json_decref(request);
        return st;
    }
    ddb_reply reply;
    ddb_status ds = op_call_ddb(h, DDB_UPDATE_ITEM, request, &reply);
    json_decref(request);
    const json_t *old = op_old_item(&reply);
    if (ds == DDB_OK)
        st = op_send_user(h, 200, json_object_get(reply.body, "Attributes"));
    else if (ds == DDB_CONDITION_FAILED && op_written_by_this_request(h, &reply, old))
        st = op_send_user(h, 200, old); /* ALL_OLD is what this request wrote */
    else if (ds == DDB_CONDITION_FAILED && address_changes(u, &reply, old))
        st = change_email(h, u, old, again);
    else
        st = op_write_failure(h, ds, &reply, false);
    ddb_reply_clear(&reply);
    return st;
}

static ua_status update_user(op_ctx *h, const user_fields *in, const http_if_match *m) {
    updating u = {
        .in = in, .m = m, .now_ms = h->deps->now_ms(h->deps->clock_ctx), .release_old = true};
    h->deps->new_id(h->token, h->deps->id_ctx);
    return op_in_rounds(h, update_round, &u, "the user kept changing under an address change");
}

ua_status op_update(op_ctx *h) {
    json_t *body, *errors;
    user_fields in;
    http_if_match m;
    ua_status st = op_read_body(h, &body);
    if (st != UA_OK || !body)
        return st;
    errors = json_array();
    st = errors ? validate_user_fields(body, false, &in, errors) : UA_ERR_NOMEM;
    if (st == UA_OK)
        st = op_check_if_match(h->req, &m, errors);
    if (!op_stopped_by_checks(h, &st, errors))
        st = update_user(h, &in, &m);
    json_decref(errors);
    json_decref(body);
    return st;
}

/* op_create.c — POST /users (see ops.h): one TransactWriteItems that puts the user, claims its
 * address and, with an Idempotency-Key, records the answer; or the first answer again. */
#include "ops.h"

#include "ddb_txn.h"
#include "ddb_value.h"
#include "email_claim.h"
#include "idempotency.h"
#include "user_item.h"
#include "validate.h"

#include <stdio.h>
#include <string.h>

#define LOCATION_SIZE (sizeof "/users/" + UA_UUID_LEN)

/* The create being made: what its transaction holds, in TransactItems order. */
typedef struct creation {
    const user_fields *in;
    const idempotency_key *key;
    json_t *item;                        /* the user it puts */
    char id[UA_UUID_LEN + 1];            /* its id */
    char hash[IDEMPOTENCY_HASH_SIZE];    /* the request's, with a key */
    size_t at_record, at_user, at_claim; /* indexes in TransactItems */
} creation;

static ua_status set_location(op_ctx *h, const char *id) {
    char location[LOCATION_SIZE];
    snprintf(location, sizeof location, "/users/%s", id);
    return api_response_set_header(h->resp, "Location", location);
}

/* The answer a create gives: 201, the user, its ETag and Location. Built before the write, so
 * that the idempotency record can hold it byte for byte. */
static ua_status answer_created(op_ctx *h, const creation *c) {
    ua_status st = op_send_user(h, 201, c->item);
    if (st == UA_OK && h->resp->status == 201)
        st = set_location(h, c->id);
    return st;
}

/* The first answer to this key again: the recorded body, with the headers it had. */
static ua_status replay(op_ctx *h, const idempotency_record *r) {
    op_reset_answer(h);
    ua_status st = buf_append(&h->resp->body, r->response.ptr, r->response.len);
    h->resp->status = 201;
    if (st == UA_OK)
        st = api_response_set_header(h->resp, "Content-Type", OP_JSON_CONTENT_TYPE);
    if (st == UA_OK)
        st = op_set_etag(h, 1);
    return st == UA_OK ? set_location(h, r->user_id) : st;
}

/* The transaction's items: the record (with a key), the user, the claim. */
static json_t *transact_items(op_ctx *h, creation *c) {
    char lower[UA_MAX_EMAIL_OCTETS + 1];
    user_item_email_lower(c->in->email, lower);
    json_t *items = json_array();
    if (!items)
        return NULL;
    bool ok = true;
    size_t n = 0;
    if (c->key->present) {
        const idempotency_record record = {
            .request_hash = c->hash,
            .user_id = c->id,
            .response = {h->resp->body.data, h->resp->body.len},
        };
        c->at_record = n++;
        ok =
            json_array_append_new(items, idempotency_put(h->deps->claims_table, c->key, &record,
                                                         h->deps->now_ms(h->deps->clock_ctx))) == 0;
    }
    c->at_user = n++;
    ok = ok && json_array_append_new(
                   items,
                   json_pack("{s:{s:s, s:O, s:s, s:s}}", "Put", "TableName", h->deps->table, "Item",
                             c->item, "ConditionExpression", "attribute_not_exists(userId)",
                             "ReturnValuesOnConditionCheckFailure", "ALL_OLD")) == 0;
    c->at_claim = n++;
    ok = ok &&
         json_array_append_new(items, email_claim_put(h->deps->claims_table, lower, c->id)) == 0;
    if (!ok) {
        json_decref(items);
        return NULL;
    }
    return items;
}

/* A cancelled create: the key's record says what its first request answered (the same answer,
 * or 422 for another request); a claim held by another user is 409. After a lost answer the
 * claim may be this request's own (DynamoDB forgot the client token, which it keeps for ten
 * minutes): that is success. */
static ua_status cancelled(op_ctx *h, const creation *c, const ddb_reply *reply) {
    idempotency_record r;
    if (c->key->present && ddb_txn_condition_failed(reply->body, c->at_record)) {
        bool readable = idempotency_record_read(ddb_txn_old_item(reply->body, c->at_record), &r);
        if (readable && strcmp(r.request_hash, c->hash) == 0)
            return replay(h, &r);
        op_reset_answer(h); /* the 201 built before the write: none of it may stay */
        if (!readable)
            return op_internal_error(h);
        return op_problem(h, 422, "IDEMPOTENCY_KEY_REUSED",
                          "This Idempotency-Key was used with another request in the last 24 "
                          "hours");
    }
    /* A retry that met this request's own applied create, should DynamoDB have forgotten the
     * client token (it remembers it ten minutes): the user's write token proves it, and the
     * answer built before the write stands. (The claim's condition lets its owner through,
     * so only the user's condition can fail then.) */
    if (ddb_txn_condition_failed(reply->body, c->at_user) &&
        op_written_by_this_request(h, reply, ddb_txn_old_item(reply->body, c->at_user)))
        return UA_OK;
    if (ddb_txn_condition_failed(reply->body, c->at_claim)) {
        op_reset_answer(h);
        return op_email_taken(h);
    }
    op_reset_answer(h);
    return op_internal_error(h); /* a fresh id already taken: never by chance */
}

static ua_status create_user(op_ctx *h, creation *c) {
    int64_t now = h->deps->now_ms(h->deps->clock_ctx);
    h->deps->new_id(c->id, h->deps->id_ctx);
    h->deps->new_id(h->token, h->deps->id_ctx);
    ua_status st = user_item_new(c->in, c->id, h->token, now, &c->item);
    if (st == UA_OK)
        st = answer_created(h, c);
    if (st != UA_OK || h->resp->status != 201)
        return st;
    json_t *items = transact_items(h, c);
    if (!items)
        return UA_ERR_NOMEM;

    ddb_reply reply;
    ddb_status ds = op_transact(h, items, h->token, &reply);
    if (ds == DDB_CONDITION_FAILED) {
        st = cancelled(h, c, &reply);
    } else if (ds != DDB_OK) {
        op_reset_answer(h);
        st = op_ddb_failure(h, ds);
    }
    ddb_reply_clear(&reply);
    return st;
}

ua_status op_create(op_ctx *h) {
    json_t *body, *errors;
    user_fields in;
    idempotency_key key = {.present = false};
    ua_status st = op_read_body(h, &body);
    if (st != UA_OK || !body)
        return st;
    errors = json_array();
    st = errors ? validate_user_fields(body, true, &in, errors) : UA_ERR_NOMEM;
    if (st == UA_OK)
        st = idempotency_read_key(h->req, &key, errors);
    if (!op_stopped_by_checks(h, &st, errors)) {
        creation c = {.in = &in, .key = &key, .item = NULL};
        if (key.present)
            idempotency_request_hash(&in, c.hash);
        st = create_user(h, &c);
        json_decref(c.item);
    }
    json_decref(errors);
    json_decref(body);
    return st;
}

/* op_read.c — the operations that only read: preflight, get, list and the lookup by email
 * (see ops.h). */
#include "ops.h"

#include "user_item.h"
#include "user_list.h"

#define PREFLIGHT_ALLOW_HEADERS                                                                    \
    "Content-Type, Authorization, X-Api-Key, X-Amz-Date, X-Amz-Security-Token, If-Match, "         \
    "Idempotency-Key"
#define PREFLIGHT_MAX_AGE "600"
/* The index phase 2's lookup queries (decisions.md, "Phase 2: the tables"). */
#define EMAIL_INDEX "emailLower-index"

ua_status op_preflight(op_ctx *h) {
    ua_status st = api_response_set_header(h->resp, "Access-Control-Allow-Methods", h->route.allow);
    if (st == UA_OK)
        st = api_response_set_header(h->resp, "Access-Control-Allow-Headers",
                                     PREFLIGHT_ALLOW_HEADERS);
    if (st == UA_OK)
        st = api_response_set_header(h->resp, "Access-Control-Max-Age", PREFLIGHT_MAX_AGE);
    h->resp->status = 204;
    return st;
}

ua_status op_get(op_ctx *h) {
    ddb_reply reply;
    ddb_status ds = op_read_user(h, &reply);
    const json_t *item = json_object_get(reply.body, "Item");
    ua_status st;
    if (ds != DDB_OK)
        st = op_ddb_failure(h, ds);
    else if (!item)
        st = op_not_found(h);
    else
        st = op_send_user(h, 200, item);
    ddb_reply_clear(&reply);
    return st;
}

/* Sends request (stolen) as op, and answers the page page_of makes of the reply. */
static ua_status read_page(op_ctx *h, ddb_op op, json_t *request,
                           ua_status (*page_of)(const json_t *reply, json_t **doc)) {
    if (!request)
        return UA_ERR_NOMEM;
    ddb_reply reply;
    ddb_status ds = op_call_ddb(h, op, request, &reply);
    json_decref(request);

    ua_status st;
    json_t *doc = NULL;
    if (ds != DDB_OK) {
        st = op_ddb_failure(h, ds);
    } else {
        st = page_of(reply.body, &doc);
        if (st == UA_ERR_INVALID) /* a LastEvaluatedKey that is not ours */
            st = op_internal_error(h);
        else if (st == UA_OK)
            st = op_send_json(h, 200, doc);
    }
    json_decref(doc);
    ddb_reply_clear(&reply);
    return st;
}

static ua_status scan_users(op_ctx *h, const user_list_query *q) {
    json_t *request = json_pack("{s:s, s:I, s:b}", "TableName", h->deps->table, "Limit",
                                (json_int_t)q->limit, "ConsistentRead", 1);
    if (request && q->has_start &&
        json_object_set_new(request, "ExclusiveStartKey", user_item_key(q->start)) != 0) {
        json_decref(request);
        request = NULL;
    }
    return read_page(h, DDB_SCAN, request, user_list_page);
}

/* The lookup: one Query of the email index. A global secondary index cannot be read
 * consistently (decisions.md says what that means for a client). */
static ua_status query_email(op_ctx *h, const user_list_query *q) {
    json_t *request = json_pack("{s:s, s:s, s:s, s:{s:s}, s:{s:{s:s}}, s:I}", "TableName",
                                h->deps->table, "IndexName", EMAIL_INDEX, "KeyConditionExpression",
                                "#emailLower = :emailLower", "ExpressionAttributeNames",
                                "#emailLower", "emailLower", "ExpressionAttributeValues",
                                ":emailLower", "S", q->email_lower, "Limit", (json_int_t)q->limit);
    return read_page(h, DDB_QUERY, request, user_list_lookup_page);
}

ua_status op_list(op_ctx *h) {
    user_list_query q = {.limit = UA_LIST_DEFAULT_LIMIT};
    json_t *errors = json_array();
    ua_status st = errors ? user_list_read_query(h->req, &q, errors) : UA_ERR_NOMEM;
    if (!op_stopped_by_checks(h, &st, errors))
        st = q.has_email ? query_email(h, &q) : scan_users(h, &q);
    json_decref(errors);
    return st;
}

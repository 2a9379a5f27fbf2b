/* backfill.c — claims the addresses of users stored before phase 2 (see backfill.h). */
#include "backfill.h"

#include "clock.h"
#include "ddb_txn.h"
#include "ddb_value.h"
#include "email_claim.h"
#include "user_item.h"

#include <string.h>

#define SCAN_PAGE 100 /* users per Scan page */

/* One DynamoDB call with its own deadline; on failure, a line naming it. */
static ddb_status call(const ddb_port *ddb, ddb_op op, const json_t *request, int64_t timeout_ms,
                       FILE *out, ddb_reply *reply) {
    ddb_reply_init(reply);
    ddb_status st = ddb->call(ddb->ctx, op, request, ua_wall_ms() + timeout_ms, reply);
    if (st != DDB_OK && st != DDB_CONDITION_FAILED) {
        json_t *line = json_pack("{s:s, s:s}", "error", ddb_op_name(op), "type", reply->error_type);
        if (line)
            json_dumpf(line, out, JSON_COMPACT);
        fputc('\n', out);
        json_decref(line);
    }
    return st;
}

/* Prints one JSON line {"conflict": lower, "userId": id, "heldBy": owner} to out. */
static void report_conflict(FILE *out, const char *lower, const char *id, const char *owner) {
    json_t *line = json_pack("{s:s, s:s, s:s?}", "conflict", lower, "userId", id, "heldBy", owner);
    if (line) {
        json_dumpf(line, out, JSON_COMPACT);
        fputc('\n', out);
    }
    json_decref(line);
}

/* The transaction that claims lower for user id (new reference, NULL when out of memory):
 * the user must still hold lower (a ConditionCheck: a user deleted or moved to another
 * address since the Scan gets no claim, which would otherwise block the address for good),
 * and nobody may hold the claim yet (a stricter condition than a create's, so that a claim
 * already naming the user is told apart from one made now: the old claim comes back). */
static json_t *claim_transaction(const char *table, const char *claims_table, const char *lower,
                                 const char *id) {
    json_t *put = email_claim_put(claims_table, lower, id);
    json_t *p = json_object_get(put, "Put");
    if (!p ||
        json_object_set_new(p, "ConditionExpression", json_string("attribute_not_exists(pk)")) !=
            0 ||
        json_object_del(p, "ExpressionAttributeValues") != 0) {
        json_decref(put);
        return NULL;
    }
    return json_pack("{s:[{s:{s:s, s:{s:o}, s:s, s:{s:s}, s:{s:o}}}, o]}", "TransactItems",
                     "ConditionCheck", "TableName", table, "Key", "userId", ddb_av_s(id),
                     "ConditionExpression", "#emailLower = :lower", "ExpressionAttributeNames",
                     "#emailLower", "emailLower", "ExpressionAttributeValues", ":lower",
                     ddb_av_s(lower), put);
}

/* Claims the address of user item (borrowed) from the users table, counting what it found. */
static ua_status claim(const ddb_port *ddb, const char *table, const char *claims_table,
                       const json_t *item, int64_t timeout_ms, FILE *out, backfill_counts *counts) {
    const char *id = ddb_item_s(item, "userId"), *email = ddb_item_s(item, "email");
    if (!id || !email) {
        counts->skipped++;
        return UA_OK;
    }
    char lower[UA_MAX_EMAIL_OCTETS + 1];
    user_item_email_lower((ua_span){email, strlen(email)}, lower);
    json_t *request = claim_transaction(table, claims_table, lower, id);
    if (!request)
        return UA_ERR_NOMEM;
    ddb_reply reply;
    ddb_status st = call(ddb, DDB_TRANSACT_WRITE_ITEMS, request, timeout_ms, out, &reply);
    json_decref(request);

    ua_status result = UA_OK;
    const char *owner = email_claim_owner(ddb_txn_old_item(reply.body, 1));
    if (st == DDB_OK)
        counts->claimed++;
    else if (st != DDB_CONDITION_FAILED)
        result = UA_ERR_IO;
    else if (ddb_txn_condition_failed(reply.body, 0))
        counts->changed++; /* the API changed it since the Scan, and claimed what it wrote */
    else if (owner && strcmp(owner, id) == 0)
        counts->already++;
    else {
        counts->conflicts++;
        report_conflict(out, lower, id, owner);
    }
    ddb_reply_clear(&reply);
    return result;
}

/* Claims the users of one Scan page; *next becomes its LastEvaluatedKey (new reference, NULL
 * on the last page). */
static ua_status page(const ddb_port *ddb, const char *table, const char *claims_table,
                      int64_t timeout_ms, FILE *out, backfill_counts *counts, json_t **next) {
    json_t *request =
        json_pack("{s:s, s:i, s:b, s:s, s:{s:s, s:s}}", "TableName", table, "Limit", SCAN_PAGE,
                  "ConsistentRead", 1, "ProjectionExpression", "#userId, #email",
                  "ExpressionAttributeNames", "#userId", "userId", "#email", "email");
    if (!request)
        return UA_ERR_NOMEM;
    if (*next && json_object_set_new(request, "ExclusiveStartKey", *next) != 0) {
        json_decref(request);
        return UA_ERR_NOMEM;
    }
    *next = NULL;
    ddb_reply reply;
    ddb_status ds = call(ddb, DDB_SCAN, request, timeout_ms, out, &reply);
    json_decref(request);
    ua_status st = ds == DDB_OK ? UA_OK : UA_ERR_IO;
    const json_t *item;
    size_t i;
    json_array_foreach(json_object_get(reply.body, "Items"), i, item) {
        if (st != UA_OK)
            break;
        counts->scanned++;
        st = claim(ddb, table, claims_table, item, timeout_ms, out, counts);
    }
    json_t *last = json_object_get(reply.body, "LastEvaluatedKey");
    if (st == UA_OK && last)
        *next = json_incref(last);
    ddb_reply_clear(&reply);
    return st;
}

ua_status backfill_emails(const ddb_port *ddb, const char *table, const char *claims_table,
                          int64_t call_timeout_ms, FILE *out, backfill_counts *counts) {
    memset(counts, 0, sizeof *counts);
    json_t *next = NULL;
    ua_status st;
    do {
        st = page(ddb, table, claims_table, call_timeout_ms, out, counts, &next);
    } while (st == UA_OK && next);
    json_decref(next);
    json_t *summary = json_pack(
        "{s:I, s:I, s:I, s:I, s:I, s:I, s:b}", "scanned", (json_int_t)counts->scanned, "claimed",
        (json_int_t)counts->claimed, "alreadyClaimed", (json_int_t)counts->already, "changed",
        (json_int_t)counts->changed, "conflicts", (json_int_t)counts->conflicts, "skipped",
        (json_int_t)counts->skipped, "complete", st == UA_OK);
    if (summary) {
        json_dumpf(summary, out, JSON_COMPACT);
        fputc('\n', out);
    }
    json_decref(summary);
    fflush(out);
    return st;
}

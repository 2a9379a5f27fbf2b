/* email_claim.c — the claims that keep addresses unique (see email_claim.h). */
#include "email_claim.h"

#include "ddb_value.h"

#include <stdio.h>

#define OWNER_OR_NOBODY "attribute_not_exists(pk) OR userId = :me"

/* {"pk": {"S": "email#" + lower}}. */
static json_t *claim_key(const char *lower) {
    char pk[sizeof EMAIL_CLAIM_PREFIX + UA_MAX_EMAIL_OCTETS];
    snprintf(pk, sizeof pk, EMAIL_CLAIM_PREFIX "%s", lower);
    return json_pack("{s:o}", "pk", ddb_av_s(pk));
}

json_t *email_claim_put(const char *table, const char *lower, const char *user_id) {
    json_t *item = claim_key(lower);
    if (item && json_object_set_new(item, "userId", ddb_av_s(user_id)) != 0) {
        json_decref(item);
        item = NULL;
    }
    return json_pack("{s:{s:s, s:o, s:s, s:{s:o}, s:s}}", "Put", "TableName", table, "Item", item,
                     "ConditionExpression", OWNER_OR_NOBODY, "ExpressionAttributeValues", ":me",
                     ddb_av_s(user_id), "ReturnValuesOnConditionCheckFailure", "ALL_OLD");
}

json_t *email_claim_delete(const char *table, const char *lower, const char *user_id) {
    return json_pack("{s:{s:s, s:o, s:s, s:{s:o}}}", "Delete", "TableName", table, "Key",
                     claim_key(lower), "ConditionExpression", OWNER_OR_NOBODY,
                     "ExpressionAttributeValues", ":me", ddb_av_s(user_id));
}

const char *email_claim_owner(const json_t *claim) {
    return ddb_item_s(claim, "userId");
}

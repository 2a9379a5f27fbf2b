/* ddb_txn.c — why DynamoDB cancelled a transaction (see ddb_txn.h). */
#include "ddb_txn.h"

#include <string.h>

/* The reason for item i, borrowed; NULL when there is none. */
static const json_t *reason(const json_t *error_body, size_t i) {
    const json_t *r = json_array_get(json_object_get(error_body, "CancellationReasons"), i);
    return json_is_object(r) ? r : NULL;
}

static const char *reason_code(const json_t *r) {
    const char *code = json_string_value(json_object_get(r, "Code"));
    return code ? code : "";
}

static bool passing_fault(const char *code) {
    static const char *const faults[] = {"TransactionConflict", "ProvisionedThroughputExceeded",
                                         "ThrottlingError"};
    for (size_t i = 0; i < sizeof faults / sizeof faults[0]; i++)
        if (strcmp(code, faults[i]) == 0)
            return true;
    return false;
}

ddb_txn_verdict ddb_txn_judge(const json_t *error_body) {
    const json_t *reasons = json_object_get(error_body, "CancellationReasons");
    const json_t *r;
    size_t i;
    bool fault = false, other = false;
    json_array_foreach(reasons, i, r) {
        const char *code = reason_code(r);
        if (strcmp(code, "ConditionalCheckFailed") == 0)
            return DDB_TXN_CONDITION;
        if (passing_fault(code))
            fault = true;
        else if (strcmp(code, "None") != 0)
            other = true;
    }
    return fault && !other ? DDB_TXN_RETRY : DDB_TXN_FAILED;
}

bool ddb_txn_condition_failed(const json_t *error_body, size_t i) {
    const json_t *r = reason(error_body, i);
    return r && strcmp(reason_code(r), "ConditionalCheckFailed") == 0;
}

const json_t *ddb_txn_old_item(const json_t *error_body, size_t i) {
    if (!ddb_txn_condition_failed(error_body, i))
        return NULL;
    const json_t *item = json_object_get(reason(error_body, i), "Item");
    return json_is_object(item) ? item : NULL;
}

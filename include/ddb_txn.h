/* ddb_txn.h — TransactWriteItems: reading why DynamoDB cancelled a transaction.
 *
 * A cancelled transaction answers TransactionCanceledException with one reason per item, in
 * the order of TransactItems: {"Code": "None"} for an item that was fine, {"Code":
 * "ConditionalCheckFailed", "Item": {...}} for one whose condition failed (Item when the item
 * asked for ReturnValuesOnConditionCheckFailure ALL_OLD and existed), or a passing fault
 * ("TransactionConflict", "ProvisionedThroughputExceeded", "ThrottlingError"). Pure functions
 * over the error document; every argument is borrowed. */
#ifndef USERS_DDB_TXN_H
#define USERS_DDB_TXN_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* What a cancellation means for the whole call. */
typedef enum ddb_txn_verdict {
    DDB_TXN_CONDITION, /* an item's condition failed: the answer is the caller's to give */
    DDB_TXN_RETRY,     /* only passing faults (a conflict, throttling): the same request may pass */
    DDB_TXN_FAILED     /* anything else (a validation error, no reasons): not retried */
} ddb_txn_verdict;

/* The verdict for the error document of a TransactionCanceledException. A failed condition
 * outweighs a passing fault on another item: retrying cannot make that condition true. */
ddb_txn_verdict ddb_txn_judge(const json_t *error_body);

/* Whether the condition of item i (0-based, in TransactItems order) failed. */
bool ddb_txn_condition_failed(const json_t *error_body, size_t i);

/* The item as it was when item i's condition failed (ALL_OLD), borrowed; NULL when its
 * condition did not fail, it asked for no values, or no item existed. */
const json_t *ddb_txn_old_item(const json_t *error_body, size_t i);

#endif

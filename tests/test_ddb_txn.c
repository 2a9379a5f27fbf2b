/* test_ddb_txn.c — reading why DynamoDB cancelled a transaction (ddb_txn.h), on error documents
 * shaped as DynamoDB sends them for TransactionCanceledException. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ddb_txn.h"
#include "ddb_value.h"

#include <stdio.h>
#include <stdlib.h>

#define TYPE "com.amazonaws.dynamodb.v20120810#TransactionCanceledException"
/* The reasons as DynamoDB words them. */
#define R_NONE "{\"Code\":\"None\"}"
#define R_FAILED                                                                                   \
    "{\"Code\":\"ConditionalCheckFailed\",\"Message\":\"The conditional request failed\"}"
#define R_FAILED_WITH_ITEM                                                                         \
    "{\"Code\":\"ConditionalCheckFailed\",\"Message\":\"The conditional request failed\","         \
    "\"Item\":{\"pk\":{\"S\":\"email#ada@example.com\"},"                                          \
    "\"userId\":{\"S\":\"0b6f3c9e-1d2a-4e5f-8a7b-9c0d1e2f3a4b\"}}}"
#define R_CONFLICT                                                                                 \
    "{\"Code\":\"TransactionConflict\",\"Message\":\"Transaction is ongoing for the item\"}"
#define R_THROUGHPUT                                                                               \
    "{\"Code\":\"ProvisionedThroughputExceeded\",\"Message\":\"The level of configured "           \
    "provisioned throughput for the table was exceeded\"}"
#define R_THROTTLED                                                                                \
    "{\"Code\":\"ThrottlingError\",\"Message\":\"Throughput exceeds the current capacity for one " \
    "or more global secondary indexes\"}"
#define R_VALIDATION                                                                               \
    "{\"Code\":\"ValidationError\",\"Message\":\"One or more parameter values were invalid\"}"

/* The error document of a cancellation with reasons (a JSON array's text). */
static json_t *cancelled(const char *reasons) {
    char text[2048];
    snprintf(text, sizeof text,
             "{\"__type\":\"" TYPE "\",\"CancellationReasons\":%s,\"Message\":\"Transaction "
             "cancelled, please refer cancellation reasons for specific reasons\"}",
             reasons);
    json_error_t err;
    json_t *doc = json_loads(text, 0, &err);
    if (!doc)
        fail_msg("%s: %s", err.text, text);
    return doc;
}

static ddb_txn_verdict judge(const char *reasons) {
    json_t *doc = cancelled(reasons);
    ddb_txn_verdict v = ddb_txn_judge(doc);
    json_decref(doc);
    return v;
}

static void test_a_failed_condition_is_the_callers_answer(void **state) {
    (void)state;
    static const char *const reasons[] = {
        "[" R_FAILED "]",
        "[" R_NONE "," R_FAILED_WITH_ITEM "]",
        "[" R_NONE "," R_NONE "," R_FAILED "]",
        "[" R_FAILED "," R_FAILED_WITH_ITEM "]",
        /* retrying cannot make a condition true: it outweighs a passing fault */
        "[" R_CONFLICT "," R_FAILED "]",
        "[" R_FAILED "," R_THROTTLED "]",
        /* and whatever else went wrong with another item */
        "[" R_VALIDATION "," R_FAILED "]",
    };
    for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
        if (judge(reasons[i]) != DDB_TXN_CONDITION)
            fail_msg("%s is not a failed condition", reasons[i]);
}

static void test_only_passing_faults_are_retried(void **state) {
    (void)state;
    static const char *const reasons[] = {
        "[" R_CONFLICT "]",
        "[" R_NONE "," R_CONFLICT "]",
        "[" R_CONFLICT "," R_NONE "," R_CONFLICT "]",
        "[" R_THROUGHPUT "," R_NONE "]",
        "[" R_NONE "," R_THROTTLED "," R_CONFLICT "]",
    };
    for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
        if (judge(reasons[i]) != DDB_TXN_RETRY)
            fail_msg("%s is not retried", reasons[i]);
}

static void test_anything_else_fails(void **state) {
    (void)state;
    static const char *const reasons[] = {
        "[" R_VALIDATION "]",
        "[" R_CONFLICT "," R_VALIDATION "]", /* the validation error would come back */
        "[" R_NONE "," R_NONE "]",           /* cancelled, yet no item says why */
        "[]",
        "[{\"Code\":\"ItemCollectionSizeLimitExceeded\"}," R_NONE "]",
        "[{\"Code\":\"conditionalcheckfailed\"}]", /* codes are exact */
        "[{\"Code\":\"TransactionConflict \"}]",
        "[{}]",
        "[{\"Code\":null}]",
        "[{\"Code\":7}]",
        "[\"ConditionalCheckFailed\"]",
        "[null," R_NONE "]",
        "{\"Code\":\"ConditionalCheckFailed\"}",
        "\"ConditionalCheckFailed\"",
        "null",
    };
    for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
        if (judge(reasons[i]) != DDB_TXN_FAILED)
            fail_msg("%s does not fail", reasons[i]);
    /* No reasons at all: a body without them, or none. */
    json_t *bare = json_pack("{s:s, s:s}", "__type", TYPE, "Message", "Transaction cancelled");
    assert_int_equal(ddb_txn_judge(bare), DDB_TXN_FAILED);
    json_decref(bare);
    assert_int_equal(ddb_txn_judge(NULL), DDB_TXN_FAILED);
}

/* Which item's condition failed, by its place in TransactItems. */
static void test_which_condition_failed(void **state) {
    (void)state;
    json_t *doc = cancelled("[" R_NONE "," R_FAILED_WITH_ITEM "," R_CONFLICT "," R_FAILED "]");
    static const bool failed[] = {false, true, false, true, false, false};
    for (size_t i = 0; i < sizeof failed / sizeof failed[0]; i++)
        if (ddb_txn_condition_failed(doc, i) != failed[i])
            fail_msg("item %zu: condition failed should be %d", i, failed[i]);
    json_decref(doc);
    assert_false(ddb_txn_condition_failed(NULL, 0));
    doc = cancelled("[null,{\"Code\":5}]");
    assert_false(ddb_txn_condition_failed(doc, 0));
    assert_false(ddb_txn_condition_failed(doc, 1));
    json_decref(doc);
}

/* The ALL_OLD item of a failed condition, borrowed from the document. */
static void test_old_item(void **state) {
    (void)state;
    json_t *doc = cancelled("[" R_NONE "," R_FAILED_WITH_ITEM "," R_FAILED "," R_CONFLICT "]");
    const json_t *item = ddb_txn_old_item(doc, 1);
    assert_non_null(item);
    assert_string_equal(ddb_item_s(item, "pk"), "email#ada@example.com");
    assert_string_equal(ddb_item_s(item, "userId"), "0b6f3c9e-1d2a-4e5f-8a7b-9c0d1e2f3a4b");
    assert_ptr_equal(
        item,
        json_object_get(json_array_get(json_object_get(doc, "CancellationReasons"), 1), "Item"));
    assert_null(ddb_txn_old_item(doc, 0)); /* its condition held */
    assert_null(ddb_txn_old_item(doc, 2)); /* failed, but nothing was stored (or asked for) */
    assert_null(ddb_txn_old_item(doc, 3));
    assert_null(ddb_txn_old_item(doc, 4));
    json_decref(doc);

    /* An Item beside a reason that is not a failed condition is not an old item; nor is an
     * Item that is not a map. */
    doc = cancelled("[{\"Code\":\"None\",\"Item\":{\"pk\":{\"S\":\"x\"}}},"
                    "{\"Code\":\"ConditionalCheckFailed\",\"Item\":\"x\"},"
                    "{\"Code\":\"ConditionalCheckFailed\",\"Item\":[]}]");
    assert_null(ddb_txn_old_item(doc, 0));
    assert_null(ddb_txn_old_item(doc, 1));
    assert_null(ddb_txn_old_item(doc, 2));
    json_decref(doc);
    assert_null(ddb_txn_old_item(NULL, 0));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_failed_condition_is_the_callers_answer),
        cmocka_unit_test(test_only_passing_faults_are_retried),
        cmocka_unit_test(test_anything_else_fails),
        cmocka_unit_test(test_which_condition_failed),
        cmocka_unit_test(test_old_item),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_ddb_retry.c — the contract's retry policy: what is retried, the full-jitter backoff,
 * and how long one attempt may wait. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ddb_retry.h"

#include <limits.h>

static void test_is_retryable(void **state) {
    (void)state;
    static const struct {
        long status;
        const char *type;
        bool retry;
    } cases[] = {
        {400, "ProvisionedThroughputExceededException", true},
        {400, "ThrottlingException", true},
        {400, "RequestLimitExceeded", true},
        {500, "InternalServerError", true},
        {503, "ServiceUnavailable", true},
        {500, NULL, true},
        {502, "", true},
        {504, "", true},
        {400, "ConditionalCheckFailedException", false},
        {400, "ValidationException", false},
        {400, "ResourceNotFoundException", false},
        {400, "AccessDeniedException", false},
        {400, "UnrecognizedClientException", false},
        {400, "TransactionCanceledException", false}, /* judged by its reasons: ddb_txn.h */
        {400, "TransactionConflictException", true},
        {400, "TransactionInProgressException", true},
        {400, "", false},
        {404, NULL, false},
        {200, NULL, false},
        {429, NULL, true}, /* a throttling proxy in front of the endpoint */
        {429, "", true},
        {499, NULL, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (ddb_is_retryable(cases[i].status, cases[i].type) != cases[i].retry)
            fail_msg("ddb_is_retryable(%ld, %s) should be %d", cases[i].status,
                     cases[i].type ? cases[i].type : "NULL", cases[i].retry);
}

static void test_backoff_is_full_jitter_under_the_cap(void **state) {
    (void)state;
    static const uint32_t rnds[] = {0u, 1u, 0x12345678u, 0x80000000u, 0xFFFFFFFEu, 0xFFFFFFFFu};
    for (unsigned attempt = 1; attempt <= 40; attempt++) {
        int64_t ceiling = UA_DDB_BACKOFF_BASE_MS;
        for (unsigned i = 1; i < attempt && ceiling < UA_DDB_BACKOFF_CAP_MS; i++)
            ceiling *= 2;
        if (ceiling > UA_DDB_BACKOFF_CAP_MS)
            ceiling = UA_DDB_BACKOFF_CAP_MS;
        for (size_t k = 0; k < sizeof rnds / sizeof rnds[0]; k++) {
            int64_t ms = ddb_backoff_ms(attempt, rnds[k]);
            assert_true(ms >= 0);
            assert_true(ms < ceiling);
        }
        /* The whole range is used: 0 at the bottom, just under the ceiling at the top. */
        assert_int_equal(ddb_backoff_ms(attempt, 0), 0);
        assert_int_equal(ddb_backoff_ms(attempt, 0xFFFFFFFFu), ceiling - 1);
        assert_int_equal(ddb_backoff_ms(attempt, 0x80000000u), ceiling / 2);
    }
    assert_int_equal(ddb_backoff_ms(1, 0xFFFFFFFFu), UA_DDB_BACKOFF_BASE_MS - 1);
    assert_int_equal(ddb_backoff_ms(2, 0xFFFFFFFFu), 2 * UA_DDB_BACKOFF_BASE_MS - 1);
    assert_int_equal(ddb_backoff_ms(1000, 0xFFFFFFFFu), UA_DDB_BACKOFF_CAP_MS - 1);
    assert_int_equal(ddb_backoff_ms(UINT_MAX, 0xFFFFFFFFu), UA_DDB_BACKOFF_CAP_MS - 1);
    assert_int_equal(ddb_backoff_ms(0, 0xFFFFFFFFu), 0); /* no retry yet: no pause */
}

static void test_attempt_timeout_leaves_room_for_a_retry(void **state) {
    (void)state;
    static const struct {
        int64_t left, want;
    } cases[] = {{2700, 1350},
                 {10000, UA_DDB_ATTEMPT_TIMEOUT_MS},
                 {4000, UA_DDB_ATTEMPT_TIMEOUT_MS},
                 {3999, 1999},
                 {200, 100},
                 {199, 199},
                 {1, 1}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (ddb_attempt_timeout_ms(cases[i].left) != cases[i].want)
            fail_msg("left %lld: %lld, want %lld", (long long)cases[i].left,
                     (long long)ddb_attempt_timeout_ms(cases[i].left), (long long)cases[i].want);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_is_retryable),
        cmocka_unit_test(test_backoff_is_full_jitter_under_the_cap),
        cmocka_unit_test(test_attempt_timeout_leaves_room_for_a_retry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* ddb_retry.c — the contract's retry policy for DynamoDB calls (see ddb_retry.h). */
#include "ddb_retry.h"

#include <string.h>

bool ddb_is_retryable(long http_status, const char *error_type) {
    static const char *const retried[] = {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
        /* an item is held by a transaction, or this transaction's token is still running */
        "TransactionConflictException",
        "TransactionInProgressException",
    };
    /* 429 is not DynamoDB's, but a proxy in front of an endpoint may throttle with it. */
    if (http_status >= 500 || http_status == 429)
        return true;
    if (!error_type)
        return false;
    for (size_t i = 0; i < sizeof retried / sizeof retried[0]; i++)
        if (strcmp(error_type, retried[i]) == 0)
            return true;
    return false;
}

int64_t ddb_backoff_ms(unsigned attempt, uint32_t rnd) {
    if (attempt == 0)
        return 0;
    int64_t ceiling = UA_DDB_BACKOFF_BASE_MS;
    for (unsigned i = 1; i < attempt && ceiling < UA_DDB_BACKOFF_CAP_MS; i++)
        ceiling *= 2;
    if (ceiling > UA_DDB_BACKOFF_CAP_MS)
        ceiling = UA_DDB_BACKOFF_CAP_MS;
    /* Scale rnd into [0, ceiling) without modulo bias. */
    return (int64_t)(((uint64_t)rnd * (uint64_t)ceiling) >> 32);
}

int64_t ddb_attempt_timeout_ms(int64_t left) {
    int64_t half = left / 2;
    if (half < UA_DDB_MIN_ATTEMPT_MS)
        return left;
    return half < UA_DDB_ATTEMPT_TIMEOUT_MS ? half : UA_DDB_ATTEMPT_TIMEOUT_MS;
}

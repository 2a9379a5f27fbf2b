/* ddb_retry.h — the contract's retry policy for DynamoDB calls (users-api.md, "When DynamoDB
 * misbehaves"): what is retried, how long to pause between attempts, how long one attempt may
 * wait.
 *
 * Pure functions of their arguments and the UA_DDB_* constants in common.h: no clock, no
 * randomness of their own, no I/O, so the client (ddb.c) decides when and tests check every
 * number. */
#ifndef USERS_DDB_RETRY_H
#define USERS_DDB_RETRY_H

#include "common.h"

#include <stdbool.h>
#include <stdint.h>

/* Whether an HTTP status and error type are retried: 5xx, 429, and the throttling and
 * server-error types (ProvisionedThroughputExceededException, ThrottlingException,
 * RequestLimitExceeded, InternalServerError, ServiceUnavailable) and the passing transaction
 * faults (TransactionConflictException, TransactionInProgressException). A
 * TransactionCanceledException is not among them: ddb_txn_judge reads its reasons.
 * error_type (borrowed) may be NULL. */
bool ddb_is_retryable(long http_status, const char *error_type);

/* Full-jitter backoff before retry number attempt (1 = first retry): uniform in
 * [0, min(UA_DDB_BACKOFF_CAP_MS, UA_DDB_BACKOFF_BASE_MS * 2^(attempt-1))), using rnd, a
 * uniform 32-bit random value. 0 for attempt 0. */
int64_t ddb_backoff_ms(unsigned attempt, uint32_t rnd);

/* How long one attempt may wait when left ms remain before the client must stop: half of it,
 * so that a retry still fits after a stalled connection, at most UA_DDB_ATTEMPT_TIMEOUT_MS;
 * all of it when half would be under UA_DDB_MIN_ATTEMPT_MS (that attempt is the last). */
int64_t ddb_attempt_timeout_ms(int64_t left);

#endif

/* fuzz_support.h — what the libFuzzer targets share: failing loudly, a fake DynamoDB whose
 * plausible canned replies are chosen by input bytes, and the invariants every answer of the
 * API keeps whatever it was sent (users-api.md, "Requests that are wrong").
 *
 * A broken invariant aborts, so libFuzzer keeps the input as a crash and scripts/fuzz.sh
 * fails. */
#ifndef USERS_FUZZ_SUPPORT_H
#define USERS_FUZZ_SUPPORT_H

#include "api.h"
#include "apigw.h"
#include "common.h"
#include "ddb.h"
#include "fake_ddb.h"
#include "users.h"

#include <stddef.h>
#include <stdint.h>

/* libFuzzer's entry point, defined by each target. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Prints why (and the answer when given) and aborts. */
_Noreturn void fuzz_fail(const char *fmt, ...) UA_PRINTF(1, 2);

/* A DynamoDB port that records calls (through fake_ddb) and answers each with a canned reply
 * picked by kind and variant: success with a user, an empty or missing body, a failed
 * condition with or without the old item (for PutItem, sometimes the very item that was sent,
 * as after a retried write), throttling, a validation error, items that are not users, and
 * page keys that are not ours. */
typedef struct fuzz_ddb {
    fake_ddb fake;
    uint8_t kind;
    uint8_t variant;
} fuzz_ddb;

void fuzz_ddb_init(fuzz_ddb *f, uint8_t kind, uint8_t variant);
void fuzz_ddb_free(fuzz_ddb *f);
ddb_port fuzz_ddb_port(fuzz_ddb *f);

/* users_deps for the fakes: a fixed clock and predictable ids; allowed_origins as given. */
users_deps fuzz_deps(fuzz_ddb *f, const char *allowed_origins);

/* Every invariant of one handled request: status 100..599; exactly the headers every answer
 * carries, each a token name with a value free of control characters; a problem document of
 * the contract's shape (code matching status, errors[] well formed, requestId) or a success
 * body of the resource's shape; an Allow on 405 and a Retry-After on 503; at most one
 * DynamoDB call, and none for an answer the contract gives before DynamoDB; and a proxy
 * answer in format that is valid JSON saying the same. */
void fuzz_check_answer(const users_deps *deps, const fuzz_ddb *ddb, const api_request *req,
                       const api_response *resp, const users_outcome *outcome, apigw_format format);

#endif

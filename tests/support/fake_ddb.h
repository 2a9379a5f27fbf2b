/* fake_ddb.h — test doubles for the users handler: a DynamoDB port that records every call and
 * answers from a script, a fixed clock and a predictable id generator.
 *
 * Tests script replies with fake_ddb_push*, hand fake_ddb_port() to the code under test, then
 * look at f->calls: how many requests were made, which operation, and the request document. */
#ifndef USERS_FAKE_DDB_H
#define USERS_FAKE_DDB_H

#include "common.h"
#include "ddb.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FAKE_DDB_MAX_CALLS   16
#define FAKE_DDB_MAX_REPLIES 16

/* What the port returns when the script has run out: tests that expect no call see it. */
#define FAKE_DDB_UNSCRIPTED "FakeUnscriptedCall"

typedef struct fake_ddb_call {
    ddb_op op;
    json_t *request; /* a deep copy of what the caller sent, owned; NULL when copying ran
                        out of memory (allocation-failure tests) */
    int64_t deadline_ms;
} fake_ddb_call;

typedef struct fake_ddb_reply {
    ddb_status status;
    json_t *body; /* owned until handed to the caller */
    char error_type[96];
    unsigned attempts;
    bool maybe_applied; /* an earlier attempt's answer was lost (set it after pushing) */
} fake_ddb_reply;

typedef struct fake_ddb {
    fake_ddb_call calls[FAKE_DDB_MAX_CALLS];
    size_t n_calls;
    fake_ddb_reply replies[FAKE_DDB_MAX_REPLIES];
    size_t n_replies;
    size_t next_reply;
} fake_ddb;

void fake_ddb_init(fake_ddb *f);
/* Frees recorded requests and unused replies; f may be initialised again. */
void fake_ddb_free(fake_ddb *f);

/* A port whose calls land in f. */
ddb_port fake_ddb_port(fake_ddb *f);

/* Scripts the next reply. body is stolen (may be NULL); error_type NULL means "". */
void fake_ddb_push(fake_ddb *f, ddb_status status, json_t *body, const char *error_type,
                   unsigned attempts);

/* The same with the body given as JSON text (NULL for none); one attempt. Fails the test on
 * text that does not parse. */
void fake_ddb_push_json(fake_ddb *f, ddb_status status, const char *body_json,
                        const char *error_type);

/* The i-th recorded call; fails the test when there is none. */
const fake_ddb_call *fake_ddb_call_at(const fake_ddb *f, size_t i);

/* ---- Clock and ids ---- */

/* now_ms for users_deps: returns *(int64_t *)ctx. */
int64_t fake_clock_now_ms(void *ctx);

/* new_id for users_deps: ctx is a fake_ids. Hands out ids[0], ids[1], ... when ids is set,
 * else "00000000-0000-4000-8000-<counter as 12 hex digits>" from counter 1. */
typedef struct fake_ids {
    const char *const *ids;
    size_t n_ids;
    unsigned long long counter; /* ids handed out so far */
} fake_ids;

void fake_ids_next(char out[UA_UUID_LEN + 1], void *ctx);

#endif

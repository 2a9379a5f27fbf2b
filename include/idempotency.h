/* idempotency.h — Idempotency-Key on POST /users (users-api.md, "Idempotency"): the key, the
 * request it stands for, and the record that remembers the first answer for 24 hours.
 *
 * The record lives in the claims table as {"pk": "idem#" + key, "requestHash", "userId",
 * "response" (the first 201's body, byte for byte), "createdAt", "expiresAt" (epoch seconds,
 * the table's TTL attribute)}. It is put in the create's own transaction, so it exists exactly
 * when the user it names was created: there is no "in flight" state, and a failed create
 * leaves nothing behind. Its condition lets an expired record be replaced, whether or not
 * DynamoDB's TTL has deleted it yet. */
#ifndef USERS_IDEMPOTENCY_H
#define USERS_IDEMPOTENCY_H

#include "api.h"
#include "common.h"
#include "span.h"
#include "validate.h" /* user_fields */

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define IDEMPOTENCY_KEY_MAX   128           /* characters, each printable ASCII */
#define IDEMPOTENCY_TTL_S     (24LL * 3600) /* how long a first answer is remembered */
#define IDEMPOTENCY_PREFIX    "idem#"       /* of a record's key */
#define IDEMPOTENCY_HASH_SIZE 65u           /* hex SHA-256 and its NUL */

/* The Idempotency-Key of a request, when it has one. */
typedef struct idempotency_key {
    bool present;
    char key[IDEMPOTENCY_KEY_MAX + 1];
} idempotency_key;

/* Reads the Idempotency-Key header of req into *k: absent is fine; one line of 1..128
 * characters 0x20..0x7E is a key; anything else (empty, too long, another byte, two lines)
 * appends an error for the field "Idempotency-Key" to errors. UA_ERR_NOMEM when out of
 * memory. */
UA_WARN_UNUSED ua_status idempotency_read_key(const api_request *req, idempotency_key *k,
                                              json_t *errors);

/* The hash that tells a repeat from another request under the same key: hex SHA-256 of the
 * fields a create stores (trimmed name and email, and age), so that member order, whitespace
 * around values and JSON escapes do not make two requests differ. */
void idempotency_request_hash(const user_fields *in, char out[IDEMPOTENCY_HASH_SIZE]);

/* What a record's request produced. */
typedef struct idempotency_record {
    const char *request_hash; /* borrowed from the item */
    const char *user_id;
    ua_span response; /* the first answer's body */
} idempotency_record;

/* {"Put": {...}}, the TransactItems entry that records record for key k in table at now_ms
 * (epoch ms), unless an unexpired record holds the key: then its condition fails and returns
 * that record (ALL_OLD). New reference; NULL when out of memory. */
UA_WARN_UNUSED json_t *idempotency_put(const char *table, const idempotency_key *k,
                                       const idempotency_record *record, int64_t now_ms);

/* Reads a record item (borrowed) into *r (borrowing from it); false when it is not one. */
UA_WARN_UNUSED bool idempotency_record_read(const json_t *item, idempotency_record *r);

#endif

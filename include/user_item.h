/* user_item.h — a user as DynamoDB stores it (an item: a map of attribute name → AttributeValue)
 * and as the API shows it (the resource of users-api.md): the key, the item a create writes, and
 * the resource for an item.
 *
 * Items hold two attributes the resource never shows: emailLower (for the phase 2
 * case-insensitive lookup, stored from the start so that it needs no migration) and the write
 * token (USER_ITEM_WRITE_TOKEN). */
#ifndef USERS_USER_ITEM_H
#define USERS_USER_ITEM_H

#include "common.h"
#include "validate.h" /* user_fields */

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

/* The attribute each create and update stores its request's random token in, so that a retry
 * after a lost answer can tell its own earlier write from anybody else's (decisions.md). */
#define USER_ITEM_WRITE_TOKEN "lastWriteToken"

/* Room for a timestamp: "2026-11-24T12:34:56.789Z" is 24 characters; any int year fits. */
#define USER_ITEM_TIMESTAMP_SIZE 64u

/* {"userId": {"S": id}}, the key of user id (NUL-terminated, borrowed). New reference; NULL
 * when out of memory. */
UA_WARN_UNUSED json_t *user_item_key(const char *id);

/* The item a create writes into *item (new reference; NULL on failure): userId id, the fields
 * of in (name and email required), emailLower, the write token, createdAt and updatedAt now_ms
 * (epoch milliseconds), version 1. id and token are NUL-terminated and borrowed. UA_ERR_NOMEM
 * when out of memory. */
UA_WARN_UNUSED ua_status user_item_new(const user_fields *in, const char *id, const char *token,
                                       int64_t now_ms, json_t **item);

/* The item an update of old (borrowed) by in leaves, computed rather than read back (a
 * transaction cannot return it): old's attributes with in's fields set (email with its
 * emailLower; a JSON null age removed), updatedAt now_ms, the write token and version + 1, into
 * *item (new reference; NULL on failure). The same item user_expr_update's expression makes
 * of old. UA_ERR_INVALID when old has no integer version; UA_ERR_NOMEM when out of memory. */
UA_WARN_UNUSED ua_status user_item_apply(const json_t *old, const user_fields *in,
                                         const char *token, int64_t now_ms, json_t **item);

/* The resource for a stored item (borrowed): exactly the contract's fields, in its order, into
 * *user (new reference; NULL on failure), and its version into *version. UA_ERR_INVALID when a
 * required attribute is missing or malformed or the id is not canonical (the item is not a user
 * this API wrote); UA_ERR_NOMEM when out of memory. */
UA_WARN_UNUSED ua_status user_item_to_user(const json_t *item, json_t **user, long long *version);

/* ---- The attribute values items and updates store ---- */

/* ISO 8601 UTC with milliseconds, "2026-11-24T12:34:56.789Z", for epoch milliseconds ms. */
void user_item_timestamp(int64_t ms, char out[USER_ITEM_TIMESTAMP_SIZE]);

/* The email as the phase 2 lookup compares it: ASCII letters lowercased, at most
 * UA_MAX_EMAIL_OCTETS octets (validated emails are ASCII and no longer), NUL-terminated. */
void user_item_email_lower(ua_span email, char out[UA_MAX_EMAIL_OCTETS + 1]);

/* {"S": s} for the bytes of s (UTF-8, borrowed). New reference; NULL when out of memory or
 * s is not UTF-8. */
UA_WARN_UNUSED json_t *user_item_av_span(ua_span s);

#endif

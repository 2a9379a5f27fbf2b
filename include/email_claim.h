/* email_claim.h — the claims table's email claims: no two users share an address.
 *
 * An address is held by the item {"pk": "email#" + emailLower, "userId": owner} in the claims
 * table (decisions.md, "Phase 2: the tables"). A create or an email-changing update puts the
 * claim in the same transaction as the user; a delete or a change releases the old one there
 * too. Both conditions let the owner through ("attribute_not_exists(pk) OR userId = :me"), so
 * a repeat by the owner is harmless and a claim held by another user is never taken or
 * released. Functions returning json_t * return a new reference, NULL when out of memory;
 * every argument is borrowed and NUL-terminated. */
#ifndef USERS_EMAIL_CLAIM_H
#define USERS_EMAIL_CLAIM_H

#include "common.h"

#include <jansson.h>

/* The prefix of an email claim's key. */
#define EMAIL_CLAIM_PREFIX "email#"

/* {"Put": {...}}, the TransactItems entry that claims the address lower (emailLower) for
 * user_id in table, returning the claim (ALL_OLD) when it is held by another user. */
UA_WARN_UNUSED json_t *email_claim_put(const char *table, const char *lower, const char *user_id);

/* {"Delete": {...}}, the TransactItems entry that releases the address lower when user_id holds
 * it (or nobody does). */
UA_WARN_UNUSED json_t *email_claim_delete(const char *table, const char *lower,
                                          const char *user_id);

/* The user holding a claim item (borrowed from it); NULL when it names none. */
UA_WARN_UNUSED const char *email_claim_owner(const json_t *claim);

#endif

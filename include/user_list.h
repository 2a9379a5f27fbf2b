/* user_list.h — GET /users around its one Scan: the query it reads (limit, nextToken) and the
 * page it answers ({"users": [...], "count": n, "nextToken"?}). */
#ifndef USERS_USER_LIST_H
#define USERS_USER_LIST_H

#include "api.h"
#include "common.h"

#include <jansson.h>
#include <stdbool.h>

/* What the list's query asks for. */
typedef struct user_list_query {
    long limit;                  /* UA_LIST_MIN_LIMIT..UA_LIST_MAX_LIMIT; the default if absent */
    bool has_start;              /* a nextToken was given: the Scan starts after start */
    char start[UA_UUID_LEN + 1]; /* the id nextToken carries, when has_start */
    bool has_email;              /* email was given: a lookup, not a page of the list */
    char email_lower[UA_MAX_EMAIL_OCTETS + 1]; /* the address looked up, lowercased */
} user_list_query;

/* Reads limit (a decimal integer in the list's bounds), nextToken (a token this API issued,
 * page_token.h) and email (an address by the create's rules, trimmed; phase 2's lookup, which
 * has one page: not with nextToken) from req's query into *q, each at most once, appending an
 * error to errors for each that is wrong. UA_OK even when errors were added; UA_ERR_NOMEM when out
 * of memory. */
UA_WARN_UNUSED ua_status user_list_read_query(const api_request *req, user_list_query *q,
                                              json_t *errors);

/* The page for a Scan reply (borrowed) into *doc (new reference; NULL on failure): the users of
 * its Items, in order (items that are not users are skipped rather than failing the page), their
 * count, and the token for its LastEvaluatedKey when there is one. UA_ERR_INVALID when that key
 * is not one of ours; UA_ERR_NOMEM when out of memory; UA_ERR_TOO_BIG should the token not fit. */
UA_WARN_UNUSED ua_status user_list_page(const json_t *scan_reply, json_t **doc);

/* The page for a lookup's Query reply (borrowed) into *doc: its users and their count, never a
 * nextToken (a lookup finds at most one user per address). UA_ERR_NOMEM when out of memory. */
UA_WARN_UNUSED ua_status user_list_lookup_page(const json_t *query_reply, json_t **doc);

#endif

/* page_token.h — the list's nextToken: the key a page ends at (DynamoDB's LastEvaluatedKey,
 * {"userId":{"S":"<id>"}}) as JSON in base64url without padding.
 *
 * Both directions are strict, so that each key has exactly one token and a token is either one
 * this API issued or refused. */
#ifndef USERS_PAGE_TOKEN_H
#define USERS_PAGE_TOKEN_H

#include "buf.h"
#include "common.h"

#include <jansson.h>
#include <stdbool.h>

/* The user id token carries, into id (NUL-terminated). false, with id untouched, unless token
 * is at most UA_MAX_NEXT_TOKEN_CHARS of strict base64url (the alphabet only, no padding, the
 * unused bits of the last character zero) of JSON that is exactly
 * {"userId":{"S":"<canonical id>"}} (blanks and escapes allowed, no duplicate key). */
UA_WARN_UNUSED bool page_token_decode(ua_span token, char id[UA_UUID_LEN + 1]);

/* Appends to out the token for last_key, a LastEvaluatedKey (borrowed), rebuilt from its userId
 * so that it always decodes back. UA_ERR_INVALID when last_key has no userId S that is a
 * canonical id (the key is not one of ours); UA_ERR_NOMEM; UA_ERR_TOO_BIG past out's limit. */
UA_WARN_UNUSED ua_status page_token_encode(const json_t *last_key, buf *out);

#endif

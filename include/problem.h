/* problem.h — RFC 9457 problem documents: how an error answer is written.
 *
 * Split from users.c so that the shape of an error answer lives in one place: the handler
 * decides *which* problem; this module decides how it is written. */
#ifndef USERS_PROBLEM_H
#define USERS_PROBLEM_H

#include "api.h"
#include "common.h"

#include <jansson.h>

#define PROBLEM_CONTENT_TYPE "application/problem+json"

/* The reason phrase of an HTTP status ("Not Found"), as the problem's title; static.
 * "Error" for a status this API never sends. */
const char *problem_title(int status);

/* Replaces resp's status and body with the problem document
 *   {"type":"about:blank","title","status","code","detail","errors"?,"requestId"}
 * and sets Content-Type: application/problem+json. errors (borrowed) is left out when NULL.
 * detail and request_id must be UTF-8 (request_id may be NULL: ""). */
UA_WARN_UNUSED ua_status problem_write(api_response *resp, int status, const char *code,
                                       const char *detail, const json_t *errors,
                                       const char *request_id);

#endif

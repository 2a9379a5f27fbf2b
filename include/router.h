/* router.h — method and path to an operation; the 404 / 405 / preflight decisions.
 *
 * Knows the two resources of the API and nothing of bodies or DynamoDB. */
#ifndef USERS_ROUTER_H
#define USERS_ROUTER_H

#include "common.h"

#include <stdbool.h>
#include <stddef.h>

typedef enum route_resource {
    ROUTE_NONE = 0, /* unknown path: 404 */
    ROUTE_USERS,    /* /users */
    ROUTE_USER      /* /users/{userId} */
} route_resource;

typedef enum route_op {
    OP_NONE = 0, /* known path, method not allowed: 405 with Allow */
    OP_PREFLIGHT,
    OP_LIST,
    OP_CREATE,
    OP_GET,
    OP_UPDATE_PUT,   /* PUT: a partial update (the contract's PUT is not a replacement) */
    OP_UPDATE_PATCH, /* PATCH: the same update; its body may also be merge-patch+json */
    OP_DELETE
} route_op;

typedef struct route_match {
    route_resource resource;
    route_op op;
    const char *allow;    /* the Allow header for the resource, static; NULL for ROUTE_NONE */
    const char *template; /* "/users" or "/users/{userId}" (for logs); NULL for ROUTE_NONE */
    bool id_valid;        /* ROUTE_USER: the id segment is a lowercase canonical UUID */
    char user_id[UA_UUID_LEN + 1]; /* the id when id_valid, else "" */
} route_match;

/* Matches method (case-sensitive, as HTTP) and path (percent-encoded, as in the event). Only
 * "/users" and "/users/<segment>" (a non-empty segment without '/') are known paths: a
 * trailing slash, a deeper path, "" and "/" are ROUTE_NONE. HEAD and unknown methods on a
 * known path are OP_NONE. A segment that is not a canonical UUID (uppercase, percent-encoded,
 * wrong length) still matches ROUTE_USER, with id_valid false, so that the method is checked
 * (405) before the id (404). NULL method or path count as "". */
route_match router_match(const char *method, const char *path);

/* Whether s[0..len) is a lowercase canonical 8-4-4-4-12 UUID (any version). */
bool router_is_canonical_uuid(const char *s, size_t len);

#endif

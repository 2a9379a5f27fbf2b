/* router.c — method and path to an operation of the Users API (see router.h). */
#include "router.h"

#include <string.h>

#define USERS_PATH "/users"

static const char ALLOW_USERS[] = "GET, POST, OPTIONS";
static const char ALLOW_USER[] = "GET, PUT, PATCH, DELETE, OPTIONS";

bool router_is_canonical_uuid(const char *s, size_t len) {
    if (!s || len != UA_UUID_LEN)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-')
                return false;
        } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return false;
        }
    }
    return true;
}

static route_op users_op(const char *method) {
    if (strcmp(method, "GET") == 0)
        return OP_LIST;
    if (strcmp(method, "POST") == 0)
        return OP_CREATE;
    return strcmp(method, "OPTIONS") == 0 ? OP_PREFLIGHT : OP_NONE;
}

static route_op user_op(const char *method) {
    if (strcmp(method, "GET") == 0)
        return OP_GET;
    if (strcmp(method, "PUT") == 0)
        return OP_UPDATE_PUT;
    if (strcmp(method, "PATCH") == 0)
        return OP_UPDATE_PATCH;
    if (strcmp(method, "DELETE") == 0)
        return OP_DELETE;
    return strcmp(method, "OPTIONS") == 0 ? OP_PREFLIGHT : OP_NONE;
}

route_match router_match(const char *method, const char *path) {
    route_match m = {0};
    const size_t prefix = sizeof USERS_PATH - 1;
    if (!method)
        method = "";
    if (!path || strncmp(path, USERS_PATH, prefix) != 0)
        return m;
    const char *rest = path + prefix;
    if (*rest == '\0') {
        m.resource = ROUTE_USERS;
        m.op = users_op(method);
        m.allow = ALLOW_USERS;
        m.template = USERS_PATH;
        return m;
    }
    const char *id = rest + 1;
    if (*rest != '/' || *id == '\0' || strchr(id, '/'))
        return m;
    m.resource = ROUTE_USER;
    m.op = user_op(method);
    m.allow = ALLOW_USER;
    m.template = USERS_PATH "/{userId}";
    m.id_valid = router_is_canonical_uuid(id, strlen(id));
    if (m.id_valid)
        memcpy(m.user_id, id, UA_UUID_LEN + 1);
    return m;
}

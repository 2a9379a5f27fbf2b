/* test_router.c — every route, method and path-id case of router_match, from one table. */
#include "router.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#define UUID        "3f0c8a9e-8d1b-4c2a-9f5e-2b7d3c1a4e6f"
#define ALLOW_USERS "GET, POST, OPTIONS"
#define ALLOW_USER  "GET, PUT, PATCH, DELETE, OPTIONS"

typedef struct route_case {
    const char *method;
    const char *path;
    route_resource resource;
    route_op op;
    bool id_valid; /* ROUTE_USER only; the expected user_id is then the path's last segment */
} route_case;

static const route_case CASES[] = {
    /* /users */
    {"GET", "/users", ROUTE_USERS, OP_LIST, false},
    {"POST", "/users", ROUTE_USERS, OP_CREATE, false},
    {"OPTIONS", "/users", ROUTE_USERS, OP_PREFLIGHT, false},
    {"PUT", "/users", ROUTE_USERS, OP_NONE, false},
    {"PATCH", "/users", ROUTE_USERS, OP_NONE, false},
    {"DELETE", "/users", ROUTE_USERS, OP_NONE, false},
    {"HEAD", "/users", ROUTE_USERS, OP_NONE, false},
    {"TRACE", "/users", ROUTE_USERS, OP_NONE, false},
    {"get", "/users", ROUTE_USERS, OP_NONE, false},
    {"Post", "/users", ROUTE_USERS, OP_NONE, false},
    {"", "/users", ROUTE_USERS, OP_NONE, false},
    {"GET ", "/users", ROUTE_USERS, OP_NONE, false},
    {NULL, "/users", ROUTE_USERS, OP_NONE, false},

    /* /users/{userId} with a canonical id */
    {"GET", "/users/" UUID, ROUTE_USER, OP_GET, true},
    {"PUT", "/users/" UUID, ROUTE_USER, OP_UPDATE_PUT, true},
    {"PATCH", "/users/" UUID, ROUTE_USER, OP_UPDATE_PATCH, true},
    {"DELETE", "/users/" UUID, ROUTE_USER, OP_DELETE, true},
    {"OPTIONS", "/users/" UUID, ROUTE_USER, OP_PREFLIGHT, true},
    {"POST", "/users/" UUID, ROUTE_USER, OP_NONE, true},
    {"HEAD", "/users/" UUID, ROUTE_USER, OP_NONE, true},
    {"delete", "/users/" UUID, ROUTE_USER, OP_NONE, true},
    {"GET", "/users/00000000-0000-0000-0000-000000000000", ROUTE_USER, OP_GET, true},
    {"GET", "/users/ffffffff-ffff-ffff-ffff-ffffffffffff", ROUTE_USER, OP_GET, true},

    /* /users/{userId} with an id that is not canonical: routed, but id_valid false */
    {"GET", "/users/3F0C8A9E-8D1B-4C2A-9F5E-2B7D3C1A4E6F", ROUTE_USER, OP_GET, false},
    {"GET", "/users/3f0c8a9e-8d1b-4c2a-9f5e-2b7d3c1a4e6F", ROUTE_USER, OP_GET, false},
    {"GET", "/users/3f0c8a9e-8d1b-4c2a-9f5e-2b7d3c1a4e6", ROUTE_USER, OP_GET, false},   /* 35 */
    {"GET", "/users/3f0c8a9e-8d1b-4c2a-9f5e-2b7d3c1a4e6f0", ROUTE_USER, OP_GET, false}, /* 37 */
    {"GET", "/users/3f0c8a9e-8d1b-4c2a-9f5e-2b7d3c1a4e6g", ROUTE_USER, OP_GET, false},  /* g */
    {"GET", "/users/3f0c8a9e08d1b-4c2a-9f5e-2b7d3c1a4e6f", ROUTE_USER, OP_GET,
     false},                                                                       /* '0' for '-' */
    {"GET", "/users/3f0c8a9e8d1b4c2a9f5e2b7d3c1a4e6f", ROUTE_USER, OP_GET, false}, /* no hyphens */
    {"GET", "/users/3f0c8a9e-8d1b4-c2a-9f5e-2b7d3c1a4e6f", ROUTE_USER, OP_GET,
     false}, /* hyphen moved */
    {"GET", "/users/{3f0c8a9e-8d1b-4c2a-9f5e-2b7d3c1a4e6f}", ROUTE_USER, OP_GET,
     false}, /* braces */
    {"GET", "/users/3f0c8a9e-8d1b-4c2a-9f5e-2b7d3c1a4e%66", ROUTE_USER, OP_GET,
     false}, /* %66 = f */
    {"GET", "/users/3f0c8a9e%2D8d1b-4c2a-9f5e-2b7d3c1a4e6f", ROUTE_USER, OP_GET, false},
    {"GET", "/users/a%2Fb", ROUTE_USER, OP_GET, false},
    {"GET", "/users/" UUID "%2F", ROUTE_USER, OP_GET, false},
    {"GET", "/users/x", ROUTE_USER, OP_GET, false},
    {"DELETE", "/users/me", ROUTE_USER, OP_DELETE, false},
    {"HEAD", "/users/x", ROUTE_USER, OP_NONE, false},
    {"GET", "/users/ " UUID, ROUTE_USER, OP_GET, false},

    /* unknown paths */
    {"GET", "", ROUTE_NONE, OP_NONE, false},
    {"GET", "/", ROUTE_NONE, OP_NONE, false},
    {"GET", NULL, ROUTE_NONE, OP_NONE, false},
    {"GET", "/users/", ROUTE_NONE, OP_NONE, false},
    {"OPTIONS", "/users/", ROUTE_NONE, OP_NONE, false},
    {"GET", "/users//", ROUTE_NONE, OP_NONE, false},
    {"GET", "/users/" UUID "/", ROUTE_NONE, OP_NONE, false},
    {"GET", "/users/a/b", ROUTE_NONE, OP_NONE, false},
    {"GET", "/users//" UUID, ROUTE_NONE, OP_NONE, false},
    {"GET", "/usersx", ROUTE_NONE, OP_NONE, false},
    {"GET", "/user", ROUTE_NONE, OP_NONE, false},
    {"GET", "/Users", ROUTE_NONE, OP_NONE, false},
    {"GET", "/USERS/" UUID, ROUTE_NONE, OP_NONE, false},
    {"GET", "users", ROUTE_NONE, OP_NONE, false},
    {"GET", "//users", ROUTE_NONE, OP_NONE, false},
    {"GET", "/Prod/users", ROUTE_NONE, OP_NONE, false},
    {"GET", "/users%2F" UUID, ROUTE_NONE, OP_NONE, false},
    {"OPTIONS", "/other", ROUTE_NONE, OP_NONE, false},
    {"GET", "/users?limit=1", ROUTE_NONE, OP_NONE, false},
};

static void check_case(const route_case *c) {
    route_match m = router_match(c->method, c->path);
    const char *label = c->path ? c->path : "(null)";
    if (m.resource != c->resource || m.op != c->op)
        fail_msg("%s %s: resource %d op %d, want %d %d", c->method ? c->method : "(null)", label,
                 m.resource, m.op, c->resource, c->op);
    switch (c->resource) {
        case ROUTE_NONE:
            assert_null(m.allow);
            assert_null(m.template);
            assert_false(m.id_valid);
            assert_string_equal(m.user_id, "");
            break;
        case ROUTE_USERS:
            assert_string_equal(m.allow, ALLOW_USERS);
            assert_string_equal(m.template, "/users");
            assert_false(m.id_valid);
            assert_string_equal(m.user_id, "");
            break;
        case ROUTE_USER:
            assert_string_equal(m.allow, ALLOW_USER);
            assert_string_equal(m.template, "/users/{userId}");
            if (m.id_valid != c->id_valid)
                fail_msg("%s: id_valid %d, want %d", label, m.id_valid, c->id_valid);
            assert_string_equal(m.user_id, c->id_valid ? c->path + strlen("/users/") : "");
            break;
    }
}

static void test_route_table(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++)
        check_case(&CASES[i]);
}

/* The Allow header of a 405 lists every method the resource accepts, and only those. */
static void test_allow_lists_what_routes(void **state) {
    static const char *const methods[] = {"GET",     "POST", "PUT",     "PATCH", "DELETE",
                                          "OPTIONS", "HEAD", "CONNECT", "TRACE"};
    static const char *const paths[] = {"/users", "/users/" UUID};
    (void)state;
    for (size_t p = 0; p < 2; p++) {
        const char *allow = router_match("GET", paths[p]).allow;
        for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
            route_match m = router_match(methods[i], paths[p]);
            size_t n = strlen(methods[i]);
            const char *at = strstr(allow, methods[i]);
            bool listed = at && (at[n] == ',' || at[n] == '\0') && (at == allow || at[-1] == ' ');
            if (listed != (m.op != OP_NONE))
                fail_msg("%s %s: op %d but Allow \"%s\"", methods[i], paths[p], m.op, allow);
        }
    }
}

static void test_canonical_uuid(void **state) {
    (void)state;
    assert_true(router_is_canonical_uuid(UUID, strlen(UUID)));
    /* The length is honoured: no NUL needed, nothing past len read. */
    assert_true(router_is_canonical_uuid(UUID "trailing", strlen(UUID)));
    assert_false(router_is_canonical_uuid(UUID, strlen(UUID) - 1));
    assert_false(router_is_canonical_uuid(NULL, 36));
    assert_false(router_is_canonical_uuid("", 0));
    /* Every single-character change away from hex or hyphen breaks it. */
    char id[] = UUID;
    for (size_t i = 0; i < strlen(id); i++) {
        char saved = id[i];
        id[i] = id[i] == '-' ? 'a' : '-';
        assert_false(router_is_canonical_uuid(id, strlen(id)));
        id[i] = saved;
    }
    assert_true(router_is_canonical_uuid(id, strlen(id)));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_route_table),
        cmocka_unit_test(test_allow_lists_what_routes),
        cmocka_unit_test(test_canonical_uuid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_users_operation.c — the operation each request counts under in metrics and traces
 * (users_outcome.operation), refused requests included. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "fake_ddb.h"
#include "users.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ID       "3f0c8a9e-8d1b-4c2a-9f5e-2b7d3c1a4e6f"
#define NOW_MS   1795523696789LL
#define DEADLINE 1795523699789LL
#define JSON_CT  "application/json"
#define ANY_4XX  (-4) /* want_status: any client error */
#define ANY      0    /* want_status: whatever the (fake) DynamoDB led to */

typedef struct op_case {
    const char *method, *path;
    const char *query_name, *query_value; /* NULL: no query */
    const char *content_type;             /* NULL: none */
    const char *body;                     /* NULL: none */
    const char *if_match;                 /* NULL: none */
    int want_status;
    const char *want_operation;
} op_case;

static const op_case cases[] = {
    /* Create */
    {"POST", "/users", NULL, NULL, JSON_CT, "{\"name\":\"Ada\",\"email\":\"ada@example.com\"}",
     NULL, ANY, "CreateUser"},
    {"POST", "/users", NULL, NULL, JSON_CT, "{", NULL, 400, "CreateUser"},
    {"POST", "/users", NULL, NULL, JSON_CT, "{\"name\":\"Ada\"}", NULL, 400, "CreateUser"},
    {"POST", "/users", NULL, NULL, "text/plain", "x", NULL, ANY_4XX, "CreateUser"},
    {"POST", "/users", NULL, NULL, NULL, NULL, NULL, ANY_4XX, "CreateUser"},
    /* Get */
    {"GET", "/users/" ID, NULL, NULL, NULL, NULL, NULL, ANY, "GetUser"},
    {"GET", "/users/not-a-uuid", NULL, NULL, NULL, NULL, NULL, 404, "GetUser"},
    {"GET", "/users/3F0C8A9E-8D1B-4C2A-9F5E-2B7D3C1A4E6F", NULL, NULL, NULL, NULL, NULL, 404,
     "GetUser"},
    /* List and the lookup by email */
    {"GET", "/users", NULL, NULL, NULL, NULL, NULL, ANY, "ListUsers"},
    {"GET", "/users", "limit", "0", NULL, NULL, NULL, 400, "ListUsers"},
    {"GET", "/users", "nextToken", "garbage!", NULL, NULL, NULL, ANY_4XX, "ListUsers"},
    {"GET", "/users", "email", "ada@example.com", NULL, NULL, NULL, ANY, "FindUserByEmail"},
    {"GET", "/users", "email", "not an address", NULL, NULL, NULL, ANY_4XX, "FindUserByEmail"},
    {"GET", "/users", "email", "", NULL, NULL, NULL, ANY, "FindUserByEmail"},
    /* Update, by PUT or PATCH */
    {"PUT", "/users/" ID, NULL, NULL, JSON_CT, "{\"name\":\"Ada\"}", NULL, ANY, "UpdateUser"},
    {"PATCH", "/users/" ID, NULL, NULL, JSON_CT, "{\"name\":\"Ada\"}", NULL, ANY, "UpdateUser"},
    {"PATCH", "/users/" ID, NULL, NULL, JSON_CT, "[", NULL, 400, "UpdateUser"},
    {"PUT", "/users/" ID, NULL, NULL, JSON_CT, "{}", NULL, 400, "UpdateUser"},
    {"PATCH", "/users/" ID, NULL, NULL, JSON_CT, "{\"name\":\"Ada\"}", "not-an-etag", ANY_4XX,
     "UpdateUser"},
    {"PUT", "/users/not-a-uuid", NULL, NULL, JSON_CT, "{\"name\":\"Ada\"}", NULL, 404,
     "UpdateUser"},
    /* Delete */
    {"DELETE", "/users/" ID, NULL, NULL, NULL, NULL, NULL, ANY, "DeleteUser"},
    {"DELETE", "/users/" ID, NULL, NULL, NULL, NULL, "not-an-etag", ANY_4XX, "DeleteUser"},
    {"DELETE", "/users/not-a-uuid", NULL, NULL, NULL, NULL, NULL, 404, "DeleteUser"},
    /* Preflight, even for an id that is not canonical */
    {"OPTIONS", "/users", NULL, NULL, NULL, NULL, NULL, 204, "Preflight"},
    {"OPTIONS", "/users/" ID, NULL, NULL, NULL, NULL, NULL, 204, "Preflight"},
    {"OPTIONS", "/users/NOT-CANONICAL", NULL, NULL, NULL, NULL, NULL, 204, "Preflight"},
    /* Unrouted: no such path, or a method the path does not allow */
    {"GET", "/nope", NULL, NULL, NULL, NULL, NULL, 404, "Unrouted"},
    {"OPTIONS", "/nope", NULL, NULL, NULL, NULL, NULL, 404, "Unrouted"},
    {"GET", "/users/", NULL, NULL, NULL, NULL, NULL, 404, "Unrouted"},
    {"GET", "/users/" ID "/x", NULL, NULL, NULL, NULL, NULL, 404, "Unrouted"},
    {"GET", "", NULL, NULL, NULL, NULL, NULL, 404, "Unrouted"},
    {"HEAD", "/users", NULL, NULL, NULL, NULL, NULL, 405, "Unrouted"},
    {"DELETE", "/users", NULL, NULL, NULL, NULL, NULL, 405, "Unrouted"},
    {"PUT", "/users", NULL, NULL, JSON_CT, "{}", NULL, 405, "Unrouted"},
    {"POST", "/users/" ID, NULL, NULL, JSON_CT, "{}", NULL, 405, "Unrouted"},
    {"POST", "/users/not-a-uuid", NULL, NULL, JSON_CT, "{}", NULL, 405, "Unrouted"},
    {"get", "/users", NULL, NULL, NULL, NULL, NULL, 405, "Unrouted"},
    {"", "/users", NULL, NULL, NULL, NULL, NULL, 405, "Unrouted"},
};

static json_t *one_value_map(const char *name, const char *value) {
    json_t *map = json_object();
    assert_non_null(map);
    if (name)
        assert_int_equal(json_object_set_new(map, name, json_pack("[s]", value)), 0);
    return map;
}

/* Handles c with a DynamoDB that answers nothing it was not told to (a failure), and returns
 * the outcome's operation after checking the status. */
static const char *run_case(const op_case *c) {
    fake_ddb ddb;
    fake_ddb_init(&ddb);
    fake_ids ids = {0};
    int64_t now = NOW_MS;
    users_deps deps = {.table = "UsersTable",
                       .claims_table = "UsersTable-claims",
                       .ddb = fake_ddb_port(&ddb),
                       .now_ms = fake_clock_now_ms,
                       .clock_ctx = &now,
                       .new_id = fake_ids_next,
                       .id_ctx = &ids};
    json_t *headers = one_value_map(c->content_type ? "content-type" : NULL, c->content_type);
    if (c->if_match)
        assert_int_equal(json_object_set_new(headers, "if-match", json_pack("[s]", c->if_match)),
                         0);
    json_t *query = one_value_map(c->query_name, c->query_value);
    api_request req = {.method = c->method,
                       .path = c->path,
                       .headers = headers,
                       .query = query,
                       .body = c->body,
                       .body_len = c->body ? strlen(c->body) : 0,
                       .request_id = "req-1"};
    api_response resp;
    assert_int_equal(api_response_init(&resp), UA_OK);
    users_outcome out;
    memset(&out, 0x5a, sizeof out); /* the handler must set operation whatever happens */
    users_handle(&deps, &req, DEADLINE, &resp, &out);

    bool status_ok = c->want_status == ANY ||
                     (c->want_status == ANY_4XX ? resp.status >= 400 && resp.status < 500
                                                : resp.status == c->want_status);
    if (!status_ok)
        fail_msg("%s %s: status %d, want %d: %s", c->method, c->path, resp.status, c->want_status,
                 buf_str(&resp.body));
    /* A refusal is decided before any DynamoDB call. */
    if (c->want_status != ANY && ddb.n_calls != 0)
        fail_msg("%s %s: refused after %zu DynamoDB calls", c->method, c->path, ddb.n_calls);
    const char *op = out.operation;
    api_response_free(&resp);
    json_decref(headers);
    json_decref(query);
    fake_ddb_free(&ddb);
    return op;
}

static void test_every_route_names_its_operation(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *op = run_case(&cases[i]);
        if (!op || strcmp(op, cases[i].want_operation) != 0)
            fail_msg("%s %s%s%s: operation %s, want %s", cases[i].method, cases[i].path,
                     cases[i].query_name ? "?" : "", cases[i].query_name ? cases[i].query_name : "",
                     op ? op : "(null)", cases[i].want_operation);
    }
}

/* A request without a method or a path is unrouted, not a crash. */
static void test_missing_method_or_path(void **state) {
    (void)state;
    op_case c = {NULL, "/users", NULL, NULL, NULL, NULL, NULL, 405, "Unrouted"};
    const char *op = run_case(&c);
    assert_non_null(op);
    assert_string_equal(op, "Unrouted");
    c = (op_case){"GET", NULL, NULL, NULL, NULL, NULL, NULL, 404, "Unrouted"};
    op = run_case(&c);
    assert_non_null(op);
    assert_string_equal(op, "Unrouted");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_route_names_its_operation),
        cmocka_unit_test(test_missing_method_or_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

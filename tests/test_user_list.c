/* test_user_list.c — the list's query and the page it answers (user_list.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "user_list.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ID    "3f0c8a9e-8d1b-4c2a-9f5e-2b7d3c1a4e6f"
#define ID2   "0b6f3c9e-1d2a-4e5f-8a7b-9c0d1e2f3a4b"
#define TOKEN "eyJ1c2VySWQiOnsiUyI6IjNmMGM4YTllLThkMWItNGMyYS05ZjVlLTJiN2QzYzFhNGU2ZiJ9fQ"
#define STAMP "2026-11-24T12:34:56.789Z"
#define ITEM(id, name)                                                                             \
    "{\"userId\":{\"S\":\"" id "\"},\"name\":{\"S\":\"" name "\"},\"email\":{\"S\":\"a@b.io\"},"   \
    "\"createdAt\":{\"S\":\"" STAMP "\"},\"updatedAt\":{\"S\":\"" STAMP "\"},"                     \
    "\"version\":{\"N\":\"1\"}}"
#define USER(id, name)                                                                             \
    "{\"userId\":\"" id "\",\"name\":\"" name "\",\"email\":\"a@b.io\",\"createdAt\":\"" STAMP     \
    "\",\"updatedAt\":\"" STAMP "\",\"version\":1}"

static json_t *parse(const char *text) {
    json_t *doc = json_loads(text, 0, NULL);
    if (!doc)
        fail_msg("bad JSON in the test: %s", text);
    return doc;
}

static char *dump(const json_t *doc) {
    char *s = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
    assert_non_null(s);
    return s;
}

/* Reads the query given as JSON text (name → array of values); the errors as JSON text. */
static char *read_query(const char *query_json, user_list_query *q) {
    api_request req = {.method = "GET", .path = "/users", .request_id = "r"};
    req.query = query_json ? parse(query_json) : NULL;
    json_t *errors = json_array();
    assert_non_null(errors);
    assert_int_equal(user_list_read_query(&req, q, errors), UA_OK);
    char *got = dump(errors);
    json_decref(errors);
    json_decref(req.query);
    return got;
}

static void expect_query(const char *query_json, long limit, const char *start,
                         const char *want_errors) {
    user_list_query q;
    char *got = read_query(query_json, &q);
    if (strcmp(got, want_errors) != 0)
        fail_msg("%s: errors %s, want %s", query_json, got, want_errors);
    free(got);
    if (strcmp(want_errors, "[]") != 0)
        return;
    assert_int_equal(q.limit, limit);
    assert_int_equal(q.has_start, start != NULL);
    if (start)
        assert_string_equal(q.start, start);
}

static void test_query_defaults(void **state) {
    (void)state;
    expect_query(NULL, UA_LIST_DEFAULT_LIMIT, NULL, "[]");
    expect_query("{}", UA_LIST_DEFAULT_LIMIT, NULL, "[]");
    expect_query("{\"other\":[\"x\"]}", UA_LIST_DEFAULT_LIMIT, NULL, "[]");
}

static void test_query_limit(void **state) {
    (void)state;
    expect_query("{\"limit\":[\"1\"]}", 1, NULL, "[]");
    expect_query("{\"limit\":[\"100\"]}", 100, NULL, "[]");
    expect_query("{\"limit\":[\"007\"]}", 7, NULL, "[]");
    static const char *const bad[] = {
        "\"0\"",   "\"101\"", "\"-1\"",  "\"+5\"",  "\" 5\"",   "\"5 \"",
        "\"abc\"", "\"\"",    "\"1.5\"", "\"1e2\"", "\"0x10\"", "\"99999999999999999999999\"",
        "5",       "null"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char query[96];
        snprintf(query, sizeof query, "{\"limit\":[%s]}", bad[i]);
        expect_query(query, 0, NULL,
                     "[{\"field\":\"limit\",\"message\":\"must be an integer from 1 to 100\"}]");
    }
    expect_query("{\"limit\":[\"10\",\"10\"]}", 0, NULL,
                 "[{\"field\":\"limit\",\"message\":\"must be given once\"}]");
}

static void test_query_next_token(void **state) {
    (void)state;
    expect_query("{\"nextToken\":[\"" TOKEN "\"]}", UA_LIST_DEFAULT_LIMIT, ID, "[]");
    expect_query("{\"nextToken\":[\"" TOKEN "\"],\"limit\":[\"5\"]}", 5, ID, "[]");
    expect_query("{\"nextToken\":[\"!\"]}", 0, NULL,
                 "[{\"field\":\"nextToken\",\"message\":\"is not a token this API issued\"}]");
    expect_query("{\"nextToken\":[1]}", 0, NULL,
                 "[{\"field\":\"nextToken\",\"message\":\"is not a token this API issued\"}]");
    expect_query("{\"nextToken\":[\"" TOKEN "\",\"" TOKEN "\"]}", 0, NULL,
                 "[{\"field\":\"nextToken\",\"message\":\"must be given once\"}]");
    /* Both wrong: both reported, limit first. */
    expect_query("{\"nextToken\":[\"!\"],\"limit\":[\"0\"]}", 0, NULL,
                 "[{\"field\":\"limit\",\"message\":\"must be an integer from 1 to 100\"},"
                 "{\"field\":\"nextToken\",\"message\":\"is not a token this API issued\"}]");
}

/* email (phase 2's lookup): trimmed, checked by the create's rules, lowercased. */
static void test_query_email(void **state) {
    (void)state;
    user_list_query q;
    char *got = read_query("{\"email\":[\" \\tAda@Example.COM\\r\\n\"],\"limit\":[\"3\"]}", &q);
    assert_string_equal(got, "[]");
    free(got);
    assert_true(q.has_email);
    assert_string_equal(q.email_lower, "ada@example.com");
    assert_int_equal(q.limit, 3);
    assert_false(q.has_start);

    got = read_query("{}", &q);
    assert_false(q.has_email);
    free(got);

    static const char *const bad[] = {"\"\"",      "\"  \"", "\"a@b\"", "\"a b@c.de\"",
                                      "\"@c.de\"", "7",      "null"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char query[96];
        snprintf(query, sizeof query, "{\"email\":[%s]}", bad[i]);
        got = read_query(query, &q);
        if (strstr(got, "\"field\":\"email\"") == NULL || strstr(got, "},{"))
            fail_msg("%s: errors %s", query, got);
        assert_false(q.has_email);
        free(got);
    }
    expect_query("{\"email\":[\"a@b.co\",\"a@b.co\"]}", 0, NULL,
                 "[{\"field\":\"email\",\"message\":\"must be given once\"}]");
    /* A lookup has one page. */
    expect_query("{\"email\":[\"a@b.co\"],\"nextToken\":[\"" TOKEN "\"]}", 0, NULL,
                 "[{\"field\":\"nextToken\",\"message\":\"cannot be combined with email\"}]");
}

/* The lookup's page: the users of the Query's Items, never a nextToken. */
static void test_lookup_page(void **state) {
    (void)state;
    json_t *reply = parse("{\"Items\":[" ITEM(ID, "Ada") "],\"Count\":1,\"LastEvaluatedKey\":"
                                                         "{\"userId\":{\"S\":\"" ID
                                                         "\"},\"emailLower\":{\"S\":\"a@b.io\"}}}");
    json_t *doc = NULL;
    assert_int_equal(user_list_lookup_page(reply, &doc), UA_OK);
    char *got = dump(doc);
    assert_string_equal(got, "{\"users\":[" USER(ID, "Ada") "],\"count\":1}");
    free(got);
    json_decref(doc);
    json_decref(reply);

    reply = parse("{\"Items\":[],\"Count\":0}");
    assert_int_equal(user_list_lookup_page(reply, &doc), UA_OK);
    got = dump(doc);
    assert_string_equal(got, "{\"users\":[],\"count\":0}");
    free(got);
    json_decref(doc);
    json_decref(reply);
}

/* The page for a Scan reply given as JSON text, or NULL (with the status in *st). */
static char *page(const char *reply_json, ua_status *st) {
    json_t *reply = parse(reply_json), *doc = (json_t *)1;
    *st = user_list_page(reply, &doc);
    char *got = doc ? dump(doc) : NULL;
    if (*st != UA_OK)
        assert_null(doc);
    json_decref(doc);
    json_decref(reply);
    return got;
}

static void expect_page(const char *reply_json, const char *want) {
    ua_status st;
    char *got = page(reply_json, &st);
    assert_int_equal(st, UA_OK);
    if (strcmp(got, want) != 0)
        fail_msg("got  %s\nwant %s", got, want);
    free(got);
}

static void test_page(void **state) {
    (void)state;
    expect_page("{\"Items\":[],\"Count\":0}", "{\"users\":[],\"count\":0}");
    expect_page("{}", "{\"users\":[],\"count\":0}");
    expect_page("{\"Items\":[" ITEM(ID, "Ada") "," ITEM(ID2, "Bea") "]}",
                "{\"users\":[" USER(ID, "Ada") "," USER(ID2, "Bea") "],\"count\":2}");
    /* Items that are not users are left out, and not counted. */
    expect_page("{\"Items\":[{\"userId\":{\"S\":\"" ID "\"}}," ITEM(ID2, "Bea") ",7]}",
                "{\"users\":[" USER(ID2, "Bea") "],\"count\":1}");
    /* The key the page ends at becomes its token. */
    expect_page("{\"Items\":[" ITEM(ID, "Ada") "],\"LastEvaluatedKey\":{\"userId\":{\"S\":\"" ID
                                               "\"}}}",
                "{\"users\":[" USER(ID, "Ada") "],\"count\":1,\"nextToken\":\"" TOKEN "\"}");
}

static void test_page_with_a_key_not_ours(void **state) {
    (void)state;
    ua_status st;
    char *got = page("{\"Items\":[],\"LastEvaluatedKey\":{\"userId\":{\"S\":\"x\"}}}", &st);
    assert_int_equal(st, UA_ERR_INVALID);
    assert_null(got);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_query_defaults),
        cmocka_unit_test(test_query_limit),
        cmocka_unit_test(test_query_next_token),
        cmocka_unit_test(test_page),
        cmocka_unit_test(test_page_with_a_key_not_ours),
        cmocka_unit_test(test_query_email),
        cmocka_unit_test(test_lookup_page),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

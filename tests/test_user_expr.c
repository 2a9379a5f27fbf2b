/* test_user_expr.c — the update and condition expressions of a user's writes (user_expr.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "user_expr.h"

#include <stdlib.h>
#include <string.h>

#define TOKEN   "0b6f3c9e-1d2a-4e5f-8a7b-9c0d1e2f3a4b"
#define NOW_MS  1795523696789LL
#define NOW_ISO "2026-11-24T12:34:56.789Z"
#define GUARD                                                                                      \
    "attribute_exists(userId) AND (attribute_not_exists(#lastWriteToken) OR #lastWriteToken <> "   \
    ":token)"

static ua_span span_of(const char *s) {
    return (ua_span){s, strlen(s)};
}

/* Fails unless doc serialises (keys in order) to want. */
static void expect_json(const json_t *doc, const char *want) {
    char *got = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
    assert_non_null(got);
    if (strcmp(got, want) != 0)
        fail_msg("got  %s\nwant %s", got, want);
    free(got);
}

static void test_update_every_field(void **state) {
    (void)state;
    json_t *age = json_integer(36);
    user_fields in = {.has_name = true,
                      .has_email = true,
                      .name = span_of("Ada"),
                      .email = span_of("Ada@B.io"),
                      .age = age};
    user_expr e;
    assert_int_equal(user_expr_init(&e), UA_OK);
    assert_int_equal(user_expr_update(&e, &in, NOW_MS, TOKEN), UA_OK);
    assert_string_equal(buf_str(&e.text),
                        "SET #name = :name, #email = :email, #emailLower = :emailLower, "
                        "#age = :age, #updatedAt = :now, #lastWriteToken = :token, "
                        "#version = #version + :one");
    expect_json(e.names, "{\"#name\":\"name\",\"#email\":\"email\",\"#emailLower\":\"emailLower\","
                         "\"#age\":\"age\",\"#updatedAt\":\"updatedAt\","
                         "\"#lastWriteToken\":\"lastWriteToken\",\"#version\":\"version\"}");
    expect_json(e.values, "{\":name\":{\"S\":\"Ada\"},\":email\":{\"S\":\"Ada@B.io\"},"
                          "\":emailLower\":{\"S\":\"ada@b.io\"},\":age\":{\"N\":\"36\"},"
                          "\":now\":{\"S\":\"" NOW_ISO "\"},\":token\":{\"S\":\"" TOKEN "\"},"
                          "\":one\":{\"N\":\"1\"}}");
    user_expr_free(&e);
    json_decref(age);
}

/* Only the fields given change; a null age is removed; version and updatedAt always change. */
static void test_update_some_fields(void **state) {
    (void)state;
    json_t *null = json_null();
    user_fields in = {.age = null};
    user_expr e;
    assert_int_equal(user_expr_init(&e), UA_OK);
    assert_int_equal(user_expr_update(&e, &in, NOW_MS, TOKEN), UA_OK);
    assert_string_equal(buf_str(&e.text), "SET #updatedAt = :now, #lastWriteToken = :token, "
                                          "#version = #version + :one REMOVE #age");
    expect_json(e.names, "{\"#updatedAt\":\"updatedAt\",\"#lastWriteToken\":\"lastWriteToken\","
                         "\"#version\":\"version\",\"#age\":\"age\"}");
    assert_int_equal(json_object_size(e.values), 3);
    user_expr_free(&e);

    in = (user_fields){.has_name = true, .name = span_of("Bea")};
    assert_int_equal(user_expr_init(&e), UA_OK);
    assert_int_equal(user_expr_update(&e, &in, NOW_MS, TOKEN), UA_OK);
    assert_string_equal(buf_str(&e.text), "SET #name = :name, #updatedAt = :now, "
                                          "#lastWriteToken = :token, #version = #version + :one");
    user_expr_free(&e);
}

static void test_condition_of_an_update(void **state) {
    (void)state;
    user_fields in = {.has_name = true, .name = span_of("Ada")};
    user_expr set, cond;
    assert_int_equal(user_expr_init(&set), UA_OK);
    assert_int_equal(user_expr_init(&cond), UA_OK);
    assert_int_equal(user_expr_update(&set, &in, NOW_MS, TOKEN), UA_OK);
    const long long versions[] = {3, 0, 999999999999999999LL};
    assert_int_equal(user_expr_condition(&cond, &set, true, versions, 3), UA_OK);
    assert_string_equal(buf_str(&cond.text), GUARD " AND #version IN (:v0, :v1, :v2)");
    /* The names and values went to the update's expression. */
    assert_int_equal(json_object_size(cond.names), 0);
    assert_int_equal(json_object_size(cond.values), 0);
    expect_json(json_object_get(set.values, ":v0"), "{\"N\":\"3\"}");
    expect_json(json_object_get(set.values, ":v1"), "{\"N\":\"0\"}");
    expect_json(json_object_get(set.values, ":v2"), "{\"N\":\"999999999999999999\"}");
    assert_string_equal(json_string_value(json_object_get(set.names, "#version")), "version");
    user_expr_free(&set);
    user_expr_free(&cond);
}

static void test_condition_of_a_delete(void **state) {
    (void)state;
    user_expr cond;
    assert_int_equal(user_expr_init(&cond), UA_OK);
    assert_int_equal(user_expr_condition(&cond, &cond, false, NULL, 0), UA_OK);
    assert_string_equal(buf_str(&cond.text), "attribute_exists(userId)");
    /* Unconditional: no names or values, which DynamoDB would refuse empty. */
    assert_int_equal(json_object_size(cond.names), 0);
    assert_int_equal(json_object_size(cond.values), 0);
    user_expr_free(&cond);

    const long long one[] = {7};
    assert_int_equal(user_expr_init(&cond), UA_OK);
    assert_int_equal(user_expr_condition(&cond, &cond, false, one, 1), UA_OK);
    assert_string_equal(buf_str(&cond.text), "attribute_exists(userId) AND #version IN (:v0)");
    expect_json(cond.names, "{\"#version\":\"version\"}");
    expect_json(cond.values, "{\":v0\":{\"N\":\"7\"}}");
    user_expr_free(&cond);
}

/* With an email, a first try also asks for the stored address (case-insensitively, through
 * emailLower): the update's own name and value, so it adds none. */
static void test_same_email(void **state) {
    (void)state;
    user_fields in = {.has_email = true, .email = span_of("ADA@b.io")};
    user_expr set, cond;
    assert_int_equal(user_expr_init(&set), UA_OK);
    assert_int_equal(user_expr_init(&cond), UA_OK);
    assert_int_equal(user_expr_update(&set, &in, NOW_MS, TOKEN), UA_OK);
    const long long v[] = {4};
    assert_int_equal(user_expr_condition(&cond, &set, true, v, 1), UA_OK);
    assert_int_equal(user_expr_same_email(&cond), UA_OK);
    assert_string_equal(buf_str(&cond.text),
                        GUARD " AND #version IN (:v0) AND #emailLower = :emailLower");
    assert_int_equal(json_object_size(cond.names), 0);
    assert_int_equal(json_object_size(cond.values), 0);
    assert_string_equal(json_string_value(json_object_get(set.names, "#emailLower")), "emailLower");
    expect_json(json_object_get(set.values, ":emailLower"), "{\"S\":\"ada@b.io\"}");
    user_expr_free(&set);
    user_expr_free(&cond);
}

/* The most a condition can list fits the expression's bound. */
static void test_condition_at_the_tag_limit(void **state) {
    (void)state;
    long long versions[UA_MAX_IF_MATCH_TAGS];
    for (size_t i = 0; i < UA_MAX_IF_MATCH_TAGS; i++)
        versions[i] = 100000000000000000LL + (long long)i;
    user_expr cond;
    assert_int_equal(user_expr_init(&cond), UA_OK);
    assert_int_equal(user_expr_condition(&cond, &cond, true, versions, UA_MAX_IF_MATCH_TAGS),
                     UA_OK);
    assert_int_equal(json_object_size(cond.values), UA_MAX_IF_MATCH_TAGS);
    assert_non_null(strstr(buf_str(&cond.text), ", :v15)"));
    user_expr_free(&cond);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_update_every_field),
        cmocka_unit_test(test_update_some_fields),
        cmocka_unit_test(test_condition_of_an_update),
        cmocka_unit_test(test_condition_of_a_delete),
        cmocka_unit_test(test_condition_at_the_tag_limit),
        cmocka_unit_test(test_same_email),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_user_item.c — users as DynamoDB items and as resources (user_item.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "user_item.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ID      "3f0c8a9e-8d1b-4c2a-9f5e-2b7d3c1a4e6f"
#define TOKEN   "0b6f3c9e-1d2a-4e5f-8a7b-9c0d1e2f3a4b"
#define NOW_MS  1795523696789LL
#define NOW_ISO "2026-11-24T12:34:56.789Z"
#define EARLIER "2026-01-02T03:04:05.006Z"

static ua_span span_of(const char *s) {
    return (ua_span){s, strlen(s)};
}

static json_t *parse(const char *text) {
    json_error_t err;
    json_t *doc = json_loads(text, 0, &err);
    if (!doc)
        fail_msg("bad JSON in the test: %s: %s", err.text, text);
    return doc;
}

/* Fails unless doc serialises (keys in order) to want. */
static void expect_json(const json_t *doc, const char *want) {
    char *got = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
    assert_non_null(got);
    if (strcmp(got, want) != 0)
        fail_msg("got  %s\nwant %s", got, want);
    free(got);
}

static void test_key(void **state) {
    (void)state;
    json_t *key = user_item_key(ID);
    expect_json(key, "{\"userId\":{\"S\":\"" ID "\"}}");
    json_decref(key);
}

static void test_timestamp(void **state) {
    (void)state;
    char out[USER_ITEM_TIMESTAMP_SIZE];
    user_item_timestamp(NOW_MS, out);
    assert_string_equal(out, NOW_ISO);
    user_item_timestamp(0, out);
    assert_string_equal(out, "1970-01-01T00:00:00.000Z");
    user_item_timestamp(-1, out); /* milliseconds stay in 0..999 before the epoch */
    assert_string_equal(out, "1969-12-31T23:59:59.999Z");
    user_item_timestamp(951782400000LL, out); /* a leap day */
    assert_string_equal(out, "2000-02-29T00:00:00.000Z");
}

static void test_email_lower(void **state) {
    (void)state;
    char out[UA_MAX_EMAIL_OCTETS + 1];
    user_item_email_lower(span_of("Ada.LOVELACE@Example.COM"), out);
    assert_string_equal(out, "ada.lovelace@example.com");
    user_item_email_lower(span_of("a-z_0+9@[]"), out);
    assert_string_equal(out, "a-z_0+9@[]");
    /* Never past the buffer, whatever the span says. */
    char *long_email = malloc(UA_MAX_EMAIL_OCTETS + 10);
    assert_non_null(long_email);
    memset(long_email, 'A', UA_MAX_EMAIL_OCTETS + 10);
    user_item_email_lower((ua_span){long_email, UA_MAX_EMAIL_OCTETS + 10}, out);
    assert_int_equal(strlen(out), UA_MAX_EMAIL_OCTETS);
    assert_int_equal(out[0], 'a');
    free(long_email);
}

static void test_av_span(void **state) {
    (void)state;
    const char bytes[] = "Ad\0a";
    json_t *av = user_item_av_span((ua_span){bytes, sizeof bytes - 1});
    assert_non_null(av);
    assert_int_equal(json_string_length(json_object_get(av, "S")), 4);
    json_decref(av);
    assert_null(user_item_av_span(span_of("\xff")));
}

static void test_new_item(void **state) {
    (void)state;
    json_t *body = parse("{\"age\":36}");
    user_fields in = {.has_name = true,
                      .has_email = true,
                      .name = span_of("Ada"),
                      .email = span_of("Ada@Example.com"),
                      .age = json_object_get(body, "age")};
    json_t *item;
    assert_int_equal(user_item_new(&in, ID, TOKEN, NOW_MS, &item), UA_OK);
    expect_json(item, "{\"userId\":{\"S\":\"" ID "\"},\"name\":{\"S\":\"Ada\"},"
                      "\"email\":{\"S\":\"Ada@Example.com\"},"
                      "\"emailLower\":{\"S\":\"ada@example.com\"},"
                      "\"" USER_ITEM_WRITE_TOKEN "\":{\"S\":\"" TOKEN "\"},\"age\":{\"N\":\"36\"},"
                      "\"createdAt\":{\"S\":\"" NOW_ISO "\"},\"updatedAt\":{\"S\":\"" NOW_ISO
                      "\"},\"version\":{\"N\":\"1\"}}");

    /* The item is a user: its resource shows the contract's fields only. */
    json_t *user;
    long long version;
    assert_int_equal(user_item_to_user(item, &user, &version), UA_OK);
    assert_int_equal(version, 1);
    expect_json(user, "{\"userId\":\"" ID "\",\"name\":\"Ada\",\"email\":\"Ada@Example.com\","
                      "\"age\":36,\"createdAt\":\"" NOW_ISO "\",\"updatedAt\":\"" NOW_ISO
                      "\",\"version\":1}");
    json_decref(user);
    json_decref(item);

    /* Without age. */
    in.age = NULL;
    assert_int_equal(user_item_new(&in, ID, TOKEN, NOW_MS, &item), UA_OK);
    assert_null(json_object_get(item, "age"));
    assert_int_equal(json_object_size(item), 8);
    json_decref(item);
    json_decref(body);
}

/* A stored item with the attribute named by drop left out, or replaced by with (JSON text). */
static json_t *stored_item(const char *drop, const char *with) {
    json_t *item = parse("{\"userId\":{\"S\":\"" ID "\"},\"name\":{\"S\":\"Ada\"},"
                         "\"email\":{\"S\":\"ada@b.io\"},\"emailLower\":{\"S\":\"ada@b.io\"},"
                         "\"lastWriteToken\":{\"S\":\"" TOKEN "\"},\"age\":{\"N\":\"7\"},"
                         "\"createdAt\":{\"S\":\"" EARLIER "\"},"
                         "\"updatedAt\":{\"S\":\"" NOW_ISO "\"},\"version\":{\"N\":\"12\"}}");
    if (drop && with)
        json_object_set_new(item, drop, parse(with));
    else if (drop)
        json_object_del(item, drop);
    return item;
}

static void test_item_to_user(void **state) {
    (void)state;
    json_t *item = stored_item(NULL, NULL), *user;
    long long version;
    assert_int_equal(user_item_to_user(item, &user, &version), UA_OK);
    assert_int_equal(version, 12);
    expect_json(user,
                "{\"userId\":\"" ID "\",\"name\":\"Ada\",\"email\":\"ada@b.io\",\"age\":7,"
                "\"createdAt\":\"" EARLIER "\",\"updatedAt\":\"" NOW_ISO "\",\"version\":12}");
    /* The resource shares the item's strings. */
    assert_ptr_equal(json_object_get(user, "name"),
                     json_object_get(json_object_get(item, "name"), "S"));
    json_decref(user);
    json_decref(item);

    /* Age is optional. */
    item = stored_item("age", NULL);
    assert_int_equal(user_item_to_user(item, &user, &version), UA_OK);
    assert_null(json_object_get(user, "age"));
    json_decref(user);
    json_decref(item);
}

static void test_item_that_is_not_a_user(void **state) {
    (void)state;
    static const struct {
        const char *attr, *with; /* with NULL: the attribute is left out */
    } cases[] = {
        {"userId", NULL},
        {"name", NULL},
        {"email", NULL},
        {"createdAt", NULL},
        {"updatedAt", NULL},
        {"version", NULL},
        {"userId", "{\"S\":\"3F0C8A9E-8D1B-4C2A-9F5E-2B7D3C1A4E6F\"}"},
        {"userId", "{\"S\":\"" ID "0\"}"},
        {"userId", "{\"N\":\"1\"}"},
        {"name", "{\"N\":\"1\"}"},
        {"email", "{\"S\":5}"},
        {"createdAt", "{\"NULL\":true}"},
        {"version", "{\"N\":\"1.5\"}"},
        {"version", "{\"S\":\"1\"}"},
        {"age", "{\"N\":\"x\"}"},
        {"age", "{\"S\":\"7\"}"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *item = stored_item(cases[i].attr, cases[i].with), *user = (json_t *)1;
        long long version;
        if (user_item_to_user(item, &user, &version) != UA_ERR_INVALID)
            fail_msg("case %zu (%s %s) is a user", i, cases[i].attr,
                     cases[i].with ? cases[i].with : "missing");
        assert_null(user);
        json_decref(item);
    }
    json_t *user;
    long long version;
    json_t *array = parse("[]");
    assert_int_equal(user_item_to_user(array, &user, &version), UA_ERR_INVALID);
    assert_int_equal(user_item_to_user(NULL, &user, &version), UA_ERR_INVALID);
    json_decref(array);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key),
        cmocka_unit_test(test_timestamp),
        cmocka_unit_test(test_email_lower),
        cmocka_unit_test(test_av_span),
        cmocka_unit_test(test_new_item),
        cmocka_unit_test(test_item_to_user),
        cmocka_unit_test(test_item_that_is_not_a_user),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

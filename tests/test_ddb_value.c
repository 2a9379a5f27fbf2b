/* test_ddb_value.c — AttributeValue marshalling both ways, nesting bounds, and the item helpers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ddb_value.h"

#include <limits.h>
#include <stdlib.h>

/* ---- Helpers ---- */

static json_t *parse(const char *text) {
    json_error_t err;
    json_t *j = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
    if (!j)
        fail_msg("bad test JSON: %s", err.text);
    return j;
}

/* Asserts that the compact, key-sorted rendering of j is want. Takes j. */
static void assert_json(json_t *j, const char *want) {
    assert_non_null(j);
    char *got = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
    json_decref(j);
}

static json_t *unmarshal_text(const char *av) {
    json_t *in = parse(av);
    json_t *out = ddb_unmarshal(in);
    json_decref(in);
    return out;
}

/* A plain value nested depth arrays deep, and its AttributeValue. */
static json_t *nested_plain(unsigned depth) {
    json_t *v = json_string("core");
    for (unsigned i = 0; i < depth; i++) {
        json_t *a = json_array();
        json_array_append_new(a, v);
        v = a;
    }
    return v;
}

static json_t *nested_av(unsigned depth) {
    json_t *v = json_pack("{s:s}", "S", "core");
    for (unsigned i = 0; i < depth; i++)
        v = json_pack("{s:[o]}", "L", v);
    return v;
}

/* ---- Marshalling ---- */

static void test_marshal_scalars(void **state) {
    (void)state;
    json_t *v;
    assert_json(ddb_marshal(v = json_string("Ada")), "{\"S\":\"Ada\"}");
    json_decref(v);
    assert_json(ddb_marshal(v = json_integer(-42)), "{\"N\":\"-42\"}");
    json_decref(v);
    assert_json(ddb_marshal(v = json_real(2.5)), "{\"N\":\"2.5\"}");
    json_decref(v);
    assert_json(ddb_marshal(v = json_real(0.1)), "{\"N\":\"0.1\"}"); /* shortest form */
    json_decref(v);
    assert_json(ddb_marshal(v = json_true()), "{\"BOOL\":true}");
    json_decref(v);
    assert_json(ddb_marshal(v = json_false()), "{\"BOOL\":false}");
    json_decref(v);
    assert_json(ddb_marshal(v = json_null()), "{\"NULL\":true}");
    json_decref(v);
    assert_null(ddb_marshal(NULL));
}

static void test_marshal_nested(void **state) {
    (void)state;
    json_t *plain = parse("{\"m\":{\"l\":[1,\"x\",[true,null]],\"e\":{}},\"a\":[]}");
    assert_json(ddb_marshal(plain), "{\"M\":{\"a\":{\"L\":[]},\"m\":{\"M\":{\"e\":{\"M\":{}},"
                                    "\"l\":{\"L\":[{\"N\":\"1\"},{\"S\":\"x\"},{\"L\":[{\"BOOL\":"
                                    "true},{\"NULL\":true}]}]}}}}}");
    json_decref(plain);
}

static void test_round_trips(void **state) {
    (void)state;
    static const char *const docs[] = {
        "{\"name\":\"Ada Lovelace\",\"age\":36,\"ok\":true,\"none\":null}",
        "{\"u\":\"\\u00e9\\u65e5\\u672c\\ud83d\\ude00 \\u2713\",\"nul\":\"a\\u0000b\"}",
        "{\"max\":9223372036854775807,\"min\":-9223372036854775808,\"zero\":0}",
        "{\"r\":[0.5,-1.25,1e+300,3.141592653589793,1e-07]}",
        "{\"deep\":{\"a\":[{\"b\":[[],{},[{\"c\":\"d\"}]]}]}}",
        "[1,2,3]",
        "\"just a string\"",
    };
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        json_t *plain = parse(docs[i]);
        json_t *av = ddb_marshal(plain);
        assert_non_null(av);
        json_t *back = ddb_unmarshal(av);
        assert_non_null(back);
        if (!json_equal(plain, back))
            fail_msg("round trip changed %s", docs[i]);
        json_decref(plain);
        json_decref(av);
        json_decref(back);
    }
}

static void test_unmarshal_numbers(void **state) {
    (void)state;
    json_t *n = unmarshal_text("{\"N\":\"42\"}");
    assert_true(json_is_integer(n));
    assert_int_equal(json_integer_value(n), 42);
    json_decref(n);
    n = unmarshal_text("{\"N\":\"-0\"}");
    assert_true(json_is_integer(n));
    assert_int_equal(json_integer_value(n), 0);
    json_decref(n);
    n = unmarshal_text("{\"N\":\"1.5\"}");
    assert_true(json_is_real(n));
    assert_true(json_real_value(n) == 1.5);
    json_decref(n);
    n = unmarshal_text("{\"N\":\"1E3\"}");
    assert_true(json_is_real(n));
    assert_true(json_real_value(n) == 1000.0);
    json_decref(n);
    /* An integer too large for 64 bits is still a number: a real. */
    n = unmarshal_text("{\"N\":\"123456789012345678901234567890\"}");
    assert_true(json_is_real(n));
    assert_true(json_real_value(n) > 1.2e29);
    json_decref(n);
}

static void test_unmarshal_rejects_malformed(void **state) {
    (void)state;
    static const char *const bad[] = {
        "{}",
        "\"S\"",
        "{\"S\":1}",
        "{\"S\":\"a\",\"N\":\"1\"}",
        "{\"N\":\"\"}",
        "{\"N\":\"abc\"}",
        "{\"N\":\" 1\"}",
        "{\"N\":\"1 \"}",
        "{\"N\":\"+1\"}",
        "{\"N\":\"1e\"}",
        "{\"N\":\"0x10\"}",
        "{\"N\":\"1e999\"}",
        "{\"N\":\"1\\u00002\"}",
        "{\"N\":\"-\"}",
        "{\"N\":\".\"}",
        "{\"N\":7}",
        "{\"BOOL\":\"true\"}",
        "{\"NULL\":false}",
        "{\"M\":[]}",
        "{\"L\":{}}",
        "{\"SS\":[\"a\"]}",
        "{\"B\":\"AAE=\"}",
        "{\"s\":\"lowercase type\"}",
        "{\"M\":{\"a\":{\"X\":1}}}",
        "{\"L\":[{\"S\":\"ok\"},{\"N\":\"x\"}]}",
        "{\"M\":{\"a\":{\"L\":[{\"M\":{\"b\":{}}}]}}}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *out = unmarshal_text(bad[i]);
        if (out) {
            json_decref(out);
            fail_msg("accepted %s", bad[i]);
        }
    }
    assert_null(ddb_unmarshal(NULL));
}

static void test_nesting_is_bounded(void **state) {
    (void)state;
    json_t *ok = nested_plain(DDB_MAX_NESTING);
    json_t *av = ddb_marshal(ok);
    assert_non_null(av);
    json_decref(av);
    json_decref(ok);
    json_t *deep = nested_plain(DDB_MAX_NESTING + 1);
    assert_null(ddb_marshal(deep));
    json_decref(deep);

    json_t *ok_av = nested_av(DDB_MAX_NESTING);
    json_t *plain = ddb_unmarshal(ok_av);
    assert_non_null(plain);
    json_decref(plain);
    json_decref(ok_av);
    json_t *deep_av = nested_av(500);
    assert_null(ddb_unmarshal(deep_av));
    json_decref(deep_av);
}

static void test_item_helpers(void **state) {
    (void)state;
    assert_json(ddb_av_s("u-1"), "{\"S\":\"u-1\"}");
    assert_json(ddb_av_n(7), "{\"N\":\"7\"}");
    assert_json(ddb_av_n(LLONG_MIN), "{\"N\":\"-9223372036854775808\"}");
    assert_null(ddb_av_s(NULL));

    json_t *item =
        parse("{\"userId\":{\"S\":\"u-1\"},\"version\":{\"N\":\"12\"},"
              "\"neg\":{\"N\":\"-3\"},\"frac\":{\"N\":\"1.5\"},\"big\":{\"N\":"
              "\"99999999999999999999\"},\"word\":{\"N\":\"x\"},\"flag\":{\"BOOL\":true}}");
    assert_string_equal(ddb_item_s(item, "userId"), "u-1");
    assert_null(ddb_item_s(item, "version"));
    assert_null(ddb_item_s(item, "missing"));
    assert_null(ddb_item_s(NULL, "userId"));
    long long n = -1;
    assert_true(ddb_item_n(item, "version", &n));
    assert_int_equal(n, 12);
    assert_true(ddb_item_n(item, "neg", &n));
    assert_int_equal(n, -3);
    n = 99;
    assert_false(ddb_item_n(item, "frac", &n));
    assert_false(ddb_item_n(item, "big", &n));
    assert_false(ddb_item_n(item, "word", &n));
    assert_false(ddb_item_n(item, "userId", &n));
    assert_false(ddb_item_n(item, "flag", &n));
    assert_false(ddb_item_n(item, "missing", &n));
    assert_int_equal(n, 99); /* untouched on failure */
    json_decref(item);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_marshal_scalars),
        cmocka_unit_test(test_marshal_nested),
        cmocka_unit_test(test_round_trips),
        cmocka_unit_test(test_unmarshal_numbers),
        cmocka_unit_test(test_unmarshal_rejects_malformed),
        cmocka_unit_test(test_nesting_is_bounded),
        cmocka_unit_test(test_item_helpers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

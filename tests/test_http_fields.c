/* test_http_fields.c — Content-Type media types and If-Match entity tags (http_fields.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "http_fields.h"

#include <stdio.h>
#include <string.h>

static const char *const JSON_ONLY[] = {"application/json", NULL};
static const char *const JSON_OR_MERGE[] = {"application/json", "application/merge-patch+json",
                                            NULL};

static ua_span span_of(const char *s) {
    return (ua_span){s, strlen(s)};
}

/* ---- Content-Type ---- */

static void test_media_type_accepted(void **state) {
    (void)state;
    static const char *const ok[] = {
        "application/json",
        "Application/JSON",
        "application/json; charset=utf-8",
        "application/json;charset=UTF-8",
        "application/json; charset=\"utf-8\"",
        "application/json; charset=\"ut\\f-8\"", /* a quoted-pair stands for its character */
        "application/json ; foo=bar; charset=utf-8",
        "application/json; foo=\"a;b\"",
        "application/json;;",
        "application/json; ",
        "  application/json  ",
        "\tapplication/json\t",
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if (!http_media_type_is(span_of(ok[i]), JSON_ONLY))
            fail_msg("'%s' refused", ok[i]);
}

static void test_media_type_refused(void **state) {
    (void)state;
    static const char *const bad[] = {
        "text/plain",
        "application/jsonx",
        "application/json-seq",
        "application/xml",
        "application/json; charset=latin1",
        "application/json; charset=utf-16",
        "application/json; charset=\"utf-8",
        "application/json; charset",
        "application/json; charset=",
        "application/json; =utf-8",
        "application/json; charset=\"utf-8\\",
        "application/json; foo=\"a\001b\"", /* a control character in a quoted-string */
        "application/json; charset=utf-8-and-a-name-longer-than-any-charset",
        "application/json garbage",
        "application/ json",
        "application /json",
        "application/merge-patch+json", /* not in the list */
        "application",
        "/json",
        "",
        " ",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (http_media_type_is(span_of(bad[i]), JSON_ONLY))
            fail_msg("'%s' accepted", bad[i]);
}

static void test_media_type_lists(void **state) {
    (void)state;
    assert_true(http_media_type_is(span_of("application/merge-patch+json"), JSON_OR_MERGE));
    assert_true(
        http_media_type_is(span_of("Application/Merge-Patch+JSON; charset=utf-8"), JSON_OR_MERGE));
    assert_true(http_media_type_is(span_of("application/json"), JSON_OR_MERGE));
    static const char *const none[] = {NULL};
    assert_false(http_media_type_is(span_of("application/json"), none));
}

/* Values are (pointer, length): bytes past the length are not read, NULs inside are refused. */
static void test_media_type_bounds(void **state) {
    (void)state;
    const char s[] = "application/jsonx";
    assert_true(http_media_type_is((ua_span){s, sizeof s - 2}, JSON_ONLY));
    const char nul[] = "application/json\0; charset=utf-8";
    assert_false(http_media_type_is((ua_span){nul, sizeof nul - 1}, JSON_ONLY));
    assert_false(http_media_type_is((ua_span){NULL, 0}, JSON_ONLY));
}

/* ---- If-Match ---- */

/* Parses lines[0..n) as one If-Match field; the result of http_if_match_finish, or false when
 * a line was refused. */
static bool if_match(const char *const *lines, size_t n, http_if_match *m) {
    http_if_match_init(m);
    for (size_t i = 0; i < n; i++)
        if (!http_if_match_add_line(m, span_of(lines[i])))
            return false;
    return http_if_match_finish(m);
}

static bool if_match1(const char *line, http_if_match *m) {
    return if_match(&line, 1, m);
}

static void test_if_match_star(void **state) {
    (void)state;
    http_if_match m;
    assert_true(if_match1("*", &m));
    assert_false(m.conditional);
    assert_int_equal(m.n, 0);
    assert_true(if_match1(" * , ", &m));
    assert_false(m.conditional);
}

static void test_if_match_versions(void **state) {
    (void)state;
    http_if_match m;
    assert_true(if_match1("\"3\"", &m));
    assert_true(m.conditional);
    assert_int_equal(m.n, 1);
    assert_int_equal(m.versions[0], 3);

    /* Weak tags, tags that are not canonical decimals and repeats are dropped. */
    const char *lines[] = {"\"1\", W/\"2\" ,\"x\",, \"01\"", "\"3\",\"1\""};
    assert_true(if_match(lines, 2, &m));
    assert_true(m.conditional);
    assert_int_equal(m.n, 2);
    assert_int_equal(m.versions[0], 1);
    assert_int_equal(m.versions[1], 3);

    /* Eighteen digits are a version; nineteen could overflow and never are. */
    assert_true(if_match1("\"999999999999999999\"", &m));
    assert_int_equal(m.n, 1);
    assert_true(m.versions[0] == 999999999999999999LL);
    assert_true(if_match1("\"1000000000000000000\"", &m));
    assert_true(m.conditional);
    assert_int_equal(m.n, 0);

    /* Nothing can match: conditional, with no version. */
    assert_true(if_match1("W/\"2\", \"0\", \"-1\", \"\"", &m));
    assert_true(m.conditional);
    assert_int_equal(m.n, 0);
    /* Opaque tags may hold any etagc, obs-text included. */
    assert_true(if_match1("\"\x80\xff!#~\"", &m));
    assert_int_equal(m.n, 0);
}

static void test_if_match_tag_limit(void **state) {
    (void)state;
    char line[256] = "";
    http_if_match m;
    for (unsigned i = 1; i <= UA_MAX_IF_MATCH_TAGS; i++) {
        char tag[16];
        snprintf(tag, sizeof tag, "%s\"%u\"", i > 1 ? "," : "", i);
        strcat(line, tag);
    }
    assert_true(if_match1(line, &m));
    assert_int_equal(m.n, UA_MAX_IF_MATCH_TAGS);
    const char *two[] = {line, "\"17\""}; /* the limit counts the whole field */
    assert_false(if_match(two, 2, &m));
    const char *stars[] = {line, ""};
    assert_true(if_match(stars, 2, &m));
}

static void test_if_match_malformed(void **state) {
    (void)state;
    static const char *const bad[] = {
        "3",   "\"3", "W/3",     "w/\"3\"", "*, \"1\"", "\"1\" \"2\"", "",
        " , ", "**",  "\"a b\"", "\"a\"b",  "W/",       "\"\x7f\"",
    };
    http_if_match m;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (if_match1(bad[i], &m))
            fail_msg("If-Match '%s' accepted", bad[i]);
    const char *star_twice[] = {"*", "*"};
    assert_false(if_match(star_twice, 2, &m));
    const char *star_and_tag[] = {"*", "\"1\""};
    assert_false(if_match(star_and_tag, 2, &m));
    /* A tag does not continue across lines. */
    const char *split[] = {"\"a", "b\""};
    assert_false(if_match(split, 2, &m));
    assert_false(if_match(NULL, 0, &m));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_media_type_accepted), cmocka_unit_test(test_media_type_refused),
        cmocka_unit_test(test_media_type_lists),    cmocka_unit_test(test_media_type_bounds),
        cmocka_unit_test(test_if_match_star),       cmocka_unit_test(test_if_match_versions),
        cmocka_unit_test(test_if_match_tag_limit),  cmocka_unit_test(test_if_match_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

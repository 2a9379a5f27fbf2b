/* test_span.c — byte views (src/span.c): trimming, comparing ignoring case, cutting and splitting,
 * and that nothing past a view's length is ever read. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "span.h"

#include <string.h>

/* s as a span of its first n bytes: the rest of s stands for memory the view must not read. */
static ua_span first(const char *s, size_t n) {
    return (ua_span){s, n};
}

static void assert_span(ua_span got, const char *want) {
    assert_int_equal(got.len, strlen(want));
    if (got.len)
        assert_memory_equal(got.ptr, want, got.len);
}

static void test_from_cstr(void **state) {
    (void)state;
    ua_span s = ua_span_from_cstr("abc");
    assert_span(s, "abc");
    s = ua_span_from_cstr("");
    assert_int_equal(s.len, 0);
    s = ua_span_from_cstr(NULL);
    assert_null(s.ptr);
    assert_int_equal(s.len, 0);
}

static void test_trim(void **state) {
    (void)state;
    assert_span(ua_span_trim_ows(ua_span_from_cstr(" \t a b \t ")), "a b");
    /* OWS is space and tab only: CR, LF, VT and NBSP stay. */
    assert_span(ua_span_trim_ows(ua_span_from_cstr("\r\va\n")), "\r\va\n");
    assert_span(ua_span_trim_ows(ua_span_from_cstr("\xC2\xA0x")), "\xC2\xA0x");
    assert_span(ua_span_trim_ows(ua_span_from_cstr(" \t ")), "");
    assert_span(ua_span_trim(ua_span_from_cstr("\r\n x \t\n"), UA_ASCII_WHITESPACE), "x");
    assert_span(ua_span_trim(ua_span_from_cstr("--x-y--"), "-"), "x-y");
    assert_span(ua_span_trim(ua_span_from_cstr("abc"), ""), "abc");
    /* A NUL byte inside the view is a byte like any other, never part of a set. */
    ua_span nul = ua_span_trim(first("\0a\0", 3), " ");
    assert_int_equal(nul.len, 3);
    /* The bytes past len are never looked at: the "  " after the view stays out. */
    assert_span(ua_span_trim_ows(first("  ab  cd", 5)), "ab");
    ua_span none = ua_span_trim_ows((ua_span){NULL, 0});
    assert_int_equal(none.len, 0);
    /* The result is a view into the same bytes. */
    const char *text = "  x ";
    assert_ptr_equal(ua_span_trim_ows(ua_span_from_cstr(text)).ptr, text + 2);
}

static void test_eq(void **state) {
    (void)state;
    assert_true(ua_span_eq(ua_span_from_cstr("abc"), first("abcd", 3)));
    assert_false(ua_span_eq(ua_span_from_cstr("abc"), ua_span_from_cstr("abd")));
    assert_false(ua_span_eq(ua_span_from_cstr("abc"), ua_span_from_cstr("ab")));
    assert_true(ua_span_eq((ua_span){NULL, 0}, ua_span_from_cstr("")));
    assert_false(ua_span_eq(ua_span_from_cstr("A"), ua_span_from_cstr("a")));
}

static void test_ignore_case(void **state) {
    (void)state;
    assert_true(ua_span_eq_ignore_case(ua_span_from_cstr("Application/JSON"), "application/json"));
    assert_true(ua_span_eq_ignore_case(ua_span_from_cstr("utf-8"), "UTF-8"));
    assert_false(ua_span_eq_ignore_case(ua_span_from_cstr("utf-8 "), "utf-8"));
    assert_false(ua_span_eq_ignore_case(ua_span_from_cstr("utf8"), "utf-8"));
    assert_true(ua_span_eq_ignore_case((ua_span){NULL, 0}, ""));
    /* Only ASCII letters fold: '@' and '`' are not 'A' and 'a' less one, nor bytes past 0x7F. */
    assert_false(ua_span_eq_ignore_case(ua_span_from_cstr("@"), "`"));
    assert_false(ua_span_eq_ignore_case(ua_span_from_cstr("["), "{"));
    assert_false(ua_span_eq_ignore_case(ua_span_from_cstr("\xC3\x89"), "\xC3\xA9"));
    assert_true(ua_span_eq_ignore_case(first("textual", 4), "TEXT"));

    assert_true(ua_span_starts_with_ignore_case(ua_span_from_cstr("Text/HTML"), "text/"));
    assert_false(ua_span_starts_with_ignore_case(ua_span_from_cstr("tex"), "text/"));
    assert_true(ua_span_starts_with_ignore_case(ua_span_from_cstr("x"), ""));
    assert_true(ua_span_ends_with_ignore_case(ua_span_from_cstr("application/LD+JSON"), "+json"));
    assert_false(ua_span_ends_with_ignore_case(ua_span_from_cstr("json"), "+json"));
    assert_true(ua_span_ends_with_ignore_case((ua_span){NULL, 0}, ""));
    assert_false(ua_span_ends_with_ignore_case(first("a+json", 5), "+json"));
}

static void test_cut(void **state) {
    (void)state;
    ua_span head, tail;
    assert_true(ua_span_cut(ua_span_from_cstr("name=va=lue"), '=', &head, &tail));
    assert_span(head, "name");
    assert_span(tail, "va=lue");
    assert_true(ua_span_cut(ua_span_from_cstr("=x"), '=', &head, &tail));
    assert_span(head, "");
    assert_span(tail, "x");
    assert_true(ua_span_cut(ua_span_from_cstr("x="), '=', &head, &tail));
    assert_span(head, "x");
    assert_span(tail, "");
    assert_false(ua_span_cut(ua_span_from_cstr("flag"), '=', &head, &tail));
    assert_span(head, "flag");
    assert_span(tail, "");
    assert_false(ua_span_cut((ua_span){NULL, 0}, '=', &head, &tail));
    assert_int_equal(head.len, 0);
    assert_false(ua_span_cut(first("ab=c", 2), '=', &head, &tail)); /* '=' is past the view */
    assert_span(head, "ab");
}

/* Splits list at sep and joins the pieces with '|' into out. */
static void split_all(ua_span list, char sep, char *out, size_t cap) {
    ua_span rest = list, piece;
    size_t n = 0, count = 0;
    out[0] = '\0';
    while (ua_span_split(&rest, sep, &piece)) {
        assert_true(n + piece.len + 2 < cap);
        if (count++)
            out[n++] = '|';
        memcpy(out + n, piece.ptr, piece.len);
        n += piece.len;
        out[n] = '\0';
    }
    assert_int_equal(piece.len, 0);
    assert_int_equal(rest.len, 0);
}

static void test_split(void **state) {
    (void)state;
    char got[64];
    static const struct {
        const char *list, *want;
    } cases[] = {
        {"a,b,c", "a|b|c"}, {"a", "a"},  {"", ""},
        {",", ""},          {"a,", "a"}, {",a", "|a"},
        {"a,,b", "a||b"},   {",,", "|"}, {" a , b ", " a | b "},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        split_all(ua_span_from_cstr(cases[i].list), ',', got, sizeof got);
        if (strcmp(got, cases[i].want) != 0)
            fail_msg("split \"%s\": got \"%s\", want \"%s\"", cases[i].list, got, cases[i].want);
    }
    /* Only the view is split: the ",z" past its end is not a piece. */
    split_all(first("x,y,z", 3), ',', got, sizeof got);
    assert_string_equal(got, "x|y");

    /* The usual loop over an HTTP list: trimmed, empty elements skipped. */
    ua_span rest = ua_span_from_cstr(" https://a.example ,, https://b.example,"), piece;
    size_t seen = 0;
    while (ua_span_split(&rest, ',', &piece)) {
        piece = ua_span_trim_ows(piece);
        if (piece.len == 0)
            continue;
        assert_span(piece, seen++ ? "https://b.example" : "https://a.example");
    }
    assert_int_equal(seen, 2);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_from_cstr), cmocka_unit_test(test_trim),
        cmocka_unit_test(test_eq),        cmocka_unit_test(test_ignore_case),
        cmocka_unit_test(test_cut),       cmocka_unit_test(test_split),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

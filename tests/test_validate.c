/* test_validate.c — every field rule of the contract and its boundaries (validate.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "validate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MSG_LENGTH "must be 1 to 100 characters"
#define MSG_UTF8   "must be valid UTF-8"
#define MSG_CTRL   "must not contain control characters"
#define MSG_EMAIL  "must be a valid email address"
#define MSG_AGE    "must be an integer from 0 to 150"

/* A case: bytes (len, so NULs may be inside) and the message expected, NULL for "valid". */
typedef struct bytes_case {
    const char *what;
    const char *s;
    size_t len;
    const char *want;
} bytes_case;

#define CASE(what, lit, want)                                                                      \
    { what, lit, sizeof(lit) - 1, want }

static ua_span span_of(const char *s, size_t len) {
    return (ua_span){s, len};
}

/* The message, or "(valid)" so that assert_string_equal can compare NULLs too. */
static const char *show(const char *msg) {
    return msg ? msg : "(valid)";
}

static void check_name_cases(const bytes_case *cases, size_t n) {
    for (size_t i = 0; i < n; i++) {
        const char *got = validate_name(span_of(cases[i].s, cases[i].len));
        if ((got == NULL) != (cases[i].want == NULL) || (got && strcmp(got, cases[i].want) != 0))
            fail_msg("name case '%s': got %s, want %s", cases[i].what, show(got),
                     show(cases[i].want));
    }
}

/* ---- UTF-8 ---- */

static void test_utf8_table(void **state) {
    (void)state;
    static const struct {
        const char *what;
        const char *s;
        size_t len;
        bool ok;
    } cases[] = {
        {"empty", "", 0, true},
        {"ascii", "abc", 3, true},
        {"U+0080 first 2-byte", "\xC2\x80", 2, true},
        {"U+07FF last 2-byte", "\xDF\xBF", 2, true},
        {"U+0800 first 3-byte", "\xE0\xA0\x80", 3, true},
        {"U+D7FF before surrogates", "\xED\x9F\xBF", 3, true},
        {"U+E000 after surrogates", "\xEE\x80\x80", 3, true},
        {"U+FFFF", "\xEF\xBF\xBF", 3, true},
        {"U+10000 first 4-byte", "\xF0\x90\x80\x80", 4, true},
        {"U+10FFFF last", "\xF4\x8F\xBF\xBF", 4, true},
        {"NUL is a valid code point", "a\0b", 3, true},
        {"overlong NUL C0 80", "\xC0\x80", 2, false},
        {"overlong C1 BF", "\xC1\xBF", 2, false},
        {"overlong 3-byte", "\xE0\x80\x80", 3, false},
        {"overlong 3-byte U+07FF", "\xE0\x9F\xBF", 3, false},
        {"overlong 4-byte", "\xF0\x80\x80\x80", 4, false},
        {"overlong 4-byte U+FFFF", "\xF0\x8F\xBF\xBF", 4, false},
        {"surrogate D800", "\xED\xA0\x80", 3, false},
        {"surrogate DFFF", "\xED\xBF\xBF", 3, false},
        {"surrogate pair as CESU-8", "\xED\xA0\xBD\xED\xB8\x80", 6, false},
        {"U+110000", "\xF4\x90\x80\x80", 4, false},
        {"F5 lead", "\xF5\x80\x80\x80", 4, false},
        {"FF byte", "\xFF", 1, false},
        {"FE byte", "a\xFE", 2, false},
        {"stray continuation", "\x80", 1, false},
        {"truncated 2-byte", "\xC3", 1, false},
        {"truncated 3-byte", "\xE2\x82", 2, false},
        {"truncated 4-byte", "\xF0\x9F\x98", 3, false},
        {"truncated then ascii", "\xE2\x82x", 3, false},
        {"len cuts a valid sequence", "\xC3\xA9", 1, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (validate_utf8(cases[i].s, cases[i].len) != cases[i].ok)
            fail_msg("utf8 case '%s': want %s", cases[i].what, cases[i].ok ? "valid" : "invalid");
}

static void test_codepoints(void **state) {
    (void)state;
    assert_int_equal(validate_codepoints("", 0), 0);
    assert_int_equal(validate_codepoints("abc", 3), 3);
    assert_int_equal(validate_codepoints("\xC3\xA9", 2), 1);              /* é */
    assert_int_equal(validate_codepoints("\xF0\x9F\x98\x80", 4), 1);      /* 😀 */
    assert_int_equal(validate_codepoints("a\xC3\xA9\xE2\x82\xAC", 6), 3); /* aé€ */
    /* Only the first len bytes count, whatever follows. */
    assert_int_equal(validate_codepoints("abcdef", 2), 2);
}

/* ---- Trimming ---- */

static void test_trim(void **state) {
    (void)state;
    const char *s = " \t\r\n Ada  Lovelace \n\t";
    ua_span t = validate_trim(span_of(s, strlen(s)));
    assert_int_equal(t.len, strlen("Ada  Lovelace"));
    assert_memory_equal(t.ptr, "Ada  Lovelace", t.len);

    /* Only ASCII space, tab, CR and LF are trimmed: not VT, FF or NBSP. */
    const char *vt = "\vx\f";
    t = validate_trim(span_of(vt, 3));
    assert_int_equal(t.len, 3);
    const char *nbsp = "\xC2\xA0x";
    t = validate_trim(span_of(nbsp, 3));
    assert_int_equal(t.len, 3);

    const char *blank = " \t\r\n";
    t = validate_trim(span_of(blank, 4));
    assert_int_equal(t.len, 0);

    /* The bytes past len are never looked at: the "  " after the view stays. */
    const char *cut = "  ab  cd";
    t = validate_trim(span_of(cut, 5));
    assert_int_equal(t.len, 2);
    assert_memory_equal(t.ptr, "ab", 2);

    t = validate_trim(span_of(NULL, 0));
    assert_int_equal(t.len, 0);
}

/* ---- Names ---- */

static void test_name_table(void **state) {
    (void)state;
    static const bytes_case cases[] = {
        CASE("plain", "Ada Lovelace", NULL),
        CASE("one character", "A", NULL),
        CASE("one multi-byte character", "\xC3\xA9", NULL),
        CASE("emoji", "\xF0\x9F\x98\x80", NULL),
        CASE("inner spaces kept", "Ada  King", NULL),
        CASE("C1 controls are not in the contract's set", "a\xC2\x85", NULL),
        CASE("empty", "", MSG_LENGTH),
        CASE("U+0000", "a\0b", MSG_CTRL),
        CASE("U+0001", "a\x01", MSG_CTRL),
        CASE("tab inside", "Ada\tKing", MSG_CTRL),
        CASE("newline inside", "Ada\nKing", MSG_CTRL),
        CASE("U+001F", "\x1f", MSG_CTRL),
        CASE("U+007F", "Ada\x7f", MSG_CTRL),
        CASE("overlong", "\xC0\xAF", MSG_UTF8),
        CASE("surrogate", "\xED\xA0\x80", MSG_UTF8),
        CASE("past U+10FFFF", "\xF4\x90\x80\x80", MSG_UTF8),
        CASE("truncated", "Ada\xE2\x82", MSG_UTF8),
        CASE("latin-1 byte", "Andr\xE9", MSG_UTF8),
    };
    check_name_cases(cases, sizeof cases / sizeof cases[0]);
}

/* count copies of unit, in a malloc'd buffer of *len bytes. */
static char *repeat(const char *unit, size_t count, size_t *len) {
    size_t u = strlen(unit);
    char *s = malloc(u * count + 1);
    assert_non_null(s);
    for (size_t i = 0; i < count; i++)
        memcpy(s + i * u, unit, u);
    s[u * count] = '\0';
    *len = u * count;
    return s;
}

static void check_name_repeat(const char *unit, size_t count, const char *want) {
    size_t len;
    char *s = repeat(unit, count, &len);
    bytes_case c = {"repeat", s, len, want};
    check_name_cases(&c, 1);
    free(s);
}

static void test_name_length_bounds(void **state) {
    (void)state;
    check_name_repeat("a", 100, NULL);
    check_name_repeat("a", 101, MSG_LENGTH);
    /* Code points, not bytes: 100 two-byte and four-byte characters are fine, 101 are not. */
    check_name_repeat("\xC3\xA9", 100, NULL);
    check_name_repeat("\xC3\xA9", 101, MSG_LENGTH);
    check_name_repeat("\xF0\x9F\x98\x80", 100, NULL);
    check_name_repeat("\xF0\x9F\x98\x80", 101, MSG_LENGTH);
    check_name_repeat("\xE2\x82\xAC", 100, NULL);
    check_name_repeat("\xE2\x82\xAC", 101, MSG_LENGTH);
}

static const char *trimmed_name(const char *s, size_t len) {
    return validate_name(validate_trim(span_of(s, len)));
}

static void test_name_after_trimming(void **state) {
    (void)state;
    /* Nothing left after trimming. */
    assert_string_equal(show(trimmed_name("   ", 3)), MSG_LENGTH);
    assert_string_equal(show(trimmed_name("\t\r\n ", 4)), MSG_LENGTH);
    /* Whitespace at the ends is not a control character once trimmed away... */
    assert_string_equal(show(trimmed_name("\tAda\r\n", 6)), "(valid)");
    /* ...but a control character left at an end after trimming is. */
    assert_string_equal(show(trimmed_name(" Ada\x1f ", 6)), MSG_CTRL);
    assert_string_equal(show(trimmed_name(" \x7f", 2)), MSG_CTRL);
    assert_string_equal(show(trimmed_name("\x0b", 1)), MSG_CTRL); /* VT is not trimmed */

    /* 100 characters plus padding are within the limit once trimmed. */
    size_t len;
    char *body = repeat("\xC3\xA9", 100, &len);
    char *padded = malloc(len + 5);
    assert_non_null(padded);
    memcpy(padded, "  ", 2);
    memcpy(padded + 2, body, len);
    memcpy(padded + 2 + len, " \n", 3);
    assert_string_equal(show(trimmed_name(padded, len + 4)), "(valid)");
    free(padded);
    free(body);
}

/* ---- Emails ---- */

static const char *email(const char *s) {
    return validate_email(span_of(s, strlen(s)));
}

static void test_email_table(void **state) {
    (void)state;
    static const struct {
        const char *s;
        bool ok;
    } cases[] = {
        {"ada@example.com", true},
        {"Ada.Lovelace@Example.COM", true},
        {"a.b+tag@sub.example.co.uk", true},
        {"x@a-b.io", true},
        {"x@a--b.io", true},
        {"!#$%&'*+-/=?^_`{|}~@example.com", true},
        {"a@1.example", true},
        {"a@b.c1", true}, /* the last label holds a letter */
        {"a@b.1c", true},
        {"", false},
        {"ada", false},
        {"ada.example.com", false},
        {"@example.com", false},
        {"ada@", false},
        {"a@@example.com", false},
        {"a@b@example.com", false},
        {".ada@example.com", false},
        {"ada.@example.com", false},
        {"a..da@example.com", false},
        {"a.@.example.com", false},
        {"ada@example", false},     /* one label */
        {"ada@localhost", false},   /* one label */
        {"ada@example.123", false}, /* numeric TLD */
        {"ada@192.168.0.1", false}, /* an address, not a domain */
        {"ada@[192.168.0.1]", false},
        {"ada@-example.com", false}, /* leading hyphen */
        {"ada@example-.com", false}, /* trailing hyphen */
        {"ada@example.com-", false},
        {"ada@example.-com", false},
        {"ada@exa_mple.com", false},
        {"ada@exa mple.com", false},
        {"ada@example..com", false},
        {"ada@.example.com", false},
        {"ada@example.com.", false},
        {"a da@example.com", false},
        {" ada@example.com", false}, /* the caller trims; validation does not */
        {"ada@ex\xC3\xA4mple.com", false},
        {"\xC3\xA9@example.com", false},
        {"a\x01@example.com", false},
        {"a\x7f@example.com", false},
        {"a\t@example.com", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *got = email(cases[i].s);
        if ((got == NULL) != cases[i].ok)
            fail_msg("email '%s': got %s", cases[i].s, show(got));
        if (got)
            assert_string_equal(got, MSG_EMAIL);
    }
}

static void test_email_forbidden_local_chars(void **state) {
    (void)state;
    const char *forbidden = " \"(),:;<>@[\\]";
    for (const char *c = forbidden; *c; c++) {
        char s[32];
        snprintf(s, sizeof s, "a%cb@example.com", *c);
        if (email(s) == NULL)
            fail_msg("local part with '%c' accepted", *c);
    }
    /* Every other printable ASCII character is allowed in the local part. */
    for (int c = 0x21; c < 0x7F; c++) {
        if (strchr(forbidden, c) || c == '.')
            continue;
        char s[32];
        snprintf(s, sizeof s, "a%cb@example.com", c);
        if (email(s) != NULL)
            fail_msg("local part with '%c' refused", c);
    }
}

static void test_email_nul_inside(void **state) {
    (void)state;
    const char s[] = "ada\0@example.com";
    assert_non_null(validate_email(span_of(s, sizeof s - 1)));
    const char t[] = "ada@example.com\0";
    assert_non_null(validate_email(span_of(t, sizeof t - 1)));
    /* Only len bytes are read: a view that ends before the junk is valid. */
    const char u[] = "ada@example.comXX junk";
    assert_null(validate_email(span_of(u, strlen("ada@example.com"))));
}

/* A domain of exactly len (>= 3) octets: at least two labels of at most 63, ending in letters. */
static void make_domain(char *out, size_t len) {
    size_t pos = 0, left = len;
    do {
        size_t label = left - 2 < 63 ? left - 2 : 63; /* leave a dot and one more octet */
        memset(out + pos, 'a', label);
        out[pos + label] = '.';
        pos += label + 1;
        left -= label + 1;
    } while (left > 63);
    memset(out + pos, 'b', left);
    out[pos + left] = '\0';
}

/* local_len x 'l', '@', a domain of domain_len octets. */
static char *make_email(size_t local_len, size_t domain_len) {
    char *s = malloc(local_len + domain_len + 2);
    assert_non_null(s);
    memset(s, 'l', local_len);
    s[local_len] = '@';
    make_domain(s + local_len + 1, domain_len);
    assert_int_equal(strlen(s), local_len + 1 + domain_len);
    return s;
}

static void check_email_sizes(size_t local_len, size_t domain_len, bool ok) {
    char *s = make_email(local_len, domain_len);
    const char *got = email(s);
    if ((got == NULL) != ok)
        fail_msg("email of %zu+1+%zu octets: got %s", local_len, domain_len, show(got));
    free(s);
}

static void test_email_lengths(void **state) {
    (void)state;
    /* Local part: 64 octets fine, 65 not. */
    check_email_sizes(64, 11, true);
    check_email_sizes(65, 11, false);
    /* Whole address: 254 octets fine, 255 not. */
    check_email_sizes(64, 189, true);
    check_email_sizes(64, 190, false);
    check_email_sizes(1, 252, true);
    /* A 253-octet domain is the domain limit, but with the shortest local part it makes a
     * 255-octet address, so the whole-address limit refuses it first; 254 fails both. */
    check_email_sizes(1, 253, false);
    check_email_sizes(1, 254, false);
}

static void test_email_label_lengths(void **state) {
    (void)state;
    char s[128];
    snprintf(s, sizeof s, "a@%.*s.com", 63,
             "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
    assert_null(email(s));
    snprintf(s, sizeof s, "a@%.*s.com", 64,
             "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
    assert_string_equal(show(email(s)), MSG_EMAIL);
    /* The last label too. */
    snprintf(s, sizeof s, "a@example.%.*s", 63,
             "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz");
    assert_null(email(s));
    snprintf(s, sizeof s, "a@example.%.*s", 64,
             "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz");
    assert_string_equal(show(email(s)), MSG_EMAIL);
}

/* ---- Age ---- */

static void check_age(const char *json, const char *want_create, const char *want_update) {
    json_error_t err;
    json_t *v = json_loads(json, JSON_DECODE_ANY, &err);
    if (!v)
        fail_msg("bad test JSON %s: %s", json, err.text);
    const char *c = validate_age(v, false);
    const char *u = validate_age(v, true);
    if ((c == NULL) != (want_create == NULL) || (u == NULL) != (want_update == NULL))
        fail_msg("age %s: create %s, update %s", json, show(c), show(u));
    if (c)
        assert_string_equal(c, want_create);
    if (u)
        assert_string_equal(u, want_update);
    json_decref(v);
}

static void test_age(void **state) {
    (void)state;
    check_age("0", NULL, NULL);
    check_age("1", NULL, NULL);
    check_age("36", NULL, NULL);
    check_age("150", NULL, NULL);
    check_age("-1", MSG_AGE, MSG_AGE);
    check_age("151", MSG_AGE, MSG_AGE);
    check_age("-9223372036854775808", MSG_AGE, MSG_AGE);
    check_age("9223372036854775807", MSG_AGE, MSG_AGE);
    check_age("36.5", MSG_AGE, MSG_AGE);
    check_age("36.0", MSG_AGE, MSG_AGE);
    check_age("3.6e1", MSG_AGE, MSG_AGE);
    check_age("\"36\"", MSG_AGE, MSG_AGE);
    check_age("true", MSG_AGE, MSG_AGE);
    check_age("false", MSG_AGE, MSG_AGE);
    check_age("[36]", MSG_AGE, MSG_AGE);
    check_age("{\"age\":36}", MSG_AGE, MSG_AGE);
    /* null removes the age on update and is refused on create. */
    check_age("null", MSG_AGE, NULL);
    /* Absent: age is optional. */
    assert_null(validate_age(NULL, false));
    assert_null(validate_age(NULL, true));
}

/* ---- A create or update body ---- */

/* Checks body (JSON text) and fails unless the errors serialise to want_errors. */
static void check_body(const char *body_json, bool create, user_fields *in,
                       const char *want_errors) {
    json_t *body = json_loads(body_json, 0, NULL);
    json_t *errors = json_array();
    assert_non_null(body);
    assert_non_null(errors);
    assert_int_equal(validate_user_fields(body, create, in, errors), UA_OK);
    char *got = json_dumps(errors, JSON_COMPACT | JSON_PRESERVE_ORDER);
    assert_non_null(got);
    if (strcmp(got, want_errors) != 0)
        fail_msg("%s: got %s, want %s", body_json, got, want_errors);
    free(got);
    json_decref(errors);
    json_decref(body);
}

static void test_body_fields(void **state) {
    (void)state;
    user_fields in;
    json_t *body = json_loads("{\"name\":\" Ada \",\"email\":\"a@b.io\",\"age\":36}", 0, NULL);
    json_t *errors = json_array();
    assert_int_equal(validate_user_fields(body, true, &in, errors), UA_OK);
    assert_int_equal(json_array_size(errors), 0);
    assert_true(in.has_name && in.has_email);
    assert_int_equal(in.name.len, 3); /* trimmed, borrowed from the body */
    assert_memory_equal(in.name.ptr, "Ada", 3);
    assert_int_equal(in.email.len, 6);
    assert_ptr_equal(in.age, json_object_get(body, "age"));
    json_decref(errors);
    json_decref(body);

    /* Every problem, in the body's order, then the missing fields. */
    check_body("{\"version\":2,\"name\":7,\"x\":1,\"age\":null,\"userId\":\"u\"}", true, &in,
               "[{\"field\":\"version\",\"message\":\"is set by the server\"},"
               "{\"field\":\"name\",\"message\":\"must be a string\"},"
               "{\"field\":\"x\",\"message\":\"is not a known field\"},"
               "{\"field\":\"age\",\"message\":\"" MSG_AGE "\"},"
               "{\"field\":\"userId\",\"message\":\"is set by the server\"},"
               "{\"field\":\"email\",\"message\":\"is required\"}]");
    check_body("{}", true, &in,
               "[{\"field\":\"name\",\"message\":\"is required\"},"
               "{\"field\":\"email\",\"message\":\"is required\"}]");
    check_body("{\"name\":\"\",\"email\":\"x\"}", true, &in,
               "[{\"field\":\"name\",\"message\":\"" MSG_LENGTH "\"},"
               "{\"field\":\"email\",\"message\":\"" MSG_EMAIL "\"}]");

    /* An update needs one field; null removes the age. */
    check_body("{}", false, &in,
               "[{\"field\":\"body\",\"message\":"
               "\"must contain at least one of name, email, age\"}]");
    check_body("{\"age\":null}", false, &in, "[]");
    assert_true(json_is_null(in.age));
    assert_false(in.has_name || in.has_email);
    check_body("{\"createdAt\":\"x\",\"updatedAt\":\"x\"}", false, &in,
               "[{\"field\":\"createdAt\",\"message\":\"is set by the server\"},"
               "{\"field\":\"updatedAt\",\"message\":\"is set by the server\"},"
               "{\"field\":\"body\",\"message\":"
               "\"must contain at least one of name, email, age\"}]");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utf8_table),
        cmocka_unit_test(test_codepoints),
        cmocka_unit_test(test_trim),
        cmocka_unit_test(test_name_table),
        cmocka_unit_test(test_name_length_bounds),
        cmocka_unit_test(test_name_after_trimming),
        cmocka_unit_test(test_email_table),
        cmocka_unit_test(test_email_forbidden_local_chars),
        cmocka_unit_test(test_email_nul_inside),
        cmocka_unit_test(test_email_lengths),
        cmocka_unit_test(test_email_label_lengths),
        cmocka_unit_test(test_age),
        cmocka_unit_test(test_body_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_jparse.c — the JSON reader: a table of edge cases with the outcome each must have, every
 * one also read by jansson's json_loadb with the matching flags, which must agree (accept or
 * refuse alike, and build an equal tree); and every real event in ../shared/testdata read both
 * ways. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "jparse.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t jansson_flags(unsigned flags) {
    return ((flags & JPARSE_ALLOW_NUL) ? JSON_ALLOW_NUL : 0) |
           ((flags & JPARSE_INT_AS_REAL) ? JSON_DECODE_INT_AS_REAL : 0) |
           ((flags & JPARSE_REJECT_DUPLICATES) ? JSON_REJECT_DUPLICATES : 0);
}

/* Reads text[0..len) both ways; returns jparse's tree (or NULL) and its error in *err, after
 * asserting that jansson agrees. */
static json_t *read_both(const char *text, size_t len, unsigned flags, jparse_error *err) {
    json_t *mine = jparse(text, len, flags, err);
    json_error_t jerr;
    json_t *theirs = json_loadb(text, len, jansson_flags(flags), &jerr);
    if ((mine != NULL) != (theirs != NULL) || (mine && !json_equal(mine, theirs)))
        fail_msg("jparse and jansson disagree on %.*s (jparse error %d, jansson: %s)", (int)len,
                 text, (int)*err, theirs ? "accepted" : jerr.text);
    if (!mine)
        assert_true((*err == JPARSE_NUL_IN_KEY) ==
                    (json_error_code(&jerr) == json_error_null_byte_in_key));
    json_decref(theirs);
    return mine;
}

typedef struct {
    const char *text;
    size_t len; /* 0: strlen(text) */
    unsigned flags;
    jparse_error want;
    const char *dump; /* the tree, compact and ASCII-escaped, when want is JPARSE_OK */
} row;

#define EVENT JPARSE_ALLOW_NUL | JPARSE_INT_AS_REAL

static const row rows[] = {
    /* structure */
    {"{}", 0, 0, JPARSE_OK, "{}"},
    {" \t\r\n[ ] \n", 0, 0, JPARSE_OK, "[]"},
    {"", 0, 0, JPARSE_SYNTAX, NULL},
    {"   ", 0, 0, JPARSE_SYNTAX, NULL},
    {"\"a\"", 0, 0, JPARSE_SYNTAX, NULL}, /* an object or an array at the top */
    {"1", 0, 0, JPARSE_SYNTAX, NULL},
    {"null", 0, 0, JPARSE_SYNTAX, NULL},
    {"{} {}", 0, 0, JPARSE_SYNTAX, NULL},
    {"{}x", 0, 0, JPARSE_SYNTAX, NULL},
    {"{}\0", 3, 0, JPARSE_SYNTAX, NULL},
    {"{", 0, 0, JPARSE_SYNTAX, NULL},
    {"[1,]", 0, 0, JPARSE_SYNTAX, NULL},
    {"[,1]", 0, 0, JPARSE_SYNTAX, NULL},
    {"[1 2]", 0, 0, JPARSE_SYNTAX, NULL},
    {"{\"a\":1,}", 0, 0, JPARSE_SYNTAX, NULL},
    {"{\"a\"}", 0, 0, JPARSE_SYNTAX, NULL},
    {"{\"a\" 1}", 0, 0, JPARSE_SYNTAX, NULL},
    {"{a:1}", 0, 0, JPARSE_SYNTAX, NULL},
    {"{'a':1}", 0, 0, JPARSE_SYNTAX, NULL},
    {"{\"a\":1 \"b\":2}", 0, 0, JPARSE_SYNTAX, NULL},
    {"{ \"a\" : [ true , false , null ] , \"b\" : { } }", 0, 0, JPARSE_OK,
     "{\"a\":[true,false,null],\"b\":{}}"},
    /* literals */
    {"[tru]", 0, 0, JPARSE_SYNTAX, NULL},
    {"[truex]", 0, 0, JPARSE_SYNTAX, NULL},
    {"[True]", 0, 0, JPARSE_SYNTAX, NULL},
    {"[nul]", 0, 0, JPARSE_SYNTAX, NULL},
    {"[true1]", 0, 0, JPARSE_SYNTAX, NULL},
    {"[false]", 0, 0, JPARSE_OK, "[false]"},
    /* numbers */
    {"[0,-0,12,-3]", 0, 0, JPARSE_OK, "[0,0,12,-3]"},
    {"[12]", 0, JPARSE_INT_AS_REAL, JPARSE_OK, "[12.0]"},
    {"[1.5,-2.25e2,1E+2,1e-2]", 0, 0, JPARSE_OK, "[1.5,-225.0,100.0,0.01]"},
    {"[01]", 0, 0, JPARSE_SYNTAX, NULL},
    {"[-01]", 0, 0, JPARSE_SYNTAX, NULL},
    {"[-]", 0, 0, JPARSE_SYNTAX, NULL},
    {"[+1]", 0, 0, JPARSE_SYNTAX, NULL},
    {"[.5]", 0, 0, JPARSE_SYNTAX, NULL},
    {"[1.]", 0, 0, JPARSE_SYNTAX, NULL},
    {"[1.e3]", 0, 0, JPARSE_SYNTAX, NULL},
    {"[1e]", 0, 0, JPARSE_SYNTAX, NULL},
    {"[1e+]", 0, 0, JPARSE_SYNTAX, NULL},
    {"[0x10]", 0, 0, JPARSE_SYNTAX, NULL},
    {"[NaN]", 0, 0, JPARSE_SYNTAX, NULL},
    {"[9223372036854775807]", 0, 0, JPARSE_OK, "[9223372036854775807]"},
    {"[-9223372036854775808]", 0, 0, JPARSE_OK, "[-9223372036854775808]"},
    {"[9223372036854775808]", 0, 0, JPARSE_RANGE, NULL},
    {"[-9223372036854775809]", 0, 0, JPARSE_RANGE, NULL},
    {"[9223372036854775808]", 0, JPARSE_INT_AS_REAL, JPARSE_OK, "[9.2233720368547758e18]"},
    {"[1e400]", 0, 0, JPARSE_RANGE, NULL},
    {"[-1e400]", 0, JPARSE_INT_AS_REAL, JPARSE_RANGE, NULL},
    {"[1e-400]", 0, 0, JPARSE_OK, "[0.0]"}, /* underflow is not an error */
    {"[0.00000000000000000000000000000000000000000000000000000000000000000000000000001]", 0, 0,
     JPARSE_OK, "[9.9999999999999993e-78]"}, /* longer than the on-stack copy */
    /* strings */
    {"[\"\"]", 0, 0, JPARSE_OK, "[\"\"]"},
    {"[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"]", 0, 0, JPARSE_OK, "[\"\\\"\\\\/\\b\\f\\n\\r\\t\"]"},
    {"[\"\\u00e9\\u20AC\"]", 0, 0, JPARSE_OK, "[\"\\u00E9\\u20AC\"]"},
    {"[\"\\ud83d\\ude00\"]", 0, 0, JPARSE_OK, "[\"\\uD83D\\uDE00\"]"},
    {"[\"\xf0\x9f\x98\x80 \xc3\xa9\"]", 0, 0, JPARSE_OK, "[\"\\uD83D\\uDE00 \\u00E9\"]"},
    {"[\"\\ud83d\"]", 0, 0, JPARSE_SYNTAX, NULL}, /* a high surrogate alone */
    {"[\"\\ud83dx\"]", 0, 0, JPARSE_SYNTAX, NULL},
    {"[\"\\ud83d\\u0041\"]", 0, 0, JPARSE_SYNTAX, NULL}, /* not followed by a low one */
    {"[\"\\ude00\"]", 0, 0, JPARSE_SYNTAX, NULL},        /* a low surrogate alone */
    {"[\"\\x\"]", 0, 0, JPARSE_SYNTAX, NULL},
    {"[\"\\u00g0\"]", 0, 0, JPARSE_SYNTAX, NULL},
    {"[\"\\u00\"]", 0, 0, JPARSE_SYNTAX, NULL},
    {"[\"\\", 0, 0, JPARSE_SYNTAX, NULL},
    {"[\"abc", 0, 0, JPARSE_SYNTAX, NULL},
    {"[\"a\tb\"]", 0, 0, JPARSE_SYNTAX, NULL}, /* a raw control character */
    {"[\"a\nb\"]", 0, 0, JPARSE_SYNTAX, NULL},
    {"[\"a\0b\"]", 6, 0, JPARSE_SYNTAX, NULL},
    {"[\"\x7f\"]", 0, 0, JPARSE_OK, "[\"\x7f\"]"},
    {"[\"\xc3\x28\"]", 0, 0, JPARSE_SYNTAX, NULL},         /* a broken sequence */
    {"[\"\xc0\xaf\"]", 0, 0, JPARSE_SYNTAX, NULL},         /* overlong */
    {"[\"\xed\xa0\x80\"]", 0, 0, JPARSE_SYNTAX, NULL},     /* an encoded surrogate */
    {"[\"\xf4\x90\x80\x80\"]", 0, 0, JPARSE_SYNTAX, NULL}, /* past U+10FFFF */
    {"[\"\xe2\x82\"]", 0, 0, JPARSE_SYNTAX, NULL},         /* truncated */
    {"[\xc3\xa9]", 0, 0, JPARSE_SYNTAX, NULL},             /* UTF-8 outside a string */
    /* NUL */
    {"[\"a\\u0000b\"]", 0, 0, JPARSE_NUL_IN_VALUE, NULL},
    {"[\"a\\u0000b\"]", 0, JPARSE_ALLOW_NUL, JPARSE_OK, "[\"a\\u0000b\"]"},
    {"{\"a\\u0000\":1}", 0, JPARSE_ALLOW_NUL, JPARSE_NUL_IN_KEY, NULL},
    /* keys */
    {"{\"a\":1,\"a\":2}", 0, 0, JPARSE_OK, "{\"a\":2}"}, /* the last one wins */
    {"{\"a\":1,\"a\":2}", 0, JPARSE_REJECT_DUPLICATES, JPARSE_DUPLICATE, NULL},
    {"{\"a\":1,\"b\":{\"a\":2}}", 0, JPARSE_REJECT_DUPLICATES, JPARSE_OK,
     "{\"a\":1,\"b\":{\"a\":2}}"},
    /* An escaped key is decoded into the buffer the value's strings reuse. */
    {"{\"k\\\"1\":{\"k\\\\2\":\"v\\n\",\"k\\t3\":[\"\\u0041\"]}}", 0, 0, JPARSE_OK,
     "{\"k\\\"1\":{\"k\\\\2\":\"v\\n\",\"k\\t3\":[\"A\"]}}"},
};

static void test_table(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const row *r = &rows[i];
        size_t len = r->len ? r->len : strlen(r->text);
        jparse_error err = JPARSE_OK;
        json_t *doc = read_both(r->text, len, r->flags, &err);
        if (err != r->want)
            fail_msg("row %zu (%s): error %d, want %d", i, r->text, (int)err, (int)r->want);
        if (r->want != JPARSE_OK) {
            assert_null(doc);
            continue;
        }
        char *dump = json_dumps(doc, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_PRESERVE_ORDER |
                                         JSON_REAL_PRECISION(17));
        if (strcmp(dump, r->dump) != 0)
            fail_msg("row %zu (%s): read as %s, want %s", i, r->text, dump, r->dump);
        free(dump);
        json_decref(doc);
    }
}

/* \u0000 taken as U+0001 everywhere, which is how the event reader retries after a key with a
 * NUL in it: the same tree as jansson reading the text with each \u0000 spelled \u0001. */
static void test_nul_as_soh(void **state) {
    (void)state;
    const char *text = "{\"q\\u0000\":[\"x\\u0000\"],\"k\":\"\\\\u0000\"}";
    jparse_error err;
    json_t *doc = jparse(text, strlen(text), JPARSE_ALLOW_NUL | JPARSE_NUL_AS_SOH, &err);
    assert_non_null(doc);
    json_t *want = json_loads("{\"q\\u0001\":[\"x\\u0001\"],\"k\":\"\\\\u0000\"}", 0, NULL);
    assert_true(json_equal(doc, want));
    json_decref(want);
    json_decref(doc);
}

/* jansson drops a raw NUL byte that follows a number or a literal (its reader takes the NUL in
 * its push-back buffer for "empty"), so json_loadb accepts these; a raw NUL is never JSON. */
static void test_raw_nul_is_refused(void **state) {
    (void)state;
    static const char *const texts[] = {"[1\0]", "[true\0]", "{\"a\":-2.5\0}"};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        size_t len = strlen(texts[i]) + 2; /* the NUL and the closing bracket after it */
        jparse_error err;
        assert_null(jparse(texts[i], len, 0, &err));
        assert_int_equal(err, JPARSE_SYNTAX);
        json_t *lenient = json_loadb(texts[i], len, 0, NULL);
        assert_non_null(lenient); /* if jansson is fixed, fold these rows into the table */
        json_decref(lenient);
    }
}

static char *nest(size_t depth, const char *inner) {
    size_t n = strlen(inner);
    char *s = malloc(2 * depth + n + 1);
    assert_non_null(s);
    memset(s, '[', depth);
    memcpy(s + depth, inner, n);
    memset(s + depth + n, ']', depth);
    s[2 * depth + n] = '\0';
    return s;
}

/* Every value counts towards the depth, scalars too, as in jansson. */
static void test_depth(void **state) {
    (void)state;
    const struct {
        size_t arrays;
        const char *inner;
        jparse_error want;
    } cases[] = {{JSON_PARSER_MAX_DEPTH, "", JPARSE_OK},
                 {JSON_PARSER_MAX_DEPTH + 1, "", JPARSE_TOO_DEEP},
                 {JSON_PARSER_MAX_DEPTH - 1, "1", JPARSE_OK},
                 {JSON_PARSER_MAX_DEPTH, "1", JPARSE_TOO_DEEP},
                 {100000, "", JPARSE_TOO_DEEP}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *s = nest(cases[i].arrays, cases[i].inner);
        jparse_error err;
        json_t *doc = read_both(s, strlen(s), 0, &err);
        assert_int_equal(err, cases[i].want);
        json_decref(doc);
        free(s);
    }
}

/* Every real API Gateway event in ../shared/testdata, and each of its prefixes at a few cut
 * points (a truncated event), read both ways. */
static void test_real_events(void **state) {
    (void)state;
    const char *root = getenv("USERS_TESTDATA");
    char dir[512];
    snprintf(dir, sizeof dir, "%s/events", root ? root : "../shared/testdata");
    DIR *d = opendir(dir);
    if (!d)
        fail_msg("no events in %s (set USERS_TESTDATA)", dir);
    size_t read = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n < 6 || strcmp(e->d_name + n - 5, ".json") != 0)
            continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "rb");
        assert_non_null(f);
        static char text[1 << 20];
        size_t len = fread(text, 1, sizeof text, f);
        fclose(f);
        jparse_error err;
        json_t *doc = read_both(text, len, EVENT, &err);
        if (!doc)
            fail_msg("%s: not read (error %d)", e->d_name, (int)err);
        json_decref(doc);
        for (size_t cut = 1; cut < len; cut += len / 7 + 1)
            json_decref(read_both(text, cut, EVENT, &err));
        read++;
    }
    closedir(d);
    assert_true(read >= 5);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_nul_as_soh),
        cmocka_unit_test(test_raw_nul_is_refused),
        cmocka_unit_test(test_depth),
        cmocka_unit_test(test_real_events),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

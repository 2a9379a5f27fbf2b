/* test_trace.c — Lambda's trace header read into Root/Parent/Sampled, and the X-Amzn-Trace-Id
 * written for a downstream call. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "trace.h"

#include <stdio.h>
#include <string.h>

#define ROOT   "1-5759e988-bd862e3fe1be46a994272793"
#define PARENT "53995c3f42cd8ad8"
#define CHILD  "0123456789abcdef"

/* Parses header into *t after filling *t with garbage, so that a field the parser forgets to
 * clear shows. */
static void parse(const char *header, trace_context *t) {
    memset(t, 'x', sizeof *t);
    trace_parse(header, t);
}

static void expect(const char *header, const char *root, const char *parent, bool sampled) {
    trace_context t;
    parse(header, &t);
    if (strcmp(t.root, root) != 0 || strcmp(t.parent, parent) != 0 || t.sampled != sampled)
        fail_msg("\"%s\": got root \"%s\" parent \"%s\" sampled %d, want \"%s\" \"%s\" %d",
                 header ? header : "(null)", t.root, t.parent, t.sampled, root, parent, sampled);
}

static void test_full_header(void **state) {
    (void)state;
    expect("Root=" ROOT ";Parent=" PARENT ";Sampled=1", ROOT, PARENT, true);
    expect("Root=" ROOT ";Parent=" PARENT ";Sampled=0", ROOT, PARENT, false);
    /* Lambda's own header adds Lineage; it is ignored wherever it stands. */
    expect("Root=" ROOT ";Parent=" PARENT ";Sampled=1;Lineage=a87bd80c:1|68fd508a:5", ROOT, PARENT,
           true);
    expect("Lineage=a87bd80c:1|68fd508a:5;Root=" ROOT ";Parent=" PARENT ";Sampled=1", ROOT, PARENT,
           true);
    /* A space after the separator, as some proxies write it. */
    expect("Root=" ROOT "; Parent=" PARENT "; Sampled=1", ROOT, PARENT, true);
}

static void test_field_order_does_not_matter(void **state) {
    (void)state;
    expect("Sampled=1;Parent=" PARENT ";Root=" ROOT, ROOT, PARENT, true);
    expect("Parent=" PARENT ";Sampled=1;Root=" ROOT, ROOT, PARENT, true);
    expect("Parent=" PARENT ";Root=" ROOT ";Sampled=1", ROOT, PARENT, true);
}

static void test_sampled_values(void **state) {
    (void)state;
    expect("Root=" ROOT ";Parent=" PARENT, ROOT, PARENT, false); /* missing */
    expect("Root=" ROOT ";Parent=" PARENT ";Sampled=0", ROOT, PARENT, false);
    expect("Root=" ROOT ";Parent=" PARENT ";Sampled=?", ROOT, PARENT, false); /* undecided */
    expect("Root=" ROOT ";Parent=" PARENT ";Sampled=", ROOT, PARENT, false);
    expect("Root=" ROOT ";Parent=" PARENT ";Sampled=10", ROOT, PARENT, false);
    expect("Root=" ROOT ";Parent=" PARENT ";Sampled=yes", ROOT, PARENT, false);
    expect("Sampled=1", "", "", true);
}

static void test_invalid_root_is_dropped(void **state) {
    (void)state;
    static const char *const bad[] = {
        "Root=2-5759e988-bd862e3fe1be46a994272793",  /* version */
        "Root=1-5759e98-bd862e3fe1be46a9942727930",  /* time too short */
        "Root=1-5759e988-bd862e3fe1be46a99427279",   /* id too short */
        "Root=1-5759e988-bd862e3fe1be46a9942727931", /* id too long */
        "Root=1-5759e988-bd862e3fe1be46a99427279g",  /* not hex */
        "Root=1-5759e988_bd862e3fe1be46a994272793",  /* separator */
        "Root=15759e988-bd862e3fe1be46a994272793",   /* no dash */
        "Root=",
        "Root=1-",
        "Root",
        "Root=" ROOT "x",
        "Root=" ROOT " ",
        "root=" ROOT, /* names are case-sensitive */
        "XRoot=" ROOT,
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char header[256];
        snprintf(header, sizeof header, "%s;Parent=" PARENT ";Sampled=1", bad[i]);
        expect(header, "", PARENT, true);
    }
}

static void test_invalid_parent_is_dropped(void **state) {
    (void)state;
    static const char *const bad[] = {
        "Parent=53995c3f42cd8ad",   /* 15 */
        "Parent=53995c3f42cd8ad8a", /* 17 */
        "Parent=53995c3f42cd8adz",  /* not hex */
        "Parent=",
        "Parent=" PARENT "=",
        "Parent=-3995c3f42cd8ad8",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char header[256];
        snprintf(header, sizeof header, "Root=" ROOT ";%s;Sampled=1", bad[i]);
        expect(header, ROOT, "", true);
    }
}

static void test_garbage_and_null(void **state) {
    (void)state;
    expect(NULL, "", "", false);
    expect("", "", "", false);
    expect("garbage", "", "", false);
    expect(";;;", "", "", false);
    expect("=;=;=", "", "", false);
    expect("   ", "", "", false);
    expect("Root=Parent=Sampled=1", "", "", false);
    expect("\xff\xfe;Root=" ROOT, ROOT, "", false);
    /* A valid field after a broken one is still read. */
    expect("Parent=zz;Root=" ROOT ";;Sampled=1", ROOT, "", true);
}

static void test_records(void **state) {
    (void)state;
    trace_context t;
    parse("Root=" ROOT ";Parent=" PARENT ";Sampled=1", &t);
    assert_true(trace_records(&t));
    parse("Root=" ROOT ";Parent=" PARENT ";Sampled=0", &t);
    assert_false(trace_records(&t));
    parse("Root=" ROOT ";Sampled=1", &t); /* nothing to hang a subsegment on */
    assert_false(trace_records(&t));
    parse("Parent=" PARENT ";Sampled=1", &t);
    assert_false(trace_records(&t));
    parse(NULL, &t);
    assert_false(trace_records(&t));
}

static void test_format(void **state) {
    (void)state;
    trace_context t;
    char out[TRACE_HEADER_MAX];

    parse("Root=" ROOT ";Parent=" PARENT ";Sampled=1", &t);
    assert_true(trace_format(&t, CHILD, out));
    assert_string_equal(out, "Root=" ROOT ";Parent=" CHILD ";Sampled=1");
    assert_true(trace_format(&t, t.parent, out));
    assert_string_equal(out, "Root=" ROOT ";Parent=" PARENT ";Sampled=1");
    /* Without a parent the header carries Root and the decision alone. */
    assert_true(trace_format(&t, NULL, out));
    assert_string_equal(out, "Root=" ROOT ";Sampled=1");
    assert_true(trace_format(&t, "", out));
    assert_string_equal(out, "Root=" ROOT ";Sampled=1");

    parse("Root=" ROOT ";Sampled=0", &t);
    assert_true(trace_format(&t, t.parent, out));
    assert_string_equal(out, "Root=" ROOT ";Sampled=0");
    assert_true(trace_format(&t, PARENT, out));
    assert_string_equal(out, "Root=" ROOT ";Parent=" PARENT ";Sampled=0");

    /* The longest header fits, with its NUL. */
    assert_true(strlen("Root=" ROOT ";Parent=" CHILD ";Sampled=1") < TRACE_HEADER_MAX);

    /* No Root: no header. */
    parse("Parent=" PARENT ";Sampled=1", &t);
    memset(out, 'x', sizeof out);
    assert_false(trace_format(&t, CHILD, out));
    assert_string_equal(out, "");
    parse("Root=bad;Parent=" PARENT ";Sampled=1", &t);
    assert_false(trace_format(&t, t.parent, out));
    assert_string_equal(out, "");
}

static void test_format_parses_back(void **state) {
    (void)state;
    trace_context t, back;
    char out[TRACE_HEADER_MAX];
    parse("Sampled=1;Root=" ROOT ";Parent=" PARENT, &t);
    assert_true(trace_format(&t, CHILD, out));
    parse(out, &back);
    assert_string_equal(back.root, ROOT);
    assert_string_equal(back.parent, CHILD);
    assert_true(back.sampled);
}

static void test_is_hex(void **state) {
    (void)state;
    assert_true(trace_is_hex("0123456789abcdef", 16));
    assert_true(trace_is_hex("0123456789ABCDEF", 16));
    assert_true(trace_is_hex("", 0));
    assert_false(trace_is_hex("0123456789abcde", 16));   /* short */
    assert_false(trace_is_hex("0123456789abcdef0", 16)); /* long */
    assert_false(trace_is_hex("0123456789abcdeg", 16));
    assert_false(trace_is_hex("01234567 9abcdef", 16));
    assert_false(trace_is_hex("a", 0));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_header),
        cmocka_unit_test(test_field_order_does_not_matter),
        cmocka_unit_test(test_sampled_values),
        cmocka_unit_test(test_invalid_root_is_dropped),
        cmocka_unit_test(test_invalid_parent_is_dropped),
        cmocka_unit_test(test_garbage_and_null),
        cmocka_unit_test(test_records),
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_format_parses_back),
        cmocka_unit_test(test_is_hex),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

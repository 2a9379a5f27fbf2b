/* test_buf.c — the bounded buffer: formatted appends that fit the room already there, that
 * must grow it, and that would pass the limit leave the buffer whole and NUL-terminated. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "buf.h"

#include <string.h>

static void test_appendf_fits_and_grows(void **state) {
    (void)state;
    buf b;
    buf_init(&b, 1024);
    assert_int_equal(buf_appendf(&b, "%s=%d", "a", 1), UA_OK); /* first allocation */
    assert_string_equal(buf_str(&b), "a=1");
    size_t cap = b.cap;
    assert_int_equal(buf_appendf(&b, ",%s", "b"), UA_OK); /* fits the room left */
    assert_int_equal(b.cap, cap);
    assert_string_equal(buf_str(&b), "a=1,b");
    char big[300];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(buf_appendf(&b, "[%s]", big), UA_OK); /* must grow */
    assert_int_equal(b.len, 5 + 2 + sizeof big - 1);
    assert_int_equal(strlen(buf_str(&b)), b.len);
    assert_memory_equal(buf_str(&b), "a=1,b[xxx", 9);
    assert_int_equal(buf_str(&b)[b.len - 1], ']');
    buf_free(&b);
}

/* Text that fits the allocated room but not the limit is refused, and the buffer is as before. */
static void test_appendf_over_the_limit_leaves_the_buffer(void **state) {
    (void)state;
    buf b;
    buf_init(&b, 10);
    assert_int_equal(buf_append_str(&b, "12345"), UA_OK);
    assert_true(b.cap > 12); /* room beyond max: the limit, not the room, must refuse */
    assert_int_equal(buf_appendf(&b, "%s", "678901"), UA_ERR_TOO_BIG);
    assert_int_equal(b.len, 5);
    assert_string_equal(buf_str(&b), "12345");
    assert_int_equal(buf_appendf(&b, "%s", "67890"), UA_OK); /* exactly max */
    assert_string_equal(buf_str(&b), "1234567890");
    assert_int_equal(buf_appendf(&b, "%c", 'x'), UA_ERR_TOO_BIG);
    assert_string_equal(buf_str(&b), "1234567890");
    buf_free(&b);

    /* The same when growing would be needed. */
    buf_init(&b, 100);
    char big[200];
    memset(big, 'y', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(buf_append_str(&b, "ab"), UA_OK);
    assert_int_equal(buf_appendf(&b, "%s", big), UA_ERR_TOO_BIG);
    assert_string_equal(buf_str(&b), "ab");
    buf_free(&b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_appendf_fits_and_grows),
        cmocka_unit_test(test_appendf_over_the_limit_leaves_the_buffer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

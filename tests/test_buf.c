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

/* A buffer that holds a secret keeps its contents through growth and wipes them on reset. */
static void test_secret_buffer_is_wiped_on_reset(void **state) {
    (void)state;
    buf b;
    buf_init_secret(&b, 4096);
    assert_true(b.wipe);
    assert_int_equal(buf_append_str(&b, "Signature=0123456789abcdef"), UA_OK);
    for (int i = 0; i < 20; i++) /* past the first block: grows (and wipes the old one) */
        assert_int_equal(buf_appendf(&b, "%02d-secret-", i), UA_OK);
    assert_true(b.cap > 64);
    assert_memory_equal(b.data, "Signature=0123456789abcdef00-secret-", 36);
    const char *data = b.data;
    size_t cap = b.cap;
    buf_reset(&b);
    assert_ptr_equal(b.data, data);  /* the memory is kept for reuse ... */
    for (size_t i = 0; i < cap; i++) /* ... and holds nothing of the secret */
        if (data[i] != 0)
            fail_msg("byte %zu survived the reset", i);
    buf_free(&b);

    buf plain; /* an ordinary buffer is not wiped: resetting costs nothing */
    buf_init(&plain, 64);
    assert_false(plain.wipe);
    assert_int_equal(buf_append_str(&plain, "abc"), UA_OK);
    buf_reset(&plain);
    assert_int_equal(plain.data[1], 'b');
    buf_free(&plain);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_appendf_fits_and_grows),
        cmocka_unit_test(test_appendf_over_the_limit_leaves_the_buffer),
        cmocka_unit_test(test_secret_buffer_is_wiped_on_reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

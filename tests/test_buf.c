/* test_buf.c — the bounded buffer: formatted appends that fit the room already there, that
 * must grow it, and that would pass the limit leave the buffer whole and NUL-terminated; growth
 * never reserves past the limit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "buf.h"

#include <stdlib.h>
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
    buf_init(&b, 1024);
    assert_int_equal(buf_append_str(&b, "12345"), UA_OK);
    b.max = 10; /* a reused buffer given a lower limit, as http_perform does per call */
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
    size_t held = b.len + 1;
    buf_reset(&b);
    assert_ptr_equal(b.data, data);   /* the memory is kept for reuse ... */
    for (size_t i = 0; i < held; i++) /* ... and holds nothing of the secret */
        if (data[i] != 0)
            fail_msg("byte %zu survived the reset", i);
    buf_free(&b);

    /* A format that does not fit the limit wrote past len before it failed: wiped at once. */
    buf_init_secret(&b, 40);
    assert_int_equal(buf_append_str(&b, "token="), UA_OK);
    assert_int_equal(buf_appendf(&b, "%s", "0123456789abcdefghij"), UA_OK); /* cap is now 41 */
    assert_int_equal(b.cap, 41);
    assert_int_equal(buf_appendf(&b, "%s", "SECRETSECRETSECRET"), UA_ERR_TOO_BIG);
    assert_int_equal(b.len, 26);
    assert_string_equal(b.data, "token=0123456789abcdefghij");
    for (size_t i = b.len; i < b.cap; i++)
        if (b.data[i] != 0)
            fail_msg("byte %zu of a failed format survived", i);
    buf_free(&b);

    buf plain; /* an ordinary buffer is not wiped: resetting costs nothing */
    buf_init(&plain, 64);
    assert_false(plain.wipe);
    assert_int_equal(buf_append_str(&plain, "abc"), UA_OK);
    buf_reset(&plain);
    assert_int_equal(plain.data[1], 'b');
    buf_free(&plain);
}

/* Growth stops at the limit: a buffer never allocates more than max bytes and the NUL. */
static void test_growth_is_clamped_at_the_limit(void **state) {
    (void)state;
    char hundred[100];
    memset(hundred, 'x', sizeof hundred);
    buf b;
    buf_init(&b, 100);
    assert_int_equal(buf_append(&b, hundred, sizeof hundred), UA_OK); /* one append */
    assert_int_equal(b.len, 100);
    assert_true(b.cap <= 101);
    assert_int_equal(buf_append_char(&b, 'y'), UA_ERR_TOO_BIG);
    assert_true(b.cap <= 101);
    assert_int_equal(strlen(buf_str(&b)), 100);
    buf_free(&b);

    buf_init(&b, 100); /* byte by byte: 64, then 101 rather than 128 */
    for (size_t i = 0; i < 100; i++)
        assert_int_equal(buf_append_char(&b, 'x'), UA_OK);
    assert_true(b.cap <= 101);
    assert_memory_equal(b.data, hundred, 100);
    assert_int_equal(b.data[100], '\0');
    buf_free(&b);

    buf_init(&b, 10); /* formatted appends grow through the same path */
    assert_int_equal(buf_appendf(&b, "%s", "0123456789"), UA_OK);
    assert_true(b.cap <= 11);
    assert_string_equal(buf_str(&b), "0123456789");
    buf_free(&b);

    buf_init_secret(&b, 100); /* and so do secret buffers, which copy rather than realloc */
    for (size_t i = 0; i < 10; i++)
        assert_int_equal(buf_append(&b, hundred, 10), UA_OK);
    assert_true(b.cap <= 101);
    assert_memory_equal(b.data, hundred, 100);
    buf_free(&b);

    buf_init(&b, 0); /* room for the NUL alone */
    assert_int_equal(buf_append(&b, "", 0), UA_OK);
    assert_true(b.cap <= 1);
    assert_string_equal(buf_str(&b), "");
    assert_int_equal(buf_append_char(&b, 'x'), UA_ERR_TOO_BIG);
    buf_free(&b);
}

/* The event buffer's case: 16 MiB read in 64 KiB pieces reserves 16 MiB + 1, not 32 MiB. */
static void test_event_sized_buffer_reserves_no_more_than_its_limit(void **state) {
    (void)state;
    const size_t max = (size_t)16 * 1024 * 1024, piece = (size_t)64 * 1024;
    char *chunk = malloc(piece);
    assert_non_null(chunk);
    memset(chunk, 'e', piece);
    buf b;
    buf_init(&b, max);
    for (size_t n = 0; n < max; n += piece)
        assert_int_equal(buf_append(&b, chunk, piece), UA_OK);
    assert_int_equal(b.len, max);
    assert_true(b.cap <= max + 1);
    assert_int_equal(buf_append_char(&b, 'x'), UA_ERR_TOO_BIG);
    assert_true(b.cap <= max + 1);
    assert_int_equal(b.data[max - 1], 'e');
    assert_int_equal(b.data[max], '\0');
    buf_free(&b);
    free(chunk);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_appendf_fits_and_grows),
        cmocka_unit_test(test_appendf_over_the_limit_leaves_the_buffer),
        cmocka_unit_test(test_secret_buffer_is_wiped_on_reset),
        cmocka_unit_test(test_growth_is_clamped_at_the_limit),
        cmocka_unit_test(test_event_sized_buffer_reserves_no_more_than_its_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_clock.c — the process's clocks (src/clock.c): units and directions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "clock.h"

#include <time.h>

static void test_wall_ms_is_epoch_milliseconds(void **state) {
    (void)state;
    int64_t before = (int64_t)time(NULL);
    int64_t ms = ua_wall_ms();
    int64_t after = (int64_t)time(NULL);
    assert_true(ms / 1000 >= before && ms / 1000 <= after);
}

static void test_monotonic_units_agree(void **state) {
    (void)state;
    int64_t ms0 = ua_monotonic_ms();
    int64_t us = ua_monotonic_us();
    int64_t ms1 = ua_monotonic_ms();
    assert_true(ms0 > 0);
    assert_true(ms0 <= ms1);
    assert_true(us / 1000 >= ms0 && us / 1000 <= ms1);
}

static void test_monotonic_counts_a_pause(void **state) {
    (void)state;
    int64_t t0 = ua_monotonic_us();
    struct timespec pause = {.tv_sec = 0, .tv_nsec = 20 * 1000000L};
    while (nanosleep(&pause, &pause) != 0) {
    }
    int64_t elapsed = ua_monotonic_us() - t0;
    assert_true(elapsed >= 20000);
    assert_true(elapsed < 5 * 1000000); /* even on a loaded machine */
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wall_ms_is_epoch_milliseconds),
        cmocka_unit_test(test_monotonic_units_agree),
        cmocka_unit_test(test_monotonic_counts_a_pause),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

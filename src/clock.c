/* clock.c — wall-clock and monotonic time (see clock.h). */
#include "clock.h"

#include <time.h>

/* The clock's reading in units per second (1000 or 1000000); 0 when it cannot be read. */
static int64_t read_clock(clockid_t id, int64_t per_second) {
    struct timespec ts;
    if (clock_gettime(id, &ts) != 0)
        return 0;
    return (int64_t)ts.tv_sec * per_second + ts.tv_nsec / (1000000000 / per_second);
}

int64_t ua_wall_ms(void) {
    return read_clock(CLOCK_REALTIME, 1000);
}

int64_t ua_wall_us(void) {
    return read_clock(CLOCK_REALTIME, 1000000);
}

int64_t ua_monotonic_ms(void) {
    return read_clock(CLOCK_MONOTONIC, 1000);
}

int64_t ua_monotonic_us(void) {
    return read_clock(CLOCK_MONOTONIC, 1000000);
}

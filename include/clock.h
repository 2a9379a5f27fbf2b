/* clock.h — the process's clocks in the units its callers count in: wall-clock milliseconds
 * for timestamps and Lambda's deadlines (Lambda-Runtime-Deadline-Ms is epoch milliseconds),
 * and monotonic time for timeouts and measured durations, which must not jump when the wall
 * clock is set. */
#ifndef USERS_CLOCK_H
#define USERS_CLOCK_H

#include <stdint.h>

/* Milliseconds since the Unix epoch (CLOCK_REALTIME); 0 if the clock cannot be read. */
int64_t ua_wall_ms(void);

/* Microseconds since the Unix epoch: the start and end of a traced call (X-Ray counts in
 * epoch seconds with a fraction). 0 if the clock cannot be read. */
int64_t ua_wall_us(void);

/* Milliseconds on CLOCK_MONOTONIC (an arbitrary start): deadlines and timeouts within the
 * process, and what pthread_cond_timedwait on a monotonic condition variable counts in. */
int64_t ua_monotonic_ms(void);

/* Microseconds on the same clock: for durations reported with a fraction of a millisecond. */
int64_t ua_monotonic_us(void);

#endif

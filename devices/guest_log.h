/*
 * A rate limit for the lines a guest can make roam log (ucall messages, broken virtqueues, ...): a guest runs code
 * roam does not trust, and a loop of it must not fill roam's log or its disk. A window of `window_ns` lets `burst`
 * lines through; the rest are counted and reported with the next line let through. Pure, so it is unit-tested with a
 * fake clock; the caller serializes calls on one limiter.
 */
#ifndef ROAM_DEVICES_GUEST_LOG_H
#define ROAM_DEVICES_GUEST_LOG_H

#include <stdbool.h>
#include <stdint.h>

#define GUEST_LOG_WINDOW_NS 1000000000ull /* one second */

struct guest_log_rate {
	uint64_t window_ns; /* when the current window started (0: none yet) */
	uint32_t in_window; /* lines let through in it */
	uint64_t dropped; /* lines dropped since the last one let through */
};

/*
 * Whether one more line may be logged at `now_ns` (CLOCK_MONOTONIC), at most `burst` per GUEST_LOG_WINDOW_NS. When
 * it may, *dropped is how many were dropped since the last one (say so first) and *last tells whether it is the
 * last one of its window (say that the next ones are not logged).
 */
bool guest_log_rate_allow(struct guest_log_rate *r, uint32_t burst, uint64_t now_ns, uint64_t *dropped, bool *last);

/* CLOCK_MONOTONIC in ns, for guest_log_rate_allow. */
uint64_t guest_log_now_ns(void);

#endif

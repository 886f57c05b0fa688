/*
 * Time for measurements and timeouts: CLOCK_MONOTONIC in nanoseconds (never goes back, unaffected by setting the
 * date). One helper for every module that times something (phases, progress, rounds, deadlines).
 */
#ifndef ROAM_CORE_CLOCK_H
#define ROAM_CORE_CLOCK_H

#include <stdint.h>

/* CLOCK_MONOTONIC now, in nanoseconds. */
uint64_t monotonic_ns(void);

#endif

/*
 * Following the host scheduler for the PV lock: a perf_event_open context-switch record stream per vCPU thread and
 * one monitor thread that turns "switched out" / "switched in" records into flag updates, measuring how long after
 * the switch the flag was written.
 */
#ifndef ROAM_PVLOCK_SCHED_H
#define ROAM_PVLOCK_SCHED_H

#include <stdbool.h>

struct pvlock;
struct pvlock_sched;
struct pvlock_stats;

/* Starts the monitor thread. Returns NULL (after saying why, once) when tracking cannot work on this host. */
struct pvlock_sched *pvlock_sched_start(struct pvlock *pv);

/* Called by vCPU `id`'s own thread: opens its context-switch stream. Failure is reported once and leaves the vCPU
 * untracked (its flag then follows KVM_RUN only). */
void pvlock_sched_add_self(struct pvlock_sched *s, int id);

/* Fills the tracking fields of `st`. */
void pvlock_sched_stats(struct pvlock_sched *s, struct pvlock_stats *st);

/* Stops the monitor and closes the streams. NULL is fine. */
void pvlock_sched_stop(struct pvlock_sched *s);

#endif

/*
 * The guest's time for snapshots: the virtual counter (vCPU 0's view; KVM keeps one VM-wide offset) and the
 * counter frequency. The restore continues the counter from the saved value, so guest time never goes backwards,
 * and refuses a host whose counter runs at another frequency: the guest reads CNTFRQ_EL0 from the hardware, so KVM
 * cannot hide the difference and the guest's clocks would run fast or slow.
 */
#ifndef ROAM_ARM64_TIMER_STATE_H
#define ROAM_ARM64_TIMER_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vm;
struct snap_writer;
struct snap_reader;

/* Version 1: the counter; version 2 appends the counter frequency in Hz. Both are read. */
#define ARM64_TIMER_STATE_VERSION 2

/* Saves the guest's virtual counter and this host's counter frequency. */
int arm64_timer_save(struct vm *vm, struct snap_writer *w);

/*
 * Makes the guest's counter continue from the saved value: with KVM_CAP_COUNTER_OFFSET through
 * KVM_ARM_SET_COUNTER_OFFSET (then *counter_restored is true and the per-vCPU counter registers must be skipped),
 * otherwise the vCPUs' own counter registers do it. A saved frequency that differs from this host's is an error.
 * Returns 0 or -errno after a message.
 */
int arm64_timer_restore(struct vm *vm, struct snap_reader *r, uint32_t version, bool *counter_restored);

/* Checks after restore that the guest counter did not go backwards; returns 0 or -EIO after a message. */
int arm64_timer_verify(struct vm *vm);

/* Would the saved counter state (payload `version`) restore here? Appends the reason to report; returns 0 or 1. */
int arm64_timer_check(struct snap_reader *r, uint32_t version, char *report, size_t size);

#endif

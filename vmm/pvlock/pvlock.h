/*
 * The PV-lock region and its "preempted" flags. One 64-byte struct per vCPU in a region of normal guest memory
 * (64 KiB aligned, sized in 64 KiB units, mapped read-only into the guest with KVM_MEM_READONLY so a guest write
 * traps, is reported and changes nothing). roam keeps each vCPU's flag at 1 whenever the vCPU is not executing guest
 * code: outside KVM_RUN, and (when perf_event_open works) while the host has descheduled the vCPU thread.
 *
 * Flag writes are 64-bit little-endian store-releases; a waiter on another vCPU reads the flag with a load-acquire
 * (or READ_ONCE) and treats it as a hint.
 */
#ifndef ROAM_PVLOCK_H
#define ROAM_PVLOCK_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct vm;
struct pvlock_sched;

struct pvlock_vcpu {
	pthread_mutex_t lock;
	bool in_run; /* inside KVM_RUN (under lock) */
	bool descheduled; /* the host has switched the thread out (under lock) */
	atomic_uint_fast64_t flag_sets; /* times the flag went 0 -> 1 */
};

struct pvlock {
	struct vm *vm;
	uint64_t gpa;
	uint64_t size;
	uint8_t *host; /* roam's view of the region */
	int nr_vcpus;
	struct pvlock_vcpu *vcpus;
	struct pvlock_sched *sched; /* scheduler tracking, NULL when unavailable */
	atomic_uint guest_write_reports; /* guest stores reported so far (at most PVLOCK_WRITE_REPORT_LIMIT) */
};

/*
 * Creates the region for vm->cfg.nr_vcpus vCPUs at the architecture's PV-lock address: a read-only guest memory slot
 * and a bus window that reports guest writes. Every flag starts at 1. Call before the VM's memory is registered.
 */
int pvlock_create(struct vm *vm, struct pvlock **out);

/*
 * Starts following the scheduling of vCPU threads. Says once, on stderr, when the host does not allow it; the
 * flags then follow KVM_RUN only. Never fails the VM.
 */
void pvlock_start_tracking(struct pvlock *pv);

/* Called by vCPU `id`'s own thread: registers it for scheduler tracking (once, before its first KVM_RUN). */
void pvlock_vcpu_thread_init(struct pvlock *pv, int id);

/* Called by vCPU `id`'s thread right before and right after KVM_RUN. */
void pvlock_vcpu_enter(struct pvlock *pv, int id);
void pvlock_vcpu_leave(struct pvlock *pv, int id);

/* Called by the tracker: the host switched vCPU `id`'s thread out (true) or back in (false). */
void pvlock_vcpu_scheduled(struct pvlock *pv, int id, bool out);

/* The current value of vCPU `id`'s flag as the guest sees it. */
uint64_t pvlock_flag(const struct pvlock *pv, int id);

struct pvlock_stats {
	bool tracking; /* scheduler tracking works */
	uint64_t switches; /* context-switch records processed */
	uint64_t latency_samples; /* records with a usable timestamp */
	uint64_t latency_ns_median, latency_ns_p99, latency_ns_max; /* switch -> flag written */
	uint64_t monitor_cpu_ns; /* CPU time of the tracking thread */
};

/* Tracking statistics (latency from a thread's switch to roam's flag write). */
void pvlock_get_stats(const struct pvlock *pv, struct pvlock_stats *st);

/* Stops tracking and frees everything (the guest memory slot belongs to the VM's memory map). */
void pvlock_destroy(struct pvlock *pv);

#endif

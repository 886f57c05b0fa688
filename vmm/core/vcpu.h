/*
 * A vCPU: its KVM file descriptor, the shared kvm_run page, its thread, and its state machine (DESIGN.md rule 10):
 * created -> paused <-> running -> exited. A vCPU is kicked out of KVM_RUN with kvm_run.immediate_exit plus a
 * signal, so a kick can never be lost between the check of a flag and the entry into the guest.
 */
#ifndef ROAM_VCPU_H
#define ROAM_VCPU_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct vm;
struct kvm_run;
struct arch_vcpu;

enum vcpu_state {
	VCPU_CREATED,
	VCPU_PAUSED,
	VCPU_RUNNING,
	VCPU_EXITED,
};

struct vcpu_stats {
	atomic_uint_fast64_t exits;
	atomic_uint_fast64_t mmio_exits;
	atomic_uint_fast64_t hypercalls;
};

struct vcpu {
	struct vm *vm;
	int id;
	int fd;
	char name[16]; /* "vCPU3": used in messages */
	struct kvm_run *run;
	struct arch_vcpu *arch;
	pthread_t thread;
	bool thread_started;

	pthread_mutex_t lock;
	pthread_cond_t cond;
	enum vcpu_state state; /* under lock */
	bool pause_requested; /* under lock */
	struct vcpu_stats stats;
	unsigned unmapped_reports; /* rate limit for "nothing mapped" messages */
};

/* Creates vCPU `id` (KVM_CREATE_VCPU, mmap of kvm_run) and runs arch_vcpu_init. */
int vcpu_create(struct vm *vm, struct vcpu *vcpu, int id);

/* Starts the vCPU's thread, which runs the guest until the VM stops. */
int vcpu_start(struct vcpu *vcpu);

/* Makes the vCPU leave KVM_RUN soon; it re-checks the VM's stop and pause requests. Safe from any thread. */
void vcpu_kick(struct vcpu *vcpu);

/* Waits for the thread to end. */
void vcpu_join(struct vcpu *vcpu);

/* Releases the kvm_run mapping and the fd. */
void vcpu_destroy(struct vcpu *vcpu);

/* Installs the (empty) handler of the kick signal. Idempotent; call before starting vCPU threads. */
int vcpu_install_kick_signal(void);

/*
 * Asks the vCPU to leave the guest and stay out (state "paused"), and waits until it has. Returns 0, or -ESRCH if
 * the vCPU has exited. Safe from any thread but the vCPU's own.
 */
int vcpu_pause(struct vcpu *vcpu);

/* Lets a paused vCPU run again (returns at once; the vCPU becomes "running" when its thread re-enters KVM_RUN). */
void vcpu_resume(struct vcpu *vcpu);

struct vcpu_status {
	enum vcpu_state state;
	bool pause_requested;
	uint64_t exits, mmio_exits, hypercalls;
};

/* A consistent snapshot of the vCPU's state and counters. */
void vcpu_get_status(struct vcpu *vcpu, struct vcpu_status *st);

/* Name of a vCPU state ("running", ...). */
const char *vcpu_state_name(enum vcpu_state state);

#endif

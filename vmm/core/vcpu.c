/*
 * vCPU threads and the architecture-neutral part of exit handling: MMIO goes to the bus, system events stop the VM,
 * everything else goes to arch_handle_exit. See vcpu.h for the kick protocol.
 */
#include "vcpu.h"

#include "arch.h"
#include "log.h"
#include "pvlock/pvlock.h"
#include "sys_ioctl.h"
#include "vm.h"

#include <errno.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define VCPU_KICK_SIGNAL SIGUSR1
#define VCPU_UNMAPPED_REPORT_LIMIT 8

static void vcpu_kick_handler(int sig)
{
	(void)sig; /* the signal only exists to interrupt KVM_RUN */
}

int vcpu_install_kick_signal(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = vcpu_kick_handler; /* no SA_RESTART: KVM_RUN must return EINTR */
	sigemptyset(&sa.sa_mask);
	if (sigaction(VCPU_KICK_SIGNAL, &sa, NULL) < 0)
		return log_errno(-errno, "sigaction(SIGUSR1): %s", strerror(errno));
	return 0;
}

const char *vcpu_state_name(enum vcpu_state state)
{
	static const char *const names[] = {"created", "paused", "running", "exited"};
	return state <= VCPU_EXITED ? names[state] : "?";
}

int vcpu_create(struct vm *vm, struct vcpu *vcpu, int id)
{
	memset(vcpu, 0, sizeof(*vcpu));
	vcpu->vm = vm;
	vcpu->id = id;
	vcpu->fd = -1;
	snprintf(vcpu->name, sizeof(vcpu->name), "vCPU%d", id);
	pthread_mutex_init(&vcpu->lock, NULL);
	pthread_cond_init(&vcpu->cond, NULL);
	vcpu->state = VCPU_CREATED;

	long fd = SYS_IOCTL_VALUE(vm->vm_fd, KVM_CREATE_VCPU, id, vcpu->name);
	if (fd < 0)
		return (int)fd;
	vcpu->fd = (int)fd;
	void *run = mmap(NULL, (size_t)vm->vcpu_mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu->fd, 0);
	if (run == MAP_FAILED)
		return log_errno(-errno, "%s: mmap of kvm_run: %s", vcpu->name, strerror(errno));
	vcpu->run = run;
	return arch_vcpu_init(vcpu);
}

void vcpu_kick(struct vcpu *vcpu)
{
	if (!vcpu->run)
		return;
	/* immediate_exit covers a kick that lands before KVM_RUN is entered; the signal one that lands inside. */
	__atomic_store_n(&vcpu->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
	if (vcpu->thread_started)
		pthread_kill(vcpu->thread, VCPU_KICK_SIGNAL);
}

static void vcpu_set_state(struct vcpu *vcpu, enum vcpu_state state)
{
	pthread_mutex_lock(&vcpu->lock);
	vcpu->state = state;
	pthread_cond_broadcast(&vcpu->cond);
	pthread_mutex_unlock(&vcpu->lock);
}

/* Blocks while a pause is requested; returns false when the VM is stopping. */
static bool vcpu_wait_runnable(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;
	pthread_mutex_lock(&vcpu->lock);
	while (vcpu->pause_requested && !atomic_load(&vm->stopping)) {
		if (vcpu->state != VCPU_PAUSED) {
			vcpu->state = VCPU_PAUSED;
			pthread_cond_broadcast(&vcpu->cond);
		}
		pthread_cond_wait(&vcpu->cond, &vcpu->lock);
	}
	bool run = !atomic_load(&vm->stopping);
	if (run && vcpu->state != VCPU_RUNNING) {
		vcpu->state = VCPU_RUNNING;
		pthread_cond_broadcast(&vcpu->cond);
	}
	pthread_mutex_unlock(&vcpu->lock);
	return run;
}

static int vcpu_handle_mmio(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	uint32_t len = run->mmio.len;
	bool is_write = run->mmio.is_write;
	atomic_fetch_add(&vcpu->stats.mmio_exits, 1);
	int ret = bus_access(&vcpu->vm->mmio, run->mmio.phys_addr, run->mmio.data, len, is_write);
	if (ret == -ENOENT && vcpu->unmapped_reports < VCPU_UNMAPPED_REPORT_LIMIT) {
		vcpu->unmapped_reports++;
		log_info("%s: guest %s of %u bytes at %#llx: nothing is mapped there%s", vcpu->name,
			 is_write ? "write" : "read", len, (unsigned long long)run->mmio.phys_addr,
			 vcpu->unmapped_reports == VCPU_UNMAPPED_REPORT_LIMIT ? " (further reports suppressed)" : "");
	}
	return 0;
}

static int vcpu_handle_system_event(struct vcpu *vcpu)
{
	switch (vcpu->run->system_event.type) {
	case KVM_SYSTEM_EVENT_SHUTDOWN:
		vm_request_stop(vcpu->vm, ROAM_EXIT_POWEROFF);
		return 1;
	case KVM_SYSTEM_EVENT_RESET:
		log_info("%s: the guest asked for a reset; roam does not reboot guests (exit status %d)", vcpu->name,
			 ROAM_EXIT_RESET);
		vm_request_stop(vcpu->vm, ROAM_EXIT_RESET);
		return 1;
	case KVM_SYSTEM_EVENT_CRASH:
		log_error("%s: the guest reported a crash", vcpu->name);
		vm_request_stop(vcpu->vm, ROAM_EXIT_CRASH);
		return 1;
	default:
		log_error("%s: unexpected system event %u", vcpu->name, vcpu->run->system_event.type);
		vm_request_stop(vcpu->vm, ROAM_EXIT_ERROR);
		return 1;
	}
}

/* Returns 0 to keep running, 1 to stop this vCPU (the VM's stop reason is set). */
static int vcpu_handle_exit(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	atomic_fetch_add(&vcpu->stats.exits, 1);
	switch (run->exit_reason) {
	case KVM_EXIT_MMIO:
		return vcpu_handle_mmio(vcpu);
	case KVM_EXIT_SYSTEM_EVENT:
		return vcpu_handle_system_event(vcpu);
	case KVM_EXIT_INTR:
		return 0;
	case KVM_EXIT_FAIL_ENTRY:
		log_error("%s: KVM_RUN: entry failed, hardware reason %#llx", vcpu->name,
			  (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		break;
	case KVM_EXIT_INTERNAL_ERROR:
		log_error("%s: KVM_RUN: KVM internal error, suberror %u", vcpu->name, run->internal.suberror);
		break;
	default: {
		int ret = arch_handle_exit(vcpu);
		if (ret >= 0)
			return ret;
		break;
	}
	}
	vm_request_stop(vcpu->vm, ROAM_EXIT_ERROR);
	return 1;
}

/*
 * The vCPU thread. Pause and stop requests are only honoured after KVM_RUN returned EINTR: a kick sets
 * immediate_exit, so after handling an exit the thread re-enters KVM_RUN once, which completes a pending MMIO or
 * hypercall (its results land in the guest's registers) and returns at once. A paused vCPU therefore never has a
 * half-done exit, which is what a snapshot needs.
 */
static void *vcpu_thread(void *arg)
{
	struct vcpu *vcpu = arg;
	struct vm *vm = vcpu->vm;
	struct pvlock *pv = vm->pvlock;
	if (pv)
		pvlock_vcpu_thread_init(pv, vcpu->id);
	bool runnable = vcpu_wait_runnable(vcpu);
	while (runnable) {
		if (vcpu->id == 0 && !atomic_load(&vm->first_run_ns))
			atomic_store(&vm->first_run_ns, vm_now_ns() - vm->start_ns);
		if (pv)
			pvlock_vcpu_enter(pv, vcpu->id);
		long ret = __SYS_IOCTL_VALUE(vcpu->fd, KVM_RUN, 0);
		if (pv)
			pvlock_vcpu_leave(pv, vcpu->id);
		if (ret == -EINTR || ret == -EAGAIN) {
			__atomic_store_n(&vcpu->run->immediate_exit, 0, __ATOMIC_SEQ_CST);
			runnable = vcpu_wait_runnable(vcpu);
			continue;
		}
		if (ret < 0) {
			log_error("KVM_RUN(%s): %s", vcpu->name, strerror((int)-ret));
			vm_request_stop(vm, ROAM_EXIT_ERROR);
			break;
		}
		if (vcpu_handle_exit(vcpu))
			break;
	}
	vcpu_set_state(vcpu, VCPU_EXITED);
	return NULL;
}

int vcpu_start(struct vcpu *vcpu)
{
	int err = pthread_create(&vcpu->thread, NULL, vcpu_thread, vcpu);
	if (err)
		return log_errno(-err, "%s: cannot start its thread: %s", vcpu->name, strerror(err));
	vcpu->thread_started = true;
	return 0;
}

int vcpu_pause(struct vcpu *vcpu)
{
	pthread_mutex_lock(&vcpu->lock);
	vcpu->pause_requested = true;
	pthread_mutex_unlock(&vcpu->lock);
	vcpu_kick(vcpu);
	pthread_mutex_lock(&vcpu->lock);
	while (vcpu->state != VCPU_PAUSED && vcpu->state != VCPU_EXITED && vcpu->thread_started)
		pthread_cond_wait(&vcpu->cond, &vcpu->lock);
	int ret = vcpu->state == VCPU_EXITED ? -ESRCH : 0;
	pthread_mutex_unlock(&vcpu->lock);
	return ret;
}

void vcpu_resume(struct vcpu *vcpu)
{
	pthread_mutex_lock(&vcpu->lock);
	vcpu->pause_requested = false;
	pthread_cond_broadcast(&vcpu->cond);
	pthread_mutex_unlock(&vcpu->lock);
}

void vcpu_get_status(struct vcpu *vcpu, struct vcpu_status *st)
{
	pthread_mutex_lock(&vcpu->lock);
	st->state = vcpu->state;
	st->pause_requested = vcpu->pause_requested;
	pthread_mutex_unlock(&vcpu->lock);
	st->exits = atomic_load(&vcpu->stats.exits);
	st->mmio_exits = atomic_load(&vcpu->stats.mmio_exits);
	st->hypercalls = atomic_load(&vcpu->stats.hypercalls);
}

void vcpu_join(struct vcpu *vcpu)
{
	if (vcpu->thread_started) {
		pthread_join(vcpu->thread, NULL);
		vcpu->thread_started = false;
	}
}

void vcpu_destroy(struct vcpu *vcpu)
{
	arch_vcpu_fini(vcpu);
	if (vcpu->run)
		munmap(vcpu->run, (size_t)vcpu->vm->vcpu_mmap_size);
	if (vcpu->fd >= 0)
		close(vcpu->fd);
	vcpu->run = NULL;
	vcpu->fd = -1;
	pthread_mutex_destroy(&vcpu->lock);
	pthread_cond_destroy(&vcpu->cond);
}

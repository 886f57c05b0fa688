/*
 * VM lifetime: open KVM, create the VM, its memory, devices and vCPUs in the order KVM requires, start and join
 * the vCPU threads, and tear everything down. The order matters on arm64: vCPUs must exist before the in-kernel
 * GIC is initialized, and the boot state is written after both.
 */
#include "vm.h"

#include "arch.h"
#include "clock.h"
#include "devices/device.h"
#include "log.h"
#include "pvlock/pvlock.h"
#include "snapshot/lazy_restore.h"
#include "sys_ioctl.h"
#include "vcpu.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

static int vm_open_kvm(struct vm *vm)
{
	int fd = open(vm->cfg.kvm_path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		int err = errno;
		return log_errno(-err, "cannot open %s: %s%s", vm->cfg.kvm_path, strerror(err),
				 err == ENOENT
				     ? " (this host has no KVM: arm64 needs it booted at EL2, LoongArch a CPU with LVZ)"
				 : err == EACCES ? " (add yourself to the kvm group or run as root)"
						 : "");
	}
	vm->kvm_fd = fd;
	long version = SYS_IOCTL_VALUE(fd, KVM_GET_API_VERSION, 0, vm->cfg.kvm_path);
	if (version < 0)
		return (int)version;
	if (version != KVM_API_VERSION)
		return log_errno(-EINVAL, "%s: KVM API version %ld, roam needs %d", vm->cfg.kvm_path, version,
				 KVM_API_VERSION);
	return 0;
}

static int vm_check_vcpu_count(struct vm *vm)
{
	long max = __SYS_IOCTL_VALUE(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
	if (max <= 0)
		max = __SYS_IOCTL_VALUE(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS);
	if (max > arch_max_vcpus())
		max = arch_max_vcpus();
	if (vm->cfg.nr_vcpus > max)
		return log_errno(-EINVAL, "--cpus %d: KVM on this host allows at most %ld vCPUs", vm->cfg.nr_vcpus,
				 max);
	return 0;
}

static int vm_register_memory(struct vm *vm)
{
	for (int i = 0; i < vm->mem.nr_slots; i++) {
		const struct memory_slot *slot = &vm->mem.slots[i];
		struct kvm_userspace_memory_region region = {
		    .slot = (uint32_t)i,
		    .flags = slot->guest_readonly ? KVM_MEM_READONLY : 0,
		    .guest_phys_addr = slot->gpa,
		    .memory_size = slot->size,
		    .userspace_addr = (uint64_t)(uintptr_t)slot->host,
		};
		long ret = SYS_IOCTL(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region, slot->name);
		if (ret < 0)
			return (int)ret;
	}
	return 0;
}

int vm_create(struct vm *vm, const struct vm_config *cfg, uint64_t start_ns)
{
	memset(vm, 0, sizeof(*vm));
	vm->start_ns = start_ns;
	vm_phase_done(vm, "options");
	vm->cfg = *cfg;
	vm->kvm_fd = vm->vm_fd = vm->stop_eventfd = -1;
	memory_init(&vm->mem);
	bus_init(&vm->mmio);
	hypercall_table_init(&vm->hypercalls);
	vm->hypercalls.trace = cfg->trace_hypercalls;
	pthread_mutex_init(&vm->stop_lock, NULL);

	vm->stop_eventfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vm->stop_eventfd < 0)
		return log_errno(-errno, "eventfd: %s", strerror(errno));

	int ret = vm_open_kvm(vm);
	if (ret < 0)
		return ret;
	ret = vm_check_vcpu_count(vm);
	if (ret < 0)
		return ret;
	int type = arch_vm_type(vm);
	if (type < 0)
		return type;
	long fd = SYS_IOCTL_VALUE(vm->kvm_fd, KVM_CREATE_VM, type, "VM");
	if (fd < 0)
		return (int)fd;
	vm->vm_fd = (int)fd;
	long mmap_size = SYS_IOCTL_VALUE(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0, NULL);
	if (mmap_size < 0)
		return (int)mmap_size;
	vm->vcpu_mmap_size = (int)mmap_size;

	ret = arch_vm_init(vm);
	if (ret < 0)
		return ret;
	vm_phase_done(vm, "KVM VM");

	/* RAM fills the first bank, then the second one (LoongArch: low RAM below 256 MiB, high RAM at 2 GiB). */
	const struct vm_region_info *ram = arch_region(VM_REGION_RAM), *high = arch_region(VM_REGION_RAM_HIGH);
	if (cfg->ram_size > ram->size + high->size)
		return log_errno(-EINVAL, "--mem %llu MiB: the %s memory map has room for at most %llu MiB",
				 (unsigned long long)(cfg->ram_size >> 20), arch_name(),
				 (unsigned long long)((ram->size + high->size) >> 20));
	uint64_t low_size = cfg->ram_size < ram->size ? cfg->ram_size : ram->size;
	ret = memory_add_slot(&vm->mem, "ram", ram->base, low_size, false);
	if (ret >= 0 && cfg->ram_size > low_size)
		ret = memory_add_slot(&vm->mem, "ram-high", high->base, cfg->ram_size - low_size, false);
	if (ret < 0)
		return ret;

	vm_phase_done(vm, "memory");
	if (!cfg->no_pvlock) {
		ret = pvlock_create(vm, &vm->pvlock);
		if (ret < 0)
			return ret;
		vm_phase_done(vm, "PV lock");
	}
	ret = devices_create_all(vm);
	vm_phase_done(vm, "devices");
	if (ret < 0)
		return ret;
	ret = vm_register_memory(vm);
	if (ret < 0)
		return ret;

	vm->vcpus = calloc((size_t)cfg->nr_vcpus, sizeof(*vm->vcpus));
	if (!vm->vcpus)
		return -ENOMEM;
	for (int i = 0; i < cfg->nr_vcpus; i++) {
		vm->nr_vcpus = i + 1; /* so vm_destroy releases a half-created vCPU too */
		ret = vcpu_create(vm, &vm->vcpus[i], i);
		if (ret < 0)
			return ret;
	}
	vm_phase_done(vm, "vCPUs");
	ret = arch_irqchip_init(vm);
	if (ret < 0)
		return ret;
	vm_phase_done(vm, "interrupt controller");
	ret = arch_boot_setup(vm);
	vm_phase_done(vm, "guest loaded");
	return ret;
}

void vm_phase_done(struct vm *vm, const char *name)
{
	if (vm->nr_phases < VM_MAX_PHASES)
		vm->phases[vm->nr_phases++] = (struct vm_phase){name, vm_now_ns() - vm->start_ns};
}

int vm_start(struct vm *vm)
{
	int ret = vcpu_install_kick_signal();
	if (ret < 0)
		return ret;
	if (vm->pvlock)
		pvlock_start_tracking(vm->pvlock);
	vm_phase_done(vm, "PV-lock tracking");
	for (int i = 0; i < vm->nr_vcpus; i++) {
		if (vm->cfg.start_paused) {
			/* --paused: the thread goes from created to paused without entering the guest */
			pthread_mutex_lock(&vm->vcpus[i].lock);
			vm->vcpus[i].pause_requested = true;
			pthread_mutex_unlock(&vm->vcpus[i].lock);
		}
		ret = vcpu_start(&vm->vcpus[i]);
		if (ret < 0) {
			vm_request_stop(vm, ROAM_EXIT_ERROR);
			return ret;
		}
	}
	return 0;
}

void vm_request_stop(struct vm *vm, int code)
{
	pthread_mutex_lock(&vm->stop_lock);
	bool first = !atomic_load(&vm->stopping);
	if (first) {
		vm->exit_code = code;
		atomic_store(&vm->stopping, true);
	}
	pthread_mutex_unlock(&vm->stop_lock);
	if (!first)
		return;
	uint64_t one = 1;
	ssize_t unused = write(vm->stop_eventfd, &one, sizeof(one));
	(void)unused;
	for (int i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *vcpu = &vm->vcpus[i];
		pthread_mutex_lock(&vcpu->lock);
		pthread_cond_broadcast(&vcpu->cond); /* a paused vCPU wakes up and sees the stop */
		pthread_mutex_unlock(&vcpu->lock);
		vcpu_kick(vcpu);
	}
}

int vm_pause(struct vm *vm, int id)
{
	if (id >= vm->nr_vcpus)
		return -EINVAL;
	int first = id < 0 ? 0 : id, last = id < 0 ? vm->nr_vcpus - 1 : id;
	/* Ask all first, then wait: the vCPUs leave the guest in parallel. */
	for (int i = first; i <= last; i++) {
		struct vcpu *vcpu = &vm->vcpus[i];
		pthread_mutex_lock(&vcpu->lock);
		vcpu->pause_requested = true;
		pthread_mutex_unlock(&vcpu->lock);
		vcpu_kick(vcpu);
	}
	for (int i = first; i <= last; i++) {
		int ret = vcpu_pause(&vm->vcpus[i]);
		if (ret < 0)
			return ret;
	}
	return 0;
}

int vm_resume(struct vm *vm, int id)
{
	if (id >= vm->nr_vcpus)
		return -EINVAL;
	for (int i = id < 0 ? 0 : id; i <= (id < 0 ? vm->nr_vcpus - 1 : id); i++)
		vcpu_resume(&vm->vcpus[i]);
	return 0;
}

int vm_join(struct vm *vm)
{
	for (int i = 0; i < vm->nr_vcpus; i++)
		vcpu_join(&vm->vcpus[i]);
	return vm->exit_code;
}

void vm_destroy(struct vm *vm)
{
	for (int i = 0; i < vm->nr_vcpus; i++)
		vcpu_join(&vm->vcpus[i]);
	devices_destroy_all(vm);
	pvlock_destroy(vm->pvlock);
	vm->pvlock = NULL;
	for (int i = 0; i < vm->nr_vcpus; i++)
		vcpu_destroy(&vm->vcpus[i]);
	free(vm->vcpus);
	vm->vcpus = NULL;
	vm->nr_vcpus = 0;
	lazy_restore_free(vm->lazy); /* nothing can fault on the memory any more */
	vm->lazy = NULL;
	arch_vm_fini(vm);
	memory_fini(&vm->mem);
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	if (vm->stop_eventfd >= 0)
		close(vm->stop_eventfd);
	pthread_mutex_destroy(&vm->stop_lock);
}

uint64_t vm_now_ns(void)
{
	return monotonic_ns();
}

void vm_console_output(struct vm *vm, uint8_t byte)
{
	ssize_t unused = write(vm->cfg.console_out_fd, &byte, 1);
	(void)unused; /* a closed console must not stop the guest */
	const char *marker = vm->cfg.timing_marker;
	if (!marker || atomic_load(&vm->marker_ns))
		return;
	/* A restart from zero is enough: the markers roam's tools use do not overlap themselves. */
	if (byte == (uint8_t)marker[vm->marker_matched])
		vm->marker_matched++;
	else
		vm->marker_matched = byte == (uint8_t)marker[0];
	if (!marker[vm->marker_matched])
		atomic_store(&vm->marker_ns, vm_now_ns() - vm->start_ns);
}

int vm_irq_line(struct vm *vm, uint32_t irq, bool level)
{
	return arch_irq_line(vm, irq, level);
}

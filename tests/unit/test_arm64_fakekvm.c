/* The fake arm64 KVM of the unit tests, its fds, /dev/kvm and VM ioctls and the fake host: see test_arm64_fakekvm.h. */
#include "test_arm64_fakekvm.h"

#include "arch/arm64/host_cpu.h"
#include "core/sys_ioctl.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

struct fakekvm fakekvm;

long fakekvm_refuse(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "fake KVM: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	fakekvm.refusals++;
	return -ENOTTY;
}

static void forget_vm(struct fakekvm_vm *vm)
{
	for (int i = 0; i < vm->nr_vcpus; i++)
		if (vm->vcpus[i].run)
			munmap(vm->vcpus[i].run, FAKEKVM_MMAP_SIZE);
	for (int s = 0; s < FAKEKVM_MAX_SLOTS; s++)
		free(vm->slots[s].stage2);
	memset(vm, 0, sizeof(*vm));
	vm->fd = vm->gic.fd = -1;
}

void fakekvm_reset(void)
{
	/* The fds belong to roam, which closes them; the fake only forgets them. */
	for (int i = 0; i < FAKEKVM_MAX_VMS; i++)
		if (fakekvm.vms[i].fd >= 0 || fakekvm.vms[i].nr_vcpus)
			forget_vm(&fakekvm.vms[i]);
	memset(&fakekvm, 0, sizeof(fakekvm));
	for (int i = 0; i < FAKEKVM_MAX_VMS; i++)
		fakekvm.vms[i].fd = fakekvm.vms[i].gic.fd = -1;
	struct fakekvm_host *h = &fakekvm.host;
	h->counter = 0x123456789000ull;
	h->frequency = 62500000;
	h->midr = 0x410fd083; /* Cortex-A72 r0p3 */
	h->nr_cpus = 4;
	h->max_ipa_bits = 44;
	h->gic_v3 = true;
	h->gic_revision = 3;
	h->icc_pri_bits = 5;
	h->icc_id_bits = 0; /* 16-bit INTIDs */
	h->icc_a3v = 1;
}

int fakekvm_new_fd(const char *name, ino_t *ino)
{
	int fd = memfd_create(name, MFD_CLOEXEC);
	struct stat st;
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, FAKEKVM_MMAP_SIZE) < 0 || fstat(fd, &st) < 0) {
		close(fd);
		return -EIO;
	}
	*ino = st.st_ino;
	return fd;
}

/* Whether `fd` is still the memfd the fake made (roam closes fds without telling; their numbers come back). */
static bool same_file(int fd, ino_t ino)
{
	struct stat st;
	return fd >= 0 && fstat(fd, &st) == 0 && st.st_ino == ino;
}

struct fakekvm_vm *fakekvm_vm_by_fd(int fd)
{
	for (int i = 0; i < FAKEKVM_MAX_VMS; i++)
		if (fakekvm.vms[i].fd == fd && same_file(fd, fakekvm.vms[i].ino))
			return &fakekvm.vms[i];
	return NULL;
}

struct fakekvm_vcpu *fakekvm_vcpu_by_fd(int fd, struct fakekvm_vm **vm)
{
	for (int i = 0; i < FAKEKVM_MAX_VMS; i++)
		for (int v = 0; v < fakekvm.vms[i].nr_vcpus; v++) {
			struct fakekvm_vcpu *c = &fakekvm.vms[i].vcpus[v];
			if (c->fd == fd && same_file(fd, c->ino)) {
				if (vm)
					*vm = &fakekvm.vms[i];
				return c;
			}
		}
	return NULL;
}

static struct fakekvm_vm *gic_by_fd(int fd)
{
	for (int i = 0; i < FAKEKVM_MAX_VMS; i++)
		if (fakekvm.vms[i].gic.fd == fd && same_file(fd, fakekvm.vms[i].gic.ino))
			return &fakekvm.vms[i];
	return NULL;
}

uint8_t *fakekvm_guest(struct fakekvm_vm *vm, uint64_t gpa, uint64_t len)
{
	for (int s = 0; s < FAKEKVM_MAX_SLOTS; s++) {
		const struct kvm_userspace_memory_region *r = &vm->slots[s].region;
		if (r->memory_size && gpa >= r->guest_phys_addr && len <= r->memory_size &&
		    gpa - r->guest_phys_addr <= r->memory_size - len)
			return (uint8_t *)(uintptr_t)r->userspace_addr + (gpa - r->guest_phys_addr);
	}
	return NULL;
}

static long create_vm(long type)
{
	uint32_t ipa = (uint32_t)(type & KVM_VM_TYPE_ARM_IPA_SIZE_MASK);
	if (type & ~(long)KVM_VM_TYPE_ARM_IPA_SIZE_MASK)
		return -EINVAL;
	if (ipa == 0)
		ipa = 40; /* the default of a VM type 0 */
	if (ipa < 32 || ipa > fakekvm.host.max_ipa_bits)
		return -EINVAL;
	for (int i = 0; i < FAKEKVM_MAX_VMS; i++) {
		struct fakekvm_vm *vm = &fakekvm.vms[i];
		if (vm->fd >= 0 && same_file(vm->fd, vm->ino))
			continue;
		forget_vm(vm); /* free, or closed by roam */
		int fd = fakekvm_new_fd("fake-vm", &vm->ino);
		if (fd < 0)
			return fd;
		vm->fd = fd;
		vm->ipa_bits = ipa;
		vm->voffset =
		    fakekvm.host.counter; /* a new guest's virtual counter starts at 0, its physical is the host's */
		return fd;
	}
	return fakekvm_refuse("KVM_CREATE_VM: more than %d VMs at once", FAKEKVM_MAX_VMS);
}

static long kvm_ioctl(unsigned long request, void *arg)
{
	switch (request) {
	case KVM_GET_API_VERSION:
		return KVM_API_VERSION;
	case KVM_CHECK_EXTENSION:
		return fakekvm_cap((long)arg);
	case KVM_GET_VCPU_MMAP_SIZE:
		return FAKEKVM_MMAP_SIZE;
	case KVM_CREATE_VM:
		return create_vm((long)arg);
	default:
		return fakekvm_refuse("request %#lx on /dev/kvm is not modelled", request);
	}
}

long sys_ioctl_raw(int fd, unsigned long request, void *arg)
{
	fakekvm.calls++;
	if (fakekvm.host.fail_request == request && --fakekvm.host.fail_after <= 0) {
		fakekvm.host.fail_request = 0;
		return -fakekvm.host.fail_errno;
	}
	struct fakekvm_vm *vm;
	struct fakekvm_vcpu *c = fakekvm_vcpu_by_fd(fd, &vm);
	if (c)
		return fakekvm_vcpu_ioctl(vm, c, request, arg);
	if ((vm = gic_by_fd(fd)) != NULL)
		return fakekvm_gic_ioctl(vm, request, arg);
	if ((vm = fakekvm_vm_by_fd(fd)) != NULL)
		return fakekvm_vm_ioctl(vm, request, arg);
	return kvm_ioctl(request, arg); /* any other fd is "/dev/kvm" */
}

/* --- the host CPU (vmm/arch/arm64/host_cpu.h) --------------------------------------------------------------- */

uint64_t arm64_host_counter(void)
{
	return fakekvm.host.counter;
}

uint64_t arm64_host_counter_frequency(void)
{
	return fakekvm.host.frequency;
}

void arm64_host_clean_to_poc(void *p, size_t len)
{
	(void)p;
	(void)len;
	fakekvm.cleans++;
}

bool arm64_host_id_reg(int cpu, const char *name, uint64_t *value)
{
	bool known = cpu >= 0 && cpu < fakekvm.host.nr_cpus;
	*value = !known ? 0 : !strcmp(name, "midr_el1") ? fakekvm.host.midr : fakekvm.host.revidr;
	return known && (!strcmp(name, "midr_el1") || !strcmp(name, "revidr_el1"));
}

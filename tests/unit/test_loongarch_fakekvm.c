/* The fake LoongArch KVM of the unit tests: see test_loongarch_fakekvm.h. */
#include "test_loongarch_fakekvm.h"

#include "core/sys_ioctl.h"

#include <asm/kvm_para.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define FAKE_MMAP_SIZE 16384
#define PV_UPDATED (1ull << 63)

struct fakekvm fakekvm;

void fakekvm_reset(void)
{
	/* The fds belong to roam, which closes them; the fake only forgets them. */
	memset(&fakekvm, 0, sizeof(fakekvm));
	fakekvm.vm_fd = -1;
	static const uint32_t masks[21] = {
	    0xffffffff, 0x07ffffff, 0x00e7c3ff, 0x00fcffff, 0xffffffff, 0xffffffff, 0x00007fff, 0, 0, 0, 0, 0, 0, 0,
	    0,		0,	    0x0001ffff, 0x7fffffff, 0x7fffffff, 0x7fffffff, 0x7fffffff};
	memcpy(fakekvm.mask, masks, sizeof(masks));
	fakekvm.pv_default = (1u << KVM_FEATURE_IPI) | (1u << KVM_FEATURE_STEAL_TIME);
	fakekvm.pv_valid = fakekvm.pv_default | (1u << KVM_FEATURE_PREEMPT) | (1u << KVM_FEATURE_VIRT_EXTIOI) |
			   (1u << KVM_FEATURE_USER_HCALL);
	fakekvm.vm_features = 0x3; /* LSX, LASX */
}

struct fakekvm_vcpu *fakekvm_vcpu_by_fd(int fd)
{
	for (int i = 0; i < fakekvm.nr_vcpus; i++)
		if (fakekvm.vcpus[i].fd == fd)
			return &fakekvm.vcpus[i];
	return NULL;
}

static struct fakekvm_device *device_by_fd(int fd)
{
	for (int i = 0; i < fakekvm.nr_devices; i++)
		if (fakekvm.devices[i].fd == fd)
			return &fakekvm.devices[i];
	return NULL;
}

struct fakekvm_device *fakekvm_device_of_type(uint32_t type)
{
	for (int i = 0; i < fakekvm.nr_devices; i++)
		if (fakekvm.devices[i].type == type)
			return &fakekvm.devices[i];
	return NULL;
}

static struct fakekvm_attr *attr_slot(int fd, uint32_t group, uint64_t attr, bool create)
{
	for (int i = 0; i < fakekvm.nr_attrs; i++)
		if (fakekvm.attrs[i].fd == fd && fakekvm.attrs[i].group == group && fakekvm.attrs[i].attr == attr)
			return &fakekvm.attrs[i];
	if (!create || fakekvm.nr_attrs == FAKEKVM_MAX_ATTRS)
		return NULL;
	struct fakekvm_attr *a = &fakekvm.attrs[fakekvm.nr_attrs++];
	*a = (struct fakekvm_attr){fd, group, attr, 0};
	return a;
}

uint64_t fakekvm_device_attr(uint32_t type, uint32_t group, uint64_t attr, uint64_t missing)
{
	struct fakekvm_device *d = fakekvm_device_of_type(type);
	struct fakekvm_attr *a = d ? attr_slot(d->fd, group, attr, false) : NULL;
	return a ? a->value : missing;
}

static int new_fd(const char *name)
{
	int fd = memfd_create(name, MFD_CLOEXEC);
	if (fd >= 0 && ftruncate(fd, FAKE_MMAP_SIZE) < 0) {
		close(fd);
		return -EIO;
	}
	return fd < 0 ? -errno : fd;
}

/* The kernel's CPUCFG checks (arch/loongarch/kvm/vcpu.c kvm_check_cpucfg). */
static int check_cpucfg(uint64_t id, uint64_t v)
{
	if (id >= 21 || (v & ~(uint64_t)fakekvm.mask[id]))
		return -EINVAL;
	if (id == 2) {
		if (!(v & (1u << 14)) || ((v & 1) && (v & 6) != 6) || ((v & 0x40) && !(v & 1)) ||
		    ((v & 0x80) && !(v & 0x40)))
			return -EINVAL;
	}
	return 0;
}

static int one_reg(struct fakekvm_vcpu *c, struct kvm_one_reg *reg, bool set)
{
	uint64_t *user = (uint64_t *)(uintptr_t)reg->addr, type = reg->id & KVM_REG_LOONGARCH_MASK;
	uint64_t idx = (reg->id & 0x7fff) >> 3, v = set ? *user : 0;
	if ((reg->id & KVM_REG_SIZE_MASK) != KVM_REG_SIZE_U64)
		return -EINVAL;
	if (type == KVM_REG_LOONGARCH_CSR) {
		if (idx >= FAKEKVM_NR_CSRS)
			return -EINVAL;
		if (set && idx == 0x20) /* CSR.CPUID: one vCPU per id */
			for (int i = 0; i < fakekvm.nr_vcpus; i++)
				if (&fakekvm.vcpus[i] != c && fakekvm.vcpus[i].csr[0x20] == v)
					return -EINVAL;
		if (set)
			c->csr[idx] = v;
		else
			*user = c->csr[idx];
		return 0;
	}
	if (type == KVM_REG_LOONGARCH_CPUCFG) {
		if (idx >= 21)
			return -EINVAL;
		if (set) {
			int ret = check_cpucfg(idx, v);
			if (ret)
				return ret;
			c->cpucfg[idx] = (uint32_t)v;
		} else {
			*user = c->cpucfg[idx] ^ fakekvm.cpucfg_read_xor;
		}
		return 0;
	}
	if (reg->id == KVM_REG_LOONGARCH_COUNTER) {
		if (set && c->id == 0)
			fakekvm.counter_offset = v - 1000; /* the "host cycles" are 1000 at every read */
		else if (!set)
			*user = 1000 + fakekvm.counter_offset;
		return 0;
	}
	return -EINVAL;
}

static int vcpu_attr(struct fakekvm_vcpu *c, struct kvm_device_attr *a, bool set)
{
	uint64_t *user = (uint64_t *)(uintptr_t)a->addr;
	uint64_t pv = fakekvm.pv_features & PV_UPDATED ? fakekvm.pv_features & ~PV_UPDATED : fakekvm.pv_default;
	if (a->group == KVM_LOONGARCH_VCPU_CPUCFG) {
		if (!set && a->attr < 21) {
			*user = fakekvm.mask[a->attr];
			return 0;
		}
		if (a->attr != CPUCFG_KVM_FEATURE)
			return -ENXIO;
		if (!set) {
			*user = pv;
			return 0;
		}
		if ((*user & ~(uint64_t)fakekvm.pv_valid) || ((fakekvm.pv_features & PV_UPDATED) && pv != *user))
			return -EINVAL;
		fakekvm.pv_features = *user | PV_UPDATED;
		return 0;
	}
	if (a->group == KVM_LOONGARCH_VCPU_PVTIME_CTRL && a->attr == KVM_LOONGARCH_VCPU_PVTIME_GPA &&
	    (pv & (1u << KVM_FEATURE_STEAL_TIME))) {
		if (set)
			c->pvtime_gpa = *user;
		else
			*user = c->pvtime_gpa;
		return 0;
	}
	return -ENXIO;
}

/* Bytes of a device attribute, as the kernel copies them. */
static int device_attr_size(const struct fakekvm_device *d, const struct kvm_device_attr *a)
{
	switch (d->type) {
	case KVM_DEV_TYPE_LOONGARCH_IPI:
		return (a->attr & 0xff) >= 0x20 ? 8 : 4;
	case KVM_DEV_TYPE_LOONGARCH_EIOINTC:
		return 4;
	case KVM_DEV_TYPE_LOONGARCH_PCHPIC:
		if (a->group == KVM_DEV_LOONGARCH_PCH_PIC_GRP_REGS && a->attr >= 0x100 && a->attr < 0x240)
			return 1;
		return 8;
	default:
		return 8;
	}
}

static int device_attr(struct fakekvm_device *d, struct kvm_device_attr *a, bool set)
{
	if (d->type == KVM_DEV_TYPE_LOONGARCH_EIOINTC && a->group == KVM_DEV_LOONGARCH_EXTIOI_GRP_CTRL) {
		if (!set)
			return -EINVAL;
		if (a->attr == KVM_DEV_LOONGARCH_EXTIOI_CTRL_LOAD_FINISHED) {
			d->load_finished++;
			return 0;
		}
		uint64_t sw = a->attr == KVM_DEV_LOONGARCH_EXTIOI_CTRL_INIT_NUM_CPU ? 0 : 1;
		attr_slot(d->fd, KVM_DEV_LOONGARCH_EXTIOI_GRP_SW_STATUS, sw, true)->value =
		    *(uint32_t *)(uintptr_t)a->addr;
	}
	int size = device_attr_size(d, a);
	struct fakekvm_attr *slot = attr_slot(d->fd, a->group, a->attr, set);
	if (set) {
		if (!slot)
			return -ENOSPC;
		slot->value = 0;
		memcpy(&slot->value, (void *)(uintptr_t)a->addr, (size_t)size);
	} else {
		uint64_t v = slot ? slot->value : 0;
		memcpy((void *)(uintptr_t)a->addr, &v, (size_t)size);
	}
	return 0;
}

static long vm_ioctl(unsigned long request, void *arg)
{
	switch (request) {
	case KVM_CHECK_EXTENSION:
		return (long)arg == fakekvm.missing_cap ? 0 : 1;
	case KVM_SET_USER_MEMORY_REGION:
		fakekvm.nr_slots++;
		return 0;
	case KVM_CREATE_VCPU: {
		if (fakekvm.nr_vcpus == FAKEKVM_MAX_VCPUS)
			return -EINVAL;
		int fd = new_fd("fake-vcpu");
		if (fd < 0)
			return fd;
		struct fakekvm_vcpu *c = &fakekvm.vcpus[fakekvm.nr_vcpus++];
		memset(c, 0, sizeof(*c));
		c->fd = fd;
		c->id = (int)(long)arg;
		c->csr[0x20] = 0x400; /* KVM_MAX_PHYID: no CPUID yet */
		return fd;
	}
	case KVM_CREATE_DEVICE: {
		struct kvm_create_device *cd = arg;
		if (fakekvm.create_device_errno)
			return -fakekvm.create_device_errno;
		if (fakekvm_device_of_type(cd->type) || fakekvm.nr_devices == FAKEKVM_MAX_DEVICES)
			return -EEXIST;
		int fd = new_fd("fake-device");
		if (fd < 0)
			return fd;
		fakekvm.devices[fakekvm.nr_devices++] = (struct fakekvm_device){fd, cd->type, 0};
		cd->fd = (uint32_t)fd;
		return 0;
	}
	case KVM_IRQ_LINE: {
		struct kvm_irq_level *l = arg;
		if (l->irq >= 64)
			return -EINVAL;
		fakekvm.irq_lines[l->irq] = (int)l->level;
		return 0;
	}
	case KVM_HAS_DEVICE_ATTR: {
		struct kvm_device_attr *a = arg;
		return a->group == KVM_LOONGARCH_VM_FEAT_CTRL && a->attr < 32 && (fakekvm.vm_features >> a->attr & 1)
			   ? 0
			   : -ENXIO;
	}
	case KVM_IRQFD:
	case KVM_IOEVENTFD:
		return 0;
	default:
		return -ENOTTY;
	}
}

static long vcpu_ioctl(struct fakekvm_vcpu *c, unsigned long request, void *arg)
{
	switch (request) {
	case KVM_GET_ONE_REG:
	case KVM_SET_ONE_REG:
		return one_reg(c, arg, request == KVM_SET_ONE_REG);
	case KVM_GET_REGS:
		memcpy(arg, &c->regs, sizeof(c->regs));
		return 0;
	case KVM_SET_REGS:
		memcpy(&c->regs, arg, sizeof(c->regs));
		c->regs.gpr[0] = 0;
		c->set_regs_calls++;
		return 0;
	case KVM_GET_FPU:
		memcpy(arg, &c->fpu, sizeof(c->fpu));
		return 0;
	case KVM_SET_FPU:
		memcpy(&c->fpu, arg, sizeof(c->fpu));
		return 0;
	case KVM_GET_DEVICE_ATTR:
	case KVM_SET_DEVICE_ATTR:
		return vcpu_attr(c, arg, request == KVM_SET_DEVICE_ATTR);
	case KVM_RUN:
		return -EINTR;
	default:
		return -ENOTTY;
	}
}

static long fake_ioctl(int fd, unsigned long request, void *arg)
{
	struct fakekvm_vcpu *c = fakekvm_vcpu_by_fd(fd);
	struct fakekvm_device *d = device_by_fd(fd);
	if (c)
		return vcpu_ioctl(c, request, arg);
	if (d) {
		if (request == KVM_GET_DEVICE_ATTR || request == KVM_SET_DEVICE_ATTR)
			return device_attr(d, arg, request == KVM_SET_DEVICE_ATTR);
		return -ENOTTY;
	}
	if (fd == fakekvm.vm_fd)
		return vm_ioctl(request, arg);
	switch (request) { /* the "/dev/kvm" fd */
	case KVM_GET_API_VERSION:
		return KVM_API_VERSION;
	case KVM_CHECK_EXTENSION:
		return (long)arg == KVM_CAP_MAX_VCPUS || (long)arg == KVM_CAP_NR_VCPUS ? FAKEKVM_MAX_VCPUS : 1;
	case KVM_GET_VCPU_MMAP_SIZE:
		return FAKE_MMAP_SIZE;
	case KVM_CREATE_VM: {
		/* A new VM forgets the previous one's vCPUs and devices (the tests run one VM at a time). */
		struct fakekvm knobs = fakekvm;
		fakekvm_reset();
		memcpy(fakekvm.mask, knobs.mask, sizeof(knobs.mask));
		fakekvm.pv_default = knobs.pv_default, fakekvm.pv_valid = knobs.pv_valid;
		fakekvm.vm_features = knobs.vm_features, fakekvm.create_device_errno = knobs.create_device_errno;
		fakekvm.missing_cap = knobs.missing_cap, fakekvm.cpucfg_read_xor = knobs.cpucfg_read_xor;
		fakekvm.fail_request = knobs.fail_request, fakekvm.fail_after = knobs.fail_after;
		fakekvm.fail_errno = knobs.fail_errno, fakekvm.calls = knobs.calls;
		fakekvm.vm_fd = new_fd("fake-vm");
		return fakekvm.vm_fd;
	}
	default:
		return -ENOTTY;
	}
}

long sys_ioctl_raw(int fd, unsigned long request, void *arg)
{
	fakekvm.calls++;
	if (fakekvm.fail_request == request && --fakekvm.fail_after <= 0) {
		fakekvm.fail_request = 0;
		return -fakekvm.fail_errno;
	}
	return fake_ioctl(fd, request, arg);
}

const char *fakekvm_capture(void (*fn)(void *), void *arg)
{
	static char text[16384];
	char path[] = "/tmp/roam-fakekvm-XXXXXX";
	int fd = mkstemp(path), saved_err = dup(2), saved_out = dup(1);
	fflush(stdout);
	fflush(stderr);
	dup2(fd, 1);
	dup2(fd, 2);
	fn(arg);
	fflush(stdout);
	fflush(stderr);
	dup2(saved_out, 1);
	dup2(saved_err, 2);
	close(saved_out);
	close(saved_err);
	ssize_t n = pread(fd, text, sizeof(text) - 1, 0);
	text[n > 0 ? n : 0] = '\0';
	close(fd);
	unlink(path);
	return text;
}

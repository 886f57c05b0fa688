/* KVM register and attribute helpers for LoongArch: see loongarch.h. */
#include "loongarch.h"

#include "core/sys_ioctl.h"
#include "core/vcpu.h"
#include "core/vcpu_reg.h"

#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>

int loongarch_get_regs(struct vcpu *vcpu, struct kvm_regs *regs)
{
	long ret = SYS_IOCTL(vcpu->fd, KVM_GET_REGS, regs, vcpu->name);
	return ret < 0 ? (int)ret : 0;
}

int loongarch_set_regs(struct vcpu *vcpu, const struct kvm_regs *regs)
{
	long ret = SYS_IOCTL(vcpu->fd, KVM_SET_REGS, regs, vcpu->name);
	return ret < 0 ? (int)ret : 0;
}

int loongarch_get_one(struct vcpu *vcpu, uint64_t id, uint64_t *value, const char *what)
{
	return vcpu_get_one_reg(vcpu, id, value, what);
}

int loongarch_set_one(struct vcpu *vcpu, uint64_t id, uint64_t value, const char *what)
{
	return vcpu_set_one_reg(vcpu, id, value, what);
}

int __loongarch_attr(int fd, bool set, uint32_t group, uint64_t attr, void *value)
{
	struct kvm_device_attr da = {.group = group, .attr = attr, .addr = (uint64_t)(uintptr_t)value};
	long ret = set ? __SYS_IOCTL(fd, KVM_SET_DEVICE_ATTR, &da) : __SYS_IOCTL(fd, KVM_GET_DEVICE_ATTR, &da);
	return ret < 0 ? (int)ret : 0;
}

int loongarch_attr(int fd, bool set, uint32_t group, uint64_t attr, void *value, const char *object)
{
	struct kvm_device_attr da = {.group = group, .attr = attr, .addr = (uint64_t)(uintptr_t)value};
	long ret =
	    set ? SYS_IOCTL(fd, KVM_SET_DEVICE_ATTR, &da, object) : SYS_IOCTL(fd, KVM_GET_DEVICE_ATTR, &da, object);
	return ret < 0 ? (int)ret : 0;
}

uint32_t loongarch_host_cpucfg(uint32_t index)
{
	uint32_t value;
	__asm__ volatile("cpucfg %0, %1" : "=r"(value) : "r"(index));
	return value;
}

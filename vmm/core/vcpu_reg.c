/* One 64-bit vCPU register through KVM: see vcpu_reg.h. */
#include "vcpu_reg.h"

#include "sys_ioctl.h"
#include "vcpu.h"

#include <linux/kvm.h>
#include <stdio.h>

int vcpu_get_one_reg(struct vcpu *vcpu, uint64_t id, uint64_t *value, const char *what)
{
	char object[64];
	struct kvm_one_reg reg = {.id = id, .addr = (uint64_t)(uintptr_t)value};
	snprintf(object, sizeof(object), "%s %s", vcpu->name, what);
	long ret = SYS_IOCTL(vcpu->fd, KVM_GET_ONE_REG, &reg, object);
	return ret < 0 ? (int)ret : 0;
}

int vcpu_set_one_reg(struct vcpu *vcpu, uint64_t id, uint64_t value, const char *what)
{
	char object[64];
	struct kvm_one_reg reg = {.id = id, .addr = (uint64_t)(uintptr_t)&value};
	snprintf(object, sizeof(object), "%s %s", vcpu->name, what);
	long ret = SYS_IOCTL(vcpu->fd, KVM_SET_ONE_REG, &reg, object);
	return ret < 0 ? (int)ret : 0;
}

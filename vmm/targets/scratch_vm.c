/* A scratch VM to ask KVM what a guest would see: see scratch_vm.h. */
#include "scratch_vm.h"

#include "core/log.h"
#include "core/sys_ioctl.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int scratch_vm_open(struct scratch_vm *s, const char *kvm_path, const char *what, bool vcpu)
{
	char object[64];
	s->kvm_fd = s->vm_fd = s->vcpu_fd = -1;
	s->kvm_fd = open(kvm_path, O_RDWR | O_CLOEXEC);
	if (s->kvm_fd < 0)
		return log_errno(-errno, "cannot open %s: %s", kvm_path, strerror(errno));
	snprintf(object, sizeof(object), "%s VM", what);
	long fd = SYS_IOCTL_VALUE(s->kvm_fd, KVM_CREATE_VM, 0, object);
	if (fd < 0)
		return (int)fd;
	s->vm_fd = (int)fd;
	if (!vcpu)
		return 0;
	snprintf(object, sizeof(object), "%s vCPU", what);
	fd = SYS_IOCTL_VALUE(s->vm_fd, KVM_CREATE_VCPU, 0, object);
	if (fd < 0)
		return (int)fd;
	s->vcpu_fd = (int)fd;
	return 0;
}

void scratch_vm_close(struct scratch_vm *s)
{
	if (s->vcpu_fd >= 0)
		close(s->vcpu_fd);
	if (s->vm_fd >= 0)
		close(s->vm_fd);
	if (s->kvm_fd >= 0)
		close(s->kvm_fd);
	s->kvm_fd = s->vm_fd = s->vcpu_fd = -1;
}

long scratch_vm_cap(int fd, long cap)
{
	long ret = __SYS_IOCTL_VALUE(fd, KVM_CHECK_EXTENSION, cap);
	return ret < 0 ? 0 : ret;
}

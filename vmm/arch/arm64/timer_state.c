/* The guest's counter for snapshots: see timer_state.h. */
#include "timer_state.h"

#include "arm64.h"
#include "core/component.h"
#include "core/log.h"
#include "core/sys_ioctl.h"
#include "core/vcpu.h"
#include "core/vm.h"
#include "host_cpu.h"
#include "restore_plan.h"
#include "snapshot/snap_codec.h"
#include "vcpu_state.h"

#include <errno.h>
#include <inttypes.h>
#include <linux/kvm.h>
#include <stdio.h>

int arm64_timer_save(struct vm *vm, struct snap_writer *w)
{
	uint64_t cnt;
	int ret = arm64_read_guest_counter(&vm->vcpus[0], &cnt);
	snap_put_u64(w, cnt);
	snap_put_u64(w, arm64_host_counter_frequency());
	return ret ? ret : w->err;
}

int arm64_timer_restore(struct vm *vm, struct snap_reader *r, uint32_t version, bool *counter_restored)
{
	uint64_t saved = snap_get_u64(r, "guest counter");
	uint64_t frequency = version >= 2 ? snap_get_u64(r, "counter frequency") : 0;
	if (!snap_reader_done(r))
		return log_errno(-EBADMSG, "timer state: %s", r->what);
	char problem[256];
	arm64_timer_frequency_problem(frequency, arm64_host_counter_frequency(), problem, sizeof(problem));
	if (frequency && problem[0])
		return log_errno(-EINVAL, "%s", problem);
	vm->arch->restored_counter = saved;
	*counter_restored = false;
	if (__SYS_IOCTL_VALUE(vm->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_COUNTER_OFFSET) <= 0)
		return 0; /* the vCPUs' KVM_REG_ARM_TIMER_CNT carry the saved counter instead */
	struct kvm_arm_counter_offset off = {.counter_offset = arm64_host_counter() - saved};
	long ret = SYS_IOCTL(vm->vm_fd, KVM_ARM_SET_COUNTER_OFFSET, &off, "guest counter");
	if (ret < 0)
		return (int)ret;
	*counter_restored = true;
	return 0;
}

int arm64_timer_check(struct snap_reader *r, uint32_t version, char *report, size_t size)
{
	snap_get_u64(r, "guest counter");
	uint64_t frequency = version >= 2 ? snap_get_u64(r, "counter frequency") : 0;
	char problem[256];
	arm64_timer_frequency_problem(frequency, arm64_host_counter_frequency(), problem, sizeof(problem));
	if (!frequency || !problem[0])
		return 0;
	component_report_add(report, size, "%s", problem);
	return 1;
}

int arm64_timer_verify(struct vm *vm)
{
	uint64_t now;
	int ret = arm64_read_guest_counter(&vm->vcpus[0], &now);
	if (ret)
		return ret;
	if (now < vm->arch->restored_counter)
		return log_errno(-EIO, "restored guest counter %#" PRIx64 " is behind the saved %#" PRIx64, now,
				 vm->arch->restored_counter);
	return 0;
}

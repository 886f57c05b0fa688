/* The VM's dirty log: see dirty_log.h. */
#include "dirty_log.h"

#include "log.h"
#include "sys_ioctl.h"
#include "vm.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>

/* Re-registers slot i with KVM with dirty logging on or off (only the flags change). */
static int set_logging(struct vm *vm, int i, bool on)
{
	const struct memory_slot *slot = &vm->mem.slots[i];
	struct kvm_userspace_memory_region region = {
	    .slot = (uint32_t)i,
	    .flags = on ? KVM_MEM_LOG_DIRTY_PAGES : 0,
	    .guest_phys_addr = slot->gpa,
	    .memory_size = slot->size,
	    .userspace_addr = (uint64_t)(uintptr_t)slot->host,
	};
	long ret = SYS_IOCTL(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region, slot->name);
	return ret < 0 ? (int)ret : 0;
}

bool vm_dirty_log_slot(const struct vm *vm, int slot)
{
	return vm->dirty_logging && !vm->mem.slots[slot].guest_readonly;
}

int vm_dirty_log_start(struct vm *vm)
{
	if (vm->dirty_logging)
		return 0;
	if (!vm->dirty_manual) {
		/* Manual protection: collecting does not re-protect pages by itself, so roam clears what it sends. */
		long caps = __SYS_IOCTL_VALUE(vm->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2);
		if (caps > 0) {
			struct kvm_enable_cap cap = {.cap = KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2,
						     .args = {(uint64_t)caps & (KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE |
										KVM_DIRTY_LOG_INITIALLY_SET)}};
			if (SYS_IOCTL(vm->vm_fd, KVM_ENABLE_CAP, &cap, "KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2") < 0)
				return -EIO;
			vm->dirty_manual = true;
		}
	}
	int ret = memory_track_start(&vm->mem);
	if (ret)
		return log_errno(ret, "dirty log: out of memory");
	for (int i = 0; !ret && i < vm->mem.nr_slots; i++)
		if (!vm->mem.slots[i].guest_readonly)
			ret = set_logging(vm, i, true);
	if (ret) {
		for (int i = 0; i < vm->mem.nr_slots; i++)
			if (!vm->mem.slots[i].guest_readonly)
				set_logging(vm, i, false);
		memory_track_stop(&vm->mem);
		return ret;
	}
	vm->dirty_logging = true;
	return 0;
}

int64_t vm_dirty_log_collect(struct vm *vm, int slot, uint64_t *bitmap)
{
	if (!vm_dirty_log_slot(vm, slot))
		return log_errno(-EINVAL, "dirty log: slot %d is not logged", slot);
	const struct memory_slot *s = &vm->mem.slots[slot];
	uint64_t pages = s->size / MEMORY_DIRTY_PAGE, words = (pages + 63) / 64;
	uint64_t *log = calloc(words, sizeof(*log));
	if (!log)
		return log_errno(-ENOMEM, "dirty log: out of memory");
	struct kvm_dirty_log get = {.slot = (uint32_t)slot, .dirty_bitmap = log};
	long ret = SYS_IOCTL(vm->vm_fd, KVM_GET_DIRTY_LOG, &get, s->name);
	if (ret >= 0 && vm->dirty_manual) {
		/* Re-arm exactly what was read: writes from now on are logged again. */
		struct kvm_clear_dirty_log clear = {
		    .slot = (uint32_t)slot, .num_pages = (uint32_t)pages, .first_page = 0, .dirty_bitmap = log};
		ret = SYS_IOCTL(vm->vm_fd, KVM_CLEAR_DIRTY_LOG, &clear, s->name);
	}
	int64_t count = 0;
	if (ret >= 0) {
		for (uint64_t w = 0; w < words; w++) {
			count += __builtin_popcountll(log[w] & ~bitmap[w]);
			bitmap[w] |= log[w];
		}
		/* roam's own writes after the guest's: a page in both counts once. */
		count += (int64_t)memory_take_dirty(&vm->mem, slot, bitmap);
	}
	free(log);
	return ret < 0 ? (int)ret : count;
}

void vm_dirty_log_stop(struct vm *vm)
{
	if (!vm->dirty_logging)
		return;
	for (int i = 0; i < vm->mem.nr_slots; i++)
		if (!vm->mem.slots[i].guest_readonly)
			set_logging(vm, i, false);
	memory_track_stop(&vm->mem);
	vm->dirty_logging = false;
}

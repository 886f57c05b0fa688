/*
 * The ucall device: test guests store the address of a struct ucall at offset 0 of the ucall window. roam reads the
 * struct through the checked guest-memory accessor and acts on it: DONE stops the VM with status 0, ABORT with
 * status 1 after printing the guest's file:line and message.
 */
#include "ucall.h"

#include "arch.h"
#include "core/log.h"
#include "core/vm.h"
#include "device.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static uint64_t le_get(const uint8_t *p, int bytes)
{
	uint64_t v = 0;
	for (int i = bytes - 1; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static void ucall_handle(struct vm *vm, uint64_t gpa)
{
	uint8_t raw[UCALL_SIZE];
	struct ucall_msg msg;
	const char *why;
	if (memory_read(&vm->mem, gpa, raw, sizeof(raw)) < 0) {
		log_error("ucall: the guest passed %#llx, which is not %d bytes of guest RAM", (unsigned long long)gpa,
			  UCALL_SIZE);
		vm_request_stop(vm, ROAM_EXIT_ERROR);
		return;
	}
	if (ucall_decode(raw, sizeof(raw), &msg, &why) < 0) {
		log_error("ucall at %#llx: %s", (unsigned long long)gpa, why);
		vm_request_stop(vm, ROAM_EXIT_ERROR);
		return;
	}
	switch (msg.cmd) {
	case UCALL_SYNC:
		if (vm->cfg.trace_ucall)
			log_info("guest sync %llu at %s:%u (%#llx %#llx %#llx)", (unsigned long long)msg.args[0],
				 msg.file, msg.line, (unsigned long long)msg.args[1], (unsigned long long)msg.args[2],
				 (unsigned long long)msg.args[3]);
		break;
	case UCALL_PRINT:
		log_info("guest: %s", msg.msg);
		break;
	case UCALL_DONE:
		vm_request_stop(vm, ROAM_EXIT_POWEROFF);
		break;
	case UCALL_ABORT:
		log_error("guest abort at %s:%u: %s", msg.file, msg.line, msg.msg);
		vm_request_stop(vm, ROAM_EXIT_ERROR);
		break;
	}
}

static int ucall_access(void *opaque, uint64_t offset, uint8_t *data, uint32_t len, bool is_write)
{
	struct vm *vm = opaque;
	if (!is_write) {
		memset(data, 0, len);
		return 0;
	}
	if (offset != 0 || len != 8) {
		log_error("ucall: the guest wrote %u bytes at offset %#llx; a ucall is one 8-byte store at offset 0",
			  len, (unsigned long long)offset);
		return -EINVAL;
	}
	ucall_handle(vm, le_get(data, 8));
	return 0;
}

static int ucall_create(struct vm *vm, void **state)
{
	const struct vm_region_info *region = arch_region(VM_REGION_UCALL);
	*state = vm;
	return bus_insert(&vm->mmio, region->base, region->size, "ucall", ucall_access, vm);
}

static void ucall_destroy(void *state)
{
	(void)state;
}

const struct device_desc ucall_device = {
    .name = "ucall",
    .create = ucall_create,
    .destroy = ucall_destroy,
    .fdt = NULL,
};

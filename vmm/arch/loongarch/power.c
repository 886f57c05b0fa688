/* The LoongArch power-off and reset registers: see power.h. */
#include "power.h"

#include "core/log.h"
#include "core/vm.h"
#include "layout.h"

#include <string.h>

int loongarch_power_access(void *opaque, uint64_t offset, uint8_t *data, uint32_t len, bool is_write)
{
	struct vm *vm = opaque;
	if (!is_write) {
		memset(data, 0, len);
		return 0;
	}
	uint32_t value = 0;
	for (uint32_t i = 0; i < len && i < 4; i++)
		value |= (uint32_t)data[i] << (8 * i);
	if (len != 4 || value != LOONGARCH_POWER_VALUE ||
	    (offset != LOONGARCH_POWER_OFF_OFFSET && offset != LOONGARCH_POWER_RESET_OFFSET))
		return 0; /* not a request: ignored */
	if (offset == LOONGARCH_POWER_OFF_OFFSET) {
		vm_request_stop(vm, ROAM_EXIT_POWEROFF);
	} else {
		log_info("the guest asked for a reset; roam does not reboot guests (exit status %d)", ROAM_EXIT_RESET);
		vm_request_stop(vm, ROAM_EXIT_RESET);
	}
	return 0;
}

int loongarch_power_create(struct vm *vm)
{
	return bus_insert(&vm->mmio, LOONGARCH_POWER_BASE, LOONGARCH_POWER_SIZE, "power", loongarch_power_access, vm);
}

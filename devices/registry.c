/* The ordered list of device types and the loops over a VM's devices: see device.h. */
#include "device.h"

#include "../vmm/vm.h"

#include <stddef.h>

extern const struct device_desc uart_device;
extern const struct device_desc ucall_device;

static const struct device_desc *const device_registry[] = {
    &uart_device,
    &ucall_device,
};

int devices_create_all(struct vm *vm)
{
	for (size_t i = 0; i < sizeof(device_registry) / sizeof(device_registry[0]); i++) {
		struct device_instance *dev = &vm->devices[vm->nr_devices];
		dev->desc = device_registry[i];
		int ret = dev->desc->create(vm, &dev->state);
		if (ret < 0)
			return ret;
		vm->nr_devices++;
	}
	return 0;
}

void devices_fdt_all(struct vm *vm, struct fdt_builder *b)
{
	for (int i = 0; i < vm->nr_devices; i++)
		if (vm->devices[i].desc->fdt)
			vm->devices[i].desc->fdt(vm->devices[i].state, b);
}

void devices_destroy_all(struct vm *vm)
{
	for (int i = vm->nr_devices - 1; i >= 0; i--)
		vm->devices[i].desc->destroy(vm->devices[i].state);
	vm->nr_devices = 0;
}

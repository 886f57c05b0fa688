/* The ordered list of device types and the loops over a VM's devices: see device.h. */
#include "device.h"

#include "core/vm.h"

#include <stddef.h>

#include "core/log.h"

#include <errno.h>

extern const struct device_desc uart_device;
extern const struct device_desc ucall_device;
extern const struct device_desc virtio_blk_device;
extern const struct device_desc virtio_net_device;
extern const struct device_desc virtio_rng_device;
extern const struct device_desc virtio_console_device;

/* virtio devices take their transport slots (addresses, interrupts) in this order. */
static const struct device_desc *const device_registry[] = {
    &uart_device, &ucall_device, &virtio_blk_device, &virtio_net_device, &virtio_rng_device, &virtio_console_device,
};

int devices_create_all(struct vm *vm)
{
	for (size_t i = 0; i < sizeof(device_registry) / sizeof(device_registry[0]); i++) {
		const struct device_desc *desc = device_registry[i];
		int count = desc->count ? desc->count(vm) : 1;
		for (int n = 0; n < count; n++) {
			if (vm->nr_devices == VM_MAX_DEVICES)
				return log_errno(-ENOSPC, "devices: more than %d devices; use fewer", VM_MAX_DEVICES);
			struct device_instance *dev = &vm->devices[vm->nr_devices];
			dev->desc = desc;
			dev->instance = n;
			dev->state = NULL;
			int ret =
			    desc->create_nth ? desc->create_nth(vm, n, &dev->state) : desc->create(vm, &dev->state);
			if (ret < 0) {
				/* A half-made device (state set) is still destroyed with the others. */
				if (dev->state)
					vm->nr_devices++;
				return ret;
			}
			vm->nr_devices++;
		}
	}
	return 0;
}

void devices_pause_all(struct vm *vm)
{
	for (int i = 0; i < vm->nr_devices; i++)
		if (vm->devices[i].desc->pause)
			vm->devices[i].desc->pause(vm->devices[i].state);
}

void devices_resume_all(struct vm *vm)
{
	for (int i = vm->nr_devices - 1; i >= 0; i--)
		if (vm->devices[i].desc->resume)
			vm->devices[i].desc->resume(vm->devices[i].state);
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

/*
 * The ordered list of device types and the loops over a VM's devices (see device.h), and the devices' component
 * (core/component.h): one DEVICE section per device with state, instance = its index among the VM's devices, the
 * payload the device's name followed by what its save() writes, at its own version.
 */
#include "device.h"

#include "core/component.h"
#include "core/log.h"
#include "core/vm.h"
#include "snapshot/snapshot.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

extern const struct device_desc uart_device;
extern const struct device_desc ucall_device;
extern const struct device_desc virtio_blk_device;
extern const struct device_desc virtio_net_device;
extern const struct device_desc virtio_rng_device;
extern const struct device_desc virtio_console_device;

/* virtio devices take their transport slots (addresses, interrupts) in this order. */
static const struct device_desc *const device_registry_list[] = {
    &uart_device, &ucall_device, &virtio_blk_device, &virtio_net_device, &virtio_rng_device, &virtio_console_device,
};

static const struct device_table registry_table = {
    .types = device_registry_list,
    .n = (int)(sizeof(device_registry_list) / sizeof(device_registry_list[0])),
};

const struct device_table *device_registry(void)
{
	return &registry_table;
}

int devices_create_all(struct vm *vm)
{
	for (int i = 0; i < registry_table.n; i++) {
		const struct device_desc *desc = registry_table.types[i];
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

static void devices_release_all(struct vm *vm)
{
	for (int i = 0; i < vm->nr_devices; i++)
		if (vm->devices[i].desc->release)
			vm->devices[i].desc->release(vm->devices[i].state);
}

static int devices_claim_all(struct vm *vm, int timeout_ms)
{
	for (int i = 0; i < vm->nr_devices; i++) {
		int ret = vm->devices[i].desc->claim ? vm->devices[i].desc->claim(vm->devices[i].state, timeout_ms) : 0;
		if (ret)
			return ret;
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

static uint32_t devices_count(const struct vm *vm)
{
	return (uint32_t)vm->nr_devices;
}

static bool devices_present(const struct vm *vm, uint32_t i)
{
	return vm->devices[i].desc->save != NULL;
}

static uint32_t devices_version(const struct vm *vm, uint32_t i)
{
	return i < (uint32_t)vm->nr_devices ? vm->devices[i].desc->snapshot_version : 0;
}

static void devices_name(const struct vm *vm, uint32_t i, char *buf, size_t size)
{
	snprintf(buf, size, "device %u (%s)", i, i < (uint32_t)vm->nr_devices ? vm->devices[i].desc->name : "?");
}

static int devices_save(struct component_ctx *ctx, uint32_t i, struct snap_writer *p)
{
	const struct device_instance *dev = &ctx->vm->devices[i];
	snap_put_blob(p, dev->desc->name, (uint32_t)strlen(dev->desc->name));
	dev->desc->save(dev->state, p);
	return 0;
}

static int devices_restore(struct component_ctx *ctx, uint32_t i, uint32_t version, struct snap_reader *p)
{
	const struct device_instance *dev = &ctx->vm->devices[i];
	char name[64] = "";
	snap_get_blob(p, name, sizeof(name) - 1, "device name");
	if (p->err)
		return 0; /* the section's end names the field */
	if (strcmp(dev->desc->name, name))
		return snapshot_reader_fail(ctx->r, ctx->sec, -EINVAL,
					    "this VM's device %u is %s, the snapshot's is %s; restore with the "
					    "snapshot's devices",
					    i, dev->desc->name, name);
	return dev->desc->restore(dev->state, p, version);
}

static int devices_restore_finish(struct vm *vm)
{
	devices_resume_all(vm); /* restored devices waited for guest memory */
	return 0;
}

const struct component devices_component = {
    .name = "device",
    .section = SNAPSHOT_SEC_DEVICE,
    .version = 1,
    .count = devices_count,
    .present = devices_present,
    .instance_version = devices_version,
    .instance_name = devices_name,
    .save = devices_save,
    .restore = devices_restore,
    .restore_finish = devices_restore_finish,
    .pause = devices_pause_all,
    .resume = devices_resume_all,
    .release = devices_release_all,
    .claim = devices_claim_all,
};

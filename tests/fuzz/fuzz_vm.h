/*
 * A VM without KVM for the harnesses that run devices (fuzz_guest, fuzz_restore): the descriptors KVM would give
 * are -1, two vCPUs, an empty bus, one RAM slot at the architecture's RAM base, and the PV-lock region. Include it
 * from one file per program, after fuzz_util.h.
 */
#ifndef ROAM_FUZZ_VM_H
#define ROAM_FUZZ_VM_H

#include "arch.h"
#include "core/vm.h"
#include "pvlock/pvlock.h"

/* Sets up vm as above with ram_size bytes of RAM; returns the RAM slot. *ro_slot: the PV-lock region's slot. */
static struct memory_slot *fuzz_vm_init(struct vm *vm, uint64_t ram_size, const struct memory_slot **ro_slot)
{
	vm->kvm_fd = vm->vm_fd = vm->stop_eventfd = -1;
	vm->cfg.nr_vcpus = 2;
	memory_init(&vm->mem);
	bus_init(&vm->mmio);
	int slot = memory_add_slot(&vm->mem, "ram", arch_region(VM_REGION_RAM)->base, ram_size, false);
	FUZZ_ASSERT(slot >= 0, "ram");
	FUZZ_ASSERT(pvlock_create(vm, &vm->pvlock) == 0, "pvlock");
	*ro_slot = memory_find_slot(&vm->mem, arch_region(VM_REGION_PVLOCK)->base);
	FUZZ_ASSERT(*ro_slot && (*ro_slot)->guest_readonly, "the PV-lock slot");
	return &vm->mem.slots[slot];
}

/* The bytes a harness's disks start with: not all zero, so that a write shows. */
static void fuzz_disk_pattern(uint8_t *disk, size_t size)
{
	for (size_t i = 0; i < size; i++)
		disk[i] = (uint8_t)(i * 7 + i / 512);
}

#endif

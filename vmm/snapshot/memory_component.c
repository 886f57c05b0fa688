/*
 * Guest memory as components (core/component.h): one MEMORY section per memory slot, written and read by the
 * snapshot module's sparse page format (snapshot_write_memory, snapshot_read_memory), and MEMORY_DELTA sections (or,
 * compressed, MEMORY_PACKED), pages that replace earlier ones, which a live migration or a diff snapshot writes
 * (vmm/migrate/) and a restore applies as they come. Their sections may stand anywhere after the VM's description, so a
 * migration stream sends memory first and the CPU state last. The PV-lock region's slot is left out: roam rewrites
 * every flag in it.
 */
#include "core/component.h"
#include "core/vm.h"
#include "snapshot.h"

#include <errno.h>

#define MEMORY_PAGE 4096u

static uint32_t memory_count(const struct vm *vm)
{
	return (uint32_t)vm->mem.nr_slots;
}

static bool memory_present(const struct vm *vm, uint32_t i)
{
	return !vm->mem.slots[i].guest_readonly;
}

static int memory_save(struct component_ctx *ctx, uint32_t i)
{
	const struct memory_slot *slot = &ctx->vm->mem.slots[i];
	const struct snapshot_data_map map = {memory_slot_data_range, slot};
	int64_t n = snapshot_write_memory(ctx->w, i, slot->gpa, slot->host, slot->size, MEMORY_PAGE, &map);
	if (n < 0)
		return (int)n;
	ctx->pages += (uint64_t)n;
	return 0;
}

static int memory_restore(struct component_ctx *ctx, uint32_t i, struct snapshot_section *sec)
{
	const struct memory_slot *slot = &ctx->vm->mem.slots[i];
	if (slot->gpa != sec->mem.gpa || slot->size != sec->mem.size)
		return snapshot_reader_fail(ctx->r, sec, -EINVAL,
					    "memory at %#llx (%llu MiB) does not match this VM's slot %u at %#llx "
					    "(%llu MiB)",
					    (unsigned long long)sec->mem.gpa, (unsigned long long)(sec->mem.size >> 20),
					    i, (unsigned long long)slot->gpa, (unsigned long long)(slot->size >> 20));
	int64_t n = snapshot_read_memory(ctx->r, sec, slot->host, slot->size);
	return n < 0 ? (int)n : 0;
}

const struct component memory_component = {
    .name = "memory",
    .section = SNAPSHOT_SEC_MEMORY,
    .version = SNAPSHOT_MEMORY_VERSION,
    .flags = COMPONENT_ANY_ORDER | COMPONENT_MEMORY,
    .count = memory_count,
    .present = memory_present,
    .save_raw = memory_save,
    .restore_raw = memory_restore,
};

/* Written by the migration code (vmm/migrate/) and diff snapshots, not by a snapshot walk: no save hook. */
const struct component memory_delta_component = {
    .name = "memory-delta",
    .section = SNAPSHOT_SEC_MEMORY_DELTA,
    .version = SNAPSHOT_MEMORY_VERSION,
    .flags = COMPONENT_ANY_ORDER | COMPONENT_REPEATABLE,
    .requires = SNAPSHOT_SEC_MEMORY,
    .count = memory_count,
    .present = memory_present,
    .restore_raw = memory_restore,
};

/* The same, compressed page by page (`roam ctl migrate --compress lz`). */
const struct component memory_packed_component = {
    .name = "memory-packed",
    .section = SNAPSHOT_SEC_MEMORY_PACKED,
    .version = SNAPSHOT_MEMORY_VERSION,
    .flags = COMPONENT_ANY_ORDER | COMPONENT_REPEATABLE,
    .requires = SNAPSHOT_SEC_MEMORY,
    .count = memory_count,
    .present = memory_present,
    .restore_raw = memory_restore,
};

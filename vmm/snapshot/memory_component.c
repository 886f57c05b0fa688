/*
 * Guest memory as components (core/component.h): one MEMORY section per memory slot, written and read by the
 * snapshot module's sparse page format (snapshot_write_memory, snapshot_read_memory), and MEMORY_DELTA sections (or,
 * compressed, MEMORY_PACKED), pages that replace earlier ones, which a live migration or a diff snapshot writes
 * (vmm/migrate/) and a restore applies as they come. Their sections may stand anywhere after the VM's description, so a
 * migration stream sends memory first and the CPU state last. The PV-lock region's slot is left out: roam rewrites
 * every flag in it.
 */
#include "core/component.h"
#include "core/log.h"
#include "core/vm.h"
#include "lazy_restore.h"
#include "snapshot.h"

#include <errno.h>
#include <stdlib.h>

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
	return snapshot_write_memory_sums(ctx->w, i); /* a restore may then load it lazily */
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
	struct lazy_restore *lz = ctx->vm->lazy;
	if (lz && sec->id == SNAPSHOT_SEC_MEMORY)
		return lazy_restore_add_memory(lz, ctx->r, sec, i, slot->host);
	/* A delta over memory still to load: load it first, so the delta lands on top. */
	if (lz && lazy_restore_pending(lz, i) && lazy_restore_load_slot(lz, i) < 0)
		return -EIO;
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

/*
 * A section of pages written on top of a slot's MEMORY: any order, repeatable, restored by the same code. Written by
 * the migration code (vmm/migrate/) and diff snapshots, not by a snapshot walk: no save hook.
 */
#define MEMORY_UPDATE_COMPONENT(component_name, section_id)                                                            \
	{                                                                                                              \
		.name = component_name, .section = section_id, .version = SNAPSHOT_MEMORY_VERSION,                     \
		.flags = COMPONENT_ANY_ORDER | COMPONENT_REPEATABLE, .requires = SNAPSHOT_SEC_MEMORY,                  \
		.count = memory_count, .present = memory_present, .restore_raw = memory_restore,                       \
	}

const struct component memory_delta_component = MEMORY_UPDATE_COMPONENT("memory-delta", SNAPSHOT_SEC_MEMORY_DELTA);

/* The same, compressed page by page (`roam ctl migrate --compress lz`). */
const struct component memory_packed_component = MEMORY_UPDATE_COMPONENT("memory-packed", SNAPSHOT_SEC_MEMORY_PACKED);

/*
 * A MEMORY section's chunk checksums (snapshot_write_memory_sums): a lazy restore checks each chunk as it loads it;
 * an eager one has the memory section's own checksum and only decodes them.
 */
static int sums_restore(struct component_ctx *ctx, uint32_t i, uint32_t version, struct snap_reader *p)
{
	(void)version;
	uint32_t chunk = snap_get_u32(p, "chunk size"), head = snap_get_u32(p, "header checksum");
	uint64_t n = snap_get_u64(p, "chunks");
	if (p->err || n > (p->len - p->pos) / 4)
		return 0; /* the caller reports the payload as bad */
	uint32_t *crc = malloc((n ? n : 1) * sizeof(*crc));
	if (!crc)
		return log_errno(-ENOMEM, "section \"%s\": out of memory", ctx->sec->name);
	for (uint64_t k = 0; k < n; k++)
		crc[k] = snap_get_u32(p, "chunk checksum");
	struct lazy_restore *lz = ctx->vm->lazy;
	int ret =
	    lz && lazy_restore_pending(lz, i) ? lazy_restore_add_sums(lz, i, ctx->sec->name, chunk, head, n, crc) : 0;
	free(crc);
	return ret;
}

/*
 * Before the devices resume (the component stands before them in the table): the lazy load starts, so that from
 * now on anything that touches guest memory finds it, or waits for its chunk.
 */
static int sums_restore_finish(struct vm *vm)
{
	return vm->lazy ? lazy_restore_start(vm->lazy) : 0;
}

/* Written by memory_save right after each MEMORY section, not by the walk: no save hook. */
const struct component memory_sums_component = {
    .name = "memory-sums",
    .section = SNAPSHOT_SEC_MEMORY_SUMS,
    .version = SNAPSHOT_SUMS_VERSION,
    .flags = COMPONENT_OPTIONAL | COMPONENT_ANY_ORDER,
    .requires = SNAPSHOT_SEC_MEMORY,
    .count = memory_count,
    .present = memory_present,
    .restore = sums_restore,
    .restore_finish = sums_restore_finish,
};

/*
 * The PV lock's component (core/component.h): its section records where the region is and for how many vCPUs, so
 * that a restore refuses a VM whose region differs. The flags themselves are not saved: roam rewrites every one.
 */
#include "core/component.h"
#include "core/vm.h"
#include "pvlock.h"
#include "snapshot/snapshot.h"

#include <errno.h>

#define PVLOCK_SECTION_VERSION 1

static uint32_t pvlock_count(const struct vm *vm)
{
	return vm->pvlock ? 1 : 0;
}

static int pvlock_save(struct component_ctx *ctx, uint32_t instance, struct snap_writer *p)
{
	(void)instance;
	const struct pvlock *pv = ctx->vm->pvlock;
	snap_put_u64(p, pv->gpa);
	snap_put_u64(p, pv->size);
	snap_put_u32(p, (uint32_t)pv->nr_vcpus);
	return 0;
}

static int pvlock_restore(struct component_ctx *ctx, uint32_t instance, uint32_t version, struct snap_reader *p)
{
	(void)instance;
	(void)version;
	const struct pvlock *pv = ctx->vm->pvlock;
	uint64_t base = snap_get_u64(p, "PV-lock base"), size = snap_get_u64(p, "PV-lock size");
	uint32_t nr = snap_get_u32(p, "PV-lock vCPUs");
	if (p->err)
		return 0; /* the section's end names the field */
	if (base != pv->gpa || size != pv->size || nr != (uint32_t)pv->nr_vcpus)
		return snapshot_reader_fail(ctx->r, ctx->sec, -EINVAL,
					    "the PV-lock region (%#llx, %llu KiB, %u vCPUs) does not match this VM's "
					    "(%#llx, %llu KiB, %d vCPUs)",
					    (unsigned long long)base, (unsigned long long)(size >> 10), nr,
					    (unsigned long long)pv->gpa, (unsigned long long)(pv->size >> 10),
					    pv->nr_vcpus);
	return 0;
}

const struct component pvlock_component = {
    .name = "pvlock",
    .section = SNAPSHOT_SEC_PVLOCK,
    .version = PVLOCK_SECTION_VERSION,
    .count = pvlock_count,
    .save = pvlock_save,
    .restore = pvlock_restore,
};

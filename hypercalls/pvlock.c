/* The paravirtual-lock hypercalls: see pvlock.h. */
#include "pvlock.h"

uint64_t pvlock_region_size(int nr_vcpus)
{
	uint64_t bytes = (uint64_t)nr_vcpus * PVLOCK_STRUCT_SIZE;
	return (bytes + PVLOCK_REGION_ALIGN - 1) / PVLOCK_REGION_ALIGN * PVLOCK_REGION_ALIGN;
}

static int pvlock_features(struct hypercall_ctx *ctx, void *service)
{
	const struct pvlock_service *s = service;
	uint64_t fid;
	int ret = ctx->read_arg(ctx->opaque, 1, &fid);
	if (ret)
		return ret;
	bool known = fid == s->fid_features || fid == s->fid_preempted;
	hypercall_return_status(ctx, known ? 0 : HYPERCALL_NOT_SUPPORTED);
	return 0;
}

static int pvlock_preempted(struct hypercall_ctx *ctx, void *service)
{
	const struct pvlock_service *s = service;
	if (ctx->vcpu_id < 0 || ctx->vcpu_id >= s->nr_vcpus) {
		hypercall_return4(ctx, ctx->invalid_parameter, 0, 0, 0);
		return 0;
	}
	hypercall_return4(ctx, 0, s->region_gpa + (uint64_t)ctx->vcpu_id * PVLOCK_STRUCT_SIZE, 0, 0);
	return 0;
}

int pvlock_register(struct hypercall_table *t, struct pvlock_service *s)
{
	int ret = hypercall_register(t, s->fid_features, "PV_LOCK_FEATURES", pvlock_features, s);
	return ret ? ret : hypercall_register(t, s->fid_preempted, "PV_LOCK_PREEMPTED", pvlock_preempted, s);
}

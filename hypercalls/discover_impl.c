/* Target-implementation discovery: see discover_impl.h. */
#include "discover_impl.h"

static int discover_impl_ver(struct hypercall_ctx *ctx, void *service)
{
	const struct discover_impl_service *s = service;
	hypercall_return4(ctx, 0, DISCOVER_IMPL_VERSION, (uint64_t)s->nr, 0);
	return 0;
}

static int discover_impl_cpus(struct hypercall_ctx *ctx, void *service)
{
	const struct discover_impl_service *s = service;
	uint64_t index, reserved1, reserved2;
	int ret = ctx->read_arg(ctx->opaque, 1, &index);
	if (!ret)
		ret = ctx->read_arg(ctx->opaque, 2, &reserved1);
	if (!ret)
		ret = ctx->read_arg(ctx->opaque, 3, &reserved2);
	if (ret)
		return ret;
	if (index >= (uint64_t)s->nr || reserved1 || reserved2) {
		hypercall_return4(ctx, ctx->invalid_parameter, 0, 0, 0);
		return 0;
	}
	hypercall_return4(ctx, 0, s->impl[index].id[0], s->impl[index].id[1], s->impl[index].id[2]);
	return 0;
}

int discover_impl_register(struct hypercall_table *t, struct discover_impl_service *s, uint64_t fid_ver,
			   uint64_t fid_cpus)
{
	int ret = hypercall_register(t, fid_ver, "DISCOVER_IMPL_VER", discover_impl_ver, s);
	return ret ? ret : hypercall_register(t, fid_cpus, "DISCOVER_IMPL_CPUS", discover_impl_cpus, s);
}

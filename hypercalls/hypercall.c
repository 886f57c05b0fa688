/* The hypercall dispatcher: see hypercall.h. A linear table: a VM has a handful of handlers. */
#include "hypercall.h"

#include "core/log.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

void hypercall_table_init(struct hypercall_table *t)
{
	memset(t, 0, sizeof(*t));
}

int hypercall_register(struct hypercall_table *t, uint64_t fid, const char *name, hypercall_fn fn, void *service)
{
	const struct hypercall_handler *old = hypercall_find(t, fid);
	if (old)
		return log_errno(-EEXIST, "hypercall %#" PRIx64 " (%s) is already handled by %s", fid, name, old->name);
	if (t->nr == HYPERCALL_MAX_HANDLERS)
		return log_errno(-ENOSPC, "hypercall %s: more than %d handlers", name, HYPERCALL_MAX_HANDLERS);
	t->handlers[t->nr++] = (struct hypercall_handler){fid, name, fn, service};
	return 0;
}

const struct hypercall_handler *hypercall_find(const struct hypercall_table *t, uint64_t fid)
{
	for (int i = 0; i < t->nr; i++)
		if (t->handlers[i].fid == fid)
			return &t->handlers[i];
	return NULL;
}

void hypercall_return_status(struct hypercall_ctx *ctx, int64_t status)
{
	ctx->ret[0] = (uint64_t)status;
	ctx->nr_ret = 1;
}

void hypercall_return4(struct hypercall_ctx *ctx, int64_t status, uint64_t r1, uint64_t r2, uint64_t r3)
{
	ctx->ret[0] = (uint64_t)status;
	ctx->ret[1] = r1;
	ctx->ret[2] = r2;
	ctx->ret[3] = r3;
	ctx->nr_ret = 4;
}

static void hypercall_trace(const struct hypercall_ctx *ctx, const char *name)
{
	uint64_t a[3] = {0, 0, 0};
	for (int i = 0; i < 3; i++)
		ctx->read_arg(ctx->opaque, i + 1, &a[i]);
	char results[96] = "";
	int len = 0;
	for (int i = 1; i < ctx->nr_ret; i++)
		len += snprintf(results + len, sizeof(results) - (size_t)len, ", %#" PRIx64, ctx->ret[i]);
	log_info("vCPU%d: hypercall %s (%#" PRIx64 ") args %#" PRIx64 " %#" PRIx64 " %#" PRIx64 " -> %" PRId64 "%s",
		 ctx->vcpu_id, name, ctx->fid, a[0], a[1], a[2], (int64_t)ctx->ret[0], results);
}

int hypercall_dispatch(const struct hypercall_table *t, struct hypercall_ctx *ctx)
{
	const struct hypercall_handler *h = hypercall_find(t, ctx->fid);
	int ret = 0;
	if (h)
		ret = h->fn(ctx, h->service);
	else
		hypercall_return4(ctx, HYPERCALL_NOT_SUPPORTED, 0, 0, 0);
	if (ret == 0 && t->trace)
		hypercall_trace(ctx, h ? h->name : "unknown");
	return ret;
}

/* The vCPUs' component: see vcpu_component.h. */
#include "vcpu_component.h"

#include "log.h"
#include "snapshot/snapshot.h"
#include "vcpu.h"
#include "vm.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define REPORT_LEN 8192

/* What a restore collects from the first vCPU section to the last. */
struct vcpu_restore {
	void **states; /* one per vCPU of the VM, NULL until its section is read */
	char report[REPORT_LEN];
	int problems;
};

uint32_t vcpu_component_count(const struct vm *vm)
{
	return (uint32_t)vm->nr_vcpus;
}

int vcpu_component_save(struct component_ctx *ctx, uint32_t instance, struct snap_writer *p)
{
	const struct vcpu_state_ops *ops = ctx->self->data;
	return ops->save(&ctx->vm->vcpus[instance], p);
}

int vcpu_component_restore(struct component_ctx *ctx, uint32_t instance, uint32_t version, struct snap_reader *p)
{
	const struct vcpu_state_ops *ops = ctx->self->data;
	struct vcpu_restore *vr = ctx->scratch;
	/* Register lists change between versions: only the current layout is read. */
	if (version != ctx->self->version)
		return log_errno(-EBADMSG, "vCPU state version %u is not %u, the one this roam reads", version,
				 ctx->self->version);
	if (!vr) {
		vr = calloc(1, sizeof(*vr));
		if (vr)
			vr->states = calloc((size_t)ctx->vm->nr_vcpus, sizeof(*vr->states));
		if (!vr || !vr->states) {
			free(vr);
			return log_errno(-ENOMEM, "restore: out of memory");
		}
		ctx->scratch = vr;
	}
	int ret = ops->load(p, version, &vr->states[instance]);
	if (!ret)
		vr->problems += ops->check(&ctx->vm->vcpus[instance], vr->states[instance], vr->report, REPORT_LEN);
	return ret;
}

int vcpu_component_restore_end(struct component_ctx *ctx, bool ok)
{
	const struct vcpu_state_ops *ops = ctx->self->data;
	struct vcpu_restore *vr = ctx->scratch;
	int ret = 0;
	if (!vr)
		return 0;
	if (ok && vr->problems) {
		size_t len = strlen(vr->report);
		if (len && vr->report[len - 1] == '\n')
			vr->report[len - 1] = '\0'; /* log_error ends the line */
		log_error("%s: this host cannot take the saved vCPU state (%d problem%s):\n%s", ctx->r->name,
			  vr->problems, vr->problems == 1 ? "" : "s", vr->report);
		ret = -EINVAL;
	}
	for (int i = 0; ok && !ret && i < ctx->vm->nr_vcpus; i++)
		ret = ops->apply(&ctx->vm->vcpus[i], vr->states[i]);
	for (int i = 0; i < ctx->vm->nr_vcpus; i++)
		if (vr->states[i])
			ops->free(vr->states[i]);
	free(vr->states);
	free(vr);
	ctx->scratch = NULL;
	return ret;
}

int vcpu_component_check(struct component_ctx *ctx, uint32_t instance, uint32_t version, struct snap_reader *p,
			 char *report, size_t size)
{
	const struct vcpu_state_ops *ops = ctx->self->data;
	void *state = NULL;
	if (version != ctx->self->version) {
		component_report_add(report, size, "vCPU state version %u is not %u, the one this roam reads", version,
				     ctx->self->version);
		return 1;
	}
	if (ops->load(p, version, &state) < 0) {
		component_report_add(report, size, "vCPU state: cannot be decoded");
		return 1;
	}
	int problems = ops->check(&ctx->vm->vcpus[instance], state, report, size);
	ops->free(state);
	return problems;
}

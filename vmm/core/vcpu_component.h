/*
 * The vCPUs as a component (core/component.h), shared by the architectures: one VCPU section per vCPU. A restore
 * decodes every vCPU's section and checks it against this host first, collecting every problem into one report,
 * and applies the states only when all of them fit, so nothing half-restored runs. The architecture supplies the
 * register work through struct vcpu_state_ops, as the component's `data`.
 */
#ifndef ROAM_VCPU_COMPONENT_H
#define ROAM_VCPU_COMPONENT_H

#include "component.h"

#include <stddef.h>
#include <stdint.h>

struct vcpu;

struct vcpu_state_ops {
	/* Writes one vCPU's registers and state. Returns 0 or -errno after one message. */
	int (*save)(struct vcpu *vcpu, struct snap_writer *w);
	/* Decodes a saved vCPU of payload `version` into a new opaque state; -EBADMSG with a message if bad. */
	int (*load)(struct snap_reader *r, uint32_t version, void **state);
	/* Appends one line per reason `state` cannot be restored into `vcpu` to report; returns how many. */
	int (*check)(struct vcpu *vcpu, void *state, char *report, size_t size);
	/* Writes the state into the never-run vCPU (after the counter was restored). */
	int (*apply)(struct vcpu *vcpu, void *state);
	void (*free)(void *state);
};

/* The hooks of a vCPU component: use them with .data = &the architecture's struct vcpu_state_ops. */
uint32_t vcpu_component_count(const struct vm *vm);
int vcpu_component_save(struct component_ctx *ctx, uint32_t instance, struct snap_writer *p);
int vcpu_component_restore(struct component_ctx *ctx, uint32_t instance, uint32_t version, struct snap_reader *p);
int vcpu_component_restore_end(struct component_ctx *ctx, bool ok);
int vcpu_component_check(struct component_ctx *ctx, uint32_t instance, uint32_t version, struct snap_reader *p,
			 char *report, size_t size);

/* An architecture's vCPU component: payload `version`, its `ops` and its restore_finish hook (or NULL). */
#define VCPU_COMPONENT(version_, ops_, finish_)                                                                        \
	{                                                                                                              \
		.name = "vcpu", .section = SNAPSHOT_SEC_VCPU, .version = (version_), .count = vcpu_component_count,    \
		.save = vcpu_component_save, .restore = vcpu_component_restore,                                        \
		.restore_end = vcpu_component_restore_end, .check = vcpu_component_check, .restore_finish = (finish_), \
		.data = (ops_),                                                                                        \
	}

#endif

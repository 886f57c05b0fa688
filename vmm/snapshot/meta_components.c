/*
 * The components that describe the VM (core/component.h): HOST (where the snapshot was taken), VM (memory, vCPUs,
 * PV lock, devices and their backing) and TARGETS (the migration targets and the whole targets config). They lead
 * the snapshot, and a restore reads them before it creates the VM (the CONFIG stage), into ctx->config.
 */
#include "core/component.h"

#include "arch.h"
#include "core/device_options.h"
#include "core/log.h"
#include "core/vm.h"
#include "devices/device.h"
#include "snapshot.h"
#include "snapshot_meta.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TARGETS_TEXT_MAX (1u << 20)

static int host_save(struct component_ctx *ctx, uint32_t instance, struct snap_writer *p)
{
	(void)ctx;
	(void)instance;
	struct snapshot_host_info *host = calloc(1, sizeof(*host));
	if (!host)
		return -ENOMEM;
	snapshot_host_collect(host);
	uint64_t id[2];
	arch_host_identity(id);
	host->midr = id[0];
	host->revidr = id[1];
	snapshot_host_encode(p, host);
	free(host);
	return 0;
}

static int host_restore(struct component_ctx *ctx, uint32_t instance, uint32_t version, struct snap_reader *p)
{
	(void)instance;
	(void)version;
	snapshot_host_decode(p, ctx->config->host);
	return 0;
}

/* Written without the mandatory flag, as always: it only describes where the snapshot comes from. */
const struct component host_component = {
    .name = "host",
    .section = SNAPSHOT_SEC_HOST,
    .version = SNAPSHOT_HOST_VERSION,
    .flags = COMPONENT_CONFIG | COMPONENT_OPTIONAL,
    .save = host_save,
    .restore = host_restore,
};

static int vm_save(struct component_ctx *ctx, uint32_t instance, struct snap_writer *p)
{
	(void)instance;
	struct vm *vm = ctx->vm;
	struct snapshot_vm_info *info = calloc(1, sizeof(*info));
	if (!info)
		return -ENOMEM;
	info->ram_size = vm->cfg.ram_size;
	info->nr_vcpus = (uint32_t)vm->nr_vcpus;
	info->flags = (vm->pvlock ? SNAPSHOT_VM_PVLOCK : 0) | (arch_targets_text(vm) ? SNAPSHOT_VM_TARGETS : 0) |
		      (vm->chain.writing_diff ? SNAPSHOT_VM_DIFF : 0);
	snprintf(info->kernel, sizeof(info->kernel), "%s", vm->cfg.kernel_path ? vm->cfg.kernel_path : "(restored)");
	snprintf(info->cmdline, sizeof(info->cmdline), "%s", vm->cfg.cmdline ? vm->cfg.cmdline : "");
	snapshot_vm_encode(p, info);
	snapshot_vm_devices_encode(p, &vm->cfg);
	free(info);
	return 0;
}

/*
 * The devices recorded in the VM section (version 2 on): taken when the command line names none (Firecracker-style:
 * the snapshot knows its drives), else the command line's devices apply and the device sections must match them.
 * The record comes from a file: every option is checked as if it had been given on the command line.
 */
static int restore_devices_config(struct component_ctx *ctx, struct snap_reader *p, uint32_t version)
{
	struct vm_config *cfg = ctx->config->cfg;
	struct vm_config *saved = calloc(1, sizeof(*saved));
	if (!saved)
		return log_errno(-ENOMEM, "restore: out of memory");
	snapshot_vm_devices_decode(p, saved, version);
	char err[320];
	int ret = 0;
	if (p->err) {
		ret = 0; /* the section's end names the field */
	} else if (!device_options_check(saved, device_registry(), err, sizeof(err))) {
		ret = snapshot_reader_fail(ctx->r, ctx->sec, -EINVAL, "the recorded devices: %s", err);
	} else if (!cfg->nr_device_options && saved->nr_device_options) {
		memcpy(cfg->device_options, saved->device_options, sizeof(cfg->device_options));
		cfg->nr_device_options = saved->nr_device_options;
		char line[1024];
		device_options_format(cfg, line, sizeof(line));
		log_info("restore: the snapshot's devices:%s", line);
	}
	free(saved);
	return ret;
}

static int vm_restore(struct component_ctx *ctx, uint32_t instance, uint32_t version, struct snap_reader *p)
{
	(void)instance;
	struct snapshot_vm_info *info = calloc(1, sizeof(*info));
	if (!info)
		return -ENOMEM;
	snapshot_vm_decode(p, info);
	ctx->config->ram_size = info->ram_size;
	ctx->config->nr_vcpus = info->nr_vcpus;
	ctx->config->vm_flags = info->flags;
	free(info);
	return version >= 2 ? restore_devices_config(ctx, p, version) : 0;
}

const struct component vm_component = {
    .name = "vm",
    .section = SNAPSHOT_SEC_VM,
    .version = SNAPSHOT_VM_VERSION,
    .flags = COMPONENT_CONFIG,
    .save = vm_save,
    .restore = vm_restore,
};

static uint32_t targets_count(const struct vm *vm)
{
	return arch_targets_text((struct vm *)vm) ? 1 : 0;
}

static int targets_save(struct component_ctx *ctx, uint32_t instance, struct snap_writer *p)
{
	(void)instance;
	/* The summary for snapshot-info, then the whole config the destination applies. */
	struct snapshot_targets_info *ti = calloc(1, sizeof(*ti));
	if (!ti)
		return -ENOMEM;
	const char *text = arch_targets_text(ctx->vm);
	arch_targets_summary(ctx->vm, ti);
	snapshot_targets_encode(p, ti);
	snap_put_blob(p, text, (uint32_t)strlen(text));
	free(ti);
	return 0;
}

static int targets_restore(struct component_ctx *ctx, uint32_t instance, uint32_t version, struct snap_reader *p)
{
	(void)instance;
	(void)version;
	struct snapshot_targets_info *ti = calloc(1, sizeof(*ti));
	if (!ti)
		return -ENOMEM;
	snapshot_targets_decode(p, ti);
	free(ti);
	uint32_t len = snap_get_u32(p, "targets config length");
	if (p->err)
		return 0; /* the section's end names the field */
	char *text = len < TARGETS_TEXT_MAX ? calloc(1, (size_t)len + 1) : NULL;
	if (!text)
		return snapshot_reader_fail(ctx->r, ctx->sec, -EBADMSG, "bad targets config length %u", len);
	snap_get_bytes(p, text, len, "targets config");
	free(ctx->config->targets_json);
	ctx->config->targets_json = text;
	return 0;
}

const struct component targets_component = {
    .name = "targets",
    .section = SNAPSHOT_SEC_TARGETS,
    .version = 1,
    .flags = COMPONENT_CONFIG,
    .count = targets_count,
    .save = targets_save,
    .restore = targets_restore,
};

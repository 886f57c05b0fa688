/* Loading a VM's targets and checking this host against them: see targets_vm.h. */
#include "targets_vm.h"

#include "core/file_util.h"
#include "core/log.h"
#include "core/vm.h"
#include "report.h"
#include "targets.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *targets_vm_label(const struct vm *vm)
{
	return vm->cfg.targets_path ? vm->cfg.targets_path : "the snapshot's targets";
}

int targets_vm_load(struct vm *vm, const struct targets_arch_ops *ops)
{
	char err[512];
	if (!vm->cfg.targets_path && !vm->cfg.targets_json)
		return 0;
	vm->targets.config = calloc(1, ops->targets_size);
	if (!vm->targets.config)
		return -ENOMEM;
	/* Keep the config's text: a snapshot carries it, so the destination applies exactly the same config. */
	char *text = NULL;
	size_t len = 0;
	if (vm->cfg.targets_json) {
		text = strdup(vm->cfg.targets_json);
		len = text ? strlen(text) : 0;
	} else {
		int ret = read_file_all(vm->cfg.targets_path, TARGETS_JSON_MAX_FILE, &text, &len);
		if (ret)
			return log_errno(ret, "targets %s: %s", vm->cfg.targets_path, strerror(-ret));
	}
	if (!text)
		return -ENOMEM;
	vm->targets.text = text;
	int ret = ops->targets_from_json(text, len, targets_vm_label(vm), vm->targets.config, err, sizeof(err));
	if (ret)
		return log_errno(ret, "%s", err);

	struct targets_impl impls[TARGETS_MAX_IMPLS];
	struct discover_impl_service *d = &vm->services.discover;
	int nr = ops->targets_impls(vm->targets.config, impls);
	d->nr = nr < DISCOVER_IMPL_MAX ? nr : DISCOVER_IMPL_MAX;
	for (int i = 0; i < d->nr; i++)
		memcpy(d->impl[i].id, impls[i].id, sizeof(d->impl[i].id));
	return 0;
}

int targets_vm_check_host(const struct vm *vm, const struct targets_arch_ops *ops, const void *host)
{
	struct targets_report *r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	struct targets_impl impls[TARGETS_MAX_IMPLS];
	uint64_t id[TARGETS_MAX_IDS] = {0};
	char list[512];
	const char *label = targets_vm_label(vm), *who = ops->id.regs[0].name;
	int ret = 0;
	ops->check(vm->targets.config, host, r);
	ops->profile_ids(host, id);
	targets_impl_list(ops, impls, ops->targets_impls(vm->targets.config, impls), list, sizeof(list));
	/* One list: every reason this host cannot take the guest, not the first one alone. */
	bool missing = targets_report_has(r, "host-not-in-targets", false);
	bool other = targets_report_has(r, "host-not-in-targets", true);
	if (missing && !other && !vm->cfg.force_host)
		ret = log_errno(-EINVAL,
				"host %s %#" PRIx64 " is not in the targets of %s (%s); use --force-host to try anyway",
				who, id[0], label, list);
	else if (missing && !other)
		log_info("warning: host %s %#" PRIx64
			 " is not in the targets of %s (%s); starting anyway (--force-host)",
			 who, id[0], label, list);
	else if (other)
		ret =
		    log_errno(-EINVAL, "this host cannot present the CPU of %s: %d problem%s%s; the check says:", label,
			      r->nr_errors, r->nr_errors > 1 ? "s" : "",
			      missing && vm->cfg.force_host ? " (--force-host covers only host-not-in-targets)" : "");
	if (other) {
		char *text = targets_report_text(r, label);
		fputs(text ? text : "(no memory for the report)\n", stderr);
		free(text);
	}
	free(r);
	return ret;
}

void targets_vm_release(struct vm *vm)
{
	free(vm->targets.config);
	free(vm->targets.text);
	vm->targets.config = NULL;
	vm->targets.text = NULL;
}

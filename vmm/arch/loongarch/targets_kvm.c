/* The guest's CPUCFG words and `roam run --targets` on LoongArch: see targets_kvm.h. */
#include "targets_kvm.h"

#include "core/file_util.h"
#include "core/log.h"
#include "core/vcpu.h"
#include "core/vm.h"
#include "csr.h"
#include "hcall.h"
#include "loongarch.h"
#include "profile_kvm.h"
#include "targets_json.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int loongarch_targets_prepare(struct vm *vm)
{
	char err[512];
	if (!vm->cfg.targets_path && !vm->cfg.targets_json)
		return 0;
	struct loongarch_targets *t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	vm->arch->targets = t;
	/* Keep the config's text: a snapshot carries it, so the destination applies exactly the same config. */
	const char *origin = vm->cfg.targets_json ? "the snapshot's targets" : vm->cfg.targets_path;
	char *text = NULL;
	size_t len = 0;
	if (vm->cfg.targets_json) {
		text = strdup(vm->cfg.targets_json);
		len = text ? strlen(text) : 0;
	} else {
		int ret = read_file_all(vm->cfg.targets_path, LOONGARCH_JSON_MAX_FILE, &text, &len);
		if (ret)
			return log_errno(ret, "targets %s: %s", vm->cfg.targets_path, strerror(-ret));
	}
	if (!text)
		return -ENOMEM;
	vm->arch->targets_text = text;
	int ret = loongarch_targets_from_json(text, len, origin, t, err, sizeof(err));
	if (ret)
		return log_errno(ret, "%s", err);
	struct discover_impl_service *d = &vm->arch->discover;
	d->nr = t->nr_impls < DISCOVER_IMPL_MAX ? t->nr_impls : DISCOVER_IMPL_MAX;
	for (int i = 0; i < d->nr; i++)
		d->impl[i].id[0] = t->impls[i].prid; /* LoongArch: PRID, 0, 0 */
	return discover_impl_register(&vm->hypercalls, d, LOONGARCH_ROAM_DISCOVER_IMPL_VER,
				      LOONGARCH_ROAM_DISCOVER_IMPL_CPUS);
}

void loongarch_targets_release(struct vm *vm)
{
	free(vm->arch->targets);
	vm->arch->targets = NULL;
	free(vm->arch->targets_text);
	vm->arch->targets_text = NULL;
}

/* "a (PRID 0x14c010), b (PRID 0x14d000)" for messages. */
static void targets_list(const struct loongarch_targets *t, char *buf, size_t len)
{
	size_t used = 0;
	buf[0] = '\0';
	for (int i = 0; i < t->nr_impls && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s (PRID %#x)", i ? ", " : "", t->impls[i].name,
					 t->impls[i].prid);
}

/* How messages name the targets: the file, or the snapshot that carried them. */
static const char *targets_label(const struct vm *vm)
{
	return vm->cfg.targets_path ? vm->cfg.targets_path : "the snapshot's targets";
}

static int targets_check_host(struct vm *vm, const struct loongarch_cpu_profile *host)
{
	const struct loongarch_targets *t = vm->arch->targets;
	struct loongarch_check_report *r = calloc(1, sizeof(*r));
	char list[512];
	int ret = 0;
	if (!r)
		return -ENOMEM;
	loongarch_targets_check(t, host, r);
	targets_list(t, list, sizeof(list));
	if (loongarch_check_has(r, false) && !vm->cfg.force_host)
		ret =
		    log_errno(-EINVAL, "host PRID %#x is not in the targets of %s (%s); use --force-host to try anyway",
			      host->cpucfg[0], targets_label(vm), list);
	else if (loongarch_check_has(r, false))
		log_info("warning: host PRID %#x is not in the targets of %s (%s); starting anyway (--force-host)",
			 host->cpucfg[0], targets_label(vm), list);
	if (loongarch_check_has(r, true)) {
		if (!ret)
			ret = log_errno(-EINVAL,
					"this host cannot present the CPU of %s; the check says:", targets_label(vm));
		char *text = loongarch_check_report_text(r, targets_label(vm));
		fputs(text ? text : "(no memory for the report)\n", stderr);
		free(text);
	}
	free(r);
	return ret;
}

int loongarch_guest_words_prepare(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;
	struct loongarch_cpu_profile *host = calloc(1, sizeof(*host));
	const char *why;
	if (!host)
		return -ENOMEM;
	int ret = loongarch_profile_read(vm->vm_fd, vcpu->fd, vcpu->name, host);
	if (!ret) {
		snprintf(host->name, sizeof(host->name), "this host");
		host->user_hcall = true; /* checked for real when the vCPUs' PV features are set */
		if (vm->arch->targets) {
			ret = targets_check_host(vm, host);
			if (!ret)
				memcpy(vm->arch->cpucfg, vm->arch->targets->cpucfg, sizeof(vm->arch->cpucfg));
		} else if (loongarch_guest_cpucfg(host, vm->arch->cpucfg, &why) < 0) {
			ret = log_errno(-EINVAL, "%s", why);
		}
	}
	if (!ret)
		vm->arch->guest_words_ready = true;
	free(host);
	return ret;
}

int loongarch_cpucfg_apply(struct vcpu *vcpu)
{
	const uint32_t *words = vcpu->vm->arch->cpucfg;
	for (uint32_t i = 0; i < LOONGARCH_NR_CPUCFG; i++) {
		char what[16];
		uint64_t back = 0;
		snprintf(what, sizeof(what), "CPUCFG%u", i);
		int ret = loongarch_set_one(vcpu, loongarch_cpucfg_reg_id(i), words[i], what);
		if (!ret)
			ret = loongarch_get_one(vcpu, loongarch_cpucfg_reg_id(i), &back, what);
		if (ret)
			return ret;
		if ((uint32_t)back != words[i])
			return log_errno(-EIO, "%s %s: wrote %#x, KVM reads back %#x", vcpu->name, what, words[i],
					 (uint32_t)back);
	}
	return 0;
}

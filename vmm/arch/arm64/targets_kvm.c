/* Applying a targets config to a VM on KVM: see targets_kvm.h. */
#include "targets_kvm.h"

#include "arm64.h"
#include "core/file_util.h"
#include "core/log.h"
#include "core/sys_ioctl.h"
#include "core/vcpu.h"
#include "core/vm.h"
#include "idregs.h"
#include "profile_kvm.h"
#include "smccc.h"
#include "targets.h"
#include "targets_json.h"

#include <errno.h>
#include <inttypes.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "a72 (0x410fd083), n1 (0x414fd0c1)": the targets for messages. */
static void targets_list(const struct arm64_targets *t, char *buf, size_t len)
{
	size_t used = 0;
	buf[0] = '\0';
	for (int i = 0; i < t->nr_impls && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s (MIDR %#" PRIx64 ")", i ? ", " : "",
					 t->impls[i].name, t->impls[i].midr);
}

static bool report_has(const struct arm64_check_report *r, bool host_missing)
{
	for (int i = 0; i < r->nr_findings; i++)
		if (r->findings[i].severity == ARM64_FINDING_ERROR &&
		    !strcmp(r->findings[i].code, "host-not-in-targets") == host_missing)
			return true;
	return !host_missing && r->nr_dropped > 0;
}

/* Checks this host against the targets; returns 0 when it may run the guest. */
static int targets_check_host(struct vm *vm, const struct arm64_targets *t)
{
	struct arm64_cpu_profile *host = calloc(1, sizeof(*host));
	struct arm64_check_report *report = calloc(1, sizeof(*report));
	int ret = host && report ? arm64_profile_capture(vm->cfg.kvm_path, NULL, host) : -ENOMEM;
	if (ret == 0) {
		arm64_targets_check(t, host, report);
		bool missing = report_has(report, true), other = report_has(report, false);
		char list[512];
		targets_list(t, list, sizeof(list));
		if (missing && !vm->cfg.force_host)
			ret = log_errno(-EINVAL,
					"host MIDR %#" PRIx64 " is not in the targets of %s (%s); use --force-host to "
					"try anyway",
					host->midr, vm->cfg.targets_path, list);
		else if (missing)
			log_info("warning: host MIDR %#" PRIx64 " is not in the targets of %s (%s); starting anyway "
				 "(--force-host)",
				 host->midr, vm->cfg.targets_path, list);
		if (other) {
			if (ret == 0)
				ret = log_errno(-EINVAL, "this host cannot present the CPU of %s; the check says:",
						vm->cfg.targets_path);
			char *text = arm64_check_report_text(report, vm->cfg.targets_path);
			fputs(text ? text : "(no memory for the report)\n", stderr);
			free(text);
		}
	}
	free(host);
	free(report);
	return ret;
}

int arm64_targets_prepare(struct vm *vm)
{
	char err[512];
	if (!vm->cfg.targets_path && !vm->cfg.targets_json)
		return 0;
	struct arm64_targets *t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	vm->arch->targets = t;
	/* Keep the config's text: a snapshot carries it, so the destination applies exactly the same config. */
	const char *origin = vm->cfg.targets_json ? "the snapshot's targets" : vm->cfg.targets_path;
	char *text = NULL;
	size_t len = 0;
	int ret = 0;
	if (vm->cfg.targets_json) {
		text = strdup(vm->cfg.targets_json);
		len = text ? strlen(text) : 0;
	} else {
		ret = read_file_all(vm->cfg.targets_path, ARM64_JSON_MAX_FILE, &text, &len);
		if (ret)
			return log_errno(ret, "targets %s: %s", vm->cfg.targets_path, strerror(-ret));
	}
	if (!text)
		return -ENOMEM;
	vm->arch->targets_text = text;
	ret = arm64_targets_from_json(text, len, origin, t, err, sizeof(err));
	if (ret)
		return log_errno(ret, "%s", err);
	ret = targets_check_host(vm, t);
	if (ret)
		return ret;

	/* MIDR, REVIDR and AIDR are writable only with this capability, enabled before any vCPU exists. */
	struct kvm_enable_cap cap = {.cap = KVM_CAP_ARM_WRITABLE_IMP_ID_REGS};
	if (__SYS_IOCTL_VALUE(vm->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_ARM_WRITABLE_IMP_ID_REGS) > 0) {
		long r = SYS_IOCTL(vm->vm_fd, KVM_ENABLE_CAP, &cap, "KVM_CAP_ARM_WRITABLE_IMP_ID_REGS");
		if (r < 0)
			return (int)r;
	}

	struct discover_impl_service *d = &vm->arch->discover;
	d->nr = t->nr_impls < DISCOVER_IMPL_MAX ? t->nr_impls : DISCOVER_IMPL_MAX;
	for (int i = 0; i < d->nr; i++) {
		d->impl[i].id[0] = t->impls[i].midr;
		d->impl[i].id[1] = t->impls[i].revidr;
		d->impl[i].id[2] = t->impls[i].aidr;
	}
	return discover_impl_register(&vm->hypercalls, d, SMCCC_KVM_DISCOVER_IMPL_VER, SMCCC_KVM_DISCOVER_IMPL_CPUS);
}

void arm64_targets_release(struct vm *vm)
{
	free(vm->arch->targets);
	free(vm->arch->targets_text);
	vm->arch->targets = NULL;
	vm->arch->targets_text = NULL;
}

/* Writes one register and reads it back; a difference is an error naming the register. */
static int targets_set_verified(struct vcpu *vcpu, uint32_t enc, uint64_t value)
{
	char name[ARM64_IDREG_NAME_MAX];
	arm64_idreg_name(enc, name);
	uint64_t current;
	struct kvm_one_reg probe = {.id = arm64_sysreg_id(enc), .addr = (uint64_t)(uintptr_t)&current};
	if (__SYS_IOCTL(vcpu->fd, KVM_GET_ONE_REG, &probe) == -ENOENT && value == 0)
		return 0; /* this KVM does not know the register and shows it to the guest as 0 anyway */
	int ret = arm64_set_reg(vcpu, arm64_sysreg_id(enc), value, name);
	if (ret)
		return ret;
	uint64_t back;
	ret = arm64_get_reg(vcpu, arm64_sysreg_id(enc), &back, name);
	if (ret)
		return ret;
	if (back != value)
		return log_errno(-EIO, "%s %s: wrote %#" PRIx64 ", KVM reads back %#" PRIx64, vcpu->name, name, value,
				 back);
	return 0;
}

int arm64_targets_apply(struct vcpu *vcpu)
{
	const struct arm64_targets *t = vcpu->vm->arch->targets;
	if (!t)
		return 0;
	int ret = targets_set_verified(vcpu, ARM64_MIDR_EL1, t->guest_midr);
	if (!ret)
		ret = targets_set_verified(vcpu, ARM64_REVIDR_EL1, t->guest_revidr);
	if (!ret)
		ret = targets_set_verified(vcpu, ARM64_AIDR_EL1, t->guest_aidr);
	for (int i = 0; !ret && i < t->nr_regs; i++) {
		uint32_t enc = t->regs[i].enc;
		if (enc == ARM64_MIDR_EL1 || enc == ARM64_REVIDR_EL1 || enc == ARM64_AIDR_EL1 || enc == ARM64_MPIDR_EL1)
			continue;
		ret = targets_set_verified(vcpu, enc, t->regs[i].value);
	}
	return ret;
}

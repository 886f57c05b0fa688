/* The guest's CPUCFG words and `roam run --targets` on LoongArch: see targets_kvm.h. */
#include "targets_kvm.h"

#include "core/log.h"
#include "core/vcpu.h"
#include "core/vm.h"
#include "csr.h"
#include "loongarch.h"
#include "profile_kvm.h"
#include "targets/targets_vm.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
		const struct loongarch_targets *t = vm->targets.config;
		if (t) {
			ret = targets_vm_check_host(vm, &loongarch_targets_ops, host);
			if (!ret)
				memcpy(vm->arch->cpucfg, t->cpucfg, sizeof(vm->arch->cpucfg));
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

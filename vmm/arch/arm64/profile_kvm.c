/*
 * Captures this host's arm64 CPU profile through KVM: a scratch VM and vCPU report the identity and feature ID
 * registers a guest would see, KVM's writable masks for them, and the VM features that decide whether a guest can
 * move here. Nothing of the scratch VM survives the call.
 */
#include "profile_kvm.h"

#include "arch.h"
#include "arm64.h"
#include "core/log.h"
#include "core/sys_ioctl.h"
#include "cpu_profile.h"
#include "gic_cpuif.h"
#include "host_cpu.h"
#include "targets.h"
#include "targets/scratch_vm.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Initializes the scratch vCPU with `features` (bits of kvm_vcpu_init.features[0]). */
static int scratch_vcpu_init(struct scratch_vm *s, uint32_t features)
{
	struct kvm_vcpu_init init;
	memset(&init, 0, sizeof(init));
	long ret = SYS_IOCTL(s->vm_fd, KVM_ARM_PREFERRED_TARGET, &init, "profile VM");
	if (ret < 0)
		return (int)ret;
	init.features[0] |= features;
	ret = SYS_IOCTL(s->vcpu_fd, KVM_ARM_VCPU_INIT, &init, "profile vCPU");
	return ret < 0 ? (int)ret : 0;
}

static bool in_id_range(uint32_t enc)
{
	uint32_t op1 = ARM64_SYSREG_OP1(enc);
	return ARM64_SYSREG_OP0(enc) == 3 && (op1 == 0 || op1 == 1 || op1 == 3) && ARM64_SYSREG_CRN(enc) == 0 &&
	       ARM64_SYSREG_CRM(enc) <= 7;
}

static int id_range_index(uint32_t enc)
{
	uint32_t op1 = ARM64_SYSREG_OP1(enc);
	return (int)((op1 == 3 ? 2 : op1) << 6 | ARM64_SYSREG_CRM(enc) << 3 | ARM64_SYSREG_OP2(enc));
}

uint64_t arm64_sysreg_id(uint32_t enc)
{
	return KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM64_SYSREG | enc;
}

/* Lists the ID-range registers KVM reports for the vCPU, sorted (KVM_GET_REG_LIST is sorted by id). */
static int profile_read_regs(struct scratch_vm *s, struct arm64_cpu_profile *p)
{
	struct kvm_reg_list probe = {.n = 0};
	long ret = __SYS_IOCTL(s->vcpu_fd, KVM_GET_REG_LIST, &probe);
	if (ret != -E2BIG)
		return log_errno(ret < 0 ? (int)ret : -EIO, "KVM_GET_REG_LIST(profile vCPU): %s",
				 strerror(ret < 0 ? (int)-ret : EIO));
	struct kvm_reg_list *list = calloc(1, sizeof(*list) + probe.n * sizeof(uint64_t));
	if (!list)
		return -ENOMEM;
	list->n = probe.n;
	ret = SYS_IOCTL(s->vcpu_fd, KVM_GET_REG_LIST, list, "profile vCPU");
	for (uint64_t i = 0; ret >= 0 && i < list->n; i++) {
		uint64_t id = list->reg[i];
		if ((id & KVM_REG_ARM_COPROC_MASK) != KVM_REG_ARM64_SYSREG || !in_id_range((uint32_t)(id & 0xffff)))
			continue;
		uint32_t enc = (uint32_t)(id & 0xffff);
		if (enc == ARM64_MPIDR_EL1)
			continue; /* per-vCPU, not a property of the host */
		if (p->nr_regs == ARM64_PROFILE_MAX_REGS) {
			ret = log_errno(-ENOSPC, "profile: more than %d ID registers", ARM64_PROFILE_MAX_REGS);
			break;
		}
		struct arm64_id_reg *reg = &p->regs[p->nr_regs];
		struct kvm_one_reg one = {.id = id, .addr = (uint64_t)(uintptr_t)&reg->value};
		ret = SYS_IOCTL(s->vcpu_fd, KVM_GET_ONE_REG, &one, "profile ID register");
		reg->enc = enc;
		p->nr_regs++;
	}
	free(list);
	return ret < 0 ? (int)ret : 0;
}

static int profile_read_masks(struct scratch_vm *s, struct arm64_cpu_profile *p)
{
	if (!scratch_vm_cap(s->vm_fd, KVM_CAP_ARM_SUPPORTED_REG_MASK_RANGES))
		return 0; /* an older KVM: nothing is known to be writable */
	uint64_t masks[KVM_ARM_FEATURE_ID_RANGE_SIZE] = {0};
	struct reg_mask_range range = {.addr = (uint64_t)(uintptr_t)masks, .range = KVM_ARM_FEATURE_ID_RANGE};
	long ret = SYS_IOCTL(s->vm_fd, KVM_ARM_GET_REG_WRITABLE_MASKS, &range, "profile VM");
	if (ret < 0)
		return (int)ret;
	p->has_writable_masks = true;
	for (int i = 0; i < p->nr_regs; i++)
		p->regs[i].writable = masks[id_range_index(p->regs[i].enc)];
	return 0;
}

static uint64_t profile_reg(const struct arm64_cpu_profile *p, uint32_t enc)
{
	for (int i = 0; i < p->nr_regs; i++)
		if (p->regs[i].enc == enc)
			return p->regs[i].value;
	return 0;
}

/*
 * The largest SVE vector length a vCPU can get, in bytes. Every vCPU of a VM must have the same features, so the
 * probe uses a VM of its own whose vCPU has SVE enabled and reports its vector-length map.
 */
static uint32_t profile_sve_max_vl(const char *kvm_path)
{
	struct scratch_vm s;
	uint32_t max_vq = 0;
	if (scratch_vm_open(&s, kvm_path, "SVE probe", true) == 0 &&
	    scratch_vcpu_init(&s, 1u << KVM_ARM_VCPU_SVE) == 0) {
		uint64_t vqs[KVM_ARM64_SVE_VLS_WORDS] = {0};
		struct kvm_one_reg one = {.id = KVM_REG_ARM64_SVE_VLS, .addr = (uint64_t)(uintptr_t)vqs};
		if (SYS_IOCTL(s.vcpu_fd, KVM_GET_ONE_REG, &one, "SVE vector lengths") == 0)
			for (unsigned vq = KVM_ARM64_SVE_VQ_MIN; vq <= KVM_ARM64_SVE_VQ_MAX; vq++)
				if (vqs[(vq - 1) / 64] & (1ull << ((vq - 1) % 64)))
					max_vq = vq;
	}
	scratch_vm_close(&s);
	return max_vq * 16;
}

/*
 * ICC_CTLR_EL1 of vCPU 0's GIC CPU interface, as KVM gives it to a guest: read from a scratch VM with an initialized
 * GICv3 (KVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS; vCPU 0's affinity is 0). Only the read-only fields are kept.
 */
static int profile_gic_cpuif(const char *kvm_path, uint64_t *icc_ctlr)
{
	struct scratch_vm s;
	uint64_t value = 0;
	int ret = scratch_vm_open(&s, kvm_path, "GIC probe", true);
	if (!ret)
		ret = scratch_vcpu_init(&s, 1u << KVM_ARM_VCPU_PSCI_0_2);
	int gic_fd = ret ? -1 : arm64_gic_create(s.vm_fd, 0);
	if (gic_fd < 0 && !ret)
		ret = gic_fd;
	struct kvm_device_attr ctlr = {.group = KVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS,
				       .attr = ARM64_ICC_CTLR_EL1_ENC,
				       .addr = (uint64_t)(uintptr_t)&value};
	if (!ret) {
		long r = SYS_IOCTL(gic_fd, KVM_GET_DEVICE_ATTR, &ctlr, "GIC probe: ICC_CTLR_EL1");
		ret = r < 0 ? (int)r : 0;
	}
	if (gic_fd >= 0)
		close(gic_fd);
	scratch_vm_close(&s);
	*icc_ctlr = value & ARM64_ICC_CTLR_RO_MASK;
	return ret;
}

/*
 * The PMU a guest gets with KVM_ARM_VCPU_PMU_V3: PMCR_EL0.N (event counters) and ID_AA64DFR0_EL1.PMUVer, read from
 * a scratch VM of its own (every vCPU of a VM has the same features, and roam's own vCPUs have no PMU yet). Then
 * whether KVM lowers N: KVM_ARM_VCPU_PMU_V3_SET_NR_COUNTERS with N - 1, without KVM_ARM_VCPU_PMU_V3_SET_PMU first,
 * counts only if PMCR_EL0 reads it back.
 */
static int profile_pmu(const char *kvm_path, struct arm64_compat *c)
{
	struct scratch_vm s;
	uint64_t pmcr = 0, dfr0 = 0;
	int ret = scratch_vm_open(&s, kvm_path, "PMU probe", true);
	if (!ret)
		ret = scratch_vcpu_init(&s, 1u << KVM_ARM_VCPU_PSCI_0_2 | 1u << KVM_ARM_VCPU_PMU_V3);
	struct kvm_one_reg pmcr_reg = {.id = arm64_sysreg_id(ARM64_SYSREG_ENC(3, 3, 9, 12, 0)),
				       .addr = (uint64_t)(uintptr_t)&pmcr};
	struct kvm_one_reg dfr0_reg = {.id = arm64_sysreg_id(ARM64_SYSREG_ENC(3, 0, 0, 5, 0)),
				       .addr = (uint64_t)(uintptr_t)&dfr0};
	if (!ret && SYS_IOCTL(s.vcpu_fd, KVM_GET_ONE_REG, &pmcr_reg, "PMU probe: PMCR_EL0") < 0)
		ret = -EIO;
	if (!ret && SYS_IOCTL(s.vcpu_fd, KVM_GET_ONE_REG, &dfr0_reg, "PMU probe: ID_AA64DFR0_EL1") < 0)
		ret = -EIO;
	c->pmu_counters = (uint32_t)(pmcr >> 11) & 0x1f;
	c->pmu_version = (uint32_t)(dfr0 >> 8) & 0xf;
	uint32_t lower = c->pmu_counters - 1;
	struct kvm_device_attr nr = {.group = KVM_ARM_VCPU_PMU_V3_CTRL,
				     .attr = KVM_ARM_VCPU_PMU_V3_SET_NR_COUNTERS,
				     .addr = (uint64_t)(uintptr_t)&lower};
	if (!ret && c->pmu_counters && __SYS_IOCTL(s.vcpu_fd, KVM_SET_DEVICE_ATTR, &nr) == 0 &&
	    __SYS_IOCTL(s.vcpu_fd, KVM_GET_ONE_REG, &pmcr_reg) == 0)
		c->pmu_counters_settable = ((pmcr >> 11) & 0x1f) == lower;
	scratch_vm_close(&s);
	return ret;
}

/* The GIC CPU interface, the PMU and the counter frequency (struct arm64_compat). */
static int profile_compat(const char *kvm_path, struct arm64_cpu_profile *p)
{
	struct arm64_compat *c = &p->compat;
	int ret = p->gic_version == 3 ? profile_gic_cpuif(kvm_path, &c->icc_ctlr) : 0;
	if (!ret && p->pmu)
		ret = profile_pmu(kvm_path, c);
	c->cntfrq = arm64_host_counter_frequency();
	c->known = ret == 0;
	return ret;
}

int arm64_profile_capture(const char *kvm_path, const char *name, struct arm64_cpu_profile *p)
{
	struct scratch_vm s;
	memset(p, 0, sizeof(*p));
	int ret = scratch_vm_open(&s, kvm_path, "profile", true);
	if (!ret)
		ret = scratch_vcpu_init(&s, 1u << KVM_ARM_VCPU_PSCI_0_2);
	if (!ret)
		ret = profile_read_regs(&s, p);
	if (!ret)
		ret = profile_read_masks(&s, p);
	if (ret) {
		scratch_vm_close(&s);
		return ret;
	}
	p->midr = profile_reg(p, ARM64_MIDR_EL1);
	p->revidr = profile_reg(p, ARM64_REVIDR_EL1);
	p->aidr = profile_reg(p, ARM64_AIDR_EL1);
	p->writable_imp_regs = scratch_vm_cap(s.vm_fd, KVM_CAP_ARM_WRITABLE_IMP_ID_REGS);
	p->ipa_bits = (uint32_t)scratch_vm_cap(s.kvm_fd, KVM_CAP_ARM_VM_IPA_SIZE);
	if (!p->ipa_bits)
		p->ipa_bits = 40;
	struct kvm_create_device gic = {.type = KVM_DEV_TYPE_ARM_VGIC_V3, .flags = KVM_CREATE_DEVICE_TEST};
	p->gic_version = __SYS_IOCTL(s.vm_fd, KVM_CREATE_DEVICE, &gic) == 0 ? 3 : 0;
	p->sve = scratch_vm_cap(s.vm_fd, KVM_CAP_ARM_SVE);
	p->sve_max_vl = p->sve ? profile_sve_max_vl(kvm_path) : 0;
	p->ptrauth = scratch_vm_cap(s.vm_fd, KVM_CAP_ARM_PTRAUTH_ADDRESS) &&
		     scratch_vm_cap(s.vm_fd, KVM_CAP_ARM_PTRAUTH_GENERIC);
	p->mte = scratch_vm_cap(s.vm_fd, KVM_CAP_ARM_MTE);
	p->pmu = scratch_vm_cap(s.vm_fd, KVM_CAP_ARM_PMU_V3);
	p->counter_offset = scratch_vm_cap(s.vm_fd, KVM_CAP_COUNTER_OFFSET);
	struct kvm_device_attr filter = {.group = KVM_ARM_VM_SMCCC_CTRL, .attr = KVM_ARM_VM_SMCCC_FILTER};
	p->smccc_filter = __SYS_IOCTL(s.vm_fd, KVM_HAS_DEVICE_ATTR, &filter) == 0;
	scratch_vm_close(&s);
	targets_host_label(name, p->name, p->kernel, sizeof(p->kernel));
	return profile_compat(kvm_path, p);
}

const struct targets_arch_ops *arch_targets_ops(void)
{
	return &arm64_targets_ops;
}

int arch_profile_capture(const char *kvm_path, const char *name, void *profile)
{
	return arm64_profile_capture(kvm_path, name, profile);
}

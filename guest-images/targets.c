/*
 * targets: checks roam's target-implementation discovery (DISCOVER_IMPL_VER/CPUS, answered by roam through KVM's
 * SMCCC filter) and prints the identity and feature ID registers, ICC_CTLR_EL1 and CNTFRQ_EL0 the guest reads with
 * mrs, one "targets-guest: NAME=VALUE" line each, so the lab test can compare them with the targets config.
 *
 * Without a targets config KVM answers the calls itself with NOT_SUPPORTED; the guest then says so and stops.
 */
#include "guest.h"

#define DISCOVER_IMPL_VER 0xc6000040u
#define DISCOVER_IMPL_CPUS 0xc6000041u
#define SMCCC_NOT_SUPPORTED ((uint64_t)-1)
#define SMCCC_INVALID_PARAMETER ((uint64_t)-3)
#define MAX_IMPLS 16

static void print_id_registers(void)
{
	guest_printf("targets-guest: MIDR_EL1=0x%llx\n", (unsigned long long)read_sysreg(midr_el1));
	guest_printf("targets-guest: REVIDR_EL1=0x%llx\n", (unsigned long long)read_sysreg(revidr_el1));
	guest_printf("targets-guest: AIDR_EL1=0x%llx\n", (unsigned long long)read_sysreg(aidr_el1));
	guest_printf("targets-guest: ID_AA64PFR0_EL1=0x%llx\n", (unsigned long long)read_sysreg(id_aa64pfr0_el1));
	guest_printf("targets-guest: ID_AA64PFR1_EL1=0x%llx\n", (unsigned long long)read_sysreg(id_aa64pfr1_el1));
	guest_printf("targets-guest: ID_AA64DFR0_EL1=0x%llx\n", (unsigned long long)read_sysreg(id_aa64dfr0_el1));
	guest_printf("targets-guest: ID_AA64ISAR0_EL1=0x%llx\n", (unsigned long long)read_sysreg(id_aa64isar0_el1));
	guest_printf("targets-guest: ID_AA64ISAR1_EL1=0x%llx\n", (unsigned long long)read_sysreg(id_aa64isar1_el1));
	guest_printf("targets-guest: ID_AA64MMFR0_EL1=0x%llx\n", (unsigned long long)read_sysreg(id_aa64mmfr0_el1));
	guest_printf("targets-guest: ID_AA64MMFR1_EL1=0x%llx\n", (unsigned long long)read_sysreg(id_aa64mmfr1_el1));
	guest_printf("targets-guest: ID_AA64MMFR2_EL1=0x%llx\n", (unsigned long long)read_sysreg(s3_0_c0_c7_2));
	guest_printf("targets-guest: ID_ISAR0_EL1=0x%llx\n", (unsigned long long)read_sysreg(s3_0_c0_c2_0));
	guest_printf("targets-guest: CTR_EL0=0x%llx\n", (unsigned long long)read_sysreg(ctr_el0));
	/* Beyond the ID registers: the GIC CPU interface (ICC_CTLR_EL1) and the counter frequency. */
	guest_printf("targets-guest: ICC_CTLR_EL1=0x%llx\n", (unsigned long long)read_sysreg(s3_0_c12_c12_4));
	guest_printf("targets-guest: CNTFRQ_EL0=0x%llx\n", (unsigned long long)read_sysreg(cntfrq_el0));
}

void guest_main(uint64_t dtb)
{
	(void)dtb;
	struct smccc_res ver = smccc_hvc(DISCOVER_IMPL_VER, 0, 0, 0, 0);
	if (ver.a0 == SMCCC_NOT_SUPPORTED) {
		guest_printf("targets-guest: discovery not supported\n");
		print_id_registers();
		GUEST_DONE();
	}
	GUEST_ASSERT_EQ(ver.a0, 0);
	GUEST_ASSERT_EQ(ver.a1, 0x10000);
	GUEST_ASSERT_EQ(ver.a3, 0);
	GUEST_ASSERT(ver.a2 >= 1 && ver.a2 <= MAX_IMPLS);
	uint64_t n = ver.a2;
	guest_printf("targets-guest: version=0x%llx targets=%llu\n", (unsigned long long)ver.a1, (unsigned long long)n);

	struct smccc_res first[MAX_IMPLS];
	for (uint64_t i = 0; i < n; i++) {
		first[i] = smccc_hvc(DISCOVER_IMPL_CPUS, i, 0, 0, 0);
		GUEST_ASSERT_EQ(first[i].a0, 0);
		guest_printf("targets-guest: impl %llu midr=0x%llx revidr=0x%llx aidr=0x%llx\n", (unsigned long long)i,
			     (unsigned long long)first[i].a1, (unsigned long long)first[i].a2,
			     (unsigned long long)first[i].a3);
	}
	/* Stateless: asking again, in another order, gives the same answers. */
	for (uint64_t i = n; i-- > 0;) {
		struct smccc_res again = smccc_hvc(DISCOVER_IMPL_CPUS, i, 0, 0, 0);
		GUEST_ASSERT_EQ(again.a0, 0);
		GUEST_ASSERT_EQ(again.a1, first[i].a1);
		GUEST_ASSERT_EQ(again.a2, first[i].a2);
		GUEST_ASSERT_EQ(again.a3, first[i].a3);
	}
	/* Bad parameters: an index out of range, and nonzero reserved arguments. */
	GUEST_ASSERT_EQ(smccc_hvc(DISCOVER_IMPL_CPUS, n, 0, 0, 0).a0, SMCCC_INVALID_PARAMETER);
	GUEST_ASSERT_EQ(smccc_hvc(DISCOVER_IMPL_CPUS, ~0ull, 0, 0, 0).a0, SMCCC_INVALID_PARAMETER);
	GUEST_ASSERT_EQ(smccc_hvc(DISCOVER_IMPL_CPUS, 0, 1, 0, 0).a0, SMCCC_INVALID_PARAMETER);
	GUEST_ASSERT_EQ(smccc_hvc(DISCOVER_IMPL_CPUS, 0, 0, 1, 0).a0, SMCCC_INVALID_PARAMETER);
	guest_printf("targets-guest: bad parameters refused\n");
	print_id_registers();
	GUEST_DONE();
}

/*
 * Unit test of the LoongArch register lists: every CSR roam saves has the ONE_REG id the uapi header's
 * KVM_IOC_CSRID gives, appears once, and the timer CSRs come last (after CNTC); the read-only ones are left out.
 * CPUCFG ids match KVM_IOC_CPUCFG for words 0..20, roam's policy per word, and the cpucfg instruction reads this
 * CPU's words (here: the CPU qemu-loongarch64 emulates).
 */
#include "arch/loongarch/cpucfg.h"
#include "arch/loongarch/csr.h"
#include "arch/loongarch/loongarch.h"
#include "check.h"

#include <linux/kvm.h>

static void test_csrs(void)
{
	int n = loongarch_csr_count();
	CHECK(n >= 40 && n <= 64);
	for (int i = 0; i < n; i++) {
		const struct loongarch_csr_desc *d = loongarch_csr_at(i);
		CHECK_EQ(loongarch_csr_reg_id(d->num), KVM_IOC_CSRID(d->num));
		CHECK_EQ(loongarch_csr_index(d->num), i);
		char buf[16];
		CHECK(!strcmp(loongarch_csr_name(d->num, buf), d->name));
		for (int k = i + 1; k < n; k++)
			CHECK(d->num != loongarch_csr_at(k)->num && strcmp(d->name, loongarch_csr_at(k)->name) != 0);
	}
	CHECK_EQ(loongarch_csr_at(n - 3)->num, LOONGARCH_CSR_CNTC);
	CHECK_EQ(loongarch_csr_at(n - 2)->num, LOONGARCH_CSR_TCFG);
	CHECK_EQ(loongarch_csr_at(n - 1)->num, LOONGARCH_CSR_TVAL);
	static const uint16_t left_out[] = {0x1b /* PGD */,   0x21, 0x22, 0x23 /* PRCFG1..3 */,
					    0x44 /* TICLR */, 0x200 /* PERFCTRL0 */};
	for (size_t i = 0; i < sizeof(left_out) / sizeof(left_out[0]); i++)
		CHECK_EQ(loongarch_csr_index(left_out[i]), -1);
	static const uint16_t kept[] = {LOONGARCH_CSR_CRMD,
					LOONGARCH_CSR_ECFG,
					LOONGARCH_CSR_ESTAT,
					LOONGARCH_CSR_CPUID,
					LOONGARCH_CSR_TMID,
					0x180,
					0x183,
					0x37,
					0x88};
	for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++)
		CHECK(loongarch_csr_index(kept[i]) >= 0);
	char buf[16];
	CHECK(!strcmp(loongarch_csr_name(0x999, buf), "CSR 0x999"));
	CHECK(!strcmp(loongarch_csr_name(0x6, buf), "ERA"));
}

static void test_cpucfg(void)
{
	for (uint32_t i = 0; i < LOONGARCH_NR_CPUCFG; i++)
		CHECK_EQ(loongarch_cpucfg_reg_id(i), KVM_IOC_CPUCFG(i));
	CHECK_EQ(loongarch_cpucfg_policy(0), 0xffffffff);
	CHECK_EQ(loongarch_cpucfg_policy(1) & (1u << 26), 0); /* MSGINT */
	CHECK_EQ(loongarch_cpucfg_policy(2) & 0x1c3c00, 0); /* LVZ, LVZ_VER, LBT */
	CHECK_EQ(loongarch_cpucfg_policy(2) & 0xc7, 0xc7); /* FP, LSX, LASX */
	CHECK_EQ(loongarch_cpucfg_policy(6), 0);
	for (uint32_t i = 7; i < 16; i++)
		CHECK_EQ(loongarch_cpucfg_policy(i), 0);
	CHECK_EQ(loongarch_cpucfg_policy(16), 0xffffffff);
	CHECK_EQ(loongarch_cpucfg_policy(21), 0);
	/* The instruction works in user mode: a LoongArch64 CPU with a PRID, paging and a constant timer. */
	uint32_t prid = loongarch_host_cpucfg(0), w1 = loongarch_host_cpucfg(1), w2 = loongarch_host_cpucfg(2);
	printf("this CPU: PRID %#x, CPUCFG1 %#x, CPUCFG2 %#x\n", prid, w1, w2);
	CHECK(prid != 0);
	CHECK_EQ(w1 & 3, 2); /* LA64 */
	CHECK(w2 & LOONGARCH_CPUCFG2_LLFTP);
	CHECK_EQ(loongarch_host_cpucfg(0x100), 0); /* an index no CPU implements */
}

int main(void)
{
	test_csrs();
	test_cpucfg();
	return check_exit();
}

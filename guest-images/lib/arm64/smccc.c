/*
 * SMCCC calls through "hvc #0" and the PSCI functions built on them, for roam's arm64 test guests. KVM answers PSCI
 * itself; later tests use smccc_hvc() for roam's own hypercalls.
 */
#include "guest.h"

struct smccc_res smccc_hvc(uint64_t fid, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4)
{
	register uint64_t x0 __asm__("x0") = fid;
	register uint64_t x1 __asm__("x1") = a1;
	register uint64_t x2 __asm__("x2") = a2;
	register uint64_t x3 __asm__("x3") = a3;
	register uint64_t x4 __asm__("x4") = a4;
	__asm__ volatile("hvc #0"
			 : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3), "+r"(x4)
			 :
			 : "x5", "x6", "x7", "x8", "x9", "x10", "x11", "x12", "x13", "x14", "x15", "x16", "x17",
			   "memory");
	return (struct smccc_res){x0, x1, x2, x3};
}

uint32_t psci_version(void)
{
	return (uint32_t)smccc_hvc(PSCI_FN_PSCI_VERSION, 0, 0, 0, 0).a0;
}

int64_t psci_cpu_on(uint64_t target_mpidr, uint64_t entry, uint64_t context_id)
{
	return (int64_t)smccc_hvc(PSCI_FN64_CPU_ON, target_mpidr, entry, context_id, 0).a0;
}

int64_t psci_cpu_off(void)
{
	return (int64_t)smccc_hvc(PSCI_FN_CPU_OFF, 0, 0, 0, 0).a0;
}

int64_t psci_affinity_info(uint64_t target_mpidr)
{
	return (int64_t)smccc_hvc(PSCI_FN64_AFFINITY_INFO, target_mpidr, 0, 0, 0).a0;
}

_Noreturn void psci_system_off(void)
{
	smccc_hvc(PSCI_FN_SYSTEM_OFF, 0, 0, 0, 0);
	GUEST_ABORT("PSCI SYSTEM_OFF returned");
}

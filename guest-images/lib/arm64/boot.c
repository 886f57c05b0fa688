/*
 * The C side of the arm64 guest start code: the boot and secondary vCPUs' first C functions, the report of
 * unexpected exceptions, the prebuilt report of a vCPU without a stack slot, and guest_smp_start().
 */
#include "arch/arm64/layout.h"
#include "guest.h"

/* Called from start.S only. */
void guest_boot(uint64_t dtb);
void guest_secondary_boot(uint64_t context_id);
_Noreturn void guest_exception_report(uint64_t vector, const uint64_t *regs);
extern const struct ucall guest_bad_cpu_ucall;
extern char guest_secondary_entry[];

/*
 * start.S stores this struct's address to the ucall window, with the MMU still off and no stack, when a vCPU's MPIDR
 * has no stack slot.
 */
const struct ucall guest_bad_cpu_ucall = {
    .magic = UCALL_MAGIC,
    .version = UCALL_ABI_VERSION,
    .cmd = UCALL_ABORT,
    .line = __LINE__,
    .file = GUEST_FILE,
    .msg = "a vCPU whose MPIDR is not Aff0 0..7 entered the guest; the guest library supports 8 vCPUs",
};

_Static_assert(GUEST_MAX_CPUS == 8, "update guest_bad_cpu_ucall's message");
_Static_assert(sizeof(struct ucall) == UCALL_SIZE, "struct ucall does not match the ABI");

void guest_boot(uint64_t dtb)
{
	guest_main(dtb);
	GUEST_ABORT("guest_main returned without GUEST_DONE()");
}

void guest_secondary_boot(uint64_t context_id)
{
	void (*entry)(unsigned int cpu) = (void (*)(unsigned int))(uintptr_t)context_id;
	entry(guest_cpu_index());
	int64_t ret = psci_cpu_off();
	GUEST_ABORT("PSCI CPU_OFF on vCPU %u returned %lld", guest_cpu_index(), (long long)ret);
}

static const char *const exception_names[16] = {
    "sync (EL1t)",   "IRQ (EL1t)",    "FIQ (EL1t)",    "SError (EL1t)",	  "sync (EL1h)",  "IRQ (EL1h)",
    "FIQ (EL1h)",    "SError (EL1h)", "sync (EL0 64)", "IRQ (EL0 64)",	  "FIQ (EL0 64)", "SError (EL0 64)",
    "sync (EL0 32)", "IRQ (EL0 32)",  "FIQ (EL0 32)",  "SError (EL0 32)",
};

_Noreturn void guest_exception_report(uint64_t vector, const uint64_t *regs)
{
	const uint64_t args[4] = {read_sysreg(esr_el1), read_sysreg(elr_el1), read_sysreg(far_el1), vector};
	ucall_exit(
	    UCALL_ABORT, GUEST_FILE, __LINE__, args,
	    "unexpected exception %s on vCPU %u: ESR_EL1=0x%llx (EC 0x%llx) ELR_EL1=0x%llx FAR_EL1=0x%llx LR=0x%llx",
	    exception_names[vector & 15], guest_cpu_index(), (unsigned long long)args[0],
	    (unsigned long long)(args[0] >> 26) & 0x3f, (unsigned long long)args[1], (unsigned long long)args[2],
	    (unsigned long long)regs[30]);
}

uint64_t read_mpidr(void)
{
	return read_sysreg(mpidr_el1) & 0xff00ffffffull;
}

unsigned int guest_cpu_index(void)
{
	return (unsigned int)(read_mpidr() & 0xff);
}

_Noreturn void guest_halt(void)
{
	for (;;)
		__asm__ volatile("wfi" : : : "memory");
}

static const char *psci_error_name(int64_t ret)
{
	switch (ret) {
	case PSCI_RET_NOT_SUPPORTED:
		return "NOT_SUPPORTED";
	case PSCI_RET_INVALID_PARAMS:
		return "INVALID_PARAMETERS";
	case PSCI_RET_DENIED:
		return "DENIED";
	case PSCI_RET_ALREADY_ON:
		return "ALREADY_ON";
	case PSCI_RET_ON_PENDING:
		return "ON_PENDING";
	case PSCI_RET_INTERNAL_FAILURE:
		return "INTERNAL_FAILURE";
	case PSCI_RET_INVALID_ADDRESS:
		return "INVALID_ADDRESS";
	default:
		return "unexpected return code";
	}
}

unsigned int guest_smp_start(void (*entry)(unsigned int cpu))
{
	unsigned int cpu;
	GUEST_ASSERT_EQ(guest_cpu_index(), 0);
	/* vCPU n has MPIDR Aff0 = n; one CPU_ON past the last slot finds out whether the VM has more vCPUs. */
	for (cpu = 1; cpu <= GUEST_MAX_CPUS; cpu++) {
		int64_t ret = psci_cpu_on(cpu, (uint64_t)(uintptr_t)guest_secondary_entry, (uint64_t)(uintptr_t)entry);
		if (ret == PSCI_RET_INVALID_PARAMS)
			return cpu;
		if (ret != PSCI_RET_SUCCESS)
			GUEST_ABORT("PSCI CPU_ON(MPIDR 0x%x) failed: %lld (%s)", cpu, (long long)ret,
				    psci_error_name(ret));
		if (cpu == GUEST_MAX_CPUS)
			GUEST_ABORT("the VM has more than %u vCPUs; the guest library supports %u", GUEST_MAX_CPUS,
				    GUEST_MAX_CPUS);
	}
	return cpu; /* not reached */
}

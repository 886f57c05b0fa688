/*
 * smp: a test guest for PSCI CPU_ON and atomics across vCPUs. The boot vCPU starts vCPU 1, 2, ... with CPU_ON until
 * it answers INVALID_PARAMETERS (guest_smp_start). Every vCPU, the boot one included, adds SMP_ROUNDS to a shared
 * counter with atomic read-modify-writes while the others do the same; each secondary checks that its MPIDR matches
 * its index, sets its bit in a mask, prints "smp: cpu N checked in" and counts itself in. The boot vCPU waits for
 * all of them for at most SMP_TIMEOUT_S seconds of the virtual counter, then checks the mask and the counter, prints
 * "smp: N cpus online" and reports GUEST_DONE. A vCPU that does not check in in time is a GUEST_ABORT naming the
 * missing ones.
 */
#include "guest.h"

#include <stdatomic.h>

#define SMP_ROUNDS 10000
#define SMP_TIMEOUT_S 10

static atomic_uint smp_checked_in;
static atomic_uint smp_mask;
static atomic_ulong smp_counter;

static void smp_add_rounds(void)
{
	for (unsigned int i = 0; i < SMP_ROUNDS; i++)
		atomic_fetch_add_explicit(&smp_counter, 1, memory_order_relaxed);
}

static void smp_secondary(unsigned int cpu)
{
	GUEST_ASSERT_EQ(read_mpidr(), cpu);
	smp_add_rounds();
	atomic_fetch_or_explicit(&smp_mask, 1u << cpu, memory_order_relaxed);
	guest_printf("smp: cpu %u checked in (MPIDR 0x%llx)\n", cpu, (unsigned long long)read_mpidr());
	atomic_fetch_add_explicit(&smp_checked_in, 1, memory_order_release);
}

static uint64_t smp_counter_now(void)
{
	isb();
	return read_sysreg(cntvct_el0);
}

void guest_main(uint64_t dtb)
{
	(void)dtb;
	uint64_t freq = read_sysreg(cntfrq_el0);
	GUEST_ASSERT(freq != 0);

	unsigned int ncpus = guest_smp_start(smp_secondary);
	smp_add_rounds();

	uint64_t deadline = smp_counter_now() + SMP_TIMEOUT_S * freq;
	while (atomic_load_explicit(&smp_checked_in, memory_order_acquire) < ncpus - 1) {
		if (smp_counter_now() > deadline) {
			unsigned int all = ((1u << ncpus) - 1) & ~1u;
			GUEST_ABORT("smp: %u of %u secondary cpus checked in within %u s; missing mask 0x%x",
				    atomic_load(&smp_checked_in), ncpus - 1, SMP_TIMEOUT_S,
				    all & ~atomic_load(&smp_mask));
		}
		cpu_relax();
	}
	GUEST_ASSERT_EQ(atomic_load(&smp_mask), ((1u << ncpus) - 1) & ~1u);
	GUEST_ASSERT_EQ(atomic_load(&smp_counter), (uint64_t)ncpus * SMP_ROUNDS);
	guest_printf("smp: %u cpus online\n", ncpus);
	GUEST_DONE();
}

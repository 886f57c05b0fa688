/*
 * spin: a test guest that runs until roam stops it, for the control API's tests (pause, resume, status, quit,
 * --paused). The boot vCPU starts every other vCPU (guest_smp_start), prints "spin: N cpus spinning", and then every
 * vCPU increments its own counter forever. Every SPIN_TICK increments of its own, the boot vCPU prints
 * "spin: tick T: cpu0 C0 cpu1 C1 ... end", so the console shows which vCPUs made progress in between: a paused vCPU's
 * count stands still. The guest never exits by itself: it runs until roam is told to stop it.
 */
#include "guest.h"

#include <stdatomic.h>

#define SPIN_TICK (1ull << 20)

static atomic_ulong spin_counts[GUEST_MAX_CPUS];
static unsigned int spin_ncpus;

/* One more round on this vCPU's counter (relaxed: only the printing vCPU reads the others'). */
static inline unsigned long spin_step(unsigned int cpu)
{
	unsigned long n = atomic_load_explicit(&spin_counts[cpu], memory_order_relaxed) + 1;
	atomic_store_explicit(&spin_counts[cpu], n, memory_order_relaxed);
	return n;
}

static void spin_secondary(unsigned int cpu)
{
	for (;;)
		spin_step(cpu);
}

static void spin_report(unsigned long tick)
{
	char line[32 + GUEST_MAX_CPUS * 28];
	int len = guest_snprintf(line, sizeof(line), "spin: tick %lu:", tick);
	for (unsigned int i = 0; i < spin_ncpus && len < (int)sizeof(line); i++)
		len += guest_snprintf(line + len, sizeof(line) - (size_t)len, " cpu%u %lu", i,
				      atomic_load_explicit(&spin_counts[i], memory_order_relaxed));
	guest_printf("%s end\n", line);
}

void guest_main(uint64_t dtb)
{
	(void)dtb;
	spin_ncpus = guest_smp_start(spin_secondary);
	guest_printf("spin: %u cpus spinning\n", spin_ncpus);
	for (unsigned long tick = 1;; tick++) {
		while (spin_step(0) % SPIN_TICK)
			;
		spin_report(tick);
	}
}

/* The host CPU as arm64 roam reads it directly: see host_cpu.h. */
#include "host_cpu.h"

#include <stdio.h>

uint64_t arm64_host_counter(void)
{
	uint64_t v;
	__asm__ volatile("isb\n\tmrs %0, cntvct_el0" : "=r"(v)::"memory");
	return v;
}

uint64_t arm64_host_counter_frequency(void)
{
	uint64_t v;
	__asm__ volatile("mrs %0, cntfrq_el0" : "=r"(v));
	return v;
}

void arm64_host_clean_to_poc(void *p, size_t len)
{
	uint64_t ctr;
	__asm__ volatile("mrs %0, ctr_el0" : "=r"(ctr));
	size_t line = 4u << ((ctr >> 16) & 0xf); /* CTR_EL0.DminLine: log2 of the smallest data cache line in words */
	for (uintptr_t a = (uintptr_t)p & ~(uintptr_t)(line - 1); a < (uintptr_t)p + len; a += line)
		__asm__ volatile("dc civac, %0" ::"r"(a) : "memory");
	__asm__ volatile("dsb sy" ::: "memory");
	__builtin___clear_cache((char *)p, (char *)p + len);
}

bool arm64_host_id_reg(int cpu, const char *name, uint64_t *value)
{
	char path[128];
	snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%d/regs/identification/%s", cpu, name);
	FILE *f = fopen(path, "r");
	unsigned long long v = 0;
	bool ok = f && fscanf(f, "%llx", &v) == 1;
	if (f)
		fclose(f);
	*value = ok ? v : 0;
	return ok;
}

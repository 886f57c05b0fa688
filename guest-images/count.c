/*
 * count: a guest whose progress is visible and checkable across snapshots. It prints "count: N t=T" for N = 1..
 * COUNT_LAST, one line every 1/COUNT_HZ s of virtual time, where T is the virtual counter; it aborts if the counter
 * ever goes backwards (e.g. across a restore) and reports DONE after the last line. The lab tests concatenate the
 * console output of every roam that ran it: the lines must read 1, 2, 3, ... with none lost or repeated.
 */
#include "guest.h"

#define COUNT_LAST 150
#define COUNT_HZ 20

static uint64_t counter(void)
{
	isb();
	return read_sysreg(cntvct_el0);
}

void guest_main(uint64_t dtb)
{
	(void)dtb;
	uint64_t step = read_sysreg(cntfrq_el0) / COUNT_HZ;
	uint64_t last = counter();
	for (unsigned int n = 1; n <= COUNT_LAST; n++) {
		uint64_t due = last + step, now;
		while ((now = counter()) < due) {
			if (now < last)
				GUEST_ABORT("the virtual counter went backwards: 0x%llx after 0x%llx",
					    (unsigned long long)now, (unsigned long long)last);
			cpu_relax();
		}
		last = now;
		guest_printf("count: %u t=%llu midr=0x%llx\n", n, (unsigned long long)now,
			     (unsigned long long)read_sysreg(midr_el1));
	}
	guest_printf("count: done\n");
	GUEST_DONE();
}

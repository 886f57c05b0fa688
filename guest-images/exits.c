/*
 * exits: measures the round-trip cost of a guest exit handled by roam. It writes the UART's scratch register
 * EXITS_COUNT times (each write is an MMIO exit that roam answers in userspace) and prints the virtual-counter time
 * per exit, so tools/bench/pvlock can compare roam with and without PV-lock maintenance.
 */
#include "guest.h"

#include "arch/arm64/layout.h"

#define EXITS_COUNT 20000
#define UART_SCR 7

void guest_main(uint64_t dtb)
{
	(void)dtb;
	uint64_t freq = read_sysreg(cntfrq_el0);
	isb();
	uint64_t start = read_sysreg(cntvct_el0);
	for (unsigned int i = 0; i < EXITS_COUNT; i++)
		mmio_write8(ARM64_UART_BASE + UART_SCR, (uint8_t)i);
	isb();
	uint64_t ticks = read_sysreg(cntvct_el0) - start;
	uint64_t ns_per_exit = ticks * 1000000000ull / freq / EXITS_COUNT;
	guest_printf("exits: %u exits, %llu ns per exit\n", EXITS_COUNT, (unsigned long long)ns_per_exit);
	GUEST_DONE();
}

/*
 * Unit test of the pure half of an arm64 restore (vmm/arch/arm64/restore_plan.c): which host CPUs have Arm erratum
 * 834220, the ranges of guest RAM that hold data after a restore (holes skipped, the PV-lock slot ignored), and the
 * counter-frequency check.
 */
#include "arch/arm64/restore_plan.h"
#include "check.h"
#include "core/memory.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#define PAGE 4096u

int main(void)
{
	/* Cortex-A57 r0p0..r1p2 have it; r1p3, the A72, other implementers and a zero MIDR do not. */
	CHECK(arm64_midr_has_erratum_834220(0x410fd070)); /* r0p0 */
	CHECK(arm64_midr_has_erratum_834220(0x411fd070)); /* r1p0: QEMU's cortex-a57 */
	CHECK(arm64_midr_has_erratum_834220(0x411fd072)); /* r1p2 */
	CHECK(!arm64_midr_has_erratum_834220(0x411fd073)); /* r1p3 */
	CHECK(!arm64_midr_has_erratum_834220(0x412fd070)); /* r2p0 */
	CHECK(!arm64_midr_has_erratum_834220(0x410fd083)); /* cortex-a72 */
	CHECK(!arm64_midr_has_erratum_834220(0x420fd070)); /* another implementer, same part number */
	CHECK(!arm64_midr_has_erratum_834220(0));

	struct guest_memory mem;
	memory_init(&mem);
	CHECK_EQ(memory_add_slot(&mem, "pvlock", 0x09100000, 0x10000, true), 0);
	CHECK_EQ(memory_add_slot(&mem, "ram", 0x40000000, 64 * PAGE, false), 1);
	struct arm64_prefault_run runs[8];
	uint64_t hole = 1;

	/* Nothing written: one run over all of RAM (the PV-lock slot is left out), and the first page is a hole. */
	memset(mem.slots[0].host, 0xff, 0x10000);
	CHECK_EQ(arm64_prefault_all_runs(&mem, runs, 8, &hole), 1);
	CHECK_EQ(runs[0].gpa, 0x40000000);
	CHECK_EQ(runs[0].pages, 64);
	CHECK_EQ(hole, 0x40000000);

	/* Pages 0, 1 and 62..63 written: still all of RAM (holes included: an empty page table can be one), and the
	 * first hole is page 2 (small pages here: a huge page would make the whole slot present at the first write). */
	uint8_t *ram = mem.slots[1].host;
	CHECK_EQ(madvise(ram, mem.slots[1].map_size, MADV_NOHUGEPAGE), 0);
	ram[0] = 1;
	ram[PAGE + 4095] = 2;
	memset(ram + 62 * PAGE, 4, 2 * PAGE);
	CHECK_EQ(arm64_prefault_all_runs(&mem, runs, 8, &hole), 1);
	CHECK_EQ(runs[0].pages, 64);
	CHECK_EQ(hole, 0x40000000 + 2 * PAGE);

	/* A second RAM slot: a run of its own; too small an array: -ENOSPC, never a write past it. */
	CHECK_EQ(memory_add_slot(&mem, "ram2", 0x80000000, 16 * PAGE, false), 2);
	CHECK_EQ(arm64_prefault_all_runs(&mem, runs, 8, &hole), 2);
	CHECK_EQ(runs[1].gpa, 0x80000000);
	CHECK_EQ(runs[1].pages, 16);
	CHECK_EQ(arm64_prefault_all_runs(&mem, runs, 1, &hole), -ENOSPC);

	/* Every page of the first slot written: the hole is the second slot's first page. */
	memset(ram, 9, 64 * PAGE);
	CHECK_EQ(arm64_prefault_all_runs(&mem, runs, 8, &hole), 2);
	CHECK_EQ(hole, 0x80000000);

	memory_fini(&mem);

	/* Counter frequency: equal or unknown (version-1 snapshot) is fine; a difference names both and the ratio. */
	char msg[200];
	arm64_timer_frequency_problem(62500000, 62500000, msg, sizeof(msg));
	CHECK_EQ(msg[0], 0);
	arm64_timer_frequency_problem(0, 1000000000, msg, sizeof(msg));
	CHECK_EQ(msg[0], 0);
	arm64_timer_frequency_problem(62500000, 1000000000, msg, sizeof(msg));
	CHECK(strstr(msg, "ran at 62500000 Hz on the source host and runs at 1000000000 Hz here") != NULL);
	CHECK(strstr(msg, "16x as fast") != NULL);
	return check_exit();
}

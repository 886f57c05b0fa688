/* The pure half of an arm64 restore: see restore_plan.h. */
#include "restore_plan.h"

#include "core/memory.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <unistd.h>

#define PAGE 4096u

bool arm64_midr_has_erratum_834220(uint64_t midr)
{
	uint32_t implementer = (midr >> 24) & 0xff, part = (midr >> 4) & 0xfff;
	uint32_t variant = (midr >> 20) & 0xf, revision = midr & 0xf;
	/* Cortex-A57 r0p0 to r1p2 (the kernel's list of affected parts). */
	return implementer == 0x41 && part == 0xd07 && (variant == 0 || (variant == 1 && revision <= 2));
}

int arm64_prefault_all_runs(const struct guest_memory *mem, struct arm64_prefault_run *runs, int max, uint64_t *hole)
{
	int n = 0;
	*hole = 0;
	for (int s = 0; s < mem->nr_slots; s++) {
		const struct memory_slot *slot = &mem->slots[s];
		if (slot->guest_readonly)
			continue;
		if (n == max)
			return -ENOSPC;
		runs[n].gpa = slot->gpa;
		runs[n].pages = slot->size / PAGE;
		n++;
		uint64_t first = 0, last = 0;
		int more = *hole ? 0 : memory_slot_data_range(slot, 0, &first, &last);
		if (more < 0)
			return more;
		if (!*hole && (more == 0 || first > 0))
			*hole = slot->gpa;
		else if (!*hole && last < slot->size)
			*hole = slot->gpa + last;
	}
	return n;
}

void arm64_timer_frequency_problem(uint64_t saved, uint64_t here, char *buf, size_t size)
{
	if (!saved || saved == here) {
		if (size)
			buf[0] = 0;
		return;
	}
	snprintf(buf, size,
		 "timer: the guest's counter ran at %" PRIu64 " Hz on the source host and runs at %" PRIu64
		 " Hz here; the guest reads the frequency from the hardware, so its clocks would run %.3gx as fast",
		 saved, here, (double)here / (double)saved);
}

/*
 * The pure half of an arm64 restore (restore_plan.c, unit-tested without KVM): which hosts need the stage-2
 * prefault (restore_prefault.c), which guest pages it maps, and whether this host's counter frequency can carry
 * the saved guest time.
 */
#ifndef ROAM_ARM64_RESTORE_PLAN_H
#define ROAM_ARM64_RESTORE_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct guest_memory;

/* A range of guest pages the prefault maps. */
struct arm64_prefault_run {
	uint64_t gpa;
	uint64_t pages;
};

/* Whether a CPU with this MIDR has Arm erratum 834220 (Cortex-A57 r0p0..r1p2). */
bool arm64_midr_has_erratum_834220(uint64_t midr);

/*
 * Every page of guest RAM (the PV-lock slot is skipped): one run per slot into runs[0..max), and in *hole the first
 * page that holds no data (0: none), for the stub. Returns the number of runs, -ENOSPC if more than max, or -errno.
 * The erratum-834220 prefault maps them all, holes included: a guest page table can be a page that was all zero when
 * saved (an emptied table still linked), so not restored, and a walk through it would hang there.
 */
int arm64_prefault_all_runs(const struct guest_memory *mem, struct arm64_prefault_run *runs, int max, uint64_t *hole);

/*
 * Writes into buf the one-line reason a guest whose counter ran at `saved` Hz cannot continue on a host whose
 * counter runs at `here` Hz, or "" if it can (equal frequencies, or `saved` 0: unknown, from a version-1 snapshot).
 */
void arm64_timer_frequency_problem(uint64_t saved, uint64_t here, char *buf, size_t size);

#endif

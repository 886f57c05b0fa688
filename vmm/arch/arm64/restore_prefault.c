/*
 * Restore prefault: before a restored guest runs, vCPU 0 executes a tiny stub with its MMU off that reads one word of
 * every page of guest RAM, so that KVM maps all of them at stage 2.
 *
 * Why: on hosts with Arm erratum 834220 (Cortex-A57 r0p0..r1p2) KVM does not trust HPFAR_EL2 for stage-2 translation
 * faults and resolves the faulting IPA with an AT S1E1R instruction instead - in the kernels we run (7.2) also for
 * faults taken during the guest's own stage-1 table walk. When the page holding a stage-1 table is not mapped at
 * stage 2, that AT fails the same way, and KVM re-enters the guest to retry, forever: the vCPU sits in KVM_RUN and
 * the guest never executes another instruction. A guest that built its page tables in this VM never meets it
 * (writing a table mapped its page), but a restored guest resumes with its MMU on over an empty stage 2. With the
 * stub's reads done with the MMU off (where the AT trivially succeeds), every table page is mapped before the guest
 * walks it. Holes too: a table page that was all zero when saved (Linux leaves emptied tables linked, e.g. after
 * MADV_DONTNEED) is not in the snapshot, and guest-images/pgtable.c hangs on cortex-a57 when only the restored
 * pages are mapped. The price is that all of guest RAM becomes resident, on affected hosts only. Measured on the lab's
 * cortex-a57 model: without it a restored guest makes no progress (docs/snapshot-format.md), with it it continues.
 *
 * The stub runs from a page that is a hole in the restored memory (or, if there is none, a page whose contents are
 * kept aside and put back), and the registers it changes are put back afterwards.
 */
#include "restore_prefault.h"
#include "restore_plan.h"

#include "arm64.h"
#include "core/log.h"
#include "core/memory.h"
#include "core/sys_ioctl.h"
#include "core/vcpu.h"
#include "core/vm.h"
#include "host_cpu.h"
#include "layout.h"
#include "snapshot/lazy_restore.h"

#include <errno.h>
#include <inttypes.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PAGE 4096u
#define STUB_RUNS_OFFSET 64u /* the run list follows the code, 16-byte aligned (LDP with the MMU off) */
#define STUB_MAX_RUNS ((PAGE - STUB_RUNS_OFFSET) / 16u)
#define SAVED_REGS 9

/*
 * x0 = run list (pairs of u64: first IPA, page count), x1 = number of runs, x5 = ARM64_PREFAULT_DONE:
 *   1: cbz x1, 4f;  ldp x2, x3, [x0], #16
 *   2: cbz x3, 3f;  ldr x4, [x2];  add x2, x2, #4096;  sub x3, x3, #1;  b 2b
 *   3: sub x1, x1, #1;  b 1b
 *   4: str xzr, [x5];  b 4b
 */
static const uint32_t prefault_stub[] = {
    0xb4000121, 0xa8c10c02, 0xb40000a3, 0xf9400044, 0x91400442, 0xd1000463,
    0x17fffffc, 0xd1000421, 0x17fffff8, 0xf90000bf, 0x17ffffff,
};

/* Whether any CPU of this host has the erratum (KVM enables its workaround if one does). */
static bool host_has_erratum_834220(void)
{
	uint64_t midr;
	for (int cpu = 0; arm64_host_id_reg(cpu, "midr_el1", &midr); cpu++)
		if (arm64_midr_has_erratum_834220(midr))
			return true;
	return false;
}

/* One KVM_RUN of the stub until it reports at ARM64_PREFAULT_DONE, then completes that MMIO exit. */
static int run_stub(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	for (;;) {
		long r = __SYS_IOCTL_VALUE(vcpu->fd, KVM_RUN, 0);
		if (r == -EINTR || r == -EAGAIN)
			continue;
		if (r < 0)
			return log_errno((int)r, "restore prefault: KVM_RUN: %s", strerror((int)-r));
		if (run->exit_reason == KVM_EXIT_MMIO && run->mmio.is_write &&
		    run->mmio.phys_addr == ARM64_PREFAULT_DONE)
			break;
		uint64_t pc = 0;
		arm64_get_reg(vcpu, arm64_core_reg_pc(), &pc, "PC");
		return log_errno(-EIO, "restore prefault: the stub stopped with exit reason %u at PC %#" PRIx64,
				 run->exit_reason, pc);
	}
	/* KVM completes an MMIO exit (and steps past the store) on the next KVM_RUN: do that one without entering. */
	run->immediate_exit = 1;
	long r = __SYS_IOCTL_VALUE(vcpu->fd, KVM_RUN, 0);
	run->immediate_exit = 0;
	return r == -EINTR ? 0 : log_errno(-EIO, "restore prefault: completing the stub's exit: %ld", r);
}

static int run_passes(struct vcpu *vcpu, uint8_t *page, uint64_t page_gpa, const struct arm64_prefault_run *runs,
		      int nr_runs)
{
	int ret = 0;
	for (int done = 0; !ret && done < nr_runs; done += (int)STUB_MAX_RUNS) {
		int n = nr_runs - done < (int)STUB_MAX_RUNS ? nr_runs - done : (int)STUB_MAX_RUNS;
		for (int i = 0; i < n; i++) {
			uint64_t pair[2] = {runs[done + i].gpa, runs[done + i].pages};
			memcpy(page + STUB_RUNS_OFFSET + 16u * (unsigned)i, pair, sizeof(pair));
		}
		arm64_host_clean_to_poc(page, PAGE); /* the stub reads its page with the MMU off */
		const uint64_t set[][2] = {
		    {arm64_core_reg_x(0), page_gpa + STUB_RUNS_OFFSET},
		    {arm64_core_reg_x(1), (uint64_t)n},
		    {arm64_core_reg_x(5), ARM64_PREFAULT_DONE},
		    {arm64_core_reg_pc(), page_gpa},
		    {arm64_core_reg_pstate(), 0x3c5}, /* EL1h, DAIF masked */
		};
		for (size_t i = 0; !ret && i < sizeof(set) / sizeof(set[0]); i++)
			ret = arm64_set_reg(vcpu, set[i][0], set[i][1], "prefault stub register");
		if (!ret)
			ret = run_stub(vcpu);
	}
	return ret;
}

static int prefault(struct vm *vm, const struct arm64_prefault_run *runs, int nr_runs, uint64_t hole)
{
	struct vcpu *vcpu = &vm->vcpus[0];
	const uint64_t sctlr = ARM64_SYS_REG(3, 0, 1, 0, 0);
	const uint64_t ids[SAVED_REGS] = {
	    arm64_core_reg_x(0), arm64_core_reg_x(1),	  arm64_core_reg_x(2),
	    arm64_core_reg_x(3), arm64_core_reg_x(4),	  arm64_core_reg_x(5),
	    arm64_core_reg_pc(), arm64_core_reg_pstate(), sctlr,
	};
	uint64_t saved[SAVED_REGS];
	struct kvm_mp_state mp;
	int ret = (int)SYS_IOCTL(vcpu->fd, KVM_GET_MP_STATE, &mp, vcpu->name);
	for (int i = 0; !ret && i < SAVED_REGS; i++)
		ret = arm64_get_reg(vcpu, ids[i], &saved[i], "register before the prefault stub");
	if (ret)
		return ret < 0 ? ret : -EIO;

	/* The stub's page: a hole (zero in the guest, zero again afterwards), else the last RAM page, kept aside. */
	uint64_t page_gpa = hole ? hole : runs[nr_runs - 1].gpa + (runs[nr_runs - 1].pages - 1) * PAGE;
	uint8_t *page = memory_gpa_to_host(&vm->mem, page_gpa, PAGE);
	uint8_t *kept = hole ? NULL : malloc(PAGE);
	if (!page || (!hole && !kept)) {
		free(kept);
		return log_errno(-ENOMEM, "restore prefault: no page for the stub");
	}
	if (kept)
		memcpy(kept, page, PAGE);
	memset(page, 0, PAGE);
	memcpy(page, prefault_stub, sizeof(prefault_stub));

	struct kvm_mp_state runnable = {.mp_state = KVM_MP_STATE_RUNNABLE};
	ret = (int)SYS_IOCTL(vcpu->fd, KVM_SET_MP_STATE, &runnable, vcpu->name);
	if (!ret)
		ret = arm64_set_reg(vcpu, sctlr, saved[SAVED_REGS - 1] & ~(uint64_t)1, "SCTLR_EL1 (MMU off)");
	if (!ret)
		ret = run_passes(vcpu, page, page_gpa, runs, nr_runs);

	if (kept)
		memcpy(page, kept, PAGE);
	else
		memset(page, 0, PAGE);
	arm64_host_clean_to_poc(page, PAGE);
	free(kept);
	for (int i = 0; i < SAVED_REGS; i++) {
		int r = arm64_set_reg(vcpu, ids[i], saved[i], "register after the prefault stub");
		ret = ret ? ret : r;
	}
	int r = (int)SYS_IOCTL(vcpu->fd, KVM_SET_MP_STATE, &mp, vcpu->name);
	return ret ? ret : r;
}

int arm64_restore_prefault(struct vm *vm)
{
	enum vm_prefault mode = vm->cfg.prefault;
	bool erratum = mode != VM_PREFAULT_OFF && host_has_erratum_834220();
	if (mode == VM_PREFAULT_OFF || (mode == VM_PREFAULT_AUTO && !erratum))
		return 0;
	/* Every page is touched below: a lazy restore would load it all anyway, so load it now, eagerly. */
	if (vm->lazy && lazy_restore_load_all(vm->lazy) < 0)
		return -EIO;
	/* The run list, in an array grown until it holds every range. */
	struct arm64_prefault_run *runs = NULL;
	uint64_t hole = 0;
	int nr = -ENOSPC;
	for (int max = 256; nr == -ENOSPC && max <= (1 << 22); max *= 4) {
		free(runs);
		if (!(runs = calloc((size_t)max, sizeof(*runs))))
			return -ENOMEM;
		nr = arm64_prefault_all_runs(&vm->mem, runs, max, &hole);
	}
	int ret = 0;
	if (nr < 0) {
		ret = log_errno(nr, "restore prefault: cannot list the restored memory: %s", strerror(-nr));
	} else if (nr > 0) {
		uint64_t pages = 0, t0 = vm_now_ns();
		for (int i = 0; i < nr; i++)
			pages += runs[i].pages;
		ret = prefault(vm, runs, nr, hole);
		if (!ret)
			log_info(
			    "restore: mapped all %" PRIu64 " pages of guest RAM (%d ranges) at stage 2 in %.1f ms%s",
			    pages, nr, (vm_now_ns() - t0) / 1e6, erratum ? " (this host has Arm erratum 834220)" : "");
	}
	free(runs);
	return ret;
}

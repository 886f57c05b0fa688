/*
 * KVM_RUN of the fake arm64 KVM (test_arm64_fakekvm.h). The only guest code roam runs itself is the restore
 * prefault stub (vmm/arch/arm64/restore_prefault.c), with the MMU off; the fake runs such code with a small A64
 * interpreter of the instructions it uses (CBZ/CBNZ, B, LDP post-index, LDR/STR with an unsigned offset, ADD/SUB
 * immediate), so the stub's hand-assembled encoding is tested too. Every page the guest reads or fetches from is
 * marked as mapped at stage 2; a store outside RAM is an MMIO exit, which the next KVM_RUN completes (moving the PC
 * on) before it looks at immediate_exit, as KVM does. Anything else - the MMU on, a vCPU that is not runnable,
 * another instruction, a misaligned access (an alignment fault with the MMU off), too many instructions without an
 * exit - fails with ENOTTY and a "fake KVM: ..." line.
 */
#include "test_arm64_fakekvm.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

#define MAX_STEPS 50000000
#define SCTLR_EL1 ARM64_SYS_REG(3, 0, 1, 0, 0)

struct cpu {
	struct fakekvm_vm *vm;
	uint64_t x[32]; /* x[31] reads as zero (XZR); the stub does not use SP */
	uint64_t pc;
};

static uint64_t x_id(int n)
{
	return fakekvm_core_reg(offsetof(struct kvm_regs, regs.regs) + 8 * (size_t)n, KVM_REG_SIZE_U64);
}

static uint64_t pc_id(void)
{
	return fakekvm_core_reg(offsetof(struct kvm_regs, regs.pc), KVM_REG_SIZE_U64);
}

static int64_t sign_extend(uint64_t v, int bits)
{
	uint64_t sign = 1ull << (bits - 1);
	return (int64_t)((v ^ sign) - sign);
}

/* Guest RAM for an access of `len` bytes (marking its page mapped at stage 2), or NULL outside RAM. */
static uint8_t *ram(struct cpu *cpu, uint64_t gpa, uint64_t len, bool write)
{
	for (int s = 0; s < FAKEKVM_MAX_SLOTS; s++) {
		struct fakekvm_slot *slot = &cpu->vm->slots[s];
		const struct kvm_userspace_memory_region *r = &slot->region;
		if (!r->memory_size || gpa < r->guest_phys_addr || gpa - r->guest_phys_addr >= r->memory_size)
			continue;
		if ((write && (r->flags & KVM_MEM_READONLY)) || gpa - r->guest_phys_addr > r->memory_size - len)
			return NULL;
		slot->stage2[(gpa - r->guest_phys_addr) / FAKEKVM_PAGE] = 1;
		return (uint8_t *)(uintptr_t)r->userspace_addr + (gpa - r->guest_phys_addr);
	}
	return NULL;
}

static void set_x(struct cpu *cpu, uint32_t n, uint64_t v)
{
	if (n != 31)
		cpu->x[n] = v;
}

/* An MMIO exit for the access at the PC; the next KVM_RUN completes it (a load takes run->mmio.data). */
static long mmio_exit(struct fakekvm_vcpu *c, uint64_t gpa, const uint64_t *store)
{
	struct kvm_run *run = c->run;
	run->exit_reason = KVM_EXIT_MMIO;
	run->mmio.phys_addr = gpa;
	run->mmio.len = 8;
	run->mmio.is_write = store != NULL;
	memset(run->mmio.data, 0, sizeof(run->mmio.data));
	if (store)
		memcpy(run->mmio.data, store, 8);
	c->mmio_pending = true;
	return 0;
}

/* Runs one instruction: 1 to go on, 0 after an exit was set up, or -ENOTTY. */
static long step(struct cpu *cpu, struct fakekvm_vcpu *c)
{
	const uint8_t *code = ram(cpu, cpu->pc, 4, false);
	if (!code || cpu->pc % 4)
		return fakekvm_refuse("vCPU %d fetches at %#llx, outside RAM or misaligned", c->id,
				      (unsigned long long)cpu->pc);
	uint32_t i;
	memcpy(&i, code, 4);
	uint32_t rt = i & 31, rn = (i >> 5) & 31, rt2 = (i >> 10) & 31;
	if ((i & 0x7e000000) == 0x34000000) { /* CBZ, CBNZ */
		uint64_t v = i >> 31 ? cpu->x[rt] : (uint32_t)cpu->x[rt];
		bool jump = (v == 0) != ((i >> 24) & 1);
		cpu->pc += jump ? (uint64_t)(sign_extend((i >> 5) & 0x7ffff, 19) * 4) : 4;
		return 1;
	}
	if ((i & 0xfc000000) == 0x14000000) { /* B */
		cpu->pc += (uint64_t)(sign_extend(i & 0x3ffffff, 26) * 4);
		return 1;
	}
	if ((i & 0xff000000) == 0x91000000 || (i & 0xff000000) == 0xd1000000) { /* ADD, SUB (immediate, 64-bit) */
		uint64_t imm = (uint64_t)((i >> 10) & 0xfff) << ((i >> 22) & 1 ? 12 : 0);
		if (rn == 31 || rt == 31)
			return fakekvm_refuse("ADD/SUB with SP at %#llx", (unsigned long long)cpu->pc);
		set_x(cpu, rt, (i >> 30) & 1 ? cpu->x[rn] - imm : cpu->x[rn] + imm);
		cpu->pc += 4;
		return 1;
	}
	bool ldp = (i & 0xffc00000) == 0xa8c00000, ldr = (i & 0xffc00000) == 0xf9400000,
	     str = (i & 0xffc00000) == 0xf9000000;
	if (!ldp && !ldr && !str)
		return fakekvm_refuse("instruction %#010x at %#llx: it runs only the restore prefault stub's", i,
				      (unsigned long long)cpu->pc);
	if (rn == 31)
		return fakekvm_refuse("a load or store through SP at %#llx", (unsigned long long)cpu->pc);
	uint64_t gpa = cpu->x[rn] + (ldp ? 0 : (uint64_t)((i >> 10) & 0xfff) * 8);
	if (gpa % 8)
		return fakekvm_refuse("vCPU %d: misaligned access at %#llx with its MMU off (an alignment fault)",
				      c->id, (unsigned long long)gpa);
	uint8_t *p = ram(cpu, gpa, ldp ? 16 : 8, str);
	uint64_t v[2] = {0, 0};
	if (str) {
		v[0] = rt == 31 ? 0 : cpu->x[rt];
		if (!p)
			return mmio_exit(c, gpa, v);
		memcpy(p, v, 8);
	} else if (!p && ldr) {
		return mmio_exit(c, gpa, NULL);
	} else if (!p) {
		return fakekvm_refuse("LDP outside RAM at %#llx: KVM cannot emulate it", (unsigned long long)gpa);
	} else {
		memcpy(v, p, ldp ? 16 : 8);
		set_x(cpu, rt, v[0]);
		if (ldp) {
			set_x(cpu, rt2, v[1]);
			set_x(cpu, rn, cpu->x[rn] + (uint64_t)(sign_extend((i >> 15) & 0x7f, 7) * 8));
		}
	}
	cpu->pc += 4;
	return 1;
}

/* KVM completes an MMIO exit on the next KVM_RUN, immediate_exit or not: a load takes its data, the PC moves on. */
static void complete_mmio(struct fakekvm_vm *vm, struct fakekvm_vcpu *c)
{
	uint64_t pc = fakekvm_reg_get64(vm, c, pc_id());
	if (!c->run->mmio.is_write) {
		uint32_t insn = 0;
		const uint8_t *code = fakekvm_guest(vm, pc, 4);
		uint64_t data;
		if (code)
			memcpy(&insn, code, 4);
		memcpy(&data, c->run->mmio.data, 8);
		if ((insn & 31) != 31)
			fakekvm_reg_put64(c, x_id((int)(insn & 31)), data);
	}
	fakekvm_reg_put64(c, pc_id(), pc + 4);
	c->mmio_pending = false;
}

long fakekvm_run(struct fakekvm_vm *vm, struct fakekvm_vcpu *c)
{
	if (!c->initialized)
		return -ENOEXEC;
	if (c->mmio_pending)
		complete_mmio(vm, c);
	if (c->run->immediate_exit)
		return -EINTR;
	if (c->mp_state != KVM_MP_STATE_RUNNABLE)
		return fakekvm_refuse("KVM_RUN of vCPU %d, which is not runnable (it would wait for an interrupt)",
				      c->id);
	if (fakekvm_reg_get64(vm, c, SCTLR_EL1) & 1)
		return fakekvm_refuse("KVM_RUN of vCPU %d with its MMU on: it runs only code with the MMU off", c->id);
	struct cpu cpu = {.vm = vm, .pc = fakekvm_reg_get64(vm, c, pc_id())};
	for (int n = 0; n < 31; n++)
		cpu.x[n] = fakekvm_reg_get64(vm, c, x_id(n));
	vm->ran = true;
	c->runs++;
	long ret = 1;
	for (long steps = 0; ret == 1 && steps < MAX_STEPS; steps++)
		ret = step(&cpu, c);
	if (ret == 1)
		ret = fakekvm_refuse("vCPU %d ran %d instructions without an exit", c->id, MAX_STEPS);
	for (int n = 0; n < 31; n++)
		fakekvm_reg_put64(c, x_id(n), cpu.x[n]);
	fakekvm_reg_put64(c, pc_id(), cpu.pc);
	return ret;
}

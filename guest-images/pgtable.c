/*
 * pgtable: a guest whose stage-1 page tables hold a table page that is all zero, the state Linux leaves after
 * MADV_DONTNEED empties a page-table page, or between linking a new table and filling it. Such a page is a hole in a
 * snapshot (zero pages are not stored). On a host with Arm erratum 834220 (Cortex-A57 r0p0..r1p2) KVM resolves a
 * stage-2 fault taken during the guest's table walk with AT S1E1R, which fails when the table page itself is not
 * mapped at stage 2: the vCPU then re-enters forever. roam's restore prefault must map such pages too
 * (restore_prefault.c); tests/lab/migrate.sh restores this guest on cortex-a57 to prove it.
 *
 * The guest links the page at EMPTY_TABLE_PA (40 MiB into RAM, far from everything else it touches, so that no
 * range of restored pages around it maps it by chance; run it with -m 64 or more) as the level-2 table of the 1 GiB
 * at PROBE_VA, leaving it zero, then
 * prints "pgtable: N faults=F" for N = 1..PGTABLE_LAST at PGTABLE_HZ of virtual time, each time after a load from
 * PROBE_VA that must take exactly one level-2 translation fault (its own vector entry counts it and skips the
 * load). It reports DONE after the last line.
 */
#include "guest.h"

#define PGTABLE_LAST 80
#define PGTABLE_HZ 20
#define PROBE_VA (100ull << 30) /* level-1 entry 100: nothing else there */
#define ESR_EC(esr) (((esr) >> 26) & 0x3f)
#define EC_DABT_CUR 0x25
#define DFSC_TRANS_L2 0x06

#define EMPTY_TABLE_PA (0x40000000ull + (40ull << 20)) /* ARM64_RAM_BASE + 40 MiB */
volatile uint64_t pgtable_faults, pgtable_esr;

/*
 * The vectors: a synchronous exception from the current EL with SP_ELx (offset 0x200) counts, records ESR_EL1 and
 * skips the faulting instruction; every other entry goes to the library's (which reports it and aborts).
 */
__asm__(".section .text\n"
	".balign 2048\n"
	"pgtable_vectors:\n"
	".irp idx, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15\n"
	".balign 128\n"
	".if \\idx == 4\n"
	"	stp x0, x1, [sp, #-16]!\n"
	"	mrs x0, elr_el1\n"
	"	add x0, x0, #4\n"
	"	msr elr_el1, x0\n"
	"	mrs x1, esr_el1\n"
	"	adrp x0, pgtable_esr\n"
	"	str x1, [x0, :lo12:pgtable_esr]\n"
	"	adrp x0, pgtable_faults\n"
	"	ldr x1, [x0, :lo12:pgtable_faults]\n"
	"	add x1, x1, #1\n"
	"	str x1, [x0, :lo12:pgtable_faults]\n"
	"	ldp x0, x1, [sp], #16\n"
	"	eret\n"
	".else\n"
	"	b guest_vectors + \\idx * 128\n"
	".endif\n"
	".endr\n");

extern const char pgtable_vectors[];

static uint64_t counter(void)
{
	isb();
	return read_sysreg(cntvct_el0);
}

static void link_empty_table(void)
{
	uint64_t *l1 = (uint64_t *)(read_sysreg(ttbr0_el1) & 0x0000fffffffff000ull); /* identity-mapped */
	l1[PROBE_VA >> 30] = EMPTY_TABLE_PA | 3; /* a table descriptor; the page reads as zero: every entry invalid */
	dsb(ishst);
	__asm__ volatile("tlbi vmalle1is" : : : "memory");
	dsb(ish);
	isb();
}

/* One load from PROBE_VA: exactly one level-2 translation fault, skipped by the vector. */
static void probe(void)
{
	uint64_t before = pgtable_faults;
	__asm__ volatile("ldr xzr, [%0]" : : "r"(PROBE_VA) : "memory");
	GUEST_ASSERT_EQ(pgtable_faults, before + 1);
	GUEST_ASSERT_EQ(ESR_EC(pgtable_esr), EC_DABT_CUR);
	GUEST_ASSERT_EQ(pgtable_esr & 0x3f, DFSC_TRANS_L2);
}

void guest_main(uint64_t dtb)
{
	(void)dtb;
	write_sysreg(vbar_el1, (uint64_t)(uintptr_t)pgtable_vectors);
	isb();
	link_empty_table();
	uint64_t step = read_sysreg(cntfrq_el0) / PGTABLE_HZ;
	uint64_t last = counter();
	for (unsigned int n = 1; n <= PGTABLE_LAST; n++) {
		while (counter() < last + step)
			cpu_relax();
		last = counter();
		probe();
		guest_printf("pgtable: %u faults=%llu\n", n, (unsigned long long)pgtable_faults);
	}
	guest_printf("pgtable: done\n");
	GUEST_DONE();
}

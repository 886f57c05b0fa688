/*
 * Entry code of roam's bare-metal arm64 test guests.
 *
 * The file starts with an arm64 Linux Image header (Documentation/arch/arm64/booting.rst), so roam loads it at
 * ARM64_RAM_BASE + text_offset (0) and enters at _start with x0 = DTB address, EL1h, MMU off, DAIF masked. The
 * boot vCPU takes its stack (indexed by MPIDR Aff0), installs the exception vectors, builds the identity map
 * (4 KiB granule, 39-bit VA, one level-1 table of 1 GiB blocks: Device-nGnRnE below ARM64_RAM_BASE, Normal
 * write-back inner-shareable from there on), turns the MMU and caches on, zeroes bss and calls guest_boot(dtb).
 * vCPUs started by guest_smp_start() enter at guest_secondary_entry (x0 = PSCI context id) and do the same minus
 * the page table and bss, then call guest_secondary_boot(context id).
 *
 * Registers x19 and up are used for values that must survive the helper calls; the helpers use x0..x7 only.
 */
#include "arch/arm64/layout.h"
#include "guest.h"

#if (ARM64_RAM_BASE & 0x3fffffff) != 0
#error "the identity map uses 1 GiB blocks: ARM64_RAM_BASE must be 1 GiB aligned"
#endif

/* MAIR_EL1 attribute indices and their encodings. */
#define MT_DEVICE_nGnRnE 0
#define MT_NORMAL 1
#define MAIR_VALUE ((0x00 << (8 * MT_DEVICE_nGnRnE)) | (0xff << (8 * MT_NORMAL))) /* Normal: inner/outer WB RW-alloc */

/* Level-1 block descriptor bits. */
#define PTE_BLOCK 0x1
#define PTE_ATTRINDX(idx) ((idx) << 2)
#define PTE_SH_INNER (3 << 8)
#define PTE_AF (1 << 10)
#define PTE_PXN (1 << 53)
#define PTE_UXN (1 << 54)
#define PTE_DEVICE (PTE_BLOCK | PTE_ATTRINDX(MT_DEVICE_nGnRnE) | PTE_AF | PTE_PXN | PTE_UXN)
#define PTE_NORMAL (PTE_BLOCK | PTE_ATTRINDX(MT_NORMAL) | PTE_SH_INNER | PTE_AF | PTE_UXN)
#define BLOCK_SHIFT 30 /* 1 GiB */
#define PTRS_PER_TABLE 512

/* TCR_EL1: TTBR0 walks 39-bit VAs from level 1 with cacheable inner-shareable walks; TTBR1 walks are disabled. */
#define TCR_T0SZ (64 - 39)
#define TCR_IRGN0_WBWA (1 << 8)
#define TCR_ORGN0_WBWA (1 << 10)
#define TCR_SH0_INNER (3 << 12)
#define TCR_TG0_4K (0 << 14)
#define TCR_EPD1 (1 << 23)
#define TCR_TG1_4K (2 << 30)
#define TCR_IPS_SHIFT 32
#define TCR_VALUE (TCR_T0SZ | TCR_IRGN0_WBWA | TCR_ORGN0_WBWA | TCR_SH0_INNER | TCR_TG0_4K | TCR_EPD1 | TCR_TG1_4K)

/* SCTLR_EL1 bits we set (M, C, I) and clear (A: no alignment faults; WXN; EE/E0E: little-endian). */
#define SCTLR_M (1 << 0)
#define SCTLR_A (1 << 1)
#define SCTLR_C (1 << 2)
#define SCTLR_I (1 << 12)
#define SCTLR_WXN (1 << 19)
#define SCTLR_E0E (1 << 24)
#define SCTLR_EE (1 << 25)

/* The 64-byte arm64 Image header. image_size (from the linker script) covers bss, the stacks and the page table. */
	.section ".text.head", "ax"
	.globl	_start
_start:
	b	primary_entry		/* code0 */
	.long	0			/* code1 */
	.quad	0			/* text_offset: load at ARM64_RAM_BASE, where we are linked */
	.quad	__image_size		/* image_size */
	.quad	(1 << 1)		/* flags: little-endian, 4 KiB pages, base as close to the start of RAM as can be */
	.quad	0, 0, 0			/* res2..res4 */
	.ascii	"ARM\x64"		/* magic */
	.long	0			/* res5 */

	.text
primary_entry:
	mov	x19, x0			/* DTB */
	bl	cpu_index
	mov	x20, x0
	bl	cpu_common_setup
	bl	build_page_table
	bl	enable_mmu
	/* Zero bss through the cache (the MMU is on, so no cache maintenance is needed). */
	adrp	x0, __bss_start
	add	x0, x0, :lo12:__bss_start
	adrp	x1, __bss_end
	add	x1, x1, :lo12:__bss_end
1:	cmp	x0, x1
	b.hs	2f
	stp	xzr, xzr, [x0], #16
	b	1b
2:	mov	x0, x19
	bl	guest_boot
	b	guest_halt

	.globl	guest_secondary_entry
guest_secondary_entry:
	mov	x19, x0			/* PSCI context id: the C entry point */
	bl	cpu_index
	mov	x20, x0
	bl	cpu_common_setup
	bl	enable_mmu
	mov	x0, x19
	bl	guest_secondary_boot
	b	guest_halt

/*
 * x0 = this vCPU's index (MPIDR Aff0). A vCPU without a stack slot (Aff1..Aff3 set or Aff0 >= GUEST_MAX_CPUS)
 * reports guest_bad_cpu_ucall, a prebuilt UCALL_ABORT, and stops.
 */
cpu_index:
	mrs	x0, mpidr_el1
	ubfx	x1, x0, #8, #16		/* Aff2:Aff1 */
	ubfx	x2, x0, #32, #8		/* Aff3 */
	orr	x1, x1, x2
	cbnz	x1, 1f
	and	x0, x0, #0xff
	cmp	x0, #GUEST_MAX_CPUS
	b.hs	1f
	ret
1:	adrp	x0, guest_bad_cpu_ucall
	add	x0, x0, :lo12:guest_bad_cpu_ucall
	dsb	sy
	ldr	x1, =ARM64_UCALL_BASE
	str	x0, [x1]
2:	wfi
	b	2b

/* x20 = vCPU index: sp = top of its stack, clean frame chain, exception vectors. */
cpu_common_setup:
	adrp	x0, __stacks_start
	add	x0, x0, :lo12:__stacks_start
	add	x1, x20, #1
	mov	x2, #GUEST_STACK_SIZE
	madd	x0, x1, x2, x0
	mov	sp, x0
	mov	x29, #0
	adrp	x0, guest_vectors
	add	x0, x0, :lo12:guest_vectors
	msr	vbar_el1, x0
	isb
	ret

/*
 * x0 = start, x1 = end: invalidate the data cache lines of [start, end) to the point of coherency, so that memory
 * written with the MMU off is not hidden or overwritten by stale lines once the table walker reads it cached.
 */
dcache_inval_poc:
	mrs	x2, ctr_el0
	ubfx	x2, x2, #16, #4		/* DminLine: log2 of the line size in words */
	mov	x3, #4
	lsl	x2, x3, x2
	sub	x3, x2, #1
	bic	x0, x0, x3
1:	dc	ivac, x0
	add	x0, x0, x2
	cmp	x0, x1
	b.lo	1b
	dsb	sy
	ret

/* Boot vCPU only, MMU off: fill the level-1 table with 512 identity-mapped 1 GiB blocks. */
build_page_table:
	mov	x7, x30
	adrp	x0, __pgtable_start
	add	x0, x0, :lo12:__pgtable_start
	add	x1, x0, #(PTRS_PER_TABLE * 8)
	bl	dcache_inval_poc
	adrp	x4, __pgtable_start
	add	x4, x4, :lo12:__pgtable_start
	ldr	x5, =ARM64_RAM_BASE
	mov	x6, #0			/* block index */
1:	lsl	x0, x6, #BLOCK_SHIFT
	ldr	x1, =PTE_DEVICE
	ldr	x2, =PTE_NORMAL
	cmp	x0, x5
	csel	x1, x1, x2, lo
	orr	x0, x0, x1
	str	x0, [x4, x6, lsl #3]
	add	x6, x6, #1
	cmp	x6, #PTRS_PER_TABLE
	b.lo	1b
	dmb	sy
	mov	x0, x4
	add	x1, x4, #(PTRS_PER_TABLE * 8)
	bl	dcache_inval_poc
	mov	x30, x7
	ret

/* MMU off -> on with the table at __pgtable_start. */
enable_mmu:
	ldr	x0, =MAIR_VALUE
	msr	mair_el1, x0
	ldr	x0, =TCR_VALUE
	mrs	x1, id_aa64mmfr0_el1
	and	x1, x1, #0xf		/* PARange */
	mov	x2, #5			/* at most 48 bits: 52-bit output needs more than a 4 KiB granule without LPA2 */
	cmp	x1, x2
	csel	x1, x1, x2, lo
	orr	x0, x0, x1, lsl #TCR_IPS_SHIFT
	msr	tcr_el1, x0
	adrp	x0, __pgtable_start
	add	x0, x0, :lo12:__pgtable_start
	msr	ttbr0_el1, x0
	isb
	tlbi	vmalle1
	ic	iallu
	dsb	nsh
	isb
	mrs	x0, sctlr_el1
	ldr	x1, =(SCTLR_M | SCTLR_C | SCTLR_I)
	orr	x0, x0, x1
	ldr	x1, =(SCTLR_A | SCTLR_WXN | SCTLR_E0E | SCTLR_EE)
	bic	x0, x0, x1
	msr	sctlr_el1, x0
	isb
	ret

	.ltorg

/*
 * The exception vectors: 16 entries of 128 bytes (current EL with SP_EL0, current EL with SP_ELx, lower EL AArch64,
 * lower EL AArch32; each sync, IRQ, FIQ, SError). Every entry saves x0..x30 and calls
 * guest_exception_report(vector index, saved registers), which reports a UCALL_ABORT and does not return.
 */
#define EXC_FRAME_SIZE (32 * 8)

	.section ".text.vectors", "ax"
	.balign	2048
	.globl	guest_vectors
guest_vectors:
	.irp	idx, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
	.balign	128
	sub	sp, sp, #EXC_FRAME_SIZE
	stp	x0, x1, [sp, #(0 * 8)]
	mov	x0, #\idx
	b	exception_common
	.endr

exception_common:
	stp	x2, x3, [sp, #(2 * 8)]
	stp	x4, x5, [sp, #(4 * 8)]
	stp	x6, x7, [sp, #(6 * 8)]
	stp	x8, x9, [sp, #(8 * 8)]
	stp	x10, x11, [sp, #(10 * 8)]
	stp	x12, x13, [sp, #(12 * 8)]
	stp	x14, x15, [sp, #(14 * 8)]
	stp	x16, x17, [sp, #(16 * 8)]
	stp	x18, x19, [sp, #(18 * 8)]
	stp	x20, x21, [sp, #(20 * 8)]
	stp	x22, x23, [sp, #(22 * 8)]
	stp	x24, x25, [sp, #(24 * 8)]
	stp	x26, x27, [sp, #(26 * 8)]
	stp	x28, x29, [sp, #(28 * 8)]
	str	x30, [sp, #(30 * 8)]
	mov	x1, sp
	bl	guest_exception_report
	b	guest_halt

/* Stacks (GUEST_MAX_CPUS * GUEST_STACK_SIZE) and the level-1 table: not in the file, inside image_size. */
	.section ".stacks", "aw", %nobits
	.balign	16
	.space	GUEST_MAX_CPUS * GUEST_STACK_SIZE

	.section ".pgtable", "aw", %nobits
	.balign	4096
	.space	PTRS_PER_TABLE * 8

/*
 * The wait loop secondary vCPUs start in (placed in the boot-info window; layout.h). LoongArch Linux starts a
 * secondary CPU by writing its entry address into the CPU's IPI mailbox 0 (IOCSR 0x1020) and sending it an IPI,
 * as firmware expects. This loop enables the IPI line, then until the mailbox holds an address: waits in `idle`,
 * acknowledges the IPI, and reads the mailbox; then it jumps there (still in direct-address mode, as at reset).
 * Position independent. Assembled into roam's read-only data and copied into the guest; never run by roam.
 */
	.section .rodata.loongarch_stub, "a"
	.p2align 3
	.globl loongarch_secondary_stub
	.globl loongarch_secondary_stub_end
loongarch_secondary_stub:
	li.w		$t0, 0x1000		/* ECFG.LIE bit 12: the IPI line */
	csrwr		$t0, 0x4		/* ECFG */
	li.w		$t0, -1
	li.w		$t1, 0x1004		/* IOCSR IPI_EN: every IPI action */
	iocsrwr.w	$t0, $t1
	li.w		$t1, 0x1020		/* IOCSR MBUF0 */
1:	iocsrrd.d	$t2, $t1
	bnez		$t2, 2f
	idle		0
	li.w		$t0, -1
	li.w		$t3, 0x100c		/* IOCSR IPI_CLEAR */
	iocsrwr.w	$t0, $t3
	b		1b
2:	jirl		$zero, $t2, 0
loongarch_secondary_stub_end:

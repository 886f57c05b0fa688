/*
 * The arm64 guest physical memory map, as data (after QEMU's hw/arm/virt.c).
 *
 * Everything that needs a guest address (the VM setup, devices, the device tree, test guests and unit tests) reads
 * it from here; there are no literal guest addresses elsewhere. The macros are usable from assembly and linker
 * scripts (define __ASSEMBLER__); C code should prefer the table.
 */
#ifndef ROAM_ARCH_ARM64_LAYOUT_H
#define ROAM_ARCH_ARM64_LAYOUT_H

#define ARM64_GIC_DIST_BASE 0x08000000
#define ARM64_GIC_DIST_SIZE 0x00010000
#define ARM64_GIC_ITS_BASE 0x08080000
#define ARM64_GIC_ITS_SIZE 0x00020000
#define ARM64_GIC_REDIST_BASE 0x080a0000
#define ARM64_GIC_REDIST_SIZE 0x00f60000 /* 123 redistributors of 128 KiB */
#define ARM64_GIC_REDIST_STRIDE 0x00020000 /* one redistributor: RD_base and SGI_base frames */
#define ARM64_UART_BASE 0x09000000
#define ARM64_UART_SIZE 0x00001000
#define ARM64_UCALL_BASE 0x09010000 /* test guests report here (guest-images/include/ucall.h) */
#define ARM64_UCALL_SIZE 0x00001000
#define ARM64_PREFAULT_DONE 0x09020000 /* a restore's prefault stub reports here (restore_prefault.c) */
#define ARM64_PVLOCK_BASE 0x09100000 /* per-vCPU PV-lock structs: normal memory, read-only to the guest */
#define ARM64_PVLOCK_SIZE 0x00100000
#define ARM64_VIRTIO_BASE 0x0a000000
#define ARM64_VIRTIO_SIZE 0x00004000 /* 32 transports of 0x200 */
#define ARM64_RAM_BASE 0x40000000
#define ARM64_RAM_MAX_SIZE 0xffc0000000 /* up to the end of a 40-bit IPA space */

/* Interrupt numbers are SPI numbers (the GIC INTID minus 32). */
#define ARM64_UART_SPI 1
#define ARM64_VIRTIO_SPI_FIRST 16
#define ARM64_VIRTIO_SPI_COUNT 32
#define ARM64_NR_SPIS 96

/* Timer PPIs (INTID minus 16): secure physical, non-secure physical, virtual, hypervisor. */
#define ARM64_TIMER_PPI_SEC 13
#define ARM64_TIMER_PPI_PHYS 14
#define ARM64_TIMER_PPI_VIRT 11
#define ARM64_TIMER_PPI_HYP 10

#define ARM64_MAX_VCPUS 123

#ifndef __ASSEMBLER__
#include "core/layout.h"

/* The regions by name, in address order: LAYOUT_DEFINE makes enum arm64_region and the table arm64_layout. */
#define ARM64_REGIONS(M, P)                                                                                            \
	M(P, GIC_DIST, "gic-dist", ARM64_GIC_DIST_BASE, ARM64_GIC_DIST_SIZE)                                           \
	M(P, GIC_ITS, "gic-its", ARM64_GIC_ITS_BASE, ARM64_GIC_ITS_SIZE)                                               \
	M(P, GIC_REDIST, "gic-redist", ARM64_GIC_REDIST_BASE, ARM64_GIC_REDIST_SIZE)                                   \
	M(P, UART, "uart", ARM64_UART_BASE, ARM64_UART_SIZE)                                                           \
	M(P, UCALL, "ucall", ARM64_UCALL_BASE, ARM64_UCALL_SIZE)                                                       \
	M(P, PVLOCK, "pvlock", ARM64_PVLOCK_BASE, ARM64_PVLOCK_SIZE)                                                   \
	M(P, VIRTIO, "virtio", ARM64_VIRTIO_BASE, ARM64_VIRTIO_SIZE)                                                   \
	M(P, RAM, "ram", ARM64_RAM_BASE, ARM64_RAM_MAX_SIZE)
LAYOUT_DEFINE(arm64, ARM64, ARM64_REGIONS)
#endif

#endif

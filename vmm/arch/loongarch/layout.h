/*
 * The LoongArch guest physical memory map, as data (after QEMU's LoongArch "virt" machine: low RAM at 0, the
 * PCH-PIC at 0x10000000, the 16550 at 0x1fe001e0, high RAM from 0x80000000), and the IOCSR addresses of the
 * in-kernel interrupt controllers.
 *
 * Everything that needs a guest address (VM setup, devices, the device tree, the EFI tables, unit tests) reads it
 * from here; there are no literal guest addresses elsewhere. The boot-info window lies in the first 2 MiB of RAM,
 * which a LoongArch Linux kernel always reserves for firmware.
 */
#ifndef ROAM_ARCH_LOONGARCH_LAYOUT_H
#define ROAM_ARCH_LOONGARCH_LAYOUT_H

#include "core/layout.h"

#include <stdint.h>

#define LOONGARCH_LOWRAM_BASE 0x00000000ull
#define LOONGARCH_LOWRAM_SIZE 0x10000000ull /* 256 MiB, as the virt machine */
#define LOONGARCH_HIGHRAM_BASE 0x80000000ull
#define LOONGARCH_HIGHRAM_MAX_SIZE 0xff80000000ull /* up to the end of a 40-bit guest physical space */

/* The boot-info window in low RAM: device tree, EFI tables, command line, secondary-vCPU stub. */
#define LOONGARCH_BOOTINFO_BASE 0x00100000ull
#define LOONGARCH_BOOTINFO_SIZE 0x00100000ull
#define LOONGARCH_BOOT_FDT_OFFSET 0x00000 /* the device tree: at most 64 KiB (the kernel maps 64 KiB) */
#define LOONGARCH_BOOT_FDT_MAX 0x10000
#define LOONGARCH_BOOT_EFI_OFFSET 0x10000 /* EFI system table, configuration tables, memory map */
#define LOONGARCH_BOOT_EFI_MAX 0x10000
#define LOONGARCH_BOOT_CMDLINE_OFFSET 0x20000 /* the command line (a1) */
#define LOONGARCH_BOOT_CMDLINE_MAX 0x1000 /* the kernel's COMMAND_LINE_SIZE */
#define LOONGARCH_BOOT_STUB_OFFSET 0x21000 /* where secondary vCPUs wait for their start address */
#define LOONGARCH_BOOT_STUB_MAX 0x1000
#define LOONGARCH_KERNEL_MIN_BASE 0x00200000ull /* the kernel reserves RAM below this for firmware */

#define LOONGARCH_PCH_PIC_BASE 0x10000000ull
#define LOONGARCH_PCH_PIC_SIZE 0x00000400ull
#define LOONGARCH_POWER_BASE 0x100e0000ull /* power-off and reset registers (a syscon; the virt machine's GED) */
#define LOONGARCH_POWER_SIZE 0x00000100ull
#define LOONGARCH_VIRTIO_BASE 0x16000000ull /* the virt machine's platform bus */
#define LOONGARCH_VIRTIO_SIZE 0x00002000ull /* 16 transports of 0x200 */
#define LOONGARCH_UCALL_BASE 0x1e030000ull /* test guests report here (guest-images/include/ucall.h) */
#define LOONGARCH_UCALL_SIZE 0x00001000ull
#define LOONGARCH_PVLOCK_BASE 0x1e100000ull /* per-vCPU PV-lock structs: normal memory, read-only to the guest */
#define LOONGARCH_PVLOCK_SIZE 0x00100000ull
#define LOONGARCH_UART_BASE 0x1fe001e0ull
#define LOONGARCH_UART_SIZE 0x00000100ull

/* PCH-PIC input pins (= KVM_IRQ_LINE / irqfd GSIs through KVM's default routing). The PIC has 32 inputs. */
#define LOONGARCH_UART_PIN 2
#define LOONGARCH_VIRTIO_PIN_FIRST 16
#define LOONGARCH_VIRTIO_PIN_COUNT 16
#define LOONGARCH_PCH_PIC_PINS 32

/* IOCSR space (per-vCPU, reached with iocsrrd/iocsrwr). */
#define LOONGARCH_IOCSR_FEATURES 0x8
#define LOONGARCH_IOCSR_VENDOR 0x10
#define LOONGARCH_IOCSR_CPUNAME 0x20
#define LOONGARCH_IOCSR_MISC_FUNC 0x420
#define LOONGARCH_IOCSR_IPI_BASE 0x1000
#define LOONGARCH_IOCSR_IPI_EN 0x1004
#define LOONGARCH_IOCSR_IPI_CLEAR 0x100c
#define LOONGARCH_IOCSR_MBUF0 0x1020
#define LOONGARCH_IOCSR_EIOINTC_BASE 0x1400
#define LOONGARCH_IOCSR_EIOINTC_SIZE 0x900

/* The CPU interrupt line the EIOINTC drives (cpuintc hwirq 3 = HWI1). */
#define LOONGARCH_EIOINTC_PARENT_IRQ 3

/* Without the EIOINTC virtualization extension an interrupt routes to one of 4 cores; with it, to 256. */
#define LOONGARCH_EIOINTC_PLAIN_MAX_VCPUS 4
#define LOONGARCH_MAX_VCPUS 256

/* The regions by name, in address order: LAYOUT_DEFINE makes enum loongarch_region and the table loongarch_layout. */
#define LOONGARCH_REGIONS(M, P)                                                                                        \
	M(P, LOWRAM, "ram-low", LOONGARCH_LOWRAM_BASE, LOONGARCH_LOWRAM_SIZE)                                          \
	M(P, BOOTINFO, "boot-info", LOONGARCH_BOOTINFO_BASE, LOONGARCH_BOOTINFO_SIZE)                                  \
	M(P, PCH_PIC, "pch-pic", LOONGARCH_PCH_PIC_BASE, LOONGARCH_PCH_PIC_SIZE)                                       \
	M(P, POWER, "power", LOONGARCH_POWER_BASE, LOONGARCH_POWER_SIZE)                                               \
	M(P, VIRTIO, "virtio", LOONGARCH_VIRTIO_BASE, LOONGARCH_VIRTIO_SIZE)                                           \
	M(P, UCALL, "ucall", LOONGARCH_UCALL_BASE, LOONGARCH_UCALL_SIZE)                                               \
	M(P, PVLOCK, "pvlock", LOONGARCH_PVLOCK_BASE, LOONGARCH_PVLOCK_SIZE)                                           \
	M(P, UART, "uart", LOONGARCH_UART_BASE, LOONGARCH_UART_SIZE)                                                   \
	M(P, HIGHRAM, "ram-high", LOONGARCH_HIGHRAM_BASE, LOONGARCH_HIGHRAM_MAX_SIZE)
LAYOUT_DEFINE(loongarch, LOONGARCH, LOONGARCH_REGIONS)

#define LOONGARCH_MAX_RAM_BANKS 2

struct loongarch_ram_bank {
	uint64_t base;
	uint64_t size;
};

/*
 * Splits `ram_size` bytes of guest RAM into the low and high banks of the map (low first). Returns the number of
 * banks (1 or 2), or 0 when ram_size is 0 or larger than both banks together.
 */
int loongarch_ram_banks(uint64_t ram_size, struct loongarch_ram_bank banks[LOONGARCH_MAX_RAM_BANKS]);

#endif

/*
 * How a LoongArch guest powers off or resets: LoongArch has no PSCI, and roam has no ACPI, so the device tree
 * describes a "syscon" register window with "syscon-poweroff" and "syscon-reboot" on it (Linux drivers that Debian's
 * loong64 kernel builds in). A 32-bit write of LOONGARCH_POWER_VALUE to offset 0 powers off (roam exits 0), to
 * offset 4 resets (roam exits 3, as for a PSCI reset on arm64). Reads return 0. Stateless: nothing to snapshot.
 * The device-tree nodes are fdt.c's (pure); this file needs the VM.
 */
#ifndef ROAM_LOONGARCH_POWER_H
#define ROAM_LOONGARCH_POWER_H

#include <stdbool.h>
#include <stdint.h>

struct vm;

#define LOONGARCH_POWER_OFF_OFFSET 0x0
#define LOONGARCH_POWER_RESET_OFFSET 0x4
#define LOONGARCH_POWER_VALUE 0x1

/* Puts the register window on the VM's MMIO bus. Returns 0 or -errno (the bus's refusal). */
int loongarch_power_create(struct vm *vm);

/* The window's access handler (bus_access_fn): offsets within the window. */
int loongarch_power_access(void *vm, uint64_t offset, uint8_t *data, uint32_t len, bool is_write);

#endif

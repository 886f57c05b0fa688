/*
 * arm64 VMs on the fake KVM (test_arm64_fakekvm.h) for the snapshot tests: a small Image to boot, the
 * configuration of a VM with 2 vCPUs, the PV-lock region and a virtio-rng device, the state a guest that ran would
 * leave (registers, GIC, memory, counter), snapshot files written and restored the way roam run and roam restore do,
 * and comparisons of two VMs and of two snapshot files. The functions report what differs on stderr and return
 * counts; the tests CHECK them.
 */
#ifndef ROAM_TEST_ARM64_FAKE_VM_H
#define ROAM_TEST_ARM64_FAKE_VM_H

#include "core/vm.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FAKE_VM_RAM (64ull << 20)
#define FAKE_VM_CPUS 2

/* Writes the Image every VM boots (once per test program) and removes it. */
void fake_vm_setup(void);
void fake_vm_teardown(void);

/* The configuration of a booted VM: FAKE_VM_CPUS vCPUs, FAKE_VM_RAM, PV lock, virtio-rng, console to /dev/null. */
struct vm_config fake_vm_config(void);

/* Creates a VM on the fake KVM (the fake keeps its other VMs). Returns vm_create's result. */
int fake_vm_create(struct vm *vm, const struct vm_config *cfg);

/*
 * Gives the VM the state a guest that ran for a while leaves: registers, MP state, events, GIC, the virtio-rng
 * driver's setup (queue 0 ready, DRIVER_OK), memory, time.
 */
void fake_vm_run_guest(struct vm *vm);

/* The virtio-mmio window of the VM's virtio-rng device (0 if none), and a 32-bit register read through the bus. */
uint64_t fake_vm_rng_window(struct vm *vm);
uint32_t fake_vm_virtio_read(struct vm *vm, uint64_t gpa);

/* vm_snapshot_save to `path`; returns its result (its one-line error on stderr). */
int fake_vm_save(struct vm *vm, const char *path);

/*
 * Restores `path` as roam restore does: the configuration from the snapshot (and `prefault`), a new VM, then its
 * state, telling `hooks` (or NULL) as a migration's destination does. Returns 0, or the failing step's -errno; the
 * VM is left as that step left it, for the test to look at and vm_destroy in any case.
 */
struct component_walk_hooks;
int fake_vm_restore(struct vm *vm, const char *path, enum vm_prefault prefault,
		    const struct component_walk_hooks *hooks);

/* The same, with `edit` (or NULL) changing the configuration read from the snapshot before the VM is created. */
int fake_vm_restore_edited(struct vm *vm, const char *path, enum vm_prefault prefault,
			   const struct component_walk_hooks *hooks, void (*edit)(struct vm_config *cfg));

/*
 * Writes the VM to `path` through `table` (n components) instead of roam's own table, as vm_snapshot_save would:
 * for snapshots that lack, repeat or reorder sections. Returns 0 or -errno.
 */
struct component;
int fake_vm_save_table(struct vm *vm, const char *path, const struct component *const *table, int n);

/*
 * How many registers, MP states, events, GIC registers and memory slots differ between two VMs (each on stderr).
 * The counter registers are left out: they move with the host's counter (fake_vm_counter reads them).
 */
int fake_vm_differences(struct vm *a, struct vm *b);

/* Whether vCPU 0 still has its reset PC: no saved register reached it. */
bool fake_vm_untouched(struct vm *vm);

/* vCPU `v`'s guest counter: the virtual one (KVM_REG_ARM_TIMER_CNT), or the physical one. */
uint64_t fake_vm_counter(struct vm *vm, int v, bool physical);

/*
 * Compares two snapshot files section by section (the header but its creation time and CRC): returns how many
 * sections differ, named in `names` ("vm 0, vcpu 1"); 0 when the files are the same bytes but for the time.
 */
int fake_vm_file_differences(const char *a, const char *b, char *names, size_t size);

/* A fresh temporary path "/tmp/roam-arm64-<what>-XXXXXX" (no file). Returns path. */
char *fake_vm_temp_path(char path[64], const char *what);

#endif

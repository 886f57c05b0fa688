/*
 * The VM: owns the KVM file descriptors, guest memory, the MMIO bus, the devices and the vCPUs (DESIGN.md rule 1:
 * no state outside this struct, so several VMs can live in one process). Also the VM-wide stop reason: the first
 * component that stops the VM decides roam's exit status.
 */
#ifndef ROAM_VM_H
#define ROAM_VM_H

#include "bus.h"
#include "hypercalls/hypercall.h"
#include "hypercalls/services.h"
#include "memory.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct vcpu;
struct arch_vm;
struct pvlock;

/* roam's exit status: documented in docs/cli.md. */
enum roam_exit {
	ROAM_EXIT_POWEROFF = 0, /* PSCI SYSTEM_OFF, or a test guest's DONE */
	ROAM_EXIT_ERROR = 1, /* roam failed, or a test guest's ABORT */
	ROAM_EXIT_USAGE = 2, /* bad command line */
	ROAM_EXIT_RESET = 3, /* the guest asked for a reset; roam does not reboot guests */
	ROAM_EXIT_CRASH = 4, /* the guest reported a crash (PSCI SYSTEM_EVENT crash) */
	ROAM_EXIT_SIGNAL = 5, /* roam was told to stop (SIGTERM, SIGINT, SIGHUP, the console escape, the API's quit) */
	ROAM_EXIT_SNAPSHOT_STOPPED = 6, /* `snapshot --stop`: the guest's state is in the snapshot */
	ROAM_EXIT_MIGRATED = 7, /* a live migration moved the guest away: it runs on the destination */
};

#define VM_MAX_DEVICE_OPTIONS 32
#define VM_DEVICE_OPTION_NAME_MAX 24
#define VM_DEVICE_OPTION_VALUE_MAX 512

/*
 * A device option as given (`--disk a.img,ro`, `--rng`): the option's name ("disk") and value ("a.img,ro"; "" for
 * a flag). The device type that owns the option (devices/device.h) checked its syntax when it was given, and parses
 * it when it creates the device; snapshots record the options as they are.
 */
struct vm_device_option {
	char name[VM_DEVICE_OPTION_NAME_MAX];
	char value[VM_DEVICE_OPTION_VALUE_MAX];
};

/* restore --prefault: map the restored memory at stage 2 before the guest runs (arm64; see restore_prefault.c). */
enum vm_prefault {
	VM_PREFAULT_AUTO, /* when the host needs it (Arm erratum 834220) */
	VM_PREFAULT_ON,
	VM_PREFAULT_OFF,
};

struct vm_config {
	const char *kernel_path;
	const char *initrd_path; /* NULL for none */
	const char *cmdline; /* "" for none */
	uint64_t ram_size; /* bytes */
	int nr_vcpus;
	const char *kvm_path; /* "/dev/kvm" */
	int console_out_fd; /* where the UART writes, normally stdout */
	bool trace_ucall;
	bool trace_hypercalls;
	bool timing; /* --timing: report start-up milestones and memory at exit */
	const char *timing_marker; /* --timing-marker: also report when this text first appears on the console */
	const char *targets_path; /* --targets: NULL for none */
	const char *dump_dtb_path; /* --dump-dtb: also write the generated device tree there (NULL: no) */
	bool dry_run; /* --dry-run: set the VM up (KVM, memory, kernel, device tree, vCPUs) but run nothing */
	const char *targets_json; /* restore: the targets config carried in the snapshot (text), or NULL */
	bool force_host; /* --force-host: start even if this host is not a target */
	struct vm_device_option device_options[VM_MAX_DEVICE_OPTIONS]; /* --disk, --net, ...: in command-line order */
	int nr_device_options;
	const char *api_path; /* --api: the control socket (cmd_run serves it), NULL for none */
	bool incoming; /* restore --incoming: a disk still locked (by the source) is claimed when the guest arrives */
	bool start_paused; /* --paused: every vCPU starts paused (created -> paused) until resumed through the API */
	bool no_pvlock; /* --no-pvlock: no PV-lock region or hypercalls */
	enum vm_prefault prefault; /* restore --prefault */
	bool eager_restore; /* restore --eager: every page loaded and checked before the guest runs */
	const struct vm_restore_base *restore_base; /* restore of a diff snapshot: its base, or NULL */
};

#define VM_MAX_DEVICES 48 /* the fixed devices and up to 32 virtio transports */

/*
 * Diff snapshots (snapshot/vm_snapshot.c): after a snapshot taken with tracking, dirty logging runs, and the next
 * `snapshot --diff` writes only what changed since, naming that snapshot as its base.
 */
struct vm_snapshot_chain {
	bool tracking; /* dirty logging runs for the next diff */
	bool writing_diff; /* a diff is being written: the VM section announces its BASE */
	char base_path[4096];
	uint64_t base_size;
	uint8_t base_sha256[32];
};

/* restore: a diff snapshot's base, checked and loaded before the diff itself (snapshot/diff_chain.c). */
struct vm_restore_base {
	char path[4096];
	uint64_t size;
	uint8_t sha256[32];
};

struct device_desc;

struct device_instance {
	const struct device_desc *desc;
	int instance; /* 0, 1, ... among the devices of the same desc */
	void *state;
};

/* A start-up phase finished at `ns` since start_ns (--timing's profile of where start-up goes). */
#define VM_MAX_PHASES 16
struct vm_phase {
	const char *name;
	uint64_t ns;
};

/* --targets (vmm/targets/targets_vm.h): the migration targets the VM's CPU presents. */
struct vm_targets {
	void *config; /* the architecture's parsed config (struct arm64_targets, ...), NULL without --targets */
	char *text; /* the config as loaded (JSON): a snapshot carries it, so a restore applies the same config */
};

/* Delivers console input to the console device; returns how many bytes it accepted. */
typedef size_t (*console_rx_fn)(void *opaque, const uint8_t *buf, size_t len);

struct vm {
	struct vm_config cfg;
	int kvm_fd;
	int vm_fd;
	int vcpu_mmap_size;
	struct guest_memory mem;
	struct bus mmio;
	struct vcpu *vcpus;
	int nr_vcpus;
	struct arch_vm *arch;
	struct device_instance devices[VM_MAX_DEVICES];
	int nr_devices;
	struct hypercall_table hypercalls;
	struct hypercall_services services; /* the state of the hypercall services roam answers */
	struct vm_targets targets;
	struct pvlock *pvlock; /* NULL with --no-pvlock */
	bool dirty_logging; /* dirty_log.c: a migration or diff snapshot is logging writes */
	struct vm_snapshot_chain chain;
	struct lazy_restore *lazy; /* a restore loading memory lazily (snapshot/lazy_restore.h), or NULL */
	bool dirty_manual; /* KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 is enabled */
	console_rx_fn console_rx;
	void *console_rx_opaque;

	/* Stop reason: set once by vm_request_stop, read by main after the vCPUs have exited. */
	pthread_mutex_t stop_lock;
	atomic_bool stopping;
	int exit_code;
	int stop_eventfd; /* becomes readable when the VM stops */

	/* --timing milestones, in ns since `start_ns` (CLOCK_MONOTONIC); 0 = not reached. */
	uint64_t start_ns;
	struct vm_phase phases[VM_MAX_PHASES]; /* start-up, in order (vm_phase_done) */
	int nr_phases;
	atomic_uint_fast64_t first_run_ns;
	atomic_uint_fast64_t marker_ns;
	size_t marker_matched; /* bytes of the marker matched so far (console output is serialized by the UART) */
};

/*
 * Creates the VM: opens KVM, checks capabilities, creates memory, devices and vCPUs, and loads the guest.
 * `start_ns` (vm_now_ns() when roam started) is the origin of the --timing milestones.
 */
int vm_create(struct vm *vm, const struct vm_config *cfg, uint64_t start_ns);

/* Starts every vCPU thread; the boot vCPU begins executing the guest (with cfg.start_paused: once resumed). */
int vm_start(struct vm *vm);

/*
 * Asks the VM to stop with roam exit status `code`; the first request wins. Wakes the main loop and kicks every
 * vCPU out of KVM_RUN. Safe from any thread.
 */
void vm_request_stop(struct vm *vm, int code);

/*
 * Pauses vCPU `id`, or every vCPU when id < 0, and waits until they are out of the guest. Returns 0, -EINVAL for an
 * unknown id, or -ESRCH when a vCPU has already exited (the VM is stopping).
 */
int vm_pause(struct vm *vm, int id);

/* Resumes vCPU `id`, or every vCPU when id < 0. Returns 0 or -EINVAL. */
int vm_resume(struct vm *vm, int id);

/* Waits for every vCPU thread to finish and returns the exit status of the first stop request. */
int vm_join(struct vm *vm);

/* Releases everything vm_create acquired. Safe on a partly created VM. */
void vm_destroy(struct vm *vm);

/* Writes one byte of guest console output to the console fd, and notes when the --timing-marker text appears. */
void vm_console_output(struct vm *vm, uint8_t byte);

/* CLOCK_MONOTONIC in ns. */
uint64_t vm_now_ns(void);

/* Records that start-up phase `name` (a string literal) has just finished, for --timing. Called by the creating
 * thread only, before the vCPUs start. */
void vm_phase_done(struct vm *vm, const char *name);

/* Sets an interrupt line (architecture numbering, see arch_region). */
int vm_irq_line(struct vm *vm, uint32_t irq, bool level);

#endif

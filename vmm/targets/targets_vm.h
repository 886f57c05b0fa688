/*
 * `roam run --targets` and restoring a snapshot made with one, the steps every architecture shares: load the
 * config (the file, or the text a snapshot carried) into vm->targets, keeping its text for snapshots; give target
 * discovery the targets' identities (vm->services.discover); and check this host against the config, refusing it
 * with one line (or warning, with --force-host) when it is not among the targets and printing the check's report
 * when it cannot present their CPU. The architecture decides when (arm64: before any vCPU, through a scratch VM;
 * LoongArch: through the first vCPU) and applies the registers. KVM-free.
 */
#ifndef ROAM_TARGETS_VM_H
#define ROAM_TARGETS_VM_H

struct vm;
struct targets_arch_ops;

/*
 * Without a targets config does nothing. Else loads vm->cfg.targets_json (a restore) or vm->cfg.targets_path into
 * vm->targets (config parsed with `ops`, text kept) and fills vm->services.discover. Returns 0 or -errno after one
 * message naming the file and the reason.
 */
int targets_vm_load(struct vm *vm, const struct targets_arch_ops *ops);

/* How messages name the VM's targets: the file, or "the snapshot's targets". */
const char *targets_vm_label(const struct vm *vm);

/*
 * Checks `host` (this host's profile, of ops->profile_size) against vm->targets.config. A host whose only problem is
 * that it is not among the targets is refused ("host MIDR 0x... is not in the targets of FILE (...); use --force-host
 * to try anyway"), or only warned about with --force-host. Any other problem is refused with one line and the
 * check's whole report on standard error, so that every reason appears at once (not in the targets, registers, IPA
 * size, GIC, SVE, counter frequency, PMU). Returns 0 or -EINVAL after the messages (-ENOMEM without memory).
 */
int targets_vm_check_host(const struct vm *vm, const struct targets_arch_ops *ops, const void *host);

/* Frees what targets_vm_load allocated. Safe without. */
void targets_vm_release(struct vm *vm);

#endif

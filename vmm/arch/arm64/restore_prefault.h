/*
 * Restore prefault (restore_prefault.c): maps every restored page at stage 2 before a restored guest runs, which
 * hosts with Arm erratum 834220 need (KVM would otherwise livelock on the guest's first stage-1 table walk).
 */
#ifndef ROAM_ARM64_RESTORE_PREFAULT_H
#define ROAM_ARM64_RESTORE_PREFAULT_H

struct vm;

/* Runs the prefault when vm->cfg.prefault asks for it (auto: on hosts with the erratum). Before the first KVM_RUN. */
int arm64_restore_prefault(struct vm *vm);

#endif

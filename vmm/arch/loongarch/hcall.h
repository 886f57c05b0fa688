/*
 * LoongArch glue between KVM's user-service hypercalls and roam's dispatcher. A guest calls `hvcl 0x102` with a
 * function ID in a0 and arguments in a1..a5; when the VMM enabled KVM_FEATURE_USER_HCALL, KVM leaves KVM_RUN with
 * KVM_EXIT_HYPERCALL (nr 0x102, args[0..5] = a0..a5, ret preset to -1). roam answers with the shared dispatcher:
 * the status goes into run->hypercall.ret, which KVM writes into a0 (and steps the PC past the hvcl) on the next
 * KVM_RUN; results in a1..a3 are written by roam with KVM_SET_REGS. Returns are errno-style: 0 success, -1 not
 * implemented, -2 invalid parameter. The function IDs (docs/loongarch.md) carry "ROAM" in bits 63..32.
 */
#ifndef ROAM_LOONGARCH_HCALL_H
#define ROAM_LOONGARCH_HCALL_H

#include <stdint.h>

struct vm;
struct vcpu;
struct kvm_run;
struct hypercall_table;

#define LOONGARCH_HCALL_USER_SERVICE 0x102 /* the hvcl code (KVM_HCALL_USER_SERVICE) */
#define LOONGARCH_HCALL_INVALID_PARAMETER (-2)

#define LOONGARCH_ROAM_FID(n) (0x524f414d00000000ull | (n)) /* "ROAM" << 32 | n */
#define LOONGARCH_ROAM_DISCOVER_IMPL_VER LOONGARCH_ROAM_FID(0x01)
#define LOONGARCH_ROAM_DISCOVER_IMPL_CPUS LOONGARCH_ROAM_FID(0x02)
#define LOONGARCH_ROAM_PV_LOCK_FEATURES LOONGARCH_ROAM_FID(0x10)
#define LOONGARCH_ROAM_PV_LOCK_PREEMPTED LOONGARCH_ROAM_FID(0x11)

/*
 * Answers one KVM_EXIT_HYPERCALL in `run` from vCPU `vcpu_id`: sets run->hypercall.ret and returns how many of
 * a1..a3 (in out[0..2]) must be written into the guest's registers (0 to 3), or -errno when a handler failed.
 * An exit that is not a user-service call (another nr) is answered -1 with nothing to write.
 */
int loongarch_hcall_answer(const struct hypercall_table *t, struct kvm_run *run, int vcpu_id, uint64_t out[3]);

/*
 * Registers every service roam answers (hypercalls/services.h) under the function IDs above, when the guest can
 * reach them (the vCPUs have USER_HCALL): target discovery with a targets config, the PV lock with its region.
 */
int loongarch_hcall_register_services(struct vm *vm);

/* Handles KVM_EXIT_HYPERCALL on `vcpu`: the answer above, then KVM_SET_REGS for a1..a3. Returns 0 or -errno. */
int loongarch_hcall_exit(struct vcpu *vcpu);

#endif

/*
 * A fake arm64 KVM for unit tests. It stands in for vmm/core/sys_ioctl.c (the one place roam calls ioctl) and for
 * vmm/arch/arm64/host_cpu.c (the host's counter, cache maintenance and identification registers), and answers the
 * ioctls roam's arm64 glue makes, in memory, with the checks of the real KVM that roam's code depends on: a vCPU is
 * initialized (KVM_ARM_VCPU_INIT) before its registers are used; KVM_GET_REG_LIST lists exactly the registers that
 * exist; ID registers are VM-wide and change only in the bits KVM reports writable, to values no higher than the
 * host's (MIDR/REVIDR/AIDR only with KVM_CAP_ARM_WRITABLE_IMP_ID_REGS); one VM-wide counter offset; the GICv3's
 * addresses, interrupt count and init come in order, its registers exist as the host's GIC has them (APnR by
 * priority bits, ICC_CTLR_EL1's read-only fields, the GICD_IIDR revisions it emulates); memory slots do not overlap.
 * KVM_RUN runs the one guest code roam itself puts into a VM, the restore prefault stub, with a small A64
 * interpreter.
 *
 * Any request it does not model fails with ENOTTY and a "fake KVM: ..." line on stderr, so a test never passes on
 * something the fake ignored. Several VMs live side by side (a restore's destination next to its source, the
 * scratch VMs of a CPU profile). VM, vCPU and device fds are memfds; an object whose fd roam closed is forgotten.
 *
 * Files: test_arm64_fakekvm.c (fds, /dev/kvm, the fake host CPU), test_arm64_fakekvm_vm.c (VM ioctls),
 * test_arm64_fakekvm_vcpu.c (vCPU ioctls and the register file), test_arm64_fakekvm_gic.c (the GICv3 device),
 * test_arm64_fakekvm_run.c (KVM_RUN).
 */
#ifndef ROAM_TEST_ARM64_FAKEKVM_H
#define ROAM_TEST_ARM64_FAKEKVM_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define FAKEKVM_MAX_VMS 6
#define FAKEKVM_MAX_VCPUS 4
#define FAKEKVM_MAX_REGS 128
#define FAKEKVM_MAX_GIC_ATTRS 1024
#define FAKEKVM_MAX_SLOTS 8
#define FAKEKVM_MAX_FILTERS 16
#define FAKEKVM_MAX_KNOBS 8
#define FAKEKVM_MMAP_SIZE 16384
#define FAKEKVM_PAGE 4096u

/* One register of a vCPU's file: U32 and U64 values in value[0], U128 in both (low half first). */
struct fakekvm_reg {
	uint64_t id;
	uint64_t value[2];
};

struct fakekvm_vcpu {
	int fd;
	ino_t ino; /* the memfd's, to tell a closed fd whose number came back */
	int id;
	struct kvm_run *run; /* the fake's own mapping of the fd */
	bool initialized;
	uint32_t features; /* kvm_vcpu_init.features[0] */
	int nr_regs;
	struct fakekvm_reg regs[FAKEKVM_MAX_REGS]; /* in KVM_GET_REG_LIST order */
	uint32_t mp_state;
	struct kvm_vcpu_events events;
	uint32_t icc_pri_bits, icc_id_bits; /* the CPU interface's, lowered by a restored ICC_CTLR_EL1 */
	bool mmio_pending; /* the last exit was MMIO: the next KVM_RUN completes it (the PC moves past) */
	int runs; /* KVM_RUN calls that entered the guest */
};

struct fakekvm_gic_attr {
	uint32_t group;
	uint64_t attr;
	uint64_t value;
};

struct fakekvm_gic {
	int fd; /* -1: none */
	ino_t ino;
	bool dist_set, redist_set, initialized;
	uint64_t dist_base, redist_base;
	uint32_t nr_irqs; /* 0 until set */
	uint32_t revision; /* GICD_IIDR.Revision the VM's GIC behaves as */
	int nr_attrs;
	struct fakekvm_gic_attr attrs[FAKEKVM_MAX_GIC_ATTRS]; /* every register value a write or the reset gave */
};

struct fakekvm_slot {
	struct kvm_userspace_memory_region region;
	uint8_t *stage2; /* one byte per page: the guest touched it, so KVM mapped it at stage 2 (malloc'd) */
};

struct fakekvm_vm {
	int fd; /* -1: a free entry */
	ino_t ino;
	uint32_t ipa_bits;
	bool writable_imp_regs, nisv_to_user;
	bool counter_offset_set; /* KVM_ARM_SET_COUNTER_OFFSET: writes of the counter registers are ignored */
	uint64_t voffset, poffset; /* guest virtual / physical counter = host counter - offset */
	bool ran; /* a vCPU entered the guest: ID registers are fixed */
	int nr_vcpus;
	struct fakekvm_vcpu vcpus[FAKEKVM_MAX_VCPUS];
	struct fakekvm_gic gic;
	struct fakekvm_slot slots[FAKEKVM_MAX_SLOTS]; /* by slot number; memory_size 0: none */
	int nr_filters;
	struct kvm_smccc_filter filters[FAKEKVM_MAX_FILTERS];
	uint8_t spi_level[1024]; /* KVM_IRQ_LINE, by INTID */
	int irqfds, ioeventfds; /* assigned now */
};

/* What the tests set: the host and its KVM. fakekvm_reset() gives a Cortex-A72-like host on Linux 6.15. */
struct fakekvm_host {
	uint64_t counter; /* the host counter: time stands still unless a test moves it */
	uint64_t frequency; /* CNTFRQ_EL0 */
	uint64_t midr, revidr; /* what sysfs shows for each of nr_cpus CPUs */
	int nr_cpus;
	uint32_t max_ipa_bits;
	bool gic_v3; /* KVM can create a GICv3 */
	uint32_t gic_revision; /* the newest GICD_IIDR revision this KVM emulates (it emulates 2 up to it) */
	uint32_t icc_pri_bits, icc_id_bits, icc_seis, icc_a3v; /* the GIC CPU interface (ICH_VTR_EL2) */
	long missing_caps[FAKEKVM_MAX_KNOBS]; /* capabilities KVM_CHECK_EXTENSION answers 0 for */
	uint64_t unlisted[FAKEKVM_MAX_KNOBS]; /* registers this KVM lacks: not listed, ONE_REG gives ENOENT */
	struct {
		uint64_t id;
		uint64_t value, writable; /* the host's value of an ID register, and what userspace may change */
	} idregs[FAKEKVM_MAX_KNOBS]; /* override the register catalogue (test_arm64_fakekvm_vcpu.c) */
	unsigned long fail_request; /* nonzero: the fail_after-th next call of this request fails with fail_errno */
	int fail_after, fail_errno;
};

struct fakekvm {
	struct fakekvm_host host;
	struct fakekvm_vm vms[FAKEKVM_MAX_VMS];
	int calls; /* ioctls answered */
	int refusals; /* requests it does not model ("fake KVM: ..." lines) */
	int cleans; /* arm64_host_clean_to_poc calls */
};

/* The fake's state: the test program's own, read and set by the tests. */
extern struct fakekvm fakekvm;

/* Forgets every VM and sets the host knobs to their defaults. */
void fakekvm_reset(void);

/* The VM, vCPU or GIC of an fd roam holds, or NULL. */
struct fakekvm_vm *fakekvm_vm_by_fd(int fd);
struct fakekvm_vcpu *fakekvm_vcpu_by_fd(int fd, struct fakekvm_vm **vm);

/* A register of the vCPU's file, or NULL when this KVM does not have it. */
struct fakekvm_reg *fakekvm_reg(struct fakekvm_vcpu *c, uint64_t id);

/* A GIC register as KVM_GET_DEVICE_ATTR reads it (0 if it does not exist); and a write with KVM's rules (or -errno). */
uint64_t fakekvm_gic_get(struct fakekvm_vm *vm, uint32_t group, uint64_t attr);
int fakekvm_gic_set(struct fakekvm_vm *vm, uint32_t group, uint64_t attr, uint64_t value);

/* Guest memory at gpa through the VM's slots (len bytes within one slot), or NULL. */
uint8_t *fakekvm_guest(struct fakekvm_vm *vm, uint64_t gpa, uint64_t len);

/* --- between the fake's own files ------------------------------------------------------------------------- */

/* Prints "fake KVM: <what>" on stderr and returns -ENOTTY: a request the fake does not model. */
long fakekvm_refuse(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A memfd standing for a KVM object, sized for kvm_run, and its inode; or -errno. */
int fakekvm_new_fd(const char *name, ino_t *ino);

/* The ONE_REG id of the core register at `offset` in struct kvm_regs, of KVM_REG_SIZE_U32/U64/U128 `size`. */
uint64_t fakekvm_core_reg(size_t offset, uint64_t size);

/* Fills a new vCPU's register file from the catalogue; the vCPU ioctls; the register value rules. */
void fakekvm_vcpu_create(struct fakekvm_vm *vm, struct fakekvm_vcpu *c);
long fakekvm_vcpu_ioctl(struct fakekvm_vm *vm, struct fakekvm_vcpu *c, unsigned long request, void *arg);
uint64_t fakekvm_reg_get64(struct fakekvm_vm *vm, struct fakekvm_vcpu *c, uint64_t id);
void fakekvm_reg_put64(struct fakekvm_vcpu *c, uint64_t id, uint64_t value);

/* The host's value and writable mask of an ID register (catalogue and knobs); false if it is none. */
bool fakekvm_idreg_host(uint64_t id, uint64_t *value, uint64_t *writable);

/* KVM_CHECK_EXTENSION's answer, on /dev/kvm and on a VM alike; the ioctls on a VM. */
long fakekvm_cap(long cap);
long fakekvm_vm_ioctl(struct fakekvm_vm *vm, unsigned long request, void *arg);

/* KVM_CREATE_DEVICE of a GICv3, and the ioctls on its fd. */
long fakekvm_gic_create(struct fakekvm_vm *vm, struct kvm_create_device *cd);
long fakekvm_gic_ioctl(struct fakekvm_vm *vm, unsigned long request, struct kvm_device_attr *a);

/* KVM_RUN. */
long fakekvm_run(struct fakekvm_vm *vm, struct fakekvm_vcpu *c);

#endif

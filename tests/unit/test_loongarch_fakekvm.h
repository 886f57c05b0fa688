/*
 * A fake LoongArch KVM for unit tests: it replaces vmm/core/sys_ioctl.c (the one place roam calls ioctl) and
 * answers the ioctls roam's LoongArch glue makes, in memory, with the checks the real KVM makes (CPUCFG masks and
 * consistency rules, PV features fixed by the first vCPU, one CSR.CPUID per vCPU, device attribute groups). So the
 * glue's own logic runs under qemu-loongarch64, where the real ioctls cannot: everything but the ioctls themselves.
 * Knobs make KVM look older or refuse things; a failure can be injected into the n-th call of a request.
 *
 * VM, vCPU and device fds are memfds (vCPU fds can be mmapped for kvm_run); any other fd is "/dev/kvm".
 */
#ifndef ROAM_TEST_LOONGARCH_FAKEKVM_H
#define ROAM_TEST_LOONGARCH_FAKEKVM_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stdint.h>

#define FAKEKVM_MAX_VCPUS 16
#define FAKEKVM_MAX_DEVICES 8
#define FAKEKVM_MAX_ATTRS 4096
#define FAKEKVM_NR_CSRS 0x200

struct fakekvm_vcpu {
	int fd;
	int id;
	struct kvm_regs regs;
	struct kvm_fpu fpu;
	uint64_t csr[FAKEKVM_NR_CSRS];
	uint32_t cpucfg[21];
	uint64_t pvtime_gpa;
	int set_regs_calls;
};

struct fakekvm_attr {
	int fd;
	uint32_t group;
	uint64_t attr;
	uint64_t value;
};

struct fakekvm_device {
	int fd;
	uint32_t type;
	int load_finished; /* EIOINTC LOAD_FINISHED calls */
};

struct fakekvm {
	/* knobs (fakekvm_reset sets a 3A5000-like host) */
	uint32_t mask[21]; /* KVM_LOONGARCH_VCPU_CPUCFG attribute answers */
	uint32_t pv_default; /* CPUCFG_KVM_FEATURE of a new VM */
	uint32_t pv_valid; /* the features a VMM may set */
	uint32_t vm_features; /* KVM_LOONGARCH_VM_FEAT_CTRL attributes that exist */
	int create_device_errno; /* nonzero: KVM_CREATE_DEVICE fails so */
	long missing_cap; /* nonzero: KVM_CHECK_EXTENSION on the VM answers 0 for this capability */
	uint32_t cpucfg_read_xor; /* reads of CPUCFG words come back changed by this */
	unsigned long fail_request; /* nonzero: the fail_after-th next call of this request fails with fail_errno */
	int fail_after, fail_errno;
	/* state */
	int vm_fd;
	uint64_t pv_features; /* bit 63: set by a vCPU already */
	uint64_t counter_offset;
	int nr_vcpus;
	struct fakekvm_vcpu vcpus[FAKEKVM_MAX_VCPUS];
	int nr_devices;
	struct fakekvm_device devices[FAKEKVM_MAX_DEVICES];
	int nr_attrs;
	struct fakekvm_attr attrs[FAKEKVM_MAX_ATTRS];
	int nr_slots;
	int irq_lines[64]; /* last level per PCH-PIC input */
	int calls; /* ioctls answered */
};

/* The fake's state: the test program's own, inspected by the tests. */
extern struct fakekvm fakekvm;

/* Forgets every VM and sets the knobs to their defaults. */
void fakekvm_reset(void);

/* The vCPU (or device) object behind an fd, NULL for another fd. */
struct fakekvm_vcpu *fakekvm_vcpu_by_fd(int fd);
struct fakekvm_device *fakekvm_device_of_type(uint32_t type);

/* A stored device attribute, or `missing` when none was set. */
uint64_t fakekvm_device_attr(uint32_t type, uint32_t group, uint64_t attr, uint64_t missing);

/* Runs `fn(arg)` with stdout and stderr captured together; returns the text (valid until the next call). */
const char *fakekvm_capture(void (*fn)(void *), void *arg);

#endif

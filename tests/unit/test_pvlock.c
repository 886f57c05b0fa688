/*
 * Unit test of the PV lock without KVM: region sizing, the flag rules (1 outside KVM_RUN and while descheduled, 0
 * otherwise), guest writes to the read-only region being ignored, and the hypercall answers on synthetic exits.
 */
#include "check.h"
#include "core/vm.h"
#include "hypercalls/pvlock.h"
#include "pvlock/pvlock.h"

#include <errno.h>

static int fake_read_arg(void *opaque, int n, uint64_t *value)
{
	*value = ((const uint64_t *)opaque)[n];
	return 0;
}

static struct hypercall_ctx call(uint64_t fid, int vcpu, const uint64_t *regs)
{
	struct hypercall_ctx ctx = {
	    .fid = fid, .vcpu_id = vcpu, .read_arg = fake_read_arg, .opaque = (void *)regs, .invalid_parameter = -3};
	return ctx;
}

int main(void)
{
	CHECK_EQ(pvlock_region_size(1), 0x10000);
	CHECK_EQ(pvlock_region_size(1024), 0x10000);
	CHECK_EQ(pvlock_region_size(1025), 0x20000);

	static struct vm vm;
	memory_init(&vm.mem);
	bus_init(&vm.mmio);
	vm.cfg.nr_vcpus = 3;
	struct pvlock *pv = NULL;
	CHECK_EQ(pvlock_create(&vm, &pv), 0);
	CHECK(pv != NULL);
	CHECK_EQ(pv->gpa % 0x10000, 0);
	CHECK_EQ(pv->size, 0x10000);
	CHECK(vm.mem.slots[0].guest_readonly);

	/* Not started yet: preempted. */
	for (int i = 0; i < 3; i++)
		CHECK_EQ(pvlock_flag(pv, i), 1);
	pvlock_vcpu_enter(pv, 1);
	CHECK_EQ(pvlock_flag(pv, 1), 0);
	CHECK_EQ(pvlock_flag(pv, 0), 1);
	pvlock_vcpu_scheduled(pv, 1, true); /* the host switched the thread out inside KVM_RUN */
	CHECK_EQ(pvlock_flag(pv, 1), 1);
	pvlock_vcpu_scheduled(pv, 1, false);
	CHECK_EQ(pvlock_flag(pv, 1), 0);
	pvlock_vcpu_leave(pv, 1);
	CHECK_EQ(pvlock_flag(pv, 1), 1);
	pvlock_vcpu_scheduled(pv, 1, false); /* switched in while outside KVM_RUN: still not in the guest */
	CHECK_EQ(pvlock_flag(pv, 1), 1);
	pvlock_vcpu_scheduled(pv, 1, true);
	pvlock_vcpu_enter(pv, 1); /* entering proves the thread runs, whatever the tracker has not seen yet */
	CHECK_EQ(pvlock_flag(pv, 1), 0);

	/* The flag is a little-endian u64 at offset 0 of a 64-byte struct; the rest stays zero. */
	const uint8_t *slot = memory_gpa_to_host(&vm.mem, pv->gpa + 64, 64);
	CHECK(slot != NULL);
	CHECK_EQ(slot[0], 0);
	for (int i = 1; i < 64; i++)
		CHECK_EQ(slot[i], 0);
	CHECK_EQ(slot[64], 1); /* vCPU 2's flag, not started */

	/* A guest write traps to the bus window: reported, ignored. */
	uint8_t data[8] = {0x5a, 0x5a, 0x5a, 0x5a, 0, 0, 0, 0};
	CHECK_EQ(bus_access(&vm.mmio, pv->gpa + 64, data, 8, true), 0);
	CHECK_EQ(pvlock_flag(pv, 1), 0);
	CHECK_EQ(pv->guest_write_reports, 1);

	/* Hypercalls. */
	struct pvlock_service svc = {
	    .region_gpa = pv->gpa, .nr_vcpus = 3, .fid_features = 0xc6000060, .fid_preempted = 0xc6000061};
	struct hypercall_table t;
	hypercall_table_init(&t);
	CHECK_EQ(pvlock_register(&t, &svc), 0);
	const uint64_t ask_preempted[2] = {0, 0xc6000061}, ask_features[2] = {0, 0xc6000060},
		       ask_other[2] = {0, 0xc6000040}, none[2] = {0, 0};
	struct hypercall_ctx c = call(0xc6000060, 0, ask_preempted);
	CHECK_EQ(hypercall_dispatch(&t, &c), 0);
	CHECK_EQ(c.ret[0], 0);
	c = call(0xc6000060, 0, ask_features);
	hypercall_dispatch(&t, &c);
	CHECK_EQ(c.ret[0], 0);
	c = call(0xc6000060, 0, ask_other);
	hypercall_dispatch(&t, &c);
	CHECK_EQ(c.ret[0], (uint64_t)-1);
	for (int v = 0; v < 3; v++) {
		c = call(0xc6000061, v, none);
		hypercall_dispatch(&t, &c);
		CHECK_EQ(c.ret[0], 0);
		CHECK_EQ(c.ret[1], pv->gpa + 64 * (uint64_t)v);
	}
	c = call(0xc6000061, 3, none);
	hypercall_dispatch(&t, &c);
	CHECK_EQ(c.ret[0], (uint64_t)-3);

	pvlock_destroy(pv);
	memory_fini(&vm.mem);

	/* Too many vCPUs for the window. */
	static struct vm big;
	memory_init(&big.mem);
	bus_init(&big.mmio);
	big.cfg.nr_vcpus = 100000;
	CHECK_EQ(pvlock_create(&big, &pv), -EINVAL);
	return check_exit();
}

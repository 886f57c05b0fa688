/*
 * Unit test of the hypercall dispatcher and the target-discovery service on synthetic exits: each case gives the
 * function ID and argument registers a guest would pass and the registers it must get back; and the registration
 * of every service roam answers from an architecture's function-ID table (hypercalls/services.h).
 */
#include "check.h"
#include "hypercalls/discover_impl.h"
#include "hypercalls/services.h"

#include <errno.h>

#define FID_VER 0xc6000040u
#define FID_CPUS 0xc6000041u

struct fake_regs {
	uint64_t x[6];
	int reads;
	bool fail;
};

static int fake_read_arg(void *opaque, int n, uint64_t *value)
{
	struct fake_regs *r = opaque;
	r->reads++;
	if (r->fail)
		return -EIO;
	*value = r->x[n];
	return 0;
}

struct dispatch_case {
	const char *what;
	uint64_t fid;
	uint64_t x1, x2, x3;
	int64_t invalid_parameter;
	int64_t want_status;
	uint64_t want[3];
};

static const struct dispatch_case cases[] = {
    {"version", FID_VER, 0, 0, 0, -3, 0, {0x10000, 2, 0}},
    {"first target", FID_CPUS, 0, 0, 0, -3, 0, {0x410fd083, 0x0, 0x0}},
    {"second target, 64-bit values", FID_CPUS, 1, 0, 0, -3, 0, {0xffffffff410fd0c1ull, 0x8000000000000001ull, 0x7}},
    {"index out of range", FID_CPUS, 2, 0, 0, -3, -3, {0, 0, 0}},
    {"huge index", FID_CPUS, UINT64_MAX, 0, 0, -3, -3, {0, 0, 0}},
    {"nonzero x2", FID_CPUS, 0, 1, 0, -3, -3, {0, 0, 0}},
    {"nonzero x3", FID_CPUS, 0, 0, 1, -3, -3, {0, 0, 0}},
    {"LoongArch invalid parameter", FID_CPUS, 5, 0, 0, -2, -2, {0, 0, 0}},
    {"unknown function", 0xc6000042, 0, 0, 0, -3, -1, {0, 0, 0}},
};

/* Registers what a services state enables, and the FEATURES call lists roam's calls next to the hypervisor's. */
static void test_services(void)
{
	static const struct hypercall_fids smccc = {FID_VER, FID_CPUS, 0xc6000060u, 0xc6000061u, 0x86000000u};
	static const struct hypercall_fids no_features = {1, 2, 3, 4, 0};
	struct hypercall_table t;
	struct hypercall_services s = {.features = {0x1, 0, 0x3, 0}};
	hypercall_table_init(&t);
	CHECK_EQ(hypercall_services_register(&t, &s, &smccc), 0); /* nothing enabled */
	CHECK_EQ(t.nr, 0);
	s.discover.nr = 1;
	CHECK_EQ(hypercall_services_register(&t, &s, &smccc), 0); /* discovery only: KVM answers FEATURES */
	CHECK_EQ(t.nr, 2);
	CHECK(hypercall_find(&t, 0x86000000u) == NULL);
	hypercall_table_init(&t);
	s.pvlock = (struct pvlock_service){.region_gpa = 0x9100000, .nr_vcpus = 2};
	CHECK_EQ(hypercall_services_register(&t, &s, &smccc), 0);
	CHECK_EQ(t.nr, 5);
	CHECK_EQ(s.pvlock.fid_preempted, 0xc6000061u);
	struct fake_regs regs = {0};
	struct hypercall_ctx ctx = {.fid = 0x86000000u, .read_arg = fake_read_arg, .opaque = &regs};
	CHECK_EQ(hypercall_dispatch(&t, &ctx), 0);
	CHECK_EQ(ctx.ret[0], 0x1);
	CHECK_EQ(ctx.ret[2], 0x3);
	CHECK_EQ(ctx.ret[3], 0x3); /* functions 96 and 97: the PV lock */
	ctx = (struct hypercall_ctx){.fid = 0xc6000061u, .vcpu_id = 1, .read_arg = fake_read_arg, .opaque = &regs};
	CHECK_EQ(hypercall_dispatch(&t, &ctx), 0);
	CHECK_EQ(ctx.ret[1], 0x9100000 + PVLOCK_STRUCT_SIZE);
	CHECK_EQ(hypercall_services_register(&t, &s, &smccc), -EEXIST);
	hypercall_table_init(&t);
	CHECK_EQ(hypercall_services_register(&t, &s, &no_features), 0); /* no FEATURES call (LoongArch) */
	CHECK_EQ(t.nr, 4);
}

int main(void)
{
	test_services();
	struct hypercall_table table;
	struct discover_impl_service svc = {.nr = 2};
	svc.impl[0].id[0] = 0x410fd083;
	svc.impl[1].id[0] = 0xffffffff410fd0c1ull;
	svc.impl[1].id[1] = 0x8000000000000001ull;
	svc.impl[1].id[2] = 0x7;
	hypercall_table_init(&table);
	CHECK_EQ(discover_impl_register(&table, &svc, FID_VER, FID_CPUS), 0);
	CHECK_EQ(discover_impl_register(&table, &svc, FID_VER, FID_CPUS), -EEXIST);
	CHECK_EQ(table.nr, 2);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct dispatch_case *c = &cases[i];
		struct fake_regs regs = {.x = {0, c->x1, c->x2, c->x3}};
		struct hypercall_ctx ctx = {.fid = c->fid,
					    .read_arg = fake_read_arg,
					    .opaque = &regs,
					    .invalid_parameter = c->invalid_parameter};
		CHECK_EQ(hypercall_dispatch(&table, &ctx), 0);
		if ((int64_t)ctx.ret[0] != c->want_status)
			fprintf(stderr, "case '%s'\n", c->what);
		CHECK_EQ(ctx.ret[0], (uint64_t)c->want_status);
		CHECK_EQ(ctx.nr_ret, 4);
		for (int r = 0; r < 3; r++)
			CHECK_EQ(ctx.ret[r + 1], c->want[r]);
	}

	/* The version call reads no arguments; a failing register read is reported, not answered. */
	struct fake_regs regs = {.fail = true};
	struct hypercall_ctx ctx = {
	    .fid = FID_VER, .read_arg = fake_read_arg, .opaque = &regs, .invalid_parameter = -3};
	CHECK_EQ(hypercall_dispatch(&table, &ctx), 0);
	CHECK_EQ(regs.reads, 0);
	ctx.fid = FID_CPUS;
	CHECK_EQ(hypercall_dispatch(&table, &ctx), -EIO);

	for (int i = table.nr; i < HYPERCALL_MAX_HANDLERS; i++)
		hypercall_register(&table, 0x1000 + (uint64_t)i, "filler", NULL, NULL);
	CHECK_EQ(hypercall_register(&table, 0x9999, "one too many", NULL, NULL), -ENOSPC);
	return check_exit();
}

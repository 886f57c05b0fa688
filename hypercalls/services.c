/* Registering every service roam answers: see services.h. */
#include "services.h"

/* Answers the FEATURES call: functions 0-31 in r0, 32-63 in r1, 64-95 in r2, 96-127 in r3. */
static int services_features(struct hypercall_ctx *ctx, void *service)
{
	const struct hypercall_services *s = service;
	hypercall_return4(ctx, (int64_t)s->features[0], s->features[1], s->features[2], s->features[3]);
	return 0;
}

static void services_add_feature(struct hypercall_services *s, uint64_t fid)
{
	s->features[(fid & 127) / 32] |= 1u << (fid & 31);
}

int hypercall_services_register(struct hypercall_table *t, struct hypercall_services *s,
				const struct hypercall_fids *fids)
{
	int ret = 0;
	if (s->discover.nr > 0)
		ret = discover_impl_register(t, &s->discover, fids->discover_ver, fids->discover_cpus);
	if (ret || s->pvlock.nr_vcpus <= 0)
		return ret;
	s->pvlock.fid_features = fids->pvlock_features;
	s->pvlock.fid_preempted = fids->pvlock_preempted;
	ret = pvlock_register(t, &s->pvlock);
	if (ret || !fids->features)
		return ret;
	services_add_feature(s, fids->pvlock_features);
	services_add_feature(s, fids->pvlock_preempted);
	return hypercall_register(t, fids->features, "VENDOR_HYP_FEATURES", services_features, s);
}

/* The rounds' stopping rule of a live migration (migrate.h): pure, unit-tested. */
#include "migrate.h"

/* Rounds without the dirty set shrinking after which sending more rounds is pointless (the guest dirties as fast). */
#define STALL_ROUNDS 3

bool migrate_converged(const struct migrate_options *opt, const struct migrate_round *r, int stalled)
{
	if (r->round + 1 >= opt->max_rounds || stalled >= STALL_ROUNDS)
		return true;
	return r->expected_downtime_ms <= (double)opt->max_downtime_ms;
}

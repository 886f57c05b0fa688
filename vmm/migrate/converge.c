/* The rounds' stopping rule of a live migration (migrate.h): pure, unit-tested. */
#include "migrate.h"

/* Rounds without the dirty set shrinking after which sending more rounds is pointless (the guest dirties as fast). */
#define STALL_ROUNDS 3

bool migrate_converged(const struct migrate_options *opt, const struct migrate_round *r, int stalled)
{
	if (r->round + 1 >= opt->max_rounds || stalled >= STALL_ROUNDS || r->dirty_pages == 0)
		return true;
	if (r->expected_downtime_ms > (double)opt->max_downtime_ms)
		return false;
	/*
	 * Within the limit, one more round while it still pays: a round that sent P pages took P/bandwidth, and the
	 * guest dirtied D meanwhile. While D is under half of P, the next round is shorter still and leaves fewer
	 * pages for the pause. Stopping at the first round that fits would leave what the guest dirtied during the
	 * previous, long round - which grows with the memory sent - so the downtime would grow with the guest's size;
	 * stopping here leaves what it dirties in one short round, whatever its size.
	 */
	return r->dirty_pages * 2 > r->pages;
}

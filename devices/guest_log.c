/* The rate limit of the lines a guest makes roam log: see guest_log.h. */
#include "guest_log.h"

#include "core/clock.h"

bool guest_log_rate_allow(struct guest_log_rate *r, uint32_t burst, uint64_t now_ns, uint64_t *dropped, bool *last)
{
	*dropped = 0;
	*last = false;
	if (!r->window_ns || now_ns - r->window_ns >= GUEST_LOG_WINDOW_NS) {
		r->window_ns = now_ns ? now_ns : 1;
		r->in_window = 0;
	}
	if (r->in_window >= burst) {
		r->dropped++;
		return false;
	}
	r->in_window++;
	*last = r->in_window == burst;
	*dropped = r->dropped;
	r->dropped = 0;
	return true;
}

uint64_t guest_log_now_ns(void)
{
	return monotonic_ns();
}

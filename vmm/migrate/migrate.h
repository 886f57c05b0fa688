/*
 * Live migration, the source's side: pre-copy over any byte stream (transport.h). The stream is a snapshot
 * (docs/snapshot-format.md): the VM's description, a PRECHECK sample of the CPU state, the memory as MEMORY sections
 * while the guest runs, then rounds of MEMORY_DELTA sections with the pages dirtied meanwhile (KVM's dirty log and
 * roam's own writes, core/dirty_log.h); when the rest fits the downtime limit at the measured rate (or after a
 * bounded number of rounds), the vCPUs and devices pause, the last dirty pages and the CPU, interrupt controller,
 * counter, PV-lock and device state follow, and END. Written to a file it is a valid snapshot.
 *
 * On a two-way transport the destination answers: "ready" or "refused REASON" after the description and PRECHECK
 * (before anything is paused), and "running" or "failed REASON" after END. Nothing is lost on the way:
 *  - any failure before END is complete (a write error, the destination refusing or going away) resumes the
 *    guest here, if it had been paused, and says why;
 *  - after END, "running" ends the guest here (roam exits with ROAM_EXIT_MIGRATED); "failed" or the connection
 *    closing without an answer means the destination does not run it, so it resumes here;
 *  - no answer at all within the time limit while the connection stays open leaves the guest paused here, since
 *    the destination may be running it: never both, and the message says so (resume by hand once you know).
 * On a one-way transport (a file, -) the guest stops here once END is written: it lives on in the stream.
 */
#ifndef ROAM_MIGRATE_H
#define ROAM_MIGRATE_H

#include "transport.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vm;

struct migrate_options {
	uint32_t max_downtime_ms; /* the pause the guest may see (default MIGRATE_DEFAULT_DOWNTIME_MS) */
	uint64_t max_bandwidth; /* bytes per second, 0 for no limit */
	int max_rounds; /* rounds of dirty pages before stopping anyway (default MIGRATE_DEFAULT_ROUNDS) */
	int answer_timeout_ms; /* how long the destination may take to answer (default MIGRATE_DEFAULT_ANSWER_MS) */
	bool compress; /* pages compressed one by one (MEMORY_PACKED sections, `--compress lz`) */
};

#define MIGRATE_DEFAULT_DOWNTIME_MS 300
#define MIGRATE_DEFAULT_ROUNDS 30
#define MIGRATE_DEFAULT_ANSWER_MS 60000
/* How long a destination waits for its source to let go of shared resources (disk locks) once the guest is in. */
#define MIGRATE_CLAIM_TIMEOUT_MS 10000
/* While the destination does its early work, a dirty round every this many ms. */
#define MIGRATE_MEMORY_IN_POLL_MS 200

/* One round, for progress reports. */
struct migrate_round {
	int round; /* 0: the whole memory; 1...: dirty pages */
	uint64_t pages; /* pages this round sent */
	uint64_t total_pages, total_bytes; /* since the start */
	double round_ms;
	double bandwidth; /* bytes per second, measured over this round */
	double dirty_rate; /* pages per second dirtied while this round was sent */
	uint64_t dirty_pages; /* pages dirty now, for the next round or the final pause */
	double expected_downtime_ms; /* what sending them would cost at the measured bandwidth */
};

struct migrate_result {
	int rounds;
	uint64_t bytes, pages;
	double total_ms; /* from the start to the destination's answer (or END for one-way) */
	double downtime_ms; /* from pausing the guest here to the destination's "running" (or END for one-way) */
	/* The downtime's parts: paused -> the last dirty pages and the state sent, END -> "running" (the destination).
	 */
	double final_send_ms, answer_ms;
	bool moved; /* the guest left: this roam must stop it (ROAM_EXIT_MIGRATED) */
	bool uncertain; /* no answer after END: the guest stays paused here (see above) */
};

/*
 * Whether to stop the rounds: the dirty pages fit the downtime limit at the measured bandwidth and another round
 * would not halve them (they are at least half of what the last round sent), or none are dirty, or `stalled`
 * rounds did not make the dirty set smaller, or the round limit is reached. Pure.
 */
bool migrate_converged(const struct migrate_options *opt, const struct migrate_round *r, int stalled);

/*
 * Migrates `vm` to `dest` (FILE or STDIO with `fd`, the file descriptor to write to, taken over and closed; the
 * other kinds connect). `progress` (or NULL) hears each round. Returns 0 with *res filled when the guest moved
 * (the caller then stops the VM), or -errno with one line in err, the guest running here again (or, with
 * res->uncertain, paused here).
 */
int migrate_vm(struct vm *vm, const struct migrate_endpoint *dest, int fd, const struct migrate_options *opt,
	       void (*progress)(void *opaque, const struct migrate_round *r), void *opaque, struct migrate_result *res,
	       char *err, size_t err_len);

#endif

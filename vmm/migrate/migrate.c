/* Live migration, the source's side: see migrate.h. */
#include "migrate.h"

#include "arch.h"
#include "core/component.h"
#include "core/dirty_log.h"
#include "core/errbuf.h"
#include "core/log.h"
#include "core/vcpu.h"
#include "core/vm.h"
#include "snapshot/component_walk.h"
#include "snapshot/lazy_restore.h"
#include "snapshot/precheck.h"
#include "snapshot/snapshot.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PAGE MEMORY_DIRTY_PAGE

/* A migration in progress. */
struct migration {
	struct vm *vm;
	const struct migrate_options *opt;
	struct snapshot_writer w;
	int stream_fd; /* the stream's fd when the writer does not own it (closed at the end), else -1 */
	int fd; /* the same fd when the transport is two-way (the answers come back on it), else -1 */
	const struct component *table[COMPONENT_MAX];
	int n;
	uint64_t *dirty[MEMORY_MAX_SLOTS]; /* per writable slot: the pages to send next */
	bool *was_paused; /* vCPUs the user had paused: left paused on resume */
	bool paused; /* the vCPUs (and devices) are paused by the migration */
	bool memory_in; /* the destination said "memory-in": its early work is done (or we stopped waiting) */
	uint64_t memory_in_wait_ns; /* when the rounds began to wait for it, 0 before */
	bool released; /* the devices let go of their shared resources (disk locks) for the destination */
	uint64_t start_ns, pause_ns, end_ns; /* end: END written */
	char *err;
	size_t err_len;
};

static double ms_since(uint64_t t)
{
	return (double)(vm_now_ns() - t) / 1e6;
}

/* The components a migration writes with the walk: the description (CONFIG), or the state (neither CONFIG nor memory).
 */
static int pick(struct migration *m, bool config, const struct component *out[COMPONENT_MAX])
{
	int k = 0;
	for (int i = 0; i < m->n; i++) {
		const struct component *c = m->table[i];
		bool is_config = c->flags & COMPONENT_CONFIG;
		if (snapshot_is_memory_id(c->section))
			continue;
		if (is_config == config)
			out[k++] = c;
	}
	return k;
}

/* Pauses every vCPU (remembering which the user had paused) and, with `devices`, the components' threads. */
static int pause_guest(struct migration *m, bool devices)
{
	struct vm *vm = m->vm;
	for (int i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu_status st;
		vcpu_get_status(&vm->vcpus[i], &st);
		m->was_paused[i] = st.pause_requested;
	}
	if (vm_pause(vm, -1) < 0)
		return errbuf_set(m->err, m->err_len, "cannot pause the VM: it is stopping"), -ESRCH;
	if (devices)
		component_walk_pause(vm, m->table, m->n);
	m->paused = true;
	return 0;
}

static void resume_guest(struct migration *m, bool devices)
{
	if (!m->paused)
		return;
	if (devices)
		component_walk_resume(m->vm, m->table, m->n);
	for (int i = 0; i < m->vm->nr_vcpus; i++)
		if (!m->was_paused[i])
			vm_resume(m->vm, i);
	m->paused = false;
}

/* The first sections: the VM's description and a sample of the CPU state (a short pause of every vCPU). */
static int send_description(struct migration *m)
{
	const struct component *sel[COMPONENT_MAX];
	int k = pick(m, true, sel);
	uint64_t pages;
	int ret = component_walk_write(m->vm, &m->w, sel, k, &pages);
	if (!ret)
		ret = pause_guest(m, false);
	if (!ret) {
		ret = precheck_write(m->vm, &m->w, m->table, m->n);
		resume_guest(m, false);
	}
	if (!ret)
		ret = snapshot_writer_flush(&m->w);
	return ret;
}

/* Waits for the destination's answer to the description: "ready", or "refused REASON". */
static int await_ready(struct migration *m)
{
	char line[512];
	int n = migrate_recv(m->fd, line, sizeof(line), m->opt->answer_timeout_ms);
	if (n > 0 && !strcmp(line, "ready"))
		return 0;
	if (n > 0 && !strncmp(line, "refused", 7))
		return errbuf_set(m->err, m->err_len, "the destination refused the guest: %s",
				  line[7] == ' ' ? line + 8 : "no reason given"),
		       -EPERM;
	if (n == 0)
		return errbuf_set(m->err, m->err_len, "the destination closed the connection before it was ready"),
		       -ECONNRESET;
	if (n == -ETIMEDOUT)
		return errbuf_set(m->err, m->err_len, "the destination did not answer within %d s",
				  m->opt->answer_timeout_ms / 1000),
		       -ETIMEDOUT;
	return errbuf_set(m->err, m->err_len, "the destination answered '%s'", n > 0 ? line : strerror(-n)), -EPROTO;
}

/*
 * Two-way transports: whether the destination said "memory-in" (the whole memory applied, its early work done),
 * waiting up to wait_ms for it. Returns 1, 0 not yet, or -errno after a message.
 */
static int poll_memory_in(struct migration *m, int wait_ms)
{
	struct pollfd p = {.fd = m->fd, .events = POLLIN};
	if (poll(&p, 1, wait_ms) <= 0)
		return 0;
	char line[512];
	int n = migrate_recv(m->fd, line, sizeof(line), 1000);
	if (n > 0 && !strcmp(line, "memory-in"))
		return 1;
	if (n > 0 && !strncmp(line, "failed", 6))
		return errbuf_set(m->err, m->err_len, "the destination failed: %s",
				  line[6] == ' ' ? line + 7 : "no reason given"),
		       -EPERM;
	if (n == 0 || n == -ECONNRESET)
		return errbuf_set(m->err, m->err_len, "the destination closed the connection"), -ECONNRESET;
	return errbuf_set(m->err, m->err_len, "the destination answered '%s'", n > 0 ? line : strerror(-n)), -EPROTO;
}

/*
 * Whether the rounds may end now: converged, and on a two-way transport the destination has the whole memory and has
 * done its early work (arm64: the stage-2 prefault, seconds on erratum-834220 hosts), so that none of it falls in
 * the downtime. While it works the rounds go on. Returns 1, 0, or -errno after a message.
 */
static int may_pause(struct migration *m, bool converged)
{
	if (!converged || m->fd < 0 || m->memory_in)
		return converged;
	if (!m->memory_in_wait_ns)
		m->memory_in_wait_ns = vm_now_ns();
	int in = poll_memory_in(m, MIGRATE_MEMORY_IN_POLL_MS);
	if (in < 0)
		return in;
	if (!in && ms_since(m->memory_in_wait_ns) >= m->opt->answer_timeout_ms)
		log_info("migrate: no \"memory-in\" from the destination within %d s: pausing the guest anyway",
			 m->opt->answer_timeout_ms / 1000);
	m->memory_in = in || ms_since(m->memory_in_wait_ns) >= m->opt->answer_timeout_ms;
	return m->memory_in;
}

static uint64_t slot_words(const struct memory_slot *s)
{
	return (s->size / PAGE + 63) / 64;
}

/* Collects every writable slot's dirty pages into m->dirty (ORed in); returns how many are set now, or -errno. */
static int64_t collect(struct migration *m)
{
	int64_t all = 0;
	for (int i = 0; i < m->vm->mem.nr_slots; i++) {
		if (!m->dirty[i])
			continue;
		int64_t n = vm_dirty_log_collect(m->vm, i, m->dirty[i]);
		if (n < 0)
			return errbuf_set(m->err, m->err_len, "cannot read the dirty log"), n;
		for (uint64_t w = 0; w < slot_words(&m->vm->mem.slots[i]); w++)
			all += __builtin_popcountll(m->dirty[i][w]);
	}
	return all;
}

/* Sends the pages in m->dirty as MEMORY_DELTA sections and clears them; returns the pages sent, or -errno. */
static int64_t send_dirty(struct migration *m)
{
	int64_t sent = 0;
	for (int i = 0; i < m->vm->mem.nr_slots; i++) {
		const struct memory_slot *s = &m->vm->mem.slots[i];
		if (!m->dirty[i])
			continue;
		uint64_t words = slot_words(s), any = 0;
		for (uint64_t w = 0; w < words; w++)
			any |= m->dirty[i][w];
		if (!any)
			continue;
		const uint8_t *bytes = vm_dirty_log_bytes(m->dirty[i]);
		int64_t n =
		    m->opt->compress
			? snapshot_write_memory_packed(&m->w, (uint32_t)i, s->gpa, s->host, s->size, PAGE, bytes, false)
			: snapshot_write_memory_delta(&m->w, (uint32_t)i, s->gpa, s->host, s->size, PAGE, bytes);
		if (n < 0)
			return n;
		memset(m->dirty[i], 0, words * sizeof(uint64_t));
		sent += n;
	}
	return sent;
}

/* A data map of memory with no data: the empty MEMORY section before a compressed copy (send_memory_packed). */
static int no_data(const void *opaque, uint64_t from, uint64_t *start, uint64_t *end)
{
	(void)opaque, (void)from, (void)start, (void)end;
	return 0;
}

/*
 * The slot's memory compressed: an empty MEMORY section (a restore needs one per slot), then every page that may
 * hold data (memory_slot_data_range) as MEMORY_PACKED sections, zero pages left out. Returns the pages sent.
 */
static int64_t send_memory_packed(struct migration *m, int i)
{
	const struct memory_slot *s = &m->vm->mem.slots[i];
	const struct snapshot_data_map none = {no_data, NULL};
	int64_t ret = snapshot_write_memory(&m->w, (uint32_t)i, s->gpa, s->host, s->size, PAGE, &none);
	uint64_t npages = s->size / PAGE, start, end;
	uint8_t *bits = ret < 0 ? NULL : calloc(1, npages / 8 + 1);
	if (ret < 0 || !bits)
		return ret < 0 ? ret : (errbuf_set(m->err, m->err_len, "out of memory"), -ENOMEM);
	for (uint64_t from = 0; from < s->size && memory_slot_data_range(s, from, &start, &end) > 0; from = end) {
		if (end > s->size)
			end = s->size;
		if (end <= start)
			break;
		for (uint64_t p = start / PAGE; p < (end + PAGE - 1) / PAGE; p++)
			bits[p / 8] |= (uint8_t)(1u << (p % 8));
	}
	ret = snapshot_write_memory_packed(&m->w, (uint32_t)i, s->gpa, s->host, s->size, PAGE, bits, true);
	free(bits);
	return ret;
}

/* The whole memory while the guest runs (after clearing the dirty log, so what changes from now on is logged). */
static int send_memory(struct migration *m, uint64_t *pages)
{
	int ret = vm_dirty_log_start(m->vm);
	if (ret)
		return errbuf_set(m->err, m->err_len, "cannot start the dirty log"), ret;
	for (int i = 0; i < m->vm->mem.nr_slots; i++) {
		if (!vm_dirty_log_slot(m->vm, i))
			continue;
		m->dirty[i] = calloc(slot_words(&m->vm->mem.slots[i]), sizeof(uint64_t));
		if (!m->dirty[i])
			return errbuf_set(m->err, m->err_len, "out of memory"), -ENOMEM;
	}
	int64_t n = collect(m); /* everything is dirty at first: re-arm the log for all of it */
	if (n < 0)
		return (int)n;
	*pages = 0;
	for (int i = 0; i < m->vm->mem.nr_slots; i++) {
		const struct memory_slot *s = &m->vm->mem.slots[i];
		if (!m->dirty[i])
			continue;
		memset(m->dirty[i], 0, slot_words(s) * sizeof(uint64_t));
		const struct snapshot_data_map map = {memory_slot_data_range, s};
		int64_t p = m->opt->compress
				? send_memory_packed(m, i)
				: snapshot_write_memory(&m->w, (uint32_t)i, s->gpa, s->host, s->size, PAGE, &map);
		if (p < 0)
			return (int)p;
		*pages += (uint64_t)p;
	}
	return 0;
}

/* Rounds of dirty pages until they fit the downtime (or stop shrinking). */
static int send_rounds(struct migration *m, struct migrate_result *res,
		       void (*progress)(void *opaque, const struct migrate_round *r), void *opaque,
		       uint64_t first_pages, double first_ms, uint64_t first_bytes)
{
	struct migrate_round r = {.round = 0, .pages = first_pages, .round_ms = first_ms};
	uint64_t prev_dirty = UINT64_MAX;
	int stalled = 0;
	r.total_pages = first_pages;
	r.total_bytes = first_bytes;
	r.bandwidth = first_ms > 0 ? (double)first_bytes / (first_ms / 1e3) : 0;
	for (;;) {
		uint64_t t0 = vm_now_ns();
		int64_t dirty = collect(m);
		if (dirty < 0)
			return (int)dirty;
		r.dirty_pages = (uint64_t)dirty;
		r.dirty_rate = r.round_ms > 0 ? (double)dirty / (r.round_ms / 1e3) : 0;
		r.expected_downtime_ms = r.bandwidth > 0 ? (double)dirty * PAGE / r.bandwidth * 1e3 : 1e9;
		stalled = (uint64_t)dirty >= prev_dirty ? stalled + 1 : 0;
		prev_dirty = (uint64_t)dirty;
		if (progress)
			progress(opaque, &r);
		res->rounds = r.round + 1;
		int pause = may_pause(m, migrate_converged(m->opt, &r, stalled));
		if (pause)
			return pause < 0 ? pause : 0;
		uint64_t bytes0 = m->w.offset;
		int64_t sent = send_dirty(m);
		if (sent < 0)
			return (int)sent;
		r.round++;
		r.pages = (uint64_t)sent;
		r.round_ms = ms_since(t0);
		r.total_pages += (uint64_t)sent;
		r.total_bytes = m->w.offset;
		if (r.round_ms > 0 && m->w.offset > bytes0)
			r.bandwidth = (double)(m->w.offset - bytes0) / (r.round_ms / 1e3);
	}
}

/* The final pause: the last dirty pages, the CPU, interrupt controller, counter, PV-lock and device state, END. */
static int send_final(struct migration *m, struct migrate_result *res)
{
	int ret = pause_guest(m, true);
	if (ret)
		return ret;
	m->pause_ns = vm_now_ns();
	int64_t n = collect(m);
	if (n < 0)
		return (int)n;
	int64_t sent = send_dirty(m);
	if (sent < 0)
		return (int)sent;
	res->pages += (uint64_t)sent;
	const struct component *sel[COMPONENT_MAX];
	int k = pick(m, false, sel);
	uint64_t pages;
	ret = component_walk_write(m->vm, &m->w, sel, k, &pages);
	if (!ret) {
		/* The destination claims the disks before its guest runs: let go of them before the last byte. */
		component_walk_release(m->vm, m->table, m->n);
		m->released = true;
		ret = snapshot_writer_commit(&m->w);
		m->end_ns = vm_now_ns();
	}
	res->bytes = m->w.offset;
	return ret;
}

/* After END on a two-way transport: "running", "failed REASON", or nothing. */
static int await_running(struct migration *m, struct migrate_result *res)
{
	char line[512];
	int n;
	do /* a late "memory-in" (the rounds stopped waiting for it) */
		n = migrate_recv(m->fd, line, sizeof(line), m->opt->answer_timeout_ms);
	while (n > 0 && !strcmp(line, "memory-in"));
	if (n > 0 && !strncmp(line, "running", 7))
		return 0;
	if (n > 0 && !strncmp(line, "failed", 6))
		return errbuf_set(m->err, m->err_len, "the destination could not restore the guest: %s",
				  line[6] == ' ' ? line + 7 : "no reason given"),
		       -EPERM;
	if (n == 0 || n == -ECONNRESET || n == -EPIPE)
		return errbuf_set(
			   m->err, m->err_len,
			   "the destination closed the connection after the last byte without running the guest"),
		       -ECONNRESET;
	res->uncertain = true;
	return errbuf_set(
		   m->err, m->err_len,
		   "no answer from the destination within %d s after the whole guest was sent: it may be running "
		   "it, so the guest stays paused here; resume it (roam ctl SOCK resume) only once you know the "
		   "destination does not run it",
		   m->opt->answer_timeout_ms / 1000),
	       -ETIMEDOUT;
}

static int open_stream(struct migration *m, const struct migrate_endpoint *dest, int fd)
{
	m->fd = m->stream_fd = -1;
	if (dest->kind == MIGRATE_FILE) {
		if (fd >= 0)
			close(fd);
		int ret = snapshot_writer_open_path(&m->w, dest->path, arch_name());
		if (ret)
			errbuf_set(m->err, m->err_len, "%s", m->w.err);
		return ret;
	}
	if (dest->kind != MIGRATE_STDIO) {
		fd = migrate_connect(dest, m->opt->answer_timeout_ms, m->err, m->err_len);
		if (fd < 0)
			return fd;
		m->fd = migrate_endpoint_two_way(dest) ? fd : -1;
	} else if (fd < 0) {
		return errbuf_set(m->err, m->err_len, "-: no standard output was passed to write to"), -EBADF;
	}
	m->stream_fd = fd;
	int ret = snapshot_writer_open_fd(&m->w, fd, dest->spec, arch_name());
	if (ret)
		errbuf_set(m->err, m->err_len, "%s", m->w.err);
	return ret;
}

static int migrate_run(struct migration *m, void (*progress)(void *opaque, const struct migrate_round *r), void *opaque,
		       struct migrate_result *res)
{
	int ret = send_description(m);
	if (!ret && m->fd >= 0)
		ret = await_ready(m);
	uint64_t pages = 0, t0 = vm_now_ns();
	if (!ret)
		ret = send_memory(m, &pages);
	res->pages = pages;
	if (!ret)
		ret = send_rounds(m, res, progress, opaque, pages, ms_since(t0), m->w.offset);
	if (!ret)
		ret = send_final(m, res);
	if (ret && !m->err[0])
		errbuf_set(m->err, m->err_len, "%s", m->w.err[0] ? m->w.err : strerror(-ret));
	if (!ret && m->fd >= 0)
		ret = await_running(m, res);
	return ret;
}

int migrate_vm(struct vm *vm, const struct migrate_endpoint *dest, int fd, const struct migrate_options *opt,
	       void (*progress)(void *opaque, const struct migrate_round *r), void *opaque, struct migrate_result *res,
	       char *err, size_t err_len)
{
	struct migration *m = calloc(1, sizeof(*m));
	memset(res, 0, sizeof(*res));
	err[0] = '\0';
	if (!m || !(m->was_paused = calloc((size_t)vm->nr_vcpus, sizeof(bool)))) {
		if (m)
			free(m);
		if (fd >= 0)
			close(fd);
		return errbuf_set(err, err_len, "out of memory"), -ENOMEM;
	}
	m->vm = vm;
	m->opt = opt;
	m->err = err;
	m->err_len = err_len;
	m->n = component_table(m->table);
	m->start_ns = vm_now_ns();
	if (vm->chain.tracking) {
		/* The migration collects the dirty log itself: the pages a diff would need go to the destination. */
		log_info("migrate: the diff snapshot chain ends here (the next --diff needs a new --track base)");
		vm->chain.tracking = false;
	}
	/* A lazily restored guest's memory still in its snapshot file would read as holes: all of it first. */
	int ret = lazy_restore_complete(vm->lazy);
	if (ret) {
		errbuf_set(err, err_len, "the guest's memory could not be loaded from its snapshot");
		if (fd >= 0)
			close(fd);
	} else {
		ret = open_stream(m, dest, fd);
	}
	if (!ret) {
		snapshot_writer_set_rate(&m->w, opt->max_bandwidth);
		ret = migrate_run(m, progress, opaque, res);
		if (ret)
			snapshot_writer_abort(&m->w); /* a file stays as it was: the temporary goes */
	}
	res->total_ms = ms_since(m->start_ns);
	res->downtime_ms = m->pause_ns ? ms_since(m->pause_ns) : 0;
	if (m->end_ns) {
		res->final_send_ms = (double)(m->end_ns - m->pause_ns) / 1e6;
		res->answer_ms = ms_since(m->end_ns);
	}
	vm_dirty_log_stop(vm);
	if (ret && m->released && !res->uncertain &&
	    component_walk_claim(vm, m->table, m->n, MIGRATE_CLAIM_TIMEOUT_MS) < 0) {
		/* The destination may hold a disk: running here too could corrupt it. */
		res->uncertain = true;
		size_t len = strlen(err);
		errbuf_set(err + len, err_len - len, "; a disk cannot be taken back, so the guest stays paused here");
	}
	if (!ret) {
		res->moved = true; /* the caller stops the VM: the vCPUs stay paused until then */
	} else if (!res->uncertain) {
		resume_guest(m, true);
	} else {
		component_walk_resume(vm, m->table, m->n); /* devices only: the vCPUs stay paused */
	}
	if (m->stream_fd >= 0)
		close(m->stream_fd);
	for (int i = 0; i < MEMORY_MAX_SLOTS; i++)
		free(m->dirty[i]);
	free(m->was_paused);
	free(m);
	return ret;
}

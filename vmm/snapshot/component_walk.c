/*
 * The two loops over a component table (component_walk.h): save writes one section per present instance of each
 * component, in table order; restore reads the sections in one pass (so a pipe works), gives each to its owner by
 * section id, checks its version against the owner's, ends it, and refuses a section this VM has no owner instance
 * for, a duplicate, one out of order and a missing one - naming each. No KVM: the components do that.
 */
#include "component_walk.h"

#include "arch.h"
#include "core/clock.h"
#include "core/component.h"
#include "core/log.h"
#include "core/vm.h"
#include "snapshot.h"
#include "snapshot_meta.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAME_LEN 96

/* Writes every present instance of component c. */
static int save_component(struct component_ctx *ctx, const struct component *c)
{
	struct vm *vm = ctx->vm;
	uint32_t flags = c->flags & COMPONENT_OPTIONAL ? 0 : SNAPSHOT_FLAG_MANDATORY;
	int ret = 0;
	for (uint32_t i = 0; !ret && i < component_count(c, vm); i++) {
		if (!component_present(c, vm, i))
			continue;
		if (c->save_raw) {
			ret = c->save_raw(ctx, i);
			continue;
		}
		struct snap_writer p;
		snap_writer_init(&p);
		ret = c->save(ctx, i, &p);
		if (!ret)
			ret = snapshot_write_payload(ctx->w, c->section, i, component_version(c, vm, i), flags, &p);
		snap_writer_fini(&p);
	}
	return ret;
}

void component_walk_pause(struct vm *vm, const struct component *const *table, int n)
{
	for (int i = 0; i < n; i++)
		if (table[i]->pause)
			table[i]->pause(vm);
}

void component_walk_resume(struct vm *vm, const struct component *const *table, int n)
{
	for (int i = n - 1; i >= 0; i--)
		if (table[i]->resume)
			table[i]->resume(vm);
}

void component_walk_release(struct vm *vm, const struct component *const *table, int n)
{
	for (int i = 0; i < n; i++)
		if (table[i]->release)
			table[i]->release(vm);
}

int component_walk_claim(struct vm *vm, const struct component *const *table, int n, int timeout_ms)
{
	for (int i = 0; i < n; i++) {
		int ret = table[i]->claim ? table[i]->claim(vm, timeout_ms) : 0;
		if (ret)
			return ret;
	}
	return 0;
}

int component_walk_write(struct vm *vm, struct snapshot_writer *w, const struct component *const *table, int n,
			 uint64_t *pages)
{
	struct component_ctx ctx = {.vm = vm, .w = w, .table = table, .nr_table = n};
	int ret = 0;
	for (int i = 0; !ret && i < n; i++)
		if (table[i]->section && (table[i]->save || table[i]->save_raw)) {
			ctx.self = table[i];
			ret = save_component(&ctx, table[i]);
		}
	*pages = ctx.pages;
	return ret;
}

int component_walk_save(struct vm *vm, struct snapshot_writer *w, const struct component *const *table, int n,
			uint64_t *pages)
{
	/* Components that work on their own threads (virtio I/O) hold still while the VM is saved. */
	component_walk_pause(vm, table, n);
	int ret = component_walk_write(vm, w, table, n, pages);
	component_walk_resume(vm, table, n);
	return ret;
}

/* Opens section `sec` for component c (version check), runs its restore hook and ends the section. */
static int restore_section(struct component_ctx *ctx, const struct component *c, struct snapshot_section *sec)
{
	ctx->self = c;
	if (c->restore_raw)
		return c->restore_raw(ctx, sec->instance, sec);
	struct snap_reader p;
	uint32_t max = ctx->vm ? component_version(c, ctx->vm, sec->instance) : c->version;
	int ret = snapshot_section_begin(ctx->r, sec, max, &p);
	if (ret)
		return ret < 0 ? ret : 0; /* 1: a newer optional section, skipped */
	ret = c->restore(ctx, sec->instance, sec->version, &p);
	return ret ? ret : snapshot_section_end(ctx->r, sec, &p);
}

/* Logs a failed restore's message: the reader's, or a generic one naming the section. */
static int restore_failed(struct snapshot_reader *r, const struct snapshot_section *sec, int ret)
{
	if (r->err[0])
		log_error("%s", r->err);
	else if (sec)
		log_error("%s: section \"%s\": cannot be restored (%s)", r->name, sec->name,
			  strerror(ret < 0 ? -ret : EBADMSG));
	else
		log_error("%s: cannot be restored (%s)", r->name, strerror(ret < 0 ? -ret : EBADMSG));
	return ret < 0 ? ret : -EBADMSG;
}

int component_walk_config(struct snapshot_reader *r, const struct component *const *table, int n,
			  struct component_config *config)
{
	struct component_ctx ctx = {.r = r, .config = config, .table = table, .nr_table = n};
	struct snapshot_section sec;
	int ret = 0, last = -1;
	bool have_vm = false, have_targets = false;
	/* HOST, VM, TARGETS and BASE lead the file, in that order; the VM section says which of the last two follow. */
	while ((ret = snapshot_read_next(r, &sec)) == 1) {
		int i = component_by_section(table, n, sec.id);
		if (i < 0 || !(table[i]->flags & COMPONENT_CONFIG)) {
			ret = snapshot_reader_fail(r, &sec, -EBADMSG, "expected the VM configuration first");
			break;
		}
		if (i <= last) {
			ret = snapshot_reader_fail(r, &sec, -EBADMSG, "%s",
						   i == last ? "duplicate section" : "out of order");
			break;
		}
		uint32_t announced = table[i]->section == SNAPSHOT_SEC_TARGETS ? SNAPSHOT_VM_TARGETS
				     : table[i]->section == SNAPSHOT_SEC_BASE  ? SNAPSHOT_VM_DIFF
									       : 0;
		if (announced && !(have_vm && (config->vm_flags & announced))) {
			ret = snapshot_reader_fail(r, &sec, -EBADMSG, "the VM section does not announce it");
			break;
		}
		ctx.sec = &sec;
		ret = restore_section(&ctx, table[i], &sec);
		if (ret)
			break;
		last = i;
		have_vm |= table[i]->section == SNAPSHOT_SEC_VM;
		have_targets |= table[i]->section == SNAPSHOT_SEC_TARGETS;
		bool more = (config->vm_flags & SNAPSHOT_VM_TARGETS && !have_targets) ||
			    (config->vm_flags & SNAPSHOT_VM_DIFF && !config->base.present);
		if (have_vm && !more)
			break;
	}
	if (ret > 0)
		ret = 0;
	if (!ret && !have_vm)
		ret = snapshot_reader_fail(r, NULL, -EBADMSG, "no VM configuration section");
	if (!ret && config->nr_vcpus == 0)
		ret = snapshot_reader_fail(r, NULL, -EBADMSG, "the VM configuration has no vCPUs");
	/* The count becomes an int and an allocation size: a damaged one must not wrap negative or be huge. */
	if (!ret && config->nr_vcpus > (uint32_t)arch_max_vcpus())
		ret = snapshot_reader_fail(r, NULL, -EBADMSG, "the VM configuration has %u vCPUs; %s allows at most %d",
					   config->nr_vcpus, arch_name(), arch_max_vcpus());
	if (ret) {
		restore_failed(r, NULL, ret);
		free(config->targets_json);
		config->targets_json = NULL;
	}
	return ret;
}

/*
 * The state stage's walk: which component's sections are being read (`cur`, in table order) and the last instance
 * read of it, so that a missing, duplicate or out-of-order section is found as soon as the stream passes it.
 */
struct restore_walk {
	const struct component *table[COMPONENT_MAX];
	int n;
	int cur; /* -1 before the first section */
	int64_t last; /* the last instance of table[cur] read, -1 none */
	void *scratch[COMPONENT_MAX];
	bool begun[COMPONENT_MAX]; /* restore_end is owed */
	uint64_t seen[COMPONENT_MAX]; /* COMPONENT_ANY_ORDER components: bit i, instance i was read (or preset) */
	bool memory_in; /* hooks->memory_in was called */
	uint64_t work_ns[COMPONENT_MAX]; /* time in each component's hooks (not in reading the stream), for --timing */
	uint64_t finish_ns;
};

/* With --timing: where a restore's own work went, by component (the stream's reading not counted). */
static void report_work(const struct restore_walk *wk, const struct vm *vm)
{
	char line[512];
	size_t used = 0;
	for (int c = 0; c < wk->n && used < sizeof(line); c++)
		if (wk->work_ns[c] >= 50000)
			used += (size_t)snprintf(line + used, sizeof(line) - used, "%s %.1f, ", wk->table[c]->name,
						 wk->work_ns[c] / 1e6);
	if (vm && vm->cfg.timing)
		log_info("timing: restore work by component (ms): %sthe finishing hooks %.1f", used ? line : "",
			 wk->finish_ns / 1e6);
}

/* Whether every present instance of component c has been read. */
static bool all_seen(const struct restore_walk *wk, const struct vm *vm, int c)
{
	for (uint32_t i = 0; i < component_count(wk->table[c], vm) && i < 64; i++)
		if (component_present(wk->table[c], vm, i) && !(wk->seen[c] >> i & 1))
			return false;
	return true;
}

/* Whether component c of the walk keeps its own order (not COMPONENT_ANY_ORDER). */
static bool ordered(const struct restore_walk *wk, int c)
{
	return !(wk->table[c]->flags & COMPONENT_ANY_ORDER);
}

/* Fails if an instance of table[c] after `from` and before `to` exists in the VM but was not in the snapshot. */
static int check_missing(struct restore_walk *wk, struct vm *vm, struct snapshot_reader *r, int c, int64_t from,
			 uint64_t to)
{
	const struct component *comp = wk->table[c];
	if (!comp->section || (comp->flags & (COMPONENT_CONFIG | COMPONENT_OPTIONAL | COMPONENT_REPEATABLE)))
		return 0;
	uint64_t end = component_count(comp, vm);
	for (uint64_t i = (uint64_t)(from + 1); i < end && i < to; i++) {
		if (!component_present(comp, vm, (uint32_t)i) || (!ordered(wk, c) && i < 64 && (wk->seen[c] >> i & 1)))
			continue;
		char name[NAME_LEN];
		component_instance_name(comp, vm, (uint32_t)i, name, sizeof(name));
		return snapshot_reader_fail(
		    r, NULL, -EBADMSG,
		    "no section \"%s\": this VM has it, the snapshot does not; restore with the "
		    "snapshot's configuration",
		    name);
	}
	return 0;
}

/* Ends component c: its restore_end hook, if it had sections. */
static int end_component(struct restore_walk *wk, struct component_ctx *ctx, int c, bool ok)
{
	if (!wk->begun[c])
		return 0;
	wk->begun[c] = false;
	ctx->self = wk->table[c];
	ctx->scratch = wk->scratch[c];
	int ret = wk->table[c]->restore_end ? wk->table[c]->restore_end(ctx, ok) : 0;
	wk->scratch[c] = NULL;
	/* Its own lines said why; the last one names it (not the section the walk had gone on to). */
	if (ret && ok && !ctx->r->err[0])
		snapshot_reader_fail(ctx->r, NULL, ret, "the saved %s state cannot be restored here",
				     wk->table[c]->name);
	return ret;
}

/* Moves the walk on to component `to` (n: past the end), checking that nothing in between is missing. */
static int advance(struct restore_walk *wk, struct component_ctx *ctx, int to)
{
	int ret = 0;
	for (int c = wk->cur < 0 ? 0 : wk->cur; !ret && c < to; c++) {
		if (!ordered(wk, c))
			continue; /* checked at the end */
		ret = check_missing(wk, ctx->vm, ctx->r, c, c == wk->cur ? wk->last : -1, UINT64_MAX);
		if (!ret)
			ret = end_component(wk, ctx, c, true);
	}
	if (!ret && to < wk->n && to != wk->cur) {
		wk->cur = to;
		wk->last = -1;
	}
	return ret;
}

/* Restores section `sec` of component c, whose sections may stand anywhere (memory, repeated memory deltas). */
static int restore_unordered(struct restore_walk *wk, struct component_ctx *ctx, int c, struct snapshot_section *sec)
{
	const struct component *comp = wk->table[c];
	uint32_t i = sec->instance;
	if (!component_present(comp, ctx->vm, i) || i >= 64)
		return snapshot_reader_fail(ctx->r, sec, -EINVAL,
					    "this VM has no such %s; restore with the snapshot's configuration",
					    comp->name);
	if ((wk->seen[c] >> i & 1) && !(comp->flags & COMPONENT_REPEATABLE))
		return snapshot_reader_fail(ctx->r, sec, -EBADMSG, "duplicate section");
	if (comp->requires) {
		int q = component_by_section(wk->table, wk->n, comp->requires);
		if (q >= 0 && !(wk->seen[q] >> i & 1))
			return snapshot_reader_fail(ctx->r, sec, -EBADMSG, "out of order: it needs \"%s %u\" first",
						    wk->table[q]->name, i);
	}
	wk->begun[c] = true;
	ctx->scratch = wk->scratch[c];
	ctx->sec = sec;
	int ret = restore_section(ctx, comp, sec);
	wk->scratch[c] = ctx->scratch;
	wk->seen[c] |= 1ull << i;
	const struct component_walk_hooks *h = ctx->hooks;
	if (!ret && h && h->memory_in && !wk->memory_in && (comp->flags & COMPONENT_MEMORY) &&
	    all_seen(wk, ctx->vm, c)) {
		wk->memory_in = true;
		h->memory_in(h->opaque, ctx->vm);
	}
	return ret;
}

/* Checks where section `sec` of component c stands in the walk, then restores it. */
static int restore_one(struct restore_walk *wk, struct component_ctx *ctx, int c, struct snapshot_section *sec)
{
	const struct component *comp = wk->table[c];
	struct vm *vm = ctx->vm;
	if (comp->flags & COMPONENT_CONFIG)
		return snapshot_reader_fail(ctx->r, sec, -EBADMSG, "out of order: the VM description comes first");
	if (!ordered(wk, c))
		return restore_unordered(wk, ctx, c, sec);
	if (c < wk->cur)
		return snapshot_reader_fail(ctx->r, sec, -EBADMSG, "out of order: it belongs before \"%s\"",
					    wk->table[wk->cur]->name);
	int ret = advance(wk, ctx, c);
	if (ret)
		return ret;
	if (!component_present(comp, vm, sec->instance))
		return snapshot_reader_fail(ctx->r, sec, -EINVAL,
					    "this VM has no such %s; restore with the snapshot's configuration",
					    comp->name);
	if ((int64_t)sec->instance <= wk->last)
		return snapshot_reader_fail(ctx->r, sec, -EBADMSG, "%s",
					    (int64_t)sec->instance == wk->last ? "duplicate section" : "out of order");
	ret = check_missing(wk, vm, ctx->r, c, wk->last, sec->instance);
	if (ret)
		return ret;
	wk->begun[c] = true;
	ctx->scratch = wk->scratch[c];
	ctx->sec = sec;
	ret = restore_section(ctx, comp, sec);
	wk->scratch[c] = ctx->scratch;
	wk->last = sec->instance;
	return ret;
}

int component_walk_restore(struct vm *vm, struct snapshot_reader *r, const struct component *const *table, int n)
{
	return component_walk_restore_after(vm, r, table, n, NULL, 0, NULL);
}

int component_walk_restore_after(struct vm *vm, struct snapshot_reader *r, const struct component *const *table, int n,
				 const uint32_t *already, int nr_already, const struct component_walk_hooks *hooks)
{
	struct restore_walk *wk = calloc(1, sizeof(*wk));
	if (!wk || n > COMPONENT_MAX) {
		free(wk);
		return log_errno(-ENOMEM, "restore: out of memory");
	}
	wk->n = n;
	memcpy(wk->table, table, (size_t)n * sizeof(*table));
	wk->cur = -1;
	wk->last = -1;
	for (int a = 0; a < nr_already; a++) {
		int c = component_by_section(wk->table, n, already[a]);
		if (c >= 0)
			wk->seen[c] = ~0ull;
	}
	struct component_ctx ctx = {.vm = vm, .r = r, .table = table, .nr_table = n, .hooks = hooks};
	struct snapshot_section sec;
	int ret;
	bool have_sec = false;
	while ((ret = snapshot_read_next(r, &sec)) == 1) {
		have_sec = true;
		int c = component_by_section(wk->table, wk->n, sec.id);
		uint64_t t0 = monotonic_ns();
		ret =
		    c < 0 ? snapshot_reader_fail(r, &sec, -EBADMSG, "unexpected here") : restore_one(wk, &ctx, c, &sec);
		if (c >= 0)
			wk->work_ns[c] += monotonic_ns() - t0;
		if (ret)
			break;
	}
	if (ret == 0)
		ret = advance(wk, &ctx, wk->n); /* END: everything after the last section must be absent too */
	for (int c = 0; ret == 0 && c < wk->n; c++) /* the components whose sections stand anywhere */
		if (!ordered(wk, c)) {
			ret = check_missing(wk, vm, r, c, -1, UINT64_MAX);
			if (!ret)
				ret = end_component(wk, &ctx, c, true);
		}
	if (ret) {
		restore_failed(r, have_sec && !r->err[0] ? &sec : NULL, ret);
		for (int c = 0; c < wk->n; c++)
			end_component(wk, &ctx, c, false);
		free(wk);
		return ret < 0 ? ret : -EBADMSG;
	}
	uint64_t t0 = monotonic_ns();
	for (int c = 0; !ret && c < wk->n; c++)
		if (wk->table[c]->restore_finish)
			ret = wk->table[c]->restore_finish(vm);
	wk->finish_ns = monotonic_ns() - t0;
	if (!ret)
		report_work(wk, vm);
	free(wk);
	return ret;
}

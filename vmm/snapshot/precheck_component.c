/* The PRECHECK section and its component: see precheck.h. */
#include "precheck.h"

#include "core/component.h"
#include "core/log.h"
#include "core/vm.h"
#include "snapshot.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define PRECHECK_MAX_ENTRIES 16

int precheck_write(struct vm *vm, struct snapshot_writer *w, const struct component *const *table, int n)
{
	struct component_ctx ctx = {.vm = vm, .w = w, .table = table, .nr_table = n};
	struct snap_writer all;
	snap_writer_init(&all);
	uint32_t count = 0;
	int ret = 0;
	for (int i = 0; i < n; i++)
		count += table[i]->check && table[i]->save && component_present(table[i], vm, 0);
	snap_put_u32(&all, count);
	for (int i = 0; !ret && i < n; i++) {
		const struct component *c = table[i];
		if (!c->check || !c->save || !component_present(c, vm, 0))
			continue;
		struct snap_writer p;
		snap_writer_init(&p);
		ctx.self = c;
		ret = c->save(&ctx, 0, &p);
		if (!ret && p.err)
			ret = p.err;
		snap_put_u32(&all, c->section);
		snap_put_u32(&all, 0);
		snap_put_u32(&all, component_version(c, vm, 0));
		snap_put_blob(&all, p.buf, (uint32_t)p.len);
		snap_writer_fini(&p);
	}
	if (!ret)
		ret = snapshot_write_payload(w, SNAPSHOT_SEC_PRECHECK, 0, PRECHECK_VERSION, 0, &all);
	snap_writer_fini(&all);
	return ret;
}

/* Runs the check hook of every entry's component; fills report; returns the number of problems or -errno. */
static int precheck_run(struct component_ctx *ctx, struct snap_reader *p, char *report, size_t size)
{
	uint32_t count = snap_get_u32(p, "precheck entries");
	if (count > PRECHECK_MAX_ENTRIES)
		snap_reader_fail(p, "precheck entries");
	int problems = 0;
	for (uint32_t e = 0; !p->err && e < count; e++) {
		uint32_t id = snap_get_u32(p, "precheck section id"), instance = snap_get_u32(p, "precheck instance");
		uint32_t version = snap_get_u32(p, "precheck version"),
			 len = snap_get_u32(p, "precheck payload length");
		if (p->err || len > p->len - p->pos) {
			snap_reader_fail(p, "precheck payload");
			break;
		}
		struct snap_reader sub;
		snap_reader_init(&sub, p->buf + p->pos, len);
		p->pos += len;
		int c = component_by_section(ctx->table, ctx->nr_table, id);
		const struct component *comp = c >= 0 ? ctx->table[c] : NULL;
		if (!comp || !comp->check || !component_present(comp, ctx->vm, instance))
			continue; /* nothing here to check it with: the section itself will say, later */
		if (version > component_version(comp, ctx->vm, instance)) {
			component_report_add(report, size, "%s: version %u is newer than this roam's %u", comp->name,
					     version, component_version(comp, ctx->vm, instance));
			problems++;
			continue;
		}
		struct component_ctx sub_ctx = *ctx;
		sub_ctx.self = comp;
		int n = comp->check(&sub_ctx, instance, version, &sub, report, size);
		if (n < 0)
			return n;
		problems += n;
	}
	return problems;
}

static int precheck_restore(struct component_ctx *ctx, uint32_t instance, uint32_t version, struct snap_reader *p)
{
	(void)instance;
	(void)version;
	char *report = calloc(1, PRECHECK_REPORT_LEN);
	if (!report)
		return log_errno(-ENOMEM, "restore: out of memory");
	int problems = precheck_run(ctx, p, report, PRECHECK_REPORT_LEN);
	if (ctx->hooks && ctx->hooks->prechecked && problems >= 0 && !p->err)
		ctx->hooks->prechecked(ctx->hooks->opaque, problems, report);
	int ret = 0;
	if (problems < 0) {
		ret = problems;
	} else if (problems > 0) {
		size_t len = strlen(report);
		if (len && report[len - 1] == '\n')
			report[len - 1] = '\0';
		log_error("%s: this host cannot take the guest (%d problem%s):\n%s", ctx->r->name, problems,
			  problems == 1 ? "" : "s", report);
		ret = snapshot_reader_fail(ctx->r, ctx->sec, -EINVAL, "this host cannot take the guest (%d problem%s)",
					   problems, problems == 1 ? "" : "s");
	}
	p->pos = p->err ? p->pos : p->len;
	free(report);
	return ret;
}

/* Written by the migration code, not by a snapshot walk (no save hook); may stand anywhere, and be absent. */
const struct component precheck_component = {
    .name = "precheck",
    .section = SNAPSHOT_SEC_PRECHECK,
    .version = PRECHECK_VERSION,
    .flags = COMPONENT_OPTIONAL | COMPONENT_ANY_ORDER | COMPONENT_REPEATABLE,
    .restore = precheck_restore,
};

/*
 * Whole-VM snapshots (vm_snapshot.h): the VM's component table (core/component.h) walked by component_walk.c,
 * with the vCPUs paused around a save.
 */
#include "vm_snapshot.h"

#include "arch.h"
#include "component_walk.h"
#include "core/component.h"
#include "core/dirty_log.h"
#include "core/log.h"
#include "core/vcpu.h"
#include "core/vm.h"
#include "diff_chain.h"
#include "lazy_restore.h"
#include "precheck.h"
#include "snapshot.h"
#include "snapshot_meta.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The components a diff writes through the walk: not memory (its deltas are written apart). */
static int pick(const struct component *const *table, int n, bool config, const struct component *out[COMPONENT_MAX])
{
	int k = 0;
	for (int i = 0; i < n; i++) {
		if (!snapshot_is_memory_id(table[i]->section) && !(table[i]->flags & COMPONENT_CONFIG) == !config)
			out[k++] = table[i];
	}
	return k;
}

/* A diff: the description with its BASE, the state, and the pages dirtied since the base as MEMORY_DELTA sections. */
static int save_diff(struct vm *vm, struct snapshot_writer *w, const struct component *const *table, int n,
		     uint64_t *pages)
{
	const struct component *sel[COMPONENT_MAX];
	uint64_t unused;
	vm->chain.writing_diff = true;
	int k = pick(table, n, true, sel);
	int ret = component_walk_write(vm, w, sel, k, &unused);
	vm->chain.writing_diff = false;
	if (!ret)
		ret = diff_write_base(w, vm->chain.base_path, vm->chain.base_size, vm->chain.base_sha256);
	if (!ret)
		ret = precheck_write(vm, w, table, n);
	k = pick(table, n, false, sel);
	if (!ret)
		ret = component_walk_write(vm, w, sel, k, &unused);
	*pages = 0;
	for (int i = 0; !ret && i < vm->mem.nr_slots; i++) {
		const struct memory_slot *s = &vm->mem.slots[i];
		if (!vm_dirty_log_slot(vm, i))
			continue;
		uint64_t words = (s->size / MEMORY_DIRTY_PAGE + 63) / 64;
		uint64_t *dirty = calloc(words, sizeof(uint64_t));
		int64_t got = dirty ? vm_dirty_log_collect(vm, i, dirty) : -ENOMEM;
		/* Collected pages are no longer in the log: a diff that fails now cannot be retried on this base. */
		vm->chain.tracking = false;
		int64_t written = got < 0 ? got
					  : snapshot_write_memory_delta(w, (uint32_t)i, s->gpa, s->host, s->size,
									MEMORY_DIRTY_PAGE, vm_dirty_log_bytes(dirty));
		free(dirty);
		if (written < 0)
			ret = (int)written;
		else
			*pages += (uint64_t)written;
	}
	return ret;
}

/*
 * A whole snapshot: the description, then PRECHECK - a sample of the CPU state that a restore checks against its host
 * before it applies anything, so that every reason the host cannot take the guest comes in one list -, then the
 * state and the memory.
 */
static int save_whole(struct vm *vm, struct snapshot_writer *w, const struct component *const *table, int n,
		      uint64_t *pages)
{
	const struct component *sel[COMPONENT_MAX];
	uint64_t unused;
	int k = pick(table, n, true, sel);
	int ret = component_walk_write(vm, w, sel, k, &unused);
	if (!ret)
		ret = precheck_write(vm, w, table, n);
	k = 0;
	for (int i = 0; i < n; i++)
		if (!(table[i]->flags & COMPONENT_CONFIG) || snapshot_is_memory_id(table[i]->section))
			sel[k++] = table[i];
	return ret ? ret : component_walk_write(vm, w, sel, k, pages);
}

/* Writes the snapshot with everything held still; starts or ends dirty tracking for diffs as asked. */
static int save_all(struct vm *vm, struct snapshot_writer *w, const struct vm_snapshot_options *opt, uint64_t *pages)
{
	const struct component *table[COMPONENT_MAX];
	int n = component_table(table);
	int ret = 0;
	component_walk_pause(vm, table, n);
	if (opt->diff) {
		ret = save_diff(vm, w, table, n, pages);
	} else {
		/* Tracking for the next diff starts before the memory is written (KVM may mark every page at first). */
		if (opt->track && !vm->dirty_logging)
			ret = vm_dirty_log_start(vm);
		if (!ret)
			ret = save_whole(vm, w, table, n, pages);
		for (int i = 0; !ret && opt->track && i < vm->mem.nr_slots; i++) {
			/* Nothing ran since the memory was written: what the log holds is already in this snapshot. */
			uint64_t *dirty =
			    calloc((vm->mem.slots[i].size / MEMORY_DIRTY_PAGE + 63) / 64, sizeof(uint64_t));
			if (vm_dirty_log_slot(vm, i) && (!dirty || vm_dirty_log_collect(vm, i, dirty) < 0))
				ret = -EIO;
			free(dirty);
		}
	}
	component_walk_resume(vm, table, n);
	return ret;
}

int vm_snapshot_save(struct vm *vm, const char *path, int fd, bool stop, struct vm_snapshot_result *res, char *err,
		     size_t err_len)
{
	struct vm_snapshot_options opt = {.stop = stop};
	return vm_snapshot_save_opts(vm, path, fd, &opt, res, err, err_len);
}

/* After a snapshot with tracking (full or diff): it is the base of the next diff. */
static void chain_record(struct vm *vm, const char *path, struct snapshot_writer *w, uint64_t bytes)
{
	vm->chain.tracking = true;
	snprintf(vm->chain.base_path, sizeof(vm->chain.base_path), "%s", path);
	vm->chain.base_size = bytes;
	snapshot_writer_digest(w, vm->chain.base_sha256);
}

int vm_snapshot_save_opts(struct vm *vm, const char *path, int fd, const struct vm_snapshot_options *opt,
			  struct vm_snapshot_result *res, char *err, size_t err_len)
{
	memset(res, 0, sizeof(*res));
	bool tracked = opt->track || opt->diff;
	const char *refusal = tracked && fd >= 0 ? "--track and --diff need a file (a diff names its base by path)"
			      : opt->diff && !vm->chain.tracking
				  ? "--diff: no base: take a snapshot with --track first (it "
				    "starts the dirty tracking a diff needs)"
				  : NULL;
	bool *was_paused = refusal ? NULL : calloc((size_t)vm->nr_vcpus, sizeof(*was_paused));
	if (!was_paused) {
		snprintf(err, err_len, "%s", refusal ? refusal : "out of memory");
		if (fd >= 0)
			close(fd);
		return refusal ? -EINVAL : -ENOMEM;
	}
	for (int i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu_status st;
		vcpu_get_status(&vm->vcpus[i], &st);
		was_paused[i] = st.pause_requested;
	}
	/* A lazily restored guest's memory still in its snapshot file would read as holes: all of it first. */
	if (lazy_restore_complete(vm->lazy) < 0) {
		snprintf(err, err_len, "the guest's memory could not be loaded from its snapshot");
		free(was_paused);
		if (fd >= 0)
			close(fd);
		return -EIO;
	}
	uint64_t t0 = vm_now_ns();
	int ret = vm_pause(vm, -1);
	struct snapshot_writer w;
	memset(&w, 0, sizeof(w));
	if (ret) {
		snprintf(err, err_len, "cannot pause the VM: it is stopping");
	} else {
		uint64_t t1 = vm_now_ns();
		ret = fd >= 0 ? snapshot_writer_open_fd(&w, fd, "standard output", arch_name())
			      : snapshot_writer_open_path(&w, path, arch_name());
		if (!ret && tracked)
			ret = snapshot_writer_hash(&w);
		if (!ret)
			ret = save_all(vm, &w, opt, &res->pages);
		if (!ret) {
			ret = snapshot_writer_commit(&w);
			res->bytes = w.offset; /* with the END section commit wrote */
		}
		if (!ret && tracked)
			chain_record(vm, path, &w, res->bytes);
		if (ret) {
			snprintf(err, err_len, "%s%s", w.err[0] ? w.err : strerror(-ret),
				 opt->diff ? " (the next --diff needs a new --track base)" : "");
			snapshot_writer_abort(&w);
		}
		if (!tracked && !ret && vm->chain.tracking) {
			vm->chain.tracking = false; /* a plain snapshot ends the chain */
			vm_dirty_log_stop(vm);
		}
		res->save_ms = (vm_now_ns() - t1) / 1e6;
	}
	if (fd >= 0)
		close(fd);
	if (!opt->stop || ret)
		for (int i = 0; i < vm->nr_vcpus; i++)
			if (!was_paused[i])
				vm_resume(vm, i);
	res->downtime_ms = (vm_now_ns() - t0) / 1e6;
	free(was_paused);
	return ret;
}

int vm_restore_config(struct snapshot_reader *r, struct vm_config *cfg, char **targets_json,
		      struct vm_restore_base *base)
{
	const struct component *table[COMPONENT_MAX];
	int n = component_table(table);
	struct snapshot_host_info *host = calloc(1, sizeof(*host));
	struct component_config config = {.cfg = cfg, .host = host};
	*targets_json = NULL;
	int ret = host ? component_walk_config(r, table, n, &config) : log_errno(-ENOMEM, "restore: out of memory");
	if (!ret) {
		log_info("restoring a VM of %u vCPU(s) and %llu MiB saved on %s (kernel %s, roam %s)", config.nr_vcpus,
			 (unsigned long long)(config.ram_size >> 20), host->hostname, host->kernel, host->roam_version);
		cfg->ram_size = config.ram_size;
		cfg->nr_vcpus = (int)config.nr_vcpus;
		cfg->no_pvlock = !(config.vm_flags & SNAPSHOT_VM_PVLOCK);
		cfg->kernel_path = NULL;
		cfg->initrd_path = NULL;
		cfg->targets_json = config.targets_json;
		*targets_json = config.targets_json;
		memset(base, 0, sizeof(*base));
		if (config.base.present) {
			/* A relative base is next to the diff. */
			const char *slash = strrchr(r->name, '/');
			size_t dir = config.base.path[0] == '/' || !slash ? 0 : (size_t)(slash - r->name) + 1;
			if (dir + strlen(config.base.path) >= sizeof(base->path))
				return free(host), log_errno(-ENAMETOOLONG, "%s: its base's path is too long", r->name);
			memcpy(base->path, r->name, dir);
			memcpy(base->path + dir, config.base.path, strlen(config.base.path) + 1);
			base->size = config.base.size;
			memcpy(base->sha256, config.base.sha256, 32);
		}
	}
	free(host);
	return ret;
}

int vm_restore_state(struct vm *vm, struct snapshot_reader *r)
{
	const struct component *table[COMPONENT_MAX];
	int n = component_table(table);
	return component_walk_restore(vm, r, table, n);
}

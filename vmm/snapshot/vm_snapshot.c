/*
 * Whole-VM snapshots (vm_snapshot.h): the VM's component table (core/component.h) walked by component_walk.c,
 * with the vCPUs paused around a save.
 */
#include "vm_snapshot.h"

#include "arch.h"
#include "component_walk.h"
#include "core/component.h"
#include "core/vcpu.h"
#include "core/vm.h"
#include "snapshot.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int save_all(struct vm *vm, struct snapshot_writer *w, uint64_t *pages)
{
	const struct component *table[COMPONENT_MAX];
	int n = component_table(table);
	return component_walk_save(vm, w, table, n, pages);
}

int vm_snapshot_save(struct vm *vm, const char *path, int fd, bool stop, struct vm_snapshot_result *res, char *err,
		     size_t err_len)
{
	memset(res, 0, sizeof(*res));
	bool *was_paused = calloc((size_t)vm->nr_vcpus, sizeof(*was_paused));
	if (!was_paused) {
		snprintf(err, err_len, "out of memory");
		if (fd >= 0)
			close(fd);
		return -ENOMEM;
	}
	for (int i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu_status st;
		vcpu_get_status(&vm->vcpus[i], &st);
		was_paused[i] = st.pause_requested;
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
		if (!ret)
			ret = save_all(vm, &w, &res->pages);
		if (!ret) {
			ret = snapshot_writer_commit(&w);
			res->bytes = w.offset; /* with the END section commit wrote */
		}
		if (ret) {
			snprintf(err, err_len, "%s", w.err[0] ? w.err : strerror(-ret));
			snapshot_writer_abort(&w);
		}
		res->save_ms = (vm_now_ns() - t1) / 1e6;
	}
	if (fd >= 0)
		close(fd);
	if (!stop || ret)
		for (int i = 0; i < vm->nr_vcpus; i++)
			if (!was_paused[i])
				vm_resume(vm, i);
	res->downtime_ms = (vm_now_ns() - t0) / 1e6;
	free(was_paused);
	return ret;
}

int vm_restore_config(struct snapshot_reader *r, struct vm_config *cfg, char **targets_json)
{
	const struct component *table[COMPONENT_MAX];
	int n = component_table(table);
	return component_walk_config(r, table, n, cfg, targets_json);
}

int vm_restore_state(struct vm *vm, struct snapshot_reader *r)
{
	const struct component *table[COMPONENT_MAX];
	int n = component_table(table);
	return component_walk_restore(vm, r, table, n);
}

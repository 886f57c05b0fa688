/* The control API during a restore: see api_restore.h. */
#include "api_restore.h"

#include "api.h"
#include "api_vm.h"
#include "api_vm_jobs.h"
#include "core/clock.h"
#include "snapshot/snapshot.h"

#include <errno.h>
#include <jansson.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static uint64_t bytes_read(const struct api_restore *ar)
{
	return atomic_load_explicit(&((struct snapshot_reader *)ar->r)->progress, memory_order_relaxed);
}

/* {"state":"restoring","restore":{"from":...,"bytes_read":N,"bytes":M|null,"ms":T}} */
static int restoring_status(struct api_call *call)
{
	const struct api_restore *ar = call->ctx;
	json_t *p =
	    json_pack("{s:s, s:I, s:I}", "from", ar->source, "bytes_read", (json_int_t)bytes_read(ar), "ms",
		      (json_int_t)((monotonic_ns() - ar->start_ns) / 1000000)); /* whole ms: JSON prints doubles long */
	json_object_set_new(p, "bytes", ar->size ? json_integer((json_int_t)ar->size) : json_null());
	json_object_set_new(call->reply, "state", json_string("restoring"));
	json_object_set_new(call->reply, "restore", p);
	return 0;
}

/* Everything that needs a running VM: one clear answer instead of silence. */
static int restoring_refuse(struct api_call *call)
{
	const struct api_restore *ar = call->ctx;
	return api_call_fail(call, API_ERR_RESTORING,
			     "the VM is being restored from %s (%.1f MiB read so far); it answers this once it runs",
			     ar->source, bytes_read(ar) / 1048576.0);
}

int api_restore_serve(struct api_server *srv, struct api_restore *ar)
{
	/* The VM's own table, by name and arguments, so that a new VM command is answered here too. */
	size_t nr;
	const struct api_command *vm_cmds = api_vm_command_table(&nr);
	ar->cmds = calloc(nr, sizeof(*ar->cmds));
	if (!ar->cmds)
		return -ENOMEM;
	for (size_t i = 0; i < nr; i++) {
		ar->cmds[i] = vm_cmds[i];
		ar->cmds[i].handler = strcmp(vm_cmds[i].name, "status") ? restoring_refuse : restoring_status;
	}
	ar->nr_cmds = nr;
	ar->start_ns = monotonic_ns();
	return api_server_start(srv, ar->cmds, ar->nr_cmds, ar);
}

void api_restore_release(struct api_restore *ar)
{
	free(ar->cmds);
	ar->cmds = NULL;
	ar->nr_cmds = 0;
}

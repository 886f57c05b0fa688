/*
 * The VM's control-API commands: see api_vm.h, and docs/api.md for the protocol. Handlers run on the API server's
 * thread while the vCPUs run: they use the VM's thread-safe calls (vm_pause, vm_resume, vcpu_get_status,
 * vm_request_stop) and read counters atomically. A failure below a handler (the snapshot's writer, a component's
 * KVM ioctl) goes to the client as the line roam logged for it (api_call_fail_logged), with its error code.
 */
#include "api_vm.h"

#include "api.h"
#include "api_vm_jobs.h"
#include "core/log.h"
#include "core/vcpu.h"
#include "core/vm.h"
#include "pvlock/pvlock.h"
#include "snapshot/lazy_restore.h"
#include "snapshot/vm_snapshot.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define API_VM_RESUME_WAIT_MS 2000

/* ---- status ---- */

static json_t *api_vm_status_hypercalls(struct vm *vm)
{
	uint64_t total = 0;
	for (int i = 0; i < vm->nr_vcpus; i++)
		total += atomic_load(&vm->vcpus[i].stats.hypercalls);
	json_t *names = json_array();
	for (int i = 0; i < vm->hypercalls.nr; i++) /* filled before the vCPUs start; fixed since */
		json_array_append_new(names, json_string(vm->hypercalls.handlers[i].name));
	json_t *obj = json_object();
	json_object_set_new(obj, "total", json_integer((json_int_t)total));
	json_object_set_new(obj, "registered", names);
	return obj;
}

/*
 * Components' parts of the "status" reply, in this order after "state" and "vcpus": reply[key] = fn(vm), left out
 * when fn returns NULL (e.g. the component is disabled). fn runs on the API thread while the VM runs, so it reads
 * the component's counters atomically or under the component's own lock. To add a component, add one line, e.g.
 *     {"pvlock", pvlock_api_status},   with   json_t *pvlock_api_status(struct vm *vm);  (NULL when vm->pvlock is)
 * and describe its fields in docs/api.md.
 */
struct api_vm_status_section {
	const char *key;
	json_t *(*fn)(struct vm *vm);
};

/* The PV lock: each vCPU's flag as the guest sees it, and how well roam follows the host scheduler. */
static json_t *api_vm_status_pvlock(struct vm *vm)
{
	if (!vm->pvlock)
		return NULL;
	struct pvlock_stats st;
	pvlock_get_stats(vm->pvlock, &st);
	json_t *flags = json_array();
	for (int i = 0; i < vm->pvlock->nr_vcpus; i++)
		json_array_append_new(flags, json_integer((json_int_t)pvlock_flag(vm->pvlock, i)));
	char base[24]; /* an address: a hex string, as everywhere in roam's JSON */
	snprintf(base, sizeof(base), "0x%016" PRIx64, vm->pvlock->gpa);
	return json_pack("{s:s, s:o, s:b, s:I, s:I, s:I, s:I}", "base", base, "preempted", flags, "tracking",
			 st.tracking, "switches", (json_int_t)st.switches, "latency_ns_median",
			 (json_int_t)st.latency_ns_median, "latency_ns_p99", (json_int_t)st.latency_ns_p99,
			 "latency_ns_max", (json_int_t)st.latency_ns_max);
}

/* A lazy restore's memory load (snapshot/lazy_restore.h): "loading" with what is still missing, then "loaded". */
static json_t *api_vm_status_restore(struct vm *vm)
{
	struct lazy_restore_progress p;
	if (!vm->lazy)
		return NULL;
	lazy_restore_progress(vm->lazy, &p);
	if (!p.chunks)
		return NULL; /* loaded eagerly */
	uint64_t missing = p.chunks - p.chunks_loaded;
	const char *memory = p.active ? "loading" : missing ? "failed" : "loaded";
	return json_pack("{s:s, s:I, s:I, s:I, s:I, s:I}", "memory", memory, "chunks", (json_int_t)p.chunks,
			 "chunks_missing", (json_int_t)missing, "bytes_missing",
			 (json_int_t)(missing * SNAPSHOT_CHUNK_BYTES), "faults", (json_int_t)p.faults, "ms",
			 (json_int_t)p.ms);
}

static const struct api_vm_status_section api_vm_status_sections[] = {
    {"hypercalls", api_vm_status_hypercalls},
    {"pvlock", api_vm_status_pvlock},
    {"restore", api_vm_status_restore},
};

static int api_vm_status(struct api_call *call)
{
	struct vm *vm = api_vm_of(call);
	const char **states = calloc((size_t)vm->nr_vcpus, sizeof(*states));
	json_t *vcpus = json_array();
	if (!states || !vcpus) {
		free(states);
		json_decref(vcpus);
		return api_call_fail(call, API_ERR_INTERNAL, "out of memory");
	}
	for (int i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu_status st;
		vcpu_get_status(&vm->vcpus[i], &st);
		states[i] = vcpu_state_name(st.state);
		json_t *v = json_object();
		json_object_set_new(v, "id", json_integer(i));
		json_object_set_new(v, "state", json_string(states[i]));
		json_object_set_new(v, "exits", json_integer((json_int_t)st.exits));
		json_object_set_new(v, "mmio_exits", json_integer((json_int_t)st.mmio_exits));
		json_object_set_new(v, "hypercalls", json_integer((json_int_t)st.hypercalls));
		json_array_append_new(vcpus, v);
	}
	json_object_set_new(call->reply, "state", json_string(api_summarize_states(states, vm->nr_vcpus)));
	json_object_set_new(call->reply, "vcpus", vcpus);
	free(states);
	for (size_t i = 0; i < sizeof(api_vm_status_sections) / sizeof(api_vm_status_sections[0]); i++) {
		json_t *part = api_vm_status_sections[i].fn(vm);
		if (part)
			json_object_set_new(call->reply, api_vm_status_sections[i].key, part);
	}
	return 0;
}

/* ---- pause, resume, quit ---- */

static int api_vm_pause(struct api_call *call)
{
	struct vm *vm = api_vm_of(call);
	int id;
	if (api_arg_vcpu(call, vm->nr_vcpus, &id) < 0)
		return -1;
	if (atomic_load(&vm->stopping))
		return api_call_fail(call, API_ERR_VM_STOPPING, "the VM is stopping");
	int ret = vm_pause(vm, id); /* returns once the vCPUs are out of the guest */
	if (ret == -ESRCH)
		return api_call_fail(call, API_ERR_VM_STOPPING, "the VM is stopping");
	if (ret < 0)
		return api_call_fail_logged(call, API_ERR_INTERNAL, "%s", strerror(-ret));
	return 0;
}

/* True while one of the vCPUs vm_resume just released has not re-entered its run loop yet. */
static bool api_vm_resume_pending(struct vm *vm, int first, int last)
{
	for (int i = first; i <= last; i++) {
		struct vcpu_status st;
		vcpu_get_status(&vm->vcpus[i], &st);
		if ((st.state == VCPU_PAUSED || st.state == VCPU_CREATED) && !st.pause_requested)
			return true;
	}
	return false;
}

static int api_vm_resume(struct api_call *call)
{
	struct vm *vm = api_vm_of(call);
	int id;
	if (api_arg_vcpu(call, vm->nr_vcpus, &id) < 0)
		return -1;
	if (atomic_load(&vm->stopping))
		return api_call_fail(call, API_ERR_VM_STOPPING, "the VM is stopping");
	int ret = vm_resume(vm, id);
	if (ret < 0)
		return api_call_fail_logged(call, API_ERR_INTERNAL, "%s", strerror(-ret));
	/* Answer once they run again (bounded), so that a status right after shows them running. */
	int first = id < 0 ? 0 : id, last = id < 0 ? vm->nr_vcpus - 1 : id;
	for (int ms = 0; ms < API_VM_RESUME_WAIT_MS && api_vm_resume_pending(vm, first, last); ms++) {
		if (atomic_load(&vm->stopping))
			break;
		nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
	}
	return 0;
}

static void api_vm_stop(void *ctx)
{
	log_info("stopping the VM (API quit)");
	vm_request_stop(((struct api_vm *)ctx)->vm, ROAM_EXIT_SIGNAL);
}

static int api_vm_quit(struct api_call *call)
{
	call->after_reply = api_vm_stop; /* the reply goes out before the VM stops */
	return 0;
}

/* After a snapshot --stop: the VM ends; its state is in the snapshot (exit status 6). */
static void api_vm_stop_saved(void *ctx)
{
	vm_request_stop(((struct api_vm *)ctx)->vm, ROAM_EXIT_SNAPSHOT_STOPPED);
}

/*
 * snapshot {"path": FILE or "-", "stop": bool, "track": bool, "diff": bool}: pauses every vCPU, writes the snapshot
 * (atomically for a file; to the descriptor the client passed for "-"), then resumes or, with stop, ends the VM.
 * track: this snapshot is the base of the next diff (dirty tracking runs from now on); diff: only what changed
 * since that base (snapshot/diff_chain.h).
 */
static int api_vm_snapshot(struct api_call *call)
{
	struct vm *vm = api_vm_of(call);
	struct api_snapshot_request req = {0};
	if (api_snapshot_args(call, &req) < 0)
		return -1;
	if (atomic_load(&vm->stopping))
		return api_call_fail(call, API_ERR_VM_STOPPING, "the VM is stopping");
	struct vm_snapshot_options opt = {.stop = req.stop, .track = req.track, .diff = req.diff};
	if (api_vm_job_busy(call))
		return -1; /* (a passed descriptor left unused is closed by the server) */
	if (opt.diff && !vm->chain.tracking)
		return api_call_fail(
		    call, API_ERR_BAD_ARGUMENT,
		    "--diff: no base: take a snapshot with --track first (it starts the dirty tracking "
		    "a diff needs)");
	int fd = -1;
	if (!strcmp(req.file, "-")) {
		fd = *call->passed_fd;
		*call->passed_fd = -1; /* vm_snapshot_save closes it */
	}
	struct vm_snapshot_result res;
	char err[600];
	int ret = vm_snapshot_save_opts(vm, req.file, fd, &opt, &res, err, sizeof(err));
	if (ret == -ESRCH) /* the vCPUs exited instead of pausing */
		return api_call_fail(call, API_ERR_VM_STOPPING, "the VM is stopping");
	if (ret < 0) /* what a component logged (a KVM ioctl), else the writer's reason */
		return api_call_fail_logged(call, API_ERR_SNAPSHOT_FAILED, "%s", err);
	json_object_set_new(call->reply, "bytes", json_integer((json_int_t)res.bytes));
	json_object_set_new(call->reply, "pages", json_integer((json_int_t)res.pages));
	/* Tenths of a millisecond: a double printed in full says 19297.535400000001. */
	json_object_set_new(call->reply, "save_ms", json_real((double)(int64_t)(res.save_ms * 10 + 0.5) / 10));
	json_object_set_new(call->reply, "downtime_ms", json_real((double)(int64_t)(res.downtime_ms * 10 + 0.5) / 10));
	if (req.stop)
		call->after_reply = api_vm_stop_saved;
	return 0;
}

/* ---- the command table ---- */

static const char *const api_vm_vcpu_arg[] = {"vcpu", NULL};
static const char *const api_vm_snapshot_args[] = {"path", "stop", "track", "diff", NULL};

/* The VM's commands. A new one is a handler above and a line here (its arguments: a NULL-terminated list). */
static const struct api_command api_vm_commands[] = {
    {"pause", api_vm_vcpu_arg, api_vm_pause},
    {"resume", api_vm_vcpu_arg, api_vm_resume},
    {"status", NULL, api_vm_status},
    {"quit", NULL, api_vm_quit},
    {"snapshot", api_vm_snapshot_args, api_vm_snapshot},
    {"migrate", api_vm_migrate_args, api_vm_migrate},
};

const struct api_command *api_vm_command_table(size_t *nr)
{
	*nr = sizeof(api_vm_commands) / sizeof(api_vm_commands[0]);
	return api_vm_commands;
}

/* After the server thread stopped: a job still running is waited for, then the context goes. */
static void api_vm_fini(void *ctx)
{
	struct api_vm *a = ctx;
	api_vm_jobs_fini(a);
	free(a);
}

int api_vm_serve(struct api_server *srv, struct vm *vm)
{
	struct api_vm *a = calloc(1, sizeof(*a));
	if (!a)
		return log_errno(-ENOMEM, "api: out of memory");
	a->vm = vm;
	a->srv = srv;
	api_vm_jobs_init(a);
	api_server_on_close(srv, api_vm_fini);
	int ret = api_server_start(srv, api_vm_commands, sizeof(api_vm_commands) / sizeof(api_vm_commands[0]), a);
	if (ret) {
		api_server_on_close(srv, NULL);
		api_vm_jobs_fini(a);
		free(a);
	}
	return ret;
}

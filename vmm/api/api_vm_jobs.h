/*
 * The VM side of the control API's long jobs (a live migration): one at a time, each on a thread of its own, so the
 * socket keeps answering (status, pause, quit) while it runs. A job's command answers at once with {"job": N}; its
 * progress and its end are event lines ({"event": "job", ...}) to the clients that subscribed ({"cmd": "events"}),
 * which `roam ctl` does before it starts one. docs/api.md describes the events.
 */
#ifndef ROAM_API_VM_JOBS_H
#define ROAM_API_VM_JOBS_H

#include "api_proto.h"

#include <pthread.h>
#include <stdbool.h>

struct vm;
struct api_server;
struct api_job;

/* The VM's API context (the handlers' call->ctx). */
struct api_vm {
	struct vm *vm;
	struct api_server *srv;
	pthread_mutex_t lock;
	struct api_job *job; /* the job running or finished and not yet joined, or NULL */
	int next_job_id;
};

static inline struct vm *api_vm_of(const struct api_call *call)
{
	return ((struct api_vm *)call->ctx)->vm;
}

void api_vm_jobs_init(struct api_vm *a);

/* Waits for a running job to end (the VM is stopping: it gives up) and frees it. */
void api_vm_jobs_fini(struct api_vm *a);

/* When a job runs: fails the call with "busy" naming it and returns true. */
bool api_vm_job_busy(struct api_call *call);

/*
 * migrate {"dest": DEST, "max_downtime_ms": N, "max_bandwidth": BYTES_PER_S, "max_rounds": N, "timeout_s": N,
 * "compress": "lz"|"none"}:
 * starts a live migration (migrate/migrate.h) as a job; "-" needs the passed descriptor.
 */
extern const char *const api_vm_migrate_args[];
int api_vm_migrate(struct api_call *call);

#endif

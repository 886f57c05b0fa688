/* The control API's long jobs: see api_vm_jobs.h. */
#include "api_vm_jobs.h"

#include "api.h"
#include "core/log.h"
#include "core/vm.h"
#include "migrate/migrate.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct api_job {
	struct api_vm *owner;
	int id;
	pthread_t thread;
	bool done; /* under owner->lock */
	struct migrate_endpoint dest;
	int fd; /* a passed descriptor for "-", else -1 */
	struct migrate_options opt;
};

const char *const api_vm_migrate_args[] = {
    "dest", "max_downtime_ms", "max_bandwidth", "max_rounds", "timeout_s", "compress", NULL};

void api_vm_jobs_init(struct api_vm *a)
{
	pthread_mutex_init(&a->lock, NULL);
	a->next_job_id = 1;
}

static void job_reap(struct api_vm *a)
{
	if (!a->job)
		return;
	pthread_join(a->job->thread, NULL);
	if (a->job->fd >= 0)
		close(a->job->fd);
	free(a->job);
	a->job = NULL;
}

void api_vm_jobs_fini(struct api_vm *a)
{
	job_reap(a);
	pthread_mutex_destroy(&a->lock);
}

bool api_vm_job_busy(struct api_call *call)
{
	struct api_vm *a = call->ctx;
	pthread_mutex_lock(&a->lock);
	bool running = a->job && !a->job->done;
	int id = running ? a->job->id : 0;
	pthread_mutex_unlock(&a->lock);
	if (running)
		api_call_fail(call, API_ERR_BUSY, "job %d (a migration) is running; wait for its end", id);
	else
		job_reap(a); /* a finished one is joined before the next starts */
	return running;
}

/* Sends {"event": "job", "job": id, "kind": "migrate", ...} with the fields of obj (consumed). */
static void job_emit(struct api_job *job, const char *state, json_t *obj)
{
	json_t *ev =
	    json_pack("{s:s, s:i, s:s, s:s}", "event", "job", "job", job->id, "kind", "migrate", "state", state);
	if (ev && obj)
		json_object_update(ev, obj);
	json_decref(obj);
	char *line = ev ? json_dumps(ev, JSON_COMPACT) : NULL;
	if (line)
		api_server_emit(job->owner->srv, line);
	free(line);
	json_decref(ev);
}

/* Rounds to a tenth: figures, not noise (1234.5 rather than 1234.5000000001). */
static double tenth(double v)
{
	return (double)(long long)(v * 10 + (v < 0 ? -0.5 : 0.5)) / 10;
}

static void job_progress(void *opaque, const struct migrate_round *r)
{
	struct api_job *job = opaque;
	log_info(
	    "migrate: round %d: %llu pages sent (%llu MiB in all), %llu dirty, %.0f MB/s, expected downtime %.1f ms",
	    r->round, (unsigned long long)r->pages, (unsigned long long)(r->total_bytes >> 20),
	    (unsigned long long)r->dirty_pages, r->bandwidth / 1e6, r->expected_downtime_ms);
	job_emit(job, "round",
		 json_pack("{s:i, s:I, s:I, s:I, s:I, s:f, s:f, s:f, s:f}", "round", r->round, "pages",
			   (json_int_t)r->pages, "total_pages", (json_int_t)r->total_pages, "bytes",
			   (json_int_t)r->total_bytes, "dirty_pages", (json_int_t)r->dirty_pages, "round_ms",
			   tenth(r->round_ms), "bandwidth", tenth(r->bandwidth), "dirty_rate", tenth(r->dirty_rate),
			   "expected_downtime_ms", tenth(r->expected_downtime_ms)));
}

static void *job_thread(void *arg)
{
	struct api_job *job = arg;
	struct vm *vm = job->owner->vm;
	struct migrate_result res;
	char err[600];
	job_emit(job, "started", json_pack("{s:s}", "dest", job->dest.spec));
	int fd = job->fd;
	job->fd = -1; /* migrate_vm takes it */
	int ret = migrate_vm(vm, &job->dest, fd, &job->opt, job_progress, job, &res, err, sizeof(err));
	json_t *report =
	    json_pack("{s:i, s:I, s:I, s:f, s:f, s:f, s:f, s:b, s:b}", "rounds", res.rounds, "bytes",
		      (json_int_t)res.bytes, "pages", (json_int_t)res.pages, "total_ms", tenth(res.total_ms),
		      "downtime_ms", tenth(res.downtime_ms), "final_send_ms", tenth(res.final_send_ms), "answer_ms",
		      tenth(res.answer_ms), "moved", res.moved, "uncertain", res.uncertain);
	if (ret) {
		log_error("migrate: %s%s", err, res.uncertain ? "" : "; the guest runs on here");
		json_object_set_new(report, "error", json_string(err));
		json_object_set_new(report, "code",
				    json_string(res.uncertain ? "migrate-uncertain" : "migrate-failed"));
		job_emit(job, "failed", report);
	} else {
		log_info("migrate: the guest moved to %s: %d rounds, %llu MiB in %.0f ms, downtime %.1f ms (the last "
			 "pages and the state sent in %.1f ms, the destination running %.1f ms later)",
			 job->dest.spec, res.rounds, (unsigned long long)(res.bytes >> 20), res.total_ms,
			 res.downtime_ms, res.final_send_ms, res.answer_ms);
		job_emit(job, "done", report);
	}
	pthread_mutex_lock(&job->owner->lock);
	job->done = true;
	pthread_mutex_unlock(&job->owner->lock);
	if (!ret)
		vm_request_stop(vm, ROAM_EXIT_MIGRATED); /* after the event: the server flushes it before it closes */
	return NULL;
}

/* An optional non-negative integer argument; false with the call failed when it is not one. */
static bool int_arg(struct api_call *call, const char *name, long long max, long long *out)
{
	const json_t *v = json_object_get(call->request, name);
	if (!v)
		return true;
	if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > max) {
		api_call_fail(call, API_ERR_BAD_ARGUMENT, "\"%s\" must be an integer from 0 to %lld", name, max);
		return false;
	}
	*out = json_integer_value(v);
	return true;
}

int api_vm_migrate(struct api_call *call)
{
	struct api_vm *a = call->ctx;
	const json_t *dest = json_object_get(call->request, "dest");
	if (!json_is_string(dest))
		return api_call_fail(call, API_ERR_BAD_ARGUMENT,
				     "needs \"dest\": FILE, -, unix:PATH, tcp:HOST:PORT or dev:PATH");
	long long downtime = MIGRATE_DEFAULT_DOWNTIME_MS, bandwidth = 0, rounds = MIGRATE_DEFAULT_ROUNDS,
		  timeout = MIGRATE_DEFAULT_ANSWER_MS / 1000;
	if (!int_arg(call, "max_downtime_ms", 3600000, &downtime) ||
	    !int_arg(call, "max_bandwidth", 1ll << 40, &bandwidth) || !int_arg(call, "max_rounds", 10000, &rounds) ||
	    !int_arg(call, "timeout_s", 86400, &timeout))
		return -1;
	const json_t *compress = json_object_get(call->request, "compress");
	if (compress && (!json_is_string(compress) ||
			 (strcmp(json_string_value(compress), "lz") && strcmp(json_string_value(compress), "none"))))
		return api_call_fail(call, API_ERR_BAD_ARGUMENT, "\"compress\" must be \"lz\" or \"none\"");
	struct api_job *job = calloc(1, sizeof(*job));
	if (!job)
		return api_call_fail(call, API_ERR_INTERNAL, "out of memory");
	char err[320];
	job->fd = -1;
	if (!migrate_endpoint_parse(json_string_value(dest), &job->dest, err, sizeof(err))) {
		free(job);
		return api_call_fail(call, API_ERR_BAD_ARGUMENT, "%s", err);
	}
	if (job->dest.kind == MIGRATE_FILE && job->dest.path[0] != '/') {
		api_call_fail(call, API_ERR_BAD_ARGUMENT,
			      "\"%s\": give an absolute path (roam ctl makes relative ones absolute)", job->dest.path);
		free(job);
		return -1;
	}
	if (job->dest.kind == MIGRATE_STDIO) {
		if (!call->passed_fd || *call->passed_fd < 0) {
			free(job);
			return api_call_fail(call, API_ERR_BAD_ARGUMENT,
					     "\"-\" needs the output descriptor passed with the request (roam ctl SOCK "
					     "migrate - does that)");
		}
		job->fd = *call->passed_fd;
		*call->passed_fd = -1;
	}
	job->opt = (struct migrate_options){.max_downtime_ms = (uint32_t)downtime,
					    .max_bandwidth = (uint64_t)bandwidth,
					    .max_rounds = rounds ? (int)rounds : 1,
					    .answer_timeout_ms = (int)timeout * 1000,
					    .compress = compress && !strcmp(json_string_value(compress), "lz")};
	if (atomic_load(&a->vm->stopping) || api_vm_job_busy(call)) {
		if (job->fd >= 0)
			close(job->fd);
		free(job);
		return atomic_load(&a->vm->stopping) ? api_call_fail(call, API_ERR_VM_STOPPING, "the VM is stopping")
						     : -1;
	}
	job->owner = a;
	pthread_mutex_lock(&a->lock);
	job->id = a->next_job_id++;
	a->job = job;
	pthread_mutex_unlock(&a->lock);
	int e = pthread_create(&job->thread, NULL, job_thread, job);
	if (e) {
		pthread_mutex_lock(&a->lock);
		a->job = NULL;
		pthread_mutex_unlock(&a->lock);
		if (job->fd >= 0)
			close(job->fd);
		free(job);
		return api_call_fail(call, API_ERR_INTERNAL, "cannot start the migration's thread: %s", strerror(e));
	}
	json_object_set_new(call->reply, "job", json_integer(job->id));
	return 0;
}

/*
 * The commands of a VM without a VM, for the control-API tests (test_api_server.c) and tests/fuzz/fuzz_api.c, which
 * each add their own snapshot command and table: pause and resume take a vCPU and remember it, status answers fixed
 * counters, quit runs a counted after-reply action. Also: how many descriptors the process has open, to check that
 * none leak. Include it from one file per program.
 */
#ifndef ROAM_TEST_API_FAKE_VM_H
#define ROAM_TEST_API_FAKE_VM_H

#include "api/api_proto.h"

struct api_server;

#include <dirent.h>
#include <stdatomic.h>
#include <unistd.h>

struct fake_vm {
	const char *name; /* in messages of the commands a test adds */
	int nr_vcpus;
	atomic_int last_vcpu;
	atomic_int stops; /* the server's thread runs the after-reply actions */
	struct api_server *srv; /* for a test's job events */
	atomic_int jobs;
};

static int fake_pause(struct api_call *call)
{
	struct fake_vm *vm = call->ctx;
	int id;
	if (api_arg_vcpu(call, vm->nr_vcpus, &id) < 0)
		return -1;
	atomic_store(&vm->last_vcpu, id);
	return 0;
}

static int fake_status(struct api_call *call)
{
	json_t *vcpus = json_array();
	json_array_append_new(vcpus, json_pack("{s:i,s:s,s:i,s:i,s:i}", "id", 0, "state", "running", "exits", 12,
					       "mmio_exits", 10, "hypercalls", 0));
	json_array_append_new(vcpus, json_pack("{s:i,s:s,s:i,s:i,s:i}", "id", 1, "state", "paused", "exits", 5,
					       "mmio_exits", 0, "hypercalls", 3));
	json_object_set_new(call->reply, "state", json_string("mixed"));
	json_object_set_new(call->reply, "vcpus", vcpus);
	json_object_set_new(call->reply, "extra", json_pack("{s:b}", "tracking", 1));
	return 0;
}

static void fake_stop(void *ctx)
{
	atomic_fetch_add(&((struct fake_vm *)ctx)->stops, 1);
}

static int fake_quit(struct api_call *call)
{
	call->after_reply = fake_stop;
	return 0;
}

/* How many descriptors this process has open. */
static int open_fds(void)
{
	int n = 0;
	DIR *d = opendir("/proc/self/fd");
	for (struct dirent *e; d && (e = readdir(d));)
		n += e->d_name[0] != '.';
	if (d)
		closedir(d);
	return n - 1; /* the directory's own */
}

#endif

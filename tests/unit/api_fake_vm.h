/*
 * A command table of the VM's shape without a VM, for the control-API tests (test_api_server.c) and
 * tests/fuzz/fuzz_api.c: pause and resume take a vCPU of two and remember it, status answers fixed counters, quit
 * runs a counted after-reply action, and snapshot reads its arguments as api_vm.c does (api_snapshot_args), then
 * closes the passed descriptor instead of writing into it. Also: how many descriptors the process has open, to
 * check that none leak. Include it from one file per program.
 */
#ifndef ROAM_TEST_API_FAKE_VM_H
#define ROAM_TEST_API_FAKE_VM_H

#include "api/api_proto.h"

#include <dirent.h>
#include <stdatomic.h>
#include <unistd.h>

struct fake_vm {
	int nr_vcpus;
	atomic_int last_vcpu;
	atomic_int stops; /* the server's thread runs the after-reply actions */
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

static int fake_snapshot(struct api_call *call)
{
	const char *file;
	bool stop;
	int fd;
	if (api_snapshot_args(call, &file, &stop, &fd) < 0)
		return -1;
	if (fd >= 0)
		close(fd);
	json_object_set_new(call->reply, "bytes", json_integer(4096));
	if (stop)
		call->after_reply = fake_stop;
	return 0;
}

static const char *const fake_vcpu_arg[] = {"vcpu", NULL};
static const char *const fake_snapshot_args[] = {"path", "stop", NULL};
static const struct api_command fake_commands[] = {
    {"pause", fake_vcpu_arg, fake_pause},
    {"resume", fake_vcpu_arg, fake_pause},
    {"status", NULL, fake_status},
    {"quit", NULL, fake_quit},
    {"snapshot", fake_snapshot_args, fake_snapshot},
};
#define FAKE_NR_COMMANDS (sizeof(fake_commands) / sizeof(fake_commands[0]))

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

/* Unit test of `roam run` argument parsing: accepted forms, and one specific message per kind of bad input. */
#include "check.h"
#include "cli/run_options.h"
#include "devices/device.h"

#include <stdlib.h>

static const struct device_table no_devices = {NULL, 0}; /* device options: test_run_options_devices.c */

struct bad_args_case {
	const char *args[8];
	const char *message;
};

static const struct bad_args_case bad_cases[] = {
    {{"run", NULL}, "no kernel given; use -k/--kernel IMAGE"},
    {{"run", "-k", "Image", "-m", "abc", NULL}, "--mem: 'abc' is not a size in MiB"},
    {{"run", "-k", "Image", "-m", "4", NULL}, "--mem: '4' is not a size in MiB from 8"},
    {{"run", "-k", "Image", "-m", "-5", NULL}, "--mem: '-5'"},
    {{"run", "-k", "Image", "-m", "99999999999999999999", NULL}, "--mem: '99999999999999999999'"},
    {{"run", "-k", "Image", "-m", "4096", NULL}, "--mem 4096 MiB is more than this host's 2048 MiB of RAM"},
    {{"run", "-k", "Image", "-c", "0", NULL}, "--cpus: '0' is not a vCPU count"},
    {{"run", "-k", "Image", "-c", "1000", NULL}, "--cpus: '1000'"},
    {{"run", "-k", "Image", "--bogus", NULL}, "unknown option '--bogus'"},
    {{"run", "-k", "Image", "extra", NULL}, "unexpected argument 'extra'"},
    {{"run", "-k", NULL}, "-k needs a value"},
    {{"run", "-k", "Image", "--force-host", NULL}, "--force-host only makes sense with --targets FILE"},
    {{"run", "-k", "Image", "--targets", NULL}, "--targets needs a value"},
    {{"run", "-k", "Image", "--paused", NULL}, "--paused needs --api SOCKET"},
    {{"run", "-k", "Image", "--api", "", NULL}, "--api needs a socket path"},
    {{"run", "-k", "Image", "--api", NULL}, "--api needs a value"},
};

static int count_args(const char *const *args)
{
	int n = 0;
	while (args[n])
		n++;
	return n;
}

int main(void)
{
	struct vm_config cfg;
	char err[256];
	const uint64_t host_mem = 2048ull << 20;

	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		err[0] = '\0';
		int argc = count_args(bad_cases[i].args);
		CHECK_EQ(
		    run_parse_args(argc, (char **)bad_cases[i].args, &cfg, host_mem, &no_devices, err, sizeof(err)),
		    (uint64_t)(int64_t)RUN_PARSE_ERROR);
		CHECK_CONTAINS(err, bad_cases[i].message);
	}

	const char *good[] = {"run", "-k",  "Image", "-i", "initrd", "-p", "console=ttyS0 quiet",
			      "-m",  "512", "-c",    "2",  NULL};
	CHECK_EQ(run_parse_args(11, (char **)good, &cfg, host_mem, &no_devices, err, sizeof(err)), RUN_PARSE_OK);
	CHECK(!strcmp(cfg.kernel_path, "Image"));
	CHECK(!strcmp(cfg.initrd_path, "initrd"));
	CHECK(!strcmp(cfg.cmdline, "console=ttyS0 quiet"));
	CHECK_EQ(cfg.ram_size, 512ull << 20);
	CHECK_EQ(cfg.nr_vcpus, 2);

	const char *defaults[] = {"run", "--kernel=Image", NULL};
	CHECK_EQ(run_parse_args(2, (char **)defaults, &cfg, 0, &no_devices, err, sizeof(err)), RUN_PARSE_OK);
	CHECK_EQ(cfg.ram_size, (uint64_t)RUN_DEFAULT_MEM_MIB << 20);
	CHECK_EQ(cfg.nr_vcpus, 1);
	CHECK(cfg.initrd_path == NULL);
	CHECK(!strcmp(cfg.cmdline, RUN_DEFAULT_CMDLINE));
	CHECK(!strcmp(cfg.kvm_path, "/dev/kvm"));

	CHECK(cfg.api_path == NULL);
	CHECK(!cfg.start_paused);
	const char *api[] = {"run", "-k", "Image", "--paused", "--api", "/tmp/api.sock", NULL};
	CHECK_EQ(run_parse_args(6, (char **)api, &cfg, 0, &no_devices, err, sizeof(err)), RUN_PARSE_OK);
	CHECK(cfg.api_path && !strcmp(cfg.api_path, "/tmp/api.sock"));
	CHECK(cfg.start_paused);

	const char *help[] = {"run", "--help", NULL};
	CHECK_EQ(run_parse_args(2, (char **)help, &cfg, 0, &no_devices, err, sizeof(err)), RUN_PARSE_HELP);
	char *usage = NULL;
	size_t usage_len = 0;
	FILE *f = open_memstream(&usage, &usage_len);
	run_print_usage(f, &no_devices);
	fclose(f);
	CHECK_CONTAINS(usage, "--kernel IMAGE");
	free(usage);
	return check_exit();
}

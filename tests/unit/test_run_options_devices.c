/*
 * Unit test of `roam run`'s device options (--disk, --net, --rng, --console), which the device types declare:
 * accepted forms are kept as given in struct vm_config, each kind of bad input gets its own message, and --help
 * lists them.
 */
#include "check.h"
#include "cli/run_options.h"
#include "devices/device.h"

#include <stdlib.h>

/* The VM functions the devices call: never reached here (no device is created). */
int vm_irq_line(struct vm *vm, uint32_t irq, bool level)
{
	(void)vm;
	(void)irq;
	(void)level;
	return -1;
}

void vm_console_output(struct vm *vm, uint8_t byte)
{
	(void)vm;
	(void)byte;
}

/* The virtio device types: the options roam run takes from them. */
extern const struct device_desc virtio_blk_device, virtio_net_device, virtio_rng_device, virtio_console_device;
static const struct device_desc *const types[] = {&virtio_blk_device, &virtio_net_device, &virtio_rng_device,
						  &virtio_console_device};
static const struct device_table devices = {types, 4};

#define D "--disk", "x.img"
#define N(i) "--net", "tap=t" #i

struct bad_args_case {
	const char *args[24];
	const char *message;
};

static const struct bad_args_case bad_cases[] = {
    {{"run", "-k", "I", "--disk", "", NULL}, "--disk '': no file given; use FILE or FILE,ro"},
    {{"run", "-k", "I", "--disk", ",ro", NULL}, "--disk ',ro': no file given"},
    {{"run", "-k", "I", "--disk", "a.img,rw", NULL}, "--disk a.img,rw: unknown option 'rw'; use FILE or FILE,ro"},
    {{"run", "-k", "I", "--disk", "a.img,", NULL}, "--disk a.img,: unknown option ''"},
    {{"run", "-k", "I", "--disk", NULL}, "--disk needs a value"},
    {{"run", "-k", "I", D, D, D, D, D, D, D, D, D, NULL}, "--disk x.img: at most 8 disks"},
    {{"run", "-k", "I", "--net", "", NULL}, "--net : no TAP device given; use tap=NAME[,mac=MAC]"},
    {{"run", "-k", "I", "--net", "tap0", NULL}, "--net tap0: unknown option 'tap0'; use tap=NAME[,mac=MAC]"},
    {{"run", "-k", "I", "--net", "tap=", NULL}, "--net tap=: the TAP name must be 1 to 15 characters"},
    {{"run", "-k", "I", "--net", "tap=averyveryverylongname", NULL}, "the TAP name must be 1 to 15 characters"},
    {{"run", "-k", "I", "--net", "tap=a/b", NULL}, "without '/', ':', '=' or spaces"},
    {{"run", "-k", "I", "--net", "tap=t0,mac=52:54:00:12:34", NULL},
     "--net tap=t0,mac=52:54:00:12:34: '52:54:00:12:34' is not a MAC address like 52:54:00:12:34:56"},
    {{"run", "-k", "I", "--net", "tap=t0,mac=52:54:00:12:34:zz", NULL}, "'52:54:00:12:34:zz' is not a MAC address"},
    {{"run", "-k", "I", "--net", "tap=t0,mac=01:00:5e:00:00:01", NULL},
     "01:00:5e:00:00:01 is a multicast address; a NIC needs a unicast one"},
    {{"run", "-k", "I", "--net", "mac=52:54:00:12:34:56", NULL}, "no TAP device given"},
    {{"run", "-k", "I", "--net", "tap=t0,vhost=on", NULL}, "--net tap=t0,vhost=on: unknown option 'vhost=on'"},
    {{"run", "-k", "I", "--net", "tap=t0", "--net", "tap=t0", NULL}, "--net: tap=t0 is given twice"},
    {{"run", "-k", "I", N(0), N(1), N(2), N(3), N(4), NULL}, "--net tap=t4: at most 4 network devices"},
    {{"run", "-k", "I", "--console", "hvc", NULL}, "--console: 'hvc' is not serial or virtio"},
    {{"run", "-k", "I", "--rng=yes", NULL}, "unknown option '--rng=yes'"},
    {{"run", "-k", "I", "--rng", "--rng", NULL}, "--rng is given twice"},
    {{"run", "-k", "I", "--console", "virtio", "--console", "serial", NULL}, "--console is given twice"},
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

	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		err[0] = '\0';
		int argc = count_args(bad_cases[i].args);
		CHECK_EQ(run_parse_args(argc, (char **)bad_cases[i].args, &cfg, 0, &devices, err, sizeof(err)),
			 (uint64_t)(int64_t)RUN_PARSE_ERROR);
		CHECK_CONTAINS(err, bad_cases[i].message);
	}

	const char *none[] = {"run", "-k", "I", NULL};
	CHECK_EQ(run_parse_args(3, (char **)none, &cfg, 0, &devices, err, sizeof(err)), RUN_PARSE_OK);
	CHECK_EQ(cfg.nr_device_options, 0);

	const char *good[] = {"run",
			      "-k",
			      "I",
			      "--disk",
			      "/tmp/a,b.img",
			      "--disk",
			      "b.img,ro",
			      "--net",
			      "tap=tap0",
			      "--net",
			      "tap=tap1,mac=02:AB:cd:00:00:01",
			      "--rng",
			      "--console",
			      "virtio",
			      NULL};
	CHECK_EQ(run_parse_args(count_args(good), (char **)good, &cfg, 0, &devices, err, sizeof(err)), RUN_PARSE_OK);
	/* Kept as given, in order; each device parses its own value when it is created. */
	static const char *const expect[][2] = {{"disk", "/tmp/a,b.img"},
						{"disk", "b.img,ro"},
						{"net", "tap=tap0"},
						{"net", "tap=tap1,mac=02:AB:cd:00:00:01"},
						{"rng", ""},
						{"console", "virtio"}};
	CHECK_EQ(cfg.nr_device_options, 6);
	for (int i = 0; i < 6; i++)
		CHECK(!strcmp(cfg.device_options[i].name, expect[i][0]) &&
		      !strcmp(cfg.device_options[i].value, expect[i][1]));

	char *usage = NULL;
	size_t usage_len = 0;
	FILE *f = open_memstream(&usage, &usage_len);
	run_print_usage(f, &devices);
	fclose(f);
	CHECK_CONTAINS(usage, "--disk FILE[,ro]");
	CHECK_CONTAINS(usage, "--net tap=NAME[,mac=MAC]");
	CHECK_CONTAINS(usage, "--rng ");
	CHECK_CONTAINS(usage, "--console serial|virtio");
	CHECK_CONTAINS(usage, "--kernel IMAGE");
	free(usage);
	return check_exit();
}

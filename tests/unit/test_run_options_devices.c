/*
 * Unit test of `roam run`'s device options (--disk, --net, --rng, --console): accepted forms fill struct
 * vm_config, and each kind of bad input gets its own message.
 */
#include "check.h"
#include "cli/run_options.h"

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
		CHECK_EQ(run_parse_args(argc, (char **)bad_cases[i].args, &cfg, 0, err, sizeof(err)),
			 (uint64_t)(int64_t)RUN_PARSE_ERROR);
		CHECK_CONTAINS(err, bad_cases[i].message);
	}

	const char *none[] = {"run", "-k", "I", NULL};
	CHECK_EQ(run_parse_args(3, (char **)none, &cfg, 0, err, sizeof(err)), RUN_PARSE_OK);
	CHECK_EQ(cfg.nr_disks, 0);
	CHECK_EQ(cfg.nr_nics, 0);
	CHECK(!cfg.rng);
	CHECK_EQ(cfg.console, VM_CONSOLE_SERIAL);

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
	CHECK_EQ(run_parse_args(count_args(good), (char **)good, &cfg, 0, err, sizeof(err)), RUN_PARSE_OK);
	CHECK_EQ(cfg.nr_disks, 2);
	CHECK(!strcmp(cfg.disks[0].path, "/tmp/a,b.img")); /* "b.img" is no option: the comma is the file's */
	CHECK(!cfg.disks[0].readonly);
	CHECK(!strcmp(cfg.disks[1].path, "b.img"));
	CHECK(cfg.disks[1].readonly);
	CHECK_EQ(cfg.nr_nics, 2);
	CHECK(!strcmp(cfg.nics[0].tap, "tap0"));
	CHECK(!cfg.nics[0].mac_set);
	CHECK(!strcmp(cfg.nics[1].tap, "tap1"));
	CHECK(cfg.nics[1].mac_set);
	CHECK_EQ(cfg.nics[1].mac[1], 0xab);
	CHECK_EQ(cfg.nics[1].mac[5], 0x01);
	CHECK(cfg.rng);
	CHECK_EQ(cfg.console, VM_CONSOLE_VIRTIO);
	CHECK_CONTAINS(run_usage(), "--disk FILE[,ro]");
	CHECK_CONTAINS(run_usage(), "--net tap=NAME[,mac=MAC]");
	return check_exit();
}

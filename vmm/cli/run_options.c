/* `roam run` option parsing: see run_options.h. getopt_long is reset on every call so tests can call it repeatedly. */
#include "run_options.h"

#include "arch.h"
#include "devices/device.h"
#include "run_options_devices.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum {
	OPT_TRACE_UCALL = 256,
	OPT_KVM_DEVICE,
	OPT_TARGETS,
	OPT_FORCE_HOST,
	OPT_TRACE_HYPERCALLS,
	OPT_TIMING,
	OPT_TIMING_MARKER,
	OPT_NO_PVLOCK,
	OPT_API,
	OPT_PAUSED,
	OPT_DUMP_DTB,
	OPT_DRY_RUN,
};

/* The device types add their own options (run_options_devices.c). */
static const struct option run_long_options[] = {
    {"kernel", required_argument, NULL, 'k'},
    {"initrd", required_argument, NULL, 'i'},
    {"cmdline", required_argument, NULL, 'p'},
    {"params", required_argument, NULL, 'p'},
    {"mem", required_argument, NULL, 'm'},
    {"cpus", required_argument, NULL, 'c'},
    {"targets", required_argument, NULL, OPT_TARGETS},
    {"force-host", no_argument, NULL, OPT_FORCE_HOST},
    {"no-pvlock", no_argument, NULL, OPT_NO_PVLOCK},
    {"trace-ucall", no_argument, NULL, OPT_TRACE_UCALL},
    {"trace-hypercalls", no_argument, NULL, OPT_TRACE_HYPERCALLS},
    {"kvm-device", required_argument, NULL, OPT_KVM_DEVICE},
    {"timing", no_argument, NULL, OPT_TIMING},
    {"timing-marker", required_argument, NULL, OPT_TIMING_MARKER},
    {"api", required_argument, NULL, OPT_API},
    {"paused", no_argument, NULL, OPT_PAUSED},
    {"dump-dtb", required_argument, NULL, OPT_DUMP_DTB},
    {"dry-run", no_argument, NULL, OPT_DRY_RUN},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

void run_print_usage(FILE *out, const struct device_table *devices)
{
	fputs("usage: roam run -k IMAGE [options]\n"
	      "Boots an arm64 Linux Image (or a roam test guest) on KVM. The guest console is this terminal;\n"
	      "type Ctrl-A x to quit.\n"
	      "\n"
	      "  -k, --kernel IMAGE    kernel in arm64 Image format (uncompressed)\n"
	      "  -i, --initrd FILE     initial ramdisk\n"
	      "  -p, --cmdline STR     kernel command line (default \"" RUN_DEFAULT_CMDLINE "\")\n"
	      "  -m, --mem MiB         guest RAM in MiB (default 256)\n"
	      "  -c, --cpus N          number of vCPUs (default 1)\n",
	      out);
	run_device_usage(out, devices);
	fputs("      --targets FILE    present the CPU of a targets config (roam targets merge) and answer\n"
	      "                        the target-discovery hypercalls; refuses hosts not in the config\n"
	      "      --force-host      with --targets: start even on a host that is not a target\n"
	      "      --no-pvlock       no PV-lock region or hypercalls (docs/hypercalls.md)\n"
	      "      --trace-hypercalls  log every hypercall roam answers\n"
	      "      --trace-ucall     log test-guest SYNC reports\n"
	      "      --timing          at exit, print start-up milestones and roam's memory use\n"
	      "      --timing-marker TEXT  with --timing, also when TEXT first appears on the console\n"
	      "      --api SOCKET      serve the control API (JSON lines, docs/api.md) on this UNIX socket;\n"
	      "                        talk to it with roam ctl SOCKET\n"
	      "      --paused          with --api: start with every vCPU paused, until the API's resume\n"
	      "      --dump-dtb FILE   also write the device tree roam generates to FILE (atomically), then boot\n"
	      "      --dry-run         set the VM up (KVM, memory, kernel, device tree, vCPUs), then exit 0 without\n"
	      "                        running it; with --dump-dtb, a way to get the device tree alone\n"
	      "      --kvm-device PATH KVM device (default /dev/kvm; for tests)\n"
	      "  -h, --help            this text\n"
	      "\n"
	      "Exit status: 0 guest powered off (or test guest DONE), 1 error (or test guest ABORT),\n"
	      "2 bad usage, 3 guest asked for a reset, 4 guest crashed, 5 stopped by a signal, Ctrl-A x\n"
	      "or the API's quit.\n",
	      out);
}

static enum run_parse_result run_error(char *err, size_t err_len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, err_len, fmt, ap);
	va_end(ap);
	return RUN_PARSE_ERROR;
}

/* Parses a whole decimal number in [min, max]; returns false on anything else. */
static bool parse_number(const char *s, unsigned long long min, unsigned long long max, unsigned long long *out)
{
	char *end;
	if (!s[0] || s[0] == '-' || s[0] == '+')
		return false;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return false;
	*out = v;
	return true;
}

enum run_parse_result run_parse_args(int argc, char **argv, struct vm_config *cfg, uint64_t host_mem,
				     const struct device_table *devices, char *err, size_t err_len)
{
	struct option options[RUN_MAX_OPTIONS];
	run_device_long_options(run_long_options, devices, options);
	unsigned long long mem_mib = RUN_DEFAULT_MEM_MIB, cpus = 1;
	unsigned long long max_mem_mib =
	    (arch_region(VM_REGION_RAM)->size + arch_region(VM_REGION_RAM_HIGH)->size) >> 20;
	int opt;

	memset(cfg, 0, sizeof(*cfg));
	cfg->cmdline = RUN_DEFAULT_CMDLINE;
	cfg->kvm_path = "/dev/kvm";
	cfg->console_out_fd = STDOUT_FILENO;
	optind = 0; /* full reset of getopt's state */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":k:i:p:m:c:h", options, NULL)) != -1) {
		int handled = run_device_option(opt, optarg, devices, cfg, err, err_len);
		if (handled < 0)
			return RUN_PARSE_ERROR;
		if (handled)
			continue;
		switch (opt) {
		case 'k':
			cfg->kernel_path = optarg;
			break;
		case 'i':
			cfg->initrd_path = optarg;
			break;
		case 'p':
			cfg->cmdline = optarg;
			break;
		case 'm':
			if (!parse_number(optarg, RUN_MIN_MEM_MIB, max_mem_mib, &mem_mib))
				return run_error(err, err_len, "--mem: '%s' is not a size in MiB from %d to %llu",
						 optarg, RUN_MIN_MEM_MIB, max_mem_mib);
			break;
		case 'c':
			if (!parse_number(optarg, 1, (unsigned long long)arch_max_vcpus(), &cpus))
				return run_error(err, err_len, "--cpus: '%s' is not a vCPU count from 1 to %d", optarg,
						 arch_max_vcpus());
			break;
		case OPT_TRACE_UCALL:
			cfg->trace_ucall = true;
			break;
		case OPT_TRACE_HYPERCALLS:
			cfg->trace_hypercalls = true;
			break;
		case OPT_TARGETS:
			cfg->targets_path = optarg;
			break;
		case OPT_FORCE_HOST:
			cfg->force_host = true;
			break;
		case OPT_NO_PVLOCK:
			cfg->no_pvlock = true;
			break;
		case OPT_API:
			if (!optarg[0])
				return run_error(err, err_len, "--api needs a socket path");
			cfg->api_path = optarg;
			break;
		case OPT_PAUSED:
			cfg->start_paused = true;
			break;
		case OPT_DRY_RUN:
			cfg->dry_run = true;
			break;
		case OPT_DUMP_DTB:
			if (!optarg[0])
				return run_error(err, err_len, "--dump-dtb needs a file name");
			cfg->dump_dtb_path = optarg;
			break;
		case OPT_TIMING:
			cfg->timing = true;
			break;
		case OPT_TIMING_MARKER:
			cfg->timing = true;
			cfg->timing_marker = optarg[0] ? optarg : NULL;
			break;
		case OPT_KVM_DEVICE:
			cfg->kvm_path = optarg;
			break;
		case 'h':
			return RUN_PARSE_HELP;
		case ':':
			return run_error(err, err_len, "%s needs a value", argv[optind - 1]);
		default:
			return run_error(err, err_len, "unknown option '%s'; see roam run --help", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return run_error(err, err_len, "unexpected argument '%s'; see roam run --help", argv[optind]);
	if (!cfg->kernel_path)
		return run_error(err, err_len, "no kernel given; use -k/--kernel IMAGE");
	if (cfg->force_host && !cfg->targets_path)
		return run_error(err, err_len, "--force-host only makes sense with --targets FILE");
	if (cfg->start_paused && !cfg->api_path)
		return run_error(err, err_len,
				 "--paused needs --api SOCKET: without the control API nothing could resume the vCPUs");
	if (host_mem && (mem_mib << 20) > host_mem)
		return run_error(err, err_len, "--mem %llu MiB is more than this host's %llu MiB of RAM", mem_mib,
				 (unsigned long long)(host_mem >> 20));
	cfg->ram_size = mem_mib << 20;
	cfg->nr_vcpus = (int)cpus;
	return RUN_PARSE_OK;
}

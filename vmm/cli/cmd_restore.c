/*
 * `roam restore FILE|- [options]`: starts a VM from a snapshot, on this host or another one of its targets. The
 * snapshot decides memory, vCPUs, the PV lock and the targets; the command line decides how this roam runs it.
 * Nothing runs until every section has been read, checked and applied.
 */
#include "commands.h"

#include "arch.h"
#include "core/log.h"
#include "core/vm.h"
#include "devices/device.h"
#include "run_options_devices.h"
#include "snapshot/snapshot.h"
#include "snapshot/vm_snapshot.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char restore_usage[] =
    "usage: roam restore FILE|- [options]\n"
    "Starts the VM saved in FILE (- reads standard input, e.g. from ssh) and lets it continue.\n"
    "  --api SOCK          serve the control socket (docs/api.md)\n"
    "  --paused            leave every vCPU paused until the API's resume\n"
    "  --force-host        start even if this host is not one of the snapshot's targets\n"
    "  --trace-hypercalls  log every hypercall roam answers\n"
    "  --trace-ucall       log test-guest SYNC reports\n"
    "  --timing            at exit, print the time to the first KVM_RUN and roam's memory use\n"
    "  --kvm-device PATH   KVM device (default /dev/kvm)\n"
    "  --prefault auto|on|off\n"
    "                      map the restored memory at stage 2 before the guest runs (arm64; auto: on hosts with\n"
    "                      Arm erratum 834220, whose KVM would otherwise hang the guest; docs/snapshot-format.md)\n"
    "The devices, exactly as given to roam run (docs/devices.md; without any, the snapshot's own):\n";

enum { OPT_API = 256, OPT_PAUSED, OPT_FORCE_HOST, OPT_TRACE_HC, OPT_TRACE_UCALL, OPT_TIMING, OPT_KVM, OPT_PREFAULT };

static int restore_parse(int argc, char **argv, struct vm_config *cfg, const char **file)
{
	static const struct option options[] = {
	    {"api", required_argument, NULL, OPT_API},
	    {"paused", no_argument, NULL, OPT_PAUSED},
	    {"force-host", no_argument, NULL, OPT_FORCE_HOST},
	    {"trace-hypercalls", no_argument, NULL, OPT_TRACE_HC},
	    {"trace-ucall", no_argument, NULL, OPT_TRACE_UCALL},
	    {"timing", no_argument, NULL, OPT_TIMING},
	    {"kvm-device", required_argument, NULL, OPT_KVM},
	    {"prefault", required_argument, NULL, OPT_PREFAULT},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const struct device_table *devices = device_registry();
	struct option all[RUN_MAX_OPTIONS];
	run_device_long_options(options, devices, all);
	memset(cfg, 0, sizeof(*cfg));
	cfg->cmdline = "";
	cfg->kvm_path = "/dev/kvm";
	cfg->console_out_fd = STDOUT_FILENO;
	optind = 0;
	opterr = 0;
	int opt;
	char err[256];
	while ((opt = getopt_long(argc, argv, ":h", all, NULL)) != -1) {
		int handled = run_device_option(opt, optarg, devices, cfg, err, sizeof(err));
		if (handled < 0) {
			log_error("restore: %s", err);
			return -1;
		}
		if (handled)
			continue;
		switch (opt) {
		case OPT_API:
			cfg->api_path = optarg;
			break;
		case OPT_PAUSED:
			cfg->start_paused = true;
			break;
		case OPT_FORCE_HOST:
			cfg->force_host = true;
			break;
		case OPT_TRACE_HC:
			cfg->trace_hypercalls = true;
			break;
		case OPT_TRACE_UCALL:
			cfg->trace_ucall = true;
			break;
		case OPT_TIMING:
			cfg->timing = true;
			break;
		case OPT_KVM:
			cfg->kvm_path = optarg;
			break;
		case OPT_PREFAULT: {
			static const char *const modes[] = {
			    [VM_PREFAULT_AUTO] = "auto", [VM_PREFAULT_ON] = "on", [VM_PREFAULT_OFF] = "off"};
			int m = 0;
			while (m < 3 && strcmp(optarg, modes[m]))
				m++;
			if (m == 3) {
				log_error("restore: --prefault '%s': expected auto, on or off", optarg);
				return -1;
			}
			cfg->prefault = (enum vm_prefault)m;
			break;
		}
		case 'h':
			fputs(restore_usage, stdout);
			run_device_usage(stdout, devices);
			fputs("Exit status as for roam run (docs/cli.md).\n", stdout);
			return 1;
		case ':':
			log_error("restore: %s needs a value", argv[optind - 1]);
			return -1;
		default:
			log_error("restore: unknown option '%s'; see roam restore --help", argv[optind - 1]);
			return -1;
		}
	}
	if (optind != argc - 1) {
		log_error("restore: %s; see roam restore --help", optind == argc
								      ? "no snapshot FILE given (- for standard input)"
								      : "more than one FILE given");
		return -1;
	}
	if (cfg->start_paused && !cfg->api_path) {
		log_error("restore: --paused needs --api SOCK, or nothing could resume the VM");
		return -1;
	}
	*file = argv[optind];
	return 0;
}

int cmd_restore(int argc, char **argv)
{
	uint64_t start_ns = vm_now_ns();
	struct vm_config cfg;
	const char *file;
	int ret = restore_parse(argc, argv, &cfg, &file);
	if (ret)
		return ret > 0 ? 0 : ROAM_EXIT_USAGE;
	struct snapshot_reader *r = calloc(1, sizeof(*r));
	if (!r)
		return ROAM_EXIT_ERROR;
	char *targets_json = NULL;
	int status = ROAM_EXIT_ERROR;
	ret = strcmp(file, "-") ? snapshot_reader_open_path(r, file, arch_name(), 0)
				: snapshot_reader_open_fd(r, STDIN_FILENO, "standard input", arch_name(), 0);
	if (ret)
		log_error("%s", r->err);
	else if (vm_restore_config(r, &cfg, &targets_json) == 0) {
		if (targets_json)
			cfg.targets_path = file; /* names the snapshot in messages about its targets */
		status = run_session(&cfg, start_ns, r);
	}
	snapshot_reader_close(r);
	free(r);
	free(targets_json);
	return status;
}

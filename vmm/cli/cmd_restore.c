/*
 * `roam restore FILE|- [options]` and `roam restore --incoming SPEC [options]`: starts a VM from a snapshot or from a
 * live migration's stream, on this host or another one of its targets. The snapshot decides memory, vCPUs, the PV
 * lock and the targets; the command line decides how this roam runs it. Nothing runs until every section has been
 * read, checked and applied; a migration's memory is applied as it arrives.
 */
#include "commands.h"

#include "arch.h"
#include "core/log.h"
#include "core/vm.h"
#include "devices/device.h"
#include "migrate/transport.h"
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
    "       roam restore --incoming unix:PATH|tcp:ADDR:PORT|dev:PATH|-|FILE [options]\n"
    "Starts the VM saved in FILE (- reads standard input, e.g. from ssh) and lets it continue; with --incoming,\n"
    "waits for a live migration (roam ctl SOCK migrate DEST, docs/migration.md) and runs the guest once it is in.\n"
    "  --incoming SPEC     where the migration comes from: listen on unix:PATH or tcp:ADDR:PORT (numeric address;\n"
    "                      tcp::PORT for every address), open dev:PATH (a virtio-serial port), or read - or FILE\n"
    "  --incoming-timeout S  give up when nothing connects within S seconds (default: wait)\n"
    "  --base FILE         a diff snapshot's base is FILE (checked by its SHA-256), not where the diff says\n"
    "  --api SOCK          serve the control socket (docs/api.md)\n"
    "  --eager             load and check every page before the guest runs (default for a file: the guest runs\n"
    "                      at once and its memory loads meanwhile, each 64 KiB checked as it comes)\n"
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

enum {
	OPT_API = 256,
	OPT_PAUSED,
	OPT_FORCE_HOST,
	OPT_TRACE_HC,
	OPT_TRACE_UCALL,
	OPT_TIMING,
	OPT_KVM,
	OPT_PREFAULT,
	OPT_INCOMING,
	OPT_INCOMING_TIMEOUT,
	OPT_BASE,
	OPT_EAGER,
};

/* What restore_parse found besides the VM configuration. */
struct restore_args {
	const char *file; /* FILE or -, or NULL with --incoming */
	const char *incoming; /* --incoming SPEC, or NULL */
	int incoming_timeout_ms; /* 0: wait */
	const char *base; /* --base FILE, or NULL */
};

static int restore_parse(int argc, char **argv, struct vm_config *cfg, struct restore_args *a)
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
	    {"incoming", required_argument, NULL, OPT_INCOMING},
	    {"incoming-timeout", required_argument, NULL, OPT_INCOMING_TIMEOUT},
	    {"base", required_argument, NULL, OPT_BASE},
	    {"eager", no_argument, NULL, OPT_EAGER},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const struct device_table *devices = device_registry();
	struct option all[RUN_MAX_OPTIONS];
	run_device_long_options(options, devices, all);
	memset(cfg, 0, sizeof(*cfg));
	memset(a, 0, sizeof(*a));
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
		case OPT_INCOMING:
			a->incoming = optarg;
			break;
		case OPT_BASE:
			a->base = optarg;
			break;
		case OPT_EAGER:
			cfg->eager_restore = true;
			break;
		case OPT_INCOMING_TIMEOUT: {
			char *end;
			long v = strtol(optarg, &end, 10);
			if (!optarg[0] || *end || v < 1 || v > 86400) {
				log_error("restore: --incoming-timeout '%s': expected whole seconds from 1 to 86400",
					  optarg);
				return -1;
			}
			a->incoming_timeout_ms = (int)v * 1000;
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
	if (a->incoming ? optind != argc : optind != argc - 1) {
		log_error("restore: %s; see roam restore --help",
			  a->incoming	   ? "--incoming takes no FILE besides its SPEC"
			  : optind == argc ? "no snapshot FILE given (- for standard input, or --incoming SPEC)"
					   : "more than one FILE given");
		return -1;
	}
	if (cfg->start_paused && !cfg->api_path) {
		log_error("restore: --paused needs --api SOCK, or nothing could resume the VM");
		return -1;
	}
	a->file = a->incoming ? NULL : argv[optind];
	return 0;
}

/* --incoming: waits for the migration and opens the reader on it. Returns the connection's fd, or -1 after a line. */
static int restore_accept(const struct restore_args *a, struct snapshot_reader *r, struct run_incoming *in)
{
	struct migrate_endpoint ep;
	char err[320];
	if (!migrate_endpoint_parse(a->incoming, &ep, err, sizeof(err))) {
		log_error("restore: --incoming %s", err);
		return -1;
	}
	if (ep.kind == MIGRATE_UNIX || ep.kind == MIGRATE_TCP)
		log_info("restore: waiting for a migration on %s", ep.spec);
	int fd = migrate_accept(&ep, a->incoming_timeout_ms, err, sizeof(err));
	if (fd < 0) {
		log_error("restore: %s", err);
		return -1;
	}
	in->fd = migrate_endpoint_two_way(&ep) ? fd : -1;
	in->spec = a->incoming;
	if (snapshot_reader_open_fd(r, fd, ep.spec, arch_name(), in->fd >= 0 ? SNAPSHOT_READ_OPEN_AFTER_END : 0) < 0) {
		log_error("%s", r->err);
		if (in->fd >= 0)
			migrate_send(in->fd, "refused %s", r->err);
		close(fd);
		return -1;
	}
	/* From the stream's header, not from the open: a dev: link is open long before the source starts sending. */
	in->accepted_ns = vm_now_ns();
	return fd;
}

int cmd_restore(int argc, char **argv)
{
	uint64_t start_ns = vm_now_ns();
	struct vm_config cfg;
	struct restore_args a;
	int ret = restore_parse(argc, argv, &cfg, &a);
	if (ret)
		return ret > 0 ? 0 : ROAM_EXIT_USAGE;
	struct snapshot_reader *r = calloc(1, sizeof(*r));
	if (!r)
		return ROAM_EXIT_ERROR;
	char *targets_json = NULL;
	int status = ROAM_EXIT_ERROR, fd = -1;
	struct vm_restore_base *base = calloc(1, sizeof(*base));
	struct run_incoming in = {.fd = -1};
	if (a.incoming) {
		fd = restore_accept(&a, r, &in);
		ret = fd < 0 ? -1 : 0;
	} else {
		ret = strcmp(a.file, "-") ? snapshot_reader_open_path(r, a.file, arch_name(), 0)
					  : snapshot_reader_open_fd(r, STDIN_FILENO, "standard input", arch_name(), 0);
		if (ret)
			log_error("%s", r->err);
	}
	if (ret == 0 && base && vm_restore_config(r, &cfg, &targets_json, base) == 0) {
		cfg.incoming = a.incoming != NULL;
		if (targets_json)
			cfg.targets_path = a.incoming ? a.incoming : a.file; /* names the source in target messages */
		if (base->path[0] && a.base)
			snprintf(base->path, sizeof(base->path), "%s", a.base);
		if (base->path[0])
			cfg.restore_base = base;
		else if (a.base)
			log_info("restore: %s is a whole snapshot: --base %s is not needed", r->name, a.base);
		status = run_session(&cfg, start_ns, r, a.incoming ? &in : NULL);
	} else if (ret == 0 && in.fd >= 0) {
		migrate_send(in.fd, "refused %s", r->err[0] ? r->err : "the VM's description cannot be read");
	}
	snapshot_reader_close(r);
	if (fd >= 0)
		close(fd);
	free(r);
	free(base);
	free(targets_json);
	return status;
}

/*
 * `roam run`: parse options, create the VM, run it with the console and signal loop on the main thread (and the
 * control API of --api on a thread of its own), and turn the VM's stop reason into roam's exit status. The terminal
 * is restored and the API socket removed on every path out.
 */
#include "commands.h"

#include "devices/device.h"

#include "api/api.h"
#include "api/api_restore.h"
#include "api/api_vm.h"
#include "arch.h"
#include "core/component.h"
#include "core/console.h"
#include "core/log.h"
#include "core/vm.h"
#include "migrate/migrate.h"
#include "migrate/transport.h"
#include "pvlock/pvlock.h"
#include "run_options.h"
#include "snapshot/component_walk.h"
#include "snapshot/diff_chain.h"
#include "snapshot/lazy_restore.h"
#include "snapshot/snapshot.h"
#include "snapshot/vm_snapshot.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <unistd.h>

#define RUN_INPUT_CHUNK 256

/* Blocks the stop signals in every thread (vCPU threads inherit the mask) and returns a signalfd for them. */
static int run_signalfd(void)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN); /* a closed console must not kill roam */
	int fd = signalfd(-1, &set, SFD_CLOEXEC);
	if (fd < 0)
		return log_errno(-errno, "signalfd: %s", strerror(errno));
	return fd;
}

struct run_input {
	uint8_t buf[RUN_INPUT_CHUNK];
	size_t len, off; /* bytes read from stdin that the UART has not taken yet */
	bool eof;
};

/* Reads stdin and feeds the console device. Returns false when the user typed the quit escape. */
static bool run_feed_console(struct vm *vm, struct console *con, struct run_input *in, bool readable)
{
	if (readable && in->off == in->len) {
		ssize_t n = read(con->in_fd, in->buf, sizeof(in->buf));
		if (n <= 0) {
			in->eof = true; /* stdin closed: the guest runs on without input */
			return true;
		}
		bool quit;
		in->len = console_filter(con, in->buf, (size_t)n, &quit);
		in->off = 0;
		if (quit)
			return false;
	}
	if (in->off < in->len && vm->console_rx)
		in->off += vm->console_rx(vm->console_rx_opaque, in->buf + in->off, in->len - in->off);
	return true;
}

static void run_main_loop(struct vm *vm, struct console *con, int sigfd)
{
	struct run_input in = {.eof = false};
	while (!atomic_load(&vm->stopping)) {
		struct pollfd fds[3] = {
		    {.fd = vm->stop_eventfd, .events = POLLIN},
		    {.fd = sigfd, .events = POLLIN},
		    {.fd = (in.eof || in.off < in.len) ? -1 : con->in_fd, .events = POLLIN},
		};
		/* While the UART's buffer is full, retry every 10 ms instead of reading more. */
		int ret = poll(fds, 3, in.off < in.len ? 10 : -1);
		if (ret < 0 && errno != EINTR) {
			log_error("poll: %s", strerror(errno));
			vm_request_stop(vm, ROAM_EXIT_ERROR);
			break;
		}
		if (fds[1].revents & POLLIN) {
			struct signalfd_siginfo si;
			if (read(sigfd, &si, sizeof(si)) == sizeof(si))
				log_info("stopping the VM on signal %s", strsignal((int)si.ssi_signo));
			vm_request_stop(vm, ROAM_EXIT_SIGNAL);
			break;
		}
		if (!run_feed_console(vm, con, &in, fds[2].revents & (POLLIN | POLLHUP))) {
			log_info("stopping the VM (Ctrl-A x)");
			vm_request_stop(vm, ROAM_EXIT_SIGNAL);
			break;
		}
	}
}

/* How much of guest memory is resident (mincore), in KiB. */
static unsigned long long run_guest_resident_kib(const struct vm *vm)
{
	unsigned long long pages = 0;
	for (int i = 0; i < vm->mem.nr_slots; i++) {
		const struct memory_slot *slot = &vm->mem.slots[i];
		size_t n = slot->size / 4096;
		unsigned char *vec = malloc(n);
		if (vec && mincore(slot->host, slot->size, vec) == 0)
			for (size_t p = 0; p < n; p++)
				pages += vec[p] & 1;
		free(vec);
	}
	return pages * 4;
}

/* roam's own resident memory: the process's resident set less the resident part of guest memory. */
static unsigned long long run_rss_without_guest_kib(const struct vm *vm)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[128];
	unsigned long long total = 0, kib;
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %llu kB", &kib) == 1)
			total = kib;
	fclose(f);
	unsigned long long guest = run_guest_resident_kib(vm);
	return total > guest ? total - guest : 0;
}

static void run_report_timing(struct vm *vm)
{
	char marker[48] = "";
	uint64_t marker_ns = atomic_load(&vm->marker_ns);
	if (vm->cfg.timing_marker)
		snprintf(marker, sizeof(marker), ", marker %.1f ms", marker_ns ? marker_ns / 1e6 : -1.0);
	if (vm->pvlock) {
		struct pvlock_stats st;
		pvlock_get_stats(vm->pvlock, &st);
		if (st.tracking)
			log_info("timing: pvlock tracked %llu context switches; flag written %.1f us (median), %.1f us "
				 "(p99), %.1f us (max) after the switch; tracker CPU %.2f us per switch",
				 (unsigned long long)st.switches, st.latency_ns_median / 1e3, st.latency_ns_p99 / 1e3,
				 st.latency_ns_max / 1e3, st.switches ? st.monitor_cpu_ns / 1e3 / st.switches : 0.0);
	}
	/* Where start-up went: each phase's length in ms, in order (vm_phase_done). */
	char phases[512] = "";
	size_t used = 0;
	for (int i = 0; i < vm->nr_phases && used < sizeof(phases); i++)
		used += (size_t)snprintf(phases + used, sizeof(phases) - used, "%s%s %.1f", i ? ", " : "",
					 vm->phases[i].name, (vm->phases[i].ns - (i ? vm->phases[i - 1].ns : 0)) / 1e6);
	if (vm->nr_phases)
		log_info("timing: start-up phases (ms): %s", phases);
	struct lazy_restore_progress lazy = {0};
	if (vm->lazy)
		lazy_restore_progress(vm->lazy, &lazy);
	if (lazy.chunks)
		log_info("timing: memory loaded lazily: %llu of %llu chunks of 64 KiB in %.1f ms, %llu of them first "
			 "touched by the guest or a device",
			 (unsigned long long)lazy.chunks_loaded, (unsigned long long)lazy.chunks, lazy.ms,
			 (unsigned long long)lazy.faults);
	log_info("timing: first KVM_RUN %.1f ms%s, exit %.1f ms, RSS without guest RAM %llu KiB",
		 atomic_load(&vm->first_run_ns) / 1e6, marker, (vm_now_ns() - vm->start_ns) / 1e6,
		 run_rss_without_guest_kib(vm));
}

static uint64_t host_memory_bytes(void)
{
	long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
	return pages > 0 && size > 0 ? (uint64_t)pages * (uint64_t)size : 0;
}

int cmd_run(int argc, char **argv)
{
	uint64_t start_ns = vm_now_ns();
	struct vm_config cfg;
	char err[256];
	switch (run_parse_args(argc, argv, &cfg, host_memory_bytes(), device_registry(), err, sizeof(err))) {
	case RUN_PARSE_HELP:
		run_print_usage(stdout, device_registry());
		return 0;
	case RUN_PARSE_ERROR:
		log_error("run: %s", err);
		return ROAM_EXIT_USAGE;
	case RUN_PARSE_OK:
		break;
	}
	if (arch_check_kernel(cfg.kernel_path) < 0)
		return ROAM_EXIT_ERROR;

	return run_session(&cfg, start_ns, NULL, NULL);
}

/* The destination's answer once the PRECHECK section was checked: the source stops its guest only after "ready". */
static void incoming_prechecked(void *opaque, int problems, const char *report)
{
	const struct run_incoming *in = opaque;
	if (in->fd < 0)
		return;
	if (!problems) {
		migrate_send(in->fd, "ready");
		return;
	}
	/* The report's lines, joined: the source prints one line. */
	char why[400];
	size_t n = 0;
	for (const char *p = report; *p && n + 3 < sizeof(why); p++)
		why[n++] = *p == '\n' ? (p[1] ? ';' : '\0') : *p;
	why[n < sizeof(why) ? n : sizeof(why) - 1] = '\0';
	migrate_send(in->fd, "refused %d problem%s: %s", problems, problems == 1 ? "" : "s", why);
}

/*
 * The whole memory is in, the source's guest still runs: do now what would otherwise lengthen the downtime, then
 * tell the source, which pauses its guest only after this "memory-in" (or when it has waited long enough).
 */
static void incoming_memory_in(void *opaque, struct vm *vm)
{
	const struct run_incoming *in = opaque;
	if (in->fd < 0)
		return;
	if (arch_restore_memory_in(vm) < 0)
		log_info("migration: the early work failed; it is done again once the guest arrives");
	migrate_send(in->fd, "memory-in");
}

/* What ending the process from a lazy restore's loader needs: the terminal as it was, no stale API socket. */
struct run_fatal {
	struct console *con;
	atomic_bool console_ready;
	const char *api_path;
};

/*
 * A damaged chunk met while the guest runs (the line is out): the guest cannot go on with corrupt memory, and the
 * thread that touched the chunk waits for it for ever, so the process ends here, as after a crash of the host.
 */
static void lazy_fatal(void *opaque)
{
	struct run_fatal *f = opaque;
	if (atomic_load(&f->console_ready))
		console_restore(f->con);
	if (f->api_path)
		unlink(f->api_path);
	_exit(ROAM_EXIT_ERROR);
}

/* Fills `vm` from the snapshot or migration stream; a destination tells its source how it went. */
static int run_restore(struct vm *vm, struct snapshot_reader *restore, const struct run_incoming *incoming,
		       struct run_fatal *fatal)
{
	const struct component *table[COMPONENT_MAX];
	int n = component_table(table);
	struct component_walk_hooks hooks = {
	    .prechecked = incoming_prechecked, .memory_in = incoming_memory_in, .opaque = (void *)incoming};
	/* A diff snapshot: its chain's memory first, then the diff counts the memory as restored. */
	static const uint32_t from_base[] = {SNAPSHOT_SEC_MEMORY};
	const struct vm_restore_base *base = vm->cfg.restore_base;
	/* A whole snapshot in a file: its memory loads while the guest runs (snapshot/lazy_restore.h), unless --eager.
	 */
	if (!incoming && !base && restore->seekable && !vm->cfg.eager_restore)
		vm->lazy = lazy_restore_new(restore->fd, restore->name, lazy_fatal, fatal);
	int ret = base ? diff_chain_load(vm, restore->name, base) : 0;
	if (!ret)
		ret = component_walk_restore_after(vm, restore, table, n, base ? from_base : NULL, base ? 1 : 0,
						   incoming ? &hooks : NULL);
	if (ret && incoming && incoming->fd >= 0)
		migrate_send(incoming->fd, "failed %s", restore->err[0] ? restore->err : "see the destination's log");
	return ret;
}

int run_session(struct vm_config *cfg, uint64_t start_ns, struct snapshot_reader *restore,
		const struct run_incoming *incoming)
{
	int sigfd = run_signalfd();
	if (sigfd < 0)
		return ROAM_EXIT_ERROR;
	struct api_server *api = NULL; /* --api: opened before the VM so that a socket in use fails fast */
	if (cfg->api_path && api_server_open(cfg->api_path, &api) < 0) {
		close(sigfd);
		return ROAM_EXIT_ERROR;
	}
	struct vm vm;
	struct console con;
	struct run_fatal fatal = {.con = &con, .api_path = cfg->api_path};
	int status = ROAM_EXIT_ERROR;
	int ret = vm_create(&vm, cfg, start_ns);
	if (ret && incoming && incoming->fd >= 0)
		migrate_send(incoming->fd, "refused the destination cannot create the VM (see its log)");
	/* A restore fills the new VM from the snapshot before anything runs; the socket answers meanwhile. */
	struct api_restore restoring = {.r = restore,
					.source = incoming  ? incoming->spec
						  : restore ? restore->name
							    : NULL,
					.size = restore && restore->seekable ? restore->file_size : 0};
	if (ret == 0 && restore && api && api_restore_serve(api, &restoring) < 0)
		ret = -EIO;
	if (ret == 0 && restore) {
		ret = run_restore(&vm, restore, incoming, &fatal);
		vm_phase_done(&vm, "snapshot restored");
	}
	uint64_t end_ns = vm_now_ns(); /* an incoming stream's END was read */
	if (ret == 0 && incoming) {
		/* The source let go of the disks before its last byte; they are ours before the guest runs. */
		const struct component *table[COMPONENT_MAX];
		ret = component_walk_claim(&vm, table, component_table(table), MIGRATE_CLAIM_TIMEOUT_MS);
		if (ret && incoming->fd >= 0)
			migrate_send(incoming->fd, "failed the destination cannot take over the disks (see its log)");
	}
	if (ret == 0 && cfg->dry_run) { /* --dry-run: everything up to the first KVM_RUN, and no further */
		log_info(
		    "--dry-run: the VM is set up (%d vCPUs, %llu MiB, kernel and device tree in place); not starting "
		    "it",
		    vm.nr_vcpus, (unsigned long long)(cfg->ram_size >> 20));
		status = 0;
	} else if (ret == 0 && console_init(&con, STDIN_FILENO) == 0) {
		atomic_store(&fatal.console_ready, true);
		if (vm_start(&vm) == 0) {
			if (incoming && incoming->fd >= 0) {
				migrate_send(incoming->fd, "running");
				log_info(
				    "migration from %s: the guest runs here (%llu MiB in %.0f ms; from the last byte "
				    "to the vCPUs' start %.1f ms)",
				    incoming->spec, (unsigned long long)(restore->offset >> 20),
				    (double)(end_ns - incoming->accepted_ns) / 1e6,
				    (double)(vm_now_ns() - end_ns) / 1e6);
			}
			incoming = NULL; /* answered */
			if (api && api_vm_serve(api, &vm) < 0)
				vm_request_stop(&vm, ROAM_EXIT_ERROR);
			else if (cfg->start_paused)
				log_info("every vCPU is paused: resume them with roam ctl %s resume", cfg->api_path);
			run_main_loop(&vm, &con, sigfd);
		}
		status = vm_join(&vm);
		atomic_store(&fatal.console_ready, false);
		console_restore(&con);
		if (incoming && incoming->fd >= 0)
			migrate_send(incoming->fd, "failed the destination could not start the vCPUs");
		if (cfg->timing)
			run_report_timing(&vm);
	} else if (ret == 0 && incoming && incoming->fd >= 0) {
		migrate_send(incoming->fd, "failed the destination cannot set up its console");
	}
	if (api) { /* the last event: the subscribers learn why the connection ends */
		char line[64];
		snprintf(line, sizeof(line), "{\"event\":\"exited\",\"status\":%d}", status);
		api_server_emit(api, line);
	}
	api_server_close(api); /* before vm_destroy: no handler runs after this */
	api_restore_release(&restoring);
	vm_destroy(&vm);
	close(sigfd);
	return status;
}

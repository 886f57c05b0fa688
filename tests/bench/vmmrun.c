/*
 * vmmrun: runs one VMM command and measures it the same way whichever VMM it is (tools/bench/boot). It is a lab
 * helper: the arm64 build puts it beside roam, and the emulated host has it in /opt/roam/bin.
 *
 * usage: vmmrun [--name NAME] [--marker TEXT] [--guest-ram MiB] [--log FILE] -- CMD [ARG...]
 *
 * The clock starts just before fork (also handed to the child as VMMRUN_T0_NS, CLOCK_MONOTONIC ns). The child gets a
 * pipe as stdin that stays open and silent (kvmtool's terminal thread spins on /dev/null) and pipes as stdout and
 * stderr, read line by line. Prints one line:
 *   vmmrun: NAME first_run_ms=F marker_ms=M exit_ms=E status=S peak_rss_kib=P beyond_guest_kib=B guest_map_kib=G
 * F: the first stderr line with "first KVM_RUN <ms> ms" (the VMM's own figure, from its own start);
 * M: the first stdout line containing TEXT; E: the child's exit; P: wait4's ru_maxrss;
 * B: VmRSS minus the Rss of the guest-RAM mapping, both read from /proc/PID when the marker appears. The guest-RAM
 * mapping is the one whose size equals the guest RAM, else the smallest one up to RAM + 1/16 larger (kvmtool maps
 * 2 MiB more to align RAM for huge pages). -1 = not seen. Lines not consumed go to the log (default stderr), tagged
 * "out: " or "err: ". Exit status: 0, or 1 when the child failed or a figure is missing, 2 on bad usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_LEN 4096

struct line_buf {
	bool is_stdout;
	const char *tag;
	size_t len;
	char data[LINE_MAX_LEN];
};

struct run {
	const char *name, *marker;
	unsigned long long guest_ram;
	FILE *log;
	pid_t pid;
	int64_t t0, first_run_us, marker_us, exit_us;
	long long beyond_kib, guest_map_kib;
};

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t since_us(const struct run *r)
{
	return (now_ns() - r->t0) / 1000;
}

/* Rss of the guest-RAM mapping of r->pid (see the top of the file), or -1; logs the mapping it chose. */
static long long guest_map_rss_kib(struct run *r)
{
	char path[64], line[512], chosen[512] = "", header[512] = "";
	unsigned long long start, end, size = 0, best = 0, kib;
	long long best_rss = -1;
	snprintf(path, sizeof(path), "/proc/%d/smaps", (int)r->pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx-%llx ", &start, &end) == 2) { /* a mapping's header line */
			size = end - start;
			snprintf(header, sizeof(header), "%s", line);
		} else if (sscanf(line, "Rss: %llu kB", &kib) == 1 && size >= r->guest_ram &&
			   size <= r->guest_ram + r->guest_ram / 16 && (!best || size < best)) {
			best = size;
			best_rss = (long long)kib;
			snprintf(chosen, sizeof(chosen), "%s", header);
		}
	}
	fclose(f);
	if (best_rss >= 0)
		fprintf(r->log, "vmmrun: %s: guest RAM mapping (%llu KiB, Rss %lld KiB): %s", r->name, best >> 10,
			best_rss, chosen);
	return best_rss;
}

static long long vm_rss_kib(pid_t pid)
{
	char path[64], line[256];
	long long kib = -1;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %lld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

/* One complete line from the child: take the figures it carries, or pass it on to the log. */
static void take_line(struct run *r, const struct line_buf *b, const char *line)
{
	const char *p = strstr(line, "first KVM_RUN ");
	char *end;
	if (!b->is_stdout && p && r->first_run_us < 0) {
		double ms = strtod(p + strlen("first KVM_RUN "), &end);
		if (end != p + strlen("first KVM_RUN ") && strncmp(end, " ms", 3) == 0) {
			r->first_run_us = (int64_t)(ms * 1000);
			fprintf(r->log, "vmmrun: %s: %s\n", r->name, line); /* kept: it may carry more figures */
			return;
		}
	}
	if (b->is_stdout && r->marker_us < 0 && strstr(line, r->marker)) {
		r->marker_us = since_us(r);
		long long map = guest_map_rss_kib(r), rss = vm_rss_kib(r->pid);
		r->guest_map_kib = map;
		r->beyond_kib = map >= 0 && rss >= 0 ? rss - map : -1;
		fprintf(r->log, "vmmrun: %s: marker at %.1f ms, VmRSS %lld KiB\n", r->name, r->marker_us / 1e3, rss);
		return;
	}
	fprintf(r->log, "%s%s\n", b->tag, line);
}

/* Reads what is there; false at end of file. Splits into lines (an overlong one is cut at LINE_MAX_LEN - 1). */
static bool pump(struct run *r, int fd, struct line_buf *b)
{
	ssize_t n = read(fd, b->data + b->len, sizeof(b->data) - 1 - b->len);
	if (n < 0)
		return errno == EINTR || errno == EAGAIN;
	if (n == 0) {
		if (b->len) {
			b->data[b->len] = '\0';
			take_line(r, b, b->data);
			b->len = 0;
		}
		return false;
	}
	b->len += (size_t)n;
	char *start = b->data, *nl;
	while ((nl = memchr(start, '\n', b->len - (size_t)(start - b->data)))) {
		*nl = '\0';
		take_line(r, b, start);
		start = nl + 1;
	}
	b->len -= (size_t)(start - b->data);
	memmove(b->data, start, b->len);
	if (b->len == sizeof(b->data) - 1) {
		b->data[b->len] = '\0';
		take_line(r, b, b->data);
		b->len = 0;
	}
	return true;
}

static void usage(void)
{
	fprintf(stderr, "usage: vmmrun [--name NAME] [--marker TEXT] [--guest-ram MiB] [--log FILE] -- CMD [ARG...]\n");
	exit(2);
}

/* Options into *r; returns the index of CMD in argv. Exits 2 on bad usage. */
static int parse_args(int argc, char **argv, struct run *r)
{
	int i = 1;
	for (; i + 1 < argc && strcmp(argv[i], "--") != 0; i += 2) {
		const char *opt = argv[i], *val = argv[i + 1];
		if (!strcmp(opt, "--name"))
			r->name = val;
		else if (!strcmp(opt, "--marker"))
			r->marker = val;
		else if (!strcmp(opt, "--guest-ram"))
			r->guest_ram = strtoull(val, NULL, 10) << 20;
		else if (!strcmp(opt, "--log")) {
			if (!(r->log = fopen(val, "a"))) {
				fprintf(stderr, "vmmrun: %s: %s\n", val, strerror(errno));
				exit(2);
			}
		} else
			usage();
	}
	if (i + 1 >= argc || strcmp(argv[i], "--") != 0 || !r->guest_ram)
		usage();
	return i + 1;
}

int main(int argc, char **argv)
{
	struct run r = {.name = "vmm",
			.marker = "roam-guest: userspace reached",
			.guest_ram = 256ull << 20,
			.log = stderr,
			.first_run_us = -1,
			.marker_us = -1,
			.exit_us = -1,
			.beyond_kib = -1,
			.guest_map_kib = -1};
	int cmd = parse_args(argc, argv, &r);
	setvbuf(r.log, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);

	int in[2], out[2], err[2];
	if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC))
		return perror("vmmrun: pipe2"), 1;
	r.t0 = now_ns();
	char t0[32];
	snprintf(t0, sizeof(t0), "%lld", (long long)r.t0);
	setenv("VMMRUN_T0_NS", t0, 1);
	r.pid = fork();
	if (r.pid < 0)
		return perror("vmmrun: fork"), 1;
	if (r.pid == 0) {
		if (dup2(in[0], 0) < 0 || dup2(out[1], 1) < 0 || dup2(err[1], 2) < 0)
			_exit(127);
		execvp(argv[cmd], argv + cmd);
		fprintf(stderr, "vmmrun: %s: %s\n", argv[cmd], strerror(errno));
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	close(err[1]);
	struct line_buf bufs[2] = {{.is_stdout = true, .tag = "out: "}, {.is_stdout = false, .tag = "err: "}};
	int pidfd = (int)syscall(SYS_pidfd_open, r.pid, 0);
	struct pollfd pfd[3] = {
	    {.fd = out[0], .events = POLLIN}, {.fd = err[0], .events = POLLIN}, {.fd = pidfd, .events = POLLIN}};
	while (pfd[0].fd >= 0 || pfd[1].fd >= 0) {
		if (poll(pfd, 3, -1) < 0 && errno != EINTR)
			break;
		for (int k = 0; k < 2; k++)
			if (pfd[k].fd >= 0 && pfd[k].revents && !pump(&r, pfd[k].fd, &bufs[k])) {
				close(pfd[k].fd);
				pfd[k].fd = -1;
			}
		if (pfd[2].fd >= 0 && pfd[2].revents) { /* exited: the time of death, not of the pipes' end */
			r.exit_us = since_us(&r);
			pfd[2].fd = -1;
		}
	}
	int status;
	struct rusage ru;
	if (wait4(r.pid, &status, 0, &ru) < 0)
		return perror("vmmrun: wait4"), 1;
	if (r.exit_us < 0)
		r.exit_us = since_us(&r);
	close(in[1]);
	int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	printf("vmmrun: %s first_run_ms=%.1f marker_ms=%.1f exit_ms=%.1f status=%d peak_rss_kib=%ld "
	       "beyond_guest_kib=%lld guest_map_kib=%lld\n",
	       r.name, r.first_run_us < 0 ? -1.0 : r.first_run_us / 1e3, r.marker_us < 0 ? -1.0 : r.marker_us / 1e3,
	       r.exit_us / 1e3, code, ru.ru_maxrss, r.beyond_kib, r.guest_map_kib);
	return code || r.first_run_us < 0 || r.marker_us < 0 || r.beyond_kib < 0;
}

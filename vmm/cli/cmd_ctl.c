/*
 * `roam ctl SOCKET COMMAND [ARG]`: the control API's client. It turns the command into one request line (or sends
 * lines as given, with `raw`), waits for one reply per request with a timeout, and prints a summary (a table for
 * status) or, with --json, the replies as they came. Exit status: 0 every reply said ok, 1 a reply said not ok or
 * the socket could not be reached, 2 bad usage. Arch-neutral and KVM-free, so it is tested natively against the
 * server (tests/unit/test_api_server.c). Protocol: docs/api.md.
 */
#include "api/api_proto.h"
#include "commands.h"
#include "ctl_follow.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define CTL_DEFAULT_TIMEOUT_S 30
#define CTL_MAX_REPLIES_BYTES (16u << 20)

struct ctl_options {
	const char *sock;
	const char *cmd;
	const char *arg; /* VCPU for pause/resume, the JSON for raw; NULL if none */
	int vcpu; /* pause/resume with an argument: its value */
	bool json;
	bool stop; /* snapshot --stop */
	bool track, diff; /* snapshot --track / --diff */
	bool timeout_set;
	int timeout_s;
	char path[4096]; /* snapshot and migrate: the absolute path, "-", or (migrate) a transport */
	struct ctl_follow_options follow; /* migrate, events, wait */
};

struct ctl_buf {
	char *data;
	size_t len, cap;
};

static const char ctl_usage_text[] =
    "usage: roam ctl SOCKET COMMAND [ARG] [--json] [--timeout S]\n"
    "Talks to a VM started with roam run --api SOCKET (protocol: docs/api.md).\n"
    "\n"
    "  status          the VM's state and each vCPU's (state, exits, MMIO exits, hypercalls)\n"
    "  pause [VCPU]    pause the VM, or one vCPU; answers once they have left the guest\n"
    "  resume [VCPU]   resume the VM, or one vCPU\n"
    "  quit            stop the VM (roam run exits with status 5)\n"
    "  snapshot FILE [--stop] [--track] [--diff]\n"
    "                  pause, write a snapshot to FILE (- for standard output), then resume, or end the VM\n"
    "                  with --stop; --track makes it the base of the next --diff, which holds only the pages\n"
    "                  written since (docs/migration.md)\n"
    "  migrate DEST [--max-downtime MS] [--max-bandwidth MB/s] [--max-rounds N] [--compress lz|none] [--progress]\n"
    "                  live-migrate the VM to DEST: unix:PATH, tcp:ADDR:PORT, dev:PATH (where roam restore\n"
    "                  --incoming waits), a FILE, or - (standard output); progress on a terminal, then the\n"
    "                  report. The source roam exits with status 7 once the guest runs there.\n"
    "                  --compress lz compresses each page (for links slower than the CPU)\n"
    "  events          print every event (JSON lines) until the VM goes or --timeout\n"
    "  wait EVENT      wait for an event (e.g. job:done, exited) and print it\n"
    "  raw JSON        send JSON as it is, as request lines, and print the replies;\n"
    "                  raw - sends the lines of stdin (for tests)\n"
    "\n"
    "  --json          print the replies as JSON instead of a summary\n"
    "  --timeout S     wait at most S seconds for the replies (default 30; snapshot and migrate 3600;\n"
    "                  events and wait: for ever)\n"
    "  -h, --help      this text\n"
    "\n"
    "Exit status: 0 ok, 1 the VM refused the request (roam: ctl: <error>) or no connection, 2 bad usage.\n";

static int ctl_usage_error(FILE *err, const char *fmt, const char *what)
{
	fprintf(err, "roam: ctl: ");
	fprintf(err, fmt, what);
	fprintf(err, "; see roam ctl --help\n");
	return 2;
}

/* Returns 0, 1 for --help, or 2 after a usage message. */
static int ctl_parse_args(int argc, char **argv, struct ctl_options *o, FILE *out, FILE *err)
{
	const char *pos[4];
	int npos = 0;
	bool options_done = false;
	memset(o, 0, sizeof(*o));
	o->timeout_s = CTL_DEFAULT_TIMEOUT_S;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!options_done && !strcmp(a, "--")) {
			options_done = true;
		} else if (!options_done && (!strcmp(a, "-h") || !strcmp(a, "--help"))) {
			fputs(ctl_usage_text, out);
			return 1;
		} else if (!options_done && !strcmp(a, "--json")) {
			o->json = true;
		} else if (!options_done && !strcmp(a, "--stop")) {
			o->stop = true;
		} else if (!options_done && !strcmp(a, "--track")) {
			o->track = true;
		} else if (!options_done && !strcmp(a, "--diff")) {
			o->diff = true;
		} else if (!options_done && ctl_follow_option(argc, argv, &i, &o->follow, err) != 0) {
			if (o->follow.error)
				return 2;
		} else if (!options_done && !strcmp(a, "--timeout")) {
			char *end;
			if (i + 1 == argc)
				return ctl_usage_error(err, "%s needs a value", a);
			long t = strtol(argv[++i], &end, 10);
			if (!argv[i][0] || *end || t < 1 || t > 86400)
				return ctl_usage_error(
				    err, "--timeout: '%s' is not a number of seconds from 1 to 86400", argv[i]);
			o->timeout_s = (int)t;
			o->timeout_set = true;
		} else if (!options_done && a[0] == '-' &&
			   (a[1] == '-' || (a[1] >= 'a' && a[1] <= 'z') || (a[1] >= 'A' && a[1] <= 'Z'))) {
			/* "-1" or "-" are arguments (a vCPU, raw's stdin); "--" ends the options */
			return ctl_usage_error(err, "unknown option '%s'", a);
		} else if (npos == 4) {
			return ctl_usage_error(err, "unexpected argument '%s'", a);
		} else {
			pos[npos++] = a;
		}
	}
	if (npos < 2)
		return ctl_usage_error(err, "%s", npos ? "no COMMAND given" : "no SOCKET and COMMAND given");
	o->sock = pos[0];
	o->cmd = pos[1];
	o->arg = npos > 2 ? pos[2] : NULL;
	bool takes_vcpu = !strcmp(o->cmd, "pause") || !strcmp(o->cmd, "resume");
	bool takes_none = !strcmp(o->cmd, "status") || !strcmp(o->cmd, "quit");
	bool snapshot = !strcmp(o->cmd, "snapshot"), migrate = !strcmp(o->cmd, "migrate");
	bool follow = migrate || !strcmp(o->cmd, "events") || !strcmp(o->cmd, "wait");
	if (!takes_vcpu && !takes_none && !snapshot && !follow && strcmp(o->cmd, "raw"))
		return ctl_usage_error(
		    err,
		    "unknown command '%s' (commands: status, pause, resume, quit, snapshot, migrate, "
		    "events, wait, raw)",
		    o->cmd);
	if ((o->stop || o->track || o->diff) && !snapshot)
		return ctl_usage_error(err, "%s", "--stop, --track and --diff only go with snapshot");
	if (o->follow.migrate_options && !migrate)
		return ctl_usage_error(
		    err, "%s",
		    "--max-downtime, --max-bandwidth, --max-rounds, --compress and --progress only go with migrate");
	if (o->track && o->diff)
		return ctl_usage_error(err, "%s", "--track and --diff: a diff goes on tracking by itself; give one");
	if (follow) {
		if (!strcmp(o->cmd, "wait") && !o->arg)
			return ctl_usage_error(err, "%s", "wait needs an EVENT (e.g. job:done, exited)");
		if (migrate && !o->arg)
			return ctl_usage_error(err, "%s",
					       "migrate needs a DEST: unix:PATH, tcp:ADDR:PORT, dev:PATH, FILE or -");
		if (!strcmp(o->cmd, "events") && o->arg)
			return ctl_usage_error(err, "unexpected argument '%s'", o->arg);
		if (!o->timeout_set)
			o->timeout_s = migrate ? 3600 : 0; /* 0: no limit */
		if (migrate && !ctl_follow_dest(o->arg, o->path, sizeof(o->path), err))
			return 2;
		return npos > 3 ? ctl_usage_error(err, "unexpected argument '%s'", pos[npos - 1]) : 0;
	}
	if (snapshot) {
		if (!o->arg)
			return ctl_usage_error(err, "%s", "snapshot needs a FILE (or - for standard output)");
		/* roam runs elsewhere: hand it an absolute path. */
		char cwd[2048];
		if (o->arg[0] == '/' || !strcmp(o->arg, "-"))
			snprintf(o->path, sizeof(o->path), "%s", o->arg);
		else if (getcwd(cwd, sizeof(cwd)))
			snprintf(o->path, sizeof(o->path), "%s/%s", cwd, o->arg);
		else
			return ctl_usage_error(err, "%s", "cannot tell the current directory");
		if (!o->timeout_set)
			o->timeout_s = 3600; /* writing a large guest takes a while */
	}
	if (npos > 3 || (takes_none && o->arg))
		return ctl_usage_error(err, "unexpected argument '%s'", pos[npos - 1]);
	if (!strcmp(o->cmd, "raw") && !o->arg)
		return ctl_usage_error(err, "%s", "raw needs the JSON to send (or - for stdin)");
	if (takes_vcpu && o->arg) {
		char *end;
		errno = 0;
		long id = strtol(o->arg, &end, 10);
		if (!o->arg[0] || *end || errno || id < 0 || id > INT32_MAX) {
			fprintf(err, "roam: ctl: %s: '%s' is not a vCPU number; see roam ctl --help\n", o->cmd, o->arg);
			return 2;
		}
		o->vcpu = (int)id;
	}
	return 0;
}

static bool ctl_buf_append(struct ctl_buf *b, const void *data, size_t len)
{
	if (b->len + len + 1 > b->cap) {
		size_t cap = (b->len + len + 1) * 2;
		char *p = realloc(b->data, cap);
		if (!p)
			return false;
		b->data = p;
		b->cap = cap;
	}
	memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
	return true;
}

/* Builds the request text (lines ending in '\n') and counts the requests the server will answer. */
static int ctl_build_request(const struct ctl_options *o, struct ctl_buf *req, size_t *nreq)
{
	if (!strcmp(o->cmd, "raw")) {
		if (!strcmp(o->arg, "-")) {
			char chunk[4096];
			size_t n;
			while ((n = fread(chunk, 1, sizeof(chunk), stdin)) > 0)
				if (!ctl_buf_append(req, chunk, n))
					return -ENOMEM;
		} else if (!ctl_buf_append(req, o->arg, strlen(o->arg))) {
			return -ENOMEM;
		}
		if (req->len && req->data[req->len - 1] != '\n' && !ctl_buf_append(req, "\n", 1))
			return -ENOMEM;
		/* The server answers every line but empty ones (a lone '\r' counts as empty). */
		*nreq = 0;
		for (size_t start = 0; start < req->len;) {
			const char *nl = memchr(req->data + start, '\n', req->len - start);
			size_t end = nl ? (size_t)(nl - req->data) : req->len; /* always found: the text ends in '\n' */
			size_t line = end - start;
			if (line && req->data[end - 1] == '\r')
				line--;
			*nreq += line > 0;
			start = end + 1;
		}
		return 0;
	}
	json_t *r = json_object();
	json_object_set_new(r, "cmd", json_string(o->cmd));
	if (!strcmp(o->cmd, "snapshot")) {
		json_object_set_new(r, "path", json_string(o->path));
		if (o->stop)
			json_object_set_new(r, "stop", json_true());
		if (o->track)
			json_object_set_new(r, "track", json_true());
		if (o->diff)
			json_object_set_new(r, "diff", json_true());
	} else if (o->arg) {
		json_object_set_new(r, "vcpu", json_integer(o->vcpu));
	}
	char *text = json_dumps(r, JSON_COMPACT);
	json_decref(r);
	bool ok = text && ctl_buf_append(req, text, strlen(text)) && ctl_buf_append(req, "\n", 1);
	free(text);
	*nreq = 1;
	return ok ? 0 : -ENOMEM;
}

static int ctl_connect(const char *sock, FILE *err)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	if (strlen(sock) >= sizeof(addr.sun_path)) {
		fprintf(err, "roam: ctl: %s: the path is too long for a UNIX socket (at most %zu bytes)\n", sock,
			sizeof(addr.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	strcpy(addr.sun_path, sock);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		fprintf(err, "roam: ctl: socket: %s\n", strerror(errno));
		return -errno;
	}
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0)
		return fd;
	int e = errno;
	close(fd);
	/* A path that exists but is no socket (a regular file, a directory): say that, not "Connection refused". */
	struct stat st;
	if (e == ECONNREFUSED && stat(sock, &st) == 0 && !S_ISSOCK(st.st_mode)) {
		fprintf(err, "roam: ctl: %s is not a socket but a %s; give the path of roam run --api SOCK\n", sock,
			S_ISDIR(st.st_mode)   ? "directory"
			: S_ISREG(st.st_mode) ? "regular file"
					      : "special file");
		return -ENOTSOCK;
	}
	const char *hint = e == ENOENT	       ? " (is roam run --api running with this socket?)"
			   : e == ECONNREFUSED ? " (nothing answers on it: the roam that made it has exited)"
			   : e == EACCES       ? " (the socket is private: run as the user who started roam)"
			   : e == EAGAIN       ? " (roam's API has too many waiting connections; try again)"
					       : "";
	fprintf(err, "roam: ctl: cannot connect to %s: %s%s\n", sock, strerror(e), hint);
	return -e;
}

static long ctl_ms_left(const struct timespec *deadline)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (deadline->tv_sec - now.tv_sec) * 1000 + (deadline->tv_nsec - now.tv_nsec) / 1000000;
}

static size_t ctl_count_lines(const struct ctl_buf *b)
{
	size_t n = 0;
	for (size_t i = 0; i < b->len; i++)
		n += b->data[i] == '\n';
	return n;
}

/* Sends `req` while reading replies, until `nreq` reply lines arrived. Returns 0 or -errno after a message. */
static int ctl_exchange(int fd, const struct ctl_options *o, const struct ctl_buf *req, size_t nreq,
			struct ctl_buf *replies, FILE *err)
{
	struct timespec deadline;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += o->timeout_s;
	size_t sent = 0;
	while (ctl_count_lines(replies) < nreq) {
		long left = ctl_ms_left(&deadline);
		struct pollfd p = {.fd = fd, .events = (short)(POLLIN | (sent < req->len ? POLLOUT : 0))};
		int ret = left > 0 ? poll(&p, 1, (int)left) : 0;
		if (ret < 0 && errno == EINTR)
			continue;
		if (ret <= 0) {
			if (ret == 0)
				fprintf(err, "roam: ctl: no answer from %s within %d s\n", o->sock, o->timeout_s);
			else
				fprintf(err, "roam: ctl: poll: %s\n", strerror(errno));
			return ret == 0 ? -ETIMEDOUT : -errno;
		}
		if (p.revents & POLLOUT) {
			ssize_t n =
			    ctl_send_part(fd, req->data + sent, req->len - sent, sent == 0 && !strcmp(o->path, "-"));
			if (n > 0)
				sent += (size_t)n;
			else if (n < 0 && errno != EAGAIN && errno != EINTR)
				sent = req->len; /* the server has gone: read what it answered */
		}
		if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
			char chunk[4096];
			ssize_t n = recv(fd, chunk, sizeof(chunk), 0);
			if (n < 0 && (errno == EAGAIN || errno == EINTR))
				continue;
			if (n <= 0) {
				fprintf(err, "roam: ctl: %s closed the connection before answering%s\n", o->sock,
					nreq > 1 ? " every request" : "");
				return -ECONNRESET;
			}
			if (replies->len + (size_t)n > CTL_MAX_REPLIES_BYTES) {
				fprintf(err, "roam: ctl: %s answered more than %u bytes\n", o->sock,
					CTL_MAX_REPLIES_BYTES);
				return -EMSGSIZE;
			}
			if (!ctl_buf_append(replies, chunk, (size_t)n))
				return -ENOMEM;
		}
	}
	return 0;
}

static const char *ctl_str(const json_t *v)
{
	return json_is_string(v) ? json_string_value(v) : "?";
}

/* The readable form of a status reply: the VM's state, a table of vCPUs, then any other part as compact JSON. */
static void ctl_print_status(json_t *reply, FILE *out)
{
	json_t *vcpus = json_object_get(reply, "vcpus");
	if (!strcmp(ctl_str(json_object_get(reply, "state")), "restoring")) {
		json_t *p = json_object_get(reply, "restore");
		json_t *of = json_object_get(p, "bytes");
		fprintf(out, "VM restoring from %s: %.1f MiB read", ctl_str(json_object_get(p, "from")),
			(double)json_integer_value(json_object_get(p, "bytes_read")) / 1048576);
		if (json_is_integer(of))
			fprintf(out, " of %.1f", (double)json_integer_value(of) / 1048576);
		fprintf(out, " in %lld ms\n", (long long)json_integer_value(json_object_get(p, "ms")));
		return;
	}
	fprintf(out, "VM %s, %zu vCPU%s\n", ctl_str(json_object_get(reply, "state")), json_array_size(vcpus),
		json_array_size(vcpus) == 1 ? "" : "s");
	fprintf(out, "%5s  %-8s %12s %12s %12s\n", "vCPU", "state", "exits", "mmio_exits", "hypercalls");
	size_t i;
	json_t *v;
	json_array_foreach(vcpus, i, v)
	{
		fprintf(out, "%5lld  %-8s %12lld %12lld %12lld\n",
			(long long)json_integer_value(json_object_get(v, "id")), ctl_str(json_object_get(v, "state")),
			(long long)json_integer_value(json_object_get(v, "exits")),
			(long long)json_integer_value(json_object_get(v, "mmio_exits")),
			(long long)json_integer_value(json_object_get(v, "hypercalls")));
	}
	const char *key;
	json_object_foreach(reply, key, v)
	{
		if (!strcmp(key, "ok") || !strcmp(key, "state") || !strcmp(key, "vcpus"))
			continue;
		char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		fprintf(out, "%s: %s\n", key, text ? text : "?");
		free(text);
	}
}

static void ctl_print_summary(const struct ctl_options *o, json_t *reply, FILE *out)
{
	if (!strcmp(o->cmd, "status")) {
		ctl_print_status(reply, out);
	} else if (!strcmp(o->cmd, "quit")) {
		fprintf(out, "the VM is stopping\n");
	} else if (!strcmp(o->cmd, "snapshot")) {
		/* With "-" the snapshot itself is on standard output: say nothing there. */
		FILE *to = strcmp(o->path, "-") ? out : stderr;
		fprintf(to, "snapshot %s: %lld bytes, %lld guest pages, saved in %.1f ms, guest paused %.1f ms%s\n",
			o->path, (long long)json_integer_value(json_object_get(reply, "bytes")),
			(long long)json_integer_value(json_object_get(reply, "pages")),
			json_real_value(json_object_get(reply, "save_ms")),
			json_real_value(json_object_get(reply, "downtime_ms")), o->stop ? "; the VM stopped" : "");
	} else {
		const char *done = !strcmp(o->cmd, "pause") ? "paused" : "resumed";
		if (o->arg)
			fprintf(out, "vCPU %s %s\n", o->arg, done);
		else
			fprintf(out, "VM %s (every vCPU)\n", done);
	}
}

/* Prints each reply; returns 0 when every reply said ok, 1 otherwise. */
static int ctl_report(const struct ctl_options *o, const struct ctl_buf *replies, FILE *out, FILE *err)
{
	int status = 0;
	for (size_t start = 0; start < replies->len;) {
		const char *line = replies->data + start;
		const char *nl = memchr(line, '\n', replies->len - start);
		/* Whatever follows the last reply the server owed, a line or not, is shown too. */
		size_t len = nl ? (size_t)(nl - line) : replies->len - start;
		start += len + 1;
		json_error_t jerr;
		json_t *reply = json_loadb(line, len, 0, &jerr);
		json_t *ok = json_object_get(reply, "ok");
		if (o->json || !strcmp(o->cmd, "raw"))
			fprintf(out, "%.*s\n", (int)len, line);
		if (!json_is_boolean(ok)) {
			fprintf(err, "roam: ctl: %s answered something that is not an API reply: %.*s\n", o->sock,
				(int)(len > 200 ? 200 : len), line);
			status = 1;
		} else if (!json_is_true(ok)) {
			const char *e = json_string_value(json_object_get(reply, "error"));
			fprintf(err, "roam: ctl: %s\n", e ? e : "the request failed (the reply names no error)");
			status = 1;
		} else if (!o->json && strcmp(o->cmd, "raw")) {
			ctl_print_summary(o, reply, out);
		}
		json_decref(reply);
	}
	return status;
}

int ctl_main(int argc, char **argv, FILE *out, FILE *err)
{
	struct ctl_options o;
	int ret = ctl_parse_args(argc, argv, &o, out, err);
	if (ret)
		return ret == 1 ? 0 : 2;
	struct ctl_buf req = {0}, replies = {0};
	int status = 1;
	/* Connect first: with raw - the connection stays open while stdin is read. */
	int fd = ctl_connect(o.sock, err);
	if (fd >= 0 && (!strcmp(o.cmd, "migrate") || !strcmp(o.cmd, "events") || !strcmp(o.cmd, "wait"))) {
		status = ctl_follow(fd, o.sock, o.cmd, o.cmd[0] == 'm' ? o.path : o.arg, o.timeout_s, o.json, &o.follow,
				    out, err);
		close(fd);
	} else if (fd >= 0) {
		size_t nreq = 0;
		ret = ctl_build_request(&o, &req, &nreq);
		if (ret < 0)
			fprintf(err, "roam: ctl: %s\n", strerror(-ret));
		else if (ctl_exchange(fd, &o, &req, nreq, &replies, err) == 0)
			status = ctl_report(&o, &replies, strcmp(o.path, "-") ? out : err,
					    err); /* "-": stdout is the snapshot */
		close(fd);
	}
	fflush(out);
	free(req.data);
	free(replies.data);
	return status;
}

int cmd_ctl(int argc, char **argv)
{
	return ctl_main(argc, argv, stdout, stderr);
}

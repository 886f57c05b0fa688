/* `roam ctl` migrate, events and wait: see ctl_follow.h. */
#include "ctl_follow.h"

#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define FOLLOW_LINE_MAX (1u << 20)

int ctl_follow_option(int argc, char **argv, int *i, struct ctl_follow_options *o, FILE *err)
{
	static const struct {
		const char *name;
		long long max, scale;
	} opts[] = {{"--max-downtime", 3600000, 1}, {"--max-bandwidth", 1000000, 1000000}, {"--max-rounds", 10000, 1}};
	const char *a = argv[*i];
	if (!o->migrate_options) {
		o->max_downtime_ms = o->max_bandwidth = o->max_rounds = -1;
		o->compress = NULL;
	}
	if (!strcmp(a, "--progress")) {
		o->progress = o->migrate_options = true;
		return 1;
	}
	if (!strcmp(a, "--compress")) {
		const char *v = *i + 1 < argc ? argv[*i + 1] : NULL;
		o->migrate_options = true;
		if (!v || (strcmp(v, "lz") && strcmp(v, "none"))) {
			fprintf(err, "roam: ctl: --compress: %s lz or none; see roam ctl --help\n",
				v ? "expected" : "needs");
			o->error = true;
			return 1;
		}
		o->compress = v;
		(*i)++;
		return 1;
	}
	for (size_t k = 0; k < sizeof(opts) / sizeof(opts[0]); k++) {
		if (strcmp(a, opts[k].name))
			continue;
		o->migrate_options = true;
		char *end;
		long long v = *i + 1 < argc ? strtoll(argv[*i + 1], &end, 10) : -1;
		if (*i + 1 == argc || !argv[*i + 1][0] || *end || v < (k == 2) || v > opts[k].max) {
			fprintf(err, "roam: ctl: %s: %s a whole number from %d to %lld; see roam ctl --help\n", a,
				*i + 1 == argc ? "needs" : "expected", k == 2, opts[k].max);
			o->error = true;
			return 1;
		}
		v *= opts[k].scale;
		*(k == 0 ? &o->max_downtime_ms : k == 1 ? &o->max_bandwidth : &o->max_rounds) = v;
		(*i)++;
		return 1;
	}
	return 0;
}

bool ctl_follow_dest(const char *dest, char *out, size_t size, FILE *err)
{
	bool plain = strcmp(dest, "-") && strncmp(dest, "unix:", 5) && strncmp(dest, "tcp:", 4) &&
		     strncmp(dest, "dev:", 4) && dest[0] != '/';
	char cwd[2048];
	if (!plain) {
		snprintf(out, size, "%s", dest);
	} else if (!getcwd(cwd, sizeof(cwd))) {
		fprintf(err, "roam: ctl: migrate: cannot tell the current directory; give an absolute path\n");
		return false;
	} else {
		snprintf(out, size, "%s/%s", cwd, strncmp(dest, "file:", 5) ? dest : dest + 5);
	}
	return true;
}

/* A connection read as lines. */
struct follow {
	int fd;
	char *buf;
	size_t len, cap;
	struct timespec deadline;
	bool timed;
};

/* The next line (NUL-terminated in f->buf, removed by the next call): 1, 0 at the end, -ETIMEDOUT, or -errno. */
static int next_line(struct follow *f, size_t *consumed, char **line)
{
	if (*consumed) {
		memmove(f->buf, f->buf + *consumed, f->len - *consumed);
		f->len -= *consumed;
		*consumed = 0;
	}
	for (;;) {
		char *nl = f->buf ? memchr(f->buf, '\n', f->len) : NULL;
		if (nl) {
			*nl = '\0';
			*line = f->buf;
			*consumed = (size_t)(nl - f->buf) + 1;
			return 1;
		}
		int wait = -1;
		if (f->timed) {
			struct timespec now;
			clock_gettime(CLOCK_MONOTONIC, &now);
			long left =
			    (f->deadline.tv_sec - now.tv_sec) * 1000 + (f->deadline.tv_nsec - now.tv_nsec) / 1000000;
			if (left <= 0)
				return -ETIMEDOUT;
			wait = (int)left;
		}
		struct pollfd p = {.fd = f->fd, .events = POLLIN};
		int n = poll(&p, 1, wait);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n == 0 ? -ETIMEDOUT : -errno;
		if (f->len + 4096 + 1 > f->cap) {
			if (f->cap > FOLLOW_LINE_MAX)
				return -EMSGSIZE;
			size_t cap = f->cap ? f->cap * 2 : 8192;
			char *b = realloc(f->buf, cap);
			if (!b)
				return -ENOMEM;
			f->buf = b;
			f->cap = cap;
		}
		ssize_t r = recv(f->fd, f->buf + f->len, 4096, 0);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r <= 0)
			return r == 0 ? 0 : -errno;
		f->len += (size_t)r;
	}
}

ssize_t ctl_send_part(int fd, const char *data, size_t len, bool with_stdout)
{
	union {
		struct cmsghdr align;
		char space[CMSG_SPACE(sizeof(int))];
	} control;
	memset(&control, 0, sizeof(control));
	struct iovec iov = {.iov_base = (void *)data, .iov_len = len};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
	if (with_stdout) {
		msg.msg_control = &control;
		msg.msg_controllen = sizeof(control);
		struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		int out = STDOUT_FILENO;
		memcpy(CMSG_DATA(cm), &out, sizeof(int));
	}
	return sendmsg(fd, &msg, MSG_NOSIGNAL);
}

/* Sends one request line, with our standard output attached when `with_stdout` (migrate -). */
static int send_line(int fd, const char *text, bool with_stdout)
{
	size_t len = strlen(text);
	/* The socket is non-blocking; a request line is small: wait until it fits. */
	for (size_t sent = 0; sent < len;) {
		ssize_t n = ctl_send_part(fd, text + sent, len - sent, with_stdout && sent == 0);
		if (n < 0 && errno == EAGAIN) {
			struct pollfd p = {.fd = fd, .events = POLLOUT};
			poll(&p, 1, 1000);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		sent += (size_t)n;
	}
	return 0;
}

static const char *str(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);
	return json_is_string(v) ? json_string_value(v) : "";
}

static double num(const json_t *o, const char *key)
{
	return json_number_value(json_object_get(o, key));
}

/* Whether event `ev` is what `wait EVENT` waits for: its name ("exited"), or name:state ("job:done"). */
static bool matches(const json_t *ev, const char *want)
{
	const char *name = str(ev, "event"), *colon = strchr(want, ':');
	if (!colon)
		return !strcmp(name, want);
	return strlen(name) == (size_t)(colon - want) && !strncmp(name, want, (size_t)(colon - want)) &&
	       !strcmp(str(ev, "state"), colon + 1);
}

/* migrate's report lines, from its job's events. Returns -1 while it runs, else the exit status. */
static int migrate_event(const json_t *ev, int job, bool tty, bool progress, bool json, FILE *out, FILE *err)
{
	if (strcmp(str(ev, "event"), "job") || json_integer_value(json_object_get(ev, "job")) != job)
		return -1;
	const char *state = str(ev, "state");
	if (json) {
		char *text = json_dumps(ev, JSON_COMPACT);
		fprintf(out, "%s\n", text ? text : "{}");
		free(text);
	}
	if (!strcmp(state, "round") && !json && (tty || progress)) {
		fprintf(err,
			"%smigrate: round %d: %.0f pages sent, %.0f MiB in all, %.0f dirty, %.0f MB/s, expected "
			"downtime %.1f ms%s",
			tty ? "\r" : "", (int)num(ev, "round"), num(ev, "pages"), num(ev, "bytes") / 1048576,
			num(ev, "dirty_pages"), num(ev, "bandwidth") / 1e6, num(ev, "expected_downtime_ms"),
			tty ? "\033[K" : "\n");
		fflush(err);
	}
	if (strcmp(state, "done") && strcmp(state, "failed"))
		return -1;
	if (tty && !json)
		fprintf(err, "\n");
	if (!strcmp(state, "failed")) {
		fprintf(err, "roam: ctl: migrate: %s\n", str(ev, "error"));
		return 1;
	}
	if (!json)
		fprintf(
		    out,
		    "migrate: the guest moved: %.0f rounds, %.1f MiB, %.0f pages, total %.0f ms, downtime %.1f ms\n",
		    num(ev, "rounds"), num(ev, "bytes") / 1048576, num(ev, "pages"), num(ev, "total_ms"),
		    num(ev, "downtime_ms"));
	return 0;
}

/* The migrate request. */
static char *migrate_request(const char *dest, const struct ctl_follow_options *o)
{
	json_t *r = json_pack("{s:s, s:s}", "cmd", "migrate", "dest", dest);
	if (o->migrate_options && o->max_downtime_ms >= 0)
		json_object_set_new(r, "max_downtime_ms", json_integer(o->max_downtime_ms));
	if (o->migrate_options && o->max_bandwidth >= 0)
		json_object_set_new(r, "max_bandwidth", json_integer(o->max_bandwidth));
	if (o->migrate_options && o->max_rounds >= 0)
		json_object_set_new(r, "max_rounds", json_integer(o->max_rounds));
	if (o->migrate_options && o->compress)
		json_object_set_new(r, "compress", json_string(o->compress));
	char *text = json_dumps(r, JSON_COMPACT);
	json_decref(r);
	return text;
}

int ctl_follow(int fd, const char *sock, const char *cmd, const char *arg, int timeout_s, bool json,
	       const struct ctl_follow_options *o, FILE *out, FILE *err)
{
	struct follow f = {.fd = fd, .timed = timeout_s > 0};
	clock_gettime(CLOCK_MONOTONIC, &f.deadline);
	f.deadline.tv_sec += timeout_s;
	bool migrate = !strcmp(cmd, "migrate"), to_stdout = migrate && !strcmp(arg, "-");
	FILE *report = to_stdout ? err : out; /* "-": standard output is the stream */
	bool tty = migrate && isatty(fileno(err));
	int status = 1, job = -1, expect = 1; /* replies still owed: events, then migrate */
	size_t consumed = 0;
	char *line = NULL;
	if (send_line(fd, "{\"cmd\":\"events\"}\n", false) < 0) {
		fprintf(err, "roam: ctl: cannot send to %s: %s\n", sock, strerror(errno));
		return 1;
	}
	for (;;) {
		int r = next_line(&f, &consumed, &line);
		if (r <= 0) {
			if (r == -ETIMEDOUT)
				fprintf(err, "roam: ctl: %s within %d s\n",
					migrate ? "the migration did not end" : "no such event", timeout_s);
			else if (!strcmp(cmd, "events") && r == 0)
				status = 0; /* the VM went: the stream of events ends */
			else
				fprintf(err, "roam: ctl: %s closed the connection%s\n", sock,
					migrate && job >= 0 ? " before the migration ended" : "");
			break;
		}
		json_t *msg = json_loads(line, 0, NULL);
		const json_t *ok = json_object_get(msg, "ok");
		if (json_is_boolean(ok) && expect > 0) { /* a reply */
			expect--;
			if (!json_is_true(ok)) {
				fprintf(err, "roam: ctl: %s\n", str(msg, "error"));
				json_decref(msg);
				break;
			}
			if (migrate && job < 0 && json_object_get(msg, "job"))
				job = (int)json_integer_value(json_object_get(msg, "job"));
			else if (migrate) {
				/* Subscribed: now start the job, so that none of its events can be missed. */
				char *req = migrate_request(arg, o);
				size_t n = req ? strlen(req) : 0;
				char *text = req ? realloc(req, n + 2) : NULL;
				if (text) {
					text[n] = '\n';
					text[n + 1] = '\0';
				}
				if (!text || send_line(fd, text, to_stdout) < 0) {
					fprintf(err, "roam: ctl: cannot send to %s\n", sock);
					free(text ? text : req);
					json_decref(msg);
					break;
				}
				free(text);
				expect = 1;
			}
		} else if (migrate) {
			int done = job < 0 ? -1 : migrate_event(msg, job, tty, o->progress, json, report, err);
			if (done >= 0) {
				status = done;
				json_decref(msg);
				break;
			}
		} else if (!strcmp(cmd, "events") || matches(msg, arg)) {
			fprintf(out, "%s\n", line);
			fflush(out);
			if (!strcmp(cmd, "wait")) {
				status = 0;
				json_decref(msg);
				break;
			}
		}
		json_decref(msg);
	}
	free(f.buf);
	return status;
}

/*
 * Fuzzes the control socket (docs/api.md). The first input byte picks the path, the rest is the byte stream a client
 * sends:
 *   - bits 0-1 = 0: the protocol alone (vmm/api/api_proto.c): the stream is cut into chunks, split into lines by the
 *     server's line reader, and each line handled against a command table of the VM's shape (tests/unit/
 *     api_fake_vm.h: pause/resume with a vCPU, status, quit with an after-reply action, snapshot with the real
 *     argument checks, a stop flag and a passed descriptor);
 *   - 1: the server (vmm/api/api.c) over a real UNIX socket, a client that sends the stream with 0 to 6 or 12 (more
 *     than the server takes) descriptors attached (bits 2-4) and reads every reply;
 *   - 2: `roam ctl SOCK raw -` with the stream as its standard input, against the same server.
 * Bit 5 appends 70000 copies of the last byte (a line over the 64 KiB limit without a 64 KiB input).
 *
 * Invariants: every reply is one line holding a JSON object with a boolean "ok" (and an "error" string when it is
 * false); a line handed to a handler is at most API_MAX_REQUEST bytes, NUL-terminated, without a newline; a request
 * that passed descriptors leaves none open once the server closed the connection; nothing leaks or overflows.
 */
#include "api/api.h"
#include "api_fake_vm.h"
#include "cli/commands.h"
#include "fuzz_util.h"

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <sys/un.h>

#define FUZZ_BIG_LINE 70000

/* snapshot: the real argument checks (api_snapshot_args), then the passed descriptor is taken and closed. */
static int fake_snapshot(struct api_call *call)
{
	struct api_snapshot_request req = {0};
	if (api_snapshot_args(call, &req) < 0)
		return -1;
	if (!strcmp(req.file, "-")) {
		close(*call->passed_fd);
		*call->passed_fd = -1;
	}
	json_object_set_new(call->reply, "bytes", json_integer(4096));
	if (req.stop)
		call->after_reply = fake_stop;
	return 0;
}

static const char *const vcpu_arg[] = {"vcpu", NULL};
static const char *const snapshot_args[] = {"path", "stop", "track", "diff", NULL};
static const struct api_command fake_commands[] = {
    {"pause", vcpu_arg, fake_pause}, {"resume", vcpu_arg, fake_pause},		 {"status", NULL, fake_status},
    {"quit", NULL, fake_quit},	     {"snapshot", snapshot_args, fake_snapshot},
};
#define NR_COMMANDS (sizeof(fake_commands) / sizeof(fake_commands[0]))

static struct fake_vm vm = {.name = "fuzz", .nr_vcpus = 2};
static struct api_server *server;
static char sock_path[108];
static FILE *devnull;

/* Checks one reply line (len bytes, no newline). */
static void check_reply(const char *text, size_t len)
{
	FUZZ_ASSERT(!memchr(text, '\n', len), "a reply holds a newline");
	json_error_t e;
	json_t *j = json_loadb(text, len, 0, &e);
	FUZZ_ASSERT(json_is_object(j), "a reply is not a JSON object (%s): %.*s", e.text, (int)len, text);
	json_t *ok = json_object_get(j, "ok");
	FUZZ_ASSERT(json_is_boolean(ok), "a reply has no boolean \"ok\": %.*s", (int)len, text);
	FUZZ_ASSERT(json_is_true(ok) || json_is_string(json_object_get(j, "error")), "an error without a message");
	json_decref(j);
}

static void answer(struct api_line_reader *r, enum api_line_status st, int *passed_fd)
{
	char *reply;
	void (*after)(void *) = NULL;
	if (st == API_LINE_TOO_LARGE) {
		reply = api_too_large_reply();
	} else {
		FUZZ_ASSERT(r->len <= API_MAX_REQUEST && r->buf[r->len] == '\0' && !memchr(r->buf, '\n', r->len),
			    "a bad line of %zu bytes", r->len);
		if (!r->len)
			return;
		reply = api_handle_line(fake_commands, NR_COMMANDS, &vm, r->buf, r->len, &after, passed_fd);
	}
	FUZZ_ASSERT(reply, "no reply");
	check_reply(reply, strlen(reply));
	free(reply);
	if (after)
		after(&vm);
}

/* The protocol alone: the stream in chunks of 1 to 4096 bytes (sizes taken from the stream itself). */
static void protocol(const uint8_t *data, size_t size)
{
	static struct api_line_reader r;
	int fd = -1;
	api_line_reader_init(&r);
	for (size_t off = 0; off < size;) {
		size_t chunk = 1 + (size_t)data[off] * 16, used;
		if (chunk > size - off)
			chunk = size - off;
		const char *p = (const char *)data + off;
		for (size_t done = 0; done < chunk; done += used) {
			enum api_line_status st = api_line_feed(&r, p + done, chunk - done, &used);
			FUZZ_ASSERT(used > 0 || st != API_LINE_NEED_MORE, "no progress");
			FUZZ_ASSERT(used <= chunk - done, "consumed %zu of %zu", used, chunk - done);
			if (st != API_LINE_NEED_MORE)
				answer(&r, st, &fd);
		}
		off += chunk;
	}
	if (api_line_finish(&r) == API_LINE_READY)
		answer(&r, API_LINE_READY, &fd);
}

/* Sends the stream to the server (with `nfds` descriptors on the first bytes) while reading, then every reply. */
/*
 * The descriptors open while no client is connected: the server's own and the harness's. After a connection they
 * must come back to that (the server closes its side of a `roam ctl` connection a moment after ctl returns).
 */
static int idle_fds;

static void check_no_leak(void)
{
	int n = open_fds();
	for (int i = 0; i < 2000 && n > idle_fds; i++) {
		usleep(1000);
		n = open_fds();
	}
	FUZZ_ASSERT(n <= idle_fds, "%d descriptors open once the connection is closed, %d before", n, idle_fds);
}

static void through_server(const uint8_t *data, size_t size, int nfds)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	memcpy(addr.sun_path, sock_path, strlen(sock_path) + 1);
	int c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	FUZZ_ASSERT(c >= 0 && connect(c, (struct sockaddr *)&addr, sizeof(addr)) == 0, "connect: %s", strerror(errno));
	size_t sent = 0, got = 0, cap = 1 << 16;
	char *replies = malloc(cap);
	bool fds_sent = nfds == 0, shut = false;
	for (;;) {
		if (sent == size && fds_sent && !shut) {
			shutdown(c, SHUT_WR); /* all sent: the server answers the last line and closes */
			shut = true;
		}
		struct pollfd p = {.fd = c, .events = (short)(POLLIN | (sent < size || !fds_sent ? POLLOUT : 0))};
		int pr;
		do /* libFuzzer's timeout alarm interrupts it */
			pr = poll(&p, 1, 10000);
		while (pr < 0 && errno == EINTR);
		FUZZ_ASSERT(
		    pr == 1,
		    "the server did not answer within 10 s (%zu of %zu bytes sent, descriptors %s, %s, %zu bytes "
		    "of replies, %d descriptors open)",
		    sent, size, fds_sent ? "sent" : "not sent", shut ? "shut down" : "not shut down", got, open_fds());
		if (p.revents & POLLOUT) {
			size_t n = size - sent > 4096 ? 4096 : size - sent;
			struct iovec iov = {.iov_base = (void *)(data + sent), .iov_len = n ? n : 1};
			union {
				struct cmsghdr align;
				char space[CMSG_SPACE(sizeof(int) * 12)];
			} control;
			struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
			int pipes[12][2];
			if (!fds_sent) {
				memset(&control, 0, sizeof(control));
				msg.msg_control = &control;
				msg.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
				struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
				cm->cmsg_level = SOL_SOCKET;
				cm->cmsg_type = SCM_RIGHTS;
				cm->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
				for (int i = 0; i < nfds; i++) {
					FUZZ_ASSERT(pipe2(pipes[i], O_CLOEXEC) == 0, "pipe");
					memcpy(CMSG_DATA(cm) + sizeof(int) * (size_t)i, &pipes[i][1], sizeof(int));
				}
				if (!n)
					iov.iov_base = "\n"; /* descriptors need a byte to travel with */
			}
			ssize_t w = sendmsg(c, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
			if (!fds_sent) {
				for (int i = 0; i < nfds; i++) {
					close(pipes[i][0]);
					close(pipes[i][1]);
				}
				fds_sent = w > 0;
			}
			if (w > 0 && n)
				sent += (size_t)w;
			else if (w < 0 && errno != EAGAIN)
				sent = size, fds_sent = true; /* the server dropped us */
		}
		if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
			if (got == cap)
				replies = realloc(replies, cap *= 2);
			ssize_t n = recv(c, replies + got, cap - got, MSG_DONTWAIT);
			if (n == 0 || (n < 0 && errno != EAGAIN))
				break;
			if (n > 0)
				got += (size_t)n;
		}
	}
	close(c);
	for (size_t start = 0; start < got;) {
		const char *nl = memchr(replies + start, '\n', got - start);
		FUZZ_ASSERT(nl, "a reply without its newline");
		check_reply(replies + start, (size_t)(nl - (replies + start)));
		start = (size_t)(nl - replies) + 1;
	}
	free(replies);
	check_no_leak();
}

/* `roam ctl SOCK raw -` with the stream as standard input. */
static void through_ctl(const uint8_t *data, size_t size)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return;
	long cap = fcntl(p[1], F_SETPIPE_SZ, 1 << 20);
	if (cap < 0 || (size_t)cap < size || (size && write(p[1], data, size) != (ssize_t)size)) {
		close(p[0]);
		close(p[1]);
		return;
	}
	close(p[1]);
	int saved = dup(STDIN_FILENO);
	dup2(p[0], STDIN_FILENO);
	close(p[0]);
	clearerr(stdin); /* ctl reads it with stdio: the last run's end of file must not stick */
	char *argv[] = {"ctl", sock_path, "raw", "-", "--timeout", "10", NULL};
	int status = ctl_main(6, argv, devnull, devnull);
	FUZZ_ASSERT(status == 0 || status == 1, "ctl exited %d", status);
	dup2(saved, STDIN_FILENO);
	close(saved);
	check_no_leak();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t mode = data[0];
	const uint8_t *stream = data + 1;
	size_t len = size - 1;
	uint8_t *big = NULL;
	if ((mode & 0x20) && len) {
		big = malloc(len + FUZZ_BIG_LINE);
		memcpy(big, stream, len);
		memset(big + len, big[len - 1], FUZZ_BIG_LINE);
		stream = big;
		len += FUZZ_BIG_LINE;
	}
	switch (mode & 3) {
	case 1:
		through_server(stream, len, (mode >> 2 & 7) == 7 ? 12 : mode >> 2 & 7); /* 12: more than roam takes */
		break;
	case 2:
		through_ctl(stream, len);
		break;
	default:
		protocol(stream, len);
		break;
	}
	free(big);
	return 0;
}

static void seed(const char *dir, const char *name, uint8_t mode, const char *text)
{
	size_t len = strlen(text);
	uint8_t *buf = malloc(len + 1);
	buf[0] = mode;
	memcpy(buf + 1, text, len);
	fuzz_seed(dir, name, buf, len + 1);
	free(buf);
}

/* Requests from docs/api.md, good and bad, for each path. */
static void write_seeds(const char *dir)
{
	static const char requests[] =
	    "{\"cmd\":\"status\"}\n{\"cmd\":\"pause\",\"vcpu\":1}\n{\"cmd\":\"resume\"}\r\n\n"
	    "{\"cmd\":\"snapshot\",\"path\":\"-\",\"stop\":false}\n{\"cmd\":\"snapshot\",\"path\":\"/tmp/s.roam\"}\n"
	    "not json\n[1]\n{}\n{\"cmd\":3}\n{\"cmd\":\"frob\"}\n{\"cmd\":\"status\",\"vcpu\":0}\n"
	    "{\"cmd\":\"pause\",\"vpcu\":0}\n{\"cmd\":\"pause\",\"vcpu\":\"x\"}\n{\"cmd\":\"pause\",\"vcpu\":-5}\n"
	    "{\"cmd\":\"status\",\"cmd\":\"status\"}\n{\"cmd\":\"quit\"}";
	seed(dir, "protocol", 0, requests);
	seed(dir, "server", 1, requests);
	seed(dir, "server-one-fd", 1 | 1 << 2, "{\"cmd\":\"snapshot\",\"path\":\"-\"}\n{\"cmd\":\"status\"}\n");
	seed(dir, "server-two-fds", 1 | 2 << 2, "{\"cmd\":\"snapshot\",\"path\":\"-\"}\n");
	seed(dir, "ctl", 2, requests);
	seed(dir, "too-large", 0x20, "{\"cmd\":\"status\"}\n ");
}

static char sock_dir[] = "/tmp/roam-fuzz-api-XXXXXX";

/* At exit: the server goes, and with it the socket and its directory. */
static void stop_server(void)
{
	api_server_close(server);
	rmdir(sock_dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_maybe_write_seeds(write_seeds);
	devnull = fopen("/dev/null", "w");
	if (!mkdtemp(sock_dir)) {
		fprintf(stderr, "fuzz_api: mkdtemp: %s\n", strerror(errno));
		exit(1);
	}
	snprintf(sock_path, sizeof(sock_path), "%s/api.sock", sock_dir);
	if (api_server_open(sock_path, &server) < 0 || api_server_start(server, fake_commands, NR_COMMANDS, &vm) < 0) {
		fprintf(stderr, "fuzz_api: cannot start the server on %s\n", sock_path);
		exit(1);
	}
	atexit(stop_server);
	idle_fds = open_fds();
	return 0;
}

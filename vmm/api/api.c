/*
 * The control API server: see api.h. Everything after api_server_open happens on the server's thread, so the client
 * table needs no lock; api_server_close stops the thread through an eventfd before it touches the table.
 *
 * Hostile or broken clients (docs/security.md): every descriptor a client passes is closed unless the request it
 * came with uses it; a process out of descriptors refuses new clients through a spare descriptor instead of leaving
 * them queued (which would make poll return at once, forever); a client that sends no request for the idle timeout
 * is dropped, and when the table is full the client idle longest makes room for the new one.
 */
#include "api.h"

#include "core/clock.h"
#include "core/log.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define API_READ_CHUNK 16384
#define API_FLUSH_AT_EXIT_MS 1000
#define API_FDS_PER_MESSAGE 8 /* room for this many passed descriptors: more set MSG_CTRUNC (the kernel drops them) */
#define API_NO_FD_BACKOFF_MS 1000 /* out of descriptors and no spare: stop accepting for this long */
#define API_NO_FD_LOG_MS 10000 /* at most one "out of descriptors" line per this many ms */

struct api_client {
	int fd;
	int passed_fd; /* a descriptor received with the current request, -1 if none */
	int bad_fds; /* descriptors of the current request that were refused (closed): its reply is an error */
	uint64_t active_ns; /* when it connected or last had a request answered (CLOCK_MONOTONIC) */
	bool eof; /* the client has finished sending: close once its replies are out */
	bool broken; /* a write failed or it reads no replies: close now */
	char *out; /* replies not yet sent */
	size_t out_len, out_cap;
	struct api_line_reader reader;
	bool subscribed; /* it asked for events ({"cmd": "events"}): every event line goes to it too */
};

struct api_server {
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int listen_fd;
	int stop_fd; /* eventfd: readable when the thread must stop */
	dev_t dev; /* the socket file we made, so close removes ours only */
	ino_t ino;
	const struct api_command *cmds;
	size_t nr_cmds;
	void *ctx;
	pthread_t thread;
	bool thread_started;
	int idle_ms; /* a client with no request for this long is dropped */
	int spare_fd; /* /dev/null, given up to accept (and refuse) a client when the process is out of descriptors */
	uint64_t no_fd_until_ns; /* out of descriptors without a spare: the listening socket is ignored until then */
	uint64_t no_fd_logged_ns; /* when the last "out of descriptors" line was logged (0: never) */
	struct api_client *clients[API_MAX_CLIENTS];
	/* Events from any thread (api_server_emit), handed to the server thread through event_fd. */
	int event_fd;
	pthread_mutex_t events_lock;
	char *events; /* newline-separated lines not yet queued to the subscribers */
	size_t events_len, events_cap;
	void (*on_close)(void *ctx);
};

/* Refuses a path in use or not a socket; removes a stale socket. */
static int api_check_existing(const char *path, const struct sockaddr_un *addr)
{
	struct stat st;
	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		return log_errno(-errno, "api socket %s: %s", path, strerror(errno));
	}
	if (!S_ISSOCK(st.st_mode))
		return log_errno(
		    -EEXIST, "api socket %s: it exists and is not a socket; remove it or choose another path", path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return log_errno(-errno, "api socket %s: socket: %s", path, strerror(errno));
	int ret = connect(fd, (const struct sockaddr *)addr, sizeof(*addr));
	int err = errno;
	close(fd);
	if (ret == 0 || err == EAGAIN || err == EINPROGRESS)
		return log_errno(-EADDRINUSE,
				 "api socket %s is in use: another process (another roam run --api?) answers on it",
				 path);
	if (err != ECONNREFUSED)
		return log_errno(-err, "api socket %s: cannot tell whether it is in use: %s", path, strerror(err));
	if (unlink(path) < 0 && errno != ENOENT)
		return log_errno(-errno, "api socket %s: cannot remove the stale socket: %s", path, strerror(errno));
	log_info("api socket %s: removed a stale socket nobody answered on", path);
	return 0;
}

static int api_listen(struct api_server *srv, const struct sockaddr_un *addr)
{
	const char *path = srv->path;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return log_errno(-errno, "api socket %s: socket: %s", path, strerror(errno));
	srv->listen_fd = fd;
	/* Linux gives the socket file the socket inode's mode (less the umask): 0600 from the start, no umask games. */
	if (fchmod(fd, 0600) < 0)
		return log_errno(-errno, "api socket %s: fchmod: %s", path, strerror(errno));
	if (bind(fd, (const struct sockaddr *)addr, sizeof(*addr)) < 0) {
		int err = errno;
		if (err == EADDRINUSE)
			return log_errno(-err, "api socket %s is in use: another process created it just now", path);
		return log_errno(-err, "api socket %s: cannot create it: %s", path, strerror(err));
	}
	struct stat st;
	if (chmod(path, 0600) < 0 || stat(path, &st) < 0) {
		int err = errno;
		unlink(path);
		return log_errno(-err, "api socket %s: %s", path, strerror(err));
	}
	srv->dev = st.st_dev;
	srv->ino = st.st_ino;
	if (listen(fd, API_MAX_CLIENTS) < 0) {
		int err = errno;
		unlink(path);
		return log_errno(-err, "api socket %s: listen: %s", path, strerror(err));
	}
	return 0;
}

int api_server_open(const char *path, struct api_server **out)
{
	*out = NULL;
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	size_t len = strlen(path);
	if (!len)
		return log_errno(-EINVAL, "api socket: the path is empty");
	if (len >= sizeof(addr.sun_path))
		return log_errno(-ENAMETOOLONG,
				 "api socket %s: the path is %zu bytes, a UNIX socket's can be %zu at most", path, len,
				 sizeof(addr.sun_path) - 1);
	memcpy(addr.sun_path, path, len + 1);
	int ret = api_check_existing(path, &addr);
	if (ret < 0)
		return ret;

	struct api_server *srv = calloc(1, sizeof(*srv));
	if (!srv)
		return log_errno(-ENOMEM, "api socket %s: out of memory", path);
	memcpy(srv->path, path, len + 1);
	srv->listen_fd = -1;
	srv->idle_ms = API_IDLE_TIMEOUT_MS;
	srv->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC); /* -1 is survivable: accept then backs off */
	srv->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	srv->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (srv->stop_fd < 0 || srv->event_fd < 0) {
		ret = log_errno(-errno, "api: eventfd: %s", strerror(errno));
		if (srv->spare_fd >= 0)
			close(srv->spare_fd);
		if (srv->stop_fd >= 0)
			close(srv->stop_fd);
		if (srv->event_fd >= 0)
			close(srv->event_fd);
		free(srv);
		return ret;
	}
	pthread_mutex_init(&srv->events_lock, NULL);
	ret = api_listen(srv, &addr);
	if (ret < 0) {
		if (srv->listen_fd >= 0)
			close(srv->listen_fd);
		if (srv->spare_fd >= 0)
			close(srv->spare_fd);
		close(srv->stop_fd);
		close(srv->event_fd);
		pthread_mutex_destroy(&srv->events_lock);
		free(srv);
		return ret;
	}
	*out = srv;
	return 0;
}

void api_server_set_idle_timeout(struct api_server *srv, int ms)
{
	srv->idle_ms = ms > 0 ? ms : API_IDLE_TIMEOUT_MS;
}

/* Queues `len` bytes and a newline for the client. */
static void api_client_queue(struct api_client *c, const char *text, size_t len)
{
	if (c->out_len + len + 1 > API_MAX_PENDING_REPLY) {
		log_info("api: dropping a client that reads none of its replies");
		c->broken = true;
		return;
	}
	if (c->out_len + len + 1 > c->out_cap) {
		size_t cap = (c->out_len + len + 1) * 2;
		char *out = realloc(c->out, cap);
		if (!out) {
			c->broken = true;
			return;
		}
		c->out = out;
		c->out_cap = cap;
	}
	memcpy(c->out + c->out_len, text, len);
	c->out[c->out_len + len] = '\n';
	c->out_len += len + 1;
}

/* Sends what the socket takes now. */
static void api_client_flush(struct api_client *c)
{
	size_t sent = 0;
	while (sent < c->out_len && !c->broken) {
		ssize_t n = send(c->fd, c->out + sent, c->out_len - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				c->broken = true;
			break;
		}
		sent += (size_t)n;
	}
	memmove(c->out, c->out + sent, c->out_len - sent);
	c->out_len -= sent;
}

/* Answers the line the reader holds (or the too-large report) and runs the handler's after-reply action. */
/* Closes the descriptor passed with the request just answered if its handler did not take it. */
static void api_client_drop_passed(struct api_client *c)
{
	if (c->passed_fd >= 0)
		close(c->passed_fd);
	c->passed_fd = -1;
	c->bad_fds = 0;
}

/* Answers the line the reader holds (or the too-large report) and runs the handler's after-reply action. */
static void api_client_answer(struct api_server *srv, struct api_client *c, enum api_line_status status)
{
	void (*after_reply)(void *ctx) = NULL;
	char *reply;
	if (status == API_LINE_TOO_LARGE) {
		reply = api_too_large_reply();
	} else if (c->reader.len == 0) {
		return; /* an empty line asks nothing */
	} else if (c->bad_fds) {
		char msg[160];
		snprintf(
		    msg, sizeof(msg),
		    "the request came with %d descriptors or more; a request carries at most one (all were closed)",
		    c->bad_fds);
		reply = api_error_reply(API_ERR_BAD_REQUEST, msg);
	} else if (api_line_is_subscribe(c->reader.buf, c->reader.len)) {
		/* The server's own command: from now on this client also gets every event line. */
		c->subscribed = true;
		reply = strdup("{\"ok\":true,\"events\":true}");
	} else {
		reply = api_handle_line(srv->cmds, srv->nr_cmds, srv->ctx, c->reader.buf, c->reader.len, &after_reply,
					&c->passed_fd);
	}
	api_client_drop_passed(c); /* a descriptor belongs to one request: the one it came with */
	c->active_ns = monotonic_ns();
	if (!reply) {
		c->broken = true; /* out of memory */
		return;
	}
	api_client_queue(c, reply, strlen(reply));
	free(reply);
	if (after_reply) {
		api_client_flush(c); /* the reply goes out first: "quit" answers before the VM goes away */
		after_reply(srv->ctx);
	}
}

/*
 * Takes the descriptors a message carried (SCM_RIGHTS). One is kept for the next request; with more than one, or
 * more than fit (MSG_CTRUNC: the kernel dropped the rest), every one is closed and that request is refused.
 */
static void api_client_take_fds(struct api_client *c, struct msghdr *msg)
{
	int fds[API_FDS_PER_MESSAGE];
	int n = 0;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(msg); cm; cm = CMSG_NXTHDR(msg, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS || cm->cmsg_len < CMSG_LEN(0))
			continue;
		size_t count = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < count; i++) {
			int fd;
			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
			if (n < API_FDS_PER_MESSAGE)
				fds[n++] = fd;
			else
				close(fd); /* cannot happen: the control buffer holds API_FDS_PER_MESSAGE at most */
		}
	}
	bool truncated = msg->msg_flags & MSG_CTRUNC;
	if (n == 0 && !truncated)
		return;
	api_client_drop_passed(c); /* a new request's descriptor replaces one no request used */
	if (n == 1 && !truncated) {
		c->passed_fd = fds[0];
		return;
	}
	for (int i = 0; i < n; i++)
		close(fds[i]);
	c->bad_fds = n > 1 ? n : 2;
	log_info("api: a client passed %d descriptor%s%s with a request; closed them (a request carries at most one)",
		 n, n == 1 ? "" : "s", truncated ? " and more" : "");
}

static void api_client_read(struct api_server *srv, struct api_client *c)
{
	char buf[API_READ_CHUNK];
	/* A request may carry a descriptor (roam ctl snapshot - passes its standard output). */
	union {
		struct cmsghdr align;
		char space[CMSG_SPACE(sizeof(int) * API_FDS_PER_MESSAGE)];
	} control;
	struct iovec iov = {.iov_base = buf, .iov_len = sizeof(buf)};
	struct msghdr msg = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &control, .msg_controllen = sizeof(control)};
	ssize_t n = recvmsg(c->fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n > 0)
		api_client_take_fds(c, &msg);
	if (n < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			c->broken = true;
		return;
	}
	if (n == 0) {
		c->eof = true;
		if (api_line_finish(&c->reader) == API_LINE_READY)
			api_client_answer(srv, c, API_LINE_READY);
		return;
	}
	size_t off = 0;
	while (off < (size_t)n && !c->broken) {
		size_t used;
		enum api_line_status status = api_line_feed(&c->reader, buf + off, (size_t)n - off, &used);
		off += used;
		if (status != API_LINE_NEED_MORE)
			api_client_answer(srv, c, status);
	}
}

static void api_client_close(struct api_server *srv, int i)
{
	struct api_client *c = srv->clients[i];
	if (c->passed_fd >= 0)
		close(c->passed_fd);
	close(c->fd);
	free(c->out);
	free(c);
	srv->clients[i] = NULL;
}

/* Sends one error line to a connection that is about to be closed (best effort: it is never waited for). */
static void api_send_goodbye(int fd, enum api_error_code code, const char *why)
{
	char *reply = api_error_reply(code, why);
	if (!reply)
		return;
	size_t len = strlen(reply);
	reply[len] = '\n'; /* replaces the NUL: send len + 1 bytes */
	ssize_t unused = send(fd, reply, len + 1, MSG_NOSIGNAL | MSG_DONTWAIT);
	(void)unused;
	free(reply);
}

/* Drops client i with a last error line (queued after its pending replies, sent if the socket takes it now). */
static void api_client_drop(struct api_server *srv, int i, const char *why)
{
	struct api_client *c = srv->clients[i];
	char *reply = api_error_reply(API_ERR_CLOSED, why);
	if (reply && !c->broken) {
		api_client_queue(c, reply, strlen(reply));
		api_client_flush(c);
	}
	free(reply);
	api_client_close(srv, i);
}

/*
 * The client to drop to make room: the one idle longest, preferring those with no partial request or pending
 * reply. Returns its index.
 */
static int api_longest_idle(const struct api_server *srv)
{
	int best = -1;
	bool best_quiet = false;
	for (int i = 0; i < API_MAX_CLIENTS; i++) {
		const struct api_client *c = srv->clients[i];
		if (!c)
			continue;
		bool quiet = !c->out_len && (!c->reader.len || c->reader.ready);
		if (best < 0 || (quiet && !best_quiet) ||
		    (quiet == best_quiet && c->active_ns < srv->clients[best]->active_ns)) {
			best = i;
			best_quiet = quiet;
		}
	}
	return best;
}

/* The process has no descriptor left: refuse the waiting client through the spare one, or stop accepting a while. */
static void api_accept_without_fds(struct api_server *srv, int err)
{
	uint64_t now = monotonic_ns();
	if (!srv->no_fd_logged_ns || now - srv->no_fd_logged_ns >= (uint64_t)API_NO_FD_LOG_MS * 1000000) {
		srv->no_fd_logged_ns = now;
		log_info("api socket %s: cannot accept a client: %s; refusing new clients until descriptors are free",
			 srv->path, strerror(err));
	}
	if (srv->spare_fd >= 0) {
		close(srv->spare_fd);
		srv->spare_fd = -1;
		int fd = accept4(srv->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0) {
			api_send_goodbye(fd, API_ERR_BUSY, "roam is out of file descriptors; try again later");
			close(fd);
		}
		srv->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (fd >= 0 && srv->spare_fd >= 0)
			return;
	}
	/* No spare (or it did not help): leave the client queued, and the listening socket alone for a while. */
	srv->no_fd_until_ns = now + (uint64_t)API_NO_FD_BACKOFF_MS * 1000000;
}

static void api_accept(struct api_server *srv)
{
	int fd = accept4(srv->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
			api_accept_without_fds(srv, errno);
		return; /* otherwise the client went away already */
	}
	int slot = -1;
	for (int i = 0; i < API_MAX_CLIENTS && slot < 0; i++)
		if (!srv->clients[i])
			slot = i;
	if (slot < 0) {
		/* Full: the client idle longest makes room, so that a new one (e.g. a status) always gets in. */
		slot = api_longest_idle(srv);
		char why[160];
		snprintf(why, sizeof(why),
			 "closing this connection: %d clients are connected (the most roam serves) and this one has "
			 "been idle the longest",
			 API_MAX_CLIENTS);
		api_client_drop(srv, slot, why);
	}
	struct api_client *c = calloc(1, sizeof(*c));
	if (!c) {
		api_send_goodbye(fd, API_ERR_INTERNAL, "roam is out of memory; try again later");
		close(fd);
		return;
	}
	c->fd = fd;
	c->passed_fd = -1;
	c->active_ns = monotonic_ns();
	api_line_reader_init(&c->reader);
	srv->clients[slot] = c;
}

/* Drops the clients idle for srv->idle_ms; returns the poll timeout until the next one would be (-1: none). */
static int api_drop_idle(struct api_server *srv)
{
	uint64_t now = monotonic_ns(), limit = (uint64_t)srv->idle_ms * 1000000, next = UINT64_MAX;
	for (int i = 0; i < API_MAX_CLIENTS; i++) {
		struct api_client *c = srv->clients[i];
		if (!c || c->subscribed)
			continue; /* a subscriber waits for events, however long a migration takes */
		struct pollfd p = {.fd = c->fd, .events = POLLIN};
		if (now - c->active_ns >= limit && !c->eof && poll(&p, 1, 0) == 1) {
			next = 0; /* a request came while the server was busy (a long snapshot): serve it first */
			continue;
		}
		if (now - c->active_ns >= limit) {
			char why[96];
			snprintf(why, sizeof(why), "closing this connection: no request for %d ms (the idle timeout)",
				 srv->idle_ms);
			api_client_drop(srv, i, why);
			continue;
		}
		if (c->active_ns + limit - now < next)
			next = c->active_ns + limit - now;
	}
	if (srv->no_fd_until_ns > now && srv->no_fd_until_ns - now < next)
		next = srv->no_fd_until_ns - now;
	return next == UINT64_MAX ? -1 : (int)(next / 1000000 + 1);
}

static void api_flush_all(struct api_server *srv, int ms)
{
	struct timespec start;
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		struct pollfd fds[API_MAX_CLIENTS];
		int idx[API_MAX_CLIENTS];
		nfds_t n = 0;
		for (int i = 0; i < API_MAX_CLIENTS; i++) {
			struct api_client *c = srv->clients[i];
			if (c && c->out_len && !c->broken) {
				idx[n] = i;
				fds[n++] = (struct pollfd){.fd = c->fd, .events = POLLOUT};
			}
		}
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		long left = ms - ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000);
		if (!n || left <= 0 || poll(fds, n, (int)left) <= 0)
			return;
		for (nfds_t k = 0; k < n; k++)
			if (fds[k].revents)
				api_client_flush(srv->clients[idx[k]]);
	}
}

/* Queues the events emitted since the last call to every subscribed client. */
static void api_deliver_events(struct api_server *srv)
{
	uint64_t count;
	ssize_t unused = read(srv->event_fd, &count, sizeof(count));
	(void)unused;
	pthread_mutex_lock(&srv->events_lock);
	char *events = srv->events;
	size_t len = srv->events_len;
	srv->events = NULL;
	srv->events_len = srv->events_cap = 0;
	pthread_mutex_unlock(&srv->events_lock);
	for (size_t off = 0; off < len;) {
		const char *nl = memchr(events + off, '\n', len - off);
		size_t line = nl ? (size_t)(nl - (events + off)) : len - off;
		for (int i = 0; i < API_MAX_CLIENTS; i++)
			if (srv->clients[i] && srv->clients[i]->subscribed && !srv->clients[i]->broken)
				api_client_queue(srv->clients[i], events + off, line);
		off += line + 1;
	}
	free(events);
}

int api_server_emit(struct api_server *srv, const char *line)
{
	size_t len = strlen(line);
	pthread_mutex_lock(&srv->events_lock);
	if (srv->events_len + len + 1 > srv->events_cap) {
		size_t cap = (srv->events_len + len + 1) * 2;
		char *p = cap <= API_MAX_PENDING_REPLY ? realloc(srv->events, cap) : NULL;
		if (!p) {
			pthread_mutex_unlock(&srv->events_lock);
			return -ENOMEM; /* nobody is taking them: drop */
		}
		srv->events = p;
		srv->events_cap = cap;
	}
	memcpy(srv->events + srv->events_len, line, len);
	srv->events[srv->events_len + len] = '\n';
	srv->events_len += len + 1;
	pthread_mutex_unlock(&srv->events_lock);
	uint64_t one = 1;
	ssize_t unused = write(srv->event_fd, &one, sizeof(one));
	(void)unused;
	return 0;
}

void api_server_on_close(struct api_server *srv, void (*fini)(void *ctx))
{
	srv->on_close = fini;
}

#define API_FIXED_FDS 3 /* stop_fd, listen_fd, event_fd */

static void *api_thread(void *arg)
{
	struct api_server *srv = arg;
	struct pollfd fds[API_FIXED_FDS + API_MAX_CLIENTS];
	int idx[API_MAX_CLIENTS];
	for (;;) {
		int timeout = api_drop_idle(srv);
		nfds_t n = 0;
		fds[n++] = (struct pollfd){.fd = srv->stop_fd, .events = POLLIN};
		/* Out of descriptors: a queued client keeps the socket readable, so it is not polled for a while. */
		bool accepting = monotonic_ns() >= srv->no_fd_until_ns;
		fds[n++] = (struct pollfd){.fd = srv->listen_fd, .events = accepting ? POLLIN : 0};
		fds[n++] = (struct pollfd){.fd = srv->event_fd, .events = POLLIN};
		for (int i = 0; i < API_MAX_CLIENTS; i++) {
			struct api_client *c = srv->clients[i];
			if (!c)
				continue;
			idx[n - API_FIXED_FDS] = i;
			fds[n++] = (struct pollfd){
			    .fd = c->fd, .events = (short)((c->eof ? 0 : POLLIN) | (c->out_len ? POLLOUT : 0))};
		}
		if (poll(fds, n, timeout) < 0) {
			if (errno == EINTR)
				continue;
			log_error("api: poll: %s; the control socket stops answering", strerror(errno));
			break;
		}
		if (fds[0].revents)
			break;
		if (fds[2].revents & POLLIN)
			api_deliver_events(srv);
		for (nfds_t k = API_FIXED_FDS; k < n; k++) {
			struct api_client *c = srv->clients[idx[k - API_FIXED_FDS]];
			short ev = fds[k].revents;
			if (ev & POLLOUT)
				api_client_flush(c);
			if ((ev & (POLLIN | POLLHUP | POLLERR)) && !c->eof)
				api_client_read(srv, c);
			else if (ev & (POLLHUP | POLLERR))
				c->broken = true;
			if (c->out_len)
				api_client_flush(c);
			if (c->broken || (c->eof && !c->out_len))
				api_client_close(srv, idx[k - API_FIXED_FDS]);
		}
		if (fds[1].revents & POLLIN)
			api_accept(srv);
	}
	api_deliver_events(srv); /* the last events (a migration's end) still go out */
	api_flush_all(srv, API_FLUSH_AT_EXIT_MS);
	return NULL;
}

int api_server_start(struct api_server *srv, const struct api_command *cmds, size_t nr, void *ctx)
{
	if (srv->thread_started) {
		/* Another table: the thread stops between two requests; the clients and what they sent stay. */
		uint64_t one = 1, drained;
		ssize_t unused = write(srv->stop_fd, &one, sizeof(one));
		pthread_join(srv->thread, NULL);
		srv->thread_started = false;
		unused = read(srv->stop_fd, &drained, sizeof(drained));
		(void)unused;
	}
	srv->cmds = cmds;
	srv->nr_cmds = nr;
	srv->ctx = ctx;
	int err = pthread_create(&srv->thread, NULL, api_thread, srv);
	if (err)
		return log_errno(-err, "api socket %s: cannot start the server thread: %s", srv->path, strerror(err));
	srv->thread_started = true;
	return 0;
}

void api_server_close(struct api_server *srv)
{
	if (!srv)
		return;
	if (srv->thread_started) {
		uint64_t one = 1;
		ssize_t unused = write(srv->stop_fd, &one, sizeof(one));
		(void)unused;
		pthread_join(srv->thread, NULL);
	}
	if (srv->on_close)
		srv->on_close(srv->ctx);
	for (int i = 0; i < API_MAX_CLIENTS; i++)
		if (srv->clients[i])
			api_client_close(srv, i);
	struct stat st;
	if (stat(srv->path, &st) == 0 && st.st_dev == srv->dev && st.st_ino == srv->ino)
		unlink(srv->path);
	close(srv->listen_fd);
	close(srv->stop_fd);
	if (srv->spare_fd >= 0)
		close(srv->spare_fd);
	close(srv->event_fd);
	pthread_mutex_destroy(&srv->events_lock);
	free(srv->events);
	free(srv);
}

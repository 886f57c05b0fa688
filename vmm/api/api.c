/*
 * The control API server: see api.h. Everything after api_server_open happens on the server's thread, so the client
 * table needs no lock; api_server_close stops the thread through an eventfd before it touches the table.
 */
#include "api.h"

#include "core/log.h"

#include <errno.h>
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

struct api_client {
	int fd;
	int passed_fd; /* a descriptor received with the current request, -1 if none */
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
	srv->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	srv->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (srv->stop_fd < 0 || srv->event_fd < 0) {
		ret = log_errno(-errno, "api: eventfd: %s", strerror(errno));
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
		close(srv->stop_fd);
		close(srv->event_fd);
		pthread_mutex_destroy(&srv->events_lock);
		free(srv);
		return ret;
	}
	*out = srv;
	return 0;
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
static void api_client_answer(struct api_server *srv, struct api_client *c, enum api_line_status status)
{
	void (*after_reply)(void *ctx) = NULL;
	char *reply;
	if (status == API_LINE_TOO_LARGE) {
		reply = api_too_large_reply();
	} else if (c->reader.len == 0) {
		return; /* an empty line asks nothing */
	} else if (api_line_is_subscribe(c->reader.buf, c->reader.len)) {
		/* The server's own command: from now on this client also gets every event line. */
		c->subscribed = true;
		reply = strdup("{\"ok\":true,\"events\":true}");
	} else {
		reply = api_handle_line(srv->cmds, srv->nr_cmds, srv->ctx, c->reader.buf, c->reader.len, &after_reply,
					&c->passed_fd);
	}
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

static void api_client_read(struct api_server *srv, struct api_client *c)
{
	char buf[API_READ_CHUNK];
	/* A request may carry a descriptor (roam ctl snapshot - passes its standard output). */
	union {
		struct cmsghdr align;
		char space[CMSG_SPACE(sizeof(int))];
	} control;
	struct iovec iov = {.iov_base = buf, .iov_len = sizeof(buf)};
	struct msghdr msg = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &control, .msg_controllen = sizeof(control)};
	ssize_t n = recvmsg(c->fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	for (struct cmsghdr *cm = n > 0 ? CMSG_FIRSTHDR(&msg) : NULL; cm; cm = CMSG_NXTHDR(&msg, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
		    cm->cmsg_len == CMSG_LEN(sizeof(int))) {
			if (c->passed_fd >= 0)
				close(c->passed_fd);
			memcpy(&c->passed_fd, CMSG_DATA(cm), sizeof(int));
		}
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

static void api_accept(struct api_server *srv)
{
	int fd = accept4(srv->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return; /* the client went away already, or no fd is left: it will see the connection close */
	int slot = -1;
	for (int i = 0; i < API_MAX_CLIENTS && slot < 0; i++)
		if (!srv->clients[i])
			slot = i;
	struct api_client *c = slot < 0 ? NULL : calloc(1, sizeof(*c));
	if (!c) {
		char msg[64];
		snprintf(msg, sizeof(msg), "too many clients (max %d); try again later", API_MAX_CLIENTS);
		char *reply = api_error_reply(API_ERR_BUSY, msg);
		if (reply) {
			size_t len = strlen(reply);
			reply[len] = '\n'; /* replaces the NUL: send len + 1 bytes */
			ssize_t unused = send(fd, reply, len + 1, MSG_NOSIGNAL | MSG_DONTWAIT);
			(void)unused;
			free(reply);
		}
		close(fd);
		return;
	}
	c->fd = fd;
	c->passed_fd = -1;
	api_line_reader_init(&c->reader);
	srv->clients[slot] = c;
}

/* Gives pending replies up to `ms` milliseconds to go out (at exit). */
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
		nfds_t n = 0;
		fds[n++] = (struct pollfd){.fd = srv->stop_fd, .events = POLLIN};
		fds[n++] = (struct pollfd){.fd = srv->listen_fd, .events = POLLIN};
		fds[n++] = (struct pollfd){.fd = srv->event_fd, .events = POLLIN};
		for (int i = 0; i < API_MAX_CLIENTS; i++) {
			struct api_client *c = srv->clients[i];
			if (!c)
				continue;
			idx[n - API_FIXED_FDS] = i;
			fds[n++] = (struct pollfd){
			    .fd = c->fd, .events = (short)((c->eof ? 0 : POLLIN) | (c->out_len ? POLLOUT : 0))};
		}
		if (poll(fds, n, -1) < 0) {
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
	close(srv->event_fd);
	pthread_mutex_destroy(&srv->events_lock);
	free(srv->events);
	free(srv);
}

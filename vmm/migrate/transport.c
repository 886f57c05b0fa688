/* Migration transports: see transport.h. */
#include "transport.h"

#include "core/errbuf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define MIGRATE_MAGIC "roam-migrate "

static bool copy_field(char *dst, size_t size, const char *src, size_t len)
{
	if (len >= size)
		return false;
	memcpy(dst, src, len);
	dst[len] = '\0';
	return true;
}

bool migrate_endpoint_parse(const char *spec, struct migrate_endpoint *ep, char *err, size_t err_len)
{
	memset(ep, 0, sizeof(*ep));
	if (!spec[0])
		return errbuf_set(err, err_len, "no destination given (FILE, -, unix:PATH, tcp:HOST:PORT or dev:PATH)");
	if (!copy_field(ep->spec, sizeof(ep->spec), spec, strlen(spec)))
		return errbuf_set(err, err_len, "'%.40s...' is longer than %d bytes", spec, MIGRATE_SPEC_MAX - 1);
	if (!strcmp(spec, "-")) {
		ep->kind = MIGRATE_STDIO;
		return true;
	}
	const char *rest;
	if (!strncmp(spec, "unix:", 5) || !strncmp(spec, "dev:", 4)) {
		ep->kind = spec[0] == 'u' ? MIGRATE_UNIX : MIGRATE_DEV;
		rest = strchr(spec, ':') + 1;
		if (!rest[0])
			return errbuf_set(err, err_len, "%s: needs a path after '%.*s'", spec, (int)(rest - spec),
					  spec);
		if (ep->kind == MIGRATE_UNIX && strlen(rest) >= sizeof(((struct sockaddr_un *)0)->sun_path))
			return errbuf_set(err, err_len, "%s: a UNIX socket path must be shorter than %zu bytes", spec,
					  sizeof(((struct sockaddr_un *)0)->sun_path));
		copy_field(ep->path, sizeof(ep->path), rest, strlen(rest));
		return true;
	}
	if (!strncmp(spec, "tcp:", 4)) {
		ep->kind = MIGRATE_TCP;
		rest = spec + 4;
		const char *colon = strrchr(rest, ':');
		if (!colon || !colon[1])
			return errbuf_set(err, err_len, "%s: expected tcp:HOST:PORT", spec);
		char *end;
		long port = strtol(colon + 1, &end, 10);
		if (*end || port < 1 || port > 65535)
			return errbuf_set(err, err_len, "%s: '%s' is not a port from 1 to 65535", spec, colon + 1);
		size_t hl = (size_t)(colon - rest);
		/* [v6]:port */
		if (hl >= 2 && rest[0] == '[' && rest[hl - 1] == ']') {
			rest++;
			hl -= 2;
		}
		copy_field(ep->host, sizeof(ep->host), rest, hl);
		if (!strcmp(ep->host, "*"))
			ep->host[0] = '\0';
		snprintf(ep->port, sizeof(ep->port), "%ld", port);
		return true;
	}
	if (strchr(spec, ':') && !strchr(spec, '/') && strncmp(spec, "file:", 5)) {
		/* "tpc:x:1" and the like: almost surely a typo, not a file name */
		return errbuf_set(err, err_len, "%s: unknown transport '%.*s' (use FILE, -, unix:, tcp: or dev:)", spec,
				  (int)(strchr(spec, ':') - spec), spec);
	}
	ep->kind = MIGRATE_FILE;
	copy_field(ep->path, sizeof(ep->path), strncmp(spec, "file:", 5) ? spec : spec + 5,
		   strlen(strncmp(spec, "file:", 5) ? spec : spec + 5));
	if (!ep->path[0])
		return errbuf_set(err, err_len, "file: needs a path");
	return true;
}

bool migrate_endpoint_two_way(const struct migrate_endpoint *ep)
{
	return ep->kind == MIGRATE_UNIX || ep->kind == MIGRATE_TCP || ep->kind == MIGRATE_DEV;
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int unix_address(const char *path, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	size_t len = strnlen(path, sizeof(sa->sun_path) - 1); /* checked when parsed */
	memcpy(sa->sun_path, path, len);
	return 0;
}

/*
 * A tcp endpoint's address: numeric IPv4 or IPv6, "localhost", or (listening) empty for every address. roam is a
 * static binary: it does no name lookup. Returns 0 or -EINVAL.
 */
static int tcp_address(const struct migrate_endpoint *ep, bool listening, struct sockaddr_storage *sa, socklen_t *len)
{
	uint16_t port = (uint16_t)atoi(ep->port);
	const char *host = ep->host[0] ? ep->host : listening ? "" : "127.0.0.1";
	if (!strcmp(host, "localhost"))
		host = "127.0.0.1";
	memset(sa, 0, sizeof(*sa));
	struct sockaddr_in *in4 = (struct sockaddr_in *)sa;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)sa;
	if (!host[0]) {
		in4->sin_family = AF_INET;
		in4->sin_addr.s_addr = htonl(INADDR_ANY);
		in4->sin_port = htons(port);
		*len = sizeof(*in4);
		return 0;
	}
	if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons(port);
		*len = sizeof(*in4);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		*len = sizeof(*in6);
		return 0;
	}
	return -EINVAL;
}

/* One connect attempt; the fd, or -errno (-ECONNREFUSED / -ENOENT while nothing listens yet). */
static int connect_once(const struct migrate_endpoint *ep, char *err, size_t err_len)
{
	if (ep->kind == MIGRATE_UNIX) {
		struct sockaddr_un sa;
		unix_address(ep->path, &sa);
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
			int e = -errno;
			close(fd);
			return e;
		}
		return fd;
	}
	struct sockaddr_storage sa;
	socklen_t len;
	if (tcp_address(ep, false, &sa, &len) < 0) {
		errbuf_set(err, err_len, "%s: '%s' is not a numeric IPv4 or IPv6 address (roam does no name lookup)",
			   ep->spec, ep->host);
		return -EINVAL;
	}
	int fd = socket(sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, len) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

int migrate_connect(const struct migrate_endpoint *ep, int timeout_ms, char *err, size_t err_len)
{
	if (ep->kind == MIGRATE_DEV) {
		int fd = open(ep->path, O_RDWR | O_CLOEXEC | O_NOCTTY);
		if (fd < 0) {
			int e = -errno;
			errbuf_set(err, err_len, "%s: cannot open it: %s", ep->spec, strerror(-e));
			return e;
		}
		return fd;
	}
	uint64_t deadline = now_ms() + (uint64_t)timeout_ms;
	for (;;) {
		err[0] = '\0';
		int fd = connect_once(ep, err, err_len);
		if (fd >= 0)
			return fd;
		bool waiting = fd == -ECONNREFUSED || fd == -ENOENT;
		if (!waiting || now_ms() >= deadline) {
			if (!err[0])
				errbuf_set(err, err_len, "%s: cannot connect: %s%s", ep->spec, strerror(-fd),
					   waiting ? " (no roam restore --incoming listens there)" : "");
			return fd;
		}
		usleep(100000);
	}
}

static int listen_socket(const struct migrate_endpoint *ep, char *err, size_t err_len)
{
	if (ep->kind == MIGRATE_UNIX) {
		struct sockaddr_un sa;
		unix_address(ep->path, &sa);
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 1) < 0) {
			int e = -errno;
			errbuf_set(err, err_len, "%s: cannot listen: %s%s", ep->spec, strerror(-e),
				   e == -EADDRINUSE ? " (remove the stale socket, or use another path)" : "");
			if (fd >= 0)
				close(fd);
			return e;
		}
		return fd;
	}
	struct sockaddr_storage sa;
	socklen_t len;
	if (tcp_address(ep, true, &sa, &len) < 0)
		return errbuf_set(err, err_len,
				  "%s: '%s' is not a numeric IPv4 or IPv6 address (roam does no name lookup)", ep->spec,
				  ep->host),
		       -EINVAL;
	int one = 1, fd = socket(sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, len) < 0 || listen(fd, 1) < 0) {
		int e = -errno;
		if (fd >= 0)
			close(fd);
		return errbuf_set(err, err_len, "%s: cannot listen: %s", ep->spec, strerror(-e)), e;
	}
	return fd;
}

int migrate_accept(const struct migrate_endpoint *ep, int timeout_ms, char *err, size_t err_len)
{
	if (ep->kind == MIGRATE_STDIO)
		return dup(STDIN_FILENO);
	if (ep->kind == MIGRATE_FILE || ep->kind == MIGRATE_DEV) {
		int fd = open(ep->path, (ep->kind == MIGRATE_DEV ? O_RDWR | O_NOCTTY : O_RDONLY) | O_CLOEXEC);
		if (fd < 0) {
			int e = -errno;
			errbuf_set(err, err_len, "%s: cannot open it: %s", ep->spec, strerror(-e));
			return e;
		}
		return fd;
	}
	int lfd = listen_socket(ep, err, err_len);
	if (lfd < 0)
		return lfd;
	struct pollfd p = {.fd = lfd, .events = POLLIN};
	int n;
	do
		n = poll(&p, 1, timeout_ms > 0 ? timeout_ms : -1);
	while (n < 0 && errno == EINTR);
	int fd = n > 0 ? accept4(lfd, NULL, NULL, SOCK_CLOEXEC) : -1;
	int e = fd < 0 ? (n == 0 ? -ETIMEDOUT : -errno) : 0;
	close(lfd);
	if (ep->kind == MIGRATE_UNIX)
		unlink(ep->path);
	if (fd < 0) {
		errbuf_set(err, err_len, "%s: %s", ep->spec,
			   e == -ETIMEDOUT ? "no migration arrived in time" : strerror(-e));
		return e;
	}
	if (ep->kind == MIGRATE_TCP) {
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	return fd;
}

int migrate_send(int fd, const char *fmt, ...)
{
	char line[512];
	int n = snprintf(line, sizeof(line), MIGRATE_MAGIC);
	va_list ap;
	va_start(ap, fmt);
	int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
	if (len > sizeof(line) - 2)
		len = sizeof(line) - 2;
	for (size_t i = (size_t)n; i < len; i++)
		if (line[i] == '\n')
			line[i] = ' ';
	line[len++] = '\n';
	for (size_t off = 0; off < len;) {
		ssize_t w = send(fd, line + off, len - off, MSG_NOSIGNAL);
		if (w < 0 && errno == ENOTSOCK)
			w = write(fd, line + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		off += (size_t)w;
	}
	return 0;
}

int migrate_recv(int fd, char *buf, size_t size, int timeout_ms)
{
	char line[512];
	size_t len = 0;
	uint64_t deadline = now_ms() + (uint64_t)timeout_ms;
	/* Byte by byte: nothing after the newline may be consumed (the stream, or the next message, follows). */
	for (;;) {
		uint64_t t = now_ms();
		if (t >= deadline)
			return -ETIMEDOUT;
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int n = poll(&p, 1, (int)(deadline - t));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ETIMEDOUT;
		char c;
		ssize_t r = read(fd, &c, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return 0;
		if (c == '\n')
			break;
		if (len < sizeof(line) - 1)
			line[len++] = c;
	}
	line[len] = '\0';
	const char *text = strncmp(line, MIGRATE_MAGIC, strlen(MIGRATE_MAGIC)) ? line : line + strlen(MIGRATE_MAGIC);
	snprintf(buf, size, "%s", text);
	return (int)strlen(buf) ? (int)strlen(buf) : 1;
}

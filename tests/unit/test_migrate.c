/*
 * Unit test of the migration pieces that need no VM: DEST/--incoming parsing with every bad form's message, the
 * answer lines over a socket pair (one message at a time, nothing after the newline consumed, end of stream,
 * time-outs), a unix-socket connection made while the destination starts listening late, and the convergence
 * decision.
 */
#include "check.h"
#include "migrate/migrate.h"
#include "migrate/transport.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void test_parse(void)
{
	struct migrate_endpoint ep;
	char err[320];
	CHECK(migrate_endpoint_parse("-", &ep, err, sizeof(err)) && ep.kind == MIGRATE_STDIO);
	CHECK(migrate_endpoint_parse("/tmp/x.snap", &ep, err, sizeof(err)) && ep.kind == MIGRATE_FILE &&
	      !strcmp(ep.path, "/tmp/x.snap"));
	CHECK(migrate_endpoint_parse("file:a:b", &ep, err, sizeof(err)) && ep.kind == MIGRATE_FILE &&
	      !strcmp(ep.path, "a:b"));
	CHECK(migrate_endpoint_parse("unix:/run/m.sock", &ep, err, sizeof(err)) && ep.kind == MIGRATE_UNIX &&
	      !strcmp(ep.path, "/run/m.sock"));
	CHECK(migrate_endpoint_parse("dev:/dev/vport2p1", &ep, err, sizeof(err)) && ep.kind == MIGRATE_DEV);
	CHECK(migrate_endpoint_parse("tcp:10.0.0.2:4444", &ep, err, sizeof(err)) && ep.kind == MIGRATE_TCP &&
	      !strcmp(ep.host, "10.0.0.2") && !strcmp(ep.port, "4444"));
	CHECK(migrate_endpoint_parse("tcp:[::1]:4444", &ep, err, sizeof(err)) && !strcmp(ep.host, "::1"));
	CHECK(migrate_endpoint_parse("tcp::4444", &ep, err, sizeof(err)) && !ep.host[0]);
	CHECK(migrate_endpoint_two_way(&ep));
	CHECK(migrate_endpoint_parse("-", &ep, err, sizeof(err)) && !migrate_endpoint_two_way(&ep));

	static const struct {
		const char *spec, *message;
	} bad[] = {
	    {"", "no destination given"},
	    {"unix:", "unix:: needs a path after 'unix:'"},
	    {"tcp:host", "tcp:host: expected tcp:HOST:PORT"},
	    {"tcp:1.2.3.4:0", "'0' is not a port from 1 to 65535"},
	    {"tcp:1.2.3.4:99999", "'99999' is not a port"},
	    {"tpc:1.2.3.4:5", "unknown transport 'tpc'"},
	    {"file:", "file: needs a path"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		CHECK(!migrate_endpoint_parse(bad[i].spec, &ep, err, sizeof(err)));
		CHECK_CONTAINS(err, bad[i].message);
	}
	char longpath[300];
	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[sizeof(longpath) - 1] = '\0';
	memcpy(longpath, "unix:/", 6);
	CHECK(!migrate_endpoint_parse(longpath, &ep, err, sizeof(err)));
}

static void test_messages(void)
{
	int sv[2];
	char line[64];
	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	CHECK_EQ(migrate_send(sv[0], "ready"), 0);
	CHECK_EQ(migrate_send(sv[0], "refused %d problems: %s", 2, "a\nb"), 0);
	CHECK(write(sv[0], "STREAM", 6) == 6); /* bytes after the messages stay unread */
	CHECK_EQ(migrate_recv(sv[1], line, sizeof(line), 1000), 5);
	CHECK(!strcmp(line, "ready"));
	CHECK(migrate_recv(sv[1], line, sizeof(line), 1000) > 0);
	CHECK(!strcmp(line, "refused 2 problems: a b")); /* one line, whatever the reason held */
	char rest[6];
	CHECK(read(sv[1], rest, 6) == 6 && !memcmp(rest, "STREAM", 6));
	CHECK_EQ(migrate_recv(sv[1], line, sizeof(line), 50), -ETIMEDOUT);
	close(sv[0]);
	CHECK_EQ(migrate_recv(sv[1], line, sizeof(line), 1000), 0); /* the other end went away */
	close(sv[1]);
}

struct late_listener {
	char path[64];
	int fd;
	char err[320];
};

static void *listen_late(void *arg)
{
	struct late_listener *l = arg;
	usleep(300000);
	struct migrate_endpoint ep;
	char spec[80];
	snprintf(spec, sizeof(spec), "unix:%s", l->path);
	migrate_endpoint_parse(spec, &ep, l->err, sizeof(l->err));
	l->fd = migrate_accept(&ep, 5000, l->err, sizeof(l->err));
	if (l->fd >= 0)
		migrate_send(l->fd, "ready");
	return NULL;
}

static void test_connect_before_listen(void)
{
	struct late_listener l = {.fd = -1};
	snprintf(l.path, sizeof(l.path), "/tmp/roam-test-migrate-%d.sock", getpid());
	unlink(l.path);
	pthread_t t;
	pthread_create(&t, NULL, listen_late, &l);
	struct migrate_endpoint ep;
	char spec[80], err[320], line[32];
	snprintf(spec, sizeof(spec), "unix:%s", l.path);
	CHECK(migrate_endpoint_parse(spec, &ep, err, sizeof(err)));
	int fd = migrate_connect(&ep, 5000, err, sizeof(err));
	CHECK(fd >= 0);
	CHECK(fd >= 0 && migrate_recv(fd, line, sizeof(line), 5000) > 0 && !strcmp(line, "ready"));
	pthread_join(t, NULL);
	CHECK(access(l.path, F_OK) != 0); /* the socket file is gone once accepted */
	if (fd >= 0)
		close(fd);
	if (l.fd >= 0)
		close(l.fd);
	/* Nothing listening: refused after the time limit, with a hint. */
	CHECK(migrate_connect(&ep, 200, err, sizeof(err)) < 0);
	CHECK_CONTAINS(err, "no roam restore --incoming listens there");
	/* A tcp name needs a numeric address. */
	CHECK(migrate_endpoint_parse("tcp:example.org:1", &ep, err, sizeof(err)));
	CHECK(migrate_connect(&ep, 100, err, sizeof(err)) < 0);
	CHECK_CONTAINS(err, "is not a numeric IPv4 or IPv6 address");
}

static void test_converged(void)
{
	struct migrate_options opt = {.max_downtime_ms = 300, .max_rounds = 30};
	struct migrate_round r = {.round = 2, .pages = 1500, .dirty_pages = 1000, .expected_downtime_ms = 400};
	CHECK(!migrate_converged(&opt, &r, 0));
	r.expected_downtime_ms = 299;
	CHECK(migrate_converged(&opt, &r, 0)); /* fits, and another round would not halve it */
	r.pages = 65536; /* the whole memory went in that round: the next one is far shorter */
	CHECK(!migrate_converged(&opt, &r, 0));
	r.pages = 2000; /* exactly half: one more round */
	CHECK(!migrate_converged(&opt, &r, 0));
	r.pages = 1999;
	CHECK(migrate_converged(&opt, &r, 0));
	r.dirty_pages = 0;
	r.expected_downtime_ms = 0;
	CHECK(migrate_converged(&opt, &r, 0)); /* nothing left */
	r.dirty_pages = 1000;
	r.pages = 1500;
	r.expected_downtime_ms = 5000;
	CHECK(migrate_converged(&opt, &r, 3)); /* the dirty set stopped shrinking */
	CHECK(!migrate_converged(&opt, &r, 2));
	r.round = 29;
	CHECK(migrate_converged(&opt, &r, 0)); /* the round limit */
}

int main(void)
{
	test_parse();
	test_messages();
	test_connect_before_listen();
	test_converged();
	return check_exit();
}

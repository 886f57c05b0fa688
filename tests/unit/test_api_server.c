/*
 * Unit test of the control API server (vmm/api.c) and of `roam ctl` (vmm/cmd_ctl.c) over a real UNIX socket, with
 * a fake command table instead of a VM: the socket's mode, refusal of a path in use or not a socket, removal of a
 * stale socket, several clients at once, errors that keep the connection open, the 64 KiB limit, the client limit
 * (the one idle longest makes room), passed descriptors that are closed however many come, a process out of
 * descriptors, the idle timeout, the quit action after the reply, and ctl's output, errors and exit statuses (also
 * with a reply that does not end in a newline); failures deep inside a command (a component's KVM ioctl, the
 * snapshot writer) reaching the client as roam logged them, with their codes, also for two VMs failing at once in
 * one process.
 */
#include "api/api.h"
#include "api_fake_vm.h"
#include "check.h"
#include "cli/commands.h"
#include "core/sys_ioctl.h"
#include "snapshot/snapshot.h"
#include "stderr_capture.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/*
 * A component's save as arm64's vCPU state does it, through the real ioctl wrapper, which logs its failure. No vCPU
 * here has a descriptor: KVM_GET_ONE_REG fails.
 */
static int fake_vcpu_save(struct fake_vm *vm, int id, uint64_t *value)
{
	char object[64];
	struct kvm_one_reg reg = {.id = 0x6030000000100000ull, .addr = (uint64_t)(uintptr_t)value};
	snprintf(object, sizeof(object), "%s vcpu%d register %#llx", vm->name, id, (unsigned long long)reg.id);
	long ret = SYS_IOCTL(-1, KVM_GET_ONE_REG, &reg, object);
	return ret < 0 ? (int)ret : 0;
}

/* Why KVM_GET_ONE_REG fails here: EBADF natively, ENOTTY under qemu-user (which does not know KVM's ioctls). */
static const char *fake_vcpu_save_reason(void)
{
	struct kvm_one_reg reg = {.id = 0x6030000000100000ull};
	return strerror((int)-__SYS_IOCTL(-1, KVM_GET_ONE_REG, &reg));
}

/* snapshot {"path"}: as vm_snapshot_save, the real snapshot writer, then each vCPU's registers as a section. */
static int fake_snapshot(struct api_call *call)
{
	struct fake_vm *vm = call->ctx;
	struct snapshot_writer w;
	memset(&w, 0, sizeof(w));
	int ret = snapshot_writer_open_path(&w, json_string_value(json_object_get(call->request, "path")), "test");
	for (int i = 0; !ret && i < vm->nr_vcpus; i++) {
		uint64_t value = 0;
		ret = fake_vcpu_save(vm, i, &value);
		if (!ret)
			ret = snapshot_write_section(&w, SNAPSHOT_SEC_VCPU, (uint32_t)i, 1, SNAPSHOT_FLAG_MANDATORY,
						     &value, sizeof(value));
	}
	if (!ret)
		ret = snapshot_writer_commit(&w);
	if (!ret)
		return 0;
	char err[sizeof(w.err)];
	snprintf(err, sizeof(err), "%s", w.err[0] ? w.err : strerror(-ret));
	snapshot_writer_abort(&w);
	return api_call_fail_logged(call, API_ERR_SNAPSHOT_FAILED, "%s", err);
}

/* A job's events as api_vm_jobs.c sends them, from the job's own thread: started, one round, then done or failed. */
struct fake_job {
	struct fake_vm *vm;
	int id;
	bool fail;
};

static void *fake_job_thread(void *arg)
{
	struct fake_job *job = arg;
	char line[256];
	const char *head = "{\"event\":\"job\",\"kind\":\"migrate\",\"job\":";
	snprintf(line, sizeof(line), "%s%d,\"state\":\"started\"}", head, job->id);
	api_server_emit(job->vm->srv, line);
	usleep(20000);
	snprintf(line, sizeof(line), "%s%d,\"state\":\"round\",\"round\":1,\"pages\":64}", head, job->id);
	api_server_emit(job->vm->srv, line);
	if (job->fail)
		snprintf(line, sizeof(line), "%s%d,\"state\":\"failed\",\"error\":\"the destination went away\"}", head,
			 job->id);
	else
		snprintf(line, sizeof(line),
			 "%s%d,\"state\":\"done\",\"rounds\":3,\"bytes\":3145728,\"pages\":768,\"total_ms\":40,"
			 "\"downtime_ms\":2.5}",
			 head, job->id);
	api_server_emit(job->vm->srv, line);
	free(job);
	return NULL;
}

/* migrate {"dest"}: answers {"job": N} and runs the job in a thread; the destination "/fail" fails. */
static int fake_migrate(struct api_call *call)
{
	struct fake_vm *vm = call->ctx;
	struct fake_job *job = malloc(sizeof(*job));
	const char *dest = json_string_value(json_object_get(call->request, "dest"));
	*job = (struct fake_job){vm, atomic_fetch_add(&vm->jobs, 1) + 1, dest && !strcmp(dest, "/fail")};
	pthread_t t;
	int id = job->id;
	CHECK_EQ(pthread_create(&t, NULL, fake_job_thread, job), 0);
	pthread_detach(t);
	json_object_set_new(call->reply, "job", json_integer(id));
	return 0;
}

static const char *const vcpu_arg[] = {"vcpu", NULL};
static const char *const snapshot_args[] = {"path", "stop", NULL};
static const char *const migrate_args[] = {"dest", "max_downtime_ms", "max_bandwidth", "max_rounds", NULL};
static const struct api_command fake_commands[] = {
    {"pause", vcpu_arg, fake_pause},
    {"resume", vcpu_arg, fake_pause},
    {"status", NULL, fake_status},
    {"quit", NULL, fake_quit},
    {"snapshot", snapshot_args, fake_snapshot},
    {"migrate", migrate_args, fake_migrate},
};

static char dir[] = "/tmp/roam-test-api-XXXXXX";
static char sock_path[128];

static int client_connect(const char *path)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	strcpy(addr.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void client_send(int fd, const char *data, size_t len)
{
	while (len) {
		ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
		if (n <= 0)
			return;
		data += n;
		len -= (size_t)n;
	}
}

/* Reads one reply line (without '\n') into buf within 10 s; returns its length, or -1 at EOF or timeout. */
static int client_line(int fd, char *buf, size_t size)
{
	size_t len = 0;
	while (len + 1 < size) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, 10000) <= 0 || recv(fd, buf + len, 1, 0) != 1)
			return -1;
		if (buf[len] == '\n')
			break;
		len++;
	}
	buf[len] = '\0';
	return (int)len;
}

/* Runs ctl_main with the arguments (NULL-terminated) and captures its output and messages. */
struct ctl_result {
	int status;
	char *out, *err;
	size_t out_len, err_len;
};

static struct ctl_result ctl(const char *first, ...)
{
	char *argv[16] = {"ctl", (char *)first};
	int argc = first ? 2 : 1;
	va_list ap;
	va_start(ap, first);
	for (char *a; first && (a = va_arg(ap, char *)) != NULL && argc < 15;)
		argv[argc++] = a;
	va_end(ap);
	struct ctl_result r;
	FILE *out = open_memstream(&r.out, &r.out_len), *err = open_memstream(&r.err, &r.err_len);
	r.status = ctl_main(argc, argv, out, err);
	fclose(out);
	fclose(err);
	return r;
}

static void ctl_free(struct ctl_result *r)
{
	free(r->out);
	free(r->err);
}

static void test_socket_file_rules(void)
{
	struct api_server *srv;
	char path[256];

	/* A regular file is never removed. */
	snprintf(path, sizeof(path), "%s/file", dir);
	FILE *f = fopen(path, "w");
	fclose(f);
	CHECK_EQ(api_server_open(path, &srv), (uint64_t)-EEXIST);
	CHECK(access(path, F_OK) == 0);
	unlink(path);

	/* A stale socket (bound, then its process went away) is removed and replaced. */
	snprintf(path, sizeof(path), "%s/stale.sock", dir);
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	strcpy(addr.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK(bind(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0);
	close(fd);
	CHECK_EQ(api_server_open(path, &srv), 0);
	api_server_close(srv);
	CHECK(access(path, F_OK) < 0 && errno == ENOENT);

	/* Too long for sun_path. */
	char long_path[200];
	memset(long_path, 'a', sizeof(long_path) - 1);
	long_path[0] = '/';
	long_path[sizeof(long_path) - 1] = '\0';
	CHECK_EQ(api_server_open(long_path, &srv), (uint64_t)-ENAMETOOLONG);
	CHECK_EQ(api_server_open("", &srv), (uint64_t)-EINVAL);
}

static void test_clients(void)
{
	char line[256];
	int idle = client_connect(sock_path), busy = client_connect(sock_path);
	CHECK(idle >= 0 && busy >= 0);

	/* Bad requests get an error each, and the connection goes on. */
	const char *batch = "not json\n\n[1]\n{\"cmd\":\"frob\"}\r\n{\"cmd\":\"pause\",\"vcpu\":1}\n";
	client_send(busy, batch, strlen(batch));
	CHECK(client_line(busy, line, sizeof(line)) > 0);
	CHECK_CONTAINS(line, "{\"ok\":false,\"error\":\"malformed JSON: ");
	CHECK(client_line(busy, line, sizeof(line)) > 0); /* the empty line got no reply */
	CHECK_CONTAINS(line, "a request must be a JSON object");
	CHECK(client_line(busy, line, sizeof(line)) > 0);
	CHECK_CONTAINS(line, "unknown command \\\"frob\\\" (commands: pause, resume, status, quit, snapshot, migrate)");
	CHECK_CONTAINS(line, "\"code\":\"unknown-command\"}");
	CHECK(client_line(busy, line, sizeof(line)) > 0);
	CHECK(!strcmp(line, "{\"ok\":true}"));

	/* 70000 bytes: one size error, and the next request on the same connection works. */
	size_t big = 70000;
	char *data = malloc(big + 32);
	memset(data, ' ', big);
	strcpy(data + big, "\n{\"cmd\":\"resume\"}\n");
	client_send(busy, data, strlen(data));
	free(data);
	CHECK(client_line(busy, line, sizeof(line)) > 0);
	CHECK(!strcmp(line, "{\"ok\":false,\"error\":\"request too large (max 65536 bytes)\",\"code\":\"too-large\"}"));
	CHECK(client_line(busy, line, sizeof(line)) > 0);
	CHECK(!strcmp(line, "{\"ok\":true}"));

	/* The idle client was not held up, and is still served. */
	client_send(idle, "{\"cmd\":\"resume\",\"vcpu\":0}\n", 26);
	CHECK(client_line(idle, line, sizeof(line)) > 0);
	CHECK(!strcmp(line, "{\"ok\":true}"));

	/* A last request without a newline, then end of input: answered, then closed. */
	client_send(idle, "{\"cmd\":\"pause\"}", 15);
	shutdown(idle, SHUT_WR);
	CHECK(client_line(idle, line, sizeof(line)) > 0);
	CHECK(!strcmp(line, "{\"ok\":true}"));
	CHECK(client_line(idle, line, sizeof(line)) < 0);
	close(idle);
	close(busy);

	/* At most API_MAX_CLIENTS at once: the next one takes the place of the one idle longest, and is served. */
	int fds[API_MAX_CLIENTS];
	for (int i = 0; i < API_MAX_CLIENTS; i++) {
		fds[i] = client_connect(sock_path);
		client_send(fds[i], "{\"cmd\":\"resume\"}\n", 17);
		CHECK(client_line(fds[i], line, sizeof(line)) > 0); /* accepted and served */
	}
	int extra = client_connect(sock_path);
	client_send(extra, "{\"cmd\":\"resume\"}\n", 17);
	CHECK(client_line(extra, line, sizeof(line)) > 0);
	CHECK(!strcmp(line, "{\"ok\":true}"));
	CHECK(client_line(fds[0], line, sizeof(line)) > 0);
	CHECK_CONTAINS(line, "16 clients are connected (the most roam serves) and this one has been idle the longest");
	CHECK_CONTAINS(line, "\"code\":\"closed\"}");
	CHECK(client_line(fds[0], line, sizeof(line)) < 0); /* then closed */
	close(extra);
	for (int i = 0; i < API_MAX_CLIENTS; i++)
		close(fds[i]);
}

/* Waits up to 2 s for the open descriptors to come back to `want`; returns the last count. */
static int wait_fds(int want)
{
	int n = open_fds();
	for (int i = 0; i < 200 && n != want; i++) {
		usleep(10000);
		n = open_fds();
	}
	return n;
}

/* Sends `text` with `nfds` fresh descriptors (ends of pipes) attached in one message. */
static void send_with_fds(int fd, const char *text, int nfds)
{
	int pipes[32][2], passed[64];
	for (int i = 0; i < nfds; i++) {
		CHECK(pipe2(pipes[i], O_CLOEXEC) == 0);
		passed[i] = pipes[i][0];
	}
	union {
		struct cmsghdr align;
		char space[CMSG_SPACE(sizeof(int) * 64)];
	} control;
	memset(&control, 0, sizeof(control));
	struct iovec iov = {.iov_base = (void *)text, .iov_len = strlen(text)};
	struct msghdr msg = {.msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = &control,
			     .msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds)};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
	memcpy(CMSG_DATA(cm), passed, sizeof(int) * (size_t)nfds);
	CHECK_EQ(sendmsg(fd, &msg, MSG_NOSIGNAL), strlen(text));
	for (int i = 0; i < nfds; i++) {
		close(pipes[i][0]);
		close(pipes[i][1]);
	}
}

/* Descriptors passed with requests: every one the handler does not keep is closed, however many came. */
static void test_passed_fds(void)
{
	char line[512];
	int c = client_connect(sock_path);
	CHECK(c >= 0);
	client_send(c, "{\"cmd\":\"resume\"}\n", 17);
	CHECK(client_line(c, line, sizeof(line)) > 0);
	int base = open_fds();

	/* One descriptor with a request that does not use it: closed once the request is answered. */
	send_with_fds(c, "{\"cmd\":\"resume\"}\n", 1);
	CHECK(client_line(c, line, sizeof(line)) > 0);
	CHECK(!strcmp(line, "{\"ok\":true}"));
	CHECK_EQ(wait_fds(base), base);

	/* Two, and twenty (more than the server takes: MSG_CTRUNC): all closed, and the request refused. */
	static const int counts[] = {2, 20};
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		send_with_fds(c, "{\"cmd\":\"resume\"}\n", counts[i]);
		CHECK(client_line(c, line, sizeof(line)) > 0);
		CHECK_CONTAINS(line, "a request carries at most one (all were closed)");
#ifdef TEST_UNDER_QEMU_USER
		/* qemu-user receives every descriptor itself and hands over as many as fit: the rest stay open in it.
		 */
		if (counts[i] > 8)
			continue;
#endif
		CHECK_EQ(wait_fds(base), base);
		/* The next request on the connection is served as usual. */
		client_send(c, "{\"cmd\":\"resume\"}\n", 17);
		CHECK(client_line(c, line, sizeof(line)) > 0);
		CHECK(!strcmp(line, "{\"ok\":true}"));
	}
	close(c);
#ifndef TEST_UNDER_QEMU_USER
	CHECK_EQ(wait_fds(base - 2), base - 2); /* both ends: the server has closed its side too */
#else
	usleep(200000);
#endif
}

/* CPU time this process used, in ms. */
static long cpu_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Out of descriptors: a client that cannot be accepted is told so and closed, and the server does not spin on the
 * connection it cannot accept; once descriptors are free it serves again.
 */
static void test_out_of_fds(void)
{
	char line[512];
	struct rlimit old;
	CHECK(getrlimit(RLIMIT_NOFILE, &old) == 0);
	int victim = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct rlimit low = {.rlim_cur = (rlim_t)open_fds() + 16, .rlim_max = old.rlim_max};
	CHECK(setrlimit(RLIMIT_NOFILE, &low) == 0);
	int fillers[64], nfill = 0;
	while (nfill < 64 && (fillers[nfill] = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0)
		nfill++;
	CHECK(nfill < 64); /* the limit was reached */
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	strcpy(addr.sun_path, sock_path);
	CHECK(connect(victim, (struct sockaddr *)&addr, sizeof(addr)) == 0);
	CHECK(client_line(victim, line, sizeof(line)) > 0);
	CHECK_CONTAINS(line, "roam is out of file descriptors; try again later");
	long t0 = cpu_ms();
	usleep(500000);
	CHECK(cpu_ms() - t0 < 150); /* the server thread sleeps in poll */
	close(victim);
	for (int i = 0; i < nfill; i++)
		close(fillers[i]);
	CHECK(setrlimit(RLIMIT_NOFILE, &old) == 0);
	int c = client_connect(sock_path);
	client_send(c, "{\"cmd\":\"resume\"}\n", 17);
	CHECK(client_line(c, line, sizeof(line)) > 0);
	CHECK(!strcmp(line, "{\"ok\":true}"));
	close(c);
}

/*
 * Idle clients: API_MAX_CLIENTS connections that send nothing lock nobody out (a new client takes the place of the
 * one idle longest), and each is closed with an error line after the idle timeout.
 */
static void test_idle(struct fake_vm *vm)
{
	char path[256], line[512];
	struct api_server *srv;
	snprintf(path, sizeof(path), "%s/idle.sock", dir);
	CHECK_EQ(api_server_open(path, &srv), 0);
	api_server_set_idle_timeout(srv, 400);
	CHECK_EQ(api_server_start(srv, fake_commands, sizeof(fake_commands) / sizeof(fake_commands[0]), vm), 0);
	int idle[API_MAX_CLIENTS];
	for (int i = 0; i < API_MAX_CLIENTS; i++)
		idle[i] = client_connect(path);
	struct ctl_result r = ctl(path, "status", NULL);
	CHECK_EQ(r.status, 0);
	CHECK_CONTAINS(r.out, "VM mixed, 2 vCPUs\n");
	ctl_free(&r);
	CHECK(client_line(idle[0], line, sizeof(line)) > 0);
	CHECK_CONTAINS(line, "has been idle the longest");
	for (int i = 1; i < API_MAX_CLIENTS; i++) {
		CHECK(client_line(idle[i], line, sizeof(line)) > 0);
		CHECK_CONTAINS(
		    line, "closing this connection: no request for 400 ms (the idle timeout)\",\"code\":\"closed\"}");
		CHECK(client_line(idle[i], line, sizeof(line)) < 0);
	}
	/* A client that keeps asking is not idle. */
	int busy = client_connect(path);
	for (int i = 0; i < 6; i++) {
		usleep(150000);
		client_send(busy, "{\"cmd\":\"resume\"}\n", 17);
		CHECK(client_line(busy, line, sizeof(line)) > 0);
		CHECK(!strcmp(line, "{\"ok\":true}"));
	}
	close(busy);
	/* A subscriber waits for events however long: past the idle timeout it still gets the next one. */
	int sub = client_connect(path);
	client_send(sub, "{\"cmd\":\"events\"}\n", 17);
	CHECK(client_line(sub, line, sizeof(line)) > 0);
	CHECK_CONTAINS(line, "\"events\":true");
	usleep(1000000);
	api_server_emit(srv, "{\"event\":\"late\"}");
	CHECK(client_line(sub, line, sizeof(line)) > 0);
	CHECK(!strcmp(line, "{\"event\":\"late\"}"));
	close(sub);
	for (int i = 0; i < API_MAX_CLIENTS; i++)
		close(idle[i]);
	api_server_close(srv);
}

static void test_ctl(struct fake_vm *vm)
{
	struct ctl_result r = ctl(sock_path, "status", NULL);
	CHECK_EQ(r.status, 0);
	CHECK_CONTAINS(r.out, "VM mixed, 2 vCPUs\n");
	CHECK_CONTAINS(r.out, "    0  running            12           10            0\n");
	CHECK_CONTAINS(r.out, "    1  paused              5            0            3\n");
	CHECK_CONTAINS(r.out, "extra: {\"tracking\":true}\n");
	CHECK_EQ(r.err_len, 0);
	ctl_free(&r);

	r = ctl(sock_path, "status", "--json", NULL);
	CHECK_EQ(r.status, 0);
	CHECK_CONTAINS(r.out, "{\"ok\":true,\"state\":\"mixed\",\"vcpus\":[{\"id\":0,\"state\":\"running\"");
	ctl_free(&r);

	r = ctl("--json", sock_path, "pause", "1", NULL);
	CHECK_EQ(r.status, 0);
	CHECK(!strcmp(r.out, "{\"ok\":true}\n"));
	CHECK_EQ(atomic_load(&vm->last_vcpu), 1);
	ctl_free(&r);

	r = ctl(sock_path, "resume", NULL);
	CHECK_EQ(r.status, 0);
	CHECK(!strcmp(r.out, "VM resumed (every vCPU)\n"));
	CHECK_EQ(atomic_load(&vm->last_vcpu), (uint64_t)-1);
	ctl_free(&r);

	r = ctl(sock_path, "pause", "0", NULL);
	CHECK(!strcmp(r.out, "vCPU 0 paused\n"));
	ctl_free(&r);

	r = ctl(sock_path, "pause", "5", NULL);
	CHECK_EQ(r.status, 1);
	CHECK(!strcmp(r.err, "roam: ctl: pause: no vCPU 5: this VM has vCPUs 0 to 1\n"));
	ctl_free(&r);

	r = ctl(sock_path, "raw", "not json", NULL);
	CHECK_EQ(r.status, 1);
	CHECK_CONTAINS(r.out, "{\"ok\":false,\"error\":\"malformed JSON: ");
	CHECK_CONTAINS(r.err, "roam: ctl: malformed JSON: ");
	ctl_free(&r);

	r = ctl(sock_path, "raw", "{\"cmd\":\"status\"}\n\n{\"cmd\":\"resume\"}", NULL);
	CHECK_EQ(r.status, 0);
	CHECK_CONTAINS(r.out, "\n{\"ok\":true}\n"); /* two replies, one per non-empty line */
	ctl_free(&r);

	/* Usage errors: status 2, one line. */
	static const char *const usage_cases[][4] = {
	    {NULL},
	    {"/x"},
	    {"/x", "frob"},
	    {"/x", "pause", "one"},
	    {"/x", "pause", "-1"},
	    {"/x", "status", "1"},
	    {"/x", "raw"},
	    {"/x", "pause", "1", "2"},
	    {"/x", "status", "--timeout", "0"},
	    {"/x", "status", "--bogus"},
	};
	static const char *const usage_msgs[] = {
	    "no SOCKET and COMMAND given",	"no COMMAND given",
	    "unknown command 'frob'",		"pause: 'one' is not a vCPU number",
	    "pause: '-1' is not a vCPU number", "unexpected argument '1'",
	    "raw needs the JSON to send",	"unexpected argument '2'",
	    "--timeout: '0' is not a number",	"unknown option '--bogus'",
	};
	for (size_t i = 0; i < sizeof(usage_msgs) / sizeof(usage_msgs[0]); i++) {
		r = ctl(usage_cases[i][0], usage_cases[i][1], usage_cases[i][2], usage_cases[i][3], NULL);
		CHECK_EQ(r.status, 2);
		CHECK_CONTAINS(r.err, usage_msgs[i]);
		CHECK_CONTAINS(r.err, "roam: ctl: ");
		ctl_free(&r);
	}
	r = ctl("--help", NULL);
	CHECK_EQ(r.status, 0);
	CHECK_CONTAINS(r.out, "usage: roam ctl SOCKET COMMAND");
	ctl_free(&r);

	/* No server there. */
	char missing[256];
	snprintf(missing, sizeof(missing), "%s/none.sock", dir);
	r = ctl(missing, "status", NULL);
	CHECK_EQ(r.status, 1);
	CHECK_CONTAINS(r.err, "cannot connect to ");
	CHECK_CONTAINS(r.err, "none.sock: No such file or directory (is roam run --api running with this socket?)");
	ctl_free(&r);

	/* A path that is no socket: a regular file, a directory. */
	char plain[256];
	snprintf(plain, sizeof(plain), "%s/text.txt", dir);
	FILE *pf = fopen(plain, "w");
	CHECK(pf != NULL);
	if (pf)
		fclose(pf);
	r = ctl(plain, "status", NULL);
	CHECK_EQ(r.status, 1);
	CHECK_CONTAINS(r.err, "text.txt is not a socket but a regular file; give the path of roam run --api SOCK\n");
	ctl_free(&r);
	r = ctl(dir, "status", NULL);
	CHECK_EQ(r.status, 1);
	CHECK_CONTAINS(r.err, " is not a socket but a directory;");
	ctl_free(&r);
	unlink(plain);

	/* quit: answered, then the action runs. */
	r = ctl(sock_path, "quit", NULL);
	CHECK_EQ(r.status, 0);
	CHECK(!strcmp(r.out, "the VM is stopping\n"));
	for (int i = 0; i < 1000 && !atomic_load(&vm->stops); i++)
		usleep(1000);
	CHECK_EQ(atomic_load(&vm->stops), 1);
	ctl_free(&r);
}

/* A fake server: answers the first line it reads on one connection with `answer`, then closes. */
struct fake_server {
	int listen_fd;
	const char *answer;
};

static void *fake_server_thread(void *arg)
{
	struct fake_server *f = arg;
	int fd = accept(f->listen_fd, NULL, NULL);
	char c;
	while (fd >= 0 && recv(fd, &c, 1, 0) == 1 && c != '\n')
		;
	if (fd >= 0) {
		client_send(fd, f->answer, strlen(f->answer));
		close(fd);
	}
	return NULL;
}

/* roam ctl against a server that answers more than it owes, ending without a newline: reported, no crash. */
static void test_ctl_unterminated_reply(void)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/fake.sock", dir);
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	strcpy(addr.sun_path, path);
	struct fake_server f = {.listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0),
				.answer = "{\"ok\":true}\n{\"ok\""};
	CHECK(bind(f.listen_fd, (struct sockaddr *)&addr, sizeof(addr)) == 0 && listen(f.listen_fd, 1) == 0);
	pthread_t t;
	CHECK(pthread_create(&t, NULL, fake_server_thread, &f) == 0);
	struct ctl_result r = ctl(path, "raw", "{\"cmd\":\"status\"}", NULL);
	pthread_join(t, NULL);
	CHECK_EQ(r.status, 1);
	CHECK_CONTAINS(r.out, "{\"ok\":true}\n{\"ok\"\n");
	CHECK_CONTAINS(r.err, "fake.sock answered something that is not an API reply: {\"ok\"\n");
	ctl_free(&r);
	close(f.listen_fd);
	unlink(path);
}

/* Runs ctl_main with fd 2 going to a file, as roam's stderr; returns what was written there (malloc'ed). */
static char *ctl_with_stderr(struct ctl_result *r, const char *cmd, const char *arg, const char *opt)
{
	struct stderr_capture cap;
	stderr_capture_begin(&cap);
	*r = ctl(sock_path, cmd, arg, opt, NULL);
	return stderr_capture_end(&cap);
}

/*
 * A snapshot that fails deep inside reaches the client with the line roam logged for it and a stable code: a
 * component's KVM_GET_ONE_REG, through the real ioctl wrapper; the real writer, which logs nothing itself.
 */
static void test_deep_failures(void)
{
	char file[256];
	snprintf(file, sizeof(file), "%s/vm.snap", dir);
	struct ctl_result r;
	char *logged = ctl_with_stderr(&r, "snapshot", file, NULL);
	CHECK_EQ(r.status, 1);
	char line[256], want[512];
	snprintf(line, sizeof(line), "KVM_GET_ONE_REG(vm-a vcpu0 register 0x6030000000100000): %s",
		 fake_vcpu_save_reason());
	snprintf(want, sizeof(want), "roam: %s\n", line);
	CHECK(!strcmp(logged, want)); /* roam's stderr: the wrapper's line, once */
	snprintf(want, sizeof(want), "roam: ctl: snapshot: %s\n", line);
	CHECK(!strcmp(r.err, want)); /* the client: the same line */
	CHECK(access(file, F_OK) < 0); /* and no snapshot */
	free(logged);
	ctl_free(&r);

	logged = ctl_with_stderr(&r, "snapshot", file, "--json");
	CHECK_EQ(r.status, 1);
	snprintf(want, sizeof(want), "{\"ok\":false,\"error\":\"snapshot: %s\",\"code\":\"snapshot-failed\"}\n", line);
	CHECK(!strcmp(r.out, want));
	free(logged);
	ctl_free(&r);

	/* The writer keeps its reason to itself: the API logs it, so both sides still say the same. */
	snprintf(file, sizeof(file), "%s/no-such-dir/vm.snap", dir);
	logged = ctl_with_stderr(&r, "snapshot", file, NULL);
	CHECK_EQ(r.status, 1);
	CHECK_CONTAINS(r.err, "roam: ctl: snapshot: ");
	CHECK_CONTAINS(r.err,
		       "no-such-dir/vm.snap: cannot create a temporary file next to it: No such file or directory\n");
	CHECK(!strcmp(logged + strlen("roam: "), r.err + strlen("roam: ctl: ")));
	free(logged);
	ctl_free(&r);
}

struct snapshot_client {
	const char *sock;
	const char *name;
	int requests;
	atomic_int wrong; /* replies that are not this VM's own failure */
};

static void *snapshot_client_thread(void *arg)
{
	struct snapshot_client *c = arg;
	char req[512], want[256], line[1024];
	snprintf(req, sizeof(req), "{\"cmd\":\"snapshot\",\"path\":\"%s/%s.snap\"}\n", dir, c->name);
	snprintf(want, sizeof(want),
		 "\"error\":\"snapshot: KVM_GET_ONE_REG(%s vcpu0 register 0x6030000000100000): %s\","
		 "\"code\":\"snapshot-failed\"}",
		 c->name, fake_vcpu_save_reason());
	int fd = client_connect(c->sock);
	for (int i = 0; i < c->requests; i++) {
		client_send(fd, req, strlen(req));
		if (client_line(fd, line, sizeof(line)) < 0 || !strstr(line, want))
			atomic_fetch_add(&c->wrong, 1);
	}
	close(fd);
	return NULL;
}

/*
 * Two VMs in one process, each with its own server thread, failing at the same time: every reply carries its
 * own VM's line (the capture is per thread), never the other's.
 */
static void test_two_vms_fail_at_once(void)
{
	char path_b[256];
	snprintf(path_b, sizeof(path_b), "%s/b.sock", dir);
	struct fake_vm vm_b = {.name = "vm-b", .nr_vcpus = 1};
	struct api_server *srv_b;
	CHECK_EQ(api_server_open(path_b, &srv_b), 0);
	CHECK_EQ(api_server_start(srv_b, fake_commands, sizeof(fake_commands) / sizeof(fake_commands[0]), &vm_b), 0);
	struct snapshot_client clients[2] = {{.sock = sock_path, .name = "vm-a", .requests = 40},
					     {.sock = path_b, .name = "vm-b", .requests = 40}};
	struct stderr_capture cap;
	stderr_capture_begin(&cap); /* 80 error lines */
	pthread_t threads[2];
	for (int i = 0; i < 2; i++)
		pthread_create(&threads[i], NULL, snapshot_client_thread, &clients[i]);
	for (int i = 0; i < 2; i++)
		pthread_join(threads[i], NULL);
	free(stderr_capture_end(&cap));
	CHECK_EQ(atomic_load(&clients[0].wrong), 0);
	CHECK_EQ(atomic_load(&clients[1].wrong), 0);
	api_server_close(srv_b);
}

/* Whether a line arrives on fd within ms milliseconds. */
static bool line_within(int fd, int ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	return poll(&p, 1, ms) == 1;
}

/*
 * Events go to the clients that subscribed, never to the others, and always after the reply of the request that
 * caused them; roam ctl migrate follows its own job to the end and reports it; wait stops at the first match.
 */
static void test_events(void)
{
	char line[512];
	int sub = client_connect(sock_path), other = client_connect(sock_path);
	client_send(sub, "{\"cmd\":\"events\"}\n", strlen("{\"cmd\":\"events\"}\n"));
	CHECK(client_line(sub, line, sizeof(line)) > 0);
	CHECK(!strcmp(line, "{\"ok\":true,\"events\":true}"));
	client_send(sub, "{\"cmd\":\"events\",\"x\":1}\n",
		    strlen("{\"cmd\":\"events\",\"x\":1}\n")); /* not the built-in: the table has no events */
	CHECK(client_line(sub, line, sizeof(line)) > 0);
	CHECK_CONTAINS(line, "\"code\":\"unknown-command\"");

	client_send(other, "{\"cmd\":\"migrate\",\"dest\":\"/x\"}\n",
		    strlen("{\"cmd\":\"migrate\",\"dest\":\"/x\"}\n"));
	CHECK(client_line(other, line, sizeof(line)) > 0);
	CHECK_CONTAINS(line, "{\"ok\":true,\"job\":");
	const char *states[] = {"\"state\":\"started\"", "\"state\":\"round\"", "\"state\":\"done\""};
	for (int i = 0; i < 3; i++) {
		CHECK(client_line(sub, line, sizeof(line)) > 0);
		CHECK_CONTAINS(line, states[i]);
	}
	CHECK(!line_within(other, 100)); /* not subscribed: nothing */
	/* The subscriber still gets replies to its own requests, in order with the events. */
	client_send(sub, "{\"cmd\":\"resume\"}\n", strlen("{\"cmd\":\"resume\"}\n"));
	CHECK(client_line(sub, line, sizeof(line)) > 0);
	CHECK(!strcmp(line, "{\"ok\":true}"));
	close(other);

	struct ctl_result r = ctl(sock_path, "migrate", "/x", NULL);
	CHECK_EQ(r.status, 0);
	CHECK(!strcmp(r.out, "migrate: the guest moved: 3 rounds, 3.0 MiB, 768 pages, total 40 ms, downtime 2.5 ms\n"));
	ctl_free(&r);
	r = ctl(sock_path, "migrate", "/x", "--progress", NULL);
	CHECK_EQ(r.status, 0);
	CHECK_CONTAINS(r.err, "migrate: round 1: 64 pages sent");
	ctl_free(&r);
	r = ctl(sock_path, "migrate", "/fail", NULL);
	CHECK_EQ(r.status, 1);
	CHECK(!strcmp(r.err, "roam: ctl: migrate: the destination went away\n"));
	ctl_free(&r);
	r = ctl(sock_path, "migrate", "/x", "--json", NULL);
	CHECK_EQ(r.status, 0);
	CHECK_CONTAINS(r.out, "\"state\":\"started\"");
	CHECK_CONTAINS(r.out, "\"downtime_ms\":2.5");
	ctl_free(&r);
	r = ctl(sock_path, "migrate", "/x", "--max-downtime", "0x10", NULL);
	CHECK_EQ(r.status, 2);
	CHECK_CONTAINS(r.err, "--max-downtime: expected a whole number from 0 to 3600000");
	ctl_free(&r);

	/* The other jobs' events went to the first subscriber too: 4 jobs of 3 events each. */
	int seen = 0;
	while (line_within(sub, 100) && client_line(sub, line, sizeof(line)) > 0)
		seen++;
	CHECK_EQ(seen, 12);
	close(sub);

	/* wait: none comes within the time given. */
	r = ctl(sock_path, "wait", "exited", "--timeout", "1", NULL);
	CHECK_EQ(r.status, 1);
	CHECK(!strcmp(r.err, "roam: ctl: no such event within 1 s\n"));
	ctl_free(&r);
	r = ctl(sock_path, "wait", NULL);
	CHECK_EQ(r.status, 2);
	CHECK_CONTAINS(r.err, "wait needs an EVENT");
	ctl_free(&r);
}

/* A first table (as during a restore) that answers status its own way and refuses the rest. */
static int early_status(struct api_call *call)
{
	json_object_set_new(call->reply, "state", json_string("restoring"));
	return 0;
}

static int early_refuse(struct api_call *call)
{
	return api_call_fail(call, API_ERR_RESTORING, "the VM is being restored");
}

static const struct api_command early_commands[] = {{"status", NULL, early_status}, {"pause", vcpu_arg, early_refuse}};

/*
 * api_server_start again changes the table: a client connected before (and one half-way through a request line)
 * goes on, now answered by the new table; a subscriber keeps its events.
 */
static void test_switch_table(struct fake_vm *vm)
{
	char path[256], line[512];
	struct api_server *srv;
	snprintf(path, sizeof(path), "%s/switch.sock", dir);
	CHECK_EQ(api_server_open(path, &srv), 0);
	CHECK_EQ(api_server_start(srv, early_commands, 2, NULL), 0);
	int c = client_connect(path), sub = client_connect(path);
	client_send(sub, "{\"cmd\":\"events\"}\n", 17);
	CHECK(client_line(sub, line, sizeof(line)) > 0);
	client_send(c, "{\"cmd\":\"status\"}\n", 17);
	CHECK(client_line(c, line, sizeof(line)) > 0);
	CHECK(!strcmp(line, "{\"ok\":true,\"state\":\"restoring\"}"));
	client_send(c, "{\"cmd\":\"pause\"}\n", 16);
	CHECK(client_line(c, line, sizeof(line)) > 0);
	CHECK_CONTAINS(line, "\"code\":\"vm-restoring\"");
	client_send(c, "{\"cmd\":\"sta", 11); /* half a request when the table changes */
	usleep(100000);
	CHECK_EQ(api_server_start(srv, fake_commands, sizeof(fake_commands) / sizeof(fake_commands[0]), vm), 0);
	client_send(c, "tus\"}\n", 6);
	CHECK(client_line(c, line, sizeof(line)) > 0);
	CHECK_CONTAINS(line, "\"state\":\"mixed\"");
	api_server_emit(srv, "{\"event\":\"after\"}");
	CHECK(client_line(sub, line, sizeof(line)) > 0);
	CHECK(!strcmp(line, "{\"event\":\"after\"}"));
	close(c);
	close(sub);
	api_server_close(srv);
}

int main(void)
{
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(sock_path, sizeof(sock_path), "%s/api.sock", dir);
	test_socket_file_rules();

	struct fake_vm vm = {.name = "vm-a", .nr_vcpus = 2};
	struct api_server *srv, *second;
	CHECK_EQ(api_server_open(sock_path, &srv), 0);
	vm.srv = srv;
	struct stat st;
	CHECK(stat(sock_path, &st) == 0 && S_ISSOCK(st.st_mode));
	CHECK_EQ(st.st_mode & 07777, 0600);
	CHECK_EQ(api_server_open(sock_path, &second), (uint64_t)-EADDRINUSE); /* listening already */
	CHECK_EQ(api_server_start(srv, fake_commands, sizeof(fake_commands) / sizeof(fake_commands[0]), &vm), 0);

	test_clients();
	test_passed_fds();
	test_out_of_fds();
	test_idle(&vm);
	test_switch_table(&vm);
	test_deep_failures();
	test_two_vms_fail_at_once();
	test_ctl(&vm);
	test_ctl_unterminated_reply();
	test_events();

	api_server_close(srv);
	CHECK(access(sock_path, F_OK) < 0 && errno == ENOENT);
	struct ctl_result r = ctl(sock_path, "status", NULL);
	CHECK_EQ(r.status, 1);
	ctl_free(&r);
	rmdir(dir);
	return check_exit();
}

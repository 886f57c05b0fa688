/* The per-device I/O thread: see io_loop.h. */
#include "io_loop.h"

#include "core/log.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define IO_LOOP_BATCH 8

int io_loop_init(struct io_loop *loop, const char *name)
{
	memset(loop, 0, sizeof(*loop));
	loop->name = name;
	loop->control_fd = -1;
	for (int i = 0; i < IO_LOOP_MAX_WATCHES; i++)
		loop->watches[i].fd = -1;
	pthread_mutex_init(&loop->lock, NULL);
	pthread_cond_init(&loop->cond, NULL);
	loop->initialized = true;
	loop->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (loop->epoll_fd < 0)
		return log_errno(-errno, "%s: epoll_create1: %s", name, strerror(errno));
	loop->control_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (loop->control_fd < 0)
		return log_errno(-errno, "%s: eventfd: %s", name, strerror(errno));
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
	if (epoll_ctl(loop->epoll_fd, EPOLL_CTL_ADD, loop->control_fd, &ev) < 0)
		return log_errno(-errno, "%s: epoll_ctl: %s", name, strerror(errno));
	return 0;
}

int io_loop_add(struct io_loop *loop, int fd, uint32_t events, io_loop_fn fn, void *opaque)
{
	struct io_loop_watch *w = NULL;
	for (int i = 0; i < IO_LOOP_MAX_WATCHES && !w; i++)
		if (loop->watches[i].fd < 0)
			w = &loop->watches[i];
	if (!w)
		return log_errno(-ENOSPC, "%s: more than %d watched file descriptors", loop->name, IO_LOOP_MAX_WATCHES);
	*w = (struct io_loop_watch){.fd = fd, .fn = fn, .opaque = opaque};
	struct epoll_event ev = {.events = events, .data.ptr = w};
	if (epoll_ctl(loop->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int err = -errno;
		w->fd = -1;
		return log_errno(err, "%s: epoll_ctl(ADD fd %d): %s", loop->name, fd, strerror(-err));
	}
	return 0;
}

int io_loop_modify(struct io_loop *loop, int fd, uint32_t events)
{
	for (int i = 0; i < IO_LOOP_MAX_WATCHES; i++) {
		if (loop->watches[i].fd != fd)
			continue;
		struct epoll_event ev = {.events = events, .data.ptr = &loop->watches[i]};
		if (epoll_ctl(loop->epoll_fd, EPOLL_CTL_MOD, fd, &ev) < 0)
			return log_errno(-errno, "%s: epoll_ctl(MOD fd %d): %s", loop->name, fd, strerror(errno));
		return 0;
	}
	return -ENOENT;
}

/* Handles a control wake-up; returns false when the thread must exit. */
static bool io_loop_control(struct io_loop *loop)
{
	uint64_t value;
	ssize_t unused = read(loop->control_fd, &value, sizeof(value));
	(void)unused;
	pthread_mutex_lock(&loop->lock);
	while (loop->pause_requested && !loop->stop) {
		loop->paused = true;
		pthread_cond_broadcast(&loop->cond);
		pthread_cond_wait(&loop->cond, &loop->lock);
	}
	loop->paused = false;
	bool run = !loop->stop;
	pthread_mutex_unlock(&loop->lock);
	return run;
}

static void *io_loop_thread(void *arg)
{
	struct io_loop *loop = arg;
	struct epoll_event events[IO_LOOP_BATCH];
	for (;;) {
		int n = epoll_wait(loop->epoll_fd, events, IO_LOOP_BATCH, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_error("%s: epoll_wait: %s; the device stops working", loop->name, strerror(errno));
			return NULL;
		}
		for (int i = 0; i < n; i++) {
			struct io_loop_watch *w = events[i].data.ptr;
			if (!w) {
				if (!io_loop_control(loop))
					return NULL;
				continue;
			}
			/* A pause asked for while handling this batch takes effect before the next handler. */
			pthread_mutex_lock(&loop->lock);
			bool held = loop->pause_requested || loop->stop;
			pthread_mutex_unlock(&loop->lock);
			if (held) {
				if (!io_loop_control(loop))
					return NULL;
			}
			w->fn(w->opaque, w->fd, events[i].events);
		}
	}
}

int io_loop_start(struct io_loop *loop)
{
	/* Stop signals are handled by roam's main loop; the kick signal is for vCPU threads. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	int err = pthread_create(&loop->thread, NULL, io_loop_thread, loop);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err)
		return log_errno(-err, "%s: cannot start its I/O thread: %s", loop->name, strerror(err));
	char name[16];
	snprintf(name, sizeof(name), "%.15s", loop->name);
	pthread_setname_np(loop->thread, name);
	loop->started = true;
	return 0;
}

static void io_loop_wake(struct io_loop *loop)
{
	uint64_t one = 1;
	ssize_t unused = write(loop->control_fd, &one, sizeof(one));
	(void)unused;
}

void io_loop_pause(struct io_loop *loop)
{
	if (!loop->started)
		return;
	pthread_mutex_lock(&loop->lock);
	loop->pause_requested = true;
	io_loop_wake(loop);
	while (!loop->paused && !loop->stop)
		pthread_cond_wait(&loop->cond, &loop->lock);
	pthread_mutex_unlock(&loop->lock);
}

void io_loop_resume(struct io_loop *loop)
{
	pthread_mutex_lock(&loop->lock);
	loop->pause_requested = false;
	pthread_cond_broadcast(&loop->cond);
	pthread_mutex_unlock(&loop->lock);
}

void io_loop_fini(struct io_loop *loop)
{
	if (!loop->initialized)
		return;
	if (loop->started) {
		pthread_mutex_lock(&loop->lock);
		loop->stop = true;
		pthread_cond_broadcast(&loop->cond);
		pthread_mutex_unlock(&loop->lock);
		io_loop_wake(loop);
		pthread_join(loop->thread, NULL);
		loop->started = false;
	}
	if (loop->epoll_fd >= 0)
		close(loop->epoll_fd);
	if (loop->control_fd >= 0)
		close(loop->control_fd);
	loop->epoll_fd = loop->control_fd = -1;
	pthread_mutex_destroy(&loop->lock);
	pthread_cond_destroy(&loop->cond);
	loop->initialized = false;
}

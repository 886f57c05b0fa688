/*
 * An I/O thread: one epoll loop that calls a handler when one of its file descriptors becomes ready. Each virtio
 * device owns one, so device work (queue notifications through ioeventfds, backend fds such as a TAP device) never
 * runs on a vCPU thread, and a slow disk only delays its own device.
 *
 * The loop can be paused: io_loop_pause returns once the thread has finished the handler it was running and waits;
 * readiness that arrives meanwhile stays pending in the fds (eventfd counters, socket buffers) and is handled after
 * io_loop_resume. Snapshots use this to hold devices still while their state is saved.
 */
#ifndef ROAM_IO_LOOP_H
#define ROAM_IO_LOOP_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define IO_LOOP_MAX_WATCHES 16

/* Called on the loop thread with the epoll events of `fd`. */
typedef void (*io_loop_fn)(void *opaque, int fd, uint32_t events);

struct io_loop_watch {
	int fd;
	io_loop_fn fn;
	void *opaque;
};

struct io_loop {
	const char *name; /* for messages and the thread name */
	int epoll_fd;
	int control_fd; /* eventfd: wakes the thread to pause or stop */
	pthread_t thread;
	bool initialized, started;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stop, pause_requested, paused;
	struct io_loop_watch watches[IO_LOOP_MAX_WATCHES];
};

/* Prepares a loop (no thread yet). Returns 0 or -errno with a message naming `name`. */
int io_loop_init(struct io_loop *loop, const char *name);

/*
 * Watches `fd` for `events` (EPOLLIN, ...; level-triggered). Returns 0 or -errno with a message. May be called
 * before or after io_loop_start.
 */
int io_loop_add(struct io_loop *loop, int fd, uint32_t events, io_loop_fn fn, void *opaque);

/* Changes the events watched on `fd` (0: none for now). Returns 0 or -errno. */
int io_loop_modify(struct io_loop *loop, int fd, uint32_t events);

/* Starts the thread. Returns 0 or -errno with a message. */
int io_loop_start(struct io_loop *loop);

/* Waits until the thread is between handlers and holds it there. No-op on a loop that was never started. */
void io_loop_pause(struct io_loop *loop);

/* Lets a paused thread go on. */
void io_loop_resume(struct io_loop *loop);

/* Stops and joins the thread (if started) and closes the loop's own fds (not the watched ones). Idempotent. */
void io_loop_fini(struct io_loop *loop);

#endif

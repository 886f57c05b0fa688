/*
 * Scheduler tracking for the PV lock (see pvlock_sched.h). Each vCPU thread opens a software perf event on itself
 * with context_switch records (PERF_RECORD_SWITCH, timestamped with CLOCK_MONOTONIC) and a small ring buffer that
 * wakes the monitor on every record. The monitor drains the rings in order and sets or clears the vCPU's
 * "descheduled" state; the flag written is the latest truth because records of one thread arrive in order and the
 * vCPU thread itself clears "descheduled" whenever it enters or leaves KVM_RUN.
 */
#include "pvlock_sched.h"

#include "core/clock.h"
#include "core/log.h"
#include "pvlock.h"

#include <errno.h>
#include <linux/perf_event.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define SCHED_RING_PAGES 8 /* data pages per ring (a power of two) */
#define SCHED_LATENCY_WINDOW 4096

struct sched_stream {
	int fd;
	uint8_t *ring; /* metadata page followed by the data pages */
	size_t ring_len;
};

struct pvlock_sched {
	struct pvlock *pv;
	pthread_t thread;
	bool thread_started;
	int wake_fd; /* eventfd: a stream was added, or stop */
	atomic_bool stopping;
	atomic_bool open_failure_reported;
	pthread_mutex_t lock; /* streams[] and the statistics */
	struct sched_stream *streams;
	uint64_t switches;
	uint64_t latency_samples;
	uint64_t latency_max;
	uint64_t monitor_cpu_ns; /* CPU time the monitor thread has used */
	uint64_t latency[SCHED_LATENCY_WINDOW]; /* the most recent latencies, ring-ordered */
};

static int sched_open_self(struct sched_stream *st)
{
	struct perf_event_attr attr;
	memset(&attr, 0, sizeof(attr));
	attr.size = sizeof(attr);
	attr.type = PERF_TYPE_SOFTWARE;
	attr.config = PERF_COUNT_SW_DUMMY;
	attr.context_switch = 1;
	attr.sample_id_all = 1;
	attr.sample_type = PERF_SAMPLE_TID | PERF_SAMPLE_TIME;
	attr.use_clockid = 1;
	attr.clockid = CLOCK_MONOTONIC;
	attr.watermark = 1;
	attr.wakeup_watermark = 1; /* wake the monitor on every record */
	attr.exclude_kernel = 1;
	attr.exclude_hv = 1;
	long fd = syscall(SYS_perf_event_open, &attr, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
	if (fd < 0)
		return -errno;
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	st->ring_len = page * (1 + SCHED_RING_PAGES);
	void *ring = mmap(NULL, st->ring_len, PROT_READ | PROT_WRITE, MAP_SHARED, (int)fd, 0);
	if (ring == MAP_FAILED) {
		int err = -errno;
		close((int)fd);
		return err;
	}
	st->fd = (int)fd;
	st->ring = ring;
	return 0;
}

static void sched_note_latency(struct pvlock_sched *s, uint64_t event_ns)
{
	uint64_t now = monotonic_ns();
	pthread_mutex_lock(&s->lock);
	s->switches++;
	if (event_ns && event_ns <= now) {
		uint64_t lat = now - event_ns;
		s->latency[s->latency_samples % SCHED_LATENCY_WINDOW] = lat;
		s->latency_samples++;
		if (lat > s->latency_max)
			s->latency_max = lat;
	}
	pthread_mutex_unlock(&s->lock);
}

/* Drains one ring, applying every switch record in order. */
static void sched_drain(struct pvlock_sched *s, int id, struct sched_stream *st)
{
	struct perf_event_mmap_page *meta = (struct perf_event_mmap_page *)st->ring;
	uint8_t *data = st->ring + meta->data_offset;
	uint64_t size = meta->data_size;
	uint64_t head = __atomic_load_n(&meta->data_head, __ATOMIC_ACQUIRE);
	uint64_t tail = meta->data_tail;
	while (tail < head) {
		struct {
			struct perf_event_header h;
			uint32_t pid, tid;
			uint64_t time;
		} rec;
		memset(&rec, 0, sizeof(rec));
		/* A record may wrap around the end of the ring: copy it out byte-range by byte-range. */
		uint8_t *dst = (uint8_t *)&rec;
		size_t want = sizeof(rec.h);
		for (size_t i = 0; i < want; i++)
			dst[i] = data[(tail + i) % size];
		size_t rec_len = rec.h.size;
		if (rec_len < sizeof(rec.h))
			break; /* corrupt: give up on this batch */
		size_t copy = rec_len < sizeof(rec) ? rec_len : sizeof(rec);
		for (size_t i = sizeof(rec.h); i < copy; i++)
			dst[i] = data[(tail + i) % size];
		if (rec.h.type == PERF_RECORD_SWITCH) {
			bool out = rec.h.misc & PERF_RECORD_MISC_SWITCH_OUT;
			pvlock_vcpu_scheduled(s->pv, id, out);
			sched_note_latency(s, copy >= sizeof(rec) ? rec.time : 0);
		}
		tail += rec_len;
	}
	__atomic_store_n(&meta->data_tail, tail, __ATOMIC_RELEASE);
}

static void *sched_thread(void *arg)
{
	struct pvlock_sched *s = arg;
	int n = s->pv->nr_vcpus;
	struct pollfd *fds = calloc((size_t)n + 1, sizeof(*fds));
	if (!fds)
		return NULL;
	while (!atomic_load(&s->stopping)) {
		fds[0] = (struct pollfd){.fd = s->wake_fd, .events = POLLIN};
		pthread_mutex_lock(&s->lock);
		for (int i = 0; i < n; i++)
			fds[i + 1] = (struct pollfd){.fd = s->streams[i].fd, .events = POLLIN};
		pthread_mutex_unlock(&s->lock);
		if (poll(fds, (nfds_t)n + 1, -1) < 0 && errno != EINTR)
			break;
		if (fds[0].revents & POLLIN) {
			uint64_t v;
			ssize_t unused = read(s->wake_fd, &v, sizeof(v));
			(void)unused;
		}
		for (int i = 0; i < n; i++)
			if (fds[i + 1].fd >= 0 && (fds[i + 1].revents & POLLIN))
				sched_drain(s, i, &s->streams[i]);
		struct timespec cpu;
		clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu);
		pthread_mutex_lock(&s->lock);
		s->monitor_cpu_ns = (uint64_t)cpu.tv_sec * 1000000000ull + (uint64_t)cpu.tv_nsec;
		pthread_mutex_unlock(&s->lock);
	}
	free(fds);
	return NULL;
}

struct pvlock_sched *pvlock_sched_start(struct pvlock *pv)
{
	struct pvlock_sched *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->pv = pv;
	pthread_mutex_init(&s->lock, NULL);
	s->streams = calloc((size_t)pv->nr_vcpus, sizeof(*s->streams));
	for (int i = 0; s->streams && i < pv->nr_vcpus; i++)
		s->streams[i].fd = -1;
	s->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (!s->streams || s->wake_fd < 0) {
		log_info("PV lock: cannot follow vCPU thread scheduling (out of resources); the preempted flags follow "
			 "KVM_RUN only");
		pvlock_sched_stop(s);
		return NULL;
	}
	/* Probe once here, so an unsupported host is reported before the guest starts. */
	struct sched_stream probe;
	int err = sched_open_self(&probe);
	if (err) {
		log_info(
		    "PV lock: cannot follow vCPU thread scheduling (perf_event_open: %s%s); the preempted flags follow "
		    "KVM_RUN only",
		    strerror(-err), err == -EACCES ? ", see /proc/sys/kernel/perf_event_paranoid" : "");
		pvlock_sched_stop(s);
		return NULL;
	}
	munmap(probe.ring, probe.ring_len);
	close(probe.fd);
	if (pthread_create(&s->thread, NULL, sched_thread, s) != 0) {
		pvlock_sched_stop(s);
		return NULL;
	}
	s->thread_started = true;
	return s;
}

void pvlock_sched_add_self(struct pvlock_sched *s, int id)
{
	struct sched_stream st;
	int err = sched_open_self(&st);
	if (err) {
		if (!atomic_exchange(&s->open_failure_reported, true))
			log_info("PV lock: vCPU%d: perf_event_open: %s; its flag follows KVM_RUN only", id,
				 strerror(-err));
		return;
	}
	pthread_mutex_lock(&s->lock);
	s->streams[id] = st;
	pthread_mutex_unlock(&s->lock);
	uint64_t one = 1;
	ssize_t unused = write(s->wake_fd, &one, sizeof(one));
	(void)unused;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

void pvlock_sched_stats(struct pvlock_sched *s, struct pvlock_stats *st)
{
	uint64_t *copy = malloc(sizeof(s->latency));
	pthread_mutex_lock(&s->lock);
	st->tracking = true;
	st->switches = s->switches;
	st->latency_samples = s->latency_samples;
	st->latency_ns_max = s->latency_max;
	st->monitor_cpu_ns = s->monitor_cpu_ns;
	size_t n = s->latency_samples < SCHED_LATENCY_WINDOW ? (size_t)s->latency_samples : SCHED_LATENCY_WINDOW;
	if (copy)
		memcpy(copy, s->latency, n * sizeof(uint64_t));
	pthread_mutex_unlock(&s->lock);
	if (copy && n) {
		qsort(copy, n, sizeof(uint64_t), cmp_u64);
		st->latency_ns_median = copy[n / 2];
		st->latency_ns_p99 = copy[(n * 99) / 100];
	}
	free(copy);
}

void pvlock_sched_stop(struct pvlock_sched *s)
{
	if (!s)
		return;
	if (s->thread_started) {
		atomic_store(&s->stopping, true);
		uint64_t one = 1;
		ssize_t unused = write(s->wake_fd, &one, sizeof(one));
		(void)unused;
		pthread_join(s->thread, NULL);
	}
	for (int i = 0; s->streams && i < s->pv->nr_vcpus; i++)
		if (s->streams[i].fd >= 0) {
			munmap(s->streams[i].ring, s->streams[i].ring_len);
			close(s->streams[i].fd);
		}
	if (s->wake_fd >= 0)
		close(s->wake_fd);
	pthread_mutex_destroy(&s->lock);
	free(s->streams);
	free(s);
}

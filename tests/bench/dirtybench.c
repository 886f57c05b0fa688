/*
 * dirtybench: what tracking dirty pages costs, KVM's dirty bitmap log against its dirty ring (issue 15,
 * tools/bench/dirty). A lab helper like vmmrun: the arm64 build puts it beside roam, and the emulated host has it in
 * /opt/roam/bin. It talks to /dev/kvm itself, so that each mechanism is measured bare, without roam around it.
 *
 * usage: dirtybench --mode off|log|ring [--mem MiB] [--pages N] [--seconds S] [--interval MS] [--ring-entries N]
 *
 * One VM, one memory slot of --mem MiB (anonymous, 2 MiB aligned, MADV_HUGEPAGE like roam's guest RAM), one vCPU
 * running a tiny guest with its MMU off: it writes one 8-byte word to each of the first N pages of its working set
 * (counting the pages it wrote), then adds one to a pass counter, forever; the host reads both counters through its
 * mapping. Every --interval ms the host collects the dirty pages:
 *   off   no tracking (the reference);
 *   log   what roam does (vmm/core/dirty_log.c): KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 (initially set when offered),
 *         KVM_GET_DIRTY_LOG of the slot into a fresh bitmap, KVM_CLEAR_DIRTY_LOG of what was read, OR into the
 *         host's bitmap;
 *   ring  KVM_CAP_DIRTY_LOG_RING_ACQ_REL (and KVM_CAP_DIRTY_LOG_RING_WITH_BITMAP when offered): the vCPU's ring is
 *         harvested into the host's bitmap, the entries are marked for reset and KVM_RESET_DIRTY_RINGS re-protects
 *         them; a vCPU whose ring fills up (KVM_EXIT_DIRTY_RING_FULL) waits for a harvest. At the end, with the
 *         vCPU stopped, the backup bitmap is read once, as a migration's last round must.
 * The first round is a warm-up (the guest faults its pages in; an initially-set log reports the whole slot): the
 * figures start after it. Prints one line:
 *   dirtybench: mode=M mem_mib=X pages=N passes_per_s=P collect_us_median=C collect_us_max=C
 *   dirty_per_round_median=D ring_full_exits=F rounds=R ring_bitmap_us=B ring_bitmap_pages=BP
 * P: the guest's passes per second (pages written / N, checked against the pass counter); C: one collection round
 * as the host sees it; D: pages reported per round; F: KVM_EXIT_DIRTY_RING_FULL exits; R: rounds measured;
 * B, BP: the final read of the ring's backup bitmap (0 when there is none). Exit status: 0, 1 when a KVM call fails
 * (one line naming it and errno), 2 on bad usage (one line).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define GUEST_BASE 0x40000000ull /* the slot's guest-physical address */
#define COUNTER_OFFSET 0x1000ull /* the guest's counters: their own page, after the code */
#define WORKSET_OFFSET 0x200000ull /* the working set: from 2 MiB on */
#define GUEST_STRIDE 4096ull /* the guest's loop steps 4 KiB (its `add ..., lsl #12`) */
#define HUGE_2M (2ull << 20)

/*
 * The guest: x0 = working set, x1 = N pages, x2 = counters (set by the host; KVM zeroes the other registers).
 * [x2] counts passes; [x2 + 8] counts pages written, so that the host sees a pass in progress too (a tracked guest
 * may manage only a few passes a second). Position-independent.
 */
static const uint32_t guest_code[] = {
    0xaa0003e3, /* pass: mov  x3, x0              cursor = working set */
    0xaa0103e4, /*       mov  x4, x1              pages left = N */
    0xf9000065, /* page: str  x5, [x3]            one word per page dirties it */
    0x910004c6, /*       add  x6, x6, #1 */
    0xf9000446, /*       str  x6, [x2, #8]        pages written */
    0x91400463, /*       add  x3, x3, #1, lsl #12 next 4 KiB page */
    0xf1000484, /*       subs x4, x4, #1 */
    0x54ffff61, /*       b.ne page */
    0xf9400045, /*       ldr  x5, [x2] */
    0x910004a5, /*       add  x5, x5, #1 */
    0xf9000045, /*       str  x5, [x2]            passes */
    0x17fffff5, /*       b    pass */
};

enum mode { MODE_OFF, MODE_LOG, MODE_RING };
static const char *const mode_names[] = {"off", "log", "ring"};

struct options {
	enum mode mode;
	uint64_t mem_mib, pages, seconds, interval_ms, ring_entries;
};

/* A growing list of samples (one per collection round). */
struct samples {
	double *v;
	size_t n, cap;
};

struct bench {
	struct options opt;
	long page_size;
	uint64_t slot_pages, bitmap_words;
	int kvm_fd, vm_fd, vcpu_fd;
	struct kvm_run *run;
	size_t run_size;
	uint8_t *mem; /* guest RAM: the slot starts here */
	volatile uint64_t *counters; /* [0] passes, [1] pages written */
	uint64_t *dirty; /* the host's view: pages to send, as roam keeps it */
	struct kvm_dirty_gfn *ring;
	uint32_t ring_next; /* the next ring entry to harvest (free running) */
	bool log_manual; /* KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 is on: collecting does not re-protect by itself */
	bool ring_bitmap; /* KVM_CAP_DIRTY_LOG_RING_WITH_BITMAP is on */
	pthread_t vcpu_thread;
	/* Between the vCPU thread and the collector: a full ring asks for a harvest and waits for it. */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool harvest_wanted, measuring;
	uint64_t harvests, ring_full_exits;
	atomic_bool stop;
	struct samples collect_us, dirty_pages;
};

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The one ioctl call: a failure is one line naming the request, then exit 1 (KVM_RUN's EINTR is the caller's). */
static long kvm_call(int fd, unsigned long request, unsigned long arg, const char *name, bool eintr_ok)
{
	long ret = ioctl(fd, request, arg);
	if (ret < 0 && !(eintr_ok && errno == EINTR)) {
		fprintf(stderr, "dirtybench: %s: %s (errno %d)\n", name, strerror(errno), errno);
		exit(1);
	}
	return ret;
}
#define KVM(fd, req, arg) kvm_call((fd), (req), (unsigned long)(arg), #req, false)

static void die_errno(const char *what)
{
	fprintf(stderr, "dirtybench: %s: %s (errno %d)\n", what, strerror(errno), errno);
	exit(1);
}

static void samples_add(struct samples *s, double v)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 64;
		if (!(s->v = realloc(s->v, s->cap * sizeof(*s->v))))
			die_errno("realloc");
	}
	s->v[s->n++] = v;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double samples_median(struct samples *s)
{
	if (!s->n)
		return 0;
	qsort(s->v, s->n, sizeof(*s->v), cmp_double);
	return s->n % 2 ? s->v[s->n / 2] : (s->v[s->n / 2 - 1] + s->v[s->n / 2]) / 2;
}

static double samples_max(const struct samples *s)
{
	double m = 0;
	for (size_t i = 0; i < s->n; i++)
		m = s->v[i] > m ? s->v[i] : m;
	return m;
}

#define USAGE                                                                                                          \
	"usage: dirtybench --mode off|log|ring [--mem MiB] [--pages N] [--seconds S] [--interval MS] "                 \
	"[--ring-entries N]"

/* Bad usage: one line, exit 2. */
static void bad_usage(const char *msg)
{
	fprintf(stderr, "dirtybench: %s (%s)\n", msg, USAGE);
	exit(2);
}

static uint64_t parse_count(const char *opt, const char *val, uint64_t min, uint64_t max)
{
	char *end, msg[160];
	errno = 0;
	unsigned long long v = strtoull(val, &end, 10);
	if (errno || end == val || *end || val[0] == '-' || v < min || v > max) {
		snprintf(msg, sizeof(msg), "%s wants a whole number from %llu to %llu, not '%s'", opt,
			 (unsigned long long)min, (unsigned long long)max, val);
		bad_usage(msg);
	}
	return v;
}

static const char *const option_names[] = {"--mode", "--mem", "--pages", "--seconds", "--interval", "--ring-entries"};

static struct options parse_options(int argc, char **argv)
{
	struct options o = {
	    .mode = MODE_OFF, .mem_mib = 256, .pages = 2048, .seconds = 5, .interval_ms = 100, .ring_entries = 4096};
	bool have_mode = false;
	char msg[200];
	for (int i = 1; i < argc; i += 2) {
		const char *opt = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(opt, "--help") || !strcmp(opt, "-h")) {
			printf("%s\n", USAGE);
			exit(0);
		}
		snprintf(msg, sizeof(msg), "unknown option '%s'", opt);
		bool known = false;
		for (size_t k = 0; k < sizeof(option_names) / sizeof(option_names[0]); k++)
			known |= !strcmp(opt, option_names[k]);
		if (!known)
			bad_usage(msg);
		if (!val) {
			snprintf(msg, sizeof(msg), "%s wants a value", opt);
			bad_usage(msg);
		}
		if (!strcmp(opt, "--mode")) {
			for (o.mode = MODE_OFF; o.mode <= MODE_RING && strcmp(val, mode_names[o.mode]); o.mode++)
				;
			snprintf(msg, sizeof(msg), "--mode wants off, log or ring, not '%s'", val);
			if (o.mode > MODE_RING)
				bad_usage(msg);
			have_mode = true;
		} else if (!strcmp(opt, "--mem"))
			o.mem_mib = parse_count(opt, val, 4, 65536);
		else if (!strcmp(opt, "--pages"))
			o.pages = parse_count(opt, val, 1, 1u << 24);
		else if (!strcmp(opt, "--seconds"))
			o.seconds = parse_count(opt, val, 1, 3600);
		else if (!strcmp(opt, "--interval"))
			o.interval_ms = parse_count(opt, val, 1, 60000);
		else
			o.ring_entries = parse_count(opt, val, 256, 1u << 20);
	}
	if (!have_mode)
		bad_usage("--mode is required");
	if (o.mem_mib % 2)
		bad_usage("--mem wants an even number of MiB (the slot is 2 MiB aligned for huge pages)");
	if (WORKSET_OFFSET + o.pages * GUEST_STRIDE > o.mem_mib << 20) {
		snprintf(msg, sizeof(msg), "--pages %llu does not fit in --mem %llu: the working set starts at 2 MiB",
			 (unsigned long long)o.pages, (unsigned long long)o.mem_mib);
		bad_usage(msg);
	}
	if (o.ring_entries & (o.ring_entries - 1))
		bad_usage("--ring-entries wants a power of two (KVM's rule)");
	return o;
}

/* Guest RAM: anonymous memory aligned to 2 MiB, so that transparent huge pages can back it as they back roam's. */
static void map_guest_memory(struct bench *b)
{
	uint64_t size = b->opt.mem_mib << 20;
	uint8_t *raw =
	    mmap(NULL, size + HUGE_2M, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (raw == MAP_FAILED)
		die_errno("mmap(guest memory)");
	b->mem = (uint8_t *)(((uintptr_t)raw + HUGE_2M - 1) & ~(uintptr_t)(HUGE_2M - 1));
	if (madvise(b->mem, size, MADV_HUGEPAGE))
		die_errno("madvise(MADV_HUGEPAGE)");
	memcpy(b->mem, guest_code, sizeof(guest_code));
	b->counters = (volatile uint64_t *)(b->mem + COUNTER_OFFSET);
}

static void enable_cap(struct bench *b, uint32_t cap, uint64_t arg, const char *name)
{
	struct kvm_enable_cap c = {.cap = cap, .args = {arg}};
	kvm_call(b->vm_fd, KVM_ENABLE_CAP, (unsigned long)&c, name, false);
}

/* The VM, its tracking mode and its slot. The order is KVM's: ring capabilities before any slot and any vCPU. */
static void create_vm(struct bench *b)
{
	if ((b->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC)) < 0)
		die_errno("/dev/kvm");
	b->vm_fd = (int)KVM(b->kvm_fd, KVM_CREATE_VM, 0);
	if (b->opt.mode == MODE_LOG) {
		long caps = KVM(b->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2);
		if (caps > 0) {
			enable_cap(b, KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2,
				   (uint64_t)caps & (KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE | KVM_DIRTY_LOG_INITIALLY_SET),
				   "KVM_ENABLE_CAP(KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2)");
			b->log_manual = true;
		}
	} else if (b->opt.mode == MODE_RING) {
		/* Weakly ordered arm64 offers only the ACQ_REL flavour; its argument is the ring's size in bytes. */
		long max = KVM(b->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_DIRTY_LOG_RING_ACQ_REL);
		uint64_t bytes = b->opt.ring_entries * sizeof(struct kvm_dirty_gfn);
		if (max <= 0 || bytes > (uint64_t)max) {
			fprintf(stderr,
				"dirtybench: KVM_CHECK_EXTENSION(KVM_CAP_DIRTY_LOG_RING_ACQ_REL): %ld, no ring of "
				"%llu bytes\n",
				max, (unsigned long long)bytes);
			exit(1);
		}
		enable_cap(b, KVM_CAP_DIRTY_LOG_RING_ACQ_REL, bytes, "KVM_ENABLE_CAP(KVM_CAP_DIRTY_LOG_RING_ACQ_REL)");
		/* arm64 dirties memory outside a vCPU (the ITS tables): that goes to a backup bitmap, enabled after the
		 * ring and before any slot exists. */
		if (KVM(b->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_DIRTY_LOG_RING_WITH_BITMAP) > 0) {
			enable_cap(b, KVM_CAP_DIRTY_LOG_RING_WITH_BITMAP, 1,
				   "KVM_ENABLE_CAP(KVM_CAP_DIRTY_LOG_RING_WITH_BITMAP)");
			b->ring_bitmap = true;
		}
	}
	map_guest_memory(b);
	struct kvm_userspace_memory_region region = {
	    .slot = 0,
	    .flags = b->opt.mode == MODE_OFF ? 0 : KVM_MEM_LOG_DIRTY_PAGES,
	    .guest_phys_addr = GUEST_BASE,
	    .memory_size = b->opt.mem_mib << 20,
	    .userspace_addr = (uint64_t)(uintptr_t)b->mem,
	};
	KVM(b->vm_fd, KVM_SET_USER_MEMORY_REGION, &region);
}

static void set_reg(struct bench *b, uint64_t offset, uint64_t value)
{
	struct kvm_one_reg reg = {
	    .id = KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE | (offset / sizeof(uint32_t)),
	    .addr = (uint64_t)(uintptr_t)&value,
	};
	KVM(b->vcpu_fd, KVM_SET_ONE_REG, &reg);
}

static void create_vcpu(struct bench *b)
{
	b->vcpu_fd = (int)KVM(b->vm_fd, KVM_CREATE_VCPU, 0);
	long size = KVM(b->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	b->run_size = (size_t)size;
	b->run = mmap(NULL, b->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, b->vcpu_fd, 0);
	if (b->run == MAP_FAILED)
		die_errno("mmap(vCPU kvm_run)");
	struct kvm_vcpu_init init;
	memset(&init, 0, sizeof(init));
	KVM(b->vm_fd, KVM_ARM_PREFERRED_TARGET, &init);
	KVM(b->vcpu_fd, KVM_ARM_VCPU_INIT, &init);
	/* KVM resets the vCPU to EL1h with interrupts masked and the MMU off: only PC and the arguments are set. */
	set_reg(b, offsetof(struct kvm_regs, regs.pc), GUEST_BASE);
	set_reg(b, offsetof(struct kvm_regs, regs.regs[0]), GUEST_BASE + WORKSET_OFFSET);
	set_reg(b, offsetof(struct kvm_regs, regs.regs[1]), b->opt.pages);
	set_reg(b, offsetof(struct kvm_regs, regs.regs[2]), GUEST_BASE + COUNTER_OFFSET);
	if (b->opt.mode == MODE_RING) {
		size_t bytes = b->opt.ring_entries * sizeof(struct kvm_dirty_gfn);
		b->ring = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, b->vcpu_fd,
			       (off_t)KVM_DIRTY_LOG_PAGE_OFFSET * b->page_size);
		if (b->ring == MAP_FAILED)
			die_errno("mmap(vCPU dirty ring at KVM_DIRTY_LOG_PAGE_OFFSET)");
	}
}

struct progress {
	uint64_t passes, pages;
	int64_t t_ns;
};

/* The guest writes its counters with its MMU off (not cacheable): drop any stale line the host may hold first. */
static struct progress read_progress(const struct bench *b)
{
	__asm__ volatile("dc civac, %0" ::"r"(b->counters) : "memory");
	return (struct progress){.passes = b->counters[0], .pages = b->counters[1], .t_ns = now_ns()};
}

static void *vcpu_main(void *arg)
{
	struct bench *b = arg;
	while (!atomic_load(&b->stop)) {
		if (kvm_call(b->vcpu_fd, KVM_RUN, 0, "KVM_RUN", true) < 0)
			continue; /* EINTR: the collector wants us to stop */
		if (b->run->exit_reason != KVM_EXIT_DIRTY_RING_FULL) {
			fprintf(stderr, "dirtybench: KVM_RUN: unexpected exit reason %u\n", b->run->exit_reason);
			exit(1);
		}
		/* KVM refuses to re-enter until the ring has room: ask for a harvest now, and wait for it. */
		pthread_mutex_lock(&b->lock);
		b->ring_full_exits += b->measuring;
		b->harvest_wanted = true;
		uint64_t seen = b->harvests;
		pthread_cond_broadcast(&b->cond);
		while (b->harvests == seen && !atomic_load(&b->stop))
			pthread_cond_wait(&b->cond, &b->lock);
		pthread_mutex_unlock(&b->lock);
	}
	return NULL;
}

/* One round of roam's way (vm_dirty_log_collect): read the log, re-arm what was read, merge. Returns pages read. */
static uint64_t collect_log(struct bench *b)
{
	uint64_t *log = calloc(b->bitmap_words, sizeof(*log)), count = 0;
	if (!log)
		die_errno("calloc(dirty log)");
	struct kvm_dirty_log get = {.slot = 0, .dirty_bitmap = log};
	KVM(b->vm_fd, KVM_GET_DIRTY_LOG, &get);
	if (b->log_manual) {
		struct kvm_clear_dirty_log clear = {
		    .slot = 0, .num_pages = (uint32_t)b->slot_pages, .first_page = 0, .dirty_bitmap = log};
		KVM(b->vm_fd, KVM_CLEAR_DIRTY_LOG, &clear);
	}
	for (uint64_t w = 0; w < b->bitmap_words; w++) {
		count += (uint64_t)__builtin_popcountll(log[w]);
		b->dirty[w] |= log[w];
	}
	free(log);
	return count;
}

/* One harvest of the ring: every dirty entry in order into the bitmap, marked for reset; then KVM re-protects. */
static uint64_t collect_ring(struct bench *b)
{
	uint32_t mask = (uint32_t)b->opt.ring_entries - 1;
	uint64_t count = 0;
	for (;; b->ring_next++) {
		struct kvm_dirty_gfn *e = &b->ring[b->ring_next & mask];
		/* Acquire: the slot and offset KVM wrote before it published the flag. */
		if (!(__atomic_load_n(&e->flags, __ATOMIC_ACQUIRE) & KVM_DIRTY_GFN_F_DIRTY))
			break;
		if (e->slot == 0 && e->offset < b->slot_pages)
			b->dirty[e->offset / 64] |= 1ull << (e->offset % 64);
		count++;
		/* Release: our reads of the entry are done before KVM may reuse it. */
		__atomic_store_n(&e->flags, KVM_DIRTY_GFN_F_RESET, __ATOMIC_RELEASE);
	}
	if (count)
		KVM(b->vm_fd, KVM_RESET_DIRTY_RINGS, 0);
	return count;
}

static void sleep_until(int64_t t_ns)
{
	struct timespec ts = {.tv_sec = t_ns / 1000000000, .tv_nsec = t_ns % 1000000000};
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

/*
 * The collector: a round when *next_ns is due (then the next one is an interval later), or at once when a full ring
 * asks, until end_ns. Before the figures start (!measuring) it returns after the first scheduled round.
 */
static void collect_until(struct bench *b, int64_t end_ns, int64_t *next_ns)
{
	if (b->opt.mode == MODE_OFF) { /* nothing to collect */
		sleep_until(end_ns);
		return;
	}
	for (;;) {
		int64_t wake = *next_ns < end_ns ? *next_ns : end_ns;
		struct timespec ts = {.tv_sec = wake / 1000000000, .tv_nsec = wake % 1000000000};
		pthread_mutex_lock(&b->lock);
		while (!b->harvest_wanted && now_ns() < wake)
			pthread_cond_timedwait(&b->cond, &b->lock, &ts);
		bool asked = b->harvest_wanted, due = now_ns() >= *next_ns;
		b->harvest_wanted = false;
		pthread_mutex_unlock(&b->lock);
		if (!asked && !due)
			return; /* end_ns */
		if (due)
			*next_ns += (int64_t)b->opt.interval_ms * 1000000;
		int64_t t0 = now_ns();
		uint64_t n = b->opt.mode == MODE_LOG ? collect_log(b) : collect_ring(b);
		int64_t t1 = now_ns();
		pthread_mutex_lock(&b->lock);
		bool measuring = b->measuring;
		if (measuring) {
			samples_add(&b->collect_us, (double)(t1 - t0) / 1e3);
			samples_add(&b->dirty_pages, (double)n);
		}
		b->harvests++;
		pthread_cond_broadcast(&b->cond);
		pthread_mutex_unlock(&b->lock);
		if (due && !measuring)
			return; /* the warm-up round is done */
	}
}

static void on_signal(int sig)
{
	(void)sig; /* only there to interrupt KVM_RUN */
}

int main(int argc, char **argv)
{
	struct bench b = {.opt = parse_options(argc, argv), .page_size = sysconf(_SC_PAGESIZE)};
	b.slot_pages = (b.opt.mem_mib << 20) / (uint64_t)b.page_size;
	b.bitmap_words = (b.slot_pages + 63) / 64;
	if (!(b.dirty = calloc(b.bitmap_words, sizeof(*b.dirty))))
		die_errno("calloc(dirty bitmap)");
	struct sigaction sa = {.sa_handler = on_signal}; /* no SA_RESTART: KVM_RUN returns EINTR */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&b.cond, &ca);
	pthread_mutex_init(&b.lock, NULL);

	create_vm(&b);
	create_vcpu(&b);
	int64_t next = now_ns() + (int64_t)b.opt.interval_ms * 1000000;
	if ((errno = pthread_create(&b.vcpu_thread, NULL, vcpu_main, &b)))
		die_errno("pthread_create");

	/* Warm-up: up to the first round, which is left out of the figures. */
	collect_until(&b, next, &next);
	pthread_mutex_lock(&b.lock);
	b.measuring = true;
	pthread_mutex_unlock(&b.lock);
	struct progress p0 = read_progress(&b);
	collect_until(&b, p0.t_ns + (int64_t)b.opt.seconds * 1000000000, &next);
	struct progress p1 = read_progress(&b);

	/* Stop the vCPU: immediate_exit covers a KVM_RUN about to start, the signal one already running. */
	atomic_store(&b.stop, true);
	b.run->immediate_exit = 1;
	pthread_mutex_lock(&b.lock);
	pthread_cond_broadcast(&b.cond);
	pthread_mutex_unlock(&b.lock);
	pthread_kill(b.vcpu_thread, SIGUSR1);
	pthread_join(b.vcpu_thread, NULL);

	/* A migration's last round with the ring reads the backup bitmap too, once the vCPUs are stopped. */
	double bitmap_us = 0;
	uint64_t bitmap_pages = 0;
	if (b.ring_bitmap) {
		uint64_t *log = calloc(b.bitmap_words, sizeof(*log));
		if (!log)
			die_errno("calloc(backup bitmap)");
		struct kvm_dirty_log get = {.slot = 0, .dirty_bitmap = log};
		int64_t g0 = now_ns();
		KVM(b.vm_fd, KVM_GET_DIRTY_LOG, &get);
		bitmap_us = (double)(now_ns() - g0) / 1e3;
		for (uint64_t w = 0; w < b.bitmap_words; w++)
			bitmap_pages += (uint64_t)__builtin_popcountll(log[w]);
		free(log);
	}
	/* Passes from the pages written (finer than whole passes); the pass counter must agree with them. */
	double passes = (double)(p1.pages - p0.pages) / (double)b.opt.pages;
	double counted = (double)(p1.passes - p0.passes);
	if (p1.pages == p0.pages || counted < passes - 1.5 || counted > passes + 1.5) {
		fprintf(stderr,
			"dirtybench: the guest's counters make no sense: %llu passes and %llu pages in %llu s\n",
			(unsigned long long)(p1.passes - p0.passes), (unsigned long long)(p1.pages - p0.pages),
			(unsigned long long)b.opt.seconds);
		return 1;
	}
	printf("dirtybench: mode=%s mem_mib=%llu pages=%llu passes_per_s=%.1f collect_us_median=%.1f "
	       "collect_us_max=%.1f dirty_per_round_median=%.0f ring_full_exits=%llu rounds=%zu ring_bitmap_us=%.1f "
	       "ring_bitmap_pages=%llu\n",
	       mode_names[b.opt.mode], (unsigned long long)b.opt.mem_mib, (unsigned long long)b.opt.pages,
	       passes * 1e9 / (double)(p1.t_ns - p0.t_ns), samples_median(&b.collect_us), samples_max(&b.collect_us),
	       samples_median(&b.dirty_pages), (unsigned long long)b.ring_full_exits, b.collect_us.n, bitmap_us,
	       (unsigned long long)bitmap_pages);
	return 0;
}

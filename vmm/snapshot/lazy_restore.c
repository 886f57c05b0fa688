/* Lazy restore: see lazy_restore.h. */
#include "lazy_restore.h"

#include "core/clock.h"
#include "core/log.h"
#include "core/memory.h"
#include "crc32c.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* What an eager load reads at once. */
#define EAGER_READ (1u << 20)
#define FAULT_BATCH 16

struct lazy_slot {
	bool used, has_sums, pending; /* pending: its pages are not all in guest memory yet */
	uint8_t *host;
	uint64_t gpa, size, present;
	uint32_t page_size;
	uint8_t *bitmap; /* a copy of the section's */
	struct snapshot_lazy_pages where;
	char name[SNAPSHOT_NAME_LEN]; /* "memory 0" */
	uint32_t chunk_bytes;
	uint64_t nchunks;
	uint32_t *sums;
	uint64_t *first; /* chunk k's stored pages are data pages first[k] .. first[k + 1] - 1 */
	uint8_t *done; /* per chunk: loaded */
	uint64_t cursor; /* the background load's next chunk */
};

struct lazy_restore {
	int fd, uffd, stop_fd;
	char name[256];
	struct lazy_slot slots[MEMORY_MAX_SLOTS];
	uint8_t *chunk, *data; /* the loader's buffers: one chunk as guest memory, and as stored */
	uint32_t buf_bytes;
	pthread_t thread;
	bool thread_started;
	void (*fatal)(void *opaque);
	void *opaque;
	uint64_t start_ns;
	atomic_uint_fast64_t chunks, loaded, faults, end_ns;
	atomic_bool active, failed;
};

static bool page_stored(const struct lazy_slot *s, uint64_t i)
{
	return s->bitmap[i / 8] & (1u << (i % 8));
}

struct lazy_restore *lazy_restore_new(int fd, const char *name, void (*fatal)(void *opaque), void *opaque)
{
	struct lazy_restore *lz = calloc(1, sizeof(*lz));
	if (!lz)
		return NULL;
	lz->fatal = fatal;
	lz->opaque = opaque;
	lz->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	lz->uffd = lz->stop_fd = -1;
	snprintf(lz->name, sizeof(lz->name), "%s", name);
	if (lz->fd < 0) {
		free(lz);
		return NULL;
	}
	return lz;
}

int lazy_restore_add_memory(struct lazy_restore *lz, struct snapshot_reader *r, struct snapshot_section *sec,
			    uint32_t slot, uint8_t *host)
{
	if (slot >= MEMORY_MAX_SLOTS || lz->slots[slot].used)
		return snapshot_reader_fail(r, sec, -EINVAL, "a second memory section for slot %u", slot);
	struct lazy_slot *s = &lz->slots[slot];
	const struct snapshot_memory_info *m = &sec->mem;
	uint64_t npages = m->size / m->page_size, bm_len = npages / 8 + (npages % 8 != 0);
	s->bitmap = malloc(bm_len);
	if (!s->bitmap)
		return snapshot_reader_fail(r, sec, -ENOMEM, "out of memory for the page bitmap");
	memcpy(s->bitmap, m->bitmap, bm_len); /* before the skip: the reader's bitmap goes with the next section */
	int ret = snapshot_skip_memory_pages(r, sec, &s->where);
	if (ret < 0) {
		free(s->bitmap);
		s->bitmap = NULL;
		return ret;
	}
	s->used = s->pending = true;
	s->host = host;
	s->gpa = m->gpa;
	s->size = m->size;
	s->present = m->present;
	s->page_size = m->page_size;
	snprintf(s->name, sizeof(s->name), "%s", sec->name);
	return 0;
}

int lazy_restore_add_sums(struct lazy_restore *lz, uint32_t slot, const char *sec_name, uint32_t chunk_bytes,
			  uint32_t head_crc, uint64_t nchunks, const uint32_t *crc)
{
	struct lazy_slot *s = slot < MEMORY_MAX_SLOTS ? &lz->slots[slot] : NULL;
	if (!s || !s->used || !s->pending || s->has_sums)
		return log_errno(-EINVAL, "%s: section \"%s\": no memory section of slot %u before it", lz->name,
				 sec_name, slot);
	if (chunk_bytes < s->page_size || chunk_bytes % s->page_size || chunk_bytes > (1u << 20) ||
	    (chunk_bytes & (chunk_bytes - 1)) || nchunks != s->size / chunk_bytes + (s->size % chunk_bytes != 0))
		return log_errno(-EBADMSG,
				 "%s: section \"%s\": corrupt (%" PRIu64 " chunks of %u bytes for %" PRIu64
				 " MiB of %u-byte pages)",
				 lz->name, sec_name, nchunks, chunk_bytes, s->size >> 20, s->page_size);
	if (head_crc != s->where.head_crc)
		return log_errno(-EBADMSG,
				 "%s: section \"%s\": its header or page bitmap is damaged (checksum 0x%08x, the sums "
				 "say 0x%08x)",
				 lz->name, s->name, s->where.head_crc, head_crc);
	s->sums = malloc(nchunks * sizeof(*s->sums));
	s->first = malloc((nchunks + 1) * sizeof(*s->first));
	s->done = calloc(nchunks, 1);
	if (!s->sums || !s->first || !s->done)
		return log_errno(-ENOMEM, "%s: out of memory for the chunk checksums", lz->name);
	memcpy(s->sums, crc, nchunks * sizeof(*crc));
	uint64_t per = chunk_bytes / s->page_size, npages = s->size / s->page_size, rank = 0;
	for (uint64_t k = 0; k < nchunks; k++) {
		s->first[k] = rank;
		for (uint64_t i = k * per; i < (k + 1) * per && i < npages; i++)
			rank += page_stored(s, i);
	}
	s->first[nchunks] = rank;
	s->chunk_bytes = chunk_bytes;
	s->nchunks = nchunks;
	s->has_sums = true;
	return 0;
}

bool lazy_restore_pending(const struct lazy_restore *lz, uint32_t slot)
{
	return slot < MEMORY_MAX_SLOTS && lz->slots[slot].pending;
}

/* Reads exactly len bytes at off; 0 or -errno (-ENODATA at the end of the file). */
static int read_at(int fd, uint8_t *dst, uint64_t len, uint64_t off)
{
	while (len) {
		ssize_t n = pread(fd, dst, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -ENODATA;
		dst += n;
		len -= (uint64_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

int lazy_restore_load_slot(struct lazy_restore *lz, uint32_t slot)
{
	struct lazy_slot *s = &lz->slots[slot];
	if (!lazy_restore_pending(lz, slot))
		return 0;
	uint8_t *buf = malloc(EAGER_READ);
	if (!buf)
		return log_errno(-ENOMEM, "%s: out of memory", lz->name);
	uint64_t npages = s->size / s->page_size, per = EAGER_READ / s->page_size, off = s->where.file_offset;
	uint32_t crc = s->where.head_crc;
	int ret = 0;
	for (uint64_t i = 0; i < npages && !ret;) {
		/* The next `per` stored pages, read at once, then put in their places. */
		uint64_t got = 0, j = i;
		while (j < npages && got < per)
			got += page_stored(s, j++);
		ret = read_at(lz->fd, buf, got * s->page_size, off);
		if (ret)
			break;
		crc = crc32c_update(crc, buf, got * s->page_size);
		off += got * s->page_size;
		for (uint64_t n = 0; i < j; i++)
			if (page_stored(s, i))
				memcpy(s->host + i * s->page_size, buf + n++ * s->page_size, s->page_size);
	}
	free(buf);
	if (ret)
		return log_errno(ret, "%s: section \"%s\": cannot read its pages: %s", lz->name, s->name,
				 ret == -ENODATA ? "the file is truncated" : strerror(-ret));
	if (crc != s->where.trailer_crc)
		return log_errno(-EBADMSG, "%s: section \"%s\": checksum mismatch (stored 0x%08x, computed 0x%08x)",
				 lz->name, s->name, s->where.trailer_crc, crc);
	s->pending = false;
	return 0;
}

int lazy_restore_load_all(struct lazy_restore *lz)
{
	for (uint32_t i = 0; i < MEMORY_MAX_SLOTS; i++) {
		int ret = lazy_restore_load_slot(lz, i);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * Copies `len` bytes from src into the registered memory at dst. EAGAIN (the address space changed under the copy)
 * is retried from where it stopped; a page that is present already (EEXIST) is left as it is.
 */
static int uffd_copy(int uffd, uint8_t *dst, const uint8_t *src, uint64_t len, uint32_t page_size)
{
	uint64_t done = 0;
	for (int tries = 0; done < len && tries < 100; tries++) {
		struct uffdio_copy c = {
		    .dst = (uintptr_t)(dst + done), .src = (uintptr_t)(src + done), .len = len - done};
		if (ioctl(uffd, UFFDIO_COPY, &c) == 0)
			return 0;
		int err = errno;
		if (c.copy > 0)
			done += (uint64_t)c.copy;
		if (err == EAGAIN)
			continue;
		if (err != EEXIST)
			return -err;
		for (uint64_t o = done; o < len; o += page_size) {
			struct uffdio_copy p = {
			    .dst = (uintptr_t)(dst + o), .src = (uintptr_t)(src + o), .len = page_size};
			if (ioctl(uffd, UFFDIO_COPY, &p) < 0 && errno != EEXIST)
				return -errno;
		}
		return 0;
	}
	return done < len ? -EAGAIN : 0;
}

/* Zeroes `len` bytes of the registered memory at dst; pages present already are left as they are. */
static int uffd_zero(int uffd, uint8_t *dst, uint64_t len, uint32_t page_size)
{
	for (uint64_t o = 0, step = len; o < len;) {
		struct uffdio_zeropage z = {.range = {.start = (uintptr_t)(dst + o), .len = step}};
		int rc, tries = 0;
		while ((rc = ioctl(uffd, UFFDIO_ZEROPAGE, &z)) < 0 && errno == EAGAIN && ++tries < 100)
			z.zeropage = 0;
		if (rc == 0 || (errno == EEXIST && step == page_size))
			o += step;
		else if (errno == EEXIST)
			step = page_size; /* again from o, page by page */
		else
			return -errno;
	}
	return 0;
}

/* The bytes of chunk k of slot s (the last chunk may be shorter). */
static uint64_t chunk_len(const struct lazy_slot *s, uint64_t k)
{
	uint64_t from = k * s->chunk_bytes;
	return s->size - from < s->chunk_bytes ? s->size - from : s->chunk_bytes;
}

/*
 * Reads the stored pages of chunk k of slot s into lz->data and checks them against the chunk's sum. 0, or -errno
 * after a line naming the chunk and its guest range (a damaged chunk ends the guest: it cannot go on without it).
 */
static int read_chunk(struct lazy_restore *lz, struct lazy_slot *s, uint64_t k)
{
	uint64_t stored = s->first[k + 1] - s->first[k], from = k * s->chunk_bytes, len = chunk_len(s, k);
	if (!stored)
		return 0;
	int ret = read_at(lz->fd, lz->data, stored * s->page_size, s->where.file_offset + s->first[k] * s->page_size);
	if (ret)
		return log_errno(ret, "%s: section \"%s\": cannot read chunk %" PRIu64 ": %s", lz->name, s->name, k,
				 ret == -ENODATA ? "the file is truncated" : strerror(-ret));
	uint32_t crc = crc32c(lz->data, stored * s->page_size);
	if (crc != s->sums[k])
		return log_errno(-EBADMSG,
				 "%s: section \"%s\": chunk %" PRIu64 " (guest 0x%" PRIx64 "-0x%" PRIx64
				 ") is damaged (checksum stored 0x%08x, computed 0x%08x): the guest cannot go on with "
				 "corrupt memory; stopping it",
				 lz->name, s->name, k, s->gpa + from, s->gpa + from + len - 1, s->sums[k], crc);
	return 0;
}

/* Loads chunk k of slot s: reads and checks its stored pages, then copies the chunk in. 0 or -errno after a line. */
static int load_chunk(struct lazy_restore *lz, struct lazy_slot *s, uint64_t k)
{
	if (s->done[k])
		return 0;
	uint64_t from = k * s->chunk_bytes, len = chunk_len(s, k);
	uint64_t stored = s->first[k + 1] - s->first[k];
	int ret = 0;
	if (!stored) {
		ret = uffd_zero(lz->uffd, s->host + from, len, s->page_size);
	} else {
		ret = read_chunk(lz, s, k);
		if (ret)
			return ret;
		memset(lz->chunk, 0, len);
		for (uint64_t i = 0, n = 0; i < len / s->page_size; i++)
			if (page_stored(s, from / s->page_size + i))
				memcpy(lz->chunk + i * s->page_size, lz->data + n++ * s->page_size, s->page_size);
		ret = uffd_copy(lz->uffd, s->host + from, lz->chunk, len, s->page_size);
	}
	if (ret)
		return log_errno(ret, "%s: cannot load chunk %" PRIu64 " of section \"%s\": %s", lz->name, k, s->name,
				 strerror(-ret));
	s->done[k] = 1;
	atomic_fetch_add(&lz->loaded, 1);
	return 0;
}

/* The slot and chunk of a faulting address; false if it is in none (then it is not ours to serve). */
static bool find_chunk(struct lazy_restore *lz, uint64_t addr, struct lazy_slot **out, uint64_t *k)
{
	for (int i = 0; i < MEMORY_MAX_SLOTS; i++) {
		struct lazy_slot *s = &lz->slots[i];
		if (s->has_sums && s->pending && addr >= (uintptr_t)s->host && addr - (uintptr_t)s->host < s->size) {
			*out = s;
			*k = (addr - (uintptr_t)s->host) / s->chunk_bytes;
			return true;
		}
	}
	return false;
}

/* Serves the faults waiting on the userfaultfd. 0 or -errno after a line. */
static int serve_faults(struct lazy_restore *lz)
{
	struct uffd_msg msg[FAULT_BATCH];
	for (;;) {
		ssize_t n = read(lz->uffd, msg, sizeof(msg));
		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : log_errno(-errno, "lazy restore: userfaultfd");
		for (size_t i = 0; i < (size_t)n / sizeof(msg[0]); i++) {
			struct lazy_slot *s;
			uint64_t k;
			if (msg[i].event != UFFD_EVENT_PAGEFAULT ||
			    !find_chunk(lz, msg[i].arg.pagefault.address, &s, &k))
				continue;
			atomic_fetch_add(&lz->faults, !s->done[k]);
			int ret = load_chunk(lz, s, k);
			if (ret)
				return ret;
			/* A fault on a chunk loaded meanwhile: the copy woke its thread; waking it again is harmless.
			 */
			struct uffdio_range page = {
			    .start = msg[i].arg.pagefault.address & ~(uint64_t)(s->page_size - 1), .len = s->page_size};
			ioctl(lz->uffd, UFFDIO_WAKE, &page);
		}
	}
}

/* The next chunk the background load takes, or false when every one is in. */
static bool next_chunk(struct lazy_restore *lz, struct lazy_slot **out, uint64_t *k)
{
	for (int i = 0; i < MEMORY_MAX_SLOTS; i++) {
		struct lazy_slot *s = &lz->slots[i];
		while (s->has_sums && s->pending && s->cursor < s->nchunks && s->done[s->cursor])
			s->cursor++;
		if (s->has_sums && s->pending && s->cursor < s->nchunks) {
			*out = s;
			*k = s->cursor;
			return true;
		}
	}
	return false;
}

/* Takes the slots off the userfaultfd once every chunk is in: from then on the memory is plain memory. */
static void finish(struct lazy_restore *lz)
{
	for (int i = 0; i < MEMORY_MAX_SLOTS; i++) {
		struct lazy_slot *s = &lz->slots[i];
		if (!s->has_sums || !s->pending)
			continue;
		struct uffdio_range r = {.start = (uintptr_t)s->host, .len = s->size};
		ioctl(lz->uffd, UFFDIO_UNREGISTER, &r);
		s->pending = false;
	}
	atomic_store(&lz->end_ns, monotonic_ns());
	close(lz->fd); /* the file is not needed any more */
	lz->fd = -1;
	/* No line here: the guest's console may be printing on the same terminal (status and --timing tell). */
}

/* The loader: faults first, the background load between them. */
static void *loader(void *arg)
{
	struct lazy_restore *lz = arg;
	int ret = 0;
	for (;;) {
		struct lazy_slot *s;
		uint64_t k;
		if (!next_chunk(lz, &s, &k)) {
			finish(lz); /* a fault still queued is for a chunk now in: UFFDIO_COPY woke its thread */
			break;
		}
		struct pollfd p[2] = {{.fd = lz->uffd, .events = POLLIN}, {.fd = lz->stop_fd, .events = POLLIN}};
		if (poll(p, 2, 0) < 0 && errno != EINTR) {
			ret = log_errno(-errno, "lazy restore: poll");
			break;
		}
		if (p[1].revents)
			break;
		ret = p[0].revents ? serve_faults(lz) : load_chunk(lz, s, k);
		if (ret)
			break;
	}
	if (ret) {
		atomic_store(&lz->failed, true);
		if (lz->fatal)
			lz->fatal(lz->opaque);
	}
	atomic_store(&lz->active, false);
	return NULL;
}

/* A userfaultfd that also takes faults from the kernel (KVM's stage-2 faults); -1 with errno if none. */
static int open_uffd(void)
{
	int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -1;
	struct uffdio_api api = {.api = UFFD_API};
	if (ioctl(fd, UFFDIO_API, &api) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/*
 * Chunks already in memory before the registration - something touched them during the restore, and with huge pages
 * a touch makes a whole 2 MiB present - would never fault, and UFFDIO_COPY could not fill them: they are loaded
 * here, by plain copies (their stored pages; the rest keeps what it has, as after an eager load). 0 or -errno.
 */
static int load_present(struct lazy_restore *lz, struct lazy_slot *s)
{
	uint64_t npages = s->size / s->page_size, per = s->chunk_bytes / s->page_size;
	long host_page = sysconf(_SC_PAGESIZE);
	unsigned char *vec = malloc(s->size / (uint64_t)host_page);
	if (!vec || mincore(s->host, s->size, vec) < 0) {
		free(vec);
		return log_errno(-ENOMEM, "%s: cannot tell which memory is present", lz->name);
	}
	int ret = 0;
	for (uint64_t k = 0; k < s->nchunks && !ret; k++) {
		uint64_t first = k * s->chunk_bytes / (uint64_t)host_page,
			 last = first + s->chunk_bytes / (uint64_t)host_page;
		bool present = false;
		for (uint64_t h = first; h < last && h < s->size / (uint64_t)host_page; h++)
			present |= vec[h] & 1;
		if (!present)
			continue;
		ret = read_chunk(lz, s, k);
		for (uint64_t i = k * per, n = 0; !ret && i < (k + 1) * per && i < npages; i++) {
			volatile uint8_t *page = s->host + i * s->page_size;
			if (page_stored(s, i))
				memcpy((uint8_t *)page, lz->data + n++ * s->page_size, s->page_size);
			else
				(void)page[0]; /* present from now on (a zero page if it was not), never a fault */
		}
		if (!ret) {
			s->done[k] = 1;
			atomic_fetch_add(&lz->loaded, 1);
		}
	}
	free(vec);
	return ret;
}

/* Registers every slot that loads lazily; false (errno set) if one cannot be. */
static bool register_slots(struct lazy_restore *lz)
{
	for (int i = 0; i < MEMORY_MAX_SLOTS; i++) {
		struct lazy_slot *s = &lz->slots[i];
		if (!s->has_sums || !s->pending)
			continue;
		struct uffdio_register reg = {.range = {.start = (uintptr_t)s->host, .len = s->size},
					      .mode = UFFDIO_REGISTER_MODE_MISSING};
		if (ioctl(lz->uffd, UFFDIO_REGISTER, &reg) < 0)
			return false;
		if (!(reg.ioctls & (1ull << _UFFDIO_COPY)) || !(reg.ioctls & (1ull << _UFFDIO_ZEROPAGE))) {
			errno = ENOTSUP;
			return false;
		}
		atomic_fetch_add(&lz->chunks, s->nchunks);
	}
	return true;
}

int lazy_restore_start(struct lazy_restore *lz)
{
	uint32_t biggest = 0;
	long host_page = sysconf(_SC_PAGESIZE);
	for (uint32_t i = 0; i < MEMORY_MAX_SLOTS; i++) {
		struct lazy_slot *s = &lz->slots[i];
		/* Without sums (an older snapshot) or with chunks the host cannot map, a slot loads now. */
		if (s->pending && (!s->has_sums || host_page <= 0 || s->chunk_bytes % (uint32_t)host_page)) {
			int ret = lazy_restore_load_slot(lz, i);
			if (ret)
				return ret;
		}
		if (s->pending && s->chunk_bytes > biggest)
			biggest = s->chunk_bytes;
	}
	if (!biggest)
		return 0;
	lz->chunk = malloc(biggest);
	lz->data = malloc(biggest);
	lz->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (!lz->chunk || !lz->data || lz->stop_fd < 0)
		return log_errno(-ENOMEM, "%s: cannot set up the lazy load", lz->name);
	for (uint32_t i = 0; i < MEMORY_MAX_SLOTS; i++) {
		int ret = lz->slots[i].pending && lz->slots[i].has_sums ? load_present(lz, &lz->slots[i]) : 0;
		if (ret)
			return ret;
	}
	lz->uffd = open_uffd();
	if (lz->uffd < 0 || !register_slots(lz)) {
		log_info("%s: userfaultfd is not available here (%s): loading memory before the guest runs", lz->name,
			 strerror(errno));
		if (lz->uffd >= 0)
			close(lz->uffd);
		lz->uffd = -1;
		atomic_store(&lz->chunks, 0);
		atomic_store(&lz->loaded, 0);
		return lazy_restore_load_all(lz);
	}
	lz->start_ns = monotonic_ns();
	atomic_store(&lz->active, true);
	if (pthread_create(&lz->thread, NULL, loader, lz)) {
		atomic_store(&lz->active, false);
		return log_errno(-EAGAIN, "%s: cannot start the loader thread", lz->name);
	}
	lz->thread_started = true;
	return 0;
}

void lazy_restore_progress(struct lazy_restore *lz, struct lazy_restore_progress *p)
{
	uint64_t end = atomic_load(&lz->end_ns);
	p->active = atomic_load(&lz->active);
	p->chunks = atomic_load(&lz->chunks);
	p->chunks_loaded = atomic_load(&lz->loaded);
	p->faults = atomic_load(&lz->faults);
	p->ms = lz->start_ns ? ((end ? end : monotonic_ns()) - lz->start_ns) / 1e6 : 0;
}

int lazy_restore_wait(struct lazy_restore *lz)
{
	if (lz->thread_started) {
		pthread_join(lz->thread, NULL);
		lz->thread_started = false;
	}
	return atomic_load(&lz->failed) ? -EIO : 0;
}

int lazy_restore_complete(struct lazy_restore *lz)
{
	while (lz && atomic_load(&lz->active))
		nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
	return lz && atomic_load(&lz->failed) ? -EIO : 0;
}

void lazy_restore_free(struct lazy_restore *lz)
{
	if (!lz)
		return;
	if (lz->thread_started) {
		uint64_t one = 1;
		ssize_t unused = write(lz->stop_fd, &one, sizeof(one));
		(void)unused;
		pthread_join(lz->thread, NULL);
	}
	for (int i = 0; i < MEMORY_MAX_SLOTS; i++) {
		free(lz->slots[i].bitmap);
		free(lz->slots[i].sums);
		free(lz->slots[i].first);
		free(lz->slots[i].done);
	}
	if (lz->uffd >= 0)
		close(lz->uffd);
	if (lz->stop_fd >= 0)
		close(lz->stop_fd);
	if (lz->fd >= 0)
		close(lz->fd);
	free(lz->chunk);
	free(lz->data);
	free(lz);
}

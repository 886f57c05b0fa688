/*
 * virtio-blk (device ID 2) on a raw image file, one per --disk FILE[,ro]. Requests: read, write, flush (fsync, so
 * data the guest flushed survives roam being killed), get-id (the file's base name) and discard (a hole punched in
 * the file). A read-only disk offers VIRTIO_BLK_F_RO and fails writes and discards with VIRTIO_BLK_S_IOERR.
 *
 * Requests run on the device's I/O thread, straight between guest memory and the file (preadv/pwritev on the
 * chain's buffers, no copy), and each completes before the next starts, so a paused device has nothing in flight.
 * A request without room for its header or status byte is a malformed chain: the device goes to NEEDS_RESET. A read
 * into more than 4 GiB - 2 bytes of buffers (possible with a chain of 256 large buffers) fails with
 * VIRTIO_BLK_S_IOERR, as its used length would not fit the used ring's 32 bits.
 */
#include "device.h"
#include "virtio_mmio.h"

#include "core/device_options.h"
#include "core/errbuf.h"
#include "core/log.h"
#include "core/vm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define VIRTIO_ID_BLOCK 2
#define VIRTIO_BLK_F_SEG_MAX 2
#define VIRTIO_BLK_F_RO 5
#define VIRTIO_BLK_F_BLK_SIZE 6
#define VIRTIO_BLK_F_FLUSH 9
#define VIRTIO_BLK_F_DISCARD 13

#define VIRTIO_BLK_T_IN 0
#define VIRTIO_BLK_T_OUT 1
#define VIRTIO_BLK_T_FLUSH 4
#define VIRTIO_BLK_T_GET_ID 8
#define VIRTIO_BLK_T_DISCARD 11

#define VIRTIO_BLK_S_OK 0
#define VIRTIO_BLK_S_IOERR 1
#define VIRTIO_BLK_S_UNSUPP 2

#define VIRTIO_BLK_DISCARD_F_UNMAP 1
#define VIRTIO_BLK_ID_BYTES 20
#define BLK_SECTOR 512ull
#define BLK_HEADER 16
#define BLK_SEG_MAX (VIRTQUEUE_MAX_SEGS - 2) /* and the header and status buffers */
#define BLK_DISCARD_SEG_MAX 16
#define BLK_DISCARD_SECTORS_MAX 0x400000u /* 2 GiB per segment */
#define BLK_DISCARD_ALIGN_SECTORS 8 /* 4 KiB: a page of the file */
#define BLK_CONFIG_SIZE 60

struct virtio_blk {
	struct virtio_mmio *t; /* first: see virtio_mmio.h */
	char path[VM_DEVICE_OPTION_VALUE_MAX];
	int fd;
	bool readonly;
	bool locked; /* holds the image's flock (a migration's destination takes it once the guest arrives) */
	uint64_t capacity; /* in 512-byte sectors */
	char id[VIRTIO_BLK_ID_BYTES];
	struct virtq_chain chain;
	struct iovec iov[VIRTQUEUE_MAX_SEGS];
};

static uint64_t le_get(const uint8_t *p, int bytes)
{
	uint64_t v = 0;
	for (int i = bytes - 1; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static void le_put(uint8_t *p, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* True when [sector, sector + bytes/512) lies on the disk; bytes must be whole sectors. */
static bool blk_in_range(const struct virtio_blk *b, uint64_t sector, uint64_t bytes)
{
	return bytes % BLK_SECTOR == 0 && sector <= b->capacity && bytes / BLK_SECTOR <= b->capacity - sector;
}

/* preadv/pwritev until everything moved; a short transfer (end of file) is an error. Returns 0 or -errno. */
static int blk_io(int fd, struct iovec *iov, int n, uint64_t off, bool write)
{
	while (n > 0) {
		ssize_t done = write ? pwritev(fd, iov, n, (off_t)off) : preadv(fd, iov, n, (off_t)off);
		if (done < 0 && errno == EINTR)
			continue;
		if (done < 0)
			return -errno;
		if (done == 0)
			return -EIO;
		off += (uint64_t)done;
		while (n > 0 && (size_t)done >= iov->iov_len) {
			done -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (uint8_t *)iov->iov_base + done;
			iov->iov_len -= (size_t)done;
		}
	}
	return 0;
}

static uint8_t blk_discard(struct virtio_blk *b, const struct virtq_chain *c)
{
	uint64_t bytes = c->read_len - BLK_HEADER;
	if (b->readonly)
		return VIRTIO_BLK_S_IOERR;
	if (bytes == 0 || bytes % 16 || bytes / 16 > BLK_DISCARD_SEG_MAX)
		return VIRTIO_BLK_S_IOERR;
	for (uint64_t off = BLK_HEADER; off < c->read_len; off += 16) {
		uint8_t seg[16];
		virtq_chain_read(c, off, seg, sizeof(seg));
		uint64_t sector = le_get(seg, 8);
		uint32_t count = (uint32_t)le_get(seg + 8, 4), flags = (uint32_t)le_get(seg + 12, 4);
		if (flags & ~(uint32_t)VIRTIO_BLK_DISCARD_F_UNMAP)
			return VIRTIO_BLK_S_UNSUPP;
		if (count > BLK_DISCARD_SECTORS_MAX || !blk_in_range(b, sector, (uint64_t)count * BLK_SECTOR))
			return VIRTIO_BLK_S_IOERR;
		if (count &&
		    fallocate(b->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)(sector * BLK_SECTOR),
			      (off_t)count * (off_t)BLK_SECTOR) < 0 &&
		    errno != EOPNOTSUPP)
			return VIRTIO_BLK_S_IOERR; /* a file system without holes: discard is only a hint */
	}
	return VIRTIO_BLK_S_OK;
}

/* Executes one request; returns its status and sets *written to the data bytes put into the chain. */
static uint8_t blk_execute(struct virtio_blk *b, const struct virtq_chain *c, uint32_t type, uint64_t sector,
			   uint32_t *written)
{
	uint64_t data_in = c->write_len - 1; /* room for data before the status byte */
	uint64_t data_out = c->read_len - BLK_HEADER;
	int n;
	*written = 0;
	switch (type) {
	case VIRTIO_BLK_T_IN:
		/* The used length (data and status byte) is a u32: a larger read could not be reported right. */
		if (data_in > UINT32_MAX - 1 || !blk_in_range(b, sector, data_in))
			return VIRTIO_BLK_S_IOERR;
		n = virtq_chain_writable_iov(c, data_in, b->iov, VIRTQUEUE_MAX_SEGS);
		if (blk_io(b->fd, b->iov, n, sector * BLK_SECTOR, false) < 0)
			return VIRTIO_BLK_S_IOERR;
		*written = (uint32_t)data_in;
		return VIRTIO_BLK_S_OK;
	case VIRTIO_BLK_T_OUT:
		if (b->readonly || !blk_in_range(b, sector, data_out))
			return VIRTIO_BLK_S_IOERR;
		n = virtq_chain_readable_iov(c, BLK_HEADER, b->iov, VIRTQUEUE_MAX_SEGS);
		return blk_io(b->fd, b->iov, n, sector * BLK_SECTOR, true) < 0 ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK;
	case VIRTIO_BLK_T_FLUSH:
		if (b->readonly)
			return VIRTIO_BLK_S_OK;
		return fsync(b->fd) < 0 ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK;
	case VIRTIO_BLK_T_GET_ID:
		*written = (uint32_t)virtq_chain_write(c, 0, b->id, data_in < sizeof(b->id) ? data_in : sizeof(b->id));
		return VIRTIO_BLK_S_OK;
	case VIRTIO_BLK_T_DISCARD:
		return blk_discard(b, c);
	default:
		return VIRTIO_BLK_S_UNSUPP;
	}
}

/* Executes one request and completes it; false for a chain that cannot be a request (header or status missing). */
static bool blk_request(struct virtio_blk *b, struct virtqueue *vq, const struct virtq_chain *c)
{
	if (c->read_len < BLK_HEADER || c->write_len < 1)
		return false;
	uint8_t header[BLK_HEADER];
	virtq_chain_read(c, 0, header, sizeof(header));
	uint32_t written;
	uint8_t status = blk_execute(b, c, (uint32_t)le_get(header, 4), le_get(header + 8, 8), &written);
	virtq_chain_write(c, c->write_len - 1, &status, 1);
	virtqueue_push(vq, c, written + 1);
	return true;
}

static void virtio_blk_notify(void *backend, int q)
{
	struct virtio_blk *b = backend;
	struct virtqueue *vq = virtio_mmio_queue(b->t, q);
	struct virtq_chain *c = &b->chain;
	bool done = false;
	int ret;
	do {
		virtqueue_set_notify(vq, false); /* the thread is at work: no need to kick it */
		while ((ret = virtqueue_pop(vq, virtio_mmio_memory(b->t), c)) > 0) {
			if (!blk_request(b, vq, c)) {
				char why[96];
				snprintf(why, sizeof(why),
					 "chain %u has no room for a 16-byte header and a status byte", c->head);
				virtio_mmio_fail(b->t, q, why);
				return;
			}
			done = true;
		}
	} while (ret == 0 && virtqueue_set_notify(vq, true));
	if (ret < 0)
		virtio_mmio_fail(b->t, q, NULL);
	if (done)
		virtio_mmio_notify(b->t, vq);
}

static const struct virtio_backend_ops virtio_blk_ops = {
    .kind = "blk",
    .device_id = VIRTIO_ID_BLOCK,
    .nr_queues = 1,
    .queue_notify = virtio_blk_notify,
};

#define BLK_MAX_DISKS 8

/* --disk FILE[,ro]: the image's path (path_size bytes at most) and the read-only flag. */
static bool blk_parse(const char *arg, char *path, size_t path_size, bool *readonly, char *err, size_t err_len)
{
	size_t len = strlen(arg);
	const char *comma = strrchr(arg, ',');
	*readonly = false;
	/* A last part of letters only is an option; anything else (e.g. "b.img" in "a,b.img") belongs to the name. */
	if (comma && strspn(comma + 1, "abcdefghijklmnopqrstuvwxyz") == strlen(comma + 1)) {
		if (strcmp(comma + 1, "ro") != 0)
			return errbuf_set(err, err_len, "--disk %s: unknown option '%s'; use FILE or FILE,ro", arg,
					  comma + 1);
		*readonly = true;
		len = (size_t)(comma - arg);
	}
	if (len == 0)
		return errbuf_set(err, err_len, "--disk '%s': no file given; use FILE or FILE,ro", arg);
	if (len >= path_size)
		return errbuf_set(err, err_len, "--disk: the path is longer than %zu bytes", path_size - 1);
	memcpy(path, arg, len);
	path[len] = '\0';
	return true;
}

static bool blk_check(const char *value, const struct vm_config *cfg, char *err, size_t err_len)
{
	(void)cfg;
	char path[VM_DEVICE_OPTION_VALUE_MAX];
	bool readonly;
	return blk_parse(value, path, sizeof(path), &readonly, err, err_len);
}

static const struct device_option virtio_blk_option = {
    .name = "disk",
    .syntax = "FILE[,ro]",
    .help = "a virtio-blk disk on a raw image (repeatable; ,ro: read-only)",
    .max = BLK_MAX_DISKS,
    .plural = "disks",
    .check = blk_check,
};

static int virtio_blk_count(const struct vm *vm)
{
	return device_option_count(&vm->cfg, virtio_blk_option.name);
}

static void virtio_blk_destroy(void *state)
{
	struct virtio_blk *b = state;
	virtio_mmio_destroy(b->t);
	if (b->fd >= 0)
		close(b->fd);
	free(b);
}

static int virtio_blk_lock(struct virtio_blk *b)
{
	int ret = flock(b->fd, (b->readonly ? LOCK_SH : LOCK_EX) | LOCK_NB);
	b->locked = ret == 0;
	return ret < 0 ? -errno : 0;
}

static void virtio_blk_release(void *state)
{
	struct virtio_blk *b = state;
	if (b->locked && flock(b->fd, LOCK_UN) == 0)
		b->locked = false;
}

/* Takes the image's lock, retrying every 5 ms for up to timeout_ms while another process holds it. */
static int virtio_blk_claim(void *state, int timeout_ms)
{
	struct virtio_blk *b = state;
	for (int waited = 0; !b->locked; waited += 5) {
		int ret = virtio_blk_lock(b);
		if (ret == -EWOULDBLOCK && waited < timeout_ms) {
			nanosleep(&(struct timespec){.tv_nsec = 5000000}, NULL);
			continue;
		}
		if (ret)
			return log_errno(ret, "disk %s: another process still has it open after %d s (flock: %s)",
					 b->path, timeout_ms / 1000, strerror(-ret));
	}
	return 0;
}

static int virtio_blk_open(struct virtio_blk *b, bool incoming)
{
	b->fd = open(b->path, (b->readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (b->fd < 0)
		return log_errno(-errno, "disk %s: cannot open it%s: %s", b->path, b->readonly ? "" : " for writing",
				 strerror(errno));
	int locked = virtio_blk_lock(b);
	if (locked == -EWOULDBLOCK && incoming)
		log_info(
		    "disk %s: in use (by the migration's source, on shared storage?): taken when the guest arrives",
		    b->path);
	else if (locked)
		return log_errno(locked, "disk %s: another process has it open (flock: %s)", b->path,
				 strerror(-locked));
	struct stat st;
	if (fstat(b->fd, &st) < 0)
		return log_errno(-errno, "disk %s: fstat: %s", b->path, strerror(errno));
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
		return log_errno(-EINVAL, "disk %s: not a regular file or block device", b->path);
	off_t size = lseek(b->fd, 0, SEEK_END);
	if (size < 0)
		return log_errno(-errno, "disk %s: cannot find its size: %s", b->path, strerror(errno));
	if ((uint64_t)size < BLK_SECTOR)
		return log_errno(-EINVAL, "disk %s: %lld bytes is less than one 512-byte sector", b->path,
				 (long long)size);
	if ((uint64_t)size % BLK_SECTOR)
		log_info("disk %s: its last %llu bytes are not a whole 512-byte sector; the guest does not see them",
			 b->path, (unsigned long long)((uint64_t)size % BLK_SECTOR));
	b->capacity = (uint64_t)size / BLK_SECTOR;
	const char *base = strrchr(b->path, '/');
	const char *id = base ? base + 1 : b->path;
	size_t id_len = strlen(id);
	memcpy(b->id, id, id_len < sizeof(b->id) ? id_len : sizeof(b->id)); /* unterminated at 20 bytes, as specified */
	return 0;
}

static int virtio_blk_create(struct vm *vm, int instance, void **state)
{
	struct virtio_blk *b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->fd = -1;
	*state = b;
	char err[256];
	const char *value = device_option_value(&vm->cfg, virtio_blk_option.name, instance);
	if (!value || !blk_parse(value, b->path, sizeof(b->path), &b->readonly, err, sizeof(err)))
		return log_errno(-EINVAL, "%s", value ? err : "virtio-blk: no --disk for this instance");
	int ret = virtio_blk_open(b, vm->cfg.incoming);
	if (ret < 0)
		return ret;

	uint8_t config[BLK_CONFIG_SIZE] = {0};
	le_put(config + 0, b->capacity, 8);
	le_put(config + 12, BLK_SEG_MAX, 4);
	le_put(config + 20, BLK_SECTOR, 4);
	le_put(config + 34, 1, 2); /* num_queues */
	le_put(config + 36, BLK_DISCARD_SECTORS_MAX, 4);
	le_put(config + 40, BLK_DISCARD_SEG_MAX, 4);
	le_put(config + 44, BLK_DISCARD_ALIGN_SECTORS, 4);
	uint64_t features = 1ull << VIRTIO_BLK_F_SEG_MAX | 1ull << VIRTIO_BLK_F_BLK_SIZE | 1ull << VIRTIO_BLK_F_FLUSH |
			    1ull << VIRTIO_BLK_F_DISCARD;
	if (b->readonly)
		features |= 1ull << VIRTIO_BLK_F_RO;
	ret = virtio_mmio_create(vm, &virtio_blk_ops, b, instance, features, config, sizeof(config), &b->t);
	return ret < 0 ? ret : virtio_mmio_start(b->t);
}

const struct device_desc virtio_blk_device = {
    .name = "virtio-blk",
    .option = &virtio_blk_option,
    .count = virtio_blk_count,
    .create_nth = virtio_blk_create,
    .destroy = virtio_blk_destroy,
    .fdt = virtio_mmio_dev_fdt,
    .snapshot_version = VIRTIO_MMIO_SNAPSHOT_VERSION,
    .save = virtio_mmio_dev_save,
    .restore = virtio_mmio_dev_restore,
    .pause = virtio_mmio_dev_pause,
    .resume = virtio_mmio_dev_resume,
    .release = virtio_blk_release,
    .claim = virtio_blk_claim,
};

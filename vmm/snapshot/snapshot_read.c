/*
 * The snapshot reader (see snapshot.h): validates the header, then hands over sections one by one, each only after
 * its length was bounded and its checksum verified. A seekable file is read with pread and its size known up front,
 * so a truncated section is reported before anything is allocated for it. Truncation, framing and I/O errors are
 * fatal (every later call fails the same); payload checksum mismatches too, except in inspect mode, where they are
 * reported per section. The input layer is snapshot_input.c, memory sections snapshot_read_memory.c.
 */
#include "core/log.h"
#include "crc32c.h"
#include "snapshot_format.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef ROAM_VERSION
#define ROAM_VERSION "unknown"
#endif

#define READ_BUF_SIZE SNAPSHOT_READ_BUF_SIZE
#define READ_GROW (1u << 20) /* a payload from a stream grows by this much at most: no huge allocation up front */

/* Checks that a NUL-padded header text field is printable ASCII, NUL-terminated, zero after the NUL. */
static bool text_field_ok(const char *s, size_t len)
{
	size_t n = strnlen(s, len);
	if (n == 0 || n == len)
		return false;
	for (size_t i = 0; i < len; i++)
		if (i < n ? (s[i] < ' ' || s[i] > '~') : s[i] != '\0')
			return false;
	return true;
}

static int r_header(struct snapshot_reader *r, const char *arch)
{
	uint8_t h[SNAPSHOT_HEADER_SIZE];
	int64_t n = snapshot_in_read(r, h, sizeof(h));
	if (n < 0)
		return snapshot_in_io(r, (int)n);
	if (n == 0)
		return snapshot_in_fatal(r, NULL, -EBADMSG, "not a roam snapshot (empty file)");
	if (memcmp(h, SNAPSHOT_MAGIC, n < 8 ? (size_t)n : 8)) {
		return snapshot_in_fatal(r, NULL, -EBADMSG, "not a roam snapshot (bad magic)");
	}
	struct snap_reader p;
	snap_reader_init(&p, h + 8, (size_t)n - (n < 8 ? (size_t)n : 8));
	uint32_t version = snap_get_u32(&p, "format version");
	if (!p.err && version > SNAPSHOT_FORMAT_VERSION)
		return snapshot_in_fatal(r, NULL, -ENOTSUP,
					 "format version %u is newer than this roam's %u; use a newer roam", version,
					 SNAPSHOT_FORMAT_VERSION);
	if (!p.err && version == 0)
		return snapshot_in_fatal(r, NULL, -EBADMSG, "corrupt header (format version 0)");
	if ((uint64_t)n < sizeof(h))
		return snapshot_in_truncated(r, "the file header", sizeof(h));
	uint32_t stored = snapshot_get_le32(h + SNAPSHOT_HEADER_SIZE - 4), computed = crc32c(h, sizeof(h) - 4);
	if (stored != computed)
		return snapshot_in_fatal(r, NULL, -EBADMSG, "header checksum mismatch (stored 0x%08x, computed 0x%08x)",
					 stored, computed);
	r->header.format_version = version;
	snap_get_bytes(&p, r->header.arch, SNAPSHOT_ARCH_LEN, "architecture");
	snap_get_bytes(&p, r->header.roam_version, SNAPSHOT_VERSION_LEN, "roam version");
	r->header.created = snap_get_u64(&p, "creation time");
	if (!text_field_ok(r->header.arch, SNAPSHOT_ARCH_LEN) ||
	    !text_field_ok(r->header.roam_version, SNAPSHOT_VERSION_LEN)) {
		memset(&r->header, 0, sizeof(r->header));
		return snapshot_in_fatal(r, NULL, -EBADMSG,
					 "corrupt header (architecture or roam version is not a name)");
	}
	if (arch && strcmp(arch, r->header.arch))
		return snapshot_in_fatal(r, NULL, -ENOEXEC, "made for %s, this is %s", r->header.arch, arch);
	return 0;
}

int snapshot_reader_open_fd(struct snapshot_reader *r, int fd, const char *name, const char *arch, unsigned flags)
{
	struct stat st;
	memset(r, 0, sizeof(*r));
	r->fd = fd;
	r->flags = flags;
	snprintf(r->name, sizeof(r->name), "%s", name);
	snprintf(r->prev_name, sizeof(r->prev_name), "the file header");
	r->buf = malloc(READ_BUF_SIZE);
	if (!r->buf)
		return snapshot_in_fatal(r, NULL, -ENOMEM, "out of memory");
	off_t pos = lseek(fd, 0, SEEK_CUR);
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && pos >= 0) {
		r->seekable = true;
		r->base = pos;
		r->file_size = st.st_size > pos ? (uint64_t)(st.st_size - pos) : 0;
	}
	return r_header(r, arch);
}

int snapshot_reader_open_path(struct snapshot_reader *r, const char *path, const char *arch, unsigned flags)
{
	if (!strcmp(path, "-"))
		return snapshot_reader_open_fd(r, STDIN_FILENO, "stdin", arch, flags);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int err = -errno;
		memset(r, 0, sizeof(*r));
		r->fd = -1;
		snprintf(r->name, sizeof(r->name), "%s", path);
		return snapshot_in_fatal(r, NULL, err, "cannot open: %s", strerror(-err));
	}
	int ret = snapshot_reader_open_fd(r, fd, path, arch, flags);
	r->owns_fd = true;
	return ret;
}

void snapshot_reader_close(struct snapshot_reader *r)
{
	if (r->owns_fd && r->fd >= 0)
		close(r->fd);
	r->fd = -1;
	r->owns_fd = false;
	free(r->buf);
	free(r->payload);
	free(r->bitmap);
	r->buf = r->payload = r->bitmap = NULL;
	r->buf_pos = r->buf_len = 0;
	r->cur_open = false;
	if (!r->fatal)
		r->fatal = -EBADF;
}

/* Reads the payload of a non-MEMORY section into r->payload (grown as data arrives when the size is not known). */
static int r_payload(struct snapshot_reader *r, struct snapshot_section *sec, uint64_t end, uint32_t *crc)
{
	uint64_t cap = r->seekable ? sec->length : (sec->length < READ_GROW ? sec->length : READ_GROW), got = 0;
	free(r->payload);
	r->payload = malloc(cap ? cap : 1);
	if (!r->payload)
		return snapshot_in_fatal(r, sec, -ENOMEM, "out of memory for %llu bytes", (unsigned long long)cap);
	while (got < sec->length) {
		if (got == cap) {
			uint64_t more = sec->length - cap < cap ? sec->length - cap : cap;
			uint8_t *p = realloc(r->payload, cap + more);
			if (!p)
				return snapshot_in_fatal(r, sec, -ENOMEM, "out of memory for %llu bytes",
							 (unsigned long long)(cap + more));
			r->payload = p;
			cap += more;
		}
		char what[SNAPSHOT_NAME_LEN + 16];
		snprintf(what, sizeof(what), "section \"%s\"", sec->name);
		int ret = snapshot_in_exact(r, r->payload + got, cap - got, what, end, crc);
		if (ret < 0)
			return ret;
		got = cap;
	}
	sec->payload = r->payload;
	return 0;
}

/* After END: nothing may follow. */
static int r_end(struct snapshot_reader *r, struct snapshot_section *sec)
{
	struct snap_reader p;
	snap_reader_init(&p, sec->payload, sec->length);
	uint64_t count = snap_get_u64(&p, "section count");
	if (!snap_reader_done(&p) || count != r->sections)
		return snapshot_in_fatal(r, sec, -EBADMSG, "corrupt (it counts %llu sections, %llu came before it)",
					 (unsigned long long)count, (unsigned long long)r->sections);
	uint8_t extra;
	if (r->flags & SNAPSHOT_READ_OPEN_AFTER_END) {
		r->ended = true;
		return 0;
	}
	if (r->seekable && r->file_size > r->offset)
		return snapshot_in_fatal(r, NULL, -EBADMSG, "%llu bytes of trailing data after the END section",
					 (unsigned long long)(r->file_size - r->offset));
	int64_t n = snapshot_in_read(r, &extra, 1);
	if (n < 0)
		return snapshot_in_io(r, (int)n);
	if (n > 0)
		return snapshot_in_fatal(r, NULL, -EBADMSG, "trailing data after the END section");
	r->ended = true;
	return 0;
}

/* Reads a section header into *sec and checks its framing and limits. Returns 0 or a fatal -errno. */
static int r_section_header(struct snapshot_reader *r, struct snapshot_section *sec, uint64_t *end)
{
	uint8_t h[SNAPSHOT_SECTION_HEADER_SIZE];
	struct snapshot_raw_section s;
	char what[SNAPSHOT_NAME_LEN + 48];
	snprintf(what, sizeof(what), "the section header after %s", r->prev_name);
	int64_t n = snapshot_in_read(r, h, sizeof(h));
	if (n < 0)
		return snapshot_in_io(r, (int)n);
	if (n == 0)
		return snapshot_in_fatal(r, NULL, -ENODATA, "truncated after %s (the END section is missing)",
					 r->prev_name);
	if ((uint64_t)n < sizeof(h))
		return snapshot_in_truncated(r, what, r->offset + sizeof(h) - (uint64_t)n);
	snapshot_decode_section_header(h, &s);
	if (s.stored_crc != s.computed_crc)
		return snapshot_in_fatal(
		    r, NULL, -EBADMSG,
		    "corrupt section header at offset %llu, after %s (checksum stored 0x%08x, computed "
		    "0x%08x)",
		    (unsigned long long)(r->offset - sizeof(h)), r->prev_name, s.stored_crc, s.computed_crc);
	memset(sec, 0, sizeof(*sec));
	sec->id = s.id;
	sec->instance = s.instance;
	sec->version = s.version;
	sec->flags = s.flags;
	sec->length = s.length;
	sec->offset = r->offset;
	sec->known = snapshot_section_id_name(s.id) != NULL;
	snapshot_section_name(s.id, s.instance, NULL, 0, sec->name, sizeof(sec->name));
	if (!snapshot_is_memory_id(s.id) && s.length > SNAPSHOT_MAX_PAYLOAD)
		return snapshot_in_fatal(r, sec, -EFBIG, "%llu bytes is more than the limit of %u MiB",
					 (unsigned long long)s.length, SNAPSHOT_MAX_PAYLOAD >> 20);
	if (!snapshot_add(sec->offset, s.length, end) || !snapshot_add(*end, SNAPSHOT_SECTION_TRAILER_SIZE, end))
		return snapshot_in_fatal(r, sec, -EFBIG, "length %llu is too large", (unsigned long long)s.length);
	snprintf(what, sizeof(what), "section \"%s\"", sec->name);
	if (r->seekable && *end > r->file_size) {
		r->offset = r->file_size; /* for the message: the file ends here */
		return snapshot_in_truncated(r, what, *end);
	}
	return 0;
}

/*
 * Whether a section must be refused: mandatory (END always is) with an id, flags or version this roam does not know.
 * If so, writes the reason into why.
 */
static bool r_refused(const struct snapshot_section *sec, uint32_t max, char *why, size_t len)
{
	uint32_t unknown_flags = sec->flags & ~SNAPSHOT_FLAG_MANDATORY;
	if (!(sec->flags & SNAPSHOT_FLAG_MANDATORY) && sec->id != SNAPSHOT_SEC_END)
		return false;
	if (!sec->known)
		snprintf(why, len, "section \"%s\" (version %u) is mandatory and unknown to roam %s; use a newer roam",
			 sec->name, sec->version, ROAM_VERSION);
	else if (unknown_flags)
		snprintf(why, len,
			 "section \"%s\" is mandatory and has flags %#x unknown to this roam; use a newer roam",
			 sec->name, sec->flags);
	else if (sec->version > max)
		snprintf(why, len, "section \"%s\" has version %u, newer than this roam's %u; use a newer roam",
			 sec->name, sec->version, max);
	else
		return false;
	return true;
}

int snapshot_read_next(struct snapshot_reader *r, struct snapshot_section *sec)
{
	bool inspect = r->flags & SNAPSHOT_READ_INSPECT;
	if (r->fatal || (r->cur_open && snapshot_in_finish(r, NULL) < 0))
		return r->fatal;
	if (r->ended)
		return 0;
	for (;;) {
		uint64_t end;
		uint32_t crc = 0;
		char what[SNAPSHOT_NAME_LEN + 16];
		int ret = r_section_header(r, sec, &end);
		if (ret < 0)
			return ret;
		snprintf(what, sizeof(what), "section \"%s\"", sec->name);
		uint32_t unknown_flags = sec->flags & ~SNAPSHOT_FLAG_MANDATORY;
		uint32_t max = snapshot_is_memory_id(sec->id) ? SNAPSHOT_MEMORY_VERSION
			       : sec->id == SNAPSHOT_SEC_END  ? SNAPSHOT_END_VERSION
							      : UINT32_MAX;
		char why[SNAPSHOT_ERR_LEN / 2];
		if (r_refused(sec, max, why, sizeof(why))) {
			/* Inspect mode lists it and goes on, but never past a bad END. */
			if (!inspect || sec->id == SNAPSHOT_SEC_END)
				return snapshot_in_fatal(r, NULL, -ENOTSUP, "%s", why);
			snapshot_reader_fail(r, NULL, -ENOTSUP, "%s", why);
			sec->refused = true;
		}
		if (sec->id == SNAPSHOT_SEC_END) {
			if (r_payload(r, sec, end, &crc) < 0 || snapshot_in_trailer(r, sec, what, crc) < 0)
				return r->fatal;
			if (!sec->crc_ok) /* inspect mode goes on after a mismatch, but not past the end */
				return snapshot_in_fatal(r, sec, -EBADMSG,
							 "checksum mismatch (stored 0x%08x, computed 0x%08x)",
							 sec->stored_crc, sec->computed_crc);
			return r_end(r, sec) < 0 ? r->fatal : 0;
		}
		r->sections++;
		if (!sec->known || unknown_flags || sec->version > max) {
			/* Optional and not for this roam: skip it, verified; inspect lists it. */
			if (snapshot_in_skip(r, sec->length, what, end, &crc) < 0 ||
			    snapshot_in_trailer(r, sec, what, crc) < 0)
				return r->fatal;
			snprintf(r->prev_name, sizeof(r->prev_name), "section \"%s\"", sec->name);
			if (inspect) {
				sec->known = false; /* listed as a section this roam does not read */
				return 1;
			}
			if (!sec->known)
				log_info("%s: skipping section \"%s\" (optional, unknown to this roam)", r->name,
					 sec->name);
			else if (unknown_flags)
				log_info("%s: skipping section \"%s\" (optional, flags %#x unknown to this roam)",
					 r->name, sec->name, sec->flags);
			else
				log_info(
				    "%s: skipping section \"%s\" (optional, version %u is newer than this roam's %u)",
				    r->name, sec->name, sec->version, max);
			continue;
		}
		if (snapshot_is_memory_id(sec->id)) {
			if (snapshot_in_memory_header(r, sec, what, end, &crc) < 0)
				return r->fatal;
			r->cur = *sec;
			r->cur_crc = crc;
			r->cur_open = true;
			return 1;
		}
		if (r_payload(r, sec, end, &crc) < 0)
			return r->fatal;
		snapshot_section_name(sec->id, sec->instance, sec->payload, sec->length, sec->name, sizeof(sec->name));
		if (snapshot_in_trailer(r, sec, what, crc) < 0)
			return r->fatal;
		snprintf(r->prev_name, sizeof(r->prev_name), "section \"%s\"", sec->name);
		return 1;
	}
}

int snapshot_skip_section(struct snapshot_reader *r, struct snapshot_section *sec)
{
	if (r->fatal)
		return r->fatal;
	if (!r->cur_open || sec->offset != r->cur.offset)
		return 0; /* complete already: read_next verified it */
	return snapshot_in_finish(r, sec);
}

int snapshot_section_begin(struct snapshot_reader *r, const struct snapshot_section *sec, uint32_t max_version,
			   struct snap_reader *p)
{
	if (r->fatal)
		return r->fatal;
	if (snapshot_is_memory_id(sec->id) || (sec->length && !sec->payload))
		return snapshot_reader_fail(r, sec, -EINVAL, "has no payload to decode");
	if (sec->version > max_version) {
		if (sec->flags & SNAPSHOT_FLAG_MANDATORY)
			return snapshot_reader_fail(r, NULL, -ENOTSUP,
						    "section \"%s\" has version %u, newer than this roam's %u; use a "
						    "newer roam",
						    sec->name, sec->version, max_version);
		log_info("%s: skipping section \"%s\" (optional, version %u is newer than this roam's %u)", r->name,
			 sec->name, sec->version, max_version);
		return 1;
	}
	snap_reader_init(p, sec->payload, sec->length);
	return 0;
}

int snapshot_section_end(struct snapshot_reader *r, const struct snapshot_section *sec, struct snap_reader *p)
{
	if (snap_reader_done(p))
		return 0;
	return snapshot_reader_fail(r, sec, -EBADMSG, "bad payload (%s)", p->what ? p->what : "?");
}

/* Whole-file reading and atomic writing: see file_util.h. */
#include "file_util.h"

#include "log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* The directory part of `path` ("." for none), malloc'd. */
static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash == path ? strdup("/") : slash ? strndup(path, (size_t)(slash - path)) : strdup(".");
}

/* fsyncs the directory holding `path`, so that the rename survives a crash. */
static int sync_parent_dir(const char *path)
{
	char *dir = dir_of(path);
	if (!dir)
		return -ENOMEM;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(dir);
	if (fd < 0)
		return -errno;
	int ret = fsync(fd) < 0 && errno != EINVAL ? -errno : 0;
	close(fd);
	return ret;
}

/* Fills the 6 X's at the end of `name` with random letters and digits. */
static void random_suffix(char *name)
{
	static const char chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	uint8_t r[6];
	size_t len = strlen(name);
	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		uint64_t v = (uint64_t)ts.tv_nsec ^ (uint64_t)getpid() << 20;
		for (size_t i = 0; i < sizeof(r); i++)
			r[i] = (uint8_t)(v >> (8 * i));
	}
	for (size_t i = 0; i < sizeof(r); i++)
		name[len - 6 + i] = chars[r[i] % (sizeof(chars) - 1)];
}

/*
 * Removes the named temporary files of `path` that a killed roam left: "BASE.roam-partial-XXXXXX" in its directory,
 * regular, this user's, that no process holds locked and not modified for 2 s (a roam creating one right now has
 * not locked it yet).
 */
static void remove_stale(const char *path)
{
	char *dir = dir_of(path);
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	size_t base_len = strlen(base), suffix_len = strlen(ATOMIC_FILE_SUFFIX);
	int dfd = dir ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	if (!d && dfd >= 0)
		close(dfd);
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	for (struct dirent *e; d && (e = readdir(d));) {
		const char *n = e->d_name;
		if (strlen(n) != base_len + suffix_len + 6 || strncmp(n, base, base_len) ||
		    strncmp(n + base_len, ATOMIC_FILE_SUFFIX, suffix_len))
			continue;
		struct stat st, named;
		/* Only a regular file is opened (a device or a FIFO under such a name is left alone, unopened). */
		if (fstatat(dfd, n, &named, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(named.st_mode))
			continue;
		int fd = openat(dfd, n, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == geteuid() &&
		    now.tv_sec - st.st_mtim.tv_sec >= 2 && flock(fd, LOCK_EX | LOCK_NB) == 0 &&
		    fstatat(dfd, n, &named, AT_SYMLINK_NOFOLLOW) == 0 && named.st_ino == st.st_ino &&
		    named.st_dev == st.st_dev && unlinkat(dfd, n, 0) == 0)
			log_info("%s/%s: removed a temporary file that a roam which was killed while writing %s left "
				 "behind",
				 dir, n, base);
		close(fd);
	}
	if (d)
		closedir(d);
	free(dir);
}

/* An anonymous temporary file in the directory of f->path, if the file system and /proc allow linking it later. */
static int open_anonymous(struct atomic_file *f, mode_t mode)
{
	if (access("/proc/self/fd", X_OK) < 0)
		return -EOPNOTSUPP; /* it could not be linked at commit */
	char *dir = dir_of(f->path);
	if (!dir)
		return -ENOMEM;
	f->fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, mode);
	int ret = f->fd < 0 ? -errno : 0;
	free(dir);
	return ret;
}

int atomic_file_open(struct atomic_file *f, const char *path, mode_t mode, unsigned flags)
{
	f->fd = -1;
	f->tmp_path = NULL;
	f->path = strdup(path);
	size_t len = strlen(path);
	char *tmp = malloc(len + strlen(ATOMIC_FILE_SUFFIX) + 7);
	if (!f->path || !tmp) {
		free(tmp);
		atomic_file_abort(f);
		return -ENOMEM;
	}
	sprintf(tmp, "%s%sXXXXXX", path, ATOMIC_FILE_SUFFIX);
	remove_stale(path);
	int ret = flags & ATOMIC_FILE_NAMED ? -EOPNOTSUPP : open_anonymous(f, mode);
	if (ret == 0 || ret == -ENOENT || ret == -ENOTDIR) {
		free(tmp); /* done, or no such directory: a named file would fail the same way */
		if (ret < 0)
			atomic_file_abort(f);
		return ret;
	}
	/* No O_TMPFILE here (NFS, 9p, FUSE, ...): a named file, locked while roam writes it. */
	for (int tries = 0; tries < 100 && f->fd < 0; tries++) {
		random_suffix(tmp);
		f->fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, mode);
		if (f->fd < 0 && errno != EEXIST)
			break;
	}
	if (f->fd < 0) {
		ret = -errno;
		free(tmp);
		atomic_file_abort(f);
		return ret;
	}
	f->tmp_path = tmp;
	if (flock(f->fd, LOCK_EX | LOCK_NB) < 0)
		log_info("%s: cannot lock it (%s); a roam writing %s at the same time might remove it", tmp,
			 strerror(errno), path);
	return 0;
}

/* Gives an anonymous temporary file a name next to f->path (f->tmp_path), so that it can be renamed over it. */
static int link_anonymous(struct atomic_file *f)
{
	char proc[64], *tmp = malloc(strlen(f->path) + strlen(ATOMIC_FILE_SUFFIX) + 7);
	if (!tmp)
		return -ENOMEM;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", f->fd);
	int ret = -EEXIST;
	for (int tries = 0; tries < 100 && ret == -EEXIST; tries++) {
		sprintf(tmp, "%s%sXXXXXX", f->path, ATOMIC_FILE_SUFFIX);
		random_suffix(tmp);
		ret = linkat(AT_FDCWD, proc, AT_FDCWD, tmp, AT_SYMLINK_FOLLOW) == 0 ? 0 : -errno;
		if (ret < 0 && ret != -EEXIST)
			ret = linkat(f->fd, "", AT_FDCWD, tmp, AT_EMPTY_PATH) == 0 ? 0 : -errno;
	}
	if (ret < 0) {
		free(tmp);
		return ret;
	}
	f->tmp_path = tmp;
	return 0;
}

int atomic_file_commit(struct atomic_file *f)
{
	int ret = fsync(f->fd) < 0 ? -errno : 0;
	/* The lock (on the open file) stays until close: a named file is never unlocked before its rename. */
	if (ret == 0 && !f->tmp_path)
		ret = link_anonymous(f);
	if (ret == 0 && rename(f->tmp_path, f->path) < 0)
		ret = -errno;
	if (ret == 0) {
		free(f->tmp_path);
		f->tmp_path = NULL; /* renamed: nothing to remove any more */
	}
	if (close(f->fd) < 0 && ret == 0)
		ret = -errno;
	f->fd = -1;
	if (ret == 0)
		ret = sync_parent_dir(f->path);
	atomic_file_abort(f);
	return ret;
}

void atomic_file_abort(struct atomic_file *f)
{
	if (f->tmp_path)
		unlink(f->tmp_path);
	if (f->fd >= 0)
		close(f->fd);
	free(f->tmp_path);
	free(f->path);
	f->fd = -1;
	f->tmp_path = f->path = NULL;
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int write_file_atomic(const char *path, const void *data, size_t len)
{
	if (strcmp(path, "-") == 0)
		return write_all(STDOUT_FILENO, data, len);
	/* Keep the mode of the file being replaced; a new file gets rw-r--r--. */
	struct stat st;
	mode_t mode = stat(path, &st) == 0 ? (st.st_mode & 07777) : 0644;
	struct atomic_file f;
	int ret = atomic_file_open(&f, path, 0600, 0);
	if (ret < 0)
		return ret;
	ret = write_all(f.fd, data, len);
	if (ret == 0 && fchmod(f.fd, mode) < 0)
		ret = -errno;
	if (ret < 0) {
		atomic_file_abort(&f);
		return ret;
	}
	return atomic_file_commit(&f);
}

int read_file_all(const char *path, size_t max, char **data, size_t *len)
{
	int fd = strcmp(path, "-") == 0 ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	size_t cap = 4096, used = 0;
	char *buf = malloc(cap);
	int ret = buf ? 0 : -ENOMEM;
	while (ret == 0) {
		if (used + 1 >= cap) {
			char *bigger = cap > max ? NULL : realloc(buf, cap * 2);
			if (!bigger) {
				ret = cap > max ? -EFBIG : -ENOMEM;
				break;
			}
			buf = bigger;
			cap *= 2;
		}
		ssize_t n = read(fd, buf + used, cap - used - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			ret = -errno;
		else if (n == 0)
			break;
		else
			used += (size_t)n;
		if (used > max)
			ret = -EFBIG;
	}
	if (fd != STDIN_FILENO)
		close(fd);
	if (ret != 0) {
		free(buf);
		return ret;
	}
	buf[used] = '\0';
	*data = buf;
	*len = used;
	return 0;
}

/* Kernel and initrd files into guest memory: see boot_file.h. */
#include "boot_file.h"

#include "file_util.h"
#include "log.h"
#include "memory.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int boot_file_open(struct boot_file *f, const char *what, const char *path)
{
	struct stat st;
	f->what = what;
	f->path = path;
	f->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (f->fd < 0)
		return log_errno(-errno, "%s %s: %s", what, path, strerror(errno));
	if (fstat(f->fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		boot_file_close(f);
		return log_errno(-EINVAL, "%s %s: not a regular file", what, path);
	}
	f->size = (uint64_t)st.st_size;
	return 0;
}

void boot_file_close(struct boot_file *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
}

int boot_kernel_parse(struct boot_file *f, size_t head_size, boot_kernel_parse_fn parse, void *out)
{
	uint8_t *head = malloc(head_size);
	const char *why = "out of memory";
	if (!head)
		return log_errno(-ENOMEM, "kernel %s: %s", f->path, why);
	ssize_t n = pread(f->fd, head, head_size, 0);
	int ret = parse(head, n < 0 ? 0 : (size_t)n, f->size, out, &why);
	free(head);
	if (ret)
		log_error("kernel %s: %s", f->path, why);
	return ret;
}

int boot_kernel_check(const char *path, size_t head_size, boot_kernel_parse_fn parse, void *out)
{
	struct boot_file kernel;
	int ret = boot_file_open(&kernel, "kernel", path);
	if (ret)
		return ret;
	ret = boot_kernel_parse(&kernel, head_size, parse, out);
	boot_file_close(&kernel);
	return ret;
}

int boot_file_load(struct boot_file *f, struct guest_memory *mem, uint64_t off, uint64_t len, uint64_t gpa,
		   uint64_t mem_len)
{
	uint8_t *dst = mem_len ? memory_gpa_to_host(mem, gpa, mem_len) : NULL;
	if (!dst)
		return log_errno(-ENOSPC, "%s %s: %llu bytes do not fit in guest RAM at %#llx", f->what, f->path,
				 (unsigned long long)mem_len, (unsigned long long)gpa);
	for (uint64_t done = 0; done < len;) {
		ssize_t n = pread(f->fd, dst + done, len - done, (off_t)(off + done));
		if (n <= 0)
			return log_errno(n < 0 ? -errno : -EIO, "%s %s: read failed: %s", f->what, f->path,
					 n < 0 ? strerror(errno) : "file shrank");
		done += (uint64_t)n;
	}
	memset(dst + len, 0, mem_len - len);
	return 0;
}

int boot_place_dtb(struct guest_memory *mem, uint64_t gpa, const void *blob, size_t size, const char *dump_path)
{
	int ret = memory_write(mem, gpa, blob, size);
	if (ret || !dump_path)
		return ret;
	ret = write_file_atomic(dump_path, blob, size);
	return ret ? log_errno(ret, "--dump-dtb %s: cannot write the device tree: %s", dump_path, strerror(-ret)) : 0;
}

/*
 * The files of a direct kernel boot (kernel, initrd), for every architecture: opened with checks (a readable
 * regular file), their first bytes read for the architecture's header parser, and their contents copied into guest
 * memory through the checked guest-address translation. Every failure is one line naming the file, e.g.
 * "initrd /boot/x.cpio: 9000000 bytes do not fit in guest RAM at 0x48000000". No KVM.
 */
#ifndef ROAM_BOOT_FILE_H
#define ROAM_BOOT_FILE_H

#include <stddef.h>
#include <stdint.h>

struct guest_memory;

struct boot_file {
	const char *what; /* "kernel", "initrd": names the file in messages */
	const char *path;
	int fd; /* -1 when not open */
	uint64_t size; /* bytes */
};

/* Opens `path` as the boot file `what`. Returns 0, or -errno after "<what> <path>: <reason>" (no such file, ...). */
int boot_file_open(struct boot_file *f, const char *what, const char *path);

/* Closes the file; safe when it is not open (fd -1). */
void boot_file_close(struct boot_file *f);

/*
 * An architecture's kernel header parser: fills `out` (its kernel description) from the first `len` bytes of a
 * kernel file of `size` bytes. Returns 0, or -errno with *why saying what is wrong.
 */
typedef int (*boot_kernel_parse_fn)(const uint8_t *head, size_t len, uint64_t size, void *out, const char **why);

/*
 * Reads the first `head_size` bytes of the open kernel `f` and parses them with `parse` into `out`. Returns 0, or
 * -errno after "kernel <path>: <why>".
 */
int boot_kernel_parse(struct boot_file *f, size_t head_size, boot_kernel_parse_fn parse, void *out);

/* Opens `path` as the kernel, parses its header (boot_kernel_parse) and closes it: arch_check_kernel. */
int boot_kernel_check(const char *path, size_t head_size, boot_kernel_parse_fn parse, void *out);

/*
 * Copies `len` bytes from offset `off` of the file to guest address `gpa` and zeroes the guest bytes after them up
 * to `mem_len` (>= len; an ELF segment's memory size). Returns 0, or -ENOSPC (the range is not guest RAM) / the
 * read's -errno (-EIO when the file shrank) after one line naming the file.
 */
int boot_file_load(struct boot_file *f, struct guest_memory *mem, uint64_t off, uint64_t len, uint64_t gpa,
		   uint64_t mem_len);

/*
 * Puts a device tree blob into guest memory at `gpa` and, with `dump_path`, also writes it to that file (atomically:
 * --dump-dtb). Returns 0, or -errno after one line naming what failed.
 */
int boot_place_dtb(struct guest_memory *mem, uint64_t gpa, const void *blob, size_t size, const char *dump_path);

#endif

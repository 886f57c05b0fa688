/*
 * A small device-tree builder over libfdt's sequential-write API that keeps the first error: callers emit a whole
 * tree without checking each call, and check once at fdt_builder_finish(), which names the node and property that
 * failed. Devices add their own nodes through it.
 */
#ifndef ROAM_FDT_BUILDER_H
#define ROAM_FDT_BUILDER_H

#include <stddef.h>
#include <stdint.h>

struct fdt_builder {
	void *blob;
	size_t size;
	int err; /* first libfdt error (negative FDT_ERR_*), 0 if none */
	char err_where[96]; /* node/property of the first error */
	uint32_t next_phandle;
};

/* Starts a tree in a new buffer of `size` bytes. Returns 0 or -ENOMEM. */
int fdt_builder_init(struct fdt_builder *b, size_t size);

/* Frees the buffer. */
void fdt_builder_fini(struct fdt_builder *b);

/* Returns a fresh phandle value (1, 2, ...). */
uint32_t fdt_builder_alloc_phandle(struct fdt_builder *b);

void fdtb_begin_node(struct fdt_builder *b, const char *name);
void fdtb_end_node(struct fdt_builder *b);
void fdtb_prop(struct fdt_builder *b, const char *name, const void *data, size_t len);
void fdtb_prop_empty(struct fdt_builder *b, const char *name);
void fdtb_prop_string(struct fdt_builder *b, const char *name, const char *value);
/* A string list: `count` NUL-separated strings. */
void fdtb_prop_strings(struct fdt_builder *b, const char *name, const char *const *values, int count);
void fdtb_prop_u32(struct fdt_builder *b, const char *name, uint32_t value);
void fdtb_prop_u64(struct fdt_builder *b, const char *name, uint64_t value);
/* A list of `count` 32-bit cells, converted to big-endian. */
void fdtb_prop_cells(struct fdt_builder *b, const char *name, const uint32_t *cells, int count);
/* "reg" with #address-cells = #size-cells = 2. */
void fdtb_prop_reg64(struct fdt_builder *b, uint64_t base, uint64_t size);

/*
 * Closes the tree and packs it. Returns 0, or -EINVAL after printing "device tree: <where>: <libfdt error>" for the
 * first error of any earlier call. The blob stays valid until fdt_builder_fini.
 */
int fdt_builder_finish(struct fdt_builder *b);

/* The finished blob's size in bytes. */
size_t fdt_builder_blob_size(const struct fdt_builder *b);

#endif

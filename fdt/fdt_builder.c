/* Device-tree builder that keeps the first error: see fdt_builder.h. */
#include "fdt_builder.h"

#include "core/log.h"

#include <errno.h>
#include <libfdt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void fdt_note(struct fdt_builder *b, int ret, const char *what, const char *name)
{
	if (ret < 0 && b->err == 0) {
		b->err = ret;
		snprintf(b->err_where, sizeof(b->err_where), "%s %s", what, name);
	}
}

int fdt_builder_init(struct fdt_builder *b, size_t size)
{
	memset(b, 0, sizeof(*b));
	b->blob = calloc(1, size);
	if (!b->blob)
		return -ENOMEM;
	b->size = size;
	b->next_phandle = 1;
	fdt_note(b, fdt_create(b->blob, (int)size), "create", "tree");
	fdt_note(b, fdt_finish_reservemap(b->blob), "reserve map", "");
	fdtb_begin_node(b, "");
	return 0;
}

void fdt_builder_fini(struct fdt_builder *b)
{
	free(b->blob);
	b->blob = NULL;
}

uint32_t fdt_builder_alloc_phandle(struct fdt_builder *b)
{
	return b->next_phandle++;
}

void fdtb_begin_node(struct fdt_builder *b, const char *name)
{
	if (!b->err)
		fdt_note(b, fdt_begin_node(b->blob, name), "node", name[0] ? name : "/");
}

void fdtb_end_node(struct fdt_builder *b)
{
	if (!b->err)
		fdt_note(b, fdt_end_node(b->blob), "end of node", "");
}

void fdtb_prop(struct fdt_builder *b, const char *name, const void *data, size_t len)
{
	if (!b->err)
		fdt_note(b, fdt_property(b->blob, name, data, (int)len), "property", name);
}

void fdtb_prop_empty(struct fdt_builder *b, const char *name)
{
	fdtb_prop(b, name, NULL, 0);
}

void fdtb_prop_string(struct fdt_builder *b, const char *name, const char *value)
{
	fdtb_prop(b, name, value, strlen(value) + 1);
}

void fdtb_prop_strings(struct fdt_builder *b, const char *name, const char *const *values, int count)
{
	char buf[512];
	size_t len = 0;
	for (int i = 0; i < count; i++) {
		size_t n = strlen(values[i]) + 1;
		if (len + n > sizeof(buf)) {
			fdt_note(b, -FDT_ERR_NOSPACE, "property", name);
			return;
		}
		memcpy(buf + len, values[i], n);
		len += n;
	}
	fdtb_prop(b, name, buf, len);
}

void fdtb_prop_u32(struct fdt_builder *b, const char *name, uint32_t value)
{
	fdtb_prop_cells(b, name, &value, 1);
}

void fdtb_prop_u64(struct fdt_builder *b, const char *name, uint64_t value)
{
	uint32_t cells[2] = {(uint32_t)(value >> 32), (uint32_t)value};
	fdtb_prop_cells(b, name, cells, 2);
}

void fdtb_prop_cells(struct fdt_builder *b, const char *name, const uint32_t *cells, int count)
{
	fdt32_t be[32];
	if (count > 32) {
		fdt_note(b, -FDT_ERR_NOSPACE, "property", name);
		return;
	}
	for (int i = 0; i < count; i++)
		be[i] = cpu_to_fdt32(cells[i]);
	fdtb_prop(b, name, be, sizeof(be[0]) * (size_t)count);
}

void fdtb_prop_reg64(struct fdt_builder *b, uint64_t base, uint64_t size)
{
	uint32_t cells[4] = {(uint32_t)(base >> 32), (uint32_t)base, (uint32_t)(size >> 32), (uint32_t)size};
	fdtb_prop_cells(b, "reg", cells, 4);
}

int fdt_builder_finish(struct fdt_builder *b)
{
	fdtb_end_node(b);
	if (!b->err)
		fdt_note(b, fdt_finish(b->blob), "finish", "tree");
	if (!b->err)
		fdt_note(b, fdt_pack(b->blob), "pack", "tree");
	if (b->err)
		return log_errno(-EINVAL, "device tree: %s: %s", b->err_where, fdt_strerror(b->err));
	return 0;
}

size_t fdt_builder_blob_size(const struct fdt_builder *b)
{
	return fdt_totalsize(b->blob);
}

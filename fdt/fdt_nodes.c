/* Device-tree nodes shared by the architectures: see fdt_nodes.h. */
#include "fdt_nodes.h"

#include "fdt_builder.h"

#include <stdio.h>

void fdt_node_chosen(struct fdt_builder *b, const char *cmdline, uint64_t initrd_start, uint64_t initrd_end,
		     const char *stdout_path)
{
	fdtb_begin_node(b, "chosen");
	fdtb_prop_string(b, "bootargs", cmdline);
	if (initrd_start) {
		fdtb_prop_u64(b, "linux,initrd-start", initrd_start);
		fdtb_prop_u64(b, "linux,initrd-end", initrd_end);
	}
	fdtb_prop_string(b, "stdout-path", stdout_path);
	fdtb_end_node(b);

	fdtb_begin_node(b, "aliases");
	fdtb_prop_string(b, "serial0", stdout_path);
	fdtb_end_node(b);
}

void fdt_node_memory(struct fdt_builder *b, uint64_t base, uint64_t size)
{
	char name[32];
	snprintf(name, sizeof(name), "memory@%llx", (unsigned long long)base);
	fdtb_begin_node(b, name);
	fdtb_prop_string(b, "device_type", "memory");
	fdtb_prop_reg64(b, base, size);
	fdtb_end_node(b);
}

void fdt_node_pvlock(struct fdt_builder *b, uint64_t base, uint64_t size)
{
	char name[48];
	if (!size)
		return;
	fdtb_begin_node(b, "reserved-memory");
	fdtb_prop_u32(b, "#address-cells", 2);
	fdtb_prop_u32(b, "#size-cells", 2);
	fdtb_prop_empty(b, "ranges");
	snprintf(name, sizeof(name), "pvlock@%llx", (unsigned long long)base);
	fdtb_begin_node(b, name);
	fdtb_prop_string(b, "compatible", "roam,pvlock-v1");
	fdtb_prop_reg64(b, base, size);
	fdtb_prop_empty(b, "no-map");
	fdtb_end_node(b);
	fdtb_end_node(b);
}

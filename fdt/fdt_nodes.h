/*
 * Device-tree nodes that every architecture's tree has in the same form: /chosen with /aliases, a RAM bank's
 * memory node, and roam's PV-lock region under /reserved-memory. Each helper adds its nodes at the builder's
 * current place (the root), with #address-cells = #size-cells = 2.
 */
#ifndef ROAM_FDT_NODES_H
#define ROAM_FDT_NODES_H

#include <stdint.h>

struct fdt_builder;

/*
 * /chosen (bootargs, the initrd from initrd_start to initrd_end when initrd_start is not 0, stdout-path) and
 * /aliases (serial0 = stdout_path, e.g. "/uart@9000000").
 */
void fdt_node_chosen(struct fdt_builder *b, const char *cmdline, uint64_t initrd_start, uint64_t initrd_end,
		     const char *stdout_path);

/* A "memory@<base>" node for `size` bytes of RAM at `base`. */
void fdt_node_memory(struct fdt_builder *b, uint64_t base, uint64_t size);

/*
 * /reserved-memory/pvlock@<base>: the PV-lock region, normal memory the guest must neither allocate nor write
 * (compatible "roam,pvlock-v1", no-map; docs/hypercalls.md). Adds nothing when size is 0.
 */
void fdt_node_pvlock(struct fdt_builder *b, uint64_t base, uint64_t size);

#endif

/*
 * The component table (component.h): the core's components around the architecture's, in the order a snapshot
 * writes their sections.
 */
#include "component.h"

#include "arch.h"

/* The VM's description first (a restore reads it before creating the VM), then state, then memory. */
static const struct component *const table_head[] = {&host_component, &vm_component,	   &targets_component,
						     &base_component, &precheck_component, &pvlock_component};
/* memory-sums before the devices: its restore_finish starts a lazy restore's loader before they resume. */
static const struct component *const table_tail[] = {&memory_sums_component, &devices_component, &memory_component,
						     &memory_delta_component, &memory_packed_component};

static int append(const struct component *out[COMPONENT_MAX], int n, const struct component *const *list, int count)
{
	for (int i = 0; i < count && n < COMPONENT_MAX; i++)
		out[n++] = list[i];
	return n;
}

int component_table(const struct component *out[COMPONENT_MAX])
{
	int n = append(out, 0, table_head, (int)(sizeof(table_head) / sizeof(table_head[0])));
	const struct arch_components *arch = arch_components();
	n = append(out, n, arch->cpu, arch->nr_cpu);
	n = append(out, n, table_tail, (int)(sizeof(table_tail) / sizeof(table_tail[0])));
	return append(out, n, arch->late, arch->nr_late);
}

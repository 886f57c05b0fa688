/* The helpers over components (component.h): instances, versions and names for messages. No KVM. */
#include "component.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int component_by_section(const struct component *const *table, int n, uint32_t id)
{
	for (int i = 0; i < n; i++)
		if (table[i]->section == id && id != 0)
			return i;
	return -1;
}

uint32_t component_count(const struct component *c, const struct vm *vm)
{
	return c->count ? c->count(vm) : 1;
}

bool component_present(const struct component *c, const struct vm *vm, uint32_t i)
{
	return i < component_count(c, vm) && (!c->present || c->present(vm, i));
}

uint32_t component_version(const struct component *c, const struct vm *vm, uint32_t i)
{
	return c->instance_version ? c->instance_version(vm, i) : c->version;
}

void component_instance_name(const struct component *c, const struct vm *vm, uint32_t i, char *buf, size_t size)
{
	if (c->instance_name)
		c->instance_name(vm, i, buf, size);
	else if (c->count)
		snprintf(buf, size, "%s %u", c->name, i);
	else
		snprintf(buf, size, "%s", c->name);
}

void component_report_add(char *report, size_t size, const char *fmt, ...)
{
	size_t used = strnlen(report, size);
	if (used + 1 >= size)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(report + used, size - used, fmt, ap);
	va_end(ap);
	used = n < 0 ? used : used + (size_t)n;
	if (used + 1 < size) {
		report[used] = '\n';
		report[used + 1] = '\0';
	}
}

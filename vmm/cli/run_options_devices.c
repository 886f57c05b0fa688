/* The device options of roam run and roam restore: see run_options_devices.h. */
#include "run_options_devices.h"

#include "core/device_options.h"
#include "devices/device.h"

#include <string.h>

void run_device_long_options(const struct option *base, const struct device_table *devices,
			     struct option out[RUN_MAX_OPTIONS])
{
	int n = 0;
	for (; base[n].name && n < RUN_MAX_OPTIONS - 1; n++)
		out[n] = base[n];
	for (int i = 0; i < devices->n && n < RUN_MAX_OPTIONS - 1; i++) {
		const struct device_option *o = devices->types[i]->option;
		if (o)
			out[n++] = (struct option){o->name, o->syntax ? required_argument : no_argument, NULL,
						   RUN_DEVICE_OPT + i};
	}
	out[n] = (struct option){NULL, 0, NULL, 0};
}

int run_device_option(int opt, const char *arg, const struct device_table *devices, struct vm_config *cfg, char *err,
		      size_t err_len)
{
	if (opt < RUN_DEVICE_OPT || opt >= RUN_DEVICE_OPT + devices->n)
		return 0;
	const struct device_option *o = devices->types[opt - RUN_DEVICE_OPT]->option;
	return device_option_add(cfg, o, o->syntax ? arg : "", err, err_len) ? 1 : -1;
}

void run_device_usage(FILE *out, const struct device_table *devices)
{
	for (int i = 0; i < devices->n; i++) {
		const struct device_option *o = devices->types[i]->option;
		if (!o)
			continue;
		char head[64];
		snprintf(head, sizeof(head), "--%s%s%s", o->name, o->syntax ? " " : "", o->syntax ? o->syntax : "");
		if (strlen(head) <= 16)
			fprintf(out, "      %-16s  %s\n", head, o->help);
		else
			fprintf(out, "      %s  %s\n", head, o->help);
	}
}

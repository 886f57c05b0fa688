/* Device options in a VM's configuration: see device_options.h. */
#include "device_options.h"

#include "devices/device.h"
#include "errbuf.h"
#include "vm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool device_option_add(struct vm_config *cfg, const struct device_option *opt, const char *value, char *err,
		       size_t err_len)
{
	if (device_option_count(cfg, opt->name) >= opt->max)
		return opt->max == 1 ? errbuf_set(err, err_len, "--%s is given twice", opt->name)
				     : errbuf_set(err, err_len, "--%s %s: at most %d %s", opt->name, value, opt->max,
						  opt->plural ? opt->plural : "of them");
	if (cfg->nr_device_options == VM_MAX_DEVICE_OPTIONS)
		return errbuf_set(err, err_len, "--%s: more than %d device options", opt->name, VM_MAX_DEVICE_OPTIONS);
	if (strlen(value) >= VM_DEVICE_OPTION_VALUE_MAX)
		return errbuf_set(err, err_len, "--%s: the value is longer than %d bytes", opt->name,
				  VM_DEVICE_OPTION_VALUE_MAX - 1);
	if (opt->check && !opt->check(value, cfg, err, err_len))
		return false;
	struct vm_device_option *o = &cfg->device_options[cfg->nr_device_options++];
	snprintf(o->name, sizeof(o->name), "%s", opt->name);
	snprintf(o->value, sizeof(o->value), "%s", value);
	return true;
}

const struct device_option *device_option_find(const struct device_table *table, const char *name)
{
	for (int i = 0; i < table->n; i++)
		if (table->types[i]->option && !strcmp(table->types[i]->option->name, name))
			return table->types[i]->option;
	return NULL;
}

int device_option_count(const struct vm_config *cfg, const char *name)
{
	int n = 0;
	for (int i = 0; i < cfg->nr_device_options; i++)
		n += !strcmp(cfg->device_options[i].name, name);
	return n;
}

const char *device_option_value(const struct vm_config *cfg, const char *name, int n)
{
	for (int i = 0; i < cfg->nr_device_options; i++)
		if (!strcmp(cfg->device_options[i].name, name) && n-- == 0)
			return cfg->device_options[i].value;
	return NULL;
}

/* Appends s to buf at *n, escaping what is not printable ASCII as \xNN. */
static void append_escaped(char *buf, size_t size, size_t *n, const char *s)
{
	for (; *s && *n + 5 < size; s++) {
		unsigned char c = (unsigned char)*s;
		if (c >= 0x20 && c < 0x7f && c != '\\')
			buf[(*n)++] = (char)c;
		else
			*n += (size_t)snprintf(buf + *n, size - *n, "\\x%02x", c);
	}
	buf[*n < size ? *n : size - 1] = '\0';
}

void device_options_format(const struct vm_config *cfg, char *buf, size_t size)
{
	size_t n = 0;
	if (!size)
		return;
	buf[0] = '\0';
	for (int i = 0; i < cfg->nr_device_options; i++) {
		append_escaped(buf, size, &n, " --");
		append_escaped(buf, size, &n, cfg->device_options[i].name);
		if (cfg->device_options[i].value[0]) {
			append_escaped(buf, size, &n, " ");
			append_escaped(buf, size, &n, cfg->device_options[i].value);
		}
	}
}

bool device_options_check(const struct vm_config *cfg, const struct device_table *table, char *err, size_t err_len)
{
	struct vm_config *replay = calloc(1, sizeof(*replay));
	bool ok = replay != NULL;
	if (!ok)
		errbuf_set(err, err_len, "out of memory");
	for (int i = 0; ok && i < cfg->nr_device_options; i++) {
		const struct vm_device_option *o = &cfg->device_options[i];
		const struct device_option *opt = device_option_find(table, o->name);
		if (!opt)
			ok = errbuf_set(err, err_len, "device option --%.*s is unknown to this roam",
					VM_DEVICE_OPTION_NAME_MAX, o->name);
		else
			ok = device_option_add(replay, opt, o->value, err, err_len);
	}
	free(replay);
	return ok;
}

/* `roam run` device options: see run_options_devices.h. */
#include "run_options_devices.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

__attribute__((format(printf, 3, 4))) static bool dev_error(char *err, size_t err_len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, err_len, fmt, ap);
	va_end(ap);
	return false;
}

bool run_parse_disk(const char *arg, struct vm_config *cfg, char *err, size_t err_len)
{
	if (cfg->nr_disks == VM_MAX_DISKS)
		return dev_error(err, err_len, "--disk %s: at most %d disks", arg, VM_MAX_DISKS);
	struct vm_disk_config *disk = &cfg->disks[cfg->nr_disks];
	size_t len = strlen(arg);
	const char *comma = strrchr(arg, ',');
	bool readonly = false;
	/* A last part of letters only is an option; anything else (e.g. "b.img" in "a,b.img") belongs to the name. */
	if (comma && strspn(comma + 1, "abcdefghijklmnopqrstuvwxyz") == strlen(comma + 1)) {
		if (strcmp(comma + 1, "ro") != 0)
			return dev_error(err, err_len, "--disk %s: unknown option '%s'; use FILE or FILE,ro", arg,
					 comma + 1);
		readonly = true;
		len = (size_t)(comma - arg);
	}
	if (len == 0)
		return dev_error(err, err_len, "--disk '%s': no file given; use FILE or FILE,ro", arg);
	if (len >= sizeof(disk->path))
		return dev_error(err, err_len, "--disk: the path is longer than %zu bytes", sizeof(disk->path) - 1);
	memcpy(disk->path, arg, len);
	disk->path[len] = '\0';
	disk->readonly = readonly;
	cfg->nr_disks++;
	return true;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Parses exactly "xx:xx:xx:xx:xx:xx" (len bytes at s). */
static bool parse_mac(const char *s, size_t len, uint8_t mac[6])
{
	if (len != 17)
		return false;
	for (int i = 0; i < 6; i++) {
		int hi = hex_digit(s[3 * i]), lo = hex_digit(s[3 * i + 1]);
		if (hi < 0 || lo < 0 || (i < 5 && s[3 * i + 2] != ':'))
			return false;
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

static bool tap_name_ok(const char *s, size_t len)
{
	if (len == 0 || len >= VM_TAP_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (s[i] == '/' || s[i] == ' ' || s[i] == '\t' || s[i] == ':' || s[i] == '=')
			return false;
	return true;
}

bool run_parse_net(const char *arg, struct vm_config *cfg, char *err, size_t err_len)
{
	if (cfg->nr_nics == VM_MAX_NICS)
		return dev_error(err, err_len, "--net %s: at most %d network devices", arg, VM_MAX_NICS);
	struct vm_nic_config nic;
	memset(&nic, 0, sizeof(nic));
	for (const char *p = arg; *p;) {
		size_t len = strcspn(p, ",");
		const char *eq = memchr(p, '=', len);
		size_t key = eq ? (size_t)(eq - p) : len;
		const char *value = eq ? eq + 1 : p + len;
		size_t value_len = (size_t)(p + len - value);
		if (key == 3 && !strncmp(p, "tap", 3) && eq) {
			if (!tap_name_ok(value, value_len))
				return dev_error(
				    err, err_len,
				    "--net %s: the TAP name must be 1 to %d characters without '/', ':', '=' "
				    "or spaces",
				    arg, VM_TAP_NAME_MAX - 1);
			memcpy(nic.tap, value, value_len);
			nic.tap[value_len] = '\0';
		} else if (key == 3 && !strncmp(p, "mac", 3) && eq) {
			if (!parse_mac(value, value_len, nic.mac))
				return dev_error(err, err_len,
						 "--net %s: '%.*s' is not a MAC address like 52:54:00:12:34:56", arg,
						 (int)value_len, value);
			if (nic.mac[0] & 1)
				return dev_error(err, err_len,
						 "--net %s: %.*s is a multicast address; a NIC needs a unicast one",
						 arg, (int)value_len, value);
			nic.mac_set = true;
		} else {
			return dev_error(err, err_len, "--net %s: unknown option '%.*s'; use tap=NAME[,mac=MAC]", arg,
					 (int)len, p);
		}
		p += len;
		if (*p == ',')
			p++;
	}
	if (!nic.tap[0])
		return dev_error(err, err_len, "--net %s: no TAP device given; use tap=NAME[,mac=MAC]", arg);
	for (int i = 0; i < cfg->nr_nics; i++)
		if (!strcmp(cfg->nics[i].tap, nic.tap))
			return dev_error(err, err_len, "--net: tap=%s is given twice", nic.tap);
	cfg->nics[cfg->nr_nics++] = nic;
	return true;
}

bool run_parse_console(const char *arg, struct vm_config *cfg, char *err, size_t err_len)
{
	if (!strcmp(arg, "serial"))
		cfg->console = VM_CONSOLE_SERIAL;
	else if (!strcmp(arg, "virtio"))
		cfg->console = VM_CONSOLE_VIRTIO;
	else
		return dev_error(err, err_len, "--console: '%s' is not serial or virtio", arg);
	return true;
}

/*
 * The reporting call of sys_ioctl.h: sys_ioctl_raw and a message naming the request and its object. Apart from
 * sys_ioctl.c, so that a unit test's fake KVM, which defines sys_ioctl_raw, keeps the real messages.
 */
#include "sys_ioctl.h"

#include "log.h"

#include <string.h>

long sys_ioctl_named(int fd, unsigned long request, void *arg, const char *name, const char *object)
{
	long ret = sys_ioctl_raw(fd, request, arg);
	if (ret < 0) {
		if (object)
			log_error("%s(%s): %s", name, object, strerror((int)-ret));
		else
			log_error("%s: %s", name, strerror((int)-ret));
	}
	return ret;
}

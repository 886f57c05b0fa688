/* The single ioctl(2) call site: see sys_ioctl.h. */
#include "sys_ioctl.h"

#include "log.h"

#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

long sys_ioctl_raw(int fd, unsigned long request, void *arg)
{
	long ret = ioctl(fd, request, arg);
	return ret < 0 ? -errno : ret;
}

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

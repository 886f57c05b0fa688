/* The single ioctl(2) call site: see sys_ioctl.h. Its reporting twin, sys_ioctl_named, is in sys_ioctl_named.c. */
#include "sys_ioctl.h"

#include <errno.h>
#include <sys/ioctl.h>

long sys_ioctl_raw(int fd, unsigned long request, void *arg)
{
	long ret = ioctl(fd, request, arg);
	return ret < 0 ? -errno : ret;
}

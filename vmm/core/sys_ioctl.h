/*
 * The one place roam calls ioctl(2) (DESIGN.md rule 3).
 *
 * sys_ioctl() reports a failure as "NAME(OBJECT): reason" and returns -errno; __sys_ioctl() is the raw variant for
 * probing and negative tests: it returns the ioctl's result or -errno and prints nothing. Use the SYS_IOCTL macro so
 * the request's name appears in messages.
 */
#ifndef ROAM_SYS_IOCTL_H
#define ROAM_SYS_IOCTL_H

/* Returns the ioctl's non-negative result, or -errno (never -1 with errno set). EINTR is not retried. */
long __sys_ioctl(int fd, unsigned long request, void *arg);

/* Like __sys_ioctl, and on failure prints "NAME(OBJECT): strerror" (OBJECT may be NULL). */
long sys_ioctl(int fd, unsigned long request, void *arg, const char *name, const char *object);

#define SYS_IOCTL(fd, request, arg, object) sys_ioctl((fd), (request), (void *)(arg), #request, (object))

#endif

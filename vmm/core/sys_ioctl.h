/*
 * The one place roam calls ioctl(2) (DESIGN.md rule 3), through macros that check each call at compile time.
 *
 * SYS_IOCTL(fd, REQUEST, argp, object) reports a failure as "REQUEST(OBJECT): reason" and returns -errno;
 * __SYS_IOCTL(fd, REQUEST, argp) is the raw variant for probing and negative tests: it returns the ioctl's result or
 * -errno and prints nothing. As the KVM selftests' kvm_ioctl() does, both check that the type `argp` points to has
 * the size that REQUEST encodes (_IOC_SIZE), so that a wrong struct fails to build (a type of the same size passes:
 * sizes are all the encoding tells), e.g.
 *     error: static assertion failed: "KVM_GET_ONE_REG: the argument's type is not the size the request encodes"
 * REQUEST must be a constant: for one chosen at run time, write a conditional of two calls (set ? SYS_IOCTL(fd,
 * KVM_SET_DEVICE_ATTR, &da, o) : SYS_IOCTL(fd, KVM_GET_DEVICE_ATTR, &da, o)). Requests that take a value and no
 * pointer (_IO: KVM_CREATE_VM, KVM_CHECK_EXTENSION, KVM_RUN...) go through the _VALUE variants, which check that
 * REQUEST encodes no size. The functions behind the macros are not called directly. sys_ioctl.c defines
 * sys_ioctl_raw, the one ioctl(2) call; a fake KVM in the unit tests defines it instead, and sys_ioctl_named.c
 * reports the failures of either.
 */
#ifndef ROAM_SYS_IOCTL_H
#define ROAM_SYS_IOCTL_H

#include <linux/ioctl.h>
#include <stdint.h>

/* Returns the ioctl's non-negative result, or -errno (never -1 with errno set). EINTR is not retried. */
long sys_ioctl_raw(int fd, unsigned long request, void *arg);

/* Like sys_ioctl_raw, and on failure prints "NAME(OBJECT): strerror" (OBJECT may be NULL). */
long sys_ioctl_named(int fd, unsigned long request, void *arg, const char *name, const char *object);

/*
 * An expression (void) that fails to compile unless `argp` points to a type of the size `request` encodes; `name` is
 * the request's name as a string literal, for the message.
 */
#define SYS_IOCTL_CHECK_ARG(request, argp, name)                                                                       \
	((void)sizeof(struct {                                                                                         \
		_Static_assert(_IOC_SIZE(request) != 0, name " takes a value, not a pointer: use SYS_IOCTL_VALUE");    \
		_Static_assert(sizeof(*(argp)) == _IOC_SIZE(request),                                                  \
			       name ": the argument's type is not the size the request encodes");                      \
		char c;                                                                                                \
	}))

/* An expression (void) that fails to compile unless `request` takes a value: it encodes no argument size. */
#define SYS_IOCTL_CHECK_VALUE(request, name)                                                                           \
	((void)sizeof(struct {                                                                                         \
		_Static_assert(_IOC_SIZE(request) == 0, name " takes a pointer, not a value: use SYS_IOCTL");          \
		char c;                                                                                                \
	}))

/* Checked calls with a pointer argument: reporting (failures named "REQUEST(OBJECT)"), and raw. */
#define SYS_IOCTL(fd, request, argp, object)                                                                           \
	(SYS_IOCTL_CHECK_ARG(request, argp, #request),                                                                 \
	 sys_ioctl_named((fd), (request), (void *)(argp), #request, (object)))
#define __SYS_IOCTL(fd, request, argp)                                                                                 \
	(SYS_IOCTL_CHECK_ARG(request, argp, #request), sys_ioctl_raw((fd), (request), (void *)(argp)))

/* Like SYS_IOCTL, with failures named "NAME(OBJECT)" (NAME a string, e.g. the request's name chosen at run time). */
#define SYS_IOCTL_AS(fd, request, argp, name, object)                                                                  \
	(SYS_IOCTL_CHECK_ARG(request, argp, #request),                                                                 \
	 sys_ioctl_named((fd), (request), (void *)(argp), (name), (object)))

/* Checked calls with a value argument (an integer, or 0 for none): reporting, and raw. */
#define SYS_IOCTL_VALUE(fd, request, value, object)                                                                    \
	(SYS_IOCTL_CHECK_VALUE(request, #request),                                                                     \
	 sys_ioctl_named((fd), (request), (void *)(uintptr_t)(value), #request, (object)))
#define __SYS_IOCTL_VALUE(fd, request, value)                                                                          \
	(SYS_IOCTL_CHECK_VALUE(request, #request), sys_ioctl_raw((fd), (request), (void *)(uintptr_t)(value)))

/*
 * For the few old requests whose number encodes another type than the one they take (TUNSETIFF encodes int and
 * takes struct ifreq): checks that `request` still encodes `encoded_type`, and passes `argp` as it is. Raw.
 */
#define __SYS_IOCTL_MISENCODED(fd, request, argp, encoded_type)                                                        \
	(SYS_IOCTL_CHECK_ARG(request, (encoded_type *)0, #request), sys_ioctl_raw((fd), (request), (void *)(argp)))

#endif

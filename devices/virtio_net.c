/*
 * virtio-net (device ID 1) on a TAP device, one per --net tap=NAME[,mac=MAC]. roam opens NAME through
 * /dev/net/tun, which creates it when it does not exist (that needs CAP_NET_ADMIN; such a TAP disappears with roam),
 * with IFF_VNET_HDR so that packets keep the guest's 12-byte virtio_net_hdr and move between the TAP and guest
 * buffers without a copy (readv/writev on the chains). No offloads are offered: the guest sends and receives plain
 * Ethernet frames of up to the MTU.
 *
 * Both directions run on the device's I/O thread: the transmit queue's notification writes its frames to the TAP;
 * the TAP's readability fills receive buffers. While the guest offers no receive buffers the TAP is not watched
 * (frames wait in its queue, or the kernel drops them), and a receive-queue notification watches it again.
 */
#include "virtio_net.h"

#include "device.h"
#include "virtio_mmio.h"

#include "core/device_options.h"
#include "core/errbuf.h"
#include "core/log.h"
#include "core/sys_ioctl.h"
#include "core/vm.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <linux/ioctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/uio.h>
#include <unistd.h>

#define VIRTIO_ID_NET 1
#define VIRTIO_NET_F_MAC 5
#define VIRTIO_NET_F_STATUS 16
#define VIRTIO_NET_S_LINK_UP 1
#define NET_RX_QUEUE 0
#define NET_TX_QUEUE 1
#define NET_HDR_SIZE 12 /* virtio_net_hdr with num_buffers (VIRTIO_F_VERSION_1) */
#define NET_CONFIG_SIZE 10 /* mac[6], status u16, max_virtqueue_pairs u16 */
#define NET_RX_ERRORS_MAX 64 /* dropped frames handled in one go */

struct virtio_net {
	struct virtio_mmio *t; /* first: see virtio_mmio.h */
	int fd;
	bool rx_watched;
	bool tx_error_reported, rx_drop_reported;
	struct virtq_chain chain;
	struct iovec iov[VIRTQUEUE_MAX_SEGS];
};

static void net_watch_rx(struct virtio_net *n, bool on)
{
	if (n->rx_watched != on && virtio_mmio_watch_modify(n->t, n->fd, on ? EPOLLIN : 0) == 0)
		n->rx_watched = on;
}

/* Moves frames from the TAP into receive buffers until either runs out. */
static void net_receive(struct virtio_net *n)
{
	struct virtqueue *vq = virtio_mmio_queue(n->t, NET_RX_QUEUE);
	struct virtq_chain *c = &n->chain;
	bool done = false;
	int ret = 0, errors = 0;
	while (vq && (ret = virtqueue_pop(vq, virtio_mmio_memory(n->t), c)) > 0) {
		if (c->write_len < NET_HDR_SIZE) {
			char why[96];
			snprintf(why, sizeof(why),
				 "receive chain %u has %llu writable bytes, less than the %d-byte header", c->head,
				 (unsigned long long)c->write_len, NET_HDR_SIZE);
			virtio_mmio_fail(n->t, NET_RX_QUEUE, why);
			ret = 0;
			vq = NULL;
			break;
		}
		int cnt = virtq_chain_writable_iov(c, c->write_len, n->iov, VIRTQUEUE_MAX_SEGS);
		ssize_t len = readv(n->fd, n->iov, cnt);
		int err = len < 0 ? errno : 0;
		if (len < NET_HDR_SIZE) {
			virtqueue_unpop(vq); /* the buffer stays available */
			if (err == EINTR)
				continue;
			if (err == EAGAIN) {
				net_watch_rx(n, true); /* the TAP is empty: wait for it with buffers ready */
				break;
			}
			if (len == 0 || err == EBADF || err == EBADFD || err == EIO) {
				log_error("%s: reading its TAP: %s; the device stops receiving", n->t->name,
					  len == 0 ? "end of file" : strerror(err));
				net_watch_rx(n, false);
				break;
			}
			/* A runt, or a frame too big for the buffer (EFAULT, EMSGSIZE): the TAP dropped it. */
			if (!n->rx_drop_reported)
				log_info("%s: dropping a received frame: %s (further reports suppressed)", n->t->name,
					 len > 0 ? "shorter than its header" : strerror(err));
			n->rx_drop_reported = true;
			if (++errors == NET_RX_ERRORS_MAX)
				break; /* let the other queue have a turn; the TAP stays watched */
			continue;
		}
		static const uint8_t one_buffer[2] = {1, 0}; /* num_buffers: the frame fits in this chain */
		virtq_chain_write(c, 10, one_buffer, sizeof(one_buffer));
		virtqueue_push(vq, c, (uint32_t)len);
		done = true;
	}
	if (ret < 0)
		virtio_mmio_fail(n->t, NET_RX_QUEUE, NULL);
	/* Out of buffers (or the queue is unusable): stop watching the TAP until the guest adds some. */
	if (!vq || ret <= 0)
		net_watch_rx(n, vq && ret == 0 && virtqueue_has_avail(vq));
	if (done)
		virtio_mmio_notify(n->t, vq);
}

/* Writes one transmit chain (header and frame) to the TAP; a frame the TAP refuses is dropped. */
static void net_send(struct virtio_net *n, const struct virtq_chain *c)
{
	if (c->read_len <= NET_HDR_SIZE)
		return;
	int cnt = virtq_chain_readable_iov(c, 0, n->iov, VIRTQUEUE_MAX_SEGS);
	ssize_t len;
	do
		len = writev(n->fd, n->iov, cnt);
	while (len < 0 && errno == EINTR);
	if (len < 0 && !n->tx_error_reported) {
		/* e.g. the TAP is down: frames are dropped, as on a cable without link */
		n->tx_error_reported = true;
		log_info("%s: writing a frame to its TAP: %s (frames are dropped; further reports suppressed)",
			 n->t->name, strerror(errno));
	}
}

static void net_transmit(struct virtio_net *n)
{
	struct virtqueue *vq = virtio_mmio_queue(n->t, NET_TX_QUEUE);
	struct virtq_chain *c = &n->chain;
	bool done = false;
	int ret;
	do {
		virtqueue_set_notify(vq, false); /* the thread is at work: no need to kick it */
		while ((ret = virtqueue_pop(vq, virtio_mmio_memory(n->t), c)) > 0) {
			net_send(n, c);
			virtqueue_push(vq, c, 0);
			done = true;
		}
	} while (ret == 0 && virtqueue_set_notify(vq, true));
	if (ret < 0)
		virtio_mmio_fail(n->t, NET_TX_QUEUE, NULL);
	if (done)
		virtio_mmio_notify(n->t, vq);
}

static void virtio_net_queue_notify(void *backend, int q)
{
	struct virtio_net *n = backend;
	if (q == NET_TX_QUEUE)
		net_transmit(n);
	else
		net_receive(n); /* new receive buffers: take what waits in the TAP, and watch it again */
}

static void virtio_net_on_tap(void *opaque, int fd, uint32_t events)
{
	(void)fd;
	(void)events;
	net_receive(opaque);
}

static void virtio_net_driver_ok(void *backend)
{
	net_receive(backend);
}

static void virtio_net_reset(void *backend)
{
	net_watch_rx(backend, false);
}

static const struct virtio_backend_ops virtio_net_ops = {
    .kind = "net",
    .device_id = VIRTIO_ID_NET,
    .nr_queues = 2,
    .queue_notify = virtio_net_queue_notify,
    .driver_ok = virtio_net_driver_ok,
    .reset = virtio_net_reset,
};

int virtio_net_create_on_fd(struct vm *vm, int instance, int fd, const uint8_t mac[6], void **state)
{
	struct virtio_net *n = calloc(1, sizeof(*n));
	if (!n) {
		close(fd);
		return -ENOMEM;
	}
	n->fd = fd;
	*state = n;
	uint8_t config[NET_CONFIG_SIZE] = {0};
	memcpy(config, mac, 6);
	config[6] = VIRTIO_NET_S_LINK_UP;
	config[8] = 1; /* max_virtqueue_pairs */
	uint64_t features = 1ull << VIRTIO_NET_F_MAC | 1ull << VIRTIO_NET_F_STATUS;
	int ret = virtio_mmio_create(vm, &virtio_net_ops, n, instance, features, config, sizeof(config), &n->t);
	if (ret == 0)
		ret = virtio_mmio_watch(n->t, fd, 0, virtio_net_on_tap, n); /* watched once the driver is ready */
	return ret < 0 ? ret : virtio_mmio_start(n->t);
}

/* Opens (or creates) TAP device `name` with virtio headers; returns the fd or -errno after a message. */
static int net_open_tap(const char *name)
{
	int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return log_errno(-errno, "--net tap=%s: cannot open /dev/net/tun: %s%s", name, strerror(errno),
				 errno == ENOENT ? " (load the tun module: modprobe tun)" : "");
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	long ret = __SYS_IOCTL_MISENCODED(fd, TUNSETIFF, &ifr, int); /* encodes int, takes struct ifreq */
	if (ret < 0) {
		close(fd);
		return log_errno((int)ret, "TUNSETIFF(%s): %s%s", name, strerror((int)-ret),
				 ret == -EPERM ? " (creating a TAP needs CAP_NET_ADMIN; or create it first: "
						 "ip tuntap add NAME mode tap user USER)"
				 : ret == -EINVAL || ret == -EBUSY
				     ? " (is it a TUN device, or in use by another process?)"
				     : "");
	}
	int hdr = NET_HDR_SIZE;
	ret = SYS_IOCTL(fd, TUNSETVNETHDRSZ, &hdr, name);
	if (ret < 0) {
		close(fd);
		return (int)ret;
	}
	return fd;
}

/* A locally administered unicast MAC derived from the TAP name, so each TAP gets its own. */
static void net_default_mac(const char *tap, uint8_t mac[6])
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (const char *p = tap; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	const uint8_t value[6] = {0x52, 0x4f, 0x41, (uint8_t)(h >> 16), (uint8_t)(h >> 8), (uint8_t)h};
	memcpy(mac, value, 6); /* 0x52: locally administered, unicast */
}

#define NET_MAX_NICS 4
#define NET_TAP_NAME_MAX 16 /* IFNAMSIZ, with the terminating NUL */

/* --net tap=NAME[,mac=MAC]: a NIC on a TAP device. */
struct net_option {
	char tap[NET_TAP_NAME_MAX];
	uint8_t mac[6];
	bool mac_set; /* else derived from the TAP name */
};

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
	if (len == 0 || len >= NET_TAP_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (s[i] == '/' || s[i] == ' ' || s[i] == '\t' || s[i] == ':' || s[i] == '=')
			return false;
	return true;
}

static bool net_parse(const char *arg, struct net_option *nic, char *err, size_t err_len)
{
	memset(nic, 0, sizeof(*nic));
	for (const char *p = arg; *p;) {
		size_t len = strcspn(p, ",");
		const char *eq = memchr(p, '=', len);
		size_t key = eq ? (size_t)(eq - p) : len;
		const char *value = eq ? eq + 1 : p + len;
		size_t value_len = (size_t)(p + len - value);
		if (key == 3 && !strncmp(p, "tap", 3) && eq) {
			if (!tap_name_ok(value, value_len))
				return errbuf_set(
				    err, err_len,
				    "--net %s: the TAP name must be 1 to %d characters without '/', ':', '=' "
				    "or spaces",
				    arg, NET_TAP_NAME_MAX - 1);
			memcpy(nic->tap, value, value_len);
			nic->tap[value_len] = '\0';
		} else if (key == 3 && !strncmp(p, "mac", 3) && eq) {
			if (!parse_mac(value, value_len, nic->mac))
				return errbuf_set(err, err_len,
						  "--net %s: '%.*s' is not a MAC address like 52:54:00:12:34:56", arg,
						  (int)value_len, value);
			if (nic->mac[0] & 1)
				return errbuf_set(err, err_len,
						  "--net %s: %.*s is a multicast address; a NIC needs a unicast one",
						  arg, (int)value_len, value);
			nic->mac_set = true;
		} else {
			return errbuf_set(err, err_len, "--net %s: unknown option '%.*s'; use tap=NAME[,mac=MAC]", arg,
					  (int)len, p);
		}
		p += len;
		if (*p == ',')
			p++;
	}
	if (!nic->tap[0])
		return errbuf_set(err, err_len, "--net %s: no TAP device given; use tap=NAME[,mac=MAC]", arg);
	return true;
}

static bool net_check(const char *value, const struct vm_config *cfg, char *err, size_t err_len)
{
	struct net_option nic, other;
	if (!net_parse(value, &nic, err, err_len))
		return false;
	const char *v;
	for (int i = 0; (v = device_option_value(cfg, "net", i)) != NULL; i++)
		if (net_parse(v, &other, err, err_len) && !strcmp(other.tap, nic.tap))
			return errbuf_set(err, err_len, "--net: tap=%s is given twice", nic.tap);
	return true;
}

static const struct device_option virtio_net_option = {
    .name = "net",
    .syntax = "tap=NAME[,mac=MAC]",
    .help = "a virtio-net NIC on TAP device NAME, created if missing (repeatable; docs/devices.md)",
    .max = NET_MAX_NICS,
    .plural = "network devices",
    .check = net_check,
};

static int virtio_net_count(const struct vm *vm)
{
	return device_option_count(&vm->cfg, virtio_net_option.name);
}

static int virtio_net_create(struct vm *vm, int instance, void **state)
{
	struct net_option nic;
	char err[256];
	const char *value = device_option_value(&vm->cfg, virtio_net_option.name, instance);
	if (!value || !net_parse(value, &nic, err, sizeof(err)))
		return log_errno(-EINVAL, "%s", value ? err : "virtio-net: no --net for this instance");
	uint8_t mac[6];
	if (nic.mac_set)
		memcpy(mac, nic.mac, 6);
	else
		net_default_mac(nic.tap, mac);
	int fd = net_open_tap(nic.tap);
	if (fd < 0)
		return fd;
	return virtio_net_create_on_fd(vm, instance, fd, mac, state);
}

static void virtio_net_destroy(void *state)
{
	struct virtio_net *n = state;
	virtio_mmio_destroy(n->t);
	close(n->fd);
	free(n);
}

const struct device_desc virtio_net_device = {
    .name = "virtio-net",
    .option = &virtio_net_option,
    .count = virtio_net_count,
    .create_nth = virtio_net_create,
    .destroy = virtio_net_destroy,
    .fdt = virtio_mmio_dev_fdt,
    .snapshot_version = VIRTIO_MMIO_SNAPSHOT_VERSION,
    .save = virtio_mmio_dev_save,
    .restore = virtio_mmio_dev_restore,
    .pause = virtio_mmio_dev_pause,
    .resume = virtio_mmio_dev_resume,
};

/*
 * virtio-net on a packet fd: normally a TAP device that --net tap=NAME opens (or creates), and for unit tests any
 * fd with packet boundaries (a SOCK_SEQPACKET socketpair). Every packet on the fd carries the 12-byte
 * virtio_net_hdr in front, as the guest's buffers do (IFF_VNET_HDR with TUNSETVNETHDRSZ 12).
 */
#ifndef ROAM_VIRTIO_NET_H
#define ROAM_VIRTIO_NET_H

#include <stdint.h>

struct vm;

/*
 * Creates virtio-net instance `instance` of `vm` on `fd` (non-blocking; the device owns it from now on, also on
 * failure) with MAC address `mac`; *state receives the device state for virtio_net_device's hooks (set as soon as
 * it must be destroyed, even on failure). Returns 0 or -errno with a message.
 */
int virtio_net_create_on_fd(struct vm *vm, int instance, int fd, const uint8_t mac[6], void **state);

#endif

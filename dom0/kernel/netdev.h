/* SPDX-License-Identifier: MIT */
/*
 * dom0's network devices: the API a switch (or a shell command) uses to
 * send and receive Ethernet frames on the machine's NICs. The only driver is
 * virtio-net (virtio_net.c, modern PCI, polled). See docs/virtio-net.md.
 *
 * Frames are whole Ethernet frames without the FCS: destination MAC,
 * source MAC, type, payload; 14 to NETDEV_MAX_FRAME bytes.
 *
 * Receiving: netdev_poll() takes every frame the device has completed,
 * hands each to the device's receive callback (set with netdev_set_rx; no
 * callback: the frame is counted and dropped) and gives the buffer back to
 * the device. The frame pointer is valid only during the call: a callback
 * that keeps a frame copies it. A callback may call netdev_send (on any
 * device) but not netdev_poll. dom0's main loop polls every device on each
 * wake-up (at least every 100 ms, the periodic timer).
 *
 * Sending: netdev_send copies the frame into a transmit buffer and rings
 * the doorbell; it does not wait for the device. When every buffer is in
 * flight it reclaims completed ones, waiting for the device to finish one
 * (sends wait 0.5 ms at most in all between two netdev_poll calls); if none
 * is free then, the frame is dropped with -EAGAIN (counted in tx_dropped).
 *
 * Not reentrant: call from dom0's main loop (or a command it runs), never
 * from an event handler.
 */
#ifndef DOM0_NETDEV_H
#define DOM0_NETDEV_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <lamina/arp.h>

#define NETDEV_MAX 2
/* 1500-byte payload plus the Ethernet header and a VLAN tag. */
#define NETDEV_MAX_FRAME 1518
#define NETDEV_MIN_FRAME ETH_HLEN

struct netdev;
typedef void (*netdev_rx_fn)(struct netdev *nd, const uint8_t *frame, size_t len, void *ctx);

struct netdev_stats {
    uint64_t rx_packets, rx_bytes;    /* frames handed to the callback (or dropped without one) */
    uint64_t rx_errors;               /* completions the device got wrong: bad length or id */
    uint64_t rx_dropped;              /* no callback was set */
    uint64_t tx_packets, tx_bytes;    /* frames given to the device */
    uint64_t tx_dropped;              /* no free buffer, or the device is disabled */
};

/* At boot, after pci_scan: probes every virtio-net function; returns the
 * number of devices (named eth0, eth1, ... in PCI scan order). */
unsigned netdev_init(void);
unsigned netdev_count(void);
struct netdev *netdev_at(unsigned index);              /* NULL past the end */
struct netdev *netdev_lookup(const char *name);        /* "eth0"; NULL if none */
const char *netdev_name(const struct netdev *nd);
const uint8_t *netdev_mac(const struct netdev *nd);    /* ETH_ALEN bytes */
/* VIRTIO_NET_S_LINK_UP; true when the device does not report link status. */
bool netdev_link_up(const struct netdev *nd);
/* False once the device broke the ring rules and was reset for good. */
bool netdev_usable(const struct netdev *nd);
const struct netdev_stats *netdev_stats(const struct netdev *nd);

/* Installs the receive callback (NULL: drop); returns the previous one and
 * its context through old_fn/old_ctx if they are not NULL. */
void netdev_set_rx(struct netdev *nd, netdev_rx_fn fn, void *ctx, netdev_rx_fn *old_fn, void **old_ctx);
/* Queues one frame. 0, -EINVAL (length out of range), -EAGAIN (no free
 * buffer) or -EIO (device disabled). Frames shorter than 60 bytes are padded
 * with zeros to Ethernet's minimum. */
long netdev_send(struct netdev *nd, const void *frame, size_t len);
/* Delivers received frames and reclaims sent buffers; returns the number of
 * frames received. */
unsigned netdev_poll(struct netdev *nd);
void netdev_poll_all(void);

#endif

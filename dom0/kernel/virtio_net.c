/* SPDX-License-Identifier: MIT */
/*
 * virtio-net over the modern PCI transport (virtio 1.2 §5.1), polled: the
 * driver behind netdev.h. Queue 0 receives, queue 1 transmits; no control
 * queue, no offloads, no mergeable buffers. Every buffer is one descriptor
 * of BUF_SIZE bytes (the 12-byte virtio_net_hdr, then the frame) inside one
 * page of dom0's .bss, so it never spans a machine discontinuity.
 */
#include <lamina/string.h>
#include <guest/pvclock.h>
#include <guest/runtime.h>
#include "console.h"
#include "netdev.h"
#include "virtio_pci.h"

#define VIRTIO_NET_MODERN 0x1041
#define VIRTIO_NET_TRANSITIONAL 0x1000

#define F_MAC    (1ull << 5)
#define F_STATUS (1ull << 16)
#define S_LINK_UP 1
#define CFG_MAC 0
#define CFG_STATUS 6

#define Q_RX 0
#define Q_TX 1
#define RX_BUFS 64
/* A GSO packet from a guest leaves as up to 45 frames in one go. */
#define TX_BUFS 128
/* How long sends may wait, in all, between two polls for the device to
 * finish with a buffer when all are in flight (QEMU's I/O thread drains
 * them meanwhile): a burst is not dropped, and a flood cannot hold dom0. */
#define TX_WAIT_NS 500000ull
#define BUF_SIZE 2048
/* struct virtio_net_hdr with VERSION_1: flags, gso_type, hdr_len, gso_size,
 * csum_start, csum_offset, num_buffers. All zero on transmit. */
#define NET_HDR_LEN 12
#define ETH_MIN_FRAME 60

_Static_assert(NET_HDR_LEN + NETDEV_MAX_FRAME <= BUF_SIZE, "a frame fits one buffer");
_Static_assert(PAGE_SIZE % BUF_SIZE == 0, "buffers do not cross pages");

struct vnet_dma {
    uint8_t rx_ring[3][PAGE_SIZE];      /* descriptors, available, used */
    uint8_t tx_ring[3][PAGE_SIZE];
    uint8_t rx_buf[RX_BUFS][BUF_SIZE];
    uint8_t tx_buf[TX_BUFS][BUF_SIZE];
};

struct netdev {
    char name[8];
    const struct pci_dev *pci;
    struct virtio_pci t;
    uint64_t features;
    uint8_t mac[ETH_ALEN];
    bool broken;
    struct virtq rxq, txq;
    volatile uint16_t *rx_bell, *tx_bell;
    uint8_t rx_slot[VIRTQ_MAX_SIZE];    /* head of an in-flight chain -> buffer */
    uint8_t tx_slot[VIRTQ_MAX_SIZE];
    uint8_t tx_free[TX_BUFS];           /* a stack of idle transmit buffers */
    unsigned nr_tx_free;
    uint64_t tx_wait_left;              /* ns sends may still wait until the next poll */
    netdev_rx_fn rx_fn;
    void *rx_ctx;
    struct netdev_stats stats;
    struct vnet_dma *dma;
};

static struct vnet_dma dma_area[NETDEV_MAX] __attribute__((aligned(PAGE_SIZE)));
static struct netdev devs[NETDEV_MAX];
static unsigned nr_devs;

static bool vnet_matches(const struct pci_dev *pci)
{
    return pci->vendor == VIRTIO_VENDOR &&
           (pci->device == VIRTIO_NET_MODERN || pci->device == VIRTIO_NET_TRANSITIONAL);
}

/* The device broke the ring rules: reset it so it stops using our memory. */
static void disable(struct netdev *nd, const char *why)
{
    con_printf("virtio-net %s: %s; device disabled\n", nd->name, why);
    virtio_pci_reset(&nd->t);
    nd->broken = true;
}

static int post_rx(struct netdev *nd, unsigned buf)
{
    struct virtq_seg seg = { virtio_maddr(nd->dma->rx_buf[buf]), BUF_SIZE, true };
    uint16_t head;
    int rc = virtq_add(&nd->rxq, &seg, 1, &head);
    if (rc == 0)
        nd->rx_slot[head] = (uint8_t)buf;
    return rc;
}

static void read_config(struct netdev *nd, unsigned index)
{
    uint8_t gen;
    if (!(nd->features & F_MAC)) {
        /* Locally administered, unicast: 02:4c:4d:00:00:<n>. */
        static const uint8_t base[ETH_ALEN] = { 0x02, 0x4c, 0x4d, 0, 0, 0 };
        memcpy(nd->mac, base, ETH_ALEN);
        nd->mac[5] = (uint8_t)(index + 1);
        return;
    }
    do {
        gen = virtio_pci_config_gen(&nd->t);
        for (unsigned i = 0; i < ETH_ALEN; i++)
            nd->mac[i] = virtio_pci_cfg8(&nd->t, CFG_MAC + i);
    } while (gen != virtio_pci_config_gen(&nd->t));
}

static struct netdev *probe(const struct pci_dev *pci)
{
    unsigned index = nr_devs;
    struct netdev *nd = &devs[index];
    *nd = (struct netdev){ .pci = pci, .dma = &dma_area[index] };
    nd->name[0] = 'e';
    nd->name[1] = 't';
    nd->name[2] = 'h';
    nd->name[3] = (char)('0' + index);
    struct vnet_dma *d = nd->dma;
    const char *why = virtio_pci_map(&nd->t, pci);
    if (!why)
        why = virtio_pci_negotiate(&nd->t, F_MAC | F_STATUS, &nd->features);
    if (!why)
        why = virtio_pci_setup_queue(&nd->t, Q_RX, RX_BUFS, &nd->rxq, d->rx_ring[0], d->rx_ring[1], d->rx_ring[2],
                                     &nd->rx_bell);
    if (!why)
        why = virtio_pci_setup_queue(&nd->t, Q_TX, TX_BUFS, &nd->txq, d->tx_ring[0], d->tx_ring[1], d->tx_ring[2],
                                     &nd->tx_bell);
    if (why) {
        con_printf("virtio-net %02x:%02x.%u: %s\n", pci->bus, pci->dev, pci->fn, why);
        virtio_pci_failed(&nd->t);
        return NULL;
    }
    read_config(nd, index);
    virtio_pci_driver_ok(&nd->t);
    /* A queue smaller than our buffer count uses only the first ones. */
    for (unsigned i = 0; i < nd->rxq.size && i < RX_BUFS; i++)
        if (post_rx(nd, i))
            break;
    *nd->rx_bell = Q_RX;
    for (unsigned i = 0; i < nd->txq.size && i < TX_BUFS; i++)
        nd->tx_free[nd->nr_tx_free++] = (uint8_t)i;
    nr_devs++;
    return nd;
}

unsigned netdev_init(void)
{
    if (nr_devs)
        return nr_devs;
    for (unsigned i = 0; i < pci_count() && nr_devs < NETDEV_MAX; i++)
        if (vnet_matches(pci_get(i)))
            probe(pci_get(i));
    return nr_devs;
}

unsigned netdev_count(void) { return nr_devs; }
struct netdev *netdev_at(unsigned index) { return index < nr_devs ? &devs[index] : NULL; }
const char *netdev_name(const struct netdev *nd) { return nd->name; }
const uint8_t *netdev_mac(const struct netdev *nd) { return nd->mac; }
bool netdev_usable(const struct netdev *nd) { return !nd->broken; }
const struct netdev_stats *netdev_stats(const struct netdev *nd) { return &nd->stats; }

struct netdev *netdev_lookup(const char *name)
{
    for (unsigned i = 0; i < nr_devs; i++)
        if (strcmp(devs[i].name, name) == 0)
            return &devs[i];
    return NULL;
}

bool netdev_link_up(const struct netdev *nd)
{
    if (nd->broken)
        return false;
    if (!(nd->features & F_STATUS))
        return true;
    return virtio_pci_cfg16(&nd->t, CFG_STATUS) & S_LINK_UP;
}

void netdev_set_rx(struct netdev *nd, netdev_rx_fn fn, void *ctx, netdev_rx_fn *old_fn, void **old_ctx)
{
    if (old_fn)
        *old_fn = nd->rx_fn;
    if (old_ctx)
        *old_ctx = nd->rx_ctx;
    nd->rx_fn = fn;
    nd->rx_ctx = ctx;
}

/* Takes back the transmit buffers the device has finished with. */
static void reclaim_tx(struct netdev *nd)
{
    uint16_t head;
    uint32_t len;
    int got;
    while (!nd->broken && (got = virtq_get_used(&nd->txq, &head, &len)) != 0) {
        if (got < 0 || nd->nr_tx_free == TX_BUFS) {
            disable(nd, "transmit used ring corrupt");
            return;
        }
        nd->tx_free[nd->nr_tx_free++] = nd->tx_slot[head];
    }
}

long netdev_send(struct netdev *nd, const void *frame, size_t len)
{
    if (len < NETDEV_MIN_FRAME || len > NETDEV_MAX_FRAME)
        return -XEN_EINVAL;
    if (!nd->nr_tx_free) {
        reclaim_tx(nd);
        uint64_t start = pvclock_now_ns(), now = start;
        while (!nd->broken && !nd->nr_tx_free && now - start < nd->tx_wait_left) {
            __builtin_ia32_pause();
            reclaim_tx(nd);
            now = pvclock_now_ns();
        }
        nd->tx_wait_left -= now - start < nd->tx_wait_left ? now - start : nd->tx_wait_left;
    }
    if (nd->broken || !nd->nr_tx_free) {
        nd->stats.tx_dropped++;
        return nd->broken ? -XEN_EIO : -XEN_EAGAIN;
    }
    unsigned buf = nd->tx_free[--nd->nr_tx_free];
    uint8_t *b = nd->dma->tx_buf[buf];
    size_t wire = len < ETH_MIN_FRAME ? ETH_MIN_FRAME : len;
    memset(b, 0, NET_HDR_LEN);
    memcpy(b + NET_HDR_LEN, frame, len);
    memset(b + NET_HDR_LEN + len, 0, wire - len);
    struct virtq_seg seg = { virtio_maddr(b), (uint32_t)(NET_HDR_LEN + wire), false };
    uint16_t head;
    if (virtq_add(&nd->txq, &seg, 1, &head)) {
        /* Cannot happen: there are no more buffers than descriptors. */
        nd->tx_free[nd->nr_tx_free++] = (uint8_t)buf;
        nd->stats.tx_dropped++;
        return -XEN_EAGAIN;
    }
    nd->tx_slot[head] = (uint8_t)buf;
    *nd->tx_bell = Q_TX;
    nd->stats.tx_packets++;
    nd->stats.tx_bytes += len;
    return 0;
}

unsigned netdev_poll(struct netdev *nd)
{
    nd->tx_wait_left = TX_WAIT_NS;
    unsigned frames = 0, reposted = 0;
    uint16_t head;
    uint32_t len;
    int got;
    /* At most one queue's worth per call, so a flood cannot hold dom0 here. */
    while (!nd->broken && frames < nd->rxq.size && (got = virtq_get_used(&nd->rxq, &head, &len)) != 0) {
        if (got < 0) {
            disable(nd, "receive used ring corrupt");
            break;
        }
        unsigned buf = nd->rx_slot[head];
        frames++;
        if (len < NET_HDR_LEN + NETDEV_MIN_FRAME || len > NET_HDR_LEN + NETDEV_MAX_FRAME) {
            nd->stats.rx_errors++;
        } else {
            size_t flen = len - NET_HDR_LEN;
            nd->stats.rx_packets++;
            nd->stats.rx_bytes += flen;
            if (nd->rx_fn)
                nd->rx_fn(nd, nd->dma->rx_buf[buf] + NET_HDR_LEN, flen, nd->rx_ctx);
            else
                nd->stats.rx_dropped++;
        }
        if (post_rx(nd, buf) == 0)
            reposted++;
    }
    if (reposted && !nd->broken)
        *nd->rx_bell = Q_RX;
    if (!nd->broken)
        reclaim_tx(nd);
    return frames;
}

void netdev_poll_all(void)
{
    for (unsigned i = 0; i < nr_devs; i++)
        netdev_poll(&devs[i]);
}

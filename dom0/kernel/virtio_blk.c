/* SPDX-License-Identifier: MIT */
/*
 * virtio-blk, modern PCI transport (virtio 1.2 §4.1.4, §5.2): the vendor
 * capabilities locate the common configuration, notification, ISR and
 * device-specific regions in the BARs; one split virtqueue (lib/virtq.c)
 * carries requests of a header, the data and a status byte. Every address
 * the device sees is a machine address (dom0 is PV): the rings and request
 * headers are page-sized pieces of our .bss translated through our page
 * tables, data comes as machine-address segments. Completion is polled.
 */
#include <lamina/string.h>
#include <guest/hypercall.h>
#include <guest/pvclock.h>
#include <guest/runtime.h>
#include "console.h"
#include "virtio_blk.h"
#include "virtio_pci.h"

#define VIRTIO_BLK_MODERN 0x1042
#define VIRTIO_BLK_TRANSITIONAL 0x1001

#define F_SEG_MAX    (1ull << 2)
#define F_RO         (1ull << 5)
#define F_FLUSH      (1ull << 9)
#define WANTED_FEATURES (F_SEG_MAX | F_RO | F_FLUSH)

#define T_IN    0
#define T_OUT   1
#define T_FLUSH 4
#define S_OK     0
#define S_IOERR  1
#define S_UNSUPP 2

#define QUEUE_SIZE 128
#define TIMEOUT_NS (30ull * 1000 * 1000 * 1000)

struct req_hdr {
    uint32_t type;
    uint32_t reserved;
    uint64_t sector;
};

/* Device-visible memory of one disk, page by page, so that no piece crosses
 * a page (and so a machine) boundary. */
struct vblk_dma {
    uint8_t desc[PAGE_SIZE];
    uint8_t avail[PAGE_SIZE];
    uint8_t used[PAGE_SIZE];
    union {
        struct {
            struct req_hdr hdr;
            uint8_t status;
        } req;
        uint8_t page[PAGE_SIZE];
    } r;
};

struct vblk {
    const struct pci_dev *pci;
    struct virtio_pci t;
    volatile uint16_t *notify;
    uint64_t features, capacity;
    unsigned max_segs;
    bool broken;
    struct virtq q;
    struct vblk_dma *dma;
};

static struct vblk_dma dma_pages[8] __attribute__((aligned(PAGE_SIZE)));
static struct virtq_seg chain[VIRTQ_MAX_SIZE];
static struct vblk disks[8];
static unsigned nr_disks;

bool vblk_matches(const struct pci_dev *pci)
{
    return pci->vendor == VIRTIO_VENDOR &&
           (pci->device == VIRTIO_BLK_MODERN || pci->device == VIRTIO_BLK_TRANSITIONAL);
}

/* The device configuration: capacity (8 bytes, read until the generation
 * is stable) and seg_max. */
static void read_config(struct vblk *v)
{
    uint8_t gen;
    do {
        gen = virtio_pci_config_gen(&v->t);
        v->capacity = virtio_pci_cfg32(&v->t, 0) | (uint64_t)virtio_pci_cfg32(&v->t, 4) << 32;
    } while (gen != virtio_pci_config_gen(&v->t));
    unsigned segs = v->q.size - 2;
    if (v->features & F_SEG_MAX) {
        uint32_t seg_max = virtio_pci_cfg32(&v->t, 12);
        if (seg_max && seg_max < segs)
            segs = seg_max;
    }
    v->max_segs = segs;
}

struct vblk *vblk_probe(const struct pci_dev *pci)
{
    if (nr_disks == ARRAY_SIZE(disks))
        return NULL;
    struct vblk *v = &disks[nr_disks];
    *v = (struct vblk){ .pci = pci, .dma = &dma_pages[nr_disks] };
    const char *why = virtio_pci_map(&v->t, pci);
    if (!why)
        why = virtio_pci_negotiate(&v->t, WANTED_FEATURES, &v->features);
    if (!why)
        why = virtio_pci_setup_queue(&v->t, 0, QUEUE_SIZE, &v->q, v->dma->desc, v->dma->avail, v->dma->used,
                                     &v->notify);
    if (why) {
        con_printf("virtio-blk %02x:%02x.%u: %s\n", pci->bus, pci->dev, pci->fn, why);
        virtio_pci_failed(&v->t);
        return NULL;
    }
    read_config(v);
    virtio_pci_driver_ok(&v->t);
    nr_disks++;
    return v;
}

uint64_t vblk_capacity(const struct vblk *v) { return v->capacity; }
bool vblk_read_only(const struct vblk *v) { return v->features & F_RO; }
bool vblk_has_flush(const struct vblk *v) { return v->features & F_FLUSH; }
unsigned vblk_max_segs(const struct vblk *v) { return v->max_segs; }

/* The device broke the rules or went silent: stop it for good. */
static long disable(struct vblk *v, long rc, const char *why)
{
    con_printf("virtio-blk %02x:%02x.%u: %s; disk disabled\n", v->pci->bus, v->pci->dev, v->pci->fn, why);
    virtio_pci_reset(&v->t);
    v->broken = true;
    return rc;
}

/* Submits header + segs + status as one chain and polls for it. */
static long submit(struct vblk *v, uint32_t type, uint64_t sector, const struct virtq_seg *segs, unsigned n)
{
    if (v->broken)
        return -XEN_EIO;
    if (n > v->max_segs)
        return -XEN_EINVAL;
    v->dma->r.req.hdr = (struct req_hdr){ type, 0, sector };
    v->dma->r.req.status = 0xff;
    chain[0] = (struct virtq_seg){ virtio_maddr(&v->dma->r.req.hdr), sizeof(struct req_hdr), false };
    if (n)
        memcpy(&chain[1], segs, n * sizeof(*segs));
    chain[n + 1] = (struct virtq_seg){ virtio_maddr(&v->dma->r.req.status), 1, true };
    uint16_t head, done;
    uint32_t len;
    if (virtq_add(&v->q, chain, n + 2, &head))
        return -XEN_EINVAL;
    *v->notify = 0;
    uint64_t deadline = pvclock_now_ns() + TIMEOUT_NS;
    int got;
    while ((got = virtq_get_used(&v->q, &done, &len)) == 0) {
        if (pvclock_now_ns() > deadline)
            return disable(v, -XEN_ETIMEDOUT, "request timed out");
        __asm__ volatile("pause");
    }
    if (got < 0 || done != head)
        return disable(v, -XEN_EIO, "used ring corrupt");
    barrier();
    uint8_t status = *(volatile uint8_t *)&v->dma->r.req.status;
    return status == S_OK ? 0 : status == S_UNSUPP ? -XEN_EOPNOTSUPP : -XEN_EIO;
}

long vblk_rw(struct vblk *v, bool write, uint64_t sector, const struct virtq_seg *segs, unsigned n)
{
    if (write && vblk_read_only(v))
        return -XEN_EROFS;
    return submit(v, write ? T_OUT : T_IN, sector, segs, n);
}

long vblk_flush(struct vblk *v)
{
    return vblk_has_flush(v) ? submit(v, T_FLUSH, 0, NULL, 0) : 0;
}

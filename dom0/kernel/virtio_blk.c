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

#define VIRTIO_VENDOR 0x1af4
#define VIRTIO_BLK_MODERN 0x1042
#define VIRTIO_BLK_TRANSITIONAL 0x1001
#define PCI_CAP_VENDOR 0x09

/* virtio_pci_cap.cfg_type */
#define CFG_COMMON 1
#define CFG_NOTIFY 2
#define CFG_ISR 3
#define CFG_DEVICE 4

/* Common configuration registers. */
#define COMMON_DFSELECT 0x00
#define COMMON_DF       0x04
#define COMMON_GFSELECT 0x08
#define COMMON_GF       0x0c
#define COMMON_STATUS   0x14
#define COMMON_CFGGEN   0x15
#define COMMON_Q_SELECT 0x16
#define COMMON_Q_SIZE   0x18
#define COMMON_Q_MSIX   0x1a
#define COMMON_Q_ENABLE 0x1c
#define COMMON_Q_NOFF   0x1e
#define COMMON_Q_DESC   0x20
#define COMMON_Q_DRIVER 0x28
#define COMMON_Q_DEVICE 0x30
#define COMMON_LEN      0x38

#define STATUS_ACK         1
#define STATUS_DRIVER      2
#define STATUS_DRIVER_OK   4
#define STATUS_FEATURES_OK 8
#define STATUS_FAILED      128
#define NO_VECTOR          0xffff

#define F_SEG_MAX    (1ull << 2)
#define F_RO         (1ull << 5)
#define F_FLUSH      (1ull << 9)
#define F_VERSION_1  (1ull << 32)
#define WANTED_FEATURES (F_SEG_MAX | F_RO | F_FLUSH | F_VERSION_1)

#define T_IN    0
#define T_OUT   1
#define T_FLUSH 4
#define S_OK     0
#define S_IOERR  1
#define S_UNSUPP 2

#define QUEUE_SIZE 128
#define MAX_REGION (16u * 1024)
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
    volatile uint8_t *common, *notify, *device;
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

static uint8_t rd8(volatile uint8_t *b, unsigned off) { return b[off]; }
static uint16_t rd16(volatile uint8_t *b, unsigned off) { return *(volatile uint16_t *)(b + off); }
static uint32_t rd32(volatile uint8_t *b, unsigned off) { return *(volatile uint32_t *)(b + off); }
static void wr8(volatile uint8_t *b, unsigned off, uint8_t v) { b[off] = v; }
static void wr16(volatile uint8_t *b, unsigned off, uint16_t v) { *(volatile uint16_t *)(b + off) = v; }
static void wr32(volatile uint8_t *b, unsigned off, uint32_t v) { *(volatile uint32_t *)(b + off) = v; }
static void wr64(volatile uint8_t *b, unsigned off, uint64_t v)
{
    wr32(b, off, (uint32_t)v);
    wr32(b, off + 4, (uint32_t)(v >> 32));
}

/* Machine address of one of our .bss pages (what the device must be told). */
static uint64_t maddr_of(const void *p)
{
    return (va_to_mfn(p) << 12) | ((uint64_t)(uintptr_t)p & (PAGE_SIZE - 1));
}

bool vblk_matches(const struct pci_dev *pci)
{
    return pci->vendor == VIRTIO_VENDOR &&
           (pci->device == VIRTIO_BLK_MODERN || pci->device == VIRTIO_BLK_TRANSITIONAL);
}

/* Maps the region a virtio capability at `cap` describes; its length is
 * returned through len (at least min_len, at most MAX_REGION is mapped). */
static volatile uint8_t *map_cap(const struct pci_dev *pci, unsigned cap, unsigned min_len)
{
    unsigned bar = pci_read(pci, cap + 4, 1);
    uint32_t off = pci_read(pci, cap + 8, 4), len = pci_read(pci, cap + 12, 4);
    uint64_t base = pci_bar_addr(pci, bar);
    if (!base || len < min_len)
        return NULL;
    return pci_map_mmio(base + off, len < MAX_REGION ? len : MAX_REGION);
}

static const char *find_regions(struct vblk *v)
{
    unsigned caps[5] = { 0 };
    for (unsigned c = pci_find_cap(v->pci, PCI_CAP_VENDOR, 0); c; c = pci_find_cap(v->pci, PCI_CAP_VENDOR, c)) {
        unsigned type = pci_read(v->pci, c + 3, 1);
        if (type >= CFG_COMMON && type <= CFG_DEVICE && !caps[type])
            caps[type] = c;
    }
    if (!caps[CFG_COMMON] || !caps[CFG_NOTIFY] || !caps[CFG_DEVICE])
        return "no modern virtio capabilities (legacy-only device?)";
    pci_enable_mmio_dma(v->pci);
    v->common = map_cap(v->pci, caps[CFG_COMMON], COMMON_LEN);
    v->device = map_cap(v->pci, caps[CFG_DEVICE], 8);
    if (!v->common || !v->device)
        return "cannot map the configuration regions";
    /* Our one queue's doorbell: notify offset * multiplier into the region. */
    wr16(v->common, COMMON_Q_SELECT, 0);
    uint32_t mult = pci_read(v->pci, caps[CFG_NOTIFY] + 16, 4);
    uint64_t at = (uint64_t)rd16(v->common, COMMON_Q_NOFF) * mult;
    volatile uint8_t *notify = map_cap(v->pci, caps[CFG_NOTIFY], 2);
    uint32_t notify_len = pci_read(v->pci, caps[CFG_NOTIFY] + 12, 4);
    if (!notify || at + 2 > notify_len || at + 2 > MAX_REGION)
        return "bad notification region";
    v->notify = notify + at;
    return NULL;
}

static uint64_t read_features(struct vblk *v)
{
    wr32(v->common, COMMON_DFSELECT, 0);
    uint64_t lo = rd32(v->common, COMMON_DF);
    wr32(v->common, COMMON_DFSELECT, 1);
    return lo | (uint64_t)rd32(v->common, COMMON_DF) << 32;
}

static const char *negotiate(struct vblk *v)
{
    wr8(v->common, COMMON_STATUS, 0);
    for (unsigned i = 0; rd8(v->common, COMMON_STATUS) != 0; i++)
        if (i == 1000000)
            return "reset did not complete";
    wr8(v->common, COMMON_STATUS, STATUS_ACK);
    wr8(v->common, COMMON_STATUS, STATUS_ACK | STATUS_DRIVER);
    uint64_t offered = read_features(v);
    if (!(offered & F_VERSION_1))
        return "no VIRTIO_F_VERSION_1";
    v->features = offered & WANTED_FEATURES;
    wr32(v->common, COMMON_GFSELECT, 0);
    wr32(v->common, COMMON_GF, (uint32_t)v->features);
    wr32(v->common, COMMON_GFSELECT, 1);
    wr32(v->common, COMMON_GF, (uint32_t)(v->features >> 32));
    wr8(v->common, COMMON_STATUS, STATUS_ACK | STATUS_DRIVER | STATUS_FEATURES_OK);
    if (!(rd8(v->common, COMMON_STATUS) & STATUS_FEATURES_OK))
        return "features not accepted";
    return NULL;
}

static const char *setup_queue(struct vblk *v)
{
    wr16(v->common, COMMON_Q_SELECT, 0);
    unsigned max = rd16(v->common, COMMON_Q_SIZE), size = QUEUE_SIZE;
    if (max == 0)
        return "queue 0 does not exist";
    while (size > max)
        size >>= 1;
    if (virtq_init(&v->q, size, v->dma->desc, v->dma->avail, v->dma->used))
        return "bad queue size";
    wr16(v->common, COMMON_Q_SIZE, (uint16_t)size);
    wr16(v->common, COMMON_Q_MSIX, NO_VECTOR);
    wr64(v->common, COMMON_Q_DESC, maddr_of(v->dma->desc));
    wr64(v->common, COMMON_Q_DRIVER, maddr_of(v->dma->avail));
    wr64(v->common, COMMON_Q_DEVICE, maddr_of(v->dma->used));
    wr16(v->common, COMMON_Q_ENABLE, 1);
    return NULL;
}

/* The device configuration: capacity (8 bytes, read until the generation
 * is stable) and seg_max. */
static void read_config(struct vblk *v)
{
    uint8_t gen;
    do {
        gen = rd8(v->common, COMMON_CFGGEN);
        v->capacity = rd32(v->device, 0) | (uint64_t)rd32(v->device, 4) << 32;
    } while (gen != rd8(v->common, COMMON_CFGGEN));
    unsigned segs = v->q.size - 2;
    if (v->features & F_SEG_MAX) {
        uint32_t seg_max = rd32(v->device, 12);
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
    const char *why = find_regions(v);
    if (!why)
        why = negotiate(v);
    if (!why)
        why = setup_queue(v);
    if (why) {
        con_printf("virtio-blk %02x:%02x.%u: %s\n", pci->bus, pci->dev, pci->fn, why);
        if (v->common)
            wr8(v->common, COMMON_STATUS, STATUS_FAILED);
        return NULL;
    }
    read_config(v);
    wr8(v->common, COMMON_STATUS, STATUS_ACK | STATUS_DRIVER | STATUS_FEATURES_OK | STATUS_DRIVER_OK);
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
    wr8(v->common, COMMON_STATUS, 0);
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
    chain[0] = (struct virtq_seg){ maddr_of(&v->dma->r.req.hdr), sizeof(struct req_hdr), false };
    if (n)
        memcpy(&chain[1], segs, n * sizeof(*segs));
    chain[n + 1] = (struct virtq_seg){ maddr_of(&v->dma->r.req.status), 1, true };
    uint16_t head, done;
    uint32_t len;
    if (virtq_add(&v->q, chain, n + 2, &head))
        return -XEN_EINVAL;
    wr16(v->notify, 0, 0);
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

/* SPDX-License-Identifier: MIT */
/*
 * The modern virtio PCI transport (virtio 1.2 §4.1.4): vendor capabilities
 * locate the common configuration, notification and device-specific
 * regions in the BARs; dom0 maps them uncached. Every address a device is
 * given is a machine address (dom0 is PV).
 */
#include <guest/runtime.h>
#include "virtio_pci.h"

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

#define MAX_REGION (16u * 1024)

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

uint64_t virtio_maddr(const void *p)
{
    return (va_to_mfn(p) << 12) | ((uint64_t)(uintptr_t)p & (PAGE_SIZE - 1));
}

/* Maps the region the virtio capability at `cap` describes (at least
 * min_len long; at most MAX_REGION of it is mapped). */
static volatile uint8_t *map_cap(const struct pci_dev *pci, unsigned cap, unsigned min_len)
{
    unsigned bar = pci_read(pci, cap + 4, 1);
    uint32_t off = pci_read(pci, cap + 8, 4), len = pci_read(pci, cap + 12, 4);
    uint64_t base = pci_bar_addr(pci, bar);
    if (!base || len < min_len)
        return NULL;
    return pci_map_mmio(base + off, len < MAX_REGION ? len : MAX_REGION);
}

const char *virtio_pci_map(struct virtio_pci *t, const struct pci_dev *pci)
{
    unsigned caps[5] = { 0 };
    *t = (struct virtio_pci){ .pci = pci };
    for (unsigned c = pci_find_cap(pci, PCI_CAP_VENDOR, 0); c; c = pci_find_cap(pci, PCI_CAP_VENDOR, c)) {
        unsigned type = pci_read(pci, c + 3, 1);
        if (type >= CFG_COMMON && type <= CFG_DEVICE && !caps[type])
            caps[type] = c;
    }
    if (!caps[CFG_COMMON] || !caps[CFG_NOTIFY] || !caps[CFG_DEVICE])
        return "no modern virtio capabilities (legacy-only device?)";
    pci_enable_mmio_dma(pci);
    t->common = map_cap(pci, caps[CFG_COMMON], COMMON_LEN);
    t->device = map_cap(pci, caps[CFG_DEVICE], 8);
    t->notify = map_cap(pci, caps[CFG_NOTIFY], 2);
    if (!t->common || !t->device)
        return "cannot map the configuration regions";
    if (!t->notify)
        return "bad notification region";
    t->notify_mult = pci_read(pci, caps[CFG_NOTIFY] + 16, 4);
    uint32_t len = pci_read(pci, caps[CFG_NOTIFY] + 12, 4);
    t->notify_len = len < MAX_REGION ? len : MAX_REGION;
    return NULL;
}

static uint64_t read_features(struct virtio_pci *t)
{
    wr32(t->common, COMMON_DFSELECT, 0);
    uint64_t lo = rd32(t->common, COMMON_DF);
    wr32(t->common, COMMON_DFSELECT, 1);
    return lo | (uint64_t)rd32(t->common, COMMON_DF) << 32;
}

const char *virtio_pci_negotiate(struct virtio_pci *t, uint64_t wanted, uint64_t *accepted)
{
    wr8(t->common, COMMON_STATUS, 0);
    for (unsigned i = 0; rd8(t->common, COMMON_STATUS) != 0; i++)
        if (i == 1000000)
            return "reset did not complete";
    wr8(t->common, COMMON_STATUS, STATUS_ACK);
    wr8(t->common, COMMON_STATUS, STATUS_ACK | STATUS_DRIVER);
    uint64_t offered = read_features(t);
    if (!(offered & VIRTIO_F_VERSION_1))
        return "no VIRTIO_F_VERSION_1";
    uint64_t f = offered & (wanted | VIRTIO_F_VERSION_1);
    wr32(t->common, COMMON_GFSELECT, 0);
    wr32(t->common, COMMON_GF, (uint32_t)f);
    wr32(t->common, COMMON_GFSELECT, 1);
    wr32(t->common, COMMON_GF, (uint32_t)(f >> 32));
    wr8(t->common, COMMON_STATUS, STATUS_ACK | STATUS_DRIVER | STATUS_FEATURES_OK);
    if (!(rd8(t->common, COMMON_STATUS) & STATUS_FEATURES_OK))
        return "features not accepted";
    *accepted = f;
    return NULL;
}

const char *virtio_pci_setup_queue(struct virtio_pci *t, unsigned index, unsigned want, struct virtq *q,
                                   void *desc, void *avail, void *used, volatile uint16_t **doorbell)
{
    wr16(t->common, COMMON_Q_SELECT, (uint16_t)index);
    unsigned max = rd16(t->common, COMMON_Q_SIZE), size = want;
    if (max == 0)
        return "a queue does not exist";
    while (size > max)
        size >>= 1;
    /* The queue's doorbell: its notify offset times the multiplier. */
    uint64_t at = (uint64_t)rd16(t->common, COMMON_Q_NOFF) * t->notify_mult;
    if (at + 2 > t->notify_len)
        return "bad notification region";
    if (virtq_init(q, size, desc, avail, used))
        return "bad queue size";
    wr16(t->common, COMMON_Q_SIZE, (uint16_t)size);
    wr16(t->common, COMMON_Q_MSIX, NO_VECTOR);
    wr64(t->common, COMMON_Q_DESC, virtio_maddr(desc));
    wr64(t->common, COMMON_Q_DRIVER, virtio_maddr(avail));
    wr64(t->common, COMMON_Q_DEVICE, virtio_maddr(used));
    wr16(t->common, COMMON_Q_ENABLE, 1);
    *doorbell = (volatile uint16_t *)(t->notify + at);
    return NULL;
}

void virtio_pci_driver_ok(struct virtio_pci *t)
{
    wr8(t->common, COMMON_STATUS, STATUS_ACK | STATUS_DRIVER | STATUS_FEATURES_OK | STATUS_DRIVER_OK);
}

void virtio_pci_reset(struct virtio_pci *t)
{
    if (t->common)
        wr8(t->common, COMMON_STATUS, 0);
}

void virtio_pci_failed(struct virtio_pci *t)
{
    if (t->common)
        wr8(t->common, COMMON_STATUS, STATUS_FAILED);
}

uint8_t virtio_pci_config_gen(const struct virtio_pci *t) { return rd8(t->common, COMMON_CFGGEN); }
uint8_t virtio_pci_cfg8(const struct virtio_pci *t, unsigned off) { return rd8(t->device, off); }
uint16_t virtio_pci_cfg16(const struct virtio_pci *t, unsigned off) { return rd16(t->device, off); }
uint32_t virtio_pci_cfg32(const struct virtio_pci *t, unsigned off) { return rd32(t->device, off); }

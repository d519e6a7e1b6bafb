/* SPDX-License-Identifier: MIT */
/*
 * PCI configuration space and device memory for dom0; see pci.h. Device
 * memory is mapped into pages of our own .bss whose RAM frames we give up
 * for the purpose: update_va_mapping with PCD|PWT (uncached, PAT entry 3)
 * on frames the hypervisor treats as device memory.
 */
#include <guest/hypercall.h>
#include <guest/portio.h>
#include <guest/runtime.h>
#include "pci.h"

#define PCI_CONF_ADDR 0xcf8
#define PCI_CONF_DATA 0xcfc
#define PCI_VENDOR_ID   0x00
#define PCI_COMMAND     0x04
#define PCI_STATUS      0x06
#define PCI_CLASS_REV   0x08
#define PCI_HEADER_TYPE 0x0e
#define PCI_BAR0        0x10
#define PCI_SECONDARY_BUS 0x19
#define PCI_CAP_PTR     0x34
#define PCI_CMD_MEMORY  (1u << 1)
#define PCI_CMD_MASTER  (1u << 2)
#define PCI_STATUS_CAPS (1u << 4)
#define PCI_MAX_CAPS    48

#define MMIO_WINDOW_PAGES 64
#define PTE_PWT (1UL << 3)
#define PTE_PCD (1UL << 4)

static struct pci_dev devices[PCI_MAX_DEVICES];
static unsigned nr_devices;
static bool scanned;
static uint8_t mmio_window[MMIO_WINDOW_PAGES][PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
static unsigned mmio_used;

static uint32_t conf_addr(unsigned bus, unsigned dev, unsigned fn, unsigned reg)
{
    return 0x80000000u | bus << 16 | dev << 11 | fn << 8 | (reg & 0xfc);
}

static uint32_t raw_read(unsigned bus, unsigned dev, unsigned fn, unsigned reg, unsigned size)
{
    outl(PCI_CONF_ADDR, conf_addr(bus, dev, fn, reg));
    uint16_t port = (uint16_t)(PCI_CONF_DATA + (reg & 3));
    return size == 1 ? inb(port) : size == 2 ? inw(port) : inl(port);
}

uint32_t pci_read(const struct pci_dev *d, unsigned reg, unsigned size)
{
    return raw_read(d->bus, d->dev, d->fn, reg, size);
}

void pci_write(const struct pci_dev *d, unsigned reg, unsigned size, uint32_t val)
{
    outl(PCI_CONF_ADDR, conf_addr(d->bus, d->dev, d->fn, reg));
    uint16_t port = (uint16_t)(PCI_CONF_DATA + (reg & 3));
    if (size == 1)
        outb(port, (uint8_t)val);
    else if (size == 2)
        outw(port, (uint16_t)val);
    else
        outl(port, val);
}

static void scan_bus(unsigned bus, unsigned depth);

static void add_function(unsigned bus, unsigned dev, unsigned fn, unsigned depth)
{
    uint32_t id = raw_read(bus, dev, fn, PCI_VENDOR_ID, 4);
    if ((id & 0xffff) == 0xffff || nr_devices == PCI_MAX_DEVICES)
        return;
    uint32_t class = raw_read(bus, dev, fn, PCI_CLASS_REV, 4);
    struct pci_dev *d = &devices[nr_devices++];
    *d = (struct pci_dev){
        .bus = (uint8_t)bus, .dev = (uint8_t)dev, .fn = (uint8_t)fn,
        .vendor = (uint16_t)id, .device = (uint16_t)(id >> 16),
        .class = (uint8_t)(class >> 24), .subclass = (uint8_t)(class >> 16), .prog_if = (uint8_t)(class >> 8),
        .header_type = (uint8_t)raw_read(bus, dev, fn, PCI_HEADER_TYPE, 1),
    };
    /* A PCI-to-PCI bridge: its secondary bus next (depth-first, as Linux). */
    if ((d->header_type & 0x7f) == 1) {
        unsigned secondary = raw_read(bus, dev, fn, PCI_SECONDARY_BUS, 1);
        if (secondary > bus)
            scan_bus(secondary, depth + 1);
    }
}

static void scan_bus(unsigned bus, unsigned depth)
{
    if (depth > 8)
        return;
    for (unsigned dev = 0; dev < 32; dev++) {
        if ((raw_read(bus, dev, 0, PCI_VENDOR_ID, 2) & 0xffff) == 0xffff)
            continue;
        bool multi = raw_read(bus, dev, 0, PCI_HEADER_TYPE, 1) & 0x80;
        for (unsigned fn = 0; fn < (multi ? 8u : 1u); fn++)
            add_function(bus, dev, fn, depth);
    }
}

unsigned pci_scan(void)
{
    if (!scanned) {
        scanned = true;
        scan_bus(0, 0);
    }
    return nr_devices;
}

unsigned pci_count(void) { return nr_devices; }

const struct pci_dev *pci_get(unsigned i) { return i < nr_devices ? &devices[i] : NULL; }

unsigned pci_find_cap(const struct pci_dev *d, uint8_t id, unsigned from)
{
    if (!(pci_read(d, PCI_STATUS, 2) & PCI_STATUS_CAPS))
        return 0;
    unsigned pos = from ? pci_read(d, from + 1, 1) : pci_read(d, PCI_CAP_PTR, 1);
    for (unsigned n = 0; n < PCI_MAX_CAPS; n++) {
        pos &= 0xfc;
        if (pos < 0x40)
            return 0;
        if (pci_read(d, pos, 1) == id)
            return pos;
        pos = pci_read(d, pos + 1, 1);
    }
    return 0;
}

uint64_t pci_bar_addr(const struct pci_dev *d, unsigned bar)
{
    if (bar > 5 || (d->header_type & 0x7f) != 0)
        return 0;
    uint32_t lo = pci_read(d, PCI_BAR0 + 4 * bar, 4);
    if (lo & 1)
        return 0;                                     /* I/O space */
    uint64_t addr = lo & ~0xfu;
    if (((lo >> 1) & 3) == 2) {                       /* 64-bit: the next BAR holds the top */
        if (bar == 5)
            return 0;
        addr |= (uint64_t)pci_read(d, PCI_BAR0 + 4 * (bar + 1), 4) << 32;
    }
    return addr;
}

void pci_enable_mmio_dma(const struct pci_dev *d)
{
    uint32_t cmd = pci_read(d, PCI_COMMAND, 2);
    pci_write(d, PCI_COMMAND, 2, cmd | PCI_CMD_MEMORY | PCI_CMD_MASTER);
}

volatile void *pci_map_mmio(uint64_t maddr, uint64_t len)
{
    uint64_t first = maddr & ~(PAGE_SIZE - 1), end = maddr + len;
    if (len == 0 || end < maddr)
        return NULL;
    uint64_t pages = (end - first + PAGE_SIZE - 1) / PAGE_SIZE;
    if (pages > MMIO_WINDOW_PAGES - mmio_used)
        return NULL;
    for (uint64_t i = 0; i < pages; i++) {
        uint64_t va = (uint64_t)(uintptr_t)mmio_window[mmio_used + i];
        uint64_t pte = (first + i * PAGE_SIZE) | PTE_P | PTE_RW | PTE_A | PTE_D | PTE_PCD | PTE_PWT;
        if (hyp_update_va_mapping(va, pte, UVMF_INVLPG))
            return NULL;             /* the pages mapped so far stay ours, unused */
    }
    volatile uint8_t *va = mmio_window[mmio_used];
    mmio_used += (unsigned)pages;
    return va + (maddr - first);
}

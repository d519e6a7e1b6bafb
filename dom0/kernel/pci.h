/* SPDX-License-Identifier: MIT */
/*
 * PCI for dom0: configuration space through ports 0xcf8/0xcfc (the
 * hypervisor performs them for us, docs/pci.md), a depth-first scan of the
 * buses below bus 0 as the firmware numbered them, capability lists, BARs,
 * and uncached mappings of device memory.
 */
#ifndef DOM0_PCI_H
#define DOM0_PCI_H
#include <stdbool.h>
#include <stdint.h>

#define PCI_MAX_DEVICES 64

struct pci_dev {
    uint8_t bus, dev, fn;
    uint16_t vendor, device;
    uint8_t class, subclass, prog_if, header_type;
};

/* Needs virtual IOPL 1; scans once and returns the devices in scan order. */
unsigned pci_scan(void);
unsigned pci_count(void);
const struct pci_dev *pci_get(unsigned i);

uint32_t pci_read(const struct pci_dev *d, unsigned reg, unsigned size);
void pci_write(const struct pci_dev *d, unsigned reg, unsigned size, uint32_t val);
/* Offset of the first capability with `id` at or after the capability
 * whose offset is `from` (0: the start of the list); 0 if none. The walk is
 * bounded. */
unsigned pci_find_cap(const struct pci_dev *d, uint8_t id, unsigned from);
/* The memory address BAR `bar` decodes (64-bit BARs joined); 0 for an I/O
 * BAR, an unassigned one or a bad number. */
uint64_t pci_bar_addr(const struct pci_dev *d, unsigned bar);
/* Turns on memory decoding and bus mastering. */
void pci_enable_mmio_dma(const struct pci_dev *d);

/* Maps [maddr, maddr+len) of device memory uncached and returns where, or
 * NULL (not device memory, or the mapping window is full). Mappings stay. */
volatile void *pci_map_mmio(uint64_t maddr, uint64_t len);

#endif

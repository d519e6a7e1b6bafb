/* SPDX-License-Identifier: MIT */
/*
 * The modern (virtio 1.x) PCI transport, shared by dom0's virtio drivers
 * (virtio_blk.c, virtio_net.c): the vendor capabilities, feature
 * negotiation, queue set-up and device status. See docs/virtio-blk.md.
 */
#ifndef DOM0_VIRTIO_PCI_H
#define DOM0_VIRTIO_PCI_H
#include <stdbool.h>
#include <stdint.h>
#include <lamina/virtq.h>
#include "pci.h"

#define VIRTIO_VENDOR 0x1af4
#define VIRTIO_F_VERSION_1 (1ull << 32)

struct virtio_pci {
    const struct pci_dev *pci;
    volatile uint8_t *common, *device, *notify;
    uint32_t notify_mult, notify_len;
};

/* Finds and maps the common, notification and device regions and turns on
 * memory decoding and bus mastering. NULL, or why not. */
const char *virtio_pci_map(struct virtio_pci *t, const struct pci_dev *pci);
/* Reset, ACKNOWLEDGE, DRIVER, then accepts offered & wanted (VERSION_1 is
 * required) and checks FEATURES_OK. NULL, or why not. */
const char *virtio_pci_negotiate(struct virtio_pci *t, uint64_t wanted, uint64_t *accepted);
/* Sets queue `index` up with at most `want` entries over the three zeroed
 * pages, enables it and returns its doorbell through *doorbell. */
const char *virtio_pci_setup_queue(struct virtio_pci *t, unsigned index, unsigned want, struct virtq *q,
                                   void *desc, void *avail, void *used, volatile uint16_t **doorbell);
void virtio_pci_driver_ok(struct virtio_pci *t);
/* Resets the device (status 0: it stops using our memory). */
void virtio_pci_reset(struct virtio_pci *t);
void virtio_pci_failed(struct virtio_pci *t);

/* Device-specific configuration, read until the generation is stable by the
 * caller (virtio_pci_config_gen before and after). */
uint8_t virtio_pci_config_gen(const struct virtio_pci *t);
uint8_t virtio_pci_cfg8(const struct virtio_pci *t, unsigned off);
uint16_t virtio_pci_cfg16(const struct virtio_pci *t, unsigned off);
uint32_t virtio_pci_cfg32(const struct virtio_pci *t, unsigned off);

/* Machine address of a byte of dom0's own image (what a device is told). */
uint64_t virtio_maddr(const void *p);

#endif

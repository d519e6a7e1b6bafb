/* SPDX-License-Identifier: MIT */
/*
 * virtio-blk over the modern (virtio 1.x) PCI transport, polled: the disk
 * driver under blkdev.c. See docs/virtio-blk.md.
 */
#ifndef DOM0_VIRTIO_BLK_H
#define DOM0_VIRTIO_BLK_H
#include <stdbool.h>
#include <stdint.h>
#include <lamina/virtq.h>
#include "pci.h"

struct vblk;

/* Brings the device up (reset, features, one queue, DRIVER_OK). Returns the
 * disk, or NULL with the reason printed. */
struct vblk *vblk_probe(const struct pci_dev *pci);
/* True for a modern virtio-blk function (1af4:1042). A transitional one
 * (1af4:1001) is driven too when it offers the modern interface. */
bool vblk_matches(const struct pci_dev *pci);

uint64_t vblk_capacity(const struct vblk *v);   /* 512-byte sectors */
bool vblk_read_only(const struct vblk *v);
bool vblk_has_flush(const struct vblk *v);
/* Data segments one request may carry. */
unsigned vblk_max_segs(const struct vblk *v);

/* One request: read into or write from segs (device-order, bus addresses),
 * whose lengths add up to a multiple of 512, at `sector`. The caller has
 * checked the range. Returns 0 or -EIO / -ETIMEDOUT / -EOPNOTSUPP. */
long vblk_rw(struct vblk *v, bool write, uint64_t sector, const struct virtq_seg *segs, unsigned n);
long vblk_flush(struct vblk *v);

#endif

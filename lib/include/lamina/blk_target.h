/* SPDX-License-Identifier: MIT */
/*
 * A block device as dom0's block backend sees it: a name, a size in
 * 512-byte sectors, and synchronous read, write and flush. dom0's RAM disk
 * implements it today; the virtio-blk driver (a disk given to QEMU) is
 * meant to provide the same. Buffers are dom0 memory of at least
 * count * 512 bytes, with no alignment promised.
 */
#ifndef LAMINA_BLK_TARGET_H
#define LAMINA_BLK_TARGET_H
#include <stdbool.h>
#include <stdint.h>

#define BLK_TARGET_SECTOR_SIZE 512u
#define BLK_TARGET_NAME_MAX 32

struct blk_target {
    char name[BLK_TARGET_NAME_MAX];    /* as the disk spec names it, e.g. "/dev/vdb" */
    uint64_t sectors;
    bool read_only;                /* the medium itself cannot be written */
    /* Each returns 0 or -errno (Xen's numbers). The caller has checked
     * that [sector, sector + count) lies inside the device. */
    long (*read)(struct blk_target *d, uint64_t sector, uint32_t count, void *buf);
    long (*write)(struct blk_target *d, uint64_t sector, uint32_t count, const void *buf);
    long (*flush)(struct blk_target *d);
    void *priv;
};

#endif

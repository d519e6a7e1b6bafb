/* SPDX-License-Identifier: MIT */
/*
 * dom0's block devices by name (struct blkdev, lamina/blkdev.h): whatever
 * drives a disk registers it here, and the block backend looks targets of
 * disk specs up here. Today the only one is a RAM disk, "ram0"
 * (ramdisk.c, BLKDEV_RAMDISK_MIB MiB, zero at boot, kept while dom0 runs);
 * the virtio-blk driver is meant to register "/dev/vdb" and so on.
 */
#ifndef DOM0_BLKDEV_H
#define DOM0_BLKDEV_H
#include <lamina/blkdev.h>

#define BLKDEV_MAX 8
#define BLKDEV_RAMDISK_MIB 16

/* Returns 0, -EEXIST for a name already taken, -ENOSPC when full. */
long blkdev_register(struct blkdev *d);
struct blkdev *blkdev_find(const char *name);
/* The i-th registered device, or NULL. */
struct blkdev *blkdev_at(unsigned i);
/* Registers the RAM disk "ram0". */
void ramdisk_init(void);

#endif

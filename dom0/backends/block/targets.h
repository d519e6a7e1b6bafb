/* SPDX-License-Identifier: MIT */
/*
 * What a disk spec's target may name (struct blk_target,
 * lamina/blk_target.h), registered by name: dom0's own disks and their
 * partitions as "/dev/vda", "/dev/vda1", ... (dom0/kernel/blkdev.h, the
 * virtio-blk driver), and a RAM disk "ram0" (BLK_TARGET_RAMDISK_MIB MiB,
 * zero at boot, kept while dom0 runs). The block backend and xl look
 * targets up here.
 */
#ifndef DOM0_BLK_TARGETS_H
#define DOM0_BLK_TARGETS_H
#include <lamina/blk_target.h>

#define BLK_TARGET_MAX 40     /* 8 disks with partitions, and the RAM disk */
#define BLK_TARGET_RAMDISK_MIB 16

/* Returns 0, -EEXIST for a name already taken, -ENOSPC when full. */
long blk_target_register(struct blk_target *d);
struct blk_target *blk_target_find(const char *name);
/* The i-th registered device, or NULL. */
struct blk_target *blk_target_at(unsigned i);
/* Registers the RAM disk "ram0" and dom0's disks (after blkdev_init). */
void blk_targets_init(void);

#endif

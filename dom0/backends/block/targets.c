/* SPDX-License-Identifier: MIT */
/* dom0's block targets: the registry, the RAM disk and dom0's disks; see
 * targets.h. */
#include <lamina/string.h>
#include <public/errno.h>
#include <lamina/fmt.h>
#include "targets.h"
#include "../../kernel/blkdev.h"

static struct blk_target *devices[BLK_TARGET_MAX];

long blk_target_register(struct blk_target *d)
{
    if (blk_target_find(d->name))
        return -XEN_EEXIST;
    for (unsigned i = 0; i < BLK_TARGET_MAX; i++) {
        if (!devices[i]) {
            devices[i] = d;
            return 0;
        }
    }
    return -XEN_ENOSPC;
}

struct blk_target *blk_target_find(const char *name)
{
    for (unsigned i = 0; i < BLK_TARGET_MAX; i++)
        if (devices[i] && strcmp(devices[i]->name, name) == 0)
            return devices[i];
    return NULL;
}

struct blk_target *blk_target_at(unsigned i)
{
    return i < BLK_TARGET_MAX ? devices[i] : NULL;
}

/* ---- the RAM disk ---- */

#define RAMDISK_BYTES ((uint64_t)BLK_TARGET_RAMDISK_MIB << 20)
static uint8_t ramdisk_mem[RAMDISK_BYTES] __attribute__((aligned(4096)));

static long ram_read(struct blk_target *d, uint64_t sector, uint32_t count, void *buf)
{
    (void)d;
    memcpy(buf, ramdisk_mem + sector * BLK_TARGET_SECTOR_SIZE, (size_t)count * BLK_TARGET_SECTOR_SIZE);
    return 0;
}

static long ram_write(struct blk_target *d, uint64_t sector, uint32_t count, const void *buf)
{
    (void)d;
    memcpy(ramdisk_mem + sector * BLK_TARGET_SECTOR_SIZE, buf, (size_t)count * BLK_TARGET_SECTOR_SIZE);
    return 0;
}

static long ram_flush(struct blk_target *d)
{
    (void)d;
    return 0;
}

static struct blk_target ramdisk = {
    .name = "ram0",
    .sectors = RAMDISK_BYTES / BLK_TARGET_SECTOR_SIZE,
    .read = ram_read,
    .write = ram_write,
    .flush = ram_flush,
};

/* ---- dom0's disks and partitions (the virtio-blk driver) ---- */

static long disk_read(struct blk_target *t, uint64_t sector, uint32_t count, void *buf)
{
    return blkdev_read(t->priv, sector, count, buf);
}

static long disk_write(struct blk_target *t, uint64_t sector, uint32_t count, const void *buf)
{
    return blkdev_write(t->priv, sector, count, buf);
}

static long disk_flush(struct blk_target *t)
{
    return blkdev_flush(t->priv);
}

static struct blk_target disks[BLK_TARGET_MAX - 1];

void blk_targets_init(void)
{
    (void)blk_target_register(&ramdisk);
    for (unsigned i = 0; i < sizeof(disks) / sizeof(disks[0]) && blkdev_at(i); i++) {
        struct blkdev *b = blkdev_at(i);
        struct blk_target *t = &disks[i];
        fmt_snprintf(t->name, sizeof(t->name), "/dev/%s", blkdev_name(b));
        t->sectors = blkdev_sectors(b);
        t->read_only = blkdev_read_only(b);
        t->read = disk_read;
        t->write = disk_write;
        t->flush = disk_flush;
        t->priv = b;
        (void)blk_target_register(t);
    }
}

/* SPDX-License-Identifier: MIT */
/* dom0's block device registry and its RAM disk; see blkdev.h. */
#include <lamina/string.h>
#include <public/errno.h>
#include "blkdev.h"

static struct blkdev *devices[BLKDEV_MAX];

long blkdev_register(struct blkdev *d)
{
    if (blkdev_find(d->name))
        return -XEN_EEXIST;
    for (unsigned i = 0; i < BLKDEV_MAX; i++) {
        if (!devices[i]) {
            devices[i] = d;
            return 0;
        }
    }
    return -XEN_ENOSPC;
}

struct blkdev *blkdev_find(const char *name)
{
    for (unsigned i = 0; i < BLKDEV_MAX; i++)
        if (devices[i] && strcmp(devices[i]->name, name) == 0)
            return devices[i];
    return NULL;
}

struct blkdev *blkdev_at(unsigned i)
{
    return i < BLKDEV_MAX ? devices[i] : NULL;
}

/* ---- the RAM disk ---- */

#define RAMDISK_BYTES ((uint64_t)BLKDEV_RAMDISK_MIB << 20)
static uint8_t ramdisk_mem[RAMDISK_BYTES] __attribute__((aligned(4096)));

static long ram_read(struct blkdev *d, uint64_t sector, uint32_t count, void *buf)
{
    (void)d;
    memcpy(buf, ramdisk_mem + sector * BLKDEV_SECTOR_SIZE, (size_t)count * BLKDEV_SECTOR_SIZE);
    return 0;
}

static long ram_write(struct blkdev *d, uint64_t sector, uint32_t count, const void *buf)
{
    (void)d;
    memcpy(ramdisk_mem + sector * BLKDEV_SECTOR_SIZE, buf, (size_t)count * BLKDEV_SECTOR_SIZE);
    return 0;
}

static long ram_flush(struct blkdev *d)
{
    (void)d;
    return 0;
}

static struct blkdev ramdisk = {
    .name = "ram0",
    .sectors = RAMDISK_BYTES / BLKDEV_SECTOR_SIZE,
    .read = ram_read,
    .write = ram_write,
    .flush = ram_flush,
};

void ramdisk_init(void)
{
    (void)blkdev_register(&ramdisk);
}

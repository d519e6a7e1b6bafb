/* SPDX-License-Identifier: MIT */
/*
 * The block-device layer over the disk drivers: names, partitions
 * (lib/partition.c), range checks, and the translation of dom0 buffers into
 * machine-address segments (lib/virtq.c) cut to what one request may carry.
 */
#include <lamina/partition.h>
#include <lamina/string.h>
#include <guest/runtime.h>
#include "blkdev.h"
#include "console.h"
#include "pci.h"
#include "virtio_blk.h"

#define MAX_DEVICES (BLKDEV_MAX_DISKS * (1 + PART_MAX))
/* One request moves at most this much of a dom0 buffer. */
#define CHUNK_SECTORS 256
#define CHUNK_SEGS (CHUNK_SECTORS * BLKDEV_SECTOR_SIZE / PAGE_SIZE + 1)

struct blkdev {
    char name[BLKDEV_NAME_MAX];
    struct vblk *disk;
    uint64_t start, sectors;
    bool partition;
};

extern const char __image_start[], __image_end[];

static struct blkdev devices[MAX_DEVICES];
static unsigned nr_devices, nr_disks;
static uint8_t sector_buf[BLKDEV_SECTOR_SIZE] __attribute__((aligned(BLKDEV_SECTOR_SIZE)));
/* image_page_maddr's context: the device writes the buffer (a read). */
static int device_writes;

const char *blkdev_name(const struct blkdev *b) { return b->name; }
uint64_t blkdev_sectors(const struct blkdev *b) { return b->sectors; }
uint64_t blkdev_start(const struct blkdev *b) { return b->start; }
bool blkdev_is_partition(const struct blkdev *b) { return b->partition; }
bool blkdev_read_only(const struct blkdev *b) { return vblk_read_only(b->disk); }
bool blkdev_has_flush(const struct blkdev *b) { return vblk_has_flush(b->disk); }

struct blkdev *blkdev_at(unsigned index)
{
    return index < nr_devices ? &devices[index] : NULL;
}

struct blkdev *blkdev_lookup(const char *name)
{
    if (!name)
        return NULL;
    if (!strncmp(name, "/dev/", 5))
        name += 5;
    for (unsigned i = 0; i < nr_devices; i++)
        if (!strcmp(devices[i].name, name))
            return &devices[i];
    return NULL;
}

/* Machine address of a page of our image that is RAM we own (not a page
 * remapped to shared_info or device memory); ~0 otherwise. ctx != NULL: the
 * device will write it, so it must be mapped writable. */
static uint64_t image_page_maddr(void *ctx, uint64_t va)
{
    uint64_t pte;
    if (va < (uint64_t)(uintptr_t)__image_start || va >= (uint64_t)(uintptr_t)__image_end ||
        !pt_read_entry(va, 1, &pte) || !(pte & PTE_P) || (ctx && !(pte & PTE_RW)))
        return ~0ULL;
    uint64_t mfn = (pte & PTE_ADDR_MASK) >> 12, pfn = m2p_table()[mfn];
    if (pfn_to_mfn(pfn) != mfn)
        return ~0ULL;
    return mfn << 12;
}

static long check_range(const struct blkdev *b, uint64_t sector, uint64_t count)
{
    if (count == 0)
        return -XEN_EINVAL;
    if (sector >= b->sectors || count > b->sectors - sector)
        return -XEN_ERANGE;
    return 0;
}

static long rw_buffer(struct blkdev *b, bool write, uint64_t sector, uint64_t count, uint64_t va)
{
    static struct virtq_seg segs[CHUNK_SEGS];
    long rc = check_range(b, sector, count);
    if (rc)
        return rc;
    if (write && vblk_read_only(b->disk))
        return -XEN_EROFS;
    unsigned max = vblk_max_segs(b->disk) < CHUNK_SEGS ? vblk_max_segs(b->disk) : CHUNK_SEGS;
    while (count) {
        uint64_t n = count < CHUNK_SECTORS ? count : CHUNK_SECTORS;
        void *ctx = write ? NULL : &device_writes;
        int nsegs = virtq_dma_segments(va, n * BLKDEV_SECTOR_SIZE, image_page_maddr, ctx, !write, segs, max);
        if (nsegs == -XEN_E2BIG) {
            /* A fragmented buffer and a device with few segments: less at
             * once (max - 1 whole pages fit in max segments). */
            uint64_t fit = (uint64_t)(max - 1) * PAGE_SIZE / BLKDEV_SECTOR_SIZE;
            n = fit && fit < n ? fit : n;
            nsegs = virtq_dma_segments(va, n * BLKDEV_SECTOR_SIZE, image_page_maddr, ctx, !write, segs, max);
        }
        if (nsegs < 0)
            return nsegs == -XEN_E2BIG ? -XEN_EINVAL : nsegs;
        rc = vblk_rw(b->disk, write, b->start + sector, segs, (unsigned)nsegs);
        if (rc)
            return rc;
        sector += n;
        count -= n;
        va += n * BLKDEV_SECTOR_SIZE;
    }
    return 0;
}

long blkdev_read(struct blkdev *b, uint64_t sector, uint64_t count, void *buf)
{
    return rw_buffer(b, false, sector, count, (uint64_t)(uintptr_t)buf);
}

long blkdev_write(struct blkdev *b, uint64_t sector, uint64_t count, const void *buf)
{
    return rw_buffer(b, true, sector, count, (uint64_t)(uintptr_t)buf);
}

long blkdev_flush(struct blkdev *b)
{
    return vblk_flush(b->disk);
}

long blkdev_rw_maddr(struct blkdev *b, bool write, uint64_t sector, const struct blkdev_seg *segs, unsigned nsegs)
{
    static struct virtq_seg vsegs[BLKDEV_MAX_SEGS];
    uint64_t bytes = 0;
    if (nsegs == 0 || nsegs > BLKDEV_MAX_SEGS || nsegs > vblk_max_segs(b->disk))
        return -XEN_EINVAL;
    for (unsigned i = 0; i < nsegs; i++) {
        if (segs[i].len == 0 || segs[i].len > VIRTQ_MAX_SEG_LEN || segs[i].maddr + segs[i].len < segs[i].maddr)
            return -XEN_EINVAL;
        vsegs[i] = (struct virtq_seg){ segs[i].maddr, segs[i].len, !write };
        bytes += segs[i].len;
    }
    if (bytes % BLKDEV_SECTOR_SIZE)
        return -XEN_EINVAL;
    long rc = check_range(b, sector, bytes / BLKDEV_SECTOR_SIZE);
    if (rc)
        return rc;
    return vblk_rw(b->disk, write, b->start + sector, vsegs, nsegs);
}

static int read_for_scan(void *ctx, uint64_t lba, uint8_t buf[PART_SECTOR_SIZE])
{
    long rc = blkdev_read(ctx, lba, 1, sector_buf);
    if (rc)
        return (int)rc;
    memcpy(buf, sector_buf, PART_SECTOR_SIZE);
    return 0;
}

static void add_disk(struct vblk *v)
{
    struct blkdev *disk = &devices[nr_devices++];
    *disk = (struct blkdev){ .disk = v, .sectors = vblk_capacity(v) };
    disk->name[0] = 'v';
    disk->name[1] = 'd';
    disk->name[2] = (char)('a' + nr_disks++);
    struct part_table t;
    int rc = part_scan(disk->sectors, read_for_scan, disk, &t);
    if (rc)
        con_printf("blk: %s: cannot read the partition table (%d)\n", disk->name, rc);
    for (unsigned i = 0; i < t.count; i++) {
        struct blkdev *p = &devices[nr_devices++];
        *p = (struct blkdev){ .disk = v, .start = t.part[i].start, .sectors = t.part[i].sectors, .partition = true };
        memcpy(p->name, disk->name, 3);
        unsigned n = t.part[i].number;
        if (n >= 10)
            p->name[3] = (char)('0' + n / 10);
        p->name[n >= 10 ? 4 : 3] = (char)('0' + n % 10);
    }
}

unsigned blkdev_init(void)
{
    if (nr_disks)
        return nr_disks;
    pci_scan();
    for (unsigned i = 0; i < pci_count() && nr_disks < BLKDEV_MAX_DISKS; i++) {
        const struct pci_dev *d = pci_get(i);
        struct vblk *v = vblk_matches(d) ? vblk_probe(d) : NULL;
        if (v)
            add_disk(v);
    }
    return nr_disks;
}

/* SPDX-License-Identifier: MIT */
/*
 * dom0's block devices: the disks dom0 drives (virtio-blk today, named vda,
 * vdb, ... in PCI scan order) and their partitions (vda1, vda2, ...: MBR
 * numbering, or GPT entry index + 1). The API a block backend uses; see
 * docs/virtio-blk.md.
 *
 * All calls are synchronous: they return when the device has completed the
 * request (dom0 polls the used ring; no interrupts yet). They run in dom0's
 * main loop, never in an event handler, and are not reentrant. Sector
 * numbers and counts are in 512-byte sectors relative to the device named
 * (a partition's sector 0 is its first sector on the disk), and a request
 * must lie entirely inside it: anything beyond the end is refused with
 * -ERANGE before the disk sees it.
 */
#ifndef DOM0_BLKDEV_H
#define DOM0_BLKDEV_H
#include <stdbool.h>
#include <stdint.h>

#define BLKDEV_SECTOR_SIZE 512
#define BLKDEV_MAX_DISKS 8
#define BLKDEV_NAME_MAX 8            /* "vdh15" and its NUL fit */
/* blkdev_rw_maddr: at most this many segments per call (Xen's blkif asks for
 * at most 11 without indirect descriptors). */
#define BLKDEV_MAX_SEGS 32

struct blkdev;

/* Probes the PCI devices for disks and their partition tables (once, at
 * boot). Returns the number of disks. */
unsigned blkdev_init(void);

/* "/dev/vdb1", "vdb1", "/dev/vda", ...; NULL if there is no such device. */
struct blkdev *blkdev_lookup(const char *name);
/* Every device by index: each disk followed by its partitions; NULL past
 * the end. */
struct blkdev *blkdev_at(unsigned index);

const char *blkdev_name(const struct blkdev *b);
uint64_t blkdev_sectors(const struct blkdev *b);
/* The device's first sector on its disk (0 for a disk). */
uint64_t blkdev_start(const struct blkdev *b);
bool blkdev_is_partition(const struct blkdev *b);
bool blkdev_read_only(const struct blkdev *b);
/* The disk caches writes and honours flushes (VIRTIO_BLK_F_FLUSH). Without
 * it writes are durable once complete and blkdev_flush does nothing. */
bool blkdev_has_flush(const struct blkdev *b);

/*
 * Reads or writes `count` sectors at `sector` to or from `buf`, which must lie
 * in dom0's kernel image (its .data/.bss: dom0's own static buffers) and be
 * RAM dom0 owns. The buffer is handed to the device as machine addresses,
 * page by page, merged where the frames are machine-contiguous. Returns 0 or
 * -errno: -ERANGE (outside the device), -EINVAL (count 0), -EFAULT (buffer
 * outside the image), -EROFS (write to a read-only disk), -EIO (the device
 * failed the request or broke the virtio rules; the disk is then dead),
 * -ETIMEDOUT (no completion in 30 s; the disk is reset and dead).
 */
long blkdev_read(struct blkdev *b, uint64_t sector, uint64_t count, void *buf);
long blkdev_write(struct blkdev *b, uint64_t sector, uint64_t count, const void *buf);
/* Makes completed writes durable (VIRTIO_BLK_T_FLUSH). 0 or -errno. */
long blkdev_flush(struct blkdev *b);

/*
 * The same for memory named by machine address, e.g. a domU's granted pages
 * that a backend has mapped: segs[0..nsegs) are filled or drained in order,
 * their lengths add up to a multiple of 512 (the sector count), and each
 * must be machine-contiguous (a segment inside one page always is). At most
 * BLKDEV_MAX_SEGS segments, each 1..4096*256 bytes. Errors as above, plus
 * -EINVAL for a bad segment list.
 */
struct blkdev_seg {
    uint64_t maddr;
    uint32_t len;
};
long blkdev_rw_maddr(struct blkdev *b, bool write, uint64_t sector, const struct blkdev_seg *segs,
                     unsigned nsegs);

#endif

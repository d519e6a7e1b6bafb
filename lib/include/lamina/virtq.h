/* SPDX-License-Identifier: MIT */
/*
 * The driver side of a virtio split virtqueue (virtio 1.2 §2.7): descriptor
 * table, available ring, used ring, and the free-running 16-bit indices
 * between them. Pure code over memory the caller provides (and shares with
 * the device), so the index arithmetic runs under the host unit tests too.
 *
 * The device is not trusted with our bookkeeping: free descriptors and chain
 * links are kept in private arrays, never read back from the shared table;
 * the used ring is read once per entry and checked (an index that runs ahead
 * of what is in flight, or an id that is not an outstanding chain, is -EIO
 * and the queue should be abandoned).
 */
#ifndef LAMINA_VIRTQ_H
#define LAMINA_VIRTQ_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VIRTQ_DESC_F_NEXT  1
#define VIRTQ_DESC_F_WRITE 2
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1
/* Our largest queue: each of the three parts then fits in one 4 KiB page. */
#define VIRTQ_MAX_SIZE 256
#define VIRTQ_MAX_SEG_LEN (1u << 20)

struct virtq_desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint16_t next;
};
struct virtq_avail {
    uint16_t flags;
    uint16_t idx;
    uint16_t ring[];        /* size entries, then used_event (unused here) */
};
struct virtq_used_elem {
    uint32_t id;
    uint32_t len;
};
struct virtq_used {
    uint16_t flags;
    uint16_t idx;
    struct virtq_used_elem ring[];   /* size entries, then avail_event */
};

/* Bytes of each part for a queue of `size` entries. */
static inline size_t virtq_desc_bytes(unsigned size) { return 16u * size; }
static inline size_t virtq_avail_bytes(unsigned size) { return 6u + 2u * size; }
static inline size_t virtq_used_bytes(unsigned size) { return 6u + 8u * size; }

/* One buffer of a request: a bus (machine) address and a length. */
struct virtq_seg {
    uint64_t addr;
    uint32_t len;
    bool device_writes;
};

struct virtq {
    uint16_t size;                       /* a power of two, <= VIRTQ_MAX_SIZE */
    volatile struct virtq_desc *desc;
    volatile struct virtq_avail *avail;
    volatile struct virtq_used *used;
    uint16_t free_head, num_free;
    uint16_t avail_idx;                  /* the next avail->idx we publish */
    uint16_t last_used;                  /* the next used entry to consume */
    uint16_t in_flight;                  /* chains the device holds */
    uint16_t link[VIRTQ_MAX_SIZE];       /* next descriptor: in a chain or the free list */
    uint16_t chain_len[VIRTQ_MAX_SIZE];  /* per head: descriptors, 0 = not in flight */
};

/* Sets the queue up over zeroed memory (desc, avail and used as laid out
 * above). Returns 0, or -EINVAL for a size that is 0, not a power of two,
 * or above VIRTQ_MAX_SIZE. */
int virtq_init(struct virtq *q, unsigned size, void *desc, void *avail, void *used);
/* Publishes one chain of n segments (device-readable ones first, as virtio
 * requires). Returns 0 with its head, -EINVAL for n == 0 or a bad segment,
 * -ENOSPC when there are not n free descriptors. */
int virtq_add(struct virtq *q, const struct virtq_seg *segs, unsigned n, uint16_t *head);
/* Takes one completed chain from the used ring: 1 with its head and the
 * length the device wrote, 0 if none is there, -EIO if the device broke the
 * ring's rules. */
int virtq_get_used(struct virtq *q, uint16_t *head, uint32_t *len);

/* Machine address of the page holding `va` (page-aligned), or ~0 if there is
 * none. */
typedef uint64_t (*virtq_xlate_fn)(void *ctx, uint64_t va);
/* Describes the buffer [va, va+len) as segments appended at out[0..]: page by
 * page, merging pages that are machine-contiguous (up to VIRTQ_MAX_SEG_LEN),
 * so no segment ever crosses a machine discontinuity. Returns the number of
 * segments, -EFAULT if a page does not translate, -E2BIG if more than max are
 * needed, -EINVAL for len 0. */
int virtq_dma_segments(uint64_t va, uint64_t len, virtq_xlate_fn xlate, void *ctx, bool device_writes,
                       struct virtq_seg *out, unsigned max);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * The backend's side of a blkif ring (include/public/io/blkif.h), pure
 * logic shared by dom0's block backend and the host tests.
 *
 * The frontend owns the ring pages and may write anything into them at any
 * time. So: its producer index is read once per batch (then an acquire
 * fence) and checked against the slots it may have filled (at most the
 * ring size beyond the responses we have produced); each request is copied
 * out of the page whole before anything looks at it; the indices we own
 * (req_cons, rsp_prod) live here and are only ever written to the page.
 * A frontend that overruns the ring is reported (BLKIF_RING_BROKEN) and must
 * not be served again: nothing is repaired.
 */
#ifndef LAMINA_BLKIF_H
#define LAMINA_BLKIF_H
#include <stdbool.h>
#include <stdint.h>
#include <lamina/ring_back.h>
#include <public/io/blkif.h>

struct blkif_back_ring {
    struct ring_back core;     /* the indices; core.size slots */
    volatile union blkif_sring_entry *slots;
};

/* Results of blkif_ring_next(). */
#define BLKIF_RING_EMPTY  0    /* nothing new */
#define BLKIF_RING_GOT    1    /* *out holds the next request */
#define BLKIF_RING_FULL   2    /* every slot holds a request not yet answered: respond first */
#define BLKIF_RING_BROKEN 3    /* the frontend broke the ring: stop serving it */

/* Starts serving a ring of 2^order pages at `shared` (mapped, contiguous),
 * as the frontend initialised it (all indices 0). Writes nothing. */
void blkif_ring_attach(struct blkif_back_ring *r, volatile void *shared, unsigned order);
/* Copies the next request out of the ring. */
int blkif_ring_next(struct blkif_back_ring *r, union blkif_sring_entry *out);
/* Writes one response (not yet visible to the frontend). */
void blkif_ring_respond(struct blkif_back_ring *r, uint64_t id, uint8_t op, int16_t status);
/* Publishes the responses written so far; true if the frontend asked to be
 * notified (its rsp_event lies among them). */
bool blkif_ring_push(struct blkif_back_ring *r);
/* Before going idle: asks for a notification at the next request and
 * re-checks, so none is missed. True if requests are waiting (call
 * blkif_ring_next() again). */
bool blkif_ring_final_check(struct blkif_back_ring *r);

/* What a device allows. */
struct blkif_limits {
    uint64_t sectors;          /* device size in 512-byte sectors */
    bool writable;             /* mode w */
    bool flush;                /* feature-flush-cache offered */
    bool barrier;              /* feature-barrier offered */
};

/* A checked request, ready to be served. */
struct blkif_io {
    uint64_t id;
    uint8_t op;                /* BLKIF_OP_READ, WRITE, FLUSH_DISKCACHE or WRITE_BARRIER */
    bool write;                /* data moves from the guest to the device */
    bool flush;                /* flush the device's cache after the data (if any) */
    uint8_t nr_segs;
    uint64_t sector;           /* first sector (meaningful when nr_sectors > 0) */
    uint32_t nr_sectors;       /* all segments together */
    struct blkif_request_segment seg[BLKIF_MAX_SEGMENTS_PER_REQUEST];
};

/*
 * Checks a request copied out of the ring against the device: the
 * operation (READ and WRITE always; FLUSH_DISKCACHE and WRITE_BARRIER
 * only when offered; DISCARD, INDIRECT and anything else are not
 * supported), nr_segments (1..11 for READ/WRITE, 0..11 for a flush or
 * barrier), each segment (first_sect <= last_sect <= 7), the whole range
 * inside the device, and writes against a read-only device. Fills *io
 * (io->id and io->op always, for the response) and returns BLKIF_RSP_OKAY
 * when the request can be served, BLKIF_RSP_EOPNOTSUPP for an operation
 * we do not do, or BLKIF_RSP_ERROR. Grant references are not judged here:
 * the hypervisor checks each one when the data is copied.
 */
int16_t blkif_parse(const union blkif_sring_entry *req, const struct blkif_limits *lim, struct blkif_io *io);

/* Byte offset in its page and length of segment i of a checked request. */
static inline uint32_t blkif_seg_offset(const struct blkif_io *io, unsigned i)
{
    return (uint32_t)io->seg[i].first_sect * BLKIF_SECTOR_SIZE;
}
static inline uint32_t blkif_seg_bytes(const struct blkif_io *io, unsigned i)
{
    return ((uint32_t)io->seg[i].last_sect - io->seg[i].first_sect + 1) * BLKIF_SECTOR_SIZE;
}

#endif

/* SPDX-License-Identifier: MIT */
/*
 * The shared request/response ring of Xen's split drivers (xen-pv-abi.md
 * §8.5), in our own terms. A ring occupies 1 << order whole pages: a 64-byte
 * header of four free-running u32 indices, then an array of slots, each
 * large enough for one request or one response. The slot count is the
 * largest power of two that fits; index i lives in slot i & (count - 1).
 *
 * The frontend produces requests (req_prod) and consumes responses; the
 * backend does the opposite (rsp_prod). Each side asks to be notified by
 * writing the index it waits for into the other's *_event field: a
 * producer that moves its index from old to new notifies iff the peer's
 * event index lies in (old, new]. Request slots are reused for responses,
 * so at most `count` requests can be outstanding.
 */
#ifndef LAMINA_PUBLIC_IO_RING_H
#define LAMINA_PUBLIC_IO_RING_H
#include <stdint.h>

typedef uint32_t RING_IDX;

#define RING_PAGE_SIZE   4096u
#define RING_HEADER_SIZE 64u

struct ring_shared_header {
    RING_IDX req_prod;     /* frontend writes */
    RING_IDX req_event;    /* backend writes: notify me when req_prod passes this */
    RING_IDX rsp_prod;     /* backend writes */
    RING_IDX rsp_event;    /* frontend writes */
    uint8_t pvt[4];        /* driver-private (blkif: unused) */
    uint8_t pad[44];
};
_Static_assert(sizeof(struct ring_shared_header) == RING_HEADER_SIZE, "ring header");

/* Slots in a ring of `bytes` total with `slot_size`-byte slots (0 if none fit). */
static inline uint32_t ring_slot_count(uint64_t bytes, uint32_t slot_size)
{
    if (bytes <= RING_HEADER_SIZE || !slot_size)
        return 0;
    uint64_t fit = (bytes - RING_HEADER_SIZE) / slot_size;
    uint32_t n = 1;
    if (!fit)
        return 0;
    while ((uint64_t)n * 2 <= fit)
        n *= 2;
    return n;
}

/* Whether a producer that moved its index from old_prod to new_prod must
 * notify a peer whose event index is `event`. */
static inline int ring_needs_notify(RING_IDX old_prod, RING_IDX new_prod, RING_IDX event)
{
    return (RING_IDX)(new_prod - event) < (RING_IDX)(new_prod - old_prod);
}

#endif

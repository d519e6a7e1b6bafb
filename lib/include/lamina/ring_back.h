/* SPDX-License-Identifier: MIT */
/*
 * The indices of the backend's side of one shared ring (public/io/ring.h),
 * whatever its slots hold: shared by the blkif and netif rings.
 *
 * The frontend's req_prod is read once per batch and checked: it may be at
 * most `size` slots beyond the responses we produced and never behind what
 * we took; a ring that fails the check is broken for good. The indices we
 * own (req_cons, rsp_prod) live here and are only ever written to the page.
 */
#ifndef LAMINA_RING_BACK_H
#define LAMINA_RING_BACK_H
#include <stdbool.h>
#include <stdint.h>
#include <public/io/ring.h>

struct ring_back {
    volatile struct ring_shared_header *hdr;
    uint32_t size;             /* slots, a power of two */
    RING_IDX req_cons;         /* ours: request slots taken */
    RING_IDX req_prod_seen;    /* the frontend's req_prod as last read and checked */
    RING_IDX rsp_prod_pvt;     /* ours: response slots written */
    RING_IDX rsp_prod_pub;     /* ours: response slots published */
    bool broken;
};

#define RING_BACK_EMPTY  0     /* nothing new */
#define RING_BACK_WORK   1     /* at least one published slot is not taken yet */
#define RING_BACK_BROKEN 3     /* the frontend broke the ring */

/* Starts serving a ring with `size` slots, as the frontend initialised it. */
void ring_back_init(struct ring_back *r, volatile void *shared, uint32_t size);
/* Whether there are slots to take, reading req_prod when the last batch is used up. */
int ring_back_pending(struct ring_back *r);
/* Published requests not taken yet, req_prod read and checked now; -1 if
 * the ring is broken. */
int ring_back_unconsumed(struct ring_back *r);
/* Publishes the responses written so far; true if the frontend asked to be notified. */
bool ring_back_push(struct ring_back *r);
/* Before going idle: asks for a notification at the next request and
 * re-checks, so none is missed. True if requests are waiting. */
bool ring_back_final_check(struct ring_back *r);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * The backend's side of a vif's two netif rings (include/public/io/netif.h),
 * pure logic shared by dom0's network backend and the host tests.
 *
 * As for blkif (lamina/blkif.h): the frontend may write anything into the
 * ring pages at any time, so its req_prod is read once per batch and
 * checked (at most a ring's worth beyond our responses, never behind what
 * we took), every slot is copied out once before it is judged, and the
 * indices we own live here. A frontend that breaks the ring (overrun, a
 * packet running past what it published, data past its page, too many
 * slots, a bad extra-info slot) is cut off: NETIF_RING_BROKEN from then on.
 * Errors Linux's netback only drops (runt packets, too many but not absurdly
 * many slots, an offload we do not offer) consume the packet and are
 * answered NETIF_RSP_ERROR.
 */
#ifndef LAMINA_NETIF_H
#define LAMINA_NETIF_H
#include <stdbool.h>
#include <stdint.h>
#include <lamina/ring_back.h>
#include <public/io/netif.h>

/* One ring (tx or rx) from the backend's side. */
struct netif_back_ring {
    struct ring_back core;     /* the indices; core.size slots */
    volatile uint8_t *slots;
    uint32_t slot_size;        /* NETIF_TX_SLOT_SIZE or NETIF_RX_SLOT_SIZE */
};

/* Results of netif_tx_next() and netif_rx_next(). */
#define NETIF_RING_EMPTY  0    /* nothing new */
#define NETIF_RING_GOT    1    /* a packet (tx) or a posted page (rx) */
#define NETIF_RING_BAD    2    /* tx: a packet was consumed but is not sendable: answer it with ERROR */
#define NETIF_RING_BROKEN 3    /* the frontend broke the ring: stop serving it */

/* Data slots per packet we send on; more (up to NETIF_TX_FATAL_SLOTS) is
 * answered ERROR, beyond that the ring is cut off (as Linux's netback). */
#define NETIF_TX_MAX_SLOTS   XEN_NETIF_NR_SLOTS_MIN
#define NETIF_TX_FATAL_SLOTS 20
/* Extra-info slots per packet: one of each type at most. */
#define NETIF_TX_MAX_EXTRAS  (XEN_NETIF_EXTRA_TYPE_MAX - 1)

/* Starts serving a one-page ring at `shared` (tx: slot_size 12, rx: 8), as the
 * frontend initialised it (all indices 0). Writes nothing. */
void netif_ring_attach(struct netif_back_ring *r, volatile void *shared, uint32_t slot_size);
/* Publishing and going idle: ring_back_push(&r->core) and
 * ring_back_final_check(&r->core). */

/* What the backend offers (its feature-* keys). */
struct netif_tx_limits {
    bool gso_tcpv4;
    bool gso_tcpv6;
};

struct netif_tx_frag {
    grant_ref_t gref;
    uint16_t offset;
    uint16_t len;              /* offset + len <= XEN_NETIF_PAGE_SIZE; may be 0 */
};

/* One packet taken off the tx ring. */
struct netif_tx_packet {
    uint32_t len;              /* whole frame, 14..65535 when GOT */
    uint16_t flags;            /* first slot's NETTXF_csum_blank | NETTXF_data_validated */
    uint8_t gso_type;          /* XEN_NETIF_GSO_TYPE_*: NONE unless a GSO extra came */
    uint16_t gso_size;
    uint16_t nr_frags;         /* data slots, 1..NETIF_TX_MAX_SLOTS when GOT */
    struct netif_tx_frag frag[NETIF_TX_MAX_SLOTS];
    /* Every slot the packet used, in ring order, for the responses. */
    uint16_t nr_slots;
    uint16_t slot_id[NETIF_TX_FATAL_SLOTS + NETIF_TX_MAX_EXTRAS];
    bool slot_extra[NETIF_TX_FATAL_SLOTS + NETIF_TX_MAX_EXTRAS];
};

/*
 * Takes the next whole packet off the tx ring. GOT: *pkt is checked (frame
 * 14..65535 bytes; each fragment's offset + len within its page; the
 * fragments add up to the first slot's size; at most NETIF_TX_MAX_SLOTS
 * data slots; a GSO extra only of an offered type and with a non-zero
 * size). BAD: consumed but to be answered ERROR. Either way every slot must
 * then be answered, with netif_tx_respond(). Grant references are not
 * judged here: the hypervisor checks each when the data is copied.
 */
int netif_tx_next(struct netif_back_ring *r, const struct netif_tx_limits *lim, struct netif_tx_packet *pkt);
/* Answers every slot of a packet taken by netif_tx_next(): its data slots
 * with `status`, its extra slots with NETIF_RSP_NULL. Not yet published. */
void netif_tx_respond(struct netif_back_ring *r, const struct netif_tx_packet *pkt, int16_t status);

/* Takes the next posted rx page: GOT fills *req (a copy). */
int netif_rx_next(struct netif_back_ring *r, struct netif_rx_request *req);
/*
 * Answers the oldest rx request not answered yet (it lands in that
 * request's slot): `len` bytes at `offset` in its page (len > 0, offset +
 * len <= page) or, with len < 0, a NETIF_RSP_* error. -XEN_EINVAL for values
 * that do not fit, -XEN_ENOSPC when every taken request is answered already.
 */
int netif_rx_respond(struct netif_back_ring *r, uint16_t id, uint16_t offset, uint16_t flags, int32_t len);
/* Answers the next rx slot with a GSO extra-info (the previous response
 * must have carried NETRXF_extra_info). -XEN_ENOSPC as above, -XEN_EINVAL for a bad
 * type or a zero size. */
int netif_rx_respond_gso(struct netif_back_ring *r, uint8_t gso_type, uint16_t gso_size);

#endif

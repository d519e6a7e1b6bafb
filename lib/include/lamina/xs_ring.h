/* SPDX-License-Identifier: MIT */
/*
 * xenstored's side of one domain's ring page (xen-pv-abi.md §8.2): moves
 * request bytes from req[] into an xs_core connection and queued output
 * into rsp[]. The guest owns req_prod and rsp_cons and may write anything
 * into the page at any time, so every index it controls is read once per
 * pass and checked (prod - cons never more than the ring size); the
 * indices we own (req_cons, rsp_prod) are kept here and only ever written
 * to the page, never read back. Ring bytes are copied out before they are
 * parsed. A guest that breaks the rules is reported, not served.
 */
#ifndef LAMINA_XS_RING_H
#define LAMINA_XS_RING_H
#include <stdbool.h>
#include <stdint.h>
#include <lamina/xs_core.h>
#include <public/io/xs_wire.h>

struct xs_ring {
    volatile struct xenstore_domain_interface *intf;
    XENSTORE_RING_IDX req_cons;        /* ours: what we have taken */
    XENSTORE_RING_IDX rsp_prod;        /* ours: what we have put */
    uint8_t buf[XENSTORE_RING_SIZE];   /* request bytes copied out of the page */
};

/* What xs_ring_service did. */
#define XS_RING_NOTIFY 1u              /* indices moved: signal the domain */
#define XS_RING_BROKEN 2u              /* bad indices or protocol: cut it off */
#define XS_RING_AGAIN  4u              /* budget used up with work left: call again */

/* Starts serving the page at `page`, taking its indices as they are (a
 * fresh page is all zero) and writing nothing. server_features stays 0;
 * the error field is still set when the domain is cut off. */
void xs_ring_attach(struct xs_ring *r, volatile void *page);
/* Moves whatever can move in both directions, a bounded amount per call.
 * On XS_RING_BROKEN the page's error field says why and the ring must not
 * be served again. */
unsigned xs_ring_service(struct xs_ring *r, struct xs_core *c, struct xs_conn *conn);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * The backend's side of a vif's tx and rx rings; see lamina/netif.h.
 *
 * The index handling and its ordering are lib/ring_back.c's.
 */
#include <lamina/netif.h>
#include <lamina/string.h>
#include <public/errno.h>

void netif_ring_attach(struct netif_back_ring *r, volatile void *shared, uint32_t slot_size)
{
    ring_back_init(&r->core, shared, ring_slot_count(RING_PAGE_SIZE, slot_size));
    r->slots = (volatile uint8_t *)shared + RING_HEADER_SIZE;
    r->slot_size = slot_size;
}

static void copy_slot(const struct netif_back_ring *r, RING_IDX i, void *out)
{
    const volatile uint8_t *src = r->slots + (size_t)(i & (r->core.size - 1)) * r->slot_size;
    uint8_t *dst = out;
    for (uint32_t b = 0; b < r->slot_size; b++)
        dst[b] = src[b];
}

static volatile uint8_t *rsp_slot(struct netif_back_ring *r)
{
    return r->slots + (size_t)(r->core.rsp_prod_pvt & (r->core.size - 1)) * r->slot_size;
}

/* NETIF_RING_GOT if at least one published slot is not taken yet. */
static int have_work(struct netif_back_ring *r)
{
    switch (ring_back_pending(&r->core)) {
    case RING_BACK_WORK:
        return NETIF_RING_GOT;
    case RING_BACK_EMPTY:
        return NETIF_RING_EMPTY;
    default:
        return NETIF_RING_BROKEN;
    }
}

static int cut_off(struct netif_back_ring *r)
{
    r->core.broken = true;
    return NETIF_RING_BROKEN;
}

static void note_slot(struct netif_tx_packet *pkt, uint16_t id, bool extra)
{
    pkt->slot_id[pkt->nr_slots] = id;
    pkt->slot_extra[pkt->nr_slots] = extra;
    pkt->nr_slots++;
}

/* Reads the extra-info slots after the first one, from *i on. Returns
 * NETIF_RING_GOT, BAD (an offload we do not offer) or BROKEN. */
static int tx_extras(struct netif_back_ring *r, const struct netif_tx_limits *lim, RING_IDX *i,
                     struct netif_tx_packet *pkt)
{
    int res = NETIF_RING_GOT;
    unsigned n = 0;
    bool more = true;
    while (more) {
        if (*i == r->core.req_prod_seen || n == NETIF_TX_MAX_EXTRAS)
            return cut_off(r);
        union netif_tx_sring_entry e;
        copy_slot(r, (*i)++, &e);
        note_slot(pkt, 0, true);
        n++;
        uint8_t type = e.extra.type;
        if (type == XEN_NETIF_EXTRA_TYPE_NONE || type >= XEN_NETIF_EXTRA_TYPE_MAX)
            return cut_off(r);
        if (type == XEN_NETIF_EXTRA_TYPE_GSO) {
            if (!e.extra.u.gso.size)
                return cut_off(r);
            uint8_t gt = e.extra.u.gso.type;
            if ((gt == XEN_NETIF_GSO_TYPE_TCPV4 && lim->gso_tcpv4) ||
                (gt == XEN_NETIF_GSO_TYPE_TCPV6 && lim->gso_tcpv6)) {
                pkt->gso_type = gt;
                pkt->gso_size = e.extra.u.gso.size;
            } else {
                res = NETIF_RING_BAD;
            }
        } else {
            res = NETIF_RING_BAD;  /* multicast control and hashing are not offered */
        }
        more = (e.extra.flags & XEN_NETIF_EXTRA_FLAG_MORE) != 0;
    }
    return res;
}

int netif_tx_next(struct netif_back_ring *r, const struct netif_tx_limits *lim, struct netif_tx_packet *pkt)
{
    memset(pkt, 0, sizeof(*pkt));
    int res = have_work(r);
    if (res != NETIF_RING_GOT)
        return res;
    RING_IDX i = r->core.req_cons;
    union netif_tx_sring_entry e;
    copy_slot(r, i++, &e);
    const struct netif_tx_request first = e.req;
    note_slot(pkt, first.id, false);
    if (first.flags & NETTXF_extra_info) {
        res = tx_extras(r, lim, &i, pkt);
        if (res == NETIF_RING_BROKEN)
            return res;
    }
    uint32_t rest = 0;
    unsigned nr = 1;
    uint16_t flags = first.flags;
    while (flags & NETTXF_more_data) {
        if (i == r->core.req_prod_seen || nr == NETIF_TX_FATAL_SLOTS)
            return cut_off(r);
        copy_slot(r, i++, &e);
        note_slot(pkt, e.req.id, false);
        if (e.req.offset >= XEN_NETIF_PAGE_SIZE || (uint32_t)e.req.offset + e.req.size > XEN_NETIF_PAGE_SIZE)
            return cut_off(r);
        if (nr < NETIF_TX_MAX_SLOTS)
            pkt->frag[nr] = (struct netif_tx_frag){ e.req.gref, e.req.offset, e.req.size };
        nr++;
        rest += e.req.size;
        flags = e.req.flags;
    }
    if (rest > first.size) {
        res = NETIF_RING_BAD;  /* the fragments claim more than the packet */
    } else {
        uint32_t head = first.size - rest;
        if (first.offset >= XEN_NETIF_PAGE_SIZE || first.offset + head > XEN_NETIF_PAGE_SIZE)
            return cut_off(r);
        pkt->frag[0] = (struct netif_tx_frag){ first.gref, first.offset, (uint16_t)head };
    }
    if (nr > NETIF_TX_MAX_SLOTS || first.size < XEN_NETIF_ETH_HLEN)
        res = NETIF_RING_BAD;
    r->core.req_cons = i;
    pkt->len = first.size;
    pkt->flags = first.flags & (NETTXF_csum_blank | NETTXF_data_validated);
    pkt->nr_frags = (uint16_t)(nr < NETIF_TX_MAX_SLOTS ? nr : NETIF_TX_MAX_SLOTS);
    if (res == NETIF_RING_BAD) {
        pkt->nr_frags = 0;
        pkt->gso_type = XEN_NETIF_GSO_TYPE_NONE;
        pkt->gso_size = 0;
    }
    return res;
}

void netif_tx_respond(struct netif_back_ring *r, const struct netif_tx_packet *pkt, int16_t status)
{
    for (unsigned s = 0; s < pkt->nr_slots; s++) {
        /* Never more answers than slots taken. */
        if ((RING_IDX)(r->core.req_cons - r->core.rsp_prod_pvt) == 0)
            return;
        volatile struct netif_tx_response *rsp = (volatile struct netif_tx_response *)rsp_slot(r);
        if (pkt->slot_extra[s]) {
            rsp->id = 0;
            rsp->status = NETIF_RSP_NULL;
        } else {
            rsp->id = pkt->slot_id[s];
            rsp->status = status;
        }
        r->core.rsp_prod_pvt++;
    }
}

int netif_rx_next(struct netif_back_ring *r, struct netif_rx_request *req)
{
    int res = have_work(r);
    if (res != NETIF_RING_GOT)
        return res;
    union netif_rx_sring_entry e;
    copy_slot(r, r->core.req_cons++, &e);
    *req = e.req;
    return NETIF_RING_GOT;
}

int netif_rx_respond(struct netif_back_ring *r, uint16_t id, uint16_t offset, uint16_t flags, int32_t len)
{
    const uint16_t known = NETRXF_data_validated | NETRXF_csum_blank | NETRXF_more_data | NETRXF_extra_info;
    if (flags & ~known)
        return -XEN_EINVAL;
    if (len >= 0) {
        if (!len || offset >= XEN_NETIF_PAGE_SIZE || (uint32_t)offset + (uint32_t)len > XEN_NETIF_PAGE_SIZE)
            return -XEN_EINVAL;
    } else if (len != NETIF_RSP_ERROR && len != NETIF_RSP_DROPPED) {
        return -XEN_EINVAL;
    }
    if (r->core.req_cons == r->core.rsp_prod_pvt)
        return -XEN_ENOSPC;
    volatile struct netif_rx_response *rsp = (volatile struct netif_rx_response *)rsp_slot(r);
    rsp->id = id;
    rsp->offset = len >= 0 ? offset : 0;
    rsp->flags = flags;
    rsp->status = (int16_t)len;
    r->core.rsp_prod_pvt++;
    return 0;
}

int netif_rx_respond_gso(struct netif_back_ring *r, uint8_t gso_type, uint16_t gso_size)
{
    if ((gso_type != XEN_NETIF_GSO_TYPE_TCPV4 && gso_type != XEN_NETIF_GSO_TYPE_TCPV6) || !gso_size)
        return -XEN_EINVAL;
    if (r->core.req_cons == r->core.rsp_prod_pvt)
        return -XEN_ENOSPC;
    volatile struct netif_extra_info *x = (volatile struct netif_extra_info *)rsp_slot(r);
    x->type = XEN_NETIF_EXTRA_TYPE_GSO;
    x->flags = 0;
    x->u.gso.size = gso_size;
    x->u.gso.type = gso_type;
    x->u.gso.pad = 0;
    x->u.gso.features = 0;
    r->core.rsp_prod_pvt++;
    return 0;
}

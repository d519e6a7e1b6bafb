/* SPDX-License-Identifier: MIT */
/*
 * A network backend device; see lamina/netback.h. Everything the frontend
 * wrote is checked before use: its xenstore details are parsed strictly,
 * its rings go through lib/netif (which cuts a broken frontend off), and
 * its grant references are judged by the hypervisor on every copy.
 */
#include <lamina/fmt.h>
#include <lamina/netback.h>
#include <lamina/string.h>
#include <lamina/xl_vif.h>
#include <public/errno.h>
#include <public/grant_table.h>

#define TX 0u
#define RX 1u

static struct netback *of(struct xenbus_back *xb)
{
    return (struct netback *)((char *)xb - __builtin_offsetof(struct netback, xb));
}

bool netback_connected(const struct netback *nb)
{
    return nb->xb.state == XenbusStateConnected && nb->tx_mapped && nb->rx_mapped && nb->local_port;
}

static void disconnect(struct xenbus_back *xb)
{
    struct netback *nb = of(xb);
    if (nb->local_port) {
        nb->ops->unbind(nb->ctx, nb, nb->local_port);
        nb->local_port = 0;
    }
    if (nb->tx_mapped) {
        nb->ops->unmap_ring(nb->ctx, nb, TX);
        nb->tx_mapped = false;
    }
    if (nb->rx_mapped) {
        nb->ops->unmap_ring(nb->ctx, nb, RX);
        nb->rx_mapped = false;
    }
    /* Frames queued for this connection are lost with it. */
    nb->stats.rx_dropped += nb->rxq_count;
    nb->rxq_head = nb->rxq_count = 0;
}

static bool map_one(struct netback *nb, unsigned which, const char *key)
{
    uint64_t ref;
    long rc = 0;
    if (!xenbus_back_read_fe_uint(&nb->xb, key, UINT32_MAX, &ref)) {
        xenbus_back_note(&nb->xb, "no valid %s from the frontend", key);
        return false;
    }
    volatile void *page = nb->ops->map_ring(nb->ctx, nb, which, (grant_ref_t)ref, &rc);
    if (!page) {
        xenbus_back_note(&nb->xb, "cannot map %s %lu (%ld)", key, (unsigned long)ref, rc);
        return false;
    }
    if (which == TX) {
        nb->tx_mapped = true;
        netif_ring_attach(&nb->tx, page, NETIF_TX_SLOT_SIZE);
    } else {
        nb->rx_mapped = true;
        netif_ring_attach(&nb->rx, page, NETIF_RX_SLOT_SIZE);
    }
    return true;
}

/* The frontend's details: returns 0, or -1 after logging why. */
static int connect(struct xenbus_back *xb)
{
    struct netback *nb = of(xb);
    uint64_t v, port;
    if (!xenbus_back_read_fe_uint(xb, "request-rx-copy", 1, &v) || v != 1) {
        xenbus_back_note(xb, "the frontend did not ask for request-rx-copy (the only rx mode offered)");
        return -1;
    }
    if (xenbus_back_read_fe_uint(xb, "multi-queue-num-queues", UINT32_MAX, &v) && v != 1) {
        xenbus_back_note(xb, "%lu queues were not offered", (unsigned long)v);
        return -1;
    }
    if (!xenbus_back_read_fe_uint(xb, "event-channel", UINT32_MAX, &port) || port == 0) {
        xenbus_back_note(xb, "no valid event-channel from the frontend (split channels are not offered)");
        return -1;
    }
    if (!map_one(nb, TX, "tx-ring-ref") || !map_one(nb, RX, "rx-ring-ref")) {
        disconnect(xb);
        return -1;
    }
    long rc = nb->ops->bind(nb->ctx, nb, (uint32_t)port);
    if (rc <= 0) {
        xenbus_back_note(xb, "cannot bind event-channel %lu (%ld)", (unsigned long)port, rc);
        disconnect(xb);
        return -1;
    }
    nb->local_port = (unsigned)rc;
    uint64_t gso = 0, sg = 0;
    nb->fe_gso = xenbus_back_read_fe_uint(xb, "feature-gso-tcpv4", 1, &gso) && gso == 1 &&
                 xenbus_back_read_fe_uint(xb, "feature-sg", 1, &sg) && sg == 1;
    /* Anything the frontend queued before we connected is served at the
     * next poll; a notification makes it look at its rings too. */
    nb->ops->notify(nb->ctx, nb, nb->local_port);
    return 0;
}

long netback_probe(struct netback *nb, const struct netback_ops *ops, void *ctx, domid_t domid, uint32_t devid,
                   struct netback_frame *rxq)
{
    char mac[XENBUS_BACK_VALUE_MAX];
    memset(nb, 0, sizeof(*nb));
    xenbus_back_init(&nb->xb, &ops->store, ctx, "netback", "vif", domid, devid);
    nb->xb.connect = connect;
    nb->xb.disconnect = disconnect;
    nb->ops = ops;
    nb->ctx = ctx;
    nb->rxq = rxq;
    if (xenbus_back_read(&nb->xb, nb->xb.be, "mac", mac, sizeof(mac)) || xl_mac_parse(mac, nb->mac) ||
        (nb->mac[0] & 1))
        return -XEN_EINVAL;
    static const char *const offers[][2] = {
        { "feature-rx-copy", "1" },           { "feature-rx-flip", "0" },
        { "feature-sg", "1" },                { "feature-gso-tcpv4", "1" },
        { "feature-gso-tcpv6", "0" },         { "feature-ipv6-csum-offload", "0" },
        { "feature-split-event-channels", "0" }, { "feature-multicast-control", "0" },
    };
    for (unsigned i = 0; i < sizeof(offers) / sizeof(offers[0]); i++) {
        long rc = xenbus_back_write(&nb->xb, offers[i][0], "%s", offers[i][1]);
        if (rc)
            return rc;
    }
    xenbus_back_start(&nb->xb);
    return 0;
}

void netback_changed(struct netback *nb)
{
    xenbus_back_changed(&nb->xb);
}

void netback_detach(struct netback *nb)
{
    xenbus_back_detach(&nb->xb);
}

void netback_remove(struct netback *nb)
{
    xenbus_back_remove(&nb->xb);
}

static void cut_off(struct netback *nb, const char *ring)
{
    xenbus_back_note(&nb->xb, "the frontend broke its %s ring; disconnected", ring);
    xenbus_back_fail(&nb->xb);
}

/* Adds the copies of [buf, buf + len) from the guest's `gref` at `offset`,
 * cut where our side crosses a page. */
static unsigned add_copies(struct netback_copy *c, grant_ref_t gref, uint16_t offset, uint8_t *buf, uint32_t len)
{
    unsigned n = 0;
    while (len) {
        uint32_t room = 4096u - (uint32_t)((uintptr_t)buf & 4095u), piece = len < room ? len : room;
        c[n++] = (struct netback_copy){ .gref = gref, .offset = offset, .len = (uint16_t)piece, .buf = buf,
                                        .status = GNTST_general_error };
        buf += piece;
        offset = (uint16_t)(offset + piece);
        len -= piece;
    }
    return n;
}

/* Copies the batch's packets out of the guest's grants, hands the good ones
 * on and answers every slot. A packet with out[i].len == 0 is answered ERROR. */
static void finish_batch(struct netback *nb, struct netback_scratch *s, unsigned n, unsigned pieces,
                         netback_deliver_fn deliver, void *arg)
{
    if (pieces)
        nb->ops->copy(nb->ctx, nb, s->copy, pieces, false);
    for (unsigned i = 0; i < n; i++) {
        const struct netback_packet *out = &s->out[i];
        bool ok = out->len != 0;
        for (unsigned k = 0; ok && k < s->nr_pieces[i]; k++)
            ok = s->copy[s->first_piece[i] + k].status == GNTST_okay;
        if (ok) {
            nb->stats.tx_packets++;
            nb->stats.tx_bytes += out->len;
            deliver(arg, nb, out);
        } else {
            nb->stats.tx_errors++;
        }
        netif_tx_respond(&nb->tx, &s->pkt[i], ok ? NETIF_RSP_OKAY : NETIF_RSP_ERROR);
    }
}

/* Whether a packet netif accepted is one we forward: an ordinary frame, or
 * a TCPv4 GSO packet with the checksum left to us (segmenting needs it) and
 * not too many segments. netif guarantees gso_size > 0. */
static bool sendable(const struct netif_tx_packet *p)
{
    if (p->gso_type == XEN_NETIF_GSO_TYPE_NONE)
        return p->len <= NETBACK_MAX_FRAME;
    return p->gso_type == XEN_NETIF_GSO_TYPE_TCPV4 && (p->flags & NETTXF_csum_blank) &&
           (p->len + p->gso_size - 1u) / p->gso_size <= NETBACK_GSO_MAX_SEGS;
}

unsigned netback_tx_serve(struct netback *nb, unsigned budget, struct netback_scratch *s,
                          netback_deliver_fn deliver, void *arg)
{
    if (!netback_connected(nb))
        return 0;
    const struct netif_tx_limits lim = { .gso_tcpv4 = true, .gso_tcpv6 = false };
    unsigned result = 0, served = 0, n = 0, pieces = 0;
    uint32_t used = 0;              /* bytes of the arena taken by this batch */
    for (;;) {
        if (served == budget) {
            /* AGAIN only if something is left; else idle as below. */
            if (ring_back_final_check(&nb->tx.core))
                result |= NETBACK_AGAIN;
            break;
        }
        /* Room for one more packet of any size, or the batch goes now. */
        if (n == NETBACK_TX_BATCH || used + NETBACK_MAX_PACKET > NETBACK_TX_ARENA) {
            finish_batch(nb, s, n, pieces, deliver, arg);
            n = pieces = 0;
            used = 0;
        }
        struct netif_tx_packet *p = &s->pkt[n];
        int rc = netif_tx_next(&nb->tx, &lim, p);
        if (rc == NETIF_RING_BROKEN) {
            finish_batch(nb, s, n, pieces, deliver, arg);
            (void)ring_back_push(&nb->tx.core);
            cut_off(nb, "tx");
            return result | NETBACK_BROKEN;
        }
        if (rc == NETIF_RING_EMPTY) {
            if (ring_back_final_check(&nb->tx.core))
                continue;
            break;
        }
        struct netback_packet *out = &s->out[n];
        *out = (struct netback_packet){ .data = s->arena + used };
        s->first_piece[n] = (uint16_t)pieces;
        s->nr_pieces[n] = 0;
        if (rc == NETIF_RING_GOT && sendable(p)) {
            uint8_t *at = s->arena + used;
            for (unsigned k = 0; k < p->nr_frags; k++) {
                pieces += add_copies(&s->copy[pieces], p->frag[k].gref, p->frag[k].offset, at, p->frag[k].len);
                at += p->frag[k].len;
            }
            s->nr_pieces[n] = (uint16_t)(pieces - s->first_piece[n]);
            out->len = p->len;
            out->flags = (uint16_t)(((p->flags & NETTXF_csum_blank) ? NETRXF_csum_blank | NETRXF_data_validated : 0) |
                                    ((p->flags & NETTXF_data_validated) ? NETRXF_data_validated : 0));
            out->gso_type = p->gso_type;
            out->gso_size = p->gso_type ? p->gso_size : 0;
            /* The next packet starts on a 64-byte line. */
            used += (p->len + 63u) & ~63u;
        }
        n++;
        served++;
    }
    finish_batch(nb, s, n, pieces, deliver, arg);
    if (ring_back_push(&nb->tx.core))
        nb->ops->notify(nb->ctx, nb, nb->local_port);
    return result;
}

bool netback_rx_queue(struct netback *nb, const void *frame, uint32_t len, uint16_t flags)
{
    if (!netback_connected(nb) || nb->rxq_count == NETBACK_RXQ_LEN || len < XEN_NETIF_ETH_HLEN ||
        len > NETBACK_MAX_FRAME) {
        nb->stats.rx_dropped++;
        return false;
    }
    struct netback_frame *f = &nb->rxq[(nb->rxq_head + nb->rxq_count) % NETBACK_RXQ_LEN];
    memcpy(f->data, frame, len);
    f->len = (uint16_t)len;
    f->flags = flags & (NETRXF_csum_blank | NETRXF_data_validated);
    nb->rxq_count++;
    return true;
}

unsigned netback_rx_flush(struct netback *nb, struct netback_scratch *s)
{
    if (!netback_connected(nb))
        return 0;
    unsigned result = 0;
    while (nb->rxq_count) {
        /* Pair queued frames with posted pages, a batch at a time. */
        struct netif_rx_request req[NETBACK_TX_BATCH];
        unsigned n = 0;
        int rc = NETIF_RING_GOT;
        while (n < nb->rxq_count && n < NETBACK_TX_BATCH) {
            rc = netif_rx_next(&nb->rx, &req[n]);
            if (rc == NETIF_RING_EMPTY && ring_back_final_check(&nb->rx.core))
                continue;
            if (rc != NETIF_RING_GOT)
                break;
            const struct netback_frame *f = &nb->rxq[(nb->rxq_head + n) % NETBACK_RXQ_LEN];
            s->rx_copy[n] = (struct netback_copy){
                .gref = req[n].gref, .offset = 0, .len = f->len, .buf = (void *)(uintptr_t)f->data,
                .status = GNTST_general_error,
            };
            n++;
        }
        if (n)
            nb->ops->copy(nb->ctx, nb, s->rx_copy, n, true);
        for (unsigned i = 0; i < n; i++) {
            const struct netback_frame *f = &nb->rxq[nb->rxq_head];
            if (s->rx_copy[i].status == GNTST_okay) {
                nb->stats.rx_packets++;
                nb->stats.rx_bytes += f->len;
                (void)netif_rx_respond(&nb->rx, req[i].id, 0, f->flags, f->len);
            } else {
                nb->stats.rx_errors++;
                (void)netif_rx_respond(&nb->rx, req[i].id, 0, 0, NETIF_RSP_ERROR);
            }
            nb->rxq_head = (nb->rxq_head + 1) % NETBACK_RXQ_LEN;
            nb->rxq_count--;
        }
        if (rc == NETIF_RING_BROKEN) {
            (void)ring_back_push(&nb->rx.core);
            cut_off(nb, "rx");
            return result | NETBACK_BROKEN;
        }
        if (rc != NETIF_RING_GOT)
            break;      /* no pages posted: the final check asked to hear of more */
    }
    if (ring_back_push(&nb->rx.core))
        nb->ops->notify(nb->ctx, nb, nb->local_port);
    return result;
}

bool netback_rx_gso(struct netback *nb, const struct netback_packet *p, struct netback_scratch *s)
{
    if (!netback_connected(nb) || !nb->fe_gso || p->gso_type != XEN_NETIF_GSO_TYPE_TCPV4 || !p->gso_size ||
        p->len < XEN_NETIF_ETH_HLEN || p->len > NETBACK_MAX_PACKET)
        return false;
    /* Frames queued before it go first. */
    if (nb->rxq_count)
        netback_rx_flush(nb, s);
    if (nb->rxq_count || !netback_connected(nb))
        return false;
    const unsigned pages = (p->len + XEN_NETIF_PAGE_SIZE - 1) / XEN_NETIF_PAGE_SIZE;
    int posted = ring_back_unconsumed(&nb->rx.core);
    if (posted < 0) {
        cut_off(nb, "rx");
        return false;
    }
    if ((unsigned)posted < pages + 1)
        return false;
    /* Ring order: the first page, the slot the GSO extra goes in, the rest. */
    struct netif_rx_request req[NETBACK_MAX_PACKET / XEN_NETIF_PAGE_SIZE + 2] = { 0 };
    unsigned nreq = 0, pieces = 0;
    bool ok = true;
    for (unsigned i = 0; i < pages + 1; i++)
        ok &= netif_rx_next(&nb->rx, &req[nreq++]) == NETIF_RING_GOT;
    for (unsigned i = 0, slot = 0; ok && i < pages; i++, slot += i == 1 ? 2 : 1) {
        uint32_t at = i * XEN_NETIF_PAGE_SIZE, len = p->len - at < XEN_NETIF_PAGE_SIZE ? p->len - at : XEN_NETIF_PAGE_SIZE;
        pieces += add_copies(&s->rx_copy[pieces], req[slot].gref, 0, (uint8_t *)(uintptr_t)(p->data + at), len);
    }
    if (ok)
        nb->ops->copy(nb->ctx, nb, s->rx_copy, pieces, true);
    for (unsigned k = 0; ok && k < pieces; k++)
        ok = s->rx_copy[k].status == GNTST_okay;
    if (!ok) {
        /* Every slot taken is answered, each as a failed packet of its own. */
        for (unsigned i = 0; i < nreq; i++)
            (void)netif_rx_respond(&nb->rx, req[i].id, 0, 0, NETIF_RSP_ERROR);
        nb->stats.rx_errors++;
    } else {
        const uint16_t csum = p->flags & (NETRXF_csum_blank | NETRXF_data_validated);
        for (unsigned i = 0, slot = 0; i < pages; i++, slot += i == 1 ? 2 : 1) {
            uint32_t at = i * XEN_NETIF_PAGE_SIZE;
            uint32_t len = p->len - at < XEN_NETIF_PAGE_SIZE ? p->len - at : XEN_NETIF_PAGE_SIZE;
            uint16_t flags = (uint16_t)((i + 1 < pages ? NETRXF_more_data : 0) |
                                        (i == 0 ? (uint16_t)(NETRXF_extra_info | csum) : 0));
            (void)netif_rx_respond(&nb->rx, req[slot].id, 0, flags, (int32_t)len);
            if (i == 0)
                (void)netif_rx_respond_gso(&nb->rx, XEN_NETIF_GSO_TYPE_TCPV4, p->gso_size);
        }
        nb->stats.rx_packets++;
        nb->stats.rx_bytes += p->len;
    }
    if (ring_back_push(&nb->rx.core))
        nb->ops->notify(nb->ctx, nb, nb->local_port);
    return true;
}

/* SPDX-License-Identifier: MIT */
/*
 * A network backend device (one vif of one domain), as Linux's
 * xen-netfront expects it (xen-pv-abi.md §8.4, docs/netback.md): the
 * xenbus handshake (lamina/xenbus_back.h), the tx ring (frames the guest
 * sends: checked by lib/netif, copied out of its grants, handed to the
 * caller) and the rx ring (frames for the guest: queued, then copied into
 * the pages it posted). Pure logic: xenstore, grant mapping and copying and
 * event channels are reached through struct netback_ops, so dom0 plugs in
 * hypercalls and the host tests a simulated frontend and hypervisor.
 *
 * Offered: request-rx-copy (the only rx mode), scatter-gather on tx (up to
 * 18 slots a packet), checksum offload on tx (csum_blank packets are passed
 * on with that flag; the caller fills the checksum where a frame leaves
 * for a device that needs it), and TCPv4 segmentation offload (GSO) both
 * ways: a guest may send one TCP packet of up to 64 KiB with a GSO extra,
 * and one whose frontend asked for it (feature-gso-tcpv4 and feature-sg)
 * receives such packets over several rx slots. Not offered: TCPv6 GSO
 * (Linux needs IPv6 checksum offload for it), multi-queue, split event
 * channels, multicast control. Frames without GSO are at most
 * NETBACK_MAX_FRAME bytes; queued rx frames fit one slot at offset 0.
 */
#ifndef LAMINA_NETBACK_H
#define LAMINA_NETBACK_H
#include <stdbool.h>
#include <stdint.h>
#include <lamina/netif.h>
#include <lamina/xenbus_back.h>

/* 1500-byte payload, the Ethernet header and one VLAN tag. */
#define NETBACK_MAX_FRAME 1518
/* A frame buffer: header + data in 2 KiB, 2 KiB-aligned, so neither
 * crosses a page. */
#define NETBACK_FRAME_SIZE 2048
/* Frames waiting for rx pages, per vif; more are dropped. */
#define NETBACK_RXQ_LEN 64
/* tx packets copied per grant-copy batch. */
#define NETBACK_TX_BATCH 16
/* A GSO packet: the 16-bit size field's limit. */
#define NETBACK_MAX_PACKET 65535
/* Segments a GSO packet may stand for (Linux's 64 KiB at an MSS of 1448
 * is 46; 256 allows an MSS down to 256): one with a smaller MSS is answered
 * ERROR, so a guest cannot make one packet into thousands of frames
 * wherever it has to be cut up. */
#define NETBACK_GSO_MAX_SEGS 256u
/* Where a batch of tx packets is copied to: room for two whole GSO packets. */
#define NETBACK_TX_ARENA (32 * 4096)
/* Grant copies for one batch: each fragment may straddle a page of the
 * arena, so two pieces each. */
#define NETBACK_TX_COPIES (NETBACK_TX_BATCH * NETIF_TX_MAX_SLOTS * 2)
/* Grant copies for rx: a batch of queued frames, or one GSO packet of
 * 16 pages (each page's data may straddle two of ours). */
#define NETBACK_RX_COPIES 40

struct netback;

struct netback_frame {
    uint16_t len;
    uint16_t flags;                /* NETRXF_csum_blank | NETRXF_data_validated for rx */
    uint8_t data[NETBACK_FRAME_SIZE - 4];
};
_Static_assert(sizeof(struct netback_frame) == NETBACK_FRAME_SIZE, "frame buffers are 2 KiB");

/* One piece of data between a granted page and our memory. */
struct netback_copy {
    grant_ref_t gref;
    uint16_t offset;               /* in the granted page */
    uint16_t len;
    void *buf;                     /* ours: never crosses a page */
    int16_t status;                /* out: GNTST_okay or the failure */
};

struct netback_ops {
    struct xenbus_back_store store;
    /* Maps the frontend's tx (which = 0) or rx (1) ring page, writable;
     * returns its address or NULL with *rc = -errno or a GNTST_ code. */
    volatile void *(*map_ring)(void *ctx, struct netback *nb, unsigned which, grant_ref_t ref, long *rc);
    void (*unmap_ring)(void *ctx, struct netback *nb, unsigned which);
    /* Binds a local port to the frontend's unbound `remote_port`; returns
     * the local port (> 0) or -errno. */
    long (*bind)(void *ctx, struct netback *nb, uint32_t remote_port);
    void (*unbind)(void *ctx, struct netback *nb, unsigned local_port);
    void (*notify)(void *ctx, struct netback *nb, unsigned local_port);
    /* Copies n pieces, into the guest's pages when to_guest, else out of
     * them, setting each piece's status. */
    void (*copy)(void *ctx, struct netback *nb, struct netback_copy *c, unsigned n, bool to_guest);
};

/* A packet taken from a guest, as handed to the caller. */
struct netback_packet {
    const uint8_t *data;
    uint32_t len;                      /* 14..NETBACK_MAX_FRAME, or up to NETBACK_MAX_PACKET with GSO */
    uint16_t flags;                    /* NETRXF_csum_blank | NETRXF_data_validated */
    uint8_t gso_type;                  /* XEN_NETIF_GSO_TYPE_NONE or _TCPV4 */
    uint16_t gso_size;                 /* the MSS with GSO, else 0 */
};

/* Memory the caller lends to netback_tx_serve / netback_rx_* (page-aligned;
 * one device at a time). */
struct netback_scratch {
    uint8_t arena[NETBACK_TX_ARENA];
    struct netback_copy copy[NETBACK_TX_COPIES];
    struct netback_copy rx_copy[NETBACK_RX_COPIES];
    struct netif_tx_packet pkt[NETBACK_TX_BATCH];
    struct netback_packet out[NETBACK_TX_BATCH];
    uint16_t first_piece[NETBACK_TX_BATCH], nr_pieces[NETBACK_TX_BATCH];
};

struct netback_stats {
    uint64_t tx_packets, tx_bytes;     /* frames taken from the guest and handed on */
    uint64_t tx_errors;                /* packets answered ERROR (bad, oversized, bad grant) */
    uint64_t rx_packets, rx_bytes;     /* frames delivered into the guest's pages */
    uint64_t rx_errors;                /* rx pages we could not copy into (bad grant) */
    uint64_t rx_dropped;               /* frames lost: queue full or not connected */
};

struct netback {
    struct xenbus_back xb;
    const struct netback_ops *ops;
    void *ctx;
    uint8_t mac[6];                    /* the vif's configured address */
    bool tx_mapped, rx_mapped;
    unsigned local_port;               /* 0 when unbound */
    bool fe_gso;                       /* the frontend takes TCPv4 GSO packets on rx */
    struct netif_back_ring tx, rx;
    /* Frames waiting for rx pages: a ring of NETBACK_RXQ_LEN from the caller. */
    struct netback_frame *rxq;
    unsigned rxq_head, rxq_count;
    struct netback_stats stats;
};

/* What netback_tx_serve() and netback_rx_flush() did. */
#define NETBACK_AGAIN  2u              /* budget used up with work left */
#define NETBACK_BROKEN 4u              /* the frontend broke a ring: it was cut off */

/* Hands one packet taken from the guest to the caller (the switch). The
 * packet is valid during the call only; the callback may call
 * netback_rx_queue and netback_rx_gso (on any device) but not tx_serve. */
typedef void (*netback_deliver_fn)(void *arg, struct netback *nb, const struct netback_packet *p);

/* Starts a backend for a vif the toolstack has described under
 * /local/domain/0/backend/vif/<domid>/<devid> (its mac node must be a
 * unicast address): writes the feature nodes and moves to InitWait, then
 * looks at the frontend once. `rxq` is NETBACK_RXQ_LEN frame buffers.
 * Returns 0 or -errno. */
long netback_probe(struct netback *nb, const struct netback_ops *ops, void *ctx, domid_t domid, uint32_t devid,
                   struct netback_frame *rxq);
/* The xenbus lifecycle (lamina/xenbus_back.h). */
void netback_changed(struct netback *nb);
void netback_detach(struct netback *nb);
void netback_remove(struct netback *nb);
bool netback_connected(const struct netback *nb);

/* Takes up to `budget` packets off the tx ring, copying each good one into
 * scratch and handing it to deliver; answers every slot. */
unsigned netback_tx_serve(struct netback *nb, unsigned budget, struct netback_scratch *scratch,
                          netback_deliver_fn deliver, void *arg);
/* Queues a frame for the guest (14..NETBACK_MAX_FRAME bytes): false if it
 * was dropped (not connected, queue full, bad length). */
bool netback_rx_queue(struct netback *nb, const void *frame, uint32_t len, uint16_t flags);
/* Copies queued frames into posted rx pages, as many as there are. */
unsigned netback_rx_flush(struct netback *nb, struct netback_scratch *scratch);
/* Delivers a GSO packet whole, now, over several rx slots: only if the
 * frontend takes GSO, nothing is queued before it (after a flush) and it
 * has posted enough pages. False otherwise (nothing done; the caller
 * segments it and queues the frames). */
bool netback_rx_gso(struct netback *nb, const struct netback_packet *p, struct netback_scratch *scratch);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * A block backend device (one vbd of one domain), as Linux's xen-blkfront
 * and pvgrub expect it (xen-pv-abi.md §8.4): the xenbus handshake on the
 * backend's side, and serving the ring against a struct blk_target. Pure
 * logic: xenstore, grant mapping and copying, and event channels are
 * reached through struct blkback_ops, so dom0 plugs in hypercalls and the
 * host tests a simulated frontend and hypervisor.
 *
 * Lifecycle: lamina/xenbus_back.h. Probe writes the feature nodes; the
 * connection reads ring-ref, event-channel and protocol, maps and binds,
 * and writes sectors, info, sector-size and physical-sector-size. A
 * frontend whose details are bad, or which breaks its ring, is cut off:
 * disconnected, state Closing, and a message through ops->log.
 *
 * Data moves with GNTTABOP_copy-style operations between the granted pages
 * and a per-backend buffer of BLKBACK_BUF_PAGES pages, segment i of a
 * request at page i, at the same offset as in the guest's page (a copy
 * never crosses a page on either side).
 */
#ifndef LAMINA_BLKBACK_H
#define LAMINA_BLKBACK_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <lamina/blk_target.h>
#include <lamina/blkif.h>
#include <lamina/xenbus_back.h>
#include <public/io/xenbus.h>
#include <public/xen.h>

#define BLKBACK_BUF_PAGES BLKIF_MAX_SEGMENTS_PER_REQUEST
/* Requests served per blkback_serve() call before it reports AGAIN. */
#define BLKBACK_BATCH 32

struct blkback;

/* One piece of data between a granted page and our buffer. */
struct blkback_copy {
    grant_ref_t gref;
    uint16_t offset;               /* in the granted page and in buf's page */
    uint16_t len;
    void *buf;                     /* our side (inside one page) */
};

struct blkback_ops {
    /* xenstore as dom0. read: the value NUL-terminated into buf; -errno
     * (-ENOENT for a missing node, -E2BIG if it does not fit). */
    long (*read)(void *ctx, const char *path, char *buf, size_t cap);
    long (*write)(void *ctx, const char *path, const char *value);
    long (*rm)(void *ctx, const char *path);
    /* Maps the frontend's ring page (grant `ref` of b->domid, writable);
     * returns its address or NULL with *rc = -errno or a GNTST_ code. */
    volatile void *(*map_ring)(void *ctx, struct blkback *b, grant_ref_t ref, long *rc);
    void (*unmap_ring)(void *ctx, struct blkback *b);
    /* Binds a local port to the frontend's unbound `remote_port`; returns
     * the local port (> 0) or -errno. */
    long (*bind)(void *ctx, struct blkback *b, uint32_t remote_port);
    void (*unbind)(void *ctx, struct blkback *b, unsigned local_port);
    void (*notify)(void *ctx, struct blkback *b, unsigned local_port);
    /* Copies n pieces: into the guest's pages when to_guest, else out of
     * them. Returns 0 when every piece was copied, else -1. */
    long (*copy)(void *ctx, struct blkback *b, const struct blkback_copy *c, unsigned n, bool to_guest);
    /* One line for dom0's console (no newline). */
    void (*log)(void *ctx, const char *msg);
};

struct blkback {
    struct xenbus_back xb;         /* domid, devid, paths, state, online, removed */
    const struct blkback_ops *ops;
    void *ctx;
    struct blk_target *disk;
    bool writable;
    bool cdrom;
    /* The connection. */
    bool ring_mapped;
    volatile void *ring_page;
    unsigned local_port;           /* 0 when unbound */
    struct blkif_back_ring ring;
    uint8_t (*buf)[4096];          /* BLKBACK_BUF_PAGES pages, from the caller */
    /* Statistics. */
    uint64_t nr_requests, nr_errors, sectors_read, sectors_written;
};

/* What blkback_serve() did. */
#define BLKBACK_NOTIFY 1u          /* responses the frontend asked to hear about */
#define BLKBACK_AGAIN  2u          /* batch used up with requests left */
#define BLKBACK_BROKEN 4u          /* the frontend broke the ring: it was cut off */

/* Starts a backend for a device the toolstack has described under
 * b->be (frontend, frontend-id, params, mode, ...): writes the feature
 * nodes and moves to InitWait, then looks at the frontend once. `buf` is
 * BLKBACK_BUF_PAGES page-aligned pages. Returns 0 or -errno. */
long blkback_probe(struct blkback *b, const struct blkback_ops *ops, void *ctx, domid_t domid, uint32_t devid,
                   struct blk_target *disk, bool writable, bool cdrom, uint8_t (*buf)[4096]);
/* Acts on the frontend's state (and our `online` node); call it whenever
 * something under either directory may have changed. */
void blkback_changed(struct blkback *b);
/* Serves up to BLKBACK_BATCH requests; returns BLKBACK_* bits. Notifies
 * the frontend itself when it asked for it. */
unsigned blkback_serve(struct blkback *b);
/* The toolstack's removal (xl block-detach): online = 0 and Closing; the
 * device goes once the frontend has closed (blkback_changed), or at once
 * if it is not connected. */
void blkback_detach(struct blkback *b);
/* Tears everything down now (domain destroyed, or a frontend that never
 * closes): unmaps, unbinds and removes both directories. */
void blkback_remove(struct blkback *b);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * dom0's block backend glue; see block_backend.h. lib/blkback does the
 * protocol; this file supplies its operations with hypercalls (grant map
 * and copy, event channels), xenstored's direct API and dom0's vmap
 * window, and runs every device from the main loop.
 */
#include <lamina/blkback.h>
#include <lamina/fmt.h>
#include <lamina/string.h>
#include <guest/events.h>
#include <guest/hypercall.h>
#include <guest/pvclock.h>
#include <guest/runtime.h>
#include "../../kernel/console.h"
#include "../../toolstack/vmap.h"
#include "../../xenstored/xenstored.h"
#include "../common/backend_util.h"
#include "../console/console_backend.h"
#include "targets.h"
#include "block_backend.h"

struct vbd {
    struct blkback be;
    uint64_t detach_deadline;      /* 0 unless a detach is under way */
    char target[XL_DISK_TARGET_MAX];
    grant_handle_t ring_handle;
    bool in_use;
    bool event;                    /* the ring's port fired */
};

static struct vbd vbds[BLOCK_BACKEND_MAX];
/* Data pages, shared by all devices: requests are served one at a time. */
static uint8_t data_buf[BLKBACK_BUF_PAGES][4096] __attribute__((aligned(4096)));
static uint64_t data_mfn[BLKBACK_BUF_PAGES];
static volatile bool xs_changed, ring_event;
static bool work_left, ready, vmap_ready;
static uint64_t first_slot;

static struct vbd *vbd_of(struct blkback *b)
{
    return (struct vbd *)((char *)b - __builtin_offsetof(struct vbd, be));
}

static uint64_t slot_of(const struct vbd *v)
{
    return first_slot + (uint64_t)(v - vbds);
}

/* ---- blkback_ops ---- */

static long setup_vmap(void)
{
    if (vmap_ready)
        return 0;
    uint64_t max;
    long rc = vmap_reserve_window(CONSOLE_BACKEND_VMAP_SLOTS + XENSTORED_MAX_DOMAINS + BLOCK_BACKEND_MAX, &max);
    if (rc)
        return rc;
    first_slot = max - CONSOLE_BACKEND_VMAP_SLOTS - XENSTORED_MAX_DOMAINS - BLOCK_BACKEND_MAX;
    vmap_ready = true;
    return 0;
}

static volatile void *op_map_ring(void *ctx, struct blkback *b, grant_ref_t ref, long *rc)
{
    (void)ctx;
    struct vbd *v = vbd_of(b);
    if ((*rc = setup_vmap()))
        return NULL;
    return backend_map_ring(vmap_va(slot_of(v)), b->xb.domid, ref, &v->ring_handle, rc);
}

static void op_unmap_ring(void *ctx, struct blkback *b)
{
    (void)ctx;
    struct vbd *v = vbd_of(b);
    backend_unmap_ring(vmap_va(slot_of(v)), v->ring_handle, b->xb.tag);
}

static void on_ring_event(unsigned port, void *data)
{
    (void)port;
    ((struct vbd *)data)->event = true;
    ring_event = true;
}

static long op_bind(void *ctx, struct blkback *b, uint32_t remote_port)
{
    (void)ctx;
    return backend_bind(b->xb.domid, remote_port, on_ring_event, vbd_of(b));
}

static void op_unbind(void *ctx, struct blkback *b, unsigned port)
{
    (void)ctx;
    (void)b;
    backend_unbind(port);
}

static void op_notify(void *ctx, struct blkback *b, unsigned port)
{
    (void)ctx;
    (void)b;
    evtchn_send(port);
}

static long op_copy(void *ctx, struct blkback *b, const struct blkback_copy *c, unsigned n, bool to_guest)
{
    (void)ctx;
    struct gnttab_copy ops[BLKIF_MAX_SEGMENTS_PER_REQUEST];
    if (n > BLKIF_MAX_SEGMENTS_PER_REQUEST)
        return -1;
    for (unsigned i = 0; i < n; i++) {
        unsigned page = (unsigned)(((uintptr_t)c[i].buf - (uintptr_t)data_buf) / 4096);
        struct gnttab_copy_ptr local = { .domid = DOMID_SELF, .offset = c[i].offset };
        struct gnttab_copy_ptr guest = { .domid = b->xb.domid, .offset = c[i].offset };
        local.u.gmfn = data_mfn[page];
        guest.u.ref = c[i].gref;
        ops[i] = (struct gnttab_copy){
            .source = to_guest ? local : guest,
            .dest = to_guest ? guest : local,
            .len = c[i].len,
            .flags = to_guest ? GNTCOPY_dest_gref : GNTCOPY_source_gref,
        };
    }
    long rc = hyp_grant_table_op(GNTTABOP_copy, ops, n);
    if (rc)
        return -1;
    for (unsigned i = 0; i < n; i++)
        if (ops[i].status != GNTST_okay)
            return -1;
    return 0;
}

static const struct blkback_ops ops = {
    .read = backend_store_read, .write = backend_store_write, .rm = backend_store_rm, .map_ring = op_map_ring, .unmap_ring = op_unmap_ring,
    .bind = op_bind, .unbind = op_unbind, .notify = op_notify, .copy = op_copy, .log = backend_store_log,
};

/* ---- the toolstack's side ---- */

/* A vbd directory changed somewhere: look at every device in the next poll. */
void block_backend_store_changed(const char *path, size_t len)
{
    static const char vbd[] = "/vbd/";
    for (size_t i = 0; i + sizeof(vbd) - 1 <= len; i++) {
        if (memcmp(path + i, vbd, sizeof(vbd) - 1) == 0) {
            xs_changed = true;
            return;
        }
    }
}

void block_backend_init(void)
{
    if (ready)
        return;
    blk_targets_init();
    for (unsigned i = 0; i < BLKBACK_BUF_PAGES; i++)
        data_mfn[i] = va_to_mfn(data_buf[i]);
    ready = true;
}

static struct vbd *find(domid_t domid, uint32_t devid)
{
    for (unsigned i = 0; i < BLOCK_BACKEND_MAX; i++)
        if (vbds[i].in_use && vbds[i].be.xb.domid == domid && vbds[i].be.xb.devid == devid)
            return &vbds[i];
    return NULL;
}

bool block_backend_has(domid_t domid, uint32_t devid)
{
    return find(domid, devid) != NULL;
}

bool block_backend_target_busy(const char *target, bool writable, domid_t except)
{
    for (unsigned i = 0; i < BLOCK_BACKEND_MAX; i++) {
        const struct vbd *v = &vbds[i];
        if (v->in_use && v->be.xb.domid != except && strcmp(v->target, target) == 0 &&
            (writable || v->be.writable))
            return true;
    }
    return false;
}

long block_backend_add(domid_t domid, const struct xl_disk *disk)
{
    block_backend_init();
    struct blk_target *dev = blk_target_find(disk->target);
    if (!dev)
        return -XEN_ENODEV;
    if (find(domid, disk->devid))
        return -XEN_EEXIST;
    struct vbd *v = NULL;
    for (unsigned i = 0; i < BLOCK_BACKEND_MAX && !v; i++)
        if (!vbds[i].in_use)
            v = &vbds[i];
    if (!v)
        return -XEN_ENOSPC;
    memset(v, 0, sizeof(*v));
    fmt_snprintf(v->target, sizeof(v->target), "%s", disk->target);
    long rc = blkback_probe(&v->be, &ops, NULL, domid, disk->devid, dev, disk->writable, disk->cdrom, data_buf);
    if (rc)
        return rc;
    v->in_use = true;
    return 0;
}

long block_backend_detach(domid_t domid, uint32_t devid)
{
    struct vbd *v = find(domid, devid);
    if (!v)
        return -XEN_ENOENT;
    blkback_detach(&v->be);
    if (v->be.xb.removed)
        v->in_use = false;
    else
        v->detach_deadline = pvclock_now_ns() + BLOCK_BACKEND_DETACH_NS;
    return 0;
}

void block_backend_remove_domain(domid_t domid)
{
    for (unsigned i = 0; i < BLOCK_BACKEND_MAX; i++) {
        struct vbd *v = &vbds[i];
        if (v->in_use && v->be.xb.domid == domid) {
            blkback_remove(&v->be);
            v->in_use = false;
        }
    }
}

bool block_backend_has_work(void)
{
    return xs_changed || ring_event || work_left;
}

void block_backend_poll(void)
{
    if (!ready)
        return;
    bool changed = xs_changed, events = ring_event;
    xs_changed = ring_event = false;
    work_left = false;
    uint64_t now = 0;
    for (unsigned i = 0; i < BLOCK_BACKEND_MAX; i++) {
        struct vbd *v = &vbds[i];
        if (!v->in_use)
            continue;
        if (changed)
            blkback_changed(&v->be);
        if (v->detach_deadline && !v->be.xb.removed) {
            now = now ? now : pvclock_now_ns();
            if (now >= v->detach_deadline) {
                con_printf("blkback: d%u vbd %u: the frontend did not close; removed\n", v->be.xb.domid,
                           v->be.xb.devid);
                blkback_remove(&v->be);
            }   /* else the periodic tick brings us back to check */
        }
        if (v->be.xb.removed) {
            v->in_use = false;
            continue;
        }
        if ((events && v->event) || v->be.xb.state == XenbusStateConnected) {
            v->event = false;
            unsigned res = blkback_serve(&v->be);
            if (res & BLKBACK_AGAIN)
                work_left = true;
        }
    }
}

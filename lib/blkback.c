/* SPDX-License-Identifier: MIT */
/*
 * A block backend device; see lamina/blkback.h. Everything the frontend
 * wrote (its xenstore nodes, its ring) is checked before use: numbers are
 * parsed strictly, a protocol other than x86-64's is refused, a ring that
 * is not offered (multi-page) is refused, and the ring itself goes through
 * lib/blkif.
 */
#include <lamina/blkback.h>
#include <lamina/fmt.h>
#include <lamina/string.h>
#include <public/errno.h>

static struct blkback *of(struct xenbus_back *xb)
{
    return (struct blkback *)((char *)xb - __builtin_offsetof(struct blkback, xb));
}

static void disconnect(struct xenbus_back *xb)
{
    struct blkback *b = of(xb);
    if (b->local_port) {
        b->ops->unbind(b->ctx, b, b->local_port);
        b->local_port = 0;
    }
    if (b->ring_mapped) {
        b->ops->unmap_ring(b->ctx, b);
        b->ring_mapped = false;
        b->ring_page = NULL;
    }
}

/* What blkfront reads once we are Connected. */
static long write_connect_nodes(struct blkback *b)
{
    unsigned info = (b->writable ? 0 : VDISK_READONLY) | (b->cdrom ? VDISK_CDROM : 0);
    long rc = xenbus_back_write(&b->xb, "sectors", "%lu", (unsigned long)b->disk->sectors);
    if (!rc)
        rc = xenbus_back_write(&b->xb, "info", "%u", info);
    if (!rc)
        rc = xenbus_back_write(&b->xb, "sector-size", "%u", BLKIF_SECTOR_SIZE);
    if (!rc)
        rc = xenbus_back_write(&b->xb, "physical-sector-size", "%u", BLKIF_SECTOR_SIZE);
    return rc;
}

/* The frontend's details: returns 0, or -1 after logging why. */
static int connect(struct xenbus_back *xb)
{
    struct blkback *b = of(xb);
    char proto[XENBUS_BACK_VALUE_MAX];
    uint64_t ref, port, order;
    long rc = xenbus_back_read(xb, xb->fe, "protocol", proto, sizeof(proto));
    if (rc == 0 && strcmp(proto, XEN_IO_PROTO_ABI_X86_64) != 0) {
        xenbus_back_note(xb, "protocol '%s' is not supported (only " XEN_IO_PROTO_ABI_X86_64 ")", proto);
        return -1;
    }
    if (xenbus_back_read_fe_uint(xb, "ring-page-order", 255, &order) && order != 0) {
        xenbus_back_note(xb, "ring-page-order %lu was not offered", (unsigned long)order);
        return -1;
    }
    if (!xenbus_back_read_fe_uint(xb, "ring-ref", UINT32_MAX, &ref) &&
        !xenbus_back_read_fe_uint(xb, "ring-ref0", UINT32_MAX, &ref)) {
        xenbus_back_note(xb, "no valid ring-ref from the frontend");
        return -1;
    }
    if (!xenbus_back_read_fe_uint(xb, "event-channel", UINT32_MAX, &port) || port == 0) {
        xenbus_back_note(xb, "no valid event-channel from the frontend");
        return -1;
    }
    b->ring_page = b->ops->map_ring(b->ctx, b, (grant_ref_t)ref, &rc);
    if (!b->ring_page) {
        xenbus_back_note(xb, "cannot map ring-ref %lu (%ld)", (unsigned long)ref, rc);
        return -1;
    }
    b->ring_mapped = true;
    blkif_ring_attach(&b->ring, b->ring_page, 0);
    rc = b->ops->bind(b->ctx, b, (uint32_t)port);
    if (rc <= 0) {
        xenbus_back_note(xb, "cannot bind event-channel %lu (%ld)", (unsigned long)port, rc);
        disconnect(xb);
        return -1;
    }
    b->local_port = (unsigned)rc;
    if (write_connect_nodes(b)) {
        disconnect(xb);
        return -1;
    }
    /* Requests may be waiting already. */
    b->ops->notify(b->ctx, b, b->local_port);
    return 0;
}

long blkback_probe(struct blkback *b, const struct blkback_ops *ops, void *ctx, domid_t domid, uint32_t devid,
                   struct blk_target *disk, bool writable, bool cdrom, uint8_t (*buf)[4096])
{
    memset(b, 0, sizeof(*b));
    const struct xenbus_back_store store = { .read = ops->read, .write = ops->write, .rm = ops->rm, .log = ops->log };
    xenbus_back_init(&b->xb, &store, ctx, "blkback", "vbd", domid, devid);
    b->xb.connect = connect;
    b->xb.disconnect = disconnect;
    b->ops = ops;
    b->ctx = ctx;
    b->disk = disk;
    b->writable = writable && !disk->read_only;
    b->cdrom = cdrom;
    b->buf = buf;
    long rc = xenbus_back_write(&b->xb, "feature-flush-cache", "1");
    if (!rc)
        rc = xenbus_back_write(&b->xb, "feature-barrier", "0");
    if (!rc)
        rc = xenbus_back_write(&b->xb, "feature-discard", "0");
    if (!rc)
        rc = xenbus_back_write(&b->xb, "feature-persistent", "0");
    if (rc)
        return rc;
    xenbus_back_start(&b->xb);
    return 0;
}

void blkback_changed(struct blkback *b)
{
    xenbus_back_changed(&b->xb);
}

void blkback_detach(struct blkback *b)
{
    xenbus_back_detach(&b->xb);
}

void blkback_remove(struct blkback *b)
{
    xenbus_back_remove(&b->xb);
}

/* Reads or writes the runs of sectors of a checked request between the
 * device and buf (segment i at page i, same offset as in the guest's
 * page): consecutive segments that meet at a page boundary are one run. */
static long disk_io(struct blkback *b, const struct blkif_io *io)
{
    uint64_t sector = io->sector;
    unsigned i = 0;
    while (i < io->nr_segs) {
        uint8_t *start = b->buf[i] + blkif_seg_offset(io, i);
        uint32_t count = blkif_seg_bytes(io, i) / BLKIF_SECTOR_SIZE;
        while (i + 1 < io->nr_segs && io->seg[i].last_sect == BLKIF_SECTORS_PER_PAGE - 1 &&
               io->seg[i + 1].first_sect == 0) {
            i++;
            count += blkif_seg_bytes(io, i) / BLKIF_SECTOR_SIZE;
        }
        long rc = io->write ? b->disk->write(b->disk, sector, count, start)
                            : b->disk->read(b->disk, sector, count, start);
        if (rc)
            return rc;
        sector += count;
        i++;
    }
    return 0;
}

static int16_t serve_one(struct blkback *b, const struct blkif_io *io)
{
    struct blkback_copy c[BLKIF_MAX_SEGMENTS_PER_REQUEST];
    for (unsigned i = 0; i < io->nr_segs; i++) {
        c[i].gref = io->seg[i].gref;
        c[i].offset = (uint16_t)blkif_seg_offset(io, i);
        c[i].len = (uint16_t)blkif_seg_bytes(io, i);
        c[i].buf = b->buf[i] + c[i].offset;
    }
    if (io->nr_segs) {
        if (io->write) {
            if (b->ops->copy(b->ctx, b, c, io->nr_segs, false))
                return BLKIF_RSP_ERROR;
            if (disk_io(b, io))
                return BLKIF_RSP_ERROR;
            b->sectors_written += io->nr_sectors;
        } else {
            if (disk_io(b, io))
                return BLKIF_RSP_ERROR;
            if (b->ops->copy(b->ctx, b, c, io->nr_segs, true))
                return BLKIF_RSP_ERROR;
            b->sectors_read += io->nr_sectors;
        }
    }
    if (io->flush && b->disk->flush(b->disk))
        return BLKIF_RSP_ERROR;
    return BLKIF_RSP_OKAY;
}

unsigned blkback_serve(struct blkback *b)
{
    if (b->xb.state != XenbusStateConnected || !b->ring_mapped)
        return 0;
    struct blkif_limits lim = { .sectors = b->disk->sectors, .writable = b->writable, .flush = true };
    unsigned result = 0, served = 0;
    union blkif_sring_entry req;
    for (;;) {
        if (served == BLKBACK_BATCH) {
            result |= BLKBACK_AGAIN;
            break;
        }
        int rc = blkif_ring_next(&b->ring, &req);
        if (rc == BLKIF_RING_BROKEN) {
            xenbus_back_note(&b->xb, "the frontend broke its ring (bad indices); disconnected");
            xenbus_back_fail(&b->xb);
            return result | BLKBACK_BROKEN;
        }
        if (rc == BLKIF_RING_EMPTY) {
            if (blkif_ring_final_check(&b->ring))
                continue;
            break;
        }
        if (rc == BLKIF_RING_FULL)
            break;
        struct blkif_io io;
        int16_t st = blkif_parse(&req, &lim, &io);
        if (st == BLKIF_RSP_OKAY)
            st = serve_one(b, &io);
        b->nr_requests++;
        if (st != BLKIF_RSP_OKAY)
            b->nr_errors++;
        blkif_ring_respond(&b->ring, io.id, io.op, st);
        served++;
    }
    if (blkif_ring_push(&b->ring)) {
        b->ops->notify(b->ctx, b, b->local_port);
        result |= BLKBACK_NOTIFY;
    }
    return result;
}

/* SPDX-License-Identifier: MIT */
/*
 * A block backend device; see lamina/blkback.h. Everything the frontend
 * wrote (its xenstore nodes, its ring) is checked before use: numbers are
 * parsed strictly, a protocol other than x86-64's is refused, a ring that
 * is not offered (multi-page) is refused, and the ring itself goes through
 * lib/blkif.
 */
#include <stdarg.h>
#include <lamina/blkback.h>
#include <lamina/fmt.h>
#include <lamina/string.h>
#include <public/errno.h>

#define VALUE_MAX 32

static void note(struct blkback *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(struct blkback *b, const char *fmt, ...)
{
    char msg[160], line[192];
    va_list ap;
    va_start(ap, fmt);
    fmt_vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    fmt_snprintf(line, sizeof(line), "blkback: d%u vbd %u: %s", b->domid, b->devid, msg);
    if (b->ops->log)
        b->ops->log(b->ctx, line);
}

bool blkback_parse_uint(const char *s, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    if (!*s || (s[0] == '0' && s[1]))
        return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return false;
        unsigned d = (unsigned)(*s - '0');
        if (v > (max - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

static long read_node(struct blkback *b, const char *dir, const char *key, char *buf, size_t cap)
{
    char path[BLKBACK_PATH_MAX + 32];
    fmt_snprintf(path, sizeof(path), "%s/%s", dir, key);
    long rc = b->ops->read(b->ctx, path, buf, cap);
    if (rc)
        buf[0] = '\0';
    return rc;
}

static long write_node(struct blkback *b, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static long write_node(struct blkback *b, const char *key, const char *fmt, ...)
{
    char path[BLKBACK_PATH_MAX + 32], value[VALUE_MAX];
    va_list ap;
    va_start(ap, fmt);
    fmt_vsnprintf(value, sizeof(value), fmt, ap);
    va_end(ap);
    fmt_snprintf(path, sizeof(path), "%s/%s", b->be, key);
    return b->ops->write(b->ctx, path, value);
}

/* A number from the frontend's directory; false if missing or bad. */
static bool read_fe_uint(struct blkback *b, const char *key, uint64_t max, uint64_t *out)
{
    char v[VALUE_MAX];
    return read_node(b, b->fe, key, v, sizeof(v)) == 0 && blkback_parse_uint(v, max, out);
}

static void switch_state(struct blkback *b, uint8_t state)
{
    if (b->state == state)
        return;
    b->state = state;
    write_node(b, "state", "%u", state);
}

static void disconnect(struct blkback *b)
{
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

/* The frontend's details: returns 0, or -1 after logging why. */
static int connect_ring(struct blkback *b)
{
    char proto[VALUE_MAX];
    uint64_t ref, port, order;
    long rc = read_node(b, b->fe, "protocol", proto, sizeof(proto));
    if (rc == 0 && strcmp(proto, XEN_IO_PROTO_ABI_X86_64) != 0) {
        note(b, "protocol '%s' is not supported (only " XEN_IO_PROTO_ABI_X86_64 ")", proto);
        return -1;
    }
    if (read_fe_uint(b, "ring-page-order", 255, &order) && order != 0) {
        note(b, "ring-page-order %lu was not offered", (unsigned long)order);
        return -1;
    }
    if (!read_fe_uint(b, "ring-ref", UINT32_MAX, &ref) && !read_fe_uint(b, "ring-ref0", UINT32_MAX, &ref)) {
        note(b, "no valid ring-ref from the frontend");
        return -1;
    }
    if (!read_fe_uint(b, "event-channel", UINT32_MAX, &port) || port == 0) {
        note(b, "no valid event-channel from the frontend");
        return -1;
    }
    b->ring_page = b->ops->map_ring(b->ctx, b, (grant_ref_t)ref, &rc);
    if (!b->ring_page) {
        note(b, "cannot map ring-ref %lu (%ld)", (unsigned long)ref, rc);
        return -1;
    }
    b->ring_mapped = true;
    blkif_ring_attach(&b->ring, b->ring_page, 0);
    rc = b->ops->bind(b->ctx, b, (uint32_t)port);
    if (rc <= 0) {
        note(b, "cannot bind event-channel %lu (%ld)", (unsigned long)port, rc);
        disconnect(b);
        return -1;
    }
    b->local_port = (unsigned)rc;
    return 0;
}

/* What blkfront reads once we are Connected. */
static long write_connect_nodes(struct blkback *b)
{
    unsigned info = (b->writable ? 0 : VDISK_READONLY) | (b->cdrom ? VDISK_CDROM : 0);
    long rc = write_node(b, "sectors", "%lu", (unsigned long)b->disk->sectors);
    if (!rc)
        rc = write_node(b, "info", "%u", info);
    if (!rc)
        rc = write_node(b, "sector-size", "%u", BLKIF_SECTOR_SIZE);
    if (!rc)
        rc = write_node(b, "physical-sector-size", "%u", BLKIF_SECTOR_SIZE);
    return rc;
}

long blkback_probe(struct blkback *b, const struct blkback_ops *ops, void *ctx, domid_t domid, uint32_t devid,
                   struct blk_target *disk, bool writable, bool cdrom, uint8_t (*buf)[4096])
{
    memset(b, 0, sizeof(*b));
    b->ops = ops;
    b->ctx = ctx;
    b->domid = domid;
    b->devid = devid;
    b->disk = disk;
    b->writable = writable && !disk->read_only;
    b->cdrom = cdrom;
    b->online = true;
    b->buf = buf;
    b->state = XenbusStateInitialising;
    fmt_snprintf(b->be, sizeof(b->be), "/local/domain/0/backend/vbd/%u/%u", domid, devid);
    fmt_snprintf(b->fe, sizeof(b->fe), "/local/domain/%u/device/vbd/%u", domid, devid);
    long rc = write_node(b, "feature-flush-cache", "1");
    if (!rc)
        rc = write_node(b, "feature-barrier", "0");
    if (!rc)
        rc = write_node(b, "feature-discard", "0");
    if (!rc)
        rc = write_node(b, "feature-persistent", "0");
    if (rc)
        return rc;
    switch_state(b, XenbusStateInitWait);
    blkback_changed(b);
    return 0;
}

static void finish_removal(struct blkback *b)
{
    disconnect(b);
    switch_state(b, XenbusStateClosed);
    b->ops->rm(b->ctx, b->be);
    b->ops->rm(b->ctx, b->fe);
    b->removed = true;
}

/* Cut off: the frontend gave bad details or broke its ring. */
static void fail(struct blkback *b)
{
    disconnect(b);
    switch_state(b, XenbusStateClosing);
}

void blkback_changed(struct blkback *b)
{
    if (b->removed)
        return;
    char v[VALUE_MAX];
    uint64_t fe_state = XenbusStateUnknown;
    if (read_node(b, b->fe, "state", v, sizeof(v)) != 0 || !blkback_parse_uint(v, 255, &fe_state))
        fe_state = XenbusStateUnknown;
    switch (fe_state) {
    case XenbusStateInitialising:
        if (b->state == XenbusStateClosed && b->online) {
            note(b, "frontend reconnecting");
            switch_state(b, XenbusStateInitWait);
        }
        break;
    case XenbusStateInitialised:
    case XenbusStateConnected:
        /* Connect once per InitWait: after a failure we stay Closing until
         * the frontend closes and starts over. */
        if (b->state != XenbusStateInitWait || !b->online)
            break;
        disconnect(b);
        if (connect_ring(b) || write_connect_nodes(b)) {
            fail(b);
            break;
        }
        switch_state(b, XenbusStateConnected);
        /* Requests may be waiting already. */
        b->ops->notify(b->ctx, b, b->local_port);
        break;
    case XenbusStateClosing:
        switch_state(b, XenbusStateClosing);
        break;
    case XenbusStateClosed:
    case XenbusStateUnknown:
    default:                    /* gone, or a state a frontend never writes */
        disconnect(b);
        if (!b->online) {
            finish_removal(b);
            break;
        }
        if (b->state != XenbusStateInitWait || fe_state == XenbusStateClosed)
            switch_state(b, XenbusStateClosed);
        break;
    }
}

void blkback_detach(struct blkback *b)
{
    if (b->removed)
        return;
    b->online = false;
    write_node(b, "online", "0");
    if (b->state == XenbusStateConnected) {
        switch_state(b, XenbusStateClosing);
        return;
    }
    finish_removal(b);
}

void blkback_remove(struct blkback *b)
{
    if (b->removed)
        return;
    b->online = false;
    finish_removal(b);
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
    if (b->state != XenbusStateConnected || !b->ring_mapped)
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
            note(b, "the frontend broke its ring (bad indices); disconnected");
            fail(b);
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

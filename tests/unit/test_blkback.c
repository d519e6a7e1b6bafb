/* SPDX-License-Identifier: MIT */
/*
 * lib/blkback.c against a simulated world: a small xenstore (path -> value),
 * a grant table of the frontend's pages with Xen's checks (domid,
 * read-only, reference range), event channels that count notifications,
 * and a RAM disk. A simulated blkfront does the handshake as Linux does,
 * reads and writes data through the ring, closes and reconnects; hostile
 * variants give bad details or break the ring.
 */
#define DOMID 5
#define DEVID 51712
#define DISK_SECTORS 2048
#include "backend_world.h"
#include <lamina/blkback.h>

/* ---- the simulated world (the store and grants: backend_world.h) ---- */

static _Alignas(4096) uint8_t backend_buf[BLKBACK_BUF_PAGES][4096];

static bool ring_is_mapped;
static unsigned bound_port, notifies, copies_failed, disk_calls;
static long map_error;

static struct grant *grant_for(struct blkback *b, grant_ref_t ref, bool write)
{
    return grant_check(ref, b->xb.domid, write);
}

static volatile void *w_map_ring(void *ctx, struct blkback *b, grant_ref_t ref, long *rc)
{
    (void)ctx;
    ck_assert(!ring_is_mapped);
    struct grant *g = map_error ? NULL : grant_for(b, ref, true);
    if (!g) {
        *rc = map_error ? map_error : GNTST_bad_gntref;
        return NULL;
    }
    ring_is_mapped = true;
    return g->page;
}

static void w_unmap_ring(void *ctx, struct blkback *b)
{
    (void)ctx;
    (void)b;
    ck_assert(ring_is_mapped);
    ring_is_mapped = false;
}

static uint32_t fe_port;
static long w_bind(void *ctx, struct blkback *b, uint32_t remote)
{
    (void)ctx;
    (void)b;
    ck_assert_uint_eq(bound_port, 0);
    if (remote != fe_port)
        return -XEN_EINVAL;
    bound_port = 40;
    return 40;
}

static void w_unbind(void *ctx, struct blkback *b, unsigned port)
{
    (void)ctx;
    (void)b;
    ck_assert_uint_eq(port, bound_port);
    bound_port = 0;
}

static void w_notify(void *ctx, struct blkback *b, unsigned port)
{
    (void)ctx;
    (void)b;
    ck_assert_uint_eq(port, bound_port);
    notifies++;
}

static long w_copy(void *ctx, struct blkback *b, const struct blkback_copy *c, unsigned n, bool to_guest)
{
    (void)ctx;
    long rc = 0;
    for (unsigned i = 0; i < n; i++) {
        /* What GNTTABOP_copy insists on: inside one page on both sides. */
        ck_assert_uint_le((size_t)c[i].offset + c[i].len, 4096);
        ck_assert_uint_eq(((uintptr_t)c[i].buf & 4095), c[i].offset);
        struct grant *g = grant_for(b, c[i].gref, to_guest);
        if (!g) {
            copies_failed++;
            rc = -1;
            continue;
        }
        if (to_guest)
            memcpy(g->page + c[i].offset, c[i].buf, c[i].len);
        else
            memcpy(c[i].buf, g->page + c[i].offset, c[i].len);
    }
    return rc;
}

static const struct blkback_ops ops = {
    .read = w_read, .write = w_write, .rm = w_rm, .map_ring = w_map_ring, .unmap_ring = w_unmap_ring,
    .bind = w_bind, .unbind = w_unbind, .notify = w_notify, .copy = w_copy, .log = w_log,
};

static uint8_t disk_data[DISK_SECTORS * 512];
static bool fail_disk;
static unsigned flushes;

static long d_read(struct blk_target *d, uint64_t sector, uint32_t count, void *buf)
{
    ck_assert_uint_le(sector + count, d->sectors);
    disk_calls++;
    if (fail_disk)
        return -XEN_EIO;
    memcpy(buf, disk_data + sector * 512, count * 512);
    return 0;
}

static long d_write(struct blk_target *d, uint64_t sector, uint32_t count, const void *buf)
{
    ck_assert_uint_le(sector + count, d->sectors);
    disk_calls++;
    if (fail_disk)
        return -XEN_EIO;
    memcpy(disk_data + sector * 512, buf, count * 512);
    return 0;
}

static long d_flush(struct blk_target *d)
{
    (void)d;
    flushes++;
    return fail_disk ? -XEN_EIO : 0;
}

static struct blk_target disk = { .name = "ram0", .sectors = DISK_SECTORS, .read = d_read, .write = d_write, .flush = d_flush };
static struct blkback be;

/* ---- the simulated frontend ---- */

#define RING_REF 9
static struct ring_shared_header *fring;
static RING_IDX f_prod, f_rsp_cons;

static void world_reset(void)
{
    world_store_reset("vbd", DEVID);
    ring_is_mapped = false;
    bound_port = notifies = copies_failed = disk_calls = flushes = 0;
    map_error = 0;
    fail_disk = false;
    for (unsigned i = 0; i < sizeof(disk_data); i++)
        disk_data[i] = (uint8_t)(i * 7 + i / 512);
    fe_set("state", "1");
    fe_set("backend", be_path);
    fe_set("virtual-device", "51712");
    set("/local/domain/0/backend/vbd/5/51712/frontend", fe_path);
}

static void probe(bool writable)
{
    ck_assert_int_eq(blkback_probe(&be, &ops, NULL, DOMID, DEVID, &disk, writable, false, backend_buf), 0);
}

/* blkfront's talk_to_blkback + Initialised. */
static void frontend_connect(void)
{
    ck_assert_int_eq(be_state(), XenbusStateInitWait);
    grant(RING_REF, false);
    memset(guest_pages[RING_REF], 0, 4096);
    fring = (struct ring_shared_header *)guest_pages[RING_REF];
    fring->req_event = fring->rsp_event = 1;
    f_prod = f_rsp_cons = 0;
    fe_port = 17;
    fe_set("ring-ref", "9");
    fe_set("event-channel", "17");
    fe_set("protocol", "x86_64-abi");
    fe_set("state", "3");
    blkback_changed(&be);
}

static void connected(void)
{
    world_reset();
    probe(true);
    frontend_connect();
    ck_assert_int_eq(be_state(), XenbusStateConnected);
    fe_set("state", "4");
    blkback_changed(&be);
}

static union blkif_sring_entry *fslot(RING_IDX i)
{
    return (union blkif_sring_entry *)(guest_pages[RING_REF] + RING_HEADER_SIZE) + (i & 31);
}

/* Queues a request over `nsegs` data pages (grant refs 20..), whole pages. */
static void submit(uint8_t op, uint64_t id, uint64_t sector, unsigned nsegs, bool ro_grants)
{
    union blkif_sring_entry *e = fslot(f_prod);
    memset(e, 0, sizeof(*e));
    e->req.operation = op;
    e->req.nr_segments = (uint8_t)nsegs;
    e->req.id = id;
    e->req.sector_number = sector;
    for (unsigned s = 0; s < nsegs; s++) {
        grant(20 + s, ro_grants);
        e->req.seg[s].gref = 20 + s;
        e->req.seg[s].first_sect = 0;
        e->req.seg[s].last_sect = 7;
    }
    f_prod++;
    fring->req_prod = f_prod;
}

static const struct blkif_response *take_response(void)
{
    ck_assert_uint_ne(fring->rsp_prod, f_rsp_cons);
    const struct blkif_response *r = &fslot(f_rsp_cons)->rsp;
    f_rsp_cons++;
    fring->rsp_event = f_rsp_cons + 1;
    return r;
}

/* ---- tests ---- */

START_TEST(test_handshake)
{
    world_reset();
    probe(true);
    ck_assert_int_eq(be_state(), XenbusStateInitWait);
    ck_assert_str_eq(be_get("feature-flush-cache"), "1");
    ck_assert_ptr_null(be_get("sectors"));       /* only once connected */
    frontend_connect();
    ck_assert_int_eq(be_state(), XenbusStateConnected);
    ck_assert_str_eq(be_get("sectors"), "2048");
    ck_assert_str_eq(be_get("info"), "0");
    ck_assert_str_eq(be_get("sector-size"), "512");
    ck_assert_str_eq(be_get("physical-sector-size"), "512");
    ck_assert(ring_is_mapped);
    ck_assert_uint_eq(bound_port, 40);
    ck_assert_uint_eq(notifies, 1);
    fe_set("state", "4");
    blkback_changed(&be);
    ck_assert_int_eq(be_state(), XenbusStateConnected);
    ck_assert(ring_is_mapped);
}
END_TEST

START_TEST(test_readonly_info)
{
    world_reset();
    probe(false);
    frontend_connect();
    ck_assert_str_eq(be_get("info"), "4");
    submit(BLKIF_OP_WRITE, 1, 0, 1, true);
    blkback_serve(&be);
    ck_assert_int_eq(take_response()->status, BLKIF_RSP_ERROR);
    ck_assert_uint_eq(disk_calls, 0);
}
END_TEST

START_TEST(test_read_write)
{
    connected();
    /* Read 3 pages from sector 16. */
    submit(BLKIF_OP_READ, 77, 16, 3, false);
    unsigned res = blkback_serve(&be);
    ck_assert(res & BLKBACK_NOTIFY);
    const struct blkif_response *r = take_response();
    ck_assert_uint_eq(r->id, 77);
    ck_assert_uint_eq(r->operation, BLKIF_OP_READ);
    ck_assert_int_eq(r->status, BLKIF_RSP_OKAY);
    for (unsigned s = 0; s < 3; s++)
        ck_assert_mem_eq(guest_pages[20 + s], disk_data + (16 + 8 * s) * 512, 4096);
    ck_assert_uint_eq(disk_calls, 1);            /* whole pages: one run */
    /* Write 2 pages to sector 100 (read-only grants are enough). */
    memset(guest_pages[20], 0xab, 4096);
    memset(guest_pages[21], 0xcd, 4096);
    submit(BLKIF_OP_WRITE, 78, 100, 2, true);
    blkback_serve(&be);
    ck_assert_int_eq(take_response()->status, BLKIF_RSP_OKAY);
    ck_assert_mem_eq(disk_data + 100 * 512, guest_pages[20], 4096);
    ck_assert_mem_eq(disk_data + 108 * 512, guest_pages[21], 4096);
    ck_assert_uint_eq(be.sectors_written, 16);
    ck_assert_uint_eq(be.sectors_read, 24);
    /* A flush. */
    submit(BLKIF_OP_FLUSH_DISKCACHE, 79, 0, 0, false);
    blkback_serve(&be);
    ck_assert_int_eq(take_response()->status, BLKIF_RSP_OKAY);
    ck_assert_uint_eq(flushes, 1);
}
END_TEST

START_TEST(test_partial_segments)
{
    connected();
    /* Sectors 3..5 of page 20, then 0..7 of 21, then 0..1 of 22: the first
     * run ends mid-page, so it is two disk calls. */
    union blkif_sring_entry *e = fslot(f_prod);
    submit(BLKIF_OP_READ, 5, 40, 3, false);
    e->req.seg[0].first_sect = 3;
    e->req.seg[0].last_sect = 5;
    e->req.seg[2].last_sect = 1;
    memset(guest_pages[20], 0, 4096);
    memset(guest_pages[22], 0, 4096);
    disk_calls = 0;
    blkback_serve(&be);
    ck_assert_int_eq(take_response()->status, BLKIF_RSP_OKAY);
    ck_assert_mem_eq(guest_pages[20] + 3 * 512, disk_data + 40 * 512, 3 * 512);
    ck_assert_mem_eq(guest_pages[21], disk_data + 43 * 512, 4096);
    ck_assert_mem_eq(guest_pages[22], disk_data + 51 * 512, 2 * 512);
    ck_assert_uint_eq(guest_pages[20][0], 0);    /* untouched outside the range */
    ck_assert_uint_eq(guest_pages[22][2 * 512], 0);
    ck_assert_uint_eq(disk_calls, 2);
}
END_TEST

START_TEST(test_errors)
{
    connected();
    /* Read into a read-only grant: the copy fails. */
    submit(BLKIF_OP_READ, 1, 0, 1, true);
    /* A grant of another domain. */
    submit(BLKIF_OP_WRITE, 2, 0, 1, false);
    grants[20].domid = 3;
    blkback_serve(&be);
    ck_assert_int_eq(take_response()->status, BLKIF_RSP_ERROR);
    ck_assert_int_eq(take_response()->status, BLKIF_RSP_ERROR);
    ck_assert_uint_eq(copies_failed, 2);
    /* Past the end, unsupported op, disk failure. */
    submit(BLKIF_OP_READ, 3, DISK_SECTORS - 4, 1, false);
    submit(BLKIF_OP_DISCARD, 4, 0, 0, false);
    submit(BLKIF_OP_READ, 5, 0, 1, false);
    fail_disk = true;
    blkback_serve(&be);
    ck_assert_int_eq(take_response()->status, BLKIF_RSP_ERROR);
    ck_assert_int_eq(take_response()->status, BLKIF_RSP_EOPNOTSUPP);
    ck_assert_int_eq(take_response()->status, BLKIF_RSP_ERROR);
    ck_assert_uint_eq(be.nr_errors, 5);
    ck_assert_int_eq(be_state(), XenbusStateConnected);   /* errors do not disconnect */
}
END_TEST

START_TEST(test_batch)
{
    connected();
    for (unsigned i = 0; i < 32; i++)
        submit(BLKIF_OP_READ, i, i, 1, false);
    unsigned res = blkback_serve(&be);
    ck_assert(!(res & BLKBACK_AGAIN) || be.nr_requests == BLKBACK_BATCH);
    while (res & BLKBACK_AGAIN)
        res = blkback_serve(&be);
    for (unsigned i = 0; i < 32; i++) {
        const struct blkif_response *r = take_response();
        ck_assert_uint_eq(r->id, i);
        ck_assert_int_eq(r->status, 0);
    }
    ck_assert_uint_eq(fring->req_event, 33);     /* asks to hear of the next */
}
END_TEST

START_TEST(test_broken_ring)
{
    connected();
    fring->req_prod = 1000;
    unsigned res = blkback_serve(&be);
    ck_assert(res & BLKBACK_BROKEN);
    ck_assert_int_eq(be_state(), XenbusStateClosing);
    ck_assert(!ring_is_mapped);
    ck_assert_uint_eq(bound_port, 0);
    ck_assert(strstr(last_log, "broke its ring"));
    ck_assert_uint_eq(blkback_serve(&be), 0);
    /* It closes and starts over: served again. */
    fe_set("state", "6");
    blkback_changed(&be);
    ck_assert_int_eq(be_state(), XenbusStateClosed);
    fe_set("state", "1");
    blkback_changed(&be);
    ck_assert_int_eq(be_state(), XenbusStateInitWait);
    frontend_connect();
    ck_assert_int_eq(be_state(), XenbusStateConnected);
}
END_TEST

static void bad_details(const char *key, const char *value, const char *want_log)
{
    world_reset();
    probe(true);
    grant(RING_REF, false);
    fe_port = 17;
    fe_set("protocol", "x86_64-abi");
    if (strcmp(key, "ring-ref") != 0)
        fe_set("ring-ref", "9");
    if (strcmp(key, "event-channel") != 0)
        fe_set("event-channel", "17");
    if (value)                                   /* NULL: the node is missing */
        fe_set(key, value);
    fe_set("state", "3");
    blkback_changed(&be);
    ck_assert_msg(be_state() == XenbusStateClosing, "%s=%s: state %d", key, value ? value : "(none)", be_state());
    ck_assert(!ring_is_mapped);
    ck_assert_uint_eq(bound_port, 0);
    ck_assert_msg(strstr(last_log, want_log), "log '%s' lacks '%s'", last_log, want_log);
    ck_assert_ptr_null(be_get("sectors"));
    /* Writing Connected again changes nothing. */
    fe_set("state", "4");
    blkback_changed(&be);
    ck_assert_int_eq(be_state(), XenbusStateClosing);
    ck_assert(!ring_is_mapped);
}

START_TEST(test_bad_details)
{
    bad_details("protocol", "x86_32-abi", "protocol");
    bad_details("protocol", "", "protocol");
    bad_details("ring-ref", "abc", "ring-ref");
    bad_details("ring-ref", "-1", "ring-ref");
    bad_details("ring-ref", "4294967296", "ring-ref");
    bad_details("ring-ref", "09", "ring-ref");
    bad_details("ring-ref", "", "ring-ref");
    bad_details("ring-ref", NULL, "ring-ref");
    bad_details("ring-ref", "63", "cannot map");          /* not granted */
    bad_details("ring-page-order", "2", "not offered");
    bad_details("event-channel", "0", "event-channel");
    bad_details("event-channel", "x", "event-channel");
    bad_details("event-channel", NULL, "event-channel");
    bad_details("event-channel", "18", "cannot bind");
    /* A read-only grant cannot be the ring. */
    world_reset();
    probe(true);
    grants[RING_REF] = (struct grant){ .valid = true, .readonly = true, .page = guest_pages[RING_REF] };
    fe_port = 17;
    fe_set("ring-ref", "9");
    fe_set("event-channel", "17");
    fe_set("state", "3");
    blkback_changed(&be);
    ck_assert_int_eq(be_state(), XenbusStateClosing);
    /* No protocol node: native (x86-64), accepted. */
    world_reset();
    probe(true);
    grant(RING_REF, false);
    fe_port = 17;
    fe_set("ring-ref", "9");
    fe_set("event-channel", "17");
    fe_set("state", "3");
    blkback_changed(&be);
    ck_assert_int_eq(be_state(), XenbusStateConnected);
}
END_TEST

START_TEST(test_map_enosys)
{
    /* Today's hypervisor: map_grant_ref -> -ENOSYS. The frontend is told
     * (Closing) and nothing is left half-connected. */
    world_reset();
    probe(true);
    map_error = -XEN_ENOSYS;
    frontend_connect();
    ck_assert_int_eq(be_state(), XenbusStateClosing);
    ck_assert(strstr(last_log, "cannot map ring-ref 9 (-38)"));
    ck_assert_uint_eq(bound_port, 0);
}
END_TEST

START_TEST(test_close_reconnect)
{
    /* blkfront unloaded and loaded again (or Linux's suspend path). */
    connected();
    submit(BLKIF_OP_READ, 1, 0, 1, false);
    fe_set("state", "5");
    blkback_changed(&be);
    ck_assert_int_eq(be_state(), XenbusStateClosing);
    blkback_serve(&be);                              /* still drains while closing */
    fe_set("state", "6");
    blkback_changed(&be);
    ck_assert_int_eq(be_state(), XenbusStateClosed);
    ck_assert(!ring_is_mapped);
    ck_assert_uint_eq(bound_port, 0);
    ck_assert_uint_eq(blkback_serve(&be), 0);
    fe_set("state", "1");
    blkback_changed(&be);
    ck_assert_int_eq(be_state(), XenbusStateInitWait);
    frontend_connect();
    ck_assert_int_eq(be_state(), XenbusStateConnected);
    submit(BLKIF_OP_READ, 2, 8, 1, false);
    blkback_serve(&be);
    const struct blkif_response *r = take_response();
    ck_assert_uint_eq(r->id, 2);
    ck_assert_int_eq(r->status, 0);
    ck_assert_mem_eq(guest_pages[20], disk_data + 8 * 512, 4096);
}
END_TEST

START_TEST(test_detach)
{
    /* Connected: Closing first, gone once the frontend closed. */
    connected();
    blkback_detach(&be);
    ck_assert_str_eq(be_get("online"), "0");
    ck_assert_int_eq(be_state(), XenbusStateClosing);
    ck_assert(!be.xb.removed);
    fe_set("state", "5");
    blkback_changed(&be);
    fe_set("state", "6");
    blkback_changed(&be);
    ck_assert(be.xb.removed);
    ck_assert(!ring_is_mapped);
    ck_assert_ptr_null(be_get("state"));
    ck_assert_ptr_null(get("/local/domain/5/device/vbd/51712/state"));
    /* Not connected: at once. */
    world_reset();
    probe(true);
    blkback_detach(&be);
    ck_assert(be.xb.removed);
    ck_assert_ptr_null(be_get("state"));
    /* Forced removal of a connected device (domain destroyed). */
    connected();
    blkback_remove(&be);
    ck_assert(be.xb.removed);
    ck_assert(!ring_is_mapped);
    ck_assert_uint_eq(bound_port, 0);
    blkback_changed(&be);                            /* harmless afterwards */
    ck_assert_uint_eq(blkback_serve(&be), 0);
}
END_TEST

START_TEST(test_frontend_vanishes)
{
    connected();
    w_rm(NULL, fe_path);
    blkback_changed(&be);
    ck_assert_int_eq(be_state(), XenbusStateClosed);
    ck_assert(!ring_is_mapped);
    ck_assert_uint_eq(bound_port, 0);
    /* Hostile state values. */
    connected();
    fe_set("state", "99");
    blkback_changed(&be);
    ck_assert_int_eq(be_state(), XenbusStateClosed);
    ck_assert(!ring_is_mapped);
}
END_TEST

START_TEST(test_parse_uint)
{
    uint64_t v;
    ck_assert(xenbus_parse_uint("0", 10, &v) && v == 0);
    ck_assert(xenbus_parse_uint("4294967295", UINT32_MAX, &v) && v == UINT32_MAX);
    ck_assert(!xenbus_parse_uint("4294967296", UINT32_MAX, &v));
    ck_assert(xenbus_parse_uint("18446744073709551615", UINT64_MAX, &v) && v == UINT64_MAX);
    ck_assert(!xenbus_parse_uint("18446744073709551616", UINT64_MAX, &v));
    ck_assert(!xenbus_parse_uint("", 10, &v));
    ck_assert(!xenbus_parse_uint("01", 10, &v));
    ck_assert(!xenbus_parse_uint("1 ", 10, &v));
    ck_assert(!xenbus_parse_uint("+1", 10, &v));
    ck_assert(!xenbus_parse_uint("11", 10, &v));
    ck_assert(xenbus_parse_uint("10", 10, &v) && v == 10);
}
END_TEST

static Suite *blkback_suite(void)
{
    Suite *s = suite_create("blkback");
    TCase *tc = tcase_create("blkback");
    tcase_add_test(tc, test_handshake);
    tcase_add_test(tc, test_readonly_info);
    tcase_add_test(tc, test_read_write);
    tcase_add_test(tc, test_partial_segments);
    tcase_add_test(tc, test_errors);
    tcase_add_test(tc, test_batch);
    tcase_add_test(tc, test_broken_ring);
    tcase_add_test(tc, test_bad_details);
    tcase_add_test(tc, test_map_enosys);
    tcase_add_test(tc, test_close_reconnect);
    tcase_add_test(tc, test_detach);
    tcase_add_test(tc, test_frontend_vanishes);
    tcase_add_test(tc, test_parse_uint);
    suite_add_tcase(s, tc);
    return s;
}

UNIT_MAIN(blkback_suite)

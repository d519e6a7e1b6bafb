/* SPDX-License-Identifier: MIT */
/*
 * hv/common/gnttab.c on the host (behind hv_harness.h, with the real PV MMU):
 * map_grant_ref, unmap_grant_ref, unmap_and_replace and copy with Xen's
 * checks and status codes, the pins in the shared entries, the references
 * a mapping holds, domain death on either side, and a seeded random
 * sequence checked after every step by the harness audit (every count
 * recomputed; grant entries covered by handles) and by grant_audit() here
 * (pins = live handles; GTF_reading/GTF_writing exactly while pinned).
 *
 * d1 grants (unprivileged, frames A(i)); d2 maps (unprivileged, frames
 * B(i), with its own four-level page tables so virtual host addresses work).
 */
#include "unit.h"
#include "hv_harness.h"
#include <stdio.h>
#include <hv/gnttab.h>
#include <public/grant_table.h>
#include <public/memory.h>
#include "hv_asserts.h"
#include "rng.h"

#define P   _PAGE_PRESENT
#define RW  _PAGE_RW
#define US  _PAGE_USER
#define NR_A 32
#define NR_B 32
#define ARG_GVA (HARNESS_GUEST_VA + HARNESS_GUEST_SIZE - 8192)

static struct domain *d1, *d2;
static mfn_t base1, base2;

/* (FAST_ASSERT: these run in every step of the random test.) */
static mfn_t A(unsigned i) { FAST_ASSERT(i < NR_A); return base1 + i; }
static mfn_t B(unsigned i) { FAST_ASSERT(i < NR_B); return base2 + i; }
static struct page_info *pg(mfn_t m) { return mfn_to_page(m); }

/* d2's page tables: L4 B(0) slot 1 -> L3 B(1) slot 0 -> L2 B(2) slots 0 and
 * 1 -> L1 B(3) and B(4). VA(k) is mapped by B(3)[k], VA(512 + k) by B(4)[k]. */
#define L1A B(3)
#define L1B B(4)
static uint64_t VA(unsigned k) { return (1ull << 39) + (uint64_t)k * PAGE_SIZE; }
static uint64_t *slot_of(unsigned k) { return (uint64_t *)mfn_to_virt(k < 512 ? L1A : L1B) + k % 512; }
static uint64_t pte_addr(unsigned k) { return ((k < 512 ? L1A : L1B) << PAGE_SHIFT) + (k % 512) * 8; }

static struct grant_entry_v1 *gent(const struct domain *d, uint32_t ref)
{
    FAST_ASSERT(ref < d->gnttab_nr_frames * GRANTS_PER_FRAME);
    return (struct grant_entry_v1 *)mfn_to_virt(d->gnttab_frames[ref / 512]) + ref % 512;
}
static void grant(uint32_t ref, domid_t to, mfn_t frame, uint16_t flags)
{
    struct grant_entry_v1 *e = gent(d1, ref);
    e->domid = to;
    e->frame = (uint32_t)frame;
    e->flags = flags;
}

static long gnttab_op(unsigned cmd, void *op, size_t size, unsigned count)
{
    memcpy(harness_guest_ptr(ARG_GVA), op, size * count);
    long rc = do_grant_table_op(cmd, ARG_GVA, count);
    memcpy(op, harness_guest_ptr(ARG_GVA), size * count);
    return rc;
}

static void as(struct domain *d) { harness_set_current(d->vcpus[0]); }

static long setup_frames(struct domain *d, unsigned nr)
{
    as(d);
    struct gnttab_setup_table op = { .dom = DOMID_SELF, .nr_frames = nr,
                                     .frame_list = ARG_GVA + 4096 };
    long rc = gnttab_op(GNTTABOP_setup_table, &op, sizeof(op), 1);
    return rc ? rc : op.status;
}

static long mmuext(unsigned cmd, mfn_t m)
{
    struct mmuext_op *op = harness_guest_ptr(ARG_GVA);
    memset(op, 0, sizeof(*op));
    op->cmd = cmd;
    op->arg1.mfn = m;
    return do_mmuext_op(ARG_GVA, 1, 0, DOMID_SELF);
}

static long set_entry(mfn_t t, unsigned idx, uint64_t val)
{
    struct mmu_update *r = harness_guest_ptr(ARG_GVA);
    r->ptr = (t << PAGE_SHIFT) + idx * 8 + MMU_NORMAL_PT_UPDATE;
    r->val = val;
    return do_mmu_update(ARG_GVA, 1, 0, DOMID_SELF);
}

/* map_grant_ref by d2; returns the status, the handle through *h. */
static int16_t map_as(struct domain *d, domid_t dom, uint32_t ref, uint32_t flags, uint64_t host_addr,
                      uint32_t *h)
{
    as(d);
    struct gnttab_map_grant_ref op = { .host_addr = host_addr, .flags = flags, .ref = ref, .dom = dom,
                                       .status = 99, .handle = 0xdead };
    FAST_ASSERT(gnttab_op(GNTTABOP_map_grant_ref, &op, sizeof(op), 1) == 0);
    if (h)
        *h = op.handle;
    if (op.status == GNTST_okay)
        FAST_ASSERT(op.dev_bus_addr == (uint64_t)maptrack_entry(d, op.handle)->mfn << PAGE_SHIFT);
    return op.status;
}
static int16_t map(uint32_t ref, uint32_t flags, uint64_t host_addr, uint32_t *h)
{
    return map_as(d2, 1, ref, flags, host_addr, h);
}
static int16_t unmap(uint32_t h, uint64_t host_addr)
{
    as(d2);
    struct gnttab_unmap_grant_ref op = { .host_addr = host_addr, .handle = h, .status = 99 };
    FAST_ASSERT(gnttab_op(GNTTABOP_unmap_grant_ref, &op, sizeof(op), 1) == 0);
    return op.status;
}
static int16_t copy_as(struct domain *d, struct gnttab_copy c)
{
    as(d);
    c.status = 99;
    FAST_ASSERT(gnttab_op(GNTTABOP_copy, &c, sizeof(c), 1) == 0);
    return c.status;
}

/* What domain_destroy does to d2's page tables after gnttab_destroy: the
 * pin and the base pointer go, devalidating everything below. */
static void drop_d2_tables(void)
{
    as(d2);
    ck_assert_int_eq(mmuext(MMUEXT_UNPIN_TABLE, B(0)), 0);
    d2->vcpus[0]->guest_table = 0;
    pv_put_page_type(pg(B(0)));
    pv_put_page(pg(B(0)));
}

static unsigned handles_in_use(const struct domain *d)
{
    unsigned n = 0;
    for (uint32_t h = 0; h < d->maptrack_frames * MAPTRACK_PER_FRAME; h++)
        n += maptrack_entry(d, h)->flags != 0;
    return n;
}

/* Pins equal the live handles naming each (granter, ref); the shared entry
 * shows GTF_reading exactly while pinned and GTF_writing while writably
 * pinned; a live handle's frame is its granter's pinned frame. */
#define AUDIT_REFS (GNTTAB_MAX_FRAMES * GRANTS_PER_FRAME)
static uint16_t seen_ro[AUDIT_REFS], seen_rw[AUDIT_REFS], seen_by[AUDIT_REFS];
static const char *grant_audit(void)
{
    static char msg[200];
    for (unsigned g = 0; g < MAX_DOMAINS; g++) {
        const struct domain *rd = domain_list[g];
        if (!rd || rd->is_dying)
            continue;
        uint32_t nr = rd->gnttab_nr_frames * GRANTS_PER_FRAME;
        memset(seen_ro, 0, nr * sizeof(seen_ro[0]));
        memset(seen_rw, 0, nr * sizeof(seen_rw[0]));
        for (unsigned l = 0; l < MAX_DOMAINS; l++) {
            const struct domain *ld = domain_list[l];
            for (uint32_t h = 0; ld && h < ld->maptrack_frames * MAPTRACK_PER_FRAME; h++) {
                const struct grant_mapping *mt = maptrack_entry(ld, h);
                if (!mt->flags || (mt->flags & MT_ORPHAN) || mt->dom != g)
                    continue;
                if (mt->ref >= nr || mt->mfn != rd->gnttab_active[mt->ref / 512][mt->ref % 512].mfn ||
                    pg(mt->mfn)->owner != g) {
                    snprintf(msg, sizeof(msg), "d%u handle %u: ref %u frame %u not d%u's pinned frame",
                             l, h, mt->ref, mt->mfn, g);
                    return msg;
                }
                if (mt->flags & GNTMAP_readonly)
                    seen_ro[mt->ref]++;
                else
                    seen_rw[mt->ref]++;
                seen_by[mt->ref] = (uint16_t)l;
            }
        }
        for (uint32_t ref = 0; ref < nr; ref++) {
            unsigned ro = seen_ro[ref], rw = seen_rw[ref];
            const struct active_grant *act = &rd->gnttab_active[ref / 512][ref % 512];
            uint16_t flags = gent(rd, ref)->flags;
            if (act->ro != ro || act->rw != rw || ((ro || rw) && act->domid != seen_by[ref]) ||
                !(flags & GTF_reading) != !(ro || rw) || !(flags & GTF_writing) != !rw) {
                snprintf(msg, sizeof(msg),
                         "d%u ref %u: pins ro %u rw %u for d%u, handles ro %u rw %u of d%u, flags %#x",
                         g, ref, act->ro, act->rw, act->domid, ro, rw, seen_by[ref], flags);
                return msg;
            }
        }
    }
    return NULL;
}
#define ASSERT_GRANTS()                                                                            \
    do {                                                                                           \
        ASSERT_AUDIT();                                                                            \
        const char *gwhy_ = grant_audit();                                                         \
        ck_assert_msg(gwhy_ == NULL, "grant audit: %s", gwhy_);                                    \
    } while (0)

static void setup(void)
{
    harness_reset();
    d1 = harness_domain_create(1, false, NR_A, &base1);
    d2 = harness_domain_create(2, false, NR_B, &base2);
    ck_assert_int_eq(setup_frames(d1, 2), GNTST_okay);
    ck_assert_int_eq(setup_frames(d2, 1), GNTST_okay);
    as(d2);
    tab(B(0))[1] = pte(B(1), P | RW);
    tab(B(1))[0] = pte(B(2), P | RW);
    tab(B(2))[0] = pte(L1A, P | RW);
    tab(B(2))[1] = pte(L1B, P | RW);
    for (unsigned k = 0; k < 16; k++)        /* ordinary mappings the grants replace */
        tab(L1A)[k] = pte(B(16 + k), P | RW);
    ck_assert_int_eq(mmuext(MMUEXT_PIN_L4_TABLE, B(0)), 0);
    ck_assert_int_eq(mmuext(MMUEXT_NEW_BASEPTR, B(0)), 0);
    ASSERT_GRANTS();
}

static void teardown(void) {}

/* ---- map and unmap ---- */

START_TEST(map_rw_and_ro_then_unmap)
{
    grant(10, 2, A(5), GTF_permit_access);
    harness_frame(A(5))[0] = 0x1122334455667788ull;
    uint32_t h1, h2;
    unsigned invlpgs = hvlog.invlpgs;
    ck_assert_int_eq(map(10, GNTMAP_host_map, VA(3), &h1), GNTST_okay);
    ck_assert_uint_eq(hvlog.invlpgs, invlpgs + 1);
    ck_assert_uint_eq(hvlog.last_invlpg, VA(3));
    /* Xen's PTE: P A D NX, RW, kernel-only (US + _PAGE_GUEST_KERNEL), bit 62. */
    ck_assert_uint_eq(*slot_of(3), pte(A(5), P | RW | US | _PAGE_ACCESSED | _PAGE_DIRTY) | _PAGE_NX |
                                       _PAGE_GNTTAB | _PAGE_GUEST_KERNEL);
    ASSERT_ALLOC_ONLY(B(19));                  /* the replaced mapping let go */
    ASSERT_PG(A(5), 2, PGT_writable, 1);
    ck_assert_uint_eq(gent(d1, 10)->flags, GTF_permit_access | GTF_reading | GTF_writing);
    ASSERT_GRANTS();
    /* A read-only mapping of the same ref; application_map and avail bits. */
    ck_assert_int_eq(map(10, GNTMAP_host_map | GNTMAP_readonly | GNTMAP_application_map |
                             (5u << GNTMAP_guest_avail_shift),
                         VA(4), &h2),
                     GNTST_okay);
    ck_assert_uint_ne(h1, h2);
    ck_assert_uint_eq(*slot_of(4), pte(A(5), P | US | _PAGE_ACCESSED | _PAGE_DIRTY) | _PAGE_NX |
                                       _PAGE_GNTTAB | (5ull << 9));
    ASSERT_PG(A(5), 3, PGT_writable, 1);
    ck_assert_uint_eq(d1->gnttab_active[0][10].ro, 1);
    ck_assert_uint_eq(d1->gnttab_active[0][10].rw, 1);
    ASSERT_GRANTS();
    /* Unmapping the writer clears GTF_writing, the last one GTF_reading. */
    unsigned flushes = hvlog.invlpgs;
    ck_assert_int_eq(unmap(h1, VA(3)), GNTST_okay);
    ck_assert_uint_gt(hvlog.invlpgs, flushes);
    ck_assert_uint_eq(*slot_of(3), 0);
    ck_assert_uint_eq(gent(d1, 10)->flags, GTF_permit_access | GTF_reading);
    ASSERT_PG(A(5), 2, PGT_none, 0);
    ASSERT_GRANTS();
    ck_assert_int_eq(unmap(h2, VA(4)), GNTST_okay);
    ck_assert_uint_eq(gent(d1, 10)->flags, GTF_permit_access);
    ASSERT_ALLOC_ONLY(A(5));
    ck_assert_uint_eq(handles_in_use(d2), 0);
    ck_assert_uint_eq(harness_frame(A(5))[0], 0x1122334455667788ull);
    ASSERT_GRANTS();
}
END_TEST

START_TEST(map_by_pte_address)
{
    grant(11, 2, A(6), GTF_permit_access);
    uint32_t h;
    unsigned flushes = hvlog.tlb_flushes;
    ck_assert_int_eq(map(11, GNTMAP_host_map | GNTMAP_contains_pte, pte_addr(512 + 7), &h), GNTST_okay);
    ck_assert_uint_gt(hvlog.tlb_flushes, flushes);
    ck_assert_uint_eq(pte_mfn(*slot_of(512 + 7)), A(6));
    ASSERT_GRANTS();
    /* The PTE's address must be 8-aligned, in a validated L1 of the caller. */
    ck_assert_int_eq(map(11, GNTMAP_host_map | GNTMAP_contains_pte, pte_addr(8) + 4, NULL),
                     GNTST_general_error);
    ck_assert_int_eq(map(11, GNTMAP_host_map | GNTMAP_contains_pte, B(20) << PAGE_SHIFT, NULL),
                     GNTST_general_error);
    as(d1);
    tab(A(9))[0] = 0;
    ck_assert_int_eq(mmuext(MMUEXT_PIN_L1_TABLE, A(9)), 0);
    ck_assert_int_eq(map(11, GNTMAP_host_map | GNTMAP_contains_pte, A(9) << PAGE_SHIFT, NULL),
                     GNTST_general_error);   /* d1's L1, not d2's */
    ck_assert_int_eq(map(11, GNTMAP_host_map | GNTMAP_contains_pte, (uint64_t)max_mfn << PAGE_SHIFT, NULL),
                     GNTST_general_error);
    ASSERT_GRANTS();
    /* Unmapped by the same kind of address; a VA does not name it. */
    ck_assert_int_eq(unmap(h, VA(512 + 7)), GNTST_general_error);
    ck_assert_int_eq(unmap(h, pte_addr(512 + 7)), GNTST_okay);
    ASSERT_ALLOC_ONLY(A(6));
    ck_assert_uint_eq(gent(d1, 11)->flags, GTF_permit_access);
    ASSERT_GRANTS();
}
END_TEST

START_TEST(unmap_checks_handle_and_pte)
{
    grant(12, 2, A(7), GTF_permit_access);
    grant(13, 2, A(8), GTF_permit_access);
    uint32_t h, h13;
    ck_assert_int_eq(map(12, GNTMAP_host_map, VA(5), &h), GNTST_okay);
    ck_assert_int_eq(map(13, GNTMAP_host_map | GNTMAP_readonly, VA(6), &h13), GNTST_okay);
    /* Bad handles. */
    ck_assert_int_eq(unmap(h + 1000, VA(5)), GNTST_bad_handle);
    ck_assert_int_eq(unmap(0xffffffffu, VA(5)), GNTST_bad_handle);
    ck_assert_int_eq(unmap(h + 2, VA(5)), GNTST_bad_handle);     /* allocated frame, free entry */
    /* The PTE at host_addr must be this handle's: frame, writability, bit 62. */
    ck_assert_int_eq(unmap(h, VA(6)), GNTST_general_error);
    ck_assert_int_eq(unmap(h13, VA(5)), GNTST_general_error);
    ck_assert_int_eq(unmap(h, VA(7)), GNTST_general_error);       /* an ordinary mapping */
    ck_assert_int_eq(unmap(h, 0xffff800000000000ull), GNTST_general_error);
    /* host_addr 0 unmaps nothing (Xen). */
    ck_assert_int_eq(unmap(h, 0), GNTST_okay);
    ck_assert_uint_eq(pte_mfn(*slot_of(5)), A(7));
    ASSERT_GRANTS();
    ck_assert_int_eq(unmap(h, VA(5)), GNTST_okay);
    ck_assert_int_eq(unmap(h, VA(5)), GNTST_bad_handle);           /* double unmap */
    ck_assert_int_eq(unmap(h13, VA(6)), GNTST_okay);
    ck_assert_int_eq(unmap(h13, VA(6)), GNTST_bad_handle);
    ASSERT_ALLOC_ONLY(A(7));
    ASSERT_ALLOC_ONLY(A(8));
    ASSERT_GRANTS();
}
END_TEST

START_TEST(overwritten_grant_pte_keeps_its_references)
{
    grant(14, 2, A(9), GTF_permit_access);
    uint32_t h;
    ck_assert_int_eq(map(14, GNTMAP_host_map, VA(2), &h), GNTST_okay);
    /* The guest overwrites the grant entry: nothing is released (the handle
     * holds the references), and the entry can no longer be unmapped by it. */
    as(d2);
    ck_assert_int_eq(set_entry(L1A, 2, pte(B(20), P)), 0);
    ASSERT_PG(A(9), 2, PGT_writable, 1);
    ck_assert_uint_eq(gent(d1, 14)->flags, GTF_permit_access | GTF_reading | GTF_writing);
    ASSERT_GRANTS();
    ck_assert_int_eq(unmap(h, VA(2)), GNTST_general_error);
    /* A guest cannot forge a grant entry. */
    ck_assert_int_eq(set_entry(L1A, 9, pte(A(9), P) | _PAGE_GNTTAB), -XEN_EINVAL);
    ck_assert_int_eq(set_entry(L1A, 9, pte(B(20), P) | _PAGE_GNTTAB), -XEN_EINVAL);
    ASSERT_GRANTS();
    /* Mapping over a grant entry replaces it; the old handle still holds. */
    ck_assert_int_eq(map(14, GNTMAP_host_map | GNTMAP_readonly, VA(10), NULL), GNTST_okay);
    ck_assert_int_eq(map(14, GNTMAP_host_map | GNTMAP_readonly, VA(10), NULL), GNTST_okay);
    ASSERT_PG(A(9), 4, PGT_writable, 1);
    ASSERT_GRANTS();
}
END_TEST

START_TEST(map_refusals_leave_nothing_behind)
{
    grant(20, 2, A(10), GTF_permit_access);
    struct {
        domid_t dom;
        uint32_t ref, flags;
        uint64_t addr;
        int16_t want;
    } cases[] = {
        { 1, 20, 0, VA(1), GNTST_bad_gntref },                          /* no host/device map */
        { 1, 20, GNTMAP_device_map, VA(1), GNTST_general_error },       /* device only */
        { 7, 20, GNTMAP_host_map, VA(1), GNTST_bad_domain },
        { DOMID_SELF, 20, GNTMAP_host_map, VA(1), GNTST_bad_domain },  /* Xen: by id only */
        { 1, 1024, GNTMAP_host_map, VA(1), GNTST_bad_gntref },          /* two frames: 0..1023 */
        { 1, 0xffffffffu, GNTMAP_host_map, VA(1), GNTST_bad_gntref },
        { 1, 20, GNTMAP_host_map, VA(1024 + 3), GNTST_general_error },  /* L2 slot 2: no L1 */
        { 1, 20, GNTMAP_host_map, 0xffff800000001000ull, GNTST_general_error },
        { 1, 20, GNTMAP_host_map, 0x0000800000000000ull, GNTST_general_error },
    };
    for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
        uint64_t before = *slot_of(1);
        ck_assert_msg(map_as(d2, cases[i].dom, cases[i].ref, cases[i].flags, cases[i].addr, NULL) ==
                          cases[i].want,
                      "case %u", i);
        ck_assert_uint_eq(*slot_of(1), before);
        ck_assert_uint_eq(gent(d1, 20)->flags, GTF_permit_access);
        ck_assert_uint_eq(handles_in_use(d2), 0);
        ASSERT_ALLOC_ONLY(A(10));
        ASSERT_GRANTS();
    }
    /* The shared entry: type, grantee, sub_page, readonly. */
    struct {
        domid_t to;
        uint32_t frame;
        uint16_t flags;
        uint32_t map;
        int16_t want;
    } ents[] = {
        { 2, 0, GTF_invalid, GNTMAP_host_map, GNTST_general_error },
        { 2, 0, GTF_accept_transfer, GNTMAP_host_map, GNTST_general_error },
        { 2, 0, GTF_transitive, GNTMAP_host_map, GNTST_general_error },
        { 3, 0, GTF_permit_access, GNTMAP_host_map, GNTST_general_error },
        { 2, 0, GTF_permit_access | GTF_sub_page, GNTMAP_host_map, GNTST_general_error },
        { 2, 0, GTF_permit_access | GTF_readonly, GNTMAP_host_map, GNTST_general_error },
        /* The frame must be the granter's. */
        { 2, 1, GTF_permit_access, GNTMAP_host_map, GNTST_bad_page },
        { 2, 2, GTF_permit_access, GNTMAP_host_map, GNTST_bad_page },
        { 2, 3, GTF_permit_access, GNTMAP_host_map | GNTMAP_readonly, GNTST_bad_page },
        { 2, 4, GTF_permit_access, GNTMAP_host_map, GNTST_bad_page },
    };
    mfn_t frames[] = { A(10), B(20), 3 /* hypervisor's */, (mfn_t)max_mfn + 5, d2->shared_info_mfn };
    for (unsigned i = 0; i < ARRAY_SIZE(ents); i++) {
        grant(21, ents[i].to, frames[ents[i].frame], ents[i].flags);
        ck_assert_msg(map(21, ents[i].map, VA(1), NULL) == ents[i].want, "entry case %u", i);
        ck_assert_msg(gent(d1, 21)->flags == ents[i].flags, "entry case %u: flags %#x", i,
                      gent(d1, 21)->flags);
        ck_assert_uint_eq(handles_in_use(d2), 0);
        ASSERT_GRANTS();
    }
    ASSERT_PG(B(17), 2, PGT_writable, 1);   /* slot 1's own mapping, untouched */
}
END_TEST

START_TEST(revoke_while_mapped)
{
    grant(30, 2, A(11), GTF_permit_access);
    uint32_t h;
    ck_assert_int_eq(map(30, GNTMAP_host_map | GNTMAP_readonly, VA(8), &h), GNTST_okay);
    /* The granter revokes as Linux does: compare-exchange flags to 0, which
     * fails while the hypervisor's reading bit is there. */
    uint16_t expect = GTF_permit_access;
    ck_assert(!__atomic_compare_exchange_n(&gent(d1, 30)->flags, &expect, 0, false, __ATOMIC_SEQ_CST,
                                           __ATOMIC_SEQ_CST));
    ck_assert_uint_eq(expect, GTF_permit_access | GTF_reading);
    ck_assert_int_eq(unmap(h, VA(8)), GNTST_okay);
    expect = GTF_permit_access;
    ck_assert(__atomic_compare_exchange_n(&gent(d1, 30)->flags, &expect, 0, false, __ATOMIC_SEQ_CST,
                                          __ATOMIC_SEQ_CST));
    /* A revoked grant cannot be mapped or copied. */
    ck_assert_int_eq(map(30, GNTMAP_host_map | GNTMAP_readonly, VA(8), NULL), GNTST_general_error);
    struct gnttab_copy c = { .source = { .u.ref = 30, .domid = 1 }, .dest = { .u.gmfn = B(20), .domid = DOMID_SELF },
                             .len = 8, .flags = GNTCOPY_source_gref };
    ck_assert_int_eq(copy_as(d2, c), GNTST_general_error);
    ck_assert_uint_eq(gent(d1, 30)->flags, 0);
    ASSERT_GRANTS();
    /* A granter that tampers with a pinned entry changes nothing the
     * mapping relies on: the frame stays the one pinned first. */
    grant(31, 2, A(12), GTF_permit_access);
    ck_assert_int_eq(map(31, GNTMAP_host_map | GNTMAP_readonly, VA(8), &h), GNTST_okay);
    grant(31, 2, A(13), GTF_permit_access);    /* flags rewritten without reading */
    uint32_t h2;
    ck_assert_int_eq(map(31, GNTMAP_host_map | GNTMAP_readonly, VA(9), &h2), GNTST_okay);
    ck_assert_uint_eq(pte_mfn(*slot_of(9)), A(12));
    ck_assert_int_eq(unmap(h, VA(8)), GNTST_okay);
    ck_assert_int_eq(unmap(h2, VA(9)), GNTST_okay);
    ASSERT_ALLOC_ONLY(A(12));
    ASSERT_ALLOC_ONLY(A(13));
    ASSERT_AUDIT();
}
END_TEST

START_TEST(readonly_grant_never_writable)
{
    grant(40, 2, A(14), GTF_permit_access | GTF_readonly);
    ck_assert_int_eq(map(40, GNTMAP_host_map, VA(11), NULL), GNTST_general_error);
    ck_assert_int_eq(map(40, GNTMAP_host_map | GNTMAP_contains_pte, pte_addr(11), NULL), GNTST_general_error);
    uint32_t h;
    ck_assert_int_eq(map(40, GNTMAP_host_map | GNTMAP_readonly, VA(11), &h), GNTST_okay);
    ck_assert_uint_eq(*slot_of(11) & RW, 0);
    ASSERT_PG(A(14), 2, PGT_none, 0);
    /* Upgrading a read-only pin to writable is refused too. */
    ck_assert_int_eq(map(40, GNTMAP_host_map, VA(12), NULL), GNTST_general_error);
    ck_assert_uint_eq(gent(d1, 40)->flags, GTF_permit_access | GTF_readonly | GTF_reading);
    /* Nor can the mapping domain make the grant entry writable itself. */
    as(d2);
    ck_assert_int_eq(set_entry(L1A, 11, *slot_of(11) | RW), -XEN_EINVAL);
    ck_assert_uint_eq(*slot_of(11) & RW, 0);
    ck_assert_int_eq(unmap(h, VA(11)), GNTST_okay);
    ASSERT_GRANTS();
}
END_TEST

START_TEST(mapped_frame_not_retyped_or_freed)
{
    as(d1);
    grant(50, 2, A(15), GTF_permit_access);
    grant(51, 2, A(16), GTF_permit_access);
    tab(A(16))[0] = 0;
    uint32_t hw, hr;
    ck_assert_int_eq(map(50, GNTMAP_host_map, VA(13), &hw), GNTST_okay);
    /* Writably mapped: the granter cannot make it a page table. */
    as(d1);
    ck_assert_int_eq(mmuext(MMUEXT_PIN_L1_TABLE, A(15)), -XEN_EINVAL);
    ASSERT_PG(A(15), 2, PGT_writable, 1);
    /* Read-only mapped: it may (Xen allows read-only views of page
     * tables), and then no writable mapping of it is possible. */
    ck_assert_int_eq(map(51, GNTMAP_host_map | GNTMAP_readonly, VA(14), &hr), GNTST_okay);
    as(d1);
    ck_assert_int_eq(mmuext(MMUEXT_PIN_L1_TABLE, A(16)), 0);
    ck_assert_int_eq(map(51, GNTMAP_host_map, VA(15), NULL), GNTST_general_error);
    ck_assert_uint_eq(gent(d1, 51)->flags, GTF_permit_access | GTF_reading);
    ASSERT_GRANTS();
    /* A page table granted writable cannot be mapped writable, only read. */
    grant(52, 2, A(16), GTF_permit_access);
    ck_assert_int_eq(map(52, GNTMAP_host_map, VA(15), NULL), GNTST_general_error);
    ck_assert_uint_eq(gent(d1, 52)->flags, GTF_permit_access);
    ASSERT_GRANTS();
    /* The granter balloons the mapped frame out: it leaves the domain but
     * stays allocated until the last unmap. */
    as(d1);
    uint64_t list = harness_guest_alloc(8), arg = harness_guest_alloc(sizeof(struct xen_memory_reservation));
    *(uint64_t *)harness_guest_ptr(list) = A(15);
    *(struct xen_memory_reservation *)harness_guest_ptr(arg) =
        (struct xen_memory_reservation){ .extent_start = list, .nr_extents = 1, .domid = DOMID_SELF };
    unsigned long free0 = harness_free_frames();
    ck_assert_int_eq(do_memory_op(XENMEM_decrease_reservation, arg), 1);
    ck_assert_uint_eq(harness_free_frames(), free0);
    ASSERT_PG(A(15), 1, PGT_writable, 1);
    ASSERT_GRANTS();
    /* A second mapping of the pinned ref needs a reference it cannot get. */
    ck_assert_int_eq(map(50, GNTMAP_host_map, VA(15), NULL), GNTST_general_error);
    ck_assert_int_eq(unmap(hw, VA(13)), GNTST_okay);
    ck_assert_uint_eq(harness_free_frames(), free0 + 1);
    ck_assert_uint_eq(pg(A(15))->owner, DOMID_INVALID);
    ck_assert_int_eq(unmap(hr, VA(14)), GNTST_okay);
    ASSERT_GRANTS();
}
END_TEST

START_TEST(pin_count_limit)
{
    grant(60, 2, A(17), GTF_permit_access);
    uint32_t h;
    for (unsigned i = 0; i < GRANT_PIN_MAX; i++)
        FAST_ASSERT(map(60, GNTMAP_host_map | GNTMAP_readonly, VA(16 + i % 8), &h) == GNTST_okay);
    ck_assert_int_eq(map(60, GNTMAP_host_map | GNTMAP_readonly, VA(30), NULL), GNTST_general_error);
    ck_assert_int_eq(map(60, GNTMAP_host_map, VA(30), &h), GNTST_okay);   /* other counter */
    ck_assert_uint_eq(handles_in_use(d2), GRANT_PIN_MAX + 1);
    ASSERT_GRANTS();
    /* The mapping domain dies: every pin and reference goes. */
    d2->is_dying = true;
    gnttab_destroy(d2);
    ck_assert_uint_eq(gent(d1, 60)->flags, GTF_permit_access);
    ck_assert_uint_eq(d1->gnttab_active[0][60].ro + d1->gnttab_active[0][60].rw, 0);
    ASSERT_ALLOC_ONLY(A(17));
    ck_assert_ptr_null(d2->maptrack);
    /* Its page tables still hold grant entries: tearing them down releases
     * nothing more. */
    drop_d2_tables();
    ASSERT_AUDIT();
    ASSERT_ALLOC_ONLY(A(17));
    ASSERT_ALLOC_ONLY(L1A);
    ASSERT_ALLOC_ONLY(L1B);
}
END_TEST

START_TEST(mapping_domain_death_releases_everything)
{
    grant(70, 2, A(18), GTF_permit_access);
    grant(71, 2, A(19), GTF_permit_access | GTF_readonly);
    ck_assert_int_eq(map(70, GNTMAP_host_map, VA(1), NULL), GNTST_okay);
    ck_assert_int_eq(map(70, GNTMAP_host_map | GNTMAP_readonly, VA(2), NULL), GNTST_okay);
    ck_assert_int_eq(map(71, GNTMAP_host_map | GNTMAP_readonly | GNTMAP_contains_pte, pte_addr(600), NULL),
                     GNTST_okay);
    /* d2 also maps one of its own grants (allowed, as in Xen). */
    struct grant_entry_v1 *own = gent(d2, 5);
    *own = (struct grant_entry_v1){ .flags = GTF_permit_access, .domid = 2, .frame = (uint32_t)B(10) };
    ck_assert_int_eq(map_as(d2, 2, 5, GNTMAP_host_map, VA(3), NULL), GNTST_okay);
    ASSERT_PG(B(10), 2, PGT_writable, 1);
    ASSERT_GRANTS();
    unsigned long free0 = harness_free_frames();
    d2->is_dying = true;
    gnttab_destroy(d2);
    ck_assert_uint_eq(gent(d1, 70)->flags, GTF_permit_access);
    ck_assert_uint_eq(gent(d1, 71)->flags, GTF_permit_access | GTF_readonly);
    ASSERT_ALLOC_ONLY(A(18));
    ASSERT_ALLOC_ONLY(A(19));
    ASSERT_ALLOC_ONLY(B(10));
    /* Table, active and maptrack pages all returned (d2: 1 + 1 + 2). */
    ck_assert_uint_eq(harness_free_frames(), free0 + 4);
    drop_d2_tables();
    ASSERT_AUDIT();
    for (unsigned i = 0; i < NR_B; i++)
        ASSERT_ALLOC_ONLY(B(i));
}
END_TEST

/* d1 goes the way domain_destroy takes it (after gnttab_destroy, its frames
 * lose their pins and their allocation reference); the struct is set aside
 * so that id 1 can be reused. */
static struct domain *graveyard;
static void destroy_d1(void)
{
    d1->is_dying = true;
    gnttab_destroy(d1);
    for (uint32_t m = d1->page_list_head; m != ~0u;) {
        struct page_info *p = pg(m);
        if (p->flags & PGF_pinned) {
            p->flags &= ~PGF_pinned;
            pv_put_page_type(p);
            pv_put_page(p);
        }
        m = p->next;
    }
    for (uint32_t m = d1->page_list_head; m != ~0u;) {
        struct page_info *p = pg(m);
        m = p->next;
        p->next = ~0u;
        p->owner = DOMID_XEN;
        p->flags &= ~PGF_allocated;
        pv_put_page(p);
    }
    struct page_info *sp = pg(d1->shared_info_mfn);
    sp->flags &= ~PGF_xen_heap;
    sp->owner = DOMID_XEN;
    if (sp->count == 0)
        free_xen_pages(d1->shared_info, 1);
    graveyard = d1;
    domain_list[1] = NULL;
}
static void bury(void)
{
    if (graveyard) {
        free(graveyard->vcpus[0]);
        free(graveyard);
        graveyard = NULL;
    }
}

START_TEST(granter_death_keeps_mapped_frames_until_unmap)
{
    grant(80, 2, A(20), GTF_permit_access);
    grant(81, 2, A(21), GTF_permit_access);
    harness_frame(A(20))[1] = 0xfeed;
    uint32_t h80, h81;
    ck_assert_int_eq(map(80, GNTMAP_host_map, VA(4), &h80), GNTST_okay);
    ck_assert_int_eq(map(81, GNTMAP_host_map | GNTMAP_readonly, VA(5), &h81), GNTST_okay);
    mfn_t table = d1->gnttab_frames[1];
    unsigned long free0 = harness_free_frames();
    destroy_d1();
    /* Freed: all its frames but A(20) and A(21), both table frames, both
     * active pages and shared_info. */
    ck_assert_uint_eq(harness_free_frames(), free0 + (NR_A - 2) + 2 + 2 + 1);
    ck_assert_uint_eq(pg(table)->owner, DOMID_INVALID);
    ASSERT_PG(A(20), 1, PGT_writable, 1);
    ASSERT_PG(A(21), 1, PGT_none, 0);
    ck_assert_uint_eq(pg(A(20))->owner, DOMID_XEN);
    ck_assert_uint_eq(harness_frame(A(20))[1], 0xfeed);
    ck_assert(maptrack_entry(d2, h80)->flags & MT_ORPHAN);
    ASSERT_AUDIT();
    /* A new domain 1 reuses the id: the old mappings do not touch it. */
    mfn_t nb;
    d1 = harness_domain_create(1, false, 4, &nb);
    ck_assert_int_eq(setup_frames(d1, 1), GNTST_okay);
    gent(d1, 80)->flags = GTF_permit_access;
    gent(d1, 80)->domid = 2;
    gent(d1, 80)->frame = (uint32_t)nb;
    ck_assert_int_eq(map(80, GNTMAP_host_map, VA(6), NULL), GNTST_okay);
    unsigned long free1 = harness_free_frames();
    ck_assert_int_eq(unmap(h80, VA(4)), GNTST_okay);
    ck_assert_int_eq(unmap(h81, VA(5)), GNTST_okay);
    ck_assert_uint_eq(harness_free_frames(), free1 + 2);   /* the last unmaps free them */
    ck_assert_uint_eq(d1->gnttab_active[0][80].rw, 1);
    ck_assert_uint_eq(gent(d1, 80)->flags, GTF_permit_access | GTF_reading | GTF_writing);
    ASSERT_GRANTS();
    bury();
}
END_TEST

START_TEST(unmap_and_replace_moves_an_entry)
{
    grant(90, 2, A(22), GTF_permit_access);
    uint32_t h;
    ck_assert_int_eq(map(90, GNTMAP_host_map, VA(3), &h), GNTST_okay);
    uint64_t moved = *slot_of(4);
    as(d2);
    struct gnttab_unmap_and_replace op = { .host_addr = VA(3), .new_addr = VA(3), .handle = h };
    ck_assert_int_eq(gnttab_op(GNTTABOP_unmap_and_replace, &op, sizeof(op), 1), 0);
    ck_assert_int_eq(op.status, GNTST_general_error);     /* same slot */
    op.new_addr = VA(1024 + 1);
    ck_assert_int_eq(gnttab_op(GNTTABOP_unmap_and_replace, &op, sizeof(op), 1), 0);
    ck_assert_int_eq(op.status, GNTST_general_error);     /* nothing maps new_addr's L1 */
    op.new_addr = VA(4);
    ck_assert_int_eq(gnttab_op(GNTTABOP_unmap_and_replace, &op, sizeof(op), 1), 0);
    ck_assert_int_eq(op.status, GNTST_okay);
    ck_assert_uint_eq(*slot_of(3), moved);
    ck_assert_uint_eq(*slot_of(4), 0);
    ASSERT_ALLOC_ONLY(A(22));
    ASSERT_GRANTS();
    ck_assert_int_eq(gnttab_op(GNTTABOP_unmap_and_replace, &op, sizeof(op), 1), 0);
    ck_assert_int_eq(op.status, GNTST_bad_handle);
}
END_TEST

/* ---- copy ---- */

static struct gnttab_copy cp(uint64_t src, domid_t sdom, uint16_t soff, uint64_t dst, domid_t ddom,
                             uint16_t doff, uint16_t len, uint16_t flags)
{
    struct gnttab_copy c = { .len = len, .flags = flags };
    c.source.domid = sdom;
    c.source.offset = soff;
    c.dest.domid = ddom;
    c.dest.offset = doff;
    if (flags & GNTCOPY_source_gref)
        c.source.u.ref = (uint32_t)src;
    else
        c.source.u.gmfn = src;
    if (flags & GNTCOPY_dest_gref)
        c.dest.u.ref = (uint32_t)dst;
    else
        c.dest.u.gmfn = dst;
    return c;
}

START_TEST(copy_all_directions)
{
    grant(100, 2, A(23), GTF_permit_access);
    grant(101, 2, A(24), GTF_permit_access);
    grant(102, 2, A(25), GTF_permit_access | GTF_readonly);
    uint8_t *a23 = (uint8_t *)harness_frame(A(23)), *a24 = (uint8_t *)harness_frame(A(24));
    uint8_t *b10 = (uint8_t *)harness_frame(B(10)), *b11 = (uint8_t *)harness_frame(B(11));
    for (unsigned i = 0; i < PAGE_SIZE; i++)
        a23[i] = (uint8_t)(i * 7 + 1);
    /* grant -> own frame */
    ck_assert_int_eq(copy_as(d2, cp(100, 1, 100, B(10), DOMID_SELF, 200, 300, GNTCOPY_source_gref)), GNTST_okay);
    ck_assert_mem_eq(b10 + 200, a23 + 100, 300);
    ck_assert_uint_eq(b10[199], 0);
    ck_assert_uint_eq(b10[500], 0);
    /* own frame -> grant */
    ck_assert_int_eq(copy_as(d2, cp(B(10), DOMID_SELF, 200, 101, 1, 4000, 96, GNTCOPY_dest_gref)), GNTST_okay);
    ck_assert_mem_eq(a24 + 4000, a23 + 100, 96);
    /* grant -> grant (the same domain's), whole page */
    ck_assert_int_eq(copy_as(d2, cp(100, 1, 0, 101, 1, 0, PAGE_SIZE, GNTCOPY_source_gref | GNTCOPY_dest_gref)),
                     GNTST_okay);
    ck_assert_mem_eq(a24, a23, PAGE_SIZE);
    /* own -> own; a read-only grant is a fine source */
    ck_assert_int_eq(copy_as(d2, cp(B(10), DOMID_SELF, 0, B(11), DOMID_SELF, 8, 16, 0)), GNTST_okay);
    ck_assert_mem_eq(b11 + 8, b10, 16);
    ck_assert_int_eq(copy_as(d2, cp(102, 1, 0, B(11), DOMID_SELF, 0, 8, GNTCOPY_source_gref)), GNTST_okay);
    /* Overlap within one frame behaves as memmove. */
    memcpy(b11, "abcdefgh", 8);
    ck_assert_int_eq(copy_as(d2, cp(B(11), DOMID_SELF, 0, B(11), DOMID_SELF, 2, 6, 0)), GNTST_okay);
    ck_assert_mem_eq(b11, "ababcdef", 8);
    /* Temporary pins only: nothing left behind. */
    for (uint32_t r = 100; r <= 102; r++)
        ck_assert_uint_eq(gent(d1, r)->flags & (GTF_reading | GTF_writing), 0);
    ASSERT_ALLOC_ONLY(A(23));
    ASSERT_ALLOC_ONLY(B(10));
    ASSERT_GRANTS();
}
END_TEST

START_TEST(copy_refusals)
{
    grant(110, 2, A(26), GTF_permit_access);
    grant(111, 2, A(27), GTF_permit_access | GTF_readonly);
    grant(112, 3, A(28), GTF_permit_access);
    as(d2);
    tab(B(12))[0] = 0;
    ck_assert_int_eq(mmuext(MMUEXT_PIN_L1_TABLE, B(12)), 0);
    memset(harness_frame(A(27)), 0x5a, PAGE_SIZE);
    struct {
        struct gnttab_copy c;
        int16_t want;
    } cases[] = {
        { cp(110, 1, 4000, B(10), DOMID_SELF, 0, 97, GNTCOPY_source_gref), GNTST_bad_copy_arg },
        { cp(110, 1, 0, B(10), DOMID_SELF, 4096, 1, GNTCOPY_source_gref), GNTST_bad_copy_arg },
        { cp(110, 1, 0, B(10), DOMID_SELF, 1, 4096, GNTCOPY_source_gref), GNTST_bad_copy_arg },
        { cp(110, 1, 65535, B(10), DOMID_SELF, 0, 65535, GNTCOPY_source_gref), GNTST_bad_copy_arg },
        { cp(B(10), DOMID_SELF, 0, 111, 1, 0, 8, GNTCOPY_dest_gref), GNTST_general_error },   /* RO grant */
        { cp(B(10), DOMID_SELF, 0, 112, 1, 0, 8, GNTCOPY_dest_gref), GNTST_general_error },   /* not to d2 */
        { cp(110, 1, 0, B(10), 2, 0, 8, GNTCOPY_source_gref), GNTST_permission_denied },     /* frame: SELF only */
        { cp(A(26), 1, 0, B(10), DOMID_SELF, 0, 8, 0), GNTST_permission_denied },
        { cp(A(26), DOMID_SELF, 0, B(10), DOMID_SELF, 0, 8, 0), GNTST_bad_page },            /* not d2's */
        { cp(3, DOMID_SELF, 0, B(10), DOMID_SELF, 0, 8, 0), GNTST_bad_page },
        { cp((uint64_t)max_mfn + 1, DOMID_SELF, 0, B(10), DOMID_SELF, 0, 8, 0), GNTST_bad_page },
        { cp(1ull << 40, DOMID_SELF, 0, B(10), DOMID_SELF, 0, 8, 0), GNTST_bad_page },
        { cp(110, 9, 0, B(10), DOMID_SELF, 0, 8, GNTCOPY_source_gref), GNTST_bad_domain },
        { cp(5000, 1, 0, B(10), DOMID_SELF, 0, 8, GNTCOPY_source_gref), GNTST_bad_gntref },
        { cp(110, 1, 0, B(12), DOMID_SELF, 0, 8, GNTCOPY_source_gref), GNTST_general_error }, /* own page table */
        { cp(110, 1, 0, d2->gnttab_frames[0], DOMID_SELF, 0, 8, GNTCOPY_source_gref), GNTST_okay },
    };
    for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
        ck_assert_msg(copy_as(d2, cases[i].c) == cases[i].want, "case %u", i);
        for (uint32_t r = 110; r <= 112; r++)
            ck_assert_msg(!(gent(d1, r)->flags & (GTF_reading | GTF_writing)), "case %u ref %u", i, r);
        ASSERT_GRANTS();
    }
    /* A read-only destination is never written. */
    ck_assert_uint_eq(((uint8_t *)harness_frame(A(27)))[0], 0x5a);
    /* The own page table can be read. */
    ck_assert_int_eq(copy_as(d2, cp(B(12), DOMID_SELF, 0, B(10), DOMID_SELF, 0, 8, 0)), GNTST_okay);
    /* A batch: statuses per op, 0 for the call. */
    struct gnttab_copy batch[3] = {
        cp(110, 1, 0, B(10), DOMID_SELF, 0, 8, GNTCOPY_source_gref),
        cp(B(10), DOMID_SELF, 0, 111, 1, 0, 8, GNTCOPY_dest_gref),
        cp(110, 1, 0, B(11), DOMID_SELF, 0, 0, GNTCOPY_source_gref),
    };
    ck_assert_int_eq(gnttab_op(GNTTABOP_copy, batch, sizeof(batch[0]), 3), 0);
    ck_assert_int_eq(batch[0].status, GNTST_okay);
    ck_assert_int_eq(batch[1].status, GNTST_general_error);
    ck_assert_int_eq(batch[2].status, GNTST_okay);
    ASSERT_GRANTS();
}
END_TEST

START_TEST(hypercall_level_errors_and_continuation)
{
    as(d2);
    ck_assert_int_eq(do_grant_table_op(GNTTABOP_map_grant_ref, 0x1000, 1), -XEN_EFAULT);
    ck_assert_int_eq(do_grant_table_op(GNTTABOP_copy, 0xffff800000000000ull, 1), -XEN_EFAULT);
    ck_assert_int_eq(do_grant_table_op(GNTTABOP_unmap_grant_ref, ARG_GVA, 0x80000000ull), -XEN_EINVAL);
    ck_assert_int_eq(do_grant_table_op(GNTTABOP_copy, ARG_GVA, 0), 0);
    ck_assert_int_eq(do_grant_table_op(GNTTABOP_transfer, ARG_GVA, 1), -XEN_ENOSYS);
    /* 600 zero-length copies: 512 now, then the call re-runs for the rest. */
    uint64_t ops = harness_guest_alloc(600 * sizeof(struct gnttab_copy));
    struct gnttab_copy *c = harness_guest_ptr(ops);
    for (unsigned i = 0; i < 600; i++) {
        c[i] = cp(B(20), DOMID_SELF, 0, B(21), DOMID_SELF, 0, 0, 0);
        c[i].status = 99;
    }
    struct cpu_regs *regs = harness_regs();
    regs->rax = __HYPERVISOR_grant_table_op;
    regs->rip = 0x1002;
    ck_assert_int_eq(do_grant_table_op(GNTTABOP_copy, ops, 600), __HYPERVISOR_grant_table_op);
    ck_assert_uint_eq(regs->rip, 0x1000);
    ck_assert_uint_eq(regs->rsi, ops + 512 * sizeof(struct gnttab_copy));
    ck_assert_uint_eq(regs->rdx, 88);
    ck_assert_int_eq(c[511].status, GNTST_okay);
    ck_assert_int_eq(c[512].status, 99);
    ck_assert_int_eq(do_grant_table_op(GNTTABOP_copy, regs->rsi, regs->rdx), 0);
    ck_assert_int_eq(c[599].status, GNTST_okay);
    /* Inside a multicall there is no continuation. */
    harness_in_multicall = true;
    ck_assert_int_eq(do_grant_table_op(GNTTABOP_copy, ops, 600), -XEN_EINVAL);
    harness_in_multicall = false;
}
END_TEST

/* ---- seeded random operations ---- */


#define NR_REFS 24
#define NR_SLOTS 24              /* VA(k) and B(4)'s slots */
struct live {
    uint32_t h;
    unsigned k;                  /* slot */
    bool by_pte;
};
static struct live lives[512];
static unsigned nr_lives;

static mfn_t rnd_granted_frame(void)
{
    unsigned c = below(100);
    if (c < 85)
        return A(below(8));
    if (c < 90)
        return A(8 + below(2));  /* d1's page tables, see below */
    if (c < 95)
        return B(16 + below(8));
    return c < 98 ? d1->shared_info_mfn : (mfn_t)below(HARNESS_FIRST_FREE);
}

static unsigned rnd_slot(void) { return chance(50) ? below(NR_SLOTS) : 512 + below(NR_SLOTS); }

static const char *random_step(void)
{
    unsigned c = below(100);
    if (c < 12) {
        /* The granter writes or revokes an entry (revoking only if idle). */
        uint32_t ref = below(NR_REFS);
        struct grant_entry_v1 *e = gent(d1, ref);
        if (chance(30)) {
            uint16_t cur = e->flags & ~(GTF_reading | GTF_writing);
            __atomic_compare_exchange_n(&e->flags, &cur, 0, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
            return "revoke";
        }
        if (e->flags & (GTF_reading | GTF_writing))
            return "busy entry";
        e->domid = chance(90) ? 2 : 3;
        e->frame = (uint32_t)rnd_granted_frame();
        e->flags = (uint16_t)(GTF_permit_access | (chance(30) ? GTF_readonly : 0));
        return "grant";
    }
    if (c < 16) {
        as(d1);
        mfn_t t = A(8 + below(2));
        if (pg(t)->flags & PGF_pinned)
            mmuext(MMUEXT_UNPIN_TABLE, t);
        else
            mmuext(MMUEXT_PIN_L1_TABLE, t);
        return "granter pins/unpins";
    }
    if (c < 50) {
        uint32_t flags = GNTMAP_host_map | (chance(40) ? GNTMAP_readonly : 0) |
                         (chance(10) ? GNTMAP_application_map : 0) | (chance(3) ? GNTMAP_device_map : 0);
        bool by_pte = chance(30);
        unsigned k = rnd_slot();
        uint32_t h;
        if (by_pte)
            flags |= GNTMAP_contains_pte;
        if (chance(3))
            flags = chance(50) ? 0 : GNTMAP_device_map;
        int16_t st = map(below(NR_REFS + 2), flags, by_pte ? pte_addr(k) : VA(k), &h);
        if (st == GNTST_okay && nr_lives < ARRAY_SIZE(lives))
            lives[nr_lives++] = (struct live){ h, k, by_pte };
        return "map";
    }
    if (c < 75 && nr_lives) {
        unsigned i = below(nr_lives);
        struct live l = lives[i];
        uint64_t addr = l.by_pte ? pte_addr(l.k) : VA(l.k);
        if (chance(15))
            addr = chance(50) ? VA(rnd_slot()) : pte_addr(rnd_slot());
        int16_t st = chance(10) ? unmap(l.h + below(3), addr) : unmap(l.h, addr);
        if (st == GNTST_okay || maptrack_entry(d2, l.h)->flags == 0)
            lives[i] = lives[--nr_lives];
        return "unmap";
    }
    if (c < 85) {
        uint16_t flags = (uint16_t)below(4);
        uint64_t s = flags & GNTCOPY_source_gref ? below(NR_REFS) : B(16 + below(10));
        uint64_t d = flags & GNTCOPY_dest_gref ? below(NR_REFS) : B(16 + below(10));
        uint16_t len = (uint16_t)(chance(80) ? below(64) : below(5000));
        copy_as(d2, cp(s, flags & 1 ? 1 : DOMID_SELF, (uint16_t)below(4096), d, flags & 2 ? 1 : DOMID_SELF,
                       (uint16_t)below(4096), len, flags));
        return "copy";
    }
    if (c < 93) {
        /* The mapping domain overwrites a slot: nothing or an own frame. */
        as(d2);
        unsigned k = rnd_slot();
        set_entry(k < 512 ? L1A : L1B, k % 512, chance(50) ? 0 : pte(B(16 + below(8)), P | (chance(50) ? RW : 0)));
        return "overwrite slot";
    }
    as(d2);
    struct gnttab_unmap_and_replace op = { .host_addr = VA(rnd_slot()), .new_addr = chance(50) ? VA(rnd_slot()) : 0,
                                           .handle = nr_lives ? lives[below(nr_lives)].h : 0 };
    gnttab_op(GNTTABOP_unmap_and_replace, &op, sizeof(op), 1);
    for (unsigned i = 0; i < nr_lives;)
        if (!maptrack_entry(d2, lives[i].h)->flags)
            lives[i] = lives[--nr_lives];
        else
            i++;
    return "unmap_and_replace";
}

START_TEST(random_operations_keep_invariants)
{
    rng = 0x2545f4914f6cdd1dull * (uint64_t)(_i + 1);
    nr_lives = 0;
    tab(A(8))[0] = 0;
    tab(A(9))[0] = 0;
    unsigned mapped_steps = 0;
    for (unsigned step = 0; step < 2500; step++) {
        const char *what = random_step();
        const char *why = harness_audit();
        FAST_ASSERT_MSG(why == NULL, "seed %d step %u (%s): %s", _i, step, what, why);
        why = grant_audit();
        FAST_ASSERT_MSG(why == NULL, "seed %d step %u (%s): grant audit: %s", _i, step, what, why);
        mapped_steps += handles_in_use(d2) > 0;
    }
    ck_assert_uint_gt(mapped_steps, 1000);   /* the sequence did map things */
    /* d2 dies: every grant pin and reference is released. */
    d2->is_dying = true;
    gnttab_destroy(d2);
    drop_d2_tables();
    for (uint32_t r = 0; r < NR_REFS; r++)
        ck_assert_uint_eq(gent(d1, r)->flags & (GTF_reading | GTF_writing), 0);
    as(d1);
    for (unsigned i = 8; i < 10; i++)
        if (pg(A(i))->flags & PGF_pinned)
            ck_assert_int_eq(mmuext(MMUEXT_UNPIN_TABLE, A(i)), 0);
    for (unsigned i = 0; i < NR_A; i++)
        ASSERT_ALLOC_ONLY(A(i));
    ASSERT_AUDIT();
}
END_TEST

static Suite *gnttab_suite(void)
{
    Suite *s = suite_create("gnttab");
    TCase *tc = tcase_create("rules");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, map_rw_and_ro_then_unmap);
    tcase_add_test(tc, map_by_pte_address);
    tcase_add_test(tc, unmap_checks_handle_and_pte);
    tcase_add_test(tc, overwritten_grant_pte_keeps_its_references);
    tcase_add_test(tc, map_refusals_leave_nothing_behind);
    tcase_add_test(tc, revoke_while_mapped);
    tcase_add_test(tc, readonly_grant_never_writable);
    tcase_add_test(tc, mapped_frame_not_retyped_or_freed);
    tcase_add_test(tc, pin_count_limit);
    tcase_add_test(tc, mapping_domain_death_releases_everything);
    tcase_add_test(tc, granter_death_keeps_mapped_frames_until_unmap);
    tcase_add_test(tc, unmap_and_replace_moves_an_entry);
    tcase_add_test(tc, copy_all_directions);
    tcase_add_test(tc, copy_refusals);
    tcase_add_test(tc, hypercall_level_errors_and_continuation);
    suite_add_tcase(s, tc);
    TCase *rnd_tc = tcase_create("random");
    tcase_add_checked_fixture(rnd_tc, setup, teardown);
    tcase_set_timeout(rnd_tc, 120);
    tcase_add_loop_test(rnd_tc, random_operations_keep_invariants, 0, 4);
    suite_add_tcase(s, rnd_tc);
    return s;
}

UNIT_MAIN(gnttab_suite)

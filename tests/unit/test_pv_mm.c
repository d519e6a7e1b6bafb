/* SPDX-License-Identifier: MIT */
/*
 * hv/arch/x86_64/pv/mm.c on the host (behind hv_harness.h): the page-type and
 * reference-count rules of hv/mm.h and xen-pv-abi.md §5, one targeted case
 * per rule, then a seeded random sequence of pin/unpin/mmu_update/
 * new_baseptr/update_va_mapping that re-derives every count from scratch
 * after each step.
 */
#include "unit.h"
#include "hv_harness.h"
#include <public/memory.h>
#include "hv_asserts.h"
#include "rng.h"

#define P   _PAGE_PRESENT
#define RW  _PAGE_RW
#define US  _PAGE_USER
#define NR_FRAMES 64

static struct domain *d1;  /* the unprivileged domain under test */
static struct vcpu *v1;
static mfn_t base1;        /* its frames: base1 .. base1 + NR_FRAMES - 1 */

/* Scratch guest memory for one hypercall's arguments. */
#define ARG_GVA  (HARNESS_GUEST_VA + HARNESS_GUEST_SIZE - 4096)
#define DONE_GVA (HARNESS_GUEST_VA + HARNESS_GUEST_SIZE - 8)

static mfn_t F(unsigned i)
{
    ck_assert_uint_lt(i, NR_FRAMES);
    return base1 + i;
}

static struct page_info *pg(mfn_t m) { return mfn_to_page(m); }

#define ASSERT_DOMAIN_ALLOC_ONLY(d)                                                                \
    do {                                                                                           \
        const char *why_ = harness_alloc_only(d);                                                  \
        ck_assert_msg(why_ == NULL, "%s", why_);                                                   \
    } while (0)

static void setup(void)
{
    harness_reset();
    d1 = harness_domain_create(1, false, NR_FRAMES, &base1);
    v1 = d1->vcpus[0];
    harness_set_current(v1);
}

static void teardown(void) {}

static long mmuext_for(unsigned cmd, uint64_t arg1, uint64_t arg2, uint64_t foreigndom)
{
    struct mmuext_op *op = harness_guest_ptr(ARG_GVA);
    memset(op, 0, sizeof(*op));
    op->cmd = cmd;
    op->arg1.mfn = arg1;
    op->arg2.src_mfn = arg2;
    return do_mmuext_op(ARG_GVA, 1, 0, foreigndom);
}
static long mmuext(unsigned cmd, uint64_t arg1, uint64_t arg2)
{
    return mmuext_for(cmd, arg1, arg2, DOMID_SELF);
}
static long pin(mfn_t m, unsigned level) { return mmuext(MMUEXT_PIN_L1_TABLE + level - 1, m, 0); }
static long unpin(mfn_t m) { return mmuext(MMUEXT_UNPIN_TABLE, m, 0); }
static long baseptr(mfn_t m) { return mmuext(MMUEXT_NEW_BASEPTR, m, 0); }
static long user_baseptr(mfn_t m) { return mmuext(MMUEXT_NEW_USER_BASEPTR, m, 0); }

static long mmu1(uint64_t ptr, uint64_t val)
{
    struct mmu_update *r = harness_guest_ptr(ARG_GVA);
    r->ptr = ptr;
    r->val = val;
    return do_mmu_update(ARG_GVA, 1, 0, DOMID_SELF);
}
/* mmu_update of entry idx of table t. */
static long set_entry(mfn_t t, unsigned idx, uint64_t val)
{
    return mmu1((t << PAGE_SHIFT) + idx * 8 + MMU_NORMAL_PT_UPDATE, val);
}

/* A four-level chain l4[i4] -> l3[i3] -> l2[i2] -> l1 written raw (before
 * any of it is typed). */
static void write_chain(mfn_t l4, unsigned i4, mfn_t l3, unsigned i3, mfn_t l2, unsigned i2,
                        mfn_t l1)
{
    tab(l4)[i4] = pte(l3, P | RW | US);
    tab(l3)[i3] = pte(l2, P | RW | US);
    tab(l2)[i2] = pte(l1, P | RW | US);
}

static uint64_t va_of(unsigned i4, unsigned i3, unsigned i2, unsigned i1)
{
    uint64_t va =
        ((uint64_t)i4 << 39) | ((uint64_t)i3 << 30) | ((uint64_t)i2 << 21) | ((uint64_t)i1 << 12);
    return (uint64_t)((int64_t)(va << 16) >> 16);
}

/* ---- validation takes the right references ---- */

START_TEST(l1_validation_refs)
{
    mfn_t t = F(0), a = F(1), b = F(2);
    tab(t)[0] = pte(a, P);               /* kernel-only read-only */
    tab(t)[1] = pte(b, P | RW);          /* kernel-only writable */
    tab(t)[2] = pte(b, P | RW | US);     /* user writable */
    tab(t)[3] = pte(F(3), RW) | 0x800;   /* not present: stored without checks */
    ck_assert_int_eq(pin(t, 1), 0);
    ASSERT_PG(t, 2, PGT_l1, 1);
    ck_assert_uint_eq(pg(t)->flags, PGF_allocated | PGF_pinned | PGF_validated);
    ASSERT_PG(a, 2, PGT_none, 0);
    ASSERT_PG(b, 3, PGT_writable, 2);
    ASSERT_ALLOC_ONLY(F(3));
    /* §5.2 adjustments: kernel-only entries get US + _PAGE_GUEST_KERNEL. */
    ck_assert_uint_eq(tab(t)[0], pte(a, P | US) | _PAGE_GUEST_KERNEL);
    ck_assert_uint_eq(tab(t)[1], pte(b, P | RW | US) | _PAGE_GUEST_KERNEL);
    ck_assert_uint_eq(tab(t)[2], pte(b, P | RW | US));
    ck_assert_uint_eq(tab(t)[3], pte(F(3), RW) | 0x800);
    ASSERT_AUDIT();
    ck_assert_int_eq(unpin(t), 0);
    ASSERT_DOMAIN_ALLOC_ONLY(d1);
    ASSERT_AUDIT();
}
END_TEST

START_TEST(l4_to_l1_validation_refs)
{
    mfn_t l4 = F(0), l3 = F(1), l2 = F(2), l1 = F(3), data = F(4), ro = F(5);
    tab(l4)[0] = pte(l3, P | RW);
    tab(l4)[511] = pte(l3, P);           /* a second reference to the same L3 */
    tab(l3)[0] = pte(l2, P | RW);
    tab(l2)[0] = pte(l1, P | RW);
    tab(l2)[1] = pte(l1, P);
    tab(l1)[0] = pte(data, P | RW);
    tab(l1)[1] = pte(ro, P);
    ck_assert_int_eq(pin(l4, 4), 0);
    ASSERT_PG(l4, 2, PGT_l4, 1);
    ASSERT_PG(l3, 3, PGT_l3, 2);
    ASSERT_PG(l2, 2, PGT_l2, 1);
    ASSERT_PG(l1, 3, PGT_l1, 2);
    ASSERT_PG(data, 2, PGT_writable, 1);
    ASSERT_PG(ro, 2, PGT_none, 0);
    for (mfn_t m = l3; m <= l1; m++)
        ck_assert_uint_eq(pg(m)->flags, PGF_allocated | PGF_validated);
    ck_assert_uint_eq(hvlog.install_l4_calls, 1);
    for (unsigned s = L4_SLOT_FIRST_HV; s <= L4_SLOT_LAST_HV; s++)
        ck_assert_uint_eq(tab(l4)[s], harness_hv_l4_entry(s));
    ck_assert_uint_eq(tab(l4)[0], pte(l3, P | RW | US | _PAGE_ACCESSED));
    ck_assert_uint_eq(tab(l3)[0], pte(l2, P | RW | US));
    ck_assert_uint_eq(tab(l2)[1], pte(l1, P | US));
    ASSERT_AUDIT();
    ck_assert_int_eq(unpin(l4), 0);
    ASSERT_DOMAIN_ALLOC_ONLY(d1);
    /* Each level can be pinned on its own too. */
    ck_assert_int_eq(pin(l2, 2), 0);
    ASSERT_PG(l2, 2, PGT_l2, 1);
    ASSERT_PG(l1, 3, PGT_l1, 2);
    ck_assert_int_eq(pin(l3, 3), 0);
    ASSERT_PG(l2, 3, PGT_l2, 2);
    ASSERT_AUDIT();
    ck_assert_int_eq(unpin(l2), 0);
    ck_assert_int_eq(unpin(l3), 0);
    ASSERT_DOMAIN_ALLOC_ONLY(d1);
}
END_TEST

/* ---- the _PAGE_RW restriction ---- */

START_TEST(rw_mapping_of_page_table_refused)
{
    mfn_t t = F(0), u = F(1), w = F(2), x = F(3);
    ck_assert_int_eq(pin(t, 1), 0);
    ck_assert_int_eq(pin(u, 1), 0);
    ck_assert_int_eq(set_entry(u, 0, pte(t, P | RW)), -XEN_EINVAL);
    ck_assert_uint_eq(tab(u)[0], 0);
    ASSERT_PG(t, 2, PGT_l1, 1);
    ck_assert_int_eq(set_entry(u, 0, pte(t, P)), 0);         /* read-only is fine */
    ASSERT_PG(t, 3, PGT_l1, 1);
    ck_assert_int_eq(set_entry(u, 1, pte(u, P | RW)), -XEN_EINVAL);  /* itself */
    ck_assert_int_eq(set_entry(u, 1, pte(u, P)), 0);
    /* Validation refuses it the same way. */
    tab(w)[5] = pte(t, P | RW);
    ck_assert_int_eq(pin(w, 1), -XEN_EINVAL);
    ASSERT_ALLOC_ONLY(w);
    ck_assert_uint_eq(pg(w)->flags, PGF_allocated);
    /* Every level, and tables that are validated without being pinned. */
    for (unsigned level = 2; level <= 4; level++) {
        ck_assert_int_eq(pin(x, level), 0);
        ck_assert_int_eq(set_entry(u, 2, pte(x, P | RW)), -XEN_EINVAL);
        ck_assert_int_eq(unpin(x), 0);
    }
    /* Pinned as an L4, x received the hypervisor's slots: start afresh. */
    memset(tab(x), 0, PAGE_SIZE);
    tab(x)[0] = pte(F(4), P);    /* x as L2 -> F(4) as L1 */
    ck_assert_int_eq(pin(x, 2), 0);
    ck_assert_int_eq(set_entry(u, 2, pte(F(4), P | RW)), -XEN_EINVAL);
    ck_assert_uint_eq(tab(u)[2], 0);
    ASSERT_AUDIT();
}
END_TEST

START_TEST(pin_of_writably_mapped_frame_refused)
{
    mfn_t u = F(0), t = F(1), y = F(2);
    ck_assert_int_eq(pin(u, 1), 0);
    ck_assert_int_eq(set_entry(u, 0, pte(t, P | RW)), 0);
    ASSERT_PG(t, 2, PGT_writable, 1);
    for (unsigned level = 1; level <= 4; level++) {
        ck_assert_int_eq(pin(t, level), -XEN_EINVAL);
        ASSERT_PG(t, 2, PGT_writable, 1);
        ck_assert_uint_eq(pg(t)->flags, PGF_allocated);
    }
    ck_assert_int_eq(baseptr(t), -XEN_EINVAL);
    ck_assert_uint_eq(v1->guest_table, 0);
    /* A table whose entry needs t as a page table fails validation. */
    tab(y)[7] = pte(t, P);
    ck_assert_int_eq(pin(y, 2), -XEN_EINVAL);
    ASSERT_ALLOC_ONLY(y);
    ASSERT_PG(t, 2, PGT_writable, 1);
    /* Once the writable mapping goes, t can become a table. */
    ck_assert_int_eq(set_entry(u, 0, 0), 0);
    ASSERT_ALLOC_ONLY(t);
    ck_assert_int_eq(pin(t, 1), 0);
    ck_assert_int_eq(pin(y, 2), 0);
    ASSERT_AUDIT();
}
END_TEST

/* ---- linear page tables (a table reaching itself at another level) ---- */

START_TEST(linear_page_tables_refused)
{
    mfn_t a = F(0), b = F(1), c = F(2), g = F(3), h = F(4), i = F(5);
    for (unsigned level = 2; level <= 4; level++) {
        memset(tab(a), 0, PAGE_SIZE);
        tab(a)[0] = pte(a, P);
        ck_assert_msg(pin(a, level) == -XEN_EINVAL, "L%u pointing at itself", level);
        ASSERT_ALLOC_ONLY(a);
    }
    ck_assert_int_eq(pin(a, 1), 0);       /* an L1 may map itself read-only */
    ASSERT_PG(a, 3, PGT_l1, 1);
    ck_assert_int_eq(unpin(a), 0);
    ASSERT_ALLOC_ONLY(a);

    /* Same level: an L4 entry naming a (pinned) L4, an L3 naming an L3. */
    ck_assert_int_eq(pin(b, 4), 0);
    tab(c)[0] = pte(b, P);
    ck_assert_int_eq(pin(c, 4), -XEN_EINVAL);
    ck_assert_int_eq(set_entry(b, 1, pte(b, P)), -XEN_EINVAL);
    ck_assert_uint_eq(tab(b)[1], 0);
    memset(tab(c), 0, PAGE_SIZE);
    ck_assert_int_eq(pin(c, 3), 0);
    tab(g)[0] = pte(c, P);
    ck_assert_int_eq(pin(g, 3), -XEN_EINVAL);
    ASSERT_PG(c, 2, PGT_l3, 1);
    ck_assert_int_eq(unpin(c), 0);
    ck_assert_int_eq(unpin(b), 0);

    /* A cycle through the levels: g(L4) -> h(L3) -> i(L2) -> g as an L1. */
    memset(tab(g), 0, PAGE_SIZE);
    tab(g)[0] = pte(h, P);
    tab(h)[0] = pte(i, P);
    tab(i)[0] = pte(g, P);
    ck_assert_int_eq(pin(g, 4), -XEN_EINVAL);
    ASSERT_DOMAIN_ALLOC_ONLY(d1);
    /* And through mmu_update on validated tables. */
    tab(i)[0] = 0;
    ck_assert_int_eq(pin(g, 4), 0);
    ck_assert_int_eq(set_entry(i, 0, pte(g, P)), -XEN_EINVAL);
    ck_assert_int_eq(set_entry(i, 0, pte(h, P)), -XEN_EINVAL);
    ck_assert_int_eq(set_entry(h, 1, pte(g, P)), -XEN_EINVAL);
    ASSERT_AUDIT();
    ck_assert_int_eq(unpin(g), 0);
    ASSERT_DOMAIN_ALLOC_ONLY(d1);
}
END_TEST

START_TEST(failed_validation_releases_what_it_took)
{
    /* Good entries first, then one that fails: every reference the good
     * ones took (and the nested validations) must be undone. */
    for (unsigned level = 1; level <= 4; level++) {
        mfn_t t = F(0);
        memset(tab(t), 0, PAGE_SIZE);
        for (unsigned i = 0; i < 6; i++) {
            mfn_t target = F(1 + i % 3);
            memset(tab(target), 0, PAGE_SIZE);
            tab(t)[i * 40] = pte(target, P | (level == 1 ? RW : 0));
        }
        tab(t)[300] = pte(F(1), P | (level == 1 ? RW : 0));
        tab(t)[450] = pte(3, P);     /* a hypervisor frame */
        ck_assert_msg(pin(t, level) == -XEN_EINVAL, "L%u", level);
        ASSERT_DOMAIN_ALLOC_ONLY(d1);
        ASSERT_AUDIT();
        tab(t)[450] = 0;
        ck_assert_msg(pin(t, level) == 0, "L%u", level);
        ck_assert_int_eq(unpin(t), 0);
        ASSERT_DOMAIN_ALLOC_ONLY(d1);
    }
}
END_TEST

/* ---- forbidden bits (§5.2) ---- */

START_TEST(forbidden_bits_refused)
{
    static const uint64_t ln_bad[] = { _PAGE_PSE, _PAGE_PWT, _PAGE_PCD, _PAGE_GLOBAL };
    static const uint64_t l1_bad[] = { _PAGE_PWT, _PAGE_PCD, _PAGE_PAT, _PAGE_GNTTAB };
    const uint64_t fine_high = _PAGE_NX | PTE_AVAIL_HIGH | _PAGE_AVAIL;
    mfn_t tables[5] = { 0, F(0), F(1), F(2), F(3) };
    for (unsigned level = 1; level <= 4; level++)
        ck_assert_int_eq(pin(tables[level], level), 0);
    for (unsigned level = 1; level <= 4; level++) {
        mfn_t t = tables[level], target = F(10 + level);
        const uint64_t *bad = level == 1 ? l1_bad : ln_bad;
        for (unsigned k = 0; k < 4; k++) {
            ck_assert_msg(set_entry(t, 3, pte(target, P | RW) | bad[k]) == -XEN_EINVAL,
                          "L%u bit %#lx accepted", level, (unsigned long)bad[k]);
            ck_assert_uint_eq(tab(t)[3], 0);
            ASSERT_ALLOC_ONLY(target);
            /* ... by validation as well. */
            mfn_t fresh = F(20 + level);
            memset(tab(fresh), 0, PAGE_SIZE);
            tab(fresh)[9] = pte(target, P) | bad[k];
            ck_assert_int_eq(pin(fresh, level), -XEN_EINVAL);
            ASSERT_ALLOC_ONLY(fresh);
        }
        uint64_t ok = pte(target, P | RW | _PAGE_ACCESSED | _PAGE_DIRTY) | fine_high |
                      (level == 1 ? _PAGE_GLOBAL : 0);
        ck_assert_msg(set_entry(t, 3, ok) == 0, "L%u refused allowed bits", level);
        ck_assert_uint_eq(tab(t)[3], ok | US | (level == 1 ? _PAGE_GUEST_KERNEL : 0));
    }
    ASSERT_AUDIT();
}
END_TEST

/* ---- whose frames an entry may name ---- */

static mfn_t a_free_frame(void)
{
    for (mfn_t m = max_mfn; m-- > HARNESS_FIRST_FREE;)
        if (pg(m)->owner == DOMID_INVALID)
            return m;
    ck_abort_msg("no free frame");
}

START_TEST(foreign_and_hypervisor_frames_refused)
{
    mfn_t base2;
    struct domain *d2 = harness_domain_create(2, false, 8, &base2);
    mfn_t u = F(0), x = F(1), hv = 3, freef = a_free_frame();
    ck_assert_int_eq(pin(u, 1), 0);
    ck_assert_int_eq(pin(x, 2), 0);
    const mfn_t refused[] = { base2, hv, freef };
    for (unsigned k = 0; k < ARRAY_SIZE(refused); k++) {
        ck_assert_int_eq(set_entry(u, 0, pte(refused[k], P)), -XEN_EINVAL);
        ck_assert_int_eq(set_entry(u, 0, pte(refused[k], P | RW)), -XEN_EINVAL);
        ck_assert_int_eq(set_entry(x, 0, pte(refused[k], P)), -XEN_EINVAL);
        ck_assert_int_eq(pin(refused[k], 1), -XEN_EINVAL);
        ck_assert_int_eq(baseptr(refused[k]), -XEN_EINVAL);
        /* Nor may d1 update entries in frames it does not own. */
        ck_assert_int_eq(set_entry(refused[k], 0, 0), -XEN_EINVAL);
    }
    ck_assert_uint_eq(pg(base2)->count, 1);
    ck_assert_uint_eq(pg(hv)->count, 0);
    ck_assert_uint_eq(pg(freef)->count, 0);
    /* Beyond RAM: MMIO, which needs I/O privileges (-EPERM). */
    ck_assert_int_eq(set_entry(u, 0, pte(max_mfn, P)), -XEN_EPERM);
    ck_assert_int_eq(set_entry(u, 0, pte(PTE_ADDR_MASK >> PAGE_SHIFT, P)), -XEN_EPERM);
    /* The hypervisor page shared with d1 (shared_info) may be mapped. */
    ck_assert_int_eq(set_entry(u, 1, pte(d1->shared_info_mfn, P | RW)), 0);
    ck_assert_int_eq(set_entry(u, 2, pte(d1->shared_info_mfn, P)), 0);
    ASSERT_PG(d1->shared_info_mfn, 2, PGT_writable, 1);
    ck_assert_int_eq(set_entry(u, 1, pte(d2->shared_info_mfn, P)), -XEN_EINVAL);
    ck_assert_int_eq(set_entry(x, 1, pte(d1->shared_info_mfn, P)), -XEN_EINVAL);
    ASSERT_AUDIT();
    ck_assert_int_eq(set_entry(u, 1, 0), 0);
    ck_assert_int_eq(set_entry(u, 2, 0), 0);
    ASSERT_PG(d1->shared_info_mfn, 0, PGT_none, 0);
    ck_assert_uint_eq(pg(d1->shared_info_mfn)->owner, 1);   /* shared pages are never freed here */
}
END_TEST

START_TEST(privileged_domain_maps_foreign_data_only)
{
    mfn_t base0, base2;
    struct domain *d0 = harness_domain_create(0, true, 8, &base0);
    struct domain *d2 = harness_domain_create(2, false, 8, &base2);
    harness_set_current(d0->vcpus[0]);
    mfn_t u = base0, x = base0 + 1;
    ck_assert_int_eq(pin(u, 1), 0);
    ck_assert_int_eq(pin(x, 2), 0);
    ck_assert_int_eq(set_entry(u, 0, pte(base2, P | RW)), 0);
    ASSERT_PG(base2, 2, PGT_writable, 1);
    ck_assert_int_eq(set_entry(u, 1, pte(F(5), P)), 0);
    ASSERT_PG(F(5), 2, PGT_none, 0);
    ck_assert_int_eq(set_entry(u, 2, pte(d2->shared_info_mfn, P)), 0);
    /* Never the hypervisor's, never free frames, never as a page table. */
    ck_assert_int_eq(set_entry(u, 3, pte(3, P)), -XEN_EINVAL);
    ck_assert_int_eq(set_entry(u, 3, pte(a_free_frame(), P)), -XEN_EINVAL);
    ck_assert_int_eq(set_entry(x, 0, pte(base2 + 1, P)), -XEN_EINVAL);
    ck_assert_int_eq(pin(base2 + 1, 1), -XEN_EINVAL);     /* without foreigndom */
    /* A domU page table (pinned on its behalf) maps read-only only. */
    ck_assert_int_eq(mmuext_for(MMUEXT_PIN_L1_TABLE, base2 + 2, 0, 2), 0);
    ASSERT_PG(base2 + 2, 2, PGT_l1, 1);
    ck_assert_int_eq(set_entry(u, 4, pte(base2 + 2, P | RW)), -XEN_EINVAL);
    ck_assert_int_eq(set_entry(u, 4, pte(base2 + 2, P)), 0);
    ASSERT_AUDIT();
    /* A dying domain's frames are out of reach. */
    d2->is_dying = true;
    ck_assert_int_eq(set_entry(u, 5, pte(base2 + 3, P)), -XEN_EINVAL);
    d2->is_dying = false;
    /* The mappings hold d2's frames; dropping them gives them back. */
    ck_assert_int_eq(set_entry(u, 0, 0), 0);
    ck_assert_int_eq(set_entry(u, 4, 0), 0);
    ck_assert_int_eq(mmuext_for(MMUEXT_UNPIN_TABLE, base2 + 2, 0, 2), 0);
    ASSERT_DOMAIN_ALLOC_ONLY(d2);
    ASSERT_AUDIT();
}
END_TEST

/* ---- device memory (hv/io.h, docs/pci.md) ---- */

START_TEST(device_memory_privileged_domain_only)
{
    const mfn_t bar = HARNESS_NR_FRAMES + 5;          /* above the frame table */
    const mfn_t lapic = LAPIC_BASE >> PAGE_SHIFT, ioapic = IOAPIC_BASE >> PAGE_SHIFT;
    mfn_t hole = a_free_frame();                       /* a hole inside the table */
    pg(hole)->owner = DOMID_IO;
    const uint64_t cache = _PAGE_PWT | _PAGE_PCD | _PAGE_PAT;

    /* A domU: never, by mmu_update or by validation, whatever the bits. */
    mfn_t t = F(0), fresh = F(1);
    ck_assert_int_eq(pin(t, 1), 0);
    ck_assert_int_eq(set_entry(t, 0, pte(bar, P | RW)), -XEN_EPERM);
    ck_assert_int_eq(set_entry(t, 0, pte(bar, P)), -XEN_EPERM);
    ck_assert_int_eq(set_entry(t, 0, pte(hole, P | cache)), -XEN_EPERM);
    ck_assert_int_eq(set_entry(t, 0, pte(lapic, P)), -XEN_EPERM);
    ck_assert_uint_eq(tab(t)[0], 0);
    tab(fresh)[7] = pte(bar, P | RW);
    ck_assert_int_eq(pin(fresh, 1), -XEN_EPERM);
    ASSERT_ALLOC_ONLY(fresh);
    ASSERT_AUDIT();

    /* The privileged domain: with cache attributes, holding no references. */
    mfn_t base0;
    struct domain *d0 = harness_domain_create(0, true, 8, &base0);
    harness_set_current(d0->vcpus[0]);
    mfn_t u = base0, x = base0 + 1;
    ck_assert_int_eq(pin(u, 1), 0);
    ck_assert_int_eq(pin(x, 2), 0);
    ck_assert_int_eq(set_entry(u, 0, pte(bar, P | RW | _PAGE_PCD | _PAGE_PWT)), 0);
    ck_assert_uint_eq(tab(u)[0], pte(bar, P | RW | US | _PAGE_PCD | _PAGE_PWT) | _PAGE_GUEST_KERNEL);
    ck_assert_int_eq(set_entry(u, 1, pte(hole, P | RW | US | _PAGE_PAT)), 0);
    ASSERT_PG(hole, 0, PGT_none, 0);
    ck_assert_int_eq(set_entry(u, 2, pte(bar, P | RW | _PAGE_GNTTAB)), -XEN_EINVAL);
    /* Never the hypervisor's own MMIO, never beyond the address width, never
     * above L1, and RAM keeps its rules (no cache attributes). */
    ck_assert_int_eq(set_entry(u, 2, pte(lapic, P | _PAGE_PCD)), -XEN_EPERM);
    ck_assert_int_eq(set_entry(u, 2, pte(ioapic, P)), -XEN_EPERM);
    ck_assert_int_eq(set_entry(u, 2, pte(HARNESS_MAX_IO_MFN, P)), -XEN_EPERM);
    ck_assert_int_ne(set_entry(x, 0, pte(bar, P | RW)), 0);
    ck_assert_int_ne(set_entry(x, 0, pte(hole, P | RW)), 0);
    ck_assert_int_eq(set_entry(u, 2, pte(base0 + 3, P | _PAGE_PCD)), -XEN_EINVAL);
    ck_assert_uint_eq(tab(u)[2], 0);
    ck_assert_uint_eq(tab(x)[0], 0);
    ASSERT_AUDIT();
    /* Replacing, clearing and devalidating such entries releases nothing. */
    ck_assert_int_eq(set_entry(u, 0, pte(base0 + 4, P)), 0);
    ASSERT_PG(base0 + 4, 2, PGT_none, 0);
    ck_assert_int_eq(set_entry(u, 0, pte(bar, P)), 0);
    ASSERT_ALLOC_ONLY(base0 + 4);
    ck_assert_int_eq(unpin(u), 0);
    ck_assert_int_eq(unpin(x), 0);
    ASSERT_DOMAIN_ALLOC_ONLY(d0);
    ASSERT_AUDIT();
}
END_TEST

START_TEST(shared_hypervisor_page_never_a_table)
{
    /* shared_info is hypervisor memory the hypervisor keeps writing (event
     * pending bits the guest controls by binding and signalling ports, time
     * records). Typed as a page table, those writes would be unvalidated
     * entries: a guest could forge a PTE to any machine frame. Xen gives
     * such pages a permanent writable type (share_xen_page_with_guest). */
    mfn_t si = d1->shared_info_mfn, l2 = F(0);
    for (unsigned level = 1; level <= 4; level++) {
        long rc = pin(si, level);
        if (rc == 0)
            unpin(si);
        ck_assert_msg(rc == -XEN_EINVAL,
                      "shared_info pinned as L%u (rc %ld): the hypervisor's writes to it "
                      "(event bits) would become unvalidated page-table entries",
                      level, rc);
    }
    ck_assert_int_eq(pin(l2, 2), 0);
    long rc = set_entry(l2, 0, pte(si, P | RW));
    if (rc == 0) {
        /* Demonstrate: an event sent on ports 64-127 is one forged entry. */
        d1->shared_info->evtchn_pending[1] = pte(3, P | RW | US);
        const char *why = harness_audit();
        ck_abort_msg("an L2 entry made shared_info an L1 table; after the hypervisor sets event "
                     "bits the audit says: %s", why ? why : "(nothing)");
    }
    ck_assert_int_eq(rc, -XEN_EINVAL);
    ASSERT_PG(si, 0, PGT_none, 0);
    ASSERT_AUDIT();
}
END_TEST

/* ---- L4 slots 256-271 ---- */

START_TEST(hypervisor_l4_slots)
{
    mfn_t l4 = F(0), l3 = F(1), junk = F(2);
    for (unsigned s = L4_SLOT_FIRST_HV; s <= L4_SLOT_LAST_HV; s++)
        tab(l4)[s] = pte(s & 1 ? junk : l3, P | RW);   /* the guest's junk there is ignored */
    tab(l4)[255] = pte(l3, P);
    ck_assert_int_eq(pin(l4, 4), 0);
    ck_assert_uint_eq(hvlog.install_l4_calls, 1);
    for (unsigned s = L4_SLOT_FIRST_HV; s <= L4_SLOT_LAST_HV; s++)
        ck_assert_uint_eq(tab(l4)[s], harness_hv_l4_entry(s));
    ASSERT_PG(l3, 2, PGT_l3, 1);        /* slot 255 only */
    ASSERT_ALLOC_ONLY(junk);
    for (unsigned s = L4_SLOT_FIRST_HV; s <= L4_SLOT_LAST_HV; s++) {
        ck_assert_int_eq(set_entry(l4, s, 0), -XEN_EINVAL);
        ck_assert_int_eq(set_entry(l4, s, pte(l3, P)), -XEN_EINVAL);
        ck_assert_uint_eq(tab(l4)[s], harness_hv_l4_entry(s));
    }
    ck_assert_int_eq(set_entry(l4, 272, pte(l3, P)), 0);
    ck_assert_int_eq(set_entry(l4, 255, 0), 0);
    ASSERT_PG(l3, 2, PGT_l3, 1);
    ASSERT_AUDIT();
    ck_assert_int_eq(unpin(l4), 0);
    ASSERT_DOMAIN_ALLOC_ONLY(d1);
    for (mfn_t m = 0; m < HARNESS_FIRST_FREE; m++)
        ck_assert_uint_eq(pg(m)->count, 0);
}
END_TEST

/* ---- pin / unpin ---- */

START_TEST(pin_twice_and_unpin_unpinned)
{
    mfn_t t = F(0), l2 = F(1);
    ck_assert_int_eq(unpin(t), -XEN_EINVAL);
    ck_assert_int_eq(pin(t, 1), 0);
    ck_assert_int_eq(pin(t, 1), -XEN_EINVAL);
    ck_assert_int_eq(pin(t, 2), -XEN_EINVAL);
    ASSERT_PG(t, 2, PGT_l1, 1);
    ck_assert_int_eq(unpin(t), 0);
    ck_assert_int_eq(unpin(t), -XEN_EINVAL);
    ASSERT_ALLOC_ONLY(t);
    /* Validated through a reference but not pinned: unpin refuses, pin
     * adds the pin on top. */
    tab(l2)[0] = pte(t, P);
    ck_assert_int_eq(pin(l2, 2), 0);
    ck_assert_int_eq(unpin(t), -XEN_EINVAL);
    ASSERT_PG(t, 2, PGT_l1, 1);
    ck_assert_int_eq(pin(t, 1), 0);
    ASSERT_PG(t, 3, PGT_l1, 2);
    ck_assert_int_eq(unpin(l2), 0);
    ASSERT_PG(t, 2, PGT_l1, 1);
    ck_assert_uint_eq(pg(t)->flags, PGF_allocated | PGF_pinned | PGF_validated);
    ck_assert_int_eq(unpin(t), 0);
    ck_assert_int_eq(pin(max_mfn, 1), -XEN_EINVAL);
    ck_assert_int_eq(unpin(max_mfn), -XEN_EINVAL);
    ASSERT_DOMAIN_ALLOC_ONLY(d1);
}
END_TEST

START_TEST(unpin_devalidates_and_releases_everything)
{
    mfn_t l4 = F(0), l3a = F(1), l3b = F(2), l2a = F(3), l2b = F(4), l1a = F(5), l1b = F(6);
    tab(l4)[0] = pte(l3a, P | RW);
    tab(l4)[1] = pte(l3b, P | RW);
    tab(l4)[300] = pte(l3b, P);
    tab(l3a)[0] = pte(l2a, P | RW);
    tab(l3a)[5] = pte(l2a, P | RW);
    tab(l3b)[0] = pte(l2b, P | RW);
    tab(l2a)[0] = pte(l1a, P | RW);
    tab(l2a)[1] = pte(l1b, P | RW);
    tab(l2b)[0] = pte(l1a, P | RW);      /* shared L1 */
    tab(l1a)[0] = pte(F(10), P | RW);
    tab(l1a)[1] = pte(F(11), P);
    tab(l1a)[2] = pte(l1a, P);           /* read-only self map */
    tab(l1a)[3] = pte(l4, P);            /* read-only map of the root */
    tab(l1b)[0] = pte(F(10), P | RW);
    tab(l1b)[1] = pte(F(12), P | RW | US);
    ck_assert_int_eq(pin(l1b, 1), 0);    /* Linux pins every L1 */
    ck_assert_int_eq(pin(l4, 4), 0);
    ASSERT_PG(l1a, 4, PGT_l1, 2);
    ASSERT_PG(l1b, 3, PGT_l1, 2);
    ASSERT_PG(F(10), 3, PGT_writable, 2);
    ASSERT_PG(l4, 3, PGT_l4, 1);
    ASSERT_PG(l3b, 3, PGT_l3, 2);
    ASSERT_AUDIT();
    ck_assert_int_eq(unpin(l4), 0);
    ASSERT_AUDIT();
    for (mfn_t m = l4; m <= l1a; m++)
        ASSERT_ALLOC_ONLY(m);
    ASSERT_PG(l1b, 2, PGT_l1, 1);        /* its own pin keeps it */
    ASSERT_PG(F(10), 2, PGT_writable, 1);
    ASSERT_ALLOC_ONLY(F(11));
    ck_assert_int_eq(unpin(l1b), 0);
    ASSERT_DOMAIN_ALLOC_ONLY(d1);
    ASSERT_AUDIT();
    /* The contents stay as validated (adjusted), ready to be pinned again. */
    ck_assert_uint_eq(tab(l4)[0], pte(l3a, P | RW | US | _PAGE_ACCESSED));
    ck_assert_int_eq(pin(l4, 4), 0);
    ASSERT_AUDIT();
}
END_TEST

/* ---- base pointers ---- */

START_TEST(new_baseptr_swaps_references)
{
    mfn_t a4 = F(0), b4 = F(8), data = F(20);
    write_chain(a4, 0, F(1), 0, F(2), 0, F(3));
    tab(F(3))[0] = pte(data, P | RW);
    write_chain(b4, 0, F(9), 0, F(10), 0, F(11));
    tab(F(11))[0] = pte(data, P | RW);
    ck_assert_int_eq(baseptr(a4), 0);
    ck_assert_uint_eq(v1->guest_table, a4);
    ck_assert_uint_eq(hvlog.cr[3], a4 << PAGE_SHIFT);
    ASSERT_PG(a4, 2, PGT_l4, 1);
    ASSERT_PG(data, 2, PGT_writable, 1);
    ASSERT_AUDIT();
    ck_assert_int_eq(baseptr(b4), 0);
    ck_assert_uint_eq(v1->guest_table, b4);
    ck_assert_uint_eq(hvlog.cr[3], b4 << PAGE_SHIFT);
    for (unsigned i = 0; i < 4; i++)
        ASSERT_ALLOC_ONLY(F(i));
    ASSERT_PG(b4, 2, PGT_l4, 1);
    ASSERT_PG(data, 2, PGT_writable, 1);
    ck_assert_int_eq(baseptr(b4), 0);    /* the same root again */
    ASSERT_PG(b4, 2, PGT_l4, 1);
    ASSERT_AUDIT();
    /* Refused: not typeable as L4 (a pinned L1), not the domain's. */
    ck_assert_int_eq(pin(F(30), 1), 0);
    ck_assert_int_eq(baseptr(F(30)), -XEN_EINVAL);
    ck_assert_int_eq(baseptr(3), -XEN_EINVAL);
    ck_assert_int_eq(baseptr(max_mfn), -XEN_EINVAL);
    ck_assert_uint_eq(v1->guest_table, b4);
    ASSERT_PG(F(30), 2, PGT_l1, 1);
    /* The user root: no CR3 load while in kernel mode; 0 drops it. */
    unsigned writes = hvlog.cr3_writes;
    ck_assert_int_eq(user_baseptr(a4), 0);
    ck_assert_uint_eq(v1->guest_table_user, a4);
    ck_assert_uint_eq(hvlog.cr3_writes, writes);
    ASSERT_PG(a4, 2, PGT_l4, 1);
    ASSERT_AUDIT();
    ck_assert_int_eq(user_baseptr(0), 0);
    ck_assert_uint_eq(v1->guest_table_user, 0);
    ASSERT_ALLOC_ONLY(a4);
    /* In user mode the user root is the live one. */
    v1->in_kernel = false;
    ck_assert_int_eq(user_baseptr(a4), 0);
    ck_assert_uint_eq(hvlog.cr[3], a4 << PAGE_SHIFT);
    writes = hvlog.cr3_writes;
    ck_assert_int_eq(baseptr(b4), 0);
    ck_assert_uint_eq(hvlog.cr3_writes, writes);
    ASSERT_AUDIT();
}
END_TEST

/* ---- mmu_update ---- */

START_TEST(mmu_update_plain_store_needs_writable_type)
{
    mfn_t w = F(0), u = F(1), g = F(2);
    ck_assert_int_eq(set_entry(w, 5, 0xdeadbeefcafef00dull), 0);   /* no checks: not a table */
    ck_assert_uint_eq(tab(w)[5], 0xdeadbeefcafef00dull);
    ASSERT_ALLOC_ONLY(w);
    ck_assert_int_eq(pin(u, 1), 0);
    ck_assert_int_eq(set_entry(u, 0, pte(w, P | RW)), 0);
    ck_assert_int_eq(set_entry(w, 6, 0x1234), 0);                 /* writably mapped: fine */
    ck_assert_uint_eq(tab(w)[6], 0x1234);
    ASSERT_PG(w, 2, PGT_writable, 1);
    /* A segment-descriptor page cannot take the writable type. */
    ck_assert_int_eq(pv_get_page_type(pg(g), PGT_seg_desc, d1), 0);
    ck_assert_int_eq(set_entry(g, 1, 0x5555), -XEN_EINVAL);
    ck_assert_uint_eq(tab(g)[1], 0);
    pv_put_page_type(pg(g));
    ck_assert_int_eq(set_entry(max_mfn, 0, 0), -XEN_EINVAL);
    ASSERT_AUDIT();
}
END_TEST

START_TEST(mmu_update_preserve_ad)
{
    mfn_t u = F(0), x = F(1);
    ck_assert_int_eq(pin(u, 1), 0);
    ck_assert_int_eq(set_entry(u, 0, pte(x, P | US | _PAGE_ACCESSED | _PAGE_DIRTY)), 0);
    ck_assert_int_eq(mmu1((u << PAGE_SHIFT) + MMU_PT_UPDATE_PRESERVE_AD, pte(x, P | RW | US)), 0);
    ck_assert_uint_eq(tab(u)[0], pte(x, P | RW | US | _PAGE_ACCESSED | _PAGE_DIRTY));
    ck_assert_int_eq(set_entry(u, 0, pte(x, P | US)), 0);
    ck_assert_uint_eq(tab(u)[0], pte(x, P | US));
    ASSERT_PG(x, 2, PGT_none, 0);
    ASSERT_AUDIT();
}
END_TEST

START_TEST(mmu_update_flushes_only_above_l1)
{
    /* §5.3: L2-L4 updates flush the TLB; L1 updates leave it to the guest. */
    mfn_t tables[5] = { 0, F(0), F(1), F(2), F(3) };
    for (unsigned level = 1; level <= 4; level++) {
        ck_assert_int_eq(pin(tables[level], level), 0);
        unsigned before = hvlog.tlb_flushes;
        ck_assert_int_eq(set_entry(tables[level], 0, pte(F(10 + level), P)), 0);
        ck_assert_int_eq(set_entry(tables[level], 0, 0), 0);
        ck_assert_msg(hvlog.tlb_flushes - before == (level > 1 ? 2u : 0u), "L%u: %u flushes", level,
                      hvlog.tlb_flushes - before);
    }
    ck_assert_uint_eq(hvlog.invlpgs, 0);
}
END_TEST

START_TEST(machphys_update_own_frames_only)
{
    mfn_t base2;
    harness_domain_create(2, false, 4, &base2);
    ck_assert_int_eq(mmu1((F(7) << PAGE_SHIFT) | MMU_MACHPHYS_UPDATE, 0x777), 0);
    ck_assert_uint_eq(m2p_table[F(7)], 0x777);
    ck_assert_int_eq(mmu1((base2 << PAGE_SHIFT) | MMU_MACHPHYS_UPDATE, 0x777), -XEN_EINVAL);
    ck_assert_uint_eq(m2p_table[base2], 0);
    ck_assert_int_eq(mmu1((3ull << PAGE_SHIFT) | MMU_MACHPHYS_UPDATE, 0x777), -XEN_EINVAL);
    ck_assert_uint_eq(m2p_table[3], INVALID_M2P_ENTRY);
    ck_assert_int_eq(mmu1((max_mfn << PAGE_SHIFT) | MMU_MACHPHYS_UPDATE, 0x777), -XEN_EINVAL);
    ck_assert_int_eq(mmu1((F(7) << PAGE_SHIFT) | MMU_PT_UPDATE_NO_TRANSLATE, 0), -XEN_ENOSYS);
    ASSERT_ALLOC_ONLY(F(7));
}
END_TEST

START_TEST(mmu_update_done_counter_and_errors)
{
    mfn_t base2;
    harness_domain_create(2, false, 4, &base2);
    uint64_t reqs = harness_guest_alloc(8 * sizeof(struct mmu_update));
    struct mmu_update *r = harness_guest_ptr(reqs);
    uint32_t *done = harness_guest_ptr(DONE_GVA);
    for (unsigned i = 0; i < 5; i++) {
        r[i].ptr = (F(i) << PAGE_SHIFT) | MMU_MACHPHYS_UPDATE;
        r[i].val = 100 + i;
    }
    r[2].ptr = (base2 << PAGE_SHIFT) | MMU_MACHPHYS_UPDATE;
    *done = 0xdeadbeef;
    ck_assert_int_eq(do_mmu_update(reqs, 5, DONE_GVA, DOMID_SELF), -XEN_EINVAL);
    ck_assert_uint_eq(*done, 2);
    ck_assert_uint_eq(m2p_table[F(1)], 101);
    ck_assert_uint_eq(m2p_table[F(3)], 3);      /* not reached */
    r[2].ptr = (F(2) << PAGE_SHIFT) | MMU_MACHPHYS_UPDATE;
    ck_assert_int_eq(do_mmu_update(reqs, 5, DONE_GVA, DOMID_SELF), 0);
    ck_assert_uint_eq(*done, 5);
    ck_assert_int_eq(do_mmu_update(reqs, 5, 0, DOMID_SELF), 0);   /* no done pointer */
    ck_assert_int_eq(do_mmu_update(reqs, 0, DONE_GVA, DOMID_SELF), 0);
    ck_assert_uint_eq(*done, 0);
    ck_assert_int_eq(do_mmu_update(reqs, 5, DONE_GVA, 1), 0);     /* naming itself */
    ck_assert_int_eq(do_mmu_update(reqs, 5, DONE_GVA, 2), -XEN_EPERM);
    ck_assert_int_eq(do_mmu_update(reqs, 5, DONE_GVA, DOMID_SELF | (1u << 16)), -XEN_EINVAL);
    /* A request array running off the guest's memory: -EFAULT at the first
     * unreadable request, the earlier ones done. */
    uint64_t edge = HARNESS_GUEST_VA + HARNESS_GUEST_SIZE - 2 * sizeof(struct mmu_update) - 8;
    struct mmu_update *e = harness_guest_ptr(edge);
    e[0] = r[0];
    e[1] = r[1];
    uint64_t done_gva = harness_guest_alloc(8);
    ck_assert_int_eq(do_mmu_update(edge, 3, done_gva, DOMID_SELF), -XEN_EFAULT);
    ck_assert_uint_eq(*(uint32_t *)harness_guest_ptr(done_gva), 2);
    ck_assert_int_eq(do_mmu_update(0x1000, 1, 0, DOMID_SELF), -XEN_EFAULT);
    ck_assert_int_eq(do_mmu_update(reqs, 1ull << 32, 0, DOMID_SELF), -XEN_EINVAL);
}
END_TEST

/* Fills n plain-store requests: request i writes i + 1 into slot i of the
 * data frames from F(16) on. */
static uint64_t plain_store_batch(unsigned n)
{
    uint64_t reqs = harness_guest_alloc(n * sizeof(struct mmu_update));
    struct mmu_update *r = harness_guest_ptr(reqs);
    for (unsigned i = 0; i < n; i++) {
        r[i].ptr = (F(16 + i / 512) << PAGE_SHIFT) + (i % 512) * 8 + MMU_NORMAL_PT_UPDATE;
        r[i].val = i + 1;
    }
    return reqs;
}
static uint64_t slot_of(unsigned i) { return tab(F(16 + i / 512))[i % 512]; }

START_TEST(mmu_update_continuation)
{
    struct cpu_regs *regs = harness_regs();
    uint32_t *done = harness_guest_ptr(DONE_GVA);
    const unsigned n = 1500;
    uint64_t reqs = plain_store_batch(n);
    regs->rax = __HYPERVISOR_mmu_update;
    regs->rdi = reqs;
    regs->rsi = n;
    regs->rdx = DONE_GVA;
    regs->r10 = DOMID_SELF;
    regs->rip = 0x400002;
    long rc = do_mmu_update(regs->rdi, regs->rsi, regs->rdx, regs->r10);
    ck_assert_int_eq(rc, __HYPERVISOR_mmu_update);   /* rax keeps the hypercall number */
    ck_assert_uint_eq(regs->rip, 0x400000);          /* the syscall runs again */
    ck_assert_uint_eq(regs->rdi, reqs + 1024 * sizeof(struct mmu_update));
    ck_assert_uint_eq(regs->rsi, (n - 1024) | MMU_UPDATE_PREEMPTED);
    ck_assert_uint_eq(regs->rdx, DONE_GVA);
    ck_assert_uint_eq(*done, 1024);
    ck_assert_uint_eq(slot_of(1023), 1024);
    ck_assert_uint_eq(slot_of(1024), 0);
    regs->rip += 2;
    rc = do_mmu_update(regs->rdi, regs->rsi, regs->rdx, regs->r10);
    ck_assert_int_eq(rc, 0);
    ck_assert_uint_eq(*done, n);
    for (unsigned i = 0; i < n; i++)
        FAST_ASSERT_MSG(slot_of(i) == i + 1, "request %u not applied", i);
    /* Exactly the limit completes in one go. */
    memset(tab(F(16)), 0, PAGE_SIZE);
    regs->rdi = plain_store_batch(1024);
    regs->rip = 0x400002;
    ck_assert_int_eq(do_mmu_update(regs->rdi, 1024, DONE_GVA, DOMID_SELF), 0);
    ck_assert_uint_eq(regs->rip, 0x400002);
    ck_assert_uint_eq(*done, 1024);
    /* An error after a continuation: done counts across invocations. */
    struct mmu_update *r = harness_guest_ptr(reqs);
    r[1200].ptr = (3ull << PAGE_SHIFT);   /* a hypervisor frame */
    ck_assert_int_eq(do_mmu_update(reqs, n, DONE_GVA, DOMID_SELF), __HYPERVISOR_mmu_update);
    ck_assert_int_eq(do_mmu_update(regs->rdi, regs->rsi, DONE_GVA, DOMID_SELF), -XEN_EINVAL);
    ck_assert_uint_eq(*done, 1200);
}
END_TEST

START_TEST(no_continuation_inside_multicall)
{
    /* The registers belong to the multicall: a long batch stops at the
     * limit with -EINVAL, reporting what it did, and leaves them alone. */
    struct cpu_regs *regs = harness_regs();
    uint32_t *done = harness_guest_ptr(DONE_GVA);
    uint64_t reqs = plain_store_batch(1100);
    harness_in_multicall = true;
    *regs =
        (struct cpu_regs){.rax = __HYPERVISOR_multicall, .rdi = 0x1111, .rsi = 2, .rip = 0x600002};
    ck_assert_int_eq(do_mmu_update(reqs, 1100, DONE_GVA, DOMID_SELF), -XEN_EINVAL);
    ck_assert_uint_eq(*done, 1024);
    ck_assert_uint_eq(slot_of(1023), 1024);
    ck_assert_uint_eq(slot_of(1024), 0);
    ck_assert_uint_eq(regs->rdi, 0x1111);
    ck_assert_uint_eq(regs->rsi, 2);
    ck_assert_uint_eq(regs->rip, 0x600002);
    uint64_t ops = harness_guest_alloc(1100 * sizeof(struct mmuext_op));
    struct mmuext_op *op = harness_guest_ptr(ops);
    for (unsigned i = 0; i < 1100; i++)
        op[i] = (struct mmuext_op){ .cmd = MMUEXT_TLB_FLUSH_LOCAL };
    ck_assert_int_eq(do_mmuext_op(ops, 1100, DONE_GVA, DOMID_SELF), -XEN_EINVAL);
    ck_assert_uint_eq(*done, 1024);
    ck_assert_uint_eq(regs->rip, 0x600002);
    ck_assert_int_eq(do_mmu_update(reqs, 1024, DONE_GVA, DOMID_SELF),
                     0); /* the limit itself is fine */
}
END_TEST

START_TEST(mmuext_op_continuation)
{
    struct cpu_regs *regs = harness_regs();
    uint32_t *done = harness_guest_ptr(DONE_GVA);
    const unsigned n = 1100;
    uint64_t ops = harness_guest_alloc(n * sizeof(struct mmuext_op));
    struct mmuext_op *op = harness_guest_ptr(ops);
    for (unsigned i = 0; i < n; i++)
        op[i] = (struct mmuext_op){ .cmd = MMUEXT_TLB_FLUSH_LOCAL };
    regs->rax = __HYPERVISOR_mmuext_op;
    regs->rip = 0x500002;
    ck_assert_int_eq(do_mmuext_op(ops, n, DONE_GVA, DOMID_SELF), __HYPERVISOR_mmuext_op);
    ck_assert_uint_eq(regs->rdi, ops + 1024 * sizeof(struct mmuext_op));
    ck_assert_uint_eq(regs->rsi, (n - 1024) | MMU_UPDATE_PREEMPTED);
    ck_assert_uint_eq(regs->rip, 0x500000);
    ck_assert_uint_eq(*done, 1024);
    ck_assert_uint_eq(hvlog.tlb_flushes, 1024);
    ck_assert_int_eq(do_mmuext_op(regs->rdi, regs->rsi, DONE_GVA, DOMID_SELF), 0);
    ck_assert_uint_eq(*done, n);
    ck_assert_uint_eq(hvlog.tlb_flushes, n);
    /* Stops at the first failing op. */
    op[0] = (struct mmuext_op){ .cmd = MMUEXT_PIN_L1_TABLE, .arg1.mfn = F(0) };
    op[1] = (struct mmuext_op){ .cmd = MMUEXT_PIN_L1_TABLE, .arg1.mfn = F(0) };
    op[2] = (struct mmuext_op){ .cmd = MMUEXT_UNPIN_TABLE, .arg1.mfn = F(0) };
    ck_assert_int_eq(do_mmuext_op(ops, 3, DONE_GVA, DOMID_SELF), -XEN_EINVAL);
    ck_assert_uint_eq(*done, 1);
    ASSERT_PG(F(0), 2, PGT_l1, 1);
}
END_TEST

START_TEST(mmuext_misc_ops)
{
    mfn_t t = F(0), w = F(1), s = F(2);
    ck_assert_int_eq(pin(t, 1), 0);
    tab(s)[3] = 0x33;
    tab(w)[4] = 0x44;
    ck_assert_int_eq(mmuext(MMUEXT_COPY_PAGE, w, s), 0);
    ck_assert_uint_eq(tab(w)[3], 0x33);
    ck_assert_int_eq(mmuext(MMUEXT_CLEAR_PAGE, w, 0), 0);
    ck_assert_uint_eq(tab(w)[3], 0);
    ASSERT_ALLOC_ONLY(w);
    ck_assert_int_eq(mmuext(MMUEXT_CLEAR_PAGE, t, 0), -XEN_EINVAL);      /* a page table */
    ck_assert_int_eq(mmuext(MMUEXT_COPY_PAGE, t, s), -XEN_EINVAL);
    ck_assert_int_eq(mmuext(MMUEXT_CLEAR_PAGE, 3, 0), -XEN_EINVAL);      /* the hypervisor's */
    ck_assert_int_eq(mmuext(MMUEXT_COPY_PAGE, w, 3), -XEN_EINVAL);
    ck_assert_int_eq(mmuext(MMUEXT_FLUSH_CACHE, 0, 0), -XEN_EACCES);
    ck_assert_int_eq(mmuext(MMUEXT_FLUSH_CACHE_GLOBAL, 0, 0), -XEN_EACCES);
    ck_assert_int_eq(mmuext(MMUEXT_MARK_SUPER, 0, 0), -XEN_EOPNOTSUPP);
    ck_assert_int_eq(mmuext(14, 0, 0), -XEN_ENOSYS);
    ck_assert_int_eq(mmuext(MMUEXT_SET_LDT, 0x10000, 0), 0);
    /* Recorded only: the frames are taken on first use (test_descriptor.c). */
    ck_assert_int_eq(mmuext(MMUEXT_SET_LDT, 0x10000, 16), 0);
    ck_assert_uint_eq(v1->ldt_base, 0x10000);
    ck_assert_uint_eq(v1->ldt_ents, 16);
    ck_assert(!v1->ldt_loaded);
    ck_assert_int_eq(mmuext(MMUEXT_SET_LDT, 0x10000, 8193), -XEN_EINVAL);
    ck_assert_int_eq(mmuext(MMUEXT_SET_LDT, 0x00007ffffffff000ull, 8192), -XEN_EINVAL);
    ck_assert_int_eq(mmuext(MMUEXT_SET_LDT, 0x10001, 0), -XEN_EINVAL);
    ck_assert_int_eq(mmuext(MMUEXT_INVLPG_LOCAL, 0x7000, 0), 0);
    ck_assert_uint_eq(hvlog.last_invlpg, 0x7000);
    ck_assert_int_eq(mmuext(MMUEXT_INVLPG_LOCAL, 0x0000800000000000ull, 0), -XEN_EINVAL);
    ck_assert_int_eq(mmuext(MMUEXT_TLB_FLUSH_MULTI, 0, 0x1000), -XEN_EFAULT);
    ck_assert_int_eq(mmuext(MMUEXT_TLB_FLUSH_MULTI, 0, DONE_GVA), 0);
    ck_assert_int_eq(mmuext_for(MMUEXT_PIN_L1_TABLE, F(5), 0, 2), -XEN_EPERM);  /* unprivileged */
    ASSERT_AUDIT();
}
END_TEST

/* ---- update_va_mapping ---- */

START_TEST(update_va_mapping_through_current_l4)
{
    mfn_t l4 = F(0), l1 = F(3), data = F(20), other = F(21);
    write_chain(l4, 1, F(1), 2, F(2), 3, l1);
    ck_assert_int_eq(pin(l4, 4), 0);
    ck_assert_int_eq(baseptr(l4), 0);
    uint64_t va = va_of(1, 2, 3, 7);
    ck_assert_int_eq(do_update_va_mapping(va, pte(data, P | RW), UVMF_INVLPG), 0);
    ck_assert_uint_eq(tab(l1)[7], pte(data, P | RW | US) | _PAGE_GUEST_KERNEL);
    ASSERT_PG(data, 2, PGT_writable, 1);
    ck_assert_uint_eq(hvlog.invlpgs, 1);
    ck_assert_uint_eq(hvlog.last_invlpg, va);
    unsigned flushes = hvlog.tlb_flushes;
    ck_assert_int_eq(
        do_update_va_mapping(va + 0xabc, pte(other, P | US), UVMF_TLB_FLUSH | UVMF_ALL), 0);
    ck_assert_uint_eq(hvlog.tlb_flushes, flushes + 1);
    ASSERT_ALLOC_ONLY(data);
    ASSERT_PG(other, 2, PGT_none, 0);
    /* A vCPU mask pointer must be readable. */
    ck_assert_int_eq(do_update_va_mapping(va, pte(other, P), UVMF_INVLPG | DONE_GVA), 0);
    ck_assert_int_eq(do_update_va_mapping(va, pte(other, P), UVMF_INVLPG | 0x1000), -XEN_EFAULT);
    /* Refusals leave the entry and flush nothing. */
    unsigned invlpgs = hvlog.invlpgs;
    flushes = hvlog.tlb_flushes;
    ck_assert_int_eq(do_update_va_mapping(va, pte(l1, P | RW), UVMF_INVLPG), -XEN_EINVAL);
    ck_assert_int_eq(do_update_va_mapping(va_of(2, 2, 3, 7), pte(other, P), UVMF_INVLPG),
                     -XEN_EINVAL);
    ck_assert_int_eq(do_update_va_mapping(va_of(1, 3, 3, 7), pte(other, P), UVMF_INVLPG),
                     -XEN_EINVAL);
    ck_assert_int_eq(do_update_va_mapping(va_of(1, 2, 4, 7), pte(other, P), UVMF_INVLPG),
                     -XEN_EINVAL);
    ck_assert_uint_eq(tab(l1)[7], pte(other, P | US) | _PAGE_GUEST_KERNEL);
    ck_assert_uint_eq(hvlog.invlpgs, invlpgs);
    ck_assert_uint_eq(hvlog.tlb_flushes, flushes);
    /* The hypervisor hole: even with the guest's L4 slot "present" there. */
    for (uint64_t hole = HYPERVISOR_VIRT_START; hole < HYPERVISOR_VIRT_END; hole += 1ull << 39)
        ck_assert_int_eq(do_update_va_mapping(hole, 0, 0), -XEN_EINVAL);
    ck_assert_int_eq(do_update_va_mapping(HYPERVISOR_VIRT_END - PAGE_SIZE, 0, 0), -XEN_EINVAL);
    ck_assert_int_eq(do_update_va_mapping(0x0000800000000000ull, 0, 0),
                     -XEN_EINVAL); /* non-canonical */
    ASSERT_AUDIT();
    /* Unmapping works; no root at all fails. */
    ck_assert_int_eq(do_update_va_mapping(va, 0, UVMF_NONE), 0);
    ASSERT_ALLOC_ONLY(other);
    ASSERT_AUDIT();
    /* The kernel root is used even while the vCPU runs in user mode. */
    v1->in_kernel = false;
    ck_assert_int_eq(do_update_va_mapping(va, pte(other, P), 0), 0);
    v1->guest_table = 0;   /* (drop the reference by hand below) */
    ck_assert_int_eq(do_update_va_mapping(va, 0, 0), -XEN_EINVAL);
    pv_put_page_type(pg(l4));
    pv_put_page(pg(l4));
    ASSERT_AUDIT();
}
END_TEST

START_TEST(update_va_mapping_refuses_the_hole)
{
    /* Even if the walk through a hypervisor slot would end at one of the
     * domain's validated L1 tables, addresses in the hole are refused. */
    mfn_t l4 = F(0), l1 = F(3);
    idle_l4[257] = pte(5, P | RW);
    tab(5)[0] = pte(6, P | RW);
    tab(6)[0] = pte(l1, P | RW);
    write_chain(l4, 0, F(1), 0, F(2), 0, l1);
    ck_assert_int_eq(baseptr(l4), 0);
    ck_assert_uint_eq(tab(l4)[257], pte(5, P | RW));
    ck_assert_int_eq(do_update_va_mapping(va_of(0, 0, 0, 1), pte(F(9), P), 0), 0);
    ck_assert_int_eq(do_update_va_mapping(va_of(257, 0, 0, 1), pte(F(9), P | RW), 0), -XEN_EINVAL);
    ck_assert_uint_eq(tab(l1)[1], pte(F(9), P | US) | _PAGE_GUEST_KERNEL);
    ASSERT_AUDIT();
}
END_TEST

START_TEST(update_va_mapping_needs_validated_l1)
{
    /* The walk follows the kernel root only through validated tables; an
     * L2 entry with PSE can never be there, since validation refuses it. */
    mfn_t l4 = F(0), l2 = F(2);
    write_chain(l4, 0, F(1), 0, l2, 0, F(3));
    tab(l2)[1] = pte(F(4), P | _PAGE_PSE);
    ck_assert_int_eq(baseptr(l4), -XEN_EINVAL);
    tab(l2)[1] = 0;
    ck_assert_int_eq(baseptr(l4), 0);
    ck_assert_int_eq(set_entry(l2, 1, pte(F(4), P | _PAGE_PSE)), -XEN_EINVAL);
    ck_assert_int_eq(do_update_va_mapping(va_of(0, 0, 1, 0), pte(F(5), P), 0), -XEN_EINVAL);
    ck_assert_int_eq(do_update_va_mapping(va_of(0, 0, 0, 0), pte(F(5), P), 0), 0);
    ASSERT_AUDIT();
}
END_TEST

/* ---- memory_op: giving frames back ---- */

static long decrease_one(mfn_t m)
{
    uint64_t list = harness_guest_alloc(8),
             arg = harness_guest_alloc(sizeof(struct xen_memory_reservation));
    *(uint64_t *)harness_guest_ptr(list) = m;
    struct xen_memory_reservation *r = harness_guest_ptr(arg);
    *r =
        (struct xen_memory_reservation){.extent_start = list, .nr_extents = 1, .domid = DOMID_SELF};
    return do_memory_op(XENMEM_decrease_reservation, arg);
}

START_TEST(decrease_reservation_of_mapped_frame)
{
    mfn_t u = F(0), x = F(1);
    ck_assert_int_eq(pin(u, 1), 0);
    ck_assert_int_eq(set_entry(u, 0, pte(x, P | RW)), 0);
    unsigned long tot = d1->tot_pages, free0 = harness_free_frames();
    ck_assert_int_eq(decrease_one(u), 0);          /* pinned: refused (the loop stops at 0) */
    ck_assert_int_eq(decrease_one(x), 1);
    ck_assert_uint_eq(d1->tot_pages, tot - 1);
    ASSERT_PG(x, 1, PGT_writable, 1);             /* the mapping keeps it alive */
    ck_assert_uint_eq(pg(x)->flags & PGF_allocated, 0);
    ck_assert_uint_eq(m2p_table[x], INVALID_M2P_ENTRY);
    ASSERT_AUDIT();
    ck_assert_int_eq(set_entry(u, 1, pte(x, P)), -XEN_EINVAL);   /* no new references */
    ck_assert_int_eq(set_entry(u, 0, 0), 0);
    ck_assert_uint_eq(pg(x)->owner, DOMID_INVALID);             /* freed on the last put */
    ck_assert_uint_eq(harness_free_frames(), free0 + 1);
    ck_assert_int_eq(decrease_one(x), 0);
    ASSERT_AUDIT();
}
END_TEST

/* ---- seeded random operations, audited after every step ---- */


/* Frame roles in the random domain: which level each frame is mostly used
 * as (0 = data). */
static unsigned role(unsigned i) { return i < 6 ? 4 : i < 14 ? 3 : i < 26 ? 2 : i < 42 ? 1 : 0; }

static mfn_t rnd_base2;

static mfn_t rnd_any_frame(void)
{
    unsigned c = below(100);
    if (c < 90)
        return F(below(NR_FRAMES));
    if (c < 94)
        return rnd_base2 + below(4);
    if (c < 97)
        return 1 + below(HARNESS_FIRST_FREE - 1);
    if (c < 99)
        return d1->shared_info_mfn;
    return max_mfn + below(3);
}

/* A frame meant for `level` (0 = data) most of the time. */
static mfn_t rnd_frame_for(unsigned level)
{
    if (!chance(80))
        return rnd_any_frame();
    for (;;) {
        unsigned i = below(NR_FRAMES);
        if (role(i) == level)
            return F(i);
    }
}

static uint64_t rnd_entry(unsigned level)
{
    if (chance(15))
        return chance(50) ? 0 : pte(rnd_any_frame(), RW);   /* not present */
    uint64_t e = pte(rnd_frame_for(level - 1), P);
    if (chance(50))
        e |= RW;
    if (chance(30))
        e |= US;
    if (chance(20))
        e |= _PAGE_ACCESSED | _PAGE_DIRTY;
    if (chance(5)) {
        static const uint64_t odd[] = { _PAGE_PSE, _PAGE_PWT, _PAGE_PCD, _PAGE_GLOBAL, _PAGE_GNTTAB,
                                        _PAGE_NX, 1ull << 52, _PAGE_AVAIL };
        e |= odd[below(ARRAY_SIZE(odd))];
    }
    return e;
}

static unsigned rnd_index(void)
{
    unsigned c = below(100);
    return c < 60 ? below(4) : c < 80 ? 254 + below(20) : below(512);
}

/* A validated page-table frame of the domain, or any frame. */
static mfn_t rnd_table(void)
{
    mfn_t cand[NR_FRAMES];
    unsigned n = 0;
    for (unsigned i = 0; i < NR_FRAMES; i++)
        if (pg(F(i))->flags & PGF_validated)
            cand[n++] = F(i);
    if (n && chance(75))
        return cand[below(n)];
    return rnd_any_frame();
}

struct snapshot {
    struct page_info ft[HARNESS_NR_FRAMES];
    uint64_t m2p[HARNESS_NR_FRAMES];
    mfn_t kernel, user;
};
static struct snapshot snap;

static void take_snapshot(void)
{
    memcpy(snap.ft, frame_table, sizeof(snap.ft));
    memcpy(snap.m2p, m2p_table, sizeof(snap.m2p));
    snap.kernel = v1->guest_table;
    snap.user = v1->guest_table_user;
}

static void check_unchanged(unsigned step, const char *what)
{
    for (mfn_t m = 0; m < max_mfn; m++)
        FAST_ASSERT_MSG(!memcmp(&snap.ft[m], &frame_table[m], sizeof(snap.ft[m])),
                        "step %u: failed %s changed mfn %lu", step, what, (unsigned long)m);
    FAST_ASSERT_MSG(!memcmp(snap.m2p, m2p_table, sizeof(snap.m2p)),
                    "step %u: failed %s changed the M2P", step, what);
    FAST_ASSERT_MSG(snap.kernel == v1->guest_table && snap.user == v1->guest_table_user,
                    "step %u: failed %s changed a base pointer", step, what);
}

static uint64_t adjusted(uint64_t e, unsigned level)
{
    if (!(e & P))
        return e;
    if (level == 1)
        return (e & US) ? e : e | US | _PAGE_GUEST_KERNEL;
    return e | US | (level == 4 ? _PAGE_ACCESSED : 0);
}

/* One random step; returns its name for messages. */
static const char *random_step(unsigned step)
{
    unsigned c = below(100);
    long rc;
    take_snapshot();
    if (c < 15) {
        unsigned i = below(NR_FRAMES);
        mfn_t m = chance(85) ? F(i) : rnd_any_frame();
        unsigned level = (chance(80) && role(i)) ? role(i) : 1 + below(4);
        bool must = m == F(i) && (pg(m)->flags & PGF_validated) && pg(m)->type == level &&
                    !(pg(m)->flags & PGF_pinned);
        rc = pin(m, level);
        FAST_ASSERT_MSG(!must || rc == 0, "step %u: pin of validated L%u mfn %lu failed: %ld", step,
                        level, (unsigned long)m, rc);
        if (rc)
            check_unchanged(step, "pin");
        else
            FAST_ASSERT_MSG(pg(m)->flags & PGF_pinned, "step %u: pin did not pin", step);
        return "pin";
    }
    if (c < 25) {
        mfn_t m = rnd_any_frame();
        for (unsigned i = 0; i < NR_FRAMES && chance(80); i++)
            if (pg(F((i + step) % NR_FRAMES))->flags & PGF_pinned)
                m = F((i + step) % NR_FRAMES);
        bool was = mfn_valid(m) && pg(m)->owner == 1 && (pg(m)->flags & PGF_pinned);
        rc = unpin(m);
        FAST_ASSERT_MSG((rc == 0) == was, "step %u: unpin of mfn %lu returned %ld", step,
                        (unsigned long)m, rc);
        if (rc)
            check_unchanged(step, "unpin");
        return "unpin";
    }
    if (c < 62) {
        mfn_t t = rnd_table();
        unsigned idx = rnd_index(), cmd = chance(85)   ? MMU_NORMAL_PT_UPDATE
                                          : chance(65) ? MMU_PT_UPDATE_PRESERVE_AD
                                                       : MMU_MACHPHYS_UPDATE;
        bool is_table = mfn_valid(t) && (pg(t)->flags & PGF_validated);
        unsigned level = is_table ? pg(t)->type : 1 + below(4);
        uint64_t val = rnd_entry(level);
        bool hv_slot = level == 4 && idx >= L4_SLOT_FIRST_HV && idx <= L4_SLOT_LAST_HV;
        uint64_t old = mfn_valid(t) ? tab(t)[idx] : 0;
        if (chance(10) && is_table && !hv_slot)
            val = chance(50) ? 0 : old;          /* must always work */
        bool must = is_table && pg(t)->owner == 1 && !hv_slot && cmd != MMU_MACHPHYS_UPDATE &&
                    (val == 0 || val == old);
        if (chance(10)) {
            /* A small batch of unrelated requests. */
            uint64_t reqs = ARG_GVA;
            struct mmu_update *r = harness_guest_ptr(reqs);
            unsigned n = 2 + below(3);
            for (unsigned k = 0; k < n; k++) {
                mfn_t bt = rnd_table();
                unsigned bl = mfn_valid(bt) && (pg(bt)->flags & PGF_validated) ? pg(bt)->type : 1;
                r[k].ptr = (bt << PAGE_SHIFT) + rnd_index() * 8 + MMU_NORMAL_PT_UPDATE;
                r[k].val = rnd_entry(bl);
            }
            do_mmu_update(reqs, n, DONE_GVA, DOMID_SELF);
            return "mmu_update batch";
        }
        rc = mmu1((t << PAGE_SHIFT) + idx * 8 + cmd, val);
        FAST_ASSERT_MSG(!must || rc == 0,
                        "step %u: mmu_update of L%u mfn %lu[%u] to %#lx failed: %ld", step, level,
                        (unsigned long)t, idx, (unsigned long)val, rc);
        if (rc) {
            check_unchanged(step, "mmu_update");
            FAST_ASSERT_MSG(!mfn_valid(t) || tab(t)[idx] == old, "step %u: failed update stored",
                            step);
        } else if (cmd != MMU_MACHPHYS_UPDATE && is_table) {
            uint64_t want = adjusted(val, level);
            if (cmd == MMU_PT_UPDATE_PRESERVE_AD)
                want |= old & (_PAGE_ACCESSED | _PAGE_DIRTY);
            FAST_ASSERT_MSG(tab(t)[idx] == want, "step %u: stored %#lx, want %#lx", step,
                            (unsigned long)tab(t)[idx], (unsigned long)want);
        } else if (cmd != MMU_MACHPHYS_UPDATE) {
            FAST_ASSERT_MSG(tab(t)[idx] == val, "step %u: plain store lost", step);
        }
        return "mmu_update";
    }
    if (c < 72) {
        bool user = chance(30);
        mfn_t m = (user && chance(15)) ? 0 : rnd_frame_for(4);
        rc = user ? user_baseptr(m) : baseptr(m);
        if (rc)
            check_unchanged(step, "new_baseptr");
        else
            FAST_ASSERT_MSG((user ? v1->guest_table_user : v1->guest_table) == m,
                            "step %u: base pointer not set", step);
        return "new_baseptr";
    }
    {
        unsigned i4 = chance(90) ? below(2) : L4_SLOT_FIRST_HV + below(16);
        uint64_t va = va_of(i4, below(4), below(4), below(4));
        if (chance(2))
            va = 0x0000900000000000ull;      /* non-canonical */
        uint64_t val = rnd_entry(1);
        rc = do_update_va_mapping(va, val, below(3));
        if (rc)
            check_unchanged(step, "update_va_mapping");
        FAST_ASSERT_MSG(!(va >= HYPERVISOR_VIRT_START && va < HYPERVISOR_VIRT_END) ||
                            rc == -XEN_EINVAL,
                        "step %u: update_va_mapping in the hole returned %ld", step, rc);
        return "update_va_mapping";
    }
}

START_TEST(random_operations_keep_invariants)
{
    bool privileged = _i == 3;
    rng = 0x9e3779b97f4a7c15ull * (uint64_t)(_i + 1);
    if (privileged) {
        /* Same frames, but d1 may map other domains' frames at L1. */
        d1->is_privileged = true;
    }
    harness_domain_create(2, false, 4, &rnd_base2);
    unsigned steps_with_root = 0, max_validated = 0;
    for (unsigned step = 0; step < 3000; step++) {
        const char *what = random_step(step);
        const char *why = harness_audit();
        FAST_ASSERT_MSG(why == NULL, "seed %d step %u (%s): %s", _i, step, what, why);
        steps_with_root += v1->guest_table != 0;
        unsigned validated = 0;
        for (unsigned i = 0; i < NR_FRAMES; i++)
            validated += (pg(F(i))->flags & PGF_validated) != 0;
        max_validated = MAX(max_validated, validated);
    }
    /* The sequence did build something worth auditing. */
    ck_assert_uint_gt(steps_with_root, 300);
    ck_assert_uint_ge(max_validated, 8);
    /* Release everything: pins, both roots (the kernel one by hand, as
     * domain teardown does); every count is back to allocation only. */
    for (mfn_t m = 0; m < max_mfn; m++)
        if (pg(m)->owner == 1 && (pg(m)->flags & PGF_pinned))
            ck_assert_int_eq(unpin(m), 0);
    ck_assert_int_eq(user_baseptr(0), 0);
    if (v1->guest_table) {
        mfn_t root = v1->guest_table;
        v1->guest_table = 0;
        pv_put_page_type(pg(root));
        pv_put_page(pg(root));
    }
    ASSERT_AUDIT();
    ASSERT_DOMAIN_ALLOC_ONLY(d1);
    ASSERT_DOMAIN_ALLOC_ONLY(domain_by_id(2));
    ck_assert_uint_eq(pg(d1->shared_info_mfn)->count, 0);
    for (mfn_t m = 0; m < HARNESS_FIRST_FREE; m++)
        ck_assert_uint_eq(pg(m)->count, 0);
}
END_TEST

static Suite *pv_mm_suite(void)
{
    Suite *s = suite_create("pv_mm");
    TCase *tc = tcase_create("rules");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, l1_validation_refs);
    tcase_add_test(tc, l4_to_l1_validation_refs);
    tcase_add_test(tc, rw_mapping_of_page_table_refused);
    tcase_add_test(tc, pin_of_writably_mapped_frame_refused);
    tcase_add_test(tc, linear_page_tables_refused);
    tcase_add_test(tc, failed_validation_releases_what_it_took);
    tcase_add_test(tc, forbidden_bits_refused);
    tcase_add_test(tc, foreign_and_hypervisor_frames_refused);
    tcase_add_test(tc, privileged_domain_maps_foreign_data_only);
    tcase_add_test(tc, device_memory_privileged_domain_only);
    tcase_add_test(tc, shared_hypervisor_page_never_a_table);
    tcase_add_test(tc, hypervisor_l4_slots);
    tcase_add_test(tc, pin_twice_and_unpin_unpinned);
    tcase_add_test(tc, unpin_devalidates_and_releases_everything);
    tcase_add_test(tc, new_baseptr_swaps_references);
    tcase_add_test(tc, mmu_update_plain_store_needs_writable_type);
    tcase_add_test(tc, mmu_update_preserve_ad);
    tcase_add_test(tc, mmu_update_flushes_only_above_l1);
    tcase_add_test(tc, machphys_update_own_frames_only);
    tcase_add_test(tc, mmu_update_done_counter_and_errors);
    tcase_add_test(tc, mmu_update_continuation);
    tcase_add_test(tc, no_continuation_inside_multicall);
    tcase_add_test(tc, mmuext_op_continuation);
    tcase_add_test(tc, mmuext_misc_ops);
    tcase_add_test(tc, update_va_mapping_through_current_l4);
    tcase_add_test(tc, update_va_mapping_refuses_the_hole);
    tcase_add_test(tc, update_va_mapping_needs_validated_l1);
    tcase_add_test(tc, decrease_reservation_of_mapped_frame);
    suite_add_tcase(s, tc);
    TCase *rnd_tc = tcase_create("random");
    tcase_add_checked_fixture(rnd_tc, setup, teardown);
    tcase_set_timeout(rnd_tc, 120);
    tcase_add_loop_test(rnd_tc, random_operations_keep_invariants, 0, 4);
    suite_add_tcase(s, rnd_tc);
    return s;
}

UNIT_MAIN(pv_mm_suite)

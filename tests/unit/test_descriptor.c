/* SPDX-License-Identifier: MIT */
/*
 * hv/arch/x86_64/pv/descriptor.c on the host (behind hv_harness.h): which
 * descriptors a guest may install (xen-pv-abi.md §4.7), and the references
 * set_gdt and update_descriptor take and drop (segment-descriptor pages are
 * never writable while typed, §5.1), with the per-CPU copy kept in step;
 * and the LDT, whose frames are taken on first use.
 */
#include "unit.h"
#include "hv_harness.h"
#include "hv_asserts.h"

#define P   _PAGE_PRESENT
#define RW  _PAGE_RW
#define NR_FRAMES 32

/* Descriptors (Intel SDM vol. 3 §3.4.5, §7.2.3). */
#define CODE64_DPL0 0x00af9a000000ffffull   /* present, S, execute/read, L */
#define CODE64_DPL3 0x00affa000000ffffull
#define DATA_DPL0   0x00cf92000000ffffull   /* present, S, read/write */
#define DATA_DPL3   0x00cff2000000ffffull
#define RODATA_DPL3 0x00cff0000000ffffull   /* read-only data */
#define TSS64       0x0000890000000067ull   /* available 64-bit TSS */
#define LDT_DESC    0x0000820000000fffull
#define CALL_GATE   0x0000ec000033e000ull   /* DPL3 gate to 0xe033:0 */
#define INT_GATE    0x00008e0000080000ull
#define TRAP_GATE   0x0000ef0000080000ull
#define NOT_PRESENT 0x00cf7a000000ffffull   /* anything with P clear */

static struct domain *d1;
static struct vcpu *v1;
static mfn_t base1;

static mfn_t F(unsigned i)
{
    ck_assert_uint_lt(i, NR_FRAMES);
    return base1 + i;
}


static void setup(void)
{
    harness_reset();
    d1 = harness_domain_create(1, false, NR_FRAMES, &base1);
    v1 = d1->vcpus[0];
    harness_set_current(v1);
}

static void teardown(void) {}

/* set_gdt with the frames listed, through guest memory. */
static long set_gdt(const mfn_t *frames, unsigned nr, uint64_t entries)
{
    uint64_t list = harness_guest_alloc(16 * sizeof(uint64_t));
    uint64_t *l = harness_guest_ptr(list);
    for (unsigned i = 0; i < nr; i++)
        l[i] = frames[i];
    return do_set_gdt(list, entries);
}
static long set_gdt1(mfn_t m, uint64_t entries) { return set_gdt(&m, 1, entries); }
static long update_desc(mfn_t m, unsigned idx, uint64_t desc)
{
    return do_update_descriptor((m << PAGE_SHIFT) + idx * 8, desc);
}

/* ---- §4.7 legality ---- */

START_TEST(descriptor_legality)
{
    mfn_t g = F(0);
    const struct {
        uint64_t in, stored;
    } ok[] = {
        { 0, 0 },
        { NOT_PRESENT, NOT_PRESENT },           /* not present: anything */
        { 0x0000123456789abcull, 0x0000123456789abcull },
        { CODE64_DPL0, CODE64_DPL3 },           /* DPL raised to 3 */
        { CODE64_DPL3, CODE64_DPL3 },
        { DATA_DPL0, DATA_DPL3 },
        { RODATA_DPL3, RODATA_DPL3 },
        { 0x0000800000000000ull, 0x0000800000000000ull },   /* empty system descriptor */
        { 0x0000e00000000000ull, 0x0000e00000000000ull },
    };
    const uint64_t bad[] = { TSS64, TSS64 | (3ull << 45), LDT_DESC, CALL_GATE, INT_GATE, TRAP_GATE,
                             0x0000800000000001ull /* type 0 with a limit */ };
    for (unsigned i = 0; i < ARRAY_SIZE(ok); i++) {
        ck_assert_msg(update_desc(g, i, ok[i].in) == 0, "descriptor %#lx refused",
                      (unsigned long)ok[i].in);
        ck_assert_uint_eq(tab(g)[i], ok[i].stored);
    }
    for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
        ck_assert_msg(update_desc(g, 100 + i, bad[i]) == -XEN_EINVAL, "descriptor %#lx accepted",
                      (unsigned long)bad[i]);
        ck_assert_uint_eq(tab(g)[100 + i], 0);
    }
    ASSERT_ALLOC_ONLY(g);
    /* The same rules when a page is validated for set_gdt: legal pages are
     * rewritten in place (DPL 3), a page with one bad descriptor anywhere
     * is refused and keeps no type. */
    mfn_t h = F(1);
    tab(h)[0] = CODE64_DPL0;
    tab(h)[1] = DATA_DPL0;
    tab(h)[2] = NOT_PRESENT;
    ck_assert_int_eq(set_gdt1(h, 16), 0);
    ck_assert_uint_eq(tab(h)[0], CODE64_DPL3);
    ck_assert_uint_eq(tab(h)[1], DATA_DPL3);
    ck_assert_uint_eq(tab(h)[2], NOT_PRESENT);
    for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
        mfn_t b = F(2);
        memset(tab(b), 0, PAGE_SIZE);
        tab(b)[0] = DATA_DPL0;
        tab(b)[511] = bad[i];
        ck_assert_int_eq(set_gdt1(b, 512), -XEN_EINVAL);
        ASSERT_ALLOC_ONLY(b);
        ck_assert_uint_eq(tab(b)[0], DATA_DPL0);    /* nothing rewritten */
    }
    ck_assert_uint_eq(v1->gdt_frames[0], h);       /* the old GDT stays */
    ASSERT_AUDIT();
}
END_TEST

/* ---- set_gdt ---- */

START_TEST(set_gdt_takes_and_swaps_references)
{
    mfn_t g = F(0), h = F(1);
    for (unsigned i = 0; i < 20; i++) {
        tab(g)[i] = DATA_DPL3 | ((uint64_t)i << 16);
        tab(h)[i] = CODE64_DPL3 | ((uint64_t)i << 16);
    }
    uint64_t *gdt = harness_gdt();
    ck_assert_int_eq(set_gdt1(g, 16), 0);
    ASSERT_PG(g, 2, PGT_seg_desc, 1);
    ck_assert_uint_eq(v1->gdt_frames[0], g);
    ck_assert_uint_eq(v1->gdt_ents, 16);
    for (unsigned i = 0; i < 16; i++)
        ck_assert_uint_eq(gdt[i], tab(g)[i]);
    ck_assert_uint_eq(gdt[16], 0);
    ASSERT_AUDIT();
    /* Swap: the old frame is released, the copy follows. */
    ck_assert_int_eq(set_gdt1(h, 20), 0);
    ASSERT_ALLOC_ONLY(g);
    ASSERT_PG(h, 2, PGT_seg_desc, 1);
    for (unsigned i = 0; i < 20; i++)
        ck_assert_uint_eq(gdt[i], tab(h)[i]);
    /* Fewer entries: what the previous GDT left beyond is cleared. */
    ck_assert_int_eq(set_gdt1(g, 4), 0);
    ASSERT_ALLOC_ONLY(h);
    for (unsigned i = 0; i < 4; i++)
        ck_assert_uint_eq(gdt[i], tab(g)[i]);
    for (unsigned i = 4; i < 20; i++)
        ck_assert_uint_eq(gdt[i], 0);
    /* The same frame again, twice in one list, then two frames. */
    ck_assert_int_eq(set_gdt1(g, 4), 0);
    ASSERT_PG(g, 2, PGT_seg_desc, 1);
    const mfn_t twice[] = { g, g };
    ck_assert_int_eq(set_gdt(twice, 2, 1024), 0);
    ASSERT_PG(g, 3, PGT_seg_desc, 2);
    const mfn_t two[] = { h, g };
    ck_assert_int_eq(set_gdt(two, 2, 600), 0);
    ASSERT_PG(g, 2, PGT_seg_desc, 1);
    ASSERT_PG(h, 2, PGT_seg_desc, 1);
    ck_assert_uint_eq(gdt[512], tab(g)[0]);
    ASSERT_AUDIT();
    /* No entries: everything released. */
    ck_assert_int_eq(do_set_gdt(0, 0), 0);
    ASSERT_ALLOC_ONLY(g);
    ASSERT_ALLOC_ONLY(h);
    ck_assert_uint_eq(v1->gdt_ents, 0);
    for (unsigned i = 0; i < 600; i++)
        FAST_ASSERT(gdt[i] == 0);
    /* The most entries a guest may have, and one more. */
    mfn_t many[15];
    for (unsigned i = 0; i < 15; i++)
        many[i] = F(2 + i);
    ck_assert_int_eq(set_gdt(many, 15, FIRST_RESERVED_GDT_ENTRY + 1), -XEN_EINVAL);
    ASSERT_ALLOC_ONLY(F(16));
    ck_assert_int_eq(set_gdt(many, 14, FIRST_RESERVED_GDT_ENTRY), 0);
    ASSERT_PG(F(15), 2, PGT_seg_desc, 1);
    pv_vcpu_release_desc_tables(v1);
    for (unsigned i = 0; i < 14; i++)
        ASSERT_ALLOC_ONLY(many[i]);
    ASSERT_AUDIT();
}
END_TEST

START_TEST(set_gdt_refusals_release_what_was_taken)
{
    mfn_t g = F(0), h = F(1), l1 = F(2), x = F(3), base2;
    harness_domain_create(2, false, 2, &base2);
    ck_assert_int_eq(set_gdt1(g, 8), 0);
    /* A second frame that fails (page table, foreign, hypervisor's,
     * writably mapped, beyond RAM): the first is released again, the old
     * GDT stays. */
    ck_assert_int_eq(pv_pin_table(d1, l1, PGT_l1), 0);
    ck_assert_int_eq(pv_mod_l1_entry(mfn_to_page(l1), 0, pte(x, P | RW), d1), 0);
    const mfn_t bad[] = { l1, base2, 3, x, max_mfn };
    for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
        const mfn_t list[] = { h, bad[i] };
        ck_assert_msg(set_gdt(list, 2, 1000) == -XEN_EINVAL, "frame %lu accepted",
                      (unsigned long)bad[i]);
        ASSERT_ALLOC_ONLY(h);
        ASSERT_PG(g, 2, PGT_seg_desc, 1);
        ck_assert_uint_eq(v1->gdt_frames[0], g);
        ck_assert_uint_eq(v1->gdt_ents, 8);
    }
    ASSERT_PG(x, 2, PGT_writable, 1);
    /* The list itself unreadable. */
    ck_assert_int_eq(do_set_gdt(0x1000, 8), -XEN_EFAULT);
    ck_assert_uint_eq(v1->gdt_frames[0], g);
    ASSERT_AUDIT();
    /* While typed, the frame can be mapped read-only but never writable. */
    ck_assert_int_eq(pv_mod_l1_entry(mfn_to_page(l1), 1, pte(g, P), d1), 0);
    ck_assert_int_eq(pv_mod_l1_entry(mfn_to_page(l1), 2, pte(g, P | RW), d1), -XEN_EINVAL);
    ASSERT_AUDIT();
}
END_TEST

START_TEST(shared_hypervisor_page_never_a_gdt)
{
    /* shared_info's contents change under the hypervisor's own writes
     * (event bits a guest sets at will): as a descriptor page they would
     * reach the CPU's GDT unchecked on the next pv_load_gdt. */
    long rc = set_gdt1(d1->shared_info_mfn, 512);
    if (rc == 0) {
        /* Events on ports 64-127 set bits of evtchn_pending[1], GDT entry 257. */
        d1->shared_info->evtchn_pending[1] = 0x0000ec00e008f000ull;   /* DPL3 call gate to HV_CS */
        pv_load_gdt(v1, 512);
        ck_abort_msg("shared_info accepted as a GDT frame; after events the CPU's GDT entry 257 "
                     "is %#lx", (unsigned long)harness_gdt()[257]);
    }
    ck_assert_int_eq(rc, -XEN_EINVAL);
    ASSERT_AUDIT();
}
END_TEST

/* ---- update_descriptor ---- */

START_TEST(update_descriptor_references)
{
    mfn_t w = F(0), g = F(1), l1 = F(2), base2;
    harness_domain_create(2, false, 2, &base2);
    /* Untyped: written, and untyped again after. */
    ck_assert_int_eq(update_desc(w, 3, DATA_DPL0), 0);
    ck_assert_uint_eq(tab(w)[3], DATA_DPL3);
    ASSERT_ALLOC_ONLY(w);
    /* Writably mapped: fine, the mapping's type stays. */
    ck_assert_int_eq(pv_pin_table(d1, l1, PGT_l1), 0);
    ck_assert_int_eq(pv_mod_l1_entry(mfn_to_page(l1), 0, pte(w, P | RW), d1), 0);
    ck_assert_int_eq(update_desc(w, 4, CODE64_DPL3), 0);
    ASSERT_PG(w, 2, PGT_writable, 1);
    /* A page table: refused, unchanged. */
    ck_assert_int_eq(update_desc(l1, 5, DATA_DPL3), -XEN_EINVAL);
    ck_assert_uint_eq(tab(l1)[5], 0);
    ASSERT_PG(l1, 2, PGT_l1, 1);
    /* Not ours, beyond RAM, misaligned. */
    ck_assert_int_eq(update_desc(base2, 0, DATA_DPL3), -XEN_EINVAL);
    ck_assert_int_eq(update_desc(3, 0, DATA_DPL3), -XEN_EINVAL);
    ck_assert_int_eq(update_desc(max_mfn, 0, DATA_DPL3), -XEN_EINVAL);
    ck_assert_int_eq(do_update_descriptor((g << PAGE_SHIFT) + 4, DATA_DPL3), -XEN_EINVAL);
    /* A GDT frame in use: written in place, the CPU copy follows for
     * entries inside gdt_ents only (§4.7: Linux's TLS slots 12-14). */
    ck_assert_int_eq(set_gdt1(g, 16), 0);
    ck_assert_int_eq(update_desc(g, 13, DATA_DPL0), 0);
    ck_assert_uint_eq(tab(g)[13], DATA_DPL3);
    ck_assert_uint_eq(harness_gdt()[13], DATA_DPL3);
    ck_assert_int_eq(update_desc(g, 40, CODE64_DPL0), 0);
    ck_assert_uint_eq(tab(g)[40], CODE64_DPL3);
    ck_assert_uint_eq(harness_gdt()[40], 0);
    ck_assert_int_eq(update_desc(g, 14, TSS64), -XEN_EINVAL);
    ck_assert_uint_eq(harness_gdt()[14], 0);
    ASSERT_PG(g, 2, PGT_seg_desc, 1);
    ASSERT_AUDIT();
}
END_TEST

/* ---- selectors ---- */

START_TEST(selector_usable)
{
    mfn_t g = F(0);
    tab(g)[1] = CODE64_DPL0;
    tab(g)[2] = DATA_DPL0;
    tab(g)[3] = RODATA_DPL3;
    tab(g)[4] = NOT_PRESENT;
    tab(g)[5] = 0x0000e00000000000ull;   /* empty system descriptor */
    ck_assert_int_eq(set_gdt1(g, 8), 0);
    ck_assert(pv_selector_usable(v1, FLAT_RING3_CS64, true));
    ck_assert(pv_selector_usable(v1, FLAT_RING3_CS32, true));
    ck_assert(!pv_selector_usable(v1, FLAT_RING3_CS64, false));
    ck_assert(pv_selector_usable(v1, FLAT_RING3_DS32, false));
    ck_assert(!pv_selector_usable(v1, FLAT_RING3_DS32, true));
    ck_assert(pv_selector_usable(v1, 1 << 3 | 3, true));
    ck_assert(!pv_selector_usable(v1, 1 << 3 | 3, false));
    ck_assert(!pv_selector_usable(v1, 1 << 3 | 0, true));      /* RPL 0 */
    ck_assert(!pv_selector_usable(v1, 1 << 3 | 1, true));
    ck_assert(pv_selector_usable(v1, 2 << 3 | 3, false));
    ck_assert(!pv_selector_usable(v1, 2 << 3 | 3, true));
    ck_assert(!pv_selector_usable(v1, 3 << 3 | 3, false));     /* read-only data */
    ck_assert(!pv_selector_usable(v1, 4 << 3 | 3, false));     /* not present */
    ck_assert(!pv_selector_usable(v1, 4 << 3 | 3, true));
    ck_assert(!pv_selector_usable(v1, 5 << 3 | 3, false));     /* system */
    ck_assert(!pv_selector_usable(v1, 0 << 3 | 3, false));     /* null */
    ck_assert(!pv_selector_usable(v1, 8 << 3 | 3, false));     /* beyond gdt_ents */
    ck_assert(!pv_selector_usable(v1, 2 << 3 | 7, false));     /* LDT: none set */
    ck_assert(!pv_selector_usable(v1, (FIRST_RESERVED_GDT_ENTRY + 1) << 3 | 3, true));
}
END_TEST

/* ---- LDT (MMUEXT_SET_LDT, taken lazily) ---- */

#define US _PAGE_USER
#define LDT_VA 0x5000ull   /* L1 slot 5 of the test address space */

/* v1's kernel root maps F(14) read-only at LDT_VA and F(15) writable right
 * after it, through L4 F(10) .. L1 F(13). */
static void ldt_address_space(void)
{
    tab(F(10))[0] = pte(F(11), P | RW | US);
    tab(F(11))[0] = pte(F(12), P | RW | US);
    tab(F(12))[0] = pte(F(13), P | RW | US);
    tab(F(13))[5] = pte(F(14), P | US);
    tab(F(13))[6] = pte(F(15), P | RW | US);
    ck_assert_int_eq(pv_set_baseptr(v1, F(10), false), 0);
    ASSERT_AUDIT();
}

START_TEST(ldt_taken_on_first_use)
{
    ldt_address_space();
    tab(F(14))[0] = 0;
    tab(F(14))[1] = DATA_DPL0;
    tab(F(14))[2] = CODE64_DPL3;
    ck_assert_int_eq(pv_set_ldt(v1, LDT_VA, 3), 0);
    ASSERT_PG(F(14), 2, PGT_none, 0);            /* recorded, nothing taken */
    ck_assert_uint_eq(harness_ldt_loaded(), 0);
    ck_assert(!pv_ldt_fault(v1, 1 << 3));         /* a GDT selector */
    ck_assert(!pv_ldt_fault(v1, 3 << 3 | 4));     /* beyond ldt_ents */
    ck_assert(!pv_ldt_fault(v1, 1 << 3 | 6));     /* an IDT vector */
    ASSERT_PG(F(14), 2, PGT_none, 0);
    ck_assert(pv_ldt_fault(v1, 1 << 3 | 4));
    ASSERT_PG(F(14), 3, PGT_seg_desc, 1);
    ck_assert_uint_eq(harness_ldt_loaded(), 3);
    ck_assert_uint_eq(cpu_ldt()[1], DATA_DPL3);   /* validated: DPL raised */
    ck_assert_uint_eq(cpu_ldt()[2], CODE64_DPL3);
    ck_assert(!pv_ldt_fault(v1, 1 << 3 | 4));     /* loaded: the guest's own #GP */
    ck_assert(pv_selector_usable(v1, 1 << 3 | 7, false));
    ck_assert(!pv_selector_usable(v1, 1 << 3 | 7, true));
    ck_assert(pv_selector_usable(v1, 2 << 3 | 7, true));
    ck_assert(!pv_selector_usable(v1, 0 << 3 | 7, false));
    ck_assert(!pv_selector_usable(v1, 3 << 3 | 7, false));
    /* A typed LDT page can no longer be mapped writable... */
    ck_assert_int_eq(pv_mod_l1_entry(mfn_to_page(F(13)), 7, pte(F(14), P | RW | US), d1), -XEN_EINVAL);
    /* ...and update_descriptor keeps the running copy in step. */
    ck_assert_int_eq(update_desc(F(14), 2, NOT_PRESENT), 0);
    ck_assert_uint_eq(cpu_ldt()[2], NOT_PRESENT);
    ck_assert(!pv_selector_usable(v1, 2 << 3 | 7, true));
    ASSERT_AUDIT();
    /* A new SET_LDT gives the frames back and unloads the LDT. */
    ck_assert_int_eq(pv_set_ldt(v1, 0, 0), 0);
    ASSERT_PG(F(14), 2, PGT_none, 0);
    ck_assert_uint_eq(harness_ldt_loaded(), 0);
    ck_assert(!pv_selector_usable(v1, 1 << 3 | 7, false));
    ASSERT_AUDIT();
}
END_TEST

START_TEST(ldt_refusals_take_nothing)
{
    ldt_address_space();
    /* Writably mapped: cannot become a descriptor page. */
    ck_assert_int_eq(pv_set_ldt(v1, LDT_VA + PAGE_SIZE, 4), 0);
    ck_assert(!pv_ldt_fault(v1, 0 << 3 | 4));
    ASSERT_PG(F(15), 2, PGT_writable, 1);
    /* Two pages, the second writable: all or nothing. */
    ck_assert_int_eq(pv_set_ldt(v1, LDT_VA, 513), 0);
    ck_assert(!pv_ldt_fault(v1, 512 << 3 | 4));
    ck_assert(!pv_selector_usable(v1, 1 << 3 | 7, false));
    ASSERT_PG(F(14), 2, PGT_none, 0);
    ck_assert(!v1->ldt_loaded);
    /* Not mapped at all. */
    ck_assert_int_eq(pv_set_ldt(v1, LDT_VA + 8 * PAGE_SIZE, 1), 0);
    ck_assert(!pv_ldt_fault(v1, 0 << 3 | 4));
    /* A page holding an illegal descriptor. */
    tab(F(14))[7] = TSS64;
    ck_assert_int_eq(pv_set_ldt(v1, LDT_VA, 1), 0);
    ck_assert(!pv_ldt_fault(v1, 0 << 3 | 4));
    ASSERT_PG(F(14), 2, PGT_none, 0);
    ck_assert_uint_eq(harness_ldt_loaded(), 0);
    ASSERT_AUDIT();
}
END_TEST

START_TEST(ldt_released_with_the_vcpu)
{
    ldt_address_space();
    ck_assert_int_eq(pv_set_ldt(v1, LDT_VA, 8), 0);
    ck_assert(pv_ldt_fault(v1, 0 << 3 | 4));
    ASSERT_PG(F(14), 3, PGT_seg_desc, 1);
    pv_vcpu_release_desc_tables(v1);
    ASSERT_PG(F(14), 2, PGT_none, 0);
    ck_assert_uint_eq(v1->ldt_ents, 0);
    ASSERT_AUDIT();
}
END_TEST

static Suite *descriptor_suite(void)
{
    Suite *s = suite_create("descriptor");
    TCase *tc = tcase_create("gdt");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, descriptor_legality);
    tcase_add_test(tc, set_gdt_takes_and_swaps_references);
    tcase_add_test(tc, set_gdt_refusals_release_what_was_taken);
    tcase_add_test(tc, shared_hypervisor_page_never_a_gdt);
    tcase_add_test(tc, update_descriptor_references);
    tcase_add_test(tc, selector_usable);
    tcase_add_test(tc, ldt_taken_on_first_use);
    tcase_add_test(tc, ldt_refusals_take_nothing);
    tcase_add_test(tc, ldt_released_with_the_vcpu);
    suite_add_tcase(s, tc);
    return s;
}

UNIT_MAIN(descriptor_suite)

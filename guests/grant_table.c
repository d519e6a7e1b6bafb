/* SPDX-License-Identifier: MIT */
/*
 * grant_table: the backend side of grant tables v1 through the hypercall
 * ABI (xen-pv-abi.md §7; docs/grant-tables.md). The guest grants pages of
 * its own to itself (a domain may map its own grants, as in Xen), then maps
 * them by virtual address and by PTE address, copies through them, and
 * checks the refusals: bad handles, revoked or foreign-domid entries,
 * read-only grants, page tables, frames that are not the granter's.
 */
#include <lamina/string.h>
#include <public/grant_table.h>
#include <guest/hypercall.h>
#include <guest/runtime.h>
#include <guest/test.h>
#include <guest/traps.h>

#define SELF 0                         /* the first domain is domain 0 */
#define PTE_RW_FLAGS (PTE_P | PTE_RW | PTE_A | PTE_D)
#define PTE_GNTTAB (1UL << 62)

static uint8_t table_page[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
static uint8_t src[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
static uint8_t window[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
static uint8_t dst[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));

static volatile struct grant_entry_v1 *gt;
static uint64_t window_mfn;

static uint64_t va(const void *p) { return (uint64_t)(uintptr_t)p; }

static void grant(uint32_t ref, uint16_t domid, uint64_t frame, uint16_t flags)
{
    gt[ref].domid = domid;
    gt[ref].frame = (uint32_t)frame;
    __asm__ volatile("" ::: "memory");   /* (x86: stores are not reordered) */
    gt[ref].flags = flags;
}

static long map(uint32_t ref, uint32_t flags, uint64_t host_addr, uint32_t *handle, uint64_t *bus)
{
    struct gnttab_map_grant_ref op = { .host_addr = host_addr, .flags = flags, .ref = ref, .dom = SELF };
    long rc = hypercall3(__HYPERVISOR_grant_table_op, GNTTABOP_map_grant_ref, &op, 1);
    if (rc)
        return 1000 + rc;   /* a call-level error: no status could match it */
    if (handle)
        *handle = op.handle;
    if (bus)
        *bus = op.dev_bus_addr;
    return op.status;
}

static long unmap(uint32_t handle, uint64_t host_addr)
{
    struct gnttab_unmap_grant_ref op = { .host_addr = host_addr, .handle = handle };
    long rc = hypercall3(__HYPERVISOR_grant_table_op, GNTTABOP_unmap_grant_ref, &op, 1);
    return rc ? 1000 + rc : op.status;
}

static long copy(uint64_t s, uint16_t sdom, uint16_t soff, uint64_t d, uint16_t ddom, uint16_t doff,
                 uint16_t len, uint16_t flags)
{
    struct gnttab_copy op = { .len = len, .flags = flags };
    op.source.domid = sdom;
    op.source.offset = soff;
    op.dest.domid = ddom;
    op.dest.offset = doff;
    if (flags & GNTCOPY_source_gref)
        op.source.u.ref = (uint32_t)s;
    else
        op.source.u.gmfn = s;
    if (flags & GNTCOPY_dest_gref)
        op.dest.u.ref = (uint32_t)d;
    else
        op.dest.u.gmfn = d;
    long rc = hypercall3(__HYPERVISOR_grant_table_op, GNTTABOP_copy, &op, 1);
    return rc ? 1000 + rc : op.status;
}

static void restore_window(void)
{
    hyp_update_va_mapping(va(window), (window_mfn << 12) | PTE_RW_FLAGS, UVMF_INVLPG);
}

/* Machine address of the L1 entry that maps `p`. */
static uint64_t l1_entry_maddr(const void *p)
{
    uint64_t l2e = 0;
    if (!pt_read_entry(va(p), 2, &l2e) || !(l2e & PTE_P))
        return 0;
    return (l2e & PTE_ADDR_MASK) + ((va(p) >> 12) & 511) * 8;
}

static bool setup_table(void)
{
    uint64_t frame = 0;
    struct gnttab_setup_table op = { .dom = DOMID_SELF, .nr_frames = 1, .frame_list = va(&frame) };
    long rc = hypercall3(__HYPERVISOR_grant_table_op, GNTTABOP_setup_table, &op, 1);
    check_int("setup_table", rc ? rc : op.status, 0);
    check_int("map_table_frame", hyp_update_va_mapping(va(table_page), (frame << 12) | PTE_RW_FLAGS, UVMF_INVLPG),
              0);
    gt = (volatile struct grant_entry_v1 *)table_page;
    return rc == 0 && op.status == 0;
}

static void test_map_by_va(void)
{
    uint64_t src_mfn = va_to_mfn(src), bus = 0, pte = 0, v = 0;
    uint32_t h = 0;
    src[0] = 0xa5;
    grant(8, SELF, src_mfn, GTF_permit_access);
    check_int("map_rw", map(8, GNTMAP_host_map, va(window), &h, &bus), GNTST_okay);
    check_hex("map_dev_bus_addr", bus, src_mfn << 12);
    check_hex("map_reads_granted_page", window[0], 0xa5);
    window[1] = 0x5a;
    check_hex("map_writes_through", ((volatile uint8_t *)src)[1], 0x5a);
    check_hex("map_sets_reading_writing", gt[8].flags, GTF_permit_access | GTF_reading | GTF_writing);
    pt_read_entry(va(window), 1, &pte);
    check_hex("map_pte_frame", pte & PTE_ADDR_MASK, src_mfn << 12);
    check_hex("map_pte_grant_bit", pte & (PTE_GNTTAB | PTE_RW), PTE_GNTTAB | PTE_RW);
    /* §7.1: the granter's revoke (compare-exchange to 0) fails while mapped. */
    uint16_t expect = GTF_permit_access;
    bool revoked = __atomic_compare_exchange_n(&gt[8].flags, &expect, 0, false, __ATOMIC_SEQ_CST,
                                               __ATOMIC_SEQ_CST);
    check_true("revoke_while_mapped_fails", !revoked, "revoked", "busy");
    check_int("unmap_bad_host_addr", unmap(h, va(dst)), GNTST_general_error);
    check_int("unmap", unmap(h, va(window)), GNTST_okay);
    check_hex("unmap_clears_reading_writing", gt[8].flags, GTF_permit_access);
    check_int("unmapped_window_faults", probe_read_u64(va(window), &v), TRAP_PF + 1);
    check_int("double_unmap_bad_handle", unmap(h, va(window)), GNTST_bad_handle);
    check_int("unknown_handle_bad_handle", unmap(12345, va(window)), GNTST_bad_handle);
    restore_window();
    check_hex("window_restored", ((volatile uint8_t *)window)[1], 0);
}

static void test_map_by_pte(void)
{
    uint64_t maddr = l1_entry_maddr(window), v = 0;
    uint32_t h = 0;
    check_cond_hex("window_l1_entry_found", maddr != 0, maddr, "a machine address");
    check_int("map_by_pte", map(8, GNTMAP_host_map | GNTMAP_contains_pte, maddr, &h, NULL), GNTST_okay);
    check_int("map_by_pte_readable", probe_read_u64(va(window), &v), 0);
    check_hex("map_by_pte_content", v & 0xffff, 0x5aa5);
    check_int("map_by_pte_misaligned", map(8, GNTMAP_host_map | GNTMAP_contains_pte, maddr + 4, NULL, NULL),
              GNTST_general_error);
    check_int("unmap_by_pte", unmap(h, maddr), GNTST_okay);
    check_hex("unmap_by_pte_flags", gt[8].flags, GTF_permit_access);
    restore_window();
}

static void test_readonly(void)
{
    uint32_t h = 0;
    uint64_t v = 0, pte = 0;
    grant(9, SELF, va_to_mfn(src), GTF_permit_access | GTF_readonly);
    check_int("readonly_grant_rw_map_refused", map(9, GNTMAP_host_map, va(window), NULL, NULL), GNTST_general_error);
    check_hex("readonly_grant_flags_untouched", gt[9].flags, GTF_permit_access | GTF_readonly);
    check_int("readonly_map", map(9, GNTMAP_host_map | GNTMAP_readonly, va(window), &h, NULL), GNTST_okay);
    pt_read_entry(va(window), 1, &pte);
    check_hex("readonly_pte_not_writable", pte & PTE_RW, 0);
    check_int("readonly_map_readable", probe_read_u64(va(window), &v), 0);
    check_int("readonly_map_write_faults", probe_write_u64(va(window), 1), TRAP_PF + 1);
    check_hex("readonly_map_reading_only", gt[9].flags, GTF_permit_access | GTF_readonly | GTF_reading);
    check_int("readonly_unmap", unmap(h, va(window)), GNTST_okay);
    restore_window();
}

static void test_refusals(void)
{
    uint32_t h = 0;
    struct gnttab_map_grant_ref op = { .host_addr = va(window), .flags = GNTMAP_host_map, .ref = 8, .dom = 5 };
    long rc = hypercall3(__HYPERVISOR_grant_table_op, GNTTABOP_map_grant_ref, &op, 1);
    check_int("map_bad_domain", rc ? rc : op.status, GNTST_bad_domain);
    check_int("map_bad_gntref", map(100000, GNTMAP_host_map, va(window), NULL, NULL), GNTST_bad_gntref);
    check_int("map_no_host_map_flag", map(8, 0, va(window), NULL, NULL), GNTST_bad_gntref);
    grant(10, SELF, va_to_mfn(src), GTF_invalid);
    check_int("map_revoked_grant", map(10, GNTMAP_host_map, va(window), NULL, NULL), GNTST_general_error);
    grant(11, 7, va_to_mfn(src), GTF_permit_access);
    check_int("map_grant_for_other_domain", map(11, GNTMAP_host_map, va(window), NULL, NULL),
              GNTST_general_error);
    grant(12, SELF, 1, GTF_permit_access);   /* a hypervisor frame */
    check_int("map_frame_not_granters", map(12, GNTMAP_host_map | GNTMAP_readonly, va(window), NULL, NULL),
              GNTST_bad_page);
    check_hex("bad_page_leaves_flags", gt[12].flags, GTF_permit_access);
    uint64_t pt_mfn = va_to_mfn((const void *)start_info->pt_base);
    grant(13, SELF, pt_mfn, GTF_permit_access);
    check_int("map_page_table_rw_refused", map(13, GNTMAP_host_map, va(window), NULL, NULL), GNTST_general_error);
    check_int("map_page_table_ro", map(13, GNTMAP_host_map | GNTMAP_readonly, va(window), &h, NULL), GNTST_okay);
    check_int("unmap_page_table_ro", unmap(h, va(window)), GNTST_okay);
    restore_window();
    check_int("map_unmapped_va", map(8, GNTMAP_host_map, 0x0000100000000000UL, NULL, NULL), GNTST_general_error);
    check_int("map_hypervisor_va", map(8, GNTMAP_host_map, 0xffff800000000000UL, NULL, NULL), GNTST_general_error);
    check_hex("refusals_leave_ref8_idle", gt[8].flags, GTF_permit_access);
    check_int("map_bad_op_pointer_efault",
              hypercall3(__HYPERVISOR_grant_table_op, GNTTABOP_map_grant_ref, 0xffff800000000000UL, 1), -XEN_EFAULT);
}

static void test_copy(void)
{
    uint64_t dst_mfn = va_to_mfn(dst), src_mfn = va_to_mfn(src);
    for (unsigned i = 0; i < 64; i++)
        src[i] = (uint8_t)(i + 1);
    check_int("copy_gref_to_frame", copy(8, SELF, 16, dst_mfn, DOMID_SELF, 100, 32, GNTCOPY_source_gref), GNTST_okay);
    check_int("copy_gref_to_frame_content", memcmp(dst + 100, src + 16, 32), 0);
    memset(dst, 0x33, 64);
    check_int("copy_frame_to_gref", copy(dst_mfn, DOMID_SELF, 0, 8, SELF, 200, 64, GNTCOPY_dest_gref), GNTST_okay);
    check_hex("copy_frame_to_gref_content", ((volatile uint8_t *)src)[263], 0x33);
    check_int("copy_gref_to_gref", copy(9, SELF, 0, 8, SELF, 1000, 8, GNTCOPY_source_gref | GNTCOPY_dest_gref),
              GNTST_okay);
    check_int("copy_to_readonly_grant", copy(dst_mfn, DOMID_SELF, 0, 9, SELF, 0, 8, GNTCOPY_dest_gref),
              GNTST_general_error);
    check_hex("copy_readonly_dest_unchanged", ((volatile uint8_t *)src)[0], 0x01);
    check_int("copy_beyond_page", copy(8, SELF, 4000, dst_mfn, DOMID_SELF, 0, 200, GNTCOPY_source_gref),
              GNTST_bad_copy_arg);
    check_int("copy_frame_needs_domid_self", copy(src_mfn, SELF, 0, dst_mfn, DOMID_SELF, 0, 8, 0),
              GNTST_permission_denied);
    check_int("copy_frame_not_ours", copy(1, DOMID_SELF, 0, dst_mfn, DOMID_SELF, 0, 8, 0), GNTST_bad_page);
    check_hex("copy_leaves_no_pins", gt[8].flags | gt[9].flags,
              GTF_permit_access | GTF_readonly);
}

void kernel_main(void)
{
    test_begin("grant_table");
    check_int("set_trap_table", traps_install(), 0);
    window_mfn = va_to_mfn(window);
    if (setup_table()) {
        test_map_by_va();
        test_map_by_pte();
        test_readonly();
        test_refusals();
        test_copy();
    }
    test_finish();
}

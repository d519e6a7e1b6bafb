/* SPDX-License-Identifier: MIT */
/*
 * writable_pt: the page-table operations a Linux PV kernel depends on
 * (xen-pv-abi.md §5.1-§5.7): pinning a new L1, hooking it into an L2 with
 * mmu_update, MMU_PT_UPDATE_PRESERVE_AD, and direct writes to a read-only
 * L1 that the writable-pagetables assist emulates.
 */
#include <guest/hypercall.h>
#include <guest/runtime.h>
#include <guest/test.h>
#include <guest/traps.h>

#define PTE_RO_FLAGS (PTE_P | PTE_A)
#define PTE_RW_FLAGS (PTE_P | PTE_RW | PTE_A | PTE_D)
/* The last 2 MiB of the kernel's 1 GiB L2: far above this small image. */
#define SPARE_L2_SLOT 511
#define SPARE_VA (VIRT_BASE + (uint64_t)SPARE_L2_SLOT * 2 * 1024 * 1024)

static uint8_t window[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
static uint8_t other[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
static uint8_t new_l1[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));

static uint64_t va_of(const void *p)
{
    return (uint64_t)(uintptr_t)p;
}

static long mmuext1(unsigned cmd, uint64_t arg1)
{
    struct mmuext_op op = { .cmd = cmd, .arg1.mfn = arg1 };
    unsigned done = 0;
    return hyp_mmuext_op(&op, 1, &done, DOMID_SELF);
}

static long mmu_update1(uint64_t ptr, uint64_t val)
{
    struct mmu_update req = { .ptr = ptr, .val = val };
    unsigned done = 0;
    return hyp_mmu_update(&req, 1, &done, DOMID_SELF);
}

/* Machine address of the L1 entry that maps `va`, and that entry's VA. */
static bool locate_l1_entry(uint64_t va, uint64_t *maddr, volatile uint64_t **entry)
{
    uint64_t l2e;
    if (!pt_read_entry(va, 2, &l2e) || !(l2e & PTE_P))
        return false;
    uint64_t l1_mfn = (l2e & PTE_ADDR_MASK) >> 12;
    uint64_t idx = (va >> 12) & 511;
    *maddr = (l1_mfn << 12) + idx * 8;
    *entry = (volatile uint64_t *)pfn_to_va(m2p_table()[l1_mfn]) + idx;
    return true;
}

static void test_pin_and_hook(void)
{
    uint64_t l1_mfn = va_to_mfn(new_l1), other_mfn = va_to_mfn(other);
    uint64_t l2e;

    /* §5.7: a new L1 is made read-only first, then pinned. */
    check_negative("pin_l1_while_writable_refused", mmuext1(MMUEXT_PIN_L1_TABLE, l1_mfn));
    check_int("new_l1_readonly", hyp_update_va_mapping(va_of(new_l1), (l1_mfn << 12) | PTE_RO_FLAGS,
                                                       UVMF_INVLPG), 0);
    check_int("pin_l1", mmuext1(MMUEXT_PIN_L1_TABLE, l1_mfn), 0);
    check_int("pin_l1_twice_einval", mmuext1(MMUEXT_PIN_L1_TABLE, l1_mfn), -XEN_EINVAL);
    /* §5.1: a pinned page table cannot be mapped writable. */
    check_negative("pinned_l1_writable_refused",
                   hyp_update_va_mapping(va_of(new_l1), (l1_mfn << 12) | PTE_RW_FLAGS, UVMF_INVLPG));

    /* §5.3: entries of a validated L1 are written with mmu_update. */
    other[0] = 0x77;
    check_int("l1_entry_via_mmu_update",
              mmu_update1((l1_mfn << 12) + 0 * 8 + MMU_NORMAL_PT_UPDATE, (other_mfn << 12) | PTE_RO_FLAGS), 0);
    check_hex("l1_entry_stored", ((volatile uint64_t *)new_l1)[0] & PTE_ADDR_MASK, other_mfn << 12);

    /* §5.3: an L2 entry pointing at it makes the mapping live (L2 updates
     * flush the TLB). */
    bool have_l2 = pt_read_entry(SPARE_VA, 2, &l2e);
    check_true("spare_l2_slot_free", have_l2 && !(l2e & PTE_P), "in use", "non-present");
    uint64_t l3e;
    pt_read_entry(SPARE_VA, 3, &l3e);
    uint64_t l2_mfn = (l3e & PTE_ADDR_MASK) >> 12;
    uint64_t l2_slot = (l2_mfn << 12) + SPARE_L2_SLOT * 8;
    check_int("hook_l1_into_l2", mmu_update1(l2_slot + MMU_NORMAL_PT_UPDATE, (l1_mfn << 12) | 0x67), 0);
    uint64_t v = 0;
    check_int("new_mapping_readable", probe_read_u64(SPARE_VA, &v), 0);
    check_hex("new_mapping_content", v & 0xff, 0x77);
    check_int("unhook_l1", mmu_update1(l2_slot + MMU_NORMAL_PT_UPDATE, 0), 0);
    check_int("unhooked_faults", probe_read_u64(SPARE_VA, &v), TRAP_PF + 1);

    /* §5.1: unpinning an unreferenced table returns it to ordinary memory. */
    check_int("unpin_l1", mmuext1(MMUEXT_UNPIN_TABLE, l1_mfn), 0);
    check_int("unpinned_l1_writable_again",
              hyp_update_va_mapping(va_of(new_l1), (l1_mfn << 12) | PTE_RW_FLAGS, UVMF_INVLPG), 0);
    new_l1[8] = 1;      /* writable for real */
}

static void test_preserve_ad(void)
{
    uint64_t maddr;
    volatile uint64_t *entry;

    if (!locate_l1_entry(va_of(window), &maddr, &entry)) {
        check_true("preserve_ad_keeps_bits", false, "no L1 entry", "the window's L1 entry");
        return;
    }
    window[0] = 1;      /* make sure A and D are set */
    uint64_t cur = *entry;
    /* §5.3: PRESERVE_AD ORs the A/D bits already in the entry into val. */
    check_int("preserve_ad_rc", mmu_update1(maddr + MMU_PT_UPDATE_PRESERVE_AD, cur & ~(PTE_A | PTE_D)), 0);
    check_hex("preserve_ad_keeps_bits", *entry & (PTE_A | PTE_D), cur & (PTE_A | PTE_D));
}

static void test_writable_pagetables(void)
{
    uint64_t maddr;
    volatile uint64_t *entry;
    uint64_t other_mfn = va_to_mfn(other);

    if (!locate_l1_entry(va_of(window), &maddr, &entry)) {
        check_true("direct_write_without_assist_pf", false, "no L1 entry", "the window's L1 entry");
        return;
    }
    uint64_t orig = *entry;
    uint64_t entry_va = (uint64_t)(uintptr_t)entry;

    /* §5.6: without the assist a write to a read-only L1 is a #PF. */
    check_int("direct_write_without_assist_pf", probe_write_u64(entry_va, orig), TRAP_PF + 1);
    check_hex("direct_write_without_assist_error", probe_fault.error_code & 7, 3);

    /* §4.7 / §5.6: with it, the write is validated and emulated. */
    check_int("enable_writable_pagetables", hyp_vm_assist(VMASST_CMD_enable, VMASST_TYPE_writable_pagetables), 0);
    other[16] = 0x99;
    window[16] = 0x11;
    check_int("direct_write_emulated", probe_write_u64(entry_va, (other_mfn << 12) | PTE_RW_FLAGS), 0);
    check_hex("direct_write_stored", *entry & PTE_ADDR_MASK, other_mfn << 12);
    /* §5.6: no flush is done; the guest flushes. */
    check_int("invlpg_local", mmuext1(MMUEXT_INVLPG_LOCAL, va_of(window)), 0);
    check_hex("direct_write_takes_effect", ((volatile uint8_t *)window)[16], 0x99);
    /* §5.1: a write that would make a page table writable is never stored
     * (whether the guest then sees a #PF the doc leaves open). */
    uint64_t pt_mfn = va_to_mfn((void *)start_info->pt_base);
    uint64_t before = *entry;
    int r = probe_write_u64(entry_va, (pt_mfn << 12) | PTE_RW_FLAGS);
    printf("NOTE writable_pt:direct_write_pt_rw probe=%d\n", r);
    check_hex("direct_write_pt_rw_not_stored", *entry, before);
    check_int("direct_write_restore", probe_write_u64(entry_va, orig), 0);
    check_int("tlb_flush_local", mmuext1(MMUEXT_TLB_FLUSH_LOCAL, 0), 0);
    check_hex("window_restored", ((volatile uint8_t *)window)[16], 0x11);
    check_int("disable_writable_pagetables", hyp_vm_assist(VMASST_CMD_disable, VMASST_TYPE_writable_pagetables), 0);
}

void kernel_main(void)
{
    test_begin("writable_pt");
    check_int("set_trap_table", traps_install(), 0);
    test_pin_and_hook();
    test_preserve_ad();
    test_writable_pagetables();
    test_finish();
}

/* SPDX-License-Identifier: MIT */
/*
 * hv_memory: the hypervisor's own memory is out of the guest's reach. Direct
 * accesses fault into the guest (§2, §4.3), the read-only M2P can be read
 * but not written (§2), and the PV MMU refuses mappings of frames the guest
 * does not own, writable mappings of page tables, and the hypervisor hole
 * (§5.1-§5.5). As the privileged domain it may map device memory, uncached,
 * but never the hypervisor's own (docs/pci.md). Section numbers refer to
 * xen-pv-abi.md.
 */
#include <guest/hypercall.h>
#include <guest/runtime.h>
#include <guest/test.h>
#include <guest/traps.h>

#define HV_IMAGE_VA      0xffff82d000100000UL
#define HV_DIRECTMAP_VA  0xffff830000000000UL
#define HV_IMAGE_MFN     0x100UL            /* loaded at 1 MiB */
#define HUGE_MFN         0xffffffffffUL     /* the top of the PTE frame field */
#define PTE_RW_FLAGS     (PTE_P | PTE_RW | PTE_A | PTE_D)
#define PTE_RO_FLAGS     (PTE_P | PTE_A)

static uint8_t window[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
static uint8_t other[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
static uint64_t window_pte;         /* the builder's entry for `window` */

static uint64_t va_of(const void *p)
{
    return (uint64_t)(uintptr_t)p;
}

/* Reports which refusal code the hypervisor chose, then checks it. */
static void check_refused(const char *check, long rc)
{
    printf("NOTE hv_memory:%s rc=%ld\n", check, rc);
    check_int2(check, rc, -XEN_EINVAL, -XEN_EPERM);
}

static void check_access_faults(const char *read_check, const char *write_check, uint64_t va)
{
    uint64_t v;

    int r = probe_read_u64(va, &v);
    check_true(read_check, r == TRAP_PF + 1 && probe_fault.cr2 == va, r ? "other fault" : "read worked",
               "#PF with cr2 = the address");
    r = probe_write_u64(va, 0);
    check_true(write_check, r == TRAP_PF + 1 && probe_fault.cr2 == va, r ? "other fault" : "write worked",
               "#PF with cr2 = the address");
}

static void test_direct_access(void)
{
    /* §2 / §4.3: the hypervisor image and direct map fault like any page. */
    check_access_faults("hv_image_read_pf", "hv_image_write_pf", HV_IMAGE_VA);
    check_access_faults("directmap_read_pf", "directmap_write_pf", HV_DIRECTMAP_VA);

    /* §2: the M2P is readable ... */
    uint64_t pfn = va_to_pfn(window), mfn = va_to_mfn(window), v = ~0ULL;
    uint64_t m2p_va = MACH2PHYS_VIRT_START + mfn * 8;
    check_int("m2p_read_works", probe_read_u64(m2p_va, &v), 0);
    check_hex("m2p_read_value", v, pfn);
    /* ... and never writable: a protection #PF, write, U/S clear (§4.3). */
    int r = probe_write_u64(m2p_va, pfn);
    check_int("m2p_write_pf", r, TRAP_PF + 1);
    check_hex("m2p_write_error_code", probe_fault.error_code & 7, 3);
    check_hex("m2p_unchanged", m2p_table()[mfn], pfn);
}

static void test_update_va_mapping(void)
{
    uint64_t win = va_of(window);
    uint64_t own_mfn = va_to_mfn(other);
    uint64_t pt_mfn = va_to_mfn((void *)start_info->pt_base);

    /* Positive control: remapping our page onto another of our frames. */
    other[0] = 0x5a;
    check_int("remap_own_frame", hyp_update_va_mapping(win, (own_mfn << 12) | PTE_RW_FLAGS, UVMF_INVLPG), 0);
    check_hex("remap_own_frame_visible", ((volatile uint8_t *)window)[0], 0x5a);

    /* §5.2: the target must be a frame this domain owns. */
    check_refused("map_hv_image_frame_refused",
                  hyp_update_va_mapping(win, (HV_IMAGE_MFN << 12) | PTE_RW_FLAGS, UVMF_INVLPG));
    check_refused("map_hv_image_frame_ro_refused",
                  hyp_update_va_mapping(win, (HV_IMAGE_MFN << 12) | PTE_RO_FLAGS, UVMF_INVLPG));
    check_refused("map_mfn0_refused", hyp_update_va_mapping(win, PTE_RW_FLAGS, UVMF_INVLPG));
    check_refused("map_huge_mfn_refused",
                  hyp_update_va_mapping(win, (HUGE_MFN << 12) | PTE_RW_FLAGS, UVMF_INVLPG));
    /* §5.1: a page-table frame never gets a writable mapping ... */
    check_refused("map_own_l4_writable_refused",
                  hyp_update_va_mapping(win, (pt_mfn << 12) | PTE_RW_FLAGS, UVMF_INVLPG));
    /* ... but may be mapped read-only (§3.4). */
    check_int("map_own_l4_readonly", hyp_update_va_mapping(win, (pt_mfn << 12) | PTE_RO_FLAGS, UVMF_INVLPG), 0);
    check_hex("map_own_l4_readonly_content", ((volatile uint64_t *)window)[511],
              ((volatile uint64_t *)(uintptr_t)start_info->pt_base)[511]);

    /* §2 / §5.4: no mapping inside the hypervisor hole, and -EINVAL when
     * the walk meets a non-present level. */
    check_refused("map_in_hv_hole_refused",
                  hyp_update_va_mapping(MACH2PHYS_VIRT_START + 0x1000, (own_mfn << 12) | PTE_RW_FLAGS,
                                        UVMF_INVLPG));
    check_int("map_unmapped_va_einval",
              hyp_update_va_mapping(0x1000, (own_mfn << 12) | PTE_RW_FLAGS, UVMF_INVLPG), -XEN_EINVAL);

    check_int("restore_window", hyp_update_va_mapping(win, window_pte, UVMF_INVLPG), 0);
    window[8] = 0xa5;
    check_hex("restore_window_not_other", other[8], 0);
}

static void test_mmu_update(void)
{
    uint64_t pt_mfn = va_to_mfn((void *)start_info->pt_base);
    uint64_t l2e;
    struct mmu_update req;
    unsigned done = 0;

    /* §2: slots 256-271 of an L4 belong to the hypervisor: -EINVAL, even
     * for an entry that would not change anything. */
    uint64_t cur = ((volatile uint64_t *)(uintptr_t)start_info->pt_base)[256];
    req = (struct mmu_update){ .ptr = (pt_mfn << 12) + 256 * 8 + MMU_NORMAL_PT_UPDATE, .val = cur };
    check_int("l4_hv_slot_update_einval", hyp_mmu_update(&req, 1, &done, DOMID_SELF), -XEN_EINVAL);

    /* §5.1: an L1 entry may not make a page-table frame writable. */
    if (pt_read_entry(va_of(window), 2, &l2e)) {
        uint64_t l1_mfn = (l2e & PTE_ADDR_MASK) >> 12;
        uint64_t idx = (va_of(window) >> 12) & 511;
        req = (struct mmu_update){ .ptr = (l1_mfn << 12) + idx * 8 + MMU_NORMAL_PT_UPDATE,
                                   .val = (pt_mfn << 12) | PTE_RW_FLAGS };
        check_refused("l1_entry_writable_pt_refused", hyp_mmu_update(&req, 1, &done, DOMID_SELF));
        req.val = (HV_IMAGE_MFN << 12) | PTE_RO_FLAGS;
        check_refused("l1_entry_hv_frame_refused", hyp_mmu_update(&req, 1, &done, DOMID_SELF));
    } else {
        check_true("l1_entry_writable_pt_refused", false, "no L2 entry", "walkable window");
        check_true("l1_entry_hv_frame_refused", false, "no L2 entry", "walkable window");
    }

    /* §5.3: MMU_MACHPHYS_UPDATE only for frames the domain owns. */
    req = (struct mmu_update){ .ptr = (HV_IMAGE_MFN << 12) | MMU_MACHPHYS_UPDATE, .val = 5 };
    check_refused("machphys_update_foreign_refused", hyp_mmu_update(&req, 1, &done, DOMID_SELF));
}

static void test_mmuext(void)
{
    uint64_t pt_mfn = va_to_mfn((void *)start_info->pt_base);
    struct mmuext_op op;
    unsigned done = 0;

    /* §3.4 / §5.1: the initial L4 is pinned, so pinning it again fails. */
    op = (struct mmuext_op){ .cmd = MMUEXT_PIN_L4_TABLE, .arg1.mfn = pt_mfn };
    check_int("pin_pinned_l4_einval", hyp_mmuext_op(&op, 1, &done, DOMID_SELF), -XEN_EINVAL);
    /* §5.1: unpinning a frame that is not pinned fails. */
    op = (struct mmuext_op){ .cmd = MMUEXT_UNPIN_TABLE, .arg1.mfn = va_to_mfn(other) };
    check_int("unpin_unpinned_einval", hyp_mmuext_op(&op, 1, &done, DOMID_SELF), -XEN_EINVAL);
    /* §5.1: a frame mapped writable cannot become an L4. */
    op = (struct mmuext_op){ .cmd = MMUEXT_PIN_L4_TABLE, .arg1.mfn = va_to_mfn(other) };
    check_negative("pin_writable_frame_refused", hyp_mmuext_op(&op, 1, &done, DOMID_SELF));
    op = (struct mmuext_op){ .cmd = MMUEXT_NEW_BASEPTR, .arg1.mfn = va_to_mfn(other) };
    check_negative("new_baseptr_writable_frame_refused", hyp_mmuext_op(&op, 1, &done, DOMID_SELF));
    op = (struct mmuext_op){ .cmd = MMUEXT_NEW_BASEPTR, .arg1.mfn = HV_IMAGE_MFN };
    check_negative("new_baseptr_hv_frame_refused", hyp_mmuext_op(&op, 1, &done, DOMID_SELF));
}

/* docs/pci.md: device memory is the privileged domain's (we run as the
 * first domain), with its cache attributes; the hypervisor's MMIO is not. */
static void test_device_memory(void)
{
    const uint64_t uc = (1UL << 3) | (1UL << 4);   /* PWT | PCD */
    uint64_t win = va_of(window);
    check_hex("flags_privileged", start_info->flags & SIF_PRIVILEGED, SIF_PRIVILEGED);
    check_int("map_lapic_eperm", hyp_update_va_mapping(win, (0xfee00UL << 12) | PTE_RW_FLAGS | uc, UVMF_INVLPG),
              -XEN_EPERM);
    check_int("map_ioapic_eperm", hyp_update_va_mapping(win, (0xfec00UL << 12) | PTE_RO_FLAGS | uc, UVMF_INVLPG),
              -XEN_EPERM);
    check_int("map_own_ram_uncached_einval",
              hyp_update_va_mapping(win, (va_to_mfn(other) << 12) | PTE_RW_FLAGS | uc, UVMF_INVLPG), -XEN_EINVAL);
    /* q35's HPET (the hypervisor does not use it): its capability register
     * names the vendor in bits 16-31. */
    check_int("map_hpet_uncached", hyp_update_va_mapping(win, (0xfed00UL << 12) | PTE_RW_FLAGS | uc, UVMF_INVLPG),
              0);
    check_hex("hpet_vendor_read", ((volatile uint32_t *)window)[0] >> 16, 0x8086);
    check_int("unmap_hpet", hyp_update_va_mapping(win, window_pte, UVMF_INVLPG), 0);
}

void kernel_main(void)
{
    test_begin("hv_memory");
    check_int("set_trap_table", traps_install(), 0);
    check_true("window_pte", pt_read_entry(va_of(window), 1, &window_pte) && (window_pte & PTE_P),
               "no entry", "a present L1 entry for the window page");
    test_direct_access();
    test_update_va_mapping();
    test_mmu_update();
    test_mmuext();
    test_device_memory();
    test_finish();
}

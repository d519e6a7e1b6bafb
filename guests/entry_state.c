/* SPDX-License-Identifier: MIT */
/*
 * entry_state: what the domain builder hands the first domain (dom0) before
 * its first instruction: start_info, the initial memory layout and page
 * tables, p2m/M2P, registers, vcpu_info and time, and the version/memory
 * queries a kernel makes first. Section numbers refer to xen-pv-abi.md.
 *
 * Command line: expect_pages=<N> (what dom0_mem gives) and marker=<word>.
 */
#include <lamina/cmdline.h>
#include <lamina/string.h>
#include <guest/hypercall.h>
#include <guest/pvclock.h>
#include <guest/runtime.h>
#include <guest/test.h>
#include <guest/traps.h>

#define MIB (1024UL * 1024UL)
#define RFLAGS_IOPL_MASK (3UL << 12)

extern const char __image_end[];

static uint64_t page_up(uint64_t x, uint64_t align)
{
    return (x + align - 1) & ~(align - 1);
}

static void check_start_info(void)
{
    const struct start_info *si = start_info;
    char val[32];
    uint64_t want_pages = 0;

    /* §3.6: magic "xen-3.0-x86_64", NUL-padded. */
    check_true("magic", memcmp(si->magic, "xen-3.0-x86_64", 15) == 0, si->magic,
               "xen-3.0-x86_64");
    /* §3.6: the initial domain is privileged and the init domain. */
    check_hex("flags_privileged_initdomain", si->flags & (SIF_PRIVILEGED | SIF_INITDOMAIN),
              SIF_PRIVILEGED | SIF_INITDOMAIN);
    /* §3.6: nr_pages is what the domain was given (dom0_mem on the hv line). */
    bool have = cmdline_find(si->cmd_line, "expect_pages", val, sizeof(val)) &&
                parse_u64(val, &want_pages) == 0;
    if (have)
        check_hex("nr_pages", si->nr_pages, want_pages);
    else
        check_true("nr_pages", false, "no expect_pages= on the command line", "expect_pages=N");
    /* The module's command line after its path reaches start_info.cmd_line. */
    bool marker = cmdline_find(si->cmd_line, "marker", val, sizeof(val));
    check_true("cmdline_passed", marker && strcmp(val, "kumquat") == 0, si->cmd_line,
               "marker=kumquat");
    check_true("cmdline_terminated", strnlen(si->cmd_line, MAX_GUEST_CMDLINE) < MAX_GUEST_CMDLINE,
               "no NUL", "NUL within 1024 bytes");
    /* §3.6: no INIT_P2M note, so no separate p2m segment. */
    check_hex("no_init_p2m_segment", si->first_p2m_pfn | si->nr_p2m_frames, 0);
}

static void check_layout(void)
{
    const struct start_info *si = start_info;
    uint64_t kend = page_up((uint64_t)(uintptr_t)__image_end, PAGE_SIZE);
    uint64_t si_va = (uint64_t)(uintptr_t)si;
    uint64_t p2m_end = si->mfn_list + si->nr_pages * 8;
    uint64_t pt_end = si->pt_base + si->nr_pt_frames * PAGE_SIZE;
    uint64_t stack_top = boot_regs.rsp;

    /* §3.3: kernel, p2m, start_info, page tables, boot stack, each page-aligned
     * and packed in that order (dom0 has no xenstore/console pages). */
    check_cond_hex("p2m_after_kernel", si->mfn_list >= kend && !(si->mfn_list & 0xfff),
                   si->mfn_list, "page-aligned, >= end of kernel image");
    check_cond_hex("start_info_after_p2m", si_va >= p2m_end && !(si_va & 0xfff), si_va,
                   "page-aligned, >= end of p2m");
    check_cond_hex("pt_base_after_start_info", si->pt_base > si_va && !(si->pt_base & 0xfff),
                   si->pt_base, "page-aligned, > start_info");
    /* §3.4: four levels, so at least one L4, L3, L2 and L1 page. */
    check_range("nr_pt_frames", si->nr_pt_frames, 4, 512);
    check_cond_hex("stack_after_page_tables", stack_top - PAGE_SIZE >= pt_end, stack_top,
                   ">= end of page tables + one page");

    /* §3.3: at least 512 KiB of mapped space after the last element, and the
     * region runs to a 4 MiB boundary. */
    uint64_t region_end = page_up(stack_top + 512 * 1024, 4 * MIB);
    uint64_t first_unmapped = 0;
    for (uint64_t va = stack_top; va < region_end; va += PAGE_SIZE) {
        uint64_t v;
        if (probe_read_u64(va, &v)) {
            first_unmapped = va;
            break;
        }
    }
    check_hex("mapped_512k_to_4m_boundary", first_unmapped, 0);
}

static void check_page_tables(void)
{
    const struct start_info *si = start_info;
    uint64_t pte;
    bool ok;

    /* §3.4: L4[511] -> L3[510] -> one L2 of 4 KiB L1 pages, no superpages. */
    ok = pt_read_entry(VIRT_BASE, 2, &pte);
    check_cond_hex("l2_maps_4k_pages", ok && (pte & PTE_P) && !(pte & PTE_PS), pte,
                   "present L2 entry without PS");

    /* §3.3: virtual VIRT_BASE + n*4096 maps PFN n, i.e. p2m[n]. */
    uint64_t pfns[] = { 0, va_to_pfn(si), va_to_pfn((void *)si->pt_base),
                        va_to_pfn((void *)(boot_regs.rsp - PAGE_SIZE)) };
    uint64_t bad = ~0ULL;
    for (unsigned i = 0; i < ARRAY_SIZE(pfns); i++) {
        if (!pt_read_entry(VIRT_BASE + pfns[i] * PAGE_SIZE, 1, &pte) ||
            ((pte & PTE_ADDR_MASK) >> 12) != pfn_to_mfn(pfns[i])) {
            bad = pfns[i];
            break;
        }
    }
    check_hex("one_to_one_map_bad_pfn", bad, ~0ULL);

    /* §3.4: every page-table page is mapped read-only (P|A, no RW). */
    uint64_t writable = 0;
    for (uint64_t i = 0; i < si->nr_pt_frames; i++) {
        uint64_t va = si->pt_base + i * PAGE_SIZE;
        if (!pt_read_entry(va, 1, &pte) || !(pte & PTE_P) || (pte & PTE_RW)) {
            writable = va;
            break;
        }
    }
    check_hex("page_tables_mapped_readonly", writable, 0);
}

static void check_p2m_m2p(void)
{
    const struct start_info *si = start_info;
    uint64_t n = si->nr_pages;
    uint64_t max_mfn = 0, invalid = 0;

    /* §3.5: nr_pages MFNs, one per PFN. */
    for (uint64_t pfn = 0; pfn < n; pfn++) {
        uint64_t mfn = pfn_to_mfn(pfn);
        if (mfn == ~0ULL)
            invalid++;
        else if (mfn > max_mfn)
            max_mfn = mfn;
    }
    check_int("p2m_entries_valid_missing", (int64_t)invalid, 0);

    /* §3.5: M2P[p2m[pfn]] == pfn for every frame the builder used. */
    uint64_t pfns[] = { 0, 1, n / 2, n - 1, va_to_pfn(si), va_to_pfn((void *)si->pt_base),
                        va_to_pfn((void *)si->mfn_list) };
    uint64_t mismatch = ~0ULL;
    for (unsigned i = 0; i < ARRAY_SIZE(pfns); i++) {
        uint64_t m2p_val;
        uint64_t mfn = pfn_to_mfn(pfns[i]);
        if (probe_read_u64(MACH2PHYS_VIRT_START + mfn * 8, &m2p_val) || m2p_val != pfns[i]) {
            mismatch = pfns[i];
            break;
        }
    }
    check_hex("m2p_roundtrip_bad_pfn", mismatch, ~0ULL);

    /* §3.5: shared_info is not one of our PFNs. */
    uint64_t shinfo_m2p = 0;
    int fault = probe_read_u64(MACH2PHYS_VIRT_START + (si->shared_info >> 12) * 8, &shinfo_m2p);
    check_cond_hex("m2p_shared_info_not_ours", !fault && shinfo_m2p >= n, shinfo_m2p,
                   ">= nr_pages (no guest PFN)");

    /* §2: XENMEM_machphys_mapping reports the read-only M2P. */
    struct xen_machphys_mapping map = { 0 };
    long rc = hyp_memory_op(XENMEM_machphys_mapping, &map);
    check_int("machphys_mapping_rc", rc, 0);
    check_hex("machphys_mapping_v_start", map.v_start, MACH2PHYS_VIRT_START);
    check_hex("machphys_mapping_v_end", map.v_end, MACH2PHYS_VIRT_END);
    check_range("machphys_mapping_max_mfn", map.max_mfn, max_mfn, MACH2PHYS_NR_ENTRIES - 1);
}

static void check_registers(void)
{
    const struct boot_regs *r = &boot_regs;
    const struct start_info *si = start_info;

    /* §3.8: rsp = top of the boot-stack page, inside the initial region. */
    check_cond_hex("rsp_page_top", !(r->rsp & 0xfff) && r->rsp > si->pt_base, r->rsp,
                   "page-aligned, above the page tables");
    /* §3.8: rsi = virtual address of start_info. */
    check_cond_hex("rsi_start_info", r->rsi >= VIRT_BASE && !(r->rsi & 0xfff), r->rsi,
                   "page-aligned kernel address");
    check_hex("cs", r->cs & 0xffff, FLAT_KERNEL_CS);
    check_hex("ss", r->ss & 0xffff, FLAT_KERNEL_SS);
    /* §3.8: the hardware IF is set, IOPL 0. */
    check_cond_hex("rflags_if_iopl0", (r->rflags & RFLAGS_IF) && !(r->rflags & RFLAGS_IOPL_MASK),
                   r->rflags, "IF set, IOPL 0");
    /* §3.8: ds = es = fs = gs = FLAT_KERNEL_DS (null). */
    check_hex("data_selectors_null", (r->ds | r->es | r->fs | r->gs) & 0xffff, FLAT_KERNEL_DS);
    /* §3.8: other GPRs are 0. rcx and r11 are left out: §4.4 says a return
     * through sysret leaves them clobbered. */
    uint64_t others = r->rax | r->rbx | r->rdx | r->rdi | r->rbp | r->r8 | r->r9 | r->r10 |
                      r->r12 | r->r13 | r->r14 | r->r15;
    check_hex("other_gprs_zero", others, 0);
    /* §3.8: DR6 = 0xffff0ff0, DR7 = 0x400. */
    check_hex("dr6_initial", (uint64_t)hyp_get_debugreg(6), 0xffff0ff0);
    check_hex("dr7_initial", (uint64_t)hyp_get_debugreg(7), 0x400);
}

static void check_vcpu_info(uint8_t mask_at_entry)
{
    struct vcpu_time_info t;

    /* §3.8/§3.7: events start masked, in every vcpu_info slot. */
    check_int("events_masked_at_entry", mask_at_entry, 1);
    unsigned unmasked = 0;
    for (unsigned i = 1; i < XEN_LEGACY_MAX_VCPUS; i++)
        if (shared_info->vcpu_info[i].evtchn_upcall_mask != 1)
            unmasked++;
    check_int("all_vcpu_slots_masked_missing", unmasked, 0);

    /* §3.7: time is valid before the first instruction. */
    check_int("time_version_even", vcpu0->time.version & 1, 0);
    pvclock_snapshot(&t);
    check_cond_hex("time_mul_nonzero", t.tsc_to_system_mul != 0, t.tsc_to_system_mul, "!= 0");
    uint64_t a = pvclock_now_ns();
    uint64_t until = rdtsc() + 20000000;    /* spin a little */
    while (rdtsc() < until)
        barrier();
    uint64_t b = pvclock_now_ns();
    check_cond_hex("system_time_advancing", b > a && a > 0, b - a, "> 0 ns between reads");
}

static void check_versions(void)
{
    char extra[XEN_EXTRAVERSION_LEN + 1];
    struct xen_feature_info fi = { .submap_idx = 0 };
    struct xen_platform_parameters pp = { 0 };

    /* §A.2: version = major << 16 | minor; §4.8: report a major >= 4. */
    long v = hyp_xen_version(XENVER_version, NULL);
    check_range("version_major_ge_4", (uint64_t)v >> 16, 4, 0xffff);
    memset(extra, 0x55, sizeof(extra));
    long rc = hyp_xen_version(XENVER_extraversion, extra);
    check_true("extraversion", rc == 0 && strnlen(extra, XEN_EXTRAVERSION_LEN) < XEN_EXTRAVERSION_LEN,
               "error or unterminated", "0 and a NUL-terminated string");
    /* §9.1 B1: get_features answers, with bits 5 and 7 a Linux kernel needs. */
    rc = hyp_xen_version(XENVER_get_features, &fi);
    check_int("get_features_rc", rc, 0);
    uint32_t need = (1U << XENFEAT_mmu_pt_update_preserve_ad) | (1U << XENFEAT_gnttab_map_avail_bits);
    check_hex("get_features_bits_5_7", fi.submap & need, need);
    /* §A.2: pagesize returns 4096. */
    check_int("pagesize", hyp_xen_version(XENVER_pagesize, NULL), 4096);
    /* §A.2: platform_parameters.virt_start = HYPERVISOR_VIRT_START. */
    rc = hyp_xen_version(XENVER_platform_parameters, &pp);
    check_int("platform_parameters_rc", rc, 0);
    check_hex("platform_parameters_virt_start", pp.virt_start, HYPERVISOR_VIRT_START);
    /* §6.4: vCPU 0 is up. */
    check_int("vcpu0_is_up", hyp_vcpu_op(VCPUOP_is_up, 0, NULL), 1);
}

void kernel_main(void)
{
    /* Read before anything could change it. */
    uint8_t mask_at_entry = vcpu0->evtchn_upcall_mask;

    test_begin("entry_state");
    check_int("set_trap_table", traps_install(), 0);
    check_start_info();
    check_registers();
    check_vcpu_info(mask_at_entry);
    check_layout();
    check_page_tables();
    check_p2m_m2p();
    check_versions();
    test_finish();
}

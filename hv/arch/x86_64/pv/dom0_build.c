/* SPDX-License-Identifier: MIT */
/*
 * Builds dom0 from the first boot module (the second, if any, is its initrd)
 * following Xen's PV builder contract (xen-pv-abi.md §3.3-3.8): one region
 * mapped 1:1 from VIRT_BASE holding the kernel, initrd, p2m list, start_info,
 * bootstrap page tables and a boot stack, padded to a 4 MiB boundary with at
 * least 512 KiB to spare; the L4 pinned; vCPU 0 entered in guest kernel mode.
 * Only dom0 is built here: every other domain is built by dom0's toolstack.
 */
#include <hv/pv.h>
#include <hv/bootinfo.h>
#include <asm/page.h>
#include <lamina/elf_pv.h>
#include <lamina/pv_layout.h>

#define MB(x) ((uint64_t)(x) << 20)

static void write_pt_entry(void *ctx, uint64_t table_pfn, unsigned index, uint64_t value)
{
    const uint64_t *p2m = ctx;
    ((uint64_t *)mfn_to_virt(p2m[table_pfn]))[index] = value;
}

struct domain *construct_dom0(const struct boot_info *bi, uint64_t dom0_mem_bytes);
struct domain *construct_dom0(const struct boot_info *bi, uint64_t dom0_mem_bytes)
{
    if (bi->nr_modules == 0)
        panic("no dom0 kernel: pass it as the first boot module");
    const struct boot_module *km = &bi->modules[0];
    const void *image = __va(km->start);
    size_t image_size = (size_t)(km->end - km->start);
    struct elf_pv_info ei;
    int rc = elf_pv_parse(image, image_size, &ei);
    if (rc)
        panic("dom0 kernel: %s", elf_pv_strerror(rc));
    if (ei.virt_base & (MB(2) - 1))
        panic("dom0 kernel: VIRT_BASE 0x%lx is not 2 MiB aligned", (unsigned long)ei.virt_base);
    if (ei.init_p2m || ei.mod_start_pfn)
        pr_info("dom0 kernel asks for INIT_P2M/MOD_START_PFN: ignored, the p2m and initrd are mapped");

    const struct boot_module *initrd = bi->nr_modules > 1 ? &bi->modules[1] : NULL;
    uint64_t initrd_len = initrd ? initrd->end - initrd->start : 0;
    uint64_t nr_pages = dom0_mem_bytes >> PAGE_SHIFT;
    uint64_t keep = MIN(free_frame_count() / 8, MB(32) >> PAGE_SHIFT);   /* for the hypervisor's own needs */
    if (nr_pages + keep > free_frame_count())
        nr_pages = free_frame_count() - keep;

    struct pv_layout l;
    uint64_t needed;
    if (pv_layout_plan(&ei, initrd_len, nr_pages, false, &l, &needed))
        panic("dom0_mem=%lu MiB is too small: the boot layout alone needs %lu MiB",
              (unsigned long)(nr_pages >> 8), (unsigned long)((needed + 255) >> 8));

    struct domain *d = domain_create(0, true);
    if (!d)
        panic("cannot create dom0");
    d->max_pages = nr_pages;
    mfn_t base = alloc_frames(nr_pages, 0);
    if (base == INVALID_MFN)
        panic("cannot allocate %lu MiB of contiguous memory for dom0", (unsigned long)(nr_pages >> 8));
    for (uint64_t pfn = 0; pfn < nr_pages; pfn++) {
        if (domain_assign_page(d, base + pfn))
            panic("dom0 memory accounting failed");
        set_m2p(base + pfn, pfn);
    }

#define PFN_OF(va) (((va) - l.v_start) >> PAGE_SHIFT)
#define VA_PTR(va) ((void *)mfn_to_virt(base + PFN_OF(va)))
    /* Contiguous machine memory: the kernel area is one buffer. */
    rc = elf_pv_load(image, image_size, &ei, (char *)VA_PTR(l.kernel_start) + (ei.virt_kstart - l.kernel_start),
                     (size_t)(ei.virt_kend - ei.virt_kstart));
    if (rc)
        panic("dom0 kernel: %s", elf_pv_strerror(rc));
    if (initrd)
        memcpy(VA_PTR(l.initrd_start), __va(initrd->start), (size_t)initrd_len);
    uint64_t *p2m = VA_PTR(l.p2m_start);
    for (uint64_t pfn = 0; pfn < nr_pages; pfn++)
        p2m[pfn] = base + pfn;
    if (ei.hypercall_page) {
        if (ei.hypercall_page < ei.virt_kstart || ei.hypercall_page >= ei.virt_kend ||
            (ei.hypercall_page & (PAGE_SIZE - 1)))
            panic("dom0 kernel: hypercall page 0x%lx is not a page of the image",
                  (unsigned long)ei.hypercall_page);
        pv_write_hypercall_page(VA_PTR(ei.hypercall_page));
    }

    struct start_info *si = VA_PTR(l.start_info);
    strlcpy(si->magic, "xen-3.0-x86_64", sizeof(si->magic));
    si->nr_pages = nr_pages;
    si->shared_info = d->shared_info_mfn << PAGE_SHIFT;
    si->flags = SIF_PRIVILEGED | SIF_INITDOMAIN;
    si->pt_base = l.pt_start;
    si->nr_pt_frames = l.nr_pt_frames;
    si->mfn_list = l.p2m_start;
    si->mod_start = initrd ? l.initrd_start : 0;
    si->mod_len = initrd_len;
    strlcpy(si->cmd_line, km->cmdline, sizeof(si->cmd_line));
    d->mem_map_pages = nr_pages;

    mfn_t l4 = p2m[pv_layout_write_page_tables(&l, p2m, write_pt_entry, p2m)];
    struct vcpu *v = d->vcpus[0];
    if ((rc = pv_pin_table(d, l4, PGT_l4)))
        panic("dom0's bootstrap page tables do not validate (%d)", rc);
    if ((rc = pv_set_baseptr(v, l4, false)))
        panic("cannot install dom0's page tables (%d)", rc);
    v->in_kernel = true;
    v->regs = (struct cpu_regs){
        .rip = ei.entry, .cs = FLAT_KERNEL_CS, .rflags = 0x202,
        .rsp = l.stack + PAGE_SIZE, .ss = FLAT_KERNEL_SS, .rsi = l.start_info,
    };
    v->kernel_ss = FLAT_KERNEL_SS;
    v->kernel_sp = l.stack + PAGE_SIZE;
    v->is_initialised = true;
    vcpu_update_time(v);
    pr_info("dom0: %lu MiB, kernel 0x%lx-0x%lx entry 0x%lx, start_info 0x%lx, %lu page-table frames",
            (unsigned long)(nr_pages >> 8), (unsigned long)ei.virt_kstart, (unsigned long)ei.virt_kend,
            (unsigned long)ei.entry, (unsigned long)l.start_info, (unsigned long)l.nr_pt_frames);
    sched_add_vcpu(v);
    timer_set(&v->periodic_timer, time_now_ns() + v->periodic_period_ns);
    return d;
#undef PFN_OF
#undef VA_PTR
}

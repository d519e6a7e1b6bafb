/* SPDX-License-Identifier: MIT */
/*
 * The domU builder (xen-pv-abi.md §3). The hypervisor only creates an empty
 * paused domain, hands out frames (populate_physmap, which also sets the M2P
 * and zeroes them), validates page tables and loads the vCPU; everything a
 * guest finds at boot is written here, through dom0's mapping window:
 *
 *   1. check the kernel and the layout before anything is created (a
 *      bzImage, like Debian's kernel, is first decompressed into a scratch
 *      area of dom0's own memory mapped through the window);
 *   2. createdomain, max_mem;
 *   3. populate the p2m's own frames first and map them, so the p2m list
 *      in the guest's memory is where the remaining MFNs are written (by
 *      the hypervisor, in place);
 *   4. map the whole boot region at window slot = PFN; load the ELF, the
 *      ramdisk, start_info, the page tables (lib/pv_layout);
 *   5. unmap everything (a page table must not be writable anywhere), pin
 *      the L4 on the guest's behalf, load vCPU 0, unpause.
 *
 * Any failure after step 2 unmaps and destroys the domain.
 */
#include <lamina/bzimage.h>
#include <lamina/elf_pv.h>
#include <lamina/fmt.h>
#include <lamina/pv_layout.h>
#include <lamina/string.h>
#include <guest/events.h>
#include <guest/hypercall.h>
#include <guest/runtime.h>
#include "build.h"
#include "domctl.h"
#include "initrd.h"
#include "vmap.h"
#include "../backends/console/console_backend.h"
#include "../xenstored/xenstored.h"
#include "xs_domain.h"
#include "../kernel/console.h"

#define MAX_P2M_PAGES 1024          /* p2m list pages: up to 2 GiB of guest memory */
#define POPULATE_BATCH 512
#define HYPERCALL_SLOT 32
#define NR_HYPERCALL_SLOTS 128
#define PTE_RO_TABLE_FLAGS (PTE_P | PTE_A)

#define MAX_KERNEL_BYTES (256ull << 20)  /* decompressed kernel limit */

static uint64_t p2m_page_mfns[MAX_P2M_PAGES];
static uint64_t xz_work[BZIMAGE_WORK_SIZE / 8];
static struct vcpu_guest_context vcpu_ctx;     /* 5 KiB: not on the stack */

static void write_pt_entry(void *ctx, uint64_t table_pfn, unsigned index, uint64_t value)
{
    (void)ctx;
    ((uint64_t *)vmap_va(table_pfn))[index] = value;
}

/* §1.3: 0xCC everywhere, then per hypercall `push %rcx; push %r11; mov $i,
 * %eax; syscall; pop %r11; pop %rcx; ret`, and for iret (which never
 * returns) `push %rcx; push %r11; push %rax; mov $23, %eax; syscall`. */
static void write_hypercall_page(uint8_t *page)
{
    memset(page, 0xcc, PAGE_SIZE);
    for (unsigned i = 0; i < NR_HYPERCALL_SLOTS; i++) {
        uint8_t *p = page + i * HYPERCALL_SLOT;
        *p++ = 0x51;
        *p++ = 0x41;
        *p++ = 0x53;
        if (i == __HYPERVISOR_iret)
            *p++ = 0x50;
        *p++ = 0xb8;
        for (unsigned b = 0; b < 4; b++)
            *p++ = (uint8_t)(i >> (8 * b));
        *p++ = 0x0f;
        *p++ = 0x05;
        if (i == __HYPERVISOR_iret)
            continue;
        *p++ = 0x41;
        *p++ = 0x5b;
        *p++ = 0x59;
        *p++ = 0xc3;
    }
}

/* Gives `dom` the frames for PFNs [first, first+nr): *extents holds the PFNs
 * and receives the MFNs. Returns 0, or -1 when the pool ran dry. */
static long populate(domid_t dom, uint64_t *extents, uint64_t nr)
{
    struct xen_memory_reservation r = {
        .extent_start = (uint64_t)(uintptr_t)extents, .nr_extents = nr, .extent_order = 0, .domid = dom,
    };
    long rc = hyp_memory_op(XENMEM_populate_physmap, &r);
    return rc == (long)nr ? 0 : rc < 0 ? rc : -XEN_ENOMEM;
}

struct build {
    const struct xl_domain_config *cfg;
    const void *kernel, *ramdisk;
    size_t kernel_size, ramdisk_size;
    struct elf_pv_info ei;
    struct pv_layout l;
    uint64_t region_pages, p2m_first, p2m_pages;
    domid_t dom;
    uint64_t console_mfn;       /* start_info.console.domU, for the backend */
    uint32_t console_port;
    uint64_t store_mfn;         /* start_info.store_*, for xenstored */
    uint32_t store_port;
    uint64_t *p2m;          /* the guest's p2m list, through the window */
    uint64_t scratch_first, scratch_pages;   /* decompressed kernel, if any */
};

/* A bzImage's ELF (xen-pv-abi.md §3.1) goes to scratch slots just below the
 * backends' part of the window, in dom0's own spare frames; b->kernel then
 * points at it. A plain ELF is used where it lies in the initrd. */
static int unpack_kernel(struct build *b, char *err, size_t size)
{
    const char *name = b->cfg->kernel;
    struct bzimage_info bzi;
    int rc = bzimage_parse(b->kernel, b->kernel_size, &bzi);
    if (rc == BZIMAGE_ENOTBZ)
        return 0;
    if (rc == BZIMAGE_EUNSUPPORTED)
        return fmt_fail(err, size, "kernel '%s': %s-compressed bzImages are not supported (XZ is)", name,
                     bzimage_compression_name(bzi.compression));
    if (rc)
        return fmt_fail(err, size, "kernel '%s': %s", name, bzimage_strerror(rc));
    if (!bzi.decompressed_size || bzi.decompressed_size > MAX_KERNEL_BYTES)
        return fmt_fail(err, size, "kernel '%s': decompressed size %lu is not usable", name,
                     (unsigned long)bzi.decompressed_size);
    long vrc = vmap_init();
    b->scratch_pages = (bzi.decompressed_size + PAGE_SIZE - 1) / PAGE_SIZE;
    if (!vrc && vmap_max_slots() < VMAP_BACKEND_SLOTS + b->scratch_pages)
        vrc = -XEN_ENOSPC;
    if (!vrc) {
        b->scratch_first = vmap_max_slots() - VMAP_BACKEND_SLOTS - b->scratch_pages;
        vrc = vmap_reserve(b->scratch_first + b->scratch_pages);
    }
    if (!vrc)
        vrc = vmap_map_own(b->scratch_first, b->scratch_pages);
    if (vrc) {
        b->scratch_pages = 0;
        return fmt_fail(err, size, "kernel '%s': no room in dom0 for its %lu MiB decompressed (%s)", name,
                     (unsigned long)(bzi.decompressed_size >> 20), xen_errno_name(vrc));
    }
    size_t len = 0;
    rc = bzimage_decompress(b->kernel, b->kernel_size, vmap_va(b->scratch_first),
                            b->scratch_pages * PAGE_SIZE, &len, xz_work, sizeof(xz_work));
    if (rc)
        return fmt_fail(err, size, "kernel '%s': %s", name, bzimage_strerror(rc));
    b->kernel = vmap_va(b->scratch_first);
    b->kernel_size = len;
    return 0;
}

static void release_scratch(struct build *b)
{
    if (b->scratch_pages)
        vmap_unmap(b->scratch_first, b->scratch_pages);
    b->scratch_pages = 0;
}

/* Step 1: everything that can be checked before a domain exists. */
static int check_inputs(struct build *b, char *err, size_t size)
{
    const struct xl_domain_config *cfg = b->cfg;
    const char *why;
    if (initrd_file(cfg->kernel, &b->kernel, &b->kernel_size, &why))
        return fmt_fail(err, size, "kernel '%s': %s", cfg->kernel, why);
    if (cfg->ramdisk[0] && initrd_file(cfg->ramdisk, &b->ramdisk, &b->ramdisk_size, &why))
        return fmt_fail(err, size, "ramdisk '%s': %s", cfg->ramdisk, why);
    if (unpack_kernel(b, err, size))
        return -1;
    int rc = elf_pv_parse(b->kernel, b->kernel_size, &b->ei);
    if (rc)
        return fmt_fail(err, size, "kernel '%s': %s", cfg->kernel, elf_pv_strerror(rc));
    const struct elf_pv_info *ei = &b->ei;
    if (ei->hypercall_page && (ei->hypercall_page < ei->virt_kstart || ei->hypercall_page >= ei->virt_kend ||
                               (ei->hypercall_page & (PAGE_SIZE - 1))))
        return fmt_fail(err, size, "kernel '%s': its hypercall page 0x%lx is not a page of the image", cfg->kernel,
                     ei->hypercall_page);
    if (cfg->vcpus != 1)
        return fmt_fail(err, size, "only 1 vCPU per domain is supported");
    uint64_t nr_pages = cfg->memory_mib << 8, needed = 0;
    if (nr_pages > (uint64_t)MAX_P2M_PAGES * (PAGE_SIZE / 8))
        return fmt_fail(err, size, "memory = %lu MiB: the builder handles at most %lu MiB for now", cfg->memory_mib,
                     (uint64_t)MAX_P2M_PAGES * (PAGE_SIZE / 8) >> 8);
    if (pv_layout_plan(ei, b->ramdisk_size, nr_pages, true, &b->l, &needed)) {
        if (needed)
            return fmt_fail(err, size, "memory = %lu MiB is too small: the boot layout alone needs %lu MiB",
                         cfg->memory_mib, (needed + 255) >> 8);
        return fmt_fail(err, size, "kernel '%s': its layout cannot be mapped (VIRT_BASE not 2 MiB aligned?)",
                     cfg->kernel);
    }
    b->region_pages = (b->l.v_end - b->l.v_start) / PAGE_SIZE;
    b->p2m_first = pv_layout_pfn(&b->l, b->l.p2m_start);
    b->p2m_pages = (nr_pages * 8 + PAGE_SIZE - 1) / PAGE_SIZE;
    long vrc = vmap_init();
    /* The window's last slots hold the console rings. */
    if (!vrc && b->region_pages > vmap_max_slots() - VMAP_BACKEND_SLOTS - b->scratch_pages)
        vrc = -XEN_ENOSPC;
    if (!vrc)
        vrc = vmap_reserve(b->region_pages);
    if (vrc)
        return fmt_fail(err, size, "cannot map %lu MiB of the new domain in dom0 (%s)", b->region_pages >> 8,
                     xen_errno_name(vrc));
    return 0;
}

/* Step 3: the p2m's frames, then every other frame, MFNs written in place. */
static int populate_memory(struct build *b, char *err, size_t size)
{
    uint64_t nr_pages = b->l.nr_pages;
    for (uint64_t done = 0; done < b->p2m_pages;) {
        uint64_t n = b->p2m_pages - done < POPULATE_BATCH ? b->p2m_pages - done : POPULATE_BATCH;
        for (uint64_t i = 0; i < n; i++)
            p2m_page_mfns[done + i] = b->p2m_first + done + i;
        long rc = populate(b->dom, &p2m_page_mfns[done], n);
        if (!rc)
            rc = vmap_map(b->p2m_first + done, &p2m_page_mfns[done], n, b->dom);
        if (rc)
            return fmt_fail(err, size, "cannot allocate the p2m of %lu MiB (%s)", b->cfg->memory_mib,
                         xen_errno_name(rc));
        done += n;
    }
    /* Slot n is PFN n, so the p2m list is at its own guest address, shifted. */
    b->p2m = (uint64_t *)vmap_va(b->p2m_first);
    for (uint64_t i = 0; i < b->p2m_pages; i++)
        b->p2m[b->p2m_first + i] = p2m_page_mfns[i];

    uint64_t ranges[2][2] = { { 0, b->p2m_first }, { b->p2m_first + b->p2m_pages, nr_pages } };
    for (unsigned r = 0; r < 2; r++) {
        uint64_t first = ranges[r][0], end = ranges[r][1];
        if (first >= end)
            continue;
        for (uint64_t pfn = first; pfn < end; pfn++)
            b->p2m[pfn] = pfn;
        long rc = populate(b->dom, &b->p2m[first], end - first);
        if (rc)
            return fmt_fail(err, size, "cannot get %lu MiB from the hypervisor's free memory (%s)",
                         b->cfg->memory_mib, xen_errno_name(rc));
    }
    /* The rest of the boot region (the p2m's own pages are mapped). */
    long rc = vmap_map(0, b->p2m, b->p2m_first, b->dom);
    uint64_t after = b->p2m_first + b->p2m_pages;
    if (!rc && after < b->region_pages)
        rc = vmap_map(after, &b->p2m[after], b->region_pages - after, b->dom);
    if (rc)
        return fmt_fail(err, size, "cannot map the new domain's memory (%s)", xen_errno_name(rc));
    return 0;
}

/* Step 4: the contents of the boot region. Returns the L4's MFN via *l4_mfn. */
static int fill_region(struct build *b, uint64_t *l4_mfn, char *err, size_t size)
{
    const struct pv_layout *l = &b->l;
    uint8_t *base = vmap_va(0);
#define AT(va) (base + ((va) - l->v_start))
    int rc = elf_pv_load(b->kernel, b->kernel_size, &b->ei, AT(b->ei.virt_kstart),
                         (size_t)(b->ei.virt_kend - b->ei.virt_kstart));
    if (rc)
        return fmt_fail(err, size, "kernel '%s': %s", b->cfg->kernel, elf_pv_strerror(rc));
    if (b->ramdisk_size)
        memcpy(AT(l->initrd_start), b->ramdisk, b->ramdisk_size);
    if (b->ei.hypercall_page)
        write_hypercall_page(AT(b->ei.hypercall_page));

    struct xen_domctl_getdomaininfo info;
    long hrc = domctl_getdomaininfo(b->dom, &info);
    if (hrc || info.domain != b->dom)
        return fmt_fail(err, size, "getdomaininfo failed (%s)", xen_errno_name(hrc ? hrc : -XEN_ESRCH));
    /* §3.9: the xenstore and console ports, offered to dom0 (their backend). */
    long store_port = evtchn_alloc_unbound(b->dom, 0);
    long console_port = store_port > 0 ? evtchn_alloc_unbound(b->dom, 0) : store_port;
    if (console_port <= 0)
        return fmt_fail(err, size, "cannot allocate event channels (%s)", xen_errno_name(console_port));

    struct start_info *si = (struct start_info *)AT(l->start_info);
    memset(si, 0, sizeof(*si));
    strlcpy(si->magic, "xen-3.0-x86_64", sizeof(si->magic));
    si->nr_pages = l->nr_pages;
    si->shared_info = info.shared_info_frame << 12;
    si->flags = 0;
    si->store_mfn = b->p2m[pv_layout_pfn(l, l->xenstore)];
    si->store_evtchn = (uint32_t)store_port;
    si->console.domU.mfn = b->p2m[pv_layout_pfn(l, l->console)];
    si->console.domU.evtchn = (uint32_t)console_port;
    b->console_mfn = si->console.domU.mfn;
    b->console_port = (uint32_t)console_port;
    b->store_mfn = si->store_mfn;
    b->store_port = (uint32_t)store_port;
    si->pt_base = l->pt_start;
    si->nr_pt_frames = l->nr_pt_frames;
    si->mfn_list = l->p2m_start;
    si->mod_start = b->ramdisk_size ? l->initrd_start : 0;
    si->mod_len = b->ramdisk_size;
    strlcpy(si->cmd_line, b->cfg->cmdline, sizeof(si->cmd_line));

    *l4_mfn = b->p2m[pv_layout_write_page_tables(l, b->p2m, write_pt_entry, NULL)];
#undef AT
    return 0;
}

/* Step 5. */
static int start_vcpu(struct build *b, uint64_t l4_mfn, bool paused, char *err, size_t size)
{
    unsigned done = 0;
    struct mmuext_op pin = { .cmd = MMUEXT_PIN_L4_TABLE, .arg1.mfn = l4_mfn };
    long rc = hyp_mmuext_op(&pin, 1, &done, b->dom);
    if (rc)
        return fmt_fail(err, size, "the new domain's page tables do not validate (%s)", xen_errno_name(rc));

    uint64_t stack_top = b->l.stack + PAGE_SIZE;
    memset(&vcpu_ctx, 0, sizeof(vcpu_ctx));
    vcpu_ctx.flags = VGCF_in_kernel | VGCF_online;
    vcpu_ctx.user_regs.rip = b->ei.entry;
    vcpu_ctx.user_regs.rsp = stack_top;
    vcpu_ctx.user_regs.rsi = b->l.start_info;
    vcpu_ctx.user_regs.rflags = 0x200;
    vcpu_ctx.user_regs.cs = FLAT_KERNEL_CS;
    vcpu_ctx.user_regs.ss = FLAT_KERNEL_SS;
    vcpu_ctx.kernel_ss = FLAT_KERNEL_SS;
    vcpu_ctx.kernel_sp = stack_top;
    vcpu_ctx.ctrlreg[3] = l4_mfn << 12;
    if ((rc = domctl_set_vcpu_context(b->dom, &vcpu_ctx)))
        return fmt_fail(err, size, "setvcpucontext failed (%s)", xen_errno_name(rc));
    if (!paused && (rc = domctl_unpause(b->dom)))
        return fmt_fail(err, size, "unpause failed (%s)", xen_errno_name(rc));
    return 0;
}

/* The domain's console as libxl describes it for xenconsoled (the backend
 * reads it from here): /local/domain/<id>/console/{ring-ref, port, limit,
 * type, output}, owned by dom0 and readable by the domain. */
static long write_console_nodes(const struct build *b)
{
    static const char *const keys[] = { "ring-ref", "port", "limit", "type", "output" };
    char values[5][24], path[64], perms[16];
    fmt_snprintf(values[0], sizeof(values[0]), "%lu", (unsigned long)b->console_mfn);
    fmt_snprintf(values[1], sizeof(values[1]), "%u", b->console_port);
    fmt_snprintf(values[2], sizeof(values[2]), "%u", 1048576u);
    fmt_snprintf(values[3], sizeof(values[3]), "xenconsoled");
    fmt_snprintf(values[4], sizeof(values[4]), "pty");
    fmt_snprintf(perms, sizeof(perms), "n0 r%u", b->dom);
    fmt_snprintf(path, sizeof(path), "/local/domain/%u/console", b->dom);
    long rc = xenstored_mkdir(path);
    if (!rc)
        rc = xenstored_set_perms(path, perms);
    for (unsigned i = 0; i < 5 && !rc; i++) {
        fmt_snprintf(path, sizeof(path), "/local/domain/%u/console/%s", b->dom, keys[i]);
        if (!(rc = xenstored_write_str(path, values[i])))
            rc = xenstored_set_perms(path, perms);
    }
    return rc;
}

int build_domain(const struct xl_domain_config *cfg, bool paused, domid_t *domid, char *err, size_t err_size)
{
    static struct build b;
    memset(&b, 0, sizeof(b));
    b.cfg = cfg;
    if (check_inputs(&b, err, err_size)) {
        release_scratch(&b);
        return -1;
    }

    long rc = domctl_create(&b.dom);
    if (rc) {
        release_scratch(&b);
        return fmt_fail(err, err_size, "createdomain failed (%s)", xen_errno_name(rc));
    }
    uint64_t l4_mfn = 0;
    if ((rc = domctl_max_mem(b.dom, cfg->memory_mib << 10))) {
        fmt_fail(err, err_size, "max_mem failed (%s)", xen_errno_name(rc));
        goto fail;
    }
    if (populate_memory(&b, err, err_size) || fill_region(&b, &l4_mfn, err, err_size))
        goto fail;
    release_scratch(&b);
    /* Nothing of the guest may stay mapped here: its page tables could not
     * be pinned, and a destroyed domain's frames would outlive it. */
    if ((rc = vmap_unmap(0, b.region_pages))) {
        fmt_fail(err, err_size, "cannot unmap the new domain (%s)", xen_errno_name(rc));
        goto fail;
    }
    /* xenstore before the guest runs: Linux's xenbus waits on it (§8.4). */
    if ((rc = xs_domain_write_home(b.dom, cfg->name, cfg->memory_mib << 10, 1)) ||
        (rc = xs_domain_introduce(b.dom, b.store_mfn, b.store_port))) {
        fmt_fail(err, err_size, "cannot introduce the domain to xenstore (%s)", xen_errno_name(rc));
        goto fail;
    }
    if ((rc = (int)write_console_nodes(&b)) || (rc = console_backend_add(b.dom, cfg->name)))
        con_printf("xl: domain '%s' runs without a console (%s)\n", cfg->name, xen_errno_name(rc));
    if (start_vcpu(&b, l4_mfn, paused, err, err_size))
        goto fail;
    *domid = b.dom;
    return 0;
fail:
    release_scratch(&b);
    console_backend_remove(b.dom);
    xs_forget_domain(b.dom);
    vmap_unmap(0, b.region_pages);
    domctl_destroy(b.dom);
    return -1;
}

/* SPDX-License-Identifier: MIT */
/*
 * attacker: a hostile unprivileged domU. It tries every way it has to reach
 * another domain or the hypervisor, and each attempt must be refused
 * (xen-pv-abi.md §5.2-§5.5 ownership, §6.1 event channels, domctl and the
 * foreign-domain arguments are for the privileged domain only):
 *  - map every machine frame it does not own, read-only and writable, and
 *    use the frames other domains own as page tables, M2P targets, copy
 *    sources, pages to clear or to give back;
 *  - name another domain (or a reserved id) in mmu_update, mmuext_op,
 *    update_va_mapping_otherdomain, domctl, memory reservations, event
 *    channels and remote shutdown;
 *  - bind ports it was not offered, send on ports that do not exist, read
 *    the physical console, map into or touch the hypervisor's hole;
 *  - reach devices: map device memory (the local APIC, the IO-APIC, PCI
 *    BAR-like and firmware addresses), use cache attributes on its own RAM,
 *    read PCI configuration space and other ports, write the reset ports,
 *    and do port I/O without I/O privilege (docs/pci.md);
 *  - a storm of random hypercalls;
 * and finally it crashes itself with a fault it has no handler for, which
 * the hypervisor must contain to this domain. One CHECK line per kind of
 * attack, counting the attempts that were not refused (must be 0).
 */
#include <lamina/fmt.h>
#include <lamina/string.h>
#include <public/domctl.h>
#include <guest/events.h>
#include <guest/hypercall.h>
#include <guest/portio.h>
#include <guest/runtime.h>
#include <guest/test.h>
#include <guest/traps.h>

#define HV_IMAGE_VA      0xffff82d000100000UL
#define HV_DIRECTMAP_VA  0xffff830000000000UL
#define NONCANONICAL_VA  0x8000000000000000UL
#define NR_PROBED_IDS    16
#define PTE_RO_FLAGS     (PTE_P | PTE_A)
#define PTE_RW_FLAGS     (PTE_P | PTE_RW | PTE_A | PTE_D)
#define STORM_CALLS      4000
#define STORM_SEED       0xa77ac4e55eed0001ULL
#define MMUEXT_BAD_BATCH 6

extern const char __image_start[], __bss_start[];

static uint8_t window[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
static uint8_t scratch[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
static uint8_t storm_buf[4 * PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
static uint64_t window_pte, window_l1_maddr;
static domid_t self_id;
static domid_t targets[NR_PROBED_IDS + 6];
static unsigned nr_targets;
static uint64_t rng;

/* ---- Bookkeeping: attempts per kind, and the ones that got through ---- */

struct tally {
    unsigned tries, bad;
    long first_rc;
    uint64_t first_what;
};

static void tally(struct tally *t, bool refused, long rc, uint64_t what)
{
    t->tries++;
    if (!refused && t->bad++ == 0) {
        t->first_rc = rc;
        t->first_what = what;
    }
}

static void report(const char *check, const struct tally *t, const char *want)
{
    char got[96];
    fmt_snprintf(got, sizeof(got), "%u_of_%u_not_refused(first_rc=%ld_at_0x%lx)", t->bad, t->tries, t->first_rc,
                 t->first_what);
    printf("NOTE attacker:%s %u attempts\n", check, t->tries);
    check_true(check, t->tries > 0 && t->bad == 0, t->tries ? got : "no_attempts", want);
}

/* ---- Discovery ---------------------------------------------------------- */

static bool is_own_mfn(uint64_t mfn)
{
    uint64_t pfn = m2p_table()[mfn];
    return pfn < start_info->nr_pages && pfn_to_mfn(pfn) == mfn;
}

/* Our domain id: the one id whose reservation we may read. */
static void discover_self(void)
{
    unsigned found = 0;
    for (unsigned id = 0; id < NR_PROBED_IDS; id++) {
        domid_t d = (domid_t)id;
        long rc = hyp_memory_op(XENMEM_current_reservation, &d);
        if (rc >= 0) {
            self_id = d;
            found++;
        }
    }
    check_int("own_domid_found_once", found, 1);
    printf("NOTE attacker: I am d%u\n", self_id);
    for (unsigned id = 0; id < NR_PROBED_IDS; id++)
        if (id != self_id)
            targets[nr_targets++] = (domid_t)id;
    static const domid_t reserved[] = { DOMID_IO, DOMID_XEN, DOMID_COW, DOMID_INVALID, DOMID_IDLE, 0x7fef };
    for (unsigned i = 0; i < ARRAY_SIZE(reserved); i++)
        targets[nr_targets++] = reserved[i];
}

static void restore_window(void)
{
    hyp_update_va_mapping((uint64_t)(uintptr_t)window, window_pte, UVMF_INVLPG);
}

/* ---- Devices (docs/pci.md) ---------------------------------------------- */

static unsigned gp_faults;

static bool on_gp(struct trap_frame *f)
{
    gp_faults++;
    f->rip += 1;           /* every probe below is a one-byte in/out %dx */
    return true;
}

static uint32_t in_dx(uint16_t port, unsigned size)
{
    uint32_t v = 0x5a5a5a5a;
    if (size == 1)
        __asm__ volatile("inb %%dx, %%al" : "+a"(v) : "d"(port));
    else if (size == 2)
        __asm__ volatile("inw %%dx, %%ax" : "+a"(v) : "d"(port));
    else
        __asm__ volatile("inl %%dx, %%eax" : "+a"(v) : "d"(port));
    return v;
}

static void attack_devices(void)
{
    struct tally mmio = { 0 }, cache = { 0 }, ports = { 0 };
    uint64_t win = (uint64_t)(uintptr_t)window;
    /* The local APIC, the IO-APIC, HPET, q35's MMCONFIG and PCI windows, the
     * VGA hole, the BIOS ROM, memory far above RAM, the top of the address
     * width: all device memory, all refused whatever the bits. */
    static const uint64_t frames[] = { 0xfee00, 0xfec00, 0xfed00, 0xb0000, 0xc0000, 0xfe000,
                                       0xfebf0, 0xa0, 0xb8, 0xf0, 0x800000, 0xfffffff };
    static const uint64_t flags[] = { PTE_RO_FLAGS, PTE_RW_FLAGS, PTE_RW_FLAGS | (1UL << 3) | (1UL << 4),
                                      PTE_RO_FLAGS | (1UL << 7) };
    for (unsigned i = 0; i < ARRAY_SIZE(frames); i++)
        for (unsigned f = 0; f < ARRAY_SIZE(flags); f++) {
            long rc = hyp_update_va_mapping(win, (frames[i] << 12) | flags[f], UVMF_INVLPG);
            tally(&mmio, rc == -XEN_EPERM, rc, frames[i]);
            if (rc == 0)
                restore_window();
        }
    report("map_device_memory_eperm", &mmio, "all -EPERM");
    /* Cache attributes on our own RAM: refused (only device memory of the
     * privileged domain may carry them). */
    static const uint64_t cache_bits[] = { 1UL << 3, 1UL << 4, 1UL << 7, (1UL << 3) | (1UL << 4) };
    for (unsigned i = 0; i < ARRAY_SIZE(cache_bits); i++) {
        long rc = hyp_update_va_mapping(win, (va_to_mfn(scratch) << 12) | PTE_RW_FLAGS | cache_bits[i],
                                        UVMF_INVLPG);
        tally(&cache, rc == -XEN_EINVAL, rc, cache_bits[i]);
        if (rc == 0)
            restore_window();
    }
    report("own_ram_cache_attributes_einval", &cache, "all -EINVAL");

    /* Port I/O with virtual IOPL 1: allowed, but nothing reaches hardware. */
    check_int("set_iopl_1", set_iopl(1), 0);
    outl(0xcf8, 0x80000000u);                     /* bus 0 device 0: the host bridge */
    static const struct { uint16_t port; uint8_t size; } probes[] = {
        { 0xcfc, 4 }, { 0xcfc, 2 }, { 0xcfe, 2 }, { 0xcfd, 1 }, { 0xcf8, 4 },
        { 0x3fd, 1 }, { 0x21, 1 }, { 0x40, 1 }, { 0x64, 1 }, { 0x71, 1 }, { 0xb004, 2 }, { 0xc000, 4 },
    };
    for (unsigned i = 0; i < ARRAY_SIZE(probes); i++) {
        uint32_t want = probes[i].size == 4 ? 0xffffffffu : probes[i].size == 2 ? 0x5a5affffu : 0x5a5a5affu;
        uint32_t got = in_dx(probes[i].port, probes[i].size);
        tally(&ports, got == want, (long)got, probes[i].port);
    }
    report("port_reads_all_ones", &ports, "all ones in the accessed bytes");
    /* Writes are dropped: the reset control (0xcf9), the keyboard
     * controller's reset line and ACPI's sleep register would end the
     * machine here, and the serial port would print. */
    outb(0xcf9, 0x06);
    outb(0x64, 0xfe);
    outw(0x604, 0x2000);
    outb(0x3f8, '!');
    printf("NOTE attacker: reset and sleep port writes were dropped\n");

    /* Back to IOPL 0: every in/out is the guest's own #GP. */
    check_int("set_iopl_0", set_iopl(0), 0);
    check_int("set_iopl_4_einval", set_iopl(4), -XEN_EINVAL);
    traps_set_handler(TRAP_GP, on_gp);
    gp_faults = 0;
    (void)in_dx(0xcfc, 1);
    __asm__ volatile("outb %%al, %%dx" : : "a"(0), "d"(0x80));
    traps_set_handler(TRAP_GP, NULL);
    check_int("port_io_without_iopl_gp", gp_faults, 2);
}

/* ---- Frames we do not own ---------------------------------------------- */

static void attack_foreign_frame(uint64_t mfn, struct tally *pt_write, struct tally *m2p_write,
                                 struct tally *as_table, struct tally *clear_copy, struct tally *give_back)
{
    unsigned done = 0;
    struct mmu_update req = { .ptr = (mfn << 12) | MMU_NORMAL_PT_UPDATE, .val = 0 };
    long rc = hyp_mmu_update(&req, 1, &done, DOMID_SELF);
    tally(pt_write, rc < 0, rc, mfn);
    req.ptr = (mfn << 12) | MMU_MACHPHYS_UPDATE;
    req.val = 0;
    rc = hyp_mmu_update(&req, 1, &done, DOMID_SELF);
    tally(m2p_write, rc < 0, rc, mfn);

    static const unsigned table_cmds[] = { MMUEXT_PIN_L1_TABLE, MMUEXT_PIN_L4_TABLE, MMUEXT_NEW_BASEPTR,
                                           MMUEXT_NEW_USER_BASEPTR };
    for (unsigned i = 0; i < ARRAY_SIZE(table_cmds); i++) {
        struct mmuext_op op = { .cmd = table_cmds[i], .arg1.mfn = mfn };
        rc = hyp_mmuext_op(&op, 1, &done, DOMID_SELF);
        tally(as_table, rc < 0, rc, mfn);
    }
    struct mmuext_op clear = { .cmd = MMUEXT_CLEAR_PAGE, .arg1.mfn = mfn };
    rc = hyp_mmuext_op(&clear, 1, &done, DOMID_SELF);
    tally(clear_copy, rc < 0, rc, mfn);
    struct mmuext_op copy = { .cmd = MMUEXT_COPY_PAGE, .arg1.mfn = va_to_mfn(scratch), .arg2.src_mfn = mfn };
    rc = hyp_mmuext_op(&copy, 1, &done, DOMID_SELF);
    tally(clear_copy, rc < 0, rc, mfn);

    /* decrease_reservation of a frame that is not ours removes nothing. */
    uint64_t extent = mfn;
    struct xen_memory_reservation r = { .extent_start = (uint64_t)(uintptr_t)&extent, .nr_extents = 1,
                                        .domid = DOMID_SELF };
    rc = hyp_memory_op(XENMEM_decrease_reservation, &r);
    tally(give_back, rc == 0, rc, mfn);
}

static void scan_frames(void)
{
    struct tally map_ro = { 0 }, map_rw = { 0 }, pt_write = { 0 }, m2p_write = { 0 }, as_table = { 0 },
                 clear_copy = { 0 }, give_back = { 0 };
    long max = hyp_memory_op(XENMEM_maximum_ram_page, NULL);
    check_cond_hex("maximum_ram_page", max > 0, (uint64_t)max, "> 0");
    uint64_t win = (uint64_t)(uintptr_t)window;
    uint64_t shared_mfn = start_info->shared_info >> 12;
    uint64_t own = 0, others = 0;
    memset(scratch, 0xa5, sizeof(scratch));

    for (uint64_t mfn = 0; max > 0 && mfn <= (uint64_t)max; mfn++) {
        if (is_own_mfn(mfn) || mfn == shared_mfn) {
            own++;
            continue;
        }
        long rc = hyp_update_va_mapping(win, (mfn << 12) | PTE_RO_FLAGS, UVMF_INVLPG);
        tally(&map_ro, rc < 0, rc, mfn);
        if (rc == 0)
            restore_window();
        rc = hyp_update_va_mapping(win, (mfn << 12) | PTE_RW_FLAGS, UVMF_INVLPG);
        tally(&map_rw, rc < 0, rc, mfn);
        if (rc == 0)
            restore_window();
        /* Frames with an M2P entry belong to some domain (dom0, the
         * victim): the most tempting targets get every other attack.
         * (MFN 0 is skipped: NEW_USER_BASEPTR 0 legitimately means "none".) */
        uint64_t pfn = m2p_table()[mfn];
        if (mfn != 0 && pfn != INVALID_M2P_ENTRY && pfn < (1ULL << 40)) {
            others++;
            attack_foreign_frame(mfn, &pt_write, &m2p_write, &as_table, &clear_copy, &give_back);
        }
    }
    printf("NOTE attacker: scanned mfn 0..0x%lx: %lu ours, %lu owned by other domains\n", (uint64_t)max, own,
           others);
    check_cond_hex("saw_other_domains_frames", others > 0, others, "> 0");
    report("map_foreign_frames_readonly_refused", &map_ro, "0 not refused");
    report("map_foreign_frames_writable_refused", &map_rw, "0 not refused");
    report("write_foreign_frame_as_pt_refused", &pt_write, "0 not refused");
    report("machphys_update_foreign_refused", &m2p_write, "0 not refused");
    report("foreign_frame_as_page_table_refused", &as_table, "0 not refused");
    report("clear_or_copy_foreign_frame_refused", &clear_copy, "0 not refused");
    report("give_back_foreign_frame_removes_nothing", &give_back, "0 removed");
    uint64_t leaked = 0;
    for (unsigned i = 0; i < PAGE_SIZE; i++)
        leaked += scratch[i] != 0xa5;
    check_int("copy_page_leaked_bytes", (int64_t)leaked, 0);
    check_hex("window_still_ours", ((volatile uint8_t *)window)[0], 0);
}

/* ---- Naming another domain ------------------------------------------- */

static long domctl(uint32_t cmd, domid_t dom)
{
    static struct vcpu_guest_context ctx;
    struct xen_domctl op = { .cmd = cmd, .interface_version = LAMINA_DOMCTL_INTERFACE_VERSION, .domain = dom };
    if (cmd == XEN_DOMCTL_max_mem)
        op.u.max_mem.max_memkb = 1ULL << 30;
    if (cmd == XEN_DOMCTL_setvcpucontext)
        op.u.vcpucontext.ctxt = (uint64_t)(uintptr_t)&ctx;
    return hypercall1(__HYPERVISOR_domctl, &op);
}

static void attack_other_domains(void)
{
    struct tally mmu = { 0 }, mmuext = { 0 }, uvm_other = { 0 }, dctl = { 0 }, mem = { 0 }, evt = { 0 },
                 shutdown = { 0 }, bind = { 0 }, bind_dom0 = { 0 };
    uint64_t win = (uint64_t)(uintptr_t)window;
    uint64_t l4_mfn = va_to_mfn((void *)start_info->pt_base);
    static const uint32_t domctls[] = {
        XEN_DOMCTL_createdomain, XEN_DOMCTL_destroydomain, XEN_DOMCTL_pausedomain, XEN_DOMCTL_unpausedomain,
        XEN_DOMCTL_getdomaininfo, XEN_DOMCTL_max_mem, XEN_DOMCTL_setvcpucontext, XEN_DOMCTL_max_vcpus, 99,
    };

    for (unsigned i = 0; i < nr_targets; i++) {
        domid_t dom = targets[i];
        unsigned done = 0;
        /* A harmless request (rewrite our own window entry) under a foreign
         * domain's name: refused before anything is looked at. */
        struct mmu_update req = { .ptr = window_l1_maddr | MMU_NORMAL_PT_UPDATE, .val = window_pte };
        long rc = hyp_mmu_update(&req, 1, &done, dom);
        tally(&mmu, rc == -XEN_EPERM, rc, dom);
        struct mmuext_op ops[2] = { { .cmd = MMUEXT_TLB_FLUSH_LOCAL },
                                    { .cmd = MMUEXT_PIN_L4_TABLE, .arg1.mfn = l4_mfn } };
        for (unsigned k = 0; k < 2; k++) {
            rc = hyp_mmuext_op(&ops[k], 1, &done, dom);
            tally(&mmuext, rc == -XEN_EPERM, rc, dom);
        }
        rc = hypercall4(__HYPERVISOR_update_va_mapping_otherdomain, win, window_pte, UVMF_INVLPG, dom);
        tally(&uvm_other, rc == -XEN_EPERM, rc, dom);

        for (unsigned k = 0; k < ARRAY_SIZE(domctls); k++) {
            rc = domctl(domctls[k], dom);
            tally(&dctl, rc == -XEN_EPERM, rc, dom);
        }

        uint64_t extent = 0;
        static const unsigned resv_ops[] = { XENMEM_populate_physmap, XENMEM_increase_reservation,
                                             XENMEM_decrease_reservation };
        for (unsigned k = 0; k < ARRAY_SIZE(resv_ops); k++) {
            extent = k == 2 ? va_to_mfn(scratch) : 0x100;
            struct xen_memory_reservation r = { .extent_start = (uint64_t)(uintptr_t)&extent, .nr_extents = 1,
                                                .domid = dom };
            rc = hyp_memory_op(resv_ops[k], &r);
            tally(&mem, rc == -XEN_EPERM, rc, dom);
        }
        domid_t d = dom;
        rc = hyp_memory_op(XENMEM_current_reservation, &d);
        tally(&mem, rc == -XEN_EPERM, rc, dom);
        rc = hyp_memory_op(XENMEM_maximum_reservation, &d);
        tally(&mem, rc == -XEN_EPERM, rc, dom);

        rc = evtchn_alloc_unbound(dom, self_id);
        tally(&evt, rc == -XEN_EPERM, rc, dom);
        rc = evtchn_alloc_unbound(dom, 0);
        tally(&evt, rc == -XEN_EPERM, rc, dom);
        struct evtchn_status st;
        rc = evtchn_status(dom, 1, &st);
        tally(&evt, rc == -XEN_EPERM, rc, dom);

        struct { uint16_t domid; uint16_t pad; uint32_t reason; } rs = { dom, 0, SHUTDOWN_poweroff };
        rc = hyp_sched_op(SCHEDOP_remote_shutdown, &rs);
        tally(&shutdown, rc == -XEN_EPERM, rc, dom);

        /* No domain offered us a port: every bind fails, with -EINVAL for a
         * domain that exists (dom0 always does) or -ESRCH for one that
         * does not. The victim's ports are offered to dom0, not to us. */
        if (dom >= DOMID_FIRST_RESERVED)
            continue;
        for (unsigned port = 0; port < 64; port++) {
            rc = evtchn_bind_interdomain(dom, port);
            if (dom == 0)
                tally(&bind_dom0, rc == -XEN_EINVAL, rc, port);
            else
                tally(&bind, rc == -XEN_EINVAL || rc == -XEN_ESRCH, rc, (uint64_t)dom << 16 | port);
        }
    }
    report("mmu_update_foreigndom_eperm", &mmu, "all -EPERM");
    report("mmuext_op_foreigndom_eperm", &mmuext, "all -EPERM");
    report("update_va_mapping_otherdomain_eperm", &uvm_other, "all -EPERM");
    report("domctl_eperm", &dctl, "all -EPERM");
    report("reservation_of_other_domain_eperm", &mem, "all -EPERM");
    report("evtchn_other_domain_eperm", &evt, "all -EPERM");
    report("remote_shutdown_eperm", &shutdown, "all -EPERM");
    report("bind_interdomain_dom0_not_offered_einval", &bind_dom0, "all -EINVAL");
    report("bind_interdomain_others_not_offered", &bind, "all -EINVAL or -ESRCH");
    /* A wrong interface version changes nothing: privilege comes first. */
    struct xen_domctl op = { .cmd = XEN_DOMCTL_getdomaininfo, .interface_version = 0 };
    check_int("domctl_bad_version_eperm", hypercall1(__HYPERVISOR_domctl, &op), -XEN_EPERM);
}

/* ---- Event channels, console, the hypervisor's hole -------------------- */

static void attack_misc(void)
{
    struct tally send = { 0 }, hole = { 0 }, hv_slots = { 0 };
    for (uint32_t port = 64; port < NR_EVENT_CHANNELS; port++) {
        long rc = evtchn_send(port);
        tally(&send, rc == -XEN_EINVAL, rc, port);
    }
    static const uint32_t huge_ports[] = { NR_EVENT_CHANNELS, 1u << 16, 1u << 31, 0xffffffffu };
    for (unsigned i = 0; i < ARRAY_SIZE(huge_ports); i++) {
        long rc = evtchn_send(huge_ports[i]);
        tally(&send, rc == -XEN_EINVAL, rc, huge_ports[i]);
    }
    report("evtchn_send_garbage_ports_einval", &send, "all -EINVAL");

    char buf[64];
    check_int("console_read_eperm", hyp_console_io(CONSOLEIO_read, sizeof(buf), buf), -XEN_EPERM);

    /* update_va_mapping at addresses inside the hole, with a frame we own. */
    uint64_t pte = (va_to_mfn(scratch) << 12) | PTE_RW_FLAGS;
    static const uint64_t hole_vas[] = {
        HYPERVISOR_VIRT_START, HYPERVISOR_VIRT_START + PAGE_SIZE, MACH2PHYS_VIRT_START + 0x100000,
        HV_IMAGE_VA, HV_DIRECTMAP_VA, HYPERVISOR_VIRT_END - PAGE_SIZE, NONCANONICAL_VA,
    };
    for (unsigned i = 0; i < ARRAY_SIZE(hole_vas); i++) {
        long rc = hyp_update_va_mapping(hole_vas[i], pte, UVMF_INVLPG);
        tally(&hole, rc == -XEN_EINVAL, rc, hole_vas[i]);
    }
    report("update_va_mapping_into_hole_einval", &hole, "all -EINVAL");

    /* Our own L4's hypervisor slots (256-271) cannot be written. */
    uint64_t l4_mfn = va_to_mfn((void *)start_info->pt_base);
    for (unsigned slot = 256; slot < 272; slot++) {
        unsigned done = 0;
        struct mmu_update req = { .ptr = (l4_mfn << 12) + slot * 8, .val = 0 };
        long rc = hyp_mmu_update(&req, 1, &done, DOMID_SELF);
        tally(&hv_slots, rc == -XEN_EINVAL, rc, slot);
    }
    report("l4_hypervisor_slots_einval", &hv_slots, "all -EINVAL");

    uint64_t v;
    check_int("read_hv_image_faults", probe_read_u64(HV_IMAGE_VA, &v), TRAP_PF + 1);
    check_int("write_hv_image_faults", probe_write_u64(HV_IMAGE_VA, 0), TRAP_PF + 1);
    check_int("read_directmap_faults", probe_read_u64(HV_DIRECTMAP_VA, &v), TRAP_PF + 1);
    uint64_t m2p_va = MACH2PHYS_VIRT_START + va_to_mfn(scratch) * 8;
    check_int("write_m2p_faults", probe_write_u64(m2p_va, 0), TRAP_PF + 1);
}

/* ---- A storm of random calls ------------------------------------------- */

static uint64_t rnd(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 0x2545f4914f6cdd1dULL;
}

static uint64_t random_arg(void)
{
    switch (rnd() % 10) {
    case 0: return 0;
    case 1: return rnd() % 16;          /* small: domain ids, ports, commands */
    case 2: return ~(rnd() % 4);
    case 3: return rnd();
    case 4: return HV_IMAGE_VA + (rnd() & 0xffff8);
    case 5: return HV_DIRECTMAP_VA + (rnd() & 0xffffff8);
    case 6: return NONCANONICAL_VA | (rnd() & 0x7fffffffffffULL);
    case 7: return (rnd() % 0x20000) << 12;   /* machine addresses */
    case 8: return (uint64_t)(uintptr_t)storm_buf + rnd() % (2 * PAGE_SIZE);
    default: return rnd() & 0xffffffffULL;
    }
}

/* Calls that may legitimately end or re-program this domain (the same
 * set hypercall_storm leaves out): the storm is about other domains and
 * the hypervisor surviving, not about us. */
static bool is_excluded(uint64_t nr, const uint64_t a[5])
{
    uint32_t cmd = (uint32_t)a[0];
    switch (nr) {
    case __HYPERVISOR_set_trap_table:
    case __HYPERVISOR_mmu_update:
    case __HYPERVISOR_set_gdt:
    case __HYPERVISOR_stack_switch:
    case __HYPERVISOR_set_callbacks:
    case __HYPERVISOR_sched_op_compat:
    case __HYPERVISOR_set_debugreg:
    case __HYPERVISOR_update_descriptor:
    case __HYPERVISOR_update_va_mapping:
    case __HYPERVISOR_update_va_mapping_otherdomain:
    case __HYPERVISOR_iret:
    case __HYPERVISOR_mmuext_op:
    case __HYPERVISOR_callback_op:
    case 37:    /* kexec_op */
        return true;
    case __HYPERVISOR_multicall:
        return a[0] >= (uint64_t)(uintptr_t)storm_buf && a[0] < (uint64_t)(uintptr_t)storm_buf + sizeof(storm_buf);
    case __HYPERVISOR_console_io:
        return cmd == CONSOLEIO_write;
    case __HYPERVISOR_memory_op:
        switch (a[0] & 0x3f) {
        case XENMEM_decrease_reservation:
        case XENMEM_add_to_physmap:
        case XENMEM_exchange:
        case XENMEM_set_memory_map:
            return true;
        default:
            return false;
        }
    case __HYPERVISOR_vcpu_op:
        return cmd <= VCPUOP_down || cmd == VCPUOP_register_runstate_memory_area ||
               cmd == VCPUOP_register_vcpu_info || cmd == VCPUOP_send_nmi ||
               cmd == VCPUOP_register_vcpu_time_memory_area;
    case __HYPERVISOR_sched_op:
        return cmd >= SCHEDOP_block && cmd <= SCHEDOP_watchdog;
    default:
        return false;
    }
}

static void storm(void)
{
    unsigned issued = 0, ok = 0, domctl_calls = 0, domctl_eperm = 0;
    uint64_t image_sum = 0;
    for (const char *p = __image_start; p < __bss_start; p++)
        image_sum = image_sum * 31 + (uint8_t)*p;

    rng = STORM_SEED;
    while (issued < STORM_CALLS) {
        if (issued % 64 == 0)
            for (unsigned i = 0; i < sizeof(storm_buf) / 8; i++)
                ((uint64_t *)storm_buf)[i] = (rnd() & 1) ? rnd() % 16 : rnd();
        /* One call in four is a domctl: the toolstack's interface. */
        uint64_t nr = (rnd() % 4 == 0) ? __HYPERVISOR_domctl : (rnd() % 8 == 0) ? rnd() : rnd() % 64;
        uint64_t a[5];
        for (unsigned i = 0; i < 5; i++)
            a[i] = random_arg();
        if (nr == __HYPERVISOR_domctl && rnd() % 2) {
            /* A well-formed request for a random command and domain. */
            struct xen_domctl *op = (struct xen_domctl *)storm_buf;
            op->cmd = (uint32_t)(rnd() % 20);
            op->interface_version = LAMINA_DOMCTL_INTERFACE_VERSION;
            op->domain = (domid_t)(rnd() % 8);
            a[0] = (uint64_t)(uintptr_t)op;
        }
        if (is_excluded(nr, a))
            continue;
        long rc = hypercall5(nr, a[0], a[1], a[2], a[3], a[4]);
        issued++;
        ok += rc >= 0;
        if (nr == __HYPERVISOR_domctl) {
            domctl_calls++;
            domctl_eperm += rc == -XEN_EPERM;
        }
    }
    printf("NOTE attacker: storm of %u calls, %u succeeded, %u domctls\n", issued, ok, domctl_calls);
    check_int("storm_domctls_all_eperm", domctl_calls - domctl_eperm, 0);
    /* Undo what the storm may have bound or set: we still print below. */
    hyp_fpu_taskswitch(0);
    uint64_t after = 0;
    for (const char *p = __image_start; p < __bss_start; p++)
        after = after * 31 + (uint8_t)*p;
    check_hex("storm_image_unchanged", after, image_sum);
    check_int("storm_still_up", hyp_vcpu_op(VCPUOP_is_up, 0, NULL), 1);
}

void kernel_main(void)
{
    test_begin("attacker");
    check_int("set_trap_table", traps_install(), 0);
    bool mapped = pt_read_entry((uint64_t)(uintptr_t)window, 1, &window_pte);
    uint64_t l2e = 0;
    mapped = mapped && pt_read_entry((uint64_t)(uintptr_t)window, 2, &l2e);
    window_l1_maddr = (l2e & PTE_ADDR_MASK) + (((uint64_t)(uintptr_t)window >> 12) & 511) * 8;
    check_true("window_entry_found", mapped, "no", "yes");
    check_hex("flags_unprivileged", start_info->flags, 0);

    discover_self();
    scan_frames();
    attack_other_domains();
    attack_misc();
    attack_devices();
    storm();
    test_report_done();

    /* The end: no trap table at all, then a fault only the hypervisor sees. */
    printf("attacker: clearing the trap table and touching hypervisor memory\n");
    hyp_set_trap_table(NULL);
    uint64_t v = *(volatile uint64_t *)HV_IMAGE_VA;
    printf("attacker: AFTER-FAULT read 0x%lx: this line must not appear\n", v);
    runtime_shutdown(SHUTDOWN_poweroff);
}

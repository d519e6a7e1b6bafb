/* SPDX-License-Identifier: MIT */
/*
 * hypercall_storm: malformed hypercalls get the error xen-pv-abi.md gives
 * (§1.2 unknown numbers and sub-ops, §2 pointers into the hypervisor hole,
 * per-call ranges), then a deterministic storm of random calls, after which
 * the guest must be intact: its image, start_info, p2m, console and timer.
 *
 * The storm leaves out the calls that may legitimately end or re-program
 * the guest itself (iret, shutdown/block/poll/watchdog, trap table,
 * callbacks, MMU updates, GDT/debug registers, vCPU down/initialise/
 * register_*, reservation changes, kexec, console writes of random memory).
 */
#include <lamina/fmt.h>
#include <lamina/string.h>
#include <guest/events.h>
#include <guest/hypercall.h>
#include <guest/pvclock.h>
#include <guest/runtime.h>
#include <guest/test.h>
#include <guest/traps.h>

#define HV_IMAGE_VA      0xffff82d000100000UL
#define HV_DIRECTMAP_VA  0xffff830000000000UL
#define NONCANONICAL_VA  0x8000000000000000UL
#define UNMAPPED_VA      0x1000UL
#define STORM_CALLS      4000
#define STORM_SEED       0x5eed1e55c0ffee11ULL
#define MS               1000000ULL
#define SCRATCH_SIZE     (4 * PAGE_SIZE)
#define SCRATCH_REACH    (2 * PAGE_SIZE)   /* pointers land in the first half */
#define CANARY_WORDS     4096
#define SEGBASE_FS       0
#define GNTTABOP_query_size 6
#define XENVER_unknown   0x7ff0

extern const char __image_start[], __bss_start[];

static uint8_t scratch[SCRATCH_SIZE] __attribute__((aligned(PAGE_SIZE)));
static char tail[2][PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
static uint64_t canary[CANARY_WORDS];
static struct start_info si_copy;
static uint64_t rng;                /* in .bss: the image checksum covers .data */

static uint64_t rnd(void)
{
    /* xorshift64*: deterministic, so a failing storm can be replayed. */
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 0x2545f4914f6cdd1dULL;
}

static uint64_t checksum(const void *p, size_t n)
{
    const uint8_t *b = p;
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ULL;
    return h;
}

static uint64_t image_checksum(void)
{
    return checksum(__image_start, (size_t)(__bss_start - __image_start));
}

static uint64_t p2m_checksum(void)
{
    return checksum((const void *)start_info->mfn_list, start_info->nr_pages * 8);
}

static const uint64_t bad_ptrs[] = { 0, HV_IMAGE_VA, NONCANONICAL_VA, UNMAPPED_VA, MACH2PHYS_VIRT_START };
static const char *const bad_ptr_names[] = { "null", "hv_image", "noncanonical", "unmapped", "m2p" };

static void check_efault(const char *op, unsigned i, long rc)
{
    char name[64];
    fmt_snprintf(name, sizeof(name), "efault_%s_%s", op, bad_ptr_names[i]);
    check_int(name, rc, -XEN_EFAULT);
}

static void test_unknown(void)
{
    /* §1.2: unknown hypercall numbers. */
    static const uint64_t nrs[] = { 11, 45, 60, 64, 1000, ~0ULL };
    for (unsigned i = 0; i < ARRAY_SIZE(nrs); i++) {
        char name[48];
        fmt_snprintf(name, sizeof(name), "unknown_hypercall_%lx", nrs[i] == ~0ULL ? 0xffffUL : nrs[i]);
        check_int(name, hypercall0(nrs[i]), -XEN_ENOSYS);
    }
    /* §1.2: unknown sub-ops. */
    check_int("unknown_xen_version_op", hyp_xen_version(XENVER_unknown, scratch), -XEN_ENOSYS);
    check_int("unknown_memory_op", hyp_memory_op(0x3f, scratch), -XEN_ENOSYS);
    check_int("unknown_sched_op", hyp_sched_op(99, scratch), -XEN_ENOSYS);
    check_int("unknown_event_channel_op", hyp_event_channel_op(99, scratch), -XEN_ENOSYS);
    check_int("unknown_vcpu_op", hyp_vcpu_op(99, 0, scratch), -XEN_ENOSYS);
    check_int("unknown_callback_op", hyp_callback_op(99, scratch), -XEN_ENOSYS);
    check_int("unknown_physdev_op", hyp_physdev_op(999, scratch), -XEN_ENOSYS);
    check_int("unknown_console_io", hyp_console_io(99, 0, scratch), -XEN_ENOSYS);
    check_int("unknown_grant_table_op", hypercall3(__HYPERVISOR_grant_table_op, 99, scratch, 1), -XEN_ENOSYS);
    /* §4.7: vm_assist commands other than enable/disable. */
    check_int("unknown_vm_assist_cmd", hyp_vm_assist(7, VMASST_TYPE_writable_pagetables), -XEN_ENOSYS);
    /* §5.5: unknown mmuext commands. */
    struct mmuext_op op = { .cmd = 99 };
    unsigned done = 0;
    check_int("unknown_mmuext_cmd", hyp_mmuext_op(&op, 1, &done, DOMID_SELF), -XEN_ENOSYS);
}

static void test_bad_pointers(void)
{
    /* §2: pointers in the hypervisor hole (even the guest-readable M2P),
     * non-canonical, NULL or unmapped -> -EFAULT. */
    for (unsigned i = 0; i < ARRAY_SIZE(bad_ptrs); i++) {
        uint64_t p = bad_ptrs[i];
        check_efault("extraversion", i, hypercall2(__HYPERVISOR_xen_version, XENVER_extraversion, p));
        check_efault("get_features", i, hypercall2(__HYPERVISOR_xen_version, XENVER_get_features, p));
        check_efault("machphys_mapping", i, hypercall2(__HYPERVISOR_memory_op, XENMEM_machphys_mapping, p));
        check_efault("bind_virq", i, hypercall2(__HYPERVISOR_event_channel_op, EVTCHNOP_bind_virq, p));
        check_efault("console_write", i, hypercall3(__HYPERVISOR_console_io, CONSOLEIO_write, 16, p));
        check_efault("singleshot", i, hypercall3(__HYPERVISOR_vcpu_op, VCPUOP_set_singleshot_timer, 0, p));
        check_efault("callback_register", i, hypercall2(__HYPERVISOR_callback_op, CALLBACKOP_register, p));
        check_efault("gnttab_query_size", i, hypercall3(__HYPERVISOR_grant_table_op, GNTTABOP_query_size, p, 1));
    }
}

static void test_bad_values(void)
{
    /* §6.1: free, out-of-range and reserved ports -> -EINVAL. */
    check_int("send_free_port_einval", evtchn_send(4095), -XEN_EINVAL);
    check_int("send_port_4096_einval", evtchn_send(4096), -XEN_EINVAL);
    check_int("send_port_max_einval", evtchn_send(0xffffffffU), -XEN_EINVAL);
    check_int("close_port0_einval", evtchn_close(0), -XEN_EINVAL);
    check_int("close_port_5000_einval", evtchn_close(5000), -XEN_EINVAL);
    /* §6.4: a bad vCPU id -> -ENOENT. */
    check_int("vcpu_is_up_1_enoent", hyp_vcpu_op(VCPUOP_is_up, 1, NULL), -XEN_ENOENT);
    check_int("vcpu_is_up_8191_enoent", hyp_vcpu_op(VCPUOP_is_up, 8191, NULL), -XEN_ENOENT);
    check_int("vcpu_is_up_max_enoent", hyp_vcpu_op(VCPUOP_is_up, 0xffffffffU, NULL), -XEN_ENOENT);
    struct vcpu_set_singleshot_timer t = { .timeout_abs_ns = pvclock_now_ns() + 1000 * MS };
    check_int("singleshot_other_vcpu_enoent", hyp_vcpu_op(VCPUOP_set_singleshot_timer, 1, &t), -XEN_ENOENT);
    /* §6.2: periodic timer under 1 ms. */
    struct vcpu_set_periodic_timer p = { .period_ns = 999999 };
    check_int("periodic_999us_einval", hyp_vcpu_op(VCPUOP_set_periodic_timer, 0, &p), -XEN_EINVAL);
    /* §4.7: unknown vm_assist type; set_gdt over 7168 entries. */
    check_int("vm_assist_type_33_einval", hyp_vm_assist(VMASST_CMD_enable, 33), -XEN_EINVAL);
    uint64_t frames[16] = { 0 };
    check_int("set_gdt_7169_einval", hypercall2(__HYPERVISOR_set_gdt, frames, 7169), -XEN_EINVAL);
    /* §4.9: iopl > 3. */
    struct physdev_set_iopl iopl = { .iopl = 4 };
    check_int("set_iopl_4_einval", hyp_physdev_op(PHYSDEVOP_set_iopl, &iopl), -XEN_EINVAL);
    /* §6.3: poll with more than 128 ports. */
    uint32_t ports[1] = { 1 };
    struct sched_poll poll = { .ports = (uint64_t)(uintptr_t)ports, .nr_ports = 129, .timeout = 1 };
    check_int("poll_129_ports_einval", hyp_sched_op(SCHEDOP_poll, &poll), -XEN_EINVAL);
    /* §4.7: non-canonical segment base. */
    check_int("segbase_noncanonical_einval", hyp_set_segment_base(SEGBASE_FS, NONCANONICAL_VA), -XEN_EINVAL);
    /* §4.3: a non-canonical handler address. */
    struct trap_info bad_table[2] = {
        { .vector = 200, .cs = FLAT_KERNEL_CS, .address = NONCANONICAL_VA },
        { 0 },
    };
    check_int("trap_table_noncanonical_einval", hyp_set_trap_table(bad_table), -XEN_EINVAL);
    check_int("trap_table_reinstall", traps_install(), 0);
    /* §4.6: only the NMI callback can be unregistered. */
    struct callback_unregister un = { .type = CALLBACKTYPE_event };
    check_int("callback_unregister_event_einval", hyp_callback_op(CALLBACKOP_unregister, &un), -XEN_EINVAL);
    /* §4.7: bad debug register numbers; DR0-3 must hold guest addresses. */
    check_int2("get_debugreg_8", hyp_get_debugreg(8), -XEN_EINVAL, -XEN_ENODEV);
    check_negative("set_debugreg_hv_address", hyp_set_debugreg(0, HV_IMAGE_VA));
    /* §9.2: an mmu_update of count 0 succeeds. */
    unsigned done = 0;
    check_int("mmu_update_count0", hyp_mmu_update((struct mmu_update *)scratch, 0, &done, DOMID_SELF), 0);

    /* console_io with a huge count over a buffer that runs into an unmapped
     * page. §A.2 sets no limit on the count, so the call must only come
     * back: an error (-EFAULT at the hole, -EINVAL for the count) or a
     * bounded write. */
    static const char msg[] = "hypercall_storm: huge console_io count, buffer ends at a hole\n";
    char *end = tail[0] + PAGE_SIZE - (sizeof(msg) - 1);
    memcpy(end, msg, sizeof(msg) - 1);
    uint64_t tail_pte = 0;
    bool mapped = pt_read_entry((uint64_t)(uintptr_t)tail[1], 1, &tail_pte);
    check_int("unmap_tail_page", hyp_update_va_mapping((uint64_t)(uintptr_t)tail[1], 0, UVMF_INVLPG), 0);
    long rc = hyp_console_io(CONSOLEIO_write, 0x7fffffffU, end);
    printf("NOTE hypercall_storm:console_io_huge_count rc=%ld\n", rc);
    check_true("console_io_huge_count_returns", rc == -XEN_EFAULT || rc == -XEN_EINVAL || rc >= 0,
               "another error", "-EFAULT, -EINVAL or success");
    check_int2("console_io_huge_count_null", hyp_console_io(CONSOLEIO_write, 0xffffffffU, NULL),
               -XEN_EFAULT, -XEN_EINVAL);
    check_int("remap_tail_page",
              mapped ? hyp_update_va_mapping((uint64_t)(uintptr_t)tail[1], tail_pte, UVMF_INVLPG) : -1, 0);
}

static uint64_t random_arg(bool allow_scratch)
{
    switch (rnd() % 10) {
    case 0: return 0;
    case 1: return rnd() % 16;
    case 2: return ~(rnd() % 4);
    case 3: return rnd();
    case 4: return HV_IMAGE_VA + (rnd() & 0xffff8);
    case 5: return HV_DIRECTMAP_VA + (rnd() & 0xffffff8);
    case 6: return NONCANONICAL_VA | (rnd() & 0x7fffffffffffULL);
    case 7: return rnd() & 0x7ffffffff000ULL;
    case 8: return allow_scratch ? (uint64_t)(uintptr_t)scratch + rnd() % SCRATCH_REACH : 0;
    default: return rnd() & 0xffffffffULL;
    }
}

static void refill_scratch(void)
{
    /* Half the time small numbers, so structs look almost plausible. */
    bool small = rnd() & 1;
    for (unsigned i = 0; i < SCRATCH_SIZE / 8; i++)
        ((uint64_t *)scratch)[i] = small ? rnd() % 8 : rnd();
}

/* The calls the storm must not make with random arguments (see the top). */
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
        /* Its entries could name any of the above: only unusable lists. */
        return a[0] >= (uint64_t)(uintptr_t)scratch &&
               a[0] < (uint64_t)(uintptr_t)scratch + SCRATCH_SIZE;
    case __HYPERVISOR_console_io:
        return cmd == CONSOLEIO_write;
    case __HYPERVISOR_memory_op:
        switch (a[0] & 0x3f) {
        case XENMEM_increase_reservation:
        case XENMEM_decrease_reservation:
        case XENMEM_populate_physmap:
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
    unsigned issued = 0, enosys = 0, efault = 0, ok = 0;

    while (issued < STORM_CALLS) {
        if (issued % 64 == 0)
            refill_scratch();
        uint64_t nr = (rnd() % 8 == 0) ? rnd() : rnd() % 64;
        uint64_t a[5];
        for (unsigned i = 0; i < 5; i++)
            a[i] = random_arg(true);
        if (is_excluded(nr, a))
            continue;
        long rc = hypercall5(nr, a[0], a[1], a[2], a[3], a[4]);
        issued++;
        if (rc == -XEN_ENOSYS)
            enosys++;
        else if (rc == -XEN_EFAULT)
            efault++;
        else if (rc >= 0)
            ok++;
    }
    printf("NOTE hypercall_storm: %u calls, %u ok, %u -ENOSYS, %u -EFAULT, %u other errors\n",
           issued, ok, enosys, efault, issued - ok - enosys - efault);
}

static unsigned timer_port;

static bool timer_delivered(void *arg)
{
    return evtchn_delivered(timer_port) > *(const uint64_t *)arg;
}

static void check_intact(uint64_t image_sum, uint64_t p2m_sum)
{
    /* Undo what the storm may have set up: ports it bound, TS. */
    for (unsigned port = 1; port < NR_EVENT_CHANNELS; port++)
        evtchn_close(port);
    for (unsigned w = 0; w < 64; w++)
        shared_info->evtchn_pending[w] = 0;
    hyp_fpu_taskswitch(0);

    check_hex("image_unchanged", image_checksum(), image_sum);
    uint64_t bad = 0;
    for (unsigned i = 0; i < CANARY_WORDS; i++)
        if (canary[i] != (0xc0ffee0000000000ULL | i))
            bad++;
    check_int("canary_unchanged_bad_words", (int64_t)bad, 0);
    /* Byte-wise on purpose: si_copy is a memcpy of start_info, padding included,
     * and any changed byte (padding too) means the storm touched it. */
    check_true("start_info_unchanged",
               memcmp(&si_copy, start_info, sizeof(si_copy)) == 0, /* NOLINT(bugprone-suspicious-memory-comparison) */
               "changed", "unchanged");
    check_hex("p2m_unchanged", p2m_checksum(), p2m_sum);
    check_int("still_vcpu0_is_up", hyp_vcpu_op(VCPUOP_is_up, 0, NULL), 1);
    check_int("console_still_works", hyp_console_io(CONSOLEIO_write, 26, "hypercall_storm: survived\n"), 0);
    check_int("time_version_even_after", vcpu0->time.version & 1, 0);

    /* A timer still fires and wakes SCHEDOP_block. */
    check_int("register_event_callback", events_init(), 0);
    long port = evtchn_bind_virq(VIRQ_TIMER, 0);
    check_cond_hex("bind_virq_timer_after", port > 0, (uint64_t)port, "a port > 0");
    timer_port = port > 0 ? (unsigned)port : 0;
    uint64_t before = evtchn_delivered(timer_port);
    struct vcpu_set_singleshot_timer t = { .timeout_abs_ns = pvclock_now_ns() + 5 * MS };
    check_int("singleshot_after", hyp_vcpu_op(VCPUOP_set_singleshot_timer, 0, &t), 0);
    check_true("timer_fires_after", block_until(timer_delivered, &before, 2000 * MS), "timeout",
               "a VIRQ_TIMER upcall");
}

void kernel_main(void)
{
    rng = STORM_SEED;
    test_begin("hypercall_storm");
    check_int("set_trap_table", traps_install(), 0);
    for (unsigned i = 0; i < CANARY_WORDS; i++)
        canary[i] = 0xc0ffee0000000000ULL | i;
    memcpy(&si_copy, start_info, sizeof(si_copy));
    uint64_t image_sum = image_checksum();
    uint64_t p2m_sum = p2m_checksum();

    test_unknown();
    test_bad_pointers();
    test_bad_values();
    storm();
    check_intact(image_sum, p2m_sum);
    test_finish();
}

/* SPDX-License-Identifier: MIT */
/*
 * misc_hypercalls: the smaller calls a Linux PV kernel makes while booting
 * (xen-pv-abi.md §1.5 multicall, §4.7 CPU state, §3.9 memory map, §6.2
 * set_timer_op, §6.3 yield/poll, §6.4 runstate and vcpu_info placement).
 */
#include <lamina/string.h>
#include <guest/events.h>
#include <guest/hypercall.h>
#include <guest/pvclock.h>
#include <guest/runtime.h>
#include <guest/test.h>
#include <guest/traps.h>

#define MS 1000000ULL
#define SEGBASE_FS        0
#define SEGBASE_GS_USER   1
#define SEGBASE_GS_KERNEL 2
#define MSR_FS_BASE        0xc0000100
#define MSR_GS_BASE        0xc0000101
#define MSR_KERNEL_GS_BASE 0xc0000102
#define VCPU_INFO_OFFSET   128

static uint8_t vcpu_info_page[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
static struct vcpu_runstate_info runstate;

static uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((uint64_t)hi << 32) | lo;
}

static void test_multicall(void)
{
    static const char msg[] = "misc_hypercalls: console_io inside a multicall\n";
    struct multicall_entry mc[4];

    memset(mc, 0, sizeof(mc));
    mc[0].op = __HYPERVISOR_xen_version;
    mc[0].args[0] = XENVER_version;
    mc[1].op = __HYPERVISOR_xen_version;
    mc[1].args[0] = XENVER_pagesize;
    mc[2].op = 100;
    mc[3].op = __HYPERVISOR_console_io;
    mc[3].args[0] = CONSOLEIO_write;
    mc[3].args[1] = sizeof(msg) - 1;
    mc[3].args[2] = (uint64_t)(uintptr_t)msg;
    /* §1.5: 0 overall, each entry's own result in `result`. */
    check_int("multicall_rc", hypercall2(__HYPERVISOR_multicall, mc, 4), 0);
    check_int("multicall_result_version", (int64_t)mc[0].result, hyp_xen_version(XENVER_version, NULL));
    check_int("multicall_result_pagesize", (int64_t)mc[1].result, 4096);
    check_int("multicall_result_enosys", (int64_t)mc[2].result, -XEN_ENOSYS);
    check_int("multicall_result_console", (int64_t)mc[3].result, 0);
    /* §1.5: an unreadable list -> -EFAULT. */
    check_int("multicall_bad_list_efault",
              hypercall2(__HYPERVISOR_multicall, 0xffff82d000100000UL, 1), -XEN_EFAULT);
}

static void test_cpu_state(void)
{
    uint64_t sp;

    __asm__ volatile("movq %%rsp, %0" : "=r"(sp));
    /* §4.7: stack_switch records the kernel stack and returns 0. */
    check_int("stack_switch", hypercall2(__HYPERVISOR_stack_switch, FLAT_KERNEL_SS, sp), 0);
    /* §4.7 / §4.9: segment bases, read back through the MSRs. */
    check_int("segbase_fs", hyp_set_segment_base(SEGBASE_FS, 0x00007f1234560000ULL), 0);
    check_hex("segbase_fs_msr", rdmsr(MSR_FS_BASE), 0x00007f1234560000ULL);
    check_int("segbase_gs_kernel", hyp_set_segment_base(SEGBASE_GS_KERNEL, 0xffff888000010000ULL), 0);
    check_hex("segbase_gs_kernel_msr", rdmsr(MSR_GS_BASE), 0xffff888000010000ULL);
    check_int("segbase_gs_user", hyp_set_segment_base(SEGBASE_GS_USER, 0x00007f0000020000ULL), 0);
    check_hex("segbase_gs_user_msr", rdmsr(MSR_KERNEL_GS_BASE), 0x00007f0000020000ULL);
    hyp_set_segment_base(SEGBASE_FS, 0);
    hyp_set_segment_base(SEGBASE_GS_KERNEL, 0);
    hyp_set_segment_base(SEGBASE_GS_USER, 0);
    /* §4.7: the vm_assist types Linux enables. */
    check_int("vm_assist_enable_0", hyp_vm_assist(VMASST_CMD_enable, VMASST_TYPE_4gb_segments), 0);
    check_int("vm_assist_enable_3", hyp_vm_assist(VMASST_CMD_enable, VMASST_TYPE_pae_extended_cr3), 0);
    check_int("vm_assist_enable_5", hyp_vm_assist(VMASST_CMD_enable, VMASST_TYPE_runstate_update_flag), 0);
    check_int("vm_assist_disable_5", hyp_vm_assist(VMASST_CMD_disable, VMASST_TYPE_runstate_update_flag), 0);
    /* §4.9: virtual IOPL 1. */
    struct physdev_set_iopl iopl = { .iopl = 1 };
    check_int("set_iopl_1", hyp_physdev_op(PHYSDEVOP_set_iopl, &iopl), 0);
    iopl.iopl = 0;
    hyp_physdev_op(PHYSDEVOP_set_iopl, &iopl);
    /* §4.7: debug registers take guest addresses. */
    check_int("set_debugreg_dr0", hyp_set_debugreg(0, VIRT_BASE + 0x1000), 0);
    check_hex("get_debugreg_dr0", (uint64_t)hyp_get_debugreg(0), VIRT_BASE + 0x1000);
    hyp_set_debugreg(0, 0);
    check_int("fpu_taskswitch_clear", hyp_fpu_taskswitch(0), 0);
}

static void test_memory_map(void)
{
    struct xen_e820_entry map[16] = { 0 };   /* filled by the hypervisor */
    struct xen_memory_map arg = { .nr_entries = 16, .buffer = (uint64_t)(uintptr_t)map };

    /* §3.9: either a map (Linux accepts it) or -ENOSYS (Linux invents one). */
    long rc = hyp_memory_op(XENMEM_memory_map, &arg);
    check_int2("memory_map_rc", rc, 0, -XEN_ENOSYS);
    if (rc == 0) {
        uint64_t ram = 0;
        for (unsigned i = 0; i < arg.nr_entries && i < 16; i++)
            if (map[i].type == XEN_E820_RAM)
                ram += map[i].size;
        check_range("memory_map_covers_nr_pages", ram, start_info->nr_pages * PAGE_SIZE, ~0ULL);
    } else {
        check_true("memory_map_covers_nr_pages", true, "-ENOSYS", "-ENOSYS: nothing to check");
    }
}

static unsigned timer_port;

static bool timer_delivered(void *arg)
{
    return evtchn_delivered(timer_port) > *(const uint64_t *)arg;
}

static void test_timers_and_sched(void)
{
    check_int("register_event_callback", events_init(), 0);
    long port = evtchn_bind_virq(VIRQ_TIMER, 0);
    timer_port = port > 0 ? (unsigned)port : 0;
    check_cond_hex("bind_virq_timer", port > 0, (uint64_t)port, "a port > 0");
    check_int("stop_periodic", hyp_vcpu_op(VCPUOP_stop_periodic_timer, 0, NULL), 0);
    evtchn_clear_pending(timer_port);

    /* §6.2: set_timer_op(abs_ns) raises VIRQ_TIMER; 0 cancels. */
    uint64_t before = evtchn_delivered(timer_port);
    uint64_t deadline = pvclock_now_ns() + 5 * MS;
    check_int("set_timer_op", hypercall1(__HYPERVISOR_set_timer_op, deadline), 0);
    check_true("set_timer_op_fires", block_until(timer_delivered, &before, 2000 * MS), "timeout", "upcall");
    check_cond_hex("set_timer_op_not_early", pvclock_now_ns() >= deadline, deadline, "now >= deadline");
    check_int("set_timer_op_cancel", hypercall1(__HYPERVISOR_set_timer_op, 0), 0);

    /* §6.3: yield returns 0; poll returns when its timeout passes. */
    check_int("sched_yield", hyp_sched_op(SCHEDOP_yield, NULL), 0);
    long ipi = evtchn_bind_ipi(0);
    uint32_t ports[1] = { ipi > 0 ? (uint32_t)ipi : 0 };
    uint8_t old = events_mask();
    uint64_t start = pvclock_now_ns();
    struct sched_poll poll = { .ports = (uint64_t)(uintptr_t)ports, .nr_ports = 1, .timeout = start + 5 * MS };
    check_int("poll_timeout_rc", hyp_sched_op(SCHEDOP_poll, &poll), 0);
    check_cond_hex("poll_waited_for_timeout", pvclock_now_ns() >= start + 5 * MS, pvclock_now_ns() - start,
                   ">= 5 ms");
    evtchn_send(ports[0]);
    start = pvclock_now_ns();
    poll.timeout = start + 1000 * MS;
    check_int("poll_pending_rc", hyp_sched_op(SCHEDOP_poll, &poll), 0);
    check_cond_hex("poll_pending_returns_early", pvclock_now_ns() < start + 1000 * MS, pvclock_now_ns() - start,
                   "< 1 s");
    evtchn_clear_pending(ports[0]);
    events_restore(old);
    events_mask();
}

static void test_runstate(void)
{
    struct vcpu_register_runstate_memory_area area = { .addr_v = (uint64_t)(uintptr_t)&runstate };
    struct vcpu_runstate_info info = { 0 };   /* filled by the hypervisor */

    /* §6.4: the area is written at once, and the vCPU is running. */
    memset(&runstate, 0xff, sizeof(runstate));
    check_int("register_runstate_area", hyp_vcpu_op(VCPUOP_register_runstate_memory_area, 0, &area), 0);
    check_int("runstate_state_running", runstate.state, RUNSTATE_running);
    check_cond_hex("runstate_entry_time_set", runstate.state_entry_time != ~0ULL, runstate.state_entry_time,
                   "written");
    check_int("get_runstate_info", hyp_vcpu_op(VCPUOP_get_runstate_info, 0, &info), 0);
    check_int("get_runstate_state", info.state, RUNSTATE_running);
}

static void test_register_vcpu_info(void)
{
    struct vcpu_register_vcpu_info r = { .mfn = va_to_mfn(vcpu_info_page), .offset = PAGE_SIZE - 8 };

    /* §6.4: an offset past 4096 - 64 -> -ENXIO. */
    check_int("vcpu_info_bad_offset_enxio", hyp_vcpu_op(VCPUOP_register_vcpu_info, 0, &r), -XEN_ENXIO);
    r.offset = VCPU_INFO_OFFSET;
    uint8_t mask = vcpu0->evtchn_upcall_mask;
    check_int("register_vcpu_info", hyp_vcpu_op(VCPUOP_register_vcpu_info, 0, &r), 0);
    volatile struct vcpu_info *moved = (volatile struct vcpu_info *)(vcpu_info_page + VCPU_INFO_OFFSET);
    /* §6.4: contents copied, then every selector bit and upcall_pending set. */
    check_int("moved_mask_copied", moved->evtchn_upcall_mask, mask);
    check_int("moved_upcall_pending", moved->evtchn_upcall_pending, 1);
    check_hex("moved_pending_sel_all", moved->evtchn_pending_sel, ~0ULL);
    check_cond_hex("moved_time_valid", moved->time.tsc_to_system_mul != 0 && !(moved->time.version & 1),
                   moved->time.version, "even version, non-zero mul");
    vcpu0 = moved;
    uint64_t a = pvclock_now_ns(), b = pvclock_now_ns();
    check_cond_hex("moved_time_advances", b >= a && a > 0, b - a, "monotonic, non-zero");
    /* §6.4: only once per vCPU. */
    check_int("register_vcpu_info_twice_einval", hyp_vcpu_op(VCPUOP_register_vcpu_info, 0, &r), -XEN_EINVAL);
}

void kernel_main(void)
{
    test_begin("misc_hypercalls");
    check_int("set_trap_table", traps_install(), 0);
    test_multicall();
    test_cpu_state();
    test_memory_map();
    test_timers_and_sched();
    test_runstate();
    test_register_vcpu_info();
    test_finish();
}

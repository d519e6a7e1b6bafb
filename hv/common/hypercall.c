/* SPDX-License-Identifier: MIT */
/*
 * Hypercall dispatch (a table indexed by number: a missing entry is -ENOSYS,
 * xen-pv-abi.md §1.2) and the small hypercalls that need no subsystem of
 * their own: xen_version, console_io, vm_assist, multicall, physdev_op.
 */
#include <hv/hypercall.h>
#include <hv/sched.h>
#include <hv/guest_access.h>
#include <hv/console.h>
#include <hv/version.h>
#include <public/version.h>
#include <public/physdev.h>

#define ARGS1(f) ((hypercall_fn)(void (*)(void))(f))

static long hc_iret(uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5)
{
    (void)a1; (void)a2; (void)a3; (void)a4; (void)a5;
    return do_iret();
}

/* The handlers take fewer than five arguments; calling them through a
 * five-argument pointer is fine under the SysV x86-64 ABI (extra argument
 * registers are ignored), and the casts are confined to this table. */
static const hypercall_fn hypercall_table[NR_HYPERCALLS] = {
    [__HYPERVISOR_set_trap_table] = ARGS1(do_set_trap_table),
    [__HYPERVISOR_mmu_update] = ARGS1(do_mmu_update),
    [__HYPERVISOR_set_gdt] = ARGS1(do_set_gdt),
    [__HYPERVISOR_stack_switch] = ARGS1(do_stack_switch),
    [__HYPERVISOR_set_callbacks] = ARGS1(do_set_callbacks),
    [__HYPERVISOR_fpu_taskswitch] = ARGS1(do_fpu_taskswitch),
    [__HYPERVISOR_set_debugreg] = ARGS1(do_set_debugreg),
    [__HYPERVISOR_get_debugreg] = ARGS1(do_get_debugreg),
    [__HYPERVISOR_update_descriptor] = ARGS1(do_update_descriptor),
    [__HYPERVISOR_memory_op] = ARGS1(do_memory_op),
    [__HYPERVISOR_multicall] = ARGS1(do_multicall),
    [__HYPERVISOR_update_va_mapping] = ARGS1(do_update_va_mapping),
    [__HYPERVISOR_set_timer_op] = ARGS1(do_set_timer_op),
    [__HYPERVISOR_xen_version] = ARGS1(do_xen_version),
    [__HYPERVISOR_console_io] = ARGS1(do_console_io),
    [__HYPERVISOR_vm_assist] = ARGS1(do_vm_assist),
    [__HYPERVISOR_grant_table_op] = ARGS1(do_grant_table_op),
    [__HYPERVISOR_iret] = hc_iret,
    [__HYPERVISOR_vcpu_op] = ARGS1(do_vcpu_op),
    [__HYPERVISOR_set_segment_base] = ARGS1(do_set_segment_base),
    [__HYPERVISOR_mmuext_op] = ARGS1(do_mmuext_op),
    [__HYPERVISOR_sched_op] = ARGS1(do_sched_op),
    [__HYPERVISOR_callback_op] = ARGS1(do_callback_op),
    [__HYPERVISOR_event_channel_op] = ARGS1(do_event_channel_op),
    [__HYPERVISOR_physdev_op] = ARGS1(do_physdev_op),
    [__HYPERVISOR_domctl] = ARGS1(do_domctl),
    [__HYPERVISOR_sysctl] = ARGS1(do_sysctl),
    [__HYPERVISOR_update_va_mapping_otherdomain] = ARGS1(do_update_va_mapping_otherdomain),
};

long hypercall_dispatch(uint64_t nr, const uint64_t args[5])
{
    if (nr >= NR_HYPERCALLS || !hypercall_table[nr])
        return -XEN_ENOSYS;
    return hypercall_table[nr](args[0], args[1], args[2], args[3], args[4]);
}

void do_hypercall(struct cpu_regs *regs)
{
    const uint64_t args[5] = { regs->rdi, regs->rsi, regs->rdx, regs->r10, regs->r8 };
    long ret = hypercall_dispatch(regs->rax, args);
    regs->rax = (uint64_t)ret;
}

/* multicall (#13): §1.5. Entries run in order; each result goes back into
 * its entry; an iret ends the batch; nesting is refused. */
static bool in_multicall;

/* Continuations re-execute the guest's syscall with rewritten argument
 * registers; inside a multicall those registers are the multicall's, so
 * batched calls there must finish in one go (see BATCH_LIMIT users). */
bool hypercall_can_continue(void)
{
    return !in_multicall;
}

long do_multicall(uint64_t list, uint64_t count)
{
    struct multicall_entry e;

    if (in_multicall)
        return -XEN_EINVAL;
    in_multicall = true;
    long ret = 0;
    for (uint64_t i = 0; i < count; i++) {
        uint64_t addr = list + i * sizeof(e);
        if (i >= (1ull << 32) || copy_from_guest(&e, addr, sizeof(e))) {
            ret = -XEN_EFAULT;
            break;
        }
        if (e.op == __HYPERVISOR_multicall) {
            e.result = (uint64_t)-XEN_EINVAL;
        } else {
            e.result = (uint64_t)hypercall_dispatch(e.op, e.args);
        }
        if (current_domain()->is_shut_down)
            break;
        if (e.op == __HYPERVISOR_iret) {
            /* The frame is the guest's now: rax must be the one it restored. */
            ret = (long)e.result;
            break;
        }
        if (copy_to_guest(addr + offsetof(struct multicall_entry, result), &e.result, sizeof(e.result))) {
            ret = -XEN_EFAULT;
            break;
        }
    }
    in_multicall = false;
    return ret;
}

long do_xen_version(uint64_t cmd, uint64_t arg)
{
    struct domain *d = current_domain();
    switch (cmd) {
    case XENVER_version:
        return (LAMINA_XEN_MAJOR << 16) | LAMINA_XEN_MINOR;
    case XENVER_extraversion: {
        char s[XEN_EXTRAVERSION_LEN] = LAMINA_XEN_EXTRA;
        return copy_to_guest(arg, s, sizeof(s));
    }
    case XENVER_compile_info: {
        struct xen_compile_info ci;
        memset(&ci, 0, sizeof(ci));
        strlcpy(ci.compiler, "gcc", sizeof(ci.compiler));
        strlcpy(ci.compile_by, "lamina", sizeof(ci.compile_by));
        strlcpy(ci.compile_domain, "lamina", sizeof(ci.compile_domain));
        strlcpy(ci.compile_date, __DATE__, sizeof(ci.compile_date));
        return copy_to_guest(arg, &ci, sizeof(ci));
    }
    case XENVER_capabilities: {
        char s[XEN_CAPABILITIES_LEN];
        memset(s, 0, sizeof(s));
        strlcpy(s, "xen-3.0-x86_64", sizeof(s));
        return copy_to_guest(arg, s, sizeof(s));
    }
    case XENVER_changeset: {
        char s[XEN_CHANGESET_LEN];
        memset(s, 0, sizeof(s));
        strlcpy(s, LAMINA_VERSION_STRING, sizeof(s));
        return copy_to_guest(arg, s, sizeof(s));
    }
    case XENVER_platform_parameters: {
        struct xen_platform_parameters p = { HYPERVISOR_VIRT_START };
        return copy_to_guest(arg, &p, sizeof(p));
    }
    case XENVER_get_features: {
        struct xen_feature_info fi;
        if (copy_from_guest(&fi, arg, sizeof(fi)))
            return -XEN_EFAULT;
        if (fi.submap_idx != 0) {
            fi.submap = 0;
        } else {
            /* What Xen 4.17 reports to a 64-bit PV guest (xen-pv-abi.md
             * §9.1 B.1); Linux panics without bits 5 and 7. */
            fi.submap = (1u << XENFEAT_mmu_pt_update_preserve_ad) |
                        (1u << XENFEAT_highmem_assist) |
                        (1u << XENFEAT_gnttab_map_avail_bits) |
                        (1u << XENFEAT_memory_op_vnode_supported) |
                        (1u << XENFEAT_direct_mapped) |
                        ((d->vm_assist & (1ull << VMASST_TYPE_pae_extended_cr3)) ?
                         1u << XENFEAT_pae_pgdir_above_4gb : 0) |
                        (d->is_privileged ? 1u << XENFEAT_dom0 : 0);
        }
        return copy_to_guest(arg, &fi, sizeof(fi));
    }
    case XENVER_pagesize:
        return PAGE_SIZE;
    case XENVER_guest_handle: {
        uint8_t handle[16] = { 0 };
        return copy_to_guest(arg, handle, sizeof(handle));
    }
    case XENVER_commandline: {
        char s[XEN_COMMANDLINE_LEN];
        memset(s, 0, sizeof(s));
        if (d->is_privileged)
            strlcpy(s, hv_command_line(), sizeof(s));
        return copy_to_guest(arg, s, sizeof(s));
    }
    default:
        return -XEN_ENOSYS;
    }
}

/* console_io (#18): the physical console, dom0's to use. Other domains get
 * -EPERM (a domU's console is its ring). Writes go out in chunks so a huge
 * count cannot make us hold a big buffer. */
long do_console_io(uint64_t cmd, uint64_t count, uint64_t buf)
{
    struct domain *d = current_domain();
    char chunk[256];

    if (!d->is_privileged && !(LAMINA_DEBUG && cmd == CONSOLEIO_write))
        return -XEN_EPERM;
    switch (cmd) {
    case CONSOLEIO_write:
        if (count > (1u << 20))
            return -XEN_EINVAL;
        if (!guest_range_ok(buf, count))
            return -XEN_EFAULT;
        for (uint64_t done = 0; done < count;) {
            size_t n = (size_t)MIN(count - done, sizeof(chunk));
            if (copy_from_guest(chunk, buf + done, n))
                return -XEN_EFAULT;
            if (d->is_privileged)
                console_write_raw(chunk, n);
            else
                console_write_guest(&d->con_line, d->domain_id, chunk, n);
            done += n;
        }
        return 0;
    case CONSOLEIO_read: {
        if ((int32_t)count < 0)
            return -XEN_EINVAL;
        size_t want = (size_t)MIN(count, sizeof(chunk));
        if (!guest_range_ok(buf, want))
            return -XEN_EFAULT;
        size_t n = console_read_input(chunk, want);
        if (copy_to_guest(buf, chunk, n))
            return -XEN_EFAULT;   /* those bytes are lost; the guest gave a bad buffer */
        return (long)n;
    }
    default:
        return -XEN_ENOSYS;
    }
}

/* vm_assist (#21): §4.7. */
long do_vm_assist(uint64_t cmd, uint64_t type)
{
    const uint64_t valid = (1ull << VMASST_TYPE_4gb_segments) | (1ull << VMASST_TYPE_4gb_segments_notify) |
                           (1ull << VMASST_TYPE_writable_pagetables) | (1ull << VMASST_TYPE_pae_extended_cr3) |
                           (1ull << VMASST_TYPE_architectural_iopl) | (1ull << VMASST_TYPE_runstate_update_flag) |
                           (1ull << VMASST_TYPE_m2p_strict);
    struct domain *d = current_domain();
    if (cmd != VMASST_CMD_enable && cmd != VMASST_CMD_disable)
        return -XEN_ENOSYS;
    if (type >= 64 || !(valid & (1ull << type)))
        return -XEN_EINVAL;
    if (cmd == VMASST_CMD_enable)
        d->vm_assist |= 1ull << type;
    else
        d->vm_assist &= ~(1ull << type);
    return 0;
}

/* physdev_op (#33): only the virtual IOPL for now (§4.9). */
long do_physdev_op(uint64_t cmd, uint64_t arg)
{
    struct vcpu *v = current_vcpu();
    switch (cmd) {
    case PHYSDEVOP_set_iopl: {
        struct physdev_set_iopl s;
        if (copy_from_guest(&s, arg, sizeof(s)))
            return -XEN_EFAULT;
        if (s.iopl > 3)
            return -XEN_EINVAL;
        v->iopl = (uint8_t)s.iopl;
        return 0;
    }
    default:
        return -XEN_ENOSYS;
    }
}

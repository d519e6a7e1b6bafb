/* SPDX-License-Identifier: MIT */
/*
 * The PV CPU model of xen-pv-abi.md §4: guest kernel and user both run in
 * ring 3; the hypervisor keeps the mode, switches page tables and GS bases
 * between them, and delivers exceptions, events and user system calls to the
 * guest kernel through bounce frames on its stack. Here also: the iret
 * hypercall, trap table, callbacks, stack_switch, set_segment_base,
 * fpu_taskswitch, and the context switch.
 */
#include <hv/pv.h>
#include <hv/guest_access.h>
#include <hv/hypercall.h>
#include <asm/x86.h>
#include <public/callback.h>

/* A data selector we may load for v without faulting, else null. Null
 * selectors (0-3) load without a descriptor. */
static uint16_t usable_sel(struct vcpu *v, uint16_t s)
{
    return s < 4 || pv_selector_usable(v, s, false) || pv_selector_usable(v, s, true) ? s : 0;
}

/* §4.2: flip the mode, switch CR3 to the other table, swap the GS bases.
 * While the hypervisor runs, the guest's active GS base sits in
 * MSR_KERNEL_GS_BASE (we swapgs'd on entry). */
void pv_toggle_guest_mode(struct vcpu *v)
{
    uint64_t active_gs = rdmsr(MSR_KERNEL_GS_BASE);
    if (v->in_kernel) {
        v->gs_base_kernel = active_gs;
        wrmsr(MSR_KERNEL_GS_BASE, v->gs_base_user);
    } else {
        v->gs_base_user = active_gs;
        wrmsr(MSR_KERNEL_GS_BASE, v->gs_base_kernel);
    }
    v->in_kernel = !v->in_kernel;
    write_cr3((v->in_kernel ? v->guest_table : v->guest_table_user) << PAGE_SHIFT);
}

/* Builds the §4.4 frame and points the vCPU at `handler`. Returns false (and
 * crashes the domain) if the guest stack cannot take it. */
/* `extra` words go between r11 and rip: the error code of an exception, or
 * the failsafe callback's ds, es, fs, gs. */
static bool create_bounce_frame(struct vcpu *v, struct cpu_regs *regs, uint64_t handler,
                                const uint64_t *extra, unsigned nr_extra, bool mask_events)
{
    struct vcpu_info *vi = v->vcpu_info;
    uint8_t old_mask = vi->evtchn_upcall_mask;
    bool was_kernel = v->in_kernel;
    uint64_t frame[11];
    unsigned n = 0;

    frame[n++] = regs->rcx;
    frame[n++] = regs->r11;
    BUG_ON(nr_extra > 4);
    if (nr_extra) {
        memcpy(&frame[n], extra, nr_extra * sizeof(uint64_t));
        n += nr_extra;
    }
    frame[n++] = regs->rip;
    frame[n++] = (was_kernel ? regs->cs & ~3ull : regs->cs) | ((uint64_t)old_mask << 32);
    frame[n++] = (regs->rflags & ~(X86_EFLAGS_IF | X86_EFLAGS_IOPL)) | (old_mask ? 0 : X86_EFLAGS_IF);
    frame[n++] = regs->rsp;
    frame[n++] = regs->ss;

    if (!was_kernel) {
        if (!v->guest_table) {
            domain_crash(v->domain, "event or trap in user mode without a kernel page table");
            return false;
        }
        pv_toggle_guest_mode(v);
    }
    uint64_t sp = (was_kernel ? regs->rsp : v->kernel_sp) & ~15ull;
    sp -= n * sizeof(uint64_t);
    if (copy_to_guest(sp, frame, n * sizeof(uint64_t))) {
        domain_crash(v->domain, "cannot write a bounce frame at 0x%lx", (unsigned long)sp);
        return false;
    }
    regs->rsp = sp;
    regs->rip = handler;
    regs->cs = FLAT_KERNEL_CS;
    regs->ss = FLAT_KERNEL_SS;
    regs->rflags &= ~(X86_EFLAGS_TF | X86_EFLAGS_NT | X86_EFLAGS_RF | X86_EFLAGS_VM | X86_EFLAGS_AC);
    if (mask_events)
        vi->evtchn_upcall_mask = 1;
    return true;
}

static bool has_error_code(unsigned vector)
{
    return vector == 8 || (vector >= 10 && vector <= 14) || vector == 17 || vector == 21;
}

bool pv_inject_trap(struct vcpu *v, struct cpu_regs *regs, unsigned vector, bool has_error,
                    uint32_t error_code)
{
    const struct trap_info *ti = &v->trap_ctxt[vector & 255];
    if (!ti->address) {
        domain_crash(v->domain, "unhandled trap %u (error 0x%x) at rip 0x%lx", vector, error_code,
                     (unsigned long)regs->rip);
        return false;
    }
    uint64_t err = error_code;
    return create_bounce_frame(v, regs, ti->address, &err, has_error, TI_GET_IF(ti));
}

/* Software `int n` by the guest: allowed when the guest's own gate DPL
 * admits its virtual CPL (kernel 1, user 3), §4.3. */
/* `rip_at_insn`: the hardware reported rip at the instruction (a #GP from a
 * DPL-0 gate) rather than after it (a DPL-3 gate); `len` is its length. */
static bool inject_soft_int(struct vcpu *v, struct cpu_regs *regs, unsigned n, unsigned len,
                            bool rip_at_insn)
{
    const struct trap_info *ti = &v->trap_ctxt[n & 255];
    unsigned cpl = v->in_kernel ? 1 : 3;
    if (!ti->address || TI_GET_DPL(ti) < cpl) {
        if (!rip_at_insn)
            regs->rip -= len;
        return pv_inject_trap(v, regs, TRAP_gp_fault, true, (n << 3) | 2);
    }
    if (rip_at_insn)
        regs->rip += len;
    return create_bounce_frame(v, regs, ti->address, NULL, 0, TI_GET_IF(ti));
}

void pv_handle_exception(struct cpu_regs *regs)
{
    struct vcpu *v = current_vcpu();
    unsigned vec = regs->entry_vector;
    uint32_t err = regs->error_code;

    switch (vec) {
    case TRAP_page_fault: {
        uint64_t cr2 = read_cr2();
        if (pv_ptwr_emulate(v, regs, cr2, err))
            return;
        v->vcpu_info->arch.cr2 = cr2;
        /* §4.3: the U/S bit reports the guest's mode, not the real CPL. */
        err = v->in_kernel ? err & ~4u : err | 4u;
        pv_inject_trap(v, regs, vec, true, err);
        return;
    }
    case TRAP_gp_fault:
        if ((err & 3) == 2) {
            /* An IDT-referenced #GP from ring 3: a software `int n` whose
             * hardware gate has DPL 0; rip points at it. Take n from the
             * instruction, not the error code: emulators disagree on how
             * they scale the IDT index in 64-bit mode (QEMU uses n*16). */
            uint8_t insn[2];
            if (!copy_from_guest(insn, regs->rip, sizeof(insn)) && insn[0] == 0xcd) {
                inject_soft_int(v, regs, insn[1], 2, true);
                return;
            }
        }
        if (err == 0 && pv_emulate_privileged(v, regs))
            return;
        if (pv_ldt_fault(v, err))
            return;
        pv_inject_trap(v, regs, vec, true, err);
        return;
    case TRAP_no_device:
        /* Real TS mirrors the virtual one: this #NM is the guest's. */
        if (!v->virtual_ts) {
            pv_set_virtual_ts(v, false);
            return;
        }
        pv_inject_trap(v, regs, vec, false, 0);
        return;
    case TRAP_invalid_op:
        if (pv_emulate_invalid_op(v, regs))
            return;
        pv_inject_trap(v, regs, vec, false, 0);
        return;
    case TRAP_int3:
    case TRAP_overflow:
    case 0x80:
        /* Through DPL-3 gates: rip is already past the instruction. */
        inject_soft_int(v, regs, vec, vec == 0x80 ? 2 : 1, false);
        return;
    default:
        if (vec < 32) {
            pv_inject_trap(v, regs, vec, has_error_code(vec), err);
            return;
        }
        /* Any other software int from a DPL-0 gate arrives as #GP above. */
        pv_inject_trap(v, regs, TRAP_gp_fault, true, (vec << 3) | 2);
        return;
    }
}

/* A syscall from guest user mode goes to the guest kernel's syscall callback
 * (§4.6); from guest kernel mode it is a hypercall. */
void handle_syscall(struct cpu_regs *regs);
void handle_syscall(struct cpu_regs *regs)
{
    struct vcpu *v = current_vcpu();
    bool compat = regs->entry_vector != ENTRY_VECTOR_SYSCALL;

    if (v->in_kernel && !compat) {
        do_hypercall(regs);
        return;
    }
    if (compat || !v->syscall_callback) {
        regs->rip -= 2;     /* #UD at the syscall instruction */
        pv_inject_trap(v, regs, TRAP_invalid_op, false, 0);
        return;
    }
    regs->rflags &= ~X86_EFLAGS_DF;
    create_bounce_frame(v, regs, v->syscall_callback, NULL, 0, v->syscall_masks);
}

/* Event upcall on the way out (§4.10). Returns false if the domain died. */
bool pv_deliver_events(struct vcpu *v, struct cpu_regs *regs);
bool pv_deliver_events(struct vcpu *v, struct cpu_regs *regs)
{
    struct vcpu_info *vi = v->vcpu_info;
    if (!vi->evtchn_upcall_pending || vi->evtchn_upcall_mask || !v->event_callback)
        return !v->domain->is_shut_down;
    return create_bounce_frame(v, regs, v->event_callback, NULL, 0, true) && !v->domain->is_shut_down;
}

/* The last check before iretq: the frame may only hold what ring 3 may
 * have (§4.5 rules): flat or 32-bit user code selector, user data selector,
 * IF on, IOPL 0, canonical rip. */
bool pv_sanitise_return(struct vcpu *v, struct cpu_regs *regs);
bool pv_sanitise_return(struct vcpu *v, struct cpu_regs *regs)
{
    if (v->domain->is_shut_down)
        return false;
    if (!pv_selector_usable(v, (uint16_t)regs->cs, true) || regs->cs > 0xffff) {
        domain_crash(v->domain, "return to unusable code selector 0x%lx", (unsigned long)regs->cs);
        return false;
    }
    if (!pv_selector_usable(v, (uint16_t)regs->ss, false) || regs->ss > 0xffff)
        regs->ss = FLAT_RING3_SS64;
    if (!va_is_canonical(regs->rip) || !va_is_canonical(regs->rsp)) {
        domain_crash(v->domain, "return to non-canonical rip 0x%lx / rsp 0x%lx",
                     (unsigned long)regs->rip, (unsigned long)regs->rsp);
        return false;
    }
    regs->rflags = (regs->rflags & ~(X86_EFLAGS_IOPL | X86_EFLAGS_VM | X86_EFLAGS_NT)) |
                   X86_EFLAGS_IF | X86_EFLAGS_MBS;
    return true;
}

/* iret (#23): §4.5. */
long do_iret(void)
{
    struct vcpu *v = current_vcpu();
    struct cpu_regs *regs = guest_regs();
    struct iret_context ctx;

    if (copy_from_guest(&ctx, regs->rsp, sizeof(ctx))) {
        domain_crash(v->domain, "iret frame at 0x%lx unreadable", (unsigned long)regs->rsp);
        return -XEN_EFAULT;
    }
    if ((ctx.cs & 3) == 3 && v->in_kernel) {
        if (!v->guest_table_user) {
            domain_crash(v->domain, "iret to user mode without a user page table");
            return -XEN_EFAULT;
        }
        pv_toggle_guest_mode(v);
    }
    /* Only the selectors: a frame we built carries the saved event mask in
     * bits 32-39 of its CS slot (§4.4), which iret must not keep. */
    regs->rip = ctx.rip;
    regs->cs = (ctx.cs & 0xffff) | 3;
    regs->ss = (ctx.ss & 0xffff) | 3;
    regs->rsp = ctx.rsp;
    regs->rflags = (ctx.rflags & ~(X86_EFLAGS_IOPL | X86_EFLAGS_VM)) | X86_EFLAGS_IF;
    v->vcpu_info->evtchn_upcall_mask = !(ctx.rflags & X86_EFLAGS_IF);
    if (!(ctx.flags & VGCF_in_syscall)) {
        regs->rcx = ctx.rcx;
        regs->r11 = ctx.r11;
    }
    return (long)ctx.rax;
}

/* set_trap_table (#0): §4.3. Validate the whole table before changing any
 * entry. */
long do_set_trap_table(uint64_t table)
{
    struct vcpu *v = current_vcpu();
    struct trap_info ti;

    if (table == 0) {
        memset(v->trap_ctxt, 0, sizeof(v->trap_ctxt));
        return 0;
    }
    for (unsigned i = 0;; i++) {
        if (i > 256)
            return -XEN_EINVAL;
        if (copy_from_guest(&ti, table + i * sizeof(ti), sizeof(ti)))
            return -XEN_EFAULT;
        if (ti.address == 0)
            break;
        if (!va_is_canonical(ti.address))
            return -XEN_EINVAL;
    }
    for (unsigned i = 0;; i++) {
        if (copy_from_guest(&ti, table + i * sizeof(ti), sizeof(ti)))
            return -XEN_EFAULT;
        if (ti.address == 0)
            break;
        ti.cs |= 3;
        v->trap_ctxt[ti.vector] = ti;
    }
    return 0;
}

static long register_callback(struct vcpu *v, const struct callback_register *cb)
{
    if (!va_is_canonical(cb->address))
        return -XEN_EINVAL;
    bool mask = cb->flags & CALLBACKF_mask_events;
    switch (cb->type) {
    case CALLBACKTYPE_event:
        v->event_callback = cb->address;
        return 0;
    case CALLBACKTYPE_failsafe:
        v->failsafe_callback = cb->address;
        v->failsafe_masks = mask;
        return 0;
    case CALLBACKTYPE_syscall:
        v->syscall_callback = cb->address;
        v->syscall_masks = mask;
        return 0;
    case CALLBACKTYPE_nmi:
        v->trap_ctxt[TRAP_nmi].address = cb->address;
        v->trap_ctxt[TRAP_nmi].flags = 4;
        return 0;
    default:
        /* sysenter/syscall32: no 32-bit user code support yet. */
        return -XEN_EINVAL;
    }
}

long do_callback_op(uint64_t cmd, uint64_t arg)
{
    struct vcpu *v = current_vcpu();
    switch (cmd) {
    case CALLBACKOP_register: {
        struct callback_register cb;
        if (copy_from_guest(&cb, arg, sizeof(cb)))
            return -XEN_EFAULT;
        return register_callback(v, &cb);
    }
    case CALLBACKOP_unregister: {
        struct callback_unregister cb;
        if (copy_from_guest(&cb, arg, sizeof(cb)))
            return -XEN_EFAULT;
        if (cb.type != CALLBACKTYPE_nmi)
            return -XEN_EINVAL;
        v->trap_ctxt[TRAP_nmi].address = 0;
        return 0;
    }
    default:
        return -XEN_ENOSYS;
    }
}

long do_set_callbacks(uint64_t event, uint64_t failsafe, uint64_t syscall)
{
    struct vcpu *v = current_vcpu();
    if (!va_is_canonical(event) || !va_is_canonical(failsafe) || !va_is_canonical(syscall))
        return -XEN_EINVAL;
    v->event_callback = event;
    v->failsafe_callback = failsafe;
    v->syscall_callback = syscall;
    return 0;
}

long do_stack_switch(uint64_t ss, uint64_t sp)
{
    struct vcpu *v = current_vcpu();
    v->kernel_ss = ss | 3;
    v->kernel_sp = sp;
    return 0;
}

/* set_debugreg / get_debugreg (#8, #9), §4.7: DR0-3 must be guest
 * addresses; DR7 may not enable general detect or use reserved bits. The
 * values are kept per vCPU; arming them in hardware (and reporting hits)
 * comes with ptrace support. */
long do_set_debugreg(uint64_t reg, uint64_t value)
{
    struct vcpu *v = current_vcpu();
    switch (reg) {
    case 0: case 1: case 2: case 3:
        if (!guest_range_ok(value, 1))
            return -XEN_EINVAL;
        break;
    case 6:
        value = (value & 0xe00f) | 0xffff0ff0;
        break;
    case 7:
        if (value & ~0xffff27ffull & 0xffffffffull)
            return -XEN_EINVAL;
        if (value >> 32 || (value & (1u << 13)))
            return -XEN_EINVAL;
        value |= 0x400;
        break;
    default:
        return -XEN_EINVAL;
    }
    v->debugreg[reg] = value;
    return 0;
}

long do_get_debugreg(uint64_t reg)
{
    if (reg > 7 || reg == 4 || reg == 5)
        return -XEN_EINVAL;
    return (long)current_vcpu()->debugreg[reg];
}

/* The real CR0.TS follows the running vCPU's virtual TS, so a guest that
 * set it gets its #NM from the hardware on the next FPU instruction. */
void pv_set_virtual_ts(struct vcpu *v, bool ts)
{
    v->virtual_ts = ts;
    unsigned long cr0 = read_cr0();
    if (!!(cr0 & X86_CR0_TS) != ts)
        write_cr0(ts ? cr0 | X86_CR0_TS : cr0 & ~X86_CR0_TS);
}

long do_fpu_taskswitch(uint64_t set)
{
    pv_set_virtual_ts(current_vcpu(), set != 0);
    return 0;
}

#define SEGBASE_FS 0
#define SEGBASE_GS_USER 1
#define SEGBASE_GS_KERNEL 2
#define SEGBASE_GS_USER_SEL 3

long do_set_segment_base(uint64_t which, uint64_t base)
{
    struct vcpu *v = current_vcpu();
    if (which != SEGBASE_GS_USER_SEL && !va_is_canonical(base))
        return -XEN_EINVAL;
    switch (which) {
    case SEGBASE_FS:
        v->fs_base = base;
        wrmsr(MSR_FS_BASE, base);
        return 0;
    case SEGBASE_GS_USER:
        /* Inactive while in kernel mode (hypercalls come from kernel mode). */
        v->gs_base_user = base;
        return 0;
    case SEGBASE_GS_KERNEL:
        v->gs_base_kernel = base;
        wrmsr(MSR_KERNEL_GS_BASE, base);   /* the guest's active base, see toggle */
        return 0;
    case SEGBASE_GS_USER_SEL: {
        /* Only null and the flat selectors exist until set_gdt does. */
        uint16_t sel = (uint16_t)base;
        if (sel > 3)
            sel |= 3;
        if (sel > 3 && !usable_sel(v, sel))
            sel = 0;
        v->gs = sel;
        v->gs_base_user = 0;
        return 0;
    }
    default:
        return -XEN_EINVAL;
    }
}

/* §4.4 failsafe frame: the selectors the guest had (they were loaded null)
 * go between r11 and rip, so its handler can tell them from the null ones
 * and retry. Without a callback the guest just runs on with null ones. */
static void deliver_failsafe(struct vcpu *v, struct cpu_regs *regs)
{
    if (!v->failsafe_callback)
        return;
    const uint64_t segs[4] = { v->ds, v->es, v->fs, v->gs };
    create_bounce_frame(v, regs, v->failsafe_callback, segs, 4, v->failsafe_masks);
}

static uint16_t read_sel(int which)
{
    uint16_t s = 0;
    switch (which) {
    case 0: __asm__ volatile("mov %%ds, %0" : "=r"(s)); break;
    case 1: __asm__ volatile("mov %%es, %0" : "=r"(s)); break;
    case 2: __asm__ volatile("mov %%fs, %0" : "=r"(s)); break;
    default: __asm__ volatile("mov %%gs, %0" : "=r"(s)); break;
    }
    return s;
}

/* Moves the guest frame between the stack and the vCPUs, with the state the
 * frame does not hold: page tables, segment bases and selectors. */
void context_switch(struct cpu_regs *frame, struct vcpu *prev, struct vcpu *next);
void context_switch(struct cpu_regs *frame, struct vcpu *prev, struct vcpu *next)
{
    struct percpu *pc = this_cpu();
    /* Eager FPU switch: FXSAVE/FXRSTOR need TS clear; TS is set again
     * below from the incoming vCPU's virtual TS. */
    __asm__ volatile("clts");
    if (prev) {
        __asm__ volatile("fxsave64 %0" : "=m"(prev->fpu_state));
        prev->regs = *frame;
        prev->fs_base = rdmsr(MSR_FS_BASE);
        if (prev->in_kernel)
            prev->gs_base_kernel = rdmsr(MSR_KERNEL_GS_BASE);
        else
            prev->gs_base_user = rdmsr(MSR_KERNEL_GS_BASE);
        prev->ds = read_sel(0);
        prev->es = read_sel(1);
        prev->fs = read_sel(2);
        prev->gs = read_sel(3);
        prev->is_running = false;
        vcpu_update_runstate(prev, prev->domain->is_shut_down || !prev->is_up ? RUNSTATE_offline :
                                   prev->is_blocked ? RUNSTATE_blocked : RUNSTATE_runnable);
    }
    if (!next) {
        write_cr3(__pa(idle_l4));
        pc->current = NULL;
        return;
    }
    write_cr3((next->in_kernel ? next->guest_table : next->guest_table_user) << PAGE_SHIFT);
    pv_load_gdt(next, prev ? prev->gdt_ents : FIRST_RESERVED_GDT_ENTRY);
    pv_load_ldt(next);
    /* Selectors the descriptor tables no longer back are loaded null (a
     * ring-0 load of them would fault); the guest hears of it through its
     * failsafe callback, below. */
    uint16_t ds = usable_sel(next, next->ds), es = usable_sel(next, next->es);
    uint16_t fs = usable_sel(next, next->fs), gs = usable_sel(next, next->gs);
    bool lost = ds != next->ds || es != next->es || fs != next->fs || gs != next->gs;
    __asm__ volatile("mov %0, %%ds; mov %1, %%es; mov %2, %%fs" : : "r"(ds), "r"(es), "r"(fs));
    /* Loading %gs would clobber the per-CPU base: load it with the bases
     * swapped, i.e. around a swapgs pair. */
    __asm__ volatile("swapgs; mov %0, %%gs; swapgs" : : "r"(gs));
    wrmsr(MSR_FS_BASE, next->fs_base);
    wrmsr(MSR_KERNEL_GS_BASE, next->in_kernel ? next->gs_base_kernel : next->gs_base_user);
    __asm__ volatile("fxrstor64 %0" : : "m"(next->fpu_state));
    pv_set_virtual_ts(next, next->virtual_ts);
    *frame = next->regs;
    next->is_running = true;
    pc->current = next;
    vcpu_update_time(next);
    vcpu_update_runstate(next, RUNSTATE_running);
    if (lost)
        deliver_failsafe(next, frame);
}

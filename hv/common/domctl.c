/* SPDX-License-Identifier: MIT */
/*
 * Domain control for the toolstack in dom0 (include/public/domctl.h): the
 * hypervisor creates empty domains, accounts and destroys them; everything
 * about what runs inside (kernel loading, page tables, start_info) is built
 * by dom0 through ordinary memory hypercalls. Privilege is checked once, at
 * the top of do_domctl.
 */
#include <hv/hypercall.h>
#include <hv/sched.h>
#include <hv/guest_access.h>
#include <hv/pv.h>
#include <public/domctl.h>
#include <public/sched.h>

static long create_domain(struct xen_domctl *op)
{
    if (op->u.createdomain.flags || op->u.createdomain.max_vcpus > MAX_VCPUS_PER_DOMAIN)
        return -XEN_EINVAL;
    domid_t id = op->domain;
    if (id == 0) {
        for (id = 1; id < MAX_DOMAINS && domain_list[id]; id++)
            ;
        if (id == MAX_DOMAINS)
            return -XEN_ENOSPC;
    } else if (id >= MAX_DOMAINS) {
        return -XEN_EINVAL;
    } else if (domain_list[id]) {
        return -XEN_EEXIST;
    }
    struct domain *d = domain_create(id, false);
    if (!d)
        return -XEN_ENOMEM;
    d->pause_count = 1;         /* runs once the toolstack unpauses it */
    d->max_pages = 0;           /* set with max_mem before populating */
    op->domain = id;
    return 0;
}

static void fill_info(const struct domain *d, struct xen_domctl_getdomaininfo *info)
{
    const struct vcpu *v = d->vcpus[0];
    info->domain = d->domain_id;
    info->flags = (d->is_shut_down ? XEN_DOMINF_shutdown | (d->shutdown_reason << XEN_DOMINF_shutdownshift) : 0) |
                  (d->pause_count ? XEN_DOMINF_paused : 0) |
                  (v && v->is_blocked ? XEN_DOMINF_blocked : 0) |
                  (v && v->is_running ? XEN_DOMINF_running : 0);
    info->tot_pages = d->tot_pages;
    info->max_pages = d->max_pages;
    info->shared_info_frame = d->shared_info_mfn;
    info->cpu_time = v ? v->runstate.time[RUNSTATE_running] : 0;
    info->nr_online_vcpus = v && v->is_up ? 1 : 0;
    info->max_vcpu_id = d->max_vcpus ? d->max_vcpus - 1 : 0;
}

/* The initial state of a domU's vCPU (vcpu_guest_context, §A.3): checked
 * in full before anything changes. */
static long set_vcpu_context(struct domain *d, const struct xen_domctl_vcpucontext *vc)
{
    static struct vcpu_guest_context ctx;   /* 5 KiB: not on the stack; one pCPU */
    if (vc->vcpu >= d->max_vcpus || !d->vcpus[vc->vcpu])
        return -XEN_ENOENT;
    struct vcpu *v = d->vcpus[vc->vcpu];
    if (v->is_initialised || !d->pause_count)
        return -XEN_EBUSY;
    if (copy_from_guest(&ctx, vc->ctxt, sizeof(ctx)))
        return -XEN_EFAULT;
    const struct cpu_user_regs *r = &ctx.user_regs;
    if (!(ctx.flags & VGCF_in_kernel) || ctx.gdt_ents || ctx.ldt_ents ||
        !va_is_canonical(r->rip) || !va_is_canonical(r->rsp) ||
        !va_is_canonical(ctx.event_callback_eip) || !va_is_canonical(ctx.failsafe_callback_eip) ||
        !va_is_canonical(ctx.syscall_callback_eip) || !va_is_canonical(ctx.fs_base) ||
        !va_is_canonical(ctx.gs_base_kernel) || !va_is_canonical(ctx.gs_base_user))
        return -XEN_EINVAL;
    for (unsigned i = 0; i < 256; i++)
        if (!va_is_canonical(ctx.trap_ctxt[i].address))
            return -XEN_EINVAL;
    long rc = pv_set_baseptr(v, ctx.ctrlreg[3] >> PAGE_SHIFT, false);
    if (rc)
        return rc;
    v->regs = (struct cpu_regs){
        .r15 = r->r15, .r14 = r->r14, .r13 = r->r13, .r12 = r->r12, .rbp = r->rbp, .rbx = r->rbx,
        .r11 = r->r11, .r10 = r->r10, .r9 = r->r9, .r8 = r->r8, .rax = r->rax, .rcx = r->rcx,
        .rdx = r->rdx, .rsi = r->rsi, .rdi = r->rdi, .rip = r->rip, .cs = FLAT_KERNEL_CS,
        .rflags = (r->rflags & ~0x3000ull) | 0x202, .rsp = r->rsp, .ss = FLAT_KERNEL_SS,
    };
    memcpy(v->trap_ctxt, ctx.trap_ctxt, sizeof(v->trap_ctxt));
    v->kernel_ss = ctx.kernel_ss | 3;
    v->kernel_sp = ctx.kernel_sp;
    v->event_callback = ctx.event_callback_eip;
    v->failsafe_callback = ctx.failsafe_callback_eip;
    v->syscall_callback = ctx.syscall_callback_eip;
    v->fs_base = ctx.fs_base;
    v->gs_base_kernel = ctx.gs_base_kernel;
    v->gs_base_user = ctx.gs_base_user;
    v->in_kernel = true;
    v->is_initialised = true;
    vcpu_update_time(v);
    sched_add_vcpu(v);
    timer_set(&v->periodic_timer, time_now_ns() + v->periodic_period_ns);
    return 0;
}

long do_domctl(uint64_t arg)
{
    struct domain *cur = current_domain();
    struct xen_domctl op;

    if (!cur->is_privileged)
        return -XEN_EPERM;
    if (copy_from_guest(&op, arg, sizeof(op)))
        return -XEN_EFAULT;
    if (op.interface_version != LAMINA_DOMCTL_INTERFACE_VERSION)
        return -XEN_EACCES;

    long rc;
    if (op.cmd == XEN_DOMCTL_createdomain) {
        if ((rc = create_domain(&op)))
            return rc;
        return copy_to_guest(arg, &op, sizeof(op));
    }
    if (op.cmd == XEN_DOMCTL_getdomaininfo) {
        for (unsigned id = op.domain; id < MAX_DOMAINS; id++) {
            struct domain *d = domain_by_id((domid_t)id);
            if (d) {
                fill_info(d, &op.u.getdomaininfo);
                op.domain = (domid_t)id;
                return copy_to_guest(arg, &op, sizeof(op));
            }
        }
        return -XEN_ESRCH;
    }

    struct domain *d = domain_by_id(op.domain);
    if (!d)
        return -XEN_ESRCH;
    if (d == cur)
        return -XEN_EINVAL;     /* dom0 does not operate on itself this way */
    switch (op.cmd) {
    case XEN_DOMCTL_destroydomain:
        domain_destroy(d);
        return 0;
    case XEN_DOMCTL_pausedomain:
        if (d->is_shut_down)
            return -XEN_EINVAL;
        d->pause_count++;
        return 0;
    case XEN_DOMCTL_unpausedomain:
        if (!d->pause_count)
            return -XEN_EINVAL;
        if (--d->pause_count == 0)
            sched_kick_domain(d);
        return 0;
    case XEN_DOMCTL_max_mem: {
        uint64_t pages = op.u.max_mem.max_memkb >> 2;
        if (op.u.max_mem.max_memkb > (1ull << 42) || pages < d->tot_pages)
            return -XEN_EINVAL;
        d->max_pages = pages;
        return 0;
    }
    case XEN_DOMCTL_max_vcpus:
        return op.u.max_vcpus.max == 1 ? 0 : -XEN_EINVAL;
    case XEN_DOMCTL_setvcpucontext:
        return set_vcpu_context(d, &op.u.vcpucontext);
    default:
        return -XEN_ENOSYS;
    }
}

/* SPDX-License-Identifier: MIT */
/*
 * Per-vCPU hypercalls and state the guest shares: sched_op, set_timer_op,
 * vcpu_op (xen-pv-abi.md §6.2-6.4), the pvclock record (§3.7) and the
 * runstate area.
 */
#include <hv/hypercall.h>
#include <hv/sched.h>
#include <hv/guest_access.h>
#include <hv/pv.h>
#include <public/sched.h>
#include <asm/x86.h>

void vcpu_update_time(struct vcpu *v)
{
    struct vcpu_time_info *t = &v->vcpu_info->time;
    uint64_t tsc = rdtsc();
    t->version++;
    barrier();
    t->tsc_timestamp = tsc;
    t->system_time = time_ns_at_tsc(tsc);
    t->tsc_to_system_mul = time_tsc_mul();
    t->tsc_shift = time_tsc_shift();
    t->flags = XEN_PVCLOCK_TSC_STABLE_BIT;
    barrier();
    t->version++;
}

void vcpu_update_runstate(struct vcpu *v, unsigned state)
{
    uint64_t now = time_now_ns();
    struct vcpu_runstate_info *r = &v->runstate;
    if (r->state < 4 && now > r->state_entry_time)
        r->time[r->state] += now - r->state_entry_time;
    r->state = state;
    r->state_entry_time = now;
    /* The guest's copy lives at a guest VA: write it only when its page
     * tables are the ones loaded. Failures are ignored, as in Xen. */
    if (!v->runstate_guest || !v->is_running || this_cpu()->current != v)
        return;
    /* The area is a guest kernel address: in guest user mode the loaded
     * table may not map it, so write through the kernel table (as Xen
     * does) and put the user table back. */
    if (!v->in_kernel)
        write_cr3(v->guest_table << PAGE_SHIFT);
    if (copy_to_guest(v->runstate_guest, r, sizeof(*r)))
        pr_guest("d%u: runstate area unwritable", v->domain->domain_id);
    if (!v->in_kernel)
        write_cr3(v->guest_table_user << PAGE_SHIFT);
}

/* Does any of the ports v polls have its pending bit set? */
static bool poll_ports_pending(struct vcpu *v)
{
    const uint64_t *pending = v->domain->shared_info->evtchn_pending;
    for (unsigned i = 0; i < v->nr_poll_ports; i++) {
        uint32_t p = v->poll_ports[i];
        if (pending[p / 64] & (1ull << (p % 64)))
            return true;
    }
    return false;
}

long do_sched_op(uint64_t cmd, uint64_t arg)
{
    struct vcpu *v = current_vcpu();
    struct domain *d = v->domain;

    switch (cmd) {
    case SCHEDOP_yield:
        sched_yield();
        return 0;
    case SCHEDOP_block:
        /* §6.3: enable events and block, unless one is already pending. */
        v->vcpu_info->evtchn_upcall_mask = 0;
        if (!v->vcpu_info->evtchn_upcall_pending)
            vcpu_block(v);
        return 0;
    case SCHEDOP_shutdown: {
        struct sched_shutdown s;
        if (copy_from_guest(&s, arg, sizeof(s)))
            return -XEN_EFAULT;
        if (s.reason > SHUTDOWN_soft_reset)
            return -XEN_EINVAL;
        domain_shutdown(d, s.reason);
        return 0;
    }
    case SCHEDOP_poll: {
        struct sched_poll p;
        uint32_t ports[ARRAY_SIZE(v->poll_ports)];
        if (copy_from_guest(&p, arg, sizeof(p)))
            return -XEN_EFAULT;
        if (p.nr_ports > SCHED_POLL_MAX_PORTS)
            return -XEN_EINVAL;
        if (p.nr_ports > ARRAY_SIZE(ports))
            return -XEN_EINVAL;   /* more than one vCPU's worth is not supported yet */
        if (copy_from_guest(ports, p.ports, p.nr_ports * sizeof(uint32_t)))
            return -XEN_EFAULT;
        for (unsigned i = 0; i < p.nr_ports; i++)
            if (ports[i] >= NR_EVENT_CHANNELS)
                return -XEN_EINVAL;
        memcpy(v->poll_ports, ports, sizeof(ports));
        v->nr_poll_ports = p.nr_ports;
        if (poll_ports_pending(v)) {
            v->nr_poll_ports = 0;
            return 0;
        }
        if (p.timeout && p.timeout <= time_now_ns()) {
            v->nr_poll_ports = 0;
            return 0;
        }
        vcpu_block(v);
        if (p.timeout)
            timer_set(&v->poll_timer, p.timeout);
        return 0;
    }
    case SCHEDOP_remote_shutdown:
    case SCHEDOP_pin_override:
        return d->is_privileged ? -XEN_ENOSYS : -XEN_EPERM;
    case SCHEDOP_shutdown_code:
    case SCHEDOP_watchdog:
        return -XEN_ENOSYS;
    default:
        return -XEN_ENOSYS;
    }
}

/* Wakes a vCPU blocked in SCHEDOP_poll on `port`, or in SCHEDOP_block. */
void vcpu_event_arrived(struct vcpu *v, unsigned port);
void vcpu_event_arrived(struct vcpu *v, unsigned port)
{
    if (!v->is_blocked)
        return;
    if (v->nr_poll_ports) {
        for (unsigned i = 0; i < v->nr_poll_ports; i++)
            if (v->poll_ports[i] == port) {
                v->nr_poll_ports = 0;
                vcpu_wake(v);
                return;
            }
        return;
    }
    vcpu_wake(v);
}

long do_set_timer_op(uint64_t timeout)
{
    struct vcpu *v = current_vcpu();
    if (timeout == 0) {
        timer_stop(&v->singleshot_timer);
        return 0;
    }
    uint64_t now = time_now_ns();
    /* Xen clamps absurdly distant timeouts (§6.2). */
    if (timeout > now + (1ull << 50))
        timeout = now + 100000000ull;
    timer_set(&v->singleshot_timer, timeout);
    return 0;
}

static long register_vcpu_info(struct vcpu *v, uint64_t arg)
{
    struct vcpu_register_vcpu_info r;
    if (copy_from_guest(&r, arg, sizeof(r)))
        return -XEN_EFAULT;
    if (r.offset > PAGE_SIZE - sizeof(struct vcpu_info) || (r.offset & 7))
        return -XEN_ENXIO;
    if (v->vcpu_info_mfn != INVALID_MFN)
        return -XEN_EINVAL;
    if (!mfn_valid(r.mfn))
        return -XEN_EINVAL;
    struct page_info *pg = mfn_to_page(r.mfn);
    if (!pv_get_page(pg, v->domain))
        return -XEN_EINVAL;
    if (pv_get_page_type(pg, PGT_writable, v->domain)) {
        pv_put_page(pg);
        return -XEN_EINVAL;
    }
    struct vcpu_info *new_vi = (struct vcpu_info *)((char *)mfn_to_virt(r.mfn) + r.offset);
    *new_vi = *v->vcpu_info;
    /* §6.4: set every selector bit and upcall_pending so nothing is lost. */
    new_vi->evtchn_upcall_pending = 1;
    new_vi->evtchn_pending_sel = ~0ull;
    v->vcpu_info = new_vi;
    v->vcpu_info_mfn = r.mfn;
    vcpu_update_time(v);
    return 0;
}

long do_vcpu_op(uint64_t cmd, uint64_t vcpuid, uint64_t arg)
{
    struct vcpu *cur = current_vcpu();
    struct domain *d = cur->domain;

    if (vcpuid >= d->max_vcpus || !d->vcpus[vcpuid])
        return -XEN_ENOENT;
    struct vcpu *v = d->vcpus[vcpuid];

    switch (cmd) {
    case VCPUOP_is_up:
        return v->is_up;
    case VCPUOP_get_runstate_info:
        return copy_to_guest(arg, &v->runstate, sizeof(v->runstate));
    case VCPUOP_register_runstate_memory_area: {
        struct vcpu_register_runstate_memory_area a;
        if (copy_from_guest(&a, arg, sizeof(a)))
            return -XEN_EFAULT;
        if (!guest_range_ok(a.addr_v, sizeof(struct vcpu_runstate_info)))
            return -XEN_EINVAL;
        v->runstate_guest = a.addr_v;
        /* Written now and on every state change; a bad address only means
         * the guest sees no updates (Xen ignores such failures too). */
        if (v == cur && copy_to_guest(a.addr_v, &v->runstate, sizeof(v->runstate)))
            pr_guest("d%u: runstate area unwritable", d->domain_id);
        return 0;
    }
    case VCPUOP_set_periodic_timer: {
        struct vcpu_set_periodic_timer t;
        if (v != cur)
            return -XEN_EINVAL;
        if (copy_from_guest(&t, arg, sizeof(t)))
            return -XEN_EFAULT;
        if (t.period_ns < 1000000ull)
            return -XEN_EINVAL;
        v->periodic_period_ns = t.period_ns;
        timer_set(&v->periodic_timer, time_now_ns() + t.period_ns);
        return 0;
    }
    case VCPUOP_stop_periodic_timer:
        if (v != cur)
            return -XEN_EINVAL;
        v->periodic_period_ns = 0;
        timer_stop(&v->periodic_timer);
        return 0;
    case VCPUOP_set_singleshot_timer: {
        struct vcpu_set_singleshot_timer t;
        if (v != cur)
            return -XEN_EINVAL;
        if (copy_from_guest(&t, arg, sizeof(t)))
            return -XEN_EFAULT;
        /* A deadline in the past fires at once (§6.2). */
        timer_set(&v->singleshot_timer, t.timeout_abs_ns);
        if (t.timeout_abs_ns <= time_now_ns())
            timers_run_expired();
        return 0;
    }
    case VCPUOP_stop_singleshot_timer:
        if (v != cur)
            return -XEN_EINVAL;
        timer_stop(&v->singleshot_timer);
        return 0;
    case VCPUOP_register_vcpu_info:
        if (v != cur && v->is_up)
            return -XEN_EINVAL;
        return register_vcpu_info(v, arg);
    case VCPUOP_register_vcpu_time_memory_area:
        return -XEN_ENOSYS;
    case VCPUOP_initialise:
    case VCPUOP_up:
    case VCPUOP_down:
        /* Single-vCPU guests for now: vCPU 0 is always initialised and up. */
        return v == cur ? -XEN_EEXIST : -XEN_EINVAL;
    default:
        return -XEN_ENOSYS;
    }
}

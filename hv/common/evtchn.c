/* SPDX-License-Identifier: MIT */
/*
 * Event channels, 2-level ABI (xen-pv-abi.md §6.1): 4096 ports per domain,
 * pending and mask bits in shared_info, one selector word per vCPU. Ports
 * connect a domain to a VIRQ, to one of its own vCPUs (IPI), or to a port of
 * another (or the same) domain. Port 0 is reserved; a new port is the lowest
 * free one.
 */
#include <hv/sched.h>
#include <hv/hypercall.h>
#include <hv/guest_access.h>

void vcpu_event_arrived(struct vcpu *v, unsigned port);

/* VIRQs that belong to the domain rather than to one vCPU. */
static bool virq_is_global(unsigned virq)
{
    return virq == VIRQ_CONSOLE || virq == VIRQ_DOM_EXC || virq == VIRQ_TBUF ||
           virq == VIRQ_DEBUGGER || virq == VIRQ_CON_RING || virq == VIRQ_PCPU_STATE ||
           virq == VIRQ_MEM_EVENT || virq == VIRQ_ARGO || virq == VIRQ_ENOMEM;
}

int evtchn_init(struct domain *d)
{
    unsigned pages = ALIGN_UP(NR_EVENT_CHANNELS * sizeof(struct evtchn), PAGE_SIZE) / PAGE_SIZE;
    d->evtchn = alloc_xen_pages(pages);
    if (!d->evtchn)
        return -XEN_ENOMEM;
    d->evtchn[0].state = ECS_RESERVED;
    return 0;
}

static long evtchn_close(struct domain *d, uint32_t port);

void evtchn_destroy(struct domain *d)
{
    if (!d->evtchn)
        return;
    for (uint32_t p = 1; p < NR_EVENT_CHANNELS; p++)
        if (d->evtchn[p].state != ECS_FREE)
            evtchn_close(d, p);
    unsigned pages = ALIGN_UP(NR_EVENT_CHANNELS * sizeof(struct evtchn), PAGE_SIZE) / PAGE_SIZE;
    free_xen_pages(d->evtchn, pages);
    d->evtchn = NULL;
}

static struct evtchn *port_get(struct domain *d, uint32_t port)
{
    if (port == 0 || port >= NR_EVENT_CHANNELS)
        return NULL;
    return &d->evtchn[port];
}

static int alloc_port(struct domain *d, uint32_t *port)
{
    for (uint32_t p = 1; p < NR_EVENT_CHANNELS; p++)
        if (d->evtchn[p].state == ECS_FREE) {
            *port = p;
            return 0;
        }
    return -XEN_ENOSPC;
}

static struct vcpu *notify_vcpu(struct domain *d, const struct evtchn *ch)
{
    unsigned id = ch->notify_vcpu < d->max_vcpus ? ch->notify_vcpu : 0;
    return d->vcpus[id];
}

/* The §6.1 "set pending" algorithm, then wake or kick the vCPU. */
void evtchn_set_pending(struct vcpu *v, unsigned port)
{
    struct shared_info *s = v->domain->shared_info;
    uint64_t bit = 1ull << (port % 64);
    uint64_t *pend = &s->evtchn_pending[port / 64];

    if (__atomic_fetch_or(pend, bit, __ATOMIC_SEQ_CST) & bit)
        return;
    if (!(READ_ONCE(s->evtchn_mask[port / 64]) & bit)) {
        uint64_t sel = 1ull << (port / 64);
        if (!(__atomic_fetch_or(&v->vcpu_info->evtchn_pending_sel, sel, __ATOMIC_SEQ_CST) & sel))
            if (!__atomic_exchange_n(&v->vcpu_info->evtchn_upcall_pending, 1, __ATOMIC_SEQ_CST))
                vcpu_kick(v);
    }
    vcpu_event_arrived(v, port);
}

void send_guest_vcpu_virq(struct vcpu *v, unsigned virq)
{
    int port = v->virq_to_port[virq];
    if (virq == VIRQ_TIMER)
        vcpu_update_time(v);
    if (port)
        evtchn_set_pending(v, (unsigned)port);
}

void send_guest_global_virq(struct domain *d, unsigned virq)
{
    if (!d || d->is_shut_down)
        return;
    struct vcpu *v = d->vcpus[0];
    int port = v->virq_to_port[virq];
    if (port)
        evtchn_set_pending(notify_vcpu(d, &d->evtchn[port]), (unsigned)port);
}

int evtchn_alloc_unbound_port(struct domain *d, domid_t remote, uint32_t *port)
{
    int rc = alloc_port(d, port);
    if (rc)
        return rc;
    d->evtchn[*port] = (struct evtchn){ .state = ECS_UNBOUND, .remote_domid = remote };
    return 0;
}

static long evtchn_close(struct domain *d, uint32_t port)
{
    struct evtchn *ch = port_get(d, port);
    if (!ch || ch->state == ECS_FREE || ch->state == ECS_RESERVED)
        return -XEN_EINVAL;
    switch (ch->state) {
    case ECS_VIRQ:
        for (unsigned i = 0; i < d->max_vcpus; i++)
            if (d->vcpus[i] && d->vcpus[i]->virq_to_port[ch->virq] == (int)port)
                d->vcpus[i]->virq_to_port[ch->virq] = 0;
        break;
    case ECS_INTERDOMAIN: {
        /* The peer's end goes back to waiting for us (§6.1 close). */
        struct domain *rd = domain_list[ch->remote_domid];
        if (rd && rd->evtchn) {
            struct evtchn *rch = &rd->evtchn[ch->remote_port];
            if (rch->state == ECS_INTERDOMAIN && rch->remote_domid == d->domain_id &&
                rch->remote_port == port)
                *rch = (struct evtchn){ .state = ECS_UNBOUND, .remote_domid = d->domain_id,
                                        .notify_vcpu = rch->notify_vcpu };
        }
        break;
    }
    default:
        break;
    }
    __atomic_fetch_and(&d->shared_info->evtchn_pending[port / 64], ~(1ull << (port % 64)), __ATOMIC_SEQ_CST);
    *ch = (struct evtchn){ .state = ECS_FREE };
    return 0;
}

static long evtchn_send(struct domain *d, uint32_t port)
{
    struct evtchn *ch = port_get(d, port);
    if (!ch)
        return -XEN_EINVAL;
    switch (ch->state) {
    case ECS_INTERDOMAIN: {
        struct domain *rd = domain_by_id(ch->remote_domid);
        if (rd)
            evtchn_set_pending(notify_vcpu(rd, &rd->evtchn[ch->remote_port]), ch->remote_port);
        return 0;
    }
    case ECS_IPI:
        evtchn_set_pending(notify_vcpu(d, ch), port);
        return 0;
    case ECS_UNBOUND:
        return 0;         /* silently dropped (§6.1) */
    default:
        return -XEN_EINVAL;
    }
}

static long evtchn_status(struct domain *cur, struct evtchn_status *st)
{
    domid_t dom = st->dom == DOMID_SELF ? cur->domain_id : st->dom;
    if (dom != cur->domain_id && !cur->is_privileged)
        return -XEN_EPERM;
    struct domain *d = domain_by_id(dom);
    if (!d)
        return -XEN_ESRCH;
    if (st->port >= NR_EVENT_CHANNELS)
        return -XEN_EINVAL;
    const struct evtchn *ch = &d->evtchn[st->port];
    memset(&st->u, 0, sizeof(st->u));
    st->vcpu = ch->notify_vcpu;
    switch (ch->state) {
    case ECS_FREE:
    case ECS_RESERVED:
        st->status = EVTCHNSTAT_closed;
        break;
    case ECS_UNBOUND:
        st->status = EVTCHNSTAT_unbound;
        st->u.unbound.dom = ch->remote_domid;
        break;
    case ECS_INTERDOMAIN:
        st->status = EVTCHNSTAT_interdomain;
        st->u.interdomain.dom = ch->remote_domid;
        st->u.interdomain.port = ch->remote_port;
        break;
    case ECS_VIRQ:
        st->status = EVTCHNSTAT_virq;
        st->u.virq = ch->virq;
        break;
    case ECS_IPI:
        st->status = EVTCHNSTAT_ipi;
        break;
    default:
        return -XEN_EINVAL;
    }
    return 0;
}

static long evtchn_unmask(struct domain *d, uint32_t port)
{
    if (port >= NR_EVENT_CHANNELS)
        return -XEN_EINVAL;
    struct shared_info *s = d->shared_info;
    uint64_t bit = 1ull << (port % 64);
    const struct evtchn *ch = &d->evtchn[port];
    struct vcpu *v = notify_vcpu(d, ch);
    __atomic_fetch_and(&s->evtchn_mask[port / 64], ~bit, __ATOMIC_SEQ_CST);
    if (READ_ONCE(s->evtchn_pending[port / 64]) & bit) {
        uint64_t sel = 1ull << (port / 64);
        if (!(__atomic_fetch_or(&v->vcpu_info->evtchn_pending_sel, sel, __ATOMIC_SEQ_CST) & sel))
            if (!__atomic_exchange_n(&v->vcpu_info->evtchn_upcall_pending, 1, __ATOMIC_SEQ_CST))
                vcpu_kick(v);
    }
    return 0;
}

/* Copy in, check, act, copy out: one struct per sub-op. */
long do_event_channel_op(uint64_t cmd, uint64_t arg)
{
    struct domain *d = current_domain();
    long rc;

    switch (cmd) {
    case EVTCHNOP_alloc_unbound: {
        struct evtchn_alloc_unbound a;
        if (copy_from_guest(&a, arg, sizeof(a)))
            return -XEN_EFAULT;
        domid_t dom = a.dom == DOMID_SELF ? d->domain_id : a.dom;
        if (dom != d->domain_id && !d->is_privileged)
            return -XEN_EPERM;
        struct domain *owner = domain_by_id(dom);
        if (!owner)
            return -XEN_ESRCH;
        domid_t remote = a.remote_dom == DOMID_SELF ? d->domain_id : a.remote_dom;
        if (remote >= DOMID_FIRST_RESERVED)
            return -XEN_EINVAL;
        rc = evtchn_alloc_unbound_port(owner, remote, &a.port);
        if (rc)
            return rc;
        return copy_to_guest(arg, &a, sizeof(a));
    }
    case EVTCHNOP_bind_interdomain: {
        struct evtchn_bind_interdomain b;
        if (copy_from_guest(&b, arg, sizeof(b)))
            return -XEN_EFAULT;
        domid_t rdom = b.remote_dom == DOMID_SELF ? d->domain_id : b.remote_dom;
        struct domain *rd = domain_by_id(rdom);
        if (!rd)
            return -XEN_ESRCH;
        struct evtchn *rch = port_get(rd, b.remote_port);
        if (!rch || rch->state != ECS_UNBOUND || rch->remote_domid != d->domain_id)
            return -XEN_EINVAL;
        uint32_t lport;
        if ((rc = alloc_port(d, &lport)))
            return rc;
        d->evtchn[lport] = (struct evtchn){ .state = ECS_INTERDOMAIN, .remote_domid = rdom,
                                            .remote_port = b.remote_port };
        rch->state = ECS_INTERDOMAIN;
        rch->remote_domid = d->domain_id;
        rch->remote_port = lport;
        b.local_port = lport;
        if (copy_to_guest(arg, &b, sizeof(b))) {
            evtchn_close(d, lport);
            return -XEN_EFAULT;
        }
        evtchn_set_pending(notify_vcpu(d, &d->evtchn[lport]), lport);
        return 0;
    }
    case EVTCHNOP_bind_virq: {
        struct evtchn_bind_virq b;
        if (copy_from_guest(&b, arg, sizeof(b)))
            return -XEN_EFAULT;
        if (b.virq >= NR_VIRQS || (virq_is_global(b.virq) && b.vcpu != 0))
            return -XEN_EINVAL;
        if (b.vcpu >= d->max_vcpus || !d->vcpus[b.vcpu])
            return -XEN_ENOENT;
        struct vcpu *v = d->vcpus[b.vcpu];
        if (v->virq_to_port[b.virq])
            return -XEN_EEXIST;
        uint32_t port;
        if ((rc = alloc_port(d, &port)))
            return rc;
        d->evtchn[port] = (struct evtchn){ .state = ECS_VIRQ, .virq = b.virq,
                                           .notify_vcpu = (uint8_t)b.vcpu };
        v->virq_to_port[b.virq] = (int)port;
        b.port = port;
        if (copy_to_guest(arg, &b, sizeof(b))) {
            evtchn_close(d, port);
            return -XEN_EFAULT;
        }
        return 0;
    }
    case EVTCHNOP_bind_ipi: {
        struct evtchn_bind_ipi b;
        if (copy_from_guest(&b, arg, sizeof(b)))
            return -XEN_EFAULT;
        if (b.vcpu >= d->max_vcpus || !d->vcpus[b.vcpu])
            return -XEN_ENOENT;
        uint32_t port;
        if ((rc = alloc_port(d, &port)))
            return rc;
        d->evtchn[port] = (struct evtchn){ .state = ECS_IPI, .notify_vcpu = (uint8_t)b.vcpu };
        b.port = port;
        if (copy_to_guest(arg, &b, sizeof(b))) {
            evtchn_close(d, port);
            return -XEN_EFAULT;
        }
        return 0;
    }
    case EVTCHNOP_close: {
        struct evtchn_close c;
        if (copy_from_guest(&c, arg, sizeof(c)))
            return -XEN_EFAULT;
        return evtchn_close(d, c.port);
    }
    case EVTCHNOP_send: {
        struct evtchn_send s;
        if (copy_from_guest(&s, arg, sizeof(s)))
            return -XEN_EFAULT;
        return evtchn_send(d, s.port);
    }
    case EVTCHNOP_status: {
        struct evtchn_status st;
        if (copy_from_guest(&st, arg, sizeof(st)))
            return -XEN_EFAULT;
        if ((rc = evtchn_status(d, &st)))
            return rc;
        return copy_to_guest(arg, &st, sizeof(st));
    }
    case EVTCHNOP_bind_vcpu: {
        struct evtchn_bind_vcpu b;
        if (copy_from_guest(&b, arg, sizeof(b)))
            return -XEN_EFAULT;
        struct evtchn *ch = port_get(d, b.port);
        if (!ch || ch->state == ECS_FREE)
            return -XEN_EINVAL;
        if (b.vcpu >= d->max_vcpus || !d->vcpus[b.vcpu])
            return -XEN_ENOENT;
        if (ch->state == ECS_VIRQ && !virq_is_global(ch->virq))
            return -XEN_EINVAL;
        if (ch->state == ECS_IPI)
            return -XEN_EINVAL;
        ch->notify_vcpu = (uint8_t)b.vcpu;
        return 0;
    }
    case EVTCHNOP_unmask: {
        struct evtchn_unmask u;
        if (copy_from_guest(&u, arg, sizeof(u)))
            return -XEN_EFAULT;
        return evtchn_unmask(d, u.port);
    }
    case EVTCHNOP_reset:
    case EVTCHNOP_bind_pirq:
    case EVTCHNOP_init_control:
    case EVTCHNOP_expand_array:
    case EVTCHNOP_set_priority:
    default:
        return -XEN_ENOSYS;
    }
}

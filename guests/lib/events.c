/* SPDX-License-Identifier: MIT */
/* Event channels and the upcall dispatcher (xen-pv-abi.md §4.10, §6.1). */
#include <guest/events.h>
#include <guest/hypercall.h>
#include <guest/pvclock.h>
#include <guest/runtime.h>

#define BITS_PER_WORD 64

extern const char event_upcall_entry[];

struct port_slot {
    evtchn_handler_fn fn;
    void *data;
    uint64_t delivered;
};
static struct port_slot ports[NR_EVENT_CHANNELS];

long events_init(void)
{
    struct callback_register cb = {
        .type = CALLBACKTYPE_event,
        .flags = CALLBACKF_mask_events,
        .address = (uint64_t)(uintptr_t)event_upcall_entry,
    };
    return hyp_callback_op(CALLBACKOP_register, &cb);
}

void events_dispatch(void)
{
    volatile struct shared_info *s = shared_info;

    /* Clear the summary flag first so an event raised while we scan makes
     * us go round again instead of being lost. */
    do {
        vcpu0->evtchn_upcall_pending = 0;
        uint64_t sel = __atomic_exchange_n(&vcpu0->evtchn_pending_sel, 0, __ATOMIC_SEQ_CST);
        while (sel) {
            unsigned w = (unsigned)__builtin_ctzll(sel);
            sel &= sel - 1;
            uint64_t ready = s->evtchn_pending[w] & ~s->evtchn_mask[w];
            while (ready) {
                unsigned b = (unsigned)__builtin_ctzll(ready);
                ready &= ready - 1;
                unsigned port = w * BITS_PER_WORD + b;
                __atomic_fetch_and(&s->evtchn_pending[w], ~(1ULL << b), __ATOMIC_SEQ_CST);
                ports[port].delivered++;
                if (ports[port].fn)
                    ports[port].fn(port, ports[port].data);
            }
        }
    } while (vcpu0->evtchn_upcall_pending);
}

uint8_t events_mask(void)
{
    uint8_t old = vcpu0->evtchn_upcall_mask;
    vcpu0->evtchn_upcall_mask = 1;
    barrier();
    return old;
}

void events_restore(uint8_t old_mask)
{
    barrier();
    vcpu0->evtchn_upcall_mask = old_mask;
    barrier();
    if (!old_mask && vcpu0->evtchn_upcall_pending)
        hyp_xen_version(XENVER_version, NULL);
}

bool block_until(bool (*cond)(void *arg), void *arg, uint64_t timeout_ns)
{
    uint64_t deadline = pvclock_now_ns() + timeout_ns;
    uint8_t old = events_mask();
    bool ok;

    for (;;) {
        vcpu0->evtchn_upcall_mask = 1;
        barrier();
        if (cond(arg)) {
            ok = true;
            break;
        }
        if (pvclock_now_ns() > deadline) {
            ok = false;
            break;
        }
        /* Unmasks and sleeps in one step; pending events arrive on return. */
        hyp_sched_op(SCHEDOP_block, NULL);
    }
    events_restore(old);
    return ok;
}

void evtchn_set_handler(unsigned port, evtchn_handler_fn fn, void *data)
{
    if (port < NR_EVENT_CHANNELS) {
        ports[port].fn = fn;
        ports[port].data = data;
    }
}

uint64_t evtchn_delivered(unsigned port)
{
    return port < NR_EVENT_CHANNELS ? ports[port].delivered : 0;
}

long evtchn_bind_virq(unsigned virq, unsigned vcpu)
{
    struct evtchn_bind_virq op = { .virq = virq, .vcpu = vcpu };
    long rc = hyp_event_channel_op(EVTCHNOP_bind_virq, &op);
    return rc ? rc : (long)op.port;
}

long evtchn_bind_ipi(unsigned vcpu)
{
    struct evtchn_bind_ipi op = { .vcpu = vcpu };
    long rc = hyp_event_channel_op(EVTCHNOP_bind_ipi, &op);
    return rc ? rc : (long)op.port;
}

long evtchn_alloc_unbound(domid_t dom, domid_t remote_dom)
{
    struct evtchn_alloc_unbound op = { .dom = dom, .remote_dom = remote_dom };
    long rc = hyp_event_channel_op(EVTCHNOP_alloc_unbound, &op);
    return rc ? rc : (long)op.port;
}

long evtchn_bind_interdomain(domid_t remote_dom, unsigned remote_port)
{
    struct evtchn_bind_interdomain op = { .remote_dom = remote_dom, .remote_port = remote_port };
    long rc = hyp_event_channel_op(EVTCHNOP_bind_interdomain, &op);
    return rc ? rc : (long)op.local_port;
}

long evtchn_send(unsigned port)
{
    struct evtchn_send op = { .port = port };
    return hyp_event_channel_op(EVTCHNOP_send, &op);
}

long evtchn_close(unsigned port)
{
    struct evtchn_close op = { .port = port };
    return hyp_event_channel_op(EVTCHNOP_close, &op);
}

long evtchn_status(domid_t dom, unsigned port, struct evtchn_status *out)
{
    *out = (struct evtchn_status){ .dom = dom, .port = port };
    return hyp_event_channel_op(EVTCHNOP_status, out);
}

long evtchn_unmask_hypercall(unsigned port)
{
    struct evtchn_unmask op = { .port = port };
    return hyp_event_channel_op(EVTCHNOP_unmask, &op);
}

bool evtchn_is_pending(unsigned port)
{
    return port < NR_EVENT_CHANNELS &&
           (shared_info->evtchn_pending[port / BITS_PER_WORD] >> (port % BITS_PER_WORD)) & 1;
}

void evtchn_clear_pending(unsigned port)
{
    if (port < NR_EVENT_CHANNELS)
        __atomic_fetch_and(&shared_info->evtchn_pending[port / BITS_PER_WORD],
                           ~(1ULL << (port % BITS_PER_WORD)), __ATOMIC_SEQ_CST);
}

void evtchn_mask(unsigned port)
{
    if (port < NR_EVENT_CHANNELS)
        __atomic_fetch_or(&shared_info->evtchn_mask[port / BITS_PER_WORD],
                          1ULL << (port % BITS_PER_WORD), __ATOMIC_SEQ_CST);
}

void evtchn_unmask(unsigned port)
{
    if (port >= NR_EVENT_CHANNELS)
        return;
    __atomic_fetch_and(&shared_info->evtchn_mask[port / BITS_PER_WORD],
                       ~(1ULL << (port % BITS_PER_WORD)), __ATOMIC_SEQ_CST);
    /* An event that arrived while masked set only its pending bit (§6.1
     * step 2 was skipped): raise the selector and summary flag ourselves. */
    if (evtchn_is_pending(port)) {
        __atomic_fetch_or(&vcpu0->evtchn_pending_sel, 1ULL << (port / BITS_PER_WORD),
                          __ATOMIC_SEQ_CST);
        vcpu0->evtchn_upcall_pending = 1;
        barrier();
        if (!vcpu0->evtchn_upcall_mask)
            hyp_xen_version(XENVER_version, NULL);
    }
}

/* SPDX-License-Identifier: MIT */
/*
 * Domain and vCPU lifetime: creation with a shared_info page and event
 * channels, memory accounting, shutdown and crash. A domain that is shut down
 * or crashed never runs again; its memory is released when nothing maps it.
 * When dom0 goes, the machine goes with it (powered off, or reset).
 */
#include <hv/sched.h>
#include <hv/console.h>
#include <lamina/fmt.h>
#include <public/sched.h>
#include <hv/pv.h>

struct domain *domain_list[MAX_DOMAINS];
_Static_assert(sizeof(struct domain) <= PAGE_SIZE, "struct domain is one page");

void machine_power_off(void) __noreturn;
void machine_restart(void) __noreturn;
void pv_vcpu_release(struct vcpu *v);

const char *shutdown_reason_name(unsigned reason)
{
    static const char *const names[] = { "poweroff", "reboot", "suspend", "crash", "watchdog", "soft_reset" };
    return reason < ARRAY_SIZE(names) ? names[reason] : "unknown";
}

static void periodic_timer_fn(void *data)
{
    struct vcpu *v = data;
    send_guest_vcpu_virq(v, VIRQ_TIMER);
    if (v->periodic_period_ns)
        timer_set(&v->periodic_timer, v->periodic_timer.expires_ns + v->periodic_period_ns);
}

static void singleshot_timer_fn(void *data)
{
    send_guest_vcpu_virq(data, VIRQ_TIMER);
}

static void poll_timer_fn(void *data)
{
    struct vcpu *v = data;
    v->nr_poll_ports = 0;
    vcpu_wake(v);
}

static struct vcpu *vcpu_create(struct domain *d, unsigned id)
{
    struct vcpu *v = alloc_xen_pages(ALIGN_UP(sizeof(struct vcpu), PAGE_SIZE) / PAGE_SIZE);
    if (!v)
        return NULL;
    v->domain = d;
    v->vcpu_id = id;
    v->vcpu_info = &d->shared_info->vcpu_info[id];
    v->vcpu_info_mfn = INVALID_MFN;
    v->vcpu_info->evtchn_upcall_mask = 1;
    v->runstate.state = RUNSTATE_offline;
    for (unsigned i = 0; i < NR_VIRQS; i++)
        v->virq_to_port[i] = 0;
    v->periodic_timer = (struct timer){ .fn = periodic_timer_fn, .data = v };
    v->singleshot_timer = (struct timer){ .fn = singleshot_timer_fn, .data = v };
    v->poll_timer = (struct timer){ .fn = poll_timer_fn, .data = v };
    /* Power-on x87/SSE state: FCW 0x37f, MXCSR 0x1f80 (Intel SDM vol. 1 §10.5.1). */
    v->fpu_state[0] = 0x7f;
    v->fpu_state[1] = 0x03;
    v->fpu_state[24] = 0x80;
    v->fpu_state[25] = 0x1f;
    v->debugreg[6] = 0xffff0ff0;           /* §3.8 initial DR6/DR7 */
    v->debugreg[7] = 0x400;
    v->periodic_period_ns = 10000000ull;   /* §3.8: a 10 ms periodic VIRQ_TIMER by default */
    d->vcpus[id] = v;
    return v;
}

struct domain *domain_create(domid_t id, bool privileged)
{
    if (id >= MAX_DOMAINS || domain_list[id])
        return NULL;
    struct domain *d = alloc_xen_pages(1);
    if (!d)
        return NULL;
    d->domain_id = id;
    d->is_privileged = privileged;
    d->page_list_head = ~0u;
    d->shared_info = alloc_xen_pages(1);
    if (!d->shared_info)
        goto fail;
    d->shared_info_mfn = virt_to_mfn(d->shared_info);
    /* The guest may map shared_info: it is hypervisor memory shared with d. */
    struct page_info *sp = mfn_to_page(d->shared_info_mfn);
    sp->owner = id;
    sp->flags |= PGF_xen_heap;
    for (unsigned i = 0; i < XEN_LEGACY_MAX_VCPUS; i++)
        d->shared_info->vcpu_info[i].evtchn_upcall_mask = 1;
    d->shared_info->wc_version = 2;
    d->shared_info->wc_sec = (uint32_t)wallclock_boot_sec();
    d->shared_info->wc_sec_hi = (uint32_t)(wallclock_boot_sec() >> 32);
    d->shared_info->wc_nsec = wallclock_boot_nsec();
    if (evtchn_init(d))
        goto fail;
    d->max_vcpus = MAX_VCPUS_PER_DOMAIN;
    if (!vcpu_create(d, 0))
        goto fail;
    domain_list[id] = d;
    return d;
fail:
    evtchn_destroy(d);
    if (d->shared_info) {
        struct page_info *p = mfn_to_page(d->shared_info_mfn);
        p->owner = DOMID_XEN;
        p->flags = 0;
        free_xen_pages(d->shared_info, 1);
    }
    free_xen_pages(d, 1);
    return NULL;
}

struct domain *domain_by_id(domid_t id)
{
    if (id >= MAX_DOMAINS || !domain_list[id] || domain_list[id]->is_dying)
        return NULL;
    return domain_list[id];
}

/* Gives a freshly allocated frame to d and accounts for it. */
int domain_assign_page(struct domain *d, mfn_t mfn)
{
    if (d->tot_pages >= d->max_pages)
        return -XEN_ENOMEM;
    struct page_info *pg = mfn_to_page(mfn);
    pg->owner = d->domain_id;
    pg->flags |= PGF_allocated;
    pg->count = 1;
    pg->next = d->page_list_head;
    d->page_list_head = (uint32_t)mfn;
    d->tot_pages++;
    return 0;
}

/* Stops every vCPU of d for good (no message, no notification). */
static void domain_stop(struct domain *d)
{
    d->is_shut_down = true;
    console_line_flush(&d->con_line, d->domain_id);
    for (unsigned i = 0; i < d->max_vcpus; i++) {
        struct vcpu *v = d->vcpus[i];
        if (!v)
            continue;
        timer_stop(&v->periodic_timer);
        timer_stop(&v->singleshot_timer);
        timer_stop(&v->poll_timer);
        v->is_up = false;
    }
}

void domain_shutdown(struct domain *d, unsigned reason)
{
    if (d->is_shut_down)
        return;
    d->shutdown_reason = reason;
    domain_stop(d);
    pr_info("d%u shut down (%s)", d->domain_id, shutdown_reason_name(reason));
    if (d->domain_id != 0) {
        /* Tell the toolstack (Xen does the same with VIRQ_DOM_EXC). */
        send_guest_global_virq(domain_list[0], VIRQ_DOM_EXC);
        return;
    }
    /* The control domain is gone: so is the machine (as with Xen). */
    if (reason == SHUTDOWN_poweroff)
        machine_power_off();
    if (opt_noreboot) {
        pr_info("dom0 is gone: halting (noreboot)");
        for (;;)
            __asm__ volatile("cli; hlt");
    }
    pr_info("dom0 is gone: resetting the machine");
    machine_restart();
}

void domain_crash(struct domain *d, const char *fmt, ...)
{
    char why[160];
    va_list ap;
    va_start(ap, fmt);
    fmt_vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    if (d->is_shut_down)
        return;
    pr_err("d%u crashed: %s", d->domain_id, why);
    domain_shutdown(d, SHUTDOWN_crash);
}

static void release_table_ref(mfn_t mfn)
{
    pv_put_page_type(mfn_to_page(mfn));
    pv_put_page(mfn_to_page(mfn));
}

/* Drops a domain's hold on one of its frames; a frame that something else
 * still maps (dom0's foreign mappings) lives on, owned by nobody a guest can
 * name, until the last reference goes. */
static void release_frame(struct page_info *pg)
{
    if (pg->flags & PGF_pinned) {
        pg->flags &= ~PGF_pinned;
        pv_put_page_type(pg);
        pv_put_page(pg);
    }
}

void domain_destroy(struct domain *d)
{
    BUG_ON(d == current_domain());
    if (!d->is_shut_down)
        domain_stop(d);     /* the toolstack's destroy: not a shutdown of its own */
    d->is_dying = true;
    for (unsigned i = 0; i < d->max_vcpus; i++) {
        struct vcpu *v = d->vcpus[i];
        if (!v)
            continue;
        sched_remove_vcpu(v);
        timer_stop(&v->periodic_timer);
        timer_stop(&v->singleshot_timer);
        timer_stop(&v->poll_timer);
        if (v->guest_table)
            release_table_ref(v->guest_table);
        if (v->guest_table_user)
            release_table_ref(v->guest_table_user);
        v->guest_table = v->guest_table_user = 0;
        pv_vcpu_release_desc_tables(v);
        if (v->vcpu_info_mfn != INVALID_MFN) {
            pv_put_page_type(mfn_to_page(v->vcpu_info_mfn));
            pv_put_page(mfn_to_page(v->vcpu_info_mfn));
        }
    }
    evtchn_destroy(d);
    gnttab_destroy(d);

    /* Unpin first (devalidating tables releases what they reference), then
     * give up the allocation reference of every frame. */
    for (uint32_t m = d->page_list_head; m != ~0u; m = mfn_to_page(m)->next)
        release_frame(mfn_to_page(m));
    for (uint32_t m = d->page_list_head; m != ~0u;) {
        struct page_info *pg = mfn_to_page(m);
        m = pg->next;
        pg->next = ~0u;
        pg->owner = DOMID_XEN;
        pg->flags &= ~PGF_allocated;
        pv_put_page(pg);
    }
    struct page_info *sp = mfn_to_page(d->shared_info_mfn);
    sp->flags &= ~PGF_xen_heap;
    sp->owner = DOMID_XEN;
    if (sp->count == 0)
        free_xen_pages(d->shared_info, 1);
    /* else: mapped by dom0 still; freed on its last unmap like any frame */

    for (unsigned i = 0; i < d->max_vcpus; i++)
        if (d->vcpus[i])
            free_xen_pages(d->vcpus[i], ALIGN_UP(sizeof(struct vcpu), PAGE_SIZE) / PAGE_SIZE);
    pr_info("d%u destroyed", d->domain_id);
    domain_list[d->domain_id] = NULL;
    free_xen_pages(d, 1);
}

/* SPDX-License-Identifier: MIT */
/*
 * A round-robin scheduler over runnable vCPUs with a 10 ms slice, and the
 * return path every guest entry ends in (prepare_guest_return): pick who
 * runs, switch to it, deliver its pending events, then let the assembly
 * iretq. The credit scheduler (weights, caps) replaces the policy later; the
 * return path stays.
 */
#include <hv/sched.h>
#include <hv/console.h>
#include <asm/x86.h>

#define SLICE_NS 10000000ull

static struct vcpu *runq_head, *runq_tail;
static bool need_resched;
static struct timer slice_timer;

void context_switch(struct cpu_regs *frame, struct vcpu *prev, struct vcpu *next);
bool pv_deliver_events(struct vcpu *v, struct cpu_regs *regs);
bool pv_sanitise_return(struct vcpu *v, struct cpu_regs *regs);

static bool vcpu_runnable(const struct vcpu *v)
{
    return v->is_up && !v->is_blocked && !v->domain->is_shut_down && !v->domain->pause_count;
}

static void runq_remove(struct vcpu *v)
{
    for (struct vcpu **p = &runq_head; *p; p = &(*p)->runq_next)
        if (*p == v) {
            *p = v->runq_next;
            if (runq_tail == v) {
                runq_tail = NULL;
                for (struct vcpu *x = runq_head; x; x = x->runq_next)
                    runq_tail = x;
            }
            v->runq_next = NULL;
            return;
        }
}

static bool on_runq(const struct vcpu *v)
{
    for (struct vcpu *x = runq_head; x; x = x->runq_next)
        if (x == v)
            return true;
    return false;
}

static void runq_append(struct vcpu *v)
{
    if (on_runq(v))
        return;
    v->runq_next = NULL;
    if (runq_tail)
        runq_tail->runq_next = v;
    else
        runq_head = v;
    runq_tail = v;
}

void sched_add_vcpu(struct vcpu *v)
{
    v->is_up = true;
    vcpu_update_runstate(v, RUNSTATE_runnable);
    runq_append(v);
}

void sched_remove_vcpu(struct vcpu *v)
{
    runq_remove(v);
    v->is_up = false;
}

/* After an unpause: put the domain's runnable vCPUs back on the queue. */
void sched_kick_domain(struct domain *d)
{
    for (unsigned i = 0; i < d->max_vcpus; i++) {
        struct vcpu *v = d->vcpus[i];
        if (v && vcpu_runnable(v) && !v->is_running)
            runq_append(v);
    }
    need_resched = true;
}

void vcpu_wake(struct vcpu *v)
{
    if (!v->is_blocked)
        return;
    v->is_blocked = false;
    timer_stop(&v->poll_timer);
    if (vcpu_runnable(v) && !v->is_running) {
        vcpu_update_runstate(v, RUNSTATE_runnable);
        runq_append(v);
    }
    if (v != current_vcpu())
        need_resched = true;
}

void vcpu_block(struct vcpu *v)
{
    v->is_blocked = true;
    need_resched = true;
}

void vcpu_kick(struct vcpu *v)
{
    vcpu_wake(v);
}

void sched_yield(void)
{
    need_resched = true;
}

static void slice_expired(void *data)
{
    (void)data;
    need_resched = true;
}

/* Chooses the next vCPU: the current one keeps the CPU unless it stopped
 * being runnable or its slice is over and someone else is waiting. */
static struct vcpu *pick_next(struct vcpu *cur)
{
    bool cur_ok = cur && vcpu_runnable(cur);
    if (cur_ok && (!need_resched || !runq_head))
        return cur;
    if (cur_ok)
        runq_append(cur);
    struct vcpu *next = runq_head;
    while (next && !vcpu_runnable(next)) {
        runq_remove(next);
        next = runq_head;
    }
    if (next)
        runq_remove(next);
    return next;
}

/* Called with interrupts off and `regs` the guest frame at the top of the
 * stack; returns with interrupts off and the frame ready for iretq. */
void prepare_guest_return(struct cpu_regs *regs);
void prepare_guest_return(struct cpu_regs *regs)
{
    struct percpu *pc = this_cpu();
    for (;;) {
        struct vcpu *cur = pc->current;
        struct vcpu *next = pick_next(cur);
        need_resched = false;
        if (!next) {
            /* Idle: nothing runnable. Interrupts wake us (timers, serial). */
            if (cur) {
                context_switch(regs, cur, NULL);
                cur = NULL;
            }
            safe_halt();
            local_irq_disable();
            continue;
        }
        if (next != cur) {
            context_switch(regs, cur, next);
            timer_set(&slice_timer, time_now_ns() + SLICE_NS);
        }
        if (!pv_deliver_events(next, regs))
            continue;          /* the domain crashed while we delivered */
        if (!pv_sanitise_return(next, regs))
            continue;
        return;
    }
}

void enter_guests(void) __noreturn;

void sched_start(void)
{
    slice_timer = (struct timer){ .fn = slice_expired };
    this_cpu()->current = NULL;
    enter_guests();
}

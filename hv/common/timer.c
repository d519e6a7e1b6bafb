/* SPDX-License-Identifier: MIT */
/* Software timers: one sorted list per pCPU, the local APIC timer programmed
 * one-shot for the earliest. Callbacks run from the timer interrupt with
 * interrupts off; they must be short (they mark events, wake vCPUs). */
#include <hv/time.h>

static struct timer *timer_list;

static void reprogram(void)
{
    if (!timer_list)
        return;
    uint64_t now = time_now_ns();
    apic_program_oneshot(timer_list->expires_ns > now ? timer_list->expires_ns - now : 1);
}

void timer_stop(struct timer *t)
{
    if (!t->active)
        return;
    for (struct timer **p = &timer_list; *p; p = &(*p)->next)
        if (*p == t) {
            *p = t->next;
            break;
        }
    t->active = false;
    t->next = NULL;
}

void timer_set(struct timer *t, uint64_t expires_ns)
{
    timer_stop(t);
    t->expires_ns = expires_ns;
    struct timer **p = &timer_list;
    while (*p && (*p)->expires_ns <= expires_ns)
        p = &(*p)->next;
    t->next = *p;
    *p = t;
    t->active = true;
    if (timer_list == t)
        reprogram();
}

void timers_run_expired(void)
{
    uint64_t now = time_now_ns();
    while (timer_list && timer_list->expires_ns <= now) {
        struct timer *t = timer_list;
        timer_list = t->next;
        t->next = NULL;
        t->active = false;
        t->fn(t->data);
        now = time_now_ns();
    }
    reprogram();
}

/* SPDX-License-Identifier: MIT */
/* System time (ns since boot, from the TSC), software timers on the local
 * APIC timer, and the pvclock parameters guests get (xen-pv-abi.md §3.7). */
#ifndef HV_TIME_H
#define HV_TIME_H
#include <hv/lib.h>

struct timer {
    uint64_t expires_ns;          /* system time */
    void (*fn)(void *data);
    void *data;
    bool active;
    struct timer *next;           /* in the per-CPU list, sorted by expiry */
};

void time_init(void);             /* calibrates TSC and LAPIC timer against the PIT */
uint64_t time_now_ns(void);
uint64_t time_ns_at_tsc(uint64_t tsc);
uint64_t tsc_khz(void);
/* pvclock scale: ns = ((tsc_delta << shift) * mul) >> 32 (shift may be < 0). */
uint32_t time_tsc_mul(void);
int8_t time_tsc_shift(void);
uint64_t time_tsc_at_zero(void);  /* TSC value at system time 0 */
uint64_t wallclock_boot_sec(void);  /* UNIX seconds at system time 0 (from the RTC) */
uint32_t wallclock_boot_nsec(void);

void timer_set(struct timer *t, uint64_t expires_ns);
void timer_stop(struct timer *t);
void timers_run_expired(void);    /* from the timer interrupt */

/* Local APIC and interrupt routing. */
#define VECTOR_TIMER    0xf0
#define VECTOR_SPURIOUS 0xff
#define VECTOR_COM1     0x34
void apic_init(void);
void apic_eoi(void);
void apic_program_oneshot(uint64_t delta_ns);
void ioapic_route_isa_irq(unsigned irq, unsigned vector);

#endif

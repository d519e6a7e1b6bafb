/* SPDX-License-Identifier: MIT */
/* System time from vcpu_info.time and wall-clock time from shared_info
 * (xen-pv-abi.md §3.7). */
#ifndef GUEST_PVCLOCK_H
#define GUEST_PVCLOCK_H
#include <stdint.h>
#include <public/xen.h>

/* A consistent copy of vCPU 0's time record (version protocol). */
void pvclock_snapshot(struct vcpu_time_info *out);
/* Nanoseconds of hypervisor system time, now. */
uint64_t pvclock_now_ns(void);

struct wallclock {
    uint64_t sec;       /* seconds since 1970-01-01 UTC */
    uint32_t nsec;
};
/* Wall-clock time at system time 0 (wc_sec_hi:wc_sec, wc_nsec). */
void wallclock_base(struct wallclock *out);
/* Current wall-clock time: the base plus the current system time. */
void wallclock_now(struct wallclock *out);

#endif

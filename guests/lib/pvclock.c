/* SPDX-License-Identifier: MIT */
/* Reading the hypervisor's time records (xen-pv-abi.md §3.7). */
#include <guest/pvclock.h>
#include <guest/runtime.h>

void pvclock_snapshot(struct vcpu_time_info *out)
{
    volatile struct vcpu_time_info *t = &vcpu0->time;
    uint32_t version;

    /* Retry while the hypervisor is mid-update (odd) or updated under us. */
    do {
        version = t->version;
        barrier();
        out->tsc_timestamp = t->tsc_timestamp;
        out->system_time = t->system_time;
        out->tsc_to_system_mul = t->tsc_to_system_mul;
        out->tsc_shift = t->tsc_shift;
        out->flags = t->flags;
        barrier();
    } while ((version & 1) || version != t->version);
    out->version = version;
}

uint64_t pvclock_now_ns(void)
{
    struct vcpu_time_info t;
    uint64_t delta;

    pvclock_snapshot(&t);
    delta = rdtsc() - t.tsc_timestamp;
    if (t.tsc_shift >= 0)
        delta <<= t.tsc_shift;
    else
        delta >>= -t.tsc_shift;
    /* 64x32-bit product, keep bits 32..95. */
    return t.system_time + (uint64_t)(((unsigned __int128)delta * t.tsc_to_system_mul) >> 32);
}

void wallclock_base(struct wallclock *out)
{
    volatile struct shared_info *s = shared_info;
    uint32_t version;

    do {
        version = s->wc_version;
        barrier();
        out->sec = ((uint64_t)s->wc_sec_hi << 32) | s->wc_sec;
        out->nsec = s->wc_nsec;
        barrier();
    } while ((version & 1) || version != s->wc_version);
}

void wallclock_now(struct wallclock *out)
{
    uint64_t now = pvclock_now_ns();

    wallclock_base(out);
    uint64_t nsec = out->nsec + now % 1000000000ULL;
    out->sec += now / 1000000000ULL + nsec / 1000000000ULL;
    out->nsec = (uint32_t)(nsec % 1000000000ULL);
}

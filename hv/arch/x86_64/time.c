/* SPDX-License-Identifier: MIT */
/*
 * Time sources: the TSC (calibrated once against PIT channel 2) is system
 * time; the CMOS RTC gives the wall clock at boot; the local APIC timer, run
 * one-shot, fires software timers. The TSC-to-ns scale is the one guests get
 * in pvclock (xen-pv-abi.md §3.7), so hypervisor and guests agree on time.
 */
#include <hv/time.h>
#include <asm/x86.h>

#define PIT_HZ 1193182u
#define CALIBRATE_MS 20u
#define LAPIC_TIMER_INITIAL 0x3e0
#define LAPIC_DIVIDE 0x3e0

static uint64_t tsc_boot, tsc_hz;
static uint32_t scale_mul;
static int8_t scale_shift;
static uint64_t boot_wall_sec;
static uint64_t lapic_ticks_per_ms;

uint64_t lapic_calibrate_start(void);
uint64_t lapic_calibrate_end(void);
void lapic_set_ticks_per_ms(uint64_t t);

/* The scale rule of §3.7: normalise the frequency into (1e9, 2e9], then
 * mul = (1e9 << 32) / f. */
static void set_time_scale(uint64_t hz)
{
    int shift = 0;
    uint64_t f = hz;
    while (f > 2000000000ull) {
        f >>= 1;
        shift--;
    }
    while (f <= 1000000000ull) {
        f <<= 1;
        shift++;
    }
    scale_mul = (uint32_t)((1000000000ull << 32) / f);
    scale_shift = (int8_t)shift;
}

static uint64_t scale_delta(uint64_t delta)
{
    if (scale_shift >= 0)
        delta <<= scale_shift;
    else
        delta >>= -scale_shift;
    return (uint64_t)(((unsigned __int128)delta * scale_mul) >> 32);
}

uint64_t time_ns_at_tsc(uint64_t tsc)
{
    if (!tsc_hz || tsc < tsc_boot)
        return 0;
    return scale_delta(tsc - tsc_boot);
}

uint64_t time_now_ns(void)
{
    return time_ns_at_tsc(rdtsc());
}

uint64_t tsc_khz(void) { return tsc_hz / 1000; }
uint32_t time_tsc_mul(void) { return scale_mul; }
int8_t time_tsc_shift(void) { return scale_shift; }
uint64_t time_tsc_at_zero(void) { return tsc_boot; }
uint64_t wallclock_boot_sec(void) { return boot_wall_sec; }
uint32_t wallclock_boot_nsec(void) { return 0; }

static uint8_t cmos_read(uint8_t reg)
{
    outb(0x70, reg);
    return inb(0x71);
}

static unsigned bcd(uint8_t v, bool is_bcd) { return is_bcd ? (v & 15) + (v >> 4) * 10 : v; }

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static uint64_t days_since_epoch(unsigned y, unsigned m, unsigned d)
{
    if (m <= 2) {
        y--;
        m += 12;
    }
    uint64_t era_days = 365ull * y + y / 4 - y / 100 + y / 400;
    return era_days + (153 * (m - 3) + 2) / 5 + d - 1 - 719468;
}

static uint64_t rtc_read_unix(void)
{
    /* Wait out an update in progress, then read twice until stable. */
    for (unsigned i = 0; i < 100000 && (cmos_read(0x0a) & 0x80); i++)
        cpu_relax();
    uint8_t regb = cmos_read(0x0b);
    bool is_bcd = !(regb & 0x04);
    unsigned sec = bcd(cmos_read(0x00), is_bcd), min = bcd(cmos_read(0x02), is_bcd);
    uint8_t hr_raw = cmos_read(0x04);
    unsigned hour = bcd(hr_raw & 0x7f, is_bcd);
    if (!(regb & 0x02) && (hr_raw & 0x80))
        hour = (hour % 12) + 12;      /* 12-hour mode, PM */
    unsigned day = bcd(cmos_read(0x07), is_bcd), mon = bcd(cmos_read(0x08), is_bcd);
    unsigned year = bcd(cmos_read(0x09), is_bcd) + 2000;
    if (mon < 1 || mon > 12 || day < 1 || day > 31)
        return 0;
    return days_since_epoch(year, mon, day) * 86400 + hour * 3600 + min * 60 + sec;
}

void time_init(void)
{
    /* PIT channel 2 in mode 0 counts down once; bit 5 of port 0x61 goes high
     * when it reaches zero. Time the TSC and the LAPIC timer against it. */
    uint16_t count = (uint16_t)(PIT_HZ / (1000 / CALIBRATE_MS));
    outb(0x61, (uint8_t)((inb(0x61) & ~0x02) | 0x01));
    outb(0x43, 0xb0);
    outb(0x42, (uint8_t)count);
    outb(0x42, (uint8_t)(count >> 8));
    uint64_t lapic0 = lapic_calibrate_start();
    uint64_t t0 = rdtsc();
    unsigned spins = 0;
    while (!(inb(0x61) & 0x20) && ++spins < 100000000)
        cpu_relax();
    uint64_t t1 = rdtsc();
    uint64_t lapic1 = lapic_calibrate_end();
    tsc_hz = (t1 - t0) * (1000 / CALIBRATE_MS);
    if (tsc_hz == 0)
        panic("TSC calibration failed");
    lapic_ticks_per_ms = (lapic0 - lapic1) / CALIBRATE_MS;
    lapic_set_ticks_per_ms(lapic_ticks_per_ms ? lapic_ticks_per_ms : 1);
    tsc_boot = t0;
    set_time_scale(tsc_hz);

    uint64_t now_unix = rtc_read_unix();
    boot_wall_sec = now_unix ? now_unix - time_now_ns() / 1000000000ull : 0;
    pr_info("time: TSC %lu.%03lu MHz, APIC timer %lu kHz, wall clock %lu s",
            (unsigned long)(tsc_hz / 1000000), (unsigned long)(tsc_hz / 1000 % 1000),
            (unsigned long)lapic_ticks_per_ms, (unsigned long)now_unix);
}

/* SPDX-License-Identifier: MIT */
/*
 * The local APIC (xAPIC MMIO at its default base; emulator-facts.md: no
 * x2APIC or TSC-deadline under TCG) and the IO-APIC, used only to route the
 * serial port's interrupt. The 8259 PICs are remapped and masked.
 */
#include <hv/time.h>
#include <hv/io.h>
#include <asm/x86.h>

#define LAPIC_ID 0x20
#define LAPIC_EOI 0xb0
#define LAPIC_SVR 0xf0
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_LVT_LINT0 0x350
#define LAPIC_LVT_LINT1 0x360
#define LAPIC_LVT_ERROR 0x370
#define LAPIC_TIMER_INIT 0x380
#define LAPIC_TIMER_CUR 0x390
#define LAPIC_TIMER_DIV 0x3e0
#define LVT_MASKED (1u << 16)

static uint64_t ticks_per_ms = 1;

static volatile uint32_t *lapic_reg(unsigned off) { return (volatile uint32_t *)__va(LAPIC_BASE + off); }
static uint32_t lapic_read(unsigned off) { return *lapic_reg(off); }
static void lapic_write(unsigned off, uint32_t v) { *lapic_reg(off) = v; }

uint64_t lapic_calibrate_start(void);
uint64_t lapic_calibrate_end(void);
void lapic_set_ticks_per_ms(uint64_t t);

static void pic_disable(void)
{
    /* Remap to 0x20/0x28 so a stray interrupt is not mistaken for an
     * exception, then mask every line. */
    outb(0x20, 0x11); outb(0xa0, 0x11);
    outb(0x21, 0x20); outb(0xa1, 0x28);
    outb(0x21, 0x04); outb(0xa1, 0x02);
    outb(0x21, 0x01); outb(0xa1, 0x01);
    outb(0x21, 0xff); outb(0xa1, 0xff);
}

void apic_init(void)
{
    pic_disable();
    wrmsr(MSR_APIC_BASE, rdmsr(MSR_APIC_BASE) | (1u << 11));
    lapic_write(LAPIC_SVR, 0x100 | VECTOR_SPURIOUS);
    lapic_write(LAPIC_LVT_LINT0, LVT_MASKED);
    lapic_write(LAPIC_LVT_LINT1, LVT_MASKED);
    lapic_write(LAPIC_LVT_ERROR, LVT_MASKED);
    lapic_write(LAPIC_TIMER_DIV, 0x3);          /* divide by 16 */
    lapic_write(LAPIC_LVT_TIMER, LVT_MASKED | VECTOR_TIMER);
}

uint64_t lapic_calibrate_start(void)
{
    lapic_write(LAPIC_TIMER_DIV, 0x3);
    lapic_write(LAPIC_LVT_TIMER, LVT_MASKED | VECTOR_TIMER);
    lapic_write(LAPIC_TIMER_INIT, 0xffffffffu);
    return lapic_read(LAPIC_TIMER_CUR);
}

uint64_t lapic_calibrate_end(void)
{
    uint64_t cur = lapic_read(LAPIC_TIMER_CUR);
    lapic_write(LAPIC_TIMER_INIT, 0);
    return cur;
}

void lapic_set_ticks_per_ms(uint64_t t) { ticks_per_ms = t; }

void apic_eoi(void) { lapic_write(LAPIC_EOI, 0); }

void apic_program_oneshot(uint64_t delta_ns)
{
    uint64_t ticks = delta_ns * ticks_per_ms / 1000000ull;
    if (ticks == 0)
        ticks = 1;
    if (ticks > 0xffffffffull)
        ticks = 0xffffffffull;
    lapic_write(LAPIC_LVT_TIMER, VECTOR_TIMER);  /* one-shot, unmasked */
    lapic_write(LAPIC_TIMER_INIT, (uint32_t)ticks);
}

void ioapic_route_isa_irq(unsigned irq, unsigned vector)
{
    volatile uint32_t *sel = __va(IOAPIC_BASE), *win = __va(IOAPIC_BASE + 0x10);
    uint32_t apic_id = lapic_read(LAPIC_ID) >> 24;
    *sel = 0x10 + 2 * irq + 1;
    *win = apic_id << 24;
    *sel = 0x10 + 2 * irq;
    *win = vector;         /* fixed delivery, physical, edge, active high, unmasked */
}

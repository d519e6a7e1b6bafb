/* SPDX-License-Identifier: MIT */
/*
 * Just enough ACPI to turn the machine off (S5) and reset it: find the FADT
 * through the RSDP, take PM1a/PM1b control blocks and the reset register, and
 * the S5 sleep type from the DSDT's \_S5 package (ACPI 6.4 §4.8, §5.2, §7.4.2).
 * Reading tables the firmware wrote; nothing here is guest input.
 */
#include <hv/lib.h>
#include <hv/io.h>
#include <asm/x86.h>

struct __packed acpi_header { char sig[4]; uint32_t length; uint8_t rev, csum; char oem[6], table[8]; uint32_t oemrev, creator, crev; };

static uint16_t pm1a_cnt, pm1b_cnt;
static uint16_t slp_typ_a, slp_typ_b;
static bool have_s5;
static uint16_t reset_port;
static uint8_t reset_value;

static const uint8_t *find_rsdp(const uint8_t *copy)
{
    if (copy)
        return copy;
    uint64_t ebda = (uint64_t)(*(const uint16_t *)__va(0x40e)) << 4;
    uint64_t ranges[2][2] = { { ebda, ebda + 1024 }, { 0xe0000, 0x100000 } };
    for (unsigned r = 0; r < 2; r++)
        for (uint64_t pa = ranges[r][0]; pa + 20 <= ranges[r][1]; pa += 16)
            if (!memcmp(__va(pa), "RSD PTR ", 8))
                return __va(pa);
    return NULL;
}

static const struct acpi_header *find_table(const uint8_t *rsdp, const char *sig)
{
    uint8_t rev = rsdp[15];
    uint64_t root = rev >= 2 ? *(const uint64_t *)(rsdp + 24) : *(const uint32_t *)(rsdp + 16);
    unsigned entry = rev >= 2 ? 8 : 4;
    if (!root || root >= (1ull << 32))
        return NULL;
    const struct acpi_header *h = __va(root);
    for (uint32_t off = sizeof(*h); off + entry <= h->length; off += entry) {
        uint64_t pa = entry == 8 ? *(const uint64_t *)((const uint8_t *)h + off)
                                 : *(const uint32_t *)((const uint8_t *)h + off);
        if (pa && pa < (1ull << 32) && !memcmp(((const struct acpi_header *)__va(pa))->sig, sig, 4))
            return __va(pa);
    }
    return NULL;
}

/* \_S5_ is Name(_S5_, Package(){ SLP_TYPa, SLP_TYPb, ... }) in AML: the
 * name, PackageOp, a PkgLength of 1-4 bytes, NumElements, then each value
 * as BytePrefix+byte, ZeroOp or OneOp. Every step stays inside the table. */
static void parse_s5(const struct acpi_header *dsdt)
{
    const uint8_t *p = (const uint8_t *)dsdt, *end = p + dsdt->length;
    for (; p + 5 <= end; p++) {
        if (memcmp(p, "_S5_", 4) || p[4] != 0x12)   /* PackageOp */
            continue;
        const uint8_t *q = p + 5;
        if (q >= end)
            return;
        q += ((*q >> 6) & 3) + 1;                   /* PkgLength */
        q++;                                        /* NumElements */
        uint16_t vals[2] = { 0, 0 };
        for (unsigned i = 0; i < 2; i++) {
            if (q >= end)
                return;
            if (*q == 0x0a) {                        /* BytePrefix */
                if (q + 1 >= end)
                    return;
                vals[i] = q[1];
                q += 2;
            } else if (*q == 0x00 || *q == 0x01) {   /* ZeroOp / OneOp */
                vals[i] = *q;
                q++;
            } else {
                return;                             /* a form we do not parse */
            }
        }
        slp_typ_a = vals[0];
        slp_typ_b = vals[1];
        have_s5 = true;
        return;
    }
}

void acpi_init(const uint8_t *rsdp_copy);
void acpi_init(const uint8_t *rsdp_copy)
{
    const uint8_t *rsdp = find_rsdp(rsdp_copy);
    const struct acpi_header *fadt = rsdp ? find_table(rsdp, "FACP") : NULL;
    if (!fadt) {
        pr_warn("ACPI: no FADT; poweroff will halt instead");
        return;
    }
    const uint8_t *f = (const uint8_t *)fadt;
    pm1a_cnt = (uint16_t)*(const uint32_t *)(f + 64);
    pm1b_cnt = (uint16_t)*(const uint32_t *)(f + 68);
    uint32_t dsdt = *(const uint32_t *)(f + 40);
    if (dsdt)
        parse_s5(__va(dsdt));
    if (fadt->length >= 129 && f[116] == 1 /* system I/O */) {
        reset_port = (uint16_t)*(const uint64_t *)(f + 120);
        reset_value = f[128];
    }
    pr_info("ACPI: PM1a_CNT 0x%x, S5 %s, reset port 0x%x", pm1a_cnt, have_s5 ? "found" : "missing", reset_port);
}

static bool overlaps(unsigned port, unsigned size, unsigned first, unsigned len)
{
    return first && port < first + len && first < port + size;
}

bool acpi_ioport_owned(unsigned port, unsigned size)
{
    return overlaps(port, size, pm1a_cnt, 2) || overlaps(port, size, pm1b_cnt, 2) ||
           overlaps(port, size, reset_port, 1);
}

void machine_power_off(void) __noreturn;
void machine_power_off(void)
{
    pr_info("powering off");
    local_irq_disable();
    if (pm1a_cnt && have_s5) {
        outw(pm1a_cnt, (uint16_t)((slp_typ_a << 10) | (1u << 13)));
        if (pm1b_cnt)
            outw(pm1b_cnt, (uint16_t)((slp_typ_b << 10) | (1u << 13)));
    }
    for (;;)
        halt();
}

void machine_restart(void) __noreturn;
void machine_restart(void)
{
    local_irq_disable();
    if (reset_port)
        outb(reset_port, reset_value);
    outb(0x64, 0xfe);                  /* keyboard controller reset line */
    struct __packed { uint16_t limit; uint64_t base; } null_idt = { 0, 0 };
    __asm__ volatile("lidt %0; int3" : : "m"(null_idt));   /* triple fault */
    for (;;)
        halt();
}

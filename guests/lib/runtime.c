/* SPDX-License-Identifier: MIT */
/*
 * Start of day for kernels on the guest runtime: keep start_info, map
 * shared_info, run kernel_main(), power off. Also the console, the p2m and
 * page-table readers every guest uses.
 */
#include <lamina/cmdline.h>
#include <lamina/fmt.h>
#include <lamina/string.h>
#include <guest/hypercall.h>
#include <guest/runtime.h>

struct boot_regs boot_regs;
const struct start_info *start_info;
volatile struct shared_info *shared_info;
volatile struct vcpu_info *vcpu0;

/* A page of our own whose mapping is replaced by the shared_info frame. */
static uint8_t shared_info_window[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));

void console_write(const char *s, size_t len)
{
    /* A console_io write returns 0 on success, not a count (§A.2). */
    hyp_console_io(CONSOLEIO_write, (unsigned)len, s);
}

int vprintf(const char *fmt, va_list ap)
{
    char buf[1024];
    int n = fmt_vsnprintf(buf, sizeof(buf), fmt, ap);
    size_t len = n < 0 ? 0 : (size_t)n >= sizeof(buf) ? sizeof(buf) - 1 : (size_t)n;

    console_write(buf, len);
    return n;
}

int printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vprintf(fmt, ap);
    va_end(ap);
    return n;
}

void runtime_shutdown(unsigned reason)
{
    for (;;)
        hyp_shutdown(reason);
}

void runtime_panic(const char *fmt, ...)
{
    va_list ap;

    printf("guest fatal: ");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    runtime_shutdown(SHUTDOWN_crash);
}

uint64_t pfn_to_mfn(uint64_t pfn)
{
    if (pfn >= start_info->nr_pages)
        return ~0ULL;
    return ((const volatile uint64_t *)(uintptr_t)start_info->mfn_list)[pfn];
}

bool pt_read_entry(uint64_t va, int level, uint64_t *pte)
{
    const volatile uint64_t *table = (const volatile uint64_t *)(uintptr_t)start_info->pt_base;

    for (int lvl = 4; lvl >= 1; lvl--) {
        uint64_t e = table[(va >> (12 + 9 * (lvl - 1))) & 511];
        if (lvl == level) {
            *pte = e;
            return true;
        }
        if (!(e & PTE_P) || (e & PTE_PS))
            return false;
        uint64_t pfn = m2p_table()[(e & PTE_ADDR_MASK) >> 12];
        if (pfn >= start_info->nr_pages)
            return false;
        table = pfn_to_va(pfn);
    }
    return false;
}

static void map_shared_info(void)
{
    uint64_t va = (uint64_t)(uintptr_t)shared_info_window;
    /* start_info.shared_info is a machine address (§3.6); map it P|RW|A|D. */
    uint64_t pte = (start_info->shared_info & PTE_ADDR_MASK) | PTE_P | PTE_RW | PTE_A | PTE_D;
    long rc = hyp_update_va_mapping(va, pte, UVMF_INVLPG);

    if (rc)
        runtime_panic("cannot map shared_info at 0x%lx: %ld\n", start_info->shared_info, rc);
    shared_info = (volatile struct shared_info *)(uintptr_t)va;
    vcpu0 = &shared_info->vcpu_info[0];
}

void runtime_start(const struct start_info *si);
void runtime_start(const struct start_info *si)
{
    start_info = si;
    map_shared_info();
    kernel_main();
    runtime_shutdown(SHUTDOWN_poweroff);
}

uint64_t cmdline_number(const char *key, uint64_t dflt, uint64_t max)
{
    char val[24];
    uint64_t v;
    if (!cmdline_find(start_info->cmd_line, key, val, sizeof(val)) || parse_u64(val, &v) || v == 0 || v > max)
        return dflt;
    return v;
}

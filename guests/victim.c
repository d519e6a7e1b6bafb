/* SPDX-License-Identifier: MIT */
/*
 * victim: an ordinary unprivileged domU that watches its own memory while
 * another domain attacks. It fills 1 MiB with a pattern, records what a
 * builder gave it (start_info, the shared_info mapping, the p2m, the M2P
 * entries of its frames, its image), then wakes every `interval_ms`
 * (default 250) for `seconds` (default 5) and checks that nothing changed:
 * one CHECK line per round, then a summary and the DONE line, then it powers
 * off. Also checks the builder's contract for a domU (xen-pv-abi.md §3.6,
 * §3.9): no privilege flags, two unbound ports offered to dom0, ring pages.
 */
#include <lamina/fmt.h>
#include <lamina/string.h>
#include <guest/events.h>
#include <guest/hypercall.h>
#include <guest/pvclock.h>
#include <guest/runtime.h>
#include <guest/test.h>
#include <guest/traps.h>

#define PATTERN_WORDS (256 * PAGE_SIZE / 8)   /* 1 MiB */
#define MS 1000000ULL
#define NS_PER_SEC 1000000000ULL
#define MAX_ROUNDS 100000

extern const char __image_start[], __bss_start[];

static uint64_t pattern[PATTERN_WORDS] __attribute__((aligned(PAGE_SIZE)));
static struct start_info si_copy;
static unsigned timer_port;

static uint64_t pattern_word(uint64_t i)
{
    /* A cheap bijective mix: every word differs, so a copied page shows. */
    uint64_t x = (i + 1) * 0x9e3779b97f4a7c15ULL;
    x ^= x >> 31;
    x *= 0xbf58476d1ce4e5b9ULL;
    return x ^ (x >> 29);
}

static uint64_t checksum(const void *p, size_t n)
{
    const uint8_t *b = p;
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ULL;
    return h;
}

static uint64_t image_checksum(void)
{
    return checksum(__image_start, (size_t)(__bss_start - __image_start));
}

static uint64_t p2m_checksum(void)
{
    return checksum((const void *)start_info->mfn_list, start_info->nr_pages * 8);
}

/* PFNs whose M2P entry does not lead back to them. */
static uint64_t m2p_mismatches(void)
{
    uint64_t bad = 0;
    for (uint64_t pfn = 0; pfn < start_info->nr_pages; pfn++) {
        uint64_t mfn = pfn_to_mfn(pfn);
        if (mfn >= MACH2PHYS_NR_ENTRIES || m2p_table()[mfn] != pfn)
            bad++;
    }
    return bad;
}

static uint64_t pattern_mismatches(void)
{
    uint64_t bad = 0;
    for (uint64_t i = 0; i < PATTERN_WORDS; i++)
        if (pattern[i] != pattern_word(i))
            bad++;
    return bad;
}

/* The machine address shared_info is mapped from, as our L1 says. */
static uint64_t shared_info_maddr(void)
{
    uint64_t pte = 0;
    if (!pt_read_entry((uint64_t)(uintptr_t)shared_info, 1, &pte) || !(pte & PTE_P))
        return ~0ULL;
    return pte & PTE_ADDR_MASK;
}

static bool timer_fired(void *arg)
{
    return evtchn_delivered(timer_port) > *(const uint64_t *)arg;
}

static bool sleep_ns(uint64_t ns)
{
    uint64_t before = evtchn_delivered(timer_port);
    struct vcpu_set_singleshot_timer t = { .timeout_abs_ns = pvclock_now_ns() + ns };
    if (hyp_vcpu_op(VCPUOP_set_singleshot_timer, 0, &t))
        return false;
    return block_until(timer_fired, &before, ns + 2000 * MS);
}

static void check_port(const char *name, uint32_t port)
{
    struct evtchn_status st;
    long rc = port ? evtchn_status(DOMID_SELF, port, &st) : -XEN_EINVAL;
    /* Offered to dom0, or already bound by its backend (the console's). */
    bool ok = rc == 0 && ((st.status == EVTCHNSTAT_unbound && st.u.unbound.dom == 0) ||
                          (st.status == EVTCHNSTAT_interdomain && st.u.interdomain.dom == 0));
    check_true(name, ok, rc ? "no such port" : "neither offered to nor bound by dom0",
               "unbound to dom0, or bound by dom0");
}

static bool page_is_zero(uint64_t mfn)
{
    uint64_t pfn = mfn < MACH2PHYS_NR_ENTRIES ? m2p_table()[mfn] : ~0ULL;
    if (pfn >= start_info->nr_pages || pfn_to_mfn(pfn) != mfn)
        return false;
    const uint64_t *p = pfn_to_va(pfn);
    for (unsigned i = 0; i < PAGE_SIZE / 8; i++)
        if (p[i])
            return false;
    return true;
}

static void check_builder_contract(void)
{
    check_true("start_info_magic", memcmp(start_info->magic, "xen-3.0-x86_64", sizeof("xen-3.0-x86_64")) == 0,
               start_info->magic, "xen-3.0-x86_64");
    check_hex("flags_unprivileged", start_info->flags, 0);
    domid_t self = DOMID_SELF;
    check_int("nr_pages_is_reservation", (int64_t)start_info->nr_pages,
              hyp_memory_op(XENMEM_current_reservation, &self));
    check_port("store_port_offered_to_dom0", start_info->store_evtchn);
    check_port("console_port_offered_to_dom0", start_info->console.domU.evtchn);
    check_true("store_page_ours_and_zero", page_is_zero(start_info->store_mfn), "not", "our page, zeroed");
    check_true("console_page_ours_and_zero", page_is_zero(start_info->console.domU.mfn), "not",
               "our page, zeroed");
    check_hex("shared_info_mapped", shared_info_maddr(), start_info->shared_info);
    check_int("m2p_roundtrip_bad_pfns", (int64_t)m2p_mismatches(), 0);
}

void kernel_main(void)
{
    test_begin("victim");
    uint64_t seconds = cmdline_number("seconds", 5, 3600);
    uint64_t interval_ms = cmdline_number("interval_ms", 250, 60000);
    check_int("set_trap_table", traps_install(), 0);
    check_int("register_event_callback", events_init(), 0);
    long port = evtchn_bind_virq(VIRQ_TIMER, 0);
    check_cond_hex("bind_virq_timer", port > 0, (uint64_t)port, "a port > 0");
    timer_port = port > 0 ? (unsigned)port : 0;
    /* Our own timers only: no 10 ms tick waking us in between. */
    check_int("stop_periodic_timer", hyp_vcpu_op(VCPUOP_stop_periodic_timer, 0, NULL), 0);
    check_builder_contract();

    for (uint64_t i = 0; i < PATTERN_WORDS; i++)
        pattern[i] = pattern_word(i);
    memcpy(&si_copy, start_info, sizeof(si_copy));
    const uint64_t pattern_sum = checksum(pattern, sizeof(pattern));
    const uint64_t image_sum = image_checksum(), p2m_sum = p2m_checksum();
    const uint64_t si_maddr = shared_info_maddr();
    const uint32_t wc_sec = shared_info->wc_sec;
    printf("NOTE victim: %lu pages, pattern of %lu KiB at pfn 0x%lx, checking every %lu ms for %lu s\n",
           start_info->nr_pages, (uint64_t)sizeof(pattern) >> 10, va_to_pfn(pattern), interval_ms, seconds);

    uint64_t deadline = pvclock_now_ns() + seconds * NS_PER_SEC;
    unsigned rounds = 0, bad_rounds = 0;
    while (rounds < MAX_ROUNDS) {
        bool slept = sleep_ns(interval_ms * MS);
        rounds++;
        uint64_t bad_words = pattern_mismatches(), bad_m2p = m2p_mismatches();
        bool sum_ok = checksum(pattern, sizeof(pattern)) == pattern_sum;
        bool image_ok = image_checksum() == image_sum;
        bool si_ok = memcmp(&si_copy, start_info, sizeof(si_copy)) == 0; /* NOLINT(bugprone-suspicious-memory-comparison) */
        bool shared_ok = shared_info_maddr() == si_maddr && shared_info->wc_sec == wc_sec;
        bool p2m_ok = p2m_checksum() == p2m_sum;
        bool ok = slept && !bad_words && !bad_m2p && sum_ok && image_ok && si_ok && shared_ok && p2m_ok;
        char name[24], got[160];
        fmt_snprintf(name, sizeof(name), "round%u", rounds);
        fmt_snprintf(got, sizeof(got),
                     "timer=%d pattern_bad_words=%lu checksum=%d image=%d start_info=%d shared_info=%d "
                     "p2m=%d m2p_bad=%lu",
                     slept, bad_words, sum_ok, image_ok, si_ok, shared_ok, p2m_ok, bad_m2p);
        if (!check_true(name, ok, got, "all intact"))
            bad_rounds++;
        if (pvclock_now_ns() >= deadline)
            break;
    }
    check_cond_hex("rounds_run", rounds > 0, rounds, "at least one round");
    check_int("rounds_with_damage", bad_rounds, 0);
    test_finish();
}

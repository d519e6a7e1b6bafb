/* SPDX-License-Identifier: MIT */
/* Shared pieces of the frontend conformance guests (guest/frontend.h). */
#include <lamina/fmt.h>
#include <guest/events.h>
#include <guest/frontend.h>
#include <guest/hypercall.h>
#include <guest/runtime.h>
#include <guest/test.h>
#include <guest/traps.h>
#include <guest/xenstore.h>

#define PTE_RW_FLAGS (PTE_P | PTE_RW | PTE_A | PTE_D)

static uint8_t table_page[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
volatile struct grant_entry_v1 *fe_gt;

void fe_ignore_event(unsigned port, void *data)
{
    (void)port;
    (void)data;
}

void fe_start_of_day(void)
{
    check_int("set_trap_table", traps_install(), 0);
    check_int("register_event_callback", events_init(), 0);
    long tport = evtchn_bind_virq(VIRQ_TIMER, 0);
    check_cond_hex("bind_virq_timer", tport > 0, (uint64_t)tport, "a port > 0");
    if (tport > 0) {
        evtchn_set_handler((unsigned)tport, fe_ignore_event, NULL);
        evtchn_unmask((unsigned)tport);
    }
}

bool fe_setup_grant_table(void)
{
    uint64_t frame = 0;
    struct gnttab_setup_table op = { .dom = DOMID_SELF, .nr_frames = 1, .frame_list = (uint64_t)(uintptr_t)&frame };
    long rc = hypercall3(__HYPERVISOR_grant_table_op, GNTTABOP_setup_table, &op, 1);
    if (!check_int("setup_grant_table", rc ? rc : op.status, 0))
        return false;
    rc = hyp_update_va_mapping((uint64_t)(uintptr_t)table_page, (frame << 12) | PTE_RW_FLAGS, UVMF_INVLPG);
    fe_gt = (volatile struct grant_entry_v1 *)table_page;
    return check_int("map_grant_table", rc, 0);
}

void fe_grant(uint32_t ref, uint16_t domid, uint64_t frame, uint16_t flags)
{
    fe_gt[ref].domid = domid;
    fe_gt[ref].frame = (uint32_t)frame;
    __atomic_thread_fence(__ATOMIC_RELEASE);
    fe_gt[ref].flags = flags;
}

bool fe_revoke(uint32_t ref, uint16_t flags)
{
    uint16_t expect = flags;
    return __atomic_compare_exchange_n(&fe_gt[ref].flags, &expect, 0, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}

long fe_read(const char *dir, const char *key, char *buf, size_t cap)
{
    char path[192];
    fmt_snprintf(path, sizeof(path), "%s/%s", dir, key);
    return xsc_read(path, buf, cap);
}

long fe_write(const char *dir, const char *key, const char *value)
{
    char path[192];
    fmt_snprintf(path, sizeof(path), "%s/%s", dir, key);
    return xsc_write(path, value);
}

uint64_t fe_foreign_mfn(void)
{
    /* Past the highest of our frames, skipping any that are ours. */
    uint64_t top = 0;
    for (uint64_t pfn = 0; pfn < start_info->nr_pages; pfn++) {
        uint64_t m = pfn_to_mfn(pfn);
        if (m != ~0ULL && m > top)
            top = m;
    }
    for (uint64_t m = top + 1; m < top + 4096; m++) {
        uint64_t pfn = m < MACH2PHYS_NR_ENTRIES ? m2p_table()[m] : ~0ULL;
        if (pfn >= start_info->nr_pages || pfn_to_mfn(pfn) != m)
            return m;
    }
    return 1;
}


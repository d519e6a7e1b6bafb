/* SPDX-License-Identifier: MIT */
/*
 * console_ring: a domU that uses its console ring (xen-pv-abi.md §8.1) the
 * way a PV console driver does, to exercise dom0's console backend. Its
 * ring text is what the integration test looks for in dom0's log and
 * through `xl console`; its CHECK lines go out through console_io (debug
 * builds show them as "(dN) ..."). `mode=` on its command line picks:
 *
 *   echo     (default) a greeting, a line with control bytes, a bulk of
 *            `lines=` numbered lines (more than the ring holds, so the
 *            backend's draining is what lets it finish), a prompt without
 *            a newline, then it reads one line from the input ring (for
 *            `wait=` seconds), writes "got '<line>'" back and powers off;
 *   flood    writes `kib=` KiB as fast as the ring takes it, then powers off;
 *   storm    sends empty events on the console port for `seconds=`, then
 *            writes one line and powers off;
 *   corrupt  writes a line, then moves out_prod far beyond out_cons and
 *            checks that the backend cuts it off (closes its port end).
 */
#include <stdarg.h>
#include <lamina/cmdline.h>
#include <lamina/fmt.h>
#include <lamina/string.h>
#include <public/io/console.h>
#include <guest/events.h>
#include <guest/frontend.h>
#include <guest/hypercall.h>
#include <guest/pvclock.h>
#include <guest/runtime.h>
#include <guest/test.h>
#include <guest/traps.h>

#define MS 1000000UL
#define NS_PER_SEC 1000000000UL
#define LINE_MAX 128

static volatile struct xencons_interface *ring;
static unsigned port;

struct wait_arg {
    const volatile XENCONS_RING_IDX *idx;
    XENCONS_RING_IDX old;
};

static bool idx_moved(void *arg)
{
    const struct wait_arg *w = arg;
    return *w->idx != w->old;
}

/* Sleeps until *idx changes (the backend notifies after it moves an index;
 * the 10 ms periodic tick bounds the wait). */
static bool wait_idx(const volatile XENCONS_RING_IDX *idx, XENCONS_RING_IDX old, uint64_t timeout_ns)
{
    struct wait_arg w = { idx, old };
    return block_until(idx_moved, &w, timeout_ns);
}

/* Writes all of s to the output ring, waiting for room. False if the
 * backend stops draining for `timeout_ns` or the indices are impossible. */
static bool ring_write(const char *s, size_t n, uint64_t timeout_ns)
{
    while (n) {
        XENCONS_RING_IDX cons = ring->out_cons, prod = ring->out_prod;
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        XENCONS_RING_IDX used = prod - cons;
        if (used > XENCONS_OUT_SIZE)
            return false;
        if (used == XENCONS_OUT_SIZE) {
            if (!wait_idx(&ring->out_cons, cons, timeout_ns))
                return false;
            continue;
        }
        size_t k = XENCONS_OUT_SIZE - used < n ? XENCONS_OUT_SIZE - used : n;
        for (size_t i = 0; i < k; i++)
            ring->out[MASK_XENCONS_IDX(prod + (XENCONS_RING_IDX)i, XENCONS_OUT_SIZE)] = s[i];
        __atomic_thread_fence(__ATOMIC_RELEASE);
        ring->out_prod = prod + (XENCONS_RING_IDX)k;
        evtchn_send(port);
        s += k;
        n -= k;
    }
    return true;
}

static bool ring_puts(const char *s)
{
    return ring_write(s, strlen(s), 10 * NS_PER_SEC);
}

static bool ring_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static bool ring_printf(const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    int n = fmt_vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    return ring_write(buf, n < 0 ? 0 : (size_t)n >= sizeof(buf) ? sizeof(buf) - 1 : (size_t)n,
                      10 * NS_PER_SEC);
}

/* Waits until the backend has taken everything. */
static bool drained(uint64_t timeout_ns)
{
    uint64_t deadline = pvclock_now_ns() + timeout_ns;
    for (;;) {
        XENCONS_RING_IDX cons = ring->out_cons;
        if (cons == ring->out_prod)
            return true;
        uint64_t now = pvclock_now_ns();
        if (now >= deadline || !wait_idx(&ring->out_cons, cons, deadline - now))
            return cons == ring->out_prod;
    }
}

/* Reads one line (ended by CR or LF; empty lines skipped) from the input
 * ring. Returns its length, or -1 on timeout or impossible indices. */
static long ring_read_line(char *buf, size_t size, uint64_t timeout_ns)
{
    uint64_t deadline = pvclock_now_ns() + timeout_ns;
    size_t len = 0;
    for (;;) {
        XENCONS_RING_IDX cons = ring->in_cons, prod = ring->in_prod;
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        if (prod - cons > XENCONS_IN_SIZE)
            return -1;
        bool done = false;
        while (cons != prod && !done) {
            char c = ring->in[MASK_XENCONS_IDX(cons, XENCONS_IN_SIZE)];
            cons++;
            if (c == '\r' || c == '\n')
                done = len > 0;
            else if (len + 1 < size)
                buf[len++] = c;
        }
        __atomic_thread_fence(__ATOMIC_RELEASE);
        ring->in_cons = cons;
        evtchn_send(port);
        if (done) {
            buf[len] = '\0';
            return (long)len;
        }
        uint64_t now = pvclock_now_ns();
        if (now >= deadline || !wait_idx(&ring->in_prod, prod, deadline - now))
            return -1;
    }
}

static bool setup(void)
{
    /* VIRQ_TIMER with its default 10 ms tick: every wait below wakes often
     * enough to notice its deadline. */
    fe_start_of_day();

    uint64_t mfn = start_info->console.domU.mfn;
    uint64_t pfn = mfn < MACH2PHYS_NR_ENTRIES ? m2p_table()[mfn] : ~0ULL;
    bool mapped = pfn < start_info->nr_pages && pfn_to_mfn(pfn) == mfn;
    if (!check_cond_hex("console_page_is_ours", mapped, mfn, "an MFN of our p2m"))
        return false;
    ring = pfn_to_va(pfn);
    port = start_info->console.domU.evtchn;
    struct evtchn_status st;
    long rc = evtchn_status(DOMID_SELF, port, &st);
    /* The backend binds it before we run, or soon after. */
    uint64_t deadline = pvclock_now_ns() + 5 * NS_PER_SEC;
    while (rc == 0 && st.status == EVTCHNSTAT_unbound && pvclock_now_ns() < deadline) {
        hyp_sched_op(SCHEDOP_yield, NULL);
        rc = evtchn_status(DOMID_SELF, port, &st);
    }
    check_true("console_port_bound_by_dom0",
               rc == 0 && st.status == EVTCHNSTAT_interdomain && st.u.interdomain.dom == 0,
               rc ? "no such port" : "not bound to dom0", "interdomain with dom0");
    evtchn_set_handler(port, fe_ignore_event, NULL);
    evtchn_unmask(port);
    return true;
}

static void mode_echo(void)
{
    uint64_t lines = cmdline_number("lines", 48, 100000);
    uint64_t wait_s = cmdline_number("wait", 120, 3600);
    check_true("greeting", ring_puts("console_ring: hello through the ring\n"), "stuck", "written");
    check_true("control_line", ring_puts("console_ring: ctl[\x01\x1b[31mred\x1b[0m\x7f\tend]\r\n"), "stuck",
               "written");
    bool ok = true;
    for (uint64_t i = 1; i <= lines && ok; i++)
        ok = ring_printf("console_ring: bulk %03lu/%03lu %s\n", i, lines,
                         "0123456789abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJ");
    check_true("bulk_written", ok, "stuck", "every line written");
    check_true("bulk_drained", drained(30 * NS_PER_SEC), "not drained", "out_cons == out_prod");
    printf("NOTE console_ring: waiting for a line\n");
    ring_puts("console_ring: type a line> ");
    char line[LINE_MAX];
    long n = ring_read_line(line, sizeof(line), wait_s * NS_PER_SEC);
    check_true("read_line", n > 0, "nothing", "a line from the input ring");
    if (n > 0) {
        printf("NOTE console_ring: got '%s'\n", line);
        ring_printf("console_ring: got '%s'\n", line);
    }
    check_true("reply_drained", drained(30 * NS_PER_SEC), "not drained", "out_cons == out_prod");
}

static void mode_flood(void)
{
    uint64_t kib = cmdline_number("kib", 256, 1 << 20);
    uint64_t start = pvclock_now_ns();
    char line[64];
    uint64_t written = 0;
    bool ok = true;
    for (unsigned i = 0; written < kib * 1024 && ok; i++) {
        int n = fmt_snprintf(line, sizeof(line), "flood %07u %s\n", i, "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF");
        ok = ring_write(line, (size_t)n, 60 * NS_PER_SEC);
        written += (uint64_t)n;
    }
    check_true("flood_written", ok, "stuck", "every byte written");
    ring_puts("console_ring: flood done\n");
    check_true("flood_drained", drained(60 * NS_PER_SEC), "not drained", "out_cons == out_prod");
    printf("NOTE console_ring: flooded %lu KiB in %lu ms\n", written >> 10, (pvclock_now_ns() - start) / MS);
}

static void mode_storm(void)
{
    uint64_t seconds = cmdline_number("seconds", 3, 600);
    uint64_t end = pvclock_now_ns() + seconds * NS_PER_SEC;
    uint64_t sent = 0;
    while (pvclock_now_ns() < end) {
        evtchn_send(port);
        sent++;
    }
    printf("NOTE console_ring: sent %lu empty events\n", sent);
    check_true("after_storm", ring_puts("console_ring: storm over\n"), "stuck", "written");
    check_true("storm_drained", drained(30 * NS_PER_SEC), "not drained", "out_cons == out_prod");
}

static void mode_corrupt(void)
{
    ring_puts("console_ring: about to corrupt the ring\n");
    check_true("first_drained", drained(30 * NS_PER_SEC), "not drained", "out_cons == out_prod");
    /* Far more than the ring holds: impossible for an honest guest. */
    ring->out_prod = ring->out_cons + 0x10000;
    evtchn_send(port);
    struct evtchn_status st;
    long rc = -1;
    uint64_t deadline = pvclock_now_ns() + 10 * NS_PER_SEC;
    do {
        hyp_sched_op(SCHEDOP_yield, NULL);
        rc = evtchn_status(DOMID_SELF, port, &st);
    } while (rc == 0 && st.status == EVTCHNSTAT_interdomain && pvclock_now_ns() < deadline);
    check_true("backend_closed_its_end", rc == 0 && st.status == EVTCHNSTAT_unbound, "still bound",
               "unbound (dom0 closed its end)");
    /* Nobody reads this any more. */
    ring->out_prod = ring->out_cons;
    ring_write("console_ring: AFTER-CUT\n", 24, 100 * MS);
}

void kernel_main(void)
{
    char mode[16] = "echo";
    test_begin("console_ring");
    cmdline_find(start_info->cmd_line, "mode", mode, sizeof(mode));
    printf("NOTE console_ring: mode %s\n", mode);
    if (setup()) {
        if (strcmp(mode, "flood") == 0)
            mode_flood();
        else if (strcmp(mode, "storm") == 0)
            mode_storm();
        else if (strcmp(mode, "corrupt") == 0)
            mode_corrupt();
        else
            mode_echo();
    }
    test_finish();
}

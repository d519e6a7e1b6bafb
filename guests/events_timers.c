/* SPDX-License-Identifier: MIT */
/*
 * events_timers: event callback and upcalls (xen-pv-abi.md §4.6, §4.10),
 * event channel operations (§6.1), timers (§6.2), SCHEDOP_block (§6.3) and
 * the time records (§3.7).
 */
#include <guest/events.h>
#include <guest/hypercall.h>
#include <guest/pvclock.h>
#include <guest/runtime.h>
#include <guest/test.h>
#include <guest/traps.h>

#define MS 1000000ULL
#define JAN_1_2024 1704067200ULL
#define SELF_DOMID 0        /* the first domain is domain 0 */

static unsigned timer_port;
static uint64_t timer_fired_at;

static void on_timer(unsigned port, void *data)
{
    (void)port;
    (void)data;
    timer_fired_at = pvclock_now_ns();
}

static void on_port(unsigned port, void *data)
{
    (void)port;
    (void)data;
}

static bool port_delivered_since(void *arg)
{
    const uint64_t *want = arg;     /* {port, count before} */
    return evtchn_delivered((unsigned)want[0]) > want[1];
}

/* Waits (blocking) until `port` has been delivered once more. */
static bool wait_port(unsigned port, uint64_t before, uint64_t timeout_ns)
{
    uint64_t arg[2] = { port, before };
    return block_until(port_delivered_since, arg, timeout_ns);
}

static long set_singleshot(uint64_t abs_ns)
{
    struct vcpu_set_singleshot_timer t = { .timeout_abs_ns = abs_ns, .flags = 0 };
    return hyp_vcpu_op(VCPUOP_set_singleshot_timer, 0, &t);
}

static void test_timer(void)
{
    check_int("register_event_callback", events_init(), 0);
    long port = evtchn_bind_virq(VIRQ_TIMER, 0);
    check_cond_hex("bind_virq_timer", port > 0, (uint64_t)port, "a port > 0");
    timer_port = port > 0 ? (unsigned)port : 0;
    evtchn_set_handler(timer_port, on_timer, NULL);
    /* §6.1: a VIRQ bound twice -> -EEXIST. */
    struct evtchn_bind_virq again = { .virq = VIRQ_TIMER, .vcpu = 0 };
    check_int("bind_virq_twice_eexist", hyp_event_channel_op(EVTCHNOP_bind_virq, &again), -XEN_EEXIST);

    /* §6.2: stop the default 10 ms periodic timer, then a singleshot fires
     * at or after its deadline. */
    check_int("stop_periodic_timer", hyp_vcpu_op(VCPUOP_stop_periodic_timer, 0, NULL), 0);
    /* A periodic tick may have arrived (masked) before the stop. */
    evtchn_clear_pending(timer_port);
    uint64_t before = evtchn_delivered(timer_port);
    uint64_t deadline = pvclock_now_ns() + 20 * MS;
    timer_fired_at = 0;
    check_int("set_singleshot_timer", set_singleshot(deadline), 0);
    /* §6.3: SCHEDOP_block returns when the event comes. */
    check_true("block_until_singleshot", wait_port(timer_port, before, 2000 * MS), "timeout",
               "timer upcall");
    check_cond_hex("singleshot_not_early", timer_fired_at >= deadline, deadline - timer_fired_at,
                   "fired at or after the deadline");

    /* §6.2: a deadline in the past raises VIRQ_TIMER at once. */
    uint8_t old = events_mask();
    before = evtchn_delivered(timer_port);
    check_int("singleshot_past_rc", set_singleshot(pvclock_now_ns() - 1 * MS), 0);
    check_true("singleshot_past_pending_at_once", evtchn_is_pending(timer_port), "not pending",
               "pending on return");
    events_restore(0);
    check_true("singleshot_past_delivered_on_unmask", evtchn_delivered(timer_port) > before,
               "no upcall", "upcall after unmask");
    events_restore(old);
    events_mask();

    /* §6.2: a periodic timer under 1 ms is refused; 2 ms ticks repeatedly. */
    struct vcpu_set_periodic_timer p = { .period_ns = 500000 };
    check_int("periodic_under_1ms_einval", hyp_vcpu_op(VCPUOP_set_periodic_timer, 0, &p), -XEN_EINVAL);
    p.period_ns = 2 * MS;
    check_int("set_periodic_2ms", hyp_vcpu_op(VCPUOP_set_periodic_timer, 0, &p), 0);
    before = evtchn_delivered(timer_port);
    check_true("periodic_ticks_3", wait_port(timer_port, before + 2, 2000 * MS), "timeout",
               "three ticks");
    check_int("stop_periodic_again", hyp_vcpu_op(VCPUOP_stop_periodic_timer, 0, NULL), 0);
    check_int("stop_singleshot", hyp_vcpu_op(VCPUOP_stop_singleshot_timer, 0, NULL), 0);

    /* §6.1: status of a VIRQ port. */
    struct evtchn_status st;
    check_int("status_virq_rc", evtchn_status(DOMID_SELF, timer_port, &st), 0);
    check_int("status_virq", st.status, EVTCHNSTAT_virq);
    check_int("status_virq_number", st.u.virq, VIRQ_TIMER);
}

static void test_interdomain_loopback(void)
{
    struct evtchn_status st;

    /* §6.1: alloc_unbound for ourselves, then bind_interdomain to it. */
    long a = evtchn_alloc_unbound(DOMID_SELF, SELF_DOMID);
    check_cond_hex("alloc_unbound", a > 0, (uint64_t)a, "a port > 0");
    check_int("status_unbound_rc", evtchn_status(DOMID_SELF, (unsigned)a, &st), 0);
    check_int("status_unbound", st.status, EVTCHNSTAT_unbound);
    check_int("status_unbound_remote", st.u.unbound.dom, SELF_DOMID);
    /* §6.1: send on an unbound port is silently dropped. */
    check_int("send_unbound_dropped", evtchn_send((unsigned)a), 0);
    evtchn_clear_pending((unsigned)a);

    long b = evtchn_bind_interdomain(SELF_DOMID, (unsigned)a);
    check_cond_hex("bind_interdomain", b > 0 && b != a, (uint64_t)b, "a new port > 0");
    evtchn_set_handler((unsigned)a, on_port, NULL);
    evtchn_set_handler((unsigned)b, on_port, NULL);
    /* §6.1: the new local port is marked pending by the bind. */
    check_true("bind_interdomain_marks_pending", evtchn_is_pending((unsigned)b), "not pending",
               "pending");
    check_int("status_interdomain_rc", evtchn_status(DOMID_SELF, (unsigned)b, &st), 0);
    check_int("status_interdomain", st.status, EVTCHNSTAT_interdomain);
    check_int("status_interdomain_dom", st.u.interdomain.dom, SELF_DOMID);
    check_int("status_interdomain_port", st.u.interdomain.port, a);
    check_int("status_interdomain_peer", evtchn_status(DOMID_SELF, (unsigned)a, &st) == 0
              ? (int64_t)st.status : -1, EVTCHNSTAT_interdomain);

    /* §6.1: send on one end raises the other; delivered by an upcall. */
    evtchn_clear_pending((unsigned)a);
    evtchn_clear_pending((unsigned)b);
    uint64_t before_a = evtchn_delivered((unsigned)a);
    check_int("send_b_to_a", evtchn_send((unsigned)b), 0);
    check_true("send_b_sets_a_pending", evtchn_is_pending((unsigned)a), "not pending", "pending");
    check_true("send_b_delivers_a", wait_port((unsigned)a, before_a, 1000 * MS), "timeout", "upcall");
    uint64_t before_b = evtchn_delivered((unsigned)b);
    check_int("send_a_to_b", evtchn_send((unsigned)a), 0);
    check_true("send_a_delivers_b", wait_port((unsigned)b, before_b, 1000 * MS), "timeout", "upcall");

    /* §6.1: closing one end leaves the peer unbound again; a second close
     * of the same port is -EINVAL. */
    check_int("close_interdomain", evtchn_close((unsigned)b), 0);
    check_int("closed_status", evtchn_status(DOMID_SELF, (unsigned)b, &st) == 0 ? (int64_t)st.status : -1,
              EVTCHNSTAT_closed);
    check_int("peer_unbound_after_close", evtchn_status(DOMID_SELF, (unsigned)a, &st) == 0
              ? (int64_t)st.status : -1, EVTCHNSTAT_unbound);
    check_int("close_twice_einval", evtchn_close((unsigned)b), -XEN_EINVAL);
    check_int("close_unbound", evtchn_close((unsigned)a), 0);
    /* §6.1: port 0 is reserved. */
    check_int("close_port0_einval", evtchn_close(0), -XEN_EINVAL);
}

static void test_ipi_and_mask(void)
{
    struct evtchn_status st;

    long ipi = evtchn_bind_ipi(0);
    check_cond_hex("bind_ipi", ipi > 0, (uint64_t)ipi, "a port > 0");
    unsigned port = ipi > 0 ? (unsigned)ipi : 0;
    evtchn_set_handler(port, on_port, NULL);
    check_int("status_ipi_rc", evtchn_status(DOMID_SELF, port, &st), 0);
    check_int("status_ipi", st.status, EVTCHNSTAT_ipi);
    check_int("status_ipi_vcpu", st.vcpu, 0);

    uint64_t before = evtchn_delivered(port);
    check_int("send_ipi", evtchn_send(port), 0);
    check_true("ipi_delivered", wait_port(port, before, 1000 * MS), "timeout", "upcall");

    /* §6.1: a masked port gets its pending bit but no upcall; unmasking
     * through the hypercall delivers it. */
    evtchn_mask(port);
    before = evtchn_delivered(port);
    uint8_t old = events_mask();
    check_int("send_masked_ipi", evtchn_send(port), 0);
    check_true("masked_port_pending", evtchn_is_pending(port), "not pending", "pending");
    events_restore(0);
    check_int("masked_port_not_delivered", (int64_t)(evtchn_delivered(port) - before), 0);
    check_int("unmask_hypercall", evtchn_unmask_hypercall(port), 0);
    /* The return path of the unmask hypercall delivers the upcall (§4.10). */
    check_int("unmask_delivers", (int64_t)(evtchn_delivered(port) - before), 1);
    events_restore(old);
    events_mask();
    check_int("close_ipi", evtchn_close(port), 0);
}

static void test_misc(void)
{
    /* §6.1: a 2-level-only hypervisor refuses the FIFO ABI. */
    check_int("init_control_enosys", hyp_event_channel_op(EVTCHNOP_init_control, NULL), -XEN_ENOSYS);
    /* §6.1: virq >= 24 -> -EINVAL; bad vCPU -> -ENOENT. */
    check_int("bind_virq_24_einval", evtchn_bind_virq(NR_VIRQS, 0), -XEN_EINVAL);
    check_int("bind_virq_bad_vcpu_enoent", evtchn_bind_virq(VIRQ_DEBUG, 7), -XEN_ENOENT);

    /* §3.7: system time never goes backwards. */
    uint64_t prev = pvclock_now_ns(), backwards = 0;
    for (int i = 0; i < 2000; i++) {
        uint64_t now = pvclock_now_ns();
        if (now < prev)
            backwards++;
        prev = now;
    }
    check_int("pvclock_monotonic_backsteps", (int64_t)backwards, 0);

    /* §3.7: wall clock = base + system time, plausibly after 2024. */
    struct wallclock wc;
    wallclock_now(&wc);
    check_range("wallclock_after_2024", wc.sec, JAN_1_2024, JAN_1_2024 + 100ULL * 365 * 86400);
    check_int("wc_version_even", shared_info->wc_version & 1, 0);
}

void kernel_main(void)
{
    test_begin("events_timers");
    check_int("set_trap_table", traps_install(), 0);
    test_timer();
    test_interdomain_loopback();
    test_ipi_and_mask();
    test_misc();
    test_finish();
}

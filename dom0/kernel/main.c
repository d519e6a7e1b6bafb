/* SPDX-License-Identifier: MIT */
/*
 * dom0's kernel: a PV kernel on the guest runtime that owns the console.
 * It sleeps in SCHEDOP_block with events enabled and wakes for console
 * input (VIRQ_CONSOLE), for a slow timer tick (VIRQ_TIMER), which also
 * polls the console in case an input event is ever missed, and for domains
 * that shut down (VIRQ_DOM_EXC), which the toolstack then handles.
 */
#include <guest/events.h>
#include <guest/hypercall.h>
#include <guest/runtime.h>
#include <guest/traps.h>
#include <guest/portio.h>
#include "blkdev.h"
#include "netdev.h"
#include "console.h"
#include "pci.h"
#include "shell.h"
#include "../toolstack/xl.h"
#include "../xenstored/xenstored.h"
#include "../backends/console/console_backend.h"
#include "../backends/block/block_backend.h"
#include "../backends/net/net_backend.h"

#define POLL_PERIOD_NS (100ULL * 1000 * 1000)
#define FOREVER_NS (~0ULL >> 2)

static volatile bool woken;
/* A domain shut down (VIRQ_DOM_EXC): the toolstack acts on it from the main
 * loop, never from the upcall. */
static volatile bool dom_exc;

static void on_wake(unsigned port, void *data)
{
    (void)port;
    if (data)
        *(volatile bool *)data = true;
    woken = true;
}

static bool is_woken(void *arg)
{
    (void)arg;
    return woken || console_backend_has_work() || xenstored_pending() || block_backend_has_work() ||
           net_backend_has_work();
}

/* xenstored's one hook, for both backends (each only sets flags). */
static void on_store_change(const char *path, size_t len)
{
    block_backend_store_changed(path, len);
    net_backend_store_changed(path, len);
}

static void bind_wakeup(unsigned virq, const char *name, volatile bool *flag)
{
    long port = evtchn_bind_virq(virq, 0);
    if (port <= 0) {
        con_printf("dom0: cannot bind %s: %ld\n", name, port);
        return;
    }
    evtchn_set_handler((unsigned)port, on_wake, (void *)(uintptr_t)flag);
    evtchn_unmask((unsigned)port);
}

static void setup(void)
{
    long rc = traps_install();
    if (rc)
        runtime_panic("set_trap_table: %ld\n", rc);
    rc = events_init();
    if (rc)
        runtime_panic("event callback: %ld\n", rc);
    bind_wakeup(VIRQ_CONSOLE, "VIRQ_CONSOLE", NULL);
    bind_wakeup(VIRQ_TIMER, "VIRQ_TIMER", NULL);
    bind_wakeup(VIRQ_DOM_EXC, "VIRQ_DOM_EXC", &dom_exc);
    rc = xenstored_init(&woken);
    if (rc)
        con_printf("dom0: xenstored: %ld (guests will have no xenstore)\n", rc);
    /* Port I/O (PCI configuration space) for the kernel, as Linux asks. */
    rc = set_iopl(1);
    if (rc)
        con_printf("dom0: set_iopl: %ld (no PCI devices)\n", rc);
    else
        con_printf("dom0: %u PCI functions, %u disks\n", pci_scan(), blkdev_init());
    if (!rc) {
        for (unsigned i = 0, n = netdev_init(); i < n; i++) {
            const uint8_t *m = netdev_mac(netdev_at(i));
            con_printf("dom0: %s: virtio-net, mac %02x:%02x:%02x:%02x:%02x:%02x\n", netdev_name(netdev_at(i)),
                       m[0], m[1], m[2], m[3], m[4], m[5]);
        }
    }
    block_backend_init();
    net_backend_init();
    xenstored_set_change_hook(on_store_change);
    struct vcpu_set_periodic_timer period = { .period_ns = POLL_PERIOD_NS };
    rc = hyp_vcpu_op(VCPUOP_set_periodic_timer, 0, &period);
    if (rc)
        con_printf("dom0: periodic timer: %ld\n", rc);
}

void kernel_main(void)
{
    char buf[64];

    con_printf("\nLamina dom0: %lu MiB, command line '%s'\n",
               start_info->nr_pages * PAGE_SIZE >> 20, start_info->cmd_line);
    setup();
    con_printf("Type 'help' for commands.\n");
    shell_start();
    for (;;) {
        /* Clear the flag before reading, so input that arrives after the
         * read still ends the block below. */
        woken = false;
        if (dom_exc) {
            dom_exc = false;
            xl_reap(true);
        }
        console_backend_poll();
        xenstored_poll();
        block_backend_poll();
        netdev_poll_all();
        net_backend_poll();
        long n = con_read(buf, sizeof(buf));
        if (n > 0) {
            size_t used = console_backend_input(buf, (size_t)n);
            for (long i = (long)used; i < n; i++)
                shell_input(buf[i]);
            continue;
        }
        net_backend_arm_timer();
        block_until(is_woken, NULL, FOREVER_NS);
    }
}

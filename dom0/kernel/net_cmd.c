/* SPDX-License-Identifier: MIT */
/*
 * Shell commands for dom0's NICs: netif lists them with their MAC, link and
 * counters; arping asks who has an IPv4 address and prints the MAC of the
 * reply, a round trip through the device and whatever network is behind it
 * (for users and the integration tests).
 */
#include <lamina/arp.h>
#include <lamina/string.h>
#include <guest/pvclock.h>
#include <guest/runtime.h>
#include "console.h"
#include "net_cmd.h"
#include "netdev.h"

#define ARPING_TRIES 3
#define ARPING_WAIT_NS (1000ull * 1000 * 1000)
/* QEMU user networking: the guest's address and the gateway's. */
#define DEFAULT_SRC_IP 0x0a00020fu
#define DEFAULT_TARGET_IP 0x0a000202u

static void print_mac(const uint8_t *m)
{
    con_printf("%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

static void print_ip(uint32_t ip)
{
    con_printf("%u.%u.%u.%u", ip >> 24, (ip >> 16) & 0xff, (ip >> 8) & 0xff, ip & 0xff);
}

void cmd_netif(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    if (!netdev_count()) {
        con_printf("netif: no network devices\n");
        return;
    }
    for (unsigned i = 0; i < netdev_count(); i++) {
        struct netdev *nd = netdev_at(i);
        const struct netdev_stats *s = netdev_stats(nd);
        netdev_poll(nd);
        con_printf("%s: mac ", netdev_name(nd));
        print_mac(netdev_mac(nd));
        con_printf(" link %s%s\n", netdev_link_up(nd) ? "up" : "down", netdev_usable(nd) ? "" : " (disabled)");
        con_printf("  rx packets %lu bytes %lu errors %lu dropped %lu\n", s->rx_packets, s->rx_bytes, s->rx_errors,
                   s->rx_dropped);
        con_printf("  tx packets %lu bytes %lu dropped %lu\n", s->tx_packets, s->tx_bytes, s->tx_dropped);
    }
}

struct arping_wait {
    uint32_t target, self;
    bool answered;
    uint8_t mac[ETH_ALEN];
    netdev_rx_fn next;          /* the callback arping displaced: frames go on to it */
    void *next_ctx;
};

static void arping_rx(struct netdev *nd, const uint8_t *frame, size_t len, void *ctx)
{
    struct arping_wait *w = ctx;
    if (!w->answered && arp_parse_reply(frame, len, w->target, w->self, w->mac))
        w->answered = true;
    if (w->next)
        w->next(nd, frame, len, w->next_ctx);
}

static void arping_usage(void)
{
    con_printf("usage: arping [DEV [TARGET_IP [SOURCE_IP]]]   (defaults: eth0 10.0.2.2 10.0.2.15)\n");
}

void cmd_arping(int argc, char **argv)
{
    const char *dev = argc > 1 ? argv[1] : "eth0";
    struct arping_wait w = { .target = DEFAULT_TARGET_IP, .self = DEFAULT_SRC_IP };
    if (argc > 4 || (argc > 2 && !ipv4_parse(argv[2], &w.target)) || (argc > 3 && !ipv4_parse(argv[3], &w.self))) {
        arping_usage();
        return;
    }
    struct netdev *nd = netdev_lookup(dev);
    if (!nd) {
        con_printf("arping: no device '%s'\n", dev);
        return;
    }
    uint8_t frame[ARP_FRAME_LEN];
    size_t len = arp_build_request(frame, netdev_mac(nd), w.self, w.target);
    netdev_set_rx(nd, arping_rx, &w, &w.next, &w.next_ctx);
    uint64_t sent_at = 0, now = 0;
    for (unsigned t = 0; t < ARPING_TRIES && !w.answered; t++) {
        long rc = netdev_send(nd, frame, len);
        if (rc) {
            con_printf("arping: send failed (%ld)\n", rc);
            break;
        }
        sent_at = pvclock_now_ns();
        do {
            netdev_poll(nd);
            now = pvclock_now_ns();
            __asm__ volatile("pause");
        } while (!w.answered && now - sent_at < ARPING_WAIT_NS);
    }
    netdev_set_rx(nd, w.next, w.next_ctx, NULL, NULL);
    con_printf("arping: ");
    print_ip(w.target);
    if (!w.answered) {
        con_printf(" did not answer on %s\n", dev);
        return;
    }
    con_printf(" is at ");
    print_mac(w.mac);
    con_printf(" (%lu us)\n", (now - sent_at) / 1000);
}

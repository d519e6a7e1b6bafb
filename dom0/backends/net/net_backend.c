/* SPDX-License-Identifier: MIT */
/*
 * dom0's network backend glue; see net_backend.h. lib/netback does the
 * protocol and lib/vswitch the forwarding decisions; this file supplies
 * hypercalls, moves frames between the vifs and the NIC, and shares the
 * work out fairly between the vifs.
 */
#include <lamina/fmt.h>
#include <lamina/netback.h>
#include <lamina/netcsum.h>
#include <lamina/netgso.h>
#include <lamina/string.h>
#include <lamina/vswitch.h>
#include <lamina/xl_vif.h>
#include <guest/events.h>
#include <guest/hypercall.h>
#include <guest/pvclock.h>
#include <guest/runtime.h>
#include <public/vcpu.h>
#include "../../kernel/console.h"
#include "../../kernel/netdev.h"
#include "../../toolstack/vmap.h"
#include "../../xenstored/xenstored.h"
#include "../block/block_backend.h"
#include "../common/backend_util.h"
#include "../console/console_backend.h"
#include "net_backend.h"

#define NS_PER_MS 1000000ULL
/* Learned addresses are forgotten after 300 s, as Linux's bridge does. */
#define VSW_AGE_MS 300000ULL
/* Floods (broadcast, multicast, unknown unicast) a port may send: 2 a
 * millisecond on average, 256 back to back. ARP, DHCP and neighbour
 * discovery stay far below; a broadcast storm from one guest cannot make
 * every other guest process all of it. */
#define FLOOD_PER_MS 2u
#define FLOOD_BURST 256u
/* The uplink is polled every 250 us for this long after its last frame. */
#define UPLINK_BUSY_NS (2000ULL * NS_PER_MS)
#define UPLINK_TICK_NS (NS_PER_MS / 4)

struct vif {
    struct netback nb;
    uint64_t detach_deadline;          /* 0 unless a detach is under way */
    grant_handle_t ring_handle[2];
    int port;                          /* switch port */
    bool in_use;
};

static struct vif vifs[NET_BACKEND_MAX];
static struct netback_frame rxq[NET_BACKEND_MAX][NETBACK_RXQ_LEN] __attribute__((aligned(4096)));
static struct netback_scratch scratch __attribute__((aligned(4096)));
/* A csum_blank frame leaving on the uplink is completed in this copy. */
static struct netback_frame uplink_frame __attribute__((aligned(NETBACK_FRAME_SIZE)));
static struct gnttab_copy copy_ops[NETBACK_TX_BATCH * NETIF_TX_MAX_SLOTS];
static struct vswitch sw;
static struct netdev *uplink;
static int uplink_port = -1;
static uint64_t uplink_errors, uplink_last_ns;
static volatile bool xs_changed, ring_event;
/* work_left: a vif used its whole tx budget; rx_pending: frames were queued
 * for vifs since the last flush. */
static bool work_left, rx_pending, ready, vmap_ready;
static uint64_t first_slot;
static unsigned rr_next;               /* the vif served first in the next pass */
static uint64_t nr_passes, nr_notifies;
static uint64_t throttled_gone;        /* floods throttled on ports since removed */

static struct vif *vif_of(struct netback *nb)
{
    return (struct vif *)((char *)nb - __builtin_offsetof(struct vif, nb));
}

/* Two vmap slots a vif (tx, rx), below the block backend's. */
static uint64_t slot_of(const struct vif *v, unsigned which)
{
    return first_slot + 2 * (uint64_t)(v - vifs) + which;
}

static long setup_vmap(void)
{
    if (vmap_ready)
        return 0;
    const uint64_t others = CONSOLE_BACKEND_VMAP_SLOTS + XENSTORED_MAX_DOMAINS + BLOCK_BACKEND_MAX;
    uint64_t max;
    long rc = vmap_reserve_window(others + 2 * NET_BACKEND_MAX, &max);
    if (rc)
        return rc;
    first_slot = max - others - 2 * NET_BACKEND_MAX;
    vmap_ready = true;
    return 0;
}

/* ---- netback_ops ---- */

static volatile void *op_map_ring(void *ctx, struct netback *nb, unsigned which, grant_ref_t ref, long *rc)
{
    (void)ctx;
    struct vif *v = vif_of(nb);
    if ((*rc = setup_vmap()))
        return NULL;
    return backend_map_ring(vmap_va(slot_of(v, which)), nb->xb.domid, ref, &v->ring_handle[which], rc);
}

static void op_unmap_ring(void *ctx, struct netback *nb, unsigned which)
{
    (void)ctx;
    struct vif *v = vif_of(nb);
    backend_unmap_ring(vmap_va(slot_of(v, which)), v->ring_handle[which], nb->xb.tag);
}

static void on_ring_event(unsigned port, void *data)
{
    (void)port;
    (void)data;
    ring_event = true;
}

static long op_bind(void *ctx, struct netback *nb, uint32_t remote_port)
{
    (void)ctx;
    return backend_bind(nb->xb.domid, remote_port, on_ring_event, vif_of(nb));
}

static void op_unbind(void *ctx, struct netback *nb, unsigned port)
{
    (void)ctx;
    (void)nb;
    backend_unbind(port);
}

static void op_notify(void *ctx, struct netback *nb, unsigned port)
{
    (void)ctx;
    (void)nb;
    nr_notifies++;
    evtchn_send(port);
}

/* Our side of every piece lies inside one page (frame buffers are 2 KiB
 * aligned): one grant copy each, all in one hypercall. */
static void op_copy(void *ctx, struct netback *nb, struct netback_copy *c, unsigned n, bool to_guest)
{
    (void)ctx;
    if (n > sizeof(copy_ops) / sizeof(copy_ops[0])) {
        for (unsigned i = 0; i < n; i++)
            c[i].status = GNTST_general_error;
        return;
    }
    for (unsigned i = 0; i < n; i++) {
        uintptr_t va = (uintptr_t)c[i].buf;
        struct gnttab_copy_ptr local = { .domid = DOMID_SELF, .offset = (uint16_t)(va & 4095) };
        struct gnttab_copy_ptr guest = { .domid = nb->xb.domid, .offset = c[i].offset };
        local.u.gmfn = va_to_mfn((const void *)(va & ~(uintptr_t)4095));
        guest.u.ref = c[i].gref;
        copy_ops[i] = (struct gnttab_copy){
            .source = to_guest ? local : guest,
            .dest = to_guest ? guest : local,
            .len = c[i].len,
            .flags = to_guest ? GNTCOPY_dest_gref : GNTCOPY_source_gref,
        };
    }
    long rc = hyp_grant_table_op(GNTTABOP_copy, copy_ops, n);
    for (unsigned i = 0; i < n; i++) {
        c[i].status = GNTST_general_error;
        if (!rc)
            c[i].status = copy_ops[i].status;
    }
}

static const struct netback_ops ops = {
    .store = { .read = backend_store_read, .write = backend_store_write, .rm = backend_store_rm,
               .log = backend_store_log },
    .map_ring = op_map_ring, .unmap_ring = op_unmap_ring, .bind = op_bind, .unbind = op_unbind,
    .notify = op_notify, .copy = op_copy,
};

/* ---- the switch ---- */

static struct vif *vif_at_port(unsigned port)
{
    for (unsigned i = 0; i < NET_BACKEND_MAX; i++)
        if (vifs[i].in_use && vifs[i].port == (int)port)
            return &vifs[i];
    return NULL;
}

static void to_uplink(const uint8_t *frame, uint32_t len, uint16_t flags)
{
    uplink_last_ns = pvclock_now_ns();
    if (flags & NETRXF_csum_blank) {
        /* The NIC is not asked to offload checksums: complete it here. */
        memcpy(uplink_frame.data, frame, len);
        if (netcsum_fill(uplink_frame.data, len)) {
            uplink_errors++;
            return;
        }
        frame = uplink_frame.data;
    }
    /* A full or broken NIC counts the frame in its own tx_dropped. */
    (void)netdev_send(uplink, frame, len);
}

/* Segments of a GSO packet, checksums filled in, on their way out. */
static void emit_uplink(void *arg, const uint8_t *frame, uint32_t len)
{
    (void)arg;
    to_uplink(frame, len, 0);
}

static void emit_vif(void *arg, const uint8_t *frame, uint32_t len)
{
    struct vif *v = arg;
    if (netback_rx_queue(&v->nb, frame, len, 0))
        rx_pending = true;
}

/* A packet that came in on switch port `ingress` goes where the switch
 * says; a GSO packet whole to a vif that takes it, else in segments. */
static void switch_packet(unsigned ingress, const struct netback_packet *pkt)
{
    uint32_t out = vsw_forward(&sw, ingress, pkt->data, pkt->len, pvclock_now_ns() / NS_PER_MS);
    for (unsigned p = 0; out; p++, out >>= 1) {
        if (!(out & 1))
            continue;
        struct vif *v = (int)p == uplink_port ? NULL : vif_at_port(p);
        if ((int)p != uplink_port && !v)
            continue;
        if (pkt->gso_type) {
            if (v && netback_rx_gso(&v->nb, pkt, &scratch))
                continue;
            if (netgso_segment(pkt->data, pkt->len, pkt->gso_size, v ? emit_vif : emit_uplink, v) < 0) {
                if (v)
                    v->nb.stats.rx_dropped++;
                else
                    uplink_errors++;
            }
        } else if (v) {
            if (netback_rx_queue(&v->nb, pkt->data, pkt->len, pkt->flags))
                rx_pending = true;
        } else {
            to_uplink(pkt->data, pkt->len, pkt->flags);
        }
    }
}

static void from_vif(void *arg, struct netback *nb, const struct netback_packet *p)
{
    (void)arg;
    switch_packet((unsigned)vif_of(nb)->port, p);
}

static void from_uplink(struct netdev *nd, const uint8_t *frame, size_t len, void *ctx)
{
    (void)nd;
    (void)ctx;
    uplink_last_ns = pvclock_now_ns();
    const struct netback_packet p = { .data = frame, .len = (uint32_t)len };
    switch_packet((unsigned)uplink_port, &p);
}

/* ---- the toolstack's side ---- */

void net_backend_store_changed(const char *path, size_t len)
{
    static const char vif[] = "/vif/";
    for (size_t i = 0; i + sizeof(vif) - 1 <= len; i++) {
        if (memcmp(path + i, vif, sizeof(vif) - 1) == 0) {
            xs_changed = true;
            return;
        }
    }
}

void net_backend_init(void)
{
    if (ready)
        return;
    vsw_init(&sw, VSW_AGE_MS);
    vsw_set_flood_limit(&sw, FLOOD_PER_MS, FLOOD_BURST);
    if (netdev_count()) {
        uplink = netdev_at(0);
        uplink_port = vsw_add_port(&sw, true, NULL);
        netdev_set_rx(uplink, from_uplink, NULL, NULL, NULL);
    }
    ready = true;
}

static struct vif *find(domid_t domid, uint32_t devid)
{
    for (unsigned i = 0; i < NET_BACKEND_MAX; i++)
        if (vifs[i].in_use && vifs[i].nb.xb.domid == domid && vifs[i].nb.xb.devid == devid)
            return &vifs[i];
    return NULL;
}

static void release(struct vif *v)
{
    if (v->port >= 0) {
        throttled_gone += sw.port[v->port].throttled;
        (void)vsw_del_port(&sw, (unsigned)v->port);
    }
    v->port = -1;
    v->in_use = false;
}

long net_backend_add(domid_t domid, uint32_t devid)
{
    net_backend_init();
    if (find(domid, devid))
        return -XEN_EEXIST;
    struct vif *v = NULL;
    unsigned idx = 0;
    for (unsigned i = 0; i < NET_BACKEND_MAX && !v; i++)
        if (!vifs[i].in_use)
            v = &vifs[idx = i];
    if (!v)
        return -XEN_ENOSPC;
    memset(v, 0, sizeof(*v));
    v->port = -1;
    long rc = netback_probe(&v->nb, &ops, NULL, domid, devid, rxq[idx]);
    if (rc)
        return rc;
    int port = vsw_add_port(&sw, false, v->nb.mac);
    if (port < 0) {
        netback_remove(&v->nb);
        return port;
    }
    v->port = port;
    v->in_use = true;
    return 0;
}

long net_backend_detach(domid_t domid, uint32_t devid)
{
    struct vif *v = find(domid, devid);
    if (!v)
        return -XEN_ENOENT;
    netback_detach(&v->nb);
    if (v->nb.xb.removed)
        release(v);
    else
        v->detach_deadline = pvclock_now_ns() + NET_BACKEND_DETACH_NS;
    return 0;
}

void net_backend_remove_domain(domid_t domid)
{
    for (unsigned i = 0; i < NET_BACKEND_MAX; i++) {
        struct vif *v = &vifs[i];
        if (v->in_use && v->nb.xb.domid == domid) {
            netback_remove(&v->nb);
            release(v);
        }
    }
}

bool net_backend_has_work(void)
{
    return xs_changed || ring_event || work_left || rx_pending;
}

void net_backend_arm_timer(void)
{
    if (!uplink || !uplink_last_ns)
        return;
    uint64_t now = pvclock_now_ns();
    if (now - uplink_last_ns > UPLINK_BUSY_NS)
        return;
    struct vcpu_set_singleshot_timer t = { .timeout_abs_ns = now + UPLINK_TICK_NS };
    (void)hyp_vcpu_op(VCPUOP_set_singleshot_timer, 0, &t);
}

/* xenbus states and detach deadlines. */
static void lifecycle(bool changed)
{
    uint64_t now = 0;
    for (unsigned i = 0; i < NET_BACKEND_MAX; i++) {
        struct vif *v = &vifs[i];
        if (!v->in_use)
            continue;
        if (changed)
            netback_changed(&v->nb);
        if (v->detach_deadline && !v->nb.xb.removed) {
            now = now ? now : pvclock_now_ns();
            if (now >= v->detach_deadline) {
                xenbus_back_note(&v->nb.xb, "the frontend did not close; removed");
                netback_remove(&v->nb);
            }
        }
        if (v->nb.xb.removed)
            release(v);
    }
}

void net_backend_poll(void)
{
    if (!ready)
        return;
    bool changed = xs_changed;
    xs_changed = ring_event = false;
    work_left = false;
    bool again = false;
    nr_passes++;
    /* The uplink's frames came in through netdev_poll_all() in dom0's loop,
     * just before this pass, and wait in the vifs' queues. */
    lifecycle(changed);
    /* One pass: every vif in turn, starting one further each time. */
    for (unsigned k = 0; k < NET_BACKEND_MAX; k++) {
        struct vif *v = &vifs[(rr_next + k) % NET_BACKEND_MAX];
        if (!v->in_use || !netback_connected(&v->nb))
            continue;
        if (netback_tx_serve(&v->nb, NET_BACKEND_TX_BUDGET, &scratch, from_vif, NULL) & NETBACK_AGAIN)
            again = true;
    }
    rr_next = (rr_next + 1) % NET_BACKEND_MAX;
    /* Frames that still find no posted page wait for the guest's event
     * (the flush asked for one). */
    rx_pending = false;
    for (unsigned i = 0; i < NET_BACKEND_MAX; i++)
        if (vifs[i].in_use && vifs[i].nb.rxq_count)
            netback_rx_flush(&vifs[i].nb, &scratch);
    work_left = again;
}

/* ---- the vswitch shell command ---- */

static unsigned learned(void)
{
    unsigned n = 0;
    uint64_t now = pvclock_now_ns() / NS_PER_MS;
    for (unsigned i = 0; i < VSW_TABLE_SIZE; i++)
        if (sw.table[i].used && vsw_lookup(&sw, sw.table[i].mac, now) >= 0)
            n++;
    return n;
}

void net_backend_cmd_vswitch(int argc, char **argv)
{
    (void)argv;
    if (argc != 1) {
        con_printf("Usage: vswitch\n");
        return;
    }
    net_backend_init();
    unsigned ports = 0;
    uint64_t throttled = throttled_gone;
    for (unsigned p = 0; p < VSW_MAX_PORTS; p++)
        throttled += sw.port[p].used ? sw.port[p].throttled : 0;
    for (unsigned p = 0; p < VSW_MAX_PORTS; p++) {
        const struct vsw_port *sp = &sw.port[p];
        if (!sp->used)
            continue;
        ports++;
        char name[24], mac[XL_VIF_MAC_TEXT];
        uint64_t out, errors, dropped;
        const struct vif *v = vif_at_port(p);
        if ((int)p == uplink_port) {
            const struct netdev_stats *st = netdev_stats(uplink);
            fmt_snprintf(name, sizeof(name), "%s", netdev_name(uplink));
            fmt_snprintf(mac, sizeof(mac), "any");
            out = st->tx_packets;
            errors = uplink_errors;
            dropped = st->tx_dropped;
        } else if (v) {
            fmt_snprintf(name, sizeof(name), "vif%u.%u", v->nb.xb.domid, v->nb.xb.devid);
            xl_mac_format(sp->mac, mac);
            out = v->nb.stats.rx_packets;
            errors = v->nb.stats.tx_errors + v->nb.stats.rx_errors;
            dropped = v->nb.stats.rx_dropped;
        } else {
            continue;
        }
        con_printf("port %u %s mac %s in %lu out %lu spoofed %lu errors %lu dropped %lu\n", p, name, mac,
                   (unsigned long)sp->rx_frames, (unsigned long)out, (unsigned long)sp->spoofed,
                   (unsigned long)errors, (unsigned long)dropped);
    }
    con_printf("vswitch: %u ports, %u learned, runts %lu hairpin %lu throttled %lu\n", ports, learned(),
               (unsigned long)sw.runts, (unsigned long)sw.hairpin, (unsigned long)throttled);
    con_printf("netback: %lu passes, %lu notifications\n", (unsigned long)nr_passes, (unsigned long)nr_notifies);
}

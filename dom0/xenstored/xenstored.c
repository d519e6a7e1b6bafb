/* SPDX-License-Identifier: MIT */
/*
 * xenstored's glue in dom0; see xenstored.h. lib/xs_core does the
 * protocol and lib/xs_ring the ring pages; this file maps pages, binds
 * event channels, runs the rings from the main loop and cuts off a domain
 * that breaks its ring (error written into its page, port closed, page
 * unmapped; it stays "introduced" until released).
 */
#include <lamina/fmt.h>
#include <lamina/string.h>
#include <lamina/xs_core.h>
#include <lamina/xs_ring.h>
#include <guest/events.h>
#include <guest/runtime.h>
#include "xenstored.h"
#include "../backends/console/console_backend.h"
#include "../kernel/console.h"
#include "../toolstack/vmap.h"

/* Passes over all rings per poll: requests from one domain queue events
 * for others, which a later pass delivers. */
#define MAX_PASSES 4

struct served {
    bool in_use;
    bool cut_off;                  /* broke its ring: no longer served */
    domid_t domid;
    unsigned local_port;           /* our end of its store channel; 0 once closed */
    bool mapped;
    struct xs_conn *conn;
    struct xs_ring ring;
};

static uint8_t arena_mem[XENSTORED_ARENA_BYTES] __attribute__((aligned(16)));
static struct xs_core core;
static struct served served[XENSTORED_MAX_DOMAINS];
static bool ready;
static bool vmap_ready;
static uint64_t first_slot;        /* served[i]'s page is at vmap slot first_slot + i */

/* Set from the event upcall; read and cleared by the main loop only. */
static volatile bool pending;
static volatile bool *wake_flag;

/* lib/xs_* return positive errnos; dom0 speaks -errno. */
static long neg(int rc)
{
    return rc ? -(long)rc : 0;
}

static void kick(void)
{
    pending = true;
    if (wake_flag)
        *wake_flag = true;
}

static void on_store_event(unsigned port, void *data)
{
    (void)port;
    (void)data;
    kick();
}

/* Our slots: just below the console backend's, which are the window's
 * last ones; page tables for all of them. */
static long vmap_setup(void)
{
    if (vmap_ready)
        return 0;
    uint64_t max;
    long rc = vmap_reserve_window(XENSTORED_MAX_DOMAINS + CONSOLE_BACKEND_VMAP_SLOTS, &max);
    if (rc)
        return rc;
    first_slot = max - CONSOLE_BACKEND_VMAP_SLOTS - XENSTORED_MAX_DOMAINS;
    vmap_ready = true;
    return 0;
}

/* Unbinds and unmaps, leaving the entry (and the connection) alone. */
static void disconnect(struct served *s)
{
    if (s->local_port) {
        evtchn_mask(s->local_port);
        evtchn_set_handler(s->local_port, NULL, NULL);
        evtchn_close(s->local_port);
        s->local_port = 0;
    }
    if (s->mapped) {
        vmap_unmap(first_slot + (uint64_t)(s - served), 1);
        s->mapped = false;
    }
}

/* xs_core_ops.introduce: conn was just opened for a new domain. Returns 0
 * or a positive errno. */
static int glue_introduce(void *ctx, struct xs_conn *conn, uint64_t mfn, uint32_t port)
{
    (void)ctx;
    struct served *s = NULL;
    for (unsigned i = 0; i < XENSTORED_MAX_DOMAINS && !s; i++)
        if (!served[i].in_use)
            s = &served[i];
    if (!s)
        return XEN_ENOSPC;
    long rc = vmap_setup();
    if (rc)
        return (int)-rc;
    uint64_t slot = first_slot + (uint64_t)(s - served);
    memset(s, 0, sizeof(*s));
    rc = vmap_map(slot, &mfn, 1, conn->domid);
    if (rc)
        return (int)-rc;
    s->mapped = true;
    long lp = evtchn_bind_interdomain(conn->domid, port);
    if (lp <= 0) {
        disconnect(s);
        return lp < 0 ? (int)-lp : XEN_EINVAL;
    }
    s->in_use = true;
    s->domid = conn->domid;
    s->local_port = (unsigned)lp;
    s->conn = conn;
    conn->user = s;
    xs_ring_attach(&s->ring, vmap_va(slot));
    evtchn_set_handler(s->local_port, on_store_event, NULL);
    evtchn_unmask(s->local_port);
    kick();   /* it may have written requests already */
    return 0;
}

/* xs_core_ops.release: the connection closes right after. */
static void glue_release(void *ctx, struct xs_conn *conn)
{
    (void)ctx;
    struct served *s = conn->user;
    if (!s)
        return;
    disconnect(s);
    memset(s, 0, sizeof(*s));
    conn->user = NULL;
}

static xenstored_change_fn change_hook;

void xenstored_set_change_hook(xenstored_change_fn fn)
{
    change_hook = fn;
}

static void glue_changed(void *ctx, const char *path, size_t len)
{
    (void)ctx;
    if (change_hook)
        change_hook(path, len);
}

static void cut_off(struct served *s)
{
    con_printf("xenstored: d%u broke its xenstore ring (error %u); no longer served\n", s->domid,
               s->ring.intf->error);
    evtchn_send(s->local_port);   /* let it see the error field */
    disconnect(s);
    s->cut_off = true;
}

long xenstored_init(volatile bool *wake)
{
    if (ready)
        return 0;
    wake_flag = wake;
    struct xs_limits lim;
    xs_limits_default(&lim);
    static const struct xs_core_ops ops = { .introduce = glue_introduce, .release = glue_release,
                                            .changed = glue_changed };
    int rc = xs_core_init(&core, arena_mem, sizeof(arena_mem), &lim, &ops);
    if (rc)
        return neg(rc);
    ready = true;
    /* /local and /local/domain: dom0's, invisible to domains (they reach
     * their own homes, which carry their own permissions). */
    rc = xs_core_mkdir(&core, "/local/domain/0");
    if (!rc)
        rc = xs_core_write(&core, "/local/domain/0/name", "Domain-0", 8);
    if (!rc)
        rc = xs_core_write(&core, "/local/domain/0/domid", "0", 1);
    return neg(rc);
}

bool xenstored_pending(void)
{
    return pending;
}

bool xenstored_poll(void)
{
    if (!pending || !ready)
        return false;
    pending = false;
    bool moved = false;
    for (unsigned pass = 0; pass < MAX_PASSES; pass++) {
        bool progress = false;
        for (unsigned i = 0; i < XENSTORED_MAX_DOMAINS; i++) {
            struct served *s = &served[i];
            if (!s->in_use || s->cut_off)
                continue;
            unsigned res = xs_ring_service(&s->ring, &core, s->conn);
            if (res & XS_RING_BROKEN) {
                cut_off(s);
                continue;
            }
            if (res & XS_RING_NOTIFY)
                evtchn_send(s->local_port);
            progress |= (res & (XS_RING_NOTIFY | XS_RING_AGAIN)) != 0;
        }
        if (!progress)
            return moved;
        moved = true;
    }
    /* Budget used up with rings still moving: come back without blocking. */
    kick();
    return moved;
}

/* ---- domains ---- */

static long write_fmt(const char *base, const char *rel, const char *value)
{
    char path[96];
    fmt_snprintf(path, sizeof(path), "%s/%s", base, rel);
    return neg(xs_core_write(&core, path, value, strlen(value)));
}

static long perms_fmt(const char *base, const char *rel, const char *fmt, domid_t domid)
{
    char path[96], perms[32];
    if (rel)
        fmt_snprintf(path, sizeof(path), "%s/%s", base, rel);
    else
        fmt_snprintf(path, sizeof(path), "%s", base);
    fmt_snprintf(perms, sizeof(perms), fmt, (unsigned)domid);
    return neg(xs_core_set_perms_text(&core, path, perms));
}

long xs_domain_write_home(domid_t domid, const char *name, uint64_t memory_kib, unsigned vcpus)
{
    if (!ready)
        return -XEN_EINVAL;
    if (domid == 0 || domid >= XS_DOMID_FIRST_RESERVED)
        return -XEN_EINVAL;
    char home[32], num[24];
    xs_domain_path(domid, home, sizeof(home));
    long rc = neg(xs_core_mkdir(&core, home));
    /* Read-only for the domain unless said otherwise below; children
     * inherit this when created. */
    if (!rc)
        rc = perms_fmt(home, NULL, "n0 r%u", domid);
    fmt_snprintf(num, sizeof(num), "%u", (unsigned)domid);
    if (!rc)
        rc = write_fmt(home, "domid", num);
    if (!rc && name)
        rc = write_fmt(home, "name", name);
    if (!rc && memory_kib) {
        fmt_snprintf(num, sizeof(num), "%lu", (unsigned long)memory_kib);
        rc = write_fmt(home, "memory/static-max", num);
        if (!rc)
            rc = write_fmt(home, "memory/target", num);
    }
    for (unsigned v = 0; !rc && v < vcpus; v++) {
        char rel[32];
        fmt_snprintf(rel, sizeof(rel), "cpu/%u/availability", v);
        rc = write_fmt(home, rel, "online");
    }
    if (!rc)
        rc = write_fmt(home, "control/platform-feature-xs_reset_watches", "1");
    /* What the domain itself writes: it owns these. */
    static const char *const owned[] = {
        "control/shutdown", "control/sysrq", "control/feature-poweroff", "control/feature-reboot",
        "control/feature-suspend", "data", "error", "drivers", "feature", "attr",
    };
    for (unsigned i = 0; !rc && i < sizeof(owned) / sizeof(owned[0]); i++) {
        rc = write_fmt(home, owned[i], "");
        if (!rc)
            rc = perms_fmt(home, owned[i], "n%u", domid);
    }
    if (!rc) {
        char path[64];
        fmt_snprintf(path, sizeof(path), "%s/device", home);
        rc = neg(xs_core_mkdir(&core, path));
    }
    kick();
    return rc;
}

long xs_domain_introduce(domid_t domid, uint64_t store_mfn, uint32_t remote_port)
{
    if (!ready)
        return -XEN_EINVAL;
    char home[32], buf[8];
    size_t len;
    xs_domain_path(domid, home, sizeof(home));
    if (xs_core_read(&core, home, buf, sizeof(buf), &len) == XEN_ENOENT) {
        long rc = xs_domain_write_home(domid, NULL, 0, 0);
        if (rc)
            return rc;
    }
    long rc = neg(xs_core_introduce(&core, domid, store_mfn, remote_port));
    kick();
    return rc;
}

long xs_domain_release(domid_t domid)
{
    if (!ready)
        return -XEN_EINVAL;
    long rc = neg(xs_core_release(&core, domid));
    kick();
    return rc;
}

bool xs_domain_introduced(domid_t domid)
{
    return ready && xs_conn_find(&core, domid) != NULL;
}

void xenstored_fire_release(void)
{
    if (!ready)
        return;
    xs_core_fire_special(&core, XS_SPECIAL_RELEASE);
    kick();
}

/* ---- direct access as dom0 ---- */

long xenstored_read(const char *path, char *buf, size_t cap, size_t *len)
{
    return ready ? neg(xs_core_read(&core, path, buf, cap, len)) : -XEN_EINVAL;
}

long xenstored_read_str(const char *path, char *buf, size_t cap)
{
    size_t len = 0;
    if (!cap)
        return -XEN_E2BIG;
    long rc = xenstored_read(path, buf, cap - 1, &len);
    buf[rc ? 0 : len] = 0;
    return rc;
}

long xenstored_write(const char *path, const void *value, size_t len)
{
    if (!ready)
        return -XEN_EINVAL;
    long rc = neg(xs_core_write(&core, path, value, len));
    kick();
    return rc;
}

long xenstored_write_str(const char *path, const char *value)
{
    return xenstored_write(path, value, strlen(value));
}

long xenstored_mkdir(const char *path)
{
    if (!ready)
        return -XEN_EINVAL;
    long rc = neg(xs_core_mkdir(&core, path));
    kick();
    return rc;
}

long xenstored_rm(const char *path)
{
    if (!ready)
        return -XEN_EINVAL;
    long rc = neg(xs_core_rm(&core, path));
    kick();
    return rc;
}

long xenstored_directory(const char *path, char *buf, size_t cap, size_t *len)
{
    return ready ? neg(xs_core_directory(&core, path, buf, cap, len)) : -XEN_EINVAL;
}

long xenstored_set_perms(const char *path, const char *perms)
{
    if (!ready)
        return -XEN_EINVAL;
    long rc = neg(xs_core_set_perms_text(&core, path, perms));
    kick();
    return rc;
}

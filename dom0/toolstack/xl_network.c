/* SPDX-License-Identifier: MIT */
/* Virtual network interfaces in the toolstack; see xl_network.h. */
#include <stdarg.h>
#include <lamina/xenbus_back.h>
#include <lamina/fmt.h>
#include <lamina/string.h>
#include <guest/runtime.h>
#include "../kernel/console.h"
#include "../xenstored/xenstored.h"
#include "../backends/net/net_backend.h"
#include "domctl.h"
#include "xl.h"
#include "xl_block.h"
#include "xl_network.h"

static bool exists(const char *path)
{
    char v[4];
    size_t len;
    return xenstored_read(path, v, sizeof(v), &len) == 0;
}

int xl_network_prepare(struct xl_vif *vifs, unsigned n, char *why, size_t why_size)
{
    return xl_vif_fill_defaults(vifs, n, 0, rdtsc(), why, why_size);
}

int xl_network_attach(domid_t domid, const struct xl_vif *vif, char *why, size_t why_size)
{
    char be[XL_DEV_DIR_MAX], fe[XL_DEV_DIR_MAX], mac[XL_VIF_MAC_TEXT];
    uint32_t devid = (uint32_t)vif->devid;
    xl_dev_paths(domid, "vif", devid, be, fe);
    if (vif->devid < 0 || !vif->have_mac) {
        fmt_snprintf(why, why_size, "vif without devid or MAC");
        return -1;
    }
    if (exists(be) || exists(fe)) {
        fmt_snprintf(why, why_size, "domain %u already has a vif with devid %u", domid, devid);
        return -1;
    }
    xl_mac_format(vif->mac, mac);
    long rc = xl_dev_dirs(domid, be, fe);
    if (!rc && vif->script[0])
        rc = xl_dev_put(be, "script", "%s", vif->script);
    if (!rc)
        rc = xl_dev_put(be, "mac", "%s", mac);
    if (!rc)
        rc = xl_dev_put(be, "bridge", "%s", vif->bridge);
    if (!rc && vif->ip[0])
        rc = xl_dev_put(be, "ip", "%s", vif->ip);
    if (!rc && vif->vifname[0])
        rc = xl_dev_put(be, "vifname", "%s", vif->vifname);
    if (!rc)
        rc = xl_dev_put(be, "handle", "%u", devid);
    if (!rc)
        rc = xl_dev_put(be, "type", "vif");
    if (!rc)
        rc = xl_dev_put(fe, "backend", "%s", be);
    if (!rc)
        rc = xl_dev_put(fe, "backend-id", "0");
    if (!rc)
        rc = xl_dev_put(fe, "handle", "%u", devid);
    if (!rc)
        rc = xl_dev_put(fe, "mac", "%s", mac);
    if (!rc)
        rc = xl_dev_put(fe, "state", "1");
    if (rc) {
        (void)xenstored_rm(be);
        (void)xenstored_rm(fe);
        fmt_snprintf(why, why_size, "cannot attach vif %u (%s)", devid, xen_errno_name(rc));
        return -1;
    }
    rc = net_backend_add(domid, devid);
    if (rc) {
        (void)xenstored_rm(be);
        (void)xenstored_rm(fe);
        if (rc == -XEN_EEXIST)
            fmt_snprintf(why, why_size, "vif %u: MAC %s is already another vif's", devid, mac);
        else
            fmt_snprintf(why, why_size, "cannot start the backend of vif %u (%s)", devid, xen_errno_name(rc));
        return -1;
    }
    if (vif->script[0])
        con_printf("xl: note: vif %u: script '%s' is not run (Lamina has no hotplug scripts)\n", devid,
                   vif->script);
    return 0;
}

void xl_network_remove_domain(domid_t domid)
{
    net_backend_remove_domain(domid);
    char path[48];
    fmt_snprintf(path, sizeof(path), "/local/domain/0/backend/vif/%u", domid);
    (void)xenstored_rm(path);
}

/* ---- xl network-list / network-attach / network-detach ---- */

/* Calls fn for every vif of the domain (its frontend directory name). */
static void each_vif(domid_t domid, void (*fn)(domid_t, const char *, void *), void *arg)
{
    char dir[48], names[1024];
    size_t len = 0;
    fmt_snprintf(dir, sizeof(dir), "/local/domain/%u/device/vif", domid);
    if (xenstored_directory(dir, names, sizeof(names), &len))
        return;
    for (size_t off = 0; off < len;) {
        const char *name = names + off;
        off += strnlen(name, len - off) + 1;
        fn(domid, name, arg);
    }
}

static void list_one(domid_t domid, const char *name, void *arg)
{
    char fe[96], be[96], mac[XL_VIF_MAC_TEXT + 2];
    (void)arg;
    fmt_snprintf(fe, sizeof(fe), "/local/domain/%u/device/vif/%s", domid, name);
    xl_dev_read_text(fe, "backend", be, sizeof(be), "");
    xl_dev_read_text(fe, "mac", mac, sizeof(mac), "-");
    /* xl's columns: Idx BE Mac Addr. handle state evt-ch tx-/rx-ring-ref BE-path. */
    con_printf("%-3s %-2ld %-17s %-6ld %-5ld %-6ld %5ld/%-5ld %-30s\n", name, xl_dev_read_num(fe, "backend-id", -1),
               mac, xl_dev_read_num(fe, "handle", -1), xl_dev_read_num(fe, "state", -1),
               xl_dev_read_num(fe, "event-channel", -1), xl_dev_read_num(fe, "tx-ring-ref", -1),
               xl_dev_read_num(fe, "rx-ring-ref", -1), be);
}

static void list_domain(domid_t domid)
{
    each_vif(domid, list_one, NULL);
}

void cmd_network_list(int argc, char **argv)
{
    char header[96];
    fmt_snprintf(header, sizeof(header), "%-3s %-2s %-17s %-6s %-5s %-6s %-15s %-30s", "Idx", "BE", "Mac Addr.",
                 "handle", "state", "evt-ch", "tx-/rx-ring-ref", "BE-path");
    xl_list_domains(argc, argv, "Usage: xl network-list <Domain(s)>", header, list_domain);
}

static void highest(domid_t domid, const char *name, void *arg)
{
    uint32_t *next = arg;
    uint64_t n;
    (void)domid;
    if (xenbus_parse_uint(name, XL_VIF_DEVID_MAX, &n) && n + 1 > *next)
        *next = (uint32_t)n + 1;
}

void cmd_network_attach(int argc, char **argv)
{
    char spec[256] = "", why[XL_VIF_ERR_MAX];
    struct xl_vif vif;
    domid_t domid;
    if (!xl_attach_args(argc, argv, 2, "Usage: xl network-attach <Domain> [<nic-spec-component(s)>]...", "nic",
                        &domid, spec, sizeof(spec)))
        return;
    uint32_t next = 0;
    each_vif(domid, highest, &next);
    if (xl_vif_parse(spec, &vif, why, sizeof(why)) ||
        xl_vif_fill_defaults(&vif, 1, next, rdtsc() ^ ((uint64_t)domid << 48), why, sizeof(why)) ||
        xl_network_attach(domid, &vif, why, sizeof(why)))
        con_printf("xl: %s\n", why);
}

struct find {
    const char *what;       /* a devid or a MAC */
    char found[16];
};

static void match(domid_t domid, const char *name, void *arg)
{
    struct find *f = arg;
    char path[96], mac[XL_VIF_MAC_TEXT + 2];
    uint8_t want[6], have[6];
    if (f->found[0])
        return;
    fmt_snprintf(path, sizeof(path), "/local/domain/%u/device/vif/%s/mac", domid, name);
    bool by_mac = xl_mac_parse(f->what, want) == 0 && xenstored_read_str(path, mac, sizeof(mac)) == 0 &&
                  xl_mac_parse(mac, have) == 0 && memcmp(want, have, 6) == 0;
    if (by_mac || strcmp(name, f->what) == 0)
        fmt_snprintf(f->found, sizeof(f->found), "%s", name);
}

void cmd_network_detach(int argc, char **argv)
{
    domid_t domid;
    if (!xl_detach_args(argc, argv, "Usage: xl network-detach <Domain> <DevId|mac>", &domid))
        return;
    struct find f = { .what = argv[2] };
    each_vif(domid, match, &f);
    if (!f.found[0]) {
        con_printf("Error: Device %s not connected.\n", argv[2]);
        return;
    }
    /* The backend asks the frontend to close and removes both directories
     * once it has; a vif without a backend just loses them. */
    uint64_t devid;
    if (xenbus_parse_uint(f.found, XL_VIF_DEVID_MAX, &devid) && net_backend_detach(domid, (uint32_t)devid) == 0)
        return;
    char be[XL_DEV_DIR_MAX], fe[XL_DEV_DIR_MAX];
    fmt_snprintf(be, sizeof(be), "/local/domain/0/backend/vif/%u/%s", domid, f.found);
    fmt_snprintf(fe, sizeof(fe), "/local/domain/%u/device/vif/%s", domid, f.found);
    (void)xenstored_rm(be);
    (void)xenstored_rm(fe);
}

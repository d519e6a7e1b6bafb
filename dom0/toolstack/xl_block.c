/* SPDX-License-Identifier: MIT */
/* Virtual block devices in the toolstack; see xl_block.h. */
#include <stdarg.h>
#include <lamina/blkback.h>
#include <lamina/fmt.h>
#include <lamina/string.h>
#include "../backends/block/targets.h"
#include "../backends/block/block_backend.h"
#include "../kernel/console.h"
#include "../xenstored/xenstored.h"
#include "domctl.h"
#include "xl.h"
#include "xl_block.h"

static int check_one(domid_t domid, const struct xl_disk *d, char *why, size_t size)
{
    if (!blk_target_find(d->target))
        return fmt_fail(why, size, "disk '%s': dom0 has no such block device", d->target);
    if (block_backend_has(domid, d->devid))
        return fmt_fail(why, size, "domain %u already has a disk at %s", domid, d->vdev);
    /* Any domain, this one included: the same disk twice is sharing too. */
    if (block_backend_target_busy(d->target, d->writable, DOMID_SELF))
        return fmt_fail(why, size, "Device %s is mounted in a guest domain, and so cannot be mounted %s", d->target,
                    d->writable ? "read-write now" : "now");
    return 0;
}

int xl_block_check(domid_t domid, const struct xl_disk *disks, unsigned n, char *why, size_t why_size)
{
    for (unsigned i = 0; i < n; i++) {
        if (check_one(domid, &disks[i], why, why_size))
            return -1;
        /* Within the one domain: the same disk twice, writable, is sharing too. */
        for (unsigned j = 0; j < i; j++)
            if (strcmp(disks[j].target, disks[i].target) == 0 && (disks[i].writable || disks[j].writable))
                return fmt_fail(why, why_size, "disk '%s' is given twice and writable", disks[i].target);
    }
    return 0;
}

long xl_dev_put(const char *dir, const char *key, const char *fmt, ...)
{
    char path[96], value[96];
    va_list ap;
    va_start(ap, fmt);
    fmt_vsnprintf(value, sizeof(value), fmt, ap);
    va_end(ap);
    fmt_snprintf(path, sizeof(path), "%s/%s", dir, key);
    return xenstored_write_str(path, value);
}

void xl_dev_paths(domid_t domid, const char *kind, uint32_t devid, char be[XL_DEV_DIR_MAX], char fe[XL_DEV_DIR_MAX])
{
    fmt_snprintf(be, XL_DEV_DIR_MAX, "/local/domain/0/backend/%s/%u/%u", kind, domid, devid);
    fmt_snprintf(fe, XL_DEV_DIR_MAX, "/local/domain/%u/device/%s/%u", domid, kind, devid);
}

long xl_dev_dirs(domid_t domid, const char *be, const char *fe)
{
    char perms[24];
    /* Backend: dom0's, readable by the domain; frontend: the domain's,
     * readable by dom0 (children inherit these). */
    long rc = xenstored_mkdir(be);
    fmt_snprintf(perms, sizeof(perms), "n0 r%u", domid);
    if (!rc)
        rc = xenstored_set_perms(be, perms);
    if (!rc)
        rc = xenstored_mkdir(fe);
    fmt_snprintf(perms, sizeof(perms), "n%u r0", domid);
    if (!rc)
        rc = xenstored_set_perms(fe, perms);
    if (!rc)
        rc = xl_dev_put(be, "frontend", "%s", fe);
    if (!rc)
        rc = xl_dev_put(be, "frontend-id", "%u", domid);
    if (!rc)
        rc = xl_dev_put(be, "online", "1");
    if (!rc)
        rc = xl_dev_put(be, "state", "1");
    return rc;
}

int xl_block_attach(domid_t domid, const struct xl_disk *d, char *why, size_t why_size)
{
    char be[XL_DEV_DIR_MAX], fe[XL_DEV_DIR_MAX];
    if (check_one(domid, d, why, why_size))
        return -1;
    xl_dev_paths(domid, "vbd", d->devid, be, fe);
    long rc = xl_dev_dirs(domid, be, fe);
    const char *type = d->cdrom ? "cdrom" : "disk";
    if (!rc)
        rc = xl_dev_put(be, "removable", "%u", d->cdrom ? 1 : 0);
    if (!rc)
        rc = xl_dev_put(be, "bootable", "1");
    if (!rc)
        rc = xl_dev_put(be, "dev", "%s", d->vdev);
    if (!rc)
        rc = xl_dev_put(be, "type", "phy");
    if (!rc)
        rc = xl_dev_put(be, "mode", "%s", d->writable ? "w" : "r");
    if (!rc)
        rc = xl_dev_put(be, "device-type", "%s", type);
    if (!rc)
        rc = xl_dev_put(be, "params", "%s", d->target);
    if (!rc)
        rc = xl_dev_put(fe, "backend", "%s", be);
    if (!rc)
        rc = xl_dev_put(fe, "backend-id", "0");
    if (!rc)
        rc = xl_dev_put(fe, "virtual-device", "%u", d->devid);
    if (!rc)
        rc = xl_dev_put(fe, "device-type", "%s", type);
    if (!rc)
        rc = xl_dev_put(fe, "state", "1");
    if (!rc)
        rc = block_backend_add(domid, d);
    if (rc) {
        (void)xenstored_rm(be);
        (void)xenstored_rm(fe);
        return fmt_fail(why, why_size, "cannot attach %s (%s)", d->vdev, xen_errno_name(rc));
    }
    return 0;
}

/* ---- xl block-list / block-attach / block-detach ---- */

bool xl_join_spec(int argc, char **argv, int first, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int i = first; i < argc; i++) {
        int n = fmt_snprintf(buf + used, size - used, "%s%s", i > first ? "," : "", argv[i]);
        if (n < 0 || (size_t)n >= size - used)
            return false;
        used += (size_t)n;
    }
    return true;
}

void xl_dev_read_text(const char *dir, const char *key, char *buf, size_t cap, const char *dflt)
{
    char path[128];
    fmt_snprintf(path, sizeof(path), "%s/%s", dir, key);
    if (xenstored_read_str(path, buf, cap)) {
        fmt_snprintf(buf, cap, "%s", dflt);
        return;
    }
    for (char *c = buf; *c; c++)
        if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e)
            *c = '?';
}

long xl_dev_read_num(const char *dir, const char *key, long dflt)
{
    char path[96], v[24];
    uint64_t n;
    fmt_snprintf(path, sizeof(path), "%s/%s", dir, key);
    if (xenstored_read_str(path, v, sizeof(v)) || !xenbus_parse_uint(v, INT32_MAX, &n))
        return dflt;
    return (long)n;
}

static void list_domain(domid_t domid)
{
    char dir[48], names[1024];
    size_t len = 0;
    fmt_snprintf(dir, sizeof(dir), "/local/domain/%u/device/vbd", domid);
    if (xenstored_directory(dir, names, sizeof(names), &len))
        return;
    for (size_t off = 0; off < len;) {
        const char *name = names + off;
        size_t n = strnlen(name, len - off);
        off += n + 1;
        char fe[96], be[96];
        fmt_snprintf(fe, sizeof(fe), "%s/%s", dir, name);
        xl_dev_read_text(fe, "backend", be, sizeof(be), "");
        /* xl's columns: Vdev BE handle state evt-ch ring-ref BE-path. */
        con_printf("%-5ld %-3ld %-6u %-5ld %-6ld %-8ld %-30s\n", xl_dev_read_num(fe, "virtual-device", -1),
                   xl_dev_read_num(fe, "backend-id", -1), domid, xl_dev_read_num(fe, "state", -1),
                   xl_dev_read_num(fe, "event-channel", -1), xl_dev_read_num(fe, "ring-ref", -1), be);
    }
}

void xl_list_domains(int argc, char **argv, const char *usage, const char *header, void (*fn)(domid_t))
{
    if (argc < 2) {
        con_printf("%s\n", usage);
        return;
    }
    con_printf("%s\n", header);
    for (int i = 1; i < argc; i++) {
        domid_t domid;
        if (!xl_resolve_domain(argv[i], &domid)) {
            con_printf("xl: domain '%s' does not exist\n", argv[i]);
            continue;
        }
        fn(domid);
    }
}

void cmd_block_list(int argc, char **argv)
{
    char header[80];
    fmt_snprintf(header, sizeof(header), "%-5s %-3s %-6s %-5s %-6s %-8s %-30s", "Vdev", "BE", "handle", "state",
                 "evt-ch", "ring-ref", "BE-path");
    xl_list_domains(argc, argv, "Usage: xl block-list <Domain(s)>", header, list_domain);
}

bool xl_attach_args(int argc, char **argv, int min_argc, const char *usage, const char *what, domid_t *domid,
                    char *spec, size_t spec_size)
{
    *domid = DOMID_INVALID;
    if (argc < min_argc) {
        con_printf("%s\n", usage);
        return false;
    }
    if (!xl_resolve_domain(argv[1], domid) || *domid == 0) {
        con_printf("xl: domain '%s' does not exist%s\n", argv[1], *domid == 0 ? " (or is Domain-0)" : "");
        return false;
    }
    if (!xl_join_spec(argc, argv, 2, spec, spec_size)) {
        con_printf("xl: %s spec too long\n", what);
        return false;
    }
    return true;
}

void cmd_block_attach(int argc, char **argv)
{
    char spec[160] = "", why[160];
    struct xl_disk disk;
    domid_t domid;
    if (!xl_attach_args(argc, argv, 3, "Usage: xl block-attach <Domain> <disk-spec-component(s)>...", "disk",
                        &domid, spec, sizeof(spec)))
        return;
    if (xl_disk_parse(spec, &disk, why, sizeof(why))) {
        con_printf("xl: %s\n", why);
        return;
    }
    if (xl_block_attach(domid, &disk, why, sizeof(why)))
        con_printf("xl: %s\n", why);
}

bool xl_detach_args(int argc, char **argv, const char *usage, domid_t *domid)
{
    if (argc != 3) {
        con_printf("%s\n", usage);
        return false;
    }
    if (!xl_resolve_domain(argv[1], domid)) {
        con_printf("xl: domain '%s' does not exist\n", argv[1]);
        return false;
    }
    return true;
}

void cmd_block_detach(int argc, char **argv)
{
    domid_t domid;
    if (!xl_detach_args(argc, argv, "Usage: xl block-detach <Domain> <DevId>", &domid))
        return;
    int64_t devid = xl_vdev_to_devid(argv[2]);
    if (devid < 0 || block_backend_detach(domid, (uint32_t)devid)) {
        con_printf("Error: Device %s not connected.\n", argv[2]);
        return;
    }
}

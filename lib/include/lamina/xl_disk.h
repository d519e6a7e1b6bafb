/* SPDX-License-Identifier: MIT */
/*
 * xl's disk specifications (xl-disk-configuration(5)), as `disk = [...]`
 * in xl.cfg and `xl block-attach` take them:
 *
 *   [key=value,]* [target[,format[,vdev[,access]]]] [,key=value]* [,target=...]
 *   phy:/dev/vdb,xvda,w        the deprecated prefix form: target,vdev,access
 *
 * Keys: target= (takes the rest of the spec), vdev=, access= (also mode=):
 * r/ro or w/rw (default rw), format= (raw only), devtype= (disk, cdrom),
 * backendtype= (phy only); flags: cdrom. Prefixes: phy:, raw:. A target is
 * the name of one of dom0's block devices (e.g. /dev/vdb).
 *
 * vdev names as Linux and Xen number them (virtual-device): xvd<x>[<n>]
 * = (202 << 8) | (disk << 4) | n for disk < 16 and n < 16, otherwise
 * (1 << 28) | (disk << 8) | n; sd<x>[<n>] = (8 << 8) | (disk << 4) | n;
 * hd<x>[<n>] on the IDE majors; disk letters a..z, aa.., as in xvdaa.
 */
#ifndef LAMINA_XL_DISK_H
#define LAMINA_XL_DISK_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define XL_DISK_TARGET_MAX 64
#define XL_DISK_VDEV_MAX 16
#define XL_DISK_ERR_MAX 160
#define XL_MAX_DISKS 8

struct xl_disk {
    char target[XL_DISK_TARGET_MAX];   /* params: dom0's device name */
    char vdev[XL_DISK_VDEV_MAX];       /* "xvda", as written */
    uint32_t devid;                    /* virtual-device */
    bool writable;
    bool cdrom;
};

/* Parses one spec. Returns 0, or -1 with a message in err (out is then
 * left as it was). */
int xl_disk_parse(const char *spec, struct xl_disk *out, char *err, size_t err_size);

/* A vdev name or plain number -> virtual-device; -1 if it is not one. */
int64_t xl_vdev_to_devid(const char *vdev);

#endif

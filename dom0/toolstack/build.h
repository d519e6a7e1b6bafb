/* SPDX-License-Identifier: MIT */
/*
 * dom0's PV domain builder: makes an unprivileged domain from an
 * xl_domain_config whose kernel (and ramdisk) are files of dom0's initrd,
 * following the builder contract of xen-pv-abi.md §3 with the layout of
 * lib/pv_layout (with the xenstore and console pages a domU has).
 */
#ifndef DOM0_BUILD_H
#define DOM0_BUILD_H
#include <stdbool.h>
#include <stddef.h>
#include <lamina/xlcfg.h>
#include <public/xen.h>

/* Builds the domain and, unless `paused`, starts it. Returns 0 and sets
 * *domid, or -1 with a one-line reason in err; on failure no domain is left
 * behind (a half-built one is destroyed). */
int build_domain(const struct xl_domain_config *cfg, bool paused, domid_t *domid, char *err, size_t err_size);

#endif

/* SPDX-License-Identifier: MIT */
/* Thin wrappers over sysctl (#35, include/public/sysctl.h). */
#ifndef DOM0_SYSCTL_H
#define DOM0_SYSCTL_H
#include <stddef.h>
#include <stdint.h>
#include <public/sysctl.h>

long sysctl_physinfo(struct xen_sysctl_physinfo *info);
/* Reads the hypervisor's log from *index on into buf; returns the byte
 * count or -errno, and advances *index. */
long sysctl_readconsole(uint64_t *index, char *buf, uint32_t len);

#endif

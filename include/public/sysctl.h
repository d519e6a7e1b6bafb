/* SPDX-License-Identifier: MIT */
/*
 * System control (#35), for the control domain's toolstack only: Xen's
 * command numbers, Lamina's own versioned argument layout (like domctl.h).
 * Unprivileged callers get -EPERM.
 */
#ifndef LAMINA_PUBLIC_SYSCTL_H
#define LAMINA_PUBLIC_SYSCTL_H
#include <stdint.h>

#define LAMINA_SYSCTL_INTERFACE_VERSION 0x4c000001u

#define XEN_SYSCTL_readconsole 1
#define XEN_SYSCTL_physinfo    3

/* readconsole: copies the hypervisor's log (oldest first) from `index`
 * (a byte offset into everything ever logged) into buffer. OUT: count =
 * bytes copied, index = where to continue. Bytes that have already been
 * overwritten are skipped. */
struct xen_sysctl_readconsole {
    uint64_t buffer;     /* guest pointer */
    uint32_t count;      /* IN: buffer size; OUT: bytes written */
    uint32_t pad0;
    uint64_t index;      /* IN/OUT */
};

struct xen_sysctl_physinfo {
    uint32_t nr_cpus;
    uint32_t threads_per_core;
    uint32_t cores_per_socket;
    uint32_t nr_nodes;
    uint32_t cpu_khz;
    uint32_t pad0;
    uint64_t total_pages;
    uint64_t free_pages;
    uint64_t max_mfn;
    uint32_t virt_caps;   /* none yet */
    uint32_t pad1;
};

struct xen_sysctl {
    uint32_t cmd;
    uint32_t interface_version;
    union {
        struct xen_sysctl_readconsole readconsole;
        struct xen_sysctl_physinfo physinfo;
        uint8_t pad[128];
    } u;
};

_Static_assert(sizeof(struct xen_sysctl) == 136, "xen_sysctl");
#endif

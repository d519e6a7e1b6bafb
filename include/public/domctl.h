/* SPDX-License-Identifier: MIT */
/*
 * Domain control (#36), for the control domain's toolstack only. Command
 * numbers are Xen's; the argument layout is Lamina's own and versioned by
 * LAMINA_DOMCTL_INTERFACE_VERSION (like Xen's, this interface is not stable
 * across versions and guests must not use it). Every command returns -EPERM
 * to an unprivileged caller.
 */
#ifndef LAMINA_PUBLIC_DOMCTL_H
#define LAMINA_PUBLIC_DOMCTL_H
#include <stdint.h>

#define LAMINA_DOMCTL_INTERFACE_VERSION 0x4c000001u

#define XEN_DOMCTL_createdomain    1
#define XEN_DOMCTL_destroydomain   2
#define XEN_DOMCTL_pausedomain     3
#define XEN_DOMCTL_unpausedomain   4
#define XEN_DOMCTL_getdomaininfo   5
#define XEN_DOMCTL_max_mem        11
#define XEN_DOMCTL_setvcpucontext 12
#define XEN_DOMCTL_max_vcpus      15

/* getdomaininfo flags (Xen's XEN_DOMINF_* bit positions). */
#define XEN_DOMINF_dying    (1u << 0)
#define XEN_DOMINF_hvm      (1u << 1)
#define XEN_DOMINF_shutdown (1u << 2)
#define XEN_DOMINF_paused   (1u << 3)
#define XEN_DOMINF_blocked  (1u << 4)
#define XEN_DOMINF_running  (1u << 5)
#define XEN_DOMINF_shutdownshift 16   /* reason in bits 16-23 */

struct xen_domctl_createdomain {
    uint32_t flags;          /* none defined yet: must be 0 */
    uint32_t max_vcpus;      /* 0 means 1 */
};

struct xen_domctl_getdomaininfo {
    uint16_t domain;         /* OUT: the first domain with id >= the one asked for */
    uint16_t pad0;
    uint32_t flags;          /* XEN_DOMINF_* */
    uint64_t tot_pages;
    uint64_t max_pages;
    uint64_t shared_info_frame;  /* MFN */
    uint64_t cpu_time;       /* ns spent running */
    uint32_t nr_online_vcpus;
    uint32_t max_vcpu_id;
};

struct xen_domctl_max_mem { uint64_t max_memkb; };
struct xen_domctl_max_vcpus { uint32_t max; };
struct xen_domctl_vcpucontext {
    uint32_t vcpu;
    uint32_t pad0;
    uint64_t ctxt;           /* guest pointer to a struct vcpu_guest_context */
};

struct xen_domctl {
    uint32_t cmd;
    uint32_t interface_version;
    uint16_t domain;         /* target; for createdomain IN: wanted id (0 = any), OUT: new id */
    uint16_t pad[3];
    union {
        struct xen_domctl_createdomain createdomain;
        struct xen_domctl_getdomaininfo getdomaininfo;
        struct xen_domctl_max_mem max_mem;
        struct xen_domctl_max_vcpus max_vcpus;
        struct xen_domctl_vcpucontext vcpucontext;
        uint8_t pad[128];
    } u;
};

_Static_assert(sizeof(struct xen_domctl) == 144, "xen_domctl");
_Static_assert(sizeof(struct xen_domctl_getdomaininfo) == 48, "getdomaininfo");
#endif

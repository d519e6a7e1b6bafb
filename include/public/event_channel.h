/* SPDX-License-Identifier: MIT */
/* event_channel_op (#32), 2-level ABI (xen-pv-abi.md §6.1). */
#ifndef LAMINA_PUBLIC_EVENT_CHANNEL_H
#define LAMINA_PUBLIC_EVENT_CHANNEL_H
#include <stdint.h>

#define EVTCHNOP_bind_interdomain 0
#define EVTCHNOP_bind_virq        1
#define EVTCHNOP_bind_pirq        2
#define EVTCHNOP_close            3
#define EVTCHNOP_send             4
#define EVTCHNOP_status           5
#define EVTCHNOP_alloc_unbound    6
#define EVTCHNOP_bind_ipi         7
#define EVTCHNOP_bind_vcpu        8
#define EVTCHNOP_unmask           9
#define EVTCHNOP_reset           10
#define EVTCHNOP_init_control    11
#define EVTCHNOP_expand_array    12
#define EVTCHNOP_set_priority    13

#define EVTCHNSTAT_closed       0
#define EVTCHNSTAT_unbound      1
#define EVTCHNSTAT_interdomain  2
#define EVTCHNSTAT_pirq         3
#define EVTCHNSTAT_virq         4
#define EVTCHNSTAT_ipi          5

struct evtchn_bind_interdomain { uint16_t remote_dom; uint16_t pad0; uint32_t remote_port; uint32_t local_port; };
struct evtchn_bind_virq { uint32_t virq; uint32_t vcpu; uint32_t port; };
struct evtchn_close { uint32_t port; };
struct evtchn_send { uint32_t port; };
struct evtchn_status {
    uint16_t dom; uint16_t pad0; uint32_t port;
    uint32_t status; uint32_t vcpu;
    union {
        struct { uint16_t dom; } unbound;
        struct { uint16_t dom; uint16_t pad0; uint32_t port; } interdomain;
        uint32_t pirq;
        uint32_t virq;
    } u;
};
struct evtchn_alloc_unbound { uint16_t dom; uint16_t remote_dom; uint32_t port; };
struct evtchn_bind_ipi { uint32_t vcpu; uint32_t port; };
struct evtchn_bind_vcpu { uint32_t port; uint32_t vcpu; };
struct evtchn_unmask { uint32_t port; };

_Static_assert(sizeof(struct evtchn_bind_interdomain) == 12, "bind_interdomain");
_Static_assert(sizeof(struct evtchn_bind_virq) == 12, "bind_virq");
_Static_assert(sizeof(struct evtchn_status) == 24, "status");
_Static_assert(__builtin_offsetof(struct evtchn_status, u) == 16, "status.u");
_Static_assert(sizeof(struct evtchn_alloc_unbound) == 8, "alloc_unbound");
_Static_assert(sizeof(struct evtchn_bind_ipi) == 8, "bind_ipi");
#endif

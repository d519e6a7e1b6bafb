/* SPDX-License-Identifier: MIT */
/* callback_op (#30) (xen-pv-abi.md §4.6). */
#ifndef LAMINA_PUBLIC_CALLBACK_H
#define LAMINA_PUBLIC_CALLBACK_H
#include <stdint.h>

#define CALLBACKOP_register   0
#define CALLBACKOP_unregister 1

#define CALLBACKTYPE_event     0
#define CALLBACKTYPE_failsafe  1
#define CALLBACKTYPE_syscall   2
#define CALLBACKTYPE_sysenter_deprecated 3
#define CALLBACKTYPE_nmi       4
#define CALLBACKTYPE_sysenter  5
#define CALLBACKTYPE_syscall32 7

#define CALLBACKF_mask_events (1U << 0)

struct callback_register {
    uint16_t type;
    uint16_t flags;
    uint32_t pad0;
    uint64_t address;
};
struct callback_unregister { uint16_t type; uint16_t pad0; };

_Static_assert(sizeof(struct callback_register) == 16, "callback_register");
#endif

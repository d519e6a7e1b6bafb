/* SPDX-License-Identifier: MIT */
/* physdev_op (#33), the subset PV kernels issue (xen-pv-abi.md §4.9, §A.2). */
#ifndef LAMINA_PUBLIC_PHYSDEV_H
#define LAMINA_PUBLIC_PHYSDEV_H
#include <stdint.h>

#define PHYSDEVOP_irq_status_query  5
#define PHYSDEVOP_set_iopl          6
#define PHYSDEVOP_set_iobitmap      7
#define PHYSDEVOP_eoi              12
#define PHYSDEVOP_pirq_eoi_gmfn_v2 28

struct physdev_set_iopl { uint32_t iopl; };
struct physdev_set_iobitmap { uint64_t bitmap; uint32_t nr_ports; uint32_t pad0; };
_Static_assert(sizeof(struct physdev_set_iobitmap) == 16, "set_iobitmap");
#endif

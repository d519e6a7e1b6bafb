/* SPDX-License-Identifier: MIT */
/* memory_op (#12) sub-ops and arguments (xen-pv-abi.md §A.2, §3.9). */
#ifndef LAMINA_PUBLIC_MEMORY_H
#define LAMINA_PUBLIC_MEMORY_H
#include <stdint.h>

#define XENMEM_increase_reservation 0
#define XENMEM_decrease_reservation 1
#define XENMEM_maximum_ram_page     2
#define XENMEM_current_reservation  3
#define XENMEM_maximum_reservation  4
#define XENMEM_machphys_mfn_list    5
#define XENMEM_populate_physmap     6
#define XENMEM_add_to_physmap       7
#define XENMEM_memory_map           9
#define XENMEM_machine_memory_map  10
#define XENMEM_exchange            11
#define XENMEM_machphys_mapping    12
#define XENMEM_set_memory_map      13
#define XENMEM_maximum_gpfn        14

struct xen_memory_reservation {
    uint64_t extent_start;   /* guest pointer to an array of frame numbers */
    uint64_t nr_extents;
    uint32_t extent_order;
    uint32_t mem_flags;
    uint16_t domid;
    uint16_t pad0[3];
};

struct xen_memory_map {
    uint32_t nr_entries;     /* IN: capacity of buffer; OUT: entries written */
    uint32_t pad0;
    uint64_t buffer;         /* guest pointer to e820 entries */
};

/* One e820 entry as the ABI passes it: packed, 20 bytes. */
struct xen_e820_entry {
    uint64_t addr;
    uint64_t size;
    uint32_t type;
} __attribute__((packed));
#define XEN_E820_RAM 1
#define XEN_E820_RESERVED 2

_Static_assert(sizeof(struct xen_memory_reservation) == 32, "reservation");
_Static_assert(sizeof(struct xen_memory_map) == 16, "memory_map");
_Static_assert(sizeof(struct xen_e820_entry) == 20, "e820");
#endif

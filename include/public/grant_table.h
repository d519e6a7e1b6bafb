/* SPDX-License-Identifier: MIT */
/* grant_table_op (#20) and the v1 grant entry (xen-pv-abi.md §7). */
#ifndef LAMINA_PUBLIC_GRANT_TABLE_H
#define LAMINA_PUBLIC_GRANT_TABLE_H
#include <stdint.h>

typedef uint32_t grant_ref_t;

struct grant_entry_v1 {
    uint16_t flags;
    uint16_t domid;
    uint32_t frame;
};
#define GTF_invalid         0
#define GTF_permit_access   1
#define GTF_accept_transfer 2
#define GTF_transitive      3
#define GTF_type_mask       3
#define GTF_readonly        (1U << 2)
#define GTF_reading         (1U << 3)
#define GTF_writing         (1U << 4)
#define GTF_sub_page        (1U << 8)   /* v2 only: a v1 entry with it cannot be mapped */
#define GNTTAB_NR_RESERVED_ENTRIES 8
#define GNTTAB_RESERVED_CONSOLE    0
#define GNTTAB_RESERVED_XENSTORE   1

#define GNTTABOP_map_grant_ref     0
#define GNTTABOP_unmap_grant_ref   1
#define GNTTABOP_setup_table       2
#define GNTTABOP_dump_table        3
#define GNTTABOP_transfer          4
#define GNTTABOP_copy              5
#define GNTTABOP_query_size        6
#define GNTTABOP_unmap_and_replace 7
#define GNTTABOP_set_version       8
#define GNTTABOP_get_status_frames 9
#define GNTTABOP_get_version      10
#define GNTTABOP_swap_grant_ref   11
#define GNTTABOP_cache_flush      12

#define GNTST_okay              0
#define GNTST_general_error    (-1)
#define GNTST_bad_domain       (-2)
#define GNTST_bad_gntref       (-3)
#define GNTST_bad_handle       (-4)
#define GNTST_bad_virt_addr    (-5)
#define GNTST_bad_dev_addr     (-6)
#define GNTST_no_device_space  (-7)
#define GNTST_permission_denied (-8)
#define GNTST_bad_page         (-9)
#define GNTST_bad_copy_arg    (-10)
#define GNTST_address_too_big (-11)
#define GNTST_eagain          (-12)
#define GNTST_no_space        (-13)

/* map_grant_ref flags. Bits 16-18 become PTE bits 9-11 of a host mapping
 * (XENFEAT_gnttab_map_avail_bits). */
#define GNTMAP_device_map      (1U << 0)
#define GNTMAP_host_map        (1U << 1)
#define GNTMAP_readonly        (1U << 2)
#define GNTMAP_application_map (1U << 3)
#define GNTMAP_contains_pte    (1U << 4)
#define GNTMAP_guest_avail_shift 16
#define GNTMAP_guest_avail_mask  (7U << GNTMAP_guest_avail_shift)

typedef uint32_t grant_handle_t;

struct gnttab_map_grant_ref {
    uint64_t host_addr;       /* virtual address, or machine address of a PTE (contains_pte) */
    uint32_t flags;           /* GNTMAP_* */
    grant_ref_t ref;
    uint16_t dom;             /* the granting domain */
    int16_t  status;          /* OUT: GNTST_* */
    grant_handle_t handle;    /* OUT */
    uint64_t dev_bus_addr;    /* OUT */
};
struct gnttab_unmap_grant_ref {
    uint64_t host_addr;
    uint64_t dev_bus_addr;
    grant_handle_t handle;
    int16_t  status;          /* OUT */
    uint16_t pad0;
};
struct gnttab_unmap_and_replace {
    uint64_t host_addr;
    uint64_t new_addr;        /* its PTE moves to host_addr; 0 = just unmap */
    grant_handle_t handle;
    int16_t  status;          /* OUT */
    uint16_t pad0;
};

#define GNTCOPY_source_gref (1U << 0)
#define GNTCOPY_dest_gref   (1U << 1)
struct gnttab_copy_ptr {
    union {
        grant_ref_t ref;      /* with GNTCOPY_*_gref */
        uint64_t gmfn;        /* else a frame of the caller (an MFN for PV), domid DOMID_SELF */
    } u;
    uint16_t domid;
    uint16_t offset;
    uint32_t pad0;
};
struct gnttab_copy {
    struct gnttab_copy_ptr source, dest;
    uint16_t len;
    uint16_t flags;           /* GNTCOPY_* */
    int16_t  status;          /* OUT */
    uint16_t pad0;
};

struct gnttab_setup_table {
    uint16_t dom;
    uint16_t pad0;
    uint32_t nr_frames;
    int16_t  status;      /* OUT */
    uint16_t pad1[3];
    uint64_t frame_list;  /* guest pointer to uint64_t MFNs (OUT) */
};
struct gnttab_dump_table { uint16_t dom; int16_t status; };
struct gnttab_query_size {
    uint16_t dom;
    uint16_t pad0;
    uint32_t nr_frames;      /* OUT */
    uint32_t max_nr_frames;  /* OUT */
    int16_t  status;         /* OUT */
    uint16_t pad1;
};
struct gnttab_set_version { uint32_t version; };
struct gnttab_get_version { uint16_t dom; uint16_t pad0; uint32_t version; };

_Static_assert(sizeof(struct grant_entry_v1) == 8, "grant_entry_v1");
_Static_assert(sizeof(struct gnttab_setup_table) == 24, "setup_table");
_Static_assert(__builtin_offsetof(struct gnttab_setup_table, frame_list) == 16, "setup_table.frame_list");
_Static_assert(sizeof(struct gnttab_query_size) == 16, "query_size");
_Static_assert(__builtin_offsetof(struct gnttab_query_size, status) == 12, "query_size.status");
_Static_assert(sizeof(struct gnttab_map_grant_ref) == 32, "map_grant_ref");
_Static_assert(__builtin_offsetof(struct gnttab_map_grant_ref, status) == 18, "map_grant_ref.status");
_Static_assert(__builtin_offsetof(struct gnttab_map_grant_ref, handle) == 20, "map_grant_ref.handle");
_Static_assert(sizeof(struct gnttab_unmap_grant_ref) == 24, "unmap_grant_ref");
_Static_assert(__builtin_offsetof(struct gnttab_unmap_grant_ref, status) == 20, "unmap_grant_ref.status");
_Static_assert(sizeof(struct gnttab_unmap_and_replace) == 24, "unmap_and_replace");
_Static_assert(sizeof(struct gnttab_copy) == 40, "copy");
_Static_assert(__builtin_offsetof(struct gnttab_copy, dest) == 16, "copy.dest");
_Static_assert(__builtin_offsetof(struct gnttab_copy, status) == 36, "copy.status");
#endif

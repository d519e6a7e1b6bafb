/* SPDX-License-Identifier: MIT */
/* xen_version (#17) sub-ops and feature bits (xen-pv-abi.md §A.2). */
#ifndef LAMINA_PUBLIC_VERSION_H
#define LAMINA_PUBLIC_VERSION_H
#include <stdint.h>

#define XENVER_version             0
#define XENVER_extraversion        1
#define XENVER_compile_info        2
#define XENVER_capabilities        3
#define XENVER_changeset           4
#define XENVER_platform_parameters 5
#define XENVER_get_features        6
#define XENVER_pagesize            7
#define XENVER_guest_handle        8
#define XENVER_commandline         9
#define XENVER_build_id           10

struct xen_feature_info { uint32_t submap_idx; uint32_t submap; };
struct xen_compile_info { char compiler[64]; char compile_by[16]; char compile_domain[32]; char compile_date[32]; };
struct xen_platform_parameters { uint64_t virt_start; };
#define XEN_EXTRAVERSION_LEN 16
#define XEN_CAPABILITIES_LEN 1024
#define XEN_CHANGESET_LEN 64
#define XEN_COMMANDLINE_LEN 1024

/* XENFEAT_* bit numbers reported by XENVER_get_features. */
#define XENFEAT_writable_page_tables        0
#define XENFEAT_writable_descriptor_tables  1
#define XENFEAT_auto_translated_physmap     2
#define XENFEAT_supervisor_mode_kernel      3
#define XENFEAT_pae_pgdir_above_4gb         4
#define XENFEAT_mmu_pt_update_preserve_ad   5
#define XENFEAT_highmem_assist              6
#define XENFEAT_gnttab_map_avail_bits       7
#define XENFEAT_hvm_callback_vector         8
#define XENFEAT_hvm_safe_pvclock            9
#define XENFEAT_hvm_pirqs                  10
#define XENFEAT_dom0                       11
#define XENFEAT_grant_map_identity         12
#define XENFEAT_memory_op_vnode_supported  13
#define XENFEAT_ARM_SMCCC_supported        14
#define XENFEAT_linux_rsdp_unrestricted    15
#define XENFEAT_direct_mapped              16
#define XENFEAT_not_direct_mapped          17

_Static_assert(sizeof(struct xen_compile_info) == 144, "compile_info");
#endif

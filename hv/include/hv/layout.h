/* SPDX-License-Identifier: MIT */
/*
 * The hypervisor's virtual memory map. It lives entirely in the slots Xen's ABI
 * reserves in every PV address space (L4 slots 256-271, xen-pv-abi.md §2), so
 * that the same mappings can be copied into every guest's top-level table.
 *
 *  0xffff800000000000  slot 256   read-only M2P, guest-visible (user, RO)
 *  0xffff82d000000000  slot 261   hypervisor image: virt = phys + HV_IMAGE_VIRT_OFFSET
 *  0xffff830000000000  slot 262+  direct map of machine memory: virt = phys + DIRECTMAP_VIRT_START
 *  0xffff880000000000             end of the reserved range; guest kernel space follows
 *
 * Used from C and assembly.
 */
#ifndef HV_LAYOUT_H
#define HV_LAYOUT_H

#define HV_IMAGE_VIRT_OFFSET 0xffff82d000000000
#define HV_LOAD_PHYS         0x100000
#define DIRECTMAP_VIRT_START 0xffff830000000000
#define DIRECTMAP_VIRT_END   0xffff880000000000
#define RO_MPT_VIRT_START    0xffff800000000000
#define RO_MPT_VIRT_END      0xffff804000000000

#define L4_SLOT_FIRST_HV     256
#define L4_SLOT_LAST_HV      271
#define L4_SLOT_RO_MPT       256
#define L4_SLOT_IMAGE        261
#define L4_SLOT_DIRECTMAP    262

#define PAGE_SHIFT 12
#define PAGE_SIZE  4096
#define STACK_SIZE (4 * PAGE_SIZE)
#define MAX_CPUS   4

#endif

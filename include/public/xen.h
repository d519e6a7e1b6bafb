/* SPDX-License-Identifier: MIT */
/*
 * The core of Xen's x86-64 PV guest ABI, restated in Lamina's own words from
 * shared/docs/xen-pv-abi.md (section numbers below refer to it). Binary layout
 * is what matters: every struct is pinned with static assertions. This header
 * is shared by the hypervisor, dom0, the guest runtime and host tests; it
 * holds no code and no pointers.
 */
#ifndef LAMINA_PUBLIC_XEN_H
#define LAMINA_PUBLIC_XEN_H

#include "errno.h"

/* Hypercall numbers (§1.4). */
#define __HYPERVISOR_set_trap_table        0
#define __HYPERVISOR_mmu_update            1
#define __HYPERVISOR_set_gdt               2
#define __HYPERVISOR_stack_switch          3
#define __HYPERVISOR_set_callbacks         4
#define __HYPERVISOR_fpu_taskswitch        5
#define __HYPERVISOR_sched_op_compat       6
#define __HYPERVISOR_platform_op           7
#define __HYPERVISOR_set_debugreg          8
#define __HYPERVISOR_get_debugreg          9
#define __HYPERVISOR_update_descriptor    10
#define __HYPERVISOR_memory_op            12
#define __HYPERVISOR_multicall            13
#define __HYPERVISOR_update_va_mapping    14
#define __HYPERVISOR_set_timer_op         15
#define __HYPERVISOR_event_channel_op_compat 16
#define __HYPERVISOR_xen_version          17
#define __HYPERVISOR_console_io           18
#define __HYPERVISOR_physdev_op_compat    19
#define __HYPERVISOR_grant_table_op       20
#define __HYPERVISOR_vm_assist            21
#define __HYPERVISOR_update_va_mapping_otherdomain 22
#define __HYPERVISOR_iret                 23
#define __HYPERVISOR_vcpu_op              24
#define __HYPERVISOR_set_segment_base     25
#define __HYPERVISOR_mmuext_op            26
#define __HYPERVISOR_xsm_op               27
#define __HYPERVISOR_nmi_op               28
#define __HYPERVISOR_sched_op             29
#define __HYPERVISOR_callback_op          30
#define __HYPERVISOR_xenoprof_op          31
#define __HYPERVISOR_event_channel_op     32
#define __HYPERVISOR_physdev_op           33
#define __HYPERVISOR_hvm_op               34
#define __HYPERVISOR_sysctl               35
#define __HYPERVISOR_domctl               36
#define __HYPERVISOR_xenpmu_op            40
#define NR_HYPERCALLS                     64

/* Guest virtual layout (§2). */
#define HYPERVISOR_VIRT_START   0xffff800000000000ULL
#define HYPERVISOR_VIRT_END     0xffff880000000000ULL
#define MACH2PHYS_VIRT_START    0xffff800000000000ULL
#define MACH2PHYS_VIRT_END      0xffff804000000000ULL
#define MACH2PHYS_NR_ENTRIES    ((MACH2PHYS_VIRT_END - MACH2PHYS_VIRT_START) >> 3)
#define INVALID_M2P_ENTRY       (~0ULL)

/* Flat selectors the hypervisor provides in every GDT (§4.1). */
#define FLAT_RING3_CS32   0xe023
#define FLAT_RING3_CS64   0xe033
#define FLAT_RING3_DS32   0xe02b
#define FLAT_RING3_SS64   0xe02b
#define FLAT_KERNEL_CS    FLAT_RING3_CS64
#define FLAT_KERNEL_SS    FLAT_RING3_SS64
#define FLAT_KERNEL_DS    0
#define FLAT_USER_CS      FLAT_RING3_CS64
#define FLAT_USER_SS      FLAT_RING3_SS64
#define FIRST_RESERVED_GDT_ENTRY 7168
#define FIRST_RESERVED_GDT_PAGE  14

/* Domain identifiers (§5.5). */
#define DOMID_FIRST_RESERVED 0x7ff0
#define DOMID_SELF           0x7ff0
#define DOMID_IO             0x7ff1
#define DOMID_XEN            0x7ff2
#define DOMID_COW            0x7ff3
#define DOMID_INVALID        0x7ff4
#define DOMID_IDLE           0x7fff

/* mmu_update commands (§5.3) and its request. */
#define MMU_NORMAL_PT_UPDATE       0
#define MMU_MACHPHYS_UPDATE        1
#define MMU_PT_UPDATE_PRESERVE_AD  2
#define MMU_PT_UPDATE_NO_TRANSLATE 3
#define MMU_UPDATE_PREEMPTED       0x80000000U

/* mmuext_op commands (§5.5). */
#define MMUEXT_PIN_L1_TABLE      0
#define MMUEXT_PIN_L2_TABLE      1
#define MMUEXT_PIN_L3_TABLE      2
#define MMUEXT_PIN_L4_TABLE      3
#define MMUEXT_UNPIN_TABLE       4
#define MMUEXT_NEW_BASEPTR       5
#define MMUEXT_TLB_FLUSH_LOCAL   6
#define MMUEXT_INVLPG_LOCAL      7
#define MMUEXT_TLB_FLUSH_MULTI   8
#define MMUEXT_INVLPG_MULTI      9
#define MMUEXT_TLB_FLUSH_ALL    10
#define MMUEXT_INVLPG_ALL       11
#define MMUEXT_FLUSH_CACHE      12
#define MMUEXT_SET_LDT          13
#define MMUEXT_NEW_USER_BASEPTR 15
#define MMUEXT_CLEAR_PAGE       16
#define MMUEXT_COPY_PAGE        17
#define MMUEXT_FLUSH_CACHE_GLOBAL 18
#define MMUEXT_MARK_SUPER       19
#define MMUEXT_UNMARK_SUPER     20

/* update_va_mapping flags (§5.4). */
#define UVMF_NONE         0
#define UVMF_TLB_FLUSH    1
#define UVMF_INVLPG       2
#define UVMF_FLUSHTYPE_MASK 3
#define UVMF_LOCAL        0
#define UVMF_ALL          4

/* vm_assist (§4.7). */
#define VMASST_CMD_enable  0
#define VMASST_CMD_disable 1
#define VMASST_TYPE_4gb_segments        0
#define VMASST_TYPE_4gb_segments_notify 1
#define VMASST_TYPE_writable_pagetables 2
#define VMASST_TYPE_pae_extended_cr3    3
#define VMASST_TYPE_architectural_iopl  4
#define VMASST_TYPE_runstate_update_flag 5
#define VMASST_TYPE_m2p_strict          32

/* console_io (§A.2). */
#define CONSOLEIO_write 0
#define CONSOLEIO_read  1

/* Virtual interrupts (§6.1). */
#define VIRQ_TIMER    0
#define VIRQ_DEBUG    1
#define VIRQ_CONSOLE  2
#define VIRQ_DOM_EXC  3
#define VIRQ_TBUF     4
#define VIRQ_DEBUGGER 6
#define VIRQ_XENOPROF 7
#define VIRQ_CON_RING 8
#define VIRQ_PCPU_STATE 9
#define VIRQ_MEM_EVENT 10
#define VIRQ_ARGO     11
#define VIRQ_ENOMEM   12
#define VIRQ_XENPMU   13
#define NR_VIRQS      24

/* start_info flags (§3.6). */
#define SIF_PRIVILEGED      (1U << 0)
#define SIF_INITDOMAIN      (1U << 1)
#define SIF_MULTIBOOT_MOD   (1U << 2)
#define SIF_MOD_START_PFN   (1U << 3)
#define SIF_VIRT_P2M_4TOOLS (1U << 4)

#define MAX_GUEST_CMDLINE    1024
#define XEN_LEGACY_MAX_VCPUS 32
#define NR_EVENT_CHANNELS    4096 /* 2-level ABI, 64-bit words */

#ifndef __ASSEMBLER__
#include <stdint.h>

typedef uint16_t domid_t;

struct mmu_update {
    uint64_t ptr;   /* machine address of the entry; low 2 bits = command */
    uint64_t val;
};

struct mmuext_op {
    uint32_t cmd;
    uint32_t pad0;
    union { uint64_t mfn; uint64_t linear_addr; } arg1;
    union { uint32_t nr_ents; uint64_t vcpumask; uint64_t src_mfn; } arg2;
};

struct multicall_entry {
    uint64_t op;
    uint64_t result;
    uint64_t args[6];
};

/* Trap table entry (§4.3): flags bits 0-1 = DPL for int n, bit 2 = mask events. */
struct trap_info {
    uint8_t  vector;
    uint8_t  flags;
    uint16_t cs;
    uint32_t pad0;
    uint64_t address;
};
#define TI_GET_DPL(ti) ((ti)->flags & 3)
#define TI_GET_IF(ti)  ((ti)->flags & 4)

/* Time record (§3.7): read with the version protocol. */
struct vcpu_time_info {
    uint32_t version;
    uint32_t pad0;
    uint64_t tsc_timestamp;
    uint64_t system_time;
    uint32_t tsc_to_system_mul;
    int8_t   tsc_shift;
    uint8_t  flags;
    uint8_t  pad1[2];
};
#define XEN_PVCLOCK_TSC_STABLE_BIT 1
#define XEN_PVCLOCK_GUEST_STOPPED  2

struct arch_vcpu_info {
    uint64_t cr2;
    uint64_t pad;
};

struct vcpu_info {
    uint8_t  evtchn_upcall_pending;
    uint8_t  evtchn_upcall_mask;
    uint8_t  pad0[6];
    uint64_t evtchn_pending_sel;
    struct arch_vcpu_info arch;
    struct vcpu_time_info time;
};

struct arch_shared_info {
    uint64_t max_pfn;
    uint64_t pfn_to_mfn_frame_list_list;
    uint64_t nmi_reason;
    uint64_t p2m_cr3;
    uint64_t p2m_vaddr;
    uint64_t p2m_generation;
};

struct shared_info {
    struct vcpu_info vcpu_info[XEN_LEGACY_MAX_VCPUS];
    uint64_t evtchn_pending[64];
    uint64_t evtchn_mask[64];
    uint32_t wc_version;
    uint32_t wc_sec;
    uint32_t wc_nsec;
    uint32_t wc_sec_hi;
    struct arch_shared_info arch;
};

struct start_info {
    char     magic[32];          /* "xen-3.0-x86_64" */
    uint64_t nr_pages;
    uint64_t shared_info;        /* machine address of the shared_info page */
    uint32_t flags;              /* SIF_* */
    uint32_t pad0;
    uint64_t store_mfn;
    uint32_t store_evtchn;
    uint32_t pad1;
    union {
        struct { uint64_t mfn; uint32_t evtchn; uint32_t pad; } domU;
        struct { uint32_t info_off; uint32_t info_size; } dom0;
    } console;
    uint64_t pt_base;            /* virtual address of the L4 */
    uint64_t nr_pt_frames;
    uint64_t mfn_list;           /* virtual address of the p2m */
    uint64_t mod_start;
    uint64_t mod_len;
    char     cmd_line[MAX_GUEST_CMDLINE];
    uint64_t first_p2m_pfn;
    uint64_t nr_p2m_frames;
};

/* cpu_user_regs (§A.1), the register file in vcpu_guest_context. */
struct cpu_user_regs {
    uint64_t r15, r14, r13, r12, rbp, rbx, r11, r10, r9, r8;
    uint64_t rax, rcx, rdx, rsi, rdi;
    uint32_t error_code;
    uint32_t entry_vector;
    uint64_t rip;
    uint16_t cs, pad0[1];
    uint8_t  saved_upcall_mask;
    uint8_t  pad1[3];
    uint64_t rflags;
    uint64_t rsp;
    uint16_t ss, pad2[3];
    uint16_t es, pad3[3];
    uint16_t ds, pad4[3];
    uint16_t fs, pad5[3];
    uint16_t gs, pad6[3];
};

/* vcpu_guest_context (§A.3): a vCPU's initial state, for VCPUOP_initialise
 * and the toolstack's setvcpucontext. */
struct vcpu_guest_context {
    uint8_t  fpu_ctxt[512];
    uint64_t flags;
    struct cpu_user_regs user_regs;
    struct trap_info trap_ctxt[256];
    uint64_t ldt_base, ldt_ents;
    uint64_t gdt_frames[16], gdt_ents;
    uint64_t kernel_ss, kernel_sp;
    uint64_t ctrlreg[8];
    uint64_t debugreg[8];
    uint64_t event_callback_eip;
    uint64_t failsafe_callback_eip;
    uint64_t syscall_callback_eip;
    uint64_t vm_assist;
    uint64_t fs_base;
    uint64_t gs_base_kernel;
    uint64_t gs_base_user;
};
#define VGCF_i387_valid (1U << 0)
#define VGCF_in_kernel  (1U << 2)
#define VGCF_failsafe_disables_events (1U << 3)
#define VGCF_syscall_disables_events  (1U << 4)
#define VGCF_online     (1U << 5)

/* The frame the iret hypercall pops (§4.5). */
struct iret_context {
    uint64_t rax, r11, rcx, flags, rip, cs, rflags, rsp, ss;
};
#define VGCF_in_syscall (1U << 8)

/* Legacy sched_op / console buffers and small argument structs (§A.2). */
struct xen_machphys_mapping {
    uint64_t v_start;
    uint64_t v_end;
    uint64_t max_mfn;
};

#define XEN_STATIC_ASSERT(cond, msg) _Static_assert(cond, msg)
XEN_STATIC_ASSERT(sizeof(struct mmu_update) == 16, "mmu_update");
XEN_STATIC_ASSERT(sizeof(struct mmuext_op) == 24, "mmuext_op");
XEN_STATIC_ASSERT(sizeof(struct multicall_entry) == 64, "multicall_entry");
XEN_STATIC_ASSERT(sizeof(struct trap_info) == 16, "trap_info");
XEN_STATIC_ASSERT(sizeof(struct vcpu_time_info) == 32, "vcpu_time_info");
XEN_STATIC_ASSERT(sizeof(struct vcpu_info) == 64, "vcpu_info");
XEN_STATIC_ASSERT(__builtin_offsetof(struct shared_info, evtchn_pending) == 2048, "evtchn_pending");
XEN_STATIC_ASSERT(__builtin_offsetof(struct shared_info, evtchn_mask) == 2560, "evtchn_mask");
XEN_STATIC_ASSERT(__builtin_offsetof(struct shared_info, wc_version) == 3072, "wc_version");
XEN_STATIC_ASSERT(__builtin_offsetof(struct shared_info, arch) == 3088, "arch");
XEN_STATIC_ASSERT(sizeof(struct shared_info) == 3136, "shared_info");
XEN_STATIC_ASSERT(__builtin_offsetof(struct start_info, flags) == 48, "si.flags");
XEN_STATIC_ASSERT(__builtin_offsetof(struct start_info, store_mfn) == 56, "si.store_mfn");
XEN_STATIC_ASSERT(__builtin_offsetof(struct start_info, console) == 72, "si.console");
XEN_STATIC_ASSERT(__builtin_offsetof(struct start_info, pt_base) == 88, "si.pt_base");
XEN_STATIC_ASSERT(__builtin_offsetof(struct start_info, cmd_line) == 128, "si.cmd_line");
XEN_STATIC_ASSERT(sizeof(struct start_info) == 1168, "start_info");
XEN_STATIC_ASSERT(__builtin_offsetof(struct cpu_user_regs, error_code) == 120, "regs.error_code");
XEN_STATIC_ASSERT(__builtin_offsetof(struct cpu_user_regs, rip) == 128, "regs.rip");
XEN_STATIC_ASSERT(__builtin_offsetof(struct cpu_user_regs, saved_upcall_mask) == 140, "regs.mask");
XEN_STATIC_ASSERT(__builtin_offsetof(struct cpu_user_regs, rflags) == 144, "regs.rflags");
XEN_STATIC_ASSERT(__builtin_offsetof(struct cpu_user_regs, ss) == 160, "regs.ss");
XEN_STATIC_ASSERT(sizeof(struct cpu_user_regs) == 200, "cpu_user_regs");
XEN_STATIC_ASSERT(sizeof(struct iret_context) == 72, "iret_context");
XEN_STATIC_ASSERT(__builtin_offsetof(struct vcpu_guest_context, user_regs) == 520, "vgc.user_regs");
XEN_STATIC_ASSERT(__builtin_offsetof(struct vcpu_guest_context, trap_ctxt) == 720, "vgc.trap_ctxt");
XEN_STATIC_ASSERT(__builtin_offsetof(struct vcpu_guest_context, ldt_base) == 4816, "vgc.ldt_base");
XEN_STATIC_ASSERT(__builtin_offsetof(struct vcpu_guest_context, gdt_frames) == 4832, "vgc.gdt_frames");
XEN_STATIC_ASSERT(__builtin_offsetof(struct vcpu_guest_context, kernel_ss) == 4968, "vgc.kernel_ss");
XEN_STATIC_ASSERT(__builtin_offsetof(struct vcpu_guest_context, ctrlreg) == 4984, "vgc.ctrlreg");
XEN_STATIC_ASSERT(__builtin_offsetof(struct vcpu_guest_context, event_callback_eip) == 5112, "vgc.event_cb");
XEN_STATIC_ASSERT(__builtin_offsetof(struct vcpu_guest_context, vm_assist) == 5136, "vgc.vm_assist");
XEN_STATIC_ASSERT(sizeof(struct vcpu_guest_context) == 5168, "vcpu_guest_context");
XEN_STATIC_ASSERT(sizeof(struct xen_machphys_mapping) == 24, "machphys_mapping");

#endif /* __ASSEMBLER__ */
#endif

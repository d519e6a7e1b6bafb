/* SPDX-License-Identifier: MIT */
/*
 * Host harness for hypervisor files (Xen's tools/tests/rangeset pattern):
 * force-included (-include) ahead of hv/arch/x86_64/pv/{mm,ptwr,descriptor}.c,
 * which are compiled unchanged. It pulls in the real hypervisor headers but
 * replaces what only makes sense on the machine:
 *  - the direct map: DIRECTMAP_VIRT_START is a user-space address where
 *    hv_harness.c mmaps HARNESS_NR_FRAMES frames of fake machine memory, so
 *    mfn_to_virt()/virt_to_mfn() work unchanged;
 *  - privileged x86 helpers (CR3, INVLPG, MSRs, interrupts) become recorders;
 *  - this_cpu() is a global per-CPU block whose stack_top sits just above one
 *    guest register frame, so guest_regs() is the real computation;
 *  - copy_guest_bytes() is a checked copy over a flat guest window at
 *    HARNESS_GUEST_VA (not through the guest's page tables);
 *  - the frame allocator, set_m2p, install_hv_l4_slots, domain_by_id,
 *    domain_assign_page, hypercall_can_continue, printk/panic are small host
 *    versions with the same contracts (panic fails the running Check test).
 * Frames below HARNESS_FIRST_FREE are the hypervisor's (owner DOMID_XEN).
 */
#ifndef LAMINA_TESTS_HV_HARNESS_H
#define LAMINA_TESTS_HV_HARNESS_H

/* First in every translation unit that uses it: hv_harness.c needs mmap's
 * MAP_FIXED_NOREPLACE, and the hypervisor headers test LAMINA_DEBUG (the
 * tests build the debug configuration: assertions on). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#ifndef LAMINA_DEBUG
#define LAMINA_DEBUG 1
#endif

/* The host C library's string functions stand in for lib/string.c. */
#define LAMINA_STRING_H
#include <string.h>

#include <hv/layout.h>
#undef DIRECTMAP_VIRT_START
#undef DIRECTMAP_VIRT_END
#undef HV_IMAGE_VIRT_OFFSET
#define DIRECTMAP_VIRT_START 0x3a0000000000ull /* user space, above ASan's shadow */
#define DIRECTMAP_VIRT_END   0x3b0000000000ull
#define HV_IMAGE_VIRT_OFFSET 0ull              /* host objects: "physical" = virtual */

/* x86 instructions: the real header's privileged helpers are renamed out of
 * the way (their constants stay real), then replaced by recorders. */
#define read_cr0 hv_real_read_cr0
#define read_cr2 hv_real_read_cr2
#define read_cr3 hv_real_read_cr3
#define read_cr4 hv_real_read_cr4
#define write_cr0 hv_real_write_cr0
#define write_cr2 hv_real_write_cr2
#define write_cr3 hv_real_write_cr3
#define write_cr4 hv_real_write_cr4
#define rdmsr hv_real_rdmsr
#define wrmsr hv_real_wrmsr
#define invlpg hv_real_invlpg
#define flush_tlb_local hv_real_flush_tlb_local
#define local_irq_disable hv_real_local_irq_disable
#define local_irq_enable hv_real_local_irq_enable
#define halt hv_real_halt
#define safe_halt hv_real_safe_halt
#define wrgsbase_msr_user hv_real_wrgsbase_msr_user
#include <asm/x86.h>
#undef read_cr0
#undef read_cr2
#undef read_cr3
#undef read_cr4
#undef write_cr0
#undef write_cr2
#undef write_cr3
#undef write_cr4
#undef rdmsr
#undef wrmsr
#undef invlpg
#undef flush_tlb_local
#undef local_irq_disable
#undef local_irq_enable
#undef halt
#undef safe_halt
#undef wrgsbase_msr_user

/* What the recorders saw since the last harness_reset(). */
struct harness_log {
    unsigned long cr[5];          /* control registers as written */
    unsigned cr3_writes;
    unsigned tlb_flushes;         /* flush_tlb_local() */
    unsigned invlpgs;
    unsigned long last_invlpg;
    unsigned install_l4_calls;    /* install_hv_l4_slots() */
    unsigned m2p_sets;
    unsigned printks;
    uint64_t msr[4];              /* FS_BASE, GS_BASE, KERNEL_GS_BASE, other (last written) */
};
extern struct harness_log hvlog;

static inline unsigned long read_cr0(void) { return hvlog.cr[0]; }
static inline unsigned long read_cr2(void) { return hvlog.cr[2]; }
static inline unsigned long read_cr3(void) { return hvlog.cr[3]; }
static inline unsigned long read_cr4(void) { return hvlog.cr[4]; }
static inline void write_cr0(unsigned long v) { hvlog.cr[0] = v; }
static inline void write_cr2(unsigned long v) { hvlog.cr[2] = v; }
static inline void write_cr3(unsigned long v)
{
    hvlog.cr[3] = v;
    hvlog.cr3_writes++;
}
static inline void write_cr4(unsigned long v) { hvlog.cr[4] = v; }
static inline unsigned harness_msr_slot(uint32_t msr)
{
    return msr == MSR_FS_BASE ? 0 : msr == MSR_GS_BASE ? 1 : msr == MSR_KERNEL_GS_BASE ? 2 : 3;
}
static inline uint64_t rdmsr(uint32_t msr) { return hvlog.msr[harness_msr_slot(msr)]; }
static inline void wrmsr(uint32_t msr, uint64_t v) { hvlog.msr[harness_msr_slot(msr)] = v; }
static inline void invlpg(unsigned long va)
{
    hvlog.invlpgs++;
    hvlog.last_invlpg = va;
}
static inline void flush_tlb_local(void) { hvlog.tlb_flushes++; }
static inline void local_irq_disable(void) {}
static inline void local_irq_enable(void) {}
static inline void halt(void) {}
static inline void safe_halt(void) {}
static inline void wrgsbase_msr_user(uint64_t v) { wrmsr(MSR_KERNEL_GS_BASE, v); }

/* Per-CPU state: one CPU whose block is a global. */
#define this_cpu hv_real_this_cpu
#define guest_regs hv_real_guest_regs
#include <asm/cpu.h>
#undef this_cpu
#undef guest_regs
extern struct percpu harness_percpu;
static inline struct percpu *this_cpu(void) { return &harness_percpu; }
static inline struct cpu_regs *guest_regs(void)
{
    return (struct cpu_regs *)(this_cpu()->stack_top - sizeof(struct cpu_regs));
}

#include <hv/pv.h>
#include <hv/hypercall.h>
#include <hv/guest_access.h>
#include <hv/io.h>
#include <asm/page.h>

/* Fake machine: frames [0, HARNESS_NR_FRAMES) at DIRECTMAP_VIRT_START. */
#define HARNESS_NR_FRAMES  1024u
#define HARNESS_FIRST_FREE 16u     /* frames below are the hypervisor's */
/* The CPU's addressable frames (hv/io.h max_io_mfn): frames from
 * HARNESS_NR_FRAMES up to here are device memory, as are frames a test gives
 * to DOMID_IO inside the table. */
#define HARNESS_MAX_IO_MFN (1ull << 28)

/* The guest window: guest virtual [HARNESS_GUEST_VA, +HARNESS_GUEST_SIZE)
 * is what copy_from_guest/copy_to_guest reach; anything else faults. The
 * address lies in ASan's shadow gap, so no host object can alias it. */
#define HARNESS_GUEST_VA   0x0000010000000000ull
#define HARNESS_GUEST_SIZE (1u << 20)

/* Resets everything: machine memory zeroed, frames free except the
 * hypervisor's, no domains, no current vCPU, logs cleared. */
void harness_reset(void);
/* Creates a domain with nr_frames frames allocated and assigned the way the
 * builder does (count 1, PGF_allocated, M2P set to 0..nr-1) and one vCPU in
 * kernel mode. The frames are contiguous from *first (if first != NULL). */
struct domain *harness_domain_create(domid_t id, bool privileged, unsigned nr_frames, mfn_t *first);
/* Makes v the running vCPU (this_cpu()->current), in kernel mode. */
void harness_set_current(struct vcpu *v);
/* The guest register frame hypercalls and continuations use. */
struct cpu_regs *harness_regs(void);
/* Host pointer for a guest window address (must lie inside the window). */
void *harness_guest_ptr(uint64_t gva);
/* Bump allocator over the guest window (8-byte aligned); reset per test. */
uint64_t harness_guest_alloc(size_t bytes);
/* Writes and reads a machine frame's 64-bit slot through the direct map. */
uint64_t *harness_frame(mfn_t mfn);
/* The value idle_l4 holds in hypervisor slot s (256-271). */
uint64_t harness_hv_l4_entry(unsigned slot);
/* This CPU's GDT (what cpu_gdt() returns). */
uint64_t *harness_gdt(void);
/* Entries of the LDT last loaded with cpu_load_ldt (cpu_ldt() holds them). */
unsigned harness_ldt_loaded(void);
/* hypercall_can_continue() answers !harness_in_multicall (hypercall.c's
 * contract: no continuation inside a multicall). */
extern bool harness_in_multicall;
/* Number of frames free in the fake allocator. */
unsigned long harness_free_frames(void);

/* Recomputes every frame's count and type_count from scratch (allocation,
 * entries of validated tables, pins, vCPU base pointers and GDT frames of
 * every domain) and checks them against the frame table, together with the
 * entry rules of §5.2: targets owned by the table's owner (or, at L1 only,
 * by a live domain when the owner is privileged), of the type the level
 * needs, no forbidden bits, the US/A adjustments, L4 slots 256-271 equal to
 * idle_l4, no frame both a page table and writably mapped, and hypervisor
 * pages shared with a domain (PGF_xen_heap) never typed other than writable
 * (the hypervisor writes them without validation). Returns NULL
 * if all hold, else a description of the first violation. */
const char *harness_audit(void);
/* NULL if every frame d owns (shared hypervisor pages aside) is back to the
 * allocation-only state: count 1, no type, flags PGF_allocated only. */
const char *harness_alloc_only(const struct domain *d);

#endif

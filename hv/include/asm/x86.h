/* SPDX-License-Identifier: MIT */
/* Thin wrappers for x86 instructions: port I/O, MSRs, control registers. */
#ifndef ASM_X86_H
#define ASM_X86_H
#include <stdint.h>

#define MSR_EFER            0xc0000080
#define MSR_STAR            0xc0000081
#define MSR_LSTAR           0xc0000082
#define MSR_CSTAR           0xc0000083
#define MSR_FMASK           0xc0000084
#define MSR_FS_BASE         0xc0000100
#define MSR_GS_BASE         0xc0000101
#define MSR_KERNEL_GS_BASE  0xc0000102
#define MSR_TSC_AUX         0xc0000103
#define MSR_APIC_BASE       0x1b
#define MSR_PAT             0x277
#define PAT_XEN_VALUE       0x0000050100070406ull   /* WB WT UC- UC WC WP, as Xen */
#define MSR_MISC_ENABLE     0x1a0
#define EFER_SCE (1u << 0)
#define EFER_LME (1u << 8)
#define EFER_NXE (1u << 11)

#define X86_CR0_PE (1ul << 0)
#define X86_CR0_MP (1ul << 1)
#define X86_CR0_EM (1ul << 2)
#define X86_CR0_TS (1ul << 3)
#define X86_CR0_NE (1ul << 5)
#define X86_CR0_WP (1ul << 16)
#define X86_CR0_AM (1ul << 18)
#define X86_CR0_PG (1ul << 31)
#define X86_CR4_DE (1ul << 3)
#define X86_CR4_PAE (1ul << 5)
#define X86_CR4_MCE (1ul << 6)
#define X86_CR4_PGE (1ul << 7)
#define X86_CR4_OSFXSR (1ul << 9)
#define X86_CR4_OSXMMEXCPT (1ul << 10)
#define X86_CR4_UMIP (1ul << 11)
#define X86_CR4_FSGSBASE (1ul << 16)
#define X86_CR4_OSXSAVE (1ul << 18)
#define X86_CR4_SMEP (1ul << 20)
#define X86_CR4_SMAP (1ul << 21)

#define X86_EFLAGS_CF  0x00000001ul
#define X86_EFLAGS_TF  0x00000100ul
#define X86_EFLAGS_IF  0x00000200ul
#define X86_EFLAGS_DF  0x00000400ul
#define X86_EFLAGS_IOPL 0x00003000ul
#define X86_EFLAGS_NT  0x00004000ul
#define X86_EFLAGS_RF  0x00010000ul
#define X86_EFLAGS_VM  0x00020000ul
#define X86_EFLAGS_AC  0x00040000ul
#define X86_EFLAGS_MBS 0x00000002ul    /* bit 1 always reads as one */

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline void outw(uint16_t port, uint16_t v) { __asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port)); }
static inline uint16_t inw(uint16_t port) { uint16_t v; __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port)); }
static inline uint32_t inl(uint16_t port) { uint32_t v; __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port)); return v; }

static inline uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((uint64_t)hi << 32) | lo;
}
static inline void wrmsr(uint32_t msr, uint64_t v)
{
    __asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}
static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}
static inline void cpuid_count(uint32_t leaf, uint32_t sub, uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d)
{
    __asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(sub));
}
#define DEFINE_CR(n) \
    static inline unsigned long read_cr##n(void) { unsigned long v; __asm__ volatile("mov %%cr" #n ", %0" : "=r"(v)); return v; } \
    static inline void write_cr##n(unsigned long v) { __asm__ volatile("mov %0, %%cr" #n : : "r"(v) : "memory"); }
DEFINE_CR(0)
DEFINE_CR(2)
DEFINE_CR(3)
DEFINE_CR(4)
#undef DEFINE_CR

static inline void invlpg(unsigned long va) { __asm__ volatile("invlpg (%0)" : : "r"(va) : "memory"); }
static inline void flush_tlb_local(void) { write_cr3(read_cr3()); }
static inline void cpu_relax(void) { __asm__ volatile("pause"); }
static inline void local_irq_disable(void) { __asm__ volatile("cli" ::: "memory"); }
static inline void local_irq_enable(void) { __asm__ volatile("sti" ::: "memory"); }
static inline void halt(void) { __asm__ volatile("hlt" ::: "memory"); }
static inline void safe_halt(void) { __asm__ volatile("sti; hlt" ::: "memory"); }
static inline void wrgsbase_msr_user(uint64_t v) { wrmsr(MSR_KERNEL_GS_BASE, v); }

#endif

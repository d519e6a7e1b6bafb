/* SPDX-License-Identifier: MIT */
/*
 * The guest runtime: what a tiny x86-64 PV kernel linked against guests/lib
 * gets before its kernel_main() runs. head.S saves the registers the
 * hypervisor handed over (xen-pv-abi.md §3.8), switches to a stack in .bss,
 * and runtime_start() saves start_info and maps shared_info.
 */
#ifndef GUEST_RUNTIME_H
#define GUEST_RUNTIME_H
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <public/xen.h>

#define PAGE_SIZE 4096UL
#define VIRT_BASE 0xffffffff80000000UL

/* PTE bits (§5.2). */
#define PTE_P  (1UL << 0)
#define PTE_RW (1UL << 1)
#define PTE_US (1UL << 2)
#define PTE_A  (1UL << 5)
#define PTE_D  (1UL << 6)
#define PTE_PS (1UL << 7)
#define PTE_ADDR_MASK 0x000ffffffffff000UL

/* Registers exactly as the hypervisor entered the kernel, saved by head.S
 * before anything else runs. */
struct boot_regs {
    uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp, rsp;
    uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
    uint64_t rflags;
    uint64_t cs, ss, ds, es, fs, gs;
};
extern struct boot_regs boot_regs;

/* The hypervisor's start_info page, where it was handed to us (virtual). */
extern const struct start_info *start_info;
/* shared_info, mapped by runtime_start() at a page of our own .bss. */
extern volatile struct shared_info *shared_info;
/* vcpu_info of vCPU 0 inside shared_info. */
extern volatile struct vcpu_info *vcpu0;

/* Every kernel built on the runtime provides this; returning from it powers
 * the domain off. */
void kernel_main(void);

/* Console output through console_io (dom0's console reaches the serial port
 * directly, §A.2 CONSOLEIO_write). */
void console_write(const char *s, size_t len);
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int vprintf(const char *fmt, va_list ap);

/* Ends the domain with SCHEDOP_shutdown; never returns. */
__attribute__((noreturn)) void runtime_shutdown(unsigned reason);
/* Prints a reason and shuts down with SHUTDOWN_crash. */
__attribute__((noreturn)) void runtime_panic(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/* Frames of the initial 1:1 region: kernel PFN n lives at VIRT_BASE + n*4096. */
static inline uint64_t va_to_pfn(const volatile void *va)
{
    return ((uint64_t)(uintptr_t)va - VIRT_BASE) >> 12;
}
static inline void *pfn_to_va(uint64_t pfn)
{
    return (void *)(uintptr_t)(VIRT_BASE + (pfn << 12));
}
/* p2m lookup (start_info.mfn_list); ~0 for a PFN beyond nr_pages. */
uint64_t pfn_to_mfn(uint64_t pfn);
static inline uint64_t va_to_mfn(const volatile void *va)
{
    return pfn_to_mfn(va_to_pfn(va));
}
static inline const volatile uint64_t *m2p_table(void)
{
    return (const volatile uint64_t *)(uintptr_t)MACH2PHYS_VIRT_START;
}

/*
 * Reads the page-table entry that maps `va` at `level` (1 = L1 ... 4 = L4) by
 * walking the current guest tables (pt_base), reading each table through its
 * 1:1 kernel mapping. Returns false when the walk leaves the initial region
 * or meets a non-present entry above `level`.
 */
/* A number from the kernel command line (key=N, decimal or 0x hex); dflt
 * when absent, junk, 0 or above max. */
uint64_t cmdline_number(const char *key, uint64_t dflt, uint64_t max);

bool pt_read_entry(uint64_t va, int level, uint64_t *pte);

/*
 * Memory probes that survive a fault once traps_install() has run: they
 * return 0 on success, or the vector number + 1 of the exception that was
 * delivered (error code and cr2 are then in probe_fault).
 */
struct probe_fault {
    uint64_t vector;
    uint64_t error_code;
    uint64_t cr2;
};
extern struct probe_fault probe_fault;
int probe_read_u64(uint64_t va, uint64_t *out);
int probe_write_u64(uint64_t va, uint64_t value);

/* Small helpers. */
static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}
#define barrier() __asm__ volatile("" ::: "memory")
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif

/* SPDX-License-Identifier: MIT */
/*
 * Exceptions and software interrupts delivered by the hypervisor through the
 * virtual IDT (set_trap_table, xen-pv-abi.md §4.3) and bounce frames (§4.4).
 */
#ifndef GUEST_TRAPS_H
#define GUEST_TRAPS_H
#include <stdbool.h>
#include <stdint.h>

/* What trap_entry.S saves: general registers (lowest address first), then the
 * vector and error code (0 when the vector has none), then the interrupted
 * rip, cs, rflags, rsp, ss exactly as the bounce frame gave them. Handlers
 * may change any field; the iret hypercall resumes from it. */
struct trap_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector;
    uint64_t error_code;
    uint64_t rip, cs, rflags, rsp, ss;
};
_Static_assert(sizeof(struct trap_frame) == 22 * 8, "trap_entry.S layout");

#define TRAP_DE 0
#define TRAP_DB 1
#define TRAP_BP 3
#define TRAP_UD 6
#define TRAP_NM 7
#define TRAP_GP 13
#define TRAP_PF 14
#define RFLAGS_IF (1UL << 9)

/* Returns true when it dealt with the trap; false makes the runtime report
 * it as unhandled and crash the domain. */
typedef bool (*trap_handler_fn)(struct trap_frame *f);

/* Registers the runtime's entry stubs for vectors 0-31 (DPL 0, except 3 and
 * 4 which are DPL 3 so int3/into work from the kernel's virtual CPL 1), all
 * with the "mask events" flag. Returns the set_trap_table result. */
long traps_install(void);
/* Adds or changes one virtual IDT entry and reloads the table. `dpl` is the
 * lowest privilege allowed to reach it with `int n` (§4.3). */
long traps_set_vector(unsigned vector, unsigned dpl, trap_handler_fn handler);
/* Removes one entry from the virtual IDT and reloads the table. */
long traps_clear_vector(unsigned vector);
/* Sets only the C handler of an already installed vector. */
void traps_set_handler(unsigned vector, trap_handler_fn handler);
/* The #PF address the hypervisor stored in vcpu_info.arch.cr2 (§4.3). */
uint64_t trap_cr2(void);

#endif

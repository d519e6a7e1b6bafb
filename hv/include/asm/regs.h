/* SPDX-License-Identifier: MIT */
/*
 * The register frame every entry into the hypervisor builds at the top of the
 * per-CPU stack. The order follows Xen's cpu_user_regs (xen-pv-abi.md §A.1)
 * up to the hardware iret frame, so guest contexts can be copied in and out.
 * Assembly uses the REGS_* offsets below; the static assertions keep them true.
 */
#ifndef ASM_REGS_H
#define ASM_REGS_H

#define REGS_R15 0
#define REGS_R11 48
#define REGS_RAX 80
#define REGS_RCX 88
#define REGS_ERROR_CODE 120
#define REGS_ENTRY_VECTOR 124
#define REGS_RIP 128
#define REGS_CS 136
#define REGS_RFLAGS 144
#define REGS_RSP 152
#define REGS_SS 160
#define REGS_SIZE 168

#define ENTRY_VECTOR_SYSCALL 0x100   /* entry_vector value for the syscall path */

/* Per-CPU block offsets, addressed through %gs in the hypervisor. */
#define PERCPU_SELF 0
#define PERCPU_STACK_TOP 8
#define PERCPU_GUEST_RSP 16

#ifndef __ASSEMBLER__
#include <stdint.h>
#include <stddef.h>

struct cpu_regs {
    uint64_t r15, r14, r13, r12, rbp, rbx, r11, r10, r9, r8;
    uint64_t rax, rcx, rdx, rsi, rdi;
    uint32_t error_code;
    uint32_t entry_vector;
    uint64_t rip, cs, rflags, rsp, ss;    /* hardware iret frame */
};
_Static_assert(offsetof(struct cpu_regs, r11) == REGS_R11, "r11");
_Static_assert(offsetof(struct cpu_regs, rax) == REGS_RAX, "rax");
_Static_assert(offsetof(struct cpu_regs, rcx) == REGS_RCX, "rcx");
_Static_assert(offsetof(struct cpu_regs, error_code) == REGS_ERROR_CODE, "error_code");
_Static_assert(offsetof(struct cpu_regs, rip) == REGS_RIP, "rip");
_Static_assert(offsetof(struct cpu_regs, cs) == REGS_CS, "cs");
_Static_assert(offsetof(struct cpu_regs, ss) == REGS_SS, "ss");
_Static_assert(sizeof(struct cpu_regs) == REGS_SIZE, "size");

static inline int regs_from_guest(const struct cpu_regs *r) { return (r->cs & 3) == 3; }
#endif
#endif

/* SPDX-License-Identifier: MIT */
/*
 * Exception and event entry points. The hypervisor enters them with a bounce
 * frame on the stack (xen-pv-abi.md §4.4): rcx, r11, [error code], rip, cs,
 * rflags, rsp, ss. Each stub pops rcx/r11 back into place, pushes a uniform
 * (vector, error code) pair and joins trap_common, which saves the other
 * registers as a struct trap_frame, calls C, and returns with the iret
 * hypercall (§4.5) so the frame's rflags.IF restores the event mask.
 */
#include <public/xen.h>

#define EVENT_VECTOR 256

    .text
    .balign 16
trap_common:
    pushq %rax
    pushq %rbx
    pushq %rcx
    pushq %rdx
    pushq %rsi
    pushq %rdi
    pushq %rbp
    pushq %r8
    pushq %r9
    pushq %r10
    pushq %r11
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, %rdi
    /* The frame is only 8-byte aligned; C wants 16. rbx is saved above. */
    movq %rsp, %rbx
    andq $-16, %rsp
    call trap_dispatch
    movq %rbx, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %r11
    popq %r10
    popq %r9
    popq %r8
    popq %rbp
    popq %rdi
    popq %rsi
    popq %rdx
    popq %rcx
    popq %rbx
    popq %rax
    /*
     * Drop (vector, error code): rsp now points at rip, the bottom of the
     * rip/cs/rflags/rsp/ss part of the iret frame. Push the rest below it.
     */
    addq $16, %rsp
    pushq $0                    /* flags: not VGCF_in_syscall, restore rcx/r11 */
    pushq %rcx
    pushq %r11
    pushq %rax
    movl $__HYPERVISOR_iret, %eax
    syscall
    /* iret does not return; if it ever does, stop here visibly. */
    ud2

/* Vectors that push an error code (§4.3). */
#define HAS_ERROR_CODE(v) ((v) == 8 || ((v) >= 10 && (v) <= 14) || (v) == 17 || (v) == 21)

    .pushsection .rodata
    .balign 8
    .globl trap_stubs
trap_stubs:
    .popsection

    .set vec, 0
    .rept 256
    .balign 8
1:  popq %rcx
    popq %r11
    .if !HAS_ERROR_CODE(vec)
    pushq $0
    .endif
    pushq $vec
    jmp trap_common
    .pushsection .rodata
    .quad 1b
    .popsection
    .set vec, vec + 1
    .endr

    .globl event_upcall_entry
    .balign 16
event_upcall_entry:
    popq %rcx
    popq %r11
    pushq $0
    pushq $EVENT_VECTOR
    jmp trap_common

/*
 * Probes: each instruction that may fault has a fixup that trap_dispatch
 * jumps to with rax = vector + 1 (probe.c keeps the table).
 */
    .globl probe_read_u64, probe_read_at, probe_read_done
probe_read_u64:
    xorl %eax, %eax
probe_read_at:
    movq (%rdi), %rdx
    movq %rdx, (%rsi)
probe_read_done:
    ret

    .globl probe_write_u64, probe_write_at, probe_write_done
probe_write_u64:
    xorl %eax, %eax
probe_write_at:
    movq %rsi, (%rdi)
probe_write_done:
    ret

/* SPDX-License-Identifier: MIT */
/*
 * Every way into the hypervisor and the one way back to a guest.
 *
 * Contract of all entries: on arrival from ring 3 we `swapgs` so %gs is the
 * per-CPU block (the guest's active GS base parks in KERNEL_GS_BASE), build a
 * struct cpu_regs (asm/regs.h) at the top of the per-CPU stack, and call C
 * with %rdi = that frame and interrupts off. Guests resume only through
 * return_to_guest, which lets C schedule, deliver events and sanitise the
 * frame before the iretq. Entries from ring 0 (faults in the hypervisor, or
 * interrupts while idle) return straight to where they came from.
 */
#include <asm/regs.h>
#include <public/xen.h>

.macro SAVE_GPRS
    push    %rdi
    push    %rsi
    push    %rdx
    push    %rcx
    push    %rax
    push    %r8
    push    %r9
    push    %r10
    push    %r11
    push    %rbx
    push    %rbp
    push    %r12
    push    %r13
    push    %r14
    push    %r15
.endm

.macro RESTORE_GPRS
    pop     %r15
    pop     %r14
    pop     %r13
    pop     %r12
    pop     %rbp
    pop     %rbx
    pop     %r11
    pop     %r10
    pop     %r9
    pop     %r8
    pop     %rax
    pop     %rcx
    pop     %rdx
    pop     %rsi
    pop     %rdi
.endm

    .text
/* Exceptions and interrupts. Stubs make the error-code slot uniform: the CPU
 * pushed an error code for vectors 8, 10-14, 17, 21, 29 and 30; the others
 * push 0. The vector goes in the upper half of the slot. */
.macro IDT_STUB vec
    .balign 16
idt_stub_\vec:
    .if !(\vec == 8 || (\vec >= 10 && \vec <= 14) || \vec == 17 || \vec == 21 || \vec == 29 || \vec == 30)
    pushq   $0
    .endif
    movl    $\vec, 4(%rsp)
    jmp     common_trap
.endm

.altmacro
.macro IDT_STUBS from, to
    IDT_STUB %from
    .if \to-\from
    IDT_STUBS %(\from+1), \to
    .endif
.endm
    IDT_STUBS 0, 63
    IDT_STUBS 64, 127
    IDT_STUBS 128, 191
    IDT_STUBS 192, 255

common_trap:
    testb   $3, 16(%rsp)                /* CS of the interrupted context */
    jz      1f
    swapgs
1:  SAVE_GPRS
    cld
    mov     %rsp, %rdi
    call    handle_trap
    testb   $3, REGS_CS(%rsp)
    jnz     return_to_guest
    RESTORE_GPRS
    add     $8, %rsp
    iretq

/* syscall from ring 3 (64-bit code): a hypercall from guest kernel mode, or a
 * system call from guest user mode to bounce to the guest kernel. SFMASK has
 * cleared IF, so the stack switch below cannot be interrupted. */
    .globl syscall_entry
syscall_entry:
    swapgs
    mov     %rsp, %gs:PERCPU_GUEST_RSP
    mov     %gs:PERCPU_STACK_TOP, %rsp
    pushq   $FLAT_USER_SS
    pushq   %gs:PERCPU_GUEST_RSP
    pushq   %r11
    pushq   $FLAT_USER_CS
    pushq   %rcx
    sub     $8, %rsp
    movl    $0, (%rsp)
    movl    $ENTRY_VECTOR_SYSCALL, 4(%rsp)
    SAVE_GPRS
    cld
    mov     %rsp, %rdi
    call    handle_syscall
    jmp     return_to_guest

/* syscall from 32-bit compatibility-mode code. */
    .globl syscall32_entry
syscall32_entry:
    swapgs
    mov     %rsp, %gs:PERCPU_GUEST_RSP
    mov     %gs:PERCPU_STACK_TOP, %rsp
    pushq   $FLAT_USER_SS
    pushq   %gs:PERCPU_GUEST_RSP
    pushq   %r11
    pushq   $FLAT_RING3_CS32
    pushq   %rcx
    sub     $8, %rsp
    movl    $0, (%rsp)
    movl    $(ENTRY_VECTOR_SYSCALL + 1), 4(%rsp)
    SAVE_GPRS
    cld
    mov     %rsp, %rdi
    call    handle_syscall
    jmp     return_to_guest

/* %rsp = the guest frame at the top of the stack. C may switch which vCPU the
 * frame belongs to, idle, and rewrite it; it returns with interrupts off. */
    .globl return_to_guest
return_to_guest:
    mov     %rsp, %rdi
    call    prepare_guest_return
    RESTORE_GPRS
    add     $8, %rsp
    swapgs
    iretq

/* First entry into guests on this CPU: an empty frame, then the return path
 * (the scheduler fills the frame from the vCPU it picks). Called with %gs set. */
    .globl enter_guests
enter_guests:
    mov     %gs:PERCPU_STACK_TOP, %rsp
    sub     $REGS_SIZE, %rsp
    movq    $FLAT_USER_CS, REGS_CS(%rsp)
    jmp     return_to_guest

/* size_t copy_guest_bytes(void *dst, const void *src, size_t n): copies with
 * the current page tables and returns the number of bytes NOT copied (0 on
 * success). A fault inside is fixed up through the exception table. */
    .globl copy_guest_bytes
copy_guest_bytes:
    mov     %rdx, %rcx
2:  rep movsb
    xor     %eax, %eax
    ret
3:  mov     %rcx, %rax
    ret

    .section .ex_table, "a"
    .balign 8
    .quad   2b, 3b

    .section .rodata
    .balign 8
    .globl idt_stub_table
idt_stub_table:
.macro STUB_ADDR vec
    .quad   idt_stub_\vec
.endm
.macro STUB_ADDRS from, to
    STUB_ADDR %from
    .if \to-\from
    STUB_ADDRS %(\from+1), \to
    .endif
.endm
    STUB_ADDRS 0, 63
    STUB_ADDRS 64, 127
    STUB_ADDRS 128, 191
    STUB_ADDRS 192, 255

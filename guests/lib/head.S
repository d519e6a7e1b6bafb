/* SPDX-License-Identifier: MIT */
/*
 * Entry of every kernel built on the guest runtime, and the Xen ELF notes
 * that let a PV domain builder load it (xen-pv-abi.md §3.2, §3.8).
 */
#include <public/elfnote.h>

/* One "Xen" note: namesz 4, descsz, type, then the descriptor. */
.macro xen_note_begin type
    .pushsection .note.Xen, "a", @note
    .balign 4
    .long 4
    .long 2f - 1f
    .long \type
    .asciz "Xen"
    .balign 4
1:
.endm
.macro xen_note_end
2:  .balign 4
    .popsection
.endm
.macro xen_note_str type, str
    xen_note_begin \type
    .asciz "\str"
    xen_note_end
.endm
.macro xen_note_quad type, value
    xen_note_begin \type
    .quad \value
    xen_note_end
.endm

    xen_note_str XEN_ELFNOTE_XEN_VERSION, "xen-3.0"
    xen_note_str XEN_ELFNOTE_GUEST_OS, "Lamina"
    xen_note_str XEN_ELFNOTE_LOADER, "generic"
    xen_note_quad XEN_ELFNOTE_VIRT_BASE, 0xffffffff80000000
    xen_note_quad XEN_ELFNOTE_PADDR_OFFSET, 0
    xen_note_quad XEN_ELFNOTE_ENTRY, _start

#define BOOT_STACK_SIZE (16 * 4096)

    .section .text.entry, "ax"
    .globl _start
_start:
    /*
     * Record the state the hypervisor entered with before touching any
     * register, so the entry_state guest can check it against §3.8. Only
     * stores until the flags are saved: mov changes no flag.
     */
    movq %rax, boot_regs + 0(%rip)
    movq %rbx, boot_regs + 8(%rip)
    movq %rcx, boot_regs + 16(%rip)
    movq %rdx, boot_regs + 24(%rip)
    movq %rsi, boot_regs + 32(%rip)
    movq %rdi, boot_regs + 40(%rip)
    movq %rbp, boot_regs + 48(%rip)
    movq %rsp, boot_regs + 56(%rip)
    movq %r8, boot_regs + 64(%rip)
    movq %r9, boot_regs + 72(%rip)
    movq %r10, boot_regs + 80(%rip)
    movq %r11, boot_regs + 88(%rip)
    movq %r12, boot_regs + 96(%rip)
    movq %r13, boot_regs + 104(%rip)
    movq %r14, boot_regs + 112(%rip)
    movq %r15, boot_regs + 120(%rip)
    /* The builder's boot stack is ours to use for one push. */
    pushfq
    popq boot_regs + 128(%rip)
    movq %cs, %rax
    movq %rax, boot_regs + 136(%rip)
    movq %ss, %rax
    movq %rax, boot_regs + 144(%rip)
    movq %ds, %rax
    movq %rax, boot_regs + 152(%rip)
    movq %es, %rax
    movq %rax, boot_regs + 160(%rip)
    movq %fs, %rax
    movq %rax, boot_regs + 168(%rip)
    movq %gs, %rax
    movq %rax, boot_regs + 176(%rip)

    cld
    /* Our own stack, so the builder's boot-stack page stays untouched. */
    leaq boot_stack_top(%rip), %rsp
    xorl %ebp, %ebp
    movq %rsi, %rdi
    call runtime_start
    /* runtime_start never returns; stop hard if it ever does. */
    ud2

    .section .bss.stack, "aw", @nobits
    .balign 4096
boot_stack:
    .skip BOOT_STACK_SIZE
boot_stack_top:

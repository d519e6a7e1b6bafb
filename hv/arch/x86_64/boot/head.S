/* SPDX-License-Identifier: MIT */
/*
 * First instructions. One image boots through both multiboot protocols: a
 * multiboot1 header with the a.out kludge (QEMU's -kernel) and a multiboot2
 * header with the address and entry tags (GRUB). Both loaders then copy the
 * file as raw bytes to HV_LOAD_PHYS and jump to start32 in 32-bit protected
 * mode with paging off. We build boot page tables (identity for the first
 * 4 GiB, the same 4 GiB at DIRECTMAP_VIRT_START, and the image at its linked
 * address), enter long mode, and call start_hv(magic, info_phys).
 *
 * The 32-bit code runs at physical addresses while everything is linked at
 * HV_IMAGE_VIRT_OFFSET + phys, hence the PHYS() arithmetic.
 */
#include <hv/layout.h>

#define PHYS(x) ((x) - HV_IMAGE_VIRT_OFFSET)
#define MB1_MAGIC       0x1BADB002
#define MB1_FLAGS       0x00010003      /* page-align modules, memory info, a.out kludge */
#define MB2_MAGIC       0xE85250D6
#define PTE_P_RW        0x3
#define PTE_P_RW_PS     0x83
#define EFER_MSR        0xC0000080
#define EFER_LME_NXE    ((1 << 8) | (1 << 11))
#define COM1            0x3f8

    .section .text.boot, "ax"
    .code32
    .balign 8
mb1_header:
    .long MB1_MAGIC
    .long MB1_FLAGS
    .long -(MB1_MAGIC + MB1_FLAGS)
    .long PHYS(mb1_header)
    .long PHYS(__image_start)
    .long PHYS(__load_end)
    .long PHYS(__bss_end)
    .long PHYS(start32)

    .balign 8
mb2_header:
    .long MB2_MAGIC
    .long 0                             /* i386 protected mode */
    .long mb2_header_end - mb2_header
    .long -(MB2_MAGIC + (mb2_header_end - mb2_header))
    /* address tag: load the file as raw bytes, like the a.out kludge */
    .short 2, 0
    .long 24
    .long PHYS(mb2_header)
    .long PHYS(__image_start)
    .long PHYS(__load_end)
    .long PHYS(__bss_end)
    /* entry address tag */
    .short 3, 0
    .long 12
    .long PHYS(start32)
    .long 0                             /* pad to 8 */
    /* module alignment tag: page-align modules */
    .short 6, 0
    .long 8
    /* end tag */
    .short 0, 0
    .long 8
mb2_header_end:

/* Entry from either loader: %eax = loader magic, %ebx = physical info pointer. */
    .globl start32
start32:
    cli
    cld
    mov     %eax, PHYS(boot_loader_magic)
    mov     %ebx, PHYS(boot_loader_info)
    mov     $PHYS(boot_stack_top), %esp

    /* Zero .bss (loaders differ in whether they do). */
    mov     $PHYS(__bss_start), %edi
    mov     $PHYS(__bss_end), %ecx
    sub     %edi, %ecx
    xor     %eax, %eax
    rep stosb

    /* Long mode must exist: CPUID 0x80000001 EDX bit 29. */
    mov     $0x80000000, %eax
    cpuid
    cmp     $0x80000001, %eax
    jb      no_long_mode
    mov     $0x80000001, %eax
    cpuid
    bt      $29, %edx
    jnc     no_long_mode

    /* Four L2 tables of 2 MiB pages map physical 0..4 GiB. */
    mov     $PHYS(boot_l2), %edi
    xor     %ecx, %ecx
1:  mov     %ecx, %eax
    shl     $21, %eax
    or      $PTE_P_RW_PS, %eax
    mov     %eax, (%edi,%ecx,8)
    movl    $0, 4(%edi,%ecx,8)
    inc     %ecx
    cmp     $2048, %ecx
    jne     1b

    /* L3 for the identity map and the direct map: four entries, one per GiB. */
    mov     $PHYS(boot_l3_low), %edi
    mov     $PHYS(boot_l2) + PTE_P_RW, %eax
    mov     %eax, 0(%edi)
    add     $4096, %eax
    mov     %eax, 8(%edi)
    add     $4096, %eax
    mov     %eax, 16(%edi)
    add     $4096, %eax
    mov     %eax, 24(%edi)

    /* L3 for the image slot: the first GiB at HV_IMAGE_VIRT_OFFSET. */
    mov     $PHYS(boot_l3_image), %edi
    mov     $PHYS(boot_l2) + PTE_P_RW, %eax
    mov     %eax, ((HV_IMAGE_VIRT_OFFSET >> 30) & 511) * 8(%edi)

    mov     $PHYS(boot_l4), %edi
    mov     $PHYS(boot_l3_low) + PTE_P_RW, %eax
    mov     %eax, 0(%edi)
    mov     %eax, L4_SLOT_DIRECTMAP * 8(%edi)
    mov     $PHYS(boot_l3_image) + PTE_P_RW, %eax
    mov     %eax, L4_SLOT_IMAGE * 8(%edi)

    /* PAE, then CR3, EFER.LME|NXE, then paging + write protect. */
    mov     %cr4, %eax
    or      $(1 << 5), %eax
    mov     %eax, %cr4
    mov     %edi, %cr3
    mov     $EFER_MSR, %ecx
    rdmsr
    or      $EFER_LME_NXE, %eax
    wrmsr
    mov     %cr0, %eax
    or      $0x80010001, %eax
    mov     %eax, %cr0

    lgdt    PHYS(boot_gdt_ptr)
    ljmp    $8, $PHYS(start64_low)

no_long_mode:
    mov     $PHYS(no_lm_msg), %esi
2:  lodsb
    test    %al, %al
    jz      3f
    mov     $COM1, %dx
    out     %al, %dx
    jmp     2b
3:  hlt
    jmp     3b

    .code64
start64_low:
    movabs  $start64, %rax
    jmp     *%rax

    .text
start64:
    lea     boot_gdt_ptr_high(%rip), %rax
    lgdt    (%rax)
    xor     %eax, %eax
    mov     %eax, %ds
    mov     %eax, %es
    mov     %eax, %ss
    mov     %eax, %fs
    mov     %eax, %gs
    lea     boot_stack_top(%rip), %rsp
    mov     boot_loader_magic(%rip), %edi
    mov     boot_loader_info(%rip), %esi
    call    start_hv
4:  hlt
    jmp     4b

    .section .rodata.boot, "a"
no_lm_msg:
    .asciz  "Lamina: this CPU has no long mode\r\n"
    .balign 8
boot_gdt:
    .quad   0
    .quad   0x00af9a000000ffff          /* 64-bit ring-0 code, selector 8 */
    .quad   0x00cf92000000ffff          /* data, selector 16 */
boot_gdt_end:
boot_gdt_ptr:
    .short  boot_gdt_end - boot_gdt - 1
    .long   PHYS(boot_gdt)
    .balign 8
boot_gdt_ptr_high:
    .short  boot_gdt_end - boot_gdt - 1
    .quad   boot_gdt

    .data
    .balign 4
    .globl boot_loader_magic, boot_loader_info
boot_loader_magic: .long 0
boot_loader_info:  .long 0

    .section .bss.boot, "aw", @nobits
    .balign 4096
    .globl boot_l4
boot_l4:        .skip 4096
boot_l3_low:    .skip 4096
boot_l3_image:  .skip 4096
boot_l2:        .skip 4 * 4096
    .globl boot_stack_top
boot_stack:     .skip STACK_SIZE
boot_stack_top:

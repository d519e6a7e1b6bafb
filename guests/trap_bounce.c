/* SPDX-License-Identifier: MIT */
/*
 * trap_bounce: exceptions and software interrupts reach the handlers of the
 * virtual IDT with the bounce frame of xen-pv-abi.md §4.4, and the iret
 * hypercall (§4.5) resumes from a frame the handler may have changed.
 */
#include <lamina/string.h>
#include <guest/hypercall.h>
#include <guest/runtime.h>
#include <guest/test.h>
#include <guest/traps.h>

#define KERNEL_CS_RPL0 (FLAT_KERNEL_CS & ~3U)
#define UNMAPPED_VA 0x1000UL
#define NONCANONICAL_VA 0x8000000000000000UL

/* What the last handler saw. */
static struct trap_frame seen;
static uint64_t seen_cr2, seen_mask, seen_count;
static uint64_t skip_bytes;           /* how far the handler moves rip */
static uint64_t set_rax;              /* non-zero: the handler writes it to rax */
static int rflags_if_action;          /* 1 set IF in the frame, -1 clear it, 0 keep */

static bool record(struct trap_frame *f)
{
    seen = *f;
    seen_cr2 = f->vector == TRAP_PF ? trap_cr2() : 0;
    seen_mask = vcpu0->evtchn_upcall_mask;
    seen_count++;
    f->rip += skip_bytes;
    if (set_rax)
        f->rax = set_rax;
    if (rflags_if_action > 0)
        f->rflags |= RFLAGS_IF;
    else if (rflags_if_action < 0)
        f->rflags &= ~RFLAGS_IF;
    return true;
}

static void arm(uint64_t skip)
{
    memset(&seen, 0, sizeof(seen));
    seen_cr2 = 0;
    seen_count = 0;
    skip_bytes = skip;
    set_rax = 0;
    rflags_if_action = 0;
}

/*
 * Instruction sites with known addresses. do_int3 stores rsp at the int3
 * into out[2], loads known values into rcx, r11 and rax, and after the trap
 * stores rcx and r11 into out[0..1] and returns rax.
 */
__asm__(
    ".text\n"
    ".globl site_int3, site_int3_after\n"
    "do_int3:\n"
    "  movq %rsp, 16(%rdi)\n"
    "  movq $0x1111, %rcx\n"
    "  movq $0x2222, %r11\n"
    "  movq $0x3333, %rax\n"
    "site_int3: int3\n"
    "site_int3_after:\n"
    "  movq %rcx, (%rdi)\n"
    "  movq %r11, 8(%rdi)\n"
    "  ret\n"
    ".globl site_ud2\n"
    "do_ud2:\n"
    "site_ud2: ud2\n"
    "  ret\n"
    ".globl site_gp\n"
    "do_gp:\n"
    "  movabsq $0x8000000000000000, %rax\n"
    "site_gp: movq (%rax), %rax\n"      /* 3 bytes: 48 8b 00 */
    "  ret\n"
    ".globl site_pf_read\n"
    "do_pf_read:\n"
    "site_pf_read: movq (%rdi), %rax\n" /* 3 bytes */
    "  ret\n"
    ".globl site_pf_write\n"
    "do_pf_write:\n"
    "site_pf_write: movq %rsi, (%rdi)\n" /* 3 bytes */
    "  ret\n"
    ".globl site_int80, site_int80_after\n"
    "do_int80:\n"
    "site_int80: int $0x80\n"
    "site_int80_after: ret\n"
    ".globl site_int81\n"
    "do_int81:\n"
    "site_int81: int $0x81\n"
    "  ret\n"
    ".globl site_int82\n"
    "do_int82:\n"
    "site_int82: int $0x82\n"
    "  ret\n"
    ".globl site_int83, site_int83_after\n"
    "do_int83:\n"
    "site_int83: int $0x83\n"
    "site_int83_after: ret\n");

uint64_t do_int3(uint64_t out[3]);
void do_ud2(void);
void do_gp(void);
uint64_t do_pf_read(uint64_t va);
void do_pf_write(uint64_t va, uint64_t value);
void do_int80(void);
void do_int81(void);
void do_int82(void);
void do_int83(void);
extern const char site_int3[], site_int3_after[], site_ud2[], site_gp[];
extern const char site_pf_read[], site_pf_write[];
extern const char site_int80[], site_int80_after[], site_int81[], site_int82[];
extern const char site_int83[], site_int83_after[];

static uint64_t addr(const char *p)
{
    return (uint64_t)(uintptr_t)p;
}

static void test_int3(void)
{
    uint64_t regs_after[3];

    /* Events masked going in: the frame must say so (§4.4). */
    vcpu0->evtchn_upcall_mask = 1;
    arm(0);
    set_rax = 0x4444;
    uint64_t rax = do_int3(regs_after);
    check_int("int3_delivered", (int64_t)seen_count, 1);
    check_hex("int3_vector", seen.vector, TRAP_BP);
    /* int3 is a trap: rip is the next instruction. */
    check_hex("int3_rip_after_insn", seen.rip, addr(site_int3_after));
    /* §4.4: kernel mode -> cs RPL cleared; bits 32-39 = previous mask. */
    check_hex("int3_cs_rpl_cleared", seen.cs & 0xffff, KERNEL_CS_RPL0);
    check_hex("int3_cs_saved_mask", (seen.cs >> 32) & 0xff, 1);
    /* §4.4: rflags.IF = !previous mask. */
    check_hex("int3_rflags_if_clear", seen.rflags & RFLAGS_IF, 0);
    check_hex("int3_ss", seen.ss & 0xffff, FLAT_KERNEL_SS);
    /* §4.4: the interrupted rcx and r11 sit at the bottom of the frame. */
    check_hex("int3_frame_rcx", seen.rcx, 0x1111);
    check_hex("int3_frame_r11", seen.r11, 0x2222);
    check_hex("int3_frame_rax", seen.rax, 0x3333);
    /* §4.5: iret restores rcx/r11 (flags 0) and rax from the frame. */
    check_hex("iret_restores_rcx", regs_after[0], 0x1111);
    check_hex("iret_restores_r11", regs_after[1], 0x2222);
    check_hex("iret_rax_from_frame", rax, 0x4444);
    /* §4.4: the interrupted rsp is the stack of the interrupted code. */
    check_hex("int3_frame_rsp", seen.rsp, regs_after[2]);
}

static void test_event_mask_and_if(void)
{
    uint64_t regs[3];

    /* Entry with events enabled: mask goes to 1 (trap flag bit 2), the
     * frame's IF says enabled, bits 32-39 hold the old mask 0 (§4.3, §4.4). */
    vcpu0->evtchn_upcall_mask = 0;
    barrier();
    arm(0);
    do_int3(regs);
    check_int("mask_set_on_entry", (int64_t)seen_mask, 1);
    check_hex("frame_if_when_unmasked", seen.rflags & RFLAGS_IF, RFLAGS_IF);
    check_hex("frame_saved_mask_zero", (seen.cs >> 32) & 0xff, 0);
    /* §4.5: iret restores the mask from the frame: IF set -> mask 0. */
    check_int("iret_if_set_unmasks", vcpu0->evtchn_upcall_mask, 0);

    /* Clearing IF in the frame leaves events masked after iret. */
    arm(0);
    rflags_if_action = -1;
    do_int3(regs);
    check_int("iret_if_clear_masks", vcpu0->evtchn_upcall_mask, 1);

    /* Setting IF in the frame of a masked trap unmasks after iret. */
    vcpu0->evtchn_upcall_mask = 1;
    arm(0);
    rflags_if_action = 1;
    do_int3(regs);
    check_int("iret_if_forced_unmasks", vcpu0->evtchn_upcall_mask, 0);
    vcpu0->evtchn_upcall_mask = 1;
}

static void test_faults(void)
{
    /* #UD: a fault, rip at the instruction; no error code (§4.3). */
    arm(2);
    do_ud2();
    check_hex("ud_vector", seen.vector, TRAP_UD);
    check_hex("ud_rip_at_insn", seen.rip, addr(site_ud2));
    check_hex("ud_cs_rpl_cleared", seen.cs & 0xffff, KERNEL_CS_RPL0);

    /* #GP(0) from a non-canonical access. */
    arm(3);
    do_gp();
    check_hex("gp_vector", seen.vector, TRAP_GP);
    check_hex("gp_rip_at_insn", seen.rip, addr(site_gp));
    check_hex("gp_error_code", seen.error_code, 0);

    /* #PF read of an unmapped user address: error code 0 (not present,
     * read, U/S clear in kernel mode although the CPU ran in ring 3, §4.3). */
    arm(3);
    do_pf_read(UNMAPPED_VA);
    check_hex("pf_read_vector", seen.vector, TRAP_PF);
    check_hex("pf_read_rip", seen.rip, addr(site_pf_read));
    check_hex("pf_read_error_code", seen.error_code, 0);
    check_hex("pf_read_cr2", seen_cr2, UNMAPPED_VA);

    /* #PF write to unmapped: W set. */
    arm(3);
    do_pf_write(UNMAPPED_VA + 8, 1);
    check_hex("pf_write_error_code", seen.error_code, 2);
    check_hex("pf_write_cr2", seen_cr2, UNMAPPED_VA + 8);

    /* #PF write to a present read-only page (our L4): P|W, U/S clear. An
     * L4 is never emulated as a writable page table (§5.6). */
    arm(3);
    do_pf_write(start_info->pt_base + 8 * 16, 0);
    check_hex("pf_protection_error_code", seen.error_code, 3);
    check_hex("pf_protection_cr2", seen_cr2, start_info->pt_base + 8 * 16);
    check_hex("pf_us_bit_clear", seen.error_code & 4, 0);
}

static void test_int_n(void)
{
    /* §4.3: int n reaches a handler whose DPL >= the kernel's virtual CPL
     * (1); rip is after the 2-byte instruction. */
    check_int("set_vector_0x80_dpl3", traps_set_vector(0x80, 3, record), 0);
    check_int("set_vector_0x81_dpl0", traps_set_vector(0x81, 0, record), 0);
    check_int("set_vector_0x83_dpl1", traps_set_vector(0x83, 1, record), 0);
    traps_set_handler(TRAP_GP, record);

    arm(0);
    do_int80();
    check_hex("int80_vector", seen.vector, 0x80);
    check_hex("int80_rip_after", seen.rip, addr(site_int80_after));

    arm(0);
    do_int83();
    check_hex("int83_dpl1_vector", seen.vector, 0x83);
    check_hex("int83_dpl1_rip_after", seen.rip, addr(site_int83_after));

    /* DPL 0 < CPL 1: #GP with error code (n << 3) | 2, rip at the int. */
    arm(2);
    do_int81();
    check_hex("int81_dpl0_gp", seen.vector, TRAP_GP);
    check_hex("int81_gp_error_code", seen.error_code, (0x81 << 3) | 2);
    check_hex("int81_gp_rip", seen.rip, addr(site_int81));

    /* No handler at all: the same #GP. */
    arm(2);
    do_int82();
    check_hex("int82_unset_gp", seen.vector, TRAP_GP);
    check_hex("int82_gp_error_code", seen.error_code, (0x82 << 3) | 2);
    check_hex("int82_gp_rip", seen.rip, addr(site_int82));
}

void kernel_main(void)
{
    test_begin("trap_bounce");
    check_int("set_trap_table", traps_install(), 0);
    traps_set_handler(TRAP_BP, record);
    traps_set_handler(TRAP_UD, record);
    traps_set_handler(TRAP_GP, record);
    traps_set_handler(TRAP_PF, record);
    test_int3();
    test_event_mask_and_if();
    test_faults();
    test_int_n();
    test_finish();
}

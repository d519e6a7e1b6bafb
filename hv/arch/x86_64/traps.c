/* SPDX-License-Identifier: MIT */
/*
 * Where every exception and interrupt lands. From a guest: hand it to the PV
 * trap code (which bounces it to the guest or kills only that guest). From
 * the hypervisor itself: a fault at an address in the exception table is an
 * expected guest-memory access that failed and resumes at its fixup; any
 * other fault is a hypervisor bug, printed with full state before we halt.
 */
#include <hv/pv.h>
#include <hv/console.h>
#include <asm/x86.h>

struct ex_entry { uint64_t insn, fixup; };
extern const struct ex_entry __ex_table_start[], __ex_table_end[];

static const char *const exception_names[32] = {
    "divide error", "debug", "NMI", "breakpoint", "overflow", "bound range", "invalid opcode",
    "device not available", "double fault", "coprocessor overrun", "invalid TSS", "segment not present",
    "stack fault", "general protection", "page fault", "reserved", "x87 FP", "alignment check",
    "machine check", "SIMD FP", "virtualisation", "control protection",
};

static bool search_ex_table(struct cpu_regs *regs)
{
    for (const struct ex_entry *e = __ex_table_start; e < __ex_table_end; e++)
        if (e->insn == regs->rip) {
            regs->rip = e->fixup;
            return true;
        }
    return false;
}

static void dump_regs(const struct cpu_regs *r)
{
    pr_err("rip %016lx cs %04lx rflags %08lx rsp %016lx ss %04lx", (unsigned long)r->rip,
           (unsigned long)r->cs, (unsigned long)r->rflags, (unsigned long)r->rsp, (unsigned long)r->ss);
    pr_err("rax %016lx rbx %016lx rcx %016lx rdx %016lx", (unsigned long)r->rax, (unsigned long)r->rbx,
           (unsigned long)r->rcx, (unsigned long)r->rdx);
    pr_err("rsi %016lx rdi %016lx rbp %016lx r8  %016lx", (unsigned long)r->rsi, (unsigned long)r->rdi,
           (unsigned long)r->rbp, (unsigned long)r->r8);
    pr_err("r9  %016lx r10 %016lx r11 %016lx r12 %016lx", (unsigned long)r->r9, (unsigned long)r->r10,
           (unsigned long)r->r11, (unsigned long)r->r12);
    pr_err("r13 %016lx r14 %016lx r15 %016lx cr2 %016lx cr3 %016lx", (unsigned long)r->r13,
           (unsigned long)r->r14, (unsigned long)r->r15, read_cr2(), read_cr3());
}

static void handle_interrupt(unsigned vector)
{
    switch (vector) {
    case VECTOR_TIMER:
        apic_eoi();
        timers_run_expired();
        return;
    case VECTOR_COM1:
        if (console_poll_input() && domain_list[0])
            send_guest_global_virq(domain_list[0], VIRQ_CONSOLE);
        apic_eoi();
        return;
    case VECTOR_SPURIOUS:
        return;
    default:
        apic_eoi();
        return;
    }
}

void handle_trap(struct cpu_regs *regs);
void handle_trap(struct cpu_regs *regs)
{
    unsigned vec = regs->entry_vector;
    bool from_guest = regs_from_guest(regs);

    if (vec >= 32 && !(from_guest && vec == 0x80)) {
        handle_interrupt(vec);
        return;
    }
    if (from_guest) {
        pv_handle_exception(regs);
        return;
    }
    if ((vec == TRAP_page_fault || vec == TRAP_gp_fault) && search_ex_table(regs))
        return;
    pr_err("hypervisor fault: %s (vector %u, error 0x%x)", vec < 32 && exception_names[vec] ?
           exception_names[vec] : "?", vec, regs->error_code);
    dump_regs(regs);
    panic("fatal exception in the hypervisor");
}

/* SPDX-License-Identifier: MIT */
/*
 * Per-CPU descriptor tables and entry MSRs. The GDT is 15 pages: 14 for the
 * guest's own descriptors (FIRST_RESERVED_GDT_ENTRY of them; empty until
 * set_gdt exists) and Xen's reserved page with the flat ring-3 selectors every
 * PV guest may use (xen-pv-abi.md §4.1). Written for MAX_CPUS; only the boot
 * CPU is brought up today.
 */
#include <asm/cpu.h>
#include <asm/x86.h>
#include <hv/layout.h>

extern const uint64_t idt_stub_table[256];
extern char syscall_entry[], syscall32_entry[];

static uint64_t gdt[MAX_CPUS][GDT_ENTRIES] __attribute__((aligned(PAGE_SIZE)));
static uint64_t ldt[MAX_CPUS][LDT_MAX_ENTS] __attribute__((aligned(PAGE_SIZE)));
static struct percpu percpu_area[MAX_CPUS];
static uint8_t cpu_stacks[MAX_CPUS][STACK_SIZE] __attribute__((aligned(PAGE_SIZE)));
static uint8_t ist_stacks[MAX_CPUS][2][PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));

struct gate { uint16_t off0, sel; uint8_t ist, flags; uint16_t off1; uint32_t off2, zero; };
static struct gate idt[256] __attribute__((aligned(16)));

struct __packed desc_ptr { uint16_t limit; uint64_t base; };

#define IST_DF 1
#define IST_NMI 2

static void set_gate(unsigned vec, uint64_t handler, unsigned dpl, unsigned ist)
{
    idt[vec] = (struct gate){
        .off0 = (uint16_t)handler, .sel = HV_CS, .ist = (uint8_t)ist,
        .flags = (uint8_t)(0x8e | (dpl << 5)),   /* present, 64-bit interrupt gate */
        .off1 = (uint16_t)(handler >> 16), .off2 = (uint32_t)(handler >> 32),
    };
}

uint64_t *cpu_gdt(void)
{
    return gdt[this_cpu()->cpu_id];
}

uint64_t *cpu_ldt(void)
{
    return ldt[this_cpu()->cpu_id];
}

void cpu_load_ldt(unsigned ents)
{
    uint16_t sel = 0;
    if (ents) {
        uint64_t *g = cpu_gdt(), base = (uint64_t)cpu_ldt(), limit = (uint64_t)ents * 8 - 1;
        /* A 16-byte system descriptor, type 2 (LDT), present, DPL 0. */
        g[HV_LDT >> 3] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x82ull << 40) |
                         ((limit >> 16) << 48) | (((base >> 24) & 0xff) << 56);
        g[(HV_LDT >> 3) + 1] = base >> 32;
        sel = HV_LDT;
    }
    __asm__ volatile("lldt %w0" : : "r"(sel) : "memory");
}

bool cpu_has_smep(void)
{
    uint32_t a, b, c, d;
    cpuid_count(0, 0, &a, &b, &c, &d);
    if (a < 7)
        return false;
    cpuid_count(7, 0, &a, &b, &c, &d);
    return b & (1u << 7);
}

static void cpu_init(unsigned id)
{
    struct percpu *pc = &percpu_area[id];
    uint64_t *g = gdt[id];

    pc->self = pc;
    pc->cpu_id = id;
    pc->stack_top = (uint64_t)&cpu_stacks[id][STACK_SIZE];
    pc->tss.rsp[0] = pc->stack_top;
    pc->tss.ist[IST_DF - 1] = (uint64_t)&ist_stacks[id][0][PAGE_SIZE];
    pc->tss.ist[IST_NMI - 1] = (uint64_t)&ist_stacks[id][1][PAGE_SIZE];
    pc->tss.iomap_base = sizeof(struct tss64);  /* no I/O bitmap: ring 3 port I/O faults */

    g[HV_CS >> 3] = 0x00af9b000000ffffull;                 /* 64-bit ring-0 code */
    g[HV_DS >> 3] = 0x00cf93000000ffffull;                 /* ring-0 data */
    g[FLAT_RING3_CS32 >> 3] = 0x00cffb000000ffffull;       /* §4.1 table */
    g[FLAT_RING3_DS32 >> 3] = 0x00cff3000000ffffull;
    g[FLAT_RING3_CS64 >> 3] = 0x00affb000000ffffull;
    uint64_t tss = (uint64_t)&pc->tss;
    g[HV_TSS >> 3] = (sizeof(struct tss64) - 1) | ((tss & 0xffffff) << 16) |
                     (0x89ull << 40) | (((tss >> 24) & 0xff) << 56);
    g[(HV_TSS >> 3) + 1] = tss >> 32;

    struct desc_ptr gp = { sizeof(gdt[0]) - 1, (uint64_t)g };
    struct desc_ptr ip = { sizeof(idt) - 1, (uint64_t)idt };
    __asm__ volatile(
        "lgdt %0\n\t"
        "lidt %1\n\t"
        "pushq %2\n\t"
        "leaq 1f(%%rip), %%rax\n\t"
        "pushq %%rax\n\t"
        "lretq\n"
        "1:\n\t"
        "mov %3, %%ds\n\t"
        "mov %3, %%es\n\t"
        "mov %3, %%ss\n\t"
        "ltr %w4\n\t"
        : : "m"(gp), "m"(ip), "i"(HV_CS), "r"((uint64_t)HV_DS), "r"((uint64_t)HV_TSS)
        : "rax", "memory");
    /* Null selectors for fs/gs: the guest's bases live in the MSRs. */
    __asm__ volatile("mov %0, %%fs; mov %0, %%gs" : : "r"(0) : "memory");
    wrmsr(MSR_GS_BASE, (uint64_t)pc);
    wrmsr(MSR_KERNEL_GS_BASE, 0);

    /* syscall from ring 3 enters at HV_CS; sysret/iret back to 0xe033/0xe02b
     * (STAR[63:48] + 16 and + 8, hence FLAT_RING3_CS32 as the base). */
    wrmsr(MSR_STAR, ((uint64_t)FLAT_RING3_CS32 << 48) | ((uint64_t)HV_CS << 32));
    wrmsr(MSR_LSTAR, (uint64_t)syscall_entry);
    wrmsr(MSR_CSTAR, (uint64_t)syscall32_entry);
    wrmsr(MSR_FMASK, X86_EFLAGS_IF | X86_EFLAGS_TF | X86_EFLAGS_DF | X86_EFLAGS_AC |
                     X86_EFLAGS_NT | X86_EFLAGS_IOPL);
    wrmsr(0x174, 0);   /* SYSENTER_CS = 0: sysenter faults */
    wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE | EFER_NXE);
    /* The PAT every PV guest is told about (xen-pv-abi.md §4.9): entries 0-3
     * are the reset values the hypervisor's own mappings use; 4 and 5 give
     * the privileged domain WC and WP for device memory. */
    wrmsr(MSR_PAT, PAT_XEN_VALUE);

    unsigned long cr4 = read_cr4() | X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT;
    cr4 &= ~X86_CR4_PGE;   /* guests' kernel/user switches then flush everything */
    if (cpu_has_smep())
        cr4 |= X86_CR4_SMEP;
    write_cr4(cr4);
    write_cr0((read_cr0() | X86_CR0_WP | X86_CR0_NE | X86_CR0_MP) & ~(X86_CR0_TS | X86_CR0_EM));
}

void cpu_init_bsp(void)
{
    for (unsigned v = 0; v < 256; v++) {
        /* Software int 3, 4 (into) and 0x80 from ring 3 come straight here
         * (DPL 3); any other int n from ring 3 raises #GP((n<<3)|2), which
         * the PV trap code turns into the guest's int n if its DPL allows. */
        unsigned dpl = (v == 3 || v == 4 || v == 0x80) ? 3 : 0;
        unsigned ist = v == 8 ? IST_DF : v == 2 ? IST_NMI : 0;
        set_gate(v, idt_stub_table[v], dpl, ist);
    }
    cpu_init(0);
}

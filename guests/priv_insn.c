/* SPDX-License-Identifier: MIT */
/*
 * priv_insn: the guest kernel runs in ring 3, so privileged instructions
 * fault and the hypervisor either emulates them or reflects the fault
 * (xen-pv-abi.md §4.8 CPUID, §4.9 MSRs, control registers and the rest).
 */
#include <guest/hypercall.h>
#include <guest/runtime.h>
#include <guest/test.h>
#include <guest/traps.h>

#define MSR_APIC_BASE     0x1b
#define MSR_PAT           0x277
#define MSR_EFER          0xc0000080
#define MSR_FS_BASE       0xc0000100
#define MSR_GS_BASE       0xc0000101
#define MSR_HYPERCALL     0x40000000
#define MSR_UNKNOWN       0x00abcdefU

#define EFER_LME  (1UL << 8)
#define EFER_LMA  (1UL << 10)
#define EFER_SVME (1UL << 12)
#define CR0_PE (1UL << 0)
#define CR0_TS (1UL << 3)
#define CR0_PG (1UL << 31)
#define CR4_OSXSAVE (1UL << 18)

/* Fault bookkeeping: the #GP/#UD handler records and skips the instruction
 * by the length the caller set. */
static uint64_t fault_count, fault_vector, fault_error, fault_rip, fault_skip;

static bool on_fault(struct trap_frame *f)
{
    fault_count++;
    fault_vector = f->vector;
    fault_error = f->error_code;
    fault_rip = f->rip;
    if (!fault_skip)
        return false;
    f->rip += fault_skip;
    return true;
}

static void expect_fault(uint64_t skip)
{
    fault_count = 0;
    fault_vector = fault_error = fault_rip = ~0ULL;
    fault_skip = skip;
}

__asm__(
    ".text\n"
    ".globl site_rdmsr, site_wrmsr, site_hlt, site_lgdt, site_cr0_write, site_invlpg\n"
    "do_rdmsr:\n"
    "  movl %edi, %ecx\n"
    "  xorl %eax, %eax\n"
    "  xorl %edx, %edx\n"
    "site_rdmsr: rdmsr\n"               /* 0f 32 */
    "  shlq $32, %rdx\n"
    "  orq %rdx, %rax\n"
    "  ret\n"
    "do_wrmsr:\n"
    "  movl %edi, %ecx\n"
    "  movl %esi, %eax\n"
    "  movq %rsi, %rdx\n"
    "  shrq $32, %rdx\n"
    "site_wrmsr: wrmsr\n"               /* 0f 30 */
    "  ret\n"
    "do_hlt:\n"
    "site_hlt: hlt\n"                   /* f4 */
    "  ret\n"
    "do_lgdt:\n"
    "site_lgdt: lgdt (%rdi)\n"          /* 0f 01 17 */
    "  ret\n"
    "do_cr0_write:\n"
    "site_cr0_write: movq %rdi, %cr0\n" /* 0f 22 c7 */
    "  ret\n"
    "do_invlpg:\n"
    "site_invlpg: invlpg (%rdi)\n"      /* 0f 01 3f */
    "  ret\n");

uint64_t do_rdmsr(uint32_t msr);
void do_wrmsr(uint32_t msr, uint64_t value);
void do_hlt(void);
void do_lgdt(const void *desc);
void do_cr0_write(uint64_t value);
void do_invlpg(uint64_t va);
extern const char site_rdmsr[], site_wrmsr[], site_hlt[], site_lgdt[];
extern const char site_cr0_write[], site_invlpg[];

static uint64_t addr(const char *p)
{
    return (uint64_t)(uintptr_t)p;
}

/* CPUID through the forced-emulation prefix: ud2; .ascii "xen"; cpuid. */
static void xen_cpuid(uint32_t leaf, uint32_t subleaf, uint32_t r[4])
{
    __asm__ volatile(".byte 0x0f, 0x0b, 0x78, 0x65, 0x6e\n\tcpuid"
                     : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
                     : "a"(leaf), "c"(subleaf));
}

static uint64_t read_cr0(void)
{
    uint64_t v;
    __asm__ volatile("movq %%cr0, %0" : "=r"(v));
    return v;
}

static uint64_t read_cr3(void)
{
    uint64_t v;
    __asm__ volatile("movq %%cr3, %0" : "=r"(v));
    return v;
}

static uint64_t read_cr4(void)
{
    uint64_t v;
    __asm__ volatile("movq %%cr4, %0" : "=r"(v));
    return v;
}

static void test_cpuid(void)
{
    uint32_t r[4];

    /* §4.8: the hypervisor leaves at 0x40000000. */
    expect_fault(7);
    xen_cpuid(0x40000000, 0, r);
    check_int("cpuid_prefix_no_fault", (int64_t)fault_count, 0);
    check_hex("cpuid_40000000_ebx", r[1], 0x566e6558);
    check_hex("cpuid_40000000_ecx", r[2], 0x65584d4d);
    check_hex("cpuid_40000000_edx", r[3], 0x4d4d566e);
    check_range("cpuid_40000000_max_leaf", r[0], 0x40000002, 0x400000ff);
    xen_cpuid(0x40000001, 0, r);
    check_hex("cpuid_40000001_version", r[0], (uint64_t)hyp_xen_version(XENVER_version, NULL));
    check_range("cpuid_40000001_major_ge_4", r[0] >> 16, 4, 0xffff);
    xen_cpuid(0x40000002, 0, r);
    check_hex("cpuid_40000002_pages", r[0], 1);
    check_hex("cpuid_40000002_msr_base", r[1], MSR_HYPERCALL);
    check_hex("cpuid_40000002_preserve_ad", r[2] & 1, 1);

    /* §4.8: HYPERVISOR is always set; features PV does not get. */
    xen_cpuid(1, 0, r);
    check_hex("cpuid_1_hypervisor_bit", r[2] >> 31, 1);
    uint32_t ecx_hidden = (1U << 3) | (1U << 5) | (1U << 17) | (1U << 21) | (1U << 24);
    uint32_t edx_hidden = (1U << 1) | (1U << 3) | (1U << 12) | (1U << 13) | (1U << 17);
    check_hex("cpuid_1_ecx_hidden_monitor_vmx_pcid_x2apic_tscdl", r[2] & ecx_hidden, 0);
    check_hex("cpuid_1_edx_hidden_vme_pse_mtrr_pge_pse36", r[3] & edx_hidden, 0);
    /* §4.8: OSXSAVE reflects the guest's virtual CR4. */
    check_hex("cpuid_1_osxsave_matches_cr4", (r[2] >> 27) & 1, (read_cr4() & CR4_OSXSAVE) ? 1 : 0);
    xen_cpuid(7, 0, r);
    check_hex("cpuid_7_ebx_hidden_smep_invpcid_smap", r[1] & ((1U << 7) | (1U << 10) | (1U << 20)), 0);
    check_hex("cpuid_7_ecx_hidden_umip_pku_la57", r[2] & ((1U << 2) | (1U << 3) | (1U << 16)), 0);
    xen_cpuid(0x80000001, 0, r);
    check_hex("cpuid_80000001_hidden_svm_page1gb", (r[2] & (1U << 2)) | (r[3] & (1U << 26)), 0);

    /* §4.8: any other #UD is delivered to the guest. */
    expect_fault(2);
    __asm__ volatile("ud2");
    check_hex("plain_ud2_delivered", fault_vector, TRAP_UD);
}

static void test_msrs(void)
{
    /* §4.9: Xen's fixed PAT. */
    check_hex("rdmsr_pat", do_rdmsr(MSR_PAT), 0x0000050100070406ULL);
    /* §4.9: APIC base, enabled, BSP on vCPU 0. */
    check_hex("rdmsr_apic_base", do_rdmsr(MSR_APIC_BASE), 0xfee00000 | (1U << 11) | (1U << 8));
    /* §4.9: EFER in long mode, SVME hidden; writing it back unchanged works. */
    uint64_t efer = do_rdmsr(MSR_EFER);
    check_hex("rdmsr_efer_long_mode", efer & (EFER_LME | EFER_LMA), EFER_LME | EFER_LMA);
    check_hex("rdmsr_efer_svme_hidden", efer & EFER_SVME, 0);
    expect_fault(2);
    do_wrmsr(MSR_EFER, efer);
    check_int("wrmsr_efer_same_value", (int64_t)fault_count, 0);
    /* §1.3: the hypercall-page MSR reads as 0. */
    check_hex("rdmsr_hypercall_page_msr", do_rdmsr(MSR_HYPERCALL), 0);
    /* §4.9: FS_BASE write then read back. */
    do_wrmsr(MSR_FS_BASE, 0x00007f0000001000ULL);
    check_hex("fs_base_roundtrip", do_rdmsr(MSR_FS_BASE), 0x00007f0000001000ULL);
    do_wrmsr(MSR_FS_BASE, 0);

    /* §4.9: once a trap table exists, an unknown MSR gives #GP(0). */
    expect_fault(2);
    do_rdmsr(MSR_UNKNOWN);
    check_hex("rdmsr_unknown_gp", fault_vector, TRAP_GP);
    check_hex("rdmsr_unknown_gp_error", fault_error, 0);
    check_hex("rdmsr_unknown_gp_rip", fault_rip, addr(site_rdmsr));
    expect_fault(2);
    do_wrmsr(MSR_UNKNOWN, 1);
    check_hex("wrmsr_unknown_gp", fault_vector, TRAP_GP);
    check_hex("wrmsr_unknown_gp_rip", fault_rip, addr(site_wrmsr));
}

static void test_control_registers(void)
{
    /* §4.9: cr0 read = host CR0 with the virtual TS. */
    uint64_t cr0 = read_cr0();
    check_hex("cr0_pe_pg", cr0 & (CR0_PE | CR0_PG), CR0_PE | CR0_PG);
    check_int("fpu_taskswitch_set", hyp_fpu_taskswitch(1), 0);
    check_hex("cr0_ts_after_fpu_taskswitch", read_cr0() & CR0_TS, CR0_TS);
    /* §4.9: clts is emulated and clears the virtual TS. */
    expect_fault(2);
    __asm__ volatile("clts");
    check_int("clts_no_fault", (int64_t)fault_count, 0);
    check_hex("cr0_ts_after_clts", read_cr0() & CR0_TS, 0);
    /* §4.9: a cr0 write that changes only TS is allowed. */
    expect_fault(3);
    do_cr0_write(read_cr0() | CR0_TS);
    check_int("cr0_write_ts_no_fault", (int64_t)fault_count, 0);
    check_hex("cr0_write_ts_visible", read_cr0() & CR0_TS, CR0_TS);
    hyp_fpu_taskswitch(0);
    /* ... any other change is refused with #GP. */
    expect_fault(3);
    do_cr0_write(read_cr0() & ~CR0_PG);
    check_hex("cr0_write_bad_gp", fault_vector, TRAP_GP);
    check_hex("cr0_write_bad_gp_rip", fault_rip, addr(site_cr0_write));
    check_hex("cr0_unchanged_after_bad_write", read_cr0() & (CR0_PE | CR0_PG), CR0_PE | CR0_PG);

    /* §4.9: the visible CR4 is the guest's TSD/DE/FSGSBASE/OSXSAVE plus the
     * host's PAE/MCE/OSFXSR/OSXMMEXCPT and nothing else. */
    uint64_t cr4 = read_cr4();
    uint64_t visible = (1UL << 2) | (1UL << 3) | (1UL << 5) | (1UL << 6) | (1UL << 9) |
                       (1UL << 10) | (1UL << 16) | (1UL << 18);
    check_hex("cr4_only_visible_bits", cr4 & ~visible, 0);
    check_hex("cr4_pae", cr4 & (1UL << 5), 1UL << 5);

    /* §4.9 (cr3 read) and §3.4 (CR3 = MFN(pt_base) << 12). */
    check_hex("cr3_is_pt_base_maddr", read_cr3() & PTE_ADDR_MASK,
              va_to_mfn((void *)start_info->pt_base) << 12);

    /* §4.9: a cr2 write sets vcpu_info.arch.cr2. */
    uint64_t v = 0xffff888012345000ULL;
    __asm__ volatile("movq %0, %%cr2" : : "r"(v));
    check_hex("cr2_write_sets_vcpu_info", vcpu0->arch.cr2, v);
}

static void test_refused(void)
{
    static const struct { uint16_t limit; uint64_t base; } __attribute__((packed)) gdtr = { 0, 0 };

    /* §4.9: anything outside the emulated set faults as the real #GP. */
    expect_fault(1);
    do_hlt();
    check_hex("hlt_gp", fault_vector, TRAP_GP);
    check_hex("hlt_gp_rip", fault_rip, addr(site_hlt));
    expect_fault(3);
    do_lgdt(&gdtr);
    check_hex("lgdt_gp", fault_vector, TRAP_GP);
    check_hex("lgdt_gp_rip", fault_rip, addr(site_lgdt));
    expect_fault(3);
    do_invlpg(VIRT_BASE);
    check_hex("invlpg_gp", fault_vector, TRAP_GP);
    check_hex("invlpg_gp_rip", fault_rip, addr(site_invlpg));
    /* §4.9: wbinvd is accepted (and dropped) by the emulator. */
    expect_fault(2);
    __asm__ volatile("wbinvd");
    check_int("wbinvd_no_fault", (int64_t)fault_count, 0);
}

static void test_gs_base_without_traps(void)
{
    /* §4.9: wrmsr GS_BASE is Linux's first instruction, before any trap
     * table exists; it must set the kernel GS base. NULL clears the table
     * (§4.3). */
    check_int("clear_trap_table", hyp_set_trap_table(NULL), 0);
    do_wrmsr(MSR_GS_BASE, 0xffff888000123000ULL);
    check_int("reinstall_trap_table", traps_install(), 0);
    check_hex("gs_base_before_traps", do_rdmsr(MSR_GS_BASE), 0xffff888000123000ULL);
    do_wrmsr(MSR_GS_BASE, 0);
}

void kernel_main(void)
{
    test_begin("priv_insn");
    check_int("set_trap_table", traps_install(), 0);
    traps_set_handler(TRAP_GP, on_fault);
    traps_set_handler(TRAP_UD, on_fault);
    test_cpuid();
    test_msrs();
    test_control_registers();
    test_refused();
    test_gs_base_without_traps();
    test_finish();
}

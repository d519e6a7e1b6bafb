/* SPDX-License-Identifier: MIT */
/*
 * Emulation of the privileged instructions a PV kernel executes in ring 3
 * (xen-pv-abi.md §4.9) and of CPUID through Xen's forced-emulation prefix
 * (§4.8). Only the opcodes listed there are decoded; anything else is the
 * guest's own #GP or #UD. Instruction bytes are read from the guest once.
 */
#include <hv/pv.h>
#include <hv/guest_access.h>
#include <hv/hypercall.h>
#include <asm/x86.h>

#define XEN_CPUID_BASE 0x40000000u
#define HYPERCALL_PAGE_MSR 0x40000000u
#define MSR_UCODE_REV 0x8b
#define MSR_SYSENTER_CS 0x174

static uint64_t *gpr(struct cpu_regs *r, unsigned n)
{
    uint64_t *tab[16] = { &r->rax, &r->rcx, &r->rdx, &r->rbx, &r->rsp, &r->rbp, &r->rsi, &r->rdi,
                          &r->r8, &r->r9, &r->r10, &r->r11, &r->r12, &r->r13, &r->r14, &r->r15 };
    return tab[n & 15];
}

/* The PV CPUID policy: host values minus what a PV guest must not use. */
void pv_cpuid(struct vcpu *v, uint32_t leaf, uint32_t sub, uint32_t res[4])
{
    (void)v;
    if (leaf >= XEN_CPUID_BASE && leaf < XEN_CPUID_BASE + 0x100) {
        res[0] = res[1] = res[2] = res[3] = 0;
        switch (leaf - XEN_CPUID_BASE) {
        case 0:
            res[0] = XEN_CPUID_BASE + 4;   /* no leaf 5: grant tables v1 (§4.8) */
            res[1] = 0x566e6558;           /* "XenVMMXenVMM" */
            res[2] = 0x65584d4d;
            res[3] = 0x4d4d566e;
            break;
        case 1:
            res[0] = (4u << 16) | 17u;
            break;
        case 2:
            res[0] = 1;                    /* hypercall pages */
            res[1] = HYPERCALL_PAGE_MSR;
            res[2] = 1;                    /* MMU_PT_UPDATE_PRESERVE_AD */
            break;
        case 3:
            if (sub == 0) {
                res[0] = 1u << 1;          /* host TSC reliable */
                res[2] = (uint32_t)tsc_khz();
            } else if (sub == 1) {
                res[2] = time_tsc_mul();
                res[3] = (uint32_t)(int32_t)time_tsc_shift();
            } else if (sub == 2) {
                res[0] = (uint32_t)tsc_khz();
            }
            break;
        default:
            break;
        }
        return;
    }
    uint32_t maxleaf, a, b, c, d;
    cpuid_count(leaf & 0x80000000u, 0, &maxleaf, &b, &c, &d);
    if (leaf > maxleaf) {
        res[0] = res[1] = res[2] = res[3] = 0;
        return;
    }
    cpuid_count(leaf, sub, &a, &b, &c, &d);
    switch (leaf) {
    case 1:
        /* No MONITOR, VMX, SMX, EST, TM2, PDCM, PCID, DCA, x2APIC,
         * TSC-deadline, XSAVE/OSXSAVE/AVX; HYPERVISOR set. */
        c &= ~((1u << 2) | (1u << 3) | (1u << 4) | (1u << 5) | (1u << 6) | (1u << 7) | (1u << 8) |
               (1u << 15) | (1u << 17) | (1u << 18) | (1u << 21) | (1u << 24) | (1u << 26) |
               (1u << 27) | (1u << 28));
        c |= 1u << 31;
        /* No VME, PSE, MCE, MTRR, PGE, MCA, PSE36, DS, ACPI, TM, PBE. Machine
         * checks belong to the hypervisor; a guest told of MCA reads bank MSRs
         * we do not virtualise (Linux then panics). */
        d &= ~((1u << 1) | (1u << 3) | (1u << 7) | (1u << 12) | (1u << 13) | (1u << 14) | (1u << 17) |
               (1u << 21) | (1u << 22) | (1u << 29) | (1u << 31));
        b &= 0x0000ffffu;                   /* one logical CPU, APIC id 0 */
        b |= 1u << 16;
        break;
    case 7:
        if (sub == 0) {
            /* Keep only plain user-level features (BMI, ERMS, ADX, CLFLUSHOPT, SHA). */
            b &= (1u << 3) | (1u << 8) | (1u << 9) | (1u << 19) | (1u << 23) | (1u << 29);
            c = 0;
            d = 0;
        } else {
            a = b = c = d = 0;
        }
        break;
    case 0xd:
    case 0xb:
    case 0x1f:
    case 5:
    case 6:
        a = b = c = d = 0;
        break;
    case 0x80000001:
        c &= ~(1u << 2);                                 /* SVM */
        d &= ~((1u << 26) | (1u << 27));                 /* 1 GiB pages, RDTSCP */
        break;
    default:
        break;
    }
    res[0] = a;
    res[1] = b;
    res[2] = c;
    res[3] = d;
}

/* #UD: only Xen's forced-emulation prefix + cpuid is ours (§4.8). */
bool pv_emulate_invalid_op(struct vcpu *v, struct cpu_regs *regs)
{
    static const uint8_t sig[7] = { 0x0f, 0x0b, 0x78, 0x65, 0x6e, 0x0f, 0xa2 };
    uint8_t insn[7];
    if (copy_from_guest(insn, regs->rip, sizeof(insn)) || memcmp(insn, sig, sizeof(sig)))
        return false;
    uint32_t res[4];
    pv_cpuid(v, (uint32_t)regs->rax, (uint32_t)regs->rcx, res);
    regs->rax = res[0];
    regs->rbx = res[1];
    regs->rcx = res[2];
    regs->rdx = res[3];
    regs->rip += sizeof(sig);
    return true;
}

static bool trap_table_empty(const struct vcpu *v)
{
    for (unsigned i = 0; i < 256; i++)
        if (v->trap_ctxt[i].address)
            return false;
    return true;
}

static uint64_t visible_cr4(void)
{
    return read_cr4() & (X86_CR4_PAE | X86_CR4_MCE | X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT);
}

/* Fills a hypercall page (§1.3): a `syscall` stub per number in 32-byte
 * slots, and the special iret stub that pushes the frame's rcx, r11, rax. */
void pv_write_hypercall_page(uint8_t *page)
{
    memset(page, 0xcc, PAGE_SIZE);
    for (unsigned i = 0; i < PAGE_SIZE / 32; i++) {
        uint8_t *p = page + i * 32;
        unsigned n = 0;
        p[n++] = 0x51;                          /* push %rcx */
        p[n++] = 0x41; p[n++] = 0x53;           /* push %r11 */
        if (i == __HYPERVISOR_iret)
            p[n++] = 0x50;                      /* push %rax */
        p[n++] = 0xb8;                          /* mov $i, %eax */
        p[n++] = (uint8_t)i; p[n++] = 0; p[n++] = 0; p[n++] = 0;
        p[n++] = 0x0f; p[n++] = 0x05;           /* syscall */
        if (i == __HYPERVISOR_iret)
            continue;
        p[n++] = 0x41; p[n++] = 0x5b;           /* pop %r11 */
        p[n++] = 0x59;                          /* pop %rcx */
        p[n++] = 0xc3;                          /* ret */
    }
}

static bool write_hypercall_page_msr(struct vcpu *v, uint64_t val)
{
    if (val & (PAGE_SIZE - 1))
        return false;
    mfn_t mfn = val >> PAGE_SHIFT;
    if (!mfn_valid(mfn))
        return false;
    struct page_info *pg = mfn_to_page(mfn);
    if (!pv_get_page(pg, v->domain))
        return false;
    bool ok = pv_get_page_type(pg, PGT_writable, v->domain) == 0;
    if (ok) {
        pv_write_hypercall_page(mfn_to_virt(mfn));
        pv_put_page_type(pg);
    }
    pv_put_page(pg);
    return ok;
}

static bool emulate_rdmsr(struct vcpu *v, struct cpu_regs *regs)
{
    uint32_t msr = (uint32_t)regs->rcx;
    uint64_t val;
    switch (msr) {
    case MSR_FS_BASE: val = rdmsr(MSR_FS_BASE); break;
    case MSR_GS_BASE: val = rdmsr(MSR_KERNEL_GS_BASE); break;  /* the active one, parked */
    case MSR_KERNEL_GS_BASE: val = v->gs_base_user; break;
    case MSR_EFER: val = rdmsr(MSR_EFER) & (EFER_SCE | EFER_LME | (1u << 10) | EFER_NXE); break;
    case MSR_PAT: val = PAT_XEN_VALUE; break;
    case MSR_APIC_BASE: val = 0xfee00000ull | (1u << 11) | (v->vcpu_id == 0 ? 1u << 8 : 0); break;
    case MSR_MISC_ENABLE: val = (1u << 11) | (1u << 12) | (1u << 23); break;
    case MSR_UCODE_REV: val = 0; break;
    case HYPERCALL_PAGE_MSR: val = 0; break;
    default:
        if (!trap_table_empty(v))
            return false;
        val = 0;     /* no trap table yet: Xen answers 0 rather than #GP */
        break;
    }
    regs->rax = (uint32_t)val;
    regs->rdx = val >> 32;
    return true;
}

static bool emulate_wrmsr(struct vcpu *v, struct cpu_regs *regs)
{
    uint32_t msr = (uint32_t)regs->rcx;
    uint64_t val = ((uint64_t)(uint32_t)regs->rdx << 32) | (uint32_t)regs->rax;
    switch (msr) {
    case MSR_FS_BASE:
        return do_set_segment_base(0, val) == 0;
    case MSR_GS_BASE:
        return do_set_segment_base(2, val) == 0;
    case MSR_KERNEL_GS_BASE:
        return do_set_segment_base(1, val) == 0;
    case MSR_EFER:
        return val == (rdmsr(MSR_EFER) & (EFER_SCE | EFER_LME | (1u << 10) | EFER_NXE));
    case MSR_UCODE_REV:
        return val == 0;
    case HYPERCALL_PAGE_MSR:
        return write_hypercall_page_msr(v, val);
    case MSR_STAR: case MSR_LSTAR: case MSR_CSTAR: case MSR_FMASK:
    case MSR_SYSENTER_CS: case MSR_SYSENTER_CS + 1: case MSR_SYSENTER_CS + 2:
        return true;      /* the guest's entry points are callbacks, not MSRs */
    default:
        return trap_table_empty(v);
    }
}

static bool emulate_mov_cr(struct vcpu *v, struct cpu_regs *regs, bool to_cr, uint8_t modrm, uint8_t rex)
{
    unsigned cr = ((modrm >> 3) & 7) | ((rex & 4) ? 8 : 0);
    uint64_t *reg = gpr(regs, (modrm & 7) | ((rex & 1) ? 8 : 0));
    if ((modrm >> 6) != 3)
        return false;
    if (!to_cr) {
        switch (cr) {
        case 0: *reg = (read_cr0() & ~X86_CR0_TS) | (v->virtual_ts ? X86_CR0_TS : 0); return true;
        case 2: *reg = v->vcpu_info->arch.cr2; return true;
        case 3: *reg = v->guest_table << PAGE_SHIFT; return true;
        case 4: *reg = visible_cr4(); return true;
        default: return false;
        }
    }
    switch (cr) {
    case 0:
        if ((*reg ^ read_cr0()) & ~X86_CR0_TS)
            return false;     /* only TS may change */
        pv_set_virtual_ts(v, *reg & X86_CR0_TS);
        return true;
    case 2:
        v->vcpu_info->arch.cr2 = *reg;
        return true;
    case 3:
        return pv_set_baseptr(v, *reg >> PAGE_SHIFT, false) == 0;
    case 4: {
        uint64_t ignorable = X86_CR4_PGE | (1ull << 4) /* PSE */ | (1ull << 8) /* PCE */ |
                             (1ull << 2) /* TSD */ | X86_CR4_DE;
        return ((*reg ^ visible_cr4()) & ~ignorable) == 0;
    }
    default:
        return false;
    }
}

bool pv_emulate_privileged(struct vcpu *v, struct cpu_regs *regs)
{
    uint8_t insn[16];
    unsigned len = 0, opsize = 4;
    uint8_t rex = 0;

    if (copy_from_guest(insn, regs->rip, sizeof(insn)))
        return false;
    while (len < 4 && (insn[len] == 0x66 || (insn[len] & 0xf0) == 0x40)) {
        if (insn[len] == 0x66)
            opsize = 2;
        else
            rex = insn[len];
        len++;
    }
    uint8_t op = insn[len++];
    bool ok = false;
    /* Guest user mode may only do port I/O (with virtual IOPL 3). */
    if (!v->in_kernel && (op & 0xf4) != 0xe4)
        return false;
    switch (op) {
    case 0xe4: case 0xe5: case 0xe6: case 0xe7:      /* in/out imm8 */
        ok = pv_emulate_io(v, regs, insn[len], (op & 1) ? opsize : 1, !(op & 2));
        len++;
        break;
    case 0xec: case 0xed: case 0xee: case 0xef:      /* in/out %dx */
        ok = pv_emulate_io(v, regs, (uint16_t)regs->rdx, (op & 1) ? opsize : 1, !(op & 2));
        break;
    case 0xfa: case 0xfb:                            /* cli/sti: no-ops with virtual IOPL */
        ok = v->iopl >= 1;
        break;
    case 0x0f: {
        uint8_t op2 = insn[len++];
        switch (op2) {
        case 0x06: pv_set_virtual_ts(v, false); ok = true; break;    /* clts */
        case 0x09: ok = true; break;                                 /* wbinvd: dropped */
        case 0x20: case 0x22:
            ok = emulate_mov_cr(v, regs, op2 == 0x22, insn[len], rex);
            len++;
            break;
        case 0x30: ok = emulate_wrmsr(v, regs); break;
        case 0x32: ok = emulate_rdmsr(v, regs); break;
        case 0x31: {
            uint64_t tsc = rdtsc();
            regs->rax = (uint32_t)tsc;
            regs->rdx = tsc >> 32;
            ok = true;
            break;
        }
        default: break;
        }
        break;
    }
    default:
        break;
    }
    if (ok)
        regs->rip += len;
    return ok;
}

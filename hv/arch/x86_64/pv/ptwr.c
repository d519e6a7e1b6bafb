/* SPDX-License-Identifier: MIT */
/*
 * Writable page tables (xen-pv-abi.md §5.6): a guest kernel that enabled
 * VMASST_TYPE_writable_pagetables may write its L1 entries directly. The
 * entries are mapped read-only, so the write faults; we decode the one
 * instruction, compute the new entry, validate it exactly like an
 * mmu_update of that L1 entry, store it, and step past the instruction.
 *
 * Decoded: the forms Linux's generic mm code uses on PTEs: mov (88/89/C6/C7),
 * xchg (86/87), cmpxchg (0F B0/B1), and/or (08/09/20/21/80/81/83 /1 /4),
 * bts/btr (0F AB/B3, 0F BA /5 /6), with operand sizes 1-8 and a lock prefix.
 * Anything else, a store that is misaligned or leaves the entry, or a new
 * entry that does not validate, leaves the #PF to the guest.
 */
#include <hv/pv.h>
#include <hv/guest_access.h>
#include <asm/page.h>
#include <asm/x86.h>

#define PF_PRESENT (1u << 0)
#define PF_WRITE   (1u << 1)
#define PF_RSVD    (1u << 3)
#define PF_INSN    (1u << 4)
#define FLAGS_ARITH (X86_EFLAGS_CF | (1ul << 2) | (1ul << 4) | (1ul << 6) | (1ul << 7) | (1ul << 11))

struct insn {
    unsigned len, opsize;
    uint8_t rex, op, op2, modrm;
    bool has_66;
    uint64_t imm;
};

static uint64_t *gpr(struct cpu_regs *r, unsigned n)
{
    uint64_t *tab[16] = { &r->rax, &r->rcx, &r->rdx, &r->rbx, &r->rsp, &r->rbp, &r->rsi, &r->rdi,
                          &r->r8, &r->r9, &r->r10, &r->r11, &r->r12, &r->r13, &r->r14, &r->r15 };
    return tab[n & 15];
}

/* The register operand (modrm.reg), as an operand of `size` bytes. Without
 * REX, byte registers 4-7 are AH, CH, DH, BH. */
static uint64_t reg_read(struct cpu_regs *r, const struct insn *in)
{
    unsigned n = ((in->modrm >> 3) & 7) | ((in->rex & 4) ? 8 : 0);
    if (in->opsize == 1 && !in->rex && n >= 4)
        return (*gpr(r, n - 4) >> 8) & 0xff;
    return *gpr(r, n);
}

static void reg_write(struct cpu_regs *r, const struct insn *in, unsigned n, uint64_t v)
{
    uint64_t *p;
    unsigned shift = 0;
    if (in->opsize == 1 && !in->rex && n >= 4 && n < 8) {
        p = gpr(r, n - 4);
        shift = 8;
    } else {
        p = gpr(r, n);
    }
    switch (in->opsize) {
    case 1: *p = (*p & ~(0xffull << shift)) | ((v & 0xff) << shift); break;
    case 2: *p = (*p & ~0xffffull) | (v & 0xffff); break;
    case 4: *p = (uint32_t)v; break;    /* 32-bit writes zero-extend */
    default: *p = v; break;
    }
}

/* Length of the modrm memory operand's bytes after the modrm byte. */
static unsigned modrm_extra(const uint8_t *b, unsigned avail)
{
    uint8_t modrm = b[0];
    unsigned mod = modrm >> 6, rm = modrm & 7, n = 0;
    if (mod == 3)
        return 0;
    if (rm == 4) {
        if (avail < 2)
            return 99;
        n++;
        if (mod == 0 && (b[1] & 7) == 5)
            n += 4;
    } else if (mod == 0 && rm == 5) {
        n += 4;
    }
    if (mod == 1)
        n += 1;
    else if (mod == 2)
        n += 4;
    return n;
}

static bool decode(const uint8_t *b, unsigned avail, struct insn *in)
{
    unsigned i = 0;
    memset(in, 0, sizeof(*in));
    in->opsize = 4;
    for (; i < avail; i++) {
        /* lock (we are atomic anyway), and segment overrides: the address
         * comes from CR2, so they change nothing. Linux rewrites its lock
         * prefixes to ds (0x3e) on a single CPU. */
        if (b[i] == 0xf0 || b[i] == 0x2e || b[i] == 0x36 || b[i] == 0x3e || b[i] == 0x26 ||
            b[i] == 0x64 || b[i] == 0x65)
            continue;
        if (b[i] == 0x66) {
            in->has_66 = true;
            in->opsize = 2;
            continue;
        }
        break;
    }
    if (i < avail && (b[i] & 0xf0) == 0x40)
        in->rex = b[i++];
    if (in->rex & 8)
        in->opsize = 8;
    if (i + 2 > avail)
        return false;
    in->op = b[i++];
    if (in->op == 0x0f)
        in->op2 = b[i++];
    if (i >= avail)
        return false;
    in->modrm = b[i++];
    if ((in->modrm >> 6) == 3)
        return false;                   /* register operand: not a store */
    unsigned extra = modrm_extra(b + i - 1, avail - i + 1);
    if (extra == 99 || i + extra > avail)
        return false;
    i += extra;
    unsigned immsize = 0;
    switch (in->op) {
    case 0x88: case 0x86: case 0x08: case 0x20: in->opsize = 1; break;
    case 0x89: case 0x87: case 0x09: case 0x21: break;
    case 0xc6: case 0x80: in->opsize = 1; immsize = 1; break;
    case 0xc7: case 0x81: immsize = in->opsize == 2 ? 2 : 4; break;
    case 0x83: immsize = 1; break;
    case 0x0f:
        if (in->op2 == 0xb0)
            in->opsize = 1;
        else if (in->op2 == 0xba)
            immsize = 1;
        else if (in->op2 != 0xb1 && in->op2 != 0xab && in->op2 != 0xb3)
            return false;
        break;
    default:
        return false;
    }
    if (i + immsize > avail)
        return false;
    for (unsigned k = 0; k < immsize; k++)
        in->imm |= (uint64_t)b[i + k] << (8 * k);
    if (immsize && immsize < 8 && (in->imm >> (8 * immsize - 1)) & 1 && in->op != 0x0f)
        in->imm |= ~0ull << (8 * immsize);       /* sign-extend, except bt* bit numbers */
    in->len = i + immsize;
    return true;
}

static uint64_t size_mask(unsigned size) { return size == 8 ? ~0ull : (1ull << (8 * size)) - 1; }

static void set_logic_flags(struct cpu_regs *r, uint64_t res, unsigned size)
{
    res &= size_mask(size);
    uint64_t f = r->rflags & ~FLAGS_ARITH;
    if (!res)
        f |= 1ul << 6;                                      /* ZF */
    if ((res >> (8 * size - 1)) & 1)
        f |= 1ul << 7;                                      /* SF */
    if (!(__builtin_popcount((unsigned)(res & 0xff)) & 1))
        f |= 1ul << 2;                                      /* PF */
    r->rflags = f;
}

/* Computes the new operand value (and register/flag results) for a write
 * of `size` bytes whose old value is `old`. False: not an instruction we
 * emulate. */
static bool execute(struct cpu_regs *r, const struct insn *in, uint64_t old, uint64_t *out)
{
    unsigned size = in->opsize, sub = (in->modrm >> 3) & 7;
    uint64_t m = size_mask(size), src;
    switch (in->op) {
    case 0x88: case 0x89:
        *out = reg_read(r, in) & m;
        return true;
    case 0xc6: case 0xc7:
        if (sub != 0)
            return false;
        *out = in->imm & m;
        return true;
    case 0x86: case 0x87:
        *out = reg_read(r, in) & m;
        reg_write(r, in, ((in->modrm >> 3) & 7) | ((in->rex & 4) ? 8 : 0), old);
        return true;
    case 0x08: case 0x09: case 0x20: case 0x21:
        src = reg_read(r, in);
        *out = ((in->op & 0x20) ? old & src : old | src) & m;
        set_logic_flags(r, *out, size);
        return true;
    case 0x80: case 0x81: case 0x83:
        if (sub != 1 && sub != 4)
            return false;
        *out = (sub == 4 ? old & in->imm : old | in->imm) & m;
        set_logic_flags(r, *out, size);
        return true;
    case 0x0f: {
        if (in->op2 == 0xb0 || in->op2 == 0xb1) {           /* cmpxchg */
            uint64_t acc = r->rax & m;
            if (acc == old) {
                *out = reg_read(r, in) & m;
                r->rflags |= 1ul << 6;
            } else {
                *out = old;
                r->rflags &= ~(1ul << 6);
                struct insn acc_in = *in;
                acc_in.rex &= ~4;
                reg_write(r, &acc_in, 0, old);
            }
            return true;
        }
        unsigned bit;
        bool set;
        if (in->op2 == 0xba) {
            if (sub != 5 && sub != 6)
                return false;
            bit = (unsigned)(in->imm & (8 * size - 1));
            set = sub == 5;
        } else {
            bit = (unsigned)(reg_read(r, in) & (8 * size - 1));
            set = in->op2 == 0xab;
        }
        r->rflags = (r->rflags & ~X86_EFLAGS_CF) | (((old >> bit) & 1) ? X86_EFLAGS_CF : 0);
        *out = set ? old | (1ull << bit) : old & ~(1ull << bit);
        return true;
    }
    default:
        return false;
    }
}

/* Returns true if the fault was a write to an L1 entry that we emulated. */
bool pv_ptwr_emulate(struct vcpu *v, struct cpu_regs *regs, uint64_t cr2, uint32_t err)
{
    struct domain *d = v->domain;
    if (!v->in_kernel || !(d->vm_assist & (1ull << VMASST_TYPE_writable_pagetables)) ||
        (err & (PF_PRESENT | PF_WRITE | PF_RSVD | PF_INSN)) != (PF_PRESENT | PF_WRITE))
        return false;
    /* The faulting address must be mapped read-only to a validated L1 table
     * of this domain. */
    uint64_t map_l1e;
    if (!pv_l1_for_va(v, cr2, &map_l1e) || !(map_l1e & _PAGE_PRESENT) || (map_l1e & _PAGE_RW))
        return false;
    mfn_t target = pte_mfn(map_l1e);
    if (!mfn_valid(target))
        return false;
    struct page_info *tpg = mfn_to_page(target);
    if (tpg->owner != d->domain_id || tpg->type != PGT_l1 || !tpg->type_count ||
        !(tpg->flags & PGF_validated))
        return false;

    uint8_t bytes[15];
    unsigned avail = 0;
    while (avail < sizeof(bytes) && !copy_from_guest(&bytes[avail], regs->rip + avail, 1))
        avail++;
    struct insn in;
    if (!decode(bytes, avail, &in))
        return false;
    unsigned size = in.opsize, off = (unsigned)(cr2 & 7);
    if ((cr2 & (size - 1)) || off + size > 8)
        return false;                  /* misaligned or spans two entries */

    unsigned index = (unsigned)((cr2 & (PAGE_SIZE - 1)) / 8);
    uint64_t entry = ((const uint64_t *)mfn_to_virt(target))[index];
    uint64_t old = (entry >> (8 * off)) & size_mask(size);
    struct cpu_regs scratch = *regs;     /* commit register results only on success */
    uint64_t val;
    if (!execute(&scratch, &in, old, &val))
        return false;
    uint64_t new_entry = (entry & ~(size_mask(size) << (8 * off))) | (val << (8 * off));
    if (new_entry != entry && pv_mod_l1_entry(tpg, index, new_entry, d))
        return false;
    scratch.rip += in.len;
    *regs = scratch;
    return true;
}

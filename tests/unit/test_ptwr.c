/* SPDX-License-Identifier: MIT */
/*
 * hv/arch/x86_64/pv/ptwr.c on the host (behind hv_harness.h): the writable
 * page-table emulator (xen-pv-abi.md §5.6). Each case assembles one
 * instruction, faults it on an L1 entry the guest kernel maps read-only,
 * and checks the new entry, the registers, the flags Linux looks at, rip,
 * and that the references still add up; then the refusals, which must
 * leave the entry and the registers exactly as they were.
 */
#include "unit.h"
#include "hv_harness.h"

#define P   _PAGE_PRESENT
#define RW  _PAGE_RW
#define US  _PAGE_USER
#define GK  _PAGE_GUEST_KERNEL
#define NR_FRAMES 64

#define PF_P (1u << 0)
#define PF_W (1u << 1)
#define PF_U (1u << 2)
#define PF_RSVD (1u << 3)
#define PF_I (1u << 4)
#define CF X86_EFLAGS_CF
#define PF (1ul << 2)
#define ZF (1ul << 6)
#define SF (1ul << 7)
#define OF (1ul << 11)

#define MAP_SLOT 4   /* entry of the mapping L1 that maps T read-only */
#define IDX 10       /* the entry of T the cases write */

static struct domain *d1;
static struct vcpu *v1;
static mfn_t base1, l4, l1map, T, D1, D2;
static uint64_t t_va, code_gva;
static struct cpu_regs R;

static uint64_t pte(mfn_t m, uint64_t flags) { return (m << PAGE_SHIFT) | flags; }
static uint64_t *tab(mfn_t m) { return harness_frame(m); }
static mfn_t F(unsigned i)
{
    ck_assert_uint_lt(i, NR_FRAMES);
    return base1 + i;
}
static uint64_t cr2_of(unsigned idx) { return t_va + idx * 8; }
static uint64_t entry(void) { return tab(T)[IDX]; }

#define ASSERT_AUDIT()                                                                             \
    do {                                                                                           \
        const char *why_ = harness_audit();                                                        \
        ck_assert_msg(why_ == NULL, "audit: %s", why_);                                            \
    } while (0)
#define ASSERT_PG(m, cnt, typ, tcnt)                                                               \
    do {                                                                                           \
        const struct page_info *p_ = mfn_to_page(m);                                               \
        ck_assert_msg(p_->count == (cnt) && p_->type == (typ) && p_->type_count == (tcnt),         \
                      "mfn %lu: count %u type %u type_count %u, want %u %u %u",                    \
                      (unsigned long)(m), p_->count, p_->type, p_->type_count, (unsigned)(cnt),    \
                      (unsigned)(typ), (unsigned)(tcnt));                                          \
    } while (0)

/* d1's kernel root maps T (a pinned L1) read-only at t_va, through the
 * mapping L1 l1map; T[IDX] maps D1 writable, T[IDX + 1] D2 read-only. D1 and
 * D2 differ only in frame-number bits 12-15. */
static void setup(void)
{
    harness_reset();
    d1 = harness_domain_create(1, false, NR_FRAMES, &base1);
    v1 = d1->vcpus[0];
    harness_set_current(v1);
    d1->vm_assist = 1ull << VMASST_TYPE_writable_pagetables;
    l4 = F(0);
    l1map = F(3);
    T = F(4);
    D1 = ALIGN_UP(base1 + 20, 16);
    D2 = D1 + 1;
    ck_assert_uint_lt(D2, base1 + NR_FRAMES);
    tab(l4)[0] = pte(F(1), P | RW | US);
    tab(F(1))[0] = pte(F(2), P | RW | US);
    tab(F(2))[0] = pte(l1map, P | RW | US);
    tab(l1map)[MAP_SLOT] = pte(T, P);
    tab(T)[IDX] = pte(D1, P | RW | US);
    tab(T)[IDX + 1] = pte(D2, P | US | _PAGE_ACCESSED);
    ck_assert_int_eq(pv_pin_table(d1, T, PGT_l1), 0);
    ck_assert_int_eq(pv_set_baseptr(v1, l4, false), 0);
    t_va = (uint64_t)MAP_SLOT << PAGE_SHIFT;
    code_gva = harness_guest_alloc(64);
    memset(&R, 0, sizeof(R));
    R.rflags = X86_EFLAGS_MBS | X86_EFLAGS_IF;
    R.cs = FLAT_KERNEL_CS;
    ASSERT_AUDIT();
}

static void teardown(void) {}

/* Places the instruction at code_gva (int3 after it) and faults it at cr2
 * on the running vCPU. */
static bool fault_with(const uint8_t *insn, unsigned len, uint64_t cr2, uint32_t err)
{
    uint8_t *p = harness_guest_ptr(code_gva);
    memset(p, 0xcc, 32);
    memcpy(p, insn, len);
    R.rip = code_gva;
    return pv_ptwr_emulate(current_vcpu(), &R, cr2, err);
}

#define INSN(...) (const uint8_t[]){ __VA_ARGS__ }, sizeof((const uint8_t[]){ __VA_ARGS__ })

/* Emulated: rip moves past the instruction, the counts still add up. */
static void emulated(const uint8_t *insn, unsigned len, uint64_t cr2)
{
    ck_assert_msg(fault_with(insn, len, cr2, PF_P | PF_W | PF_U),
                  "not emulated (opcode %02x %02x %02x)", insn[0], len > 1 ? insn[1] : 0,
                  len > 2 ? insn[2] : 0);
    ck_assert_uint_eq(R.rip, code_gva + len);
    ASSERT_AUDIT();
}

/* Refused: the #PF goes to the guest with nothing changed. */
static void refused_err(const uint8_t *insn, unsigned len, uint64_t cr2, uint32_t err)
{
    static uint64_t before[512];
    memcpy(before, tab(T), PAGE_SIZE);
    struct cpu_regs saved = R;
    uint8_t *p = harness_guest_ptr(code_gva);
    memset(p, 0xcc, 32);
    memcpy(p, insn, len);
    saved.rip = code_gva;
    ck_assert_msg(!fault_with(insn, len, cr2, err), "emulated (opcode %02x %02x %02x)", insn[0],
                  len > 1 ? insn[1] : 0, len > 2 ? insn[2] : 0);
    ck_assert_msg(!memcmp(&saved, &R, sizeof(R)), "registers changed by a refused write");
    ck_assert_msg(!memcmp(before, tab(T), PAGE_SIZE), "entries changed by a refused write");
    ASSERT_AUDIT();
}
static void refused(const uint8_t *insn, unsigned len, uint64_t cr2)
{
    refused_err(insn, len, cr2, PF_P | PF_W | PF_U);
}

/* ---- mov ---- */

START_TEST(mov_register_forms)
{
    /* mov %rax,(%rdi): a whole new entry. */
    R.rax = pte(D2, P | US);
    emulated(INSN(0x48, 0x89, 0x07), cr2_of(IDX));
    ck_assert_uint_eq(entry(), pte(D2, P | US));
    ASSERT_PG(D1, 1, PGT_none, 0);
    ASSERT_PG(D2, 3, PGT_none, 0);
    ck_assert_uint_eq(R.rax, pte(D2, P | US));
    /* mov %r10,0x50(%r11) (REX.W R B, disp8). */
    R.r10 = pte(D1, P | RW);
    emulated(INSN(0x4d, 0x89, 0x53, 0x50), cr2_of(IDX));
    ck_assert_uint_eq(entry(), pte(D1, P | RW | US) | GK);
    ASSERT_PG(D1, 2, PGT_writable, 1);
    /* mov %eax,4(%rdi): the whole high half (NX set, the kernel-only
     * marker bit 52 overwritten: US stays, so nothing is re-added). */
    R.rax = 0xffffffff80000000ull;
    emulated(INSN(0x89, 0x47, 0x04), cr2_of(IDX) + 4);
    ck_assert_uint_eq(entry(), pte(D1, P | RW | US) | _PAGE_NX);
    ck_assert_uint_eq(R.rax, 0xffffffff80000000ull);
    /* mov %eax,(%rdi): the low half: frame and flags. */
    R.rax = (uint32_t)pte(D2, P | US);
    emulated(INSN(0x89, 0x07), cr2_of(IDX));
    ck_assert_uint_eq(entry(), pte(D2, P | US) | _PAGE_NX);
    ASSERT_PG(D1, 1, PGT_none, 0);
    /* mov %ax,(%rdi) (66): flags word; RW back on. */
    R.rax = (pte(D2, P | RW | US) & 0xffff) | 0xabcd0000ull;
    emulated(INSN(0x66, 0x89, 0x07), cr2_of(IDX));
    ck_assert_uint_eq(entry(), pte(D2, P | RW | US) | _PAGE_NX);
    ASSERT_PG(D2, 3, PGT_writable, 1);
    /* mov %al,(%rdi) (88): the flags byte, RW off again. */
    R.rax = 0x1200 | (P | US);
    emulated(INSN(0x88, 0x07), cr2_of(IDX));
    ck_assert_uint_eq(entry(), pte(D2, P | US) | _PAGE_NX);
    ASSERT_PG(D2, 3, PGT_none, 0);
    /* mov %ah,1(%rdi): without REX, reg 4 is AH; byte 1 holds frame bits
     * 12-15, so this switches the entry from D2 to D1. */
    R.rax = ((pte(D1, 0) >> 8) & 0xff) << 8;
    emulated(INSN(0x88, 0x67, 0x01), cr2_of(IDX) + 1);
    ck_assert_uint_eq(entry(), pte(D1, P | US) | _PAGE_NX);
    ASSERT_PG(D1, 2, PGT_none, 0);
    /* mov %sil,(%rdi) with REX (40): SIL, not DH. */
    R.rsi = P | RW | US;
    R.rdx = 0xee00;
    emulated(INSN(0x40, 0x88, 0x37), cr2_of(IDX));
    ck_assert_uint_eq(entry() & 0xff, P | RW | US);
    ASSERT_PG(D1, 2, PGT_writable, 1);
    /* mov %r9b,(%rdi) (44 88 0f). */
    R.r9 = P | US;
    emulated(INSN(0x44, 0x88, 0x0f), cr2_of(IDX));
    ck_assert_uint_eq(entry() & 0xff, P | US);
    ASSERT_PG(D1, 2, PGT_none, 0);
    /* SIB and RIP-relative operands: the length is what matters. */
    R.rax = 0;
    emulated(INSN(0x48, 0x89, 0x04, 0xcf), cr2_of(IDX));                 /* (%rdi,%rcx,8) */
    ck_assert_uint_eq(entry(), 0);
    ASSERT_PG(D1, 1, PGT_none, 0);
    R.rax = pte(D1, P);
    emulated(INSN(0x48, 0x89, 0x05, 0x78, 0x56, 0x34, 0x12), cr2_of(IDX)); /* disp32(%rip) */
    ck_assert_uint_eq(entry(), pte(D1, P | US) | GK);
    R.rax = 0;
    emulated(INSN(0x48, 0x89, 0x84, 0x24, 0x00, 0x10, 0x00, 0x00), cr2_of(IDX)); /* 0x1000(%rsp) */
    ck_assert_uint_eq(entry(), 0);
    R.rax = pte(D2, P);
    emulated(INSN(0x48, 0x89, 0x04, 0x25, 0x00, 0x40, 0x00, 0x00), cr2_of(IDX)); /* abs32 SIB */
    ck_assert_uint_eq(entry(), pte(D2, P | US) | GK);
    ASSERT_PG(D1, 1, PGT_none, 0);
}
END_TEST

START_TEST(mov_immediate_forms)
{
    /* movq $0,(%rdi): clears the entry (Linux's pte_clear). */
    emulated(INSN(0x48, 0xc7, 0x07, 0, 0, 0, 0), cr2_of(IDX));
    ck_assert_uint_eq(entry(), 0);
    ASSERT_PG(D1, 1, PGT_none, 0);
    /* movl $imm32,(%rdi): the low half of a present entry. */
    uint32_t lo = (uint32_t)pte(D1, P | RW);
    emulated(INSN(0xc7, 0x07, lo & 0xff, (lo >> 8) & 0xff, (lo >> 16) & 0xff, lo >> 24),
             cr2_of(IDX));
    ck_assert_uint_eq(entry(), pte(D1, P | RW | US) | GK);
    ASSERT_PG(D1, 2, PGT_writable, 1);
    /* movw $imm16,(%rdi) (66 c7): flags word. */
    uint16_t w = (uint16_t)pte(D1, P | US);
    emulated(INSN(0x66, 0xc7, 0x07, w & 0xff, w >> 8), cr2_of(IDX));
    ck_assert_uint_eq(entry(), pte(D1, P | US) | GK);
    ASSERT_PG(D1, 2, PGT_none, 0);
    /* movb $imm8,6(%rdi) (c6): a byte of the high half. */
    emulated(INSN(0xc6, 0x47, 0x06, 0x30), cr2_of(IDX) + 6);
    ck_assert_uint_eq(entry(), pte(D1, P | US) | GK | (0x30ull << 48));
    /* movq $-1,(%rdi) sign-extends: all bits, including PWT/PCD: refused. */
    refused(INSN(0x48, 0xc7, 0x07, 0xff, 0xff, 0xff, 0xff), cr2_of(IDX));
    /* movq $0x80000000 sign-extends to bit 63 and up: not present, so stored. */
    emulated(INSN(0x48, 0xc7, 0x07, 0x00, 0x00, 0x00, 0x80), cr2_of(IDX));
    ck_assert_uint_eq(entry(), 0xffffffff80000000ull);
    ASSERT_PG(D1, 1, PGT_none, 0);
    /* c6/c7 with reg != 0 are not mov. */
    refused(INSN(0xc7, 0x0f, 0, 0, 0, 0), cr2_of(IDX));
    refused(INSN(0xc6, 0x0f, 0), cr2_of(IDX));
}
END_TEST

/* ---- xchg ---- */

START_TEST(xchg_forms)
{
    uint64_t old = entry();
    /* xchg %rax,(%rdi) with 0: ptep_get_and_clear. */
    R.rax = 0;
    emulated(INSN(0x48, 0x87, 0x07), cr2_of(IDX));
    ck_assert_uint_eq(entry(), 0);
    ck_assert_uint_eq(R.rax, old);
    ASSERT_PG(D1, 1, PGT_none, 0);
    /* lock xchg %r8,(%rdi) (REX.WR). */
    R.r8 = pte(D2, P | RW);
    emulated(INSN(0xf0, 0x4c, 0x87, 0x07), cr2_of(IDX));
    ck_assert_uint_eq(entry(), pte(D2, P | RW | US) | GK);
    ck_assert_uint_eq(R.r8, 0);
    ASSERT_PG(D2, 3, PGT_writable, 1);
    /* xchg %eax,(%rdi): 32 bits, the register zero-extended. */
    old = entry();
    R.rax = 0xdeadbeef00000000ull | (uint32_t)pte(D2, P | US);
    emulated(INSN(0x87, 0x07), cr2_of(IDX));
    ck_assert_uint_eq(entry(), pte(D2, P | US) | GK);
    ck_assert_uint_eq(R.rax, (uint32_t)old);
    ASSERT_PG(D2, 3, PGT_none, 0);
    /* xchg %ah,(%rdi): byte, AH without REX. */
    old = entry();
    R.rax = 0x1111000000000000ull | ((uint64_t)(P | RW | US) << 8) | 0x77;
    emulated(INSN(0x86, 0x27), cr2_of(IDX));
    ck_assert_uint_eq(entry() & 0xff, P | RW | US);
    ck_assert_uint_eq(R.rax, 0x1111000000000000ull | ((old & 0xff) << 8) | 0x77);
    ASSERT_PG(D2, 3, PGT_writable, 1);
    /* xchg %r12w,(%rdi) (66 44 87 27): 16 bits, upper register bits kept. */
    old = entry();
    R.r12 = 0xaaaabbbbcccc0000ull | (old & 0xf000) | (P | US);
    emulated(INSN(0x66, 0x44, 0x87, 0x27), cr2_of(IDX));
    ck_assert_uint_eq(entry() & 0xffff, (old & 0xf000) | (P | US));
    ck_assert_uint_eq(R.r12, 0xaaaabbbbcccc0000ull | (old & 0xffff));
    ASSERT_PG(D2, 3, PGT_none, 0);
}
END_TEST

/* ---- cmpxchg ---- */

START_TEST(cmpxchg_forms)
{
    uint64_t old = entry();
    /* lock cmpxchg %rcx,(%rdi), success: ZF set, rax kept. */
    R.rax = old;
    R.rcx = pte(D2, P | US);
    emulated(INSN(0xf0, 0x48, 0x0f, 0xb1, 0x0f), cr2_of(IDX));
    ck_assert_uint_eq(entry(), pte(D2, P | US));
    ck_assert(R.rflags & ZF);
    ck_assert_uint_eq(R.rax, old);
    ASSERT_PG(D1, 1, PGT_none, 0);
    /* Failure: ZF clear, rax = current entry, nothing stored; still
     * emulated (the instruction completed). */
    R.rax = old;
    R.rcx = pte(D1, P | RW);
    emulated(INSN(0xf0, 0x48, 0x0f, 0xb1, 0x0f), cr2_of(IDX));
    ck_assert_uint_eq(entry(), pte(D2, P | US));
    ck_assert(!(R.rflags & ZF));
    ck_assert_uint_eq(R.rax, pte(D2, P | US));
    ASSERT_PG(D1, 1, PGT_none, 0);
    /* lock cmpxchg %r9,(%rdi) (REX.WR). */
    R.rax = entry();
    R.r9 = pte(D1, P | RW | US);
    emulated(INSN(0xf0, 0x4c, 0x0f, 0xb1, 0x0f), cr2_of(IDX));
    ck_assert_uint_eq(entry(), pte(D1, P | RW | US));
    ck_assert(R.rflags & ZF);
    ASSERT_PG(D1, 2, PGT_writable, 1);
    /* 32-bit: success keeps rax; failure loads eax zero-extended. */
    R.rax = 0x5555555500000000ull | (uint32_t)entry();
    R.rcx = (uint32_t)pte(D1, P | US);
    emulated(INSN(0xf0, 0x0f, 0xb1, 0x0f), cr2_of(IDX));
    ck_assert_uint_eq(entry(), pte(D1, P | US));
    ck_assert_uint_eq(R.rax, 0x5555555500000000ull | (uint32_t)pte(D1, P | RW | US));
    ck_assert(R.rflags & ZF);
    R.rax = 0x5555555500000000ull;
    emulated(INSN(0xf0, 0x0f, 0xb1, 0x0f), cr2_of(IDX));
    ck_assert(!(R.rflags & ZF));
    ck_assert_uint_eq(R.rax, (uint32_t)pte(D1, P | US));
    /* Byte form (0f b0) on the flags byte: cmpxchg %cl,(%rdi). */
    R.rax = 0xff00 | (entry() & 0xff);
    R.rcx = P | RW | US;
    emulated(INSN(0xf0, 0x0f, 0xb0, 0x0f), cr2_of(IDX));
    ck_assert_uint_eq(entry(), pte(D1, P | RW | US));
    ck_assert(R.rflags & ZF);
    ck_assert_uint_eq(R.rax, 0xff00 | (P | US));
    R.rax = 0xff00;
    emulated(INSN(0xf0, 0x0f, 0xb0, 0x0f), cr2_of(IDX));
    ck_assert(!(R.rflags & ZF));
    ck_assert_uint_eq(R.rax, 0xff00 | (P | RW | US));
    ASSERT_PG(D1, 2, PGT_writable, 1);
    /* A successful compare whose new value does not validate (RW mapping of
     * the page table itself): refused, registers and ZF untouched. */
    R.rax = entry();
    R.rcx = pte(T, P | RW);
    R.rflags &= ~ZF;
    refused(INSN(0xf0, 0x48, 0x0f, 0xb1, 0x0f), cr2_of(IDX));
}
END_TEST

/* ---- and / or ---- */

START_TEST(and_or_forms)
{
    /* lock and %rax,(%rdi): clear RW (ptep_set_wrprotect's generic form). */
    R.rax = ~RW;
    R.rflags |= CF | OF | ZF;
    emulated(INSN(0xf0, 0x48, 0x21, 0x07), cr2_of(IDX));
    ck_assert_uint_eq(entry(), pte(D1, P | US));
    ASSERT_PG(D1, 2, PGT_none, 0);
    ck_assert(!(R.rflags & (CF | OF | ZF | SF)));
    /* lock or %rax,(%rdi): RW back. */
    R.rax = RW;
    emulated(INSN(0xf0, 0x48, 0x09, 0x07), cr2_of(IDX));
    ck_assert_uint_eq(entry(), pte(D1, P | RW | US));
    ASSERT_PG(D1, 2, PGT_writable, 1);
    /* lock andb $0xfd,(%rax): the byte form Linux emits for clear_bit(1). */
    emulated(INSN(0xf0, 0x80, 0x20, 0xfd), cr2_of(IDX));
    ck_assert_uint_eq(entry(), pte(D1, P | US));
    ASSERT_PG(D1, 2, PGT_none, 0);
    /* lock orb $0x2,(%rdi). */
    emulated(INSN(0xf0, 0x80, 0x0f, 0x02), cr2_of(IDX));
    ck_assert_uint_eq(entry(), pte(D1, P | RW | US));
    /* ds andb $0xfd,(%r12): Linux's lock prefix patched to ds on one CPU. */
    emulated(INSN(0x3e, 0x41, 0x80, 0x24, 0x24, 0xfd), cr2_of(IDX));
    ck_assert_uint_eq(entry(), pte(D1, P | US));
    ASSERT_PG(D1, 2, PGT_none, 0);
    /* Any segment override: the address comes from CR2. */
    emulated(INSN(0x64, 0x80, 0x0f, 0x02), cr2_of(IDX));
    ck_assert_uint_eq(entry(), pte(D1, P | RW | US));
    ASSERT_PG(D1, 2, PGT_writable, 1);
    /* lock andq $-3,(%rdi) (83: imm8 sign-extended). */
    emulated(INSN(0xf0, 0x48, 0x83, 0x27, 0xfd), cr2_of(IDX));
    ck_assert_uint_eq(entry(), pte(D1, P | US));
    /* lock orq $0x20,(%rdi): set Accessed. */
    emulated(INSN(0xf0, 0x48, 0x83, 0x0f, 0x20), cr2_of(IDX));
    ck_assert_uint_eq(entry(), pte(D1, P | US | _PAGE_ACCESSED));
    /* lock orl $imm32,4(%rdi) (81 /1): NX in the high half; SF from bit 31. */
    emulated(INSN(0xf0, 0x81, 0x4f, 0x04, 0x00, 0x00, 0x00, 0x80), cr2_of(IDX) + 4);
    ck_assert_uint_eq(entry(), pte(D1, P | US | _PAGE_ACCESSED) | _PAGE_NX);
    ck_assert(R.rflags & SF);
    ck_assert(!(R.rflags & ZF));
    /* lock andw $0xffdf,(%rdi) (66 81 /4 iw): clear Accessed. */
    emulated(INSN(0xf0, 0x66, 0x81, 0x27, 0xdf, 0xff), cr2_of(IDX));
    ck_assert_uint_eq(entry(), pte(D1, P | US) | _PAGE_NX);
    /* and %al,(%rdi) / or %al,(%rdi) (20 / 08), byte. */
    R.rax = 0x100 | (uint8_t)~P;
    emulated(INSN(0x20, 0x07), cr2_of(IDX));
    ck_assert_uint_eq(entry(), pte(D1, US) | _PAGE_NX);
    ASSERT_PG(D1, 1, PGT_none, 0);
    R.rax = P;
    emulated(INSN(0x08, 0x07), cr2_of(IDX));
    ck_assert_uint_eq(entry(), pte(D1, P | US) | _PAGE_NX);
    ASSERT_PG(D1, 2, PGT_none, 0);
    /* The other 80/81/83 sub-ops (add, adc, sbb, sub, xor, cmp) are not
     * ours, even where and/or would give a valid entry. */
    for (unsigned sub = 0; sub < 8; sub++)
        if (sub != 1 && sub != 4)
            refused(INSN(0xf0, 0x48, 0x83, (uint8_t)(0x07 | sub << 3), 0x20), cr2_of(IDX));
    /* ZF and PF from the result: andq $0 empties the entry. */
    emulated(INSN(0xf0, 0x48, 0x83, 0x27, 0x00), cr2_of(IDX));
    ck_assert_uint_eq(entry(), 0);
    ck_assert(R.rflags & ZF);
    ck_assert(R.rflags & PF);
    ASSERT_PG(D1, 1, PGT_none, 0);
    /* An or that would make a page-table mapping writable is refused. */
    tab(T)[IDX] = 0;
    R.rax = pte(l1map, P);
    emulated(INSN(0x48, 0x89, 0x07), cr2_of(IDX));
    R.rax = RW;
    refused(INSN(0xf0, 0x48, 0x09, 0x07), cr2_of(IDX));
}
END_TEST

/* ---- bts / btr ---- */

START_TEST(bit_test_and_modify_forms)
{
    /* lock btrq $1,(%rdi): CF = old RW. */
    R.rflags |= ZF;
    emulated(INSN(0xf0, 0x48, 0x0f, 0xba, 0x37, 0x01), cr2_of(IDX));
    ck_assert_uint_eq(entry(), pte(D1, P | US));
    ck_assert(R.rflags & CF);
    ck_assert(R.rflags & ZF);           /* bt* leave ZF alone */
    ASSERT_PG(D1, 2, PGT_none, 0);
    emulated(INSN(0xf0, 0x48, 0x0f, 0xba, 0x37, 0x01), cr2_of(IDX));
    ck_assert(!(R.rflags & CF));
    /* lock btsq $1,(%rdi). */
    emulated(INSN(0xf0, 0x48, 0x0f, 0xba, 0x2f, 0x01), cr2_of(IDX));
    ck_assert_uint_eq(entry(), pte(D1, P | RW | US));
    ck_assert(!(R.rflags & CF));
    ASSERT_PG(D1, 2, PGT_writable, 1);
    /* ptep_test_and_clear_young: lock btr %rax,(%rdi) with rax = 5. */
    R.rax = 5;
    emulated(INSN(0xf0, 0x48, 0x0f, 0xb3, 0x07), cr2_of(IDX + 1));
    ck_assert_uint_eq(tab(T)[IDX + 1], pte(D2, P | US));
    ck_assert(R.rflags & CF);
    emulated(INSN(0xf0, 0x48, 0x0f, 0xb3, 0x07), cr2_of(IDX + 1));
    ck_assert(!(R.rflags & CF));
    /* lock bts %rax,(%rdi). */
    emulated(INSN(0xf0, 0x48, 0x0f, 0xab, 0x07), cr2_of(IDX + 1));
    ck_assert_uint_eq(tab(T)[IDX + 1], pte(D2, P | US | _PAGE_ACCESSED));
    ck_assert(!(R.rflags & CF));
    /* A register bit offset past the operand: the CPU faults on the word
     * that holds the bit, so cr2 names it and the offset wraps. */
    R.rax = 64 + 5;
    emulated(INSN(0xf0, 0x48, 0x0f, 0xb3, 0x07), cr2_of(IDX + 1));
    ck_assert_uint_eq(tab(T)[IDX + 1], pte(D2, P | US));
    ck_assert(R.rflags & CF);
    /* 32-bit form on the high half: btrl $31,4(%rdi) clears NX. */
    tab(T)[IDX + 1] |= _PAGE_NX;
    emulated(INSN(0xf0, 0x0f, 0xba, 0x77, 0x04, 0x1f), cr2_of(IDX + 1) + 4);
    ck_assert_uint_eq(tab(T)[IDX + 1], pte(D2, P | US));
    ck_assert(R.rflags & CF);
    /* bt (/4) and btc (/7, 0f bb) are not emulated. */
    refused(INSN(0xf0, 0x48, 0x0f, 0xba, 0x27, 0x01), cr2_of(IDX));
    refused(INSN(0xf0, 0x48, 0x0f, 0xba, 0x3f, 0x01), cr2_of(IDX));
    refused(INSN(0xf0, 0x48, 0x0f, 0xbb, 0x07), cr2_of(IDX));
    /* bts that would make a page-table mapping writable. */
    tab(T)[IDX + 2] = 0;
    R.rax = pte(T, P);
    emulated(INSN(0x48, 0x89, 0x07), cr2_of(IDX + 2));
    refused(INSN(0xf0, 0x48, 0x0f, 0xba, 0x2f, 0x01), cr2_of(IDX + 2));
}
END_TEST

/* ---- refusals ---- */

START_TEST(misaligned_and_spanning_writes_refused)
{
    R.rax = 0;
    refused(INSN(0x48, 0x89, 0x07), cr2_of(IDX) + 4);     /* 8 bytes across two entries */
    refused(INSN(0x48, 0x89, 0x07), cr2_of(IDX) + 1);
    refused(INSN(0x89, 0x07), cr2_of(IDX) + 6);           /* 4 bytes across two entries */
    refused(INSN(0x89, 0x07), cr2_of(IDX) + 2);
    refused(INSN(0x66, 0x89, 0x07), cr2_of(IDX) + 7);     /* 2 bytes across two entries */
    refused(INSN(0x66, 0x89, 0x07), cr2_of(IDX) + 3);
    refused(INSN(0xf0, 0x48, 0x0f, 0xb1, 0x0f), cr2_of(IDX) + 4);
}
END_TEST

START_TEST(unsupported_instructions_refused)
{
    R.rax = 0;
    refused(INSN(0x48, 0x01, 0x07), cr2_of(IDX));               /* add %rax,(%rdi) */
    refused(INSN(0x48, 0x29, 0x07), cr2_of(IDX));               /* sub */
    refused(INSN(0x48, 0x31, 0x07), cr2_of(IDX));               /* xor */
    refused(INSN(0x48, 0xff, 0x07), cr2_of(IDX));               /* incq */
    refused(INSN(0xf0, 0x48, 0x0f, 0xc1, 0x07), cr2_of(IDX));   /* lock xadd */
    refused(INSN(0xf0, 0x48, 0x0f, 0xc7, 0x0f), cr2_of(IDX));   /* cmpxchg16b */
    refused(INSN(0x48, 0xab), cr2_of(IDX));                     /* stosq */
    refused(INSN(0xf3, 0x48, 0xab), cr2_of(IDX));               /* rep stosq */
    refused(INSN(0x48, 0xa5), cr2_of(IDX));                     /* movsq */
    refused(INSN(0x67, 0x48, 0x89, 0x07), cr2_of(IDX));         /* addr32 */
    refused(INSN(0x0f, 0x11, 0x07), cr2_of(IDX));               /* movups */
    refused(INSN(0x48, 0x0f, 0xc3, 0x07), cr2_of(IDX));         /* movnti */
    /* Register destinations (mod = 3) never write memory. */
    refused(INSN(0x48, 0x89, 0xc7), cr2_of(IDX));               /* mov %rax,%rdi */
    refused(INSN(0x48, 0x87, 0xc7), cr2_of(IDX));               /* xchg %rax,%rdi */
    refused(INSN(0xf0, 0x48, 0x0f, 0xb1, 0xcf), cr2_of(IDX));   /* cmpxchg %rcx,%rdi */
    refused(INSN(0x48, 0x83, 0xe7, 0xfd), cr2_of(IDX));         /* and $-3,%rdi */
    refused(INSN(0x48, 0x0f, 0xba, 0xf7, 0x01), cr2_of(IDX));   /* btr $1,%rdi */
}
END_TEST

START_TEST(truncated_instruction_refused)
{
    /* The instruction's last bytes lie past the guest's memory. */
    uint64_t end = HARNESS_GUEST_VA + HARNESS_GUEST_SIZE;
    uint8_t *p = harness_guest_ptr(end - 3);
    memcpy(p, (const uint8_t[]){ 0x48, 0xc7, 0x07 }, 3);
    R.rip = end - 3;
    struct cpu_regs saved = R;
    ck_assert(!pv_ptwr_emulate(v1, &R, cr2_of(IDX), PF_P | PF_W | PF_U));
    ck_assert(!memcmp(&saved, &R, sizeof(R)));
    memcpy(p + 1, (const uint8_t[]){ 0x48, 0x89 }, 2);
    R.rip = end - 2;
    ck_assert(!pv_ptwr_emulate(v1, &R, cr2_of(IDX), PF_P | PF_W | PF_U));
    R.rip = 0x1000;    /* not guest memory at all */
    ck_assert(!pv_ptwr_emulate(v1, &R, cr2_of(IDX), PF_P | PF_W | PF_U));
    /* A SIB byte that is missing. */
    memcpy(p, (const uint8_t[]){ 0x48, 0x89, 0x04 }, 3);
    R.rip = end - 3;
    ck_assert(!pv_ptwr_emulate(v1, &R, cr2_of(IDX), PF_P | PF_W | PF_U));
    ck_assert_uint_eq(entry(), pte(D1, P | RW | US));
}
END_TEST

START_TEST(wrong_mode_assist_or_error_code_refused)
{
    R.rax = 0;
    v1->in_kernel = false;
    refused(INSN(0x48, 0x89, 0x07), cr2_of(IDX));
    v1->in_kernel = true;
    d1->vm_assist = 0;
    refused(INSN(0x48, 0x89, 0x07), cr2_of(IDX));
    d1->vm_assist = 1ull << VMASST_TYPE_writable_pagetables;
    refused_err(INSN(0x48, 0x89, 0x07), cr2_of(IDX), PF_P | PF_U);               /* a read */
    refused_err(INSN(0x48, 0x89, 0x07), cr2_of(IDX), PF_W | PF_U);               /* not present */
    refused_err(INSN(0x48, 0x89, 0x07), cr2_of(IDX), PF_P | PF_W | PF_RSVD);
    refused_err(INSN(0x48, 0x89, 0x07), cr2_of(IDX), PF_P | PF_W | PF_I);
    emulated(INSN(0x48, 0x89, 0x07), cr2_of(IDX));                               /* control */
    ck_assert_uint_eq(entry(), 0);
}
END_TEST

START_TEST(target_must_be_a_validated_l1_of_the_domain)
{
    R.rax = 0;
    /* Mapped read-only, but a data frame. */
    ck_assert_int_eq(pv_mod_l1_entry(mfn_to_page(l1map), MAP_SLOT + 1, pte(D2, P), d1), 0);
    refused(INSN(0x48, 0x89, 0x07), t_va + PAGE_SIZE + IDX * 8);
    /* An L2 (validated and pinned). */
    mfn_t l2 = F(6);
    ck_assert_int_eq(pv_pin_table(d1, l2, PGT_l2), 0);
    ck_assert_int_eq(pv_mod_l1_entry(mfn_to_page(l1map), MAP_SLOT + 2, pte(l2, P), d1), 0);
    refused(INSN(0x48, 0x89, 0x07), t_va + 2 * PAGE_SIZE);
    ck_assert_uint_eq(tab(l2)[0], 0);
    /* Not mapped at all, and addresses the kernel root does not reach. */
    refused(INSN(0x48, 0x89, 0x07), t_va + 3 * PAGE_SIZE);
    refused(INSN(0x48, 0x89, 0x07), 1ull << 39);
    refused(INSN(0x48, 0x89, 0x07), HYPERVISOR_VIRT_START + IDX * 8);
    /* Mapped writable: then the fault was not a write to a read-only
     * mapping (and T could not be writable anyway: it is a table). */
    ck_assert_int_eq(pv_mod_l1_entry(mfn_to_page(l1map), MAP_SLOT + 3, pte(D2, P | RW), d1), 0);
    refused(INSN(0x48, 0x89, 0x07), t_va + 3 * PAGE_SIZE);
    /* Another domain's L1, mapped read-only by the privileged domain. */
    mfn_t base0;
    struct domain *d0 = harness_domain_create(0, true, 8, &base0);
    d0->vm_assist = 1ull << VMASST_TYPE_writable_pagetables;
    struct vcpu *v0 = d0->vcpus[0];
    tab(base0)[0] = pte(base0 + 1, P | RW | US);
    tab(base0 + 1)[0] = pte(base0 + 2, P | RW | US);
    tab(base0 + 2)[0] = pte(base0 + 3, P | RW | US);
    tab(base0 + 3)[MAP_SLOT] = pte(T, P);            /* dom0 maps d1's L1 read-only */
    harness_set_current(v0);
    ck_assert_int_eq(pv_set_baseptr(v0, base0, false), 0);
    ASSERT_PG(T, 4, PGT_l1, 1);
    refused(INSN(0x48, 0x89, 0x07), cr2_of(IDX));
    ck_assert_uint_eq(entry(), pte(D1, P | RW | US));
    ASSERT_AUDIT();
}
END_TEST

START_TEST(invalid_new_values_refused)
{
    /* RW mapping of a page table (T itself, the mapping L1, the root). */
    const mfn_t tables[] = { T, l1map, l4, F(1), F(2) };
    for (unsigned k = 0; k < ARRAY_SIZE(tables); k++) {
        R.rax = pte(tables[k], P | RW);
        refused(INSN(0x48, 0x89, 0x07), cr2_of(IDX));
    }
    /* Frames that are not d1's, beyond RAM, forbidden bits. */
    mfn_t base2;
    harness_domain_create(2, false, 4, &base2);
    const uint64_t bad[] = { pte(base2, P), pte(3, P), pte(max_mfn, P), pte(D2, P | _PAGE_PCD),
                             pte(D2, P | _PAGE_PAT), pte(D2, P | _PAGE_GNTTAB) };
    for (unsigned k = 0; k < ARRAY_SIZE(bad); k++) {
        R.rax = bad[k];
        refused(INSN(0x48, 0x89, 0x07), cr2_of(IDX));
        R.rax = 0;
        R.rcx = bad[k];
        R.rax = entry();
        refused(INSN(0xf0, 0x48, 0x0f, 0xb1, 0x0f), cr2_of(IDX));
        R.rcx = 0;
        R.rax = bad[k];
        refused(INSN(0x48, 0x87, 0x07), cr2_of(IDX));
    }
    /* An entry of T that maps T itself may not become writable. */
    ck_assert_int_eq(pv_mod_l1_entry(mfn_to_page(T), 20, pte(T, P), d1), 0);
    R.rax = RW;
    refused(INSN(0xf0, 0x48, 0x09, 0x07), cr2_of(20));
    ck_assert_uint_eq(entry(), pte(D1, P | RW | US));
    ASSERT_PG(D1, 2, PGT_writable, 1);
}
END_TEST

START_TEST(unchanged_value_needs_no_update)
{
    /* Writing the value already there succeeds without touching counts. */
    R.rax = entry();
    emulated(INSN(0x48, 0x89, 0x07), cr2_of(IDX));
    ASSERT_PG(D1, 2, PGT_writable, 1);
    emulated(INSN(0xf0, 0x48, 0x83, 0x0f, 0x01), cr2_of(IDX));   /* or $P: already set */
    ck_assert_uint_eq(entry(), pte(D1, P | RW | US));
}
END_TEST

static Suite *ptwr_suite(void)
{
    Suite *s = suite_create("ptwr");
    TCase *tc = tcase_create("emulate");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, mov_register_forms);
    tcase_add_test(tc, mov_immediate_forms);
    tcase_add_test(tc, xchg_forms);
    tcase_add_test(tc, cmpxchg_forms);
    tcase_add_test(tc, and_or_forms);
    tcase_add_test(tc, bit_test_and_modify_forms);
    tcase_add_test(tc, unchanged_value_needs_no_update);
    suite_add_tcase(s, tc);
    TCase *rf = tcase_create("refuse");
    tcase_add_checked_fixture(rf, setup, teardown);
    tcase_add_test(rf, misaligned_and_spanning_writes_refused);
    tcase_add_test(rf, unsupported_instructions_refused);
    tcase_add_test(rf, truncated_instruction_refused);
    tcase_add_test(rf, wrong_mode_assist_or_error_code_refused);
    tcase_add_test(rf, target_must_be_a_validated_l1_of_the_domain);
    tcase_add_test(rf, invalid_new_values_refused);
    suite_add_tcase(s, rf);
    return s;
}

UNIT_MAIN(ptwr_suite)

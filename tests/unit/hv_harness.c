/* SPDX-License-Identifier: MIT */
/*
 * Host versions of what the PV MMU files call outside themselves (see
 * hv_harness.h): fake machine memory and frame allocator, M2P, the idle L4,
 * domains, the per-CPU block, guest memory access, logging and panic.
 * Contracts follow the hypervisor's (hv/common/page_alloc.c, domain.c,
 * arch/x86_64/mm.c) so the code under test sees the same behaviour.
 */
#include "hv_harness.h"
#include <hv/gnttab.h>
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

struct harness_log hvlog;
struct percpu harness_percpu;
struct page_info *frame_table;
mfn_t max_mfn;
mfn_t max_io_mfn;
uint64_t *m2p_table;
uint64_t idle_l4[512];
struct domain *domain_list[MAX_DOMAINS];
enum log_level hv_loglvl = LOG_DEBUG;
bool harness_in_multicall;

/* The register frame sits at the top of a small fake stack. */
static struct {
    uint64_t below[8];
    struct cpu_regs regs;
} harness_stack;
static uint64_t gdt[GDT_ENTRIES];
static uint64_t ldt[LDT_MAX_ENTS];
static unsigned ldt_loaded_ents;
static uint8_t *guest_window;
static size_t guest_brk;
static bool frame_used[HARNESS_NR_FRAMES];
static unsigned long nr_free;

static void map_machine_memory(void)
{
    static bool mapped;
    if (mapped)
        return;
    void *want = (void *)DIRECTMAP_VIRT_START;
    void *p = mmap(want, (size_t)HARNESS_NR_FRAMES * PAGE_SIZE, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (p != want) {
        fprintf(stderr, "hv_harness: cannot map fake machine memory at %p\n", want);
        abort();
    }
    frame_table = calloc(HARNESS_NR_FRAMES, sizeof(*frame_table));
    m2p_table = calloc(HARNESS_NR_FRAMES, sizeof(*m2p_table));
    guest_window = calloc(1, HARNESS_GUEST_SIZE);
    if (!frame_table || !m2p_table || !guest_window)
        abort();
    mapped = true;
}

uint64_t harness_hv_l4_entry(unsigned slot)
{
    /* Points at a hypervisor frame: refused if ever taken for a guest entry. */
    return ((uint64_t)(slot - L4_SLOT_FIRST_HV + 1) << PAGE_SHIFT) | _PAGE_PRESENT | _PAGE_RW;
}

void harness_reset(void)
{
    map_machine_memory();
    for (unsigned i = 0; i < MAX_DOMAINS; i++) {
        struct domain *d = domain_list[i];
        if (!d)
            continue;
        for (unsigned v = 0; v < MAX_VCPUS_PER_DOMAIN; v++)
            free(d->vcpus[v]);
        free(d);
        domain_list[i] = NULL;
    }
    memset((void *)DIRECTMAP_VIRT_START, 0, (size_t)HARNESS_NR_FRAMES * PAGE_SIZE);
    max_mfn = HARNESS_NR_FRAMES;
    max_io_mfn = HARNESS_MAX_IO_MFN;
    nr_free = 0;
    for (mfn_t m = 0; m < HARNESS_NR_FRAMES; m++) {
        bool hv = m < HARNESS_FIRST_FREE;
        frame_table[m] = (struct page_info){ .owner = hv ? DOMID_XEN : DOMID_INVALID, .next = ~0u };
        frame_used[m] = hv;
        nr_free += !hv;
        m2p_table[m] = INVALID_M2P_ENTRY;
    }
    memset(idle_l4, 0, sizeof(idle_l4));
    for (unsigned s = L4_SLOT_FIRST_HV; s <= L4_SLOT_LAST_HV; s++)
        idle_l4[s] = harness_hv_l4_entry(s);
    memset(&hvlog, 0, sizeof(hvlog));
    memset(&harness_stack, 0, sizeof(harness_stack));
    memset(gdt, 0, sizeof(gdt));
    memset(ldt, 0, sizeof(ldt));
    ldt_loaded_ents = 0;
    memset(guest_window, 0, HARNESS_GUEST_SIZE);
    guest_brk = 0;
    harness_in_multicall = false;
    harness_percpu = (struct percpu){ .self = &harness_percpu,
                                      .stack_top = (uint64_t)(&harness_stack.regs + 1) };
}

/* Frame allocator (hv/common/page_alloc.c's contract): first fit, frames
 * come back zeroed with owner set and no references. */
mfn_t alloc_frames(unsigned long nr, uint16_t owner)
{
    if (nr == 0 || nr > nr_free)
        return INVALID_MFN;
    unsigned long run = 0;
    for (mfn_t m = 0; m < HARNESS_NR_FRAMES; m++) {
        run = frame_used[m] ? 0 : run + 1;
        if (run < nr)
            continue;
        mfn_t first = m + 1 - nr;
        for (mfn_t f = first; f <= m; f++) {
            frame_used[f] = true;
            frame_table[f] = (struct page_info){ .owner = owner, .next = ~0u };
            memset(mfn_to_virt(f), 0, PAGE_SIZE);
        }
        nr_free -= nr;
        return first;
    }
    return INVALID_MFN;
}

void free_frames(mfn_t mfn, unsigned long nr)
{
    for (mfn_t f = mfn; f < mfn + nr; f++) {
        BUG_ON(!mfn_valid(f) || !frame_used[f]);
        BUG_ON(frame_table[f].count || frame_table[f].type_count);
        frame_table[f] = (struct page_info){ .owner = DOMID_INVALID, .next = ~0u };
        frame_used[f] = false;
        nr_free++;
    }
}

void *alloc_xen_pages(unsigned long nr)
{
    mfn_t m = alloc_frames(nr, DOMID_XEN);
    return m == INVALID_MFN ? NULL : mfn_to_virt(m);
}

void free_xen_pages(void *va, unsigned long nr)
{
    if (va)
        free_frames(virt_to_mfn(va), nr);
}

unsigned long free_frame_count(void) { return nr_free; }
unsigned long total_ram_frames(void) { return HARNESS_NR_FRAMES; }
unsigned long harness_free_frames(void) { return nr_free; }

/* arch/x86_64/mm.c's contracts. */
void set_m2p(mfn_t mfn, uint64_t pfn)
{
    hvlog.m2p_sets++;
    if (mfn_valid(mfn))
        m2p_table[mfn] = pfn;
}

void install_hv_l4_slots(uint64_t *l4)
{
    hvlog.install_l4_calls++;
    for (unsigned s = L4_SLOT_FIRST_HV; s <= L4_SLOT_LAST_HV; s++)
        l4[s] = idle_l4[s];
}

/* common/hypercall.c's contract. */
bool hypercall_can_continue(void) { return !harness_in_multicall; }

uint64_t *cpu_gdt(void) { return gdt; }
uint64_t *harness_gdt(void) { return gdt; }
uint64_t *cpu_ldt(void) { return ldt; }
void cpu_load_ldt(unsigned ents) { ldt_loaded_ents = ents; }
unsigned harness_ldt_loaded(void) { return ldt_loaded_ents; }

/* common/domain.c's contracts. */
struct domain *domain_by_id(domid_t id)
{
    if (id >= MAX_DOMAINS || !domain_list[id] || domain_list[id]->is_dying)
        return NULL;
    return domain_list[id];
}

int domain_assign_page(struct domain *d, mfn_t mfn)
{
    if (d->tot_pages >= d->max_pages)
        return -XEN_ENOMEM;
    struct page_info *pg = mfn_to_page(mfn);
    pg->owner = d->domain_id;
    pg->flags |= PGF_allocated;
    pg->count = 1;
    pg->next = d->page_list_head;
    d->page_list_head = (uint32_t)mfn;
    d->tot_pages++;
    return 0;
}

struct domain *harness_domain_create(domid_t id, bool privileged, unsigned nr_frames, mfn_t *first)
{
    ck_assert_uint_lt(id, MAX_DOMAINS);
    ck_assert_ptr_null(domain_list[id]);
    struct domain *d = calloc(1, sizeof(*d));
    struct vcpu *v = calloc(1, sizeof(*v));
    ck_assert(d && v);
    d->domain_id = id;
    d->is_privileged = privileged;
    d->page_list_head = ~0u;
    d->max_pages = nr_frames + 64;
    d->max_vcpus = 1;
    d->vcpus[0] = v;
    v->domain = d;
    v->is_initialised = v->is_up = true;
    v->in_kernel = true;
    v->vcpu_info_mfn = INVALID_MFN;
    mfn_t m = nr_frames ? alloc_frames(nr_frames, id) : 0;
    ck_assert(m != INVALID_MFN);
    for (unsigned i = 0; i < nr_frames; i++) {
        ck_assert_int_eq(domain_assign_page(d, m + i), 0);
        set_m2p(m + i, i);
    }
    /* shared_info: hypervisor memory shared with d, as domain_create does. */
    d->shared_info = alloc_xen_pages(1);
    ck_assert_ptr_nonnull(d->shared_info);
    d->shared_info_mfn = virt_to_mfn(d->shared_info);
    mfn_to_page(d->shared_info_mfn)->owner = id;
    mfn_to_page(d->shared_info_mfn)->flags |= PGF_xen_heap;
    domain_list[id] = d;
    if (first)
        *first = m;
    hvlog.m2p_sets = 0;
    return d;
}

void harness_set_current(struct vcpu *v)
{
    harness_percpu.current = v;
    v->is_running = true;
    v->in_kernel = true;
}

struct cpu_regs *harness_regs(void) { return &harness_stack.regs; }

void *harness_guest_ptr(uint64_t gva)
{
    ck_assert(gva >= HARNESS_GUEST_VA && gva < HARNESS_GUEST_VA + HARNESS_GUEST_SIZE);
    return guest_window + (gva - HARNESS_GUEST_VA);
}

uint64_t harness_guest_alloc(size_t bytes)
{
    size_t at = ALIGN_UP(guest_brk, 8);
    ck_assert_uint_le(at + bytes, HARNESS_GUEST_SIZE);
    guest_brk = at + bytes;
    return HARNESS_GUEST_VA + at;
}

uint64_t *harness_frame(mfn_t mfn)
{
    ck_assert_uint_lt(mfn, HARNESS_NR_FRAMES);
    return mfn_to_virt(mfn);
}

static bool in_window(uint64_t gva) { return gva - HARNESS_GUEST_VA < HARNESS_GUEST_SIZE; }

/* Copies byte by byte while the guest side stays inside the window and
 * returns the number of bytes not copied, as entry.S's version does when a
 * fault stops it. Exactly one side must be a guest address. */
size_t copy_guest_bytes(void *dst, const void *src, size_t n)
{
    uint64_t d = (uint64_t)dst, s = (uint64_t)src;
    bool to_guest = in_window(d) || !in_window(s);
    size_t done = 0;
    if (to_guest) {
        while (done < n && in_window(d + done)) {
            guest_window[d + done - HARNESS_GUEST_VA] = ((const uint8_t *)src)[done];
            done++;
        }
    } else {
        while (done < n && in_window(s + done)) {
            ((uint8_t *)dst)[done] = guest_window[s + done - HARNESS_GUEST_VA];
            done++;
        }
    }
    return n - done;
}

void vprintk(enum log_level lvl, const char *fmt, va_list ap)
{
    hvlog.printks++;
    if (getenv("HV_HARNESS_LOG")) {
        fprintf(stderr, "(HV:%d) ", lvl);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
    }
}

void printk(enum log_level lvl, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprintk(lvl, fmt, ap);
    va_end(ap);
}

bool guest_log_allowed(void) { return true; }

void panic(const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    ck_abort_msg("hypervisor panic: %s", msg);
}

/* The audit's expectations per frame. */
static uint32_t exp_count[HARNESS_NR_FRAMES], exp_tc[HARNESS_NR_FRAMES];
static uint8_t exp_type[HARNESS_NR_FRAMES];   /* the type some reference needs, or PGT_none */
static char audit_msg[320];

#define AUDIT_FAIL(...)                                                                            \
    do {                                                                                           \
        snprintf(audit_msg, sizeof(audit_msg), __VA_ARGS__);                                       \
        return audit_msg;                                                                          \
    } while (0)

static const char *type_name(unsigned t)
{
    static const char *const names[8] = { "none", "l1", "l2", "l3",
                                          "l4", "seg_desc", "?6", "writable" };
    return t < 8 ? names[t] : "?";
}

/* One more type reference of `type` on m; NULL or the conflict. */
static const char *need(mfn_t m, unsigned type, const char *who)
{
    exp_count[m]++;
    exp_tc[m]++;
    if (exp_type[m] != PGT_none && exp_type[m] != type)
        AUDIT_FAIL("mfn %lu needed as %s (%s) and as %s: %s", (unsigned long)m, type_name(type),
                   who, type_name(exp_type[m]),
                   (type == PGT_writable || exp_type[m] == PGT_writable)
                       ? "page table writably mapped"
                       : "two types");
    exp_type[m] = (uint8_t)type;
    return NULL;
}

/* Grant entries seen in validated L1 tables: they hold no references of
 * their own; a maptrack handle of the table's owner must cover each. */
#define AUDIT_MAX_GRANT_PTES 4096
static struct {
    domid_t dom;
    mfn_t mfn;
    bool rw;
} grant_ptes[AUDIT_MAX_GRANT_PTES];
static unsigned nr_grant_ptes;

static const char *audit_table(mfn_t t)
{
    const struct page_info *tp = mfn_to_page(t);
    unsigned level = tp->type;
    const uint64_t *e = mfn_to_virt(t);
    const struct domain *od = domain_by_id(tp->owner);
    const uint64_t bad = level == 1 ? (_PAGE_PWT | _PAGE_PCD | _PAGE_PAT | _PAGE_GNTTAB)
                                    : (_PAGE_PWT | _PAGE_PCD | _PAGE_PSE | _PAGE_GLOBAL);
    for (unsigned i = 0; i < 512; i++) {
        if (level == 4 && i >= L4_SLOT_FIRST_HV && i <= L4_SLOT_LAST_HV) {
            if (e[i] != idle_l4[i])
                AUDIT_FAIL("L4 mfn %lu slot %u = %#lx, not the hypervisor's %#lx", (unsigned long)t,
                           i, (unsigned long)e[i], (unsigned long)idle_l4[i]);
            continue;
        }
        if (!(e[i] & _PAGE_PRESENT))
            continue;
        mfn_t m = pte_mfn(e[i]);
        if (level == 1 && mfn_is_io(m)) {
            /* Device memory: the privileged domain's only, no references. */
            if (!od || !od->is_privileged || io_mfn_hv_owned(m) || (e[i] & _PAGE_GNTTAB))
                AUDIT_FAIL("L1 mfn %lu (d%u)[%u] = %#lx maps device memory it may not",
                           (unsigned long)t, tp->owner, i, (unsigned long)e[i]);
            continue;
        }
        if (level == 1 && (e[i] & _PAGE_GNTTAB)) {
            if ((e[i] & (bad & ~_PAGE_GNTTAB)) || !(e[i] & _PAGE_USER) || !mfn_valid(m))
                AUDIT_FAIL("grant entry L1 mfn %lu[%u] = %#lx: bad bits or frame", (unsigned long)t, i,
                           (unsigned long)e[i]);
            if (nr_grant_ptes == AUDIT_MAX_GRANT_PTES)
                AUDIT_FAIL("more than %u grant entries", AUDIT_MAX_GRANT_PTES);
            grant_ptes[nr_grant_ptes].dom = tp->owner;
            grant_ptes[nr_grant_ptes].mfn = m;
            grant_ptes[nr_grant_ptes++].rw = (e[i] & _PAGE_RW) != 0;
            continue;
        }
        if (e[i] & bad)
            AUDIT_FAIL("L%u mfn %lu[%u] = %#lx has forbidden bits", level, (unsigned long)t, i,
                       (unsigned long)e[i]);
        if (!mfn_valid(m))
            AUDIT_FAIL("L%u mfn %lu[%u] = %#lx points outside RAM", level, (unsigned long)t, i,
                       (unsigned long)e[i]);
        const struct page_info *mp = mfn_to_page(m);
        bool own = mp->owner == tp->owner;
        bool foreign_ok = level == 1 && od && od->is_privileged && mp->owner < MAX_DOMAINS;
        if (!own && !foreign_ok)
            AUDIT_FAIL("L%u mfn %lu (d%u)[%u] maps mfn %lu owned by %#x", level, (unsigned long)t,
                       tp->owner, i, (unsigned long)m, mp->owner);
        uint64_t must = level == 4 ? (_PAGE_USER | _PAGE_ACCESSED) : _PAGE_USER;
        if ((e[i] & must) != must)
            AUDIT_FAIL("L%u mfn %lu[%u] = %#lx lacks the US/A adjustment", level, (unsigned long)t,
                       i, (unsigned long)e[i]);
        const char *err;
        if (level > 1)
            err = need(m, level - 1, "table entry");
        else if (e[i] & _PAGE_RW)
            err = need(m, PGT_writable, "RW L1 entry");
        else
            err = (exp_count[m]++, NULL);
        if (err)
            return err;
    }
    return NULL;
}

/* Maptrack handles of d for frame m with that writability. */
static unsigned handles_for(const struct domain *d, mfn_t m, bool rw)
{
    unsigned n = 0;
    for (uint32_t h = 0; h < d->maptrack_frames * MAPTRACK_PER_FRAME; h++) {
        const struct grant_mapping *mt = maptrack_entry(d, h);
        n += mt->flags && mt->mfn == m && !(mt->flags & GNTMAP_readonly) == rw;
    }
    return n;
}

/* Each maptrack handle holds a general reference (and a writable type one
 * for a writable mapping); grant entries in L1 tables never outnumber the
 * handles of their domain for that frame and writability. */
static const char *audit_grants(void)
{
    const char *err;
    for (unsigned id = 0; id < MAX_DOMAINS; id++) {
        const struct domain *d = domain_list[id];
        for (uint32_t h = 0; d && h < d->maptrack_frames * MAPTRACK_PER_FRAME; h++) {
            const struct grant_mapping *mt = maptrack_entry(d, h);
            if (!mt->flags)
                continue;
            if (!mfn_valid(mt->mfn))
                AUDIT_FAIL("d%u handle %u: frame %u outside RAM", id, h, mt->mfn);
            if (mt->flags & GNTMAP_readonly)
                exp_count[mt->mfn]++;
            else if ((err = need(mt->mfn, PGT_writable, "writable grant mapping")))
                return err;
        }
    }
    for (unsigned i = 0; i < nr_grant_ptes; i++) {
        unsigned same = 0;
        for (unsigned j = 0; j < nr_grant_ptes; j++)
            same += grant_ptes[j].dom == grant_ptes[i].dom && grant_ptes[j].mfn == grant_ptes[i].mfn &&
                    grant_ptes[j].rw == grant_ptes[i].rw;
        const struct domain *d = grant_ptes[i].dom < MAX_DOMAINS ? domain_list[grant_ptes[i].dom] : NULL;
        unsigned have = d ? handles_for(d, grant_ptes[i].mfn, grant_ptes[i].rw) : 0;
        if (same > have)
            AUDIT_FAIL("d%u has %u %s grant entries for mfn %lu but %u handles", grant_ptes[i].dom, same,
                       grant_ptes[i].rw ? "writable" : "read-only", (unsigned long)grant_ptes[i].mfn,
                       have);
    }
    return NULL;
}

const char *harness_audit(void)
{
    const char *err;
    nr_grant_ptes = 0;
    for (mfn_t m = 0; m < max_mfn; m++) {
        const struct page_info *pg = mfn_to_page(m);
        exp_count[m] = (pg->flags & PGF_allocated) ? 1 : 0;
        exp_tc[m] = 0;
        exp_type[m] = PGT_none;
    }
    for (mfn_t m = 0; m < max_mfn; m++) {
        const struct page_info *pg = mfn_to_page(m);
        bool pt = pg->type >= PGT_l1 && pg->type <= PGT_l4;
        if ((pg->flags & PGF_validated) && !pt)
            AUDIT_FAIL("mfn %lu validated but of type %s", (unsigned long)m, type_name(pg->type));
        if (pt && pg->type_count && !(pg->flags & PGF_validated))
            AUDIT_FAIL("mfn %lu is %s with %u type refs but not validated", (unsigned long)m,
                       type_name(pg->type), pg->type_count);
        /* The hypervisor writes shared pages (shared_info's event bits,
         * grant frames) without any validation: as a page table or a
         * descriptor page they would let the guest forge entries. */
        if ((pg->flags & PGF_xen_heap) && pg->type_count && pg->type != PGT_writable)
            AUDIT_FAIL("mfn %lu, a hypervisor page shared with d%u, has type %s", (unsigned long)m,
                       pg->owner, type_name(pg->type));
        if ((pg->flags & PGF_validated) && (err = audit_table(m)))
            return err;
        if ((pg->flags & PGF_pinned)) {
            if (!pt)
                AUDIT_FAIL("mfn %lu pinned with type %s", (unsigned long)m, type_name(pg->type));
            if ((err = need(m, pg->type, "pin")))
                return err;
        }
    }
    for (unsigned id = 0; id < MAX_DOMAINS; id++) {
        const struct domain *d = domain_list[id];
        if (!d)
            continue;
        for (unsigned i = 0; i < MAX_VCPUS_PER_DOMAIN; i++) {
            const struct vcpu *v = d->vcpus[i];
            if (!v)
                continue;
            if (v->guest_table && (err = need(v->guest_table, PGT_l4, "kernel base pointer")))
                return err;
            if (v->guest_table_user &&
                (err = need(v->guest_table_user, PGT_l4, "user base pointer")))
                return err;
            for (unsigned g = 0; g < ARRAY_SIZE(v->gdt_frames); g++)
                if (v->gdt_frames[g] && (err = need(v->gdt_frames[g], PGT_seg_desc, "GDT frame")))
                    return err;
            for (unsigned l = 0; l < ARRAY_SIZE(v->ldt_frames); l++)
                if (v->ldt_frames[l] && (err = need(v->ldt_frames[l], PGT_seg_desc, "LDT frame")))
                    return err;
            if (v->vcpu_info_mfn != INVALID_MFN &&
                (err = need(v->vcpu_info_mfn, PGT_writable, "vcpu_info")))
                return err;
        }
    }
    if ((err = audit_grants()))
        return err;
    for (mfn_t m = 0; m < max_mfn; m++) {
        const struct page_info *pg = mfn_to_page(m);
        if (pg->count != exp_count[m] || pg->type_count != exp_tc[m])
            AUDIT_FAIL(
                "mfn %lu (owner %#x, %s): count %u type_count %u, references found %u and %u",
                (unsigned long)m, pg->owner, type_name(pg->type), pg->count, pg->type_count,
                exp_count[m], exp_tc[m]);
        if (pg->type_count ? pg->type != exp_type[m] : pg->type != PGT_none)
            AUDIT_FAIL("mfn %lu has type %s with %u type refs, references need %s",
                       (unsigned long)m, type_name(pg->type), pg->type_count,
                       type_name(exp_type[m]));
    }
    return NULL;
}

const char *harness_alloc_only(const struct domain *d)
{
    for (mfn_t m = 0; m < max_mfn; m++) {
        const struct page_info *pg = mfn_to_page(m);
        if (pg->owner != d->domain_id || (pg->flags & PGF_xen_heap))
            continue;
        if (pg->count != 1 || pg->type_count || pg->type != PGT_none || pg->flags != PGF_allocated)
            AUDIT_FAIL(
                "d%u mfn %lu: count %u type %s type_count %u flags %#x, want allocation only",
                d->domain_id, (unsigned long)m, pg->count, type_name(pg->type), pg->type_count,
                pg->flags);
    }
    return NULL;
}

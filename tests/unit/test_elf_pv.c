/* SPDX-License-Identifier: MIT */
/*
 * lib/elf_pv.c: images are built here, in memory, by a small ELF64 writer, so
 * no binaries are checked in. Covers every check and error code of
 * xen-pv-abi.md §3.2, note parsing (PT_NOTE and the SHT_NOTE fallback),
 * loading, and a seeded mutation run whose images ASan watches byte for byte
 * (each one lives in a malloc block of exactly its size).
 */
#include "unit.h"
#include <lamina/elf_pv.h>
#include <public/elfnote.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- A tiny ELF64 writer ------------------------------------------------ */

#define PT_NULL 0
#define PT_LOAD 1
#define PT_NOTE 4
#define SHT_NOTE 7
#define SHT_STRTAB 3
#define ET_EXEC 2
#define EM_X86_64 62

/* Field offsets, for tests that corrupt one field. */
#define EH_IDENT_CLASS 4
#define EH_IDENT_DATA 5
#define EH_IDENT_VERSION 6
#define EH_TYPE 16
#define EH_MACHINE 18
#define EH_VERSION 20
#define EH_ENTRY 24
#define EH_PHOFF 32
#define EH_SHOFF 40
#define EH_EHSIZE 52
#define EH_PHENTSIZE 54
#define EH_PHNUM 56
#define EH_SHENTSIZE 58
#define EH_SHNUM 60
#define PH_TYPE 0
#define PH_OFFSET 8
#define PH_VADDR 16
#define PH_PADDR 24
#define PH_FILESZ 32
#define PH_MEMSZ 40
#define SH_TYPE 4
#define SH_OFFSET 24
#define SH_SIZE 32

#define MAX_NOTES 32
#define MAX_SEGS 8
#define SCRATCH (64 * 1024)

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
    return get32(p) | (uint64_t)get32(p + 4) << 32;
}

/* A note section's bytes, and where each note's header starts in them. */
struct notes {
    uint8_t b[4096];
    size_t len;
    size_t hdr[MAX_NOTES];
    unsigned count;
};

static void note_raw(struct notes *n, const void *name, uint32_t namesz, uint32_t type,
                     const void *desc, uint32_t descsz)
{
    size_t need = 12 + ((namesz + 3u) & ~3u) + ((descsz + 3u) & ~3u);
    ck_assert(n->len + need <= sizeof(n->b) && n->count < MAX_NOTES);
    uint8_t *p = n->b + n->len;
    memset(p, 0, need);
    put32(p, namesz);
    put32(p + 4, descsz);
    put32(p + 8, type);
    memcpy(p + 12, name, namesz);
    memcpy(p + 12 + ((namesz + 3u) & ~3u), desc, descsz);
    n->hdr[n->count++] = n->len;
    n->len += need;
}

static void note_str(struct notes *n, uint32_t type, const char *s)
{
    note_raw(n, "Xen", 4, type, s, (uint32_t)strlen(s) + 1);
}

static void note_u32(struct notes *n, uint32_t type, uint32_t v)
{
    uint8_t d[4];
    put32(d, v);
    note_raw(n, "Xen", 4, type, d, 4);
}

static void note_u64(struct notes *n, uint32_t type, uint64_t v)
{
    uint8_t d[8];
    put64(d, v);
    note_raw(n, "Xen", 4, type, d, 8);
}

struct segspec {
    uint64_t paddr, vaddr, filesz, memsz;
};

/* What to build. Zero fields mean: ET_EXEC, EM_X86_64, no notes. */
struct spec {
    uint16_t e_type, e_machine;
    uint64_t e_entry;
    unsigned nsegs;
    struct segspec seg[MAX_SEGS];
    const struct notes *pt;  /* contents of a PT_NOTE segment, after the loads */
    const struct notes *sh;  /* contents of SHT_NOTE section(s) */
    unsigned sh_copies;      /* how many SHT_NOTE headers name those contents (default 1) */
    unsigned extra_phdrs;    /* PT_NULL headers appended */
};

/* A built image: an exact-size malloc block, and where things are in it. */
struct img {
    uint8_t *b;
    size_t size;
    size_t phoff, shoff;
    unsigned phnum, shnum, note_ph;
    size_t pt_notes_at, sh_notes_at;
    size_t seg_at[MAX_SEGS];
};

/* The byte a segment's file data holds at index k, so loads can be checked. */
static uint8_t seg_byte(unsigned seg, uint64_t k)
{
    return (uint8_t)(0x11 * (seg + 1) + k * 7 + (k >> 8));
}

static struct img build(const struct spec *sp)
{
    static uint8_t s[SCRATCH];
    struct img im = { 0 };
    size_t at;

    memset(s, 0, sizeof(s));
    im.phnum = sp->nsegs + (sp->pt ? 1 : 0) + sp->extra_phdrs;
    im.phoff = 64;
    at = im.phoff + 56 * (size_t)im.phnum;
    unsigned copies = sp->sh ? (sp->sh_copies ? sp->sh_copies : 1) : 0;
    if (sp->sh) {
        im.shoff = at;
        im.shnum = 1 + copies;   /* the null section, then the notes */
        at += 64 * (size_t)im.shnum;
    }
    if (sp->pt) {
        im.pt_notes_at = at;
        memcpy(s + at, sp->pt->b, sp->pt->len);
        at += sp->pt->len;
    }
    if (sp->sh) {
        at += 4;
        im.sh_notes_at = at;
        memcpy(s + at, sp->sh->b, sp->sh->len);
        at += sp->sh->len;
    }
    /* Segment data at odd file offsets: nothing needs to be aligned. */
    for (unsigned i = 0; i < sp->nsegs; i++) {
        at += 3;
        im.seg_at[i] = at;
        ck_assert(at + sp->seg[i].filesz <= sizeof(s));
        for (uint64_t k = 0; k < sp->seg[i].filesz; k++)
            s[at + k] = seg_byte(i, k);
        at += sp->seg[i].filesz;
    }
    im.size = at + 5;

    memcpy(s, "\x7f" "ELF", 4);
    s[EH_IDENT_CLASS] = 2;
    s[EH_IDENT_DATA] = 1;
    s[EH_IDENT_VERSION] = 1;
    put16(s + EH_TYPE, sp->e_type ? sp->e_type : ET_EXEC);
    put16(s + EH_MACHINE, sp->e_machine ? sp->e_machine : EM_X86_64);
    put32(s + EH_VERSION, 1);
    put64(s + EH_ENTRY, sp->e_entry);
    put64(s + EH_PHOFF, im.phoff);
    put64(s + EH_SHOFF, im.shoff);
    put16(s + EH_EHSIZE, 64);
    put16(s + EH_PHENTSIZE, 56);
    put16(s + EH_PHNUM, (uint16_t)im.phnum);
    put16(s + EH_SHENTSIZE, sp->sh ? 64 : 0);
    put16(s + EH_SHNUM, (uint16_t)im.shnum);

    unsigned ph = 0;
    for (unsigned i = 0; i < sp->nsegs; i++, ph++) {
        uint8_t *p = s + im.phoff + 56 * ph;
        put32(p + PH_TYPE, PT_LOAD);
        put32(p + 4, 7);
        put64(p + PH_OFFSET, im.seg_at[i]);
        put64(p + PH_VADDR, sp->seg[i].vaddr);
        put64(p + PH_PADDR, sp->seg[i].paddr);
        put64(p + PH_FILESZ, sp->seg[i].filesz);
        put64(p + PH_MEMSZ, sp->seg[i].memsz);
        put64(p + 48, 0x1000);
    }
    if (sp->pt) {
        uint8_t *p = s + im.phoff + 56 * ph;
        im.note_ph = ph++;
        put32(p + PH_TYPE, PT_NOTE);
        put64(p + PH_OFFSET, im.pt_notes_at);
        put64(p + PH_FILESZ, sp->pt->len);
        put64(p + PH_MEMSZ, sp->pt->len);
        put64(p + 48, 4);
    }
    for (unsigned i = 0; i < copies; i++) {
        uint8_t *p = s + im.shoff + 64 * (1 + (size_t)i);
        put32(p + SH_TYPE, SHT_NOTE);
        put64(p + SH_OFFSET, im.sh_notes_at);
        put64(p + SH_SIZE, sp->sh->len);
        put64(p + 48, 4);
    }

    im.b = malloc(im.size);
    ck_assert_ptr_nonnull(im.b);
    memcpy(im.b, s, im.size);
    return im;
}

static void img_free(struct img *im)
{
    free(im->b);
    im->b = NULL;
}

static uint8_t *phdr(const struct img *im, unsigned i)
{
    return im->b + im->phoff + 56 * (size_t)i;
}

/* Patches a note's descriptor size in place (the note at index i of the
 * PT_NOTE contents). */
static uint8_t *pt_note(const struct img *im, const struct notes *n, unsigned i)
{
    return im->b + im->pt_notes_at + n->hdr[i];
}

/* ---- Two realistic images ----------------------------------------------- */

#define L_VIRT_BASE 0xffffffff80000000ull
#define L_PSTART 0x1000000ull
#define L_PEND (0x1003000ull + 0x2345)
#define L_ENTRY 0xffffffff81000010ull
#define L_INIT_P2M 0x0000008000000000ull

/* Shaped like Linux 6.1 (§3.2 "Concrete images"), scaled down: four loads,
 * one with p_vaddr 0 (per-CPU) and not page aligned, bss at the end. */
static void linux_notes(struct notes *n)
{
    memset(n, 0, sizeof(*n));
    note_raw(n, "GNU", 4, 3, "\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a", 10);
    note_str(n, XEN_ELFNOTE_GUEST_OS, "linux");
    note_str(n, XEN_ELFNOTE_GUEST_VERSION, "2.6");
    note_str(n, XEN_ELFNOTE_XEN_VERSION, "xen-3.0");
    note_u64(n, XEN_ELFNOTE_VIRT_BASE, L_VIRT_BASE);
    note_u64(n, XEN_ELFNOTE_ENTRY, L_ENTRY);
    note_u64(n, XEN_ELFNOTE_INIT_P2M, L_INIT_P2M);
    note_str(n, XEN_ELFNOTE_FEATURES, "!writable_page_tables|pae_pgdir_above_4gb");
    note_u32(n, XEN_ELFNOTE_SUPPORTED_FEATURES, 0x8801);
    note_str(n, XEN_ELFNOTE_PAE_MODE, "yes");
    note_str(n, XEN_ELFNOTE_LOADER, "generic");
    note_u32(n, XEN_ELFNOTE_L1_MFN_VALID, 1);
    note_u64(n, XEN_ELFNOTE_HV_START_LOW, 0xffff800000000000ull);
    note_u64(n, XEN_ELFNOTE_PADDR_OFFSET, 0);
    note_u32(n, XEN_ELFNOTE_MOD_START_PFN, 1);
    note_u32(n, XEN_ELFNOTE_PHYS32_ENTRY, 0x1000850);
}

static struct spec linux_spec(const struct notes *pt)
{
    struct spec sp = {
        .e_entry = 0xffffffff81000000ull,
        .nsegs = 4,
        .seg = {
            { L_PSTART, 0xffffffff81000000ull, 0x321, 0x800 },
            { 0x1001000, 0xffffffff81001000ull, 0x10, 0x10 },
            { 0x1002003, 0, 0x101, 0x203 },
            { 0x1003000, 0xffffffff81003000ull, 0x80, 0x2345 },
        },
        .pt = pt,
    };
    return sp;
}

/* Shaped like pvgrub: VIRT_BASE 0, ENTRY 0, GUEST_OS "GRUB", a second load
 * that starts where the first one's bss ends, on no page boundary. */
static void grub_notes(struct notes *n)
{
    memset(n, 0, sizeof(*n));
    note_str(n, XEN_ELFNOTE_GUEST_OS, "GRUB");
    note_str(n, XEN_ELFNOTE_LOADER, "generic");
    note_str(n, XEN_ELFNOTE_XEN_VERSION, "xen-3.0");
    note_u64(n, XEN_ELFNOTE_ENTRY, 0);
    note_u64(n, XEN_ELFNOTE_VIRT_BASE, 0);
}

static struct spec grub_spec(const struct notes *pt)
{
    struct spec sp = {
        .e_entry = 0x123,
        .nsegs = 2,
        .seg = { { 0, 0, 0x1ef, 0x41f1 }, { 0x41f1, 0x41f1, 0x1bd, 0x1bd } },
        .pt = pt,
    };
    return sp;
}

/* Minimal valid notes for tests that add one more. */
static void base_notes(struct notes *n)
{
    memset(n, 0, sizeof(*n));
    note_str(n, XEN_ELFNOTE_XEN_VERSION, "xen-3.0");
    note_str(n, XEN_ELFNOTE_LOADER, "generic");
}

/* A simple image: one load of memsz 0x3000 at paddr 0x2000, VIRT_BASE 0,
 * entry e_entry (0x2000) unless the notes say otherwise. */
static struct spec simple_spec(const struct notes *pt)
{
    struct spec sp = {
        .e_entry = 0x2000,
        .nsegs = 1,
        .seg = { { 0x2000, 0x2000, 0x100, 0x3000 } },
        .pt = pt,
    };
    return sp;
}

static int parse_spec(const struct spec *sp, struct elf_pv_info *info)
{
    struct img im = build(sp);
    int err = elf_pv_parse(im.b, im.size, info);
    img_free(&im);
    return err;
}

/* Parses the simple image with the given notes, returns the error. */
static int parse_notes(const struct notes *n, struct elf_pv_info *info)
{
    struct spec sp = simple_spec(n);
    return parse_spec(&sp, info);
}

static bool all_zero(const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i])
            return false;
    return true;
}

/* ---- Valid images -------------------------------------------------------- */

START_TEST(linux_like)
{
    struct notes n;
    linux_notes(&n);
    struct spec sp = linux_spec(&n);
    struct elf_pv_info in;
    ck_assert_int_eq(parse_spec(&sp, &in), ELF_PV_OK);
    ck_assert(in.has_xen_notes);
    ck_assert_uint_eq(in.entry, L_ENTRY);
    ck_assert_uint_eq(in.virt_base, L_VIRT_BASE);
    ck_assert_uint_eq(in.paddr_offset, 0);
    ck_assert_uint_eq(in.pstart, L_PSTART);
    ck_assert_uint_eq(in.pend, L_PEND);
    ck_assert_uint_eq(in.virt_kstart, 0xffffffff81000000ull);
    ck_assert_uint_eq(in.virt_kend, 0xffffffff81000000ull + (L_PEND - L_PSTART));
    ck_assert_uint_eq(in.hypercall_page, 0);
    ck_assert_uint_eq(in.init_p2m, L_INIT_P2M);
    ck_assert_uint_eq(in.hv_start_low, 0xffff800000000000ull);
    ck_assert_uint_eq(in.supported_features, 0x8801);
    ck_assert(in.mod_start_pfn);
    ck_assert_str_eq(in.xen_version, "xen-3.0");
    ck_assert_str_eq(in.guest_os, "linux");
    ck_assert_str_eq(in.guest_version, "2.6");
    ck_assert_str_eq(in.loader, "generic");
    ck_assert_str_eq(in.features, "!writable_page_tables|pae_pgdir_above_4gb");
}
END_TEST

START_TEST(grub_like)
{
    struct notes n;
    grub_notes(&n);
    struct spec sp = grub_spec(&n);
    struct elf_pv_info in;
    ck_assert_int_eq(parse_spec(&sp, &in), ELF_PV_OK);
    ck_assert_uint_eq(in.entry, 0);      /* the note, not e_entry */
    ck_assert_uint_eq(in.virt_base, 0);
    ck_assert_uint_eq(in.pstart, 0);
    ck_assert_uint_eq(in.pend, 0x41f1 + 0x1bd);
    ck_assert_uint_eq(in.virt_kstart, 0);
    ck_assert_uint_eq(in.virt_kend, 0x41f1 + 0x1bd);
    ck_assert_str_eq(in.guest_os, "GRUB");
    ck_assert_str_eq(in.guest_version, "");
    ck_assert_str_eq(in.features, "");
    ck_assert(!in.mod_start_pfn);
    ck_assert_uint_eq(in.init_p2m, 0);
}
END_TEST

START_TEST(entry_defaults_to_e_entry)
{
    struct notes n;
    base_notes(&n);
    struct elf_pv_info in;
    ck_assert_int_eq(parse_notes(&n, &in), ELF_PV_OK);
    ck_assert_uint_eq(in.entry, 0x2000);
    ck_assert_uint_eq(in.virt_kstart, 0x2000);
    ck_assert_uint_eq(in.virt_kend, 0x5000);
}
END_TEST

START_TEST(null_info_validates_only)
{
    struct notes n;
    linux_notes(&n);
    struct spec sp = linux_spec(&n);
    ck_assert_int_eq(parse_spec(&sp, NULL), ELF_PV_OK);
}
END_TEST

START_TEST(max_phdrs)
{
    struct notes n;
    base_notes(&n);
    struct spec sp = simple_spec(&n);
    struct elf_pv_info in;
    sp.extra_phdrs = ELF_PV_MAX_PHDRS - 2;     /* 1 load + 1 note + extras = max */
    ck_assert_int_eq(parse_spec(&sp, &in), ELF_PV_OK);
    sp.extra_phdrs++;
    ck_assert_int_eq(parse_spec(&sp, &in), ELF_PV_ENOTELF);
}
END_TEST

/* ---- Notes --------------------------------------------------------------- */

START_TEST(numeric_notes_4_and_8_bytes)
{
    struct notes n;
    struct elf_pv_info in;
    base_notes(&n);
    note_u32(&n, XEN_ELFNOTE_ENTRY, 0x2004);
    note_u32(&n, XEN_ELFNOTE_HV_START_LOW, 0x80000000u);
    note_u64(&n, XEN_ELFNOTE_INIT_P2M, 0x123456789000ull);
    note_u64(&n, XEN_ELFNOTE_SUPPORTED_FEATURES, 0xffffffffull);
    note_u64(&n, XEN_ELFNOTE_MOD_START_PFN, 1ull << 40); /* non-zero in the high half */
    ck_assert_int_eq(parse_notes(&n, &in), ELF_PV_OK);
    ck_assert_uint_eq(in.entry, 0x2004);
    ck_assert_uint_eq(in.hv_start_low, 0x80000000u);
    ck_assert_uint_eq(in.init_p2m, 0x123456789000ull);
    ck_assert_uint_eq(in.supported_features, 0xffffffffu);
    ck_assert(in.mod_start_pfn);
}
END_TEST

START_TEST(numeric_note_bad_sizes)
{
    static const uint32_t sizes[] = { 0, 1, 2, 3, 5, 7, 9, 16 };
    static const uint32_t types[] = { XEN_ELFNOTE_ENTRY, XEN_ELFNOTE_HYPERCALL_PAGE,
                                      XEN_ELFNOTE_VIRT_BASE, XEN_ELFNOTE_PADDR_OFFSET,
                                      XEN_ELFNOTE_HV_START_LOW, XEN_ELFNOTE_INIT_P2M,
                                      XEN_ELFNOTE_MOD_START_PFN,
                                      XEN_ELFNOTE_SUPPORTED_FEATURES };
    static const uint8_t zeros[16];
    struct elf_pv_info in;
    for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++)
        for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
            struct notes n;
            base_notes(&n);
            note_raw(&n, "Xen", 4, types[t], zeros, sizes[s]);
            ck_assert_msg(parse_notes(&n, &in) == ELF_PV_ENOTXEN, "type %u size %u",
                          types[t], sizes[s]);
            ck_assert(all_zero(&in, sizeof(in)));    /* nothing half-filled */
        }
    /* A u32 bitmap given in 8 bytes with high bits set is refused. */
    struct notes n;
    base_notes(&n);
    note_u64(&n, XEN_ELFNOTE_SUPPORTED_FEATURES, 1ull << 32);
    ck_assert_int_eq(parse_notes(&n, &in), ELF_PV_ENOTXEN);
}
END_TEST

START_TEST(string_notes)
{
    struct notes n;
    struct elf_pv_info in;
    char longs[400];

    /* Longer than the field: truncated and terminated. */
    memset(longs, 'v', sizeof(longs) - 1);
    longs[sizeof(longs) - 1] = '\0';
    base_notes(&n);
    note_str(&n, XEN_ELFNOTE_GUEST_VERSION, longs);
    note_str(&n, XEN_ELFNOTE_FEATURES, longs);
    ck_assert_int_eq(parse_notes(&n, &in), ELF_PV_OK);
    ck_assert_uint_eq(strlen(in.guest_version), ELF_PV_STR_MAX - 1);
    ck_assert_uint_eq(strlen(in.features), sizeof(in.features) - 1);

    /* No terminator in the descriptor: the copy stops at its end. */
    base_notes(&n);
    note_raw(&n, "Xen", 4, XEN_ELFNOTE_GUEST_OS, "linux", 5);
    note_raw(&n, "Xen", 4, XEN_ELFNOTE_GUEST_VERSION, "abcdefgh", 3);
    ck_assert_int_eq(parse_notes(&n, &in), ELF_PV_OK);
    ck_assert_str_eq(in.guest_os, "linux");
    ck_assert_str_eq(in.guest_version, "abc");

    /* An embedded NUL ends the string; an empty descriptor is "". */
    base_notes(&n);
    note_raw(&n, "Xen", 4, XEN_ELFNOTE_GUEST_OS, "ab\0cd", 6);
    note_raw(&n, "Xen", 4, XEN_ELFNOTE_GUEST_VERSION, "", 0);
    ck_assert_int_eq(parse_notes(&n, &in), ELF_PV_OK);
    ck_assert_str_eq(in.guest_os, "ab");
    ck_assert_str_eq(in.guest_version, "");

    /* A repeated note: the last one wins. */
    base_notes(&n);
    note_str(&n, XEN_ELFNOTE_GUEST_VERSION, "first");
    note_str(&n, XEN_ELFNOTE_GUEST_VERSION, "second");
    ck_assert_int_eq(parse_notes(&n, &in), ELF_PV_OK);
    ck_assert_str_eq(in.guest_version, "second");
}
END_TEST

START_TEST(other_names_are_skipped)
{
    struct notes n;
    struct elf_pv_info in;
    /* Notes named almost "Xen" carry the version; none may be used. */
    memset(&n, 0, sizeof(n));
    note_raw(&n, "Xen", 3, XEN_ELFNOTE_XEN_VERSION, "xen-3.0", 8);
    note_raw(&n, "XEN", 4, XEN_ELFNOTE_XEN_VERSION, "xen-3.0", 8);
    note_raw(&n, "Xen\0\0\0", 6, XEN_ELFNOTE_XEN_VERSION, "xen-3.0", 8);
    note_raw(&n, "Xenon", 6, XEN_ELFNOTE_XEN_VERSION, "xen-3.0", 8);
    note_raw(&n, "XenX", 4, XEN_ELFNOTE_XEN_VERSION, "xen-3.0", 8);
    note_raw(&n, "", 0, XEN_ELFNOTE_XEN_VERSION, "xen-3.0", 8);
    note_str(&n, XEN_ELFNOTE_LOADER, "generic");   /* a real one: only the version is missing */
    ck_assert_int_eq(parse_notes(&n, &in), ELF_PV_ENOTXEN);

    /* Among real ones, foreign notes with any type or size are ignored. */
    base_notes(&n);
    note_raw(&n, "Linux", 6, XEN_ELFNOTE_ENTRY, "\x01", 1);
    note_raw(&n, "GNU", 4, XEN_ELFNOTE_VIRT_BASE, "", 0);
    ck_assert_int_eq(parse_notes(&n, &in), ELF_PV_OK);
    ck_assert_uint_eq(in.entry, 0x2000);
    ck_assert_uint_eq(in.virt_base, 0);
}
END_TEST

START_TEST(note_region_edges)
{
    struct notes n;
    struct elf_pv_info in;

    /* Fewer trailing bytes than a note header: padding, accepted. */
    base_notes(&n);
    n.len += 11;
    ck_assert_int_eq(parse_notes(&n, &in), ELF_PV_OK);

    /* The last note's descriptor ends the region; its padding is cut off. */
    base_notes(&n);
    note_raw(&n, "Xen", 4, XEN_ELFNOTE_GUEST_OS, "GRUB!", 5);
    n.len -= 3;
    ck_assert_int_eq(parse_notes(&n, &in), ELF_PV_OK);
    ck_assert_str_eq(in.guest_os, "GRUB!");

    /* One byte less and the descriptor itself is cut: refused. */
    n.len -= 1;
    ck_assert_int_eq(parse_notes(&n, &in), ELF_PV_ETRUNC);

    /* An empty PT_NOTE is no notes at all. */
    memset(&n, 0, sizeof(n));
    ck_assert_int_eq(parse_notes(&n, &in), ELF_PV_ENOTXEN);
}
END_TEST

START_TEST(note_sizes_past_region)
{
    static const uint32_t bad[] = { 0xffffffffu, 0xfffffffcu, 0x80000000u, 4096, 200 };
    struct notes n;
    struct elf_pv_info in;
    base_notes(&n);
    note_str(&n, XEN_ELFNOTE_GUEST_OS, "linux");
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        for (unsigned field = 0; field < 2; field++) {   /* namesz, descsz */
            struct spec sp = simple_spec(&n);
            struct img im = build(&sp);
            put32(pt_note(&im, &n, 2) + 4 * field, bad[i]);
            ck_assert_int_eq(elf_pv_parse(im.b, im.size, &in), ELF_PV_ETRUNC);
            img_free(&im);
        }
    }
}
END_TEST

START_TEST(pt_note_preferred_over_sections)
{
    struct notes pt, sh;
    struct elf_pv_info in;
    base_notes(&pt);
    note_str(&pt, XEN_ELFNOTE_GUEST_VERSION, "from-phdr");
    base_notes(&sh);
    note_str(&sh, XEN_ELFNOTE_GUEST_VERSION, "from-shdr");
    struct spec sp = simple_spec(&pt);
    sp.sh = &sh;
    ck_assert_int_eq(parse_spec(&sp, &in), ELF_PV_OK);
    ck_assert_str_eq(in.guest_version, "from-phdr");

    /* With Xen notes in PT_NOTE the section table is not even read. */
    struct img im = build(&sp);
    put16(im.b + EH_SHENTSIZE, 1);
    put64(im.b + EH_SHOFF, UINT64_MAX);
    ck_assert_int_eq(elf_pv_parse(im.b, im.size, &in), ELF_PV_OK);
    img_free(&im);
}
END_TEST

START_TEST(section_fallback)
{
    struct notes sh, gnu;
    struct elf_pv_info in;
    base_notes(&sh);
    note_str(&sh, XEN_ELFNOTE_GUEST_VERSION, "from-shdr");

    /* No PT_NOTE at all. */
    struct spec sp = simple_spec(NULL);
    sp.sh = &sh;
    ck_assert_int_eq(parse_spec(&sp, &in), ELF_PV_OK);
    ck_assert(in.has_xen_notes);
    ck_assert_str_eq(in.guest_version, "from-shdr");

    /* A PT_NOTE holding only foreign notes. */
    memset(&gnu, 0, sizeof(gnu));
    note_raw(&gnu, "GNU", 4, 3, "\xaa\xbb\xcc\xdd", 4);
    sp.pt = &gnu;
    ck_assert_int_eq(parse_spec(&sp, &in), ELF_PV_OK);
    ck_assert_str_eq(in.guest_version, "from-shdr");

    /* Two section headers naming the same notes: fine (and harmless). */
    sp.sh_copies = 2;
    ck_assert_int_eq(parse_spec(&sp, &in), ELF_PV_OK);

    /* Many: more note bytes than the image has; refused, bounding work. */
    sp.sh_copies = 200;
    ck_assert_int_eq(parse_spec(&sp, &in), ELF_PV_ETRUNC);
}
END_TEST

START_TEST(section_table_errors)
{
    struct notes sh;
    struct elf_pv_info in;
    base_notes(&sh);
    struct spec sp = simple_spec(NULL);
    sp.sh = &sh;
    struct img im = build(&sp);
    uint8_t *b = im.b;
    uint8_t *note_sh = b + im.shoff + 64;

    put16(b + EH_SHENTSIZE, 40);
    ck_assert_int_eq(elf_pv_parse(b, im.size, &in), ELF_PV_ENOTELF);
    put16(b + EH_SHENTSIZE, 64);

    put64(b + EH_SHOFF, im.size - 64);
    ck_assert_int_eq(elf_pv_parse(b, im.size, &in), ELF_PV_ETRUNC);
    put64(b + EH_SHOFF, UINT64_MAX - 10);
    ck_assert_int_eq(elf_pv_parse(b, im.size, &in), ELF_PV_ETRUNC);
    put64(b + EH_SHOFF, im.shoff);

    put64(note_sh + SH_OFFSET, im.size);
    ck_assert_int_eq(elf_pv_parse(b, im.size, &in), ELF_PV_ETRUNC);
    put64(note_sh + SH_OFFSET, UINT64_MAX);
    ck_assert_int_eq(elf_pv_parse(b, im.size, &in), ELF_PV_ETRUNC);
    put64(note_sh + SH_OFFSET, im.sh_notes_at);
    put64(note_sh + SH_SIZE, im.size);
    ck_assert_int_eq(elf_pv_parse(b, im.size, &in), ELF_PV_ETRUNC);
    put64(note_sh + SH_SIZE, sh.len);

    /* No sections at all (e_shnum 0): no notes, not an error of its own. */
    put16(b + EH_SHNUM, 0);
    ck_assert_int_eq(elf_pv_parse(b, im.size, &in), ELF_PV_ENOTXEN);
    put16(b + EH_SHNUM, (uint16_t)im.shnum);
    ck_assert_int_eq(elf_pv_parse(b, im.size, &in), ELF_PV_OK);
    img_free(&im);
}
END_TEST

/* ---- Header errors -------------------------------------------------------- */

START_TEST(too_small_or_null)
{
    struct notes n;
    struct elf_pv_info in;
    base_notes(&n);
    struct spec sp = simple_spec(&n);
    struct img im = build(&sp);
    ck_assert_int_eq(elf_pv_parse(NULL, 0, &in), ELF_PV_ETRUNC);
    ck_assert_int_eq(elf_pv_parse(NULL, 4096, &in), ELF_PV_ETRUNC);
    for (size_t sz = 0; sz < 64; sz++)
        ck_assert_int_eq(elf_pv_parse(im.b, sz, &in), ELF_PV_ETRUNC);
    /* Every shorter length fails cleanly (ASan would catch a read past it:
     * the copy below is an exact-size block). */
    for (size_t sz = 0; sz < im.size - 5; sz++) {   /* build() adds 5 spare bytes */
        uint8_t *cut = malloc(sz ? sz : 1);
        memcpy(cut, im.b, sz);
        int err = elf_pv_parse(cut, sz, &in);
        free(cut);
        FAST_ASSERT_MSG(err != ELF_PV_OK, "parsed with %zu of %zu bytes", sz, im.size);
    }
    ck_assert_int_eq(elf_pv_parse(im.b, im.size, &in), ELF_PV_OK);
    img_free(&im);
}
END_TEST

struct field_case {
    size_t off;
    unsigned width;
    uint64_t value;
    int err;
};

START_TEST(ehdr_fields)
{
    static const struct field_case cases[] = {
        { 0, 1, 0x7e, ELF_PV_ENOTELF },
        { 1, 1, 'e', ELF_PV_ENOTELF },
        { 3, 1, 'G', ELF_PV_ENOTELF },
        { EH_IDENT_CLASS, 1, 1, ELF_PV_ENOTELF },         /* ELFCLASS32 */
        { EH_IDENT_CLASS, 1, 0, ELF_PV_ENOTELF },
        { EH_IDENT_DATA, 1, 2, ELF_PV_ENOTELF },          /* big-endian */
        { EH_IDENT_VERSION, 1, 0, ELF_PV_ENOTELF },
        { EH_VERSION, 4, 2, ELF_PV_ENOTELF },
        { EH_EHSIZE, 2, 52, ELF_PV_ENOTELF },
        { EH_TYPE, 2, 3, ELF_PV_EARCH },                  /* ET_DYN */
        { EH_TYPE, 2, 1, ELF_PV_EARCH },                  /* ET_REL */
        { EH_MACHINE, 2, 3, ELF_PV_EARCH },               /* EM_386 */
        { EH_MACHINE, 2, 183, ELF_PV_EARCH },             /* EM_AARCH64 */
        { EH_PHENTSIZE, 2, 32, ELF_PV_ENOTELF },
        { EH_PHENTSIZE, 2, 64, ELF_PV_ENOTELF },
        { EH_PHNUM, 2, ELF_PV_MAX_PHDRS + 1, ELF_PV_ENOTELF },
        { EH_PHNUM, 2, 0xffff, ELF_PV_ENOTELF },
        { EH_PHNUM, 2, 0, ELF_PV_ENOLOAD },
        { EH_PHOFF, 8, UINT64_MAX, ELF_PV_ETRUNC },
        { EH_PHOFF, 8, UINT64_MAX - 55, ELF_PV_ETRUNC },
        { EH_PHOFF, 8, 1ull << 63, ELF_PV_ETRUNC },
    };
    struct notes n;
    struct elf_pv_info in;
    linux_notes(&n);
    struct spec sp = linux_spec(&n);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct field_case *c = &cases[i];
        struct img im = build(&sp);
        if (c->width == 1)
            im.b[c->off] = (uint8_t)c->value;
        else if (c->width == 2)
            put16(im.b + c->off, (uint16_t)c->value);
        else if (c->width == 4)
            put32(im.b + c->off, (uint32_t)c->value);
        else
            put64(im.b + c->off, c->value);
        int err = elf_pv_parse(im.b, im.size, &in);
        ck_assert_msg(err == c->err, "case %zu: got %d want %d", i, err, c->err);
        ck_assert(all_zero(&in, sizeof(in)));
        img_free(&im);
    }
}
END_TEST

START_TEST(phdr_table_bounds)
{
    struct notes n;
    struct elf_pv_info in;
    linux_notes(&n);
    struct spec sp = linux_spec(&n);
    struct img im = build(&sp);
    /* The table's last byte one past the end of the image. */
    put64(im.b + EH_PHOFF, im.size - 56 * (uint64_t)im.phnum + 1);
    ck_assert_int_eq(elf_pv_parse(im.b, im.size, &in), ELF_PV_ETRUNC);
    /* Exactly at the end: read, even though it is garbage there. */
    put64(im.b + EH_PHOFF, im.size - 56 * (uint64_t)im.phnum);
    ck_assert_int_ne(elf_pv_parse(im.b, im.size, &in), ELF_PV_ETRUNC);
    img_free(&im);
}
END_TEST

/* ---- Program headers ------------------------------------------------------ */

START_TEST(segment_errors)
{
    struct notes n;
    struct elf_pv_info in;
    linux_notes(&n);
    struct spec sp = linux_spec(&n);

    struct img im = build(&sp);
    uint8_t *p1 = phdr(&im, 1);
    /* filesz > memsz */
    put64(p1 + PH_FILESZ, 0x11);
    ck_assert_int_eq(elf_pv_parse(im.b, im.size, &in), ELF_PV_ENOLOAD);
    put64(p1 + PH_FILESZ, 0x10);
    /* Data past the end of the file, by one byte and by wrapping. */
    put64(p1 + PH_OFFSET, im.size - 0xf);
    ck_assert_int_eq(elf_pv_parse(im.b, im.size, &in), ELF_PV_ETRUNC);
    put64(p1 + PH_OFFSET, UINT64_MAX - 4);
    ck_assert_int_eq(elf_pv_parse(im.b, im.size, &in), ELF_PV_ETRUNC);
    put64(p1 + PH_OFFSET, im.size - 0x10);         /* the very end: fine */
    ck_assert_int_eq(elf_pv_parse(im.b, im.size, &in), ELF_PV_OK);
    put64(p1 + PH_OFFSET, im.seg_at[1]);
    /* p_paddr + p_memsz wraps. */
    put64(p1 + PH_PADDR, UINT64_MAX - 8);
    ck_assert_int_eq(elf_pv_parse(im.b, im.size, &in), ELF_PV_ENOLOAD);
    put64(p1 + PH_PADDR, 0x1001000);
    /* filesz > memsz with memsz huge is still checked against the file. */
    put64(p1 + PH_FILESZ, 1ull << 40);
    put64(p1 + PH_MEMSZ, 1ull << 41);
    ck_assert_int_eq(elf_pv_parse(im.b, im.size, &in), ELF_PV_ETRUNC);
    img_free(&im);

    /* No PT_LOAD: every load turned into PT_NULL. */
    im = build(&sp);
    for (unsigned i = 0; i < 4; i++)
        put32(phdr(&im, i) + PH_TYPE, PT_NULL);
    ck_assert_int_eq(elf_pv_parse(im.b, im.size, &in), ELF_PV_ENOLOAD);
    img_free(&im);

    /* PT_NOTE outside the file. */
    im = build(&sp);
    uint8_t *pn = phdr(&im, im.note_ph);
    put64(pn + PH_OFFSET, im.size - 1);
    ck_assert_int_eq(elf_pv_parse(im.b, im.size, &in), ELF_PV_ETRUNC);
    put64(pn + PH_OFFSET, im.pt_notes_at);
    put64(pn + PH_FILESZ, UINT64_MAX);
    ck_assert_int_eq(elf_pv_parse(im.b, im.size, &in), ELF_PV_ETRUNC);
    img_free(&im);
}
END_TEST

START_TEST(overlapping_segments)
{
    struct notes n;
    struct elf_pv_info in;
    base_notes(&n);
    struct spec sp = {
        .e_entry = 0x1000, .nsegs = 2, .pt = &n,
        .seg = { { 0x1000, 0, 0x10, 0x1000 }, { 0x2000, 0, 0x10, 0x10 } },
    };
    ck_assert_int_eq(parse_spec(&sp, &in), ELF_PV_OK);     /* adjacent */
    sp.seg[1].paddr = 0x1fff;
    ck_assert_int_eq(parse_spec(&sp, &in), ELF_PV_ELAYOUT);
    sp.seg[1].paddr = 0x800;                               /* straddles the start */
    sp.seg[1].memsz = 0x900;
    ck_assert_int_eq(parse_spec(&sp, &in), ELF_PV_ELAYOUT);
    sp.seg[1].paddr = 0xfff;
    sp.seg[1].memsz = 0x2000;                              /* contains it */
    ck_assert_int_eq(parse_spec(&sp, &in), ELF_PV_ELAYOUT);
    sp.seg[1].memsz = 0;                                   /* empty: overlaps nothing */
    sp.seg[1].filesz = 0;
    sp.seg[1].paddr = 0x1800;
    ck_assert_int_eq(parse_spec(&sp, &in), ELF_PV_OK);
}
END_TEST

/* ---- The Xen checks ------------------------------------------------------- */

START_TEST(version_and_loader)
{
    struct notes n;
    struct elf_pv_info in;

    memset(&n, 0, sizeof(n));                               /* no notes */
    ck_assert_int_eq(parse_notes(&n, &in), ELF_PV_ENOTXEN);

    static const char *const bad_versions[] = { "xen-2.0", "xen-3", "Xen-3.0", "", "xen-3.1" };
    for (size_t i = 0; i < sizeof(bad_versions) / sizeof(bad_versions[0]); i++) {
        memset(&n, 0, sizeof(n));
        note_str(&n, XEN_ELFNOTE_XEN_VERSION, bad_versions[i]);
        note_str(&n, XEN_ELFNOTE_LOADER, "generic");
        ck_assert_msg(parse_notes(&n, &in) == ELF_PV_ENOTXEN, "%s", bad_versions[i]);
    }
    memset(&n, 0, sizeof(n));
    note_str(&n, XEN_ELFNOTE_XEN_VERSION, "xen-3.0-unstable");  /* a prefix is enough */
    note_str(&n, XEN_ELFNOTE_LOADER, "generic");
    ck_assert_int_eq(parse_notes(&n, &in), ELF_PV_OK);

    memset(&n, 0, sizeof(n));                               /* version missing */
    note_str(&n, XEN_ELFNOTE_LOADER, "generic");
    note_str(&n, XEN_ELFNOTE_GUEST_OS, "linux");
    ck_assert_int_eq(parse_notes(&n, &in), ELF_PV_ENOTXEN);

    static const struct {
        const char *loader, *os;
        int err;
    } lo[] = {
        { "generic", "GRUB", ELF_PV_OK },   { "generic", NULL, ELF_PV_OK },
        { "elf", "GRUB", ELF_PV_ENOTXEN },  { NULL, "GRUB", ELF_PV_ENOTXEN },
        { NULL, NULL, ELF_PV_ENOTXEN },     { "elf", "linux", ELF_PV_OK },
        { NULL, "linux", ELF_PV_OK },       { "generic2", "Linux", ELF_PV_ENOTXEN },
        { "generi", "linux2", ELF_PV_ENOTXEN },
    };
    for (size_t i = 0; i < sizeof(lo) / sizeof(lo[0]); i++) {
        memset(&n, 0, sizeof(n));
        note_str(&n, XEN_ELFNOTE_XEN_VERSION, "xen-3.0");
        if (lo[i].loader)
            note_str(&n, XEN_ELFNOTE_LOADER, lo[i].loader);
        if (lo[i].os)
            note_str(&n, XEN_ELFNOTE_GUEST_OS, lo[i].os);
        ck_assert_msg(parse_notes(&n, &in) == lo[i].err, "case %zu", i);
    }
}
END_TEST

START_TEST(entry_range)
{
    /* The simple image spans [0x2000, 0x5000]; both ends are allowed. */
    static const struct {
        uint64_t entry;
        int err;
    } cases[] = {
        { 0x2000, ELF_PV_OK },      { 0x5000, ELF_PV_OK },   { 0x3abc, ELF_PV_OK },
        { 0x1fff, ELF_PV_ELAYOUT }, { 0x5001, ELF_PV_ELAYOUT }, { 0, ELF_PV_ELAYOUT },
        { UINT64_MAX, ELF_PV_ELAYOUT },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct notes n;
        struct elf_pv_info in;
        base_notes(&n);
        note_u64(&n, XEN_ELFNOTE_ENTRY, cases[i].entry);
        ck_assert_msg(parse_notes(&n, &in) == cases[i].err, "entry %#llx",
                      (unsigned long long)cases[i].entry);
        /* The same through e_entry. */
        base_notes(&n);
        struct spec sp = simple_spec(&n);
        sp.e_entry = cases[i].entry;
        ck_assert_int_eq(parse_spec(&sp, &in), cases[i].err);
    }
}
END_TEST

START_TEST(virt_base_and_paddr_offset)
{
    struct notes n;
    struct elf_pv_info in;

    /* Legacy layout: p_paddr holds virtual addresses, PADDR_OFFSET = VIRT_BASE. */
    base_notes(&n);
    note_u64(&n, XEN_ELFNOTE_VIRT_BASE, 0xffffffff80000000ull);
    note_u64(&n, XEN_ELFNOTE_PADDR_OFFSET, 0xffffffff80000000ull);
    struct spec sp = simple_spec(&n);
    sp.seg[0].paddr = 0xffffffff80100000ull;
    sp.e_entry = 0xffffffff80100000ull;
    ck_assert_int_eq(parse_spec(&sp, &in), ELF_PV_OK);
    ck_assert_uint_eq(in.virt_kstart, 0xffffffff80100000ull);
    ck_assert_uint_eq(in.virt_kend, 0xffffffff80103000ull);

    /* PADDR_OFFSET above pstart: the kernel would start below VIRT_BASE. */
    base_notes(&n);
    note_u64(&n, XEN_ELFNOTE_VIRT_BASE, 0x10000);
    note_u32(&n, XEN_ELFNOTE_PADDR_OFFSET, 0x2001);
    sp = simple_spec(&n);
    sp.e_entry = 0x10000;
    ck_assert_int_eq(parse_spec(&sp, &in), ELF_PV_ELAYOUT);

    /* VIRT_BASE + pend wraps past 2^64. */
    base_notes(&n);
    note_u64(&n, XEN_ELFNOTE_VIRT_BASE, UINT64_MAX - 0x4000);
    sp = simple_spec(&n);
    sp.e_entry = UINT64_MAX - 0x2000;
    ck_assert_int_eq(parse_spec(&sp, &in), ELF_PV_ELAYOUT);
    /* Both ends wrap, so kstart <= entry <= kend still holds afterwards. */
    base_notes(&n);
    note_u64(&n, XEN_ELFNOTE_VIRT_BASE, UINT64_MAX - 0x1000);
    sp = simple_spec(&n);
    sp.e_entry = 0x1000;
    ck_assert_int_eq(parse_spec(&sp, &in), ELF_PV_ELAYOUT);
    /* ... and just fits. */
    base_notes(&n);
    note_u64(&n, XEN_ELFNOTE_VIRT_BASE, UINT64_MAX - 0x5000);
    sp = simple_spec(&n);
    sp.e_entry = UINT64_MAX;
    ck_assert_int_eq(parse_spec(&sp, &in), ELF_PV_OK);
    ck_assert_uint_eq(in.virt_kend, UINT64_MAX);
}
END_TEST

START_TEST(init_p2m_range)
{
    static const struct {
        uint64_t p2m;
        int err;
    } cases[] = {
        { 0x2000, ELF_PV_ELAYOUT }, { 0x4fff, ELF_PV_ELAYOUT }, { 0x3000, ELF_PV_ELAYOUT },
        { 0x5000, ELF_PV_OK },      { 0x1fff, ELF_PV_OK },      { 0x8000000000ull, ELF_PV_OK },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct notes n;
        struct elf_pv_info in;
        base_notes(&n);
        note_u64(&n, XEN_ELFNOTE_INIT_P2M, cases[i].p2m);
        ck_assert_msg(parse_notes(&n, &in) == cases[i].err, "p2m %#llx",
                      (unsigned long long)cases[i].p2m);
    }
}
END_TEST

START_TEST(hypercall_page_range)
{
    static const struct {
        uint64_t va;
        int err;
    } cases[] = {
        { 0x2000, ELF_PV_OK },      { 0x4000, ELF_PV_OK },      { 0x5000, ELF_PV_ELAYOUT },
        { 0x1000, ELF_PV_ELAYOUT }, { 0x2001, ELF_PV_ELAYOUT }, { 0x3800, ELF_PV_ELAYOUT },
        { UINT64_MAX & ~0xfffull, ELF_PV_ELAYOUT },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct notes n;
        struct elf_pv_info in;
        base_notes(&n);
        note_u64(&n, XEN_ELFNOTE_HYPERCALL_PAGE, cases[i].va);
        ck_assert_msg(parse_notes(&n, &in) == cases[i].err, "page %#llx",
                      (unsigned long long)cases[i].va);
        if (!cases[i].err)
            ck_assert_uint_eq(in.hypercall_page, cases[i].va);
    }
}
END_TEST

/* ---- Loading -------------------------------------------------------------- */

/* Checks dst against the image's PT_LOADs: file bytes copied, bss zeroed,
 * everything else still `fill`. Reads the (trusted, test-built) headers. */
static void check_loaded(const uint8_t *b, const struct elf_pv_info *in, const uint8_t *dst,
                         size_t dst_size, uint8_t fill)
{
    uint8_t *covered = calloc(dst_size ? dst_size : 1, 1);
    uint64_t phoff = get64(b + EH_PHOFF);
    unsigned phnum = get16(b + EH_PHNUM);

    for (unsigned i = 0; i < phnum; i++) {
        const uint8_t *p = b + phoff + 56 * (size_t)i;
        if (get32(p + PH_TYPE) != PT_LOAD)
            continue;
        uint64_t off = get64(p + PH_OFFSET), at = get64(p + PH_PADDR) - in->pstart;
        uint64_t filesz = get64(p + PH_FILESZ), memsz = get64(p + PH_MEMSZ);
        for (uint64_t k = 0; k < memsz; k++) {
            uint8_t want = k < filesz ? b[off + k] : 0;
            FAST_ASSERT_MSG(dst[at + k] == want, "seg %u byte %#llx", i, (unsigned long long)k);
            covered[at + k] = 1;
        }
    }
    for (size_t k = 0; k < dst_size; k++)
        if (!covered[k])
            FAST_ASSERT_MSG(dst[k] == fill, "gap byte %#zx changed", k);
    free(covered);
}

START_TEST(load_linux_like)
{
    struct notes n;
    struct elf_pv_info in;
    linux_notes(&n);
    struct spec sp = linux_spec(&n);
    struct img im = build(&sp);
    ck_assert_int_eq(elf_pv_parse(im.b, im.size, &in), ELF_PV_OK);

    size_t span = in.pend - in.pstart, extra = 64;
    uint8_t *dst = malloc(span + extra);
    memset(dst, 0xaa, span + extra);
    ck_assert_int_eq(elf_pv_load(im.b, im.size, &in, dst, span + extra), ELF_PV_OK);
    check_loaded(im.b, &in, dst, span + extra, 0xaa);
    /* Spot checks that do not rely on check_loaded's reading of headers. */
    ck_assert_uint_eq(dst[0], seg_byte(0, 0));
    ck_assert_uint_eq(dst[0x320], seg_byte(0, 0x320));
    ck_assert_uint_eq(dst[0x321], 0);                 /* bss of segment 0 */
    ck_assert_uint_eq(dst[0x7ff], 0);
    ck_assert_uint_eq(dst[0x800], 0xaa);              /* gap before segment 1 */
    ck_assert_uint_eq(dst[0x2003], seg_byte(2, 0));   /* unaligned segment */
    ck_assert_uint_eq(dst[0x2003 + 0x101], 0);
    ck_assert_uint_eq(dst[0x2003 + 0x203], 0xaa);
    ck_assert_uint_eq(dst[span - 1], 0);              /* end of the last bss */
    ck_assert_uint_eq(dst[span], 0xaa);               /* nothing past pend */
    free(dst);

    /* Exactly the span, in an exact-size block (ASan checks the edges). */
    dst = malloc(span);
    memset(dst, 0xaa, span);
    ck_assert_int_eq(elf_pv_load(im.b, im.size, &in, dst, span), ELF_PV_OK);
    check_loaded(im.b, &in, dst, span, 0xaa);
    free(dst);
    img_free(&im);
}
END_TEST

START_TEST(load_grub_like)
{
    struct notes n;
    struct elf_pv_info in;
    grub_notes(&n);
    struct spec sp = grub_spec(&n);
    struct img im = build(&sp);
    ck_assert_int_eq(elf_pv_parse(im.b, im.size, &in), ELF_PV_OK);
    size_t span = in.pend - in.pstart;
    uint8_t *dst = malloc(span);
    memset(dst, 0x55, span);
    ck_assert_int_eq(elf_pv_load(im.b, im.size, &in, dst, span), ELF_PV_OK);
    check_loaded(im.b, &in, dst, span, 0x55);
    ck_assert_uint_eq(dst[0x41f0], 0);                /* bss right up to segment 1 */
    ck_assert_uint_eq(dst[0x41f1], seg_byte(1, 0));
    free(dst);
    img_free(&im);
}
END_TEST

START_TEST(load_errors)
{
    struct notes n, g;
    struct elf_pv_info in, other;
    linux_notes(&n);
    grub_notes(&g);
    struct spec sp = linux_spec(&n), gsp = grub_spec(&g);
    struct img im = build(&sp), gim = build(&gsp);
    ck_assert_int_eq(elf_pv_parse(im.b, im.size, &in), ELF_PV_OK);
    ck_assert_int_eq(elf_pv_parse(gim.b, gim.size, &other), ELF_PV_OK);
    size_t span = in.pend - in.pstart;
    uint8_t *dst = malloc(span);
    memset(dst, 0xaa, span);

    /* Too small, by one byte and entirely; nothing written. */
    ck_assert_int_eq(elf_pv_load(im.b, im.size, &in, dst, span - 1), ELF_PV_ENOSPC);
    ck_assert_int_eq(elf_pv_load(im.b, im.size, &in, dst, 0), ELF_PV_ENOSPC);
    ck_assert_int_eq(elf_pv_load(im.b, im.size, &in, NULL, span), ELF_PV_ENOSPC);
    /* info from another image. */
    ck_assert_int_eq(elf_pv_load(im.b, im.size, &other, dst, span), ELF_PV_ELAYOUT);
    ck_assert_int_eq(elf_pv_load(im.b, im.size, NULL, dst, span), ELF_PV_ELAYOUT);
    struct elf_pv_info shifted = in;
    shifted.pstart++;
    ck_assert_int_eq(elf_pv_load(im.b, im.size, &shifted, dst, span), ELF_PV_ELAYOUT);
    shifted = in;
    shifted.pend--;
    ck_assert_int_eq(elf_pv_load(im.b, im.size, &shifted, dst, span), ELF_PV_ELAYOUT);
    /* The image changed after parsing: a segment moved out of the range. */
    put64(phdr(&im, 1) + PH_PADDR, in.pend);
    ck_assert_int_eq(elf_pv_load(im.b, im.size, &in, dst, span), ELF_PV_ELAYOUT);
    put64(phdr(&im, 1) + PH_PADDR, 0x1001000);
    /* ... or grew past the file. */
    put64(phdr(&im, 1) + PH_OFFSET, im.size);
    ck_assert_int_eq(elf_pv_load(im.b, im.size, &in, dst, span), ELF_PV_ETRUNC);
    put64(phdr(&im, 1) + PH_OFFSET, im.seg_at[1]);
    /* Bad images are refused by load as by parse. */
    ck_assert_int_eq(elf_pv_load(im.b, 10, &in, dst, span), ELF_PV_ETRUNC);
    ck_assert_int_eq(elf_pv_load(NULL, 0, &in, dst, span), ELF_PV_ETRUNC);
    for (size_t i = 0; i < span; i++)
        FAST_ASSERT(dst[i] == 0xaa);

    ck_assert_int_eq(elf_pv_load(im.b, im.size, &in, dst, span), ELF_PV_OK);
    free(dst);
    img_free(&im);
    img_free(&gim);
}
END_TEST

START_TEST(strerror_names)
{
    static const int codes[] = { ELF_PV_OK,     ELF_PV_ETRUNC,  ELF_PV_ENOTELF, ELF_PV_EARCH,
                                 ELF_PV_ENOLOAD, ELF_PV_ENOTXEN, ELF_PV_ELAYOUT, ELF_PV_ENOSPC };
    const size_t nc = sizeof(codes) / sizeof(codes[0]);
    const char *unknown = elf_pv_strerror(-1000);
    ck_assert_ptr_nonnull(unknown);
    ck_assert_ptr_nonnull(elf_pv_strerror(1));
    for (size_t i = 0; i < nc; i++) {
        const char *s = elf_pv_strerror(codes[i]);
        ck_assert_ptr_nonnull(s);
        ck_assert_uint_gt(strlen(s), 0);
        ck_assert_str_ne(s, unknown);
        for (size_t j = 0; j < i; j++)
            ck_assert_str_ne(s, elf_pv_strerror(codes[j]));
    }
}
END_TEST

/* ---- Mutation --------------------------------------------------------------- */

#define MUTATION_SEED 0x4c616d696e61ull   /* "Lamina" */
#define MUTATION_ITERS 20000
#define LOAD_CAP (1u << 20)

static uint64_t rng_state;

static uint64_t rnd(void)
{
    /* xorshift64: deterministic across hosts, good enough to pick bytes. */
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    rng_state = x;
    return x;
}

static uint64_t interesting(size_t size)
{
    static const uint64_t v[] = {
        0, 1, 2, 3, 4, 7, 8, 11, 12, 16, 55, 56, 57, 63, 64, 65, 0x7f, 0x80, 0xff, 0x100,
        0xfff, 0x1000, 0x1001, 0x7fff, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffffc,
        0xffffffff, 0x100000000ull, 0x7fffffffffffffffull, 0x8000000000000000ull,
        0xfffffffffffff000ull, 0xfffffffffffffffeull, UINT64_MAX, 0xffffffff80000000ull,
        0xffffffff81000000ull, 0x8000000000ull,
    };
    uint64_t r = rnd() % (sizeof(v) / sizeof(v[0]) + 4);
    if (r < sizeof(v) / sizeof(v[0]))
        return v[r];
    if (r == sizeof(v) / sizeof(v[0]))
        return size - 1 - rnd() % 8;
    if (r == sizeof(v) / sizeof(v[0]) + 1)
        return size + rnd() % 8;
    return rnd() >> (rnd() % 64);
}

/* Offsets of fields worth hitting, with their widths. */
struct hot {
    size_t off;
    unsigned width;
};

static unsigned hot_fields(const struct img *im, const struct notes *pt, const struct notes *sh,
                           struct hot *h, unsigned max)
{
    unsigned n = 0;
    static const struct hot eh[] = {
        { EH_ENTRY, 8 }, { EH_PHOFF, 8 }, { EH_SHOFF, 8 }, { EH_PHENTSIZE, 2 },
        { EH_PHNUM, 2 }, { EH_SHENTSIZE, 2 }, { EH_SHNUM, 2 }, { EH_TYPE, 2 },
    };
    for (size_t i = 0; i < sizeof(eh) / sizeof(eh[0]) && n < max; i++)
        h[n++] = eh[i];
    static const struct hot ph[] = {
        { PH_TYPE, 4 }, { PH_OFFSET, 8 }, { PH_PADDR, 8 }, { PH_FILESZ, 8 }, { PH_MEMSZ, 8 },
    };
    for (unsigned p = 0; p < im->phnum; p++)
        for (size_t i = 0; i < sizeof(ph) / sizeof(ph[0]) && n < max; i++)
            h[n++] = (struct hot){ im->phoff + 56 * (size_t)p + ph[i].off, ph[i].width };
    for (unsigned s = 0; s < im->shnum; s++) {
        static const struct hot sf[] = { { SH_TYPE, 4 }, { SH_OFFSET, 8 }, { SH_SIZE, 8 } };
        for (size_t i = 0; i < sizeof(sf) / sizeof(sf[0]) && n < max; i++)
            h[n++] = (struct hot){ im->shoff + 64 * (size_t)s + sf[i].off, sf[i].width };
    }
    /* Note headers (namesz, descsz, type) and the first word of each desc. */
    for (unsigned w = 0; w < 2; w++) {
        const struct notes *nn = w ? sh : pt;
        size_t base = w ? im->sh_notes_at : im->pt_notes_at;
        if (!nn)
            continue;
        for (unsigned i = 0; i < nn->count && n + 4 <= max; i++) {
            size_t at = base + nn->hdr[i];
            uint32_t namesz = get32(nn->b + nn->hdr[i]);
            h[n++] = (struct hot){ at, 4 };
            h[n++] = (struct hot){ at + 4, 4 };
            h[n++] = (struct hot){ at + 8, 4 };
            h[n++] = (struct hot){ at + 12 + ((namesz + 3u) & ~3u), 8 };
        }
    }
    return n;
}

static void mutate(uint8_t *b, size_t size, const struct hot *h, unsigned nh)
{
    unsigned count = 1 + (unsigned)(rnd() % 4);
    for (unsigned m = 0; m < count; m++) {
        switch (rnd() % 4) {
        case 0:
            b[rnd() % size] ^= (uint8_t)(1u << (rnd() % 8));
            break;
        case 1:
            b[rnd() % size] = (uint8_t)rnd();
            break;
        default: {
            const struct hot *f = &h[rnd() % nh];
            uint64_t v = interesting(size);
            if (f->off + f->width > size)
                break;
            if (f->width == 2)
                put16(b + f->off, (uint16_t)v);
            else if (f->width == 4)
                put32(b + f->off, (uint32_t)v);
            else
                put64(b + f->off, v);
            break;
        }
        }
    }
}

static bool terminated(const char *s, size_t n)
{
    return memchr(s, '\0', n) != NULL;
}

/* Everything a successful parse promises, then a load that must succeed and
 * write exactly the segments, and one byte too little that must not. */
static void check_consistent(const uint8_t *b, size_t size, const struct elf_pv_info *in)
{
    FAST_ASSERT(in->has_xen_notes);
    FAST_ASSERT(in->pstart <= in->pend);
    FAST_ASSERT(in->virt_kstart <= in->virt_kend);
    FAST_ASSERT(in->virt_kend - in->virt_kstart == in->pend - in->pstart);
    FAST_ASSERT(in->virt_base <= in->virt_kstart);
    FAST_ASSERT(in->pstart >= in->paddr_offset);
    FAST_ASSERT(in->entry >= in->virt_kstart && in->entry <= in->virt_kend);
    FAST_ASSERT(!in->init_p2m || in->init_p2m < in->virt_kstart ||
              in->init_p2m >= in->virt_kend);
    FAST_ASSERT(!in->hypercall_page ||
              (in->hypercall_page >= in->virt_kstart &&
               in->hypercall_page + 4096 <= in->virt_kend && !(in->hypercall_page & 0xfff)));
    FAST_ASSERT(terminated(in->xen_version, sizeof(in->xen_version)));
    FAST_ASSERT(terminated(in->guest_os, sizeof(in->guest_os)));
    FAST_ASSERT(terminated(in->guest_version, sizeof(in->guest_version)));
    FAST_ASSERT(terminated(in->loader, sizeof(in->loader)));
    FAST_ASSERT(terminated(in->features, sizeof(in->features)));
    FAST_ASSERT(strncmp(in->xen_version, "xen-3.0", 7) == 0);
    FAST_ASSERT(strcmp(in->loader, "generic") == 0 || strcmp(in->guest_os, "linux") == 0);

    uint64_t span = in->pend - in->pstart;
    if (span > LOAD_CAP) {
        uint8_t small[64];
        FAST_ASSERT(elf_pv_load(b, size, in, small, sizeof(small)) == ELF_PV_ENOSPC);
        return;
    }
    uint8_t *dst = malloc(span ? span : 1);
    memset(dst, 0xcd, span);
    FAST_ASSERT(elf_pv_load(b, size, in, dst, span) == ELF_PV_OK);
    check_loaded(b, in, dst, span, 0xcd);
    if (span)
        FAST_ASSERT(elf_pv_load(b, size, in, dst, span - 1) == ELF_PV_ENOSPC);
    free(dst);
}

START_TEST(mutation)
{
    struct notes ln, gn, sn, hn;
    linux_notes(&ln);
    grub_notes(&gn);
    base_notes(&sn);
    note_str(&sn, XEN_ELFNOTE_GUEST_OS, "linux");
    note_u64(&sn, XEN_ELFNOTE_INIT_P2M, 0x8000000000ull);
    base_notes(&hn);
    note_u64(&hn, XEN_ELFNOTE_HYPERCALL_PAGE, 0x3000);
    note_u32(&hn, XEN_ELFNOTE_ENTRY, 0x2100);

    struct spec specs[4] = { linux_spec(&ln), grub_spec(&gn), simple_spec(NULL),
                             simple_spec(&hn) };
    specs[2].sh = &sn;                 /* section fallback */
    specs[3].sh = &sn;                 /* both: PT_NOTE wins */
    const struct notes *pts[4] = { &ln, &gn, NULL, &hn }, *shs[4] = { NULL, NULL, &sn, &sn };

    struct img base[4];
    struct elf_pv_info base_info[4];
    struct hot hot[4][256];
    unsigned nhot[4];
    for (unsigned i = 0; i < 4; i++) {
        base[i] = build(&specs[i]);
        ck_assert_int_eq(elf_pv_parse(base[i].b, base[i].size, &base_info[i]), ELF_PV_OK);
        check_consistent(base[i].b, base[i].size, &base_info[i]);
        nhot[i] = hot_fields(&base[i], pts[i], shs[i], hot[i], 256);
    }

    unsigned ok = 0, errs[8] = { 0 };
    rng_state = MUTATION_SEED;
    for (unsigned it = 0; it < MUTATION_ITERS; it++) {
        unsigned which = (unsigned)(rnd() % 4);
        const struct img *bi = &base[which];
        size_t size = bi->size;
        if (rnd() % 16 == 0)
            size = (size_t)(rnd() % (size + 1));       /* truncated too */
        uint8_t *b = malloc(size ? size : 1);
        memcpy(b, bi->b, size);
        if (size)
            mutate(b, size, hot[which], nhot[which]);

        struct elf_pv_info in;
        int err = elf_pv_parse(b, size, &in);
        FAST_ASSERT_MSG(err <= 0 && err >= ELF_PV_ENOSPC, "iteration %u: error %d", it, err);
        if (err == ELF_PV_OK) {
            ok++;
            check_consistent(b, size, &in);
        } else {
            errs[-err]++;
            FAST_ASSERT(all_zero(&in, sizeof(in)));
        }
        /* Loading with the unmutated image's info must still stay in bounds. */
        const struct elf_pv_info *bin = &base_info[which];
        size_t span = bin->pend - bin->pstart;
        uint8_t *dst = malloc(span);
        int lerr = elf_pv_load(b, size, bin, dst, span);
        FAST_ASSERT(lerr <= 0 && lerr >= ELF_PV_ENOSPC);
        free(dst);
        free(b);
    }
    for (unsigned i = 0; i < 4; i++)
        img_free(&base[i]);
    /* The run must exercise both sides: enough survivors to check the
     * invariants, and every parse error the mutations can reach. */
    ck_assert_uint_gt(ok, MUTATION_ITERS / 20);
    for (int e = -ELF_PV_ETRUNC; e <= -ELF_PV_ELAYOUT; e++)
        FAST_ASSERT_MSG(errs[e] > 0, "error %d never produced", -e);
}
END_TEST

static Suite *elf_pv_suite(void)
{
    Suite *s = suite_create("elf_pv");
    TCase *valid = tcase_create("valid");
    tcase_add_test(valid, linux_like);
    tcase_add_test(valid, grub_like);
    tcase_add_test(valid, entry_defaults_to_e_entry);
    tcase_add_test(valid, null_info_validates_only);
    tcase_add_test(valid, max_phdrs);
    suite_add_tcase(s, valid);

    TCase *notes = tcase_create("notes");
    tcase_add_test(notes, numeric_notes_4_and_8_bytes);
    tcase_add_test(notes, numeric_note_bad_sizes);
    tcase_add_test(notes, string_notes);
    tcase_add_test(notes, other_names_are_skipped);
    tcase_add_test(notes, note_region_edges);
    tcase_add_test(notes, note_sizes_past_region);
    tcase_add_test(notes, pt_note_preferred_over_sections);
    tcase_add_test(notes, section_fallback);
    tcase_add_test(notes, section_table_errors);
    suite_add_tcase(s, notes);

    TCase *headers = tcase_create("headers");
    tcase_add_test(headers, too_small_or_null);
    tcase_add_test(headers, ehdr_fields);
    tcase_add_test(headers, phdr_table_bounds);
    tcase_add_test(headers, segment_errors);
    tcase_add_test(headers, overlapping_segments);
    suite_add_tcase(s, headers);

    TCase *checks = tcase_create("checks");
    tcase_add_test(checks, version_and_loader);
    tcase_add_test(checks, entry_range);
    tcase_add_test(checks, virt_base_and_paddr_offset);
    tcase_add_test(checks, init_p2m_range);
    tcase_add_test(checks, hypercall_page_range);
    suite_add_tcase(s, checks);

    TCase *load = tcase_create("load");
    tcase_add_test(load, load_linux_like);
    tcase_add_test(load, load_grub_like);
    tcase_add_test(load, load_errors);
    tcase_add_test(load, strerror_names);
    suite_add_tcase(s, load);

    TCase *fuzz = tcase_create("mutation");
    tcase_set_timeout(fuzz, 300);
    tcase_add_test(fuzz, mutation);
    suite_add_tcase(s, fuzz);
    return s;
}

UNIT_MAIN(elf_pv_suite)

/* SPDX-License-Identifier: MIT */
/*
 * ELF64 Xen PV kernel parsing and loading (xen-pv-abi.md §3.1-3.2). The image
 * is hostile: every field is read once into a local, every offset and size is
 * checked against the buffer with arithmetic that cannot wrap, and anything
 * odd is rejected rather than interpreted. Builds freestanding and on the
 * host; it owns no memory and keeps no state between calls.
 */
#include <lamina/elf_pv.h>
#include <lamina/string.h>
#include <public/elfnote.h>

/* ELF64 layout (System V gABI): byte offsets of the fields we read. */
#define EHDR_SIZE      64
#define EH_TYPE        16
#define EH_MACHINE     18
#define EH_VERSION     20
#define EH_ENTRY       24
#define EH_PHOFF       32
#define EH_SHOFF       40
#define EH_EHSIZE      52
#define EH_PHENTSIZE   54
#define EH_PHNUM       56
#define EH_SHENTSIZE   58
#define EH_SHNUM       60

#define PHDR_SIZE      56
#define PH_TYPE        0
#define PH_OFFSET      8
#define PH_PADDR       24
#define PH_FILESZ      32
#define PH_MEMSZ       40

#define SHDR_SIZE      64
#define SH_TYPE        4
#define SH_OFFSET      24
#define SH_SIZE        32

#define ELFCLASS64     2
#define ELFDATA2LSB    1
#define EV_CURRENT     1
#define ET_EXEC        2
#define EM_X86_64      62
#define PT_LOAD        1
#define PT_NOTE        4
#define SHT_NOTE       7

#define NOTE_HDR_SIZE  12
#define GUEST_PAGE     4096u

struct image {
    const uint8_t *p;
    size_t size;
};

/* What the ELF header says, read once. */
struct ehdr {
    uint64_t entry, phoff, shoff;
    unsigned phnum, shnum, shentsize;
};

/* One PT_LOAD header, read once and checked against the buffer. */
struct seg {
    uint64_t offset, paddr, filesz, memsz;
};

struct loads {
    struct seg seg[ELF_PV_MAX_PHDRS];
    unsigned n;
    uint64_t pstart, pend;
};

/* Parser state beside the result: which notes were seen, so "absent" and
 * "present with value 0" differ (pvgrub's ENTRY note is 0). */
struct note_state {
    struct elf_pv_info *info;
    bool has_entry;
    unsigned nr_xen;
};

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (unsigned)p[1] << 8);
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p)
{
    return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

/* True if [off, off+len) lies inside a region of `size` bytes; cannot wrap. */
static bool range_ok(uint64_t off, uint64_t len, uint64_t size)
{
    return off <= size && len <= size - off;
}

static bool str_eq(const char *a, const char *b)
{
    while (*a && *a == *b) {
        a++;
        b++;
    }
    return *a == *b;
}

static bool str_starts(const char *s, const char *prefix)
{
    for (; *prefix; s++, prefix++)
        if (*s != *prefix)
            return false;
    return true;
}

/* Copies a string note: stops at the first NUL, at the end of the descriptor
 * or at dst_size-1 bytes, and always terminates. */
static void copy_str(char *dst, size_t dst_size, const uint8_t *src, uint64_t len)
{
    size_t n = 0;

    while (n + 1 < dst_size && n < len && src[n]) {
        dst[n] = (char)src[n];
        n++;
    }
    dst[n] = '\0';
}

static int read_ehdr(const struct image *img, struct ehdr *eh)
{
    const uint8_t *p = img->p;

    if (!p || img->size < EHDR_SIZE)
        return ELF_PV_ETRUNC;
    if (p[0] != 0x7f || p[1] != 'E' || p[2] != 'L' || p[3] != 'F' || p[4] != ELFCLASS64 ||
        p[5] != ELFDATA2LSB || p[6] != EV_CURRENT || rd32(p + EH_VERSION) != EV_CURRENT ||
        rd16(p + EH_EHSIZE) != EHDR_SIZE)
        return ELF_PV_ENOTELF;
    if (rd16(p + EH_TYPE) != ET_EXEC || rd16(p + EH_MACHINE) != EM_X86_64)
        return ELF_PV_EARCH;

    eh->entry = rd64(p + EH_ENTRY);
    eh->phoff = rd64(p + EH_PHOFF);
    eh->shoff = rd64(p + EH_SHOFF);
    eh->phnum = rd16(p + EH_PHNUM);
    eh->shnum = rd16(p + EH_SHNUM);
    eh->shentsize = rd16(p + EH_SHENTSIZE);

    /* A kernel without program headers has nothing to load. A malformed
     * table (wrong entry size, or more entries than we bound our work by,
     * including the PN_XNUM escape 0xffff) is not guessed at. */
    if (eh->phnum == 0)
        return ELF_PV_ENOLOAD;
    if (rd16(p + EH_PHENTSIZE) != PHDR_SIZE || eh->phnum > ELF_PV_MAX_PHDRS)
        return ELF_PV_ENOTELF;
    if (!range_ok(eh->phoff, (uint64_t)eh->phnum * PHDR_SIZE, img->size))
        return ELF_PV_ETRUNC;
    return ELF_PV_OK;
}

/* Reads every PT_LOAD header, checks it against the buffer and the others,
 * and computes pstart/pend (§3.2 "Address math"). Overlapping segments are
 * refused: the result of loading them would depend on their order. */
static int read_loads(const struct image *img, const struct ehdr *eh, struct loads *ld)
{
    ld->n = 0;
    ld->pstart = UINT64_MAX;
    ld->pend = 0;
    for (unsigned i = 0; i < eh->phnum; i++) {
        const uint8_t *ph = img->p + eh->phoff + (uint64_t)i * PHDR_SIZE;
        if (rd32(ph + PH_TYPE) != PT_LOAD)
            continue;
        struct seg s = {
            .offset = rd64(ph + PH_OFFSET),
            .paddr = rd64(ph + PH_PADDR),
            .filesz = rd64(ph + PH_FILESZ),
            .memsz = rd64(ph + PH_MEMSZ),
        };
        if (s.filesz > s.memsz || s.memsz > UINT64_MAX - s.paddr)
            return ELF_PV_ENOLOAD;
        if (!range_ok(s.offset, s.filesz, img->size))
            return ELF_PV_ETRUNC;
        for (unsigned j = 0; j < ld->n; j++) {
            const struct seg *o = &ld->seg[j];
            if (s.memsz && o->memsz && s.paddr < o->paddr + o->memsz &&
                o->paddr < s.paddr + s.memsz)
                return ELF_PV_ELAYOUT;
        }
        if (s.paddr < ld->pstart)
            ld->pstart = s.paddr;
        if (s.paddr + s.memsz > ld->pend)
            ld->pend = s.paddr + s.memsz;
        ld->seg[ld->n++] = s;
    }
    return ld->n ? ELF_PV_OK : ELF_PV_ENOLOAD;
}

/* Numeric notes are 4- or 8-byte little-endian values (§3.2); any other size
 * is a malformed Xen note. */
static int note_num(const uint8_t *desc, uint32_t descsz, uint64_t *out)
{
    if (descsz == 4)
        *out = rd32(desc);
    else if (descsz == 8)
        *out = rd64(desc);
    else
        return ELF_PV_ENOTXEN;
    return ELF_PV_OK;
}

static int xen_note(struct note_state *st, uint32_t type, const uint8_t *desc, uint32_t descsz)
{
    struct elf_pv_info *in = st->info;
    uint64_t v = 0;
    int err = ELF_PV_OK;

    st->nr_xen++;
    switch (type) {
    case XEN_ELFNOTE_ENTRY:
        err = note_num(desc, descsz, &in->entry);
        st->has_entry = true;
        break;
    case XEN_ELFNOTE_HYPERCALL_PAGE:
        err = note_num(desc, descsz, &in->hypercall_page);
        break;
    case XEN_ELFNOTE_VIRT_BASE:
        err = note_num(desc, descsz, &in->virt_base);
        break;
    case XEN_ELFNOTE_PADDR_OFFSET:
        err = note_num(desc, descsz, &in->paddr_offset);
        break;
    case XEN_ELFNOTE_HV_START_LOW:
        err = note_num(desc, descsz, &in->hv_start_low);
        break;
    case XEN_ELFNOTE_INIT_P2M:
        err = note_num(desc, descsz, &in->init_p2m);
        break;
    case XEN_ELFNOTE_MOD_START_PFN:
        err = note_num(desc, descsz, &v);
        in->mod_start_pfn = v != 0;
        break;
    case XEN_ELFNOTE_SUPPORTED_FEATURES:
        /* A u32 bitmap; an 8-byte note with high bits set names features
         * that do not exist, so it is refused rather than truncated. */
        err = note_num(desc, descsz, &v);
        if (!err && v > UINT32_MAX)
            err = ELF_PV_ENOTXEN;
        in->supported_features = (uint32_t)v;
        break;
    case XEN_ELFNOTE_XEN_VERSION:
        copy_str(in->xen_version, sizeof(in->xen_version), desc, descsz);
        break;
    case XEN_ELFNOTE_GUEST_OS:
        copy_str(in->guest_os, sizeof(in->guest_os), desc, descsz);
        break;
    case XEN_ELFNOTE_GUEST_VERSION:
        copy_str(in->guest_version, sizeof(in->guest_version), desc, descsz);
        break;
    case XEN_ELFNOTE_LOADER:
        copy_str(in->loader, sizeof(in->loader), desc, descsz);
        break;
    case XEN_ELFNOTE_FEATURES:
        copy_str(in->features, sizeof(in->features), desc, descsz);
        break;
    default:
        /* INFO, PAE_MODE, L1_MFN_VALID, SUSPEND_CANCEL, PHYS32_ENTRY, ...:
         * nothing a 64-bit PV builder needs. Counted, otherwise ignored. */
        break;
    }
    return err;
}

/* Walks the 4-byte-aligned notes in [off, off+len) of the image, which the
 * caller has checked lies inside it. Notes not named "Xen" are skipped; a
 * note whose header, name or descriptor runs past the region is refused.
 * Fewer than a note header's worth of trailing bytes is padding. */
static int walk_notes(const struct image *img, uint64_t off, uint64_t len,
                      struct note_state *st)
{
    const uint8_t *base = img->p + off;
    uint64_t pos = 0;

    while (len - pos >= NOTE_HDR_SIZE) {
        const uint8_t *n = base + pos;
        uint32_t namesz = rd32(n);
        uint32_t descsz = rd32(n + 4);
        uint32_t type = rd32(n + 8);
        /* All uint64_t sums of u32-bounded terms: none can wrap. */
        uint64_t name_at = pos + NOTE_HDR_SIZE;
        uint64_t desc_at = name_at + (((uint64_t)namesz + 3) & ~(uint64_t)3);
        uint64_t next = desc_at + (((uint64_t)descsz + 3) & ~(uint64_t)3);

        if (!range_ok(desc_at, descsz, len))
            return ELF_PV_ETRUNC;
        if (namesz == 4 && base[name_at] == 'X' && base[name_at + 1] == 'e' &&
            base[name_at + 2] == 'n' && base[name_at + 3] == '\0') {
            int err = xen_note(st, type, base + desc_at, descsz);
            if (err)
                return err;
        }
        if (next >= len)
            break;
        pos = next;
    }
    return ELF_PV_OK;
}

/* Xen notes from PT_NOTE segments (§3.1). */
static int notes_from_phdrs(const struct image *img, const struct ehdr *eh,
                            struct note_state *st)
{
    for (unsigned i = 0; i < eh->phnum; i++) {
        const uint8_t *ph = img->p + eh->phoff + (uint64_t)i * PHDR_SIZE;
        if (rd32(ph + PH_TYPE) != PT_NOTE)
            continue;
        uint64_t off = rd64(ph + PH_OFFSET), len = rd64(ph + PH_FILESZ);
        if (!range_ok(off, len, img->size))
            return ELF_PV_ETRUNC;
        int err = walk_notes(img, off, len, st);
        if (err)
            return err;
    }
    return ELF_PV_OK;
}

/* The SHT_NOTE fallback (§3.1), used only when no PT_NOTE held a Xen note.
 * Up to 65535 sections could all name the whole file; capping the total
 * note bytes walked at the image size keeps the work linear. Sections that
 * really hold notes do not overlap, so a valid image never hits the cap. */
static int notes_from_shdrs(const struct image *img, const struct ehdr *eh,
                            struct note_state *st)
{
    uint64_t budget = img->size;

    if (eh->shnum == 0)
        return ELF_PV_OK;
    if (eh->shentsize != SHDR_SIZE)
        return ELF_PV_ENOTELF;
    if (!range_ok(eh->shoff, (uint64_t)eh->shnum * SHDR_SIZE, img->size))
        return ELF_PV_ETRUNC;
    for (unsigned i = 0; i < eh->shnum; i++) {
        const uint8_t *sh = img->p + eh->shoff + (uint64_t)i * SHDR_SIZE;
        if (rd32(sh + SH_TYPE) != SHT_NOTE)
            continue;
        uint64_t off = rd64(sh + SH_OFFSET), len = rd64(sh + SH_SIZE);
        if (!range_ok(off, len, img->size) || len > budget)
            return ELF_PV_ETRUNC;
        budget -= len;
        int err = walk_notes(img, off, len, st);
        if (err)
            return err;
    }
    return ELF_PV_OK;
}

/* Translates a physical (p_paddr) address of the image to the guest virtual
 * address it will run at: paddr - PADDR_OFFSET + VIRT_BASE (§3.2). */
static bool paddr_to_virt(const struct elf_pv_info *in, uint64_t paddr, uint64_t *virt)
{
    if (paddr < in->paddr_offset)
        return false;
    uint64_t rel = paddr - in->paddr_offset;
    if (rel > UINT64_MAX - in->virt_base)
        return false;
    *virt = rel + in->virt_base;
    return true;
}

/* The checks of §3.2 "Notes on the checks", plus one of our own: a
 * hypercall page must be a whole, aligned page inside the kernel, because
 * the builder writes 4 KiB there. */
static int check_layout(struct elf_pv_info *in)
{
    if (!paddr_to_virt(in, in->pstart, &in->virt_kstart) ||
        !paddr_to_virt(in, in->pend, &in->virt_kend))
        return ELF_PV_ELAYOUT;
    /* Implied by paddr_to_virt succeeding; kept because the ABI states it as
     * a check of its own and a later change to the math must not lose it. */
    if (in->virt_base > in->virt_kstart)
        return ELF_PV_ELAYOUT;
    if (in->entry < in->virt_kstart || in->entry > in->virt_kend)
        return ELF_PV_ELAYOUT;
    if (in->init_p2m && in->init_p2m >= in->virt_kstart && in->init_p2m < in->virt_kend)
        return ELF_PV_ELAYOUT;
    if (in->hypercall_page &&
        (in->hypercall_page % GUEST_PAGE || in->hypercall_page < in->virt_kstart ||
         in->hypercall_page > in->virt_kend || in->virt_kend - in->hypercall_page < GUEST_PAGE))
        return ELF_PV_ELAYOUT;
    return ELF_PV_OK;
}

static int parse(const struct image *img, struct elf_pv_info *in)
{
    struct ehdr eh;
    struct loads ld;
    struct note_state st = { .info = in };
    int err;

    if ((err = read_ehdr(img, &eh)) || (err = read_loads(img, &eh, &ld)))
        return err;
    in->pstart = ld.pstart;
    in->pend = ld.pend;

    if ((err = notes_from_phdrs(img, &eh, &st)))
        return err;
    if (st.nr_xen == 0 && (err = notes_from_shdrs(img, &eh, &st)))
        return err;
    in->has_xen_notes = st.nr_xen != 0;
    if (!st.has_entry)
        in->entry = eh.entry;

    if (!str_starts(in->xen_version, "xen-3.0") ||
        !(str_eq(in->loader, "generic") || str_eq(in->guest_os, "linux")))
        return ELF_PV_ENOTXEN;
    return check_layout(in);
}

int elf_pv_parse(const void *image, size_t image_size, struct elf_pv_info *info)
{
    const struct image img = { image, image_size };
    struct elf_pv_info tmp;

    /* Built in a local so a caller never sees half a result: on failure
     * *info is all zeroes. A NULL info just validates the image. */
    memset(&tmp, 0, sizeof(tmp));
    int err = parse(&img, &tmp);
    if (info) {
        if (err)
            memset(info, 0, sizeof(*info));
        else
            *info = tmp;
    }
    return err;
}

int elf_pv_load(const void *image, size_t image_size, const struct elf_pv_info *info,
                void *dst, size_t dst_size)
{
    const struct image img = { image, image_size };
    struct ehdr eh;
    struct loads ld;
    int err;

    /* The program headers are read and checked again rather than trusted
     * from the parse: the caller may pass a different image, or one that
     * changed since. What is written must match what was parsed. */
    if (!info)
        return ELF_PV_ELAYOUT;
    if ((err = read_ehdr(&img, &eh)) || (err = read_loads(&img, &eh, &ld)))
        return err;
    if (ld.pstart != info->pstart || ld.pend != info->pend)
        return ELF_PV_ELAYOUT;
    if (!dst || dst_size < ld.pend - ld.pstart)
        return ELF_PV_ENOSPC;

    uint8_t *out = dst;
    for (unsigned i = 0; i < ld.n; i++) {
        const struct seg *s = &ld.seg[i];
        /* pstart <= paddr and paddr + memsz <= pend <= pstart + dst_size,
         * all checked above without wrapping. */
        uint64_t at = s->paddr - ld.pstart;
        memcpy(out + at, img.p + s->offset, s->filesz);
        memset(out + at + s->filesz, 0, s->memsz - s->filesz);
    }
    return ELF_PV_OK;
}

const char *elf_pv_strerror(int err)
{
    switch (err) {
    case ELF_PV_OK:
        return "success";
    case ELF_PV_ETRUNC:
        return "header, table or segment outside the image";
    case ELF_PV_ENOTELF:
        return "not a valid ELF64 little-endian image";
    case ELF_PV_EARCH:
        return "not an x86-64 executable";
    case ELF_PV_ENOLOAD:
        return "no loadable segment, or a bad one";
    case ELF_PV_ENOTXEN:
        return "not a Xen PV kernel (Xen notes missing or wrong)";
    case ELF_PV_ELAYOUT:
        return "bad kernel layout (entry, VIRT_BASE, INIT_P2M, or overflow)";
    case ELF_PV_ENOSPC:
        return "destination too small";
    default:
        return "unknown ELF PV error";
    }
}

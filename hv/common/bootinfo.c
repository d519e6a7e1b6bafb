/* SPDX-License-Identifier: MIT */
/*
 * Multiboot1 (QEMU -kernel, with the a.out kludge) and multiboot2 (GRUB)
 * information, reduced to struct boot_info. Layouts: the Multiboot
 * Specification 0.6.96 §3.3 and Multiboot2 Specification §3.6.
 *
 * Command lines: loaders other than GRUB 2 put the image path first (QEMU
 * gives "path args"); GRUB 2 gives only the arguments. We drop the path so
 * that options and dom0's command line look the same whichever way we booted.
 */
#include <hv/bootinfo.h>
#include <hv/mm.h>

#define MB1_LOADER_MAGIC 0x2BADB002
#define MB2_LOADER_MAGIC 0x36d76289

#define MB1_INFO_CMDLINE  (1u << 2)
#define MB1_INFO_MODS     (1u << 3)
#define MB1_INFO_MMAP     (1u << 6)
#define MB1_INFO_LOADER   (1u << 9)

struct mb1_info {
    uint32_t flags, mem_lower, mem_upper, boot_device, cmdline;
    uint32_t mods_count, mods_addr;
    uint32_t syms[4];
    uint32_t mmap_length, mmap_addr;
    uint32_t drives_length, drives_addr, config_table, boot_loader_name;
};
struct mb1_module { uint32_t start, end, string, reserved; };
struct mb1_mmap { uint32_t size; uint64_t base, length; uint32_t type; } __packed;

struct mb2_tag { uint32_t type, size; };
struct mb2_module { uint32_t type, size, start, end; char string[]; };
struct mb2_mmap { uint32_t type, size, entry_size, entry_version; };
struct mb2_mmap_entry { uint64_t base, length; uint32_t type, reserved; };

#define MB2_TAG_END     0
#define MB2_TAG_CMDLINE 1
#define MB2_TAG_LOADER  2
#define MB2_TAG_MODULE  3
#define MB2_TAG_MMAP    6
#define MB2_TAG_ACPI1   14
#define MB2_TAG_ACPI2   15

static bool strips_image_path(const struct boot_info *bi)
{
    return strncmp(bi->loader, "GRUB 2", 6) != 0;
}

static void copy_cmdline(char *dst, const char *src, bool strip_path)
{
    if (!src) {
        dst[0] = '\0';
        return;
    }
    while (*src == ' ')
        src++;
    if (strip_path) {
        while (*src && *src != ' ')
            src++;
        while (*src == ' ')
            src++;
    }
    strlcpy(dst, src, BOOT_CMDLINE_MAX);
}

static const char *phys_str(uint64_t pa)
{
    return pa ? (const char *)__va(pa) : NULL;
}

static void add_region(struct boot_info *bi, uint64_t base, uint64_t size, uint32_t type)
{
    if (bi->nr_regions == BOOT_MAX_REGIONS || size == 0)
        return;
    bi->regions[bi->nr_regions++] = (struct mem_region){ base, size, type };
}

static void parse_mb1(uint32_t info_pa, struct boot_info *bi)
{
    const struct mb1_info *mbi = __va(info_pa);

    bi->protocol = "multiboot1";
    if (mbi->flags & MB1_INFO_LOADER)
        strlcpy(bi->loader, phys_str(mbi->boot_loader_name), sizeof(bi->loader));
    if (mbi->flags & MB1_INFO_CMDLINE)
        copy_cmdline(bi->cmdline, phys_str(mbi->cmdline), strips_image_path(bi));
    if (mbi->flags & MB1_INFO_MMAP) {
        uint64_t p = mbi->mmap_addr, end = p + mbi->mmap_length;
        while (p + sizeof(struct mb1_mmap) <= end) {
            const struct mb1_mmap *e = __va(p);
            add_region(bi, e->base, e->length, e->type);
            p += e->size + sizeof(e->size);
        }
    }
    if (mbi->flags & MB1_INFO_MODS) {
        const struct mb1_module *m = __va(mbi->mods_addr);
        for (uint32_t i = 0; i < mbi->mods_count && i < BOOT_MAX_MODULES; i++) {
            struct boot_module *bm = &bi->modules[bi->nr_modules++];
            bm->start = m[i].start;
            bm->end = m[i].end;
            copy_cmdline(bm->cmdline, phys_str(m[i].string), strips_image_path(bi));
        }
    }
}

static void parse_mb2(uint32_t info_pa, struct boot_info *bi)
{
    uint32_t total = *(const uint32_t *)__va(info_pa);
    uint64_t p = info_pa + 8, end = info_pa + total;
    const char *cmdline = NULL;

    bi->protocol = "multiboot2";
    /* The loader name decides how command lines are read: find it first. */
    for (uint64_t q = p; q + sizeof(struct mb2_tag) <= end;) {
        const struct mb2_tag *t = __va(q);
        if (t->type == MB2_TAG_END || t->size < 8)
            break;
        if (t->type == MB2_TAG_LOADER)
            strlcpy(bi->loader, (const char *)(t + 1), sizeof(bi->loader));
        q += ALIGN_UP((uint64_t)t->size, 8);
    }
    while (p + sizeof(struct mb2_tag) <= end) {
        const struct mb2_tag *t = __va(p);
        if (t->type == MB2_TAG_END || t->size < 8)
            break;
        switch (t->type) {
        case MB2_TAG_CMDLINE:
            cmdline = (const char *)(t + 1);
            break;
        case MB2_TAG_MODULE:
            if (bi->nr_modules < BOOT_MAX_MODULES) {
                const struct mb2_module *m = (const void *)t;
                struct boot_module *bm = &bi->modules[bi->nr_modules++];
                bm->start = m->start;
                bm->end = m->end;
                copy_cmdline(bm->cmdline, m->string, strips_image_path(bi));
            }
            break;
        case MB2_TAG_MMAP: {
            const struct mb2_mmap *mm = (const void *)t;
            uint64_t e = p + sizeof(*mm);
            if (mm->entry_size < sizeof(struct mb2_mmap_entry))
                break;
            for (; e + mm->entry_size <= p + t->size; e += mm->entry_size) {
                const struct mb2_mmap_entry *me = __va(e);
                add_region(bi, me->base, me->length, me->type);
            }
            break;
        }
        case MB2_TAG_ACPI1:
        case MB2_TAG_ACPI2: {
            /* The 2.0 copy wins over the 1.0 one, whichever comes first. */
            if (bi->have_rsdp && t->type == MB2_TAG_ACPI1)
                break;
            uint32_t len = t->size > sizeof(*t) ? t->size - (uint32_t)sizeof(*t) : 0;
            if (len > BOOT_RSDP_MAX)
                len = BOOT_RSDP_MAX;
            memset(bi->rsdp, 0, sizeof(bi->rsdp));
            memcpy(bi->rsdp, t + 1, len);
            bi->have_rsdp = len >= 20;
            break;
        }
        default:
            break;
        }
        p += ALIGN_UP((uint64_t)t->size, 8);
    }
    copy_cmdline(bi->cmdline, cmdline, strips_image_path(bi));
}

void bootinfo_parse(uint32_t magic, uint32_t info_pa, struct boot_info *bi)
{
    memset(bi, 0, sizeof(*bi));
    if (magic == MB1_LOADER_MAGIC)
        parse_mb1(info_pa, bi);
    else if (magic == MB2_LOADER_MAGIC)
        parse_mb2(info_pa, bi);
    else
        panic("unknown boot loader magic 0x%x: boot through multiboot1 or multiboot2", magic);
}

/* SPDX-License-Identifier: MIT */
/*
 * MBR and GPT partition tables; see lamina/partition.h. Layouts: the MBR's
 * four 16-byte entries at byte 446 and the 0x55 0xaa signature at 510; an
 * extended partition's chain of EBRs (entry 0: a logical partition relative
 * to its EBR, entry 1: the next EBR relative to the extended partition);
 * the GPT header at LBA 1 and its entry array (UEFI 2.10 §5.3).
 */
#include <lamina/partition.h>
#include <lamina/string.h>

#define MBR_ENTRIES_AT 446
#define MBR_TYPE_GPT   0xee
#define GPT_HDR_MIN    92

struct mbr_entry {
    uint8_t boot, type;
    uint32_t start, sectors;
};

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
    return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

uint32_t part_crc32(uint32_t crc, const void *data, size_t len)
{
    const uint8_t *p = data;
    crc = ~crc;
    while (len--) {
        crc ^= *p++;
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1)));
    }
    return ~crc;
}

static struct mbr_entry mbr_entry(const uint8_t *sector, unsigned i)
{
    const uint8_t *e = sector + MBR_ENTRIES_AT + 16 * i;
    return (struct mbr_entry){ e[0], e[4], le32(e + 8), le32(e + 12) };
}

/* A boot record: the signature, and boot flags that are 0 or 0x80 (what
 * tells a partition table from other boot sectors). */
static bool mbr_valid(const uint8_t *sector)
{
    if (sector[510] != 0x55 || sector[511] != 0xaa)
        return false;
    for (unsigned i = 0; i < 4; i++) {
        uint8_t boot = sector[MBR_ENTRIES_AT + 16 * i];
        if (boot != 0 && boot != 0x80)
            return false;
    }
    return true;
}

static bool is_extended(uint8_t type) { return type == 0x05 || type == 0x0f || type == 0x85; }

/* Records partition `number` if it starts inside [lo, hi), cut at hi. */
static void add(struct part_table *t, unsigned number, uint64_t start, uint64_t sectors, uint64_t lo,
                uint64_t hi, uint8_t type)
{
    if (number < 1 || number > PART_MAX || sectors == 0 || start < lo || start >= hi ||
        t->count >= PART_MAX)
        return;
    if (sectors > hi - start)
        sectors = hi - start;
    t->part[t->count++] = (struct part_entry){ number, start, sectors, type };
}

/* Follows the EBR chain of the extended partition [ext, ext_end). */
static void scan_logical(struct part_table *t, part_read_fn read, void *ctx, uint64_t ext, uint64_t ext_end)
{
    uint8_t buf[PART_SECTOR_SIZE];
    uint64_t ebr = ext;
    unsigned number = 5;
    for (unsigned hop = 0; hop < PART_MAX_LOGICAL_HOPS && number <= PART_MAX; hop++) {
        if (read(ctx, ebr, buf) || buf[510] != 0x55 || buf[511] != 0xaa)
            return;
        struct mbr_entry data = mbr_entry(buf, 0), link = mbr_entry(buf, 1);
        if (data.type && data.sectors && !is_extended(data.type))
            add(t, number++, ebr + data.start, data.sectors, ext, ext_end, data.type);
        if (!is_extended(link.type) || !link.sectors || link.start == 0)
            return;
        uint64_t next = ext + link.start;
        if (next >= ext_end || next == ebr)
            return;
        ebr = next;
    }
}

static void scan_mbr(struct part_table *t, const uint8_t *mbr, uint64_t disk, part_read_fn read, void *ctx)
{
    uint64_t ext = 0, ext_end = 0;
    t->scheme = PART_SCHEME_MBR;
    for (unsigned i = 0; i < 4; i++) {
        struct mbr_entry e = mbr_entry(mbr, i);
        if (!e.type || !e.sectors)
            continue;
        if (!is_extended(e.type)) {
            add(t, i + 1, e.start, e.sectors, 1, disk, e.type);
        } else if (!ext && e.start && e.start < disk) {
            /* The first extended partition; logicals come after every primary. */
            ext = e.start;
            ext_end = e.sectors > disk - e.start ? disk : e.start + e.sectors;
        }
    }
    if (ext)
        scan_logical(t, read, ctx, ext, ext_end);
}

struct gpt_header {
    uint64_t first_usable, last_usable, entries_lba;
    uint32_t nr_entries, entry_size, entries_crc;
};

static bool gpt_header(const uint8_t *s, uint64_t disk, struct gpt_header *h)
{
    uint8_t copy[PART_SECTOR_SIZE];
    uint32_t size = le32(s + 12);
    if (memcmp(s, "EFI PART", 8) || size < GPT_HDR_MIN || size > PART_SECTOR_SIZE)
        return false;
    memcpy(copy, s, size);
    memset(copy + 16, 0, 4);
    if (part_crc32(0, copy, size) != le32(s + 16) || le64(s + 24) != 1)
        return false;
    *h = (struct gpt_header){ le64(s + 40), le64(s + 48), le64(s + 72), le32(s + 80), le32(s + 84), le32(s + 88) };
    if (h->first_usable > h->last_usable || h->last_usable >= disk)
        return false;
    if (h->entry_size != 128 && h->entry_size != 256 && h->entry_size != 512)
        return false;
    if (h->nr_entries == 0 || h->nr_entries > PART_GPT_MAX_ENTRIES || h->entries_lba < 2)
        return false;
    uint64_t bytes = (uint64_t)h->nr_entries * h->entry_size;
    uint64_t nsec = (bytes + PART_SECTOR_SIZE - 1) / PART_SECTOR_SIZE;
    return h->entries_lba < disk && nsec <= disk - h->entries_lba;
}

/* Entries become partitions only if the whole array's CRC matches. */
static bool scan_gpt(struct part_table *t, uint64_t disk, part_read_fn read, void *ctx)
{
    uint8_t buf[PART_SECTOR_SIZE];
    struct gpt_header h;
    if (read(ctx, 1, buf) || !gpt_header(buf, disk, &h))
        return false;
    struct part_table found = { .scheme = PART_SCHEME_GPT };
    uint64_t left = (uint64_t)h.nr_entries * h.entry_size;
    uint32_t crc = 0;
    unsigned index = 0;
    for (uint64_t lba = h.entries_lba; left; lba++) {
        if (read(ctx, lba, buf))
            return false;
        size_t n = left < PART_SECTOR_SIZE ? (size_t)left : PART_SECTOR_SIZE;
        crc = part_crc32(crc, buf, n);
        for (size_t off = 0; off + h.entry_size <= n; off += h.entry_size, index++) {
            static const uint8_t unused[16];
            const uint8_t *e = buf + off;
            uint64_t first = le64(e + 32), last = le64(e + 40);
            if (memcmp(e, unused, 16) && first <= last && last < disk)
                add(&found, index + 1, first, last - first + 1, 1, disk, 0);
        }
        left -= n;
    }
    if (crc != h.entries_crc)
        return false;
    *t = found;
    return true;
}

int part_scan(uint64_t disk_sectors, part_read_fn read, void *ctx, struct part_table *out)
{
    uint8_t mbr[PART_SECTOR_SIZE];
    *out = (struct part_table){ .scheme = PART_SCHEME_NONE };
    if (disk_sectors < 2)
        return 0;
    int rc = read(ctx, 0, mbr);
    if (rc)
        return rc;
    if (!mbr_valid(mbr))
        return 0;
    for (unsigned i = 0; i < 4; i++)
        if (mbr_entry(mbr, i).type == MBR_TYPE_GPT) {
            /* A protective MBR: the GPT or nothing (as Linux). */
            scan_gpt(out, disk_sectors, read, ctx);
            return 0;
        }
    scan_mbr(out, mbr, disk_sectors, read, ctx);
    return 0;
}

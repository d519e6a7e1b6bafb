/* SPDX-License-Identifier: MIT */
/*
 * lib/partition.c: MBR primaries and logical partitions, GPT with its CRCs,
 * Linux's numbering and clipping, and hostile tables (bad signatures, loops
 * in the EBR chain, huge or inconsistent GPT fields, read errors, random
 * bytes) that must end in a bounded scan with sane results.
 */
#include "unit.h"
#include <lamina/partition.h>
#include <stdint.h>
#include <string.h>

#define DISK_SECTORS 4096u

static uint8_t disk[DISK_SECTORS][PART_SECTOR_SIZE];
static uint64_t disk_size;          /* what the scan is told */
static uint64_t fail_lba;           /* a read of this sector fails (~0: none) */
static unsigned reads;

static int read_sector(void *ctx, uint64_t lba, uint8_t buf[PART_SECTOR_SIZE])
{
    ck_assert_ptr_eq(ctx, disk);
    reads++;
    FAST_ASSERT_MSG(lba < disk_size, "read of sector %lu beyond the disk", (unsigned long)lba);
    if (lba == fail_lba)
        return -5;
    if (lba >= DISK_SECTORS)
        memset(buf, 0, PART_SECTOR_SIZE);
    else
        memcpy(buf, disk[lba], PART_SECTOR_SIZE);
    return 0;
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)v);
    put32(p + 4, (uint32_t)(v >> 32));
}

static void setup(void)
{
    memset(disk, 0, sizeof(disk));
    disk_size = DISK_SECTORS;
    fail_lba = ~0ull;
    reads = 0;
}

/* Entry i of the boot record in sector `lba`, and its signature. */
static void mbr_set(uint64_t lba, unsigned i, uint8_t type, uint32_t start, uint32_t sectors)
{
    uint8_t *e = disk[lba] + 446 + 16 * i;
    e[0] = 0;
    e[4] = type;
    put32(e + 8, start);
    put32(e + 12, sectors);
    disk[lba][510] = 0x55;
    disk[lba][511] = 0xaa;
}

static struct part_table scan(void)
{
    struct part_table t;
    memset(&t, 0xa5, sizeof(t));
    ck_assert_int_eq(part_scan(disk_size, read_sector, disk, &t), 0);
    return t;
}

#define ASSERT_PART(t, i, num, st, n)                                                              \
    do {                                                                                           \
        ck_assert_uint_gt((t).count, (i));                                                         \
        ck_assert_uint_eq((t).part[i].number, (num));                                              \
        ck_assert_uint_eq((t).part[i].start, (st));                                                \
        ck_assert_uint_eq((t).part[i].sectors, (n));                                               \
    } while (0)

START_TEST(crc32_reference_value)
{
    ck_assert_uint_eq(part_crc32(0, "123456789", 9), 0xcbf43926u);
    ck_assert_uint_eq(part_crc32(part_crc32(0, "1234", 4), "56789", 5), 0xcbf43926u);
    ck_assert_uint_eq(part_crc32(0, "", 0), 0);
}
END_TEST

START_TEST(mbr_primaries_numbered_by_slot)
{
    mbr_set(0, 0, 0x83, 2048, 1000);
    mbr_set(0, 2, 0x0c, 3048, 500);
    mbr_set(0, 3, 0x83, 3548, 100);
    disk[0][446] = 0x80;                     /* bootable: still a table */
    struct part_table t = scan();
    ck_assert_int_eq(t.scheme, PART_SCHEME_MBR);
    ck_assert_uint_eq(t.count, 3);
    ASSERT_PART(t, 0, 1, 2048, 1000);
    ASSERT_PART(t, 1, 3, 3048, 500);
    ASSERT_PART(t, 2, 4, 3548, 100);
    ck_assert_uint_eq(t.part[1].mbr_type, 0x0c);
}
END_TEST

START_TEST(no_table)
{
    struct part_table t = scan();           /* all zero: no signature */
    ck_assert_int_eq(t.scheme, PART_SCHEME_NONE);
    ck_assert_uint_eq(t.count, 0);
    mbr_set(0, 0, 0x83, 2048, 1000);
    disk[0][446 + 16] = 0x12;                /* a boot flag no table has */
    t = scan();
    ck_assert_int_eq(t.scheme, PART_SCHEME_NONE);
    ck_assert_uint_eq(t.count, 0);
    disk[0][446 + 16] = 0;
    disk_size = 1;
    reads = 0;
    t = scan();
    ck_assert_uint_eq(t.count, 0);
    ck_assert_uint_eq(reads, 0);
}
END_TEST

START_TEST(mbr_entries_clipped_to_the_disk)
{
    mbr_set(0, 0, 0x83, 4000, 1000);         /* ends beyond: cut */
    mbr_set(0, 1, 0x83, 4096, 10);           /* starts at the end: dropped */
    mbr_set(0, 2, 0x83, 0, 10);              /* covers the MBR: dropped */
    mbr_set(0, 3, 0x83, 0xffffffffu, 0xffffffffu);
    struct part_table t = scan();
    ck_assert_uint_eq(t.count, 1);
    ASSERT_PART(t, 0, 1, 4000, 96);
    mbr_set(0, 1, 0x83, 100, 0);             /* empty */
    mbr_set(0, 2, 0x00, 200, 10);            /* unused type */
    t = scan();
    ck_assert_uint_eq(t.count, 1);
}
END_TEST

START_TEST(logical_partitions_follow_the_chain)
{
    mbr_set(0, 0, 0x83, 64, 100);
    mbr_set(0, 1, 0x05, 1000, 2000);         /* extended: [1000, 3000) */
    mbr_set(0, 2, 0x83, 3000, 50);
    /* EBR at 1000: logical at 1000+10, next EBR at 1000+500. */
    mbr_set(1000, 0, 0x83, 10, 200);
    mbr_set(1000, 1, 0x05, 500, 300);
    mbr_set(1500, 0, 0x82, 1, 100);
    mbr_set(1500, 1, 0x05, 1200, 900);
    mbr_set(2200, 0, 0x83, 20, 5000);        /* ends beyond the extended one: cut */
    struct part_table t = scan();
    ck_assert_uint_eq(t.count, 5);                 /* in number order */
    ASSERT_PART(t, 0, 1, 64, 100);
    ASSERT_PART(t, 1, 3, 3000, 50);
    ASSERT_PART(t, 2, 5, 1010, 200);
    ASSERT_PART(t, 3, 6, 1501, 100);
    ASSERT_PART(t, 4, 7, 2220, 780);
    ck_assert_uint_eq(t.part[3].mbr_type, 0x82);
}
END_TEST

START_TEST(hostile_ebr_chains_end)
{
    mbr_set(0, 0, 0x0f, 100, 3000);
    /* An EBR whose link points to itself. */
    mbr_set(100, 0, 0x83, 1, 10);
    mbr_set(100, 1, 0x05, 0, 10);
    struct part_table t = scan();
    ck_assert_uint_eq(t.count, 1);
    ASSERT_PART(t, 0, 5, 101, 10);
    /* Two EBRs pointing at each other: bounded, numbers stop at 15. */
    mbr_set(100, 1, 0x05, 50, 10);
    mbr_set(150, 0, 0x83, 1, 10);
    mbr_set(150, 1, 0x05, 1, 10);            /* back to 101 -> 100+1 ... */
    mbr_set(101, 0, 0x83, 1, 10);
    mbr_set(101, 1, 0x05, 50, 10);
    reads = 0;
    t = scan();
    ck_assert_uint_le(reads, 1 + PART_MAX_LOGICAL_HOPS);
    ck_assert_uint_le(t.count, PART_MAX);
    for (unsigned i = 0; i < t.count; i++)
        ck_assert_uint_le(t.part[i].number, PART_MAX);
    /* A link outside the extended partition is not followed. */
    setup();
    mbr_set(0, 0, 0x05, 100, 100);
    mbr_set(100, 0, 0x83, 1, 10);
    mbr_set(100, 1, 0x05, 100, 10);          /* 200: the extended one's end */
    mbr_set(200, 0, 0x83, 1, 10);
    t = scan();
    ck_assert_uint_eq(t.count, 1);
    /* A long chain: only 5..15 are reported. */
    setup();
    mbr_set(0, 0, 0x05, 100, 3000);
    for (unsigned i = 0; i < 20; i++) {
        mbr_set(100 + 10 * i, 0, 0x83, 1, 5);
        mbr_set(100 + 10 * i, 1, 0x05, 10 * (i + 1), 10);
    }
    t = scan();
    ck_assert_uint_eq(t.count, PART_MAX - 4);
    ASSERT_PART(t, PART_MAX - 5, PART_MAX, 100 + 10 * (PART_MAX - 5) + 1, 5);
}
END_TEST

/* ---- GPT ---- */

struct gpt_layout {
    uint32_t header_size, nr_entries, entry_size;
    uint64_t my_lba, first_usable, last_usable, entries_lba;
};

static struct gpt_layout gpt_default(void)
{
    return (struct gpt_layout){ 92, 128, 128, 1, 34, DISK_SECTORS - 34, 2 };
}

static uint8_t *gpt_entry(const struct gpt_layout *g, unsigned i)
{
    return &disk[g->entries_lba][0] + (size_t)i * g->entry_size;
}

static void gpt_add(const struct gpt_layout *g, unsigned i, uint64_t first, uint64_t last)
{
    uint8_t *e = gpt_entry(g, i);
    memset(e, 0, g->entry_size);
    e[0] = 0xaf;                              /* any non-zero type GUID */
    e[15] = (uint8_t)i;
    put64(e + 32, first);
    put64(e + 40, last);
}

/* Writes the protective MBR and the header, with both CRCs right. */
static void gpt_seal(const struct gpt_layout *g)
{
    mbr_set(0, 0, 0xee, 1, DISK_SECTORS - 1);
    uint8_t *h = disk[1];
    memset(h, 0, PART_SECTOR_SIZE);
    memcpy(h, "EFI PART", 8);
    put32(h + 8, 0x00010000);
    put32(h + 12, g->header_size);
    put64(h + 24, g->my_lba);
    put64(h + 32, DISK_SECTORS - 1);
    put64(h + 40, g->first_usable);
    put64(h + 48, g->last_usable);
    put64(h + 72, g->entries_lba);
    put32(h + 80, g->nr_entries);
    put32(h + 84, g->entry_size);
    size_t bytes = (size_t)g->nr_entries * g->entry_size;
    if (g->entries_lba < DISK_SECTORS && bytes <= (DISK_SECTORS - g->entries_lba) * PART_SECTOR_SIZE)
        put32(h + 88, part_crc32(0, disk[g->entries_lba], bytes));
    if (g->header_size <= PART_SECTOR_SIZE)
        put32(h + 16, part_crc32(0, h, g->header_size));
}

START_TEST(gpt_partitions_by_entry_index)
{
    struct gpt_layout g = gpt_default();
    gpt_add(&g, 0, 2048, 3071);
    gpt_add(&g, 2, 3072, 4000);
    gpt_add(&g, 3, 100, 50);                 /* first > last: dropped */
    gpt_add(&g, 4, 4000, 4096);              /* beyond the disk: dropped */
    gpt_add(&g, 20, 40, 60);                 /* number 21: not reported */
    gpt_seal(&g);
    struct part_table t = scan();
    ck_assert_int_eq(t.scheme, PART_SCHEME_GPT);
    ck_assert_uint_eq(t.count, 2);
    ASSERT_PART(t, 0, 1, 2048, 1024);
    ASSERT_PART(t, 1, 3, 3072, 929);
    /* Larger entries work too. */
    setup();
    g.entry_size = 256;
    g.nr_entries = 16;
    gpt_add(&g, 1, 100, 199);
    gpt_seal(&g);
    t = scan();
    ck_assert_uint_eq(t.count, 1);
    ASSERT_PART(t, 0, 2, 100, 100);
}
END_TEST

/* Every broken header or array gives no partitions at all. */
START_TEST(hostile_gpt_rejected)
{
    for (int variant = 0; variant < 12; variant++) {
        setup();
        struct gpt_layout g = gpt_default();
        gpt_add(&g, 0, 2048, 3071);
        switch (variant) {
        case 0: g.header_size = 91; break;
        case 1: g.header_size = 513; break;
        case 2: g.my_lba = 2; break;
        case 3: g.entry_size = 100; break;
        case 4: g.nr_entries = 0; break;
        case 5: g.nr_entries = 0x7fffffff; break;
        case 6: g.entries_lba = DISK_SECTORS; break;
        case 7: g.entries_lba = 1; break;
        case 8: g.last_usable = DISK_SECTORS; break;
        case 9: g.first_usable = g.last_usable + 1; break;
        case 10: g.nr_entries = 1024; g.entry_size = 512; g.entries_lba = DISK_SECTORS - 100; break;
        default: break;
        }
        gpt_seal(&g);
        if (variant == 11)
            disk[2][40] ^= 1;                 /* entry array changed after its CRC */
        struct part_table t = scan();
        ck_assert_msg(t.count == 0, "variant %d: %u partitions", variant, t.count);
        ck_assert_uint_le(reads, 2 + 1024);
    }
    /* A broken header CRC; a failed entry read. */
    setup();
    struct gpt_layout g = gpt_default();
    gpt_add(&g, 0, 2048, 3071);
    gpt_seal(&g);
    disk[1][20] ^= 1;
    ck_assert_uint_eq(scan().count, 0);
    disk[1][20] ^= 1;
    ck_assert_uint_eq(scan().count, 1);
    fail_lba = 5;
    ck_assert_uint_eq(scan().count, 0);
}
END_TEST

START_TEST(read_error_on_sector_zero)
{
    struct part_table t;
    fail_lba = 0;
    ck_assert_int_eq(part_scan(disk_size, read_sector, disk, &t), -5);
    ck_assert_uint_eq(t.count, 0);
    /* Errors further on only end that part of the scan. */
    setup();
    mbr_set(0, 0, 0x83, 64, 100);
    mbr_set(0, 1, 0x05, 1000, 100);
    fail_lba = 1000;
    t = scan();
    ck_assert_uint_eq(t.count, 1);
}
END_TEST

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)rng;
}

/* Random tables: bounded reads, results inside the disk, numbers rising. */
START_TEST(random_tables_stay_sane)
{
    for (unsigned round = 0; round < 3000; round++) {
        setup();
        disk_size = 1 + rnd() % DISK_SECTORS;
        for (unsigned s = 0; s < 4; s++)
            for (unsigned b = 0; b < PART_SECTOR_SIZE; b++)
                disk[s][b] = (uint8_t)rnd();
        /* Small numbers so that entries often point inside the disk. */
        for (unsigned i = 0; i < 4; i++) {
            static const uint8_t types[] = { 0x83, 0x05, 0x0f, 0xee, 0x00, 0x85 };
            if (rnd() % 2)
                mbr_set(0, i, types[rnd() % 6], rnd() % 5000, rnd() % 5000);
        }
        disk[0][510] = 0x55;
        disk[0][511] = 0xaa;
        if (rnd() % 3 == 0)
            memcpy(disk[1], "EFI PART", 8);
        struct part_table t = scan();
        FAST_ASSERT(t.count <= PART_MAX);
        FAST_ASSERT(reads <= 2 + PART_MAX_LOGICAL_HOPS + 1024);
        unsigned last = 0;
        for (unsigned i = 0; i < t.count; i++) {
            const struct part_entry *p = &t.part[i];
            FAST_ASSERT_MSG(p->number > last && p->number <= PART_MAX, "round %u: number %u after %u",
                            round, p->number, last);
            FAST_ASSERT(p->sectors > 0 && p->start >= 1 && p->start < disk_size);
            FAST_ASSERT(p->sectors <= disk_size - p->start);
            last = p->number;
        }
    }
}
END_TEST

static Suite *partition_suite(void)
{
    Suite *s = suite_create("partition");
    TCase *tc = tcase_create("tables");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, crc32_reference_value);
    tcase_add_test(tc, mbr_primaries_numbered_by_slot);
    tcase_add_test(tc, no_table);
    tcase_add_test(tc, mbr_entries_clipped_to_the_disk);
    tcase_add_test(tc, logical_partitions_follow_the_chain);
    tcase_add_test(tc, hostile_ebr_chains_end);
    tcase_add_test(tc, gpt_partitions_by_entry_index);
    tcase_add_test(tc, hostile_gpt_rejected);
    tcase_add_test(tc, read_error_on_sector_zero);
    tcase_add_test(tc, random_tables_stay_sane);
    suite_add_tcase(s, tc);
    return s;
}

UNIT_MAIN(partition_suite)

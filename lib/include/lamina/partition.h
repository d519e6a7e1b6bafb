/* SPDX-License-Identifier: MIT */
/*
 * Partition tables of a disk with 512-byte sectors: MBR (primary entries and
 * the logical partitions of an extended one) and GPT (the primary header and
 * entry array, both CRC-checked). Pure code: the caller supplies a sector
 * reader, so it runs unchanged on the host under the unit tests. Every byte of
 * the disk is untrusted; the scan is bounded whatever the tables say.
 *
 * Numbering follows Linux: MBR primaries are 1-4 by slot, logical partitions
 * 5 and up in chain order; GPT partitions are their entry index + 1. Only
 * numbers 1..PART_MAX are reported. A partition that starts beyond the disk
 * is dropped, one that ends beyond it is cut at the disk's end (as Linux
 * does); the extended container itself is not reported.
 */
#ifndef LAMINA_PARTITION_H
#define LAMINA_PARTITION_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PART_SECTOR_SIZE 512
#define PART_MAX 15                 /* vda1..vda15 */
#define PART_MAX_LOGICAL_HOPS 64    /* EBRs followed before giving up */
#define PART_GPT_MAX_ENTRIES 1024

enum part_scheme { PART_SCHEME_NONE, PART_SCHEME_MBR, PART_SCHEME_GPT };

struct part_entry {
    unsigned number;        /* 1..PART_MAX */
    uint64_t start;         /* first sector */
    uint64_t sectors;       /* > 0 */
    uint8_t mbr_type;       /* MBR system id; 0 for GPT */
};

struct part_table {
    enum part_scheme scheme;
    unsigned count;                       /* entries used, in number order */
    struct part_entry part[PART_MAX];
};

/* Reads one sector into buf; returns 0 or a negative error. */
typedef int (*part_read_fn)(void *ctx, uint64_t lba, uint8_t buf[PART_SECTOR_SIZE]);

/* Fills `out`. Returns 0 (a disk without a recognised table has scheme NONE
 * and no partitions) or the reader's error for sector 0. Errors on later
 * sectors end that part of the scan only. */
int part_scan(uint64_t disk_sectors, part_read_fn read, void *ctx, struct part_table *out);

/* CRC-32 (IEEE 802.3, as GPT uses), continuing from `crc` (start with 0). */
uint32_t part_crc32(uint32_t crc, const void *data, size_t len);

#endif

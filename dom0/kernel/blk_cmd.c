/* SPDX-License-Identifier: MIT */
/*
 * Shell commands for PCI devices and disks: lspci, lsblk, and blk to read,
 * write and flush sector ranges (for users and the integration tests).
 */
#include <lamina/cmdline.h>
#include <lamina/partition.h>
#include <lamina/string.h>
#include <guest/runtime.h>
#include "blk_cmd.h"
#include "blkdev.h"
#include "console.h"
#include "pci.h"

#define BLK_CMD_MAX_SECTORS 256

static uint8_t buf[BLK_CMD_MAX_SECTORS * BLKDEV_SECTOR_SIZE] __attribute__((aligned(PAGE_SIZE)));

static const char *err_name(long rc)
{
    switch (-rc) {
    case XEN_EINVAL: return "EINVAL";
    case XEN_ERANGE: return "ERANGE: beyond the end of the device";
    case XEN_EROFS: return "EROFS: read-only device";
    case XEN_EFAULT: return "EFAULT";
    case XEN_EIO: return "EIO";
    case XEN_ETIMEDOUT: return "ETIMEDOUT";
    case XEN_EOPNOTSUPP: return "EOPNOTSUPP";
    default: return "error";
    }
}

void cmd_lspci(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    for (unsigned i = 0; i < pci_count(); i++) {
        const struct pci_dev *d = pci_get(i);
        con_printf("%02x:%02x.%u %04x:%04x class %02x%02x%02x\n", d->bus, d->dev, d->fn, d->vendor, d->device,
                   d->class, d->subclass, d->prog_if);
    }
}

void cmd_lsblk(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    con_printf("NAME      SECTORS       SIZE  RO TYPE      START\n");
    for (unsigned i = 0; blkdev_at(i); i++) {
        const struct blkdev *b = blkdev_at(i);
        uint64_t kib = blkdev_sectors(b) / 2;
        con_printf("%-6s %10lu %8lu.%lu%s %3u %-4s %10lu\n", blkdev_name(b), blkdev_sectors(b),
                   kib >= 1024 ? kib / 1024 : kib, (kib >= 1024 ? kib % 1024 : 0) * 10 / 1024,
                   kib >= 1024 ? "M" : "K", blkdev_read_only(b) ? 1u : 0u,
                   blkdev_is_partition(b) ? "part" : "disk", blkdev_start(b));
    }
}

static void usage(void)
{
    con_printf("usage: blk read DEV SECTOR [COUNT]\n"
               "       blk write DEV SECTOR COUNT TEXT   (TEXT repeated over the sectors)\n"
               "       blk flush DEV\n"
               "DEV: vda, /dev/vda1, ...; COUNT: 1..%u sectors of 512 bytes\n",
               BLK_CMD_MAX_SECTORS);
}

static bool parse_count(const char *s, uint64_t *count)
{
    return !parse_u64(s, count) && *count >= 1 && *count <= BLK_CMD_MAX_SECTORS;
}

/* Shows what was read: a CRC of it all and the first bytes as text. */
static void show(uint64_t count)
{
    char text[49];
    size_t len = count * BLKDEV_SECTOR_SIZE;
    for (unsigned i = 0; i < sizeof(text) - 1; i++)
        text[i] = (char)(buf[i] >= 0x20 && buf[i] < 0x7f ? buf[i] : '.');
    text[sizeof(text) - 1] = '\0';
    con_printf("blk: crc32 %08x first bytes '%s'\n", part_crc32(0, buf, len), text);
}

void cmd_blk(int argc, char **argv)
{
    uint64_t sector = 0, count = 1;
    if (argc < 3) {
        usage();
        return;
    }
    struct blkdev *b = blkdev_lookup(argv[2]);
    if (!b) {
        con_printf("blk: %s: no such device\n", argv[2]);
        return;
    }
    long rc;
    if (!strcmp(argv[1], "flush") && argc == 3) {
        rc = blkdev_flush(b);
        if (!rc)
            con_printf("blk: %s flushed%s\n", blkdev_name(b), blkdev_has_flush(b) ? "" : " (write-through)");
    } else if (!strcmp(argv[1], "read") && (argc == 4 || argc == 5)) {
        if (parse_u64(argv[3], &sector) || (argc == 5 && !parse_count(argv[4], &count))) {
            usage();
            return;
        }
        rc = blkdev_read(b, sector, count, buf);
        if (!rc) {
            con_printf("blk: read %lu sectors at %lu of %s\n", count, sector, blkdev_name(b));
            show(count);
        }
    } else if (!strcmp(argv[1], "write") && argc == 6) {
        size_t tlen = strlen(argv[5]);
        if (parse_u64(argv[3], &sector) || !parse_count(argv[4], &count) || tlen == 0) {
            usage();
            return;
        }
        for (size_t i = 0; i < count * BLKDEV_SECTOR_SIZE; i++)
            buf[i] = (uint8_t)argv[5][i % tlen];
        rc = blkdev_write(b, sector, count, buf);
        if (!rc)
            con_printf("blk: wrote %lu sectors at %lu of %s\n", count, sector, blkdev_name(b));
    } else {
        usage();
        return;
    }
    if (rc)
        con_printf("blk: %s: %s (%ld)\n", blkdev_name(b), err_name(rc), rc);
}

#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Creates a raw disk image with an MBR partition table (no external tools).

usage: mkdisk.py IMAGE SIZE_MIB [TYPE:START:SECTORS ...]

Each partition is an MBR primary entry (TYPE in hex, START and SECTORS in
512-byte sectors). Without partitions: two Linux (0x83) partitions, the
first 1 MiB .. half, the second the rest. An existing IMAGE is replaced.
"""
import struct
import sys


def mbr(parts):
    table = bytearray(512)
    for i, (ptype, start, sectors) in enumerate(parts):
        # Boot flag, CHS (unused: 0xfe 0xff 0xff "beyond CHS"), type, CHS, LBA start, count.
        table[446 + 16 * i:446 + 16 * (i + 1)] = struct.pack(
            "<B3sB3sII", 0, b"\xfe\xff\xff", ptype, b"\xfe\xff\xff", start, sectors)
    table[510:512] = b"\x55\xaa"
    return bytes(table)


def default_parts(total):
    half = total // 2
    return [(0x83, 2048, half - 2048), (0x83, half, total - half)]


def make(path, size_mib, parts=None):
    total = size_mib * 2048
    parts = default_parts(total) if parts is None else parts
    if len(parts) > 4:
        raise ValueError("at most 4 primary partitions")
    with open(path, "wb") as f:
        f.truncate(total * 512)
        f.write(mbr(parts))


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    parts = None
    if len(argv) > 3:
        parts = []
        for spec in argv[3:]:
            t, s, n = spec.split(":")
            parts.append((int(t, 16), int(s), int(n)))
    make(argv[1], int(argv[2]), parts)


if __name__ == "__main__":
    main(sys.argv)

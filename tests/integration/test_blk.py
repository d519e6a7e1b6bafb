# SPDX-License-Identifier: MIT
"""dom0 drives QEMU's modern virtio-blk disks (docs/virtio-blk.md, docs/pci.md).

dom0 finds the PCI functions, names the disks vda, vdb, ... with their MBR
partitions (primary and logical), reads and writes sectors, refuses access
beyond the end of a device; what it wrote is in the image file on the host
and is read back by a second boot of the same image.
"""
import importlib.util
import re
import struct
import zlib

import pytest

from conftest import HV_PANIC, REPO, dom0_session

_spec = importlib.util.spec_from_file_location("mkdisk", REPO / "tools" / "mkdisk.py")
mkdisk = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(mkdisk)

SECTOR = 512
# Disk 0: 64 MiB, vda1 = [2048, 65536), vda2 = [65536, 131072).
D0_SECTORS = 64 * 2048
# Disk 1: 16 MiB, vdb1 primary, vdb2 extended with two logicals vdb5, vdb6.
D1_SECTORS = 16 * 2048
PATTERN = "LaminaPersist-"


def ebr(data_start, data_sectors, next_rel=0, next_sectors=0):
    e = bytearray(512)
    e[446:462] = struct.pack("<B3sB3sII", 0, b"\xfe\xff\xff", 0x83, b"\xfe\xff\xff", data_start, data_sectors)
    if next_sectors:
        e[462:478] = struct.pack("<B3sB3sII", 0, b"\xfe\xff\xff", 0x05, b"\xfe\xff\xff", next_rel, next_sectors)
    e[510:512] = b"\x55\xaa"
    return bytes(e)


@pytest.fixture(scope="module")
def disks(tmp_path_factory):
    d = tmp_path_factory.mktemp("disks")
    d0, d1, d2 = d / "d0.img", d / "d1.img", d / "ro.img"
    mkdisk.make(str(d0), 64)
    mkdisk.make(str(d1), 16, [(0x83, 64, 1000), (0x05, 4096, 8192)])
    with open(d1, "r+b") as f:
        f.seek(4096 * SECTOR)
        f.write(ebr(32, 1000, 2048, 4096))          # vdb5 = [4128, 5128)
        f.seek((4096 + 2048) * SECTOR)
        f.write(ebr(16, 100))                       # vdb6 = [6160, 6260)
    mkdisk.make(str(d2), 4, [])
    return d0, d1, d2


def qemu_disks(d0, d1, d2):
    args = []
    for i, (img, extra) in enumerate(((d0, ""), (d1, ""), (d2, ",readonly=on"))):
        args += ["-drive", f"file={img},if=none,id=d{i},format=raw{extra}",
                 "-device", f"virtio-blk-pci,drive=d{i},disable-legacy=on"]
    return tuple(args)


LSBLK_ROW = re.compile(r"^(vd[a-z]\d*) +(\d+) +[\d.]+[KM] +([01]) (disk|part) +(\d+)$", re.M)


def lsblk(s):
    out = s.command("lsblk")
    return {m.group(1): (int(m.group(2)), int(m.group(5)), m.group(4), m.group(3) == "1")
            for m in LSBLK_ROW.finditer(out)}


def crc_line(out):
    m = re.search(r"^blk: crc32 ([0-9a-f]{8}) first bytes '(.*)'$", out, re.M)
    assert m, out
    return int(m.group(1), 16), m.group(2)


def expected_pattern(sectors):
    data = (PATTERN * (sectors * SECTOR // len(PATTERN) + 1)).encode()[:sectors * SECTOR]
    return data, zlib.crc32(data)


def test_disks_found_written_and_persistent(disks):
    d0, d1, d2 = disks
    data, crc = expected_pattern(3)
    s = dom0_session(qemu_args=qemu_disks(d0, d1, d2))
    try:
        assert re.search(r"^dom0: \d+ PCI functions, 3 disks$", s.output, re.M), s.describe()
        out = s.command("lspci")
        assert len(re.findall(r"^\w\w:\w\w\.\d 1af4:1042 class 010000$", out, re.M)) == 3, s.describe()

        devs = lsblk(s)
        assert devs == {
            "vda": (D0_SECTORS, 0, "disk", False),
            "vda1": (65536 - 2048, 2048, "part", False),
            "vda2": (65536, 65536, "part", False),
            "vdb": (D1_SECTORS, 0, "disk", False),
            "vdb1": (1000, 64, "part", False),
            "vdb5": (1000, 4128, "part", False),
            "vdb6": (100, 6160, "part", False),
            "vdc": (4 * 2048, 0, "disk", True),
        }, s.describe()

        out = s.command(f"blk write /dev/vda1 10 3 {PATTERN}")
        assert "blk: wrote 3 sectors at 10 of vda1" in out, s.describe()
        out = s.command("blk read vda1 10 3")
        assert crc_line(out) == (crc, data[:48].decode()), s.describe()
        # The same sectors through the disk: the partition offset is applied.
        out = s.command(f"blk read vda {2048 + 10} 3")
        assert crc_line(out)[0] == crc, s.describe()
        out = s.command("blk write vdb5 999 1 logical")
        assert "blk: wrote 1 sectors" in out, s.describe()
        out = s.command("blk flush vda")
        assert "blk: vda flushed" in out, s.describe()

        # Beyond the end of a partition or disk: refused before the disk sees it.
        last = 65536 - 2048
        for cmd in (f"blk read vda1 {last} 1", f"blk write vda1 {last - 1} 2 overflow",
                    f"blk read vda {D0_SECTORS} 1", f"blk read vdb6 100 1",
                    "blk write vdb6 18446744073709551615 2 wrap"):
            out = s.command(cmd)
            assert "ERANGE: beyond the end of the device (-34)" in out, cmd + "\n" + s.describe()
        out = s.command("blk write vdc 0 1 nope")
        assert "EROFS: read-only device (-30)" in out, s.describe()
        out = s.command("blk read vdz 0")
        assert "blk: vdz: no such device" in out, s.describe()
        s.send("poweroff\n")
        assert s.finish(timeout=60) == 0, s.describe()
        assert not HV_PANIC.search(s.output), s.describe()
    finally:
        s.close()

    # The host sees exactly what dom0 wrote, and nothing beyond the partitions.
    img = d0.read_bytes()
    at = (2048 + 10) * SECTOR
    assert img[at:at + 3 * SECTOR] == data
    assert img[at + 3 * SECTOR:at + 4 * SECTOR] == bytes(SECTOR)
    assert img[65536 * SECTOR:65537 * SECTOR] == bytes(SECTOR), "the write beyond vda1 reached vda2"
    img1 = d1.read_bytes()
    at = (4128 + 999) * SECTOR
    assert img1[at:at + 7] == b"logical"
    assert d2.read_bytes()[:510] == bytes(510), "the read-only disk was written"

    # A second machine boot of the same image reads it back.
    s = dom0_session(qemu_args=qemu_disks(d0, d1, d2))
    try:
        out = s.command("blk read vda1 10 3")
        assert crc_line(out) == (crc, data[:48].decode()), s.describe()
        out = s.command("blk read vdb 5127 1")
        assert crc_line(out)[1].startswith("logicallogical"), s.describe()
        s.send("poweroff\n")
        assert s.finish(timeout=60) == 0, s.describe()
    finally:
        s.close()


def test_no_disks_and_transitional_device(disks):
    """Without disks dom0 boots as before; a transitional virtio-blk (the
    default on q35's root bus) is driven through its modern interface."""
    d0, _, _ = disks
    s = dom0_session(qemu_args=("-drive", f"file={d0},if=none,id=t0,format=raw,readonly=on",
                                "-device", "virtio-blk-pci,drive=t0"))
    try:
        out = s.command("lspci")
        assert re.search(r"^\w\w:\w\w\.\d 1af4:1001 ", out, re.M), s.describe()
        devs = lsblk(s)
        assert devs["vda"] == (D0_SECTORS, 0, "disk", True), s.describe()
        assert set(devs) == {"vda", "vda1", "vda2"}, s.describe()
    finally:
        s.close()
    s = dom0_session()
    try:
        assert re.search(r"^dom0: \d+ PCI functions, 0 disks$", s.output, re.M), s.describe()
        out = s.command("lsblk")
        assert not LSBLK_ROW.search(out), s.describe()
        out = s.command("blk read vda 0")
        assert "blk: vda: no such device" in out, s.describe()
    finally:
        s.close()

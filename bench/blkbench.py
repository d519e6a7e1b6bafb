#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Block I/O, domU versus native: guests/debian/blkbench.c on a domU's xvda
on Lamina and on the same Debian kernel's virtio-blk vda under plain QEMU.

The domU's xvda is `phy:/dev/vda` (/etc/xen/blkbench.cfg): dom0's virtio
disk, so a request goes xen-blkfront -> dom0's block backend -> dom0's
virtio-blk driver -> QEMU. Natively the kernel drives the same kind of
virtio-blk device itself. Both disks are a fresh, fully written raw host
image of the same size, attached with the same QEMU flags (`-accel tcg
-machine q35 -cpu max -m 2048`, virtio-blk-pci, disable-legacy=on,
cache=writeback).

In each boot blkbench does --rounds rounds of: sequential 1 MiB O_DIRECT
writes then reads over the disk's first 32 MiB, passes for 2 s each
(MiB/s), random 4 KiB O_DIRECT writes then reads anywhere on the 64 MiB disk
for 3 s each (IOPS and mean latency in us), one request at a time.
Native and domU boots alternate; the table gives the median over all rounds
of each side and the domU/native ratio. It measures; it asserts nothing
about the numbers.
"""
import argparse
import os
import re
import subprocess

from pvbench import Qemu, debian_dir, lamina_args, ratio_table

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIELDS = ["seq_write_mibs", "seq_read_mibs", "rand_write_iops", "rand_write_lat_us",
          "rand_read_iops", "rand_read_lat_us"]
# Up to `end`, so a line that has only partly arrived never matches.
LINE = re.compile(r"BLKBENCH label=(\S+) round=(\d+) " + " ".join(f + r"=([\d.]+)" for f in FIELDS) + " end")
DONE = r"BLKBENCH done|BLKBENCH FAILED.*|cannot create domain.*|LAMINA-INIT: no /dev/\S+"
DISK_MB = 64


def disk_args(img):
    """A fresh raw image, every block written (no holes), as a virtio disk."""
    subprocess.run(["dd", "if=/dev/zero", "of=" + img, "bs=1M", "count=%d" % DISK_MB, "status=none"], check=True)
    return ["-drive", "file=%s,if=none,id=bench,format=raw,cache=writeback" % img,
            "-device", "virtio-blk-pci,drive=bench,disable-legacy=on"]


def results(q, timeout):
    """The rounds' measurements, once blkbench says it is done."""
    m = q.wait_for(DONE, timeout)
    if m.group(0) != b"BLKBENCH done":
        raise RuntimeError(m.group(0).decode(errors="replace"))
    rounds = [LINE.search(l) for l in q.out.decode(errors="replace").splitlines()]
    return [{f: float(r.group(i + 3)) for i, f in enumerate(FIELDS)} for r in rounds if r]


def run_native(debian, img, rounds, timeout):
    q = Qemu(["-kernel", os.path.join(debian, "vmlinuz"), "-initrd", os.path.join(debian, "initramfs.cpio.gz"),
              "-append", "console=ttyS0 quiet lamina.test=blkbench label=native rounds=%d" % rounds]
             + disk_args(img))
    try:
        return results(q, timeout)
    finally:
        q.close()


def run_domu(build, img, rounds, timeout):
    q = Qemu(lamina_args(build) + disk_args(img))
    try:
        q.wait_for(r"dom0# ", timeout)
        q.send("xl create /etc/xen/blkbench.cfg extra='console=hvc0 quiet lamina.test=blkbench "
               "label=lamina rounds=%d'\n" % rounds)
        return results(q, timeout)
    finally:
        q.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--boots", type=int, default=1, help="boots of each kind (alternating)")
    ap.add_argument("--rounds", type=int, default=3, help="measurement rounds in each boot")
    ap.add_argument("--build", default=os.path.join(ROOT, "build", "release"))
    ap.add_argument("--native-only", action="store_true")
    ap.add_argument("--timeout", type=int, default=900)
    args = ap.parse_args()
    debian = debian_dir(args.build)
    img = os.path.join(args.build, "blkbench.img")
    native, domu = [], []
    try:
        for i in range(args.boots):
            native += run_native(debian, img, args.rounds, args.timeout)
            print("native boot %d: %s" % (i + 1, native[-args.rounds:]), flush=True)
            if not args.native_only:
                domu += run_domu(args.build, img, args.rounds, args.timeout)
                print("domU   boot %d: %s" % (i + 1, domu[-args.rounds:]), flush=True)
    finally:
        if os.path.exists(img):
            os.unlink(img)
    ratio_table(FIELDS, native, domu)
    print("(ratio = domU median / native median: below 1 is slower for MiB/s and IOPS, above 1 is slower for latency)")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Boot time of Lamina under QEMU: from starting QEMU to dom0's shell prompt.

Runs N boots (default 5) of the hypervisor with dom0, through QEMU's direct
-kernel loader and (with --iso) through GRUB's multiboot2 ISO, and prints
min / median / max in milliseconds. A benchmark, not a test: it asserts
nothing about the numbers. Compare with Xen's figures in
../shared/bench/README.md (QEMU start to dom0's init: 8.5 / 8.7 / 9.6 s).
"""
import argparse
import os
import select
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROMPT = b"dom0# "
QEMU = ["qemu-system-x86_64", "-accel", "tcg", "-machine", "q35", "-cpu", "max", "-m", "512M",
        "-nodefaults", "-display", "none", "-no-reboot", "-serial", "stdio"]


def boot_once(extra_args, timeout_s):
    """Returns milliseconds from QEMU's start to the dom0 prompt."""
    start = time.monotonic()
    proc = subprocess.Popen(QEMU + extra_args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    seen = b""
    try:
        while PROMPT not in seen:
            left = timeout_s - (time.monotonic() - start)
            if left <= 0:
                raise RuntimeError("no dom0 prompt within %ds; output:\n%s" % (timeout_s, seen.decode(errors="replace")))
            ready, _, _ = select.select([proc.stdout], [], [], left)
            if ready:
                chunk = os.read(proc.stdout.fileno(), 4096)
                if not chunk:
                    raise RuntimeError("QEMU exited before the prompt:\n" + seen.decode(errors="replace"))
                seen += chunk
        elapsed = (time.monotonic() - start) * 1000.0
        proc.stdin.write(b"poweroff\n")
        proc.stdin.flush()
        proc.wait(timeout=timeout_s)
        return elapsed
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def report(name, samples):
    print("%-28s min %7.0f ms  median %7.0f ms  max %7.0f ms  (%d runs)" %
          (name, min(samples), statistics.median(samples), max(samples), len(samples)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--build", default=os.environ.get("LAMINA_BUILD", os.path.join(ROOT, "build", "release")))
    ap.add_argument("--iso", action="store_true", help="also boot through GRUB (needs make iso)")
    ap.add_argument("--timeout", type=int, default=120)
    args = ap.parse_args()
    hv = os.path.join(args.build, "hv", "lamina.elf")
    dom0 = os.path.join(args.build, "dom0", "dom0.elf")
    for f in (hv, dom0):
        if not os.path.exists(f):
            sys.exit("missing %s: build first (make DEBUG=0 all)" % f)
    direct = ["-kernel", hv, "-append", "dom0_mem=128M", "-initrd", dom0]
    report("QEMU -kernel to dom0 prompt", [boot_once(direct, args.timeout) for _ in range(args.runs)])
    if args.iso:
        iso = os.path.join(args.build, "lamina.iso")
        if not os.path.exists(iso):
            sys.exit("missing %s: make iso first" % iso)
        report("GRUB ISO to dom0 prompt", [boot_once(["-cdrom", iso], args.timeout) for _ in range(args.runs)])


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Guest versus native: ../shared/bench/pvbench.c in a Linux PV domU on Lamina
and in the same Debian kernel running directly under the same QEMU.

Alternates native and domU boots (the emulator drifts, so interleaving keeps
the comparison fair), takes the median of each run's medians, and prints the
domU/native ratios next to Xen 4.17's from ../shared/bench/README.md. It
measures; it asserts nothing about the numbers.

Both sides use QEMU `-accel tcg -machine q35 -cpu max -m 2048`, the Debian
kernel from linux-image-amd64 and the same busybox initramfs (its /init runs
pvbench when the command line says lamina.test=pvbench).
"""
import argparse
import os
import re
import select
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
QEMU = ["qemu-system-x86_64", "-accel", "tcg", "-machine", "q35", "-cpu", "max", "-m", "2048",
        "-nodefaults", "-display", "none", "-no-reboot", "-serial", "stdio"]
# Up to total_s=, so a line that has only partly arrived never matches.
LINE = re.compile(r"PVBENCH label=(\S+) getppid_ns=([\d.]+) pf_ns=([\d.]+) fork_us=([\d.]+) lcg_s=([\d.]+) total_s=")
FIELDS = ["getppid_ns", "pf_ns", "fork_us", "lcg_s"]
XEN_RATIOS = {"getppid_ns": 44.1, "pf_ns": 6.13, "fork_us": 4.17, "lcg_s": 1.23}


class Qemu:
    """A QEMU whose serial console we read and type into."""

    def __init__(self, args):
        self.proc = subprocess.Popen(QEMU + args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT)
        self.out = b""

    def wait_for(self, pattern, timeout, start=0):
        """Waits until `pattern` appears in the output after offset `start`."""
        deadline = time.monotonic() + timeout
        rx = re.compile(pattern.encode())
        while not rx.search(self.out, start):
            left = deadline - time.monotonic()
            if left <= 0 or self.proc.poll() is not None:
                raise RuntimeError("waiting for %r; output so far:\n%s" % (pattern, self.out[-3000:].decode(errors="replace")))
            ready, _, _ = select.select([self.proc.stdout], [], [], min(left, 1.0))
            if ready:
                self.out += os.read(self.proc.stdout.fileno(), 65536)
        return rx.search(self.out, start)

    def send(self, text):
        self.proc.stdin.write(text.encode())
        self.proc.stdin.flush()

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


def parse(match):
    return {f: float(match.group(i + 2)) for i, f in enumerate(FIELDS)}


def run_native(debian, timeout):
    q = Qemu(["-kernel", os.path.join(debian, "vmlinuz"), "-initrd", os.path.join(debian, "initramfs.cpio.gz"),
              "-append", "console=ttyS0 quiet lamina.test=pvbench label=native"])
    try:
        return parse(q.wait_for(LINE.pattern, timeout))
    finally:
        q.close()


def lamina_args(build):
    """QEMU arguments booting the hypervisor with dom0 and its full initrd."""
    hv = os.path.join(build, "hv", "lamina.elf")
    dom0 = os.path.join(build, "dom0", "dom0.elf")
    initrd = os.path.join(build, "dom0", "initrd-full.cpio")
    return ["-kernel", hv, "-append", "dom0_mem=384M loglvl=warn", "-initrd", "%s,%s" % (dom0, initrd)]


def debian_dir(build):
    """The directory of the Debian kernel and initramfs; exits if they are not built."""
    debian = os.path.join(build, "debian")
    for f in ("vmlinuz", "initramfs.cpio.gz"):
        if not os.path.exists(os.path.join(debian, f)):
            sys.exit("missing %s: run make DEBUG=0 all build/release/dom0/initrd-full.cpio first"
                     % os.path.join(debian, f))
    return debian


def ratio_table(fields, native, domu, width=18):
    """Prints, per field, min/median/max of the native and the domU rounds
    (dicts by field) and the ratio of the medians (domU / native)."""
    print()
    print("%-*s %26s %26s %8s" % (width, "metric", "native min/median/max", "Lamina domU min/median/max", "ratio"))
    for f in fields:
        n = [r[f] for r in native]
        line = "%-*s %9.4g/%7.4g/%8.4g" % (width, f, min(n), statistics.median(n), max(n))
        if domu:
            d = [r[f] for r in domu]
            line += " %9.4g/%7.4g/%8.4g %7.3fx" % (min(d), statistics.median(d), max(d),
                                                  statistics.median(d) / statistics.median(n))
        print(line)


def run_domu(build, timeout):
    q = Qemu(lamina_args(build))
    try:
        q.wait_for(r"dom0# ", timeout)
        q.send("xl create /etc/xen/pvbench.cfg\n")
        m = q.wait_for(LINE.pattern + "|cannot create domain.*", timeout)
        if not m.group(0).startswith(b"PVBENCH"):
            raise RuntimeError(m.group(0).decode(errors="replace"))
        return parse(m)
    finally:
        q.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3, help="boots of each kind (alternating)")
    ap.add_argument("--build", default=os.path.join(ROOT, "build", "release"))
    ap.add_argument("--native-only", action="store_true")
    ap.add_argument("--timeout", type=int, default=600)
    args = ap.parse_args()
    debian = debian_dir(args.build)
    native, domu = [], []
    for i in range(args.runs):
        native.append(run_native(debian, args.timeout))
        print("native run %d: %s" % (i + 1, native[-1]), flush=True)
        if not args.native_only:
            domu.append(run_domu(args.build, args.timeout))
            print("domU   run %d: %s" % (i + 1, domu[-1]), flush=True)
    print()
    print("%-12s %28s %28s %10s %10s" % ("operation", "native min/median/max", "Lamina domU min/median/max",
                                          "ratio", "Xen ratio"))
    for f in FIELDS:
        n = [r[f] for r in native]
        line = "%-12s %9.4g/%8.4g/%8.4g" % (f, min(n), statistics.median(n), max(n))
        if domu:
            d = [r[f] for r in domu]
            ratio = statistics.median(d) / statistics.median(n)
            line += " %9.4g/%8.4g/%8.4g %9.2fx %9.2fx" % (min(d), statistics.median(d), max(d), ratio, XEN_RATIOS[f])
        print(line)


if __name__ == "__main__":
    main()

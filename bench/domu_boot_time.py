#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Time from `xl create` to a Debian-kernel domU's /init, on Lamina.

Boots the hypervisor and dom0 once, then N times: types
`xl create /etc/xen/debian.cfg` (with lamina.test=halt, so the guest powers
off at once) and measures from the command's newline to the guest's
"reached /init" line on dom0's console, waiting for the domain to be gone
before the next round. Prints min / median / max next to Xen 4.17's
(`xl create -c` to the domU's first /init output: 11.0 / 11.5 / 12.7 s,
../shared/bench/README.md). A measurement, not a test.
"""
import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pvbench import Qemu  # noqa: E402  (the same console driver)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--build", default=os.path.join(ROOT, "build", "release"))
    ap.add_argument("--timeout", type=int, default=300)
    args = ap.parse_args()
    hv = os.path.join(args.build, "hv", "lamina.elf")
    dom0 = os.path.join(args.build, "dom0", "dom0.elf")
    initrd = os.path.join(args.build, "dom0", "initrd-full.cpio")
    for f in (hv, dom0, initrd):
        if not os.path.exists(f):
            sys.exit("missing %s: run make DEBUG=0 all %s first" % (f, initrd))
    q = Qemu(["-m", "1G", "-kernel", hv, "-append", "dom0_mem=256M loglvl=info",
              "-initrd", "%s,%s" % (dom0, initrd)])
    samples = []
    try:
        q.wait_for(r"dom0# ", args.timeout)
        for i in range(args.runs):
            mark = len(q.out)
            q.send('xl create /etc/xen/debian.cfg extra="console=hvc0 quiet lamina.test=halt"\n')
            start = time.monotonic()
            q.wait_for(r"LAMINA-INIT: reached /init", args.timeout, start=mark)
            samples.append(time.monotonic() - start)
            # The guest powers off; xl destroys it (on_poweroff=destroy).
            q.wait_for(r"\(HV\) d\d+ destroyed", args.timeout, start=mark)
            print("run %d: %.2f s" % (i + 1, samples[-1]), flush=True)
    finally:
        q.close()
    print("xl create to /init: min %.2f s  median %.2f s  max %.2f s  (%d runs; Xen 4.17: 11.0 / 11.5 / 12.7 s)"
          % (min(samples), statistics.median(samples), max(samples), len(samples)))


if __name__ == "__main__":
    main()

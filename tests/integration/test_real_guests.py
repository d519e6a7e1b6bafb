# SPDX-License-Identifier: MIT
"""Unmodified guests from Debian's packages as domUs built by dom0's xl.

Debian's kernel (linux-image-amd64, an XZ bzImage) with a busybox initramfs,
and Debian's pvgrub (grub-xen-bin), from $BUILD/dom0/initrd-full.cpio
(guests/debian/debian.mk fetches and builds them). The initramfs's /init
picks its workload from lamina.test= on the kernel command line.
"""
import re
import time

import pytest

from conftest import BUILD, assert_no_hv_panic, dom0_session

FULL_INITRD = BUILD / "dom0" / "initrd-full.cpio"
HV_ARGS = "dom0_mem=192M loglvl=info"
LINUX_BOOT_S = 240          # TCG: Debian's kernel to /init takes tens of seconds


def session():
    return dom0_session(FULL_INITRD, hv_args=HV_ARGS, timeout=600, qemu_args=("-m", "1G"))


def domains(s):
    """Names in `xl list`, Domain-0 included."""
    rows = s.command("xl list").splitlines()[1:]
    return [r.split()[0] for r in rows if r.strip() and not r.startswith("Name")]


def test_debian_kernel_runs_a_workload_and_powers_off():
    s = session()
    try:
        s.command('xl create /etc/xen/debian.cfg memory=256 extra="console=hvc0 quiet lamina.test=workload"')
        s.wait_for(r"\[d1 debian\] LAMINA-INIT: reached /init", timeout=LINUX_BOOT_S)
        s.wait_for(r"\[d1 debian\] LAMINA-INIT: hypervisor type: xen", timeout=30)
        s.wait_for(r"\[d1 debian\] LDT-TEST: ok", timeout=120)
        s.wait_for(r"\[d1 debian\] LAMINA-INIT: workload ok", timeout=120)
        s.wait_for(r"^\(HV\) d1 shut down \(poweroff\)", timeout=60)
        s.wait_for(r"^\(HV\) d1 destroyed", timeout=30)
        assert "debian" not in domains(s), s.describe()
        assert "workload FAILED" not in s.output
        s.send("poweroff\n")
        assert s.finish() == 0, s.describe()
        assert_no_hv_panic(s)
    finally:
        s.close()


def test_pvgrub_runs_and_prints():
    s = session()
    try:
        s.command("xl create /etc/xen/pvgrub.cfg")
        s.wait_for(r"\[d1 pvgrub\] LAMINA-PVGRUB: GRUB is running as a PV guest", timeout=120)
        s.wait_for(r"\[d1 pvgrub\] LAMINA-PVGRUB: done", timeout=60)
        s.wait_for(r"^\(HV\) d1 shut down \(poweroff\)", timeout=60)
        assert "pvgrub" not in domains(s), s.describe()
        assert_no_hv_panic(s)
    finally:
        s.close()


@pytest.mark.parametrize("action,kept", [("destroy", False), ("preserve", True)])
def test_guest_crash_follows_on_crash(action, kept):
    s = session()
    try:
        s.command('xl create /etc/xen/debian.cfg name=crasher memory=160 on_crash=%s '
                  'extra="console=hvc0 quiet lamina.test=crash"' % action)
        s.wait_for(r"\[d1 crasher\] LAMINA-INIT: crashing on purpose", timeout=LINUX_BOOT_S)
        s.wait_for(r"^\(HV\) d1 shut down \(crash\)", timeout=120)
        assert ("crasher" in domains(s)) == kept, s.describe()
        assert "Domain-0" in domains(s)
        assert_no_hv_panic(s)
    finally:
        s.close()


def test_spinning_and_crashing_domus_do_not_stop_the_others():
    s = session()
    try:
        s.command('xl create /etc/xen/debian.cfg name=spinner memory=160 '
                  'extra="console=hvc0 quiet lamina.test=spin"')
        s.wait_for(r"\[d1 spinner\] LAMINA-INIT: spinning", timeout=LINUX_BOOT_S)
        # A second Debian domU, running while the first spins, crashes...
        s.command('xl create /etc/xen/debian.cfg name=crasher memory=160 '
                  'extra="console=hvc0 quiet lamina.test=crash"')
        s.wait_for(r"\[d2 crasher\] LAMINA-INIT: crashing on purpose", timeout=LINUX_BOOT_S)
        s.wait_for(r"^\(HV\) d2 shut down \(crash\)", timeout=120)
        # ...and a third guest still gets all its CPU time and finishes.
        mark = len(s.output)
        s.command("xl create victim.cfg")
        m = s.wait_for(r"GUEST victim DONE passed=(\d+) failed=(\d+)", start=mark, timeout=120)
        assert m.group(2) == "0", s.describe()
        names = domains(s)
        assert "spinner" in names and "Domain-0" in names, s.describe()
        s.send("poweroff\n")
        assert s.finish() == 0, s.describe()
        assert_no_hv_panic(s)
    finally:
        s.close()


def test_xl_reboot_then_shutdown_through_xenstore():
    s = session()
    try:
        s.command("xl create /etc/xen/debian.cfg memory=192")
        s.wait_for(r"\[d1 debian\] LAMINA-INIT: busybox shell", timeout=LINUX_BOOT_S)
        # xl treats a reboot within 10 s of the start as a restart loop and
        # destroys the domain instead; be an ordinary, slower user.
        time.sleep(11)
        mark = len(s.output)
        s.command("xl reboot debian")
        s.wait_for(r"^\(HV\) d1 shut down \(reboot\)", start=mark, timeout=120)
        # on_reboot = "restart": the same config runs again.
        s.wait_for(r"\[d\d+ debian\] LAMINA-INIT: busybox shell", start=mark, timeout=LINUX_BOOT_S)
        mark = len(s.output)
        s.command("xl shutdown debian")
        s.wait_for(r"^\(HV\) d\d+ shut down \(poweroff\)", start=mark, timeout=120)
        s.wait_for(r"^\(HV\) d\d+ destroyed", start=mark, timeout=30)
        assert "debian" not in domains(s), s.describe()
        assert_no_hv_panic(s)
    finally:
        s.close()

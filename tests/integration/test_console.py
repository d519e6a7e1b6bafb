# SPDX-License-Identifier: MIT
"""dom0's console backend (dom0/backends/console, docs/console.md): domU
output on the ring is logged as "[d<id> <name>] <line>" with control bytes
escaped, `xl console` attaches (raw output, input to the guest's ring, Ctrl-]
back to the shell), `conlog off` stops the logging, and hostile guests
(guests/console_ring.c in flood, storm and corrupt modes) neither starve
dom0 or other domains nor get more than their own console cut off.

The guest's CHECK lines come through console_io, which only debug builds of
the hypervisor pass on for a domU ("(dN) ..."), as every domain test here
assumes.
"""
import re
import shutil
import subprocess

import pytest

from conftest import DOM0_INITRD_ROOT, HV_PANIC, dom0_session, guest_elf

GUEST = "console_ring"
KERNEL = f"/usr/lib/lamina/guests/{GUEST}.elf"
CHECK = re.compile(r"\(d(\d+)\) CHECK console_ring:(\w+) (ok|FAIL.*)$", re.M)
DONE = r"\(d{id}\) GUEST console_ring DONE passed=(\d+) failed=(\d+)$"
ESCAPE = "\x1d"     # Ctrl-]
BULK = "0123456789abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJ"


@pytest.fixture(scope="module")
def console_initrd(tmp_path_factory):
    """dom0's initrd with the console_ring guest and a config for it."""
    elf = guest_elf(GUEST)
    if not elf.exists():
        pytest.xfail(f"{elf} is not built: '{GUEST}' is not in GUEST_NAMES (guests/guests.mk) yet")
    if not DOM0_INITRD_ROOT.is_dir():
        pytest.fail(f"{DOM0_INITRD_ROOT} is missing: run `make all` first")
    if not shutil.which("cpio"):
        pytest.fail("cpio is not installed (Debian package 'cpio')")
    base = tmp_path_factory.mktemp("console-initrd")
    root = base / "root"
    shutil.copytree(DOM0_INITRD_ROOT, root)
    target = root / KERNEL.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        shutil.copy(elf, target)
    (root / "etc/xen/console_ring.cfg").write_text(
        f"name = 'ring'\nkernel = '{KERNEL}'\nmemory = 16\nvcpus = 1\n"
        "on_poweroff = 'destroy'\non_crash = 'preserve'\n")
    names = subprocess.run(["find", ".", "-mindepth", "1"], cwd=root, check=True, capture_output=True).stdout
    archive = base / "initrd.cpio"
    with open(archive, "wb") as f:
        subprocess.run(["cpio", "--quiet", "-o", "-H", "newc"], cwd=root, input=names, stdout=f, check=True)
    return archive


def start(initrd):
    s = dom0_session(initrd=initrd)
    if "console" not in s.command("xl help"):
        s.close()
        pytest.xfail("the console backend is not wired into dom0 yet (dom0.mk, main loop, xl console)")
    return s


def create(s, overrides: str) -> None:
    out = s.command(f"xl create console_ring.cfg {overrides}")
    assert "xl:" not in out, s.describe()


def assert_checks(s, domid: int, expected: list, start: int = 0) -> None:
    """The checks of the domain with id `domid` that started after `start`."""
    done = s.wait_for(DONE.format(id=domid), start=start, timeout=120)
    got = {m.group(2): m.group(3) for m in CHECK.finditer(s.output, start, done.end())
           if int(m.group(1)) == domid}
    bad = {k: v for k, v in got.items() if v != "ok"}
    missing = [k for k in expected if k not in got]
    assert not bad and not missing, f"d{domid}: failed {bad}, missing {missing}\n" + s.describe()
    assert done.group(2) == "0", s.describe()


def poweroff(s) -> None:
    s.send("poweroff\n")
    status = s.finish(timeout=60)
    assert not HV_PANIC.search(s.output), "hypervisor panicked\n" + s.describe()
    assert status == 0, "QEMU did not power off cleanly\n" + s.describe()


ECHO_CHECKS = ["console_page_is_ours", "console_port_bound_by_dom0", "greeting", "control_line",
               "bulk_written", "bulk_drained", "read_line", "reply_drained"]


def test_log_attach_and_switch(console_initrd):
    s = start(console_initrd)
    try:
        assert "domU console logging is on" in s.command("conlog"), s.describe()
        create(s, "name=ring extra='lines=48'")
        # Logged, line by line, with the prefix; control bytes escaped, CSI dropped, CR LF one line end.
        s.wait_for(r"\[d1 ring\] console_ring: hello through the ring$")
        # The console as xenstore describes it, as libxl writes it and
        # xenconsoled completes it (console/tty is what xl console needs).
        ls = s.command("xenstore-ls /local/domain/1/console")
        for key in ("ring-ref", "port", "limit", "type", "output", "tty"):
            assert re.search(rf'^{key} = "[^"]+"$', ls, re.M), ls
        assert 'type = "xenconsoled"' in ls, ls
        assert "dom0-console-backend:1" in s.command("xenstore-read /local/domain/1/console/tty").splitlines(), \
            s.describe()
        s.wait_for(r"\[d1 ring\] console_ring: ctl\[\\x01red\\x7f end\]$")
        # More than the ring holds: every line once, in order (the backend's
        # draining is what lets the guest go on).
        s.wait_for(r"\[d1 ring\] console_ring: bulk 048/048 " + BULK + "$")
        bulk = re.findall(r"\[d1 ring\] console_ring: bulk (\d{3})/048 (\S+)$", s.output, re.M)
        assert [int(n) for n, _ in bulk] == list(range(1, 49)), s.describe()
        assert all(text == BULK for _, text in bulk), s.describe()
        # A prompt without a newline is logged after a quiet moment.
        s.wait_for(r"\[d1 ring\] console_ring: type a line> $")

        mark = len(s.output)
        s.send("xl console ring\n")
        s.wait_for(r"Connected to d1 \(ring\)\. Escape character is '\^\]'\.", start=mark)
        s.send("ping 42\r")
        # Attached: the guest's output comes raw, without the prefix.
        got = s.wait_for(r"^console_ring: got 'ping 42'$", start=mark, timeout=30)
        s.send(ESCAPE)
        s.wait_for(re.escape("dom0# "), start=got.end(), timeout=30)
        assert_checks(s, 1, ECHO_CHECKS)
        s.wait_for(r"\(HV\) d1 destroyed", start=mark, timeout=30)
        # Nothing a guest wrote reached the terminal as a control byte.
        assert "\x01" not in s.output and "\x1b[31m" not in s.output, s.describe()

        # Logging off: the output is still consumed (the guest does not
        # stall), but not shown; `xl console` still works. (Domain ids are
        # reused: this is d1 again.)
        assert "logging is off" in s.command("conlog off"), s.describe()
        mark = len(s.output)
        create(s, "name=quiet extra='lines=60'")
        s.wait_for(r"\(d1\) CHECK console_ring:bulk_drained ok", start=mark, timeout=60)
        s.wait_for(r"\(d1\) NOTE console_ring: waiting for a line", start=mark)
        s.send("xl console quiet\n")
        s.wait_for(r"Connected to d1 \(quiet\)", start=mark)
        s.send("hello quiet\r")
        got = s.wait_for(r"^console_ring: got 'hello quiet'$", start=mark, timeout=30)
        s.send(ESCAPE)
        s.wait_for(re.escape("dom0# "), start=got.end(), timeout=30)
        assert "[d1 quiet]" not in s.output, s.describe()
        assert_checks(s, 1, ECHO_CHECKS, start=mark)
        assert "logging is on" in s.command("conlog on"), s.describe()

        assert "this is Domain-0's console" in s.command("xl console 0"), s.describe()
        assert "does not exist" in s.command("xl console nosuch"), s.describe()
        poweroff(s)
    finally:
        s.close()


def test_hostile_guests_are_contained(console_initrd):
    s = start(console_initrd)
    try:
        create(s, "name=bad extra='mode=corrupt'")
        cut = s.wait_for(r"^console: d1 \(bad\): output ring indices out of range; console disconnected$",
                         timeout=60)
        assert_checks(s, 1, ["console_port_bound_by_dom0", "first_drained", "backend_closed_its_end"])
        assert "[d1 bad] console_ring: about to corrupt the ring" in s.output, s.describe()
        assert "AFTER-CUT" not in s.output, s.describe()
        assert cut.start() > s.output.index("[d1 bad] console_ring: about to corrupt"), s.describe()
        s.wait_for(r"\(HV\) d1 destroyed", start=cut.end(), timeout=30)

        # Ids are reused: flood is d1, storm d2, calm d3.
        mark = len(s.output)
        create(s, "name=flood extra='mode=flood kib=192'")
        create(s, "name=storm extra='mode=storm seconds=4'")
        create(s, "name=calm extra='lines=5 wait=60'")
        # dom0's shell answers while one guest floods and another storms.
        out = s.command("xl list", timeout=30)
        for name in ("flood", "storm", "calm"):
            assert name in out, s.describe()
        # The calm domain is served too, and can be talked to.
        s.wait_for(r"\[d3 calm\] console_ring: type a line> $", start=mark, timeout=120)
        s.send("xl console calm\n")
        s.wait_for(r"Connected to d3 \(calm\)", start=mark, timeout=30)
        s.send("still here\r")
        got = s.wait_for(r"^console_ring: got 'still here'$", start=mark, timeout=60)
        s.send(ESCAPE)
        s.wait_for(re.escape("dom0# "), start=got.end(), timeout=30)

        s.wait_for(r"\[d1 flood\] console_ring: flood done$", start=mark, timeout=240)
        s.wait_for(r"\[d2 storm\] console_ring: storm over$", start=mark, timeout=120)
        assert_checks(s, 1, ["flood_written", "flood_drained"], start=mark)
        assert_checks(s, 2, ["after_storm", "storm_drained"], start=mark)
        assert_checks(s, 3, ECHO_CHECKS, start=mark)
        # Every flood line arrived whole and in order ("flood NNNNNNN F*40\n": 55 bytes).
        numbers = [int(n) for n in re.findall(r"\[d1 flood\] flood (\d{7}) F{40}$", s.output, re.M)]
        assert numbers and numbers == list(range(len(numbers))), s.describe()
        assert len(numbers) * 55 >= 192 * 1024, s.describe()
        assert not re.search(r"^console: d", s.output[mark:], re.M), s.describe()
        poweroff(s)
    finally:
        s.close()

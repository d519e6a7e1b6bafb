# SPDX-License-Identifier: MIT
"""dom0's console shell, driven through the serial port."""
import re
import subprocess

import pytest

from conftest import BUILD, DOM0_ELF, ISO, REPO, assert_no_hv_panic, boot, run_qemu

SESSION = b"help\ninfo\nuptime\nbogus\npoweroff\n"


def check_session(result, expect_mib=None):
    out = result.output
    assert_no_hv_panic(result)
    assert "dom0# " in out, "no prompt\n" + result.describe()
    # help lists every command.
    for cmd in ("help", "info", "uptime", "poweroff"):
        assert re.search(rf"^  {cmd}\s", out, re.M), f"help does not list {cmd}\n" + result.describe()
    # info: version with extraversion, memory, uptime, date.
    assert re.search(r"^hypervisor: Xen ABI \d+\.\d+\S*$", out, re.M), result.describe()
    mem = re.search(r"^dom0 memory: (\d+) pages \((\d+) MiB\)$", out, re.M)
    assert mem, result.describe()
    if expect_mib is not None:
        assert int(mem.group(2)) == expect_mib and int(mem.group(1)) == expect_mib * 256, result.describe()
    assert re.search(r"^date: 20\d\d-[01]\d-[0-3]\d [0-2]\d:[0-5]\d:[0-6]\d UTC$", out, re.M), result.describe()
    # info and uptime both print an uptime line.
    assert len(re.findall(r"^uptime: \d+\.\d{3} s \(\d+:\d\d:\d\d\)$", out, re.M)) >= 2, result.describe()
    assert "dom0: unknown command 'bogus'" in out, result.describe()
    assert "dom0: powering off" in out, result.describe()
    # Typed characters are echoed after the prompt.
    assert "dom0# bogus" in out, "input not echoed\n" + result.describe()
    assert re.search(r"^\(HV\) d0 shut down", out, re.M), result.describe()
    assert result.status == 0, "QEMU did not power off cleanly\n" + result.describe()


def test_dom0_shell_piped():
    # Input arrives all at once, before dom0 is even running.
    result = boot(DOM0_ELF, hv_args="dom0_mem=128M", stdin_data=SESSION, timeout=120)
    check_session(result, expect_mib=128)


def test_dom0_shell_backspace():
    result = boot(DOM0_ELF, hv_args="dom0_mem=64M",
                  stdin_data=b"uptimx\x7fe\r\npoweroff\r", wait_for="dom0# ", timeout=120)
    assert_no_hv_panic(result)
    assert len(re.findall(r"^uptime: \d+\.\d{3} s", result.output, re.M)) == 1, result.describe()
    assert "unknown command" not in result.output, result.describe()
    assert result.status == 0, result.describe()


def _iso():
    if ISO.exists():
        return ISO
    debug = "0" if BUILD.name == "release" else "1"
    try:
        subprocess.run(["make", f"DEBUG={debug}", "iso"], cwd=REPO, check=True, timeout=300,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, FileNotFoundError) as e:
        pytest.skip(f"`make iso` failed, so there is no {ISO} to boot (the iso target may not exist yet): {e}")
    if not ISO.exists():
        pytest.skip(f"`make iso` did not produce {ISO} (the iso target may not exist yet)")
    return ISO


def test_dom0_grub_multiboot2_iso():
    iso = _iso()
    # GRUB may read the serial port for its menu, so type only once dom0's
    # prompt is there.
    result = run_qemu(["-cdrom", str(iso)], stdin_data=SESSION, wait_for="dom0# ", timeout=180)
    check_session(result)

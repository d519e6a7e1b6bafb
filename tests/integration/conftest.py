# SPDX-License-Identifier: MIT
"""Boot helpers for the QEMU integration tests.

Every test boots the hypervisor under QEMU TCG with one boot module (the
first domain's kernel) and inspects the serial output. Images come from
$LAMINA_BUILD (default build/debug), built beforehand by `make all`.
"""
import os
import pathlib
import re
import select
import subprocess
import time
from dataclasses import dataclass
from typing import Optional

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
BUILD = pathlib.Path(os.environ.get("LAMINA_BUILD", "build/debug"))
if not BUILD.is_absolute():
    BUILD = REPO / BUILD
HV_ELF = BUILD / "hv" / "lamina.elf"
DOM0_ELF = BUILD / "dom0" / "dom0.elf"
ISO = BUILD / "lamina.iso"
QEMU = os.environ.get("QEMU", "qemu-system-x86_64")
QEMU_BASE = [QEMU, "-accel", "tcg", "-machine", "q35", "-cpu", "max", "-m", "512M",
             "-nodefaults", "-display", "none", "-no-reboot", "-serial", "stdio"]

# Lines the hypervisor prints (it prefixes its log with "(HV) ").
HV_PANIC = re.compile(r"\(HV\) PANIC")


def guest_elf(name: str) -> pathlib.Path:
    return BUILD / "guests" / f"{name}.elf"


@dataclass
class Boot:
    output: str             # serial output, CR removed
    status: Optional[int]   # QEMU's exit status; None if we had to kill it
    command: list

    @property
    def exited(self) -> bool:
        return self.status is not None

    def describe(self) -> str:
        tail = "\n".join(self.output.splitlines()[-60:])
        return (f"command: {' '.join(self.command)}\nstatus: {self.status}\n"
                f"--- last lines of output ---\n{tail}")


def _module_arg(path: pathlib.Path, args: str) -> str:
    # QEMU separates modules with ',' so a comma inside args is written ',,'.
    return f"{path} {args}".strip().replace(",", ",,")


def run_qemu(args: list, stdin_data: Optional[bytes] = None, wait_for: Optional[str] = None,
             timeout: float = 120.0) -> Boot:
    """Runs QEMU with `args` after the common options.

    stdin_data is written to the serial port's input, at once or, with
    wait_for, as soon as that text appears in the output; stdin is then
    closed. QEMU is killed after `timeout` seconds.
    """
    cmd = QEMU_BASE + args
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE if stdin_data is not None else subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=REPO)
    out = bytearray()
    pending = stdin_data
    deadline = time.monotonic() + timeout
    status = None
    try:
        while True:
            if pending is not None and (wait_for is None or wait_for.encode() in out):
                try:
                    proc.stdin.write(pending)
                    proc.stdin.close()
                except BrokenPipeError:
                    pass
                pending = None
            left = deadline - time.monotonic()
            if left <= 0:
                break
            ready, _, _ = select.select([proc.stdout], [], [], min(left, 0.2))
            if ready:
                chunk = os.read(proc.stdout.fileno(), 65536)
                if not chunk:
                    status = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
                    break
                out += chunk
            elif proc.poll() is not None:
                out += proc.stdout.read() or b""
                status = proc.returncode
                break
    except subprocess.TimeoutExpired:
        status = None
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    text = out.decode("utf-8", errors="replace").replace("\r", "")
    return Boot(text, status, cmd)


def boot(module: pathlib.Path, module_args: str = "", hv_args: str = "loglvl=warn dom0_mem=64M",
         stdin_data: Optional[bytes] = None, wait_for: Optional[str] = None,
         timeout: float = 120.0) -> Boot:
    """Boots the hypervisor with `module` as the first domain's kernel."""
    for image in (HV_ELF, module):
        if not image.exists():
            pytest.fail(f"{image} is missing: run `make all` first (LAMINA_BUILD={BUILD})")
    return run_qemu(["-kernel", str(HV_ELF), "-append", hv_args,
                     "-initrd", _module_arg(module, module_args)],
                    stdin_data=stdin_data, wait_for=wait_for, timeout=timeout)


def assert_no_hv_panic(result: Boot) -> None:
    assert not HV_PANIC.search(result.output), "hypervisor panicked\n" + result.describe()

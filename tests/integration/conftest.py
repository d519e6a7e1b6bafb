# SPDX-License-Identifier: MIT
"""Boot helpers for the QEMU integration tests.

Every test boots the hypervisor under QEMU TCG with one boot module (the
first domain's kernel) and inspects the serial output; Session drives dom0's
shell interactively (dom0 with its initrd as the second module). Images come from
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
DOM0_INITRD = BUILD / "dom0" / "initrd.cpio"
DOM0_INITRD_ROOT = BUILD / "dom0" / "initrd-root"
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


DOM0_PROMPT = "dom0# "


class Session:
    """An interactive boot: commands go to dom0's shell one at a time.

    Output is kept as one text (CR removed); positions into it let a test
    ask for what came after a given point. Every wait has a timeout and
    fails the test with the tail of the output.
    """

    def __init__(self, args: list, timeout: float = 240.0):
        self.command_line = QEMU_BASE + args
        self.proc = subprocess.Popen(self.command_line, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, cwd=REPO)
        self._raw = bytearray()
        self._text = ""
        self.status: Optional[int] = None
        self.deadline = time.monotonic() + timeout

    @property
    def output(self) -> str:
        return self._text

    def describe(self) -> str:
        tail = "\n".join(self._text.splitlines()[-80:])
        return (f"command: {' '.join(self.command_line)}\nstatus: {self.status}\n"
                f"--- last lines of output ---\n{tail}")

    def _pump(self, wait: float) -> bool:
        """Reads what is there (waiting up to `wait` s); False once QEMU is gone."""
        if self.status is not None:
            return False
        ready, _, _ = select.select([self.proc.stdout], [], [], max(0.0, wait))
        if ready:
            chunk = os.read(self.proc.stdout.fileno(), 65536)
            if chunk:
                self._raw += chunk
                self._text = self._raw.decode("utf-8", errors="replace").replace("\r", "")
                return True
        if self.proc.poll() is not None:
            rest = self.proc.stdout.read() or b""
            self._raw += rest
            self._text = self._raw.decode("utf-8", errors="replace").replace("\r", "")
            self.status = self.proc.returncode
            return False
        return True

    def wait_for(self, pattern: str, start: int = 0, timeout: float = 60.0, flags: int = re.M) -> re.Match:
        """Waits for a regex match in the output at or after `start`."""
        regex = re.compile(pattern, flags)
        end = min(time.monotonic() + timeout, self.deadline)
        while True:
            m = regex.search(self._text, start)
            if m:
                return m
            left = end - time.monotonic()
            if left <= 0:
                pytest.fail(f"timed out waiting for /{pattern}/ after offset {start}\n" + self.describe())
            if not self._pump(min(left, 0.2)) and self.status is not None:
                m = regex.search(self._text, start)
                if m:
                    return m
                pytest.fail(f"QEMU exited while waiting for /{pattern}/\n" + self.describe())

    def send(self, text: str) -> None:
        self.proc.stdin.write(text.encode())
        self.proc.stdin.flush()

    def command(self, line: str, timeout: float = 60.0) -> str:
        """Types `line` at the prompt; returns what was printed up to the next prompt."""
        mark = len(self._text)
        self.send(line + "\n")
        m = self.wait_for(re.escape(DOM0_PROMPT), start=mark, timeout=timeout)
        return self._text[mark:m.start()]

    def finish(self, timeout: float = 60.0) -> Optional[int]:
        """Waits for QEMU to exit by itself; kills it after `timeout`."""
        end = time.monotonic() + timeout
        while self.status is None and time.monotonic() < end:
            self._pump(0.2)
        self.close()
        return self.status

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.proc.stdin:
            try:
                self.proc.stdin.close()
            except BrokenPipeError:
                pass
        self.proc.stdout.close()


def dom0_session(initrd: pathlib.Path = DOM0_INITRD, hv_args: str = "dom0_mem=64M", dom0_args: str = "",
                 timeout: float = 240.0, qemu_args: tuple = ()) -> Session:
    """Boots the hypervisor with dom0 and its initrd; returns at dom0's first prompt.
    qemu_args come last, so e.g. ("-m", "1G") overrides the default memory."""
    for image in (HV_ELF, DOM0_ELF, initrd):
        if not image.exists():
            pytest.fail(f"{image} is missing: run `make all` first (LAMINA_BUILD={BUILD})")
    session = Session(["-kernel", str(HV_ELF), "-append", hv_args,
                       "-initrd", _module_arg(DOM0_ELF, dom0_args) + "," + str(initrd).replace(",", ",,")]
                      + list(qemu_args), timeout=timeout)
    session.wait_for(re.escape(DOM0_PROMPT), timeout=60)
    return session

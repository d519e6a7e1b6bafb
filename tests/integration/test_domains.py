# SPDX-License-Identifier: MIT
"""Domains built by dom0's toolstack (xl create / list / destroy), and
isolation: a hostile domU (guests/attacker.c) attacks while an ordinary one
(guests/victim.c) checks its memory; the attacker is refused everything and
crashes alone, the victim is untouched, the hypervisor carries on.

Each test boots hv + dom0 + dom0's initrd and types at dom0's shell,
waiting for the prompt (or for a domain's output) before the next command.
"""
import re
import shutil
import subprocess

import pytest

from conftest import DOM0_INITRD_ROOT, DOM0_PROMPT, HV_PANIC, dom0_session

CHECK = re.compile(r"\(d(\d+)\) CHECK (\w+):(\w+) (ok|FAIL.*)$", re.M)
DONE = r"\(d{id}\) GUEST {guest} DONE passed=(\d+) failed=(\d+)$"
XL_HEADER = "Name                                        ID   Mem VCPUs\tState\tTime(s)"
# A hypervisor log line: at a line start, or right after dom0's prompt when
# dom0 sat at the prompt (a domain's own lines always start "(d<id>) ").
HV = r"(?:^|(?<=dom0# ))\(HV\) "
XL_ROW = re.compile(r"^(\S+) +(\d+) +(\d+) +(\d+)     ([-r][-b][-p][-s][-c][-d])  +(\d+\.\d)$", re.M)

VICTIM_CHECKS = [
    "set_trap_table", "register_event_callback", "bind_virq_timer", "stop_periodic_timer",
    "start_info_magic", "flags_unprivileged", "nr_pages_is_reservation", "store_port_offered_to_dom0",
    "console_port_offered_to_dom0", "store_page_ours_and_zero", "console_page_ours_and_zero",
    "shared_info_mapped", "m2p_roundtrip_bad_pfns", "round1", "rounds_run", "rounds_with_damage",
]
ATTACKER_CHECKS = [
    "set_trap_table", "window_entry_found", "flags_unprivileged", "own_domid_found_once",
    "maximum_ram_page", "saw_other_domains_frames", "map_foreign_frames_readonly_refused",
    "map_foreign_frames_writable_refused", "write_foreign_frame_as_pt_refused",
    "machphys_update_foreign_refused", "foreign_frame_as_page_table_refused",
    "clear_or_copy_foreign_frame_refused", "give_back_foreign_frame_removes_nothing",
    "copy_page_leaked_bytes", "window_still_ours", "mmu_update_foreigndom_eperm",
    "mmuext_op_foreigndom_eperm", "update_va_mapping_otherdomain_eperm", "domctl_eperm",
    "reservation_of_other_domain_eperm", "evtchn_other_domain_eperm", "remote_shutdown_eperm",
    "bind_interdomain_dom0_not_offered_einval", "bind_interdomain_others_not_offered",
    "domctl_bad_version_eperm", "evtchn_send_garbage_ports_einval", "console_read_eperm",
    "update_va_mapping_into_hole_einval", "l4_hypervisor_slots_einval", "read_hv_image_faults",
    "write_hv_image_faults", "read_directmap_faults", "write_m2p_faults", "map_device_memory_eperm",
    "own_ram_cache_attributes_einval", "set_iopl_1", "port_reads_all_ones", "set_iopl_0",
    "set_iopl_4_einval", "port_io_without_iopl_gp", "storm_domctls_all_eperm",
    "storm_image_unchanged", "storm_still_up",
]


def xl_list(session) -> dict:
    """Runs `xl list`; returns {name: (id, mem_mib, vcpus, state)} after checking the format."""
    out = session.command("xl list")
    assert XL_HEADER in out, "xl list printed no header\n" + session.describe()
    rows = {}
    for name, domid, mem, vcpus, state, _time in XL_ROW.findall(out):
        assert name not in rows, f"{name} listed twice\n" + session.describe()
        rows[name] = (int(domid), int(mem), int(vcpus), state)
    return rows


def run_again(session, cfg: str, guest: str, nr_checks: int, timeout: float) -> None:
    """`xl create <cfg> name=again`: the guest (on whatever domid it gets)
    passes all nr_checks checks, its domain goes, and only dom0 is left."""
    mark = len(session.output)
    out = session.command(f"xl create {cfg} name=again")
    assert "xl:" not in out, out
    done = session.wait_for(rf"\(d(\d+)\) GUEST {guest} DONE passed=(\d+) failed=(\d+)$", start=mark,
                            timeout=timeout)
    assert (int(done.group(2)), int(done.group(3))) == (nr_checks, 0), session.describe()
    session.wait_for(rf"\(HV\) d{done.group(1)} destroyed", start=done.end(), timeout=60)
    assert set(xl_list(session)) == {"Domain-0"}, session.describe()


def checks_of(session, domid: int, guest: str) -> list:
    """[(position, check, verdict)] for one domain's CHECK lines."""
    return [(m.start(), m.group(3), m.group(4)) for m in CHECK.finditer(session.output)
            if int(m.group(1)) == domid and m.group(2) == guest]


def assert_checks(session, domid: int, guest: str, expected: list) -> list:
    checks = checks_of(session, domid, guest)
    names = [c[1] for c in checks]
    failed = [f"{c[1]}: {c[2]}" for c in checks if c[2] != "ok"]
    missing = [n for n in expected if n not in names]
    twice = sorted({n for n in names if names.count(n) > 1})
    assert not failed and not missing and not twice, (
        f"{guest} (d{domid}): failed {failed}, never reported {missing}, reported twice {twice}\n"
        + session.describe())
    m = session.wait_for(DONE.format(id=domid, guest=guest), timeout=1)
    assert (int(m.group(1)), int(m.group(2))) == (len(checks), 0), session.describe()
    return checks


def assert_clean_poweroff(session):
    session.send("poweroff\n")
    status = session.finish(timeout=60)
    assert not HV_PANIC.search(session.output), "hypervisor panicked\n" + session.describe()
    assert status == 0, "QEMU did not power off cleanly\n" + session.describe()


def test_attacker_cannot_touch_victim_or_hypervisor():
    s = dom0_session()
    try:
        rows = xl_list(s)
        assert list(rows) == ["Domain-0"], s.describe()
        assert rows["Domain-0"][:3] == (0, 64, 1) and rows["Domain-0"][3].startswith("r"), s.describe()

        out = s.command("xl create /etc/xen/victim.cfg")
        assert "Parsing config from /etc/xen/victim.cfg" in out and "xl:" not in out, s.describe()
        # The victim has filled its pattern before the attacker starts.
        s.wait_for(r"\(d1\) NOTE victim: ")
        out = s.command("xl create /etc/xen/attacker.cfg")
        assert "xl:" not in out, s.describe()

        crash = s.wait_for(HV + r"d2 crashed: ", timeout=120)
        victim_done = s.wait_for(DONE.format(id=1, guest="victim"), timeout=120)
        s.wait_for(HV + r"d1 shut down \(poweroff\)", start=victim_done.end())

        attacker = assert_checks(s, 2, "attacker", ATTACKER_CHECKS)
        assert "AFTER-FAULT" not in s.output, "the attacker ran past its fault\n" + s.describe()
        assert all(pos < crash.start() for pos, _, _ in attacker), s.describe()
        assert not re.search(HV + r"d2 shut down \((?!crash)", s.output, re.M), s.describe()

        victim = assert_checks(s, 1, "victim", VICTIM_CHECKS)
        after = [name for pos, name, _ in victim if pos > crash.end() and name.startswith("round")]
        assert after, "no victim round was checked after the attack\n" + s.describe()
        assert victim_done.start() > crash.end(), s.describe()

        # The victim powered off (on_poweroff=destroy); the attacker is kept
        # (on_crash=preserve), shut down and crashed, with no vCPU online.
        rows = xl_list(s)
        assert set(rows) == {"Domain-0", "attacker"}, s.describe()
        domid, mem, vcpus, state = rows["attacker"]
        assert (domid, mem, vcpus) == (2, 16, 0) and state == "---sc-", s.describe()
        assert rows["Domain-0"][:2] == (0, 64), s.describe()

        out = s.command("xl destroy attacker")
        assert "xl:" not in out, s.describe()
        s.wait_for(HV + r"d2 destroyed", start=crash.end(), timeout=10)
        assert list(xl_list(s)) == ["Domain-0"], s.describe()
        assert_clean_poweroff(s)
    finally:
        s.close()


@pytest.fixture(scope="module")
def fixture_initrd(tmp_path_factory):
    """dom0's initrd plus two broken configs."""
    if not DOM0_INITRD_ROOT.is_dir():
        pytest.fail(f"{DOM0_INITRD_ROOT} is missing: run `make all` first")
    if not shutil.which("cpio"):
        pytest.fail("cpio is not installed (Debian package 'cpio')")
    base = tmp_path_factory.mktemp("initrd")
    root = base / "root"
    shutil.copytree(DOM0_INITRD_ROOT, root)
    (root / "etc/xen/broken.cfg").write_text(
        "# a config with a syntax error on line 3\nname = 'broken'\nmemory = 16 MiB\n"
        "kernel = '/usr/lib/lamina/guests/victim.elf'\n")
    (root / "etc/xen/nokernel.cfg").write_text(
        "name = 'nokernel'\nkernel = '/usr/lib/lamina/guests/missing.elf'\nmemory = 16\n")
    names = subprocess.run(["find", ".", "-mindepth", "1"], cwd=root, check=True, capture_output=True).stdout
    archive = base / "initrd.cpio"
    with open(archive, "wb") as f:
        subprocess.run(["cpio", "--quiet", "-o", "-H", "newc"], cwd=root, input=names, stdout=f, check=True)
    return archive


def test_xl_errors_change_nothing_and_destroy(fixture_initrd):
    s = dom0_session(initrd=fixture_initrd)
    try:
        before = xl_list(s)
        assert list(before) == ["Domain-0"], s.describe()
        bad = {
            "xl create /etc/xen/broken.cfg":
                "/etc/xen/broken.cfg: line 3: unexpected 'M' after the value of 'memory'",
            "xl create /etc/xen/nokernel.cfg":
                "xl: cannot create domain 'nokernel': kernel '/usr/lib/lamina/guests/missing.elf': "
                "no such file in dom0's initrd",
            "xl create /etc/xen/absent.cfg":
                "Failed to read config file: /etc/xen/absent.cfg: no such file in dom0's initrd",
            "xl create victim.cfg memory=12x": "xl: override 'memory=12x': bad number",
            "xl create victim.cfg vcpus=2": "only 1 vCPU per domain is supported for now",
            "xl create victim.cfg memory=1": "memory = 1 MiB is too small: the boot layout alone needs 4 MiB",
            # More than the machine has: fails half-way through populating,
            # after the domain exists; the builder must destroy it.
            "xl create victim.cfg memory=1024": "xl: cannot create domain 'victim': cannot get 1024 MiB",
        }
        for command, message in bad.items():
            out = s.command(command)
            assert message in out, f"{command}: no '{message}'\n" + s.describe()
            assert xl_list(s) == before, f"{command} changed xl list\n" + s.describe()
        assert re.search(HV + r"d1 destroyed", s.output, re.M), "half-built domain not destroyed\n" + s.describe()

        # on_poweroff=restart less than 10 s after the start: xl's loop guard
        # destroys the domain instead, and says so on a line of its own.
        s.command("xl create victim.cfg name=looper extra='seconds=1 interval_ms=100' on_poweroff=restart")
        m = s.wait_for(r"^xl: domain 'looper' is restarting too fast: destroyed, not restarted$", timeout=60)
        s.wait_for(re.escape(DOM0_PROMPT), start=m.end())     # redrawn after the message
        assert list(xl_list(s)) == ["Domain-0"], s.describe()

        # A long-running domain, made with overrides; a second one by the same name is refused.
        victim2_start = len(s.output)
        out = s.command("xl create victim.cfg name=victim2 extra='seconds=600 interval_ms=100'")
        assert "xl:" not in out, s.describe()
        s.wait_for(r"\(d1\) NOTE victim: .* every 100 ms for 600 s", start=victim2_start)
        s.wait_for(r"\(d1\) CHECK victim:round2 ok", start=victim2_start)
        rows = xl_list(s)
        assert set(rows) == {"Domain-0", "victim2"} and rows["victim2"][:3] == (1, 16, 1), s.describe()
        assert "s" not in rows["victim2"][3], s.describe()
        assert "already exists" in s.command("xl create victim.cfg name=victim2"), s.describe()
        assert "cannot destroy Domain-0" in s.command("xl destroy 0"), s.describe()
        assert "domain 'nosuch' does not exist" in s.command("xl destroy nosuch"), s.describe()

        # A paused domain shows 'p' and never runs.
        assert "xl:" not in s.command("xl create -p attacker.cfg"), s.describe()
        rows = xl_list(s)
        assert rows["attacker"][0] == 2 and rows["attacker"][3] == "--p---", s.describe()
        assert list(xl_list(s)) == ["Domain-0", "victim2", "attacker"], s.describe()

        # Destroying a running domain (by name) and a paused one (by id).
        mark = len(s.output)
        s.command("xl destroy victim2")
        s.command("xl destroy 2")
        assert list(xl_list(s)) == ["Domain-0"], s.describe()
        s.wait_for(HV + r"d1 destroyed", start=mark, timeout=10)
        s.wait_for(HV + r"d2 destroyed", start=mark, timeout=10)
        assert "(d2) GUEST attacker START" not in s.output, "a paused domain ran\n" + s.describe()
        assert "(d1) GUEST victim DONE" not in s.output[victim2_start:], "victim2 was not running\n" + s.describe()
        assert_clean_poweroff(s)
    finally:
        s.close()


def test_domu_builder_contract():
    """Conformance guests started by xl instead of the hypervisor: dom0's
    builder must give a domU what the hypervisor gives dom0 (xen-pv-abi.md
    §3), except the privilege flags, and fill a requested hypercall page."""
    from test_guests import EXPECTED
    s = dom0_session()
    try:
        for guest, extra in (("entry_state", "expect_pages=4096 marker=kumquat"), ("hypercall_page", "")):
            mark = len(s.output)
            out = s.command(f"xl create victim.cfg name={guest} kernel=/usr/lib/lamina/guests/{guest}.elf "
                            f"extra='{extra}'")
            assert "xl:" not in out, s.describe()
            done = s.wait_for(rf"\(d1\) GUEST {guest} DONE passed=(\d+) failed=(\d+)$", start=mark)
            checks = {c[1]: c[2] for c in checks_of(s, 1, guest) if mark < c[0] < done.start()}
            missing = [n for n in EXPECTED[guest] if n not in checks]
            failed = {n: v for n, v in checks.items() if v != "ok"}
            want_failed = {"flags_privileged_initdomain": "FAIL got=0x0 want=0x3"} if guest == "entry_state" else {}
            assert not missing and failed == want_failed, (
                f"{guest} as a domU: missing {missing}, failed {failed}\n" + s.describe())
            s.wait_for(HV + r"d1 destroyed", start=done.end(), timeout=10)
        assert_clean_poweroff(s)
    finally:
        s.close()

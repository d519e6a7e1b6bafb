# SPDX-License-Identifier: MIT
"""A hostile vbd frontend against dom0's block backend (guests/blk_hostile.c,
docs/block.md): bad grants, bad requests, ring garbage, a ring overrun and a
xenstore flood each get their error (or cut the guest off), while dom0 keeps
answering and another domain's disk is untouched.

The hostile guest's disk is a host image given to dom0 as a virtio disk
(/dev/vda), so the test can read it afterwards: sectors 0..23 hold what the
guest's sanity writes put there, everything else is still zero (no refused
write reached the disk).
"""
import re
import subprocess

from conftest import BUILD, DOM0_INITRD, assert_no_hv_panic, dom0_session
from test_domains import assert_checks, run_again, xl_list

FULL_INITRD = BUILD / "dom0" / "initrd-full.cpio"
LINUX_BOOT_S = 240
HOSTILE_CFG = "/etc/xen/blk-hostile.cfg"
DISK_MIB = 16

HOSTILE_CHECKS = [
    "set_trap_table", "register_event_callback", "bind_virq_timer", "store_ring_ours",
    # the handshake
    "vbd_listed", "backend_path", "backend_id_dom0", "backend_initwait", "setup_grant_table",
    "map_grant_table", "alloc_unbound_port", "publish_ring", "backend_connected", "sectors",
    "frontend_connected",
    # (1) sanity
    "write_one_page", "write_two_pages", "read_three_pages", "read_back_page0", "read_back_pages12",
    "read_partial_segment", "partial_segment_data", "partial_segment_rest_untouched",
    "read_bad_area_zero", "bad_area_starts_zero", "flush_no_segments",
    # (2) grants
    "revoke_idle_grant", "write_gref_beyond_table", "write_gref_huge", "write_gref_never_granted",
    "write_gref_revoked", "write_gref_for_other_domain", "write_gref_foreign_frame",
    "write_gref_hypervisor_frame", "write_gref_toolstack_ref", "write_good_then_revoked",
    "read_into_readonly_grant", "readonly_page_unchanged", "read_into_foreign_frame",
    "read_into_hypervisor_frame", "read_into_revoked", "read_gref_beyond_table", "reread_bad_area",
    "refused_writes_left_disk_zero", "no_grant_left_in_use",
    # (3) bad requests
    "read_at_end", "read_across_end", "read_last_sector", "read_sector_wraps", "write_sector_wraps",
    "first_after_last", "write_first_after_last", "last_sect_8", "write_last_sect_255",
    "read_zero_segments", "write_zero_segments", "write_12_segments", "write_255_segments",
    "op_write_barrier_not_offered", "op_reserved_1", "op_discard_not_offered",
    "op_indirect_not_offered", "op_7", "op_255",
    # (4) garbage
    "garbage_all_answered", "garbage_ids_echoed", "garbage_all_refused",
    "garbage_backend_still_connected", "after_garbage_read", "after_garbage_data",
    # (5) overrun
    "overrun_backend_closing", "overrun_no_more_service", "frontend_closed",
    "backend_closed_after_frontend",
    # (6) xenstore flood
    "flood_nodes_quota_enospc", "flood_nodes_written", "value_too_big_enospc",
    "flood_watches_quota_e2big", "flood_watches_set", "watch_events_received", "flood_remove",
    "write_after_flood", "read_after_flood",
]


def _pattern(seed: int) -> bytes:
    """What the guest's fill(page, seed) puts in a page."""
    return bytes((seed + i * 7 + (i >> 9)) & 0xff for i in range(4096))


def _disk(tmp_path, name):
    img = tmp_path / f"{name}.img"
    subprocess.run(["truncate", "-s", f"{DISK_MIB}M", str(img)], check=True)
    return img, ["-drive", f"file={img},if=none,id={name},format=raw",
                 "-device", f"virtio-blk-pci,drive={name},disable-legacy=on"]


def _assert_image(img):
    """Sectors 0..23: pages 0, 1, 2 of the sanity writes; the rest zero."""
    raw = img.read_bytes()
    assert len(raw) == DISK_MIB << 20
    assert raw[:3 * 4096] == _pattern(0x11) + _pattern(0x22) + _pattern(0x33), "sanity data missing"
    assert raw[3 * 4096:].count(0) == len(raw) - 3 * 4096, (
        "bytes beyond the sanity data were written: first at offset "
        f"{next(i for i, b in enumerate(raw[3 * 4096:], 3 * 4096) if b)}")


def _hostile_done(s, domid):
    checks = assert_checks(s, domid, "blk_hostile", HOSTILE_CHECKS)
    # The backend said why it cut the guest off, once.
    assert len(re.findall(r"frontend broke its ring", s.output)) == 1, s.describe()
    return checks


def test_hostile_frontend_alone(tmp_path):
    """Every attack gets its answer; dom0 answers xl and xenstore after."""
    img, drive = _disk(tmp_path, "hostile")
    s = dom0_session(DOM0_INITRD, hv_args="dom0_mem=64M loglvl=info", timeout=300, qemu_args=tuple(drive))
    try:
        out = s.command(f"xl create {HOSTILE_CFG}")
        assert "xl:" not in out and "cannot" not in out, out
        s.wait_for(r"\(d1\) GUEST blk_hostile DONE", timeout=180)
        _hostile_done(s, 1)
        s.wait_for(r"\(HV\) d1 destroyed", timeout=60)
        assert set(xl_list(s)) == {"Domain-0"}, s.describe()
        # The disk is free again and a new frontend (the domid is reused) is
        # served from scratch, the same attacks with the same answers.
        run_again(s, HOSTILE_CFG, "blk_hostile", len(HOSTILE_CHECKS), timeout=180)
        s.send("poweroff\n")
        assert s.finish(timeout=60) == 0, s.describe()
        assert_no_hv_panic(s)
    finally:
        s.close()
    _assert_image(img)


def test_hostile_frontend_beside_linux(tmp_path):
    """The issue's check: while a Debian domU writes ext4 on its own disk
    (dom0's RAM disk), the hostile guest attacks the backend with its disk;
    dom0 answers `xl list` throughout, the Linux domain finishes its write,
    and a new Linux domain reads the same checksum back."""
    img, drive = _disk(tmp_path, "hostile")
    s = dom0_session(FULL_INITRD, hv_args="dom0_mem=192M loglvl=info", timeout=900,
                     qemu_args=("-m", "1G") + tuple(drive))
    try:
        extra = "extra='console=hvc0 quiet lamina.test=blkwrite'"
        out = s.command(f"xl create /etc/xen/debian-disk.cfg {extra}")
        assert "xl:" not in out and "cannot" not in out, out
        s.wait_for(r"\[d1 debian-disk\] LAMINA-INIT: reached /init", timeout=LINUX_BOOT_S)
        # Linux is loading blkfront and writing its disk: attack now.
        out = s.command(f"xl create {HOSTILE_CFG}")
        assert "xl:" not in out and "cannot" not in out, out
        s.wait_for(r"\(d2\) GUEST blk_hostile DONE", timeout=300)
        _hostile_done(s, 2)
        rows = xl_list(s)
        assert "Domain-0" in rows and "blk-hostile" not in rows, s.describe()
        wrote = s.wait_for(r"\[d1 debian-disk\] LAMINA-INIT: blk wrote ([0-9a-f]{32})", timeout=LINUX_BOOT_S)
        s.wait_for(r"\(HV\) d1 destroyed", start=wrote.end(), timeout=60)
        mark = len(s.output)
        s.command("xl create /etc/xen/debian-disk.cfg extra='console=hvc0 quiet lamina.test=blkread'")
        read = s.wait_for(r"\[d\d+ debian-disk\] LAMINA-INIT: blk read ([0-9a-f]{32})", start=mark,
                          timeout=LINUX_BOOT_S + 120)
        assert read.group(1) == wrote.group(1), s.describe()
        assert "FAILED" not in s.output
        assert set(xl_list(s)) <= {"Domain-0", "debian-disk"}, s.describe()
        s.send("poweroff\n")
        assert s.finish(timeout=120) == 0, s.describe()
        assert_no_hv_panic(s)
    finally:
        s.close()
    _assert_image(img)

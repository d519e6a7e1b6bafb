# SPDX-License-Identifier: MIT
"""Virtual block devices: dom0's block backend with Debian's xen-blkfront.

A Debian-kernel domU gets disk = ['phy:<dom0 device>,xvda,w'] from xl; its
initramfs loads xen-blkfront and ext4 (lamina.test=blk*, guests/debian/init).

What runs today: the toolstack side (xenstore directories, xl block-list /
block-attach / block-detach, refusing bad specs and shared writable disks)
and the xenbus handshake with the unmodified frontend up to the ring, which
the backend maps with GNTTABOP_map_grant_ref. The data path needs grant
mapping and copying in the hypervisor (branch gnt) and, for phy:/dev/vdb, a
virtio-blk disk in dom0 (branch pci); those tests are skipped until then.
"""
import re
import time

import pytest

from conftest import BUILD, assert_no_hv_panic, dom0_session

FULL_INITRD = BUILD / "dom0" / "initrd-full.cpio"
HV_ARGS = "dom0_mem=192M loglvl=info"
LINUX_BOOT_S = 240
NEEDS_GNT = "needs GNTTABOP_map_grant_ref/copy in the hypervisor (branch gnt); un-skip after merging"
NEEDS_PCI = "needs dom0's virtio-blk disk /dev/vdb (branch pci) and GNTTABOP map/copy (branch gnt)"


def session(qemu_args=()):
    return dom0_session(FULL_INITRD, hv_args=HV_ARGS, timeout=900, qemu_args=("-m", "1G") + tuple(qemu_args))


def block_rows(s, dom):
    """`xl block-list <dom>` as lists of columns (header left out)."""
    out = s.command(f"xl block-list {dom}")
    lines = [l for l in out.splitlines() if l.strip()]
    head = [i for i, l in enumerate(lines) if l.split()[:3] == ["Vdev", "BE", "handle"]]
    assert len(head) == 1, out
    return [l.split() for l in lines[head[0] + 1:] if not l.startswith("dom0#")]


def create(s, cfg, test, name=None, disk=None):
    extra = f"console=hvc0 quiet lamina.test={test}"
    args = f"xl create {cfg} extra='{extra}'"
    if name:
        args += f" name={name}"
    if disk:
        args += f" disk=[{disk}]"
    return s.command(args)


def test_toolstack_and_handshake():
    """xl writes the vbd directories, blkfront publishes its ring and port,
    block-detach and destroy clean up, and xl refuses what xl refuses."""
    s = session()
    try:
        out = create(s, "/etc/xen/debian-disk.cfg", "blkidle")
        assert "cannot create" not in out, out
        s.wait_for(r"\[d1 debian-disk\] LAMINA-INIT: reached /init", timeout=LINUX_BOOT_S)
        s.wait_for(r"\[d1 debian-disk\] LAMINA-INIT: blk idle", timeout=120)
        rows = block_rows(s, "debian-disk")
        assert len(rows) == 1, rows
        vdev, be, handle, state, evtch, ring_ref, be_path = rows[0]
        assert (vdev, be, handle, be_path) == ("51712", "0", "1", "/local/domain/0/backend/vbd/1/51712"), rows
        # The unmodified frontend did its part of the handshake: a ring
        # granted, a port allocated, and a state past Initialising.
        assert int(ring_ref) >= 8 and int(evtch) > 0, rows
        assert int(state) >= 3, rows
        # The same disk writable for a second domain: refused, nothing made.
        out = create(s, "/etc/xen/debian-disk.cfg", "halt", name="second")
        assert "Device ram0 is mounted in a guest domain" in out, out
        assert "second" not in s.command("xl list")
        # Bad specs: a clear message, no domain.
        out = s.command("xl create /etc/xen/debian-disk.cfg name=bad disk=['phy:ram0,xvdz9999,w']")
        assert "disk 1: 'xvdz9999' is not a virtual device" in out and "no domain created" in out, out
        out = s.command("xl create /etc/xen/debian-disk.cfg name=bad disk=['phy:/dev/nothing,xvda,w']")
        assert "dom0 has no such block device" in out, out
        assert "bad" not in s.command("xl list")
        out = s.command("xl block-attach debian-disk phy:ram0,xvdb,w")
        assert "is mounted in a guest domain" in out, out
        out = s.command("xl block-attach debian-disk phy:ram0,xvda,r")
        assert "is mounted" in out or "already has a disk" in out, out
        # Detach: gone from block-list and from xenstore.
        out = s.command("xl block-detach debian-disk xvda")
        assert "Error" not in out, out
        deadline = time.time() + 30
        while block_rows(s, "debian-disk") and time.time() < deadline:
            time.sleep(1)
        assert block_rows(s, "debian-disk") == []
        assert "not connected" in s.command("xl block-detach debian-disk xvda")
        # The disk is free again: attach read-only, then destroy cleans up.
        out = s.command("xl block-attach debian-disk phy:ram0,xvdb,r")
        assert "xl:" not in out, out
        assert [r[0] for r in block_rows(s, "debian-disk")] == ["51728"]
        s.command("xl destroy debian-disk")
        out = create(s, "/etc/xen/debian-disk.cfg", "halt", name="third")
        assert "cannot create" not in out, out      # the disk was released
        s.wait_for(r"^\(HV\) d\d+ shut down \(poweroff\)", timeout=LINUX_BOOT_S)
        s.send("poweroff\n")
        assert s.finish() == 0, s.describe()
        assert_no_hv_panic(s)
    finally:
        s.close()


@pytest.mark.skip(reason=NEEDS_GNT)
def test_ext4_survives_a_new_domain():
    """Files written through blkfront come back with the same checksum in a
    new domain (dom0's RAM disk keeps them between domains)."""
    s = session()
    try:
        create(s, "/etc/xen/debian-disk.cfg", "blkwrite")
        wrote = s.wait_for(r"\[d1 debian-disk\] LAMINA-INIT: blk wrote ([0-9a-f]{32})", timeout=LINUX_BOOT_S + 120)
        s.wait_for(r"^\(HV\) d1 destroyed", timeout=60)
        create(s, "/etc/xen/debian-disk.cfg", "blkread")
        read = s.wait_for(r"\[d2 debian-disk\] LAMINA-INIT: blk read ([0-9a-f]{32})", timeout=LINUX_BOOT_S + 120)
        assert read.group(1) == wrote.group(1)
        assert "FAILED" not in s.output
        assert_no_hv_panic(s)
    finally:
        s.close()


@pytest.mark.skip(reason=NEEDS_GNT)
def test_blkfront_reload_reconnects():
    s = session()
    try:
        create(s, "/etc/xen/debian-disk.cfg", "blkreload")
        s.wait_for(r"LAMINA-INIT: blkfront unloaded", timeout=LINUX_BOOT_S + 60)
        s.wait_for(r"LAMINA-INIT: blk reload ok", timeout=120)
        assert re.search(r"blkback: d1 vbd 51712: frontend reconnecting", s.output), s.describe()
        assert_no_hv_panic(s)
    finally:
        s.close()


@pytest.mark.skip(reason=NEEDS_PCI)
def test_persistent_disk_two_domains(tmp_path):
    """The final check: ext4 images made on the host with mkfs.ext4, given
    to QEMU as virtio disks; one domU per disk, data read back by new
    domains with the same checksums."""
    import subprocess
    disks = []
    for i in range(2):
        img = tmp_path / f"disk{i}.img"
        subprocess.run(["truncate", "-s", "64M", str(img)], check=True)
        subprocess.run(["/sbin/mkfs.ext4", "-q", "-F", str(img)], check=True)
        disks += ["-drive", f"file={img},if=virtio,format=raw"]
    s = session(disks)
    try:
        create(s, "/etc/xen/debian-disk.cfg", "blkwrite", name="one", disk="'phy:/dev/vda,xvda,w'")
        create(s, "/etc/xen/debian-disk.cfg", "blkwrite", name="two", disk="'phy:/dev/vdb,xvda,w'")
        sums = dict(re.findall(r"\[d\d+ (one|two)\] LAMINA-INIT: blk wrote ([0-9a-f]{32})",
                               s.wait_for(r"(?s)(blk wrote.*){2}", timeout=2 * LINUX_BOOT_S).string))
        create(s, "/etc/xen/debian-disk.cfg", "blkread", name="one", disk="'phy:/dev/vda,xvda,w'")
        m = s.wait_for(r"\[d\d+ one\] LAMINA-INIT: blk read ([0-9a-f]{32})", timeout=LINUX_BOOT_S)
        assert m.group(1) == sums["one"]
        assert_no_hv_panic(s)
    finally:
        s.close()

# SPDX-License-Identifier: MIT
"""Virtual block devices: dom0's block backend with Debian's xen-blkfront.

A Debian-kernel domU gets disk = ['phy:<dom0 device>,xvda,w'] from xl; its
initramfs loads xen-blkfront and ext4 (lamina.test=blk*, guests/debian/init).

The toolstack side (xenstore directories, xl block-list / block-attach /
block-detach, refusing bad specs and shared writable disks), the xenbus
handshake with the unmodified frontend, its disconnect and reconnect
(detach and attach again), and the data path: ext4 on dom0's RAM disk across domains, and on
dom0's virtio disks (host images) across domains and a machine reboot.
"""
import re
import time

import pytest

from conftest import BUILD, REPO, assert_no_hv_panic, dom0_session

FULL_INITRD = BUILD / "dom0" / "initrd-full.cpio"
HV_ARGS = "dom0_mem=192M loglvl=info"
LINUX_BOOT_S = 240


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


def test_ext4_survives_a_new_domain():
    """Files written through blkfront come back with the same checksum in a
    new domain (dom0's RAM disk keeps them between domains)."""
    s = session()
    try:
        create(s, "/etc/xen/debian-disk.cfg", "blkwrite")
        wrote = s.wait_for(r"\[d1 debian-disk\] LAMINA-INIT: blk wrote ([0-9a-f]{32})", timeout=LINUX_BOOT_S + 120)
        s.wait_for(r"^\(HV\) d1 destroyed", timeout=60)
        create(s, "/etc/xen/debian-disk.cfg", "blkread")
        read = s.wait_for(r"\[d\d+ debian-disk\] LAMINA-INIT: blk read ([0-9a-f]{32})", timeout=LINUX_BOOT_S + 120)
        assert read.group(1) == wrote.group(1)
        assert "FAILED" not in s.output
        assert_no_hv_panic(s)
    finally:
        s.close()


def test_blkfront_disconnects_and_reconnects():
    """xl block-detach makes Linux's blkfront close its side; block-attach
    of the same vdev makes it connect again, and the disk reads."""
    s = session()
    try:
        create(s, "/etc/xen/debian-disk.cfg", "blkreload")
        s.wait_for(r"\[d1 debian-disk\] LAMINA-INIT: blk waiting for detach", timeout=LINUX_BOOT_S + 60)
        out = s.command("xl block-detach debian-disk xvda")
        assert "Error" not in out and "xl:" not in out, out
        s.wait_for(r"\[d1 debian-disk\] LAMINA-INIT: blk xvda gone", timeout=60)
        deadline = time.time() + 30
        while block_rows(s, "debian-disk") and time.time() < deadline:
            time.sleep(1)
        assert block_rows(s, "debian-disk") == []
        out = s.command("xl block-attach debian-disk phy:ram0,xvda,w")
        assert "xl:" not in out, out
        s.wait_for(r"\[d1 debian-disk\] LAMINA-INIT: blk reload ok", timeout=60)
        s.wait_for(r"^\(HV\) d1 shut down \(poweroff\)", timeout=60)
        assert_no_hv_panic(s)
    finally:
        s.close()


def _host_checksum(img):
    """md5 of /data then /note inside an ext4 image, read on the host."""
    import hashlib
    import subprocess
    data = b""
    for f in ("/data", "/note"):
        data += subprocess.run(["/sbin/debugfs", "-R", f"cat {f}", str(img)], check=True,
                               capture_output=True).stdout
    return hashlib.md5(data).hexdigest()


def test_persistent_disks_two_domains_and_a_reboot(tmp_path):
    """The issue's check: ext4 images made on the host with mkfs.ext4 are
    dom0's virtio disks; two domUs, each with its own disk as xvda, write
    files at the same time and see no other disk; the host finds the files
    in the images; after the whole machine reboots (a new QEMU), new domains
    read the files back with the same checksums."""
    import subprocess
    imgs = [tmp_path / f"disk{i}.img" for i in range(2)]
    disks = []
    for img in imgs:
        subprocess.run(["truncate", "-s", "64M", str(img)], check=True)
        subprocess.run(["/sbin/mkfs.ext4", "-q", "-F", str(img)], check=True)
        disks += ["-drive", f"file={img},if=none,id={img.stem},format=raw",
                  "-device", f"virtio-blk-pci,drive={img.stem},disable-legacy=on"]
    names = {"one": "/dev/vda", "two": "/dev/vdb"}
    s = session(disks)
    try:
        for name, dev in names.items():
            out = create(s, "/etc/xen/debian-disk.cfg", "blkwrite", name=name, disk=f"'phy:{dev},xvda,w'")
            assert "cannot create" not in out and "xl:" not in out, out
        sums = {}
        for name in names:
            sums[name] = s.wait_for(rf"\[d\d+ {name}\] LAMINA-INIT: blk wrote ([0-9a-f]{{32}})",
                                    timeout=2 * LINUX_BOOT_S).group(1)
            seen = s.wait_for(rf"\[d\d+ {name}\] LAMINA-INIT: disks seen: (.*)$", timeout=10).group(1)
            assert seen.split() == ["xvda"], f"{name} sees {seen}"
        assert sums["one"] != sums["two"]
        s.wait_for(r"\(HV\) d\d+ destroyed[\s\S]*\(HV\) d\d+ destroyed", timeout=120)
        s.send("poweroff\n")
        assert s.finish() == 0, s.describe()
        assert "FAILED" not in s.output
        assert_no_hv_panic(s)
    finally:
        s.close()
    for img, name in zip(imgs, names):
        assert _host_checksum(img) == sums[name], f"{img.name} does not hold what {name} wrote"

    s = session(disks)      # the machine rebooted: a fresh QEMU, same images
    try:
        for name, dev in names.items():
            create(s, "/etc/xen/debian-disk.cfg", "blkread", name=name, disk=f"'phy:{dev},xvda,w'")
            m = s.wait_for(rf"\[d\d+ {name}\] LAMINA-INIT: blk read ([0-9a-f]{{32}})", timeout=LINUX_BOOT_S)
            assert m.group(1) == sums[name], s.describe()
        assert "FAILED" not in s.output
        assert_no_hv_panic(s)
    finally:
        s.close()


def test_make_run_user_gets_a_persistent_disk(tmp_path):
    """What README promises a `make run` user: the disk image make run
    attaches (tools/mkdisk.py, two MBR partitions), `xl create -c
    /etc/xen/debian-vda1.cfg`, and in the guest's shell /dev/xvda is there
    with blkfront and ext4 loaded: make a file system, write, read back."""
    import subprocess
    img = tmp_path / "disk.img"
    subprocess.run([str(REPO / "tools" / "mkdisk.py"), str(img), "64"], check=True)
    s = session(["-drive", f"file={img},if=none,id=d0,format=raw",
                 "-device", "virtio-blk-pci,drive=d0,disable-legacy=on"])
    try:
        s.send("xl create -c /etc/xen/debian-vda1.cfg\n")
        s.wait_for(r"LAMINA-INIT: busybox shell", timeout=LINUX_BOOT_S)
        time.sleep(1)
        mark = len(s.output)
        s.send("mke2fs -q /dev/xvda && mount -t ext4 /dev/xvda /mnt && echo kumquat > /mnt/f && "
               "umount /mnt && mount -t ext4 /dev/xvda /mnt && echo READ-$(cat /mnt/f)-BACK\n")
        s.wait_for(r"^READ-kumquat-BACK", start=mark, timeout=120)
        s.send("poweroff -f\n")
        s.wait_for(r"\(HV\) d\d+ destroyed", start=mark, timeout=120)
        assert_no_hv_panic(s)
    finally:
        s.close()

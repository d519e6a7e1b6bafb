# SPDX-License-Identifier: MIT
"""Virtual network interfaces: xl's vif plumbing with Debian's xen-netfront.

A Debian-kernel domU gets vif = ['mac=...,bridge=xenbr0'] from
/etc/xen/debian-net.cfg; its initramfs loads xen-netfront and brings eth0
up with lamina.ip= (lamina.test=netup, guests/debian/init).

This covers the toolstack side (the vif directories as libxl writes them,
xl network-list / network-attach / network-detach, refusing bad specs and
a MAC that is another vif's, cleanup on destroy) and the xenbus handshake
with dom0's netback: InitWait with its features, netfront's rings, event
channel and request-rx-copy, both Connected; detach goes through Closing.
Traffic is test_net_traffic.py's.
"""
import time

from conftest import BUILD, assert_no_hv_panic, dom0_session

FULL_INITRD = BUILD / "dom0" / "initrd-full.cpio"
HV_ARGS = "dom0_mem=192M loglvl=info"
LINUX_BOOT_S = 240
BE = "/local/domain/0/backend/vif/1"
FE = "/local/domain/1/device/vif"


def session():
    return dom0_session(FULL_INITRD, hv_args=HV_ARGS, timeout=900, qemu_args=("-m", "1G"))


def vif_rows(s, dom):
    """`xl network-list <dom>` as lists of columns (header left out)."""
    out = s.command(f"xl network-list {dom}")
    lines = [l for l in out.splitlines() if l.strip()]
    head = [i for i, l in enumerate(lines) if l.split()[:3] == ["Idx", "BE", "Mac"]]
    assert len(head) == 1, out
    return [l.split() for l in lines[head[0] + 1:] if not l.startswith("dom0#")]


def read(s, path):
    return s.command(f"xenstore-read {path}").strip().splitlines()[-1]


def wait_rows(s, dom, cond, timeout=60):
    deadline = time.time() + timeout
    rows = vif_rows(s, dom)
    while not cond(rows) and time.time() < deadline:
        time.sleep(1)
        rows = vif_rows(s, dom)
    return rows


def test_toolstack_and_netfront_handshake():
    """xl writes the vif directories; netfront waits for its backend, then
    publishes its rings once the backend is in InitWait; network-attach,
    network-detach and destroy add and remove what xl would; bad specs
    create nothing."""
    s = session()
    try:
        out = s.command("xl create /etc/xen/debian-net.cfg "
                        "extra='console=hvc0 quiet lamina.test=netup lamina.ip=10.0.0.2/24'")
        assert "cannot create" not in out and "Failed" not in out, out
        # The backend directory as libxl writes it, Initialising.
        for key, want in [("frontend", f"{FE}/0"), ("frontend-id", "1"), ("online", "1"), ("state", "2"),
                          ("mac", "00:16:3e:00:00:02"), ("bridge", "xenbr0"), ("handle", "0"), ("type", "vif"),
                          ("feature-rx-copy", "1"), ("feature-rx-flip", "0")]:
            assert read(s, f"{BE}/0/{key}") == want, key
        for key, want in [("backend", f"{BE}/0"), ("backend-id", "0"), ("handle", "0"),
                          ("mac", "00:16:3e:00:00:02")]:
            assert read(s, f"{FE}/0/{key}") == want, key
        s.wait_for(r"\[d1 debian-net\] LAMINA-INIT: reached /init", timeout=LINUX_BOOT_S)
        # netback offers what it serves; netfront connects to it.
        for key, want in [("feature-rx-copy", "1"), ("feature-rx-flip", "0"), ("feature-sg", "1"),
                          ("feature-gso-tcpv4", "1"), ("feature-gso-tcpv6", "0"), ("feature-split-event-channels", "0")]:
            assert read(s, f"{BE}/0/{key}") == want, key
        rows = wait_rows(s, "debian-net", lambda r: r and r[0][4] == "4", timeout=180)
        assert len(rows) == 1, rows
        idx, be, mac, handle, state, evtch, refs, be_path = rows[0]
        assert (idx, be, mac, handle, be_path) == ("0", "0", "00:16:3e:00:00:02", "0", f"{BE}/0"), rows
        tx, rx = (int(x) for x in refs.split("/"))
        assert state == "4" and int(evtch) > 0 and tx >= 8 and rx >= 8 and tx != rx, rows
        assert read(s, f"{FE}/0/tx-ring-ref") == str(tx)
        assert read(s, f"{FE}/0/rx-ring-ref") == str(rx)
        assert read(s, f"{FE}/0/event-channel") == evtch
        assert read(s, f"{FE}/0/request-rx-copy") == "1"
        assert read(s, f"{BE}/0/state") == "4"
        # The guest sees its interface with the configured MAC and address.
        s.wait_for(r"\[d1 debian-net\] LAMINA-INIT: net eth0 mac 00:16:3e:00:00:02", timeout=60)
        s.wait_for(r"\[d1 debian-net\] LAMINA-INIT: net eth0 up 10.0.0.2/24", timeout=60)
        s.wait_for(r"\[d1 debian-net\] LAMINA-INIT: net eth0 carrier on", timeout=60)
        s.wait_for(r"\[d1 debian-net\] LAMINA-INIT: net eth0 inet 10\.0\.0\.2/24", timeout=30)
        # Bad specs: a clear message, no domain, no vif.
        out = s.command("xl create /etc/xen/debian-net.cfg name=bad vif=['mac=zz']")
        assert "vif 1: mac 'zz' is not a MAC address" in out and "no domain created" in out, out
        out = s.command("xl create /etc/xen/debian-net.cfg name=bad vif=['','devid=0']")
        assert "devid 0 is used twice" in out and "no domain created" in out, out
        assert "bad" not in s.command("xl list")
        out = s.command("xl network-attach debian-net rate=10Mb/s")
        assert "unknown vif parameter 'rate'" in out, out
        out = s.command("xl network-attach debian-net devid=0")
        assert "already has a vif with devid 0" in out, out
        out = s.command("xl network-attach debian-net mac=00:16:3e:00:00:02")
        assert "MAC 00:16:3e:00:00:02 is already another vif's" in out, out
        assert len(vif_rows(s, "debian-net")) == 1
        # Attach: the next devid, a generated MAC in Xen's range.
        out = s.command("xl network-attach debian-net bridge=xenbr1 script=vif-bridge")
        assert "xl: note: vif 1: script 'vif-bridge' is not run" in out, out
        rows = vif_rows(s, "debian-net")
        assert [r[0] for r in rows] == ["0", "1"], rows
        assert rows[1][2].startswith("00:16:3e:") and rows[1][2] != "00:16:3e:00:00:02", rows
        assert read(s, f"{BE}/1/bridge") == "xenbr1"
        assert read(s, f"{BE}/1/script") == "vif-bridge"
        # netfront connects the new vif as well.
        rows = wait_rows(s, "debian-net", lambda r: len(r) == 2 and r[1][4] == "4")
        assert read(s, f"{BE}/1/state") == "4", rows
        # Detach by MAC and by devid: the frontend closes, then both are
        # gone from the list and the store.
        assert "Error" not in s.command(f"xl network-detach debian-net {rows[1][2]}")
        assert [r[0] for r in wait_rows(s, "debian-net", lambda r: len(r) == 1)] == ["0"]
        assert "couldn't read" in s.command(f"xenstore-read {BE}/1/state")
        assert "not connected" in s.command("xl network-detach debian-net 1")
        assert "Error" not in s.command("xl network-detach debian-net 0")
        assert wait_rows(s, "debian-net", lambda r: r == []) == []
        assert "couldn't read" in s.command(f"xenstore-read {BE}/0/state")
        assert "did not close" not in s.output
        # Destroy drops the backend directories too.
        s.command("xl network-attach debian-net")
        assert [r[0] for r in vif_rows(s, "debian-net")] == ["0"]
        s.command("xl destroy debian-net")
        assert "couldn't read" in s.command(f"xenstore-read {BE}")
        assert "FAILED" not in s.output
        s.send("poweroff\n")
        assert s.finish() == 0, s.describe()
        assert_no_hv_panic(s)
    finally:
        s.close()

# SPDX-License-Identifier: MIT
"""Traffic through dom0's netback and switch with Linux's own xen-netfront.

Debian-kernel domUs run guests/debian/nettool.c from their initramfs
(guests/debian/init: lamina.test=netrecv / netsend / nethost):

- domU to domU (/etc/xen/netrecv.cfg, netsend.cfg): each pings the other,
  and a 64 MiB TCP stream from a random seed goes from netsend to netrecv;
  the CRC-32 the sender computed over what it wrote equals the one the
  receiver computed over what it read, and both counted 64 MiB. The
  switch's counters show the frames went through the two vifs, none refused.
- domU to host (/etc/xen/nethost.cfg): dom0's virtio-net NIC is on QEMU's
  user network, restricted to the loopback services of hostnet.py (guestfwd
  10.0.2.100:5001 and :5002). The domU pings the gateway, sends 16 MiB that
  the host checksums itself (the answer it gets back must match its own
  checksum, and the host's record must match both), and times TCP round
  trips to the host's echo service (nettool checks every answer).
"""
import random
import re

from conftest import BUILD, assert_no_hv_panic, dom0_session
from hostnet import HostServices

FULL_INITRD = BUILD / "dom0" / "initrd-full.cpio"
HV_ARGS = "dom0_mem=192M loglvl=info"
LINUX_BOOT_S = 300
STREAM = 64 << 20
HOST_BYTES = 16 << 20
# Bounds that hold with and without TCPv4 GSO between netfront and netback:
# a packet through the switch carries at most 64 KiB of TCP data, a frame
# on the uplink at most an MTU.
MAX_PACKET_PAYLOAD = 65536
MAX_FRAME_PAYLOAD = 1500
# netback's complaint about a frontend (contract: "netback: d<domid> vif <devid>: ...").
NETBACK_COMPLAINT = re.compile(r"netback: d\d+ vif \d+: ")
VSWITCH_PORT = re.compile(r"^port (\d+) (\S+) mac (\S+) in (\d+) out (\d+) spoofed (\d+) errors (\d+) dropped (\d+)$",
                          re.M)


def session(*qemu_args):
    return dom0_session(FULL_INITRD, hv_args=HV_ARGS, timeout=1500, qemu_args=("-m", "1G") + qemu_args)


def create(s, cfg, extra):
    out = s.command(f"xl create /etc/xen/{cfg}.cfg extra='console=hvc0 quiet {extra}'")
    assert "cannot create" not in out and "Failed" not in out and "rror" not in out, out
    return out


def vswitch(s):
    """`vswitch`'s port lines by port name: (mac, in, out, spoofed, errors, dropped)."""
    out = s.command("vswitch")
    ports = {m.group(2): (m.group(3),) + tuple(int(m.group(i)) for i in range(4, 9))
             for m in VSWITCH_PORT.finditer(out)}
    assert ports and re.search(r"^vswitch: \d+ ports, \d+ learned, runts \d+ hairpin \d+ throttled 0$", out, re.M), out
    return ports


def vif_port(ports, domid):
    names = [n for n in ports if n.startswith(f"vif{domid}.")]
    assert len(names) == 1, ports
    return ports[names[0]]


def shut_down(s, *domains):
    """netback complained about nothing, no guest failed; the domUs are
    destroyed, dom0 powers off cleanly, the hypervisor never panicked."""
    assert not NETBACK_COMPLAINT.search(s.output) and "FAILED" not in s.output, s.describe()
    for name in domains:
        s.command(f"xl destroy {name}")
    s.send("poweroff\n")
    assert s.finish() == 0, s.describe()
    assert_no_hv_panic(s)


def test_domu_to_domu_ping_and_64mib_stream():
    seed = random.randrange(1, 1 << 32)
    s = session()
    try:
        create(s, "netrecv", "lamina.test=netrecv lamina.ip=10.0.0.2/24 lamina.peer=10.0.0.3")
        create(s, "netsend", f"lamina.test=netsend lamina.ip=10.0.0.3/24 lamina.peer=10.0.0.2 "
                             f"lamina.bytes={STREAM} lamina.seed={seed}")
        recv_id = int(s.wait_for(r"\[d(\d+) netrecv\] LAMINA-INIT: reached /init", timeout=LINUX_BOOT_S).group(1))
        send_id = int(s.wait_for(r"\[d(\d+) netsend\] LAMINA-INIT: reached /init", timeout=LINUX_BOOT_S).group(1))
        s.wait_for(r"\[d\d+ netrecv\] LAMINA-INIT: net eth0 mac 00:16:3e:00:00:0a", timeout=240)
        s.wait_for(r"\[d\d+ netsend\] LAMINA-INIT: net eth0 mac 00:16:3e:00:00:0b", timeout=240)
        # netsend -> netrecv: pings answered (the first ones found the peer).
        s.wait_for(r"\[d\d+ netsend\] LAMINA-INIT: net 10\.0\.0\.2 answers", timeout=300)
        s.wait_for(r"\[d\d+ netsend\] LAMINA-INIT: net ping 10\.0\.0\.2: 3 packets transmitted, 3 packets received",
                   timeout=60)
        # The stream: same byte count and checksum on both sides.
        sent = s.wait_for(r"\[d\d+ netsend\] nettool: (send (\d+) bytes checksum ([0-9a-f]{8}) in [\d.]+ s = "
                          r"[\d.]+ MiB/s|FAILED.*)\n", timeout=900)
        got = s.wait_for(r"\[d\d+ netrecv\] nettool: (recv (\d+) bytes checksum ([0-9a-f]{8}) in [\d.]+ s = "
                         r"[\d.]+ MiB/s|FAILED.*)\n", timeout=120)
        assert sent.group(2) and got.group(2), (sent.group(0), got.group(0))
        assert int(sent.group(2)) == STREAM and int(got.group(2)) == STREAM, (sent.group(0), got.group(0))
        assert sent.group(3) == got.group(3), (sent.group(0), got.group(0))
        # netrecv -> netsend.
        s.wait_for(r"\[d\d+ netrecv\] LAMINA-INIT: net ping 10\.0\.0\.3: 3 packets transmitted, 3 packets received",
                   timeout=120)
        s.wait_for(r"\[d\d+ netrecv\] LAMINA-INIT: net recv done", timeout=60)
        s.wait_for(r"\[d\d+ netsend\] LAMINA-INIT: net send done", timeout=60)
        ports = vswitch(s)
        smac, s_in, s_out, s_spoofed, s_errors, s_dropped = vif_port(ports, send_id)
        rmac, r_in, r_out, r_spoofed, r_errors, r_dropped = vif_port(ports, recv_id)
        assert (smac, rmac) == ("00:16:3e:00:00:0b", "00:16:3e:00:00:0a"), ports
        assert s_in >= STREAM // MAX_PACKET_PAYLOAD and r_out >= STREAM // MAX_PACKET_PAYLOAD, ports
        assert r_in > 0 and s_out > 0, ports      # ACKs and ping replies the other way
        assert (s_spoofed, s_errors, r_spoofed, r_errors) == (0, 0, 0, 0), ports
        shut_down(s, "netsend", "netrecv")
    finally:
        s.close()


def test_domu_reaches_host_service_through_uplink():
    services = HostServices()
    seed = random.randrange(1, 1 << 32)
    s = session("-netdev", services.netdev("n0"), "-device", "virtio-net-pci,netdev=n0,disable-legacy=on")
    try:
        create(s, "nethost", f"lamina.test=nethost lamina.ip=10.0.2.15/24 lamina.bytes={HOST_BYTES} "
                             f"lamina.seed={seed} lamina.rr=20")
        domid = int(s.wait_for(r"\[d(\d+) nethost\] LAMINA-INIT: reached /init", timeout=LINUX_BOOT_S).group(1))
        s.wait_for(r"\[d\d+ nethost\] LAMINA-INIT: net 10\.0\.2\.2 answers", timeout=300)
        s.wait_for(r"\[d\d+ nethost\] LAMINA-INIT: net ping 10\.0\.2\.2: 3 packets transmitted, 3 packets received",
                   timeout=60)
        sent = s.wait_for(r"\[d\d+ nethost\] nettool: (xfer (\d+) bytes checksum ([0-9a-f]{8}) in [\d.]+ s = "
                          r"[\d.]+ MiB/s|FAILED.*)\n", timeout=600)
        assert sent.group(2), sent.group(0)
        reply = s.wait_for(r"\[d\d+ nethost\] nettool: reply (.*)\n", timeout=10)
        assert int(sent.group(2)) == HOST_BYTES, sent.group(0)
        # What the host computed, as the guest heard it and as the host recorded it.
        assert reply.group(1) == f"{HOST_BYTES} {sent.group(3)}", (sent.group(0), reply.group(0))
        assert services.received == [(HOST_BYTES, int(sent.group(3), 16))], services.received
        # Round trips to the echo service, each answer checked by nettool.
        s.wait_for(r"\[d\d+ nethost\] nettool: rr 20 x 1 bytes median [\d.]+ us", timeout=120)
        s.wait_for(r"\[d\d+ nethost\] LAMINA-INIT: net ping 10\.0\.2\.2: 20 packets transmitted, 20 packets received",
                   timeout=120)
        s.wait_for(r"\[d\d+ nethost\] LAMINA-INIT: net host done", timeout=60)
        assert services.errors == [], services.errors
        ports = vswitch(s)
        mac, v_in, v_out, spoofed, errors, _ = vif_port(ports, domid)
        assert mac == "00:16:3e:00:00:10" and v_in >= HOST_BYTES // MAX_PACKET_PAYLOAD and v_out > 0, ports
        assert (spoofed, errors) == (0, 0), ports
        # The uplink carried the stream out and the answers in. Its errors
        # are not asserted: a frame finding the NIC's 32 transmit buffers
        # all busy is dropped (no backpressure to the vif yet), and TCP
        # sends it again.
        uplink = ports.get("eth0")
        assert uplink and uplink[1] > 0 and uplink[2] >= HOST_BYTES // MAX_FRAME_PAYLOAD, ports
        shut_down(s, "nethost")
    finally:
        s.close()
        services.close()

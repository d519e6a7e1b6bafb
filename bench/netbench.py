#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Network, domU versus native: TCP throughput, TCP round trips and ping
latency between two guests and from a guest to a service on the host, with
guests/debian/nettool.c in the same Debian kernel and initramfs on both sides.

Lamina: two domUs (/etc/xen/netrecv.cfg, netsend.cfg) through xen-netfront,
dom0's netback and switch; and a domU (/etc/xen/nethost.cfg) through the
switch and dom0's virtio-net NIC onto QEMU's user network. Native: the
kernel drives a virtio-net NIC itself; two QEMU processes joined by
`-netdev socket` (listen= / connect= on 127.0.0.1) for guest to guest, and
the same user network for guest to host. The host side is
tests/integration/hostnet.py in this process, reached through `guestfwd`
(10.0.2.100:5001 takes a framed stream and answers its CRC-32, :5002
echoes), with `restrict=on`: nothing leaves the loopback. Every QEMU runs
`-accel tcg -machine q35 -cpu max -m 2048`, NICs are virtio-net-pci with
disable-legacy=on.

Each boot does --rounds rounds of: a --mib MiB stream (guest to guest:
nettool send -> recv, MiB/s as the receiver measured it; guest to host:
nettool xfer, until the host's answer), --rr 1-byte TCP request-response
round trips (nettool rr, median us), and --rr back-to-back pings (busybox
ping -A, mean rtt in ms) of the peer, or of slirp's gateway 10.0.2.2 from a
guest on the host's network. The table gives min/median/max over the rounds
and the domU/native ratio of the medians. It measures; it asserts nothing
about the numbers (only that sender and receiver agree on every stream).

Not like for like: natively the two guests are two QEMU processes, each
with its own emulated CPU (a host thread each); on Lamina both domUs and
dom0 share the one emulated CPU of one QEMU.
"""
import argparse
import os
import re
import socket
import sys

from pvbench import Qemu, debian_dir, lamina_args, ratio_table

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
from hostnet import HostServices  # noqa: E402  (one copy of the host services, shared with the tests)

FIELDS = ["vm_mibs", "vm_rr_us", "vm_ping_ms", "host_mibs", "host_rr_us", "host_ping_ms"]
LOWER_IS_BETTER = {"vm_rr_us", "vm_ping_ms", "host_rr_us", "host_ping_ms"}
# Whole lines only (a line still arriving never matches), with the domU's
# console prefix on Lamina.
SOURCE = r"^(?:\[d\d+ (\S+)\] )?"
STREAM = re.compile(SOURCE + r"nettool: (recv|send|xfer) (\d+) bytes checksum ([0-9a-f]{8}) in [\d.]+ s = ([\d.]+) "
                    r"MiB/s\n", re.M)
REPLY = re.compile(SOURCE + r"nettool: reply (\d+) ([0-9a-f]{8})\n", re.M)
RR = re.compile(SOURCE + r"nettool: rr (\d+) x 1 bytes median ([\d.]+) us", re.M)
PINGS = re.compile(SOURCE + r"LAMINA-INIT: net ping \S+: (\d+) packets transmitted, (\d+) packets received")
RTT = re.compile(SOURCE + r"LAMINA-INIT: net ping \S+: round-trip min/avg/max = [\d.]+/([\d.]+)/")
FAILED = r"nettool: FAILED.*\n|LAMINA-INIT: net .* does not answer|LAMINA-INIT: net no eth0.*|cannot create domain.*"
NATIVE = ["-netdev", "{netdev}", "-device", "virtio-net-pci,netdev=n0,disable-legacy=on,mac={mac}"]
MAC_RECV, MAC_SEND = "52:54:00:00:00:0a", "52:54:00:00:00:0b"


def params(args):
    return "lamina.bytes=%d lamina.rounds=%d lamina.rr=%d lamina.seed=%d" % (
        args.mib << 20, args.rounds, args.rr, args.seed)


def wait_done(q, pattern, timeout):
    m = q.wait_for(pattern + "|" + FAILED, timeout)
    if not re.match(pattern.encode(), m.group(0)):
        raise RuntimeError(m.group(0).decode(errors="replace"))


def parse(text, args, kind):
    """The rounds' numbers from the console text of one side (or all)."""
    streams = [m for m in STREAM.finditer(text)]
    mode = "xfer" if kind == "host" else "recv"
    mibs = [float(m.group(5)) for m in streams if m.group(2) == mode]
    if kind == "vm":
        # Sender and receiver agree on every round's bytes and checksum.
        sent = [(m.group(3), m.group(4)) for m in streams if m.group(2) == "send"]
        got = [(m.group(3), m.group(4)) for m in streams if m.group(2) == "recv"]
        if sent != got or len(got) != args.rounds:
            raise RuntimeError("streams differ: sent %s, received %s" % (sent, got))
    else:
        replies = [(m.group(2), m.group(3)) for m in REPLY.finditer(text)]
        sent = [(m.group(3), m.group(4)) for m in streams if m.group(2) == "xfer"]
        if replies != sent or len(sent) != args.rounds:
            raise RuntimeError("the host heard otherwise: sent %s, host answered %s" % (sent, replies))
    rr = [float(m.group(3)) for m in RR.finditer(text) if int(m.group(2)) == args.rr]
    ping = pings(text, args.rr)
    if not (len(mibs) == len(rr) == len(ping) == args.rounds):
        raise RuntimeError("%s: expected %d rounds, got %s %s %s" % (kind, args.rounds, mibs, rr, ping))
    return [{kind + "_mibs": a, kind + "_rr_us": b, kind + "_ping_ms": c} for a, b, c in zip(mibs, rr, ping)]


def pings(text, count):
    """Mean rtt (ms) of each ping run of `count` pings; the lines of one run
    come from one guest but, on Lamina, may have another's in between."""
    sent, means = {}, []
    for line in text.splitlines():
        m = PINGS.match(line)
        if m:
            sent[m.group(1)] = int(m.group(2))
            if int(m.group(2)) == count and m.group(3) != m.group(2):
                raise RuntimeError("pings lost: " + line)
        m = RTT.match(line)
        if m and sent.get(m.group(1)) == count:
            means.append(float(m.group(2)))
    return means


def native_guest(debian, role, extra, netdev, mac):
    return Qemu(["-kernel", os.path.join(debian, "vmlinuz"), "-initrd", os.path.join(debian, "initramfs.cpio.gz"),
                 "-append", "console=ttyS0 quiet lamina.test=%s %s" % (role, extra)]
                + [a.format(netdev=netdev, mac=mac) for a in NATIVE])


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def native_vm(debian, args):
    port = free_port()
    recv = native_guest(debian, "netrecv", "lamina.ip=10.0.0.2/24 lamina.peer=10.0.0.3 " + params(args),
                        "socket,id=n0,listen=127.0.0.1:%d" % port, MAC_RECV)
    send = None
    try:
        recv.wait_for(r"LAMINA-INIT: reached /init", args.timeout)   # listening by then
        send = native_guest(debian, "netsend", "lamina.ip=10.0.0.3/24 lamina.peer=10.0.0.2 " + params(args),
                            "socket,id=n0,connect=127.0.0.1:%d" % port, MAC_SEND)
        wait_done(send, r"LAMINA-INIT: net send done", args.timeout)
        wait_done(recv, r"LAMINA-INIT: net recv done", args.timeout)
        return parse((recv.out + send.out).decode(errors="replace").replace("\r", ""), args, "vm")
    finally:
        recv.close()
        if send:
            send.close()


def native_host(debian, args):
    services = HostServices()
    q = native_guest(debian, "nethost", "lamina.ip=10.0.2.15/24 " + params(args), services.netdev("n0"), MAC_RECV)
    try:
        wait_done(q, r"LAMINA-INIT: net host done", args.timeout)
        return parse(q.out.decode(errors="replace").replace("\r", ""), args, "host")
    finally:
        q.close()
        services.close()


def lamina(build, args, kind):
    services = HostServices() if kind == "host" else None
    nic = ["-netdev", services.netdev("n0"), "-device", "virtio-net-pci,netdev=n0,disable-legacy=on"] \
        if services else []
    q = Qemu(lamina_args(build) + nic)
    try:
        q.wait_for(r"dom0# ", args.timeout)
        if kind == "vm":
            q.send("xl create /etc/xen/netrecv.cfg extra='console=hvc0 quiet lamina.test=netrecv "
                   "lamina.ip=10.0.0.2/24 lamina.peer=10.0.0.3 %s'\n" % params(args))
            q.wait_for(r"dom0# ", args.timeout, start=len(q.out))
            q.send("xl create /etc/xen/netsend.cfg extra='console=hvc0 quiet lamina.test=netsend "
                   "lamina.ip=10.0.0.3/24 lamina.peer=10.0.0.2 %s'\n" % params(args))
            wait_done(q, r"\[d\d+ netsend\] LAMINA-INIT: net send done", args.timeout)
            wait_done(q, r"\[d\d+ netrecv\] LAMINA-INIT: net recv done", args.timeout)
        else:
            q.send("xl create /etc/xen/nethost.cfg extra='console=hvc0 quiet lamina.test=nethost "
                   "lamina.ip=10.0.2.15/24 %s'\n" % params(args))
            wait_done(q, r"\[d\d+ nethost\] LAMINA-INIT: net host done", args.timeout)
        # The switch's counters and anything netback logged, for the record.
        mark = len(q.out)
        q.send("vswitch\n")
        q.wait_for(r"vswitch: .*\n", args.timeout, start=mark)
        # CPU seconds per domain: where the time went.
        q.send("xl list\n")
        q.wait_for(r"Domain-0 .*\n(?:.*\n)*?dom0# ", args.timeout, start=mark)
        text = q.out.decode(errors="replace").replace("\r", "")
        counters = q.out[mark:].decode(errors="replace").replace("\r", "").splitlines()
        for line in counters + [l for l in text.splitlines() if re.search(r"netback: d\d+ vif", l)]:
            if line.startswith(("port ", "vswitch: ", "netback: ", "Domain-0 ", "net")) or \
                    re.search(r"netback: d\d+ vif", line):
                print("  %s: %s" % (kind, line), flush=True)
        return parse(text, args, kind)
    finally:
        q.close()
        if services:
            services.close()


def merge(vm, host):
    return [dict(a, **b) for a, b in zip(vm, host)]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3, help="measurement rounds in each boot")
    ap.add_argument("--mib", type=int, default=64, help="MiB per stream")
    ap.add_argument("--rr", type=int, default=200, help="TCP round trips and pings per round")
    ap.add_argument("--seed", type=int, default=1, help="the first round's stream seed")
    ap.add_argument("--build", default=os.path.join(ROOT, "build", "release"))
    ap.add_argument("--native-only", action="store_true")
    ap.add_argument("--timeout", type=int, default=900)
    args = ap.parse_args()
    debian = debian_dir(args.build)
    native = merge(native_vm(debian, args), native_host(debian, args))
    print("native: %s" % native, flush=True)
    domu = []
    if not args.native_only:
        domu = merge(lamina(args.build, args, "vm"), lamina(args.build, args, "host"))
        print("domU:   %s" % domu, flush=True)
    ratio_table(FIELDS, native, domu, width=13)
    print("(vm_*: guest to guest, host_*: guest to a loopback service on the host; ratio = domU median / native "
          "median: below 1 is slower for MiB/s, above 1 is slower for us and ms)")


if __name__ == "__main__":
    main()

# SPDX-License-Identifier: MIT
"""dom0 drives QEMU's virtio-net NICs (docs/virtio-net.md).

Each NIC sits on its own QEMU user-mode (slirp) network: dom0 sends an ARP
request for the gateway and prints the MAC of the reply, which only slirp
can have produced (52:55 followed by the address asked for). A modern and a
transitional device, counters, an address nobody answers, and a machine
without NICs.
"""
import re

import pytest

from conftest import HV_PANIC, dom0_session

MAC0 = "52:54:00:12:34:56"
MAC1 = "52:54:00:ab:cd:ef"


def nics():
    return ("-netdev", "user,id=n0",
            "-device", f"virtio-net-pci,netdev=n0,disable-legacy=on,mac={MAC0}",
            # Transitional (1af4:1000) on a second, separate user network.
            "-netdev", "user,id=n1,net=10.0.3.0/24",
            "-device", f"virtio-net-pci,netdev=n1,mac={MAC1}")


def counters(s, dev):
    out = s.command("netif")
    m = re.search(rf"^{dev}: mac (\S+) link (\w+)\n  rx packets (\d+) bytes (\d+) errors (\d+) dropped (\d+)\n"
                  rf"  tx packets (\d+) bytes (\d+) dropped (\d+)$", out, re.M)
    assert m, out
    mac, link = m.group(1), m.group(2)
    rx_p, rx_b, rx_err, rx_drop, tx_p, tx_b, tx_drop = (int(m.group(i)) for i in range(3, 10))
    return mac, link, dict(rx_p=rx_p, rx_b=rx_b, rx_err=rx_err, rx_drop=rx_drop, tx_p=tx_p, tx_b=tx_b,
                           tx_drop=tx_drop)


def test_arp_round_trip_through_slirp():
    s = dom0_session(qemu_args=nics())
    try:
        boot = s.output
        assert f"dom0: eth0: virtio-net, mac {MAC0}" in boot, boot
        assert f"dom0: eth1: virtio-net, mac {MAC1}" in boot, boot
        assert "1af4:1041" in s.command("lspci")

        mac, link, before = counters(s, "eth0")
        assert (mac, link) == (MAC0, "up")
        assert before["rx_err"] == 0 and before["tx_drop"] == 0

        out = s.command("arping")
        assert re.search(r"^arping: 10\.0\.2\.2 is at 52:55:0a:00:02:02 \(\d+ us\)$", out, re.M), out
        # slirp's DNS address answers too, with its own MAC: the reply is read, not assumed.
        out = s.command("arping eth0 10.0.2.3")
        assert re.search(r"^arping: 10\.0\.2\.3 is at 52:55:0a:00:02:03 ", out, re.M), out
        # An address slirp does not own gets no reply, three requests later.
        out = s.command("arping eth0 10.0.2.77", timeout=30)
        assert "arping: 10.0.2.77 did not answer on eth0" in out, out

        _, _, after = counters(s, "eth0")
        assert after["tx_p"] - before["tx_p"] == 5      # one request each, three for 10.0.2.77
        assert after["tx_b"] - before["tx_b"] == 5 * 42
        assert after["rx_p"] - before["rx_p"] >= 2      # the two replies (60 bytes each, padded)
        assert after["rx_b"] - before["rx_b"] >= 2 * 42
        assert after["rx_err"] == 0 and after["tx_drop"] == 0

        # The transitional NIC on the other network; eth0's counters do not move.
        mac, link, before1 = counters(s, "eth1")
        assert (mac, link) == (MAC1, "up")
        out = s.command("arping eth1 10.0.3.2 10.0.3.15")
        assert re.search(r"^arping: 10\.0\.3\.2 is at 52:55:0a:00:03:02 ", out, re.M), out
        _, _, after1 = counters(s, "eth1")
        assert after1["tx_p"] == before1["tx_p"] + 1 and after1["rx_p"] > before1["rx_p"]
        assert counters(s, "eth0")[2]["tx_p"] == after["tx_p"]

        for bad in ("arping eth0 10.0.2", "arping eth0 10.0.2.2 300.1.1.1", "arping eth0 1.2.3.4 1.2.3.4 x"):
            assert "usage: arping" in s.command(bad)
        assert "arping: no device 'eth7'" in s.command("arping eth7")
        assert not HV_PANIC.search(s.output)
    finally:
        s.close()


def test_no_nic():
    s = dom0_session()
    try:
        assert "virtio-net" not in s.output
        assert "netif: no network devices" in s.command("netif")
        assert "arping: no device 'eth0'" in s.command("arping")
    finally:
        s.close()

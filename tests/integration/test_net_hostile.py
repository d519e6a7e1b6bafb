# SPDX-License-Identifier: MIT
"""A hostile netfront against dom0's netback and switch (guests/net_hostile.c,
docs/network.md): bogus tx and rx grants, bad packets, MAC spoofing, a flood
and broken rings each get their answer (or cut the vif off), while dom0
keeps answering, the switch counts what it refused, and two Debian domUs on
the same switch keep pinging each other.

The hostile guest has two vifs; vif 1 listens to what vif 0 sends, so the
guest itself sees whether a refused or spoofed frame was forwarded. Its
`victim=` is the MAC of the Debian domU being pinged: it sends from that
address and counts frames addressed to it that reach either of its vifs
(there must be none, while the victim is pinged throughout).
"""
import re

from conftest import BUILD, DOM0_INITRD, assert_no_hv_panic, dom0_session
from test_domains import assert_checks, run_again, xl_list

FULL_INITRD = BUILD / "dom0" / "initrd-full.cpio"
LINUX_BOOT_S = 300
HOSTILE_CFG = "/etc/xen/net-hostile.cfg"
VICTIM_MAC = "00:16:3e:00:00:02"
PINGER_MAC = "00:16:3e:00:00:03"
HOSTILE_MACS = ("00:16:3e:00:00:66", "00:16:3e:00:00:67")
# (7): each cut-off of vif 1, and the ring netback says was broken.
CUT_OFFS = [("garbage", "tx"), ("overrun", "tx"), ("backwards", "tx"), ("slots_21", "tx"), ("past_page", "tx"),
            ("rx_overrun", "rx")]
# (8): each spoiled handshake, and what netback says about it.
HANDSHAKES = [
    ("no_request_rx_copy", r"the frontend did not ask for request-rx-copy .*"),
    ("request_rx_copy_0", r"the frontend did not ask for request-rx-copy .*"),
    ("tx_ring_ref_beyond", r"cannot map tx-ring-ref 5000 .*"),
    ("tx_ring_ref_ungranted", r"cannot map tx-ring-ref 220 .*"),
    ("tx_ring_ref_junk", r"no valid tx-ring-ref from the frontend"),
    ("rx_ring_ref_readonly", r"cannot map rx-ring-ref 16 .*"),
    ("port_bogus", r"cannot bind event-channel 4000 .*"),
    ("port_zero", r"no valid event-channel from the frontend .*"),
    ("port_taken", r"cannot bind event-channel \d+ .*"),
    ("multi_queue", r"2 queues were not offered"),
    ("split_channels", r"no valid event-channel from the frontend .*"),
]


def _both(prefix):
    return [f"{prefix}_sent", f"{prefix}_received"]


def _goes_on(phase):
    return _both(f"{phase}_ring_goes_on") + [f"{phase}_nothing_forwarded"]


def _vif(n):
    return [f"vif{n}_{c}" for c in ("backend_path", "backend_id_dom0", "mac")]


def _connect(n):
    return [f"vif{n}_{c}" for c in ("backend_initwait", "backend_offers_rx_copy", "alloc_unbound_port",
                                     "publish_rings", "backend_connected")]


HOSTILE_CHECKS = (
    ["set_trap_table", "register_event_callback", "bind_virq_timer", "victim_mac_given", "store_ring_ours",
     "two_vifs_listed"] + _vif(0) + _vif(1) + ["setup_grant_table", "map_grant_table"] + _connect(0) + _connect(1)
    # (1) sanity
    + ["arp_broadcast_okay", "arp_broadcast_received"] + _both("frame_60") + _both("frame_22")
    + ["frame_header_only_okay"] + _both("frame_1518") + _both("frame_1518_in_3_slots")
    + _both("frame_1000_in_18_slots") + ["no_rx_errors"]
    # (2) tx grants
    + ["revoke_idle_grant", "tx_gref_never_granted", "tx_gref_revoked", "tx_gref_0", "tx_gref_beyond_table",
       "tx_gref_huge", "tx_gref_for_other_domain", "tx_gref_foreign_frame", "tx_gref_hypervisor_frame",
       "tx_good_then_revoked", "no_tx_grant_left_in_use"] + _goes_on("grants")
    # (3) bad packets
    + ["size_0", "size_1", "size_13", "size_1519", "size_4096", "size_2000_in_2_slots", "size_65535_in_16_slots",
       "fragments_exceed_size", "fragments_exceed_size_3", "slots_19", "slots_20", "gso_tcpv4_checksum_not_blank",
       "gso_tcpv6_not_offered", "gso_tcpv4_bogus_headers_answered",
       "gso_tiny_mss",
       "mcast_extra_not_offered"] + _goes_on("packets") + ["csum_blank_bogus_ip_answered"] + _goes_on("csum_blank")
    # (4) spoofing
    + ["spoof_victim_broadcast_okay", "spoof_victim_to_vif1_okay", "spoof_victim_to_itself_okay",
       "spoof_vif1_broadcast_okay", "spoof_broadcast_source_okay", "spoof_group_source_okay",
       "spoof_zero_source_okay"] + _goes_on("spoof")
    + ["listen_good_frames_received", "victim_frames_received", "spoofed_frames_delivered"]
    # (5) flood
    + ["flood_not_stalled", "flood_frames_sent", "flood_all_okay", "flood_no_errors", "flood_frames_on_vif1"]
    + _goes_on("flood")
    # (6) rx grants
    + ["rx_good_pages_used_up", "rx_bogus_all_answered", "rx_bogus_all_error", "rx_bogus_ids_echoed",
       "rx_readonly_page_unchanged", "rx_grants_not_in_use", "rx_backend_still_connected"] + _goes_on("rx")
    # (7) cut-offs on vif 1
    + [f"{c}_{what}" for i, (c, _) in enumerate(CUT_OFFS)
       for what in (["reconnected"] if i else []) + ["before_okay", "backend_closing", "no_more_service"]]
    + ["vif0_still_connected", "vif0_still_sends", "spoofed_never_delivered"]
    # (8) bad handshakes on vif 1
    + [f"handshake_{c}_{what}" for c, _ in HANDSHAKES for what in ("published", "refused")]
    + ["handshake_good_after_refusals", "handshake_good_sends", "vif0_connected_throughout", "frontend_closed",
       "backend_closed_after_frontend"]
)

# A console line's start: dom0's prompt may sit before what a domain or the
# backend prints while the shell waits.
AT = r"(?:^|dom0# )"
PORT = re.compile(r"^port (\d+) (\S+) mac (\S+) in (\d+) out (\d+) spoofed (\d+) errors (\d+) dropped (\d+)$", re.M)
SUMMARY = re.compile(r"^vswitch: (\d+) ports, (\d+) learned, runts (\d+) hairpin (\d+) throttled (\d+)$", re.M)


def throttled(s):
    """The floods the switch has throttled since dom0 started."""
    out = s.command("vswitch")
    m = SUMMARY.search(out)
    assert m, out
    return int(m.group(5))


def vswitch(s):
    """`vswitch` as {name: dict(port, mac, in, out, spoofed, errors, dropped)}."""
    out = s.command("vswitch")
    m = SUMMARY.search(out)
    assert m, out
    ports = {}
    for p, name, mac, i, o, sp, err, dr in PORT.findall(out):
        ports[name] = dict(port=int(p), mac=mac, inn=int(i), out=int(o), spoofed=int(sp), errors=int(err),
                           dropped=int(dr))
    assert len(ports) == int(m.group(1)), out
    return ports


def _hostile_done(s, domid):
    checks = assert_checks(s, domid, "net_hostile", HOSTILE_CHECKS)
    # Each cut-off and each refused handshake was said on dom0's console,
    # once, and each reconnect; nothing else, and nothing about vif 0.
    said = re.findall(rf"{AT}netback: d{domid} vif 1: (.+)$", s.output, re.M)
    again = "frontend reconnecting"
    want = [x for _, ring in CUT_OFFS for x in (again, f"the frontend broke its {ring} ring; disconnected")][1:]
    want += [x for _, why in HANDSHAKES for x in (again, why)] + [again]
    assert len(said) == len(want) and all(re.fullmatch(w, l) for w, l in zip(want, said)), (
        "\n".join(said) + "\n" + s.describe())
    assert not re.search(rf"{AT}netback: d{domid} vif 0: ", s.output, re.M), s.describe()
    return checks


def _paused(s, domid, start):
    """Waits for the spoofing phase's summary; returns (spoofed, refused)."""
    m = s.wait_for(rf"{AT}\(d{domid}\) net_hostile: spoofed (\d+) frames, (\d+) packets refused$", start=start,
                   timeout=300)
    s.wait_for(rf"{AT}\(d{domid}\) net_hostile: paused spoofed$", start=m.end(), timeout=30)
    return int(m.group(1)), int(m.group(2))


def _check_counters(ports, domid, spoofed, refused):
    """The switch counted the hostile vif 0's spoofed and refused packets
    exactly, and only there."""
    v0, v1 = ports[f"vif{domid}.0"], ports[f"vif{domid}.1"]
    assert (v0["mac"], v1["mac"]) == HOSTILE_MACS, ports
    assert spoofed >= 7 and v0["spoofed"] == spoofed, (spoofed, ports)
    assert refused >= 20 and v0["errors"] == refused, (refused, ports)
    assert v1["spoofed"] == 0 and v1["errors"] == 0, ports
    assert v1["out"] > 0 and v0["inn"] > 0, ports


UPLINK = ("-netdev", "user,id=n0", "-device", "virtio-net-pci,netdev=n0,disable-legacy=on,mac=52:54:00:12:34:56")


def test_hostile_netfront_alone():
    """Every attack gets its answer and the counters say so; the ports go
    with the domain; a second run (domid reused) is served the same. dom0
    has a NIC (QEMU user networking) as the switch's uplink: the hostile
    broadcasts (the flood, a csum_blank frame with a lying IPv4 header)
    leave on it too, and dom0's own link still works afterwards."""
    s = dom0_session(DOM0_INITRD, hv_args="dom0_mem=64M loglvl=info", timeout=900, qemu_args=UPLINK)
    try:
        assert set(vswitch(s)) == {"eth0"}, s.describe()
        out = s.command(f"xl create {HOSTILE_CFG} extra='victim={VICTIM_MAC} pause=1 listen_s=2 flood=5000'")
        assert "xl:" not in out and "cannot" not in out, out
        spoofed, refused = _paused(s, 1, 0)
        _check_counters(vswitch(s), 1, spoofed, refused)
        s.command("xenstore-write /local/domain/1/data/go-spoofed 1")
        s.wait_for(r"\(d1\) GUEST net_hostile DONE", timeout=600)
        _hostile_done(s, 1)
        s.wait_for(r"\(HV\) d1 destroyed", timeout=60)
        assert set(xl_list(s)) == {"Domain-0"}, s.describe()
        ports = vswitch(s)
        assert set(ports) == {"eth0"}, ports
        # Every frame vif 1.0 sent was a broadcast: each was throttled at
        # the switch (the flood went past its budget), or went out on the
        # uplink, or was counted there as not sendable.
        lost = throttled(s)
        assert lost > 0, ports
        assert ports["eth0"]["out"] + ports["eth0"]["errors"] + ports["eth0"]["dropped"] + lost >= 5000, (lost, ports)
        out = s.command("arping")
        assert re.search(r"^arping: 10\.0\.2\.2 is at 52:55:0a:00:02:02 ", out, re.M), out

        run_again(s, HOSTILE_CFG, "net_hostile", len(HOSTILE_CHECKS), timeout=600)
        s.send("poweroff\n")
        assert s.finish(timeout=60) == 0, s.describe()
        assert_no_hv_panic(s)
    finally:
        s.close()


def _rounds(s, domid, start, end=None):
    """The Debian pinger's rounds in output[start:end] as [(received, sent)]."""
    line = rf"{AT}\[d{domid} debian-b\] LAMINA-INIT: net ping 10\.0\.0\.2 round \d+ received (\d+)/(\d+)$"
    return [(int(g), int(n)) for g, n in re.findall(line, s.output[start:end], re.M)]


def test_hostile_netfront_beside_linux():
    """The issue's check: two Debian domUs ping each other (d2 pings d1)
    while the hostile guest attacks; dom0 answers `xl list` during the
    flood, the victim (d1) is reachable throughout and none of its frames
    reach the hostile guest, and the pings are whole again afterwards."""
    s = dom0_session(FULL_INITRD, hv_args="dom0_mem=192M loglvl=info", timeout=2400, qemu_args=("-m", "1G"))
    try:
        out = s.command("xl create /etc/xen/debian-net.cfg "
                        "extra='console=hvc0 quiet lamina.test=netup lamina.ip=10.0.0.2/24'")
        assert "xl:" not in out and "cannot" not in out, out
        out = s.command(f"xl create /etc/xen/debian-net.cfg name=debian-b vif=['mac={PINGER_MAC}'] "
                        "extra='console=hvc0 quiet lamina.test=netping lamina.ip=10.0.0.3/24 lamina.ping=10.0.0.2'")
        assert "xl:" not in out and "cannot" not in out, out
        s.wait_for(rf"{AT}\[d1 debian-net\] LAMINA-INIT: net eth0 carrier on$", timeout=LINUX_BOOT_S)
        s.wait_for(rf"{AT}\[d2 debian-b\] LAMINA-INIT: net ping 10\.0\.0\.2 round \d+ received 10/10$",
                   timeout=LINUX_BOOT_S)
        ports = vswitch(s)
        assert ports["vif1.0"]["mac"] == VICTIM_MAC and ports["vif2.0"]["mac"] == PINGER_MAC, ports

        mark = len(s.output)
        out = s.command(f"xl create {HOSTILE_CFG} "
                        f"extra='victim={VICTIM_MAC} pause=1 listen_s=15 flood=20000 flood_ms=20000'")
        assert "xl:" not in out and "cannot" not in out, out
        listen = s.wait_for(rf"{AT}\(d3\) net_hostile: listening", start=mark, timeout=300)
        before = vswitch(s)
        spoofed, refused = _paused(s, 3, listen.end())
        paused_at = len(s.output)
        during = vswitch(s)
        _check_counters(during, 3, spoofed, refused)
        # The victim was pinged (its port got frames) while the hostile
        # guest spoofed it; the hostile guest's own check says none of those
        # frames reached it. The switch blamed no one else.
        assert during["vif1.0"]["out"] > before["vif1.0"]["out"], (before, during)
        assert during["vif1.0"]["spoofed"] == 0 and during["vif2.0"]["spoofed"] == 0, during
        window = _rounds(s, 2, listen.end(), paused_at)
        assert window and all(got > 0 for got, _ in window), window
        s.command("xenstore-write /local/domain/3/data/go-spoofed 1")

        # The flood: dom0 answers its shell while it lasts.
        flood = s.wait_for(rf"{AT}\(d3\) net_hostile: flood started", start=paused_at, timeout=120)
        rows = xl_list(s)
        assert {"Domain-0", "debian-net", "debian-b", "net-hostile"} <= set(rows), s.describe()
        answered_at = len(s.output)
        flooding = vswitch(s)
        assert flooding["vif3.0"]["inn"] > during["vif3.0"]["inn"], (during, flooding)
        done = s.wait_for(rf"{AT}\(d3\) net_hostile: flood done: (\d+) frames answered in (\d+) ms$",
                          start=flood.end(), timeout=900)
        assert done.start() > answered_at, "the flood was over before dom0 answered: make it longer"
        # The Debian domUs kept pinging each other through the flood (the
        # flooding vif only gets its share of each pass).
        flooded = _rounds(s, 2, flood.end(), done.start())
        assert flooded and all(got > 0 for got, _ in flooded), flooded
        assert int(done.group(1)) >= 20000 and int(done.group(2)) >= 20000, done.group(0)

        s.wait_for(r"\(d3\) GUEST net_hostile DONE", start=done.end(), timeout=600)
        _hostile_done(s, 3)
        s.wait_for(r"\(HV\) d3 destroyed", timeout=60)
        # The Debian domUs still ping each other, every echo answered.
        after = len(s.output)
        s.wait_for(rf"{AT}\[d2 debian-b\] LAMINA-INIT: net ping 10\.0\.0\.2 round \d+ received 10/10$", start=after,
                   timeout=120)
        rows = xl_list(s)
        assert {"Domain-0", "debian-net", "debian-b"} == set(rows), s.describe()
        ports = vswitch(s)
        assert {n for n in ports if n.startswith("vif")} == {"vif1.0", "vif2.0"}, ports
        assert ports["vif1.0"]["spoofed"] == 0 and ports["vif2.0"]["spoofed"] == 0, ports
        assert ports["vif1.0"]["errors"] == 0 and ports["vif2.0"]["errors"] == 0, ports
        assert not re.search(rf"{AT}netback: d[12] ", s.output, re.M), s.describe()
        s.send("poweroff\n")
        assert s.finish(timeout=120) == 0, s.describe()
        assert_no_hv_panic(s)
    finally:
        s.close()

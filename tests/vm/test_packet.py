"""Packets from layers: header bytes, inferred types, lengths and checksums; bad layers are SpecErrors."""

from __future__ import annotations

import ipaddress
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bpfbuild.errors import SpecError
from bpfbuild.vm.packet import LAYERS, build_packet, describe_packet, parse_hex


def ones_sum(data: bytes) -> int:
    """The one's complement sum of 16-bit words: 0xffff when a checksum in ``data`` is right."""
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return total


def test_udp_over_ipv4_is_laid_out_as_on_the_wire() -> None:
    pkt = build_packet({"eth": {}, "ipv4": {"src": "192.0.2.1", "dst": "198.51.100.7", "ttl": 3},
                        "udp": {"sport": 1000, "dport": 53}, "payload": "abc"})
    assert len(pkt) == 14 + 20 + 8 + 3
    assert pkt[:14] == bytes.fromhex("020000000002" "020000000001" "0800")
    ip = pkt[14:34]
    assert ip[0] == 0x45 and struct.unpack("!H", ip[2:4])[0] == 31 and ip[8] == 3 and ip[9] == 17
    assert ip[12:16] == ipaddress.IPv4Address("192.0.2.1").packed
    assert ones_sum(ip) == 0xFFFF   # header checksum
    udp = pkt[34:]
    assert struct.unpack("!HHH", udp[:6]) == (1000, 53, 11)
    pseudo = ip[12:20] + struct.pack("!BBH", 0, 17, len(udp))
    assert ones_sum(pseudo + udp) == 0xFFFF
    assert udp[8:] == b"abc"


def test_tcp_over_ipv6_checksum_uses_the_ipv6_pseudo_header() -> None:
    pkt = build_packet([("eth", {}), ("ipv6", {"src": "2001:db8::1", "dst": "2001:db8::2"}),
                        ("tcp", {"dport": 443, "flags": "SA", "options": "020405b4"})])
    assert pkt[12:14] == b"\x86\xdd"
    ip6 = pkt[14:54]
    assert ip6[6] == 6 and struct.unpack("!H", ip6[4:6])[0] == 24
    tcp = pkt[54:]
    assert tcp[12] >> 4 == 6 and tcp[13] == 0x12   # doff 6 (options), SYN|ACK
    pseudo = ip6[8:40] + struct.pack("!I3xB", len(tcp), 6)
    assert ones_sum(pseudo + tcp) == 0xFFFF


def test_icmp_and_icmpv6_checksums() -> None:
    icmp = build_packet({"eth": {}, "ipv4": {}, "icmp": {"id": 7, "seq": 1}, "payload": {"size": 5}})[34:]
    assert icmp[0] == 8 and ones_sum(icmp) == 0xFFFF and icmp[8:] == bytes(range(5))
    pkt = build_packet({"eth": {}, "ipv6": {}, "icmpv6": {}})
    assert pkt[20] == 58
    msg = pkt[54:]
    assert ones_sum(pkt[22:54] + struct.pack("!I3xB", len(msg), 58) + msg) == 0xFFFF


def test_vlan_arp_and_given_fields_win_over_computed_ones() -> None:
    pkt = build_packet({"eth": {}, "vlan": {"vid": 7, "pcp": 5}, "arp": {"op": 2}})
    assert pkt[12:14] == b"\x81\x00" and struct.unpack("!H", pkt[14:16])[0] == (5 << 13) | 7
    assert pkt[16:18] == b"\x08\x06" and struct.unpack("!H", pkt[24:26])[0] == 2
    broken = build_packet({"eth": {}, "ipv4": {"ihl": 4, "checksum": 0, "proto": 99}})
    assert broken[14] == 0x44 and broken[24:26] == b"\0\0" and broken[23] == 99


def test_pad_and_truncate() -> None:
    assert len(build_packet({"eth": {"type": 0x88B5}, "pad_to": 60})) == 60
    assert build_packet({"eth": {}, "ipv4": {}, "udp": {}, "truncate": 20}) == \
        build_packet({"eth": {}, "ipv4": {}, "udp": {}})[:20]


def test_describe_packet() -> None:
    text = describe_packet(build_packet({"eth": {}, "ipv4": {}, "udp": {"dport": 9}}))
    assert text == "eth 02:00:00:00:00:01 > 02:00:00:00:00:02 ipv4 10.0.0.1 > 10.0.0.2 proto 17 udp 12345 > 9 (42 bytes)"
    assert describe_packet(b"\x01\x02") == "2 bytes: 0102"


@pytest.mark.parametrize(("layers", "message"), [
    ({"eth": {}, "ip": {}}, "unknown packet layer 'ip'"),
    ({"eth": {"dst": "nope"}}, "eth.dst must be a MAC address"),
    ({"eth": {}, "ipv4": {"dst": "10.0.0.300"}}, "ipv4.dst must be an IPv4 address"),
    ({"eth": {}, "ipv4": {"ttl": 256}}, "does not fit in 8 bits"),
    ({"eth": {}, "ipv4": {}, "tcp": {"flags": "Z"}}, "tcp.flags"),
    ({"eth": {}, "ipv4": {}, "tcp": {"dprot": 1}}, "unknown field 'dprot'"),
    ({"payload": "x", "eth": {}}, "payload must be the last layer"),
    ({"eth": {}, "ipv4": {}, "payload": {"hex": "zz"}}, "not hex"),
    ({"eth": {}, "tcp": {}}, "eth.type cannot follow from a tcp layer"),
    ({"eth": {}, "truncate": -1}, "truncate must be a byte count"),
])
def test_bad_layers_are_spec_errors(layers: dict[str, object], message: str) -> None:
    with pytest.raises(SpecError, match=message):
        build_packet(layers)


def test_parse_hex() -> None:
    assert parse_hex("0x01 02:03\n04", "p") == b"\x01\x02\x03\x04"
    with pytest.raises(SpecError):
        parse_hex(5, "p")


_values = st.one_of(st.integers(-5, 70000), st.text(max_size=6), st.booleans(), st.none(),
                    st.lists(st.integers(0, 3), max_size=2))
_fields = st.dictionaries(st.sampled_from(["src", "dst", "type", "ttl", "flags", "options", "ihl", "dport",
                                           "sport", "hex", "size", "vid", "checksum", "bogus"]), _values, max_size=4)
_layer = st.tuples(st.sampled_from([*LAYERS, "nope"]), st.one_of(_fields, _values))


@settings(max_examples=300, deadline=None)
@given(st.lists(_layer, max_size=6))
def test_random_layers_build_or_raise_spec_error(layers: list[tuple[str, object]]) -> None:
    try:
        data = build_packet(layers)
    except SpecError:
        return
    assert isinstance(data, bytes)
    describe_packet(data)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=80), st.sampled_from([b"\x08\x00", b"\x86\xdd", b"\x81\x00", b"\x08\x06"]))
def test_describe_packet_takes_any_bytes(tail: bytes, etype: bytes) -> None:
    data = bytes(12) + etype + tail
    assert describe_packet(data).endswith(f"({len(data)} bytes)")

"""Packets written as layers of header fields, and packets described back as text.

:func:`build_packet` turns an ordered list of layers into bytes::

    build_packet({"eth": {}, "ipv4": {"dst": "10.0.0.9"}, "udp": {"dport": 53}, "payload": "hi"})

Every field has a default, lengths and checksums are computed (unless given), and a layer's
"next protocol" field (EtherType, IPv4 protocol, IPv6 next header) follows from the layer
after it.  The layers and their fields (defaults in brackets):

=========  ===================================================================================
eth        ``dst`` [02:00:00:00:00:02], ``src`` [02:00:00:00:00:01], ``type`` [from the next layer]
vlan       ``vid`` [1], ``pcp`` [0], ``dei`` [0], ``type`` [from the next layer] (802.1Q tag)
ipv4       ``src`` [10.0.0.1], ``dst`` [10.0.0.2], ``proto`` [next layer], ``ttl`` [64], ``tos``,
           ``id``, ``flags`` ("DF", "MF" or a number), ``frag``, ``options`` (hex), ``ihl``,
           ``total_length``, ``checksum``, ``version`` [4]
ipv6       ``src`` [fd00::1], ``dst`` [fd00::2], ``next_header`` [next layer], ``hop_limit``
           [64], ``traffic_class``, ``flow_label``, ``payload_length``, ``version`` [6]
tcp        ``sport`` [12345], ``dport`` [80], ``seq``, ``ack``, ``flags`` ["S"; letters of
           FSRPAUEC, or a number], ``window`` [65535], ``urgent``, ``options`` (hex), ``doff``,
           ``checksum``
udp        ``sport`` [12345], ``dport`` [53], ``length``, ``checksum``
icmp       ``type`` [8, echo request], ``code``, ``id``, ``seq``, ``checksum``
icmpv6     ``type`` [128, echo request], ``code``, ``id``, ``seq``, ``checksum``
arp        ``op`` [1], ``sha``, ``spa``, ``tha``, ``tpa`` (Ethernet/IPv4 ARP)
payload    text (UTF-8), or ``{hex = "..."}``, or ``{size = N}`` (N bytes 0, 1, 2...)
=========  ===================================================================================

Two pseudo-layers act on the whole packet: ``pad_to = N`` appends zeros up to N bytes and
``truncate = N`` cuts the finished packet after N bytes (to test short packets).

Anything wrong in the description (an unknown layer or field, a value of the wrong type)
is a :class:`~bpfbuild.errors.SpecError`.  :func:`describe_packet` is the other direction:
one line of text per packet (``eth ... > ... ipv4 10.0.0.1 > 10.0.0.2 udp 12345 > 53 len 2``)
for messages.
"""

from __future__ import annotations

import ipaddress
import struct
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from bpfbuild.errors import SpecError

__all__ = ["LAYERS", "build_packet", "describe_packet", "parse_hex"]

Layer = tuple[str, Any]

ETH_P_IP, ETH_P_IPV6, ETH_P_ARP, ETH_P_8021Q, ETH_P_8021AD = 0x0800, 0x86DD, 0x0806, 0x8100, 0x88A8
IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMPV6 = 1, 6, 17, 58

_FIELDS: dict[str, frozenset[str]] = {
    "eth": frozenset({"dst", "src", "type"}),
    "vlan": frozenset({"vid", "pcp", "dei", "type"}),
    "ipv4": frozenset({"src", "dst", "proto", "ttl", "tos", "id", "flags", "frag", "options", "ihl",
                       "total_length", "checksum", "version"}),
    "ipv6": frozenset({"src", "dst", "next_header", "hop_limit", "traffic_class", "flow_label",
                       "payload_length", "version"}),
    "tcp": frozenset({"sport", "dport", "seq", "ack", "flags", "window", "urgent", "options", "doff",
                      "checksum"}),
    "udp": frozenset({"sport", "dport", "length", "checksum"}),
    "icmp": frozenset({"type", "code", "id", "seq", "checksum"}),
    "icmpv6": frozenset({"type", "code", "id", "seq", "checksum"}),
    "arp": frozenset({"op", "sha", "spa", "tha", "tpa"}),
}
#: every layer name :func:`build_packet` knows (plus ``payload``, ``pad_to``, ``truncate``)
LAYERS = (*_FIELDS, "payload", "pad_to", "truncate")

_ETHERTYPE = {"ipv4": ETH_P_IP, "ipv6": ETH_P_IPV6, "arp": ETH_P_ARP, "vlan": ETH_P_8021Q}
_IPPROTO = {"tcp": IPPROTO_TCP, "udp": IPPROTO_UDP, "icmp": IPPROTO_ICMP, "icmpv6": IPPROTO_ICMPV6}
_TCP_FLAGS = "FSRPAUEC"


def _fail(message: str) -> SpecError:
    return SpecError(message)


def parse_hex(text: Any, what: str) -> bytes:
    """Hex bytes (spaces, newlines, ``:`` and a ``0x`` prefix allowed) -> bytes."""
    if not isinstance(text, str):
        raise _fail(f"{what} must be a string of hex bytes, not {type(text).__name__}")
    cleaned = "".join(text.replace(":", " ").split())
    if cleaned[:2].lower() == "0x":
        cleaned = cleaned[2:]
    try:
        return bytes.fromhex(cleaned)
    except ValueError:
        raise _fail(f"{what} is not hex bytes: {text[:40]!r}") from None


def _int(fields: Mapping[str, Any], name: str, default: int, bits: int, layer: str) -> int:
    value = fields.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(f"{layer}.{name} must be an integer, not {value!r}")
    if not 0 <= value < 1 << bits:
        raise _fail(f"{layer}.{name} = {value} does not fit in {bits} bits")
    return value


def _mac(fields: Mapping[str, Any], name: str, default: str, layer: str) -> bytes:
    value = fields.get(name, default)
    if isinstance(value, str):
        parts = value.replace("-", ":").split(":")
        try:
            raw = bytes(int(p, 16) for p in parts) if len(parts) == 6 else b""
        except ValueError:
            raw = b""
        if len(raw) == 6 and all(len(p) <= 2 and p for p in parts):
            return raw
    raise _fail(f"{layer}.{name} must be a MAC address like \"02:00:00:00:00:01\", not {value!r}")


def _ip(fields: Mapping[str, Any], name: str, default: str, version: int, layer: str) -> bytes:
    value = fields.get(name, default)
    try:
        if not isinstance(value, (str, int)) or isinstance(value, bool):
            raise ValueError  # noqa: TRY004 - reported below as a SpecError
        addr = ipaddress.IPv4Address(value) if version == 4 else ipaddress.IPv6Address(value)
    except ValueError:
        raise _fail(f"{layer}.{name} must be an IPv{version} address, not {value!r}") from None
    return addr.packed


def _checksum(data: bytes) -> int:
    """The Internet checksum (RFC 1071) of ``data``."""
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def _options(fields: Mapping[str, Any], layer: str) -> bytes:
    if "options" not in fields:
        return b""
    raw = parse_hex(fields["options"], f"{layer}.options")
    return raw + bytes(-len(raw) % 4)


# --- layer encoders: (fields, rest of the packet, next layer name, pseudo-header maker) ---

class _Builder:
    """Builds from the innermost layer outwards, so lengths and checksums see what follows."""

    def __init__(self, layers: Sequence[Layer]) -> None:
        self.layers = layers

    def build(self) -> bytes:
        names = [name for name, _ in self.layers]
        out = b""
        # the addresses of the nearest enclosing IP layer, for L4 pseudo-headers
        for i in range(len(self.layers) - 1, -1, -1):
            name, fields = self.layers[i]
            nxt = names[i + 1] if i + 1 < len(names) else None
            encode = _ENCODERS[name]
            out = encode(self, i, fields, out, nxt)
        return out

    def enclosing_ip(self, index: int) -> tuple[str, Mapping[str, Any]] | None:
        for j in range(index - 1, -1, -1):
            name, fields = self.layers[j]
            if name in ("ipv4", "ipv6"):
                return name, fields
        return None

    def pseudo_header(self, index: int, proto: int, length: int) -> bytes:
        ip = self.enclosing_ip(index)
        if ip is None:
            return b""
        name, fields = ip
        if name == "ipv4":
            return (_ip(fields, "src", "10.0.0.1", 4, "ipv4") + _ip(fields, "dst", "10.0.0.2", 4, "ipv4")
                    + struct.pack("!BBH", 0, proto, length & 0xFFFF))
        return (_ip(fields, "src", "fd00::1", 6, "ipv6") + _ip(fields, "dst", "fd00::2", 6, "ipv6")
                + struct.pack("!IxxxB", length, proto))


def _next_type(nxt: str | None, table: Mapping[str, int], layer: str, field: str) -> int:
    if nxt is not None and nxt in table:
        return table[nxt]
    if nxt is None or nxt == "payload":
        return 0
    raise _fail(f"{layer}.{field} cannot follow from a {nxt} layer: give {layer}.{field}")


def _eth(b: _Builder, i: int, f: Mapping[str, Any], rest: bytes, nxt: str | None) -> bytes:
    etype = _int(f, "type", _next_type(nxt, _ETHERTYPE, "eth", "type") if "type" not in f else 0, 16, "eth")
    return (_mac(f, "dst", "02:00:00:00:00:02", "eth") + _mac(f, "src", "02:00:00:00:00:01", "eth")
            + struct.pack("!H", etype) + rest)


def _vlan(b: _Builder, i: int, f: Mapping[str, Any], rest: bytes, nxt: str | None) -> bytes:
    tci = (_int(f, "pcp", 0, 3, "vlan") << 13) | (_int(f, "dei", 0, 1, "vlan") << 12) | _int(f, "vid", 1, 12, "vlan")
    etype = _int(f, "type", _next_type(nxt, _ETHERTYPE, "vlan", "type") if "type" not in f else 0, 16, "vlan")
    return struct.pack("!HH", tci, etype) + rest


def _ipv4_flags(f: Mapping[str, Any]) -> int:
    value = f.get("flags", 0)
    if isinstance(value, str):
        bits = 0
        for word in value.replace(",", " ").replace("|", " ").split():
            match word.upper():
                case "DF":
                    bits |= 2
                case "MF":
                    bits |= 1
                case _:
                    raise _fail(f"ipv4.flags: unknown flag {word!r} (DF, MF)")
        return bits
    return _int(f, "flags", 0, 3, "ipv4")


def _ipv4(b: _Builder, i: int, f: Mapping[str, Any], rest: bytes, nxt: str | None) -> bytes:
    options = _options(f, "ipv4")
    ihl = _int(f, "ihl", 5 + len(options) // 4, 4, "ipv4")
    header_len = 20 + len(options)
    proto = _int(f, "proto", _next_type(nxt, _IPPROTO, "ipv4", "proto") if "proto" not in f else 0, 8, "ipv4")
    total = _int(f, "total_length", header_len + len(rest), 16, "ipv4")
    frag = (_ipv4_flags(f) << 13) | _int(f, "frag", 0, 13, "ipv4")
    header = struct.pack("!BBHHHBBH4s4s", (_int(f, "version", 4, 4, "ipv4") << 4) | ihl, _int(f, "tos", 0, 8, "ipv4"),
                         total, _int(f, "id", 0, 16, "ipv4"), frag, _int(f, "ttl", 64, 8, "ipv4"), proto, 0,
                         _ip(f, "src", "10.0.0.1", 4, "ipv4"), _ip(f, "dst", "10.0.0.2", 4, "ipv4")) + options
    csum = _int(f, "checksum", _checksum(header), 16, "ipv4")
    return header[:10] + struct.pack("!H", csum) + header[12:] + rest


def _ipv6(b: _Builder, i: int, f: Mapping[str, Any], rest: bytes, nxt: str | None) -> bytes:
    nh = _int(f, "next_header", _next_type(nxt, _IPPROTO, "ipv6", "next_header") if "next_header" not in f else 0,
              8, "ipv6")
    first = ((_int(f, "version", 6, 4, "ipv6") << 28) | (_int(f, "traffic_class", 0, 8, "ipv6") << 20)
             | _int(f, "flow_label", 0, 20, "ipv6"))
    length = _int(f, "payload_length", len(rest), 16, "ipv6")
    return (struct.pack("!IHBB", first, length, nh, _int(f, "hop_limit", 64, 8, "ipv6"))
            + _ip(f, "src", "fd00::1", 6, "ipv6") + _ip(f, "dst", "fd00::2", 6, "ipv6") + rest)


def _tcp_flags(f: Mapping[str, Any]) -> int:
    value = f.get("flags", "S")
    if isinstance(value, str):
        bits = 0
        for ch in value.upper():
            pos = _TCP_FLAGS.find(ch)
            if pos < 0:
                raise _fail(f"tcp.flags: {ch!r} is not one of {_TCP_FLAGS}")
            bits |= 1 << pos
        return bits
    return _int(f, "flags", 0, 8, "tcp")


def _l4_checksum(b: _Builder, i: int, proto: int, segment: bytes, offset: int, f: Mapping[str, Any],
                 layer: str, *, udp: bool = False) -> bytes:
    if "checksum" in f:
        csum = _int(f, "checksum", 0, 16, layer)
    else:
        csum = _checksum(b.pseudo_header(i, proto, len(segment)) + segment)
        if udp and csum == 0:
            csum = 0xFFFF
    return segment[:offset] + struct.pack("!H", csum) + segment[offset + 2:]


def _tcp(b: _Builder, i: int, f: Mapping[str, Any], rest: bytes, nxt: str | None) -> bytes:
    options = _options(f, "tcp")
    doff = _int(f, "doff", 5 + len(options) // 4, 4, "tcp")
    seg = struct.pack("!HHIIBBHHH", _int(f, "sport", 12345, 16, "tcp"), _int(f, "dport", 80, 16, "tcp"),
                      _int(f, "seq", 0, 32, "tcp"), _int(f, "ack", 0, 32, "tcp"), doff << 4, _tcp_flags(f),
                      _int(f, "window", 65535, 16, "tcp"), 0, _int(f, "urgent", 0, 16, "tcp")) + options + rest
    return _l4_checksum(b, i, IPPROTO_TCP, seg, 16, f, "tcp")


def _udp(b: _Builder, i: int, f: Mapping[str, Any], rest: bytes, nxt: str | None) -> bytes:
    length = _int(f, "length", 8 + len(rest), 16, "udp")
    seg = struct.pack("!HHHH", _int(f, "sport", 12345, 16, "udp"), _int(f, "dport", 53, 16, "udp"), length, 0) + rest
    return _l4_checksum(b, i, IPPROTO_UDP, seg, 6, f, "udp", udp=True)


def _icmp(b: _Builder, i: int, f: Mapping[str, Any], rest: bytes, nxt: str | None) -> bytes:
    msg = struct.pack("!BBHHH", _int(f, "type", 8, 8, "icmp"), _int(f, "code", 0, 8, "icmp"), 0,
                      _int(f, "id", 0, 16, "icmp"), _int(f, "seq", 0, 16, "icmp")) + rest
    csum = _int(f, "checksum", _checksum(msg), 16, "icmp")
    return msg[:2] + struct.pack("!H", csum) + msg[4:]


def _icmpv6(b: _Builder, i: int, f: Mapping[str, Any], rest: bytes, nxt: str | None) -> bytes:
    msg = struct.pack("!BBHHH", _int(f, "type", 128, 8, "icmpv6"), _int(f, "code", 0, 8, "icmpv6"), 0,
                      _int(f, "id", 0, 16, "icmpv6"), _int(f, "seq", 0, 16, "icmpv6")) + rest
    return _l4_checksum(b, i, IPPROTO_ICMPV6, msg, 2, f, "icmpv6")


def _arp(b: _Builder, i: int, f: Mapping[str, Any], rest: bytes, nxt: str | None) -> bytes:
    return (struct.pack("!HHBBH", 1, ETH_P_IP, 6, 4, _int(f, "op", 1, 16, "arp"))
            + _mac(f, "sha", "02:00:00:00:00:01", "arp") + _ip(f, "spa", "10.0.0.1", 4, "arp")
            + _mac(f, "tha", "00:00:00:00:00:00", "arp") + _ip(f, "tpa", "10.0.0.2", 4, "arp") + rest)


def _payload(b: _Builder, i: int, value: Any, rest: bytes, nxt: str | None) -> bytes:
    match value:
        case str():
            data = value.encode()
        case bytes() | bytearray():
            data = bytes(value)
        case {"hex": text, **other} if not other:
            data = parse_hex(text, "payload.hex")
        case {"size": int() as size, **other} if not other and not isinstance(size, bool) and 0 <= size <= 65535:
            data = bytes(n & 0xFF for n in range(size))
        case _:
            raise _fail(f"payload must be text, {{hex = \"...\"}} or {{size = N}}, not {value!r}")
    return data + rest


_ENCODERS: dict[str, Callable[[_Builder, int, Any, bytes, str | None], bytes]] = {
    "eth": _eth, "vlan": _vlan, "ipv4": _ipv4, "ipv6": _ipv6, "tcp": _tcp, "udp": _udp, "icmp": _icmp,
    "icmpv6": _icmpv6, "arp": _arp, "payload": _payload,
}


def _layers(spec: Mapping[str, Any] | Iterable[Layer]) -> list[Layer]:
    items = list(spec.items()) if isinstance(spec, Mapping) else list(spec)
    out: list[Layer] = []
    for item in items:
        if not (isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str)):
            raise _fail(f"a packet layer must be (name, fields), not {item!r}")
        out.append(item)
    return out


def build_packet(spec: Mapping[str, Any] | Iterable[Layer]) -> bytes:
    """The bytes of a packet given as ordered layers (see the module docstring)."""
    layers = _layers(spec)
    pad_to: int | None = None
    truncate: int | None = None
    header_layers: list[Layer] = []
    for name, fields in layers:
        if name in ("pad_to", "truncate"):
            if isinstance(fields, bool) or not isinstance(fields, int) or not 0 <= fields <= 65535:
                raise _fail(f"{name} must be a byte count, not {fields!r}")
            if name == "pad_to":
                pad_to = fields
            else:
                truncate = fields
            continue
        if name not in _ENCODERS:
            raise _fail(f"unknown packet layer {name!r} (layers: {', '.join(LAYERS)})")
        if name != "payload":
            if not isinstance(fields, Mapping):
                raise _fail(f"packet layer {name} must be a table of fields, not {fields!r}")
            unknown = sorted(set(fields) - _FIELDS[name])
            if unknown:
                raise _fail(f"{name}: unknown field {unknown[0]!r} (fields: {', '.join(sorted(_FIELDS[name]))})")
        header_layers.append((name, fields))
    if any(name == "payload" for name, _ in header_layers[:-1]):
        raise _fail("payload must be the last layer of a packet")
    data = _Builder(header_layers).build()
    if pad_to is not None and len(data) < pad_to:
        data += bytes(pad_to - len(data))
    if truncate is not None:
        data = data[:truncate]
    return data


# --- describing ----------------------------------------------------------------------------

def _mac_text(raw: bytes) -> str:
    return ":".join(f"{b:02x}" for b in raw)


def describe_packet(data: bytes) -> str:
    """A one-line summary of an Ethernet frame (headers it recognises, then the length)."""
    parts: list[str] = []
    pos = 0
    if len(data) < 14:
        return f"{len(data)} bytes: {data.hex()}"
    parts.append(f"eth {_mac_text(data[6:12])} > {_mac_text(data[0:6])}")
    etype = int.from_bytes(data[12:14], "big")
    pos = 14
    while etype in (ETH_P_8021Q, ETH_P_8021AD) and pos + 4 <= len(data):
        parts.append(f"vlan {int.from_bytes(data[pos:pos + 2], 'big') & 0xFFF}")
        etype = int.from_bytes(data[pos + 2:pos + 4], "big")
        pos += 4
    proto: int | None = None
    if etype == ETH_P_IP and pos + 20 <= len(data):
        ihl = (data[pos] & 0xF) * 4
        proto = data[pos + 9]
        parts.append(f"ipv4 {ipaddress.IPv4Address(data[pos + 12:pos + 16])} > "
                     f"{ipaddress.IPv4Address(data[pos + 16:pos + 20])} proto {proto}")
        pos += max(ihl, 20)
    elif etype == ETH_P_IPV6 and pos + 40 <= len(data):
        proto = data[pos + 6]
        parts.append(f"ipv6 {ipaddress.IPv6Address(data[pos + 8:pos + 24])} > "
                     f"{ipaddress.IPv6Address(data[pos + 24:pos + 40])} next {proto}")
        pos += 40
    elif etype not in (ETH_P_IP, ETH_P_IPV6):
        parts.append(f"type {etype:#06x}")
    if proto in (IPPROTO_TCP, IPPROTO_UDP) and pos + 4 <= len(data):
        sport, dport = struct.unpack_from("!HH", data, pos)
        parts.append(f"{'tcp' if proto == IPPROTO_TCP else 'udp'} {sport} > {dport}")
    elif proto in (IPPROTO_ICMP, IPPROTO_ICMPV6) and pos + 2 <= len(data):
        parts.append(f"{'icmp' if proto == IPPROTO_ICMP else 'icmpv6'} type {data[pos]} code {data[pos + 1]}")
    parts.append(f"({len(data)} bytes)")
    return " ".join(parts)

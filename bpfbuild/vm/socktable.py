"""The sockets a program can look up (``world.sockets``): their spec form, their ``struct
bpf_sock``, and which one the kernel's lookup finds (:mod:`bpfbuild.vm.sockets` has the helpers)."""

from __future__ import annotations

import ipaddress
import socket as _socket
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bpfbuild.errors import SpecError
from bpfbuild.vm.specvalues import IpAddress, address, entries

__all__ = ["SOCKET_KEYS", "Sock", "find_socket", "parse_sockets", "sock_tuple"]

SOCKET_KEYS = frozenset({"protocol", "state", "src", "sport", "dst", "dport", "mark", "priority",
                         "bound_dev_if", "cookie"})
_PROTOCOLS = {"tcp": 6, "udp": 17}
#: include/net/tcp_states.h
_STATES = {"established": 1, "syn_sent": 2, "syn_recv": 3, "fin_wait1": 4, "fin_wait2": 5, "time_wait": 6,
           "close": 7, "close_wait": 8, "last_ack": 9, "listen": 10, "closing": 11}
TCP_ESTABLISHED, TCP_CLOSE, TCP_LISTEN = 1, 7, 10
#: struct bpf_sock (UAPI): what a program reads through the pointer a lookup returns
_BPF_SOCK_SIZE = 80


@dataclass(frozen=True, slots=True)
class Sock:
    protocol: int
    state: int
    src: IpAddress
    sport: int
    dst: IpAddress | None = None
    dport: int = 0
    mark: int = 0
    priority: int = 0
    bound_dev_if: int = 0
    cookie: int = 0

    @property
    def family(self) -> int:
        return _socket.AF_INET if self.src.version == 4 else _socket.AF_INET6

    def bpf_sock(self) -> bytes:
        """The ``struct bpf_sock`` bytes (ports: src in host order, dst in network order)."""
        buf = bytearray(_BPF_SOCK_SIZE)
        stype = _socket.SOCK_STREAM if self.protocol == 6 else _socket.SOCK_DGRAM
        struct.pack_into("<IIIIII", buf, 0, self.bound_dev_if, self.family, stype, self.protocol, self.mark,
                         self.priority)
        if self.src.version == 4:
            buf[24:28] = self.src.packed
        else:
            buf[28:44] = self.src.packed
        struct.pack_into("<I", buf, 44, self.sport)
        struct.pack_into(">H", buf, 48, self.dport)
        if self.dst is not None:
            if self.dst.version == 4:
                buf[52:56] = self.dst.packed
            else:
                buf[56:72] = self.dst.packed
        struct.pack_into("<Ii", buf, 72, self.state, -1)
        return bytes(buf)


def _port(raw: Any, what: str) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int) or not 0 <= raw <= 0xFFFF:
        raise SpecError(f"{what} must be a port number (0-65535), not {raw!r}")
    return raw


def parse_sockets(sockets: Sequence[Mapping[str, Any]]) -> tuple[Sock, ...]:
    """Sockets from their spec form; SpecError naming the first bad entry."""
    out = []
    for what, raw in entries(sockets, "sockets", '{ protocol = "tcp", src = "10.0.0.2", sport = 80 }',
                             SOCKET_KEYS):
        protocol = _PROTOCOLS.get(str(raw.get("protocol", "tcp")).lower())
        if protocol is None:
            raise SpecError(f"{what}.protocol must be \"tcp\" or \"udp\", not {raw.get('protocol')!r}")
        if "src" not in raw or "sport" not in raw:
            raise SpecError(f"{what} needs its local address and port: src = \"10.0.0.2\", sport = 80")
        src = address(raw["src"], f"{what}.src")
        dst = address(raw["dst"], f"{what}.dst") if "dst" in raw else None
        if dst is not None and dst.version != src.version:
            raise SpecError(f"{what}: src and dst must both be IPv4 or both IPv6")
        default = (TCP_ESTABLISHED if dst is not None else TCP_LISTEN) if protocol == 6 else \
            (TCP_ESTABLISHED if dst is not None else TCP_CLOSE)
        state = _STATES.get(str(raw["state"]).lower()) if "state" in raw else default
        if state is None:
            raise SpecError(f"{what}.state must be one of {', '.join(_STATES)}, not {raw['state']!r}")
        ints = {}
        for key in ("mark", "priority", "bound_dev_if", "cookie"):
            value = raw.get(key, 0)
            if isinstance(value, bool) or not isinstance(value, int):
                raise SpecError(f"{what}.{key} must be an integer, not {value!r}")
            ints[key] = value
        out.append(Sock(protocol, state, src, _port(raw["sport"], f"{what}.sport"), dst,
                        _port(raw.get("dport", 0), f"{what}.dport"), **ints))
    return tuple(out)




def sock_tuple(data: bytes) -> tuple[IpAddress, int, IpAddress, int]:
    """(peer address, peer port, local address, local port) of a struct bpf_sock_tuple."""
    if len(data) == 12:
        return (ipaddress.IPv4Address(data[0:4]), int.from_bytes(data[8:10], "big"),
                ipaddress.IPv4Address(data[4:8]), int.from_bytes(data[10:12], "big"))
    return (ipaddress.IPv6Address(data[0:16]), int.from_bytes(data[32:34], "big"),
            ipaddress.IPv6Address(data[16:32]), int.from_bytes(data[34:36], "big"))


def find_socket(socks: Sequence[Sock], protocol: int, peer: IpAddress, pport: int, local: IpAddress,
          lport: int) -> int | None:
    """The index of the socket the kernel's lookup finds (None: no socket)."""
    def wildcard(a: IpAddress) -> bool:
        return a.version == local.version and int(a) == 0

    same = [(i, s) for i, s in enumerate(socks) if s.protocol == protocol and s.sport == lport
            and s.src.version == local.version]
    for i, s in same:   # an established (connected) socket: the exact 4-tuple
        if s.dst is not None and s.state != TCP_LISTEN and s.src == local and s.dst == peer and s.dport == pport:
            return i
    for bound in (lambda s: s.src == local, lambda s: wildcard(s.src)):
        for i, s in same:
            if s.dst is None and bound(s) and (protocol != 6 or s.state == TCP_LISTEN):
                return i
    return None

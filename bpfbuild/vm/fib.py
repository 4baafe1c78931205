"""A route table for ``bpf_fib_lookup``, given by the test spec (the emulator has no kernel
FIB to ask).

A route is a prefix and where it leads::

    routes = [
      { dst = "10.1.0.0/16", ifindex = 3, gateway = "10.0.0.1",
        smac = "02:00:00:00:00:01", dmac = "02:00:00:00:00:02", mtu = 1500 },
      { dst = "192.0.2.0/24", type = "blackhole" },
    ]

``type`` is ``unicast`` (default), ``blackhole``, ``unreachable``, ``prohibit`` or ``local``;
``dmac`` is the neighbour's address (without it the neighbour is unknown: ``NO_NEIGH``);
``smac`` the egress device's; ``mtu`` the route's (default 1500); ``metric`` its priority.
The longest matching prefix wins, as in the kernel's FIB.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bpfbuild.errors import SpecError
from bpfbuild.vm.specvalues import IpAddress, address, entries, integer

__all__ = ["ROUTE_KEYS", "ROUTE_TYPES", "Route", "best_route", "parse_routes"]

ROUTE_TYPES = ("unicast", "blackhole", "unreachable", "prohibit", "local")
ROUTE_KEYS = frozenset({"dst", "ifindex", "gateway", "smac", "dmac", "mtu", "metric", "type", "src"})

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True)
class Route:
    dst: IpNetwork
    ifindex: int = 1
    gateway: IpAddress | None = None
    smac: bytes = bytes(6)
    dmac: bytes | None = None
    mtu: int = 1500
    metric: int = 0
    type: str = "unicast"
    #: the preferred source address (what BPF_FIB_LOOKUP_SRC fills in); None: not known
    src: IpAddress | None = None


def _mac(value: Any, what: str) -> bytes:
    if not isinstance(value, str):
        raise SpecError(f"{what} must be a MAC address like \"02:00:00:00:00:01\", not {value!r}")
    parts = value.replace("-", ":").split(":")
    try:
        data = bytes(int(p, 16) for p in parts)
    except ValueError:
        data = b""
    if len(parts) != 6 or len(data) != 6:
        raise SpecError(f"{what} must be a MAC address like \"02:00:00:00:00:01\", not {value!r}")
    return data


def parse_routes(routes: Sequence[Mapping[str, Any]]) -> tuple[Route, ...]:
    """Routes from their spec form; SpecError naming the first bad entry."""
    out = []
    for what, raw in entries(routes, "routes", '{ dst = "10.0.0.0/8", ifindex = 2 }', ROUTE_KEYS):
        if "dst" not in raw:
            raise SpecError(f"{what} needs dst = \"<prefix>\" (\"0.0.0.0/0\" for a default route)")
        try:
            dst = ipaddress.ip_network(raw["dst"], strict=False)
        except (ValueError, TypeError):
            raise SpecError(f"{what}.dst must be a prefix like \"10.0.0.0/8\", not {raw['dst']!r}") from None
        kind = raw.get("type", "unicast")
        if kind not in ROUTE_TYPES:
            raise SpecError(f"{what}.type must be one of {', '.join(ROUTE_TYPES)}, not {kind!r}")
        gateway = address(raw["gateway"], f"{what}.gateway") if "gateway" in raw else None
        src = address(raw["src"], f"{what}.src") if "src" in raw else None
        for addr, name in ((gateway, "gateway"), (src, "src")):
            if addr is not None and addr.version != dst.version:
                raise SpecError(f"{what}.{name} is IPv{addr.version}, but dst is IPv{dst.version}")
        out.append(Route(
            dst=dst,
            ifindex=integer(raw.get("ifindex", 1), f"{what}.ifindex", 1, 0x7FFFFFFF),
            gateway=gateway,
            smac=_mac(raw["smac"], f"{what}.smac") if "smac" in raw else bytes(6),
            dmac=_mac(raw["dmac"], f"{what}.dmac") if "dmac" in raw else None,
            mtu=integer(raw.get("mtu", 1500), f"{what}.mtu", 68, 0xFFFF),
            metric=integer(raw.get("metric", 0), f"{what}.metric", 0, 0xFFFFFFFF),
            type=kind,
            src=src,
        ))
    return tuple(out)


def best_route(routes: Sequence[Route], dst: IpAddress) -> Route | None:
    """The longest prefix containing ``dst`` (the lowest metric among equals)."""
    best: Route | None = None
    for route in routes:
        if route.dst.version != dst.version or dst not in route.dst:
            continue
        if best is None or route.dst.prefixlen > best.dst.prefixlen or \
                (route.dst.prefixlen == best.dst.prefixlen and route.metric < best.metric):
            best = route
    return best

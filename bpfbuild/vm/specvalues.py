"""Values of a test spec's world tables (sockets, routes): the checks they share, each failing
with a SpecError that names the entry and the key."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from bpfbuild.errors import SpecError

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def entries(raw: Any, name: str, example: str, keys: frozenset[str]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """``(what, table)`` for each table of the list ``raw`` (``name[i]`` for messages); a list
    that is not one, an entry that is not a table or a key outside ``keys`` is a SpecError."""
    if isinstance(raw, (str, bytes)) or not isinstance(raw, Sequence):
        raise SpecError(f"{name} must be a list of {example}, not {raw!r}")
    for i, table in enumerate(raw):
        what = f"{name}[{i}]"
        if not isinstance(table, Mapping):
            raise SpecError(f"{what} must be a table like {example}, not {table!r}")
        unknown = sorted(set(table) - keys)
        if unknown:
            raise SpecError(f"{what}: unknown key {unknown[0]!r} (keys: {', '.join(sorted(keys))})")
        yield what, table


def address(value: Any, what: str) -> IpAddress:
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        raise SpecError(f"{what} must be an IPv4 or IPv6 address, not {value!r}") from None


def integer(value: Any, what: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise SpecError(f"{what} must be an integer in {low}..{high}, not {value!r}")
    return value

"""hypothesis strategies for testing eBPF programs from pytest with the emulator.

::

    from hypothesis import given
    from bpfbuild import testing, vm

    obj = vm.load("build/xdp_proto_count.bpf.o")

    @given(testing.packets(layers=[["eth"], ["ipv4", "ipv6"], ["tcp", "udp"]],
                           fields={"ipv4.ttl": (0, 255), "tcp.dport": [22, 80, 443]},
                           payload=(0, 64)))
    def test_every_packet_passes(packet):
        assert obj.run(packet=packet).retval == 2

The generators are those of ``[[property]]`` blocks (:mod:`bpfbuild.vm.properties`): a
field is a constant, a ``(low, high)`` tuple (an inclusive integer range) or a list (one of
its values); any of them may also be a hypothesis strategy.  Packets are built by
:func:`bpfbuild.vm.build_packet` (lengths and checksums computed), so shrinking gives the
smallest well-formed packet that still fails.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from hypothesis import strategies as st

from bpfbuild.vm.context import ArgsContext, SkbContext, XdpContext
from bpfbuild.vm.packet import build_packet

__all__ = ["args", "field", "packets", "skb_contexts", "xdp_contexts"]

_M64 = (1 << 64) - 1


def field(value: Any) -> st.SearchStrategy[Any]:
    """A generator as a strategy: a constant, ``(low, high)``, ``[choices]`` or a strategy."""
    if isinstance(value, st.SearchStrategy):
        return value
    if isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, int) for v in value):
        return st.integers(value[0], value[1])
    if isinstance(value, list):
        return st.sampled_from(value)
    return st.just(value)


def packets(layers: Sequence[str | Sequence[str]] = (("eth",), ("ipv4", "ipv6"), ("tcp", "udp", "icmp")),
            fields: Mapping[str, Any] | None = None, payload: Any = None,
            truncate: Any = None) -> st.SearchStrategy[bytes]:
    """Packets made of one layer per position of ``layers`` (a name, or a list to choose from),
    with ``fields`` (``"layer.field"`` -> generator) set on the layers chosen, a random
    ``payload`` of a generated length, and optionally cut to a generated ``truncate`` length."""
    choices = [(x,) if isinstance(x, str) else tuple(x) for x in layers]
    gens = {k: field(v) for k, v in (fields or {}).items()}
    for key in gens:
        if key.count(".") != 1:
            raise ValueError(f"fields: {key!r} must be layer.field (e.g. 'ipv4.ttl')")
    payload_st = field(payload).flatmap(lambda n: st.binary(min_size=n, max_size=n)) if payload is not None \
        else st.just(None)
    trunc_st = field(truncate) if truncate is not None else st.just(None)

    def build(chosen: tuple[str, ...], values: dict[str, Any], data: bytes | None, cut: int | None) -> bytes:
        built: list[tuple[str, Any]] = []
        for name in chosen:
            built.append((name, {k.split(".", 1)[1]: v for k, v in values.items() if k.split(".", 1)[0] == name}))
        if data is not None:
            built.append(("payload", {"hex": data.hex()} if data else {"size": 0}))
        packet = build_packet(built)
        return packet[:cut] if cut is not None else packet

    return st.builds(build, st.tuples(*(st.sampled_from(c) for c in choices)), st.fixed_dictionaries(gens),
                     payload_st, trunc_st)


def xdp_contexts(packet: st.SearchStrategy[bytes] | None = None, *, ingress_ifindex: Any = 1,
                 rx_queue_index: Any = 0) -> st.SearchStrategy[XdpContext]:
    """``xdp_md`` contexts around generated packets (default: :func:`packets`)."""
    return st.builds(XdpContext, packet if packet is not None else packets(),
                     ingress_ifindex=field(ingress_ifindex), rx_queue_index=field(rx_queue_index))


def skb_contexts(packet: st.SearchStrategy[bytes] | None = None, *, mark: Any = 0, priority: Any = 0,
                 ifindex: Any = 1) -> st.SearchStrategy[SkbContext]:
    """``__sk_buff`` contexts around generated packets (default: :func:`packets`)."""
    return st.builds(SkbContext, packet if packet is not None else packets(), mark=field(mark),
                     priority=field(priority), ifindex=field(ifindex))


def args(*values: Any, count: int | None = None) -> st.SearchStrategy[ArgsContext]:
    """Raw tracepoint / tracing arguments: one generator per argument, or ``count`` arbitrary
    64-bit values."""
    gens = [field(v) for v in values] if count is None else [st.integers(0, _M64)] * count
    return st.builds(lambda a: ArgsContext(tuple(x & _M64 for x in a)), st.tuples(*gens))

"""bpfbuild.testing: hypothesis strategies give well-formed packets and contexts the emulator runs."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bpfbuild import testing
from bpfbuild.vm import ArgsContext, SkbContext, XdpContext, describe_packet


@settings(max_examples=60, deadline=None)
@given(testing.packets(layers=[["eth"], ["ipv4", "ipv6"], ["tcp", "udp"]],
                       fields={"ipv4.ttl": (0, 255), "tcp.dport": [22, 80, 443], "udp.dport": st.just(53)},
                       payload=(0, 16)))
def test_packets_are_well_formed_layers(packet: bytes) -> None:
    text = describe_packet(packet)
    assert " ipv4 " in text or " ipv6 " in text
    assert len(packet) >= 14 + 20 + 8


@settings(max_examples=30, deadline=None)
@given(testing.xdp_contexts(ingress_ifindex=(1, 5)), testing.skb_contexts(mark=[0, 7]), testing.args(1, (0, 9)))
def test_contexts(xdp: XdpContext, skb: SkbContext, a: ArgsContext) -> None:
    assert 1 <= xdp.ingress_ifindex <= 5 and skb.mark in (0, 7)
    assert a.args[0] == 1 and 0 <= a.args[1] <= 9


def test_bad_field_name() -> None:
    with pytest.raises(ValueError, match="layer.field"):
        testing.packets(fields={"ttl": 3})


def test_from_pytest_against_a_program(tmp_path: Path) -> None:
    from bpfbuild.isa import assemble
    from bpfbuild.vm import Machine, Session

    m = Machine(Session())
    prog = m.load(assemble("r2 = *(u32 *)(r1 + 4)\nr1 = *(u32 *)(r1 + 0)\nr0 = r2\nr0 -= r1\nexit"),
                  name="len", prog_type=6)

    @settings(max_examples=40, deadline=None)
    @given(testing.xdp_contexts(testing.packets(payload=(0, 100))))
    def check(ctx: XdpContext) -> None:
        assert m.run(prog, ctx).retval == len(ctx.packet)

    check()

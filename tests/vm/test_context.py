"""Contexts: what r1 points to for each program type, and the packet's edges."""

from __future__ import annotations

import errno
import struct

import pytest

from bpfbuild.abi.ctx import ctx_layout
from bpfbuild.abi.progtypes import ProgType
from bpfbuild.isa import assemble
from bpfbuild.vm import (
    ArgsContext,
    KprobeContext,
    Machine,
    RawContext,
    Session,
    SkbContext,
    TracepointContext,
    VMError,
    XdpContext,
)
from bpfbuild.vm.context import XDP_FRAME_SIZE, XDP_HEADROOM, XdpState, context_for
from bpfbuild.vm.memory import Memory

XDP = {f.name: f.offset for f in ctx_layout("xdp_md").fields}
SKB = {f.name: f.offset for f in ctx_layout("__sk_buff").fields}


def run(text: str, prog_type: ProgType | None, ctx: object) -> int:
    m = Machine(Session())
    return m.run(m.load(assemble(text), prog_type=prog_type), ctx).retval  # type: ignore[arg-type]


def test_xdp_pointer_fields_are_full_pointers() -> None:
    text = f"""
        r2 = *(u32 *)(r1 + {XDP['data']})
        r3 = *(u32 *)(r1 + {XDP['data_end']})
        r0 = r3
        r0 -= r2
        r4 = *(u8 *)(r2 + 1)
        r0 <<= 8
        r0 |= r4
        exit"""
    assert run(text, ProgType.XDP, XdpContext(bytes(range(40)))) == (40 << 8) | 1


def test_xdp_md_scalar_fields() -> None:
    ctx = XdpContext(bytes(14), ingress_ifindex=3, rx_queue_index=5)
    assert run(f"r0 = *(u32 *)(r1 + {XDP['ingress_ifindex']})\nexit", ProgType.XDP, ctx) == 3
    assert run(f"r0 = *(u32 *)(r1 + {XDP['rx_queue_index']})\nexit", ProgType.XDP, ctx) == 5


def test_xdp_ctx_is_read_only() -> None:
    with pytest.raises(VMError, match="read-only"):
        run("*(u32 *)(r1 + 12) = 1\nexit", ProgType.XDP, XdpContext(bytes(14)))


def test_xdp_packet_bounds_are_checked() -> None:
    with pytest.raises(VMError, match="packet is 20 bytes"):
        run(f"r2 = *(u32 *)(r1 + {XDP['data']})\nr0 = *(u32 *)(r2 + 18)\nexit", ProgType.XDP,
            XdpContext(bytes(20)))


def test_xdp_adjust_head_limits() -> None:
    state = XdpState(Memory(), XdpContext(bytes(60)))
    assert state.adjust_head(-(XDP_HEADROOM - 40)) == 0     # down to the xdp_frame
    assert state.adjust_head(-1) == -errno.EINVAL
    assert state.adjust_head(XDP_HEADROOM - 40 + 60 - 14) == 0   # up to 14 bytes left
    assert state.adjust_head(1) == -errno.EINVAL
    assert state.length == 14


def test_xdp_adjust_meta_rules() -> None:
    state = XdpState(Memory(), XdpContext(bytes(60)))
    assert state.adjust_meta(-6) == -errno.EACCES     # not 4-byte aligned
    assert state.adjust_meta(4) == -errno.EINVAL      # past data
    assert state.adjust_meta(-8) == 0
    assert state.meta_out() == bytes(8)
    assert state.adjust_meta(-256) == -errno.EINVAL   # into the xdp_frame


def test_xdp_adjust_tail_grows_with_zeros_up_to_the_frame() -> None:
    state = XdpState(Memory(), XdpContext(b"\xff" * 60))
    assert state.adjust_tail(10) == 0
    assert state.packet_out() == b"\xff" * 60 + bytes(10)
    assert state.adjust_tail(-57) == -errno.EINVAL   # below 14 bytes
    limit = XDP_FRAME_SIZE - 320 - XDP_HEADROOM - 70
    assert state.adjust_tail(limit) == 0
    assert state.adjust_tail(1) == -errno.EINVAL


def test_xdp_adjust_head_invalidates_old_packet_pointers() -> None:
    text = f"""
        r6 = r1
        r7 = *(u32 *)(r6 + {XDP['data']})
        r1 = r6
        r2 = 4
        call 44
        r0 = *(u8 *)(r7 + 0)
        exit"""
    with pytest.raises(VMError, match="no memory there|is gone"):
        run(text, ProgType.XDP, XdpContext(bytes(40)))


def test_skb_fields_for_tc_and_socket_filter() -> None:
    packet = bytes(6) + bytes.fromhex("020000000001") + b"\x86\xdd" + bytes(50)
    ctx = SkbContext(packet, mark=7, priority=3, cb=(1, 2, 3, 4, 5))
    text = "r0 = *(u32 *)(r1 + {})\nexit"
    assert run(text.format(SKB["len"]), ProgType.SCHED_CLS, ctx) == 64
    assert run(text.format(SKB["len"]), ProgType.SOCKET_FILTER, ctx) == 50     # L3 and up
    assert run(text.format(SKB["protocol"]), ProgType.SCHED_CLS, ctx) == 0xDD86  # __be16 as stored
    assert run(text.format(SKB["mark"]), ProgType.SCHED_CLS, ctx) == 7
    assert run(text.format(SKB["cb"] + 8), ProgType.SCHED_CLS, ctx) == 3
    assert run(text.format(SKB["pkt_type"]), ProgType.SCHED_CLS, ctx) == 0       # to the device address
    other = SkbContext(bytes.fromhex("020000000002") + packet[6:])
    assert run(text.format(SKB["pkt_type"]), ProgType.SCHED_CLS, other) == 3     # PACKET_OTHERHOST


def test_skb_writes_reach_the_ctx_out() -> None:
    m = Machine(Session())
    prog = m.load(assemble(f"r2 = 99\n*(u32 *)(r1 + {SKB['mark']}) = r2\nr0 = 0\nexit"),
                  prog_type=ProgType.SCHED_CLS)
    result = m.run(prog, SkbContext(bytes(20)))
    assert result.ctx is not None
    assert struct.unpack_from("<I", result.ctx, SKB["mark"])[0] == 99


def test_socket_filter_output_zeroes_the_link_layer_header() -> None:
    m = Machine(Session())
    prog = m.load(assemble("r0 = 0\nexit"), prog_type=ProgType.SOCKET_FILTER)
    assert m.run(prog, SkbContext(b"\xff" * 20)).packet == bytes(14) + b"\xff" * 6


def test_raw_tracepoint_args() -> None:
    assert run("r0 = *(u64 *)(r1 + 8)\nexit", ProgType.RAW_TRACEPOINT, ArgsContext((1, 2, 3))) == 2
    with pytest.raises(VMError, match="past it|past the end"):
        run("r0 = *(u64 *)(r1 + 24)\nexit", ProgType.RAW_TRACEPOINT, ArgsContext((1, 2, 3)))


def test_kprobe_pt_regs_by_name() -> None:
    offset = {f.name: f.offset for f in ctx_layout("pt_regs").fields}
    ctx = KprobeContext.with_args(10, 20, rip=0xFFFFFFFF81000000)
    assert run(f"r0 = *(u64 *)(r1 + {offset['rsi']})\nexit", ProgType.KPROBE, ctx) == 20
    assert run(f"r0 = *(u64 *)(r1 + {offset['rip']})\nexit", ProgType.KPROBE, ctx) == 0xFFFFFFFF81000000
    with pytest.raises(VMError, match="bad context"):
        run("r0 = 0\nexit", ProgType.KPROBE, KprobeContext({"eax": 1}))


def test_tracepoint_record_is_read_only() -> None:
    ctx = TracepointContext(bytes(8) + b"\x2a\0\0\0")
    assert run("r0 = *(u32 *)(r1 + 8)\nexit", ProgType.TRACEPOINT, ctx) == 42
    with pytest.raises(VMError, match="read-only"):
        run("*(u32 *)(r1 + 8) = 1\nexit", ProgType.TRACEPOINT, ctx)


def test_raw_context_and_defaults() -> None:
    assert run("r0 = *(u8 *)(r1 + 1)\nexit", None, RawContext(b"\x01\x02")) == 2
    assert isinstance(context_for(ProgType.XDP, packet=b"abc"), XdpContext)
    assert isinstance(context_for(ProgType.SOCKET_FILTER), SkbContext)
    assert context_for(ProgType.RAW_TRACEPOINT, args=[5]) == ArgsContext((5,))

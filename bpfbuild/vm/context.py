"""Program contexts: what ``r1`` points to at entry, per program type, and the packet.

The inputs a user sets are small frozen records:

=====================  ==========================================================================
program type           input
=====================  ==========================================================================
XDP                    :class:`XdpContext` (packet, ``ingress_ifindex``, ``rx_queue_index``,
                       ``egress_ifindex``, metadata bytes in front of the packet)
socket filter, TC,     :class:`SkbContext` (packet, ``mark``, ``priority``, ``ifindex``, ``cb``...)
cgroup_skb, lwt
raw_tp, tracing        :class:`ArgsContext` (up to 12 u64 arguments: ``args[0..11]``)
tracepoint             :class:`TracepointContext` (the raw record, common header included)
kprobe, perf_event     :class:`KprobeContext` (x86-64 ``pt_regs`` by register name; use
                       :meth:`KprobeContext.with_args` for PARM1..6 = rdi rsi rdx rcx r8 r9)
anything else          :class:`RawContext` (the ctx bytes as they are)
=====================  ==========================================================================

The kernel rewrites context loads (``convert_ctx_accesses``); the emulator instead fills the
context bytes with the values a program observes and refreshes them when a helper changes
the packet.  The pointer fields that the UAPI declares as ``__u32`` (``xdp_md.data``,
``__sk_buff.data``...) hold 64-bit pointers in the kernel; the context region is a
:class:`CtxBuffer` whose 4-byte loads at those offsets give the full pointer.

What the values are follows ``BPF_PROG_TEST_RUN`` on Linux 6.18, so that the emulator can be
checked against it: an XDP packet starts 256 bytes into a 4096-byte frame (so it may grow
by ``bpf_xdp_adjust_head`` into 216 bytes of headroom, the rest being the kernel's
``struct xdp_frame``, and by ``bpf_xdp_adjust_tail`` up to 3520 bytes); a socket filter's
``skb->data`` is the network header (the Ethernet header was pulled by ``eth_type_trans``),
a TC program's is the Ethernet header; ``skb->protocol`` and ``pkt_type`` are what
``eth_type_trans`` gives on the loopback device (address 00:00:00:00:00:00).
"""

from __future__ import annotations

import errno
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from bpfbuild.abi.ctx import ctx_layout
from bpfbuild.abi.progtypes import ProgType
from bpfbuild.vm.memory import Memory, RegionKind, Trap

__all__ = [
    "ArgsContext",
    "Context",
    "ContextState",
    "CtxBuffer",
    "KprobeContext",
    "RawContext",
    "SkbContext",
    "TracepointContext",
    "XdpContext",
    "context_for",
    "make_state",
]

_U32 = struct.Struct("<I")
_M64 = (1 << 64) - 1

#: XDP_PACKET_HEADROOM and the kernel's frame layout used by test_run
XDP_HEADROOM = 256
XDP_FRAME_SIZE = 4096
XDP_FRAME_STRUCT = 40          # sizeof(struct xdp_frame), at the start of the headroom
SKB_SHARED_INFO = 320          # SKB_DATA_ALIGN(sizeof(struct skb_shared_info))
ETH_HLEN = 14
#: largest XDP metadata (skb_shared_info.meta_len is a u8, and it must be 4-byte aligned)
XDP_META_MAX = 255
#: the loopback device's MTU + header: how far bpf_skb_change_head may grow a packet
SKB_MAX_LEN = 65536 + ETH_HLEN


class CtxBuffer(bytearray):
    """A context region: plain bytes, except that a 4-byte load at an offset in ``wide``
    yields the 64-bit value stored there (the kernel's rewritten pointer loads)."""

    __slots__ = ("wide",)

    def __init__(self, data: bytes | int = b"") -> None:
        super().__init__(data)
        self.wide: dict[int, int] = {}

    def load32(self, offset: int) -> int:
        value = self.wide.get(offset)
        return value if value is not None else _U32.unpack_from(self, offset)[0]


# --- inputs ------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class XdpContext:
    """An XDP packet and the ``xdp_md`` fields a program reads."""

    packet: bytes
    ingress_ifindex: int = 1
    rx_queue_index: int = 0
    egress_ifindex: int = 0
    meta: bytes = b""


@dataclass(frozen=True, slots=True)
class SkbContext:
    """A socket buffer (``struct __sk_buff``); fields default to what test_run gives."""

    packet: bytes
    mark: int = 0
    priority: int = 0
    ifindex: int = 1
    ingress_ifindex: int = 0
    queue_mapping: int = 0
    tc_index: int = 0
    tc_classid: int = 0
    hash: int = 0
    cb: tuple[int, int, int, int, int] = (0, 0, 0, 0, 0)
    vlan_present: int = 0
    vlan_tci: int = 0
    vlan_proto: int = 0
    napi_id: int = 0
    tstamp: int = 0
    wire_len: int = 0
    gso_segs: int = 0
    gso_size: int = 0
    hwtstamp: int = 0
    #: the receiving device's MAC and broadcast addresses (they decide pkt_type, as
    #: eth_type_trans does; the loopback device has zeros for both)
    dev_addr: bytes = bytes(6)
    dev_broadcast: bytes = bytes(6)


@dataclass(frozen=True, slots=True)
class ArgsContext:
    """``struct bpf_raw_tracepoint_args`` (and fentry/fexit's u64 argument array)."""

    args: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class TracepointContext:
    """A tracepoint's raw record (including its 8-byte ``common_*`` header)."""

    record: bytes = b""


@dataclass(frozen=True, slots=True)
class KprobeContext:
    """x86-64 ``struct pt_regs`` by register name (``rdi``, ``rsi``, ``rax``, ``rip``...)."""

    regs: Mapping[str, int] = field(default_factory=dict)

    @classmethod
    def with_args(cls, *args: int, **regs: int) -> KprobeContext:
        """PARM1..PARM6 of the x86-64 calling convention: rdi, rsi, rdx, rcx, r8, r9."""
        names = ("rdi", "rsi", "rdx", "rcx", "r8", "r9")
        if len(args) > len(names):
            raise ValueError("x86-64 passes at most 6 arguments in registers")
        return cls({**dict(zip(names, args)), **regs})


@dataclass(frozen=True, slots=True)
class RawContext:
    """Context bytes handed over as they are (``writable`` decides whether stores fault)."""

    data: bytes = b""
    writable: bool = True


Context = XdpContext | SkbContext | ArgsContext | TracepointContext | KprobeContext | RawContext

_SKB_TYPES = frozenset({ProgType.SOCKET_FILTER, ProgType.SCHED_CLS, ProgType.SCHED_ACT,
                        ProgType.CGROUP_SKB, ProgType.LWT_IN, ProgType.LWT_OUT, ProgType.LWT_XMIT,
                        ProgType.LWT_SEG6LOCAL, ProgType.SK_SKB})
_L2_TYPES = frozenset({ProgType.SCHED_CLS, ProgType.SCHED_ACT})
_ARGS_TYPES = frozenset({ProgType.RAW_TRACEPOINT, ProgType.RAW_TRACEPOINT_WRITABLE, ProgType.TRACING,
                         ProgType.LSM, ProgType.EXT, ProgType.STRUCT_OPS})


def context_for(prog_type: ProgType | None, *, packet: bytes | None = None,
                args: Sequence[int] | None = None) -> Context:
    """The default context for a program type, from a packet or arguments if given."""
    if prog_type is ProgType.XDP:
        return XdpContext(packet if packet is not None else bytes(ETH_HLEN))
    if prog_type in _SKB_TYPES:
        return SkbContext(packet if packet is not None else bytes(ETH_HLEN))
    if prog_type in _ARGS_TYPES:
        return ArgsContext(tuple(args or ()))
    if prog_type is ProgType.TRACEPOINT:
        return TracepointContext(bytes(packet or b""))
    if prog_type in (ProgType.KPROBE, ProgType.PERF_EVENT):
        return KprobeContext.with_args(*(args or ()))
    if args:
        return RawContext(b"".join((a & _M64).to_bytes(8, "little") for a in args))
    return RawContext(bytes(packet or b""))


# --- per-run state ---------------------------------------------------------------------------

class ContextState:
    """The context of one run: its regions, and what helpers may do with the packet.

    Subclasses override the packet operations; the defaults are "this program type has
    no packet" faults, as the verifier would not let such a program call them.
    """

    kind = "ctx"
    #: the running program's expected attach type (``bpf_attach_type``; None: not known)
    attach_type: int | None = None

    def __init__(self, memory: Memory) -> None:
        self.memory = memory
        self.ctx_addr = 0
        self._mapped: list[int] = []

    def _map(self, buf: bytearray, kind: RegionKind, name: str, writable: bool, key: int | None = None) -> int:
        addr = self.memory.map(buf, kind, name, writable=writable, key=key)
        self._mapped.append(addr)
        return addr

    def release(self) -> None:
        for addr in self._mapped:
            self.memory.unmap(addr)
        self._mapped.clear()

    # results
    def packet_out(self) -> bytes | None:
        return None

    def meta_out(self) -> bytes | None:
        """XDP metadata in front of the packet (None for other contexts)."""
        return None

    def ctx_out(self) -> bytes | None:
        region = self.memory.regions.get(self.ctx_addr >> 32)
        return bytes(region.buf) if region is not None else None

    # packet access for helpers
    def packet_bytes(self) -> bytearray:
        raise Trap(f"this program's context ({self.kind}) has no packet")

    def ld_abs(self, size: int, offset: int) -> int | None:
        raise Trap(f"legacy packet loads (ld_abs/ld_ind) need a socket buffer, not {self.kind}")

    def packet_changed(self) -> None:
        """Refresh what the program observes after a helper changed the packet."""


class PlainState(ContextState):
    """A context that is just bytes (tracing programs, raw contexts)."""

    def __init__(self, memory: Memory, data: bytes, name: str, *, writable: bool, size: int = 0) -> None:
        super().__init__(memory)
        self.kind = name
        buf = CtxBuffer(bytes(data).ljust(size, b"\0"))
        self.ctx_addr = self._map(buf, RegionKind.CTX, name, writable) if len(buf) else 0


class MemState(ContextState):
    """``run_bytecode``'s input memory: r1 points to it; ld_abs reads it as a packet."""

    kind = "input memory"

    def __init__(self, memory: Memory, data: bytes, *, key: int | None = None) -> None:
        super().__init__(memory)
        self.buf = bytearray(data)
        self.ctx_addr = self._map(self.buf, RegionKind.MEM, "", True, key) if data else 0

    def ld_abs(self, size: int, offset: int) -> int | None:
        if offset < 0 or offset + size > len(self.buf):
            return None
        return int.from_bytes(self.buf[offset:offset + size], "big")

    def packet_out(self) -> bytes | None:
        return bytes(self.buf)


class XdpState(ContextState):
    """An ``xdp_buff``: a 4096-byte frame, the packet 256 bytes in; the program sees the
    bytes from ``data_meta`` to ``data_end`` as one region (remapped when a helper moves
    the edges, which also invalidates old packet pointers, as the verifier does)."""

    kind = "xdp_md"

    def __init__(self, memory: Memory, ctx: XdpContext) -> None:
        super().__init__(memory)
        layout = ctx_layout("xdp_md")
        self.off = {f.name: f.offset for f in layout.fields}
        meta = bytes(ctx.meta)
        self.frame = bytearray(XDP_FRAME_SIZE)
        packet = bytes(ctx.packet)
        if len(packet) > XDP_FRAME_SIZE - XDP_HEADROOM - SKB_SHARED_INFO:
            raise Trap(f"an XDP packet is at most {XDP_FRAME_SIZE - XDP_HEADROOM - SKB_SHARED_INFO} bytes "
                       f"(one page minus headroom and tailroom), not {len(packet)}")
        if len(meta) > XDP_META_MAX or len(meta) % 4:
            raise Trap(f"XDP metadata must be a multiple of 4 bytes, at most {XDP_META_MAX}")
        self.data = XDP_HEADROOM
        self.meta = self.data - len(meta)
        self.end = self.data + len(packet)
        self.frame[self.meta:self.data] = meta
        self.frame[self.data:self.end] = packet
        buf = CtxBuffer(layout.size)
        _U32.pack_into(buf, self.off["ingress_ifindex"], ctx.ingress_ifindex & 0xFFFFFFFF)
        _U32.pack_into(buf, self.off["rx_queue_index"], ctx.rx_queue_index & 0xFFFFFFFF)
        _U32.pack_into(buf, self.off["egress_ifindex"], ctx.egress_ifindex & 0xFFFFFFFF)
        self.ctx_buf = buf
        self.ctx_addr = self._map(buf, RegionKind.CTX, "xdp_md", False)
        self.region: bytearray | None = None
        self.region_addr = 0
        self._remap()

    def _sync(self) -> None:
        if self.region is not None:
            self.frame[self.meta:self.end] = self.region

    def _remap(self) -> None:
        if self.region_addr:
            self.memory.unmap(self.region_addr)
            self._mapped.remove(self.region_addr)
        self.region = bytearray(self.frame[self.meta:self.end])
        self.region_addr = self._map(self.region, RegionKind.PACKET, "", True)
        wide = self.ctx_buf.wide
        wide[self.off["data_meta"]] = self.region_addr
        wide[self.off["data"]] = self.region_addr + (self.data - self.meta)
        wide[self.off["data_end"]] = self.region_addr + (self.end - self.meta)
        for name in ("data_meta", "data", "data_end"):
            _U32.pack_into(self.ctx_buf, self.off[name], wide[self.off[name]] & 0xFFFFFFFF)

    def packet_bytes(self) -> bytearray:
        self._sync()
        return self.frame

    def packet_out(self) -> bytes:
        self._sync()
        return bytes(self.frame[self.data:self.end])

    def meta_out(self) -> bytes:
        self._sync()
        return bytes(self.frame[self.meta:self.data])

    def adjust_head(self, delta: int) -> int:
        self._sync()
        metalen = self.data - self.meta
        data = self.data + delta
        if data < XDP_FRAME_STRUCT + metalen or data > self.end - ETH_HLEN:
            return -errno.EINVAL
        if metalen:
            self.frame[self.meta + delta:self.meta + delta + metalen] = self.frame[self.meta:self.data]
        self.meta += delta
        self.data = data
        self._remap()
        return 0

    def adjust_meta(self, delta: int) -> int:
        self._sync()
        meta = self.meta + delta
        if meta < XDP_FRAME_STRUCT or meta > self.data:
            return -errno.EINVAL
        metalen = self.data - meta
        if metalen % 4 or metalen > XDP_META_MAX:
            return -errno.EACCES
        self.meta = meta
        self._remap()
        return 0

    def adjust_tail(self, delta: int) -> int:
        self._sync()
        end = self.end + delta
        if end > XDP_FRAME_SIZE - SKB_SHARED_INFO or end < self.data + ETH_HLEN:
            return -errno.EINVAL
        if delta > 0:
            self.frame[self.end:end] = bytes(delta)
        self.end = end
        self._remap()
        return 0

    @property
    def length(self) -> int:
        return self.end - self.data


#: skb program types that may write the packet (verifier.c: may_access_direct_pkt_data)
_SKB_WRITERS = frozenset((ProgType.SCHED_CLS, ProgType.SCHED_ACT, ProgType.LWT_XMIT, ProgType.SK_SKB,
                          ProgType.SK_MSG))


class SkbState(ContextState):
    """A ``struct __sk_buff``: the packet (linear), ``skb->data`` at the network header for
    socket filters and at the Ethernet header for TC, fields as test_run fills them."""

    kind = "__sk_buff"

    def __init__(self, memory: Memory, ctx: SkbContext, prog_type: ProgType | None) -> None:
        super().__init__(memory)
        layout = ctx_layout("__sk_buff")
        self.layout = layout
        self.off = {f.name: f.offset for f in layout.fields}
        self.l2 = prog_type in _L2_TYPES or prog_type is None
        self.direct = prog_type not in (ProgType.SOCKET_FILTER,)
        #: the verifier's may_access_direct_pkt_data(BPF_WRITE): bpf_dynptr_from_skb makes a
        #: read-only dynptr in program types that may not write the packet
        self.packet_writable = prog_type in _SKB_WRITERS or prog_type is None
        self.frame = bytearray(ctx.packet)
        self.data_off = 0 if self.l2 else min(ETH_HLEN, len(self.frame))
        buf = CtxBuffer(layout.size)
        self.ctx_buf = buf
        put = self._put
        put("mark", ctx.mark)
        put("priority", ctx.priority)
        put("ifindex", ctx.ifindex)
        put("ingress_ifindex", ctx.ingress_ifindex)
        put("queue_mapping", ctx.queue_mapping)
        put("tc_index", ctx.tc_index)
        put("tc_classid", ctx.tc_classid)
        put("hash", ctx.hash)
        put("vlan_present", ctx.vlan_present)
        put("vlan_tci", ctx.vlan_tci)
        put("vlan_proto", ctx.vlan_proto)
        put("napi_id", ctx.napi_id)
        put("gso_segs", ctx.gso_segs)
        put("gso_size", ctx.gso_size)
        struct.pack_into("<Q", buf, self.off["tstamp"], ctx.tstamp & _M64)
        struct.pack_into("<Q", buf, self.off["hwtstamp"], ctx.hwtstamp & _M64)
        for i, word in enumerate(tuple(ctx.cb)[:5]):
            _U32.pack_into(buf, self.off["cb"] + 4 * i, word & 0xFFFFFFFF)
        self.wire_len = ctx.wire_len
        eth = bytes(self.frame[:ETH_HLEN]).ljust(ETH_HLEN, b"\0")
        put("protocol", int.from_bytes(eth[12:14], "little") if int.from_bytes(eth[12:14], "big") >= 0x600
            else (0x0100 if bytes(self.frame[14:16]) == b"\xff\xff" else 0x0400))
        dst = eth[:6]
        if dst == bytes(ctx.dev_addr):
            pkt_type = 0                                            # PACKET_HOST
        elif dst[0] & 1:
            pkt_type = 1 if dst == bytes(ctx.dev_broadcast) else 2  # BROADCAST / MULTICAST
        else:
            pkt_type = 3                                            # PACKET_OTHERHOST
        put("pkt_type", pkt_type)
        self.ctx_addr = self._map(buf, RegionKind.CTX, "__sk_buff", True)
        self.region_addr = 0
        self.packet_changed()

    def _put(self, name: str, value: int) -> None:
        _U32.pack_into(self.ctx_buf, self.off[name], value & 0xFFFFFFFF)

    @property
    def length(self) -> int:
        return len(self.frame) - self.data_off

    def packet_changed(self) -> None:
        self._put("len", self.length)
        wire = self.wire_len or len(self.frame)
        self._put("wire_len", wire)
        if self.region_addr:
            self.memory.unmap(self.region_addr)
            self._mapped.remove(self.region_addr)
            self.region_addr = 0
        wide = self.ctx_buf.wide
        if self.direct and self.data_off == 0:
            self.region_addr = self._map(self.frame, RegionKind.PACKET, "", True)
            wide[self.off["data"]] = wide[self.off["data_meta"]] = self.region_addr
            wide[self.off["data_end"]] = self.region_addr + len(self.frame)
        else:
            for name in ("data", "data_end", "data_meta"):
                wide[self.off[name]] = 0
        for name in ("data", "data_end", "data_meta"):
            self._put(name, wide[self.off[name]])

    def packet_bytes(self) -> bytearray:
        return self.frame

    def data_view(self) -> memoryview:
        """The bytes from ``skb->data`` on (what offsets of skb helpers count from)."""
        return memoryview(self.frame)[self.data_off:]

    def packet_out(self) -> bytes:
        """The frame after the run; like test_run, a program that saw the packet from the
        network header on gets the link-layer header back as zeros."""
        return bytes(self.data_off) + bytes(self.frame[self.data_off:])

    def ld_abs(self, size: int, offset: int) -> int | None:
        # bpf_skb_load_helper_*: offsets count from skb->data; SKF_NET_OFF / SKF_LL_OFF
        # (negative) count from the network / link-layer header
        if offset < 0:
            if offset >= -0x100000:          # SKF_NET_OFF
                start = ETH_HLEN + offset + 0x100000
            elif offset >= -0x200000:        # SKF_LL_OFF
                start = offset + 0x200000
            else:
                return None
        else:
            start = self.data_off + offset
        if start < 0 or start + size > len(self.frame):
            return None
        return int.from_bytes(self.frame[start:start + size], "big")

    def change_head(self, head_room: int) -> int:
        if len(self.frame) + head_room > SKB_MAX_LEN:
            return -errno.ENOMEM
        self.frame[0:0] = bytes(head_room)
        self.packet_changed()
        return 0

    def adjust_head(self, delta: int) -> int:
        raise Trap("bpf_xdp_adjust_head needs an XDP context")


def make_state(memory: Memory, prog_type: ProgType | None, ctx: Context,
               attach_type: int | None = None) -> ContextState:
    """Map ``ctx`` into ``memory`` for a run of a program of ``prog_type`` (and
    ``attach_type``, which some helpers read: fexit's return value, cgroup storage keys)."""
    state = _make_state(memory, prog_type, ctx)
    if attach_type is not None:
        state.attach_type = attach_type
    return state


def _make_state(memory: Memory, prog_type: ProgType | None, ctx: Context) -> ContextState:
    match ctx:
        case XdpContext():
            return XdpState(memory, ctx)
        case SkbContext():
            return SkbState(memory, ctx, prog_type)
        case ArgsContext():
            if len(ctx.args) > 12:
                raise Trap("a raw tracepoint has at most 12 arguments")
            data = b"".join((a & _M64).to_bytes(8, "little") for a in ctx.args)
            return PlainState(memory, data, "bpf_raw_tracepoint_args", writable=False,
                              size=8 * (len(ctx.args) or 12))   # no args given: all 12 (MAX_BPF_FUNC_ARGS), zero
        case TracepointContext():
            return PlainState(memory, ctx.record, "tracepoint record", writable=False)
        case KprobeContext():
            layout = ctx_layout("pt_regs")
            buf = bytearray(layout.size)
            names = {f.name: f.offset for f in layout.fields}
            for name, value in ctx.regs.items():
                if name not in names:
                    raise Trap(f"pt_regs has no register {name!r} (x86-64 names: {', '.join(names)})")
                struct.pack_into("<Q", buf, names[name], value & _M64)
            if prog_type is ProgType.PERF_EVENT:
                buf += bytes(16)   # sample_period, addr
            return PlainState(memory, bytes(buf), "pt_regs", writable=False)
        case RawContext():
            return PlainState(memory, ctx.data, "ctx", writable=ctx.writable)
    raise TypeError(f"not a context: {ctx!r}")

"""Program contexts: layouts, which loads and stores the verifier allows, and return values.

Layouts are the UAPI structs (``struct __sk_buff``, ``struct xdp_md``...) with their exact
offsets (checked against the C headers by the tests).  Access rules are each program type's
``is_valid_access`` in Linux 6.18, written as data: per field, the access sizes allowed at any
size-aligned offset inside the field (a "narrow" load of part of a field), sizes allowed only at
the field's first byte, and the register type a load produces (``data`` -> PTR_TO_PACKET...).
Every rule here was also checked against the 6.18 verifier by loading one program per
(offset, size, load/store) on the reference machine; the ``kernel`` tests repeat that.

A load or store is valid when it lies wholly inside one field, its offset is a multiple of its
size, and its size is allowed for that field.  Everything else (holes, padding, other
fields) is refused with "invalid bpf_context access".

Return values: :func:`return_range` is ``check_return_code`` (the range R0 must be in at
program exit, or None where the verifier does not check), :func:`return_constants` names the
values that mean something for each program type.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from bpfbuild.abi.progtypes import AttachType, ProgType

__all__ = [
    "Access",
    "CtxField",
    "CtxLayout",
    "CtxSpec",
    "FieldAccess",
    "RegKind",
    "ReturnRange",
    "ctx_layout",
    "ctx_layouts",
    "ctx_spec",
    "ctx_specs",
    "return_constants",
    "return_range",
    "sock_access_ok",
]


class RegKind(enum.Enum):
    """The register type a context load produces (kernel ``enum bpf_reg_type`` names).

    ``log_name`` is how the verifier log prints it (``R2=pkt(r=0)``).
    """

    SCALAR_VALUE = "scalar"
    PTR_TO_PACKET = "pkt"
    PTR_TO_PACKET_END = "pkt_end"
    PTR_TO_PACKET_META = "pkt_meta"
    PTR_TO_SOCK_COMMON_OR_NULL = "sock_common_or_null"
    PTR_TO_SOCKET = "sock"
    PTR_TO_SOCKET_OR_NULL = "sock_or_null"
    PTR_TO_FLOW_KEYS = "flow_keys"
    PTR_TO_TP_BUFFER = "tp_buffer"

    @property
    def log_name(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class CtxField:
    """A member of a context struct; arrays are one field (``cb``: 20 bytes, ``ctype`` ``__u32[5]``)."""

    name: str
    offset: int
    size: int
    ctype: str = "__u32"

    @property
    def end(self) -> int:
        return self.offset + self.size


@dataclass(frozen=True, slots=True)
class CtxLayout:
    """A context struct: its C name and the kernel's ``sizeof``."""

    name: str
    size: int
    fields: tuple[CtxField, ...]

    def field(self, name: str) -> CtxField:
        """The field called ``name``; KeyError if there is none."""
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    def field_at(self, offset: int) -> CtxField | None:
        for f in self.fields:
            if f.offset <= offset < f.end:
                return f
        return None


@dataclass(frozen=True, slots=True)
class Access:
    """Allowed access sizes: ``sizes`` at any size-aligned offset inside the field,
    ``at_start`` also at the field's first byte (may be wider than the field), and
    ``start_only`` if given replaces both at the first byte (raw_tp.w's args[0]: 8 bytes there,
    narrow loads of its other bytes)."""

    sizes: frozenset[int] = frozenset()
    at_start: frozenset[int] = frozenset()
    start_only: frozenset[int] | None = None

    def allows(self, field: CtxField, offset: int, size: int) -> bool:
        if offset % size:
            return False
        if offset == field.offset:
            if self.start_only is not None:
                return size in self.start_only and offset + size <= field.end
            if size in self.at_start:
                return True
        return size in self.sizes and field.offset <= offset and offset + size <= field.end


@dataclass(frozen=True, slots=True)
class FieldAccess:
    """How one program type may use one field (None: not at all); ``reg`` is what a load at
    the field's first byte gives."""

    field: str
    read: Access | None = None
    write: Access | None = None
    reg: RegKind = RegKind.SCALAR_VALUE


@dataclass(frozen=True, slots=True)
class CtxSpec:
    """A program type's context as the verifier sees it.

    ``attach_types``: the expected attach types this spec is for (empty: any); the first is
    the one the rules were measured with.
    """

    name: str
    prog_type: ProgType
    layout: CtxLayout
    fields: tuple[FieldAccess, ...]
    attach_types: tuple[AttachType, ...] = ()
    note: str = ""
    #: :meth:`lookup`'s answers by (offset, size, write), filled as accesses are asked about
    _answers: dict[tuple[int, int, bool], tuple[FieldAccess | None, RegKind | None]] = field(
        default_factory=dict, init=False, repr=False, compare=False)

    def _access(self, name: str) -> FieldAccess | None:
        for fa in self.fields:
            if fa.field == name:
                return fa
        return None

    def check(self, offset: int, size: int, write: bool = False) -> FieldAccess | None:
        """The field access that makes this load/store valid, or None (verifier refuses)."""
        if size not in (1, 2, 4, 8) or offset < 0:
            return None
        for fa in self.fields:
            field = self.layout.field(fa.field)
            access = fa.write if write else fa.read
            if access is not None and access.allows(field, offset, size):
                return fa
        return None

    def load_kind(self, offset: int, size: int) -> RegKind | None:
        """What register type a load of ``size`` bytes at ``offset`` gives; None if refused.

        A field's pointer type applies to a load at its first byte; other bytes are scalars.
        """
        fa = self.check(offset, size)
        if fa is None:
            return None
        return fa.reg if offset == self.layout.field(fa.field).offset else RegKind.SCALAR_VALUE

    def lookup(self, offset: int, size: int, write: bool) -> tuple[FieldAccess | None, RegKind | None]:
        """:meth:`check` and, for a load, :meth:`load_kind` in one answer, kept per spec (the
        verifier asks at every context access; the rules are fixed)."""
        key = (offset, size, write)
        found = self._answers.get(key)
        if found is None:
            fa = self.check(offset, size, write)
            found = self._answers[key] = (fa, None if write or fa is None else self.load_kind(offset, size))
        return found

    def readable(self) -> tuple[str, ...]:
        return tuple(fa.field for fa in self.fields if fa.read is not None)

    def writable(self) -> tuple[str, ...]:
        return tuple(fa.field for fa in self.fields if fa.write is not None)


# ---- layouts -------------------------------------------------------------------------------------

def _fields(*spec: tuple[str, int] | tuple[str, int, str]) -> tuple[CtxField, ...]:
    """Lay out fields in order; each is (name, size[, ctype]); ``@N`` in a name forces offset N."""
    out: list[CtxField] = []
    offset = 0
    for item in spec:
        name, size = item[0], item[1]
        ctype = item[2] if len(item) > 2 else {1: "__u8", 2: "__u16", 4: "__u32", 8: "__u64"}.get(size, "")
        if "@" in name:
            name, at = name.split("@")
            offset = int(at)
        out.append(CtxField(name, offset, size, ctype))
        offset += size
    return tuple(out)


_PT_REGS_X86_64 = ("r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10", "r9", "r8", "rax", "rcx",
                   "rdx", "rsi", "rdi", "orig_rax", "rip", "cs", "eflags", "rsp", "ss")

#: struct bpf_sock_ops: the u32 fields from is_fullsock to sk_txhash, in order
_SOCK_OPS_U32 = ("is_fullsock", "snd_cwnd", "srtt_us", "bpf_sock_ops_cb_flags", "state", "rtt_min",
                 "snd_ssthresh", "rcv_nxt", "snd_nxt", "snd_una", "mss_cache", "ecn_flags", "rate_delivered",
                 "rate_interval_us", "packets_out", "retrans_out", "total_retrans", "segs_in", "data_segs_in",
                 "segs_out", "data_segs_out", "lost_out", "sacked_out", "sk_txhash")

#: PERF_MAX_TRACE_SIZE in 6.18 (measured: tracepoint loads are allowed up to offset 8191)
PERF_MAX_TRACE_SIZE = 8192
#: MAX_BPF_FUNC_ARGS: raw tracepoint programs see up to 12 u64 arguments
MAX_BPF_FUNC_ARGS = 12


@functools.cache
def ctx_layouts() -> dict[str, CtxLayout]:
    """Every context layout, by C struct name."""
    sk_buff = CtxLayout("__sk_buff", 192, _fields(
        ("len", 4), ("pkt_type", 4), ("mark", 4), ("queue_mapping", 4), ("protocol", 4),
        ("vlan_present", 4), ("vlan_tci", 4), ("vlan_proto", 4), ("priority", 4),
        ("ingress_ifindex", 4), ("ifindex", 4), ("tc_index", 4), ("cb", 20, "__u32[5]"), ("hash", 4),
        ("tc_classid", 4), ("data", 4), ("data_end", 4), ("napi_id", 4), ("family", 4),
        ("remote_ip4", 4), ("local_ip4", 4), ("remote_ip6", 16, "__u32[4]"),
        ("local_ip6", 16, "__u32[4]"), ("remote_port", 4), ("local_port", 4), ("data_meta", 4),
        ("flow_keys", 8, "struct bpf_flow_keys *"), ("tstamp", 8), ("wire_len", 4), ("gso_segs", 4),
        ("sk", 8, "struct bpf_sock *"), ("gso_size", 4), ("tstamp_type", 1),
        ("hwtstamp@184", 8)))
    xdp_md = CtxLayout("xdp_md", 24, _fields(
        ("data", 4), ("data_end", 4), ("data_meta", 4), ("ingress_ifindex", 4), ("rx_queue_index", 4),
        ("egress_ifindex", 4)))
    raw_tp = CtxLayout("bpf_raw_tracepoint_args", 8 * MAX_BPF_FUNC_ARGS,
                       tuple(CtxField(f"args[{i}]", 8 * i, 8, "__u64") for i in range(MAX_BPF_FUNC_ARGS)))
    pt_regs = CtxLayout("pt_regs", 8 * len(_PT_REGS_X86_64),
                        _fields(*((name, 8, "unsigned long") for name in _PT_REGS_X86_64)))
    perf = CtxLayout("bpf_perf_event_data", 8 * len(_PT_REGS_X86_64) + 16, _fields(
        *((f"regs.{name}", 8, "unsigned long") for name in _PT_REGS_X86_64),
        ("sample_period", 8), ("addr", 8)))
    tracepoint = CtxLayout("trace_event_raw", PERF_MAX_TRACE_SIZE, _fields(
        ("common_type", 2), ("common_flags", 1), ("common_preempt_count", 1), ("common_pid", 4, "int"),
        ("record", PERF_MAX_TRACE_SIZE - 8, "__u8[]")))
    sock_addr = CtxLayout("bpf_sock_addr", 72, _fields(
        ("user_family", 4), ("user_ip4", 4), ("user_ip6", 16, "__u32[4]"), ("user_port", 4),
        ("family", 4), ("type", 4), ("protocol", 4), ("msg_src_ip4", 4),
        ("msg_src_ip6", 16, "__u32[4]"), ("sk@64", 8, "struct bpf_sock *")))
    sock = CtxLayout("bpf_sock", 80, _fields(
        ("bound_dev_if", 4), ("family", 4), ("type", 4), ("protocol", 4), ("mark", 4), ("priority", 4),
        ("src_ip4", 4), ("src_ip6", 16, "__u32[4]"), ("src_port", 4), ("dst_port", 2, "__be16"),
        ("dst_ip4@52", 4), ("dst_ip6", 16, "__u32[4]"), ("state", 4), ("rx_queue_mapping", 4, "__s32")))
    sockopt = CtxLayout("bpf_sockopt", 40, _fields(
        ("sk", 8, "struct bpf_sock *"), ("optval", 8, "void *"), ("optval_end", 8, "void *"),
        ("level", 4, "__s32"), ("optname", 4, "__s32"), ("optlen", 4, "__s32"), ("retval", 4, "__s32")))
    sk_msg = CtxLayout("sk_msg_md", 80, _fields(
        ("data", 8, "void *"), ("data_end", 8, "void *"), ("family", 4), ("remote_ip4", 4), ("local_ip4", 4),
        ("remote_ip6", 16, "__u32[4]"), ("local_ip6", 16, "__u32[4]"), ("remote_port", 4), ("local_port", 4),
        ("size", 4), ("sk", 8, "struct bpf_sock *")))
    sock_ops = CtxLayout("bpf_sock_ops", 224, _fields(
        ("op", 4), ("replylong", 16, "__u32[4]"), ("family", 4), ("remote_ip4", 4), ("local_ip4", 4),
        ("remote_ip6", 16, "__u32[4]"), ("local_ip6", 16, "__u32[4]"), ("remote_port", 4), ("local_port", 4),
        *((name, 4) for name in _SOCK_OPS_U32), ("bytes_received", 8), ("bytes_acked", 8),
        ("sk", 8, "struct bpf_sock *"), ("skb_data", 8, "void *"), ("skb_data_end", 8, "void *"),
        ("skb_len", 4), ("skb_tcp_flags", 4), ("skb_hwtstamp", 8)))
    sk_lookup = CtxLayout("bpf_sk_lookup", 72, _fields(
        ("sk", 8, "struct bpf_sock *"), ("family", 4), ("protocol", 4), ("remote_ip4", 4),
        ("remote_ip6", 16, "__u32[4]"), ("remote_port", 2, "__be16"), ("__pad_remote_port", 2, "padding"),
        ("local_ip4", 4), ("local_ip6", 16, "__u32[4]"), ("local_port", 4), ("ingress_ifindex", 4)))
    reuseport = CtxLayout("sk_reuseport_md", 56, _fields(
        ("data", 8, "void *"), ("data_end", 8, "void *"), ("len", 4), ("eth_protocol", 4), ("ip_protocol", 4),
        ("bind_inany", 4), ("hash", 4), ("sk@40", 8, "struct bpf_sock *"),
        ("migrating_sk", 8, "struct bpf_sock *")))
    layouts = (sk_buff, xdp_md, raw_tp, pt_regs, perf, tracepoint, sock_addr, sock, sockopt, sk_msg, sock_ops,
               sk_lookup, reuseport)
    return {layout.name: layout for layout in layouts}


def ctx_layout(name: str) -> CtxLayout:
    """The layout of a context struct by its C name (``"__sk_buff"``); KeyError if unknown."""
    return ctx_layouts()[name]


# ---- access rules --------------------------------------------------------------------------------

N32 = frozenset({1, 2, 4})          # narrow loads of a u32 field
N64 = frozenset({1, 2, 4, 8})       # narrow loads of a u64 field / any aligned size
W1 = frozenset({1})
W4 = frozenset({4})
W8 = frozenset({8})
R = RegKind


def _a(sizes: frozenset[int] = frozenset(), at_start: frozenset[int] = frozenset()) -> Access:
    return Access(sizes, at_start)


def _fa(field: str, read: Access | None = None, write: Access | None = None,
        reg: RegKind = R.SCALAR_VALUE) -> FieldAccess:
    return FieldAccess(field, read, write, reg)


def _merge(base: Iterable[FieldAccess], **changes: FieldAccess | None) -> tuple[FieldAccess, ...]:
    """``base`` with fields replaced (a FieldAccess) or removed (None); new fields appended."""
    out: list[FieldAccess] = []
    seen: set[str] = set()
    for fa in base:
        seen.add(fa.field)
        if fa.field in changes:
            repl = changes[fa.field]
            if repl is not None:
                out.append(repl)
        else:
            out.append(fa)
    out += [fa for name, fa in changes.items() if name not in seen and fa is not None]
    return tuple(out)


_SKB_SCALARS_0_44 = ("len", "pkt_type", "mark", "queue_mapping", "protocol", "vlan_present", "vlan_tci",
                     "vlan_proto", "priority", "ingress_ifindex", "ifindex", "tc_index")


def _skb_common() -> tuple[FieldAccess, ...]:
    """Fields every __sk_buff program reads the same way (bpf_skb_is_valid_access)."""
    return (
        *(_fa(name, _a(N32)) for name in _SKB_SCALARS_0_44),
        _fa("cb", _a(N64)),
        _fa("hash", _a(N32)),
        _fa("napi_id", _a(N32)),
        _fa("gso_segs", _a(N32)),
        _fa("sk", _a(W8), reg=R.PTR_TO_SOCK_COMMON_OR_NULL),
        _fa("gso_size", _a(N32)),
    )


def _writes(fields: tuple[FieldAccess, ...], w4: Iterable[str] = (), w8: Iterable[str] = (),
            cb: bool = True) -> tuple[FieldAccess, ...]:
    w4, w8 = set(w4), set(w8)
    out = []
    for fa in fields:
        write = None
        if fa.field in w4:
            write = _a(W4)
        elif fa.field in w8:
            write = _a(W8)
        elif fa.field == "cb" and cb:
            write = _a(N64)
        out.append(FieldAccess(fa.field, fa.read, write, fa.reg))
    return tuple(out)


_PKT = _a(W4)
_SOCKET_IPS = ("remote_ip4", "local_ip4", "remote_ip6", "local_ip6")


def _skb_specs() -> list[CtxSpec]:
    layout = ctx_layout("__sk_buff")
    common = _skb_common()
    pkt = {"data": _fa("data", _PKT, reg=R.PTR_TO_PACKET),
           "data_end": _fa("data_end", _PKT, reg=R.PTR_TO_PACKET_END)}
    sock_fields = {"family": _fa("family", _a(N32)),
                   **{ip: _fa(ip, _a(W4)) for ip in _SOCKET_IPS},
                   "remote_port": _fa("remote_port", _a(N32)), "local_port": _fa("local_port", _a(N32))}
    socket_filter = _writes(common)
    tc = _writes(_merge(common, tc_classid=_fa("tc_classid", _a(N32)), **pkt,
                        data_meta=_fa("data_meta", _PKT, reg=R.PTR_TO_PACKET_META),
                        tstamp=_fa("tstamp", _a(W8)), wire_len=_fa("wire_len", _a(N32)),
                        tstamp_type=_fa("tstamp_type", _a(W1)), hwtstamp=_fa("hwtstamp", _a(W8))),
                 w4=("mark", "queue_mapping", "priority", "tc_index", "tc_classid"), w8=("tstamp",))
    cgroup_skb = _writes(_merge(common, **pkt, **sock_fields, tstamp=_fa("tstamp", _a(W8)),
                                hwtstamp=_fa("hwtstamp", _a(W8))),
                         w4=("mark", "priority"), w8=("tstamp",))
    lwt = _writes(_merge(common, **pkt), w4=("mark", "priority"))
    sk_skb = _writes(_merge(common, mark=None, **pkt, **sock_fields), w4=("priority", "tc_index"),
                     cb=False)
    flow = (_fa("data", _PKT, reg=R.PTR_TO_PACKET), _fa("data_end", _PKT, reg=R.PTR_TO_PACKET_END),
            _fa("flow_keys", _a(W8), reg=R.PTR_TO_FLOW_KEYS))
    P = ProgType
    A = AttachType
    return [
        CtxSpec("socket_filter", P.SOCKET_FILTER, layout, socket_filter,
                note="only cb[] is writable; no packet pointers"),
        CtxSpec("sched_cls", P.SCHED_CLS, layout, tc, (A.TCX_INGRESS, A.TCX_EGRESS)),
        CtxSpec("sched_act", P.SCHED_ACT, layout, tc),
        CtxSpec("cgroup_skb", P.CGROUP_SKB, layout, cgroup_skb,
                (A.CGROUP_INET_INGRESS, A.CGROUP_INET_EGRESS),
                note="data/data_end and tstamp writes need CAP_BPF"),
        CtxSpec("lwt_in", P.LWT_IN, layout, lwt),
        CtxSpec("lwt_out", P.LWT_OUT, layout, lwt),
        CtxSpec("lwt_xmit", P.LWT_XMIT, layout, lwt),
        CtxSpec("lwt_seg6local", P.LWT_SEG6LOCAL, layout, lwt),
        CtxSpec("sk_skb", P.SK_SKB, layout, sk_skb,
                (A.SK_SKB_STREAM_VERDICT, A.SK_SKB_STREAM_PARSER, A.SK_SKB_VERDICT),
                note="mark is neither readable nor writable; cb[] is read-only"),
        CtxSpec("flow_dissector", P.FLOW_DISSECTOR, layout, flow, (A.FLOW_DISSECTOR,)),
    ]


def _xdp_specs() -> list[CtxSpec]:
    layout = ctx_layout("xdp_md")
    base = (_fa("data", _a(W4), reg=R.PTR_TO_PACKET), _fa("data_end", _a(W4), reg=R.PTR_TO_PACKET_END),
            _fa("data_meta", _a(W4), reg=R.PTR_TO_PACKET_META), _fa("ingress_ifindex", _a(W4)),
            _fa("rx_queue_index", _a(W4)))
    A = AttachType
    return [
        CtxSpec("xdp", ProgType.XDP, layout, base, (A.XDP, A.XDP_CPUMAP),
                note="4-byte loads only; nothing is writable; egress_ifindex needs xdp/devmap"),
        CtxSpec("xdp_devmap", ProgType.XDP, layout, (*base, _fa("egress_ifindex", _a(W4))),
                (A.XDP_DEVMAP,)),
    ]


def _tracing_specs() -> list[CtxSpec]:
    P = ProgType
    pt_regs = ctx_layout("pt_regs")
    perf = ctx_layout("bpf_perf_event_data")
    raw = ctx_layout("bpf_raw_tracepoint_args")
    tp = ctx_layout("trace_event_raw")
    any_size = _a(N64)
    return [
        CtxSpec("kprobe", P.KPROBE, pt_regs, tuple(_fa(f.name, any_size) for f in pt_regs.fields),
                note="x86-64 struct pt_regs; read-only; any size-aligned load"),
        CtxSpec("tracepoint", P.TRACEPOINT, tp, (_fa("record", any_size),),
                note="the first 8 bytes (common_* header) are not readable; loads are bounded by"
                     " PERF_MAX_TRACE_SIZE here and by the event's record size at attach"),
        CtxSpec("raw_tracepoint", P.RAW_TRACEPOINT, raw, tuple(_fa(f.name, any_size) for f in raw.fields),
                note="at attach, the highest offset read must be within the tracepoint's arguments"),
        CtxSpec("raw_tracepoint_writable", P.RAW_TRACEPOINT_WRITABLE, raw,
                (_fa("args[0]", Access(N64, start_only=W8), reg=R.PTR_TO_TP_BUFFER),
                 *(_fa(f.name, any_size) for f in raw.fields[1:])),
                note="args[0] is the writable tracepoint buffer: 8-byte loads only"),
        CtxSpec("perf_event", P.PERF_EVENT, perf,
                (*(_fa(f.name, _a(W8)) for f in perf.fields if f.name.startswith("regs.")),
                 _fa("sample_period", any_size), _fa("addr", any_size)),
                note="regs: 8-byte loads only"),
    ]


def _sock_addr_specs() -> list[CtxSpec]:
    layout = ctx_layout("bpf_sock_addr")
    A = AttachType
    common = (_fa("user_family", _a(W4)), _fa("user_port", _a(N32), _a(W4)), _fa("family", _a(W4)),
              _fa("type", _a(W4)), _fa("protocol", _a(W4)), _fa("sk", _a(W8), reg=R.PTR_TO_SOCKET))
    ip4 = _fa("user_ip4", _a(N32), _a(W4))
    ip6 = _fa("user_ip6", _a(N64), _a(frozenset({4, 8})))
    src4 = _fa("msg_src_ip4", _a(N32), _a(W4))
    src6 = _fa("msg_src_ip6", _a(N64), _a(frozenset({4, 8})))
    P = ProgType.CGROUP_SOCK_ADDR
    return [
        CtxSpec("sock_addr4", P, layout, (*common, ip4),
                (A.CGROUP_INET4_CONNECT, A.CGROUP_INET4_BIND, A.CGROUP_UDP4_RECVMSG,
                 A.CGROUP_INET4_GETPEERNAME, A.CGROUP_INET4_GETSOCKNAME)),
        CtxSpec("sock_addr6", P, layout, (*common, ip6),
                (A.CGROUP_INET6_CONNECT, A.CGROUP_INET6_BIND, A.CGROUP_UDP6_RECVMSG,
                 A.CGROUP_INET6_GETPEERNAME, A.CGROUP_INET6_GETSOCKNAME)),
        CtxSpec("sendmsg4", P, layout, (*common, ip4, src4), (A.CGROUP_UDP4_SENDMSG,)),
        CtxSpec("sendmsg6", P, layout, (*common, ip6, src6), (A.CGROUP_UDP6_SENDMSG,)),
    ]


def _sock_specs() -> list[CtxSpec]:
    layout = ctx_layout("bpf_sock")
    A = AttachType
    start = _a(at_start=N32)
    # a 4-byte load of the 2-byte dst_port is allowed at its start (old programs did that)
    shared = (_fa("family", start), _fa("type", start), _fa("protocol", start),
              _fa("dst_port", _a(frozenset({1, 2}), W4)), _fa("dst_ip4", _a(N32)),
              _fa("dst_ip6", _a(N32)), _fa("state", start), _fa("rx_queue_mapping", start))
    create = (_fa("bound_dev_if", _a(W4), _a(W4)), *shared, _fa("mark", _a(W4), _a(W4)),
              _fa("priority", _a(W4), _a(W4)))
    post4 = (*shared, _fa("src_ip4", _a(N32)), _fa("src_port", start))
    post6 = (*shared, _fa("src_ip6", _a(N32)), _fa("src_port", start))
    P = ProgType.CGROUP_SOCK
    return [
        CtxSpec("sock_create", P, layout, create,
                (A.CGROUP_INET_SOCK_CREATE, A.CGROUP_INET_SOCK_RELEASE)),
        CtxSpec("post_bind4", P, layout, post4, (A.CGROUP_INET4_POST_BIND,)),
        CtxSpec("post_bind6", P, layout, post6, (A.CGROUP_INET6_POST_BIND,)),
    ]


def _sockopt_specs() -> list[CtxSpec]:
    layout = ctx_layout("bpf_sockopt")
    A = AttachType
    ptrs = (_fa("sk", _a(W8), reg=R.PTR_TO_SOCKET), _fa("optval", _a(W8), reg=R.PTR_TO_PACKET),
            _fa("optval_end", _a(W8), reg=R.PTR_TO_PACKET_END))
    P = ProgType.CGROUP_SOCKOPT
    return [
        CtxSpec("getsockopt", P, layout,
                (*ptrs, _fa("level", _a(W4)), _fa("optname", _a(W4)), _fa("optlen", _a(W4), _a(W4)),
                 _fa("retval", _a(W4), _a(W4))), (A.CGROUP_GETSOCKOPT,)),
        CtxSpec("setsockopt", P, layout,
                (*ptrs, _fa("level", _a(W4), _a(W4)), _fa("optname", _a(W4), _a(W4)),
                 _fa("optlen", _a(W4), _a(W4))), (A.CGROUP_SETSOCKOPT,)),
    ]


def _sk_msg_specs() -> list[CtxSpec]:
    """sk_msg_is_valid_access: read-only; pointers 8 bytes at their start, the rest u32 loads."""
    layout = ctx_layout("sk_msg_md")
    u32 = tuple(_fa(f.name, _a(W4)) for f in layout.fields if f.ctype.startswith("__u32"))
    return [CtxSpec("sk_msg", ProgType.SK_MSG, layout,
                    (_fa("data", _a(at_start=W8), reg=R.PTR_TO_PACKET),
                     _fa("data_end", _a(at_start=W8), reg=R.PTR_TO_PACKET_END), *u32,
                     _fa("sk", _a(at_start=W8), reg=R.PTR_TO_SOCKET)), (AttachType.SK_MSG_VERDICT,))]


def _sock_ops_specs() -> list[CtxSpec]:
    """sock_ops_is_valid_access: any 4-byte load except where a field says otherwise (the u64
    counters, the pointers and skb_hwtstamp: 8 bytes at their start; skb_tcp_flags: narrow at
    its start); stores only to reply and sk_txhash."""
    layout = ctx_layout("bpf_sock_ops")
    special = {"replylong", "bytes_received", "bytes_acked", "sk", "skb_data", "skb_data_end", "skb_tcp_flags",
               "skb_hwtstamp", "sk_txhash"}
    plain = tuple(_fa(f.name, _a(W4)) for f in layout.fields if f.name not in special)
    wide = _a(at_start=W8)
    return [CtxSpec("sock_ops", ProgType.SOCK_OPS, layout,
                    (_fa("replylong", _a(W4), _a(at_start=W4)), *plain, _fa("sk_txhash", _a(W4), _a(W4)),
                     _fa("bytes_received", _a(at_start=W8)), _fa("bytes_acked", _a(at_start=W8)),
                     _fa("sk", wide, reg=R.PTR_TO_SOCKET_OR_NULL), _fa("skb_data", wide, reg=R.PTR_TO_PACKET),
                     _fa("skb_data_end", wide, reg=R.PTR_TO_PACKET_END),
                     _fa("skb_tcp_flags", _a(at_start=N32)), _fa("skb_hwtstamp", wide)),
                    (AttachType.CGROUP_SOCK_OPS,))]


def _sk_lookup_specs() -> list[CtxSpec]:
    """sk_lookup_is_valid_access: read-only; u32 fields narrow anywhere; remote_port (and the
    padding after it) 1/2 bytes, or 4 bytes at its start."""
    layout = ctx_layout("bpf_sk_lookup")
    u32 = tuple(_fa(f.name, _a(N32)) for f in layout.fields if f.ctype.startswith("__u32"))
    return [CtxSpec("sk_lookup", ProgType.SK_LOOKUP, layout,
                    (_fa("sk", _a(at_start=W8), reg=R.PTR_TO_SOCKET_OR_NULL), *u32,
                     _fa("remote_port", _a(frozenset({1, 2}), W4)),
                     _fa("__pad_remote_port", _a(frozenset({1, 2})))), (AttachType.SK_LOOKUP,))]


def _sk_reuseport_specs() -> list[CtxSpec]:
    """sk_reuseport_is_valid_access: read-only; eth_protocol loads of at least 2 bytes."""
    layout = ctx_layout("sk_reuseport_md")
    return [CtxSpec("sk_reuseport", ProgType.SK_REUSEPORT, layout,
                    (_fa("data", _a(at_start=W8), reg=R.PTR_TO_PACKET),
                     _fa("data_end", _a(at_start=W8), reg=R.PTR_TO_PACKET_END), _fa("len", _a(N32)),
                     _fa("eth_protocol", _a(frozenset({2, 4}))), _fa("ip_protocol", _a(N32)),
                     _fa("bind_inany", _a(N32)), _fa("hash", _a(at_start=W4)),
                     _fa("sk", _a(at_start=W8), reg=R.PTR_TO_SOCKET),
                     _fa("migrating_sk", _a(at_start=W8), reg=R.PTR_TO_SOCK_COMMON_OR_NULL)),
                    (AttachType.SK_REUSEPORT_SELECT, AttachType.SK_REUSEPORT_SELECT_OR_MIGRATE))]


@functools.cache
def ctx_specs() -> tuple[CtxSpec, ...]:
    """Every tabulated context spec."""
    return (*_skb_specs(), *_xdp_specs(), *_tracing_specs(), *_sock_addr_specs(), *_sock_specs(),
            *_sockopt_specs(), *_sk_msg_specs(), *_sock_ops_specs(), *_sk_lookup_specs(),
            *_sk_reuseport_specs())


@functools.cache
def _specs_by_prog_type() -> dict[ProgType, tuple[CtxSpec, ...]]:
    out: dict[ProgType, tuple[CtxSpec, ...]] = {}
    for spec in ctx_specs():
        out[spec.prog_type] = (*out.get(spec.prog_type, ()), spec)
    return out


def ctx_spec(prog_type: ProgType, attach_type: AttachType | None = None) -> CtxSpec | None:
    """The context rules for a program type (and expected attach type where rules differ)."""
    candidates = _specs_by_prog_type().get(prog_type, ())
    if not candidates:
        return None
    if attach_type is not None:
        for spec in candidates:
            if attach_type in spec.attach_types:
                return spec
    for spec in candidates:
        if not spec.attach_types or attach_type is None:
            return spec
    return candidates[0]


# ---- socket pointers (PTR_TO_SOCKET, _SOCK_COMMON, _TCP_SOCK, _XDP_SOCK) ---------------------------
#
# net/core/filter.c of Linux 6.18: bpf_sock_is_valid_access, bpf_sock_common_is_valid_access,
# bpf_tcp_sock_is_valid_access, bpf_xdp_sock_is_valid_access.  Loads only (stores are refused
# before these run).  struct bpf_sock: bound_dev_if 0, family 4, type 8, protocol 12, mark 16,
# priority 20, src_ip4 24, src_ip6 28-43, src_port 44, dst_port 48 (__be16, 2 bytes of padding
# after it), dst_ip4 52, dst_ip6 56-71, state 72, rx_queue_mapping 76; 80 bytes.

_BPF_SOCK_SIZE = 80
#: fields where a narrow (1/2/4-byte) load is allowed only at the field's first byte
_SOCK_NARROW_AT = frozenset({4, 8, 12, 44, 72, 76})          # family, type, protocol, src_port, state, rx_queue
#: (first, last byte) ranges where a narrow load is allowed at any aligned offset
_SOCK_NARROW_IN = ((24, 27), (28, 43), (52, 55), (56, 71))   # src_ip4, src_ip6, dst_ip4, dst_ip6
_TCP_SOCK_END = 112                                          # offsetofend(struct bpf_tcp_sock, icsk_retransmits)
_TCP_SOCK_U64 = frozenset({80, 88})                          # bytes_received, bytes_acked


def _narrow_ok(size: int, field_size: int) -> bool:
    """``bpf_ctx_narrow_access_ok``."""
    return 0 < size <= field_size and size & (size - 1) == 0


def _bpf_sock_ok(off: int, size: int) -> bool:
    if off < 0 or off >= _BPF_SOCK_SIZE or size <= 0 or off % size:
        return False
    if off in _SOCK_NARROW_AT or any(lo <= off <= hi for lo, hi in _SOCK_NARROW_IN):
        return _narrow_ok(size, 4)
    if off in (48, 49):                                      # dst_port: a 4-byte load is still allowed
        return _narrow_ok(size, 4 if size == 4 else 2)
    if off in (50, 51):                                      # the padding after dst_port
        return False
    return size == 4


def sock_access_ok(kind: str, off: int, size: int) -> bool:
    """May a program load ``size`` bytes at ``off`` of a socket pointer?  ``kind`` is the
    register type's name: ``sock``, ``sock_common``, ``tcp_sock`` or ``xdp_sock``."""
    match kind:
        case "sock":
            return _bpf_sock_ok(off, size)
        case "sock_common":
            return not 8 <= off <= 23 and _bpf_sock_ok(off, size)   # type .. priority are full-socket only
        case "tcp_sock":
            if off < 0 or off >= _TCP_SOCK_END or size <= 0 or off % size:
                return False
            return size == (8 if off in _TCP_SOCK_U64 else 4)
        case "xdp_sock":
            return off == 0 and size == 4                            # queue_id
    return False


# ---- return values -------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class ReturnRange:
    """R0 at the main program's exit must lie in ``[lo, hi]`` (as a 64-bit signed value)."""

    lo: int
    hi: int

    def __contains__(self, value: object) -> bool:
        return isinstance(value, int) and self.lo <= value <= self.hi

    def __str__(self) -> str:
        return f"[{self.lo}, {self.hi}]"


@functools.cache
def return_range(prog_type: ProgType, attach_type: AttachType | None = None) -> ReturnRange | None:
    """The range ``check_return_code`` enforces, or None where any value passes the verifier.

    LSM (hook-dependent) and STRUCT_OPS (member-dependent) give None here as well.
    """
    P = ProgType
    A = AttachType
    zero_one = ReturnRange(0, 1)
    match prog_type:
        case P.CGROUP_SKB:
            return ReturnRange(0, 3) if attach_type is A.CGROUP_INET_EGRESS else zero_one
        case P.CGROUP_SOCK_ADDR:
            if attach_type in (A.CGROUP_INET4_BIND, A.CGROUP_INET6_BIND):
                return ReturnRange(0, 3)
            if attach_type in (A.CGROUP_UDP4_RECVMSG, A.CGROUP_UDP6_RECVMSG, A.CGROUP_UNIX_RECVMSG,
                               A.CGROUP_INET4_GETPEERNAME, A.CGROUP_INET6_GETPEERNAME,
                               A.CGROUP_UNIX_GETPEERNAME, A.CGROUP_INET4_GETSOCKNAME,
                               A.CGROUP_INET6_GETSOCKNAME, A.CGROUP_UNIX_GETSOCKNAME):
                return ReturnRange(1, 1)
            return zero_one
        case (P.CGROUP_SOCK | P.SOCK_OPS | P.CGROUP_DEVICE | P.CGROUP_SYSCTL | P.CGROUP_SOCKOPT
              | P.SK_LOOKUP | P.NETFILTER):
            return zero_one
        case P.KPROBE:
            if attach_type in (A.TRACE_KPROBE_SESSION, A.TRACE_UPROBE_SESSION):
                return zero_one
            return None
        case P.TRACING:
            if attach_type in (A.TRACE_FENTRY, A.TRACE_FEXIT):
                return ReturnRange(0, 0)
            if attach_type is A.TRACE_ITER:
                return zero_one
            return None
        case P.LSM if attach_type is A.LSM_CGROUP:
            return zero_one
        case _:
            return None


@functools.cache
def _constants() -> dict[ProgType, dict[str, int]]:
    P = ProgType
    xdp = {"XDP_ABORTED": 0, "XDP_DROP": 1, "XDP_PASS": 2, "XDP_TX": 3, "XDP_REDIRECT": 4}
    tc = {"TC_ACT_UNSPEC": -1, "TC_ACT_OK": 0, "TC_ACT_RECLASSIFY": 1, "TC_ACT_SHOT": 2,
          "TC_ACT_PIPE": 3, "TC_ACT_STOLEN": 4, "TC_ACT_QUEUED": 5, "TC_ACT_REPEAT": 6,
          "TC_ACT_REDIRECT": 7, "TC_ACT_TRAP": 8,
          "TCX_NEXT": -1, "TCX_PASS": 0, "TCX_DROP": 2, "TCX_REDIRECT": 7}
    sk = {"SK_DROP": 0, "SK_PASS": 1}
    cgroup = {"CGROUP_DENY": 0, "CGROUP_ALLOW": 1}
    lwt = {"BPF_OK": 0, "BPF_DROP": 2, "BPF_REDIRECT": 7, "BPF_LWT_REROUTE": 128}
    return {
        P.XDP: xdp,
        P.SCHED_CLS: tc,
        P.SCHED_ACT: tc,
        P.SK_SKB: sk, P.SK_MSG: sk, P.SK_REUSEPORT: sk, P.SK_LOOKUP: sk,
        P.CGROUP_SKB: {**cgroup, "CGROUP_SKB_DROP": 0, "CGROUP_SKB_PASS": 1,
                       "CGROUP_SKB_DROP_CN": 2, "CGROUP_SKB_PASS_CN": 3},
        P.CGROUP_SOCK: cgroup, P.CGROUP_DEVICE: cgroup, P.CGROUP_SYSCTL: cgroup,
        P.CGROUP_SOCKOPT: cgroup, P.SOCK_OPS: cgroup,
        P.CGROUP_SOCK_ADDR: {**cgroup, "BIND_NO_CAP_NET_BIND_SERVICE": 3},
        P.LWT_IN: lwt, P.LWT_OUT: lwt, P.LWT_XMIT: lwt, P.LWT_SEG6LOCAL: lwt,
        P.FLOW_DISSECTOR: {"BPF_OK": 0, "BPF_DROP": 2, "BPF_FLOW_DISSECTOR_CONTINUE": 129},
        P.NETFILTER: {"NF_DROP": 0, "NF_ACCEPT": 1},
        P.SOCKET_FILTER: {"SOCKET_DROP": 0},
    }


def return_constants(prog_type: ProgType) -> Mapping[str, int]:
    """Named return values for ``prog_type`` (``XDP_PASS`` -> 2, ``TC_ACT_SHOT`` -> 2...).

    Cgroup programs return 0 to deny and 1 to allow (``CGROUP_DENY``/``CGROUP_ALLOW``); cgroup_skb
    egress may add 2 for congestion notification; bind4/6 may return 3 to skip the
    CAP_NET_BIND_SERVICE check.  A socket filter returns how many bytes to keep (0 drops).
    """
    return dict(_constants().get(prog_type, {}))

"""Verifier-level helper prototypes (``struct bpf_func_proto``) and who may call what (Linux 6.18).

Vocabulary keeps the kernel's names (``ARG_PTR_TO_MEM``, ``MEM_RDONLY``, ``RET_INTEGER``...) so a
reader can hold a row against the kernel source.  An argument or return type is a base type plus
flags, as in the kernel (``ARG_PTR_TO_MEM | MEM_RDONLY | PTR_MAYBE_NULL``); the flag bit values
here are our own.  Linux 6.12 removed ``ARG_PTR_TO_LONG``/``ARG_PTR_TO_INT`` (their users became
``ARG_PTR_TO_FIXED_SIZE_MEM | MEM_UNINIT | MEM_WRITE | MEM_ALIGNED`` with a size) and made
``ARG_PTR_TO_UNINIT_MEM`` imply ``MEM_WRITE``; the table follows 6.18.

Some helpers have another prototype in some program types (``bpf_get_socket_cookie`` takes the
context in socket programs, a socket pointer in tracing ones; ``bpf_setsockopt`` the context in
sock_ops programs, a socket in sockopt ones): :func:`func_proto` given a program type answers
that type's prototype, or None where this table does not know it, never another type's.

Which program types may call which helper (:func:`prog_type_helpers`) was measured on the
reference machine's 6.18 kernel as root: for every program type that loads there, a program
calling each helper id was loaded; "program of this type cannot use helper" means no.  Each type
was loaded with the attach type libbpf uses for its commonest section (sets differ a little by
attach type, e.g. ``bpf_bind`` needs connect4/6).  TRACING is derived from the measured SYSCALL
set (both go through ``tracing_prog_func_proto``) plus the trampoline-only helpers; LSM, EXT,
STRUCT_OPS and LIRC_MODE2 are not tabulated (None).  Which base helpers need CAP_BPF or
CAP_PERFMON was measured the same way with capabilities dropped; the unprivileged group is the
kernel's long-standing first group of ``bpf_base_func_proto`` (unprivileged BPF is disabled on
the reference machine, so that split is from the source, not measured).

The reference kernel runs locked down in integrity mode (CONFIG_LOCK_DOWN_KERNEL_FORCE_INTEGRITY)
and without CONFIG_BPF_KPROBE_OVERRIDE, so it refused ``bpf_probe_write_user`` and
``bpf_override_return`` everywhere.  The table is upstream's: those two are in the sets of the
program types whose get_func_proto offers them (kernel/trace/bpf_trace.c), and a target kernel
takes away what its lockdown level or configuration takes away (:func:`target_denied`): given a
``target``, :func:`helper_allowed` and :func:`prog_type_helpers` answer for that kernel.
"""

from __future__ import annotations

import enum
import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bpfbuild.abi.helpers import helper_name
from bpfbuild.abi.progtypes import ProgType

if TYPE_CHECKING:
    from bpfbuild.abi.target import Target

__all__ = [
    "Arg",
    "ArgType",
    "BpfFunc",
    "FuncProto",
    "Privilege",
    "Ret",
    "RetType",
    "TypeFlag",
    "base_helper_privilege",
    "func_proto",
    "func_protos",
    "helper_allowed",
    "helper_prog_types",
    "is_async_callback_helper",
    "is_sync_callback_helper",
    "offered_helper",
    "prog_type_helpers",
    "target_denied",
    "prog_type_protos",
]


class BpfFunc(enum.IntEnum):
    """Helper ids the verifier names in its rules (``enum bpf_func_id``, ``BPF_FUNC_<name>``)."""

    unspec = 0
    map_lookup_elem = 1
    map_update_elem = 2
    map_delete_elem = 3
    get_smp_processor_id = 8
    tail_call = 12
    get_cgroup_classid = 17
    probe_read_str = 45
    redirect_map = 51
    map_push_elem = 87
    map_pop_elem = 88
    map_peek_elem = 89
    get_stack = 67
    get_local_storage = 81
    sk_lookup_tcp = 84
    sk_lookup_udp = 85
    sk_release = 86
    sk_fullsock = 95
    tcp_sock = 96
    get_listener_sock = 98
    spin_lock = 93
    spin_unlock = 94
    skc_lookup_tcp = 99
    probe_read_user_str = 114
    probe_read_kernel_str = 115
    ringbuf_reserve = 131
    skc_to_tcp6_sock = 136
    skc_to_tcp_sock = 137
    skc_to_tcp_timewait_sock = 138
    skc_to_tcp_request_sock = 139
    skc_to_udp6_sock = 140
    sock_from_file = 162
    skc_to_unix_sock = 178
    skc_to_mptcp_sock = 196
    get_task_stack = 141
    per_cpu_ptr = 153
    this_cpu_ptr = 154
    for_each_map_elem = 164
    snprintf = 165
    timer_set_callback = 170
    loop = 181
    kptr_xchg = 194
    map_lookup_percpu_elem = 195
    find_vma = 180
    user_ringbuf_drain = 209
    dynptr_from_mem = 197
    dynptr_write = 202
    dynptr_data = 203


#: ``is_sync_callback_calling_function``: helpers that call their callback before returning
_SYNC_CALLBACK = frozenset({BpfFunc.for_each_map_elem, BpfFunc.loop, BpfFunc.find_vma,
                            BpfFunc.user_ringbuf_drain})
#: ``is_async_callback_calling_function``: the callback runs later, on its own
_ASYNC_CALLBACK = frozenset({BpfFunc.timer_set_callback})


def is_sync_callback_helper(func_id: int) -> bool:
    """Does helper ``func_id`` call a program callback synchronously (bpf_loop...)?"""
    return func_id in _SYNC_CALLBACK


def is_async_callback_helper(func_id: int) -> bool:
    """Does helper ``func_id`` register a callback run later (bpf_timer_set_callback)?"""
    return func_id in _ASYNC_CALLBACK


class ArgType(enum.Enum):
    """Base ``enum bpf_arg_type`` values (flags are :class:`TypeFlag`)."""

    ARG_DONTCARE = "ARG_DONTCARE"
    ARG_CONST_MAP_PTR = "ARG_CONST_MAP_PTR"
    ARG_PTR_TO_MAP_KEY = "ARG_PTR_TO_MAP_KEY"
    ARG_PTR_TO_MAP_VALUE = "ARG_PTR_TO_MAP_VALUE"
    ARG_PTR_TO_MEM = "ARG_PTR_TO_MEM"
    ARG_PTR_TO_ARENA = "ARG_PTR_TO_ARENA"
    ARG_CONST_SIZE = "ARG_CONST_SIZE"
    ARG_CONST_SIZE_OR_ZERO = "ARG_CONST_SIZE_OR_ZERO"
    ARG_PTR_TO_CTX = "ARG_PTR_TO_CTX"
    ARG_ANYTHING = "ARG_ANYTHING"
    ARG_PTR_TO_SPIN_LOCK = "ARG_PTR_TO_SPIN_LOCK"
    ARG_PTR_TO_SOCK_COMMON = "ARG_PTR_TO_SOCK_COMMON"
    ARG_PTR_TO_SOCKET = "ARG_PTR_TO_SOCKET"
    ARG_PTR_TO_BTF_ID = "ARG_PTR_TO_BTF_ID"
    ARG_PTR_TO_RINGBUF_MEM = "ARG_PTR_TO_RINGBUF_MEM"
    ARG_CONST_ALLOC_SIZE_OR_ZERO = "ARG_CONST_ALLOC_SIZE_OR_ZERO"
    ARG_PTR_TO_BTF_ID_SOCK_COMMON = "ARG_PTR_TO_BTF_ID_SOCK_COMMON"
    ARG_PTR_TO_PERCPU_BTF_ID = "ARG_PTR_TO_PERCPU_BTF_ID"
    ARG_PTR_TO_FUNC = "ARG_PTR_TO_FUNC"
    ARG_PTR_TO_STACK = "ARG_PTR_TO_STACK"
    ARG_PTR_TO_CONST_STR = "ARG_PTR_TO_CONST_STR"
    ARG_PTR_TO_TIMER = "ARG_PTR_TO_TIMER"
    ARG_KPTR_XCHG_DEST = "ARG_KPTR_XCHG_DEST"
    ARG_PTR_TO_DYNPTR = "ARG_PTR_TO_DYNPTR"

    @property
    def is_pointer(self) -> bool:
        return self.name.startswith(("ARG_PTR_TO_", "ARG_KPTR")) or self is ArgType.ARG_CONST_MAP_PTR

    @property
    def is_size(self) -> bool:
        """A size for the preceding memory argument."""
        return self in (ArgType.ARG_CONST_SIZE, ArgType.ARG_CONST_SIZE_OR_ZERO)


class RetType(enum.Enum):
    """Base ``enum bpf_return_type`` values."""

    RET_INTEGER = "RET_INTEGER"
    RET_VOID = "RET_VOID"
    RET_PTR_TO_MAP_VALUE = "RET_PTR_TO_MAP_VALUE"
    RET_PTR_TO_SOCKET = "RET_PTR_TO_SOCKET"
    RET_PTR_TO_TCP_SOCK = "RET_PTR_TO_TCP_SOCK"
    RET_PTR_TO_SOCK_COMMON = "RET_PTR_TO_SOCK_COMMON"
    RET_PTR_TO_MEM = "RET_PTR_TO_MEM"
    RET_PTR_TO_MEM_OR_BTF_ID = "RET_PTR_TO_MEM_OR_BTF_ID"
    RET_PTR_TO_BTF_ID = "RET_PTR_TO_BTF_ID"


class TypeFlag(enum.Flag):
    """``enum bpf_type_flag`` members used by helper prototypes (names as in the kernel)."""

    PTR_MAYBE_NULL = enum.auto()
    MEM_RDONLY = enum.auto()
    MEM_RINGBUF = enum.auto()
    MEM_USER = enum.auto()
    MEM_PERCPU = enum.auto()
    OBJ_RELEASE = enum.auto()
    PTR_UNTRUSTED = enum.auto()
    MEM_UNINIT = enum.auto()
    DYNPTR_TYPE_LOCAL = enum.auto()
    DYNPTR_TYPE_RINGBUF = enum.auto()
    MEM_FIXED_SIZE = enum.auto()
    MEM_ALLOC = enum.auto()
    PTR_TRUSTED = enum.auto()
    MEM_RCU = enum.auto()
    NON_OWN_REF = enum.auto()
    DYNPTR_TYPE_SKB = enum.auto()
    DYNPTR_TYPE_XDP = enum.auto()
    MEM_ALIGNED = enum.auto()
    MEM_WRITE = enum.auto()


_NO_FLAGS = TypeFlag(0)


def _flag_text(flags: TypeFlag) -> list[str]:
    return [f.name for f in TypeFlag if f in flags and f.name]


@dataclass(frozen=True, slots=True)
class Arg:
    """One argument type: base plus flags; ``size`` is ``argN_size`` for MEM_FIXED_SIZE arguments."""

    base: ArgType
    flags: TypeFlag = _NO_FLAGS
    size: int | None = None
    btf_type: str | None = None    # ARG_PTR_TO_BTF_ID: the kernel struct (``argN_btf_id``)

    @property
    def maybe_null(self) -> bool:
        return TypeFlag.PTR_MAYBE_NULL in self.flags

    @property
    def releases(self) -> bool:
        """The helper releases the reference this argument holds (e.g. ringbuf submit)."""
        return TypeFlag.OBJ_RELEASE in self.flags

    @property
    def writes(self) -> bool:
        """The helper writes through this pointer (MEM_WRITE; MEM_UNINIT: need not be initialised)."""
        return TypeFlag.MEM_WRITE in self.flags or TypeFlag.MEM_UNINIT in self.flags

    @property
    def read_only(self) -> bool:
        return TypeFlag.MEM_RDONLY in self.flags

    def __str__(self) -> str:
        return " | ".join([self.base.value, *_flag_text(self.flags)])


@dataclass(frozen=True, slots=True)
class Ret:
    """Return type: base plus flags; ``mem_size_arg`` names the (1-based) argument giving the
    size of returned memory (``bpf_ringbuf_reserve``: 2); ``btf_type`` the struct of a BTF id."""

    base: RetType
    flags: TypeFlag = _NO_FLAGS
    mem_size_arg: int | None = None
    btf_type: str | None = None

    @property
    def maybe_null(self) -> bool:
        return TypeFlag.PTR_MAYBE_NULL in self.flags

    def __str__(self) -> str:
        return " | ".join([self.base.value, *_flag_text(self.flags)])


class Privilege(enum.IntEnum):
    """What a loader needs for ``bpf_base_func_proto`` to offer a helper (ordered)."""

    UNPRIVILEGED = 0
    CAP_BPF = 1
    CAP_PERFMON = 2


@dataclass(frozen=True, slots=True)
class FuncProto:
    """A ``struct bpf_func_proto`` as the verifier sees it.

    ``kernel_proto`` is the C object's name (``bpf_map_lookup_elem_proto``); some helpers have
    one proto object per program family with the same argument types (perf_event_output for
    tracing, skb and xdp programs), the name given is the commonest.  ``changes_pkt_data``:
    the verifier forgets packet pointers after the call (``bpf_helper_changes_pkt_data``).
    ``might_sleep``: only sleepable programs may call it.
    """

    func_id: int
    name: str
    ret: Ret
    args: tuple[Arg, ...] = ()
    gpl_only: bool = False
    pkt_access: bool = False
    might_sleep: bool = False
    changes_pkt_data: bool = False
    kernel_proto: str = ""

    @property
    def short_name(self) -> str:
        return self.name.removeprefix("bpf_")

    @property
    def sync_callback(self) -> bool:
        """The helper calls its ``ARG_PTR_TO_FUNC`` callback before it returns."""
        return is_sync_callback_helper(self.func_id)

    def __str__(self) -> str:
        args = ", ".join(map(str, self.args))
        return f"{self.name}#{self.func_id}({args}) -> {self.ret}"


# Kernel alias spellings, for readability of the table below.
T = TypeFlag
A = ArgType
ARG_CONST_MAP_PTR = Arg(A.ARG_CONST_MAP_PTR)
ARG_PTR_TO_MAP_KEY = Arg(A.ARG_PTR_TO_MAP_KEY)
ARG_PTR_TO_MAP_VALUE = Arg(A.ARG_PTR_TO_MAP_VALUE)
ARG_ANYTHING = Arg(A.ARG_ANYTHING)
ARG_PTR_TO_CTX = Arg(A.ARG_PTR_TO_CTX)
ARG_CONST_SIZE = Arg(A.ARG_CONST_SIZE)
ARG_CONST_SIZE_OR_ZERO = Arg(A.ARG_CONST_SIZE_OR_ZERO)
ARG_PTR_TO_MEM_RDONLY = Arg(A.ARG_PTR_TO_MEM, T.MEM_RDONLY)
ARG_PTR_TO_MEM_OR_NULL_RDONLY = Arg(A.ARG_PTR_TO_MEM, T.PTR_MAYBE_NULL | T.MEM_RDONLY)
#: ARG_PTR_TO_UNINIT_MEM = MEM_UNINIT | MEM_WRITE | ARG_PTR_TO_MEM
ARG_PTR_TO_UNINIT_MEM = Arg(A.ARG_PTR_TO_MEM, T.MEM_UNINIT | T.MEM_WRITE)
ARG_PTR_TO_FUNC = Arg(A.ARG_PTR_TO_FUNC)
ARG_PTR_TO_STACK_OR_NULL = Arg(A.ARG_PTR_TO_STACK, T.PTR_MAYBE_NULL)
ARG_PTR_TO_TIMER = Arg(A.ARG_PTR_TO_TIMER)
ARG_PTR_TO_CONST_STR = Arg(A.ARG_PTR_TO_CONST_STR)
#: what the former ARG_PTR_TO_LONG became in 6.12
ARG_PTR_TO_LONG_OUT = Arg(A.ARG_PTR_TO_MEM, T.MEM_FIXED_SIZE | T.MEM_UNINIT | T.MEM_WRITE | T.MEM_ALIGNED, 8)
RET_INTEGER = Ret(RetType.RET_INTEGER)
RET_VOID = Ret(RetType.RET_VOID)
RET_PTR_TO_MAP_VALUE_OR_NULL = Ret(RetType.RET_PTR_TO_MAP_VALUE, T.PTR_MAYBE_NULL)
RET_PTR_TO_SOCKET_OR_NULL = Ret(RetType.RET_PTR_TO_SOCKET, T.PTR_MAYBE_NULL)

# bpf_helper_changes_pkt_data() in net/core/filter.c
_CHANGES_PKT_DATA = frozenset({
    "clone_redirect", "l3_csum_replace", "l4_csum_replace", "lwt_push_encap", "lwt_seg6_action",
    "lwt_seg6_adjust_srh", "lwt_seg6_store_bytes", "msg_pop_data", "msg_pull_data", "msg_push_data",
    "skb_adjust_room", "skb_change_head", "skb_change_proto", "skb_change_tail", "skb_pull_data",
    "skb_store_bytes", "skb_vlan_pop", "skb_vlan_push", "store_hdr_opt", "xdp_adjust_head",
    "xdp_adjust_meta", "xdp_adjust_tail",
})

# helpers whose proto has might_sleep (measured: refused in every non-sleepable program)
_MIGHT_SLEEP = frozenset({"copy_from_user", "copy_from_user_task"})


def _fixed_rdonly(size: int) -> Arg:
    """ARG_PTR_TO_FIXED_SIZE_MEM | MEM_RDONLY with ``argN_size`` = ``size``."""
    return Arg(A.ARG_PTR_TO_MEM, T.MEM_FIXED_SIZE | T.MEM_RDONLY, size)


def _p(func_id: int, short: str, ret: Ret, *args: Arg, gpl: bool = False, pkt: bool = False,
       proto: str | None = None) -> FuncProto:
    return FuncProto(func_id, "bpf_" + short, ret, args, gpl, pkt, short in _MIGHT_SLEEP,
                     short in _CHANGES_PKT_DATA, proto or f"bpf_{short}_proto")


@functools.cache
def func_protos() -> tuple[FuncProto, ...]:
    """The prototypes this table covers, ordered by helper id."""
    probe = (ARG_PTR_TO_UNINIT_MEM, ARG_CONST_SIZE_OR_ZERO, ARG_ANYTHING)
    # bpf_{tc,xdp,sock_addr}_sk_lookup_*_proto: ctx, tuple, tuple size, netns, flags
    ctx = Arg(A.ARG_PTR_TO_CTX)
    sk_lookup = (ctx, ARG_PTR_TO_MEM_RDONLY, ARG_CONST_SIZE_OR_ZERO, ARG_ANYTHING, ARG_ANYTHING)
    # bpf_tcp_{check,gen}_syncookie_proto: socket, IP header, its size, TCP header, its size
    ringbuf_dynptr_release = Arg(A.ARG_PTR_TO_DYNPTR, T.DYNPTR_TYPE_RINGBUF | T.OBJ_RELEASE)
    syncookie = (Arg(A.ARG_PTR_TO_BTF_ID_SOCK_COMMON), ARG_PTR_TO_MEM_RDONLY, ARG_CONST_SIZE,
                 ARG_PTR_TO_MEM_RDONLY, ARG_CONST_SIZE)
    rows = [
        _p(1, "map_lookup_elem", RET_PTR_TO_MAP_VALUE_OR_NULL, ARG_CONST_MAP_PTR, ARG_PTR_TO_MAP_KEY,
           pkt=True),
        _p(2, "map_update_elem", RET_INTEGER, ARG_CONST_MAP_PTR, ARG_PTR_TO_MAP_KEY,
           ARG_PTR_TO_MAP_VALUE, ARG_ANYTHING, pkt=True),
        _p(3, "map_delete_elem", RET_INTEGER, ARG_CONST_MAP_PTR, ARG_PTR_TO_MAP_KEY, pkt=True),
        _p(4, "probe_read", RET_INTEGER, *probe, gpl=True, proto="bpf_probe_read_compat_proto"),
        _p(5, "ktime_get_ns", RET_INTEGER),
        _p(6, "trace_printk", RET_INTEGER, ARG_PTR_TO_MEM_RDONLY, ARG_CONST_SIZE, gpl=True),
        _p(7, "get_prandom_u32", RET_INTEGER),
        _p(8, "get_smp_processor_id", RET_INTEGER),
        _p(9, "skb_store_bytes", RET_INTEGER, ARG_PTR_TO_CTX, ARG_ANYTHING, ARG_PTR_TO_MEM_RDONLY,
           ARG_CONST_SIZE, ARG_ANYTHING),
        _p(10, "l3_csum_replace", RET_INTEGER, ARG_PTR_TO_CTX, ARG_ANYTHING, ARG_ANYTHING,
           ARG_ANYTHING, ARG_ANYTHING),
        _p(11, "l4_csum_replace", RET_INTEGER, ARG_PTR_TO_CTX, ARG_ANYTHING, ARG_ANYTHING,
           ARG_ANYTHING, ARG_ANYTHING),
        _p(12, "tail_call", RET_VOID, ARG_PTR_TO_CTX, ARG_CONST_MAP_PTR, ARG_ANYTHING),
        _p(13, "clone_redirect", RET_INTEGER, ARG_PTR_TO_CTX, ARG_ANYTHING, ARG_ANYTHING),
        _p(14, "get_current_pid_tgid", RET_INTEGER),
        _p(15, "get_current_uid_gid", RET_INTEGER),
        _p(16, "get_current_comm", RET_INTEGER, ARG_PTR_TO_UNINIT_MEM, ARG_CONST_SIZE),
        _p(22, "perf_event_read", RET_INTEGER, ARG_CONST_MAP_PTR, ARG_ANYTHING, gpl=True),
        _p(23, "redirect", RET_INTEGER, ARG_ANYTHING, ARG_ANYTHING),
        _p(25, "perf_event_output", RET_INTEGER, ARG_PTR_TO_CTX, ARG_CONST_MAP_PTR, ARG_ANYTHING,
           ARG_PTR_TO_MEM_RDONLY, ARG_CONST_SIZE_OR_ZERO, gpl=True),
        _p(26, "skb_load_bytes", RET_INTEGER, ARG_PTR_TO_CTX, ARG_ANYTHING, ARG_PTR_TO_UNINIT_MEM,
           ARG_CONST_SIZE),
        _p(27, "get_stackid", RET_INTEGER, ARG_PTR_TO_CTX, ARG_CONST_MAP_PTR, ARG_ANYTHING, gpl=True),
        _p(28, "csum_diff", RET_INTEGER, ARG_PTR_TO_MEM_OR_NULL_RDONLY, ARG_CONST_SIZE_OR_ZERO,
           ARG_PTR_TO_MEM_OR_NULL_RDONLY, ARG_CONST_SIZE_OR_ZERO, ARG_ANYTHING, pkt=True),
        _p(34, "get_hash_recalc", RET_INTEGER, ARG_PTR_TO_CTX),
        _p(35, "get_current_task", RET_INTEGER, gpl=True),
        _p(38, "skb_change_tail", RET_INTEGER, ARG_PTR_TO_CTX, ARG_ANYTHING, ARG_ANYTHING),
        _p(39, "skb_pull_data", RET_INTEGER, ARG_PTR_TO_CTX, ARG_ANYTHING),
        _p(40, "csum_update", RET_INTEGER, ARG_PTR_TO_CTX, ARG_ANYTHING),
        _p(42, "get_numa_node_id", RET_INTEGER),
        _p(43, "skb_change_head", RET_INTEGER, ARG_PTR_TO_CTX, ARG_ANYTHING, ARG_ANYTHING),
        _p(44, "xdp_adjust_head", RET_INTEGER, ARG_PTR_TO_CTX, ARG_ANYTHING),
        _p(45, "probe_read_str", RET_INTEGER, *probe, gpl=True, proto="bpf_probe_read_compat_str_proto"),
        _p(50, "skb_adjust_room", RET_INTEGER, ARG_PTR_TO_CTX, ARG_ANYTHING, ARG_ANYTHING,
           ARG_ANYTHING),
        _p(51, "redirect_map", RET_INTEGER, ARG_CONST_MAP_PTR, ARG_ANYTHING, ARG_ANYTHING,
           proto="bpf_xdp_redirect_map_proto"),
        _p(54, "xdp_adjust_meta", RET_INTEGER, ARG_PTR_TO_CTX, ARG_ANYTHING),
        _p(65, "xdp_adjust_tail", RET_INTEGER, ARG_PTR_TO_CTX, ARG_ANYTHING),
        _p(67, "get_stack", RET_INTEGER, ARG_PTR_TO_CTX, ARG_PTR_TO_UNINIT_MEM, ARG_CONST_SIZE_OR_ZERO,
           ARG_ANYTHING, gpl=True),
        _p(80, "get_current_cgroup_id", RET_INTEGER),
        _p(81, "get_local_storage", Ret(RetType.RET_PTR_TO_MAP_VALUE), ARG_CONST_MAP_PTR, ARG_ANYTHING),
        _p(84, "sk_lookup_tcp", RET_PTR_TO_SOCKET_OR_NULL, *sk_lookup, pkt=True),
        _p(85, "sk_lookup_udp", RET_PTR_TO_SOCKET_OR_NULL, *sk_lookup, pkt=True),
        _p(86, "sk_release", RET_INTEGER, Arg(A.ARG_PTR_TO_BTF_ID_SOCK_COMMON, T.OBJ_RELEASE)),
        _p(52, "sk_redirect_map", RET_INTEGER, ctx, ARG_CONST_MAP_PTR, ARG_ANYTHING, ARG_ANYTHING),
        _p(53, "sock_map_update", RET_INTEGER, ctx, ARG_CONST_MAP_PTR, ARG_PTR_TO_MAP_KEY, ARG_ANYTHING,
           pkt=True),
        _p(59, "sock_ops_cb_flags_set", RET_INTEGER, ctx, ARG_ANYTHING),
        _p(60, "msg_redirect_map", RET_INTEGER, ctx, ARG_CONST_MAP_PTR, ARG_ANYTHING, ARG_ANYTHING),
        _p(61, "msg_apply_bytes", RET_INTEGER, ctx, ARG_ANYTHING),
        _p(62, "msg_cork_bytes", RET_INTEGER, ctx, ARG_ANYTHING),
        _p(70, "sock_hash_update", RET_INTEGER, ctx, ARG_CONST_MAP_PTR, ARG_PTR_TO_MAP_KEY, ARG_ANYTHING,
           pkt=True),
        _p(71, "msg_redirect_hash", RET_INTEGER, ctx, ARG_CONST_MAP_PTR, ARG_PTR_TO_MAP_KEY, ARG_ANYTHING),
        _p(72, "sk_redirect_hash", RET_INTEGER, ctx, ARG_CONST_MAP_PTR, ARG_PTR_TO_MAP_KEY, ARG_ANYTHING),
        _p(82, "sk_select_reuseport", RET_INTEGER, ctx, ARG_CONST_MAP_PTR, ARG_PTR_TO_MAP_KEY, ARG_ANYTHING,
           proto="sk_select_reuseport_proto"),
        _p(87, "map_push_elem", RET_INTEGER, ARG_CONST_MAP_PTR, ARG_PTR_TO_MAP_VALUE, ARG_ANYTHING,
           pkt=True),
        _p(88, "map_pop_elem", RET_INTEGER, ARG_CONST_MAP_PTR,
           Arg(A.ARG_PTR_TO_MAP_VALUE, T.MEM_UNINIT | T.MEM_WRITE)),
        _p(89, "map_peek_elem", RET_INTEGER, ARG_CONST_MAP_PTR,
           Arg(A.ARG_PTR_TO_MAP_VALUE, T.MEM_UNINIT | T.MEM_WRITE)),
        _p(93, "spin_lock", RET_VOID, Arg(A.ARG_PTR_TO_SPIN_LOCK)),
        _p(94, "spin_unlock", RET_VOID, Arg(A.ARG_PTR_TO_SPIN_LOCK)),
        _p(95, "sk_fullsock", RET_PTR_TO_SOCKET_OR_NULL, Arg(A.ARG_PTR_TO_SOCK_COMMON)),
        _p(96, "tcp_sock", Ret(RetType.RET_PTR_TO_TCP_SOCK, T.PTR_MAYBE_NULL), Arg(A.ARG_PTR_TO_SOCK_COMMON)),
        _p(98, "get_listener_sock", RET_PTR_TO_SOCKET_OR_NULL, Arg(A.ARG_PTR_TO_SOCK_COMMON)),
        _p(99, "skc_lookup_tcp", Ret(RetType.RET_PTR_TO_SOCK_COMMON, T.PTR_MAYBE_NULL), *sk_lookup, pkt=True),
        _p(124, "sk_assign", RET_INTEGER, ctx, Arg(A.ARG_PTR_TO_BTF_ID_SOCK_COMMON), ARG_ANYTHING),
        _p(105, "strtol", RET_INTEGER, ARG_PTR_TO_MEM_RDONLY, ARG_CONST_SIZE, ARG_ANYTHING,
           ARG_PTR_TO_LONG_OUT),
        _p(106, "strtoul", RET_INTEGER, ARG_PTR_TO_MEM_RDONLY, ARG_CONST_SIZE, ARG_ANYTHING,
           ARG_PTR_TO_LONG_OUT),
        _p(109, "send_signal", RET_INTEGER, ARG_ANYTHING),
        _p(112, "probe_read_user", RET_INTEGER, *probe, gpl=True),
        _p(113, "probe_read_kernel", RET_INTEGER, *probe, gpl=True),
        _p(114, "probe_read_user_str", RET_INTEGER, *probe, gpl=True),
        _p(115, "probe_read_kernel_str", RET_INTEGER, *probe, gpl=True),
        _p(117, "send_signal_thread", RET_INTEGER, ARG_ANYTHING),
        _p(118, "jiffies64", RET_INTEGER),
        _p(125, "ktime_get_boot_ns", RET_INTEGER),
        _p(130, "ringbuf_output", RET_INTEGER, ARG_CONST_MAP_PTR, ARG_PTR_TO_MEM_RDONLY,
           ARG_CONST_SIZE_OR_ZERO, ARG_ANYTHING),
        _p(131, "ringbuf_reserve", Ret(RetType.RET_PTR_TO_MEM, T.MEM_RINGBUF | T.PTR_MAYBE_NULL, 2),
           ARG_CONST_MAP_PTR, Arg(A.ARG_CONST_ALLOC_SIZE_OR_ZERO), ARG_ANYTHING),
        _p(132, "ringbuf_submit", RET_VOID, Arg(A.ARG_PTR_TO_RINGBUF_MEM, T.OBJ_RELEASE), ARG_ANYTHING),
        _p(133, "ringbuf_discard", RET_VOID, Arg(A.ARG_PTR_TO_RINGBUF_MEM, T.OBJ_RELEASE), ARG_ANYTHING),
        _p(134, "ringbuf_query", RET_INTEGER, ARG_CONST_MAP_PTR, ARG_ANYTHING),
        _p(158, "get_current_task_btf", Ret(RetType.RET_PTR_TO_BTF_ID, T.PTR_TRUSTED, None, "task_struct"),
           gpl=True),
        _p(160, "ktime_get_coarse_ns", RET_INTEGER),
        _p(126, "seq_printf", RET_INTEGER, Arg(A.ARG_PTR_TO_BTF_ID, btf_type="seq_file"), ARG_PTR_TO_MEM_RDONLY,
           ARG_CONST_SIZE, ARG_PTR_TO_MEM_OR_NULL_RDONLY, ARG_CONST_SIZE_OR_ZERO, gpl=True),
        _p(127, "seq_write", RET_INTEGER, Arg(A.ARG_PTR_TO_BTF_ID, btf_type="seq_file"), ARG_PTR_TO_MEM_RDONLY,
           ARG_CONST_SIZE_OR_ZERO, gpl=True),
        _p(162, "sock_from_file", Ret(RetType.RET_PTR_TO_BTF_ID, T.PTR_MAYBE_NULL, None, "socket"),
           Arg(A.ARG_PTR_TO_BTF_ID, btf_type="file")),
        _p(175, "task_pt_regs", Ret(RetType.RET_PTR_TO_BTF_ID, btf_type="pt_regs"),
           Arg(A.ARG_PTR_TO_BTF_ID, btf_type="task_struct"), gpl=True),
        _p(141, "get_task_stack", RET_INTEGER, Arg(A.ARG_PTR_TO_BTF_ID, btf_type="task_struct"),
           ARG_PTR_TO_UNINIT_MEM, ARG_CONST_SIZE_OR_ZERO, ARG_ANYTHING),
        _p(156, "task_storage_get", RET_PTR_TO_MAP_VALUE_OR_NULL, ARG_CONST_MAP_PTR,
           Arg(A.ARG_PTR_TO_BTF_ID, T.PTR_MAYBE_NULL, btf_type="task_struct"),
           Arg(A.ARG_PTR_TO_MAP_VALUE, T.PTR_MAYBE_NULL), ARG_ANYTHING),
        _p(164, "for_each_map_elem", RET_INTEGER, ARG_CONST_MAP_PTR, ARG_PTR_TO_FUNC,
           ARG_PTR_TO_STACK_OR_NULL, ARG_ANYTHING),
        _p(165, "snprintf", RET_INTEGER, Arg(A.ARG_PTR_TO_MEM, T.PTR_MAYBE_NULL | T.MEM_WRITE),
           ARG_CONST_SIZE_OR_ZERO, ARG_PTR_TO_CONST_STR, ARG_PTR_TO_MEM_OR_NULL_RDONLY,
           ARG_CONST_SIZE_OR_ZERO, gpl=True),
        _p(169, "timer_init", RET_INTEGER, ARG_PTR_TO_TIMER, ARG_CONST_MAP_PTR, ARG_ANYTHING, gpl=True),
        _p(170, "timer_set_callback", RET_INTEGER, ARG_PTR_TO_TIMER, ARG_PTR_TO_FUNC, gpl=True),
        _p(171, "timer_start", RET_INTEGER, ARG_PTR_TO_TIMER, ARG_ANYTHING, ARG_ANYTHING, gpl=True),
        _p(172, "timer_cancel", RET_INTEGER, ARG_PTR_TO_TIMER, gpl=True),
        _p(173, "get_func_ip", RET_INTEGER, ARG_PTR_TO_CTX, gpl=True),
        _p(177, "trace_vprintk", RET_INTEGER, ARG_PTR_TO_MEM_RDONLY, ARG_CONST_SIZE,
           ARG_PTR_TO_MEM_OR_NULL_RDONLY, ARG_CONST_SIZE_OR_ZERO, gpl=True),
        _p(181, "loop", RET_INTEGER, ARG_ANYTHING, ARG_PTR_TO_FUNC, ARG_PTR_TO_STACK_OR_NULL,
           ARG_ANYTHING),
        _p(209, "user_ringbuf_drain", RET_INTEGER, ARG_CONST_MAP_PTR, ARG_PTR_TO_FUNC,
           ARG_PTR_TO_STACK_OR_NULL, ARG_ANYTHING),
        _p(182, "strncmp", RET_INTEGER, ARG_PTR_TO_MEM_RDONLY, ARG_CONST_SIZE, ARG_PTR_TO_CONST_STR),
        _p(188, "xdp_get_buff_len", RET_INTEGER, ARG_PTR_TO_CTX),
        _p(189, "xdp_load_bytes", RET_INTEGER, ARG_PTR_TO_CTX, ARG_ANYTHING, ARG_PTR_TO_UNINIT_MEM,
           ARG_CONST_SIZE),
        # bpf_kptr_xchg_proto: the pointee type comes from the destination field (BPF_PTR_POISON)
        _p(194, "kptr_xchg", Ret(RetType.RET_PTR_TO_BTF_ID, T.PTR_MAYBE_NULL), Arg(A.ARG_KPTR_XCHG_DEST),
           Arg(A.ARG_PTR_TO_BTF_ID, T.PTR_MAYBE_NULL | T.OBJ_RELEASE)),
        _p(195, "map_lookup_percpu_elem", RET_PTR_TO_MAP_VALUE_OR_NULL, ARG_CONST_MAP_PTR,
           ARG_PTR_TO_MAP_KEY, ARG_ANYTHING, pkt=True),
        _p(208, "ktime_get_tai_ns", RET_INTEGER),
        # scalar/ctx/memory prototypes of tracing and networking helpers public programs call
        # (kernel/trace/bpf_trace.c, kernel/bpf/helpers.c, net/core/filter.c as of 6.18)
        _p(18, "skb_vlan_push", RET_INTEGER, ARG_PTR_TO_CTX, ARG_ANYTHING, ARG_ANYTHING),
        _p(19, "skb_vlan_pop", RET_INTEGER, ARG_PTR_TO_CTX),
        _p(36, "probe_write_user", RET_INTEGER, ARG_ANYTHING, ARG_PTR_TO_MEM_RDONLY, ARG_CONST_SIZE, gpl=True),
        _p(37, "current_task_under_cgroup", RET_INTEGER, ARG_CONST_MAP_PTR, ARG_ANYTHING),
        _p(55, "perf_event_read_value", RET_INTEGER, ARG_CONST_MAP_PTR, ARG_ANYTHING, ARG_PTR_TO_UNINIT_MEM,
           ARG_CONST_SIZE, gpl=True),
        _p(48, "set_hash", RET_INTEGER, ARG_PTR_TO_CTX, ARG_ANYTHING),
        _p(56, "perf_prog_read_value", RET_INTEGER, ARG_PTR_TO_CTX, ARG_PTR_TO_UNINIT_MEM, ARG_CONST_SIZE,
           gpl=True),
        _p(58, "override_return", RET_INTEGER, ARG_PTR_TO_CTX, ARG_ANYTHING, gpl=True),
        _p(79, "skb_cgroup_id", RET_INTEGER, ARG_PTR_TO_CTX),
        _p(83, "skb_ancestor_cgroup_id", RET_INTEGER, ARG_PTR_TO_CTX, ARG_ANYTHING),
        _p(120, "get_ns_current_pid_tgid", RET_INTEGER, ARG_ANYTHING, ARG_ANYTHING, ARG_PTR_TO_UNINIT_MEM,
           ARG_CONST_SIZE),
        _p(123, "get_current_ancestor_cgroup_id", RET_INTEGER, ARG_ANYTHING),
        _p(135, "csum_level", RET_INTEGER, ARG_PTR_TO_CTX, ARG_ANYTHING),
        _p(155, "redirect_peer", RET_INTEGER, ARG_ANYTHING, ARG_ANYTHING),
        _p(174, "get_attach_cookie", RET_INTEGER, ARG_PTR_TO_CTX, proto="bpf_get_attach_cookie_proto_trace"),
        _p(183, "get_func_arg", RET_INTEGER, ARG_PTR_TO_CTX, ARG_ANYTHING, ARG_PTR_TO_LONG_OUT),
        _p(184, "get_func_ret", RET_INTEGER, ARG_PTR_TO_CTX, ARG_PTR_TO_LONG_OUT),
        _p(185, "get_func_arg_cnt", RET_INTEGER, ARG_PTR_TO_CTX),
        # bpf_skc_to_*_proto: a socket in, a BTF pointer to the wanted socket kind (or NULL) out
        *(_p(func_id, f"skc_to_{kind}", Ret(RetType.RET_PTR_TO_BTF_ID, T.PTR_MAYBE_NULL, None, kind),
             Arg(A.ARG_PTR_TO_BTF_ID_SOCK_COMMON))
          for func_id, kind in ((136, "tcp6_sock"), (137, "tcp_sock"), (138, "tcp_timewait_sock"),
                                (139, "tcp_request_sock"), (140, "udp6_sock"), (178, "unix_sock"))),
        _p(196, "skc_to_mptcp_sock", Ret(RetType.RET_PTR_TO_BTF_ID, T.PTR_MAYBE_NULL, None, "mptcp_sock"),
           Arg(A.ARG_PTR_TO_SOCK_COMMON)),
        # might_sleep: sleepable programs only
        _p(148, "copy_from_user", RET_INTEGER, ARG_PTR_TO_UNINIT_MEM, ARG_CONST_SIZE_OR_ZERO, ARG_ANYTHING),
        # dynptr helpers (kernel/bpf/helpers.c, kernel/bpf/ringbuf.c)
        _p(197, "dynptr_from_mem", RET_INTEGER, ARG_PTR_TO_UNINIT_MEM, ARG_CONST_SIZE_OR_ZERO, ARG_ANYTHING,
           Arg(A.ARG_PTR_TO_DYNPTR, T.DYNPTR_TYPE_LOCAL | T.MEM_UNINIT | T.MEM_WRITE)),
        _p(198, "ringbuf_reserve_dynptr", RET_INTEGER, ARG_CONST_MAP_PTR, ARG_ANYTHING, ARG_ANYTHING,
           Arg(A.ARG_PTR_TO_DYNPTR, T.DYNPTR_TYPE_RINGBUF | T.MEM_UNINIT | T.MEM_WRITE)),
        _p(199, "ringbuf_submit_dynptr", RET_VOID, ringbuf_dynptr_release, ARG_ANYTHING),
        _p(200, "ringbuf_discard_dynptr", RET_VOID, ringbuf_dynptr_release, ARG_ANYTHING),
        _p(201, "dynptr_read", RET_INTEGER, ARG_PTR_TO_UNINIT_MEM, ARG_CONST_SIZE_OR_ZERO,
           Arg(A.ARG_PTR_TO_DYNPTR, T.MEM_RDONLY), ARG_ANYTHING, ARG_ANYTHING),
        _p(202, "dynptr_write", RET_INTEGER, Arg(A.ARG_PTR_TO_DYNPTR, T.MEM_RDONLY), ARG_ANYTHING,
           ARG_PTR_TO_MEM_RDONLY, ARG_CONST_SIZE_OR_ZERO, ARG_ANYTHING),
        _p(203, "dynptr_data", Ret(RetType.RET_PTR_TO_MEM, T.PTR_MAYBE_NULL, 3), Arg(A.ARG_PTR_TO_DYNPTR, T.MEM_RDONLY),
           ARG_ANYTHING, Arg(A.ARG_CONST_ALLOC_SIZE_OR_ZERO)),
        # lirc_mode2 programs only (drivers/media/rc/bpf-lirc.c); that program type is not probed
        # here, so the kernel test cannot load these
        _p(77, "rc_repeat", RET_INTEGER, ARG_PTR_TO_CTX, gpl=True, proto="rc_repeat_proto"),
        _p(78, "rc_keydown", RET_INTEGER, ARG_PTR_TO_CTX, ARG_ANYTHING, ARG_ANYTHING, ARG_ANYTHING, gpl=True,
           proto="rc_keydown_proto"),
        _p(92, "rc_pointer_rel", RET_INTEGER, ARG_PTR_TO_CTX, ARG_ANYTHING, ARG_ANYTHING, gpl=True,
           proto="rc_pointer_rel_proto"),
        # helpers with another prototype in some program types (see _per_prog_type); these rows
        # hold only where _generic_only_in says
        _p(17, "get_cgroup_classid", RET_INTEGER, Arg(A.ARG_DONTCARE),
           proto="bpf_get_cgroup_classid_curr_proto"),
        _p(46, "get_socket_cookie", RET_INTEGER, ARG_PTR_TO_CTX),
        _p(107, "sk_storage_get", RET_PTR_TO_MAP_VALUE_OR_NULL, ARG_CONST_MAP_PTR,
           Arg(A.ARG_PTR_TO_BTF_ID_SOCK_COMMON), Arg(A.ARG_PTR_TO_MAP_VALUE, T.PTR_MAYBE_NULL), ARG_ANYTHING),
        _p(108, "sk_storage_delete", RET_INTEGER, ARG_CONST_MAP_PTR, Arg(A.ARG_PTR_TO_BTF_ID_SOCK_COMMON)),
        # every variant (bpf_get_netns_cookie{,_sock,_sock_addr,_sock_ops,_sk_msg,_sockopt}_proto) is this
        _p(122, "get_netns_cookie", RET_INTEGER, Arg(A.ARG_PTR_TO_CTX, T.PTR_MAYBE_NULL)),
        # one prototype in every program type that may call them (net/core/filter.c,
        # kernel/bpf/cgroup.c, kernel/trace/bpf_trace.c, kernel/bpf/syscall.c as of 6.18)
        _p(20, "skb_get_tunnel_key", RET_INTEGER, ARG_PTR_TO_CTX, ARG_PTR_TO_UNINIT_MEM, ARG_CONST_SIZE,
           ARG_ANYTHING),
        _p(21, "skb_set_tunnel_key", RET_INTEGER, ARG_PTR_TO_CTX, ARG_PTR_TO_MEM_RDONLY, ARG_CONST_SIZE,
           ARG_ANYTHING),
        _p(24, "get_route_realm", RET_INTEGER, ARG_PTR_TO_CTX),
        _p(29, "skb_get_tunnel_opt", RET_INTEGER, ARG_PTR_TO_CTX, ARG_PTR_TO_UNINIT_MEM, ARG_CONST_SIZE),
        _p(30, "skb_set_tunnel_opt", RET_INTEGER, ARG_PTR_TO_CTX, ARG_PTR_TO_MEM_RDONLY, ARG_CONST_SIZE),
        _p(31, "skb_change_proto", RET_INTEGER, ARG_PTR_TO_CTX, ARG_ANYTHING, ARG_ANYTHING),
        _p(32, "skb_change_type", RET_INTEGER, ARG_PTR_TO_CTX, ARG_ANYTHING),
        _p(33, "skb_under_cgroup", RET_INTEGER, ARG_PTR_TO_CTX, ARG_CONST_MAP_PTR, ARG_ANYTHING),
        _p(41, "set_hash_invalid", RET_INTEGER, ARG_PTR_TO_CTX),
        _p(47, "get_socket_uid", RET_INTEGER, ARG_PTR_TO_CTX),
        _p(63, "msg_pull_data", RET_INTEGER, ARG_PTR_TO_CTX, ARG_ANYTHING, ARG_ANYTHING, ARG_ANYTHING),
        _p(64, "bind", RET_INTEGER, ARG_PTR_TO_CTX, ARG_PTR_TO_MEM_RDONLY, ARG_CONST_SIZE),
        _p(66, "skb_get_xfrm_state", RET_INTEGER, ARG_PTR_TO_CTX, ARG_ANYTHING, ARG_PTR_TO_UNINIT_MEM,
           ARG_CONST_SIZE, ARG_ANYTHING),
        # bpf_skb_load_bytes_relative_proto; sk_reuseport_load_bytes_relative_proto is the same
        _p(68, "skb_load_bytes_relative", RET_INTEGER, ARG_PTR_TO_CTX, ARG_ANYTHING, ARG_PTR_TO_UNINIT_MEM,
           ARG_CONST_SIZE, ARG_ANYTHING),
        # bpf_skb_fib_lookup_proto; bpf_xdp_fib_lookup_proto is the same
        _p(69, "fib_lookup", RET_INTEGER, ARG_PTR_TO_CTX, Arg(A.ARG_PTR_TO_MEM, T.MEM_WRITE), ARG_CONST_SIZE,
           ARG_ANYTHING, gpl=True, proto="bpf_skb_fib_lookup_proto"),
        # bpf_lwt_in_push_encap_proto; bpf_lwt_xmit_push_encap_proto is the same
        _p(73, "lwt_push_encap", RET_INTEGER, ARG_PTR_TO_CTX, ARG_ANYTHING, ARG_PTR_TO_MEM_RDONLY,
           ARG_CONST_SIZE, proto="bpf_lwt_in_push_encap_proto"),
        # seg6 helpers: the reference machine has no CONFIG_IPV6_SEG6_BPF (the kernel test skips them)
        _p(74, "lwt_seg6_store_bytes", RET_INTEGER, ARG_PTR_TO_CTX, ARG_ANYTHING, ARG_PTR_TO_MEM_RDONLY,
           ARG_CONST_SIZE),
        _p(75, "lwt_seg6_adjust_srh", RET_INTEGER, ARG_PTR_TO_CTX, ARG_ANYTHING, ARG_ANYTHING),
        _p(76, "lwt_seg6_action", RET_INTEGER, ARG_PTR_TO_CTX, ARG_ANYTHING, ARG_PTR_TO_MEM_RDONLY,
           ARG_CONST_SIZE),
        _p(90, "msg_push_data", RET_INTEGER, ARG_PTR_TO_CTX, ARG_ANYTHING, ARG_ANYTHING, ARG_ANYTHING),
        _p(91, "msg_pop_data", RET_INTEGER, ARG_PTR_TO_CTX, ARG_ANYTHING, ARG_ANYTHING, ARG_ANYTHING),
        _p(97, "skb_ecn_set_ce", RET_INTEGER, ARG_PTR_TO_CTX),
        _p(100, "tcp_check_syncookie", RET_INTEGER, *syncookie, gpl=True, pkt=True),
        _p(101, "sysctl_get_name", RET_INTEGER, ARG_PTR_TO_CTX, Arg(A.ARG_PTR_TO_MEM, T.MEM_WRITE),
           ARG_CONST_SIZE, ARG_ANYTHING),
        _p(102, "sysctl_get_current_value", RET_INTEGER, ARG_PTR_TO_CTX, ARG_PTR_TO_UNINIT_MEM,
           ARG_CONST_SIZE),
        _p(103, "sysctl_get_new_value", RET_INTEGER, ARG_PTR_TO_CTX, ARG_PTR_TO_UNINIT_MEM, ARG_CONST_SIZE),
        _p(104, "sysctl_set_new_value", RET_INTEGER, ARG_PTR_TO_CTX, ARG_PTR_TO_MEM_RDONLY, ARG_CONST_SIZE),
        # "__cookie_v*_init_sequence() is GPL"
        _p(110, "tcp_gen_syncookie", RET_INTEGER, *syncookie, gpl=True, pkt=True),
        _p(119, "read_branch_records", RET_INTEGER, ARG_PTR_TO_CTX,
           Arg(A.ARG_PTR_TO_MEM, T.PTR_MAYBE_NULL | T.MEM_WRITE), ARG_CONST_SIZE_OR_ZERO, ARG_ANYTHING,
           gpl=True),
        _p(128, "sk_cgroup_id", RET_INTEGER, Arg(A.ARG_PTR_TO_BTF_ID_SOCK_COMMON)),
        _p(129, "sk_ancestor_cgroup_id", RET_INTEGER, Arg(A.ARG_PTR_TO_BTF_ID_SOCK_COMMON), ARG_ANYTHING),
        _p(142, "load_hdr_opt", RET_INTEGER, ARG_PTR_TO_CTX, Arg(A.ARG_PTR_TO_MEM, T.MEM_WRITE),
           ARG_CONST_SIZE, ARG_ANYTHING, proto="bpf_sock_ops_load_hdr_opt_proto"),
        _p(143, "store_hdr_opt", RET_INTEGER, ARG_PTR_TO_CTX, ARG_PTR_TO_MEM_RDONLY, ARG_CONST_SIZE,
           ARG_ANYTHING, proto="bpf_sock_ops_store_hdr_opt_proto"),
        _p(144, "reserve_hdr_opt", RET_INTEGER, ARG_PTR_TO_CTX, ARG_ANYTHING, ARG_ANYTHING,
           proto="bpf_sock_ops_reserve_hdr_opt_proto"),
        _p(149, "snprintf_btf", RET_INTEGER, Arg(A.ARG_PTR_TO_MEM, T.MEM_WRITE), ARG_CONST_SIZE,
           ARG_PTR_TO_MEM_RDONLY, ARG_CONST_SIZE, ARG_ANYTHING),
        _p(151, "skb_cgroup_classid", RET_INTEGER, ARG_PTR_TO_CTX),
        _p(152, "redirect_neigh", RET_INTEGER, ARG_ANYTHING, ARG_PTR_TO_MEM_OR_NULL_RDONLY,
           ARG_CONST_SIZE_OR_ZERO, ARG_ANYTHING),
        _p(153, "per_cpu_ptr", Ret(RetType.RET_PTR_TO_MEM_OR_BTF_ID, T.PTR_MAYBE_NULL | T.MEM_RDONLY),
           Arg(A.ARG_PTR_TO_PERCPU_BTF_ID), ARG_ANYTHING),
        _p(154, "this_cpu_ptr", Ret(RetType.RET_PTR_TO_MEM_OR_BTF_ID, T.MEM_RDONLY), Arg(A.ARG_PTR_TO_PERCPU_BTF_ID)),
        # bpf_skb_check_mtu_proto; bpf_xdp_check_mtu_proto is the same
        _p(163, "check_mtu", RET_INTEGER, ARG_PTR_TO_CTX, ARG_ANYTHING,
           Arg(A.ARG_PTR_TO_MEM, T.MEM_FIXED_SIZE | T.MEM_WRITE | T.MEM_ALIGNED, 4), ARG_ANYTHING,
           ARG_ANYTHING, gpl=True, proto="bpf_skb_check_mtu_proto"),
        _p(166, "sys_bpf", RET_INTEGER, ARG_ANYTHING, ARG_PTR_TO_MEM_RDONLY, ARG_CONST_SIZE),
        _p(167, "btf_find_by_name_kind", RET_INTEGER, ARG_PTR_TO_MEM_RDONLY, ARG_CONST_SIZE, ARG_ANYTHING,
           ARG_ANYTHING),
        _p(168, "sys_close", RET_INTEGER, ARG_ANYTHING),
        # arg3 (flags) is not in the kernel's proto: ARG_DONTCARE, the verifier does not look at it
        _p(176, "get_branch_snapshot", RET_INTEGER, ARG_PTR_TO_UNINIT_MEM, ARG_CONST_SIZE_OR_ZERO,
           Arg(A.ARG_DONTCARE), gpl=True),
        _p(179, "kallsyms_lookup_name", RET_INTEGER, ARG_PTR_TO_MEM_RDONLY, ARG_CONST_SIZE_OR_ZERO,
           ARG_ANYTHING, ARG_PTR_TO_LONG_OUT),
        _p(186, "get_retval", RET_INTEGER),
        _p(187, "set_retval", RET_INTEGER, ARG_ANYTHING),
        _p(190, "xdp_store_bytes", RET_INTEGER, ARG_PTR_TO_CTX, ARG_ANYTHING, ARG_PTR_TO_MEM_RDONLY,
           ARG_CONST_SIZE),
        _p(192, "skb_set_tstamp", RET_INTEGER, ARG_PTR_TO_CTX, ARG_ANYTHING, ARG_ANYTHING),
        # sizes: struct iphdr 20, struct ipv6hdr 40, struct tcphdr 20
        _p(204, "tcp_raw_gen_syncookie_ipv4", RET_INTEGER, _fixed_rdonly(20), ARG_PTR_TO_MEM_RDONLY,
           ARG_CONST_SIZE_OR_ZERO, gpl=True, pkt=True),
        _p(205, "tcp_raw_gen_syncookie_ipv6", RET_INTEGER, _fixed_rdonly(40), ARG_PTR_TO_MEM_RDONLY,
           ARG_CONST_SIZE_OR_ZERO, gpl=True, pkt=True),
        _p(206, "tcp_raw_check_syncookie_ipv4", RET_INTEGER, _fixed_rdonly(20), _fixed_rdonly(20), gpl=True,
           pkt=True),
        _p(207, "tcp_raw_check_syncookie_ipv6", RET_INTEGER, _fixed_rdonly(40), _fixed_rdonly(20), gpl=True,
           pkt=True),
    ]
    return tuple(sorted(rows, key=lambda p: p.func_id))


@functools.cache
def _by_id() -> dict[int, FuncProto]:
    return {p.func_id: p for p in func_protos()}


@functools.cache
def _by_name() -> dict[str, FuncProto]:
    return {p.short_name: p for p in func_protos()}


def _short(helper: str) -> str:
    return helper.removeprefix("bpf_")


def _helper_id(helper: int | str) -> int | None:
    if isinstance(helper, int):
        return helper
    proto = _by_name().get(_short(helper))
    if proto is not None:
        return proto.func_id
    from bpfbuild.abi.helpers import helper_id

    return helper_id(helper)


def func_proto(helper: int | str, prog_type: ProgType | None = None) -> FuncProto | None:
    """The verifier prototype of a helper (by id or name); None if this table lacks it.

    ``prog_type``: some helpers have another prototype in some program types (bpf_sk_assign
    in sk_lookup programs takes a socket that may be NULL; bpf_get_socket_cookie takes the
    context in socket programs but a socket pointer in tracing ones).  Given a program type, the
    answer is that type's prototype, or None where this table lacks it (never another type's).
    Without one, the answer is the commonest prototype (None for helpers that have none).
    """
    if prog_type is not None:
        func_id = _helper_id(helper)
        if func_id is None:
            return None
        key = (prog_type, func_id)
        variants = _per_prog_type()
        if key in variants:
            return variants[key]
        only = _generic_only_in().get(func_id)
        if only is not None and prog_type not in only:
            return None
    if isinstance(helper, int):
        return _by_id().get(helper)
    return _by_name().get(_short(helper))


def prog_type_protos() -> tuple[tuple[ProgType, FuncProto], ...]:
    """The program-type-specific prototypes: (program type, its prototype of the helper)."""
    return tuple((pt, proto) for (pt, _), proto in sorted(_per_prog_type().items(),
                                                          key=lambda kv: (kv[0][1], kv[0][0].value)))


# program types whose get_func_proto hands out the same helper protos for these helpers
_SK_FILTER_FAMILY = (ProgType.SOCKET_FILTER, ProgType.CGROUP_SKB, ProgType.SCHED_CLS, ProgType.SCHED_ACT,
                     ProgType.SK_SKB)
#: tracing_prog_func_proto users (LSM programs fall back to it too)
_TRACING_FAMILY = (ProgType.TRACING, ProgType.SYSCALL, ProgType.LSM)
#: tc_cls_act_func_proto and lwt_out_func_proto (which the other LWT types fall back to)
_TC_LWT = (ProgType.SCHED_CLS, ProgType.SCHED_ACT, ProgType.LWT_IN, ProgType.LWT_OUT, ProgType.LWT_XMIT,
           ProgType.LWT_SEG6LOCAL)


@functools.cache
def _generic_only_in() -> dict[int, frozenset[ProgType]]:
    """Helpers whose :func:`func_protos` row is the kernel's prototype only in these program
    types; elsewhere the answer is :func:`_per_prog_type`'s row or None.  EXT programs take
    their target's prototypes, so no restricted row applies to them."""
    sk_storage = frozenset({ProgType.CGROUP_SKB, ProgType.CGROUP_SOCKOPT, ProgType.SK_MSG,
                            ProgType.CGROUP_SOCK_ADDR, ProgType.SOCK_OPS, ProgType.SCHED_CLS,
                            ProgType.SCHED_ACT, ProgType.LSM})
    return {
        # bpf_get_cgroup_classid_curr_proto (bpf_base_func_proto): no argument
        17: frozenset(ProgType) - set(_TC_LWT) - {ProgType.EXT},
        # the context: bpf_get_socket_cookie{,_sock,_sock_addr,_sock_ops}_proto
        46: frozenset({*_SK_FILTER_FAMILY, ProgType.CGROUP_SOCK, ProgType.CGROUP_SOCK_ADDR,
                       ProgType.SOCK_OPS}),
        # bpf_sk_storage_{get,delete}_proto: a socket (tracing programs: a BTF sock_common, not tabulated)
        107: sk_storage,
        108: sk_storage,
        # bpf_xdp_get_buff_len_proto; tracing programs pass a BTF xdp_buff (not tabulated)
        188: frozenset({ProgType.XDP}),
    }


@functools.cache
def _per_prog_type() -> dict[tuple[ProgType, int], FuncProto]:
    ctx = Arg(A.ARG_PTR_TO_CTX)
    btf_sock = Arg(A.ARG_PTR_TO_BTF_ID_SOCK_COMMON)
    out: dict[tuple[ProgType, int], FuncProto] = {
        # bpf_sk_lookup_assign_proto
        (ProgType.SK_LOOKUP, 124): _p(124, "sk_assign", RET_INTEGER, ctx, Arg(A.ARG_PTR_TO_SOCKET, T.PTR_MAYBE_NULL),
                                      ARG_ANYTHING, proto="bpf_sk_lookup_assign_proto"),
        # perf_event programs: bpf_get_stackid_proto_pe is not GPL-only
        (ProgType.PERF_EVENT, 27): _p(27, "get_stackid", RET_INTEGER, ctx, ARG_CONST_MAP_PTR, ARG_ANYTHING,
                                      proto="bpf_get_stackid_proto_pe"),
        # bpf_sk_storage_get_cg_sock_proto: the context is the socket
        (ProgType.CGROUP_SOCK, 107): _p(107, "sk_storage_get", RET_PTR_TO_MAP_VALUE_OR_NULL,
                                        ARG_CONST_MAP_PTR, ctx, Arg(A.ARG_PTR_TO_MAP_VALUE, T.PTR_MAYBE_NULL),
                                        ARG_ANYTHING, proto="bpf_sk_storage_get_cg_sock_proto"),
    }
    for pt in _TC_LWT:
        out[pt, 17] = _p(17, "get_cgroup_classid", RET_INTEGER, ctx)
    # bpf_get_socket_ptr_cookie_proto: a socket pointer that may be NULL
    for pt in (ProgType.SK_REUSEPORT, *_TRACING_FAMILY):
        out[pt, 46] = _p(46, "get_socket_cookie", RET_INTEGER,
                         Arg(A.ARG_PTR_TO_BTF_ID_SOCK_COMMON, T.PTR_MAYBE_NULL),
                         proto="bpf_get_socket_ptr_cookie_proto")
    # setsockopt/getsockopt: the context in sock_ops and sock_addr programs, the socket in sockopt ones
    for pt, family in ((ProgType.SOCK_OPS, "sock_ops"), (ProgType.CGROUP_SOCK_ADDR, "sock_addr")):
        out[pt, 49] = _p(49, "setsockopt", RET_INTEGER, ctx, ARG_ANYTHING, ARG_ANYTHING,
                         ARG_PTR_TO_MEM_RDONLY, ARG_CONST_SIZE, proto=f"bpf_{family}_setsockopt_proto")
        out[pt, 57] = _p(57, "getsockopt", RET_INTEGER, ctx, ARG_ANYTHING, ARG_ANYTHING,
                         ARG_PTR_TO_UNINIT_MEM, ARG_CONST_SIZE, proto=f"bpf_{family}_getsockopt_proto")
    # sockopt programs, tcp/unix socket iterators (tracing), lsm_cgroup and tcp congestion-control
    # struct_ops programs: bpf_sk_{set,get}sockopt_proto (lsm: the bpf_unlocked_* ones, same types)
    for pt in (ProgType.CGROUP_SOCKOPT, ProgType.TRACING, ProgType.LSM, ProgType.STRUCT_OPS):
        out[pt, 49] = _p(49, "setsockopt", RET_INTEGER, btf_sock, ARG_ANYTHING, ARG_ANYTHING,
                         ARG_PTR_TO_MEM_RDONLY, ARG_CONST_SIZE, proto="bpf_sk_setsockopt_proto")
        out[pt, 57] = _p(57, "getsockopt", RET_INTEGER, btf_sock, ARG_ANYTHING, ARG_ANYTHING,
                         ARG_PTR_TO_UNINIT_MEM, ARG_CONST_SIZE, proto="bpf_sk_getsockopt_proto")
    return out


# ---- who may call what (measured on Linux 6.18, see the module docstring) -----------------------

#: helpers every measured program type gets (= bpf_base_func_proto as root)
_COMMON = """
    map_lookup_elem map_update_elem map_delete_elem ktime_get_ns trace_printk get_prandom_u32
    get_smp_processor_id tail_call get_current_pid_tgid get_current_uid_gid get_current_comm
    get_cgroup_classid perf_event_read get_current_task current_task_under_cgroup get_numa_node_id
    perf_event_read_value get_current_cgroup_id map_push_elem map_pop_elem map_peek_elem spin_lock
    spin_unlock strtol strtoul send_signal probe_read_user probe_read_kernel probe_read_user_str
    probe_read_kernel_str send_signal_thread jiffies64 get_ns_current_pid_tgid
    get_current_ancestor_cgroup_id ktime_get_boot_ns ringbuf_output ringbuf_reserve ringbuf_submit
    ringbuf_discard ringbuf_query get_task_stack copy_from_user snprintf_btf per_cpu_ptr
    this_cpu_ptr task_storage_get task_storage_delete get_current_task_btf for_each_map_elem
    snprintf timer_init timer_set_callback timer_start timer_cancel task_pt_regs get_branch_snapshot
    trace_vprintk find_vma loop strncmp copy_from_user_task kptr_xchg map_lookup_percpu_elem
    dynptr_from_mem ringbuf_reserve_dynptr ringbuf_submit_dynptr ringbuf_discard_dynptr dynptr_read
    dynptr_write dynptr_data ktime_get_tai_ns user_ringbuf_drain cgrp_storage_get
    cgrp_storage_delete
"""

#: tc classifiers and actions share one get_func_proto (tc_cls_act_func_proto)
_TC_CLS_ACT = """
    skb_store_bytes l3_csum_replace l4_csum_replace clone_redirect skb_vlan_push skb_vlan_pop
    skb_get_tunnel_key skb_set_tunnel_key redirect get_route_realm perf_event_output
    skb_load_bytes csum_diff skb_get_tunnel_opt skb_set_tunnel_opt skb_change_proto
    skb_change_type skb_under_cgroup get_hash_recalc skb_change_tail skb_pull_data csum_update
    set_hash_invalid skb_change_head get_socket_cookie get_socket_uid set_hash skb_adjust_room
    skb_get_xfrm_state skb_load_bytes_relative fib_lookup skb_cgroup_id skb_ancestor_cgroup_id
    sk_lookup_tcp sk_lookup_udp sk_release sk_fullsock tcp_sock skb_ecn_set_ce get_listener_sock
    skc_lookup_tcp tcp_check_syncookie sk_storage_get sk_storage_delete tcp_gen_syncookie
    get_netns_cookie sk_assign csum_level skc_to_tcp6_sock skc_to_tcp_sock
    skc_to_tcp_timewait_sock skc_to_tcp_request_sock skc_to_udp6_sock skb_cgroup_classid
    redirect_neigh redirect_peer ktime_get_coarse_ns check_mtu skc_to_unix_sock skb_set_tstamp
    skc_to_mptcp_sock tcp_raw_gen_syncookie_ipv4 tcp_raw_gen_syncookie_ipv6
    tcp_raw_check_syncookie_ipv4 tcp_raw_check_syncookie_ipv6
"""

#: the rest of each program type's get_func_proto, beyond _COMMON
_EXTRA: dict[str, str] = {
    "SOCKET_FILTER": """
        perf_event_output skb_load_bytes get_socket_cookie get_socket_uid skb_load_bytes_relative
        get_netns_cookie skc_to_tcp6_sock skc_to_tcp_sock skc_to_tcp_timewait_sock
        skc_to_tcp_request_sock skc_to_udp6_sock ktime_get_coarse_ns skc_to_unix_sock
        skc_to_mptcp_sock
    """,
    "KPROBE": """
        override_return probe_write_user probe_read perf_event_output get_stackid probe_read_str get_stack get_func_ip
        get_attach_cookie
    """,
    "SCHED_CLS": _TC_CLS_ACT,
    "SCHED_ACT": _TC_CLS_ACT,
    "TRACEPOINT": """
        probe_write_user probe_read perf_event_output get_stackid probe_read_str get_stack get_func_ip
        get_attach_cookie
    """,
    "XDP": """
        redirect perf_event_output csum_diff xdp_adjust_head redirect_map xdp_adjust_meta
        xdp_adjust_tail fib_lookup sk_lookup_tcp sk_lookup_udp sk_release skc_lookup_tcp
        tcp_check_syncookie tcp_gen_syncookie skc_to_tcp6_sock skc_to_tcp_sock
        skc_to_tcp_timewait_sock skc_to_tcp_request_sock skc_to_udp6_sock ktime_get_coarse_ns
        check_mtu skc_to_unix_sock xdp_get_buff_len xdp_load_bytes xdp_store_bytes skc_to_mptcp_sock
        tcp_raw_gen_syncookie_ipv4 tcp_raw_gen_syncookie_ipv6 tcp_raw_check_syncookie_ipv4
        tcp_raw_check_syncookie_ipv6
    """,
    "PERF_EVENT": """
        probe_write_user probe_read perf_event_output get_stackid probe_read_str perf_prog_read_value get_stack
        read_branch_records get_func_ip get_attach_cookie
    """,
    "CGROUP_SKB": """
        perf_event_output skb_load_bytes get_socket_cookie get_socket_uid skb_load_bytes_relative
        skb_cgroup_id get_local_storage skb_ancestor_cgroup_id sk_lookup_tcp sk_lookup_udp
        sk_release sk_fullsock tcp_sock skb_ecn_set_ce get_listener_sock skc_lookup_tcp
        sk_storage_get sk_storage_delete get_netns_cookie sk_cgroup_id sk_ancestor_cgroup_id
        skc_to_tcp6_sock skc_to_tcp_sock skc_to_tcp_timewait_sock skc_to_tcp_request_sock
        skc_to_udp6_sock ktime_get_coarse_ns skc_to_unix_sock skc_to_mptcp_sock
    """,
    "CGROUP_SOCK": """
        perf_event_output get_socket_cookie get_local_storage sk_storage_get get_netns_cookie
        ktime_get_coarse_ns get_retval set_retval
    """,
    "LWT_IN": """
        get_route_realm perf_event_output skb_load_bytes csum_diff skb_under_cgroup get_hash_recalc
        skb_pull_data lwt_push_encap skc_to_tcp6_sock skc_to_tcp_sock skc_to_tcp_timewait_sock
        skc_to_tcp_request_sock skc_to_udp6_sock ktime_get_coarse_ns skc_to_unix_sock
        skc_to_mptcp_sock
    """,
    "LWT_OUT": """
        get_route_realm perf_event_output skb_load_bytes csum_diff skb_under_cgroup get_hash_recalc
        skb_pull_data skc_to_tcp6_sock skc_to_tcp_sock skc_to_tcp_timewait_sock
        skc_to_tcp_request_sock skc_to_udp6_sock ktime_get_coarse_ns skc_to_unix_sock
        skc_to_mptcp_sock
    """,
    "LWT_XMIT": """
        skb_store_bytes l3_csum_replace l4_csum_replace clone_redirect skb_get_tunnel_key
        skb_set_tunnel_key redirect get_route_realm perf_event_output skb_load_bytes csum_diff
        skb_get_tunnel_opt skb_set_tunnel_opt skb_under_cgroup get_hash_recalc skb_change_tail
        skb_pull_data csum_update set_hash_invalid skb_change_head lwt_push_encap csum_level
        skc_to_tcp6_sock skc_to_tcp_sock skc_to_tcp_timewait_sock skc_to_tcp_request_sock
        skc_to_udp6_sock ktime_get_coarse_ns skc_to_unix_sock skc_to_mptcp_sock
    """,
    "SOCK_OPS": """
        perf_event_output get_socket_cookie setsockopt sock_map_update getsockopt
        sock_ops_cb_flags_set sock_hash_update get_local_storage tcp_sock sk_storage_get
        sk_storage_delete get_netns_cookie skc_to_tcp6_sock skc_to_tcp_sock skc_to_tcp_timewait_sock
        skc_to_tcp_request_sock skc_to_udp6_sock load_hdr_opt store_hdr_opt reserve_hdr_opt
        ktime_get_coarse_ns skc_to_unix_sock skc_to_mptcp_sock
    """,
    "SK_SKB": """
        skb_store_bytes perf_event_output skb_load_bytes skb_change_tail skb_pull_data
        skb_change_head get_socket_cookie get_socket_uid skb_adjust_room sk_redirect_map
        sk_redirect_hash sk_lookup_tcp sk_lookup_udp sk_release skc_lookup_tcp skc_to_tcp6_sock
        skc_to_tcp_sock skc_to_tcp_timewait_sock skc_to_tcp_request_sock skc_to_udp6_sock
        ktime_get_coarse_ns skc_to_unix_sock skc_to_mptcp_sock
    """,
    "CGROUP_DEVICE": """
        perf_event_output get_local_storage get_retval set_retval
    """,
    "SK_MSG": """
        perf_event_output msg_redirect_map msg_apply_bytes msg_cork_bytes msg_pull_data
        msg_redirect_hash msg_push_data msg_pop_data sk_storage_get sk_storage_delete
        get_netns_cookie skc_to_tcp6_sock skc_to_tcp_sock skc_to_tcp_timewait_sock
        skc_to_tcp_request_sock skc_to_udp6_sock ktime_get_coarse_ns skc_to_unix_sock
        skc_to_mptcp_sock
    """,
    "RAW_TRACEPOINT": """
        probe_write_user probe_read perf_event_output get_stackid probe_read_str get_stack get_func_ip
        get_attach_cookie
    """,
    "CGROUP_SOCK_ADDR": """
        perf_event_output get_socket_cookie setsockopt getsockopt bind get_local_storage
        sk_lookup_tcp sk_lookup_udp sk_release skc_lookup_tcp sk_storage_get sk_storage_delete
        get_netns_cookie skc_to_tcp6_sock skc_to_tcp_sock skc_to_tcp_timewait_sock
        skc_to_tcp_request_sock skc_to_udp6_sock ktime_get_coarse_ns skc_to_unix_sock get_retval
        set_retval skc_to_mptcp_sock
    """,
    "LWT_SEG6LOCAL": """
        get_route_realm perf_event_output skb_load_bytes csum_diff skb_under_cgroup get_hash_recalc
        skb_pull_data lwt_seg6_store_bytes lwt_seg6_adjust_srh lwt_seg6_action skc_to_tcp6_sock
        skc_to_tcp_sock skc_to_tcp_timewait_sock skc_to_tcp_request_sock skc_to_udp6_sock
        ktime_get_coarse_ns skc_to_unix_sock skc_to_mptcp_sock
    """,
    "SK_REUSEPORT": """
        skb_load_bytes get_socket_cookie skb_load_bytes_relative sk_select_reuseport
        ktime_get_coarse_ns
    """,
    "FLOW_DISSECTOR": """
        skb_load_bytes skc_to_tcp6_sock skc_to_tcp_sock skc_to_tcp_timewait_sock
        skc_to_tcp_request_sock skc_to_udp6_sock ktime_get_coarse_ns skc_to_unix_sock
        skc_to_mptcp_sock
    """,
    "CGROUP_SYSCTL": """
        perf_event_output get_local_storage sysctl_get_name sysctl_get_current_value
        sysctl_get_new_value sysctl_set_new_value ktime_get_coarse_ns get_retval set_retval
    """,
    "RAW_TRACEPOINT_WRITABLE": """
        probe_write_user probe_read perf_event_output get_stackid probe_read_str get_stack get_func_ip
        get_attach_cookie
    """,
    "CGROUP_SOCKOPT": """
        perf_event_output get_local_storage tcp_sock sk_storage_get sk_storage_delete
        get_netns_cookie get_retval set_retval
    """,
    "SK_LOOKUP": """
        perf_event_output sk_release sk_assign skc_to_tcp6_sock skc_to_tcp_sock
        skc_to_tcp_timewait_sock skc_to_tcp_request_sock skc_to_udp6_sock ktime_get_coarse_ns
        skc_to_unix_sock skc_to_mptcp_sock
    """,
    "SYSCALL": """
        probe_write_user probe_read perf_event_output get_stackid probe_read_str get_socket_cookie get_stack
        sk_storage_get sk_storage_delete skb_output xdp_output skc_to_tcp6_sock skc_to_tcp_sock
        skc_to_tcp_timewait_sock skc_to_tcp_request_sock skc_to_udp6_sock d_path sock_from_file
        sys_bpf btf_find_by_name_kind sys_close get_func_ip skc_to_unix_sock kallsyms_lookup_name
        xdp_get_buff_len skc_to_mptcp_sock
    """,
    "NETFILTER": """

    """,
}

#: bpf_base_func_proto's first group: no capability needed
_BASE_UNPRIVILEGED = """
    map_lookup_elem map_update_elem map_delete_elem map_push_elem map_pop_elem map_peek_elem
    map_lookup_percpu_elem get_prandom_u32 get_smp_processor_id get_numa_node_id tail_call
    ktime_get_ns ktime_get_boot_ns ktime_get_tai_ns ringbuf_output ringbuf_reserve ringbuf_submit
    ringbuf_discard ringbuf_query for_each_map_elem loop strncmp
"""

#: base helpers that need CAP_PERFMON (measured: absent with CAP_BPF alone)
_BASE_PERFMON = """
    copy_from_user copy_from_user_task find_vma get_branch_snapshot get_current_comm
    get_current_task get_current_task_btf get_task_stack perf_event_read perf_event_read_value
    probe_read_kernel probe_read_kernel_str probe_read_user probe_read_user_str send_signal
    send_signal_thread snprintf snprintf_btf task_pt_regs trace_printk trace_vprintk
"""

# TRACING (fentry/fexit/fmod_ret): the SYSCALL set without syscall_prog_func_proto's own
# helpers, plus the helpers only programs with a trampoline get.
_SYSCALL_ONLY = frozenset({"sys_bpf", "btf_find_by_name_kind", "sys_close", "kallsyms_lookup_name"})
_TRAMPOLINE_ONLY = frozenset({"get_func_arg", "get_func_ret", "get_func_arg_cnt", "get_attach_cookie"})


@functools.cache
def _prog_sets() -> dict[ProgType, frozenset[str]]:
    common = frozenset(_COMMON.split())
    out = {ProgType[name]: common | frozenset(extra.split()) for name, extra in _EXTRA.items()}
    out[ProgType.TRACING] = (out[ProgType.SYSCALL] - _SYSCALL_ONLY) | _TRAMPOLINE_ONLY
    return out


#: helpers security_locked_down() refuses, and the lockdown level from which it does
#: (LOCKDOWN_BPF_WRITE_USER sits below LOCKDOWN_INTEGRITY_MAX, LOCKDOWN_BPF_READ_KERNEL below
#: LOCKDOWN_CONFIDENTIALITY_MAX in include/linux/security.h)
_LOCKDOWN_DENIES = {
    "probe_write_user": "integrity",
    "probe_read": "confidentiality", "probe_read_str": "confidentiality",
    "probe_read_kernel": "confidentiality", "probe_read_kernel_str": "confidentiality",
}
_LOCKDOWN_ORDER = ("none", "integrity", "confidentiality")
#: helpers offered only when the kernel is built with an option (#ifdef in the func_proto)
_CONFIG_GATED = {"override_return": "CONFIG_BPF_KPROBE_OVERRIDE"}


def target_denied(target: Target | None) -> frozenset[str]:
    """Helpers (without ``bpf_``) that ``target``'s kernel refuses although upstream offers them:
    its lockdown level takes some away, a missing build option others.  An unknown configuration
    (no Kconfig readable) takes nothing away; None (no target) is upstream itself."""
    if target is None:
        return frozenset()
    cache = _target_cache(target)
    denied = cache.get(None)
    if denied is None:
        level = _LOCKDOWN_ORDER.index(target.lockdown)
        out = {h for h, at in _LOCKDOWN_DENIES.items() if level >= _LOCKDOWN_ORDER.index(at)}
        if len(target.kconfig):
            out |= {h for h, option in _CONFIG_GATED.items() if option not in target.kconfig}
        denied = cache[None] = frozenset(out)
    return denied


def _target_cache(target: Target) -> dict[ProgType | None, frozenset[str]]:
    """Per-target answers (None: the denied set; a program type: its helpers there), kept on the
    target (a frozen dataclass whose facts do not change) like its cached properties."""
    cache = target.__dict__.get("_helper_sets")
    if cache is None:
        cache = target.__dict__["_helper_sets"] = {}
    return cache  # type: ignore[no-any-return]


def prog_type_helpers(prog_type: ProgType, target: Target | None = None) -> frozenset[str] | None:
    """Names (without ``bpf_``) of the helpers ``prog_type``'s get_func_proto offers as root
    (upstream's, or ``target``'s kernel's: see :func:`target_denied`).

    None for program types not tabulated (LSM, EXT, STRUCT_OPS, LIRC_MODE2, UNSPEC).
    Helpers that might sleep are included; see :func:`helper_allowed`.
    """
    helpers = _prog_sets().get(prog_type)
    if helpers is None or target is None:
        return helpers
    cache = _target_cache(target)
    offered = cache.get(prog_type)
    if offered is None:
        offered = cache[prog_type] = helpers - target_denied(target)
    return offered


def helper_allowed(helper: int | str, prog_type: ProgType, *, sleepable: bool = False,
                   target: Target | None = None) -> bool | None:
    """Whether a root-loaded program of ``prog_type`` may call ``helper`` (id or name), upstream
    or on ``target``'s kernel.

    None where the program type is not tabulated.  A helper that might sleep needs a
    sleepable program.
    """
    helpers = prog_type_helpers(prog_type, target)
    if helpers is None:
        return None
    if isinstance(helper, int):
        name = helper_name(helper)
        if name is None:
            return False
        helper = name
    short = _short(helper)
    if short in _MIGHT_SLEEP and not sleepable:
        return False
    return short in helpers


def offered_helper(func_id: int, prog_type: ProgType, target: Target) -> tuple[bool | None, FuncProto | None]:
    """``helper_allowed(func_id, prog_type, sleepable=True, target=target)`` and
    ``func_proto(func_id, prog_type)`` in one look-up (the verifier asks at every call): a table
    per program type kept on the target with its helper sets, filled as helpers are asked for."""
    offers = target.__dict__.get("_helper_offers")
    if offers is None:
        offers = target.__dict__["_helper_offers"] = {}
    table = offers.get(prog_type)
    if table is None:
        table = offers[prog_type] = {}
    found = table.get(func_id)
    if found is None:
        found = table[func_id] = (helper_allowed(func_id, prog_type, sleepable=True, target=target),
                                  func_proto(func_id, prog_type))
    return found


def helper_prog_types(helper: int | str) -> frozenset[ProgType]:
    """The tabulated program types that may call ``helper`` upstream (sleepable where it must be)."""
    return frozenset(pt for pt in _prog_sets() if helper_allowed(helper, pt, sleepable=True))


def base_helper_privilege(helper: str) -> Privilege | None:
    """The capability bpf_base_func_proto needs before it offers ``helper``; None if not a base helper."""
    short = _short(helper)
    if short not in frozenset(_COMMON.split()):
        return None
    if short in frozenset(_BASE_UNPRIVILEGED.split()):
        return Privilege.UNPRIVILEGED
    if short in frozenset(_BASE_PERFMON.split()):
        return Privilege.CAP_PERFMON
    return Privilege.CAP_BPF

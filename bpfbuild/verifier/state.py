"""Verifier state: registers, stack slots, frames and whole states (``struct bpf_*_state``).

The state is mutable on purpose: like the kernel, the verifier updates the current state in
place instruction by instruction and copies it only where a path forks (``push_stack``) or a
checkpoint is kept (``is_state_visited``).  Names follow include/linux/bpf_verifier.h.

``Reg.type`` is a base :class:`RegType` or-ed with :class:`RegFlag` bits (``PTR_MAYBE_NULL``,
``MEM_RDONLY``, ``MEM_RINGBUF``), as ``enum bpf_reg_type`` is.
"""

from __future__ import annotations

import enum
import itertools
from collections.abc import Callable
from dataclasses import dataclass

from bpfbuild.verifier.bounds import S32_MAX, S32_MIN, S64_MAX, S64_MIN, mark_known
from bpfbuild.verifier.tnum import TNUM_UNKNOWN, U32_MAX, U64_MAX, Tnum

__all__ = [
    "BASE_MASK",
    "DYNPTR_TYPE_NAMES",
    "FuncState",
    "MapInfo",
    "RefState",
    "Reg",
    "RegFlag",
    "RegType",
    "SlotType",
    "StackSlot",
    "VerifierState",
    "reg_type_str",
]


class RegType(enum.IntEnum):
    """Base register types (``enum bpf_reg_type``)."""

    NOT_INIT = 0
    SCALAR_VALUE = 1
    PTR_TO_CTX = 2
    CONST_PTR_TO_MAP = 3
    PTR_TO_MAP_VALUE = 4
    PTR_TO_MAP_KEY = 5
    PTR_TO_STACK = 6
    PTR_TO_PACKET_META = 7
    PTR_TO_PACKET = 8
    PTR_TO_PACKET_END = 9
    PTR_TO_FLOW_KEYS = 10
    PTR_TO_SOCKET = 11
    PTR_TO_SOCK_COMMON = 12
    PTR_TO_TCP_SOCK = 13
    PTR_TO_TP_BUFFER = 14
    PTR_TO_XDP_SOCK = 15
    PTR_TO_BTF_ID = 16
    PTR_TO_MEM = 17
    PTR_TO_ARENA = 18
    PTR_TO_BUF = 19
    PTR_TO_FUNC = 20
    CONST_PTR_TO_DYNPTR = 21


class RegFlag(enum.IntFlag):
    """Type modifiers (``enum bpf_type_flag``) the verifier tracks here.

    The bit values are ours (the kernel's differ and move between releases); the names and what
    they mean are the kernel's.  ``MEM_RCU``/``PTR_UNTRUSTED``/``PTR_TRUSTED``/``MEM_ALLOC``/
    ``MEM_PERCPU``/``NON_OWN_REF`` qualify ``PTR_TO_BTF_ID`` (see :attr:`Reg.btf_id`).
    """

    PTR_MAYBE_NULL = 1 << 8
    MEM_RDONLY = 1 << 9
    MEM_RINGBUF = 1 << 10
    PTR_TRUSTED = 1 << 11
    MEM_USER = 1 << 12
    MEM_PERCPU = 1 << 13
    MEM_RCU = 1 << 14
    PTR_UNTRUSTED = 1 << 15
    MEM_ALLOC = 1 << 16
    NON_OWN_REF = 1 << 17
    MEM_UNINIT = 1 << 18
    #: a kfunc's dynptr slice carries its dynptr's ``DYNPTR_TYPE_*`` flag (not printed; helper
    #: arguments of memory ignore it); ``DYNPTR_PKT`` for a packet's (skb, xdp, skb_meta), which
    #: packet-changing helpers invalidate (``reg_is_dynptr_slice_pkt``)
    DYNPTR_TYPED = 1 << 19
    DYNPTR_PKT = 1 << 20


BASE_MASK = 0xFF

# The members the per-instruction methods below read, as module constants: on Python 3.11 a
# ``RegType.X`` lookup goes through the Enum metaclass and costs several globals (fastenum.py).
_NOT_INIT = RegType.NOT_INIT
_SCALAR = RegType.SCALAR_VALUE
_PTR_TO_STACK = RegType.PTR_TO_STACK
_MAYBE_NULL = RegFlag.PTR_MAYBE_NULL
_PKT_TYPES = (RegType.PTR_TO_PACKET, RegType.PTR_TO_PACKET_META)
_PKT_TYPES_ANY = (RegType.PTR_TO_PACKET, RegType.PTR_TO_PACKET_META, RegType.PTR_TO_PACKET_END)

_TYPE_NAMES = {
    RegType.NOT_INIT: "?", RegType.SCALAR_VALUE: "scalar", RegType.PTR_TO_CTX: "ctx",
    RegType.CONST_PTR_TO_MAP: "map_ptr", RegType.PTR_TO_MAP_VALUE: "map_value",
    RegType.PTR_TO_STACK: "fp", RegType.PTR_TO_PACKET: "pkt", RegType.PTR_TO_PACKET_META: "pkt_meta",
    RegType.PTR_TO_PACKET_END: "pkt_end", RegType.PTR_TO_FLOW_KEYS: "flow_keys",
    RegType.PTR_TO_SOCKET: "sock", RegType.PTR_TO_SOCK_COMMON: "sock_common",
    RegType.PTR_TO_TCP_SOCK: "tcp_sock", RegType.PTR_TO_TP_BUFFER: "tp_buffer",
    RegType.PTR_TO_XDP_SOCK: "xdp_sock", RegType.PTR_TO_BTF_ID: "ptr_", RegType.PTR_TO_MEM: "mem",
    RegType.PTR_TO_ARENA: "arena", RegType.PTR_TO_BUF: "buf", RegType.PTR_TO_FUNC: "func",
    RegType.PTR_TO_MAP_KEY: "map_key", RegType.CONST_PTR_TO_DYNPTR: "dynptr_ptr",
}


def reg_type_str(t: int) -> str:
    """How the kernel names a register type in messages (``map_value_or_null``, ``ringbuf_mem``)."""
    base = t & BASE_MASK
    prefix = ""
    if t & RegFlag.MEM_RDONLY:
        prefix += "rdonly_"
    if t & RegFlag.MEM_RINGBUF:
        prefix += "ringbuf_"
    if t & RegFlag.MEM_USER:
        prefix += "user_"
    if t & RegFlag.MEM_PERCPU:
        prefix += "percpu_"
    if t & RegFlag.MEM_RCU:
        prefix += "rcu_"
    if t & RegFlag.PTR_UNTRUSTED:
        prefix += "untrusted_"
    if t & RegFlag.PTR_TRUSTED:
        prefix += "trusted_"
    postfix = ""
    if t & RegFlag.PTR_MAYBE_NULL:
        postfix = "or_null_" if base == RegType.PTR_TO_BTF_ID else "_or_null"
    return prefix + _TYPE_NAMES[RegType(base)] + postfix


@dataclass(slots=True, unsafe_hash=True)
class MapInfo:
    """What the verifier knows of a map (``struct bpf_map`` as created by the loader).

    ``index`` is the map's index in the object; ``name`` the kernel's (at most 15 chars);
    ``frozen``: the loader freezes it (libbpf freezes ``.rodata``), so with ``BPF_F_RDONLY_PROG``
    its contents are constants the verifier may read (``initial``).

    Immutable by convention (nothing assigns to a field once made), compared and hashed by
    value; not ``frozen=True``: a frozen dataclass's ``__init__`` sets each field through
    ``object.__setattr__``, several times slower, and one is made per map of every verification.
    """

    index: int
    name: str
    map_type: int
    key_size: int
    value_size: int
    max_entries: int
    flags: int = 0
    frozen: bool = False
    initial: bytes | None = None
    inner: MapInfo | None = None   # map-in-map: the inner map template (``inner_map_meta``)
    #: ``map->btf`` set (the value has a BTF type) and ``map->record`` (a fields.Record: its
    #: special fields -- bpf_spin_lock, bpf_timer, kptrs...), both from the object's BTF
    has_btf: bool = False
    record: object | None = None

    @property
    def rdonly_prog(self) -> bool:
        return bool(self.flags & 0x80)

    @property
    def wronly_prog(self) -> bool:
        return bool(self.flags & 0x100)

    @property
    def is_rdonly(self) -> bool:
        """``bpf_map_is_rdonly``: read-only for programs and frozen."""
        return self.rdonly_prog and self.frozen


class Reg:
    """``struct bpf_reg_state``: one register (or a spilled one on the stack)."""

    __slots__ = (
        "btf",
        "btf_id",
        "dynptr_id",
        "frameno",
        "id",
        "iter_depth",
        "iter_state",
        "map",
        "mem_size",
        "off",
        "precise",
        "range",
        "ref_obj_id",
        "s32_max",
        "s32_min",
        "smax",
        "smin",
        "subprogno",
        "type",
        "u32_max",
        "u32_min",
        "umax",
        "umin",
        "var_off",
    )

    def __init__(self) -> None:
        self.type: int = _NOT_INIT   # a RegType with RegFlag bits
        self.off = 0
        self.range = 0
        self.map: MapInfo | None = None
        self.mem_size = 0
        self.subprogno = 0
        self.id = 0
        self.ref_obj_id = 0
        self.frameno = 0
        self.var_off: Tnum = TNUM_UNKNOWN
        self.smin = S64_MIN
        self.smax = S64_MAX
        self.umin = 0
        self.umax = U64_MAX
        self.s32_min = S32_MIN
        self.s32_max = S32_MAX
        self.u32_min = 0
        self.u32_max = U32_MAX
        self.precise = False
        # PTR_TO_BTF_ID (and MEM_ALLOC objects): the BTF (a btf.spec.Spec: the target kernel's or
        # the object's own) and the id of the pointed-to type in it; None/0 otherwise.
        self.btf: object | None = None
        self.btf_id = 0
        # an open-coded iterator's stack slot (STACK_ITER; ``struct bpf_reg_state.iter``): its
        # state (ITER_ACTIVE/ITER_DRAINED) and how many iter_next forks led here
        self.iter_state = 0
        self.iter_depth = 0
        # a dynptr slice (PTR_TO_MEM from bpf_dynptr_data/slice): the id of its dynptr
        self.dynptr_id = 0

    # ``reg->dynptr`` (a STACK_DYNPTR slot: its type and whether it is the first of its two
    # slots) shares the kernel's union with ``reg->iter``: the same two fields hold either
    @property
    def dynptr_type(self) -> int:
        return self.iter_state

    @dynptr_type.setter
    def dynptr_type(self, value: int) -> None:
        self.iter_state = value

    @property
    def dynptr_first(self) -> bool:
        return bool(self.iter_depth)

    @dynptr_first.setter
    def dynptr_first(self, value: bool) -> None:
        self.iter_depth = int(value)

    def copy(self) -> Reg:
        r = _new(Reg)
        r.type = self.type
        r.off = self.off
        r.range = self.range
        r.map = self.map
        r.mem_size = self.mem_size
        r.subprogno = self.subprogno
        r.id = self.id
        r.ref_obj_id = self.ref_obj_id
        r.frameno = self.frameno
        r.var_off = self.var_off
        r.smin = self.smin
        r.smax = self.smax
        r.umin = self.umin
        r.umax = self.umax
        r.s32_min = self.s32_min
        r.s32_max = self.s32_max
        r.u32_min = self.u32_min
        r.u32_max = self.u32_max
        r.precise = self.precise
        r.btf = self.btf
        r.btf_id = self.btf_id
        r.iter_state = self.iter_state
        r.iter_depth = self.iter_depth
        r.dynptr_id = self.dynptr_id
        return r

    def assign(self, other: Reg) -> None:
        """``*dst = *src`` (copy_register_state)."""
        self.type = other.type
        self.off = other.off
        self.range = other.range
        self.map = other.map
        self.mem_size = other.mem_size
        self.subprogno = other.subprogno
        self.id = other.id
        self.ref_obj_id = other.ref_obj_id
        self.frameno = other.frameno
        self.var_off = other.var_off
        self.smin = other.smin
        self.smax = other.smax
        self.umin = other.umin
        self.umax = other.umax
        self.s32_min = other.s32_min
        self.s32_max = other.s32_max
        self.u32_min = other.u32_min
        self.u32_max = other.u32_max
        self.precise = other.precise
        self.btf = other.btf
        self.btf_id = other.btf_id
        self.iter_state = other.iter_state
        self.iter_depth = other.iter_depth
        self.dynptr_id = other.dynptr_id

    # --- the kernel's mark_reg_* family ----------------------------------------------------------

    def _clear_ptr(self) -> None:
        self.off = 0
        self.range = 0
        self.map = None
        self.mem_size = 0
        self.subprogno = 0
        self.id = 0
        self.ref_obj_id = 0
        self.frameno = 0
        self.btf = None
        self.btf_id = 0
        self.iter_state = 0
        self.iter_depth = 0
        self.dynptr_id = 0

    def mark_known(self, imm: int) -> None:
        """``__mark_reg_known``: keep the type, clear offsets and ids, value ``imm``."""
        self._clear_ptr()
        mark_known(self, imm)

    def mark_known_zero(self) -> None:
        self.mark_known(0)

    def mark_const(self, imm: int) -> None:
        """A scalar holding exactly ``imm``."""
        self.mark_known(imm)
        self.type = _SCALAR
        self.precise = False

    def mark_unknown(self) -> None:
        """``__mark_reg_unknown``: an unbounded scalar (a fresh register's fields, as a scalar)."""
        self.assign(_UNKNOWN)

    def mark_not_init(self) -> None:
        """``__mark_reg_not_init``: :meth:`mark_unknown`, then type NOT_INIT -- a fresh register."""
        self.assign(_NOT_INIT_REG)

    # --- queries ----------------------------------------------------------------------------------

    @property
    def base(self) -> int:
        return self.type & BASE_MASK

    @property
    def maybe_null(self) -> bool:
        return bool(self.type & _MAYBE_NULL)

    @property
    def is_scalar(self) -> bool:
        return self.type == _SCALAR

    @property
    def is_pointer(self) -> bool:
        return self.type != _SCALAR

    @property
    def is_const(self) -> bool:
        return self.type == _SCALAR and not self.var_off.mask

    @property
    def is_null(self) -> bool:
        """``register_is_null``: a scalar known to be 0."""
        return self.type == _SCALAR and not self.var_off.mask and not self.var_off.value

    @property
    def is_pkt_pointer(self) -> bool:
        return self.type in _PKT_TYPES

    @property
    def is_pkt_pointer_any(self) -> bool:
        return self.type in _PKT_TYPES_ANY

    def __repr__(self) -> str:
        """The fields a debugger needs; :func:`.log.reg_str` prints the kernel's form."""
        out = [reg_type_str(self.type)]
        if self.type == RegType.SCALAR_VALUE and not self.var_off.mask:
            out.append(f"value={self.var_off.value}")
        else:
            if self.off:
                out.append(f"off={self.off}")
            out.append(f"var_off=({self.var_off.value:#x}; {self.var_off.mask:#x})")
            out.append(f"s=[{self.smin}, {self.smax}] u=[{self.umin}, {self.umax}]")
        if self.id:
            out.append(f"id={self.id}")
        if self.ref_obj_id:
            out.append(f"ref_obj_id={self.ref_obj_id}")
        return f"Reg({', '.join(out)})"


_new = object.__new__     # what Reg.__new__(Reg) calls, without the lookup
_reg_copy = Reg.copy

# what mark_unknown and mark_not_init copy into a register (one call instead of a chain of
# stores and calls: a hot path); never changed
_NOT_INIT_REG = Reg()
_UNKNOWN = Reg()
_UNKNOWN.type = _SCALAR


class SlotType(enum.IntEnum):
    """What one byte of a stack slot holds (``enum bpf_stack_slot_type``)."""

    STACK_INVALID = 0
    STACK_SPILL = 1
    STACK_MISC = 2
    STACK_ZERO = 3
    STACK_DYNPTR = 4
    STACK_ITER = 5
    STACK_IRQ_FLAG = 6


#: ``enum bpf_dynptr_type`` as ``dynptr_type_str`` names it (0 is BPF_DYNPTR_TYPE_INVALID)
DYNPTR_TYPE_NAMES = {1: "local", 2: "ringbuf", 3: "skb", 4: "xdp", 5: "skb_meta"}

INVALID, SPILL, MISC, ZERO = (SlotType.STACK_INVALID, SlotType.STACK_SPILL, SlotType.STACK_MISC,
                              SlotType.STACK_ZERO)
_SPILL_INT = int(SPILL)     # compares with a byte of slot_type at int speed


class StackSlot:
    """``struct bpf_stack_state``: 8 bytes of stack.  ``slot_type[j]`` is the byte at
    ``fp - 8*spi - (j + 1)`` ... as the kernel indexes it (index 7 is the lowest address).

    Slots are copied on write: a copied frame shares its slots with the original, and only the
    frame whose ``gen`` a slot carries may change it in place (see :meth:`FuncState.wslot`)."""

    __slots__ = ("gen", "slot_type", "spilled_ptr")

    def __init__(self, gen: int = 0) -> None:
        self.spilled_ptr = Reg()
        self.slot_type = bytearray(8)
        self.gen = gen

    def copy(self) -> StackSlot:
        s = _new(StackSlot)
        s.spilled_ptr = self.spilled_ptr.copy()
        s.slot_type = bytearray(self.slot_type)
        s.gen = 0
        return s

    @property
    def is_spilled(self) -> bool:
        return self.slot_type[7] == SPILL

    @property
    def is_spilled_scalar(self) -> bool:
        return self.slot_type[7] == SPILL and self.spilled_ptr.type == _SCALAR

    @property
    def is_spilled_scalar64(self) -> bool:
        return self.is_spilled_scalar and all(t == SPILL for t in self.slot_type)


#: a fresh generation for a frame (what marks the stack slots it may write in place)
_next_gen = itertools.count(1).__next__


@dataclass(slots=True)
class RefState:
    """An acquired reference (``struct bpf_reference_state``): a ring-buffer record, a socket."""

    id: int
    insn_idx: int


class FuncState:
    """``struct bpf_func_state``: one frame -- r0..r10 and the frame's stack."""

    __slots__ = (
        "callback_depth",
        "callback_ret_range",
        "callsite",
        "frameno",
        "gen",
        "in_async_callback_fn",
        "in_callback_fn",
        "regs",
        "stack",
        "subprogno",
    )

    def __init__(self, frameno: int, callsite: int, subprogno: int) -> None:
        self.regs = [Reg() for _ in range(11)]
        self.stack: list[StackSlot] = []
        self.frameno = frameno
        self.callsite = callsite
        self.subprogno = subprogno
        self.in_callback_fn = False
        self.callback_ret_range = (0, 0)
        self.callback_depth = 0
        self.in_async_callback_fn = False
        self.gen = _next_gen()
        fp = self.regs[10]
        fp.type = _PTR_TO_STACK
        fp.mark_known_zero()
        fp.frameno = frameno

    def copy(self) -> FuncState:
        """A copy; the stack slots are shared until either frame writes one (:meth:`wslot`), and
        the frame pointer r10 always: nothing changes it after :meth:`__init__` (writes to r10 are
        refused: "frame pointer is read only")."""
        f = _new(FuncState)
        r0, r1, r2, r3, r4, r5, r6, r7, r8, r9, fp = self.regs
        f.regs = [_reg_copy(r0), _reg_copy(r1), _reg_copy(r2), _reg_copy(r3), _reg_copy(r4),
                  _reg_copy(r5), _reg_copy(r6), _reg_copy(r7), _reg_copy(r8), _reg_copy(r9), fp]
        f.stack = self.stack.copy()
        self.gen = _next_gen()      # neither frame owns the slots any more
        f.gen = _next_gen()
        f.frameno = self.frameno
        f.callsite = self.callsite
        f.subprogno = self.subprogno
        f.in_callback_fn = self.in_callback_fn
        f.callback_ret_range = self.callback_ret_range
        f.callback_depth = self.callback_depth
        f.in_async_callback_fn = self.in_async_callback_fn
        return f

    @property
    def allocated_stack(self) -> int:
        return len(self.stack) * 8

    def wslot(self, spi: int) -> StackSlot:
        """``stack[spi]`` to be written: a slot this frame shares with a copy is copied first.
        Every change to a slot (its ``slot_type`` or ``spilled_ptr``) goes through here."""
        s = self.stack[spi]
        if s.gen is not self.gen:
            s = s.copy()
            s.gen = self.gen
            self.stack[spi] = s
        return s

    def clear_slot(self, spi: int) -> None:
        """Slot ``spi`` holds nothing: its ``spilled_ptr`` not initialised (``__mark_reg_not_init``),
        every byte STACK_INVALID.  (The shared empty slot: no frame owns it.)"""
        self.stack[spi] = _CLEAR_SLOT

    def grow_stack(self, size: int) -> None:
        """``grow_stack_state``: make at least ``size`` bytes of stack addressable."""
        slots = (size + 7) // 8
        while len(self.stack) < slots:
            self.stack.append(StackSlot(self.gen))


_func_copy = FuncState.copy

#: an empty slot (a fresh one's contents) that no frame writes in place (``gen`` 0)
_CLEAR_SLOT = StackSlot()


class VerifierState:
    """``struct bpf_verifier_state``: the call frames of one path plus its bookkeeping."""

    __slots__ = (
        "active_locks",
        "active_preempt_locks",
        "active_rcu_lock",
        "branches",
        "bt_memo",
        "callback_unroll_depth",
        "dfs_depth",
        "equal_state",
        "first_insn_idx",
        "frames",
        "hist",
        "insn_idx",
        "irqs",
        "last_insn_idx",
        "locks",
        "may_goto_depth",
        "parent",
        "refs",
        "speculative",
    )

    def __init__(self) -> None:
        self.frames: list[FuncState] = []
        self.refs: list[RefState] = []
        self.parent: VerifierState | None = None
        self.branches = 1
        self.insn_idx = 0
        self.first_insn_idx = 0
        self.last_insn_idx = -1
        self.callback_unroll_depth = 0
        self.may_goto_depth = 0
        self.speculative = False
        self.dfs_depth = 0
        self.active_locks = 0
        self.active_rcu_lock = False       # inside bpf_rcu_read_lock()
        self.active_preempt_locks = 0      # bpf_preempt_disable() nesting
        self.locks: tuple = ()      # held bpf_spin_locks (fields.LockState), len == active_locks
        self.irqs: tuple = ()       # REF_TYPE_IRQ references, oldest first (irq.IrqRef)
        self.equal_state: VerifierState | None = None   # a backedge: the checkpoint it was equal to
        #: instruction history since the last checkpoint (see bpfbuild.verifier.precision)
        self.hist: list[tuple[int, int, tuple[int, int] | None, tuple[tuple[int, int, bool], ...] | None, int]] = []
        #: backtracking outcomes through ``hist`` once this state is a checkpoint (see
        #: bpfbuild.verifier.precision); a copy starts without
        self.bt_memo: dict | None = None   # type: ignore[type-arg]

    @property
    def curframe(self) -> int:
        return len(self.frames) - 1

    @property
    def cur(self) -> FuncState:
        return self.frames[-1]

    def copy(self) -> VerifierState:
        s = _new(VerifierState)
        s.frames = list(map(_func_copy, self.frames))
        s.refs = [RefState(r.id, r.insn_idx) for r in self.refs] if self.refs else []
        s.parent = self.parent
        s.branches = self.branches
        s.insn_idx = self.insn_idx
        s.first_insn_idx = self.first_insn_idx
        s.last_insn_idx = self.last_insn_idx
        s.callback_unroll_depth = self.callback_unroll_depth
        s.may_goto_depth = self.may_goto_depth
        s.speculative = self.speculative
        s.dfs_depth = self.dfs_depth
        s.active_locks = self.active_locks
        s.active_rcu_lock = self.active_rcu_lock
        s.active_preempt_locks = self.active_preempt_locks
        s.locks = self.locks
        s.irqs = self.irqs
        s.equal_state = self.equal_state
        s.hist = list(self.hist)
        s.bt_memo = None
        return s

    def all_regs(self, where: Callable[[Reg], bool] | None = None) -> list[Reg]:
        """Every register and spilled register of every frame (``bpf_for_each_reg_in_vstate``);
        the caller may change them (their slots are unshared).  With ``where``, only the spilled
        registers it accepts (the caller tests every register again)."""
        out: list[Reg] = []
        for f in self.frames:
            out.extend(f.regs)
            for spi, slot in enumerate(f.stack):
                if slot.slot_type[7] == _SPILL_INT and (where is None or where(slot.spilled_ptr)):
                    out.append(f.wslot(spi).spilled_ptr)
        return out

    def same_callsites(self, other: VerifierState) -> bool:
        frames = self.frames
        others = other.frames
        if len(frames) != len(others):
            return False
        for a, b in zip(frames, others):
            if a.callsite != b.callsite:
                return False
        return True

"""Preconditions: what must hold before an instruction may execute.

Every function here reads the state and either returns what the access will produce (a
:class:`Load` description, an access size...) or raises :class:`~bpfbuild.errors.ProgramError`
with the kernel's message.  Registers and stack slots are left alone -- the next state is
computed by :mod:`bpfbuild.verifier.transfer` -- but the bookkeeping the kernel does while
checking happens here too: stack slots read or written are recorded for liveness
(``bpf_mark_stack_read``/``_write``) and for the log's scratch marks, and notes name what is
not modelled.  Function names are the kernel's (``check_mem_access``,
``check_stack_access_within_bounds``, ``check_packet_access``...), and so is the order in which
they test things, because the first failing test decides the message.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from bpfbuild.abi.ctx import RegKind, sock_access_ok
from bpfbuild.abi.progtypes import ProgType
from bpfbuild.verifier import btfid, dynptr, fields
from bpfbuild.verifier.bounds import S64_MIN, s32, s64
from bpfbuild.verifier.env import BPF_MAX_VAR_OFF, BPF_MAX_VAR_SIZ, MAX_BPF_STACK, Env
from bpfbuild.verifier.fastenum import members
from bpfbuild.verifier.state import (
    BASE_MASK,
    MISC,
    SPILL,
    ZERO,
    FuncState,
    Reg,
    RegFlag,
    RegType,
    SlotType,
    VerifierState,
    reg_type_str,
)
from bpfbuild.verifier.tnum import tnum_add, tnum_const, tnum_is_aligned, tnum_str

__all__ = [
    "Access",
    "Load",
    "LoadKind",
    "check_mem_access",
    "check_ptr_off_reg",
    "check_reg_read",
    "check_reg_write",
    "check_stack_range_initialized",
    "is_pointer_value",
    "may_access_direct_pkt_data",
]


class Access(enum.Enum):
    READ = "read"
    WRITE = "write"


class LoadKind(enum.Enum):
    """What a load puts into its destination register."""

    UNKNOWN = "unknown scalar"
    CONST = "known constant"
    ZERO = "constant zero"
    FILL = "spilled register"
    PTR = "pointer from ctx"
    BTF = "BTF-typed kernel pointer"
    NONE = "nothing (store or no destination)"


@dataclass(slots=True)
class Load:
    """The outcome of a checked memory access.

    ``kind`` says what the destination receives: ``value`` for CONST, ``reg`` (a copy of the
    spilled register) for FILL, ``ptr_kind`` for a pointer loaded from ctx; ``narrow_fill``:
    the fill reads fewer bytes than were spilled (the register's id must be dropped).

    Read-only by convention, not frozen: one is made per load, and a frozen dataclass's
    ``__init__`` sets each field through ``object.__setattr__`` (three times slower).
    """

    kind: LoadKind
    value: int = 0
    reg: Reg | None = None
    ptr_kind: RegKind | None = None
    narrow_fill: bool = False
    spill_slot: tuple[int, int] | None = None   # (frameno, spi) of a register fill


# plain-class views of the enums read per instruction (see .fastenum); Access and LoadKind stay
# the real enums for the modules that import them from here
RegType, RegFlag, SlotType = members(RegType), members(RegFlag), members(SlotType)
_READ, _WRITE = Access.READ, Access.WRITE
_FILL, _CONST, _BTF, _PTR = LoadKind.FILL, LoadKind.CONST, LoadKind.BTF, LoadKind.PTR

_SCALAR_KIND = RegKind.SCALAR_VALUE
_NOT_INIT = int(RegType.NOT_INIT)
_PTR_LOADS = {kind: Load(_PTR, ptr_kind=kind) for kind in RegKind}   # what a ctx load of a pointer gives
_UNKNOWN = Load(LoadKind.UNKNOWN)
_NONE = Load(LoadKind.NONE)
_ZERO = Load(LoadKind.ZERO)


# ---- registers ------------------------------------------------------------------------------------

def check_reg_read(env: Env, st: VerifierState, regno: int) -> Reg:
    """``check_reg_arg(SRC_OP)``: the register exists and holds a value."""
    if regno > 10:
        raise env.error(f"R{regno} is invalid")
    reg = st.frames[-1].regs[regno]
    if reg.type == _NOT_INIT:
        raise env.error(f"R{regno} !read_ok")
    return reg


def check_reg_write(env: Env, regno: int) -> None:
    """``check_reg_arg(DST_OP)``: the register exists and is not the frame pointer."""
    if regno > 10:
        raise env.error(f"R{regno} is invalid")
    if regno == 10:
        raise env.error("frame pointer is read only")


def is_pointer_value(env: Env, reg: Reg) -> bool:
    """``is_pointer_value``: a pointer whose value must not leak (never for a privileged loader)."""
    return not env.allow_ptr_leaks and reg.type != RegType.SCALAR_VALUE


def reg_frame(st: VerifierState, reg: Reg) -> FuncState:
    """The frame a PTR_TO_STACK register points into."""
    return st.frames[reg.frameno]


# ---- alignment ---------------------------------------------------------------------------------------

_ALIGN_DESC = {
    RegType.PTR_TO_FLOW_KEYS: "flow keys ", RegType.PTR_TO_MAP_KEY: "key ", RegType.PTR_TO_MAP_VALUE: "value ",
    RegType.PTR_TO_CTX: "context ", RegType.PTR_TO_STACK: "stack ", RegType.PTR_TO_SOCKET: "sock ",
    RegType.PTR_TO_SOCK_COMMON: "sock_common ", RegType.PTR_TO_TCP_SOCK: "tcp_sock ",
    RegType.PTR_TO_XDP_SOCK: "xdp_sock ",
}


# RegFlag bits as plain ints: ``int & IntFlag`` goes through IntFlag.__rand__, a Python call
_MAYBE_NULL, _MEM_RDONLY, _UNTRUSTED = (int(RegFlag.PTR_MAYBE_NULL), int(RegFlag.MEM_RDONLY),
                                        int(RegFlag.PTR_UNTRUSTED))
_PTR_TO_STACK, _PTR_TO_PACKET, _PTR_TO_PACKET_META, _PTR_TO_ARENA = (
    int(RegType.PTR_TO_STACK), int(RegType.PTR_TO_PACKET), int(RegType.PTR_TO_PACKET_META),
    int(RegType.PTR_TO_ARENA))


def check_ptr_alignment(env: Env, reg: Reg, off: int, size: int, strict_once: bool = False) -> None:
    """x86-64 has efficient unaligned access: only stack accesses (and ``strict_once``) must be
    aligned to their size."""
    t = reg.type
    if t != _PTR_TO_STACK:
        if not strict_once or t == _PTR_TO_ARENA:
            return      # not strict (a packet pointer included) or an arena pointer
        if t == _PTR_TO_PACKET or t == _PTR_TO_PACKET_META:
            if size == 1:
                return
            reg_off = tnum_add(reg.var_off, tnum_const(2 + reg.off + off))
            if not tnum_is_aligned(reg_off, size):
                raise env.error(f"misaligned packet access off 2+{tnum_str(reg.var_off)}+{reg.off}+{off} "
                                f"size {size}")
            return
    if size == 1:
        return
    var_off = reg.var_off
    if not var_off.mask and not (var_off.value + reg.off + off) & (size - 1):
        return      # a constant offset, aligned (tnum_is_aligned of the constant sum, inlined)
    reg_off = tnum_add(var_off, tnum_const((reg.off + off) & ((1 << 64) - 1)))
    if not tnum_is_aligned(reg_off, size):
        desc = _ALIGN_DESC.get(t & BASE_MASK, "") if t & BASE_MASK == t else ""
        raise env.error(f"misaligned {desc}access off {tnum_str(reg.var_off)}+{reg.off}+{off} size {size}")


# ---- memory regions ----------------------------------------------------------------------------------

def _mem_access_error(env: Env, regno: int, reg: Reg, off: int, size: int, mem_size: int) -> str:
    base = reg.type & BASE_MASK
    if reg.type == RegType.PTR_TO_MAP_KEY:
        return f"invalid access to map key, key_size={mem_size} off={off} size={size}"
    if reg.type == RegType.PTR_TO_MAP_VALUE:
        return f"invalid access to map value, value_size={mem_size} off={off} size={size}"
    if base in (RegType.PTR_TO_PACKET, RegType.PTR_TO_PACKET_META, RegType.PTR_TO_PACKET_END):
        return f"invalid access to packet, off={off} size={size}, R{regno}(id={reg.id},off={off},r={mem_size})"
    return f"invalid access to memory, mem_size={mem_size} off={off} size={size}"


def _mem_ok(off: int, size: int, mem_size: int, zero_size_allowed: bool) -> bool:
    size_ok = size > 0 or (size == 0 and zero_size_allowed)
    return off >= 0 and size_ok and off + size <= mem_size


def check_mem_region_access(env: Env, regno: int, reg: Reg, off: int, size: int, mem_size: int,
                            zero_size_allowed: bool = False) -> None:
    """``check_mem_region_access``: ``[off + var, off + var + size)`` inside ``mem_size`` for every
    value of the register's variable offset."""
    smin = reg.smin
    if smin < 0 and (smin == S64_MIN or s32(off + smin) != off + smin or smin + off < 0):
        raise env.error(f"R{regno} min value is negative, either use unsigned index or do a if (index >=0) "
                        "check.")
    lo = off + smin
    if not _S32_MIN <= lo <= _S32_MAX:
        lo = _c_int(lo)
    size_ok = size > 0 or (size == 0 and zero_size_allowed)
    if not (lo >= 0 and size_ok and lo + size <= mem_size):       # _mem_ok, inlined
        raise env.error(_mem_access_error(env, regno, reg, lo, size, mem_size)
                        + f"\nR{regno} min value is outside of the allowed memory range")
    umax = reg.umax
    if umax >= BPF_MAX_VAR_OFF:
        raise env.error(f"R{regno} unbounded memory access, make sure to bounds check any such access")
    hi = umax + off
    if not _S32_MIN <= hi <= _S32_MAX:
        hi = _c_int(hi)
    if not (hi >= 0 and size_ok and hi + size <= mem_size):
        raise env.error(_mem_access_error(env, regno, reg, hi, size, mem_size)
                        + f"\nR{regno} max value is outside of the allowed memory range")


_S32_MIN, _S32_MAX = -(1 << 31), (1 << 31) - 1


def _c_int(x: int) -> int:
    """The value as a C ``int`` argument (truncated to 32 bits, signed)."""
    return s32(x)


def check_packet_access(env: Env, regno: int, reg: Reg, off: int, size: int,
                        zero_size_allowed: bool = False) -> None:
    if reg.smin < 0:
        raise env.error(f"R{regno} min value is negative, either use unsigned index or do a if (index >=0) "
                        "check.")
    rng = reg.range
    if off >= 0 and 0 < size and off + size <= rng:
        return      # the common case of _mem_ok (rng >= 0 follows)
    if rng < 0 or not _mem_ok(off, size, rng, zero_size_allowed):
        first = "" if reg.range < 0 else _mem_access_error(env, regno, reg, off, size, reg.range) + "\n"
        raise env.error(f"{first}R{regno} offset is outside of the packet")


_TRACING, _LSM = ProgType.TRACING, ProgType.LSM    # the types whose context may be typed by BTF
_PKT_READ_ONLY = (ProgType.LWT_IN, ProgType.LWT_OUT, ProgType.LWT_SEG6LOCAL, ProgType.SK_REUSEPORT,
                  ProgType.FLOW_DISSECTOR, ProgType.CGROUP_SKB)
_PKT_READ_WRITE = (ProgType.SCHED_CLS, ProgType.SCHED_ACT, ProgType.XDP, ProgType.LWT_XMIT, ProgType.SK_SKB,
                   ProgType.SK_MSG)


def may_access_direct_pkt_data(env: Env, access: Access, pkt_access: bool | None = None) -> bool:
    """``may_access_direct_pkt_data``; ``pkt_access`` is the helper's flag when a helper asks."""
    pt = env.prog_type
    if pt in _PKT_READ_ONLY:
        if access is _WRITE:
            return False
        return pkt_access if pkt_access is not None else True
    if pt in _PKT_READ_WRITE:
        return pkt_access if pkt_access is not None else True
    return pt == ProgType.CGROUP_SOCKOPT


def check_ptr_off_reg(env: Env, reg: Reg, regno: int, fixed_off_ok: bool = False) -> None:
    """``__check_ptr_off_reg``: the pointer must be used unmodified."""
    if reg.off < 0:
        raise env.error(f"negative offset {reg_type_str(reg.type)} ptr R{regno} off={reg.off} disallowed")
    if not fixed_off_ok and reg.off:
        raise env.error(f"dereference of modified {reg_type_str(reg.type)} ptr R{regno} off={reg.off} disallowed")
    if reg.var_off.mask or reg.var_off.value:
        raise env.error(f"variable {reg_type_str(reg.type)} access var_off={tnum_str(reg.var_off)} disallowed")


def check_ctx_access(env: Env, off: int, size: int, access: Access, is_ldsx: bool) -> RegKind:
    spec = env.ctx
    if spec is None:
        env.not_modelled(f"the context of program type {env.prog_type.name.lower()} (its loads give scalars)")
        return RegKind.SCALAR_VALUE
    fa, kind = spec.lookup(off, size, access is _WRITE)
    if fa is None:
        env.verbose_linfo(env.insn_idx)
        raise env.error(f"invalid bpf_context access off={off} size={size}")
    if kind is not None:      # a load (spec.load_kind)
        if kind is not _SCALAR_KIND and is_ldsx:
            env.verbose_linfo(env.insn_idx)
            raise env.error(f"invalid bpf_context access off={off} size={size}")
        return kind
    return _SCALAR_KIND


def check_map_access_type(env: Env, reg: Reg, off: int, size: int, access: Access) -> None:
    m = reg.map
    assert m is not None
    if access is _WRITE and m.rdonly_prog:
        raise env.error(f"write into map forbidden, value_size={m.value_size} off={off} size={size}")
    if access is _READ and m.wronly_prog:
        raise env.error(f"read from map forbidden, value_size={m.value_size} off={off} size={size}")


# ---- stack -------------------------------------------------------------------------------------------

def check_stack_access_within_bounds(env: Env, st: VerifierState, regno: int, reg: Reg, off: int,
                                     size: int, helper: bool, access: Access) -> int:
    """Returns the lowest offset touched (the stack must grow to ``-min_off``).  Helpers'
    accesses are worded by their direction, like the instruction's own (Linux 6.12+)."""
    if not reg.var_off.mask:
        min_off = s64(reg.var_off.value) + off
        max_off = min_off + size
    else:
        if reg.smax >= BPF_MAX_VAR_OFF or reg.smin <= -BPF_MAX_VAR_OFF:
            extra = " read from" if access is _READ else " write to"
            raise env.error(f"invalid unbounded variable-offset{extra} stack R{regno}")
        min_off = reg.smin + off
        max_off = reg.smax + off + size
    if access is _WRITE or env.options.privileged:     # env.allow_uninit_stack
        min_valid = -MAX_BPF_STACK
    else:
        min_valid = -len(st.frames[reg.frameno].stack) * 8
    if min_off < min_valid or min_off > -1 or max_off > 0 or size < 0:
        extra = " read from" if access is _READ else " write to"
        if not reg.var_off.mask:
            raise env.error(f"invalid{extra} stack R{regno} off={off} size={size}")
        raise env.error(f"invalid variable-offset{extra} stack R{regno} var_off={tnum_str(reg.var_off)} "
                        f"off={off} size={size}")
    return min_off


def _mark_read(env: Env, st: VerifierState, frame: FuncState, spi: int) -> None:
    """``bpf_mark_stack_read``: the current instruction may read slot ``spi`` of ``frame``."""
    assert env.stack_live is not None
    env.stack_live.mark_read(st, frame.frameno, env.insn_idx, 1 << spi)


def _mark_read_mask(env: Env, st: VerifierState, frame: FuncState, mask: int) -> None:
    """``bpf_mark_stack_read`` of the slots in ``mask`` at once."""
    assert env.stack_live is not None
    env.stack_live.mark_read(st, frame.frameno, env.insn_idx, mask)


def _slot_index(frame: FuncState, byte_off: int) -> tuple[int, int]:
    slot = -byte_off - 1
    return slot // 8, slot % 8


def check_stack_read_fixed_off(env: Env, st: VerifierState, frame: FuncState, off: int, size: int,
                               want_value: bool) -> Load:
    """``check_stack_read_fixed_off``: ``off`` includes the register's offsets."""
    slot = -off - 1
    spi = slot // 8
    env.scratched_slots.add(spi)
    live = env.stack_live
    assert live is not None
    live._mark_read(live.cur or live._ensure_cur(st), frame.frameno, env.insn_idx, 1 << spi)   # _mark_read()
    if spi >= len(frame.stack):
        # never written: all STACK_INVALID (allowed only with allow_uninit_stack, bounds checked)
        if not env.allow_uninit_stack:
            raise env.error(f"invalid read from stack off {off}+0 size {size}")
        return _UNKNOWN if want_value else _NONE
    stack = frame.stack[spi]
    stype = stack.slot_type
    reg = stack.spilled_ptr
    if stype[7] == SPILL:
        spill_size = 1
        i = 7
        while i > 0 and stype[i - 1] == SPILL:
            spill_size += 1
            i -= 1
        if size != 8 or spill_size != 8:
            if reg.type != RegType.SCALAR_VALUE:
                env.verbose_linfo(env.insn_idx)
                raise env.error("invalid size of register fill")
            slot_id = (frame.frameno, spi)
            if not want_value:
                return _NONE
            if size <= spill_size and _narrow_access_ok(off, size, spill_size):
                return Load(_FILL, reg=reg.copy(), narrow_fill=_reg_width(reg) > size * 8,
                            spill_slot=slot_id)
            spill_cnt = zero_cnt = 0
            for i in range(size):
                t = stype[(slot - i) % 8]
                if t == SPILL:
                    spill_cnt += 1
                elif t == MISC:
                    pass
                elif t == ZERO:
                    zero_cnt += 1
                elif t == 0 and env.allow_uninit_stack:
                    pass
                else:
                    raise env.error(f"invalid read from stack off {off}+{i} size {size}")
            if spill_cnt == size and not reg.var_off.mask and reg.var_off.value == 0:
                return Load(LoadKind.ZERO, spill_slot=slot_id)
            if zero_cnt == size:
                return _ZERO
            return _UNKNOWN
        if want_value:
            return Load(_FILL, reg=reg.copy(), spill_slot=(frame.frameno, spi))
        if is_pointer_value(env, reg):
            raise env.error(f"leaking pointer from stack off {off}")
        return Load(LoadKind.NONE, spill_slot=(frame.frameno, spi))
    for i in range(size):
        t = stype[(slot - i) % 8]
        if t in (MISC, ZERO):
            continue
        if t == 0 and env.allow_uninit_stack:
            continue
        raise env.error(f"invalid read from stack off {off}+{i} size {size}")
    if not want_value:
        return _NONE
    if all(stype[(slot - i) % 8] == ZERO for i in range(size)):
        return _ZERO
    return _UNKNOWN


def _narrow_access_ok(off: int, size: int, spill_size: int) -> bool:
    """``bpf_stack_narrow_access_ok`` on little endian: the load starts at the spill's low byte."""
    return off % 8 == 0


def _reg_width(reg: Reg) -> int:
    return reg.umax.bit_length()


def check_stack_read(env: Env, st: VerifierState, regno: int, reg: Reg, off: int, size: int,
                     want_value: bool) -> Load:
    frame = reg_frame(st, reg)
    if not want_value and reg.var_off.mask:
        raise env.error("variable offset stack pointer cannot be passed into helper function; "
                        f"var_off={tnum_str(reg.var_off)} off={off} size={size}")
    if not reg.var_off.mask:
        return check_stack_read_fixed_off(env, st, frame, off + s64(reg.var_off.value), size, want_value)
    check_stack_range_initialized(env, st, regno, reg, off, size, False, helper=False, raw=False,
                                  access=_READ)
    min_off = reg.smin + off
    max_off = reg.smax + off + size
    for i in range(min_off, max_off):
        spi, idx = _slot_index(frame, i)
        env.scratched_slots.add(spi)
        if spi >= len(frame.stack) or frame.stack[spi].slot_type[idx] != ZERO:
            return _UNKNOWN
    return _ZERO


def check_stack_write(env: Env, st: VerifierState, regno: int, reg: Reg, off: int, size: int,
                      value: Reg | None) -> None:
    """The preconditions of ``check_stack_write_{fixed,var}_off``."""
    frame = reg_frame(st, reg)
    cur = st.frames[-1]
    if not reg.var_off.mask:
        off += s64(reg.var_off.value)
        spi = (-off - 1) // 8
        if (not env.allow_ptr_leaks and spi < len(frame.stack) and frame.stack[spi].is_spilled
                and not frame.stack[spi].is_spilled_scalar and size != 8):
            raise env.error("attempt to corrupt spilled pointer on stack")
        if spi < len(frame.stack) and frame.stack[spi].slot_type[0] == SlotType.STACK_DYNPTR:
            dynptr.destroy_if_dynptr_stack_slot(env, st, frame, spi)
        if value is not None and value.type != RegType.SCALAR_VALUE and _is_spillable(value.type):
            if size != 8:
                env.verbose_linfo(env.insn_idx)
                raise env.error("invalid size of register spill")
            if frame is not cur and value.type == RegType.PTR_TO_STACK:
                raise env.error("cannot spill pointers to stack into stack frame of the caller")
        env.scratched_slots.add(spi)
        if off % 8 == 0 and size == 8:
            assert env.stack_live is not None
            env.stack_live.mark_write(frame.frameno, 1 << spi)
        return
    min_off = reg.smin + off
    max_off = reg.smax + off + size
    for i in range(min_off, max_off):
        spi = _slot_index(frame, i)[0]
        if spi < len(frame.stack) and frame.stack[spi].slot_type[0] == SlotType.STACK_DYNPTR:
            dynptr.destroy_if_dynptr_stack_slot(env, st, frame, spi)
    for i in range(min_off, max_off):
        spi, idx = _slot_index(frame, i)
        env.scratched_slots.add(spi)
        t = frame.stack[spi].slot_type[idx] if spi < len(frame.stack) else 0
        if not env.allow_ptr_leaks and t not in (MISC, ZERO):
            raise env.error(f"spilled ptr in range of var-offset stack write; insn {env.insn_idx}, ptr off: {i}")
        if t == 0 and not env.allow_uninit_stack:
            raise env.error(f"uninit stack in range of var-offset write prohibited for !root; insn "
                            f"{env.insn_idx}, off: {i}")


_SPILLABLE = frozenset({
    RegType.PTR_TO_MAP_VALUE, RegType.PTR_TO_STACK, RegType.PTR_TO_CTX, RegType.PTR_TO_PACKET,
    RegType.PTR_TO_PACKET_META, RegType.PTR_TO_PACKET_END, RegType.PTR_TO_FLOW_KEYS, RegType.CONST_PTR_TO_MAP,
    RegType.PTR_TO_SOCKET, RegType.PTR_TO_SOCK_COMMON, RegType.PTR_TO_TCP_SOCK, RegType.PTR_TO_XDP_SOCK,
    RegType.PTR_TO_BTF_ID, RegType.PTR_TO_BUF, RegType.PTR_TO_MEM, RegType.PTR_TO_FUNC, RegType.PTR_TO_MAP_KEY,
    RegType.PTR_TO_ARENA,
})


def _is_spillable(t: int) -> bool:
    return (t & BASE_MASK) in _SPILLABLE


def check_stack_range_initialized(env: Env, st: VerifierState, regno: int, reg: Reg, off: int,
                                  access_size: int, zero_size_allowed: bool, *, helper: bool, raw: bool,
                                  access: Access) -> tuple[int, int] | None:
    """A helper (or a variable-offset load) reads ``[reg + off, + access_size)`` of the stack.

    Returns ``(min_off, max_off)`` of the bytes when the helper writes (raw mode or a write:
    the transfer marks them), None otherwise.
    """
    extra = ""
    if access_size == 0 and not zero_size_allowed:
        raise env.error("invalid zero-sized read")
    check_stack_access_within_bounds(env, st, regno, reg, off, access_size, helper, access)
    frame = reg_frame(st, reg)
    if not reg.var_off.mask:
        min_off = max_off = s64(reg.var_off.value) + off
    else:
        if not env.bypass_spec_v1:
            raise env.error(f"R{regno}{extra} variable offset stack access prohibited for !root, "
                            f"var_off={tnum_str(reg.var_off)}")
        raw = False
        min_off = reg.smin + off
        max_off = reg.smax + off
    if raw:
        for i in range(min_off, max_off + access_size):   # no helper may write over a dynptr
            spi, idx = _slot_index(frame, i)
            if spi < len(frame.stack) and frame.stack[spi].slot_type[idx] == SlotType.STACK_DYNPTR:
                raise env.error(f"potential write to dynptr at off={i} disallowed")
        return min_off, max_off + access_size
    stack = frame.stack
    nslots = len(stack)
    uninit_ok = env.allow_uninit_stack
    read = 0                    # the slots read so far (bpf_mark_stack_read is per byte; its marks OR)
    for i in range(min_off, max_off + access_size):
        spi, idx = divmod(-i - 1, 8)      # _slot_index
        read |= 1 << spi
        if spi >= nslots:
            if uninit_ok:
                continue
            t = 0
            slot = None
        else:
            slot = stack[spi]
            t = slot.slot_type[idx]
        if t == MISC:
            continue
        if t == ZERO or (t == 0 and uninit_ok):
            continue
        if slot is not None and slot.is_spilled and (slot.spilled_ptr.type == RegType.SCALAR_VALUE
                                                     or env.allow_ptr_leaks):
            continue
        _mark_read_mask(env, st, frame, read)
        if not reg.var_off.mask:
            raise env.error(f"invalid{extra} read from stack R{regno} off {min_off}+{i - min_off} size "
                            f"{access_size}")
        raise env.error(f"invalid{extra} read from stack R{regno} var_off {tnum_str(reg.var_off)}+"
                        f"{i - min_off} size {access_size}")
    if read:
        _mark_read_mask(env, st, frame, read)
    if helper and access is _WRITE:
        return min_off, max_off + access_size
    return None


# ---- the dispatcher --------------------------------------------------------------------------------

def check_mem_access(env: Env, st: VerifierState, regno: int, off: int, size: int, access: Access,
                     value_regno: int, *, strict_once: bool = False, is_ldsx: bool = False,
                     imm_store: bool = False) -> Load:
    """``check_mem_access``: may ``size`` bytes at ``R[regno] + off`` be read / written?

    ``value_regno`` is the register loaded into or stored from (-1: none, e.g. an atomic's
    probe or a BPF_ST immediate).  Returns what a load gives.
    """
    regs = st.frames[-1].regs
    reg = regs[regno]
    if strict_once or reg.type == _PTR_TO_STACK:     # nothing else is checked on x86-64
        check_ptr_alignment(env, reg, off, size, strict_once)
    off += reg.off
    value = regs[value_regno] if value_regno >= 0 else None
    t = reg.type
    if t == RegType.PTR_TO_STACK:     # the most frequent region first (the types below exclude it)
        check_stack_access_within_bounds(env, st, regno, reg, off, size, False, access)
        if access is _READ:
            return check_stack_read(env, st, regno, reg, off, size, value_regno >= 0)
        check_stack_write(env, st, regno, reg, off, size, value)
        return _NONE
    base = t & BASE_MASK
    want = access is _READ and value_regno >= 0
    if t == RegType.PTR_TO_MAP_KEY:
        if access is _WRITE:
            raise env.error(f"write to change key R{regno} not allowed")
        assert reg.map is not None
        check_mem_region_access(env, regno, reg, off, size, reg.map.key_size)
        return _UNKNOWN if value_regno >= 0 else _NONE
    if t == RegType.PTR_TO_MAP_VALUE:
        if access is _WRITE and value is not None and is_pointer_value(env, value):
            raise env.error(f"R{value_regno} leaks addr into map")
        check_map_access_type(env, reg, off, size, access)
        assert reg.map is not None
        check_mem_region_access(env, regno, reg, off, size, reg.map.value_size)
        kptr = fields.check_map_fields(env, regno, reg, off, size, helper=False)
        if kptr is not None and fields.kptr_access(env, kptr, env.insns[env.insn_idx], value, value_regno):
            loaded = fields.kptr_load(env, st, kptr)
            if loaded is None:
                return _UNKNOWN
            return Load(_BTF, reg=loaded) if want else _NONE
        if not want:
            return _NONE
        m = reg.map
        if not reg.var_off.mask and m.is_rdonly and m.initial is not None:
            map_off = off + reg.var_off.value
            data = m.initial[map_off:map_off + size]
            if len(data) == size:
                v = int.from_bytes(data, "little", signed=is_ldsx and size < 8)
                return Load(_CONST, value=v & ((1 << 64) - 1))
        return _UNKNOWN
    if base == RegType.PTR_TO_MEM:
        if t & _MAYBE_NULL:
            raise env.error(f"R{regno} invalid mem access '{reg_type_str(t)}'")
        if access is _WRITE and t & _MEM_RDONLY:
            raise env.error(f"R{regno} cannot write into {reg_type_str(t)}")
        if access is _WRITE and value is not None and is_pointer_value(env, value):
            raise env.error(f"R{value_regno} leaks addr into mem")
        if not (t & _MEM_RDONLY and t & _UNTRUSTED):   # untrusted: probe loads, no bounds
            check_mem_region_access(env, regno, reg, off, size, reg.mem_size)
        return _UNKNOWN if value_regno >= 0 and (access is _READ or t & _MEM_RDONLY) else _NONE
    if t == RegType.PTR_TO_CTX:
        if access is _WRITE and value is not None and is_pointer_value(env, value):
            raise env.error(f"R{value_regno} leaks addr into ctx")
        if reg.off or reg.var_off.mask or reg.var_off.value:
            check_ptr_off_reg(env, reg, regno)      # its error
        pt = env.prog_type
        if (pt == _TRACING or pt == _LSM) and btfid.has_btf_ctx(env):
            return _btf_ctx_load(env, off, size, access, want)
        kind = check_ctx_access(env, off, size, access, is_ldsx)
        if not want:
            return _NONE
        if kind is _SCALAR_KIND:
            return _UNKNOWN
        return _PTR_LOADS[kind]
    if t in (RegType.PTR_TO_PACKET, RegType.PTR_TO_PACKET_META):
        if access is _WRITE and not may_access_direct_pkt_data(env, access):
            raise env.error("cannot write into packet")
        if access is _WRITE and value is not None and is_pointer_value(env, value):
            raise env.error(f"R{value_regno} leaks addr into packet")
        check_packet_access(env, regno, reg, off, size)
        return _UNKNOWN if want else _NONE
    if t == RegType.PTR_TO_FLOW_KEYS:
        if access is _WRITE and value is not None and is_pointer_value(env, value):
            raise env.error(f"R{value_regno} leaks addr into flow keys")
        if size < 0 or off < 0 or off + size > 56:
            raise env.error(f"invalid access to flow keys off={off} size={size}")
        return _UNKNOWN if want else _NONE
    if t in (RegType.PTR_TO_SOCKET, RegType.PTR_TO_SOCK_COMMON, RegType.PTR_TO_TCP_SOCK,
             RegType.PTR_TO_XDP_SOCK):
        if access is _WRITE:
            raise env.error(f"R{regno} cannot write into {reg_type_str(t)}")
        if reg.smin < 0:
            raise env.error(f"R{regno} min value is negative, either use unsigned index or do a if (index >=0) "
                            "check.")
        if not sock_access_ok(reg_type_str(t), off, size):
            raise env.error(f"R{regno} invalid {reg_type_str(t)} access off={off} size={size}")
        return _UNKNOWN if value_regno >= 0 else _NONE
    if t == RegType.PTR_TO_TP_BUFFER:
        if off < 0:
            raise env.error(f"R{regno} invalid tracepoint buffer access: off={off}, size={size}")
        if reg.var_off.mask or reg.var_off.value:
            raise env.error(f"R{regno} invalid variable buffer offset: off={off}, var_off={tnum_str(reg.var_off)}")
        return _UNKNOWN if want else _NONE
    if t == RegType.PTR_TO_ARENA:
        return _UNKNOWN if want else _NONE
    if t == RegType.CONST_PTR_TO_MAP:
        fields.check_ptr_to_map_access(env, reg, regno, off, size, access is _WRITE)
        return _UNKNOWN if want else _NONE
    if base == RegType.PTR_TO_BTF_ID and not t & _MAYBE_NULL:
        loaded = btfid.check_ptr_to_btf_access(env, regno, reg, off, size, access is _WRITE)
        if not want:
            return _NONE
        return _UNKNOWN if loaded is None else Load(_BTF, reg=loaded)
    raise env.error(f"R{regno} invalid mem access '{reg_type_str(t)}'")


def _btf_ctx_load(env: Env, off: int, size: int, access: Access, want: bool) -> Load:
    """A tracing context typed by the attach target's BTF (``btf_ctx_access``)."""
    loaded = btfid.btf_ctx_access(env, off, size, access is _WRITE)
    if isinstance(loaded, str):
        env.verbose_linfo(env.insn_idx)
        first = loaded + "\n" if loaded else ""
        raise env.error(f"{first}invalid bpf_context access off={off} size={size}")
    if not want:
        return _NONE
    return _UNKNOWN if loaded is None else Load(_BTF, reg=loaded)


def check_reg_sane_offset(env: Env, reg: Reg, ptr_type: int) -> None:
    """``check_reg_sane_offset``: offsets a pointer may carry."""
    known = not reg.var_off.mask
    val = s64(reg.var_off.value)
    if known and (val >= BPF_MAX_VAR_OFF or val <= -BPF_MAX_VAR_OFF):
        raise env.error(f"math between {reg_type_str(ptr_type)} pointer and {val} is not allowed")
    if reg.off >= BPF_MAX_VAR_OFF or reg.off <= -BPF_MAX_VAR_OFF:
        raise env.error(f"{reg_type_str(ptr_type)} pointer offset {reg.off} is not allowed")
    if reg.smin == S64_MIN:
        raise env.error(f"math between {reg_type_str(ptr_type)} pointer and register with unbounded min value "
                        "is not allowed")
    if reg.smin >= BPF_MAX_VAR_OFF or reg.smin <= -BPF_MAX_VAR_OFF:
        raise env.error(f"value {reg.smin} makes {reg_type_str(ptr_type)} pointer be out of bounds")


def check_mem_size_reg(env: Env, reg: Reg, regno: int, zero_size_allowed: bool) -> None:
    """The size argument of a helper: non-negative, bounded, non-zero unless allowed."""
    if reg.smin < 0:
        raise env.error(f"R{regno} min value is negative, either use unsigned or 'var &= const'")
    if reg.umin == 0 and not zero_size_allowed:
        raise env.error(f"R{regno} invalid zero-sized read: u64=[{s64(reg.umin)},{s64(reg.umax)}]")
    if reg.umax >= BPF_MAX_VAR_SIZ:
        raise env.error(f"R{regno} unbounded memory access, use 'var &= const' or 'if (var < const)'")


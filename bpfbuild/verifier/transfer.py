"""Transfer functions: the state after an instruction whose preconditions hold.

Nothing here rejects a program (that is :mod:`bpfbuild.verifier.checks`); these functions only
compute the next state, the way the kernel's ``mark_reg_*``, ``save_register_state``,
``adjust_*_min_max_vals``, ``reg_set_min_max``, ``find_good_pkt_pointers``... do.
"""

from __future__ import annotations

from bpfbuild.abi.ctx import RegKind
from bpfbuild.abi.maptypes import MapType
from bpfbuild.isa.fields import AluOp
from bpfbuild.verifier import bounds
from bpfbuild.verifier.bounds import S64_MAX, S64_MIN, s32, s64
from bpfbuild.verifier.checks import Load, LoadKind
from bpfbuild.verifier.env import Env
from bpfbuild.verifier.fastenum import members
from bpfbuild.verifier.fields import keeps_id
from bpfbuild.verifier.state import (
    INVALID,
    MISC,
    SPILL,
    ZERO,
    FuncState,
    Reg,
    RegFlag,
    RegType,
    StackSlot,
    VerifierState,
)
from bpfbuild.verifier.tnum import U64_MAX, Tnum, tnum_add, tnum_sub

# plain-class views of the enums read per instruction (see .fastenum)
AluOp, LoadKind, RegFlag, RegType = members(AluOp), members(LoadKind), members(RegFlag), members(RegType)

__all__ = [
    "BPF_ADD_CONST",
    "BPF_ADD_CONST32",
    "BPF_ADD_CONST64",
    "apply_load",
    "assign_scalar_id_before_mov",
    "clear_all_pkt_pointers",
    "find_good_pkt_pointers",
    "mark_pkt_end",
    "mark_ptr_or_null_regs",
    "mark_reg_invalid",
    "ptr_arith",
    "reg_set_min_max",
    "reg_set_min_max_imm",
    "stack_helper_write",
    "stack_write",
    "sync_linked_regs",
]

#: Flags in a scalar's id: the register is ``(linked register) + off``, by a 64-bit or a 32-bit add
#: (``BPF_ADD_CONST64`` / ``BPF_ADD_CONST32``; 6.18 stable).
BPF_ADD_CONST64 = 1 << 31
BPF_ADD_CONST32 = 1 << 30
BPF_ADD_CONST = BPF_ADD_CONST64 | BPF_ADD_CONST32

_REG_KIND_TYPE = {
    RegKind.PTR_TO_PACKET: RegType.PTR_TO_PACKET,
    RegKind.PTR_TO_PACKET_END: RegType.PTR_TO_PACKET_END,
    RegKind.PTR_TO_PACKET_META: RegType.PTR_TO_PACKET_META,
    RegKind.PTR_TO_SOCK_COMMON_OR_NULL: RegType.PTR_TO_SOCK_COMMON | RegFlag.PTR_MAYBE_NULL,
    RegKind.PTR_TO_SOCKET: RegType.PTR_TO_SOCKET,
    RegKind.PTR_TO_SOCKET_OR_NULL: RegType.PTR_TO_SOCKET | RegFlag.PTR_MAYBE_NULL,
    RegKind.PTR_TO_FLOW_KEYS: RegType.PTR_TO_FLOW_KEYS,
    RegKind.PTR_TO_TP_BUFFER: RegType.PTR_TO_TP_BUFFER,
}


def mark_reg_invalid(env: Env, reg: Reg) -> None:
    """A pointer that stopped being valid (released, packet moved)."""
    if env.allow_ptr_leaks:
        reg.mark_unknown()
    else:
        reg.mark_not_init()


def assign_scalar_id_before_mov(env: Env, src: Reg) -> None:
    """Give ``src`` an id so that a copy of it stays linked (bounds learnt on one apply to both)."""
    if src.type != RegType.SCALAR_VALUE:
        return
    if src.id & BPF_ADD_CONST:
        src.id = 0
        src.off = 0
    if not src.id and src.var_off.mask:
        src.id = env.new_id()


# ---- loads ---------------------------------------------------------------------------------------------

def _narrow_unknown(size: int) -> tuple[Tnum, int, int, int, int, int, int, int, int]:
    """The bounds of an unknown scalar zero-extended from ``size`` bytes: what
    ``coerce_reg_to_size`` (with its ``reg_bounds_sync``) makes of ``mark_reg_unknown``, computed
    once by that general path."""
    r = Reg()
    r.mark_unknown()
    bounds.coerce_reg_to_size(r, size)
    assert bounds.bounds_sane(r)
    return (r.var_off, r.umin, r.umax, r.smin, r.smax, r.u32_min, r.u32_max, r.s32_min, r.s32_max)


#: :func:`_narrow_unknown` of the load sizes below 8
NARROW_UNKNOWN = {n: _narrow_unknown(n) for n in (1, 2, 4)}


def apply_load(env: Env, dst: Reg, load: Load, size: int, is_ldsx: bool) -> bool:
    """The destination of a checked load (then the zero/sign extension of narrow loads); False
    when ``dst`` needs no ``reg_bounds_sanity_check`` (an unknown scalar, a pointer)."""
    match load.kind:
        case LoadKind.UNKNOWN:
            dst.mark_unknown()
            if not is_ldsx:
                if size < 8:
                    # the zero extension of an unknown value: a table (the same numbers, see above,
                    # where they are checked sane)
                    (dst.var_off, dst.umin, dst.umax, dst.smin, dst.smax, dst.u32_min, dst.u32_max,
                     dst.s32_min, dst.s32_max) = NARROW_UNKNOWN[size]
                return False
        case LoadKind.ZERO:
            dst.mark_const(0)
        case LoadKind.CONST:
            dst.mark_const(load.value)
        case LoadKind.FILL:
            assert load.reg is not None
            dst.assign(load.reg)
            if load.narrow_fill:
                dst.id = 0
        case LoadKind.PTR:
            assert load.ptr_kind is not None
            t = _REG_KIND_TYPE[load.ptr_kind]
            dst.mark_known_zero()
            dst.type = t
            dst.precise = False
            if t & RegFlag.PTR_MAYBE_NULL:
                dst.id = env.new_id()
            return False
        case LoadKind.BTF:
            assert load.reg is not None
            dst.assign(load.reg)
            if dst.type != RegType.SCALAR_VALUE:
                return True
        case LoadKind.NONE:
            return True
    if size < 8 and dst.type == RegType.SCALAR_VALUE:
        if is_ldsx:
            bounds.coerce_reg_to_size_sx(dst, size)
        else:
            bounds.coerce_reg_to_size(dst, size)
    return True


# ---- stack ---------------------------------------------------------------------------------------------

def _scrub(stype: bytearray) -> None:
    for j in range(8):
        if stype[j] != INVALID:
            stype[j] = MISC


#: ``slot_type`` bytes of a spill of 0..8 bytes (the top ``size`` bytes of the slot)
_SPILLS = [bytes([SPILL]) * n for n in range(9)]
_INVALID_OR_ZERO = (int(INVALID), int(ZERO))


def _save_register_state(slot: StackSlot, reg: Reg, size: int) -> None:
    slot.spilled_ptr.assign(reg)
    stype = slot.slot_type
    stype[8 - size:] = _SPILLS[size]
    for i in range(8 - size):           # _mark_stack_slot_misc of the bytes below
        if stype[i] not in _INVALID_OR_ZERO:
            stype[i] = MISC


def stack_write(env: Env, st: VerifierState, frame: FuncState, ptr: Reg, off: int, size: int,
                value: Reg | None, imm: int | None) -> tuple[bool, bool]:
    """``check_stack_write_{fixed,var}_off`` minus the checks: store ``value`` (a register) or the
    immediate ``imm`` (BPF_ST; None: an unknown value, e.g. a helper's byte) at ``ptr + off``.

    Returns ``(spilled, zero_used)``: whether a register was spilled (recorded for precision
    backtracking) and whether the zero-ness of the stored register now matters.
    """
    v, m = ptr.var_off
    if not m:
        off += v - (1 << 64) if v >> 63 else v          # s64(v)
        frame.grow_stack(-off)
        return _stack_write_fixed(env, frame, off, size, value, imm)
    min_off = ptr.smin + off
    max_off = ptr.smax + off + size
    frame.grow_stack(-min_off)
    writing_zero = (value is not None and value.is_null) or (value is None and imm == 0)
    zero_used = False
    for i in range(min_off, max_off):
        slot_no = -i - 1
        spi, idx = slot_no // 8, slot_no % 8
        stack = frame.wslot(spi)
        stype = stack.slot_type
        if writing_zero and stype[idx] == SPILL and stack.is_spilled_scalar:
            sp = stack.spilled_ptr
            if not sp.var_off.mask and sp.var_off.value == 0:
                zero_used = True
                continue
        stack.spilled_ptr.type = RegType.NOT_INIT
        new = MISC
        if writing_zero and stype[idx] == ZERO:
            new = ZERO
            zero_used = True
        stype[idx] = new
    return False, zero_used


def _stack_write_fixed(env: Env, frame: FuncState, off: int, size: int, value: Reg | None,
                       imm: int | None) -> tuple[bool, bool]:
    slot_no = -off - 1
    spi = slot_no // 8
    stack = frame.wslot(spi)
    if value is not None and off % 8 == 0 and value.type == RegType.SCALAR_VALUE and env.bpf_capable:
        fits = value.umax.bit_length() <= 8 * size      # _reg_width
        if fits:
            assign_scalar_id_before_mov(env, value)
        _save_register_state(stack, value, size)
        if not fits:
            stack.spilled_ptr.id = 0
        return True, False
    if value is None and imm is not None and off % 8 == 0 and env.bpf_capable:
        tmp = Reg()
        tmp.mark_const(imm)
        _save_register_state(stack, tmp, size)
        return True, False
    if value is not None and value.type != RegType.SCALAR_VALUE:
        _save_register_state(stack, value, size)
        return True, False
    stack.spilled_ptr.type = RegType.NOT_INIT
    stype = stack.slot_type
    if stype[7] in (SPILL, 4, 5, 6):   # spill, dynptr, iter, irq flag
        _scrub(stype)
    t = MISC
    zero_used = False
    if (value is not None and value.is_null) or (value is None and imm == 0):
        t = ZERO
        zero_used = value is not None
    for i in range(size):
        stype[(slot_no - i) % 8] = t
    return False, zero_used


def stack_helper_write(env: Env, frame: FuncState, min_off: int, max_off: int, raw: bool) -> None:
    """A helper wrote bytes ``[min_off, max_off)`` of the stack: they hold unknown data now."""
    frame.grow_stack(-min_off)
    for i in range(min_off, max_off):
        slot_no = -i - 1
        spi, idx = slot_no // 8, slot_no % 8
        stack = frame.wslot(spi)
        stype = stack.slot_type
        if raw:
            env.scratched_slots.add(spi)
            stack.spilled_ptr.type = RegType.NOT_INIT
            if stype[7] in (SPILL, 4, 5, 6):
                _scrub(stype)
            stype[idx] = MISC
            continue
        if stype[idx] in (ZERO, INVALID):
            stype[idx] = MISC
        elif stack.is_spilled:
            stack.spilled_ptr.mark_unknown()
            _scrub(stype)


# ---- pointer arithmetic ------------------------------------------------------------------------------------

def ptr_arith(env: Env, op: int, ptr: Reg, off: Reg, dst_is_ptr: bool) -> Reg:
    """``adjust_ptr_min_max_vals``' result of ``ptr op off`` (op: ADD or SUB), not yet checked."""
    dst = ptr.copy()
    if dst.range < 0 and ptr.is_pkt_pointer:
        # AT_PKT_END / BEYOND_PKT_END describe the pointer at its old offset: the kernel drops them
        # on any arithmetic (measured on 6.18: ``if r1 > pkt_end`` then ``r1 += 0`` gives r=0)
        dst.range = 0
    known = not off.var_off.mask
    smin_val, smax_val, umin_val, umax_val = off.smin, off.smax, off.umin, off.umax
    smin_ptr, smax_ptr, umin_ptr, umax_ptr = ptr.smin, ptr.smax, ptr.umin, ptr.umax
    bounds.mark_32_unbounded(dst)
    if op == AluOp.ADD:
        if known and s32(ptr.off + smin_val) == ptr.off + smin_val:
            dst.off = ptr.off + smin_val
            return dst
        lo, hi = smin_ptr + smin_val, smax_ptr + smax_val
        if lo < S64_MIN or lo > S64_MAX or hi < S64_MIN or hi > S64_MAX:
            dst.smin, dst.smax = S64_MIN, S64_MAX
        else:
            dst.smin, dst.smax = lo, hi
        lo, hi = umin_ptr + umin_val, umax_ptr + umax_val
        if lo > U64_MAX or hi > U64_MAX:
            dst.umin, dst.umax = 0, U64_MAX
        else:
            dst.umin, dst.umax = lo, hi
        dst.var_off = tnum_add(ptr.var_off, off.var_off)
        dst.off = ptr.off
        if ptr.is_pkt_pointer:
            dst.id = env.new_id()
            dst.range = 0
        return dst
    # SUB
    if known and s32(ptr.off - smin_val) == ptr.off - smin_val:
        dst.off = ptr.off - smin_val
        return dst
    lo, hi = smin_ptr - smax_val, smax_ptr - smin_val
    if lo < S64_MIN or lo > S64_MAX or hi < S64_MIN or hi > S64_MAX:
        dst.smin, dst.smax = S64_MIN, S64_MAX
    else:
        dst.smin, dst.smax = lo, hi
    if umin_ptr < umax_val:
        dst.umin, dst.umax = 0, U64_MAX
    else:
        dst.umin, dst.umax = umin_ptr - umax_val, umax_ptr - umin_val
    dst.var_off = tnum_sub(ptr.var_off, off.var_off)
    dst.off = ptr.off
    if ptr.is_pkt_pointer:
        dst.id = env.new_id()
        if smin_val < 0:
            dst.range = 0
    return dst


# ---- branches ------------------------------------------------------------------------------------------

def reg_set_min_max(true1: Reg, true2: Reg, false1: Reg, false2: Reg, op: int, jmp32: bool) -> None:
    """Refine the operands of ``r1 op r2`` in the taken (true) and fall-through (false) states."""
    if false1.type != RegType.SCALAR_VALUE or false2.type != RegType.SCALAR_VALUE:
        return
    bounds.regs_refine_cond_op(false1, false2, bounds.rev_opcode(op), jmp32)
    bounds.reg_bounds_sync(false1)
    bounds.reg_bounds_sync(false2)
    bounds.regs_refine_cond_op(true1, true2, op, jmp32)
    bounds.reg_bounds_sync(true1)
    bounds.reg_bounds_sync(true2)
    for r in (true1, true2, false1, false2):
        if not bounds.bounds_sane(r):
            bounds.mark_unbounded(r)


def reg_set_min_max_imm(true1: Reg, false1: Reg, imm: int, op: int, jmp32: bool) -> None:
    """:func:`reg_set_min_max` for ``r1 op imm``: the constant's two registers are the kernel's
    fake_reg, thrown away after, so only what their refinement teaches ``r1`` is kept (their
    own synchronisation and sanity check change nothing else)."""
    if false1.type != RegType.SCALAR_VALUE:
        return
    bounds.regs_refine_cond_op(false1, bounds.Known(imm), bounds.rev_opcode(op), jmp32)
    bounds.reg_bounds_sync(false1)
    bounds.regs_refine_cond_op(true1, bounds.Known(imm), op, jmp32)
    bounds.reg_bounds_sync(true1)
    if not bounds.bounds_sane(true1):
        bounds.mark_unbounded(true1)
    if not bounds.bounds_sane(false1):
        bounds.mark_unbounded(false1)


def linked_positions(env: Env, st: VerifierState, ids: tuple[int, ...]) -> list[tuple[int, int, bool]]:
    """``collect_linked_regs``: where the scalars sharing one of ``ids`` live, as
    ``(frameno, regno or spi, is_reg)``; only registers live at each frame's instruction count;
    beyond LINKED_REGS_MAX (6) registers lose the link."""
    out: list[tuple[int, int, bool]] = []
    cur = len(st.frames) - 1
    for rid in ids:
        rid &= ~BPF_ADD_CONST
        if not rid:
            continue
        for fr in range(cur, -1, -1):
            frame = st.frames[fr]
            live = env.aux[env.insn_idx if fr == cur else st.frames[fr + 1].callsite].live_before
            for j, reg in enumerate(frame.regs[:10]):
                if not live >> j & 1:
                    continue
                if reg.type == RegType.SCALAR_VALUE and reg.id & ~BPF_ADD_CONST == rid:
                    if len(out) < 6:
                        if (fr, j, True) not in out:
                            out.append((fr, j, True))
                    else:
                        reg.id = 0
            for j, slot in enumerate(frame.stack):
                if slot.slot_type[7] != SPILL:
                    continue
                reg = slot.spilled_ptr
                if reg.type == RegType.SCALAR_VALUE and reg.id & ~BPF_ADD_CONST == rid:
                    if len(out) < 6:
                        if (fr, j, False) not in out:
                            out.append((fr, j, False))
                    else:
                        frame.wslot(j).spilled_ptr.id = 0
    return out


def sync_linked_regs(st: VerifierState, known: Reg, linked: list[tuple[int, int, bool]]) -> None:
    """Copy what was learnt about ``known`` into every register linked to it (same id)."""
    kid = known.id & ~BPF_ADD_CONST
    for fr, n, is_reg in linked:
        if fr >= len(st.frames):
            continue
        frame = st.frames[fr]
        if is_reg:
            reg = frame.regs[n]
        else:
            if n >= len(frame.stack):
                continue
            reg = frame.stack[n].spilled_ptr
        if reg.type != RegType.SCALAR_VALUE or reg is known:
            continue
        if reg.id & ~BPF_ADD_CONST != kid:
            continue
        if not is_reg:
            reg = frame.wslot(n).spilled_ptr
        if (not reg.id & BPF_ADD_CONST and not known.id & BPF_ADD_CONST) or reg.off == known.off:
            reg.assign(known)
        else:
            saved_off = reg.off
            saved_id = reg.id
            delta = s32(reg.off) - s32(known.off)
            reg.assign(known)
            reg.off = saved_off
            reg.id = saved_id
            bounds.add_const(reg, delta)
            if (reg.id | known.id) & BPF_ADD_CONST32:   # an alu32 add made the link: zero-extend
                bounds.zext_32_to_64(reg)
            bounds.reg_bounds_sync(reg)


def find_good_pkt_pointers(st: VerifierState, dst: Reg, typ: int, range_right_open: bool) -> None:
    """After ``pkt + off <op> pkt_end`` proved ``off`` bytes: every copy of that packet pointer
    (same id) may access them."""
    if dst.off < 0 or (dst.off == 0 and range_right_open):
        return
    if dst.umax > 0xFFFF or dst.umax + dst.off > 0xFFFF:
        return
    new_range = dst.off + (1 if range_right_open else 0)
    did = dst.id
    # bpf_for_each_reg_in_vstate, its two loops written out: a spilled copy is unshared
    # (FuncState.wslot) only when its range grows
    for frame in st.frames:
        for reg in frame.regs:
            if reg.type == typ and reg.id == did and reg.range < new_range:
                reg.range = new_range
        stack = frame.stack
        for spi in range(len(stack)):
            slot = stack[spi]
            if slot.slot_type[7] == SPILL:
                reg = slot.spilled_ptr
                if reg.type == typ and reg.id == did and reg.range < new_range:
                    frame.wslot(spi).spilled_ptr.range = new_range


AT_PKT_END = -1
BEYOND_PKT_END = -2


def mark_pkt_end(st: VerifierState, regno: int, range_open: bool) -> None:
    reg = st.frames[-1].regs[regno]
    if reg.type != RegType.PTR_TO_PACKET:
        return
    reg.range = BEYOND_PKT_END if range_open else AT_PKT_END


def _mark_ptr_not_null(reg: Reg) -> None:
    if reg.type & 0xFF == RegType.PTR_TO_MAP_VALUE:
        m = reg.map
        if m is not None and m.map_type == MapType.XSKMAP:
            reg.type = RegType.PTR_TO_XDP_SOCK
        elif m is not None and m.map_type in (MapType.SOCKMAP, MapType.SOCKHASH):
            reg.type = RegType.PTR_TO_SOCKET
        else:
            reg.type = RegType.PTR_TO_MAP_VALUE
        return
    reg.type &= ~RegFlag.PTR_MAYBE_NULL


def mark_ptr_or_null_regs(st: VerifierState, regno: int, is_null: bool) -> None:
    """After ``if (p == NULL)``: every copy of ``p`` (same id) is NULL or a valid pointer."""
    reg0 = st.frames[-1].regs[regno]
    rid, ref = reg0.id, reg0.ref_obj_id
    if ref and ref == rid and is_null:
        st.refs = [r for r in st.refs if r.id != rid]
    for reg in st.all_regs(lambda r: r.type & RegFlag.PTR_MAYBE_NULL and r.id == rid):
        if not reg.type & RegFlag.PTR_MAYBE_NULL or reg.id != rid:
            continue
        if (reg.smin or reg.smax or reg.var_off.mask or reg.var_off.value
                or (reg.off and not reg.type & RegFlag.MEM_ALLOC)):   # a node's offset is fine
            continue
        if is_null:
            reg.type = RegType.SCALAR_VALUE
            reg.id = 0
            reg.ref_obj_id = 0
            continue
        _mark_ptr_not_null(reg)
        if not keeps_id(reg):
            reg.id = 0


def mark_ptr_not_null_reg(reg: Reg) -> None:
    _mark_ptr_not_null(reg)


def clear_all_pkt_pointers(env: Env, st: VerifierState) -> None:
    for reg in st.all_regs(lambda r: r.is_pkt_pointer_any or r.type & RegFlag.DYNPTR_PKT):
        if reg.is_pkt_pointer_any or reg.type & RegFlag.DYNPTR_PKT:   # packet slices of dynptrs too
            mark_reg_invalid(env, reg)


def release_reference(env: Env, st: VerifierState, ref_obj_id: int) -> bool:
    """Drop an acquired reference and invalidate every register holding it; False if unknown."""
    if not any(r.id == ref_obj_id for r in st.refs):
        return False
    st.refs = [r for r in st.refs if r.id != ref_obj_id]
    for reg in st.all_regs(lambda r: r.ref_obj_id == ref_obj_id):
        if reg.ref_obj_id == ref_obj_id:
            mark_reg_invalid(env, reg)
    return True


__all__ += ["linked_positions", "mark_ptr_not_null_reg", "release_reference"]

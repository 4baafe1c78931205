"""State equivalence: when is a state already proven safe at least as general as the current one?

The kernel's ``regsafe``, ``stacksafe``, ``states_equal`` (with ``check_ids``' consistent id
renaming, :class:`IdMap`) and ``regs_exact``, used by pruning and loop detection
(:mod:`.explore`), and ``widen_imprecise_scalars``, used when a callback loop's iterations are
made to converge (:mod:`.calls`).  ``exact`` is one of ``NOT_EXACT`` (imprecise scalars match
anything), ``EXACT`` (every field equal up to ids) and ``RANGE_WITHIN`` (every scalar's range
must nest, as for states inside a loop).
"""

from __future__ import annotations

import functools

from bpfbuild.verifier.bounds import range_within
from bpfbuild.verifier.env import Env
from bpfbuild.verifier.fastenum import members
from bpfbuild.verifier.state import (
    INVALID,
    MISC,
    SPILL,
    ZERO,
    FuncState,
    Reg,
    RegType,
    SlotType,
    StackSlot,
    VerifierState,
)
from bpfbuild.verifier.tnum import tnum_in
from bpfbuild.verifier.transfer import BPF_ADD_CONST

# plain-class views of the enums read per instruction (see .fastenum)
RegType = members(RegType)
_STACK_ITER = int(SlotType.STACK_ITER)
_STACK_DYNPTR = int(SlotType.STACK_DYNPTR)
_STACK_IRQ_FLAG = int(SlotType.STACK_IRQ_FLAG)

__all__ = ["EXACT", "NOT_EXACT", "RANGE_WITHIN", "IdMap", "first_unsafe_reg", "frame_insn_idx", "reg_unsafe",
           "regs_exact", "regsafe", "same_value_fields", "stacksafe", "states_equal", "widen_imprecise_scalars"]

NOT_EXACT, EXACT, RANGE_WITHIN = 0, 1, 2


class IdMap:
    """``check_ids``: a consistent renaming of ids between an old and the current state."""

    __slots__ = ("cur", "old", "tmp")

    def __init__(self) -> None:
        self.old: dict[int, int] = {}
        self.cur: dict[int, int] = {}
        self.tmp = 1 << 40

    def check(self, old_id: int, cur_id: int) -> bool:
        if bool(old_id) != bool(cur_id):
            return False
        if not old_id:
            return True
        seen = self.old.get(old_id)
        if seen is not None:
            return seen == cur_id
        if cur_id in self.cur:
            return False
        self.old[old_id] = cur_id
        self.cur[cur_id] = old_id
        return True

    def check_scalar(self, old_id: int, cur_id: int) -> bool:
        if not old_id:
            self.tmp += 1
            old_id = self.tmp
        if not cur_id:
            self.tmp += 1
            cur_id = self.tmp
        return self.check(old_id, cur_id)


# ---- state equivalence --------------------------------------------------------------------------------

def same_value_fields(a: Reg, b: Reg) -> bool:
    # the plain ints that differ most often first: a loop's states differ in a counter's bounds
    return (a.smin == b.smin and a.umax == b.umax and a.type == b.type and a.off == b.off
            and a.range == b.range and a.map is b.map and a.mem_size == b.mem_size
            and a.subprogno == b.subprogno and a.var_off == b.var_off and a.smax == b.smax and a.umin == b.umin
            and a.s32_min == b.s32_min and a.s32_max == b.s32_max and a.u32_min == b.u32_min
            and a.u32_max == b.u32_max and a.btf_id == b.btf_id and a.btf is b.btf
            and a.dynptr_id == b.dynptr_id)


def regs_exact(old: Reg, cur: Reg, idmap: IdMap) -> bool:
    return (same_value_fields(old, cur) and idmap.check(old.id, cur.id)
            and idmap.check(old.ref_obj_id, cur.ref_obj_id))


_NOT_INIT, _SCALAR = int(RegType.NOT_INIT), int(RegType.SCALAR_VALUE)
_STACK, _ARENA = int(RegType.PTR_TO_STACK), int(RegType.PTR_TO_ARENA)
_MEM_LIKE = frozenset(int(t) for t in (RegType.PTR_TO_MAP_KEY, RegType.PTR_TO_MAP_VALUE, RegType.PTR_TO_MEM,
                                       RegType.PTR_TO_BUF, RegType.PTR_TO_TP_BUFFER))
_PKT = frozenset({int(RegType.PTR_TO_PACKET), int(RegType.PTR_TO_PACKET_META)})


def regsafe(env: Env, old: Reg, cur: Reg, idmap: IdMap, exact: int) -> bool:
    """Is every use ``old`` was safe for also safe with ``cur``?"""
    if exact == EXACT:
        return regs_exact(old, cur, idmap)
    otype = old.type
    if otype == _NOT_INIT and (exact == NOT_EXACT or cur.type == _NOT_INIT):
        return True
    if otype != cur.type:
        return False
    base = otype & 0xFF
    if base == _SCALAR:
        if not old.precise and exact == NOT_EXACT and env.bpf_capable:
            return True
        if (old.id & BPF_ADD_CONST) != (cur.id & BPF_ADD_CONST):
            return False
        if old.id & BPF_ADD_CONST and old.off != cur.off:
            return False
        return (range_within(old, cur) and tnum_in(old.var_off, cur.var_off)
                and idmap.check_scalar(old.id, cur.id))
    if base in _MEM_LIKE:
        return (old.off == cur.off and old.range == cur.range and old.map is cur.map
                and old.mem_size == cur.mem_size and range_within(old, cur)
                and tnum_in(old.var_off, cur.var_off) and idmap.check(old.id, cur.id)
                and idmap.check(old.ref_obj_id, cur.ref_obj_id))
    if base in _PKT:
        if old.range < 0 or cur.range < 0:   # AT_PKT_END / BEYOND_PKT_END markers match only themselves
            if old.range != cur.range:
                return False
        elif old.range > cur.range:
            return False
        if old.off != cur.off:
            return False
        if not idmap.check(old.id, cur.id):
            return False
        return range_within(old, cur) and tnum_in(old.var_off, cur.var_off)
    if base == _STACK:
        return regs_exact(old, cur, idmap) and old.frameno == cur.frameno
    if base == _ARENA:
        return True
    return regs_exact(old, cur, idmap)


def reg_unsafe(env: Env, old: Reg, cur: Reg, exact: int) -> bool:
    """``regsafe`` says no whatever ids the rest of the state maps: then so does
    ``states_equal`` for a live register (a fresh :class:`IdMap` holds fewer pairs to
    contradict)."""
    return not regsafe(env, old, cur, IdMap(), exact)


def first_unsafe_reg(env: Env, old: VerifierState, cur: VerifierState, exact: int) -> int:
    """The first register live in ``old``'s innermost frame that :func:`reg_unsafe` finds, or -1."""
    if len(old.frames) != len(cur.frames):
        return -1
    oregs, cregs = old.frames[-1].regs, cur.frames[-1].regs
    for r in _live_regs(env.aux[old.insn_idx].live_before):
        if reg_unsafe(env, oregs[r], cregs[r], exact):
            return r
    return -1


_UNBOUND = Reg()
_UNBOUND.mark_unknown()


def _scalar_reg_for_stack(env: Env, slot: StackSlot) -> Reg | None:
    if slot.is_spilled_scalar64:
        return slot.spilled_ptr
    if all(t == MISC or (t == INVALID and env.allow_uninit_stack) for t in slot.slot_type):
        return _UNBOUND
    return None


_EMPTY = StackSlot()
_ALL_INVALID = bytes(8)
_ALL_MISC = bytes([MISC]) * 8
_ALL_ZERO = bytes([ZERO]) * 8
_ALL_SPILL = bytes([SPILL]) * 8


def stacksafe(env: Env, old: FuncState, cur: FuncState, idmap: IdMap, exact: int) -> bool:
    cur_alloc = cur.allocated_stack
    uninit_ok = env.allow_uninit_stack
    cstack = cur.stack
    ncur = len(cstack)
    for spi, oslot in enumerate(old.stack):
        ot = oslot.slot_type
        cslot = cstack[spi] if spi < ncur else None
        if exact == NOT_EXACT and ot == _ALL_INVALID:     # every byte's first test: continue
            continue
        if cslot is not None and ot == cslot.slot_type:
            # the same invalid, zeroed (or, where uninitialised reads are allowed, misc) bytes:
            # each byte passes its tests and no register is compared
            if ot == _ALL_INVALID or ot == _ALL_ZERO or (uninit_ok and ot == _ALL_MISC):
                continue
            if ot == _ALL_SPILL:    # a whole spilled register each: the byte loop compares them once
                if not regsafe(env, oslot.spilled_ptr, cslot.spilled_ptr, idmap, exact):
                    return False
                continue
        both_scalar = None     # whether both slots hold scalars: the same answer for each byte
        for idx in range(8):
            o = ot[idx]
            if exact != NOT_EXACT and (spi * 8 + idx >= cur_alloc or cslot is None or o != cslot.slot_type[idx]):
                return False
            if o == INVALID:
                continue
            if uninit_ok and o == MISC:
                continue
            if cslot is None:
                return False
            if both_scalar is None:
                old_reg = _scalar_reg_for_stack(env, oslot)
                cur_reg = _scalar_reg_for_stack(env, cslot)
                both_scalar = old_reg is not None and cur_reg is not None
                if both_scalar:
                    if not regsafe(env, old_reg, cur_reg, idmap, exact):   # type: ignore[arg-type]
                        return False
                    break
            ct = cslot.slot_type
            if o == MISC and ct[idx] == 3:      # old misc, cur zero
                continue
            if o != ct[idx]:
                return False
            if idx != 7:
                continue
            if o == SPILL and not regsafe(env, oslot.spilled_ptr, cslot.spilled_ptr, idmap, exact):
                return False
            if o == _STACK_DYNPTR:
                op, cp = oslot.spilled_ptr, cslot.spilled_ptr
                if (op.dynptr_type != cp.dynptr_type or op.dynptr_first != cp.dynptr_first
                        or not idmap.check(op.ref_obj_id, cp.ref_obj_id)):
                    return False
            if o == _STACK_ITER:
                # the iterator's depth is not compared: it would keep the loop from converging
                op, cp = oslot.spilled_ptr, cslot.spilled_ptr
                if (op.btf is not cp.btf or op.btf_id != cp.btf_id or op.iter_state != cp.iter_state
                        or not idmap.check(op.ref_obj_id, cp.ref_obj_id)):
                    return False
            if o == _STACK_IRQ_FLAG:   # the same save (ids mapped alike) by the same kfunc family
                op, cp = oslot.spilled_ptr, cslot.spilled_ptr
                if op.iter_state != cp.iter_state or not idmap.check(op.ref_obj_id, cp.ref_obj_id):
                    return False
    return True


def frame_insn_idx(st: VerifierState, i: int) -> int:
    return st.insn_idx if i == len(st.frames) - 1 else st.frames[i + 1].callsite


def states_equal(env: Env, old: VerifierState, cur: VerifierState, exact: int) -> bool:
    """``states_equal``: is ``old`` at least as general as ``cur`` (every check pure, so the
    cheapest and most often failing come first)?"""
    ofr, cfr = old.frames, cur.frames
    last = len(ofr) - 1
    if last != len(cfr) - 1:    # curframe
        return False
    if old.speculative and not cur.speculative:
        return False
    if (old.active_locks != cur.active_locks or old.active_rcu_lock != cur.active_rcu_lock
            or old.active_preempt_locks != cur.active_preempt_locks):
        return False
    orefs, crefs = old.refs, cur.refs
    if len(orefs) != len(crefs):
        return False
    idmap = IdMap()
    if orefs:
        for a, b in zip(orefs, crefs):
            if not idmap.check(a.id, b.id):
                return False
    if old.locks:     # refsafe: the same lock, ids mapped alike (as many as active_locks each)
        for lo, lc in zip(old.locks, cur.locks):
            if lo.map_index != lc.map_index or lo.kind != lc.kind or not idmap.check(lo.id, lc.id):
                return False
    if old.irqs or cur.irqs:   # refsafe: REF_TYPE_IRQ references (active_irq_id the last)
        if len(old.irqs) != len(cur.irqs):
            return False
        for io, ic in zip(old.irqs, cur.irqs):
            if not idmap.check(io.id, ic.id):
                return False
    fast = exact == NOT_EXACT and env.options.privileged     # env.bpf_capable
    aux = env.aux
    for i in range(last + 1):
        fo, fc = ofr[i], cfr[i]
        if fo.callsite != fc.callsite:
            return False
        if fo.callback_depth > fc.callback_depth:
            return False
        # frame_insn_idx(old, i), inlined
        live = aux[old.insn_idx if i == last else ofr[i + 1].callsite].live_before
        oregs, cregs = fo.regs, fc.regs
        for r in _live_regs(live):
            o = oregs[r]
            if fast:   # regsafe's first answers, inlined: an old NOT_INIT or imprecise scalar
                ot = o.type
                if ot == _NOT_INIT or (ot == _SCALAR and not o.precise and cregs[r].type == _SCALAR):
                    continue
            if not regsafe(env, o, cregs[r], idmap, exact):
                return False
        if not stacksafe(env, fo, fc, idmap, exact):
            return False
    return True


_NOT_INIT, _SCALAR = int(RegType.NOT_INIT), int(RegType.SCALAR_VALUE)


@functools.cache
def _live_regs(mask: int) -> tuple[int, ...]:
    """The registers r0-r10 a liveness mask holds."""
    return tuple(r for r in range(11) if mask >> r & 1)


def widen_imprecise_scalars(old: VerifierState, cur: VerifierState) -> None:
    """Forget imprecise scalars that changed between two iterations of a callback loop, so the
    iterations converge (``widen_imprecise_scalars``)."""
    idmap = IdMap()
    for fold, fcur in zip(old.frames, cur.frames, strict=False):
        for rold, rcur in zip(fold.regs, fcur.regs, strict=True):
            _maybe_widen(rold, rcur, idmap)
        for spi, (sold, scur) in enumerate(zip(fold.stack, fcur.stack, strict=False)):
            if sold.is_spilled and scur.is_spilled:
                _maybe_widen(sold.spilled_ptr, scur.spilled_ptr, idmap, fcur, spi)


def _maybe_widen(rold: Reg, rcur: Reg, idmap: IdMap, frame: FuncState | None = None, spi: int = 0) -> None:
    """``maybe_widen_reg``; ``rcur`` is the register spilled at ``spi`` of ``frame`` if given."""
    if rold.type != RegType.SCALAR_VALUE or rold.type != rcur.type:
        return
    if rold.precise or rcur.precise or regs_exact(rold, rcur, idmap):
        return
    if frame is not None:
        rcur = frame.wslot(spi).spilled_ptr
    rcur.mark_unknown()

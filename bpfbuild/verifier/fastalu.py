"""Shortcuts of the scalar ALU transfer for operands whose values are known.

When both operands of ``dst op= src`` are known constants (in the operation's width), the
kernel's ``adjust_scalar_min_max_vals`` ends with a constant tnum, and ``reg_bounds_sync``
then narrows every range to that one value: the result is ``___mark_reg_known`` of the value
computed directly.  :func:`alu_const` gives that state without the general path's work (the
ranges of each operation, the tnum operation, the synchronisation, the sanity check).

"Known" means more than a constant tnum here: the register's ranges must say so too (as
``reg_bounds_sync`` leaves a known register), so that the general path's ranges contain the
value and the synchronisation cannot meet a contradiction.  tests/verifier/test_fastalu.py
compares the two paths on random operands.
"""

from __future__ import annotations

from bpfbuild.isa.fields import AluOp, JmpOp
from bpfbuild.verifier.bounds import Bounded, _step_known, range31_sync
from bpfbuild.verifier.tnum import U32_MAX, U64_MAX, Tnum

__all__ = ["alu_const", "alu_small", "branch_const", "const_operand", "small_operand"]

_B32 = 1 << 32
_B64 = 1 << 64
_ZERO = Tnum(0, 0)
_new = tuple.__new__     # _new(Tnum, (v, m)): Tnum(v, m) without NamedTuple.__new__ (see .tnum)

_ADD, _SUB, _MUL, _OR, _AND, _LSH, _RSH, _XOR, _ARSH = (
    int(AluOp.ADD), int(AluOp.SUB), int(AluOp.MUL), int(AluOp.OR), int(AluOp.AND), int(AluOp.LSH),
    int(AluOp.RSH), int(AluOp.XOR), int(AluOp.ARSH))


def const_operand(reg: Bounded, alu32: bool) -> int | None:
    """The value of ``reg`` (unsigned, the low 32 bits for ``alu32``) when its tnum and ranges
    all say it is that one value; None otherwise."""
    v, m = reg.var_off
    if alu32:
        if m & U32_MAX:
            return None
        v &= U32_MAX
        if reg.u32_min != v or reg.u32_max != v:
            return None
        s = v - _B32 if v >> 31 else v
        if reg.s32_min != s or reg.s32_max != s:
            return None
        return v
    if m or reg.umin != v or reg.umax != v:
        return None
    s = v - _B64 if v >> 63 else v
    if reg.smin != s or reg.smax != s:
        return None
    lo = v & U32_MAX
    if reg.u32_min != lo or reg.u32_max != lo:
        return None
    s = lo - _B32 if lo >> 31 else lo
    if reg.s32_min != s or reg.s32_max != s:
        return None
    return v


def alu_const(op: int, alu32: bool, dst: Bounded, sv: int) -> bool:
    """``dst op= sv`` for a known ``dst`` (:func:`const_operand`) and a known operand ``sv``
    (unsigned, in the width; a shift's amount below the width): ``dst`` becomes the known
    result (zero-extended for ``alu32``).  False (``dst`` untouched) when ``dst`` is not known
    or ``op`` is not ADD SUB MUL OR AND LSH RSH XOR ARSH."""
    dv = const_operand(dst, alu32)
    if dv is None:
        return False
    mask = U32_MAX if alu32 else U64_MAX
    if op == _ADD:
        r = (dv + sv) & mask
    elif op == _AND:
        r = dv & sv
    elif op == _SUB:
        r = (dv - sv) & mask
    elif op == _OR:
        r = dv | sv
    elif op == _LSH:
        r = (dv << sv) & mask
    elif op == _RSH:
        r = dv >> sv
    elif op == _XOR:
        r = dv ^ sv
    elif op == _MUL:
        r = (dv * sv) & mask
    elif op == _ARSH:
        if alu32:
            r = ((dv - _B32 if dv >> 31 else dv) >> sv) & mask
        else:
            r = ((dv - _B64 if dv >> 63 else dv) >> sv) & mask
    else:
        return False
    # ___mark_reg_known(dst, r)
    dst.var_off = _new(Tnum, (r, 0)) if r else _ZERO
    dst.umin = dst.umax = r
    dst.smin = dst.smax = r - _B64 if r >> 63 else r
    lo = r & U32_MAX
    dst.u32_min = dst.u32_max = lo
    dst.s32_min = dst.s32_max = lo - _B32 if lo >> 31 else lo
    return True


_UNSIGNED = {int(JmpOp.JEQ): int.__eq__, int(JmpOp.JNE): int.__ne__, int(JmpOp.JGT): int.__gt__,
             int(JmpOp.JGE): int.__ge__, int(JmpOp.JLT): int.__lt__, int(JmpOp.JLE): int.__le__,
             int(JmpOp.JSET): lambda a, b: bool(a & b)}
_SIGNED = {int(JmpOp.JSGT): int.__gt__, int(JmpOp.JSGE): int.__ge__, int(JmpOp.JSLT): int.__lt__,
           int(JmpOp.JSLE): int.__le__}


def branch_const(op: int, jmp32: bool, v1: int, v2: int) -> int:
    """``is_scalar_branch_taken`` for two known operands (:func:`const_operand` values): the
    comparison itself, 1 (taken) or 0; -1 for an opcode that is no comparison."""
    cmp = _UNSIGNED.get(op)
    if cmp is None:
        cmp = _SIGNED.get(op)
        if cmp is None:
            return -1
        if jmp32:
            v1 = v1 - _B32 if v1 >> 31 else v1
            v2 = v2 - _B32 if v2 >> 31 else v2
        else:
            v1 = v1 - _B64 if v1 >> 63 else v1
            v2 = v2 - _B64 if v2 >> 63 else v2
    return 1 if cmp(v1, v2) else 0


# ---- small operands ----------------------------------------------------------------------------------------
#
# A register is *small* when its tnum lies within 31 bits and its four ranges are one range
# [lo, hi] inside [0, S32_MAX] (a byte or half-word loaded, shifted, or-ed: the bulk of the
# scalar ALU of packet parsers).  For ALU64 ADD SUB AND OR XOR, and LSH RSH by a constant, on two
# small operands, the kernel's operation leaves the u64 range [lo, hi] and every other range
# either that same range or unbounded, and reg_bounds_sync then takes its 31-bit shortcut: all of
# it reduces to the numbers (v, m, lo, hi).  tests/verifier/test_fastsmall.py compares
# :func:`alu_small` with adjust_scalar on random small operands.

_S32_MAX = (1 << 31) - 1


def small_operand(reg: Bounded) -> tuple[int, int, int, int] | None:
    """``(v, m, lo, hi)`` of a small register (see above); None otherwise."""
    v, m = reg.var_off
    lo = reg.umin
    hi = reg.umax
    if (v | m > _S32_MAX or hi > _S32_MAX or lo > hi
            or lo != reg.smin or lo != reg.u32_min or lo != reg.s32_min
            or hi != reg.smax or hi != reg.u32_max or hi != reg.s32_max):
        return None
    return v, m, lo, hi


def alu_small(op: int, dst: Bounded, dv: int, dm: int, a: int, b: int, sv: int, sm: int, c: int,
              d: int) -> bool:
    """``adjust_scalar_min_max_vals`` (ALU64) then ``reg_bounds_sync`` of ``dst op= src`` for a
    small ``dst`` ``(dv, dm, a, b)`` and a small ``src`` ``(sv, sm, c, d)`` (for a shift, a known
    amount: ``sm == 0``, ``c == d == sv``) when the result is small and not known: ``dst``
    becomes it.  False (``dst`` untouched) otherwise: the caller takes the general path."""
    if op == _ADD:
        lo, hi = a + c, b + d               # scalar_min_max_add: no bound overflows
        if hi > _S32_MAX:
            return False
        v = dv + sv                         # tnum_add
        mu = ((dm + sm + v) ^ v) | dm | sm
        m = mu
        v &= ~mu
    elif op == _OR:
        v = dv | sv                         # tnum_or
        m = (dm | sm) & ~v
        lo, hi = (a if a > c else c), v | m     # scalar_min_max_or
    elif op == _LSH:
        if sm or sv >= 31 or c != sv or d != sv:     # is_safe_to_compute_dst_reg_range
            return False
        hi = b << sv                        # scalar_min_max_lsh: s64/s32 unbounded
        if hi > _S32_MAX:
            return False
        lo = a << sv
        v, m = dv << sv, dm << sv
    elif op == _AND:
        v = dv & sv                         # tnum_and
        m = (dv | dm) & (sv | sm) & ~v
        lo, hi = v, (b if b < d else d)     # scalar_min_max_and
        if lo > hi:
            return False
    elif op == _RSH:
        if sm or sv >= 64 or c != sv or d != sv:
            return False
        lo, hi = a >> sv, b >> sv           # scalar_min_max_rsh: s64 and 32-bit ranges unbounded
        v, m = dv >> sv, dm >> sv
    elif op == _SUB:
        lo, hi = a - d, b - c               # scalar_min_max_sub: no bound wraps
        if lo < 0:
            return False
        v = dv - sv                         # tnum_sub (no wrap below 0: else not small)
        if v - sm < 0:
            return False
        mu = ((v + dm) ^ (v - sm)) | dm | sm
        m = mu
        v &= ~mu
    elif op == _XOR:
        v = dv ^ sv                         # tnum_xor
        m = dm | sm
        v &= ~m
        lo, hi = v, v | m                   # scalar_min_max_xor
    else:
        return False
    tmax = v | m
    if not m or tmax > _S32_MAX:
        return False
    # reg_bounds_sync, its 31-bit shortcut: the ranges narrow to the tnum's [v, tmax] ...
    if v > lo:
        lo = v
    if tmax < hi:
        hi = tmax
    if lo > hi or _step_known(v, m, lo, hi) is not None:
        return False
    # ... the deduction to the tnum of that range, and __update_reg_bounds again
    v, m, lo, hi = range31_sync(v, m, lo, hi)[:4]
    if (v, m) != dst.var_off:
        dst.var_off = _new(Tnum, (v, m)) if v or m else _ZERO
    dst.umin = dst.smin = dst.u32_min = dst.s32_min = lo
    dst.umax = dst.smax = dst.u32_max = dst.s32_max = hi
    return True

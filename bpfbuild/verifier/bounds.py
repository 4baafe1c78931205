"""Scalar bounds: the transfer functions of kernel/bpf/verifier.c on a register's ranges.

A scalar register carries a :class:`~bpfbuild.verifier.tnum.Tnum` (``var_off``) and four
ranges -- ``smin..smax`` and ``umin..umax`` (64-bit signed / unsigned) and ``s32_min..s32_max``
and ``u32_min..u32_max`` (the low 32 bits).  The functions here keep them consistent exactly as
the kernel does (``reg_bounds_sync`` = ``__update_reg_bounds`` + ``__reg_deduce_bounds`` twice
+ ``__reg_bound_offset`` + ``__update_reg_bounds``) and compute the result of ALU operations
(``adjust_scalar_min_max_vals``) and of comparisons (``is_scalar_branch_taken``,
``regs_refine_cond_op``).

Numbers are Python ints kept in their C domain: ``smin``/``smax`` in ``[S64_MIN, S64_MAX]``,
``umin``/``umax`` in ``[0, U64_MAX]``, and likewise for the 32-bit fields.  The functions
mutate the register they are given (any object with the :class:`Bounded` attributes).
"""

from __future__ import annotations

from typing import Protocol

from bpfbuild.isa.fields import AluOp, JmpOp
from bpfbuild.verifier.fastenum import members
from bpfbuild.verifier.tnum import (
    TNUM_UNKNOWN,
    U32_MAX,
    U64_MAX,
    Tnum,
    tnum_add,
    tnum_and,
    tnum_arshift,
    tnum_bswap,
    tnum_cast,
    tnum_clear_subreg,
    tnum_const,
    tnum_intersect,
    tnum_lshift,
    tnum_mul,
    tnum_or,
    tnum_range,
    tnum_range_bits,
    tnum_rshift,
    tnum_step,
    tnum_step_bits,
    tnum_sub,
    tnum_subreg,
    tnum_with_subreg,
    tnum_xor,
)

# plain-class views of the enums read per instruction (see .fastenum)
AluOp, JmpOp = members(AluOp), members(JmpOp)

__all__ = [
    "S32_MAX",
    "S32_MIN",
    "S64_MAX",
    "S64_MIN",
    "Bounded",
    "Known",
    "adjust_scalar",
    "bounds_sane",
    "coerce_reg_to_size",
    "coerce_reg_to_size_sx",
    "coerce_subreg_to_size_sx",
    "flip_opcode",
    "is_scalar_branch_taken",
    "mark_known",
    "mark_unbounded",
    "range31_sync",
    "reg_bounds_sync",
    "regs_refine_cond_op",
    "rev_opcode",
    "s32",
    "s64",
    "scalar_byte_swap",
    "zext_32_to_64",
]

S64_MIN = -(1 << 63)
S64_MAX = (1 << 63) - 1
S32_MIN = -(1 << 31)
S32_MAX = (1 << 31) - 1
U16_MAX = 0xFFFF

#: The reverse of BPF_JSET (kernel: ``BPF_JSET | BPF_X``).
JSET_REV = JmpOp.JSET | 0x08


class Bounded(Protocol):
    var_off: Tnum
    smin: int
    smax: int
    umin: int
    umax: int
    s32_min: int
    s32_max: int
    u32_min: int
    u32_max: int


_TNUM_ZERO = Tnum(0, 0)
_new = tuple.__new__     # _new(Tnum, (v, m)): Tnum(v, m) without NamedTuple.__new__ (see .tnum)


def s64(x: int) -> int:
    x &= U64_MAX
    return x - (1 << 64) if x >> 63 else x


def s32(x: int) -> int:
    x &= U32_MAX
    return x - (1 << 32) if x >> 31 else x


def _u64(x: int) -> int:
    return x & U64_MAX


def _u32(x: int) -> int:
    return x & U32_MAX


# ---- marking ------------------------------------------------------------------------------------

def mark_known(reg: Bounded, imm: int) -> None:
    """``___mark_reg_known``: the register holds exactly ``imm`` (taken modulo 2**64)."""
    v = imm & U64_MAX
    lo = v & U32_MAX
    reg.var_off = _new(Tnum, (v, 0)) if v else _TNUM_ZERO           # tnum_const(v)
    reg.smin = reg.smax = v - (1 << 64) if v >> 63 else v          # s64(v), inlined: a hot path
    reg.umin = reg.umax = v
    reg.s32_min = reg.s32_max = lo - (1 << 32) if lo >> 31 else lo  # s32(v)
    reg.u32_min = reg.u32_max = lo


def mark_known32(reg: Bounded, imm: int) -> None:
    """``__mark_reg32_known``: only the low 32 bits are known."""
    reg.var_off = tnum_with_subreg(reg.var_off, Tnum(imm & U32_MAX, 0))
    reg.s32_min = reg.s32_max = s32(imm)
    reg.u32_min = reg.u32_max = imm & U32_MAX


def mark_unbounded(reg: Bounded) -> None:
    mark_64_unbounded(reg)
    mark_32_unbounded(reg)


def mark_64_unbounded(reg: Bounded) -> None:
    reg.smin = S64_MIN
    reg.smax = S64_MAX
    reg.umin = 0
    reg.umax = U64_MAX


def mark_32_unbounded(reg: Bounded) -> None:
    reg.s32_min = S32_MIN
    reg.s32_max = S32_MAX
    reg.u32_min = 0
    reg.u32_max = U32_MAX


# ---- synchronisation ------------------------------------------------------------------------------

def _update_reg32_bounds(reg: Bounded) -> None:
    v = reg.var_off.value & U32_MAX
    m = reg.var_off.mask & U32_MAX
    lo = s32(v | (m & 0x80000000))
    hi = s32(v | (m & 0x7FFFFFFF))
    if lo > reg.s32_min:
        reg.s32_min = lo
    if hi < reg.s32_max:
        reg.s32_max = hi
    if v > reg.u32_min:
        reg.u32_min = v
    if v | m < reg.u32_max:
        reg.u32_max = v | m


def _update_reg64_bounds(reg: Bounded) -> None:
    v, m = reg.var_off
    lo = s64(v | (m & (1 << 63)))
    hi = s64(v | (m & S64_MAX))
    if lo > reg.smin:
        reg.smin = lo
    if hi < reg.smax:
        reg.smax = hi
    umin, umax = reg.umin, reg.umax
    if v > umin:
        reg.umin = umin = v
    tmax = v | m
    if tmax < umax:
        reg.umax = umax = tmax
    if not m and umin == v == umax:
        return
    # the u64 range and the tnum may meet in a single value (6.18 stable: tnum_step())
    nxt = tnum_step(reg.var_off, umin)
    umin_in = (umin & ~m) == v
    if umin_in and nxt > umax:
        mark_known(reg, umin)
    elif not umin_in and nxt == tmax:
        mark_known(reg, tmax)
    elif not umin_in and nxt <= umax and tnum_step(reg.var_off, nxt) > umax:
        mark_known(reg, nxt)


def update_reg_bounds(reg: Bounded) -> None:
    _update_reg32_bounds(reg)
    _update_reg64_bounds(reg)


# ---- synchronisation (the steps) ------------------------------------------------------------------------------
#
# reg_bounds_sync runs after almost every instruction, so its steps work on a plain tuple of the
# register's ten numbers -- (tnum value, tnum mask, umin, umax, smin, smax, u32_min, u32_max,
# s32_min, s32_max) -- rather than on the register's attributes and Tnum records; the register is
# read once and written once.  Each step is the kernel function it names, statement by statement.

_B32 = 1 << 32
_B64 = 1 << 64
_HI = U64_MAX ^ U32_MAX


def _known(x: int) -> tuple[int, ...]:
    """``___mark_reg_known`` of ``x`` (an unsigned 64-bit value) as a sync tuple."""
    lo = x & U32_MAX
    sx = x - _B64 if x >> 63 else x
    s32x = lo - _B32 if lo >> 31 else lo
    return (x, 0, x, x, sx, sx, lo, lo, s32x, s32x)


def _step_known(v: int, m: int, umin: int, umax: int) -> tuple[int, ...] | None:
    """The end of ``__update_reg64_bounds`` (6.18 stable: ``tnum_step()``): when the u64 range
    ``[umin, umax]`` and the tnum ``(v, m)`` meet in a single value, that known value as a sync
    tuple; None otherwise."""
    tmax = v | m
    umin_in = (umin & ~m) == v
    if umin_in and umax >= tmax:
        return None             # tnum_step(umin) <= tmax <= umax: nothing below applies
    nxt = tnum_step_bits(v, m, umin)
    if umin_in and nxt > umax:
        return _known(umin)
    if not umin_in and nxt == tmax:
        return _known(tmax)
    if not umin_in and nxt <= umax and tnum_step_bits(v, m, nxt) > umax:
        return _known(nxt)
    return None


def _update_bounds(s: tuple[int, ...]) -> tuple[int, ...]:
    """``__update_reg_bounds``: narrow the ranges to what the tnum allows (32-bit half first)."""
    v, m, umin, umax, smin, smax, u32_min, u32_max, s32_min, s32_max = s
    # __update_reg32_bounds
    v32, m32 = v & U32_MAX, m & U32_MAX
    lo = v32 | (m32 & 0x80000000)
    hi = v32 | (m32 & 0x7FFFFFFF)
    lo = lo - _B32 if lo >> 31 else lo
    hi = hi - _B32 if hi >> 31 else hi
    if lo > s32_min:
        s32_min = lo
    if hi < s32_max:
        s32_max = hi
    if v32 > u32_min:
        u32_min = v32
    if v32 | m32 < u32_max:
        u32_max = v32 | m32
    # __update_reg64_bounds
    lo = v | (m & (1 << 63))
    hi = v | (m & S64_MAX)
    lo = lo - _B64 if lo >> 63 else lo
    hi = hi - _B64 if hi >> 63 else hi
    if lo > smin:
        smin = lo
    if hi < smax:
        smax = hi
    if v > umin:
        umin = v
    tmax = v | m
    if tmax < umax:
        umax = tmax
    if m or umin != v or umax != v:
        # the u64 range and the tnum may meet in a single value
        known = _step_known(v, m, umin, umax)
        if known is not None:
            return known
    return (v, m, umin, umax, smin, smax, u32_min, u32_max, s32_min, s32_max)


def _deduce_bounds(s: tuple[int, ...]) -> tuple[int, ...]:
    """``__reg_deduce_bounds``: ``__reg32_deduce_bounds`` + ``__reg64_deduce_bounds`` +
    ``__reg_deduce_mixed_bounds``.

    ``lo``/``hi`` are the candidate bounds of each kernel statement, and a range only ever
    narrows: ``x = max(x, lo)`` is written ``if lo > x: x = lo``.  ``S32(x)`` of the kernel is
    spelled out: ``x - 2**32 if x >> 31 else x`` on the low 32 bits.
    """
    v, m, umin, umax, smin, smax, u32_min, u32_max, s32_min, s32_max = s

    # __reg32_deduce_bounds: the 64-bit ranges within one 4 GiB block say something of the low half
    if umin >> 32 == umax >> 32:
        lo, hi = umin & U32_MAX, umax & U32_MAX
        if lo > u32_min:
            u32_min = lo
        if hi < u32_max:
            u32_max = hi
        lo = lo - _B32 if lo >> 31 else lo
        hi = hi - _B32 if hi >> 31 else hi
        if lo <= hi:
            if lo > s32_min:
                s32_min = lo
            if hi < s32_max:
                s32_max = hi
    if smin >> 32 == smax >> 32:
        lo, hi = smin & U32_MAX, smax & U32_MAX
        if lo <= hi:
            if lo > u32_min:
                u32_min = lo
            if hi < u32_max:
                u32_max = hi
        lo = lo - _B32 if lo >> 31 else lo
        hi = hi - _B32 if hi >> 31 else hi
        if lo <= hi:
            if lo > s32_min:
                s32_min = lo
            if hi < s32_max:
                s32_max = hi
    if ((umin >> 32) + 1) & U32_MAX == (umax >> 32) & U32_MAX:
        lo, hi = umin & U32_MAX, umax & U32_MAX
        lo = lo - _B32 if lo >> 31 else lo
        hi = hi - _B32 if hi >> 31 else hi
        if lo < 0 <= hi:
            if lo > s32_min:
                s32_min = lo
            if hi < s32_max:
                s32_max = hi
    if ((smin >> 32) + 1) & U32_MAX == (smax >> 32) & U32_MAX:
        lo, hi = smin & U32_MAX, smax & U32_MAX
        lo = lo - _B32 if lo >> 31 else lo
        hi = hi - _B32 if hi >> 31 else hi
        if lo < 0 <= hi:
            if lo > s32_min:
                s32_min = lo
            if hi < s32_max:
                s32_max = hi
    lo, hi = u32_min & U32_MAX, u32_max & U32_MAX
    lo = lo - _B32 if lo >> 31 else lo
    hi = hi - _B32 if hi >> 31 else hi
    if lo <= hi:
        if lo > s32_min:
            s32_min = lo
        if hi < s32_max:
            s32_max = hi
    lo, hi = s32_min & U32_MAX, s32_max & U32_MAX
    if lo <= hi:
        if lo > u32_min:
            u32_min = lo
        if hi < u32_max:
            u32_max = hi
    elif u32_max < lo:
        # the s32 range crosses the sign boundary and the u32 range meets only its positive part
        s32_min = s32(u32_min)
        if hi < u32_max:
            u32_max = hi
    elif hi < u32_min:
        # ... or only its negative part
        s32_max = s32(u32_max)
        if lo > u32_min:
            u32_min = lo

    # __reg64_deduce_bounds
    lo, hi = umin & U64_MAX, umax & U64_MAX
    lo = lo - _B64 if lo >> 63 else lo
    hi = hi - _B64 if hi >> 63 else hi
    if lo <= hi:
        if lo > smin:
            smin = lo
        if hi < smax:
            smax = hi
    lo, hi = smin & U64_MAX, smax & U64_MAX
    if lo <= hi:
        if lo > umin:
            umin = lo
        if hi < umax:
            umax = hi
    elif umax < lo:
        # the s64 range crosses the sign boundary and the u64 range meets only its positive part
        smin = s64(umin)
        if hi < umax:
            umax = hi
    elif hi < umin:
        # ... or only its negative part
        smax = s64(umax)
        if lo > umin:
            umin = lo

    # __reg_deduce_mixed_bounds: the low half's ranges narrow the 64-bit ones
    lo, hi = (umin & _HI) | u32_min, (umax & _HI) | u32_max
    if lo > umin:
        umin = lo
    if hi < umax:
        umax = hi
    lo, hi = ((smin & _HI) | u32_min) & U64_MAX, ((smax & _HI) | u32_max) & U64_MAX
    lo = lo - _B64 if lo >> 63 else lo
    hi = hi - _B64 if hi >> 63 else hi
    if lo > smin:
        smin = lo
    if hi < smax:
        smax = hi
    lo32, hi32 = s32_min & U32_MAX, s32_max & U32_MAX
    if lo32 <= hi32:
        lo, hi = (umin & _HI) | lo32, (umax & _HI) | hi32
        if lo > umin:
            umin = lo
        if hi < umax:
            umax = hi
        lo, hi = (smin & _HI) | lo32, (smax & _HI) | hi32
        lo = lo - _B64 if lo >> 63 else lo
        hi = hi - _B64 if hi >> 63 else hi
        if lo > smin:
            smin = lo
        if hi < smax:
            smax = hi
    if s32_min >= 0 and smin >= S32_MIN and smax <= S32_MAX:
        smin = umin = s32_min
        smax = umax = s32_max
        # var_off = tnum_intersect(var_off, tnum_range(smin, smax))
        rv, rm = tnum_range_bits(smin & U64_MAX, smax & U64_MAX)
        v |= rv
        m &= rm
        v &= ~m
    return (v, m, umin, umax, smin, smax, u32_min, u32_max, s32_min, s32_max)


def _bound_offset(s: tuple[int, ...]) -> tuple[int, ...]:
    """``__reg_bound_offset``: the tnum learns from the u64 range, its low half from the u32 one."""
    v, m, umin, umax, smin, smax, u32_min, u32_max, s32_min, s32_max = s
    # var64 = tnum_intersect(var_off, tnum_range(umin, umax))
    rv, rm = tnum_range_bits(umin, umax)
    v |= rv
    m &= rm
    v &= ~m
    # var32 = tnum_intersect(tnum_subreg(var64), tnum_range(u32_min, u32_max))
    rv, rm = tnum_range_bits(u32_min, u32_max)
    m32 = m & rm & U32_MAX
    v32 = ((v & U32_MAX) | rv) & ~m32
    # var_off = tnum_or(tnum_clear_subreg(var64), var32): the halves do not overlap
    return ((v & _HI) | v32, (m & _HI) | m32, umin, umax, smin, smax, u32_min, u32_max, s32_min, s32_max)


def reg_bounds_sync(reg: Bounded) -> None:
    """``reg_bounds_sync``: ``__update_reg_bounds``, ``__reg_deduce_bounds`` twice,
    ``__reg_bound_offset`` and ``__update_reg_bounds`` again.

    Four shortcuts give the kernel's result with less work: a known tnum whose ranges hold its
    value makes the register that known value (the first ``__update_reg_bounds`` narrows every
    range to it; tests/verifier/test_fastalu.py); a tnum within 31 bits whose ranges meet it
    needs no deduction (below; tests/verifier/test_fastsync.py); a second deduction round after
    one that changed nothing would change nothing either (each step is a function of the ten numbers
    alone); and ``__update_reg_bounds`` is idempotent (its clamps are, and its tnum_step test
    sees the same state again), so it need not run again when nothing moved since.
    """
    var_off = reg.var_off
    v, m = var_off
    umin, umax, smin, smax = reg.umin, reg.umax, reg.smin, reg.smax
    u32_min, u32_max, s32_min, s32_max = reg.u32_min, reg.u32_max, reg.s32_min, reg.s32_max
    if not m:
        sv = v - _B64 if v >> 63 else v
        lo = v & U32_MAX
        s32v = lo - _B32 if lo >> 31 else lo
        if (umin <= v <= umax and smin <= sv <= smax and u32_min <= lo <= u32_max
                and s32_min <= s32v <= s32_max):
            # a known constant whose ranges hold it: every step after the first keeps its state
            reg.umin = reg.umax = v
            reg.smin = reg.smax = sv
            reg.u32_min = reg.u32_max = lo
            reg.s32_min = reg.s32_max = s32v
            return
    s0 = (v, m, umin, umax, smin, smax, u32_min, u32_max, s32_min, s32_max)
    tmax = v | m
    if not m or tmax > S32_MAX:
        s1 = _update_bounds(s0)
    else:
        # a tnum within 31 bits: signed and unsigned, 32 and 64 bits see it alike, as [v, tmax],
        # and __update_reg_bounds narrows every range to that (then tries tnum_step)
        umin, smin, u32_min, s32_min = max(umin, v), max(smin, v), max(u32_min, v), max(s32_min, v)
        umax, smax = min(umax, tmax), min(smax, tmax)
        u32_max, s32_max = min(u32_max, tmax), min(s32_max, tmax)
        known = _step_known(v, m, umin, umax)
        if known is not None:
            s1 = known
        else:
            lo = max(umin, smin, u32_min, s32_min)
            hi = min(umax, smax, u32_max, s32_max)
            if (lo <= hi and umin <= umax and smin <= smax and u32_min <= u32_max
                    and s32_min <= s32_max):
                # every range (so all of them) inside [0, S32_MAX] and not empty: __reg_deduce_bounds
                # narrows all four to their intersection and the tnum to its tnum_range (its
                # second round and __reg_bound_offset change nothing more); the last
                # __update_reg_bounds narrows the four alike to the tnum again
                # (tests/verifier/test_fastsync.py)
                s3 = range31_sync(v, m, lo, hi)
                if s3 != s0:
                    _store(reg, s3, v, m)
                return
            s1 = (v, m, umin, umax, smin, smax, u32_min, u32_max, s32_min, s32_max)
    s2 = _deduce_bounds(s1)
    if s2 != s1:
        s2 = _deduce_bounds(s2)
    s3 = _bound_offset(s2)
    if s3 != s1:
        s3 = _update_bounds(s3)
    if s3 != s0:
        _store(reg, s3, v, m)


def range31_sync(v: int, m: int, lo: int, hi: int) -> tuple[int, ...]:
    """The end of :func:`reg_bounds_sync` for a tnum ``(v, m)`` within 31 bits and four ranges
    that are all ``[lo, hi]`` (non-empty, already narrowed to the tnum): the tnum learns
    ``tnum_range(lo, hi)``, the ranges narrow to it again, maybe to a single value."""
    rv, rm = tnum_range_bits(lo, hi)
    m &= rm
    v = (v | rv) & ~m
    tmax = v | m
    if v > lo:
        lo = v
    if tmax < hi:
        hi = tmax
    s = _step_known(v, m, lo, hi) if m or lo != v or hi != v else None
    return (v, m, lo, hi, lo, hi, lo, hi, lo, hi) if s is None else s


def _store(reg: Bounded, s: tuple[int, ...], v: int, m: int) -> None:
    """Write a sync tuple into ``reg``, whose tnum was ``(v, m)``."""
    v2, m2, reg.umin, reg.umax, reg.smin, reg.smax, reg.u32_min, reg.u32_max, reg.s32_min, reg.s32_max = s
    if v2 != v or m2 != m:
        reg.var_off = _new(Tnum, (v2, m2))


def bounds_sane(reg: Bounded) -> bool:
    """``reg_bounds_sanity_check``: False when the ranges contradict each other or the tnum."""
    umin, umax, smin, smax = reg.umin, reg.umax, reg.smin, reg.smax
    u32_min, u32_max, s32_min, s32_max = reg.u32_min, reg.u32_max, reg.s32_min, reg.s32_max
    if umin > umax or smin > smax or u32_min > u32_max or s32_min > s32_max:
        return False
    v, m = reg.var_off
    if not m:
        if umin != v or umax != v:
            return False
        sv = v - _B64 if v >> 63 else v                 # s64(v)
        if smin != sv or smax != sv:
            return False
    if not m & U32_MAX:
        v32 = v & U32_MAX
        if u32_min != v32 or u32_max != v32:
            return False
        sv = v32 - _B32 if v32 >> 31 else v32           # s32(v)
        if s32_min != sv or s32_max != sv:
            return False
    return True


def assign_32_into_64(reg: Bounded) -> None:
    reg.umin = reg.u32_min
    reg.umax = reg.u32_max
    if 0 <= reg.s32_min and 0 <= reg.s32_max:
        reg.smin = reg.s32_min
        reg.smax = reg.s32_max
    else:
        reg.smin = 0
        reg.smax = U32_MAX


def zext_32_to_64(reg: Bounded) -> None:
    reg.var_off = tnum_subreg(reg.var_off)
    assign_32_into_64(reg)


def coerce_reg_to_size(reg: Bounded, size: int) -> None:
    """A load of ``size`` (< 8) bytes zero-extends: keep the low bytes' knowledge."""
    reg.var_off = tnum_cast(reg.var_off, size)
    mask = (1 << (size * 8)) - 1
    if reg.umin & ~mask == reg.umax & ~mask:
        reg.umin &= mask
        reg.umax &= mask
    else:
        reg.umin = 0
        reg.umax = mask
    reg.smin = reg.umin
    reg.smax = reg.umax
    if size < 4:
        mark_32_unbounded(reg)
    reg_bounds_sync(reg)


def _sext(x: int, size: int) -> int:
    bits = size * 8
    x &= (1 << bits) - 1
    return x - (1 << bits) if x >> (bits - 1) else x


def coerce_reg_to_size_sx(reg: Bounded, size: int) -> None:
    """Sign extension from ``size`` (1, 2, 4) bytes into 64 bits (ldsx, movsx)."""
    if not reg.var_off.mask:
        v = _sext(reg.var_off.value, size)
        mark_known(reg, v)
        return
    bits = size * 8
    top_smax = (reg.smax & U64_MAX) >> bits
    top_smin = (reg.smin & U64_MAX) >> bits
    if top_smax == top_smin:
        a, b = _sext(reg.smax, size), _sext(reg.smin, size)
        hi, lo = max(a, b), min(a, b)
        if (hi >= 0) == (lo >= 0):
            reg.s32_min = reg.smin = lo
            reg.s32_max = reg.smax = hi
            reg.u32_min = lo & U32_MAX
            reg.umin = lo & U64_MAX
            reg.u32_max = hi & U32_MAX
            reg.umax = hi & U64_MAX
            reg.var_off = tnum_range(lo & U64_MAX, hi & U64_MAX)
            return
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    reg.smin = reg.s32_min = lo
    reg.smax = reg.s32_max = hi
    reg.umin = reg.u32_min = 0
    reg.umax = U64_MAX
    reg.u32_max = U32_MAX
    reg.var_off = TNUM_UNKNOWN


def coerce_subreg_to_size_sx(reg: Bounded, size: int) -> None:
    """Sign extension from ``size`` (1, 2) bytes into the low 32 bits (movsx32)."""
    if not reg.var_off.mask:
        v = _sext(reg.var_off.value, size)
        reg.var_off = tnum_const(v & U64_MAX)
        reg.s32_min = reg.s32_max = s32(v)
        reg.u32_min = reg.u32_max = v & U32_MAX
        return
    bits = size * 8
    top_smax = (reg.s32_max & U32_MAX) >> bits
    top_smin = (reg.s32_min & U32_MAX) >> bits
    if top_smax == top_smin:
        a, b = _sext(reg.s32_max, size), _sext(reg.s32_min, size)
        hi, lo = max(a, b), min(a, b)
        if (lo >= 0) == (hi >= 0):
            reg.s32_min = lo
            reg.s32_max = hi
            reg.u32_min = lo & U32_MAX
            reg.u32_max = hi & U32_MAX
            reg.var_off = tnum_subreg(tnum_range(lo & U64_MAX, hi & U64_MAX))
            return
    reg.s32_min = -(1 << (bits - 1))
    reg.s32_max = (1 << (bits - 1)) - 1
    reg.u32_min = 0
    reg.u32_max = U32_MAX
    reg.var_off = tnum_subreg(TNUM_UNKNOWN)


# ---- ALU transfer ---------------------------------------------------------------------------------

def _add32(dst: Bounded, src: Bounded) -> None:
    """``scalar32_min_max_add``: unknown where the signed sum may overflow; the unsigned sums
    may wrap as long as both bounds wrap alike."""
    lo, hi = dst.s32_min + src.s32_min, dst.s32_max + src.s32_max
    if lo < S32_MIN or lo > S32_MAX or hi < S32_MIN or hi > S32_MAX:
        dst.s32_min, dst.s32_max = S32_MIN, S32_MAX
    else:
        dst.s32_min, dst.s32_max = lo, hi
    lo, hi = dst.u32_min + src.u32_min, dst.u32_max + src.u32_max
    if lo <= U32_MAX < hi:
        dst.u32_min, dst.u32_max = 0, U32_MAX
    else:
        dst.u32_min, dst.u32_max = lo & U32_MAX, hi & U32_MAX


def _add64(dst: Bounded, src: Bounded) -> None:
    """``scalar_min_max_add``."""
    lo, hi = dst.smin + src.smin, dst.smax + src.smax
    if lo < S64_MIN or lo > S64_MAX or hi < S64_MIN or hi > S64_MAX:
        dst.smin, dst.smax = S64_MIN, S64_MAX
    else:
        dst.smin, dst.smax = lo, hi
    lo, hi = dst.umin + src.umin, dst.umax + src.umax
    if lo <= U64_MAX < hi:
        dst.umin, dst.umax = 0, U64_MAX
    else:
        dst.umin, dst.umax = lo & U64_MAX, hi & U64_MAX


def _sub32(dst: Bounded, src: Bounded) -> None:
    """``scalar32_min_max_sub``: unknown where the signed difference may overflow; the unsigned
    differences may wrap as long as both bounds wrap alike."""
    lo, hi = dst.s32_min - src.s32_max, dst.s32_max - src.s32_min
    if lo < S32_MIN or lo > S32_MAX or hi < S32_MIN or hi > S32_MAX:
        dst.s32_min, dst.s32_max = S32_MIN, S32_MAX
    else:
        dst.s32_min, dst.s32_max = lo, hi
    lo, hi = dst.u32_min - src.u32_max, dst.u32_max - src.u32_min
    if lo < 0 <= hi:
        dst.u32_min, dst.u32_max = 0, U32_MAX
    else:
        dst.u32_min, dst.u32_max = lo & U32_MAX, hi & U32_MAX


def _sub64(dst: Bounded, src: Bounded) -> None:
    """``scalar_min_max_sub``."""
    lo, hi = dst.smin - src.smax, dst.smax - src.smin
    if lo < S64_MIN or lo > S64_MAX or hi < S64_MIN or hi > S64_MAX:
        dst.smin, dst.smax = S64_MIN, S64_MAX
    else:
        dst.smin, dst.smax = lo, hi
    lo, hi = dst.umin - src.umax, dst.umax - src.umin
    if lo < 0 <= hi:
        dst.umin, dst.umax = 0, U64_MAX
    else:
        dst.umin, dst.umax = lo & U64_MAX, hi & U64_MAX


def _mul32(dst: Bounded, src: Bounded) -> None:
    """``scalar32_min_max_mul``: products of the bounds, unknown where one may overflow."""
    umax, umin = dst.u32_max * src.u32_max, dst.u32_min * src.u32_min
    if umax > U32_MAX:
        dst.u32_min, dst.u32_max = 0, U32_MAX
    else:
        dst.u32_min, dst.u32_max = umin, umax
    prods = (dst.s32_min * src.s32_min, dst.s32_min * src.s32_max, dst.s32_max * src.s32_min,
             dst.s32_max * src.s32_max)
    if any(p < S32_MIN or p > S32_MAX for p in prods):
        dst.s32_min, dst.s32_max = S32_MIN, S32_MAX
    else:
        dst.s32_min, dst.s32_max = min(prods), max(prods)


def _mul64(dst: Bounded, src: Bounded) -> None:
    """``scalar_min_max_mul``: products of the bounds, unknown where one may overflow."""
    umax, umin = dst.umax * src.umax, dst.umin * src.umin
    if umax > U64_MAX:
        dst.umin, dst.umax = 0, U64_MAX
    else:
        dst.umin, dst.umax = umin, umax
    prods = (dst.smin * src.smin, dst.smin * src.smax, dst.smax * src.smin, dst.smax * src.smax)
    if any(p < S64_MIN or p > S64_MAX for p in prods):
        dst.smin, dst.smax = S64_MIN, S64_MAX
    else:
        dst.smin, dst.smax = min(prods), max(prods)


def _bitop32_signed_from_unsigned(dst: Bounded) -> None:
    if s32(dst.u32_min) <= s32(dst.u32_max):
        dst.s32_min, dst.s32_max = s32(dst.u32_min), s32(dst.u32_max)
    else:
        dst.s32_min, dst.s32_max = S32_MIN, S32_MAX


def _bitop64_signed_from_unsigned(dst: Bounded) -> None:
    if s64(dst.umin) <= s64(dst.umax):
        dst.smin, dst.smax = s64(dst.umin), s64(dst.umax)
    else:
        dst.smin, dst.smax = S64_MIN, S64_MAX


def _and32(dst: Bounded, src: Bounded) -> None:
    var32 = tnum_subreg(dst.var_off)
    if not (src.var_off.mask & U32_MAX) and not var32.mask:
        mark_known32(dst, var32.value)
        return
    dst.u32_min = var32.value
    dst.u32_max = min(dst.u32_max, src.u32_max)
    _bitop32_signed_from_unsigned(dst)


def _and64(dst: Bounded, src: Bounded, update: bool) -> None:
    if not src.var_off.mask and not dst.var_off.mask:
        mark_known(dst, dst.var_off.value)
        return
    dst.umin = dst.var_off.value
    dst.umax = min(dst.umax, src.umax)
    _bitop64_signed_from_unsigned(dst)
    if update:
        update_reg_bounds(dst)


def _or32(dst: Bounded, src: Bounded) -> None:
    var32 = tnum_subreg(dst.var_off)
    if not (src.var_off.mask & U32_MAX) and not var32.mask:
        mark_known32(dst, var32.value)
        return
    dst.u32_min = max(dst.u32_min, src.u32_min)
    dst.u32_max = var32.value | var32.mask
    _bitop32_signed_from_unsigned(dst)


def _or64(dst: Bounded, src: Bounded, update: bool) -> None:
    if not src.var_off.mask and not dst.var_off.mask:
        mark_known(dst, dst.var_off.value)
        return
    dst.umin = max(dst.umin, src.umin)
    dst.umax = dst.var_off.value | dst.var_off.mask
    _bitop64_signed_from_unsigned(dst)
    if update:
        update_reg_bounds(dst)


def _xor32(dst: Bounded, src: Bounded) -> None:
    var32 = tnum_subreg(dst.var_off)
    if not (src.var_off.mask & U32_MAX) and not var32.mask:
        mark_known32(dst, var32.value)
        return
    dst.u32_min = var32.value
    dst.u32_max = var32.value | var32.mask
    _bitop32_signed_from_unsigned(dst)


def _xor64(dst: Bounded, src: Bounded, update: bool) -> None:
    if not src.var_off.mask and not dst.var_off.mask:
        mark_known(dst, dst.var_off.value)
        return
    dst.umin = dst.var_off.value
    dst.umax = dst.var_off.value | dst.var_off.mask
    _bitop64_signed_from_unsigned(dst)
    if update:
        update_reg_bounds(dst)


def _lsh32_bounds(dst: Bounded, umin_val: int, umax_val: int) -> None:
    dst.s32_min, dst.s32_max = S32_MIN, S32_MAX
    if umax_val > 31 or dst.u32_max > 1 << (31 - umax_val):
        dst.u32_min, dst.u32_max = 0, U32_MAX
    else:
        dst.u32_min = (dst.u32_min << umin_val) & U32_MAX
        dst.u32_max = (dst.u32_max << umax_val) & U32_MAX


def _lsh32(dst: Bounded, src: Bounded) -> None:
    umax_val, umin_val = src.u32_max, src.u32_min
    sub = tnum_subreg(dst.var_off)
    _lsh32_bounds(dst, umin_val, umax_val)
    dst.var_off = tnum_subreg(tnum_lshift(sub, umin_val))
    mark_64_unbounded(dst)
    _update_reg32_bounds(dst)


def _lsh64_bounds(dst: Bounded, umin_val: int, umax_val: int) -> None:
    if umin_val == 32 and umax_val == 32:   # s32 bounds keep their sign shifted left by 32 (6.18 stable)
        dst.smax = dst.s32_max << 32
        dst.smin = dst.s32_min << 32
    else:
        dst.smax = S64_MAX
        dst.smin = S64_MIN
    if dst.umax > 1 << (63 - umax_val):
        dst.umin, dst.umax = 0, U64_MAX
    else:
        dst.umin = (dst.umin << umin_val) & U64_MAX
        dst.umax = (dst.umax << umax_val) & U64_MAX


def _lsh64(dst: Bounded, src: Bounded) -> None:
    """``scalar_min_max_lsh`` but its final ``__update_reg_bounds`` (see :func:`adjust_scalar`)."""
    umax_val, umin_val = src.umax, src.umin
    _lsh64_bounds(dst, umin_val, umax_val)
    _lsh32_bounds(dst, umin_val, umax_val)
    dst.var_off = tnum_lshift(dst.var_off, umin_val)


def _rsh32(dst: Bounded, src: Bounded) -> None:
    sub = tnum_subreg(dst.var_off)
    umax_val, umin_val = src.u32_max, src.u32_min
    dst.s32_min, dst.s32_max = S32_MIN, S32_MAX
    dst.var_off = tnum_rshift(sub, umin_val)
    dst.u32_min >>= umax_val
    dst.u32_max >>= umin_val
    mark_64_unbounded(dst)
    _update_reg32_bounds(dst)


def _rsh64(dst: Bounded, src: Bounded) -> None:
    """``scalar_min_max_rsh`` but its final ``__update_reg_bounds`` (see :func:`adjust_scalar`)."""
    umax_val, umin_val = src.umax, src.umin
    dst.smin, dst.smax = S64_MIN, S64_MAX
    dst.var_off = tnum_rshift(dst.var_off, umin_val)
    dst.umin >>= umax_val
    dst.umax >>= umin_val
    mark_32_unbounded(dst)


def _arsh32(dst: Bounded, src: Bounded) -> None:
    shift = src.u32_min
    dst.s32_min = s32(dst.s32_min >> shift)
    dst.s32_max = s32(dst.s32_max >> shift)
    dst.var_off = tnum_arshift(tnum_subreg(dst.var_off), shift, 32)
    dst.u32_min, dst.u32_max = 0, U32_MAX
    mark_64_unbounded(dst)
    _update_reg32_bounds(dst)


def _arsh64(dst: Bounded, src: Bounded) -> None:
    """``scalar_min_max_arsh`` but its final ``__update_reg_bounds`` (see :func:`adjust_scalar`)."""
    shift = src.umin
    dst.smin >>= shift
    dst.smax >>= shift
    dst.var_off = tnum_arshift(dst.var_off, shift, 64)
    dst.umin, dst.umax = 0, U64_MAX
    mark_32_unbounded(dst)


def _src_is_const(src: Bounded, alu32: bool) -> bool:
    if alu32:
        return (not (src.var_off.mask & U32_MAX) and src.s32_min == src.s32_max
                and src.u32_min == src.u32_max)
    return not src.var_off.mask and src.smin == src.smax and src.umin == src.umax


_ALWAYS_SAFE = frozenset(int(o) for o in (AluOp.ADD, AluOp.SUB, AluOp.AND, AluOp.XOR, AluOp.OR, AluOp.MUL))
_SHIFT_OPS = frozenset(int(o) for o in (AluOp.LSH, AluOp.RSH, AluOp.ARSH))


def safe_to_compute(op: int, src: Bounded, alu32: bool) -> bool:
    """``is_safe_to_compute_dst_reg_range``: can the bounds of ``dst op src`` be computed?"""
    if op in _ALWAYS_SAFE:
        return True
    if op in _SHIFT_OPS:
        return _src_is_const(src, alu32) and src.umax < (32 if alu32 else 64)
    return False


def adjust_scalar(op: int, alu32: bool, dst: Bounded, src: Bounded) -> bool:
    """``adjust_scalar_min_max_vals`` for two scalars (``src`` is not modified).

    Returns False when the result is unknown (the caller marks ``dst`` unknown).

    The 64-bit operations end with ``__update_reg_bounds``; for ALU64 the ``reg_bounds_sync``
    that follows starts with it again, and it is idempotent, so they leave it to the sync
    (tests/verifier/test_fastsync.py checks that sync of an updated register is the sync of the
    register).  For ALU32 the zero extension comes between them: there it runs.
    """
    if not safe_to_compute(op, src, alu32):
        return False
    match op:
        case AluOp.ADD:
            _add32(dst, src)
            _add64(dst, src)
            dst.var_off = tnum_add(dst.var_off, src.var_off)
        case AluOp.SUB:
            _sub32(dst, src)
            _sub64(dst, src)
            dst.var_off = tnum_sub(dst.var_off, src.var_off)
        case AluOp.MUL:
            dst.var_off = tnum_mul(dst.var_off, src.var_off)
            _mul32(dst, src)
            _mul64(dst, src)
        case AluOp.AND:
            dst.var_off = tnum_and(dst.var_off, src.var_off)
            _and32(dst, src)
            _and64(dst, src, alu32)
        case AluOp.OR:
            dst.var_off = tnum_or(dst.var_off, src.var_off)
            _or32(dst, src)
            _or64(dst, src, alu32)
        case AluOp.XOR:
            dst.var_off = tnum_xor(dst.var_off, src.var_off)
            _xor32(dst, src)
            _xor64(dst, src, alu32)
        case AluOp.LSH:
            (_lsh32 if alu32 else _lsh64)(dst, src)
        case AluOp.RSH:
            (_rsh32 if alu32 else _rsh64)(dst, src)
        case AluOp.ARSH:
            (_arsh32 if alu32 else _arsh64)(dst, src)
    if alu32:
        zext_32_to_64(dst)
    reg_bounds_sync(dst)
    return True


class Known:
    """A throw-away bounded value holding ``value`` (the kernel's fake_reg)."""

    __slots__ = ("s32_max", "s32_min", "smax", "smin", "u32_max", "u32_min", "umax", "umin", "var_off")
    var_off: Tnum
    smin: int
    smax: int
    umin: int
    umax: int
    s32_min: int
    s32_max: int
    u32_min: int
    u32_max: int

    def __init__(self, value: int) -> None:
        mark_known(self, value)


def negate(dst: Bounded, alu32: bool) -> None:
    """``dst = -dst`` (BPF_NEG): computed as ``0 - dst``."""
    old = Known(0)
    for name in Known.__slots__:
        setattr(old, name, getattr(dst, name))
    mark_known(dst, 0)
    _sub32(dst, old)
    _sub64(dst, old)
    dst.var_off = tnum_sub(tnum_const(0), old.var_off)
    if alu32:
        zext_32_to_64(dst)
    reg_bounds_sync(dst)


def scalar_byte_swap(dst: Bounded, bits: int, swap: bool) -> None:
    """BPF_END: ``swap`` (be on little endian, or bswap) reverses the low ``bits``; otherwise
    le16/le32 truncate and le64 leaves the value alone."""
    if not swap:
        if bits < 64:
            coerce_reg_to_size(dst, bits // 8)
            zext_32_to_64(dst)
            reg_bounds_sync(dst)
        return
    dst.var_off = tnum_bswap(dst.var_off, bits)
    mark_unbounded(dst)
    reg_bounds_sync(dst)


def add_const(dst: Bounded, delta: int) -> None:
    """``reg += delta`` on the bounds (as sync_linked_regs applies a known offset)."""
    c = Known(delta)
    _add32(dst, c)
    _add64(dst, c)
    dst.var_off = tnum_add(dst.var_off, c.var_off)


# ---- comparisons ----------------------------------------------------------------------------------

_FLIP = {
    JmpOp.JEQ: JmpOp.JEQ, JmpOp.JNE: JmpOp.JNE, JmpOp.JSET: JmpOp.JSET,
    JmpOp.JGE: JmpOp.JLE, JmpOp.JGT: JmpOp.JLT, JmpOp.JLE: JmpOp.JGE, JmpOp.JLT: JmpOp.JGT,
    JmpOp.JSGE: JmpOp.JSLE, JmpOp.JSGT: JmpOp.JSLT, JmpOp.JSLE: JmpOp.JSGE, JmpOp.JSLT: JmpOp.JSGT,
}
_REV = {
    JmpOp.JEQ: JmpOp.JNE, JmpOp.JNE: JmpOp.JEQ, JmpOp.JSET: JSET_REV, JSET_REV: JmpOp.JSET,
    JmpOp.JGE: JmpOp.JLT, JmpOp.JGT: JmpOp.JLE, JmpOp.JLE: JmpOp.JGT, JmpOp.JLT: JmpOp.JGE,
    JmpOp.JSGE: JmpOp.JSLT, JmpOp.JSGT: JmpOp.JSLE, JmpOp.JSLE: JmpOp.JSGT, JmpOp.JSLT: JmpOp.JSGE,
}


def flip_opcode(op: int) -> int:
    """``a op b`` == ``b flip(op) a``."""
    return _FLIP[op]  # type: ignore[index]


def rev_opcode(op: int) -> int:
    """The opcode of the false branch (``JSET`` reverses to :data:`JSET_REV`)."""
    return _REV[op]  # type: ignore[index]


def is_const(reg: Bounded, jmp32: bool) -> bool:
    return not (reg.var_off.mask & (U32_MAX if jmp32 else U64_MAX))


def const_value(reg: Bounded, jmp32: bool) -> int:
    return reg.var_off.value & U32_MAX if jmp32 else reg.var_off.value


def is_scalar_branch_taken(r1: Bounded, r2: Bounded, op: int, jmp32: bool) -> int:
    """1: the branch is always taken, 0: never, -1: unknown."""
    if jmp32:
        t1, t2 = tnum_subreg(r1.var_off), tnum_subreg(r2.var_off)
        umin1, umax1, smin1, smax1 = r1.u32_min, r1.u32_max, r1.s32_min, r1.s32_max
        umin2, umax2, smin2, smax2 = r2.u32_min, r2.u32_max, r2.s32_min, r2.s32_max
    else:
        t1, t2 = r1.var_off, r2.var_off
        umin1, umax1, smin1, smax1 = r1.umin, r1.umax, r1.smin, r1.smax
        umin2, umax2, smin2, smax2 = r2.umin, r2.umax, r2.smin, r2.smax
    match op:
        case JmpOp.JEQ | JmpOp.JNE:
            eq = op == JmpOp.JEQ
            if not t1.mask and not t2.mask:
                return int((t1.value == t2.value) == eq)
            known = ~t1.mask & ~t2.mask
            if t1.value & known != t2.value & known:  # tnum_overlap(): known bits disagree
                return int(not eq)
            if umin1 > umax2 or umax1 < umin2 or smin1 > smax2 or smax1 < smin2:
                return int(not eq)
            if not jmp32 and (r1.u32_min > r2.u32_max or r1.u32_max < r2.u32_min
                              or r1.s32_min > r2.s32_max or r1.s32_max < r2.s32_min):
                return int(not eq)
        case JmpOp.JSET:
            if not is_const(r2, jmp32):
                r1, r2 = r2, r1
                t1, t2 = t2, t1
            if not is_const(r2, jmp32):
                return -1
            if (~t1.mask & t1.value) & t2.value:
                return 1
            if not ((t1.mask | t1.value) & t2.value):
                return 0
        case JmpOp.JGT:
            if umin1 > umax2:
                return 1
            if umax1 <= umin2:
                return 0
        case JmpOp.JSGT:
            if smin1 > smax2:
                return 1
            if smax1 <= smin2:
                return 0
        case JmpOp.JLT:
            if umax1 < umin2:
                return 1
            if umin1 >= umax2:
                return 0
        case JmpOp.JSLT:
            if smax1 < smin2:
                return 1
            if smin1 >= smax2:
                return 0
        case JmpOp.JGE:
            if umin1 >= umax2:
                return 1
            if umax1 < umin2:
                return 0
        case JmpOp.JSGE:
            if smin1 >= smax2:
                return 1
            if smax1 < smin2:
                return 0
        case JmpOp.JLE:
            if umax1 <= umin2:
                return 1
            if umin1 > umax2:
                return 0
        case JmpOp.JSLE:
            if smax1 <= smin2:
                return 1
            if smin1 > smax2:
                return 0
    return -1


def _is_power_of_2(x: int) -> bool:
    return x != 0 and x & (x - 1) == 0


def regs_refine_cond_op(r1: Bounded, r2: Bounded, op: int, jmp32: bool) -> None:
    """Narrow both registers to the values for which ``r1 op r2`` holds (no sync)."""
    if op in (JmpOp.JGE, JmpOp.JGT, JmpOp.JSGE, JmpOp.JSGT):
        op = _FLIP[op]  # type: ignore[index]
        r1, r2 = r2, r1
    match op:
        case JmpOp.JEQ:
            if jmp32:
                r1.u32_min = max(r1.u32_min, r2.u32_min)
                r1.u32_max = min(r1.u32_max, r2.u32_max)
                r1.s32_min = max(r1.s32_min, r2.s32_min)
                r1.s32_max = min(r1.s32_max, r2.s32_max)
                r2.u32_min, r2.u32_max = r1.u32_min, r1.u32_max
                r2.s32_min, r2.s32_max = r1.s32_min, r1.s32_max
                t = tnum_intersect(tnum_subreg(r1.var_off), tnum_subreg(r2.var_off))
                r1.var_off = tnum_with_subreg(r1.var_off, t)
                r2.var_off = tnum_with_subreg(r2.var_off, t)
            else:
                r1.umin = max(r1.umin, r2.umin)
                r1.umax = min(r1.umax, r2.umax)
                r1.smin = max(r1.smin, r2.smin)
                r1.smax = min(r1.smax, r2.smax)
                r2.umin, r2.umax, r2.smin, r2.smax = r1.umin, r1.umax, r1.smin, r1.smax
                r1.var_off = tnum_intersect(r1.var_off, r2.var_off)
                r2.var_off = r1.var_off
        case JmpOp.JNE:
            if not is_const(r2, jmp32):
                r1, r2 = r2, r1
            if not is_const(r2, jmp32):
                return
            val = const_value(r2, jmp32)
            if jmp32:
                if r1.u32_min == val & U32_MAX:
                    r1.u32_min += 1
                if r1.u32_max == val & U32_MAX:
                    r1.u32_max -= 1
                if r1.s32_min == s32(val):
                    r1.s32_min += 1
                if r1.s32_max == s32(val):
                    r1.s32_max -= 1
            else:
                if r1.umin == val:
                    r1.umin += 1
                if r1.umax == val:
                    r1.umax -= 1
                if r1.smin == s64(val):
                    r1.smin += 1
                if r1.smax == s64(val):
                    r1.smax -= 1
        case JmpOp.JSET:
            if not is_const(r2, jmp32):
                r1, r2 = r2, r1
            if not is_const(r2, jmp32):
                return
            val = const_value(r2, jmp32)
            if not _is_power_of_2(val):
                return
            if jmp32:
                t = tnum_or(tnum_subreg(r1.var_off), tnum_const(val))
                r1.var_off = tnum_with_subreg(r1.var_off, t)
            else:
                r1.var_off = tnum_or(r1.var_off, tnum_const(val))
        case _ if op == JSET_REV:
            if not is_const(r2, jmp32):
                r1, r2 = r2, r1
            if not is_const(r2, jmp32):
                return
            val = const_value(r2, jmp32)
            if jmp32:
                t = tnum_and(tnum_subreg(r1.var_off), tnum_const(~val & U64_MAX))
                r1.var_off = tnum_with_subreg(r1.var_off, t)
            else:
                r1.var_off = tnum_and(r1.var_off, tnum_const(~val & U64_MAX))
            # the cleared bits may exclude the old bounds: 6.18 re-derives the ranges from the tnum
            mark_unbounded(r1)
        case JmpOp.JLE:
            if jmp32:
                r1.u32_max = min(r1.u32_max, r2.u32_max)
                r2.u32_min = max(r1.u32_min, r2.u32_min)
            else:
                r1.umax = min(r1.umax, r2.umax)
                r2.umin = max(r1.umin, r2.umin)
        case JmpOp.JLT:
            if jmp32:
                r1.u32_max = min(r1.u32_max, (r2.u32_max - 1) & U32_MAX)
                r2.u32_min = max((r1.u32_min + 1) & U32_MAX, r2.u32_min)
            else:
                r1.umax = min(r1.umax, (r2.umax - 1) & U64_MAX)
                r2.umin = max((r1.umin + 1) & U64_MAX, r2.umin)
        case JmpOp.JSLE:
            if jmp32:
                r1.s32_max = min(r1.s32_max, r2.s32_max)
                r2.s32_min = max(r1.s32_min, r2.s32_min)
            else:
                r1.smax = min(r1.smax, r2.smax)
                r2.smin = max(r1.smin, r2.smin)
        case JmpOp.JSLT:
            if jmp32:
                r1.s32_max = min(r1.s32_max, s32(r2.s32_max - 1))
                r2.s32_min = max(s32(r1.s32_min + 1), r2.s32_min)
            else:
                r1.smax = min(r1.smax, s64(r2.smax - 1))
                r2.smin = max(s64(r1.smin + 1), r2.smin)


def range_within(old: Bounded, cur: Bounded) -> bool:
    return (old.umin <= cur.umin and old.umax >= cur.umax and old.smin <= cur.smin
            and old.smax >= cur.smax and old.u32_min <= cur.u32_min and old.u32_max >= cur.u32_max
            and old.s32_min <= cur.s32_min and old.s32_max >= cur.s32_max)

"""Tracked numbers ("tnums"): which bits of a 64-bit value are known, as kernel/bpf/tnum.c.

A tnum is ``(value, mask)``: a bit set in ``mask`` is unknown, otherwise the bit is the one in
``value`` (a known bit never has its mask bit set).  Every operation returns a tnum that
contains all results of the operation on all members of the operand tnums.

:class:`Tnum` is a ``NamedTuple`` rather than a dataclass: tnums are created several times per
verified instruction, and a tuple is the cheapest immutable record Python has.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = [
    "TNUM_UNKNOWN",
    "U32_MAX",
    "U64_MAX",
    "Tnum",
    "tnum_add",
    "tnum_and",
    "tnum_arshift",
    "tnum_bswap",
    "tnum_cast",
    "tnum_clear_subreg",
    "tnum_const",
    "tnum_const_subreg",
    "tnum_in",
    "tnum_intersect",
    "tnum_is_aligned",
    "tnum_lshift",
    "tnum_mul",
    "tnum_neg",
    "tnum_or",
    "tnum_range",
    "tnum_range_bits",
    "tnum_rshift",
    "tnum_step",
    "tnum_step_bits",
    "tnum_str",
    "tnum_sub",
    "tnum_subreg",
    "tnum_subreg_is_const",
    "tnum_with_subreg",
    "tnum_xor",
]

U64_MAX = (1 << 64) - 1
U32_MAX = (1 << 32) - 1


class Tnum(NamedTuple):
    """Known bits ``value`` and unknown bits ``mask`` of a 64-bit quantity (both unsigned)."""

    value: int
    mask: int

    @property
    def is_const(self) -> bool:
        return not self.mask

    @property
    def is_unknown(self) -> bool:
        return self.mask == U64_MAX

    def equals_const(self, value: int) -> bool:
        return not self.mask and self.value == value & U64_MAX

    def __str__(self) -> str:
        return tnum_str(self)


# ``_new(Tnum, (value, mask))`` is ``Tnum(value, mask)`` without the Python-level ``__new__`` of
# a NamedTuple (the same tuple; about half the cost, and the hot functions build one each)
_new = tuple.__new__

TNUM_UNKNOWN = Tnum(0, U64_MAX)
_ZERO = Tnum(0, 0)


def tnum_const(value: int) -> Tnum:
    return _new(Tnum, (value & U64_MAX, 0)) if value else _ZERO


def tnum_range(lo: int, hi: int) -> Tnum:
    """The smallest tnum holding every value of the unsigned range ``[lo, hi]``."""
    bits = ((lo ^ hi) & U64_MAX).bit_length()
    if bits > 63:
        return TNUM_UNKNOWN
    delta = (1 << bits) - 1
    return _new(Tnum, (lo & ~delta & U64_MAX, delta))


def tnum_range_bits(lo: int, hi: int) -> tuple[int, int]:
    """:func:`tnum_range` as a plain ``(value, mask)`` pair (for code that works on the numbers)."""
    bits = ((lo ^ hi) & U64_MAX).bit_length()
    if bits > 63:
        return 0, U64_MAX
    delta = (1 << bits) - 1
    return lo & ~delta & U64_MAX, delta


def tnum_lshift(a: Tnum, shift: int) -> Tnum:
    return _new(Tnum, ((a.value << shift) & U64_MAX, (a.mask << shift) & U64_MAX))


def tnum_rshift(a: Tnum, shift: int) -> Tnum:
    return _new(Tnum, (a.value >> shift, a.mask >> shift))


def tnum_arshift(a: Tnum, shift: int, bitness: int) -> Tnum:
    """Arithmetic right shift of the low ``bitness`` (32 or 64) bits, result zero-extended."""
    width_mask = U32_MAX if bitness == 32 else U64_MAX
    sign = 1 << (bitness - 1)

    def sar(x: int) -> int:
        x &= width_mask
        if x & sign:
            x -= sign << 1
        return (x >> shift) & width_mask

    return _new(Tnum, (sar(a.value), sar(a.mask)))


def tnum_add(a: Tnum, b: Tnum) -> Tnum:
    av, am = a
    bv, bm = b
    sv = av + bv
    chi = (am + bm + sv) ^ sv           # sigma ^ sv
    mu = (chi & U64_MAX) | am | bm
    return _new(Tnum, (sv & ~mu & U64_MAX, mu))


def tnum_sub(a: Tnum, b: Tnum) -> Tnum:
    av, am = a
    bv, bm = b
    dv = (av - bv) & U64_MAX
    chi = ((dv + am) & U64_MAX) ^ ((dv - bm) & U64_MAX)     # alpha ^ beta
    mu = chi | am | bm
    return _new(Tnum, (dv & ~mu & U64_MAX, mu))


def tnum_neg(a: Tnum) -> Tnum:
    return tnum_sub(_ZERO, a)


def tnum_and(a: Tnum, b: Tnum) -> Tnum:
    alpha = a.value | a.mask
    beta = b.value | b.mask
    v = a.value & b.value
    return _new(Tnum, (v, alpha & beta & ~v & U64_MAX))


def tnum_or(a: Tnum, b: Tnum) -> Tnum:
    v = a.value | b.value
    mu = a.mask | b.mask
    return _new(Tnum, (v, mu & ~v & U64_MAX))


def tnum_xor(a: Tnum, b: Tnum) -> Tnum:
    v = a.value ^ b.value
    mu = a.mask | b.mask
    return _new(Tnum, (v & ~mu & U64_MAX, mu))


def tnum_mul(a: Tnum, b: Tnum) -> Tnum:
    """Long multiplication: the known product plus, per bit of ``a``, the uncertainty it adds."""
    acc_v = (a.value * b.value) & U64_MAX
    acc_m = _ZERO
    av, am = a.value, a.mask
    bv, bm = b.value, b.mask
    while av or am:
        if av & 1:
            acc_m = tnum_add(acc_m, Tnum(0, bm))
        elif am & 1:
            acc_m = tnum_add(acc_m, Tnum(0, (bv | bm) & U64_MAX))
        av >>= 1
        am >>= 1
        bv = (bv << 1) & U64_MAX
        bm = (bm << 1) & U64_MAX
    return tnum_add(Tnum(acc_v, 0), acc_m)


def tnum_intersect(a: Tnum, b: Tnum) -> Tnum:
    """Bits known in either operand (a known 1 wins where the two disagree)."""
    v = a.value | b.value
    mu = a.mask & b.mask
    return _new(Tnum, (v & ~mu & U64_MAX, mu))


def tnum_cast(a: Tnum, size: int) -> Tnum:
    """Keep the low ``size`` bytes."""
    m = (1 << (size * 8)) - 1
    return _new(Tnum, (a.value & m, a.mask & m))


def tnum_bswap(a: Tnum, bits: int) -> Tnum:
    """Byte-swap the low ``bits`` (16, 32, 64) bits; the result is zero-extended."""
    n = bits // 8
    return Tnum(int.from_bytes((a.value & ((1 << bits) - 1)).to_bytes(n, "little"), "big"),
                int.from_bytes((a.mask & ((1 << bits) - 1)).to_bytes(n, "little"), "big"))


def tnum_step(t: Tnum, z: int) -> int:
    """The smallest member of ``t`` greater than ``z`` (``tmax`` when there is none; the
    smallest member when ``z`` is below it)."""
    return tnum_step_bits(t.value, t.mask, z)


def tnum_step_bits(v: int, m: int, z: int) -> int:
    """:func:`tnum_step` of the tnum ``(v, m)``."""
    tmax = v | m
    if z >= tmax:
        return tmax
    if z < v:
        return v
    d = z - v
    carry = (1 << (d & ~m).bit_length()) - 1
    filled = (d | carry | (~m & U64_MAX)) & U64_MAX
    return v | ((filled + 1) & m)


def tnum_is_aligned(a: Tnum, size: int) -> bool:
    if not size:
        return True
    return not ((a.value | a.mask) & (size - 1))


def tnum_in(a: Tnum, b: Tnum) -> bool:
    """Is every member of ``b`` a member of ``a``?"""
    if b.mask & ~a.mask:
        return False
    return a.value == b.value & ~a.mask


def tnum_subreg(a: Tnum) -> Tnum:
    return _new(Tnum, (a.value & U32_MAX, a.mask & U32_MAX))


def tnum_clear_subreg(a: Tnum) -> Tnum:
    return _new(Tnum, (a.value & ~U32_MAX & U64_MAX, a.mask & ~U32_MAX & U64_MAX))


def tnum_with_subreg(reg: Tnum, subreg: Tnum) -> Tnum:
    return tnum_or(tnum_clear_subreg(reg), tnum_subreg(subreg))


def tnum_const_subreg(a: Tnum, value: int) -> Tnum:
    return tnum_with_subreg(a, Tnum(value & U32_MAX, 0))


def tnum_subreg_is_const(a: Tnum) -> bool:
    return not (a.mask & U32_MAX)


def tnum_str(a: Tnum) -> str:
    """``tnum_strn``: ``(0x0; 0xff)``, or a known value as a number (decimal up to 65535)."""
    if not a.mask:
        return str(a.value) if a.value <= 0xFFFF else f"{a.value:#x}"
    return f"({a.value:#x}; {a.mask:#x})"

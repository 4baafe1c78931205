"""Tnum arithmetic is sound: every concrete result of members is a member of the result."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bpfbuild.verifier.tnum import (
    Tnum,
    tnum_add,
    tnum_and,
    tnum_arshift,
    tnum_bswap,
    tnum_cast,
    tnum_in,
    tnum_intersect,
    tnum_lshift,
    tnum_mul,
    tnum_neg,
    tnum_or,
    tnum_range,
    tnum_rshift,
    tnum_str,
    tnum_sub,
    tnum_xor,
)

M64 = (1 << 64) - 1
_u64 = st.integers(0, M64)


@st.composite
def member_of(draw: st.DrawFn) -> tuple[Tnum, int]:
    """A tnum and one of its members."""
    mask = draw(st.one_of(_u64, st.integers(0, 0xFF), st.integers(0, 0xFFFF_FFFF), st.just(0)))
    value = draw(_u64) & ~mask
    x = value | (draw(_u64) & mask)
    return Tnum(value, mask), x


def contains(t: Tnum, x: int) -> bool:
    return (x & ~t.mask & M64) == t.value


@settings(max_examples=400, deadline=None)
@given(a=member_of(), b=member_of())
def test_binary_ops_are_sound(a, b):
    (ta, x), (tb, y) = a, b
    assert contains(tnum_add(ta, tb), (x + y) & M64)
    assert contains(tnum_sub(ta, tb), (x - y) & M64)
    assert contains(tnum_and(ta, tb), x & y)
    assert contains(tnum_or(ta, tb), x | y)
    assert contains(tnum_xor(ta, tb), x ^ y)
    assert contains(tnum_mul(ta, tb), (x * y) & M64)


@settings(max_examples=300, deadline=None)
@given(a=member_of(), shift=st.integers(0, 63))
def test_unary_ops_are_sound(a, shift):
    ta, x = a
    assert contains(tnum_lshift(ta, shift), (x << shift) & M64)
    assert contains(tnum_rshift(ta, shift), x >> shift)
    signed = x - (1 << 64) if x >> 63 else x
    assert contains(tnum_arshift(ta, shift, 64), (signed >> shift) & M64)
    assert contains(tnum_neg(ta), -x & M64)
    for size in (1, 2, 4, 8):
        assert contains(tnum_cast(ta, size), x & ((1 << (size * 8)) - 1))
    for bits in (16, 32, 64):
        n = bits // 8
        swapped = int.from_bytes((x & ((1 << bits) - 1)).to_bytes(n, "little"), "big")
        assert contains(tnum_bswap(ta, bits), swapped)


@settings(max_examples=300, deadline=None)
@given(lo=_u64, hi=_u64, x=_u64)
def test_range_contains_its_members(lo, hi, x):
    lo, hi = min(lo, hi), max(lo, hi)
    x = lo + x % (hi - lo + 1)
    assert contains(tnum_range(lo, hi), x)


@settings(max_examples=300, deadline=None)
@given(a=member_of(), mask=_u64)
def test_intersect_and_in(a, mask):
    ta, x = a
    wider = Tnum(ta.value & ~mask & M64, ta.mask | mask)
    assert tnum_in(wider, ta)
    assert contains(tnum_intersect(ta, wider), x)


def test_str_is_the_kernels():
    assert tnum_str(Tnum(0, 0xFF)) == "(0x0; 0xff)"
    assert tnum_str(Tnum(0x100, 0xF)) == "(0x100; 0xf)"
    assert tnum_str(Tnum(1, 0)) == "1"            # a known value prints as a number (tnum_strn)
    assert tnum_str(Tnum(0x10000, 0)) == "0x10000"


@settings(max_examples=500, deadline=None)
@given(mask=st.integers(0, 0xFFF), value=st.integers(0, 0xFFF), z=st.integers(0, 0x1000))
def test_step_is_the_next_member(mask, value, z):
    from bpfbuild.verifier.tnum import tnum_step

    t = Tnum(value & ~mask, mask)
    members = sorted({t.value | (y & mask) for y in range(mask + 1)})
    tmax = t.value | mask
    bigger = [x for x in members if x > z]
    expected = tmax if z >= tmax else (t.value if z < t.value else bigger[0])
    assert tnum_step(t, z) == expected

"""The shortcuts of the bounds synchronisation give exactly the kernel's sequence of steps:
reg_bounds_sync against __update_reg_bounds, __reg_deduce_bounds twice, __reg_bound_offset and
__update_reg_bounds again, with no step skipped; and the table of narrow unknown loads against
mark_reg_unknown followed by coerce_reg_to_size."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bpfbuild.verifier import bounds, transfer
from bpfbuild.verifier.bounds import S32_MAX, S32_MIN, S64_MAX, S64_MIN
from bpfbuild.verifier.checks import Load, LoadKind
from bpfbuild.verifier.state import Reg
from bpfbuild.verifier.tnum import U32_MAX, U64_MAX, Tnum

FIELDS = ("var_off", "umin", "umax", "smin", "smax", "u32_min", "u32_max", "s32_min", "s32_max")


def kernel_sync(s: tuple[int, ...]) -> tuple[int, ...]:
    """reg_bounds_sync step by step, as the kernel runs it."""
    s = bounds._update_bounds(s)
    s = bounds._deduce_bounds(s)
    s = bounds._deduce_bounds(s)
    s = bounds._bound_offset(s)
    return bounds._update_bounds(s)


def numbers(r: Reg) -> tuple[int, ...]:
    return (r.var_off.value, r.var_off.mask, r.umin, r.umax, r.smin, r.smax, r.u32_min, r.u32_max, r.s32_min,
            r.s32_max)


def reg_with(s: tuple[int, ...]) -> Reg:
    r = Reg()
    r.mark_unknown()
    v, m, r.umin, r.umax, r.smin, r.smax, r.u32_min, r.u32_max, r.s32_min, r.s32_max = s
    r.var_off = Tnum(v, m)
    return r


def _tnum(width: int) -> st.SearchStrategy[tuple[int, int]]:
    limit = (1 << width) - 1
    return st.tuples(st.integers(0, limit), st.integers(0, limit)).map(lambda t: (t[0] & ~t[1], t[1]))


def _pair(lo: int, hi: int, small: int) -> st.SearchStrategy[tuple[int, int]]:
    """Two bounds of a range in [lo, hi]: often small numbers, both orders (empty ranges too)."""
    edge = st.sampled_from([lo, hi, 0, 1, 0xFF, 0x100, 0xFFFF, S32_MAX, S32_MAX + 1, U32_MAX])
    one = st.one_of(st.integers(0, small), st.integers(lo, hi), edge.filter(lambda x: lo <= x <= hi))
    return st.tuples(one, one).map(lambda t: t if t[0] <= t[1] else (t[1], t[0])) | st.tuples(one, one)


# mostly tnums within 31 bits (the shortcut), some wider, with ranges around them
_states = st.tuples(
    st.one_of(_tnum(8), _tnum(16), _tnum(31), _tnum(32), _tnum(64)),
    _pair(0, U64_MAX, 0x1FF), _pair(S64_MIN, S64_MAX, 0x1FF),
    _pair(0, U32_MAX, 0x1FF), _pair(S32_MIN, S32_MAX, 0x1FF),
).map(lambda t: (*t[0], *t[1], *t[2], *t[3], *t[4]))


@settings(max_examples=600, derandomize=True, deadline=None)
@given(_states)
def test_reg_bounds_sync_is_the_kernel_sequence(s):
    r = reg_with(s)
    bounds.reg_bounds_sync(r)
    assert numbers(r) == kernel_sync(s)


@settings(max_examples=300, derandomize=True, deadline=None)
@given(_tnum(31), st.integers(0, 0xFFFF), st.integers(0, 0xFFFF))
def test_consistent_small_values(t, a, b):
    """Ranges of the values a tnum allows (the common case after a byte load and a shift)."""
    v, m = t
    lo, hi = sorted((a, b))
    s = (v, m, lo, hi, lo, hi, lo, hi, lo, hi)
    r = reg_with(s)
    bounds.reg_bounds_sync(r)
    assert numbers(r) == kernel_sync(s)


_small = st.tuples(st.integers(0, 0x1FFFF), st.integers(0, 0x1FFFF))


@settings(max_examples=500, derandomize=True, deadline=None)
@given(_tnum(17), _small, _small, _small, _small)
def test_small_ranges(t, u, s64_, u32, s32_):
    """Four unrelated ranges of small numbers (maybe empty, maybe disjoint) around a small tnum."""
    s = (*t, *u, *s64_, *u32, *s32_)
    r = reg_with(s)
    bounds.reg_bounds_sync(r)
    assert numbers(r) == kernel_sync(s)


@pytest.mark.parametrize("size", [1, 2, 4])
def test_narrow_unknown_load_table(size):
    expect = Reg()
    expect.mark_unknown()
    bounds.coerce_reg_to_size(expect, size)
    got = Reg()
    got.mark_const(7)
    got.id = 3
    transfer.apply_load(None, got, Load(LoadKind.UNKNOWN), size, False)  # type: ignore[arg-type]
    assert [getattr(got, f) for f in FIELDS] == [getattr(expect, f) for f in FIELDS]
    assert got.id == 0 and got.type == expect.type and not got.precise


@settings(max_examples=300, derandomize=True, deadline=None)
@given(_states)
def test_sync_after_update_is_the_sync(s):
    """__update_reg_bounds right before reg_bounds_sync changes nothing (adjust_scalar's ALU64
    operations leave it out)."""
    r = reg_with(s)
    bounds.update_reg_bounds(r)
    bounds.reg_bounds_sync(r)
    assert numbers(r) == kernel_sync(s)

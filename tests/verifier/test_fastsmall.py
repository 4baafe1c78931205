"""The small-operand shortcut of bpfbuild.verifier.fastalu (alu_small) gives exactly what the
general path gives -- adjust_scalar with its reg_bounds_sync -- whenever it applies, and applies
to the common cases of packet parsing (a loaded byte shifted, or-ed, added, masked)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bpfbuild.isa.fields import AluOp
from bpfbuild.verifier import bounds, transfer
from bpfbuild.verifier.checks import Load, LoadKind
from bpfbuild.verifier.fastalu import alu_small, small_operand
from bpfbuild.verifier.state import Reg, RegType
from bpfbuild.verifier.tnum import Tnum

S32_MAX = (1 << 31) - 1
FIELDS = ("var_off", "smin", "smax", "umin", "umax", "s32_min", "s32_max", "u32_min", "u32_max")
OPS = [AluOp.ADD, AluOp.SUB, AluOp.OR, AluOp.AND, AluOp.XOR, AluOp.LSH, AluOp.RSH, AluOp.MUL, AluOp.ARSH]


def small_reg(v: int, m: int, lo: int, hi: int) -> Reg:
    r = Reg()
    r.mark_unknown()
    r.var_off = Tnum(v & ~m, m)
    r.umin = r.smin = r.u32_min = r.s32_min = lo
    r.umax = r.smax = r.u32_max = r.s32_max = hi
    return r


def _tnum(width: int) -> st.SearchStrategy[tuple[int, int]]:
    limit = (1 << width) - 1
    return st.tuples(st.integers(0, limit), st.integers(0, limit)).map(lambda t: (t[0] & ~t[1], t[1]))


_bound = st.one_of(st.integers(0, 0x1FF), st.integers(0, 0xFFFF), st.integers(0, S32_MAX),
                   st.sampled_from([0, 1, 0xFF, 0x100, 0xFFFF, 0x10000, S32_MAX]))

# small registers: synced ones (the bounds of the values a tnum allows) and arbitrary ones
_synced = st.tuples(st.one_of(_tnum(4), _tnum(8), _tnum(16), _tnum(31))).map(
    lambda t: small_reg(t[0][0], t[0][1], t[0][0], t[0][0] | t[0][1]))
_any = st.tuples(st.one_of(_tnum(4), _tnum(8), _tnum(16), _tnum(31)), _bound, _bound).map(
    lambda t: small_reg(t[0][0], t[0][1], min(t[1], t[2]), max(t[1], t[2])))
_consts = st.one_of(st.integers(0, 40), st.integers(0, S32_MAX)).map(lambda c: small_reg(c, 0, c, c))
_regs = st.one_of(_synced, _any, _consts)


def state(r: Reg) -> tuple[object, ...]:
    return tuple(getattr(r, f) for f in FIELDS)


def general(op: int, dst: Reg, src: Reg) -> Reg:
    out = dst.copy()
    if not bounds.adjust_scalar(op, False, out, src):
        out.mark_unknown()
    return out


@settings(max_examples=3000, derandomize=True, deadline=None)
@given(st.sampled_from(OPS), _regs, _regs)
def test_alu_small_is_the_general_path(op, dst, src):
    d, s = small_operand(dst), small_operand(src)
    assert d is not None and s is not None
    want = general(op, dst, src)
    got = dst.copy()
    if alu_small(op, got, *d, *s):
        assert state(got) == state(want)
        # what _adjust_reg_min_max_vals relies on to skip the sanity check
        assert bounds.bounds_sane(got) == (got.umin <= got.umax)
    else:
        assert state(got) == state(dst)


@settings(max_examples=1000, derandomize=True, deadline=None)
@given(st.sampled_from([AluOp.LSH, AluOp.RSH]), _regs, st.integers(0, 40))
def test_alu_small_shift_by_constant(op, dst, amount):
    src = small_reg(amount, 0, amount, amount)
    want = general(op, dst, src)
    got = dst.copy()
    if alu_small(op, got, *small_operand(dst), *small_operand(src)):
        assert state(got) == state(want)
        # what _adjust_reg_min_max_vals relies on to skip the sanity check
        assert bounds.bounds_sane(got) == (got.umin <= got.umax)
    else:
        assert state(got) == state(dst)


def test_alu_small_applies_to_packet_parsing():
    byte = small_reg(0, 0xFF, 0, 0xFF)
    shifted = byte.copy()
    assert alu_small(AluOp.LSH, shifted, *small_operand(byte), 8, 0, 8, 8)
    assert (shifted.var_off, shifted.umax) == (Tnum(0, 0xFF00), 0xFF00)
    word = shifted.copy()
    assert alu_small(AluOp.OR, word, *small_operand(shifted), *small_operand(byte))
    assert (word.var_off, word.umin, word.umax) == (Tnum(0, 0xFFFF), 0, 0xFFFF)
    assert (word.smax, word.u32_max, word.s32_max) == (0xFFFF, 0xFFFF, 0xFFFF)
    total = word.copy()
    assert alu_small(AluOp.ADD, total, *small_operand(word), 14, 0, 14, 14)
    assert (total.umin, total.umax) == (14, 0xFFFF + 14)


def test_small_operand_refuses_other_registers():
    assert small_operand(small_reg(0, 0xFF, 0, 0x100)) is not None
    wide = small_reg(0, 0xFF, 0, 0xFF)
    wide.smin = -1
    assert small_operand(wide) is None
    r = Reg()
    r.mark_unknown()
    assert small_operand(r) is None


@pytest.mark.parametrize("size", [1, 2, 4, 8])
def test_unknown_load_needs_no_sanity_check(size):
    """do_ldx skips reg_bounds_sanity_check where apply_load says so: the result is sane."""
    r = small_reg(0, 0xFF, 3, 7)
    assert not transfer.apply_load(None, r, Load(LoadKind.UNKNOWN), size, False)  # type: ignore[arg-type]
    assert bounds.bounds_sane(r) and r.type == RegType.SCALAR_VALUE
    assert r.umax == (1 << 8 * size) - 1

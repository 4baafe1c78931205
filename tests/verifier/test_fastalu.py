"""The known-operand shortcuts of bpfbuild.verifier.fastalu give exactly what the general path
gives whenever they apply, and apply to every pair of known operands: the ALU transfer's state
(adjust_scalar, reg_bounds_sync, the sanity check) and the answer of is_scalar_branch_taken."""

from __future__ import annotations

import operator
from functools import reduce

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bpfbuild.isa.fields import AluOp, JmpOp
from bpfbuild.verifier import bounds
from bpfbuild.verifier.fastalu import alu_const, branch_const, const_operand
from bpfbuild.verifier.state import Reg
from bpfbuild.verifier.tnum import Tnum

M64 = (1 << 64) - 1
M32 = (1 << 32) - 1
FIELDS = ("var_off", "smin", "smax", "umin", "umax", "s32_min", "s32_max", "u32_min", "u32_max")
OPS = [AluOp.ADD, AluOp.SUB, AluOp.MUL, AluOp.OR, AluOp.AND, AluOp.LSH, AluOp.RSH, AluOp.XOR, AluOp.ARSH,
       AluOp.DIV, AluOp.MOD]
SHIFTS = (AluOp.LSH, AluOp.RSH, AluOp.ARSH)

_vals = st.one_of(st.integers(0, M64), st.integers(0, 70), st.integers(M64 - 70, M64), st.integers(0, M32),
                  st.sampled_from([0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF, 1 << 32, 1 << 63, (1 << 63) - 1]))


#: how each pair of ranges sees a 64-bit value
VIEWS = (("u", lambda x: x), ("s", bounds.s64), ("u32_", lambda x: x & M32), ("s32_", bounds.s32))


def reg_of(*values: int) -> Reg:
    """The register the kernel holds for these values (bounds and tnum synced)."""
    unknown = reduce(operator.or_, (v ^ values[0] for v in values))   # the bits the values disagree on
    r = Reg()
    r.mark_unknown()
    r.var_off = Tnum(values[0] & ~unknown & M64, unknown)
    for prefix, view in VIEWS:
        setattr(r, prefix + "min", min(map(view, values)))
        setattr(r, prefix + "max", max(map(view, values)))
    bounds.reg_bounds_sync(r)
    return r


# a register: a known value, or values sharing their low half (known for ALU32 only), or any two
_regs = st.one_of(
    _vals.map(reg_of),
    st.tuples(_vals, st.integers(0, M32)).map(lambda t: reg_of(t[0], (t[1] << 32 | t[0]) & M64)),
    st.tuples(_vals, _vals).map(lambda t: reg_of(*t)),
)


def state(r: Reg) -> tuple[object, ...]:
    return tuple(getattr(r, f) for f in FIELDS)


def general(op: int, alu32: bool, dst: Reg, src: Reg) -> Reg:
    r = dst.copy()
    if not bounds.adjust_scalar(op, alu32, r, src):
        r.mark_unknown()
    elif not bounds.bounds_sane(r):
        bounds.mark_unbounded(r)
    return r


def shortcut(op: int, alu32: bool, dst: Reg, src: Reg) -> Reg | None:
    """What insns.do_alu does with a scalar operand: None where it takes the general path."""
    sv = const_operand(src, alu32)
    if sv is None or op in (AluOp.DIV, AluOp.MOD) or (op in SHIFTS and src.umax >= (32 if alu32 else 64)):
        return None
    r = dst.copy()
    return r if alu_const(op, alu32, r, sv) else None


@settings(max_examples=1000, derandomize=True, deadline=None)
@given(st.sampled_from(OPS), st.booleans(), _regs, _regs)
def test_shortcut_is_the_general_path(op, alu32, dst, src):
    before = state(dst)
    fast = shortcut(op, alu32, dst, src)
    assert state(dst) == before
    if fast is not None:
        assert state(fast) == state(general(op, alu32, dst, src))


@settings(max_examples=500, derandomize=True, deadline=None)
@given(st.sampled_from(OPS[:9]), st.booleans(), _vals, _vals)
def test_shortcut_applies_to_known_operands(op, alu32, x, y):
    if op in SHIFTS:
        y %= 32 if alu32 else 64
    dst, src = reg_of(x), reg_of(y)
    fast = shortcut(op, alu32, dst, src)
    assert fast is not None
    assert state(fast) == state(general(op, alu32, dst, src))


@settings(max_examples=300, derandomize=True, deadline=None)
@given(st.sampled_from(OPS[:9]), st.booleans(), _vals, st.integers(-(1 << 31), (1 << 31) - 1))
def test_immediate_operand(op, alu32, x, imm):
    """The BPF_K form: the operand is the kernel's fake register, ``__mark_reg_known(imm)``."""
    if op in SHIFTS:
        imm %= 32 if alu32 else 64
    src = Reg()
    bounds.mark_known(src, imm)
    dst = reg_of(x)
    r = dst.copy()
    assert alu_const(op, alu32, r, imm & (M32 if alu32 else M64))
    assert state(r) == state(general(op, alu32, dst, src))


@pytest.mark.parametrize("alu32", [False, True])
def test_a_register_with_contradicting_ranges_is_not_known(alu32):
    r = reg_of(5)
    r.s32_max = 6
    r.smax = 6
    assert const_operand(r, alu32) is None
    assert not alu_const(AluOp.ADD, alu32, r, 1)


JMPS = [JmpOp.JEQ, JmpOp.JNE, JmpOp.JGT, JmpOp.JGE, JmpOp.JLT, JmpOp.JLE, JmpOp.JSET, JmpOp.JSGT, JmpOp.JSGE,
        JmpOp.JSLT, JmpOp.JSLE]


@settings(max_examples=500, derandomize=True, deadline=None)
@given(st.sampled_from(JMPS), st.booleans(), _regs, _regs)
def test_known_comparison_is_the_general_one(op, jmp32, r1, r2):
    v1, v2 = const_operand(r1, jmp32), const_operand(r2, jmp32)
    if v1 is not None and v2 is not None:
        assert branch_const(op, jmp32, v1, v2) == bounds.is_scalar_branch_taken(r1, r2, op, jmp32)


@settings(max_examples=300, derandomize=True, deadline=None)
@given(st.sampled_from(JMPS), st.booleans(), _vals, _vals)
def test_comparison_of_known_values(op, jmp32, x, y):
    r1, r2 = reg_of(x), reg_of(y)
    v1, v2 = const_operand(r1, jmp32), const_operand(r2, jmp32)
    assert branch_const(op, jmp32, v1, v2) == bounds.is_scalar_branch_taken(r1, r2, op, jmp32) != -1


def full_sync(r: Reg) -> None:
    """reg_bounds_sync without its shortcuts: every step of the kernel's, in order."""
    s = (*r.var_off, r.umin, r.umax, r.smin, r.smax, r.u32_min, r.u32_max, r.s32_min, r.s32_max)
    s = bounds._update_bounds(s)
    s = bounds._deduce_bounds(bounds._deduce_bounds(s))
    s = bounds._update_bounds(bounds._bound_offset(s))
    r.var_off = Tnum(s[0], s[1])
    r.umin, r.umax, r.smin, r.smax, r.u32_min, r.u32_max, r.s32_min, r.s32_max = s[2:]


@settings(max_examples=500, derandomize=True, deadline=None)
@given(_vals, st.lists(_vals, min_size=8, max_size=8), st.integers(0, 255))
def test_sync_of_a_known_tnum(v, edges, wide):
    """A known tnum with ranges that hold its value, some of them wide: the shortcut of
    reg_bounds_sync gives what its steps give."""
    r = reg_of(v)
    lo32, s32v = v & M32, bounds.s32(v)
    fields = (("umin", 0, M64, v), ("smin", -(1 << 63), (1 << 63) - 1, bounds.s64(v)),
              ("u32_min", 0, M32, lo32), ("s32_min", -(1 << 31), (1 << 31) - 1, s32v))
    for i, (name, lo, hi, val) in enumerate(fields):
        if wide >> (2 * i) & 1:
            setattr(r, name, max(lo, min(val, lo + edges[2 * i] % (hi - lo + 1))))
        if wide >> (2 * i + 1) & 1:
            setattr(r, name.replace("min", "max"), min(hi, max(val, hi - edges[2 * i + 1] % (hi - lo + 1))))
    fast, slow = r.copy(), r.copy()
    bounds.reg_bounds_sync(fast)
    full_sync(slow)
    assert state(fast) == state(slow)

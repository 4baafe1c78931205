"""Scalar bounds (s64/u64/s32/u32 and the tnum, synced as the kernel does) stay sound.

Registers are built to hold two concrete values; every ALU result and every branch refinement
must still hold each concrete outcome, and a branch the bounds decide must decide it for every
pair of members.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bpfbuild.isa.fields import AluOp, JmpOp
from bpfbuild.verifier.bounds import (
    adjust_scalar,
    bounds_sane,
    is_scalar_branch_taken,
    reg_bounds_sync,
    regs_refine_cond_op,
    s32,
    s64,
)
from bpfbuild.verifier.state import Reg
from bpfbuild.verifier.tnum import Tnum

M64 = (1 << 64) - 1
M32 = (1 << 32) - 1
_vals = st.one_of(st.integers(0, M64), st.integers(0, 300), st.integers(M64 - 300, M64),
                  st.integers(0, M32), st.sampled_from([0, 1, 0x7FFF_FFFF, 0x8000_0000, 1 << 63, (1 << 63) - 1]))


def reg_of(*values: int) -> Reg:
    """The tightest register (bounds and tnum) the kernel could hold for these values."""
    r = Reg()
    r.mark_unknown()
    mask = 0
    for v in values:
        mask |= v ^ values[0]
    r.var_off = Tnum(values[0] & ~mask & M64, mask)
    r.umin, r.umax = min(values), max(values)
    r.smin, r.smax = min(map(s64, values)), max(map(s64, values))
    r.u32_min, r.u32_max = min(v & M32 for v in values), max(v & M32 for v in values)
    r.s32_min, r.s32_max = min(s32(v) for v in values), max(s32(v) for v in values)
    reg_bounds_sync(r)
    return r


def holds(r: Reg, x: int) -> bool:
    return (r.umin <= x <= r.umax and r.smin <= s64(x) <= r.smax and r.u32_min <= (x & M32) <= r.u32_max
            and r.s32_min <= s32(x) <= r.s32_max and (x & ~r.var_off.mask & M64) == r.var_off.value)


def concrete(op: int, x: int, y: int, alu32: bool) -> int:
    bits = 32 if alu32 else 64
    m = (1 << bits) - 1
    x, y = x & m, y & m
    match op:
        case AluOp.ADD:
            out = x + y
        case AluOp.SUB:
            out = x - y
        case AluOp.MUL:
            out = x * y
        case AluOp.AND:
            out = x & y
        case AluOp.OR:
            out = x | y
        case AluOp.XOR:
            out = x ^ y
        case AluOp.LSH:
            out = x << y
        case AluOp.RSH:
            out = x >> y
        case _:  # ARSH
            sx = x - (1 << bits) if x >> (bits - 1) else x
            out = sx >> y
    return out & m


_OPS = [AluOp.ADD, AluOp.SUB, AluOp.MUL, AluOp.AND, AluOp.OR, AluOp.XOR]


@settings(max_examples=500, deadline=None)
@given(a=st.lists(_vals, min_size=1, max_size=3), b=st.lists(_vals, min_size=1, max_size=3),
       op=st.sampled_from(_OPS), alu32=st.booleans())
def test_alu_results_hold_every_concrete_outcome(a, b, op, alu32):
    dst, src = reg_of(*a), reg_of(*b)
    assert adjust_scalar(op, alu32, dst, src)
    assert bounds_sane(dst)
    for x in a:
        for y in b:
            assert holds(dst, concrete(op, x, y, alu32)), (op, alu32, x, y)


@settings(max_examples=300, deadline=None)
@given(a=st.lists(_vals, min_size=1, max_size=3), shift=st.integers(0, 63),
       op=st.sampled_from([AluOp.LSH, AluOp.RSH, AluOp.ARSH]), alu32=st.booleans())
def test_shifts_by_a_constant(a, shift, op, alu32):
    shift %= 32 if alu32 else 64
    dst, src = reg_of(*a), reg_of(shift)
    assert adjust_scalar(op, alu32, dst, src)
    for x in a:
        assert holds(dst, concrete(op, x, shift, alu32)), (op, alu32, x, shift)


_JMPS = [JmpOp.JEQ, JmpOp.JNE, JmpOp.JGT, JmpOp.JGE, JmpOp.JLT, JmpOp.JLE, JmpOp.JSGT, JmpOp.JSGE,
         JmpOp.JSLT, JmpOp.JSLE, JmpOp.JSET]


def cond(op: int, x: int, y: int, jmp32: bool) -> bool:
    if jmp32:
        x, y = x & M32, y & M32
        sx, sy = s32(x), s32(y)
    else:
        sx, sy = s64(x), s64(y)
    return {JmpOp.JEQ: x == y, JmpOp.JNE: x != y, JmpOp.JGT: x > y, JmpOp.JGE: x >= y, JmpOp.JLT: x < y,
            JmpOp.JLE: x <= y, JmpOp.JSGT: sx > sy, JmpOp.JSGE: sx >= sy, JmpOp.JSLT: sx < sy,
            JmpOp.JSLE: sx <= sy, JmpOp.JSET: bool(x & y)}[op]


@settings(max_examples=600, deadline=None)
@given(a=st.lists(_vals, min_size=1, max_size=3), b=st.lists(_vals, min_size=1, max_size=3),
       op=st.sampled_from(_JMPS), jmp32=st.booleans())
def test_branches_decided_and_refined_soundly(a, b, op, jmp32):
    r1, r2 = reg_of(*a), reg_of(*b)
    outcomes = {cond(op, x, y, jmp32) for x in a for y in b}
    pred = is_scalar_branch_taken(r1, r2, op, jmp32)
    if pred == 1:
        assert outcomes == {True}
    elif pred == 0:
        assert outcomes == {False}
    if op == JmpOp.JSET:
        return  # refined only against constants, like the kernel
    for x in a:
        for y in b:
            if cond(op, x, y, jmp32):
                t1, t2 = reg_of(*a), reg_of(*b)
                regs_refine_cond_op(t1, t2, op, jmp32)
                reg_bounds_sync(t1)
                reg_bounds_sync(t2)
                assert holds(t1, x) and holds(t2, y), (op, jmp32, x, y)


@pytest.mark.parametrize(("values", "expected"), [
    ((5,), (5, 5, 5, 5)),
    ((0, 255), (0, 255, 0, 255)),
    ((M64,), (-1, -1, M64, M64)),
])
def test_reg_of_constants(values, expected):
    r = reg_of(*values)
    assert (r.smin, r.smax, r.umin, r.umax) == expected

"""reg_set_min_max_imm (a conditional jump against an immediate) leaves the compared register,
in both successor states, exactly as reg_set_min_max does with the kernel's fake constant
registers."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bpfbuild.isa.fields import JmpOp
from bpfbuild.verifier import bounds, transfer
from bpfbuild.verifier.state import Reg, RegType
from bpfbuild.verifier.tnum import Tnum

M64 = (1 << 64) - 1
M32 = (1 << 32) - 1
FIELDS = ("type", "var_off", "smin", "smax", "umin", "umax", "s32_min", "s32_max", "u32_min", "u32_max")
OPS = [JmpOp.JEQ, JmpOp.JNE, JmpOp.JGT, JmpOp.JGE, JmpOp.JLT, JmpOp.JLE, JmpOp.JSGT, JmpOp.JSGE,
       JmpOp.JSLT, JmpOp.JSLE, JmpOp.JSET]

_vals = st.one_of(st.integers(0, 300), st.integers(0, M32), st.integers(0, M64), st.integers(M64 - 300, M64),
                  st.sampled_from([0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF, 1 << 63, (1 << 63) - 1]))
_imms = st.one_of(st.integers(-300, 300), st.integers(-(1 << 31), (1 << 31) - 1),
                  st.sampled_from([0, 1, -1, 0xFF, 0xFFFF, (1 << 31) - 1, -(1 << 31)]))


def reg_of(a: int, b: int) -> Reg:
    """A scalar holding the values between a and b, synced as the kernel would."""
    lo, hi = sorted((a, b))
    r = Reg()
    r.mark_unknown()
    bits = (lo ^ hi).bit_length()
    mask = (1 << bits) - 1
    r.var_off = Tnum(lo & ~mask, mask)
    r.umin, r.umax = lo, hi
    bounds.reg_bounds_sync(r)
    return r


_regs = st.one_of(st.tuples(_vals, _vals).map(lambda t: reg_of(*t)), _vals.map(lambda v: reg_of(v, v)))


def state(r: Reg) -> tuple[object, ...]:
    return tuple(getattr(r, f) for f in FIELDS)


@settings(max_examples=1500, derandomize=True, deadline=None)
@given(st.sampled_from(OPS), st.booleans(), _regs, _imms)
def test_imm_is_the_general_path(op, jmp32, reg, imm):
    const = Reg()
    const.mark_const(imm)
    want_true, want_false = reg.copy(), reg.copy()
    transfer.reg_set_min_max(want_true, const.copy(), want_false, const.copy(), op, jmp32)
    got_true, got_false = reg.copy(), reg.copy()
    transfer.reg_set_min_max_imm(got_true, got_false, imm, op, jmp32)
    assert state(got_true) == state(want_true)
    assert state(got_false) == state(want_false)


def test_imm_refines_both_sides():
    reg = reg_of(0, 0xFFFF)
    taken, fall = reg.copy(), reg.copy()
    transfer.reg_set_min_max_imm(taken, fall, 100, JmpOp.JGT, False)
    assert (taken.umin, taken.umax) == (101, 0xFFFF)
    assert (fall.umin, fall.umax) == (0, 100)
    ptr = Reg()
    ptr.mark_known_zero()
    ptr.type = RegType.PTR_TO_PACKET
    before = state(ptr)
    transfer.reg_set_min_max_imm(ptr, ptr.copy(), 0, JmpOp.JEQ, False)
    assert state(ptr) == before

"""Copies of verifier states (VerifierState.copy, FuncState.copy) and the mark_reg_* family.

A frame's copies share their frame pointer r10 (nothing may write it after the frame is made):
a write to r10 is refused, and a whole verification leaves every shared r10 as it was.
mark_unknown/mark_not_init/mark_known store every field themselves (no calls to each other):
hypothesis holds them to the composition they replace."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bpfbuild.abi.progtypes import ProgType
from bpfbuild.isa import assemble, encode
from bpfbuild.verifier import state, verify_insns
from bpfbuild.verifier.bounds import mark_known as bounds_mark_known
from bpfbuild.verifier.state import FuncState, Reg, RegType, VerifierState
from bpfbuild.verifier.tnum import Tnum


def _fields(r: Reg) -> tuple:
    return tuple(getattr(r, name) for name in Reg.__slots__)


_ints = st.integers(-(2**63), 2**64 - 1)


@st.composite
def _regs(draw: st.DrawFn) -> Reg:
    r = Reg()
    for name in Reg.__slots__:
        if name == "var_off":
            mask = draw(st.integers(0, 2**64 - 1))
            r.var_off = Tnum(draw(st.integers(0, 2**64 - 1)) & ~mask, mask)
        elif name == "type":
            r.type = draw(st.sampled_from(list(RegType)))
        elif name in ("map", "btf"):
            setattr(r, name, draw(st.sampled_from([None, object()])))
        elif name == "precise":
            r.precise = draw(st.booleans())
        else:
            setattr(r, name, draw(_ints))
    return r


def _clear_ptr_reference(r: Reg) -> Reg:
    """What _clear_ptr leaves: the pointer fields of a fresh register, the rest kept."""
    fresh = Reg()
    out = r.copy()
    for name in ("off", "range", "map", "mem_size", "subprogno", "id", "ref_obj_id", "frameno", "btf",
                 "btf_id", "iter_state", "iter_depth", "dynptr_id"):
        setattr(out, name, getattr(fresh, name))
    return out


@settings(max_examples=200, derandomize=True)
@given(_regs())
def test_mark_unknown_and_not_init_match_their_composition(r: Reg) -> None:
    unknown = r.copy()
    unknown.mark_unknown()
    expect = Reg()
    expect.type = RegType.SCALAR_VALUE          # __mark_reg_unknown: a fresh register's fields, a scalar
    assert _fields(unknown) == _fields(expect)
    not_init = r.copy()
    not_init.mark_not_init()
    assert _fields(not_init) == _fields(Reg())    # __mark_reg_not_init: exactly a fresh register


@settings(max_examples=200, derandomize=True)
@given(_regs(), _ints)
def test_mark_known_matches_its_composition(r: Reg, imm: int) -> None:
    known = r.copy()
    known.mark_known(imm)
    expect = _clear_ptr_reference(r)
    bounds_mark_known(expect, imm)
    assert _fields(known) == _fields(expect)
    assert known.type == r.type and known.precise == r.precise


@settings(max_examples=100, derandomize=True)
@given(_regs())
def test_copy_and_assign_keep_every_field(r: Reg) -> None:
    assert _fields(r.copy()) == _fields(r)
    other = Reg()
    other.assign(r)
    assert _fields(other) == _fields(r)


def test_frame_copy_shares_only_r10() -> None:
    f = FuncState(0, -1, 0)
    f.regs[3].mark_const(5)
    g = f.copy()
    assert g.regs[10] is f.regs[10]
    assert all(g.regs[i] is not f.regs[i] for i in range(10))
    assert [_fields(r) for r in g.regs] == [_fields(r) for r in f.regs]
    g.regs[3].mark_unknown()
    assert f.regs[3].is_const


def test_same_callsites() -> None:
    a, b = VerifierState(), VerifierState()
    a.frames = [FuncState(0, -1, 0), FuncState(1, 7, 1)]
    b.frames = [FuncState(0, -1, 0), FuncState(1, 7, 2)]
    assert a.same_callsites(b)
    b.frames[1].callsite = 9
    assert not a.same_callsites(b)
    b.frames.pop()
    assert not a.same_callsites(b)


def _code(text: str) -> bytes:
    return encode(assemble(text), check=False)


@pytest.mark.parametrize("insn", [
    "r10 = 1",
    "r10 += 8",
    "r10 = r1",
    "w10 = w1",
    "r10 = *(u64 *)(r1 + 0)",
    "r10 = atomic_fetch_add((u64 *)(r2 + 0), r10)",
])
def test_writes_to_r10_are_refused(insn: str) -> None:
    prog = f"r2 = r10\nr2 += -8\nr1 = 0\n*(u64 *)(r2 + 0) = r1\n{insn}\nr0 = 0\nexit"
    report = verify_insns(_code(prog), ProgType.XDP)
    assert not report.accepted
    assert "frame pointer is read only" in report.errors[0].message


# forks, a checkpoint-heavy loop, a bpf-to-bpf call with its own frame, r10 spilled and read back
_FORKS = """
r6 = r1
r7 = 0
r8 = r10
r8 += -16
*(u64 *)(r10 - 8) = r10
*(u64 *)(r8 + 0) = r7
r9 = *(u32 *)(r6 + 0)
if r9 > 100 goto +3
r1 = r10
r1 += -16
*(u64 *)(r1 + 0) = r9
r1 = r10
call pc+8
r7 += 1
if r7 < 6 goto -9
r2 = *(u64 *)(r10 - 8)
r3 = *(u64 *)(r2 - 16)
if r3 == 0 goto +1
r0 = 1
r0 = 2
exit
r2 = r10
r2 += -8
r3 = 3
*(u64 *)(r2 + 0) = r3
if r1 == r10 goto +1
r0 = 0
r0 = *(u64 *)(r2 + 0)
exit
"""


def test_shared_r10_unchanged_through_a_verification(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[int, tuple[Reg, tuple]] = {}
    orig = state._func_copy

    def copy(frame: FuncState) -> FuncState:
        fp = frame.regs[10]
        seen.setdefault(id(fp), (fp, _fields(fp)))
        assert _fields(fp) == seen[id(fp)][1]
        return orig(frame)

    monkeypatch.setattr(state, "_func_copy", copy)
    report = verify_insns(_code(_FORKS), ProgType.XDP, log_level=2)
    assert report.accepted, report.errors
    assert len(seen) >= 2          # the main frame's r10 and the callee's were shared
    for fp, fields in seen.values():
        assert _fields(fp) == fields
    assert "R10=fp0" in report.log

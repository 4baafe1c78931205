"""The look-ups and shortcuts that helper calls and memory accesses take give what the general
path gives: a (program type, helper) answered by :func:`bpfbuild.abi.protos.offered_helper` as by
helper_allowed + func_proto, a context access answered by ``CtxSpec.lookup`` as by check +
load_kind, and the inlined bounds / alignment tests of bpfbuild.verifier.checks as by the
kernel's formulas written out in full (every offset through ``_c_int`` and ``_mem_ok``, every
alignment through tnums)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bpfbuild.abi.ctx import ctx_specs
from bpfbuild.abi.progtypes import ProgType
from bpfbuild.abi.protos import func_proto, helper_allowed, offered_helper
from bpfbuild.abi.target import Kconfig, Target
from bpfbuild.errors import ProgramError
from bpfbuild.verifier import checks
from bpfbuild.verifier.bounds import S64_MIN
from bpfbuild.verifier.env import BPF_MAX_VAR_OFF
from bpfbuild.verifier.state import RegType
from bpfbuild.verifier.tnum import Tnum, tnum_add, tnum_const, tnum_is_aligned

M64 = (1 << 64) - 1
TARGETS = [Target("6.18", None, (6, 18, 0), "x86", Kconfig({})),
           Target("6.18", None, (6, 18, 0), "x86", Kconfig({"CONFIG_BPF": "y"}))]


class Env(SimpleNamespace):
    def error(self, message: str) -> ProgramError:
        return ProgramError(message)


@pytest.mark.parametrize("target", TARGETS, ids=["no-config", "no-kprobe-override"])
def test_offered_helper_is_helper_allowed_and_func_proto(target: Target) -> None:
    for prog_type in ProgType:
        for func_id in range(0, 212):
            want = (helper_allowed(func_id, prog_type, sleepable=True, target=target),
                    func_proto(func_id, prog_type))
            assert offered_helper(func_id, prog_type, target) == want, (prog_type, func_id)
            assert offered_helper(func_id, prog_type, target) == want    # the kept answer


def test_ctx_lookup_is_check_and_load_kind() -> None:
    for spec in ctx_specs():
        for offset in range(-1, spec.layout.size + 9):
            for size in (0, 1, 2, 3, 4, 8, 16):
                for write in (False, True):
                    fa = spec.check(offset, size, write)
                    kind = None if write or fa is None else spec.load_kind(offset, size)
                    assert spec.lookup(offset, size, write) == (fa, kind), (spec.name, offset, size, write)
                    assert spec.lookup(offset, size, write) == (fa, kind)


def _region_reference(reg: SimpleNamespace, off: int, size: int, mem_size: int, zero_ok: bool) -> str | None:
    """``check_mem_region_access`` written out: which test refuses the access (None: none)."""
    if reg.smin < 0 and (reg.smin == S64_MIN or checks.s32(off + reg.smin) != off + reg.smin
                         or reg.smin + off < 0):
        return "min value is negative"
    if not checks._mem_ok(checks._c_int(off + reg.smin), size, mem_size, zero_ok):
        return "min value is outside"
    if reg.umax >= BPF_MAX_VAR_OFF:
        return "unbounded memory access"
    if not checks._mem_ok(checks._c_int(reg.umax + off), size, mem_size, zero_ok):
        return "max value is outside"
    return None


_edge = st.sampled_from([0, 1, 7, 8, 4095, (1 << 29) - 1, 1 << 29, (1 << 31) - 1, 1 << 31, (1 << 32) - 1,
                         1 << 32, 1 << 63, M64])


@settings(max_examples=400, deadline=None)
@given(smin=st.one_of(st.integers(-64, 64), _edge.map(lambda v: v - (1 << 64) if v >> 63 else v),
                      st.just(S64_MIN)),
       umax=st.one_of(st.integers(0, 600), _edge),
       off=st.one_of(st.integers(-600, 600), _edge, _edge.map(lambda v: -v)),
       size=st.sampled_from([0, 1, 2, 4, 8, 16]), mem_size=st.sampled_from([0, 8, 48, 4096, 1 << 31]),
       zero_ok=st.booleans(), typ=st.sampled_from([RegType.PTR_TO_MAP_VALUE, RegType.PTR_TO_MEM]))
def test_mem_region_access_is_the_kernel_formula(smin, umax, off, size, mem_size, zero_ok, typ) -> None:
    reg = SimpleNamespace(smin=smin, umax=umax, type=int(typ), id=0)
    want = _region_reference(reg, off, size, mem_size, zero_ok)
    try:
        checks.check_mem_region_access(Env(), 1, reg, off, size, mem_size, zero_ok)   # type: ignore[arg-type]
    except ProgramError as exc:
        assert want is not None and want in str(exc), (want, str(exc))
    else:
        assert want is None


def _aligned_reference(reg: SimpleNamespace, off: int, size: int, strict_once: bool) -> bool:
    """``check_ptr_alignment`` on x86-64, every offset through tnums."""
    t = reg.type
    if t in (RegType.PTR_TO_PACKET, RegType.PTR_TO_PACKET_META):
        if not strict_once or size == 1:
            return True
        return tnum_is_aligned(tnum_add(reg.var_off, tnum_const(2 + reg.off + off)), size)
    if t == RegType.PTR_TO_ARENA or not (strict_once or t == RegType.PTR_TO_STACK) or size == 1:
        return True
    return tnum_is_aligned(tnum_add(reg.var_off, tnum_const((reg.off + off) & M64)), size)


@settings(max_examples=400, deadline=None)
@given(typ=st.sampled_from([RegType.PTR_TO_STACK, RegType.PTR_TO_PACKET, RegType.PTR_TO_PACKET_META,
                            RegType.PTR_TO_ARENA, RegType.PTR_TO_MAP_VALUE, RegType.PTR_TO_CTX]),
       value=st.integers(0, 64), mask=st.sampled_from([0, 0, 0, 1, 4, 8, 0xF0]),
       reg_off=st.integers(-40, 40), off=st.integers(-40, 40), size=st.sampled_from([1, 2, 4, 8]),
       strict_once=st.booleans())
def test_ptr_alignment_is_the_tnum_test(typ, value, mask, reg_off, off, size, strict_once) -> None:
    reg = SimpleNamespace(type=int(typ), var_off=Tnum(value & ~mask, mask), off=reg_off)
    try:
        checks.check_ptr_alignment(Env(), reg, off, size, strict_once)   # type: ignore[arg-type]
    except ProgramError as exc:
        assert "misaligned" in str(exc)
        assert not _aligned_reference(reg, off, size, strict_once)
    else:
        assert _aligned_reference(reg, off, size, strict_once)

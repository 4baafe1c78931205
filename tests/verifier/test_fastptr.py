"""The shortcut of ``ptr += K`` / ``ptr -= K`` in bpfbuild.verifier.insns gives exactly what the
general path (_adjust_ptr: its checks, ptr_arith, reg_bounds_sync) gives whenever it applies,
and leaves the register alone otherwise."""

from __future__ import annotations

from types import SimpleNamespace

from hypothesis import given, settings
from hypothesis import strategies as st

from bpfbuild.errors import ProgramError
from bpfbuild.isa.fields import AluOp
from bpfbuild.verifier import insns
from bpfbuild.verifier.state import Reg, RegFlag, RegType
from bpfbuild.verifier.tnum import Tnum

M64 = (1 << 64) - 1
FIELDS = ("type", "off", "range", "map", "mem_size", "id", "ref_obj_id", "frameno", "var_off", "smin", "smax",
          "umin", "umax", "s32_min", "s32_max", "u32_min", "u32_max", "precise", "btf", "btf_id")
TYPES = [RegType.PTR_TO_CTX, RegType.PTR_TO_MAP_VALUE, RegType.PTR_TO_STACK, RegType.PTR_TO_PACKET,
         RegType.PTR_TO_PACKET_META, RegType.PTR_TO_PACKET_END, RegType.PTR_TO_MEM, RegType.PTR_TO_BTF_ID,
         RegType.CONST_PTR_TO_MAP, RegType.PTR_TO_FLOW_KEYS, RegType.PTR_TO_SOCKET]
FLAGS = [0, 0, 0, 0, RegFlag.PTR_MAYBE_NULL, RegFlag.MEM_RDONLY, RegFlag.PTR_TRUSTED]
_near = st.integers(-600, 600)
_mostly = st.sampled_from([True, True, True, True, False])
_big = st.sampled_from([(1 << 29) - 1, 1 << 29, -(1 << 29) + 1, -(1 << 29), (1 << 31) - 1, -(1 << 31), M64])


class Env(SimpleNamespace):
    id_gen = 0

    def error(self, message: str) -> ProgramError:
        return ProgramError(message)

    def new_id(self) -> int:
        self.id_gen += 1
        return self.id_gen


@st.composite
def pointers(draw) -> Reg:
    r = Reg()
    r.mark_known(0)
    r.type = int(draw(st.sampled_from(TYPES))) | int(draw(st.sampled_from(FLAGS)))
    r.mark_known(draw(st.one_of(st.just(0), st.just(0), _near, _big)) & M64)
    r.off = draw(st.one_of(_near, _near, _near, _big))
    r.range = draw(st.sampled_from([0, 0, 0, 14, 14, -1, -2]))
    r.id = draw(st.sampled_from([0, 3]))
    shape = draw(st.sampled_from(["exact"] * 6 + ["wide", "variable"]))
    if shape == "wide":
        r.umin = 0
        r.smin = -(1 << 63)
    elif shape == "variable":
        r.var_off = Tnum(0, 0xFF)
        r.umin, r.umax, r.smin, r.smax = 0, 0xFF, 0, 0xFF
        r.u32_min, r.u32_max, r.s32_min, r.s32_max = 0, 0xFF, 0, 0xFF
    return r


def run(fn, ptr: Reg, op: int, alu64: bool, imm: int, privileged: bool):
    regs = [Reg() for _ in range(11)]
    regs[1] = ptr.copy()
    env = Env(bypass_spec_v1=privileged, allow_ptr_leaks=privileged, id_gen=0)
    state = SimpleNamespace(frames=[SimpleNamespace(regs=regs)])
    insn = SimpleNamespace(dst=1, src=0, imm=imm)
    try:
        done = fn(env, state, insn, op, alu64, regs[1], imm)
    except ProgramError as e:
        return "error", str(e)
    return done, tuple(getattr(regs[1], f) for f in FIELDS)


def general(env, state, insn, op, alu64, dst, imm):
    insns._adjust_ptr(env, state, insn, op, alu64, ptr=dst, off=insns._fake_const(imm), off_is_dst=False)
    return True


def shortcut(env, state, insn, op, alu64, dst, imm):
    return insns._ptr_add_imm(env, op, alu64, dst, imm)


@settings(max_examples=600, derandomize=True, deadline=None)
@given(pointers(), st.sampled_from([AluOp.ADD, AluOp.ADD, AluOp.SUB, AluOp.MUL]), _mostly,
       st.one_of(_near, _near, _near, _big.filter(lambda x: x < 1 << 31)), _mostly)
def test_ptr_add_imm_is_the_general_path(ptr, op, alu64, imm, privileged):
    done, fast = run(shortcut, ptr, int(op), alu64, imm, privileged)
    if done is True:
        assert fast == run(general, ptr, int(op), alu64, imm, privileged)[1]
    else:
        assert done is False and fast == tuple(getattr(ptr, f) for f in FIELDS)


def test_the_common_case_takes_the_shortcut():
    r = Reg()
    r.mark_known(0)
    r.type = RegType.PTR_TO_PACKET
    r.range = 14
    done, fast = run(shortcut, r, int(AluOp.ADD), True, 14, True)
    assert done is True and fast == run(general, r, int(AluOp.ADD), True, 14, True)[1]

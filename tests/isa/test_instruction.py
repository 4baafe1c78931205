"""The Instruction record: one record per instruction, slots, jump and call targets."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bpfbuild.isa import (
    LD_IMM64_OPCODE,
    AluOp,
    InsnClass,
    Instruction,
    JmpOp,
    PseudoLoad,
    Size,
    assemble,
)


def one(text: str) -> Instruction:
    (insn,) = assemble(text)
    return insn


def test_frozen_and_slotted() -> None:
    insn = Instruction(0x95)
    with pytest.raises(dataclasses.FrozenInstanceError):
        insn.imm = 1  # type: ignore[misc]
    assert not hasattr(insn, "__dict__")
    assert insn == Instruction(0x95, 0, 0, 0, 0, 0)
    assert len({insn, Instruction(0x95)}) == 1


@settings(max_examples=200, deadline=None)
@given(st.integers(-(1 << 63), (1 << 64) - 1))
def test_ld_imm64_value_round_trips_through_both_halves(value: int) -> None:
    insn = Instruction.ld_imm64(3, value)
    assert insn.opcode == LD_IMM64_OPCODE and insn.dst == 3 and insn.slots == 2
    assert -(1 << 31) <= insn.imm < 1 << 31 and -(1 << 31) <= insn.imm_hi < 1 << 31
    assert insn.imm64 == value & ((1 << 64) - 1)
    assert insn.simm64 == (value if value < 1 << 63 else value - (1 << 64))


def test_ld_imm64_halves_are_signed_as_on_the_wire() -> None:
    insn = Instruction.ld_imm64(1, 0xFFFFFFFF_80000000)
    assert (insn.imm, insn.imm_hi) == (-(1 << 31), -1)
    assert Instruction.ld_imm64(1, 5, PseudoLoad.MAP_VALUE).src == 2


def test_kinds() -> None:
    assert one("r6 = 0 ll").is_ld_imm64 and one("r6 = 0 ll").slots == 2
    assert one("exit").is_exit and one("exit").slots == 1
    call = one("call 6")
    assert call.is_call and call.is_helper_call and not call.is_jump and not call.is_subprog_call
    assert one("call pc-1").is_subprog_call and one("call kfunc 7").is_kfunc_call
    assert one("callx r2").is_callx and one("callx r2").is_call
    assert one("goto +1").is_jump and not one("goto +1").is_cond_jump
    assert one("if w1 > 2 goto -1").is_cond_jump and one("may_goto +2").is_cond_jump
    assert one("gotol +70000").is_jump
    assert one("r1 = *(u8 *)(r2 + 1)").is_load and one("r0 = *(u16 *)skb[3]").is_load
    assert not one("r1 = 0 ll").is_load
    assert one("*(u8 *)(r2 + 1) = 7").is_store and one("*(u64 *)(r2 + 1) = r3").is_store
    atomic = one("lock *(u64 *)(r10 - 8) += r1")
    assert atomic.is_atomic and not atomic.is_store
    assert one("w1 += 2").is_alu and not one("w1 += 2").is_alu64 and one("r1 += 2").is_alu64


def test_field_views() -> None:
    insn = one("r1 s>>= 3")
    assert insn.cls is InsnClass.ALU64 and insn.alu_op is AluOp.ARSH
    assert one("if r1 s< r2 goto +0").jmp_op is JmpOp.JSLT
    load = one("r1 = *(u16 *)(r2 - 4)")
    assert load.size is Size.H and load.access_size == 2
    with pytest.raises(ValueError):
        _ = load.alu_op
    with pytest.raises(ValueError):
        _ = load.jmp_op


def test_jump_targets_are_slot_indices() -> None:
    prog = assemble("""
        r1 = 1 ll
        if r1 == 0 goto out
        goto out
        gotol out
        may_goto out
    out:
        exit
    """)
    pcs = [0, 2, 3, 4, 5]
    assert [insn.jump_target(pc) for pc, insn in zip(pcs[1:], prog[1:5], strict=True)] == [6] * 4
    assert prog[3].jump_offset == prog[3].imm == 1
    with pytest.raises(ValueError):
        prog[0].jump_target(0)


def test_call_targets() -> None:
    prog = assemble("call f\nexit\nf: r0 = 0 ll\nld_pseudo r1, 4, 18446744073709551613\nexit")
    assert prog[0].call_target(0) == 2
    assert prog[3].call_target(4) == 2  # ld_imm64 FUNC: imm = -3 from pc 4
    with pytest.raises(ValueError):
        prog[1].call_target(1)


def test_str_is_the_text_syntax() -> None:
    assert str(Instruction(0xB7, 2, 0, 0, 15)) == "r2 = 15"
    assert str(Instruction(0x8C, 1, 2)).startswith("<unknown opcode=0x8c")

"""Bytes <-> instructions: round trips over the whole opcode space and over real objects,
errors with the pc, fuzzing, speed."""

from __future__ import annotations

import struct
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bpfbuild.errors import BpfBuildError, DecodeError, ProgramError
from bpfbuild.isa import Instruction, assemble, decode, encode, iter_insns, opcode_table, slot_table

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def slot(code: int, dst: int = 0, src: int = 0, off: int = 0, imm: int = 0) -> bytes:
    return struct.pack("<BBhi", code, src << 4 | dst, off, imm)


@FUZZ
@given(data=st.data())
def test_every_form_round_trips(data: st.DataObject, valid_insn: st.SearchStrategy[Instruction]) -> None:
    insn = data.draw(valid_insn)
    raw = encode([insn])
    assert len(raw) == 8 * insn.slots
    assert decode(raw) == (insn,)
    assert encode(decode(raw)) == raw


@pytest.mark.parametrize("form", opcode_table().forms, ids=lambda f: f.name)
def test_each_form_round_trips(form, insn_of) -> None:  # type: ignore[no-untyped-def]
    @settings(max_examples=10, deadline=None)
    @given(insn_of(form))
    def check(insn: Instruction) -> None:
        (back,) = decode(encode([insn]))
        assert back == insn and back.form == form

    check()


@FUZZ
@given(data=st.data())
def test_programs_round_trip(data: st.DataObject, valid_insn: st.SearchStrategy[Instruction]) -> None:
    program = tuple(data.draw(st.lists(valid_insn, max_size=30)))
    raw = encode(program)
    assert len(raw) == 8 * sum(i.slots for i in program)
    assert decode(raw) == program
    assert encode(decode(raw)) == raw


@FUZZ
@given(st.binary(max_size=96))
def test_random_bytes_decode_or_raise_decode_error(raw: bytes) -> None:
    try:
        program = decode(raw)
    except DecodeError as exc:
        assert exc.pc is not None and 0 <= exc.pc <= len(raw) // 8
        assert str(exc).startswith(f"insn {exc.pc}: ")
    else:
        assert encode(program) == raw


@FUZZ
@given(data=st.data())
def test_corrupted_programs_decode_or_raise(data: st.DataObject,
                                            valid_insn: st.SearchStrategy[Instruction]) -> None:
    raw = bytearray(encode(data.draw(st.lists(valid_insn, min_size=1, max_size=10))))
    for _ in range(data.draw(st.integers(1, 4))):
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    try:
        program = decode(bytes(raw))
    except DecodeError:
        return
    assert encode(program) == bytes(raw)


@pytest.mark.parametrize(("raw", "pc", "message"), [
    (bytes(12), 1, "length 12 is not a multiple of 8"),
    (slot(0x95) * 2 + slot(0x8C), 2, "unknown opcode 0x8c"),
    (slot(0x07, 1) + slot(0x18, 1), 1, "truncated ld_imm64"),
    (slot(0x18, 1) + slot(0x95), 1, "invalid ld_imm64 second slot: code=0x95"),
    (slot(0x18, 1) + slot(0, 1, 0, 0, 5), 1, "dst=1"),
    (slot(0x18, 1) + slot(0, 0, 0, 3, 5), 1, "off=3"),
    (slot(0x18, 1, 7) + bytes(8), 0, "LD|IMM|DW: invalid src=7"),
    (slot(0x18, 1, 0, 1) + bytes(8), 0, "off must be 0, not 1"),
    (slot(0x07, 11, 0, 0, 1), 0, "invalid register r11"),
    (slot(0x0F, 1, 12), 0, "invalid register r12"),
    (slot(0x07, 1, 2, 0, 1), 0, "src must be 0, not 2"),
    (slot(0x0F, 1, 2, 0, 1), 0, "imm must be 0, not 1"),
    (slot(0xBF, 1, 2, 3), 0, "invalid off=3, imm=0"),
    (slot(0xDC, 1, 0, 0, 8), 0, "invalid imm=8"),
    (slot(0xDB, 10, 1, -8, 0x02), 0, "STX|ATOMIC|DW: invalid imm=2"),
    (slot(0x95, 0, 0, 1), 0, "off must be 0, not 1"),
    (slot(0x85, 0, 3, 0, 1), 0, "invalid src=3"),
    (slot(0x85, 1, 0, 0, 1), 0, "dst must be 0, not 1"),
])
def test_decode_errors_name_the_pc(raw: bytes, pc: int, message: str) -> None:
    with pytest.raises(DecodeError) as info:
        decode(raw)
    assert info.value.pc == pc
    assert message in str(info.value)
    assert isinstance(info.value, BpfBuildError)


def test_decode_accepts_bytes_like_objects() -> None:
    raw = encode(assemble("r0 = 1\nexit"))
    assert decode(bytearray(raw)) == decode(memoryview(raw)) == decode(raw)
    assert decode(b"") == ()


def test_encode_rejects_invalid_instructions_with_the_pc() -> None:
    good = Instruction(0xB7, 0, 0, 0, 1)
    with pytest.raises(ProgramError) as info:
        encode([Instruction.ld_imm64(1, 5), good, Instruction(0x8C, 1, 2)])
    assert info.value.pc == 3 and "unknown opcode 0x8c" in str(info.value)
    for bad in (Instruction(0xB7, 0, 0, 0, 1 << 31), Instruction(0x79, 1, 2, 1 << 15, 0),
                Instruction(0xB7, 16), Instruction(0x300), Instruction(0xB7, imm_hi=1)):
        with pytest.raises(ProgramError) as info:
            encode([good, bad])
        assert info.value.pc == 1


def test_encode_without_check_writes_reserved_fields() -> None:
    raw = encode([Instruction(0x07, 1, 3, 0, 5), Instruction(0x8C, 1, 2)], check=False)
    assert raw == slot(0x07, 1, 3, 0, 5) + slot(0x8C, 1, 2)
    with pytest.raises(ProgramError):
        encode([Instruction(0x07, 16)], check=False)


def test_iter_insns_and_slot_table_use_slot_indices() -> None:
    program = assemble("r1 = 0 ll\nr2 = 1\nr3 = 2 ll\nexit")
    assert [pc for pc, _ in iter_insns(program)] == [0, 2, 3, 5]
    table = slot_table(program)
    assert len(table) == 6 and table[1] is None and table[4] is None
    assert table[5] == program[3] and table[0] == program[0]


def test_objects_round_trip(clang_objects, exec_sections: Callable[[Path], list]) -> None:  # type: ignore[no-untyped-def]
    seen = 0
    for obj in clang_objects:
        for section in exec_sections(obj.path):
            program = decode(section.data)
            assert encode(program) == section.data, (obj.name, section.name)
            assert sum(i.slots for i in program) * 8 == len(section.data)
            seen += len(program)
    assert seen > 50


def test_v4_objects_round_trip(clang_v4_objects, exec_sections: Callable[[Path], list]) -> None:  # type: ignore[no-untyped-def]
    forms = set()
    for obj in clang_v4_objects:
        for section in exec_sections(obj.path):
            program = decode(section.data)
            assert encode(program) == section.data, (obj.name, section.name)
            forms |= {insn.form.name for insn in program if insn.form}
    assert {"ALU64_SDIV_X", "ALU_SMOD_K", "ALU64_MOVSX8_X", "LDX_MEMSX_B", "ALU64_BSWAP16",
            "STX_ATOMIC_W_CMPXCHG", "STX_ATOMIC_DW_FETCH_XOR", "LD_IND_W", "LD_ABS_B"} <= forms

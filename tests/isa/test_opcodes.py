"""The derived opcode table, held against an independent statement of the kernel's rules.

``kernel_accepts`` below restates, as plain logic, the field checks of Linux 6.18's
verifier (check_alu_fields, check_jmp_fields, check_insn_fields, check_atomic_rmw,
check_and_resolve_insns) and the opcode list of bpf_opcode_in_insntable, then applies
the documented deviations of bpfbuild.isa.opcodes.  Every one of the 256 opcode bytes is
walked with every discriminator value (and reserved-field values) around it.
"""

from __future__ import annotations

import itertools
import struct

import pytest

from bpfbuild.errors import DecodeError
from bpfbuild.isa import (
    AluOp,
    CpuVersion,
    InsnClass,
    Instruction,
    JmpOp,
    Mode,
    Size,
    Source,
    decode,
    describe_opcode,
    opcode_table,
)

ALU, ALU64, JMP, JMP32 = InsnClass.ALU, InsnClass.ALU64, InsnClass.JMP, InsnClass.JMP32
LD, LDX, ST, STX = InsnClass.LD, InsnClass.LDX, InsnClass.ST, InsnClass.STX
RMW_ATOMICS = {0x00, 0x01, 0x40, 0x41, 0x50, 0x51, 0xA0, 0xA1, 0xE1, 0xF1}

# Probe values: every discriminator the kernel knows, neighbours, and reserved-field values.
SRCS = (0, 1, 2, 3, 4, 5, 6, 7, 10)
OFFS = (0, 1, 2, 8, 16, 32, -1)
IMMS = (0, 1, 2, 8, 16, 32, 64, -1, 0x40, 0x41, 0x50, 0x51, 0xA0, 0xA1, 0xE0, 0xE1, 0xF0, 0xF1,
        0x100, 0x110, 1 << 16, 12345)
# Register fields beyond r10 (each opcode, a few field values).
BAD_REGS = ((11, 0), (15, 0), (0, 11), (1, 15), (10, 10))
DECODE_IMMS = (0, 1, 16, -1, 0x41, 0xE1, 0xF1, 0x100, 1 << 16)


def kernel_accepts(code: int, dst: int, src: int, off: int, imm: int) -> bool:
    """Linux 6.18's per-instruction field rules, with bpfbuild's documented deviations."""
    if dst > 10 or src > 10:  # check_and_resolve_insns: "R%d is invalid"
        return False
    cls, op, x = code & 0x07, code & 0xF0, bool(code & 0x08)
    size, mode = code & 0x18, code & 0xE0
    if cls in (ALU, ALU64):
        if op > AluOp.END:
            return False  # not in the insn table
        if op == AluOp.NEG:
            return not x and src == 0 and off == 0 and imm == 0
        if op == AluOp.END:
            return src == 0 and off == 0 and imm in (16, 32, 64) and (cls == ALU or not x)
        if op == AluOp.MOV:
            if not x:
                return src == 0 and off == 0
            if cls == ALU:
                return off in (0, 8, 16) and imm == 0
            if off == 1:  # BPF_ADDR_SPACE_CAST
                return imm in (1, 1 << 16)
            return off in (0, 8, 16, 32) and imm == 0
        off_ok = off == 0 or (off == 1 and op in (AluOp.DIV, AluOp.MOD))
        return off_ok and (imm == 0 if x else src == 0)
    if cls == LDX:
        return imm == 0 and (mode == Mode.MEM or (mode == Mode.MEMSX and size != Size.DW))
    if cls == ST:
        return mode == Mode.MEM and src == 0
    if cls == STX:
        if mode == Mode.MEM:
            return imm == 0
        # check_atomic: load-acquire/store-release (0x100/0x110, Linux 6.15) are not
        # supported by bpfbuild (deviation); the rmw ops need W or DW.
        return mode == Mode.ATOMIC and size in (Size.W, Size.DW) and imm in RMW_ATOMICS
    if cls in (JMP, JMP32):
        if op == JmpOp.CALL:
            if cls == JMP and x:  # deviation: callx, target register in dst (LLVM's encoding)
                return src == 0 and off == 0 and imm == 0
            return (cls == JMP and not x and dst == 0 and src in (0, 1, 2)
                    and (off == 0 or src == 2))
        if op == JmpOp.JA:
            if x:
                return False  # gotox (JMP|JA|X) is not supported (deviation)
            return src == 0 and dst == 0 and (imm == 0 if cls == JMP else off == 0)
        if op == JmpOp.EXIT:  # deviation: off must be 0 (the kernel ignores it)
            return cls == JMP and not x and imm == 0 and src == 0 and dst == 0 and off == 0
        if op == JmpOp.JCOND:
            return code == JMP | JmpOp.JCOND and src == 0 and dst == 0 and imm == 0
        if op > JmpOp.JSLE:
            return False
        return imm == 0 if x else src == 0
    # LD
    if mode in (Mode.ABS, Mode.IND):
        return dst == 0 and off == 0 and size != Size.DW and (mode == Mode.IND or src == 0)
    if mode == Mode.IMM:
        return size == Size.DW and off == 0 and src <= 6  # resolve_pseudo_ldimm64
    return False


def _decodes(code: int, dst: int, src: int, off: int, imm: int) -> bool:
    first = struct.pack("<BBhi", code, src << 4 | dst, off, imm)
    data = first + (bytes(8) if code == 0x18 else b"")
    try:
        decode(data)
    except DecodeError:
        return False
    return True


@pytest.mark.parametrize("code", range(256), ids=lambda c: f"{c:#04x}")
def test_every_opcode_byte_and_discriminator(code: int) -> None:
    table = opcode_table()
    probes = itertools.chain(
        itertools.product((0, 5), SRCS, OFFS, IMMS),
        ((dst, src, off, imm)
         for (dst, src), off, imm in itertools.product(BAD_REGS, (0, 1, 8), (0, 16, 0xE1))),
    )
    for dst, src, off, imm in probes:
        expected = kernel_accepts(code, dst, src, off, imm)
        form = table.lookup(code, dst, src, off, imm)
        assert (form is not None) == expected, (hex(code), dst, src, off, imm, form)
        if form is not None:
            assert form.opcode == code
            assert form.accepts(dst, src, off, imm)
            assert table.explain(code, dst, src, off, imm) is None
        else:
            assert table.explain(code, dst, src, off, imm)
    # The decoder's fast path agrees with the table (on a sample: it is slower).
    for dst, src, off, imm in itertools.product((0, 11), (0, 1, 2, 7, 11), (0, 1, 8), DECODE_IMMS):
        assert _decodes(code, dst, src, off, imm) == kernel_accepts(code, dst, src, off, imm)


def test_valid_opcode_bytes() -> None:
    table = opcode_table()
    valid = {code for code in range(256) if table.entry(code) is not None}
    # RFC 9669 + v4 + 6.18 extensions: 26 + 27 ALU/ALU64 opcodes (END|X in ALU only),
    # 28 + 24 JMP/JMP32 (CALL/EXIT/JCOND only in JMP), 16 loads/stores...
    assert len(valid) == 127
    assert {0x18, 0x20, 0x28, 0x30, 0x40, 0x48, 0x50} <= valid
    assert not {0x00, 0x38, 0x58, 0x99, 0xDF, 0x8C, 0x8F, 0x0D, 0x0E, 0x86, 0x96, 0xE6, 0xF5} & valid


def test_discriminators() -> None:
    table = opcode_table()
    expect = {
        0x18: ("src",), 0x85: ("src",), 0x37: ("off",), 0x3C: ("off",), 0x97: ("off",),
        0xBC: ("off",), 0xBF: ("off", "imm"), 0xD4: ("imm",), 0xDC: ("imm",), 0xD7: ("imm",),
        0xC3: ("imm",), 0xDB: ("imm",), 0x07: (), 0x95: (), 0x06: (),
    }
    for code, disc in expect.items():
        entry = table.entry(code)
        assert entry is not None and entry.disc == disc, hex(code)
    for entry in filter(None, table.entries):
        keys = [tuple(getattr(f, name) for name in entry.disc) for f in entry.forms]
        assert len(set(keys)) == len(keys), f"{entry.opcode:#04x}: overlapping forms"


def test_forms_are_named_uniquely_and_typed() -> None:
    table = opcode_table()
    assert len(table.by_name) == len(table.forms) == len(table)
    assert all(isinstance(v, int) and not isinstance(v, bool) for f in table for v in f.fixed
               if v is not None)
    assert {f.slots for f in table} == {1, 2}
    assert next(f.name for f in table if f.slots == 2) == "LD_IMM64"
    with pytest.raises(TypeError):
        table.by_name["X"] = table.forms[0]  # type: ignore[index]


@pytest.mark.parametrize(("name", "cpu"), [
    ("ALU64_ADD_K", CpuVersion.V1), ("JMP_JLT_X", CpuVersion.V2), ("JMP32_JEQ_K", CpuVersion.V3),
    ("STX_ATOMIC_DW_ADD", CpuVersion.V1), ("STX_ATOMIC_W_ADD", CpuVersion.V1),
    ("STX_ATOMIC_DW_FETCH_ADD", CpuVersion.V3), ("STX_ATOMIC_W_XCHG", CpuVersion.V3),
    ("ALU64_SDIV_X", CpuVersion.V4), ("ALU_MOVSX8_X", CpuVersion.V4), ("LDX_MEMSX_B", CpuVersion.V4),
    ("ALU64_BSWAP16", CpuVersion.V4), ("JMP32_JA", CpuVersion.V4), ("ALU_END_BE16", CpuVersion.V1),
])
def test_cpu_versions(name: str, cpu: CpuVersion) -> None:
    assert opcode_table().by_name[name].cpu == cpu


def test_describe_and_explain() -> None:
    table = opcode_table()
    assert describe_opcode(0xBF) == "ALU64|MOV|X"
    assert describe_opcode(0xDB) == "STX|ATOMIC|DW"
    assert describe_opcode(0xF5) == "JMP|0xf0|K"
    assert describe_opcode(0xA1) == "LDX|0xa0|W"
    assert table.explain(0xF5, 0, 0, 0, 0) == "unknown opcode 0xf5 (JMP|0xf0|K)"
    assert "off=3" in (table.explain(0xBF, 1, 2, 3, 0) or "")
    assert "src must be 0, not 3" in (table.explain(0x07, 1, 3, 0, 5) or "")
    assert "invalid register r12" in (table.explain(0x07, 12, 0, 0, 5) or "")
    assert table.explain(0xDB, 10, 1, -8, 0xF1) is None


def test_instruction_form_property() -> None:
    assert Instruction(0x95).form is opcode_table().by_name["JMP_EXIT"]
    assert Instruction(0x95, off=1).form is None
    assert Instruction(0x85, src=1, imm=-1).form is opcode_table().by_name["JMP_CALL_SUBPROG"]
    assert Instruction(AluOp.MOV | Source.X | ALU64, 1, 2, 1, 1).form.name == (  # type: ignore[union-attr]
        "ALU64_ADDR_SPACE_CAST_1_TO_0")

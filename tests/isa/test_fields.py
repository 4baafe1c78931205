"""The opcode field enums: no aliases, and every value as the kernel's UAPI headers define it."""

from __future__ import annotations

import re
from enum import IntEnum
from pathlib import Path

import pytest

from bpfbuild.isa import fields
from bpfbuild.isa.fields import (
    ATOMIC_FETCH,
    AluOp,
    AtomicOp,
    CpuVersion,
    Endian,
    InsnClass,
    JmpOp,
    Mode,
    PseudoCall,
    PseudoLoad,
    Size,
    Source,
)

ENUMS: list[type[IntEnum]] = [InsnClass, Size, Mode, Source, Endian, AluOp, JmpOp, AtomicOp,
                              PseudoLoad, PseudoCall, CpuVersion]

# (our member, the UAPI macro that defines it in linux/bpf.h or linux/bpf_common.h).  A list:
# IntEnum members of different enums with equal values compare equal.
UAPI_NAMES: list[tuple[IntEnum, str]] = [
    *((m, f"BPF_{m.name}") for m in (*InsnClass, *Size, *Mode, *Source, *AluOp, *JmpOp)),
    (Endian.LE, "BPF_TO_LE"), (Endian.BE, "BPF_TO_BE"),
    (AtomicOp.ADD, "BPF_ADD"), (AtomicOp.OR, "BPF_OR"), (AtomicOp.AND, "BPF_AND"),
    (AtomicOp.XOR, "BPF_XOR"),
    *((m, f"BPF_PSEUDO_{m.name}") for m in PseudoLoad if m is not PseudoLoad.IMM64),
    (PseudoCall.CALL, "BPF_PSEUDO_CALL"), (PseudoCall.KFUNC, "BPF_PSEUDO_KFUNC_CALL"),
]


def _headers() -> list[Path]:
    found = [p for p in (Path("/usr/include/linux/bpf.h"), Path("/usr/include/linux/bpf_common.h"))
             if p.exists()]
    try:
        import ziglang  # type: ignore[import-untyped]  # the newest UAPI headers here (MEMSX, JCOND)

        base = Path(ziglang.__file__).parent / "lib/libc/include/any-linux-any/linux"
        found += [p for p in (base / "bpf.h", base / "bpf_common.h") if p.exists()]
    except ImportError:
        pass
    return found


def _uapi_defines() -> dict[str, list[int]]:
    defines: dict[str, list[int]] = {}
    for header in _headers():
        for name, value in re.findall(r"#define\s+(BPF_\w+)\s+(0x[0-9a-fA-F]+|\d+)\b",
                                      header.read_text()):
            defines.setdefault(name, []).append(int(value, 0))
        for name, value in re.findall(r"\b(BPF_PSEUDO_\w+|BPF_MAY_GOTO)\s*=\s*(\d+)", header.read_text()):
            defines.setdefault(name, []).append(int(value))
        for name, value in re.findall(r"#define\s+(BPF_\w+)\s+\(\s*(0x[0-9a-fA-F]+)\s*\|\s*BPF_FETCH\s*\)",
                                      header.read_text()):
            defines.setdefault(name, []).append(int(value, 0) | ATOMIC_FETCH)
    return defines


@pytest.mark.parametrize("enum", ENUMS, ids=lambda e: e.__name__)
def test_no_member_aliases_another(enum: type[IntEnum]) -> None:
    assert len(enum.__members__) == len(list(enum)), f"{enum.__name__} has aliases"
    assert len({m.value for m in enum}) == len(list(enum))


def test_values_match_the_kernel_uapi_headers() -> None:
    defines = _uapi_defines()
    if not defines:
        pytest.skip("no linux/bpf.h on this machine")
    checked = 0
    for member, macro in UAPI_NAMES:
        if macro in defines:
            assert set(defines[macro]) == {member.value}, (member, macro, defines[macro])
            checked += 1
    assert checked >= 60, f"only {checked} values found in {_headers()}"
    # The fetch flag and the always-fetching ops.
    assert defines["BPF_FETCH"] == [ATOMIC_FETCH] * len(defines["BPF_FETCH"])
    assert set(defines["BPF_XCHG"]) == {AtomicOp.XCHG.value}
    assert set(defines["BPF_CMPXCHG"]) == {AtomicOp.CMPXCHG.value}


def test_masks_cover_the_opcode_byte_without_overlap() -> None:
    assert fields.CLASS_MASK | fields.SIZE_MASK | fields.MODE_MASK == 0xFF
    assert fields.CLASS_MASK | fields.SOURCE_MASK | fields.OP_MASK == 0xFF
    assert fields.CLASS_MASK & fields.SIZE_MASK == fields.SIZE_MASK & fields.MODE_MASK == 0
    for enum, mask in ((InsnClass, fields.CLASS_MASK), (Size, fields.SIZE_MASK), (Mode, fields.MODE_MASK),
                       (Source, fields.SOURCE_MASK), (AluOp, fields.OP_MASK), (JmpOp, fields.OP_MASK)):
        assert all(m.value & ~mask == 0 for m in enum), enum


def test_size_bytes() -> None:
    assert [s.nbytes for s in (Size.B, Size.H, Size.W, Size.DW)] == [1, 2, 4, 8]

"""The ISA corpus: tests/vm/data/*.data, one program each, in the uBPF / bpf_conformance style.

A file has ``-- asm`` (LLVM syntax, see bpfbuild.isa.asm), optionally ``-- mem`` (hex bytes:
r1 points to a copy, r2 is its length), and either ``-- result`` (r0, hex or decimal) or
``-- error`` (a piece of the VMError message).  ``#`` lines are comments.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from bpfbuild.isa import assemble, encode
from bpfbuild.vm import VMError, run_bytecode
from bpfbuild.vm.compiler import compile_program

DATA = Path(__file__).with_name("data")


@dataclass(frozen=True)
class Case:
    name: str
    asm: str
    mem: bytes
    result: int | None
    error: str | None


def parse(path: Path) -> Case:
    sections: dict[str, list[str]] = {}
    current = None
    for line in path.read_text().splitlines():
        if line.startswith("-- "):
            current = line[3:].strip()
            sections[current] = []
        elif current is not None and not line.startswith("#"):
            sections[current].append(line)
    result = "".join(sections.get("result", [])).strip()
    error = "\n".join(sections.get("error", [])).strip()
    return Case(path.stem, "\n".join(sections["asm"]),
                bytes.fromhex("".join(sections.get("mem", []))),
                int(result, 0) if result else None, error or None)


CASES = sorted(DATA.glob("*.data"))


def test_corpus_is_not_empty() -> None:
    assert len(CASES) > 100


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_corpus(path: Path) -> None:
    case = parse(path)
    code = encode(assemble(case.asm))
    assert (case.result is None) != (case.error is None), "a case expects a result or an error"
    if case.error is not None:
        with pytest.raises(VMError) as info:
            run_bytecode(code, case.mem)
        assert case.error in str(info.value)
    else:
        assert run_bytecode(code, case.mem) == case.result


def test_translation_is_cached() -> None:
    insns = assemble("r0 = 1\nexit")
    assert compile_program(insns) is compile_program(tuple(insns))


def test_each_line_of_the_translation_maps_to_its_instruction() -> None:
    insns = assemble("r0 = 1\nr1 = *(u64 *)(r1 + 8)\nexit")
    compiled = compile_program(insns)
    lines = compiled.source.splitlines()
    load_lines = [i + 1 for i, text in enumerate(lines) if "U64(" in text]
    assert load_lines and all(compiled.pc_of_line(n) == 1 for n in load_lines)


def test_frame_slots_live_in_locals_unless_r10_escapes() -> None:
    kept = compile_program(assemble("*(u64 *)(r10 - 8) = r1\nr0 = *(u64 *)(r10 - 8)\nexit"))
    assert "s504 = r1" in kept.source and "P64" not in kept.source
    escaping = compile_program(assemble("*(u64 *)(r10 - 8) = r1\nr2 = r10\nr0 = *(u64 *)(r10 - 8)\nexit"))
    assert "P64(S, 504" in escaping.source
    overlapping = compile_program(assemble("*(u64 *)(r10 - 8) = r1\nr0 = *(u32 *)(r10 - 8)\nexit"))
    assert "P64(S, 504" in overlapping.source
    code = encode(assemble("r1 = -2\n*(u64 *)(r10 - 8) = r1\nr0 = *(u8 *)(r10 - 16)\n"
                           "*(u16 *)(r10 - 16) = r1\nr0 = *(s16 *)(r10 - 16)\nexit"))
    assert run_bytecode(code) == (1 << 64) - 2


def test_a_self_loop_runs_as_an_inner_loop() -> None:
    insns = assemble("r0 = 0\nloop:\nr0 += 1\nif r0 < 1000 goto loop\nexit")
    assert "while True:" in compile_program(insns).source.split("while True:", 1)[1]
    assert run_bytecode(encode(insns)) == 1000


def test_budget_counts_every_executed_instruction() -> None:
    code = encode(assemble("r0 = 0\nloop:\nr0 += 1\nif r0 < 10 goto loop\nexit"))
    # 1 + 10 * 2 + 1 = 22 instructions
    assert run_bytecode(code, budget=22) == 10
    with pytest.raises(VMError, match="budget of 21 instructions"):
        run_bytecode(code, budget=21)


def test_invalid_bytes_are_a_vm_error_with_the_pc() -> None:
    code = encode(assemble("r0 = 0\nexit")) + bytes([0xFF]) + bytes(7)
    with pytest.raises(VMError) as info:
        run_bytecode(code)
    assert info.value.pc == 2


def test_empty_program() -> None:
    with pytest.raises(VMError, match="empty"):
        run_bytecode(b"")


def test_fault_names_pc_instruction_and_registers() -> None:
    code = encode(assemble("r0 = 1\nr2 = 7\nr3 = *(u32 *)(r2 + 4)\nexit"))
    with pytest.raises(VMError) as info:
        run_bytecode(code)
    err = info.value
    assert err.pc == 2
    text = str(err)
    assert text.startswith("insn 2: `r3 = *(u32 *)(r2 + 4)`: invalid read of 4 bytes at 0xb")
    assert "r0=0x1" in text and "r2=0x7" in text

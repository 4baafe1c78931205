"""Fixtures for the isa tests: compiled BPF objects, a tiny ELF section reader (the real
object reader lives in bpfbuild.obj; this one only pulls executable sections and their
symbols out of clang's output) and a hypothesis strategy for valid instructions."""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import strategies as st

from bpfbuild.isa import Form, Instruction, opcode_table

REPO = Path(__file__).resolve().parents[2]
PROGRAMS = REPO / "programs"
DATA = Path(__file__).resolve().parent / "data"

_SHT_PROGBITS, _SHT_SYMTAB = 1, 2
_SHF_EXECINSTR = 0x4
_STT_NOTYPE, _STT_FUNC = 0, 2


@dataclass(frozen=True)
class ExecSection:
    """An executable section: its bytes and its symbols (pc -> name) as llvm-objdump uses them."""

    name: str
    data: bytes
    symbols: dict[int, str] = field(default_factory=dict)


def read_exec_sections(path: Path) -> list[ExecSection]:
    """Executable sections of a little-endian ELF64 object, with their code symbols."""
    raw = path.read_bytes()
    assert raw[:4] == b"\x7fELF" and raw[4] == 2 and raw[5] == 1, f"{path}: not an ELF64 LE object"
    (shoff,) = struct.unpack_from("<Q", raw, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", raw, 0x3A)
    headers = [struct.unpack_from("<IIQQQQIIQQ", raw, shoff + i * shentsize) for i in range(shnum)]

    def string(table: int, offset: int) -> str:
        start = headers[table][4] + offset
        return raw[start:raw.index(b"\0", start)].decode()

    symbols: dict[int, dict[int, str]] = {}
    for header in headers:
        if header[1] != _SHT_SYMTAB:
            continue
        link, offset, size, entsize = header[6], header[4], header[5], header[9]
        for index in range(size // entsize):
            name, info, _, shndx, value, _ = struct.unpack_from("<IBBHQQ", raw, offset + index * entsize)
            if name and info & 0xF in (_STT_NOTYPE, _STT_FUNC):
                symbols.setdefault(shndx, {})[value // 8] = string(link, name)
    return [
        ExecSection(string(shstrndx, h[0]), raw[h[4]:h[4] + h[5]], symbols.get(i, {}))
        for i, h in enumerate(headers)
        if h[1] == _SHT_PROGBITS and h[2] & _SHF_EXECINSTR and h[5]
    ]


@dataclass(frozen=True)
class BuiltObject:
    """A compiled object and the llvm-objdump command (of the same LLVM) that lists it."""

    name: str
    path: Path
    compiler: str
    major: int
    objdump: tuple[str, ...] | None


def _build(tmp: Path, cc: Any, cpu: str | None, sources: list[Path]) -> list[BuiltObject]:
    """Compile ``sources`` with ``cc`` (a ``bpf_cc``: the compiler doit would use, with its
    include set) for ``cpu`` (None: the compiler's default)."""
    objdump = objdump_for(cc.major)
    built = []
    for source in sources:
        out = cc.compile(source, tmp / (source.name.removesuffix(".c") + ".o"), mcpu=cpu)
        built.append(BuiltObject(source.name, out, cc.path, cc.major, objdump))
    return built


def objdump_for(version: int) -> tuple[str, ...] | None:
    """``llvm-objdump -d`` of LLVM ``version`` (decimal immediates), if installed."""
    for name in (f"llvm-objdump-{version}", "llvm-objdump"):
        path = shutil.which(name)
        if path and (name != "llvm-objdump" or _objdump_major(path) == version):
            return (path, "-d", "--no-print-imm-hex") if version >= 18 else (path, "-d")
    return None


def _objdump_major(path: str) -> int:
    out = subprocess.run([path, "--version"], capture_output=True, text=True, check=False).stdout
    match = re.search(r"LLVM version (\d+)", out)
    return int(match.group(1)) if match else 0


@pytest.fixture(scope="session")
def clang_objects(bpf_cc: Any, tmp_path_factory: pytest.TempPathFactory) -> list[BuiltObject]:
    """The user's programs (default cpu) and our test programs (-mcpu=v3), built by the
    compiler doit would use (clang, else zig's)."""
    tmp = tmp_path_factory.mktemp("clang")
    data = [p for p in sorted(DATA.glob("*.bpf.c")) if not p.name.endswith(".v4.bpf.c")]
    return _build(tmp, bpf_cc, None, sorted(PROGRAMS.glob("*.bpf.c"))) + _build(tmp, bpf_cc, "v3", data)


@pytest.fixture(scope="session")
def clang_v4_objects(bpf_cc_v4: Any, tmp_path_factory: pytest.TempPathFactory) -> list[BuiltObject]:
    """Every program built for cpu v4 by a clang >= 18 (Debian's clang-19, else zig's)."""
    tmp = tmp_path_factory.mktemp("clang_v4")
    return _build(tmp, bpf_cc_v4, "v4", sorted(PROGRAMS.glob("*.bpf.c")) + sorted(DATA.glob("*.bpf.c")))


def _instruction_for(form: Form, draw: st.DrawFn) -> Instruction:
    """A random instruction of ``form`` (operand fields drawn, fixed fields kept)."""
    reg = st.integers(0, 10)
    dst = form.dst if form.dst is not None else draw(reg)
    src = form.src if form.src is not None else draw(reg)
    off = form.off if form.off is not None else draw(st.integers(-(1 << 15), (1 << 15) - 1))
    imm = form.imm if form.imm is not None else draw(st.integers(-(1 << 31), (1 << 31) - 1))
    imm_hi = draw(st.integers(-(1 << 31), (1 << 31) - 1)) if form.slots == 2 else 0
    return Instruction(form.opcode, dst, src, off, imm, imm_hi)


@st.composite
def _valid_instruction(draw: st.DrawFn) -> Instruction:
    return _instruction_for(draw(st.sampled_from(opcode_table().forms)), draw)


@pytest.fixture(scope="session")
def valid_insn() -> st.SearchStrategy[Instruction]:
    """Strategy: any valid instruction (every form equally likely, random operands)."""
    return _valid_instruction()


@pytest.fixture(scope="session")
def insn_of() -> Callable[[Form], st.SearchStrategy[Instruction]]:
    """``insn_of(form)``: strategy for random instructions of one form."""
    return lambda form: st.composite(lambda draw: _instruction_for(form, draw))()


@pytest.fixture(scope="session")
def exec_sections() -> Callable[[Path], list[ExecSection]]:
    """The ELF reader above, as a fixture (test modules do not import conftest)."""
    return read_exec_sections


@dataclass(frozen=True)
class LlvmTools:
    """The LLVM tools the golden tests compare with (``None`` when not installed)."""

    objdump14: tuple[str, ...] | None  # the view bpfbuild's syntax follows
    objdump_v4: tuple[str, ...] | None  # LLVM >= 18: prints the cpu v4 instructions
    mc: str | None  # any llvm-mc (only assembles .byte directives)
    mc_v4: str | None  # llvm-mc >= 18 (parses the v4 syntax)


@pytest.fixture(scope="session")
def llvm_tools() -> LlvmTools:
    v4 = next((objdump_for(v) for v in (19, 20, 18) if objdump_for(v)), None)
    mc_v4 = next((shutil.which(f"llvm-mc-{v}") for v in (19, 20, 18) if shutil.which(f"llvm-mc-{v}")), None)
    return LlvmTools(objdump_for(14), v4, mc_v4 or shutil.which("llvm-mc") or shutil.which("llvm-mc-14"),
                     mc_v4)

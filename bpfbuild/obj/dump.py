"""Text views of an object: llvm-objdump ``-d``/``-S`` and bpftool ``dump xlated`` styles.

Instructions are always in the one text syntax (llvm-objdump's); names are annotations beside
it: ``map[hello.bss][0]+0`` for a map value load, ``call bpf_trace_printk#6`` for a helper,
``call pc+5#get_opcode`` for a bpf-to-bpf call.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from bpfbuild.abi.helpers import helper_name
from bpfbuild.btf.types import Func
from bpfbuild.errors import BpfBuildError
from bpfbuild.isa.codec import encode, iter_insns, raw_slots
from bpfbuild.isa.fields import AluOp, InsnClass, JmpOp, PseudoCall, PseudoLoad, Source
from bpfbuild.isa.instruction import LD_IMM64_OPCODE, Instruction
from bpfbuild.isa.listing import listing
from bpfbuild.isa.syntax import format_insn
from bpfbuild.obj.spec import ObjectSpec, Program

__all__ = ["Annotator", "ObjectAnnotator", "XlatedInsn", "annotated_text", "objdump_text", "program_signature",
           "xlated_json", "xlated_listing", "xlated_text"]

_CALL = InsnClass.JMP | JmpOp.CALL
_MOV64_X = InsnClass.ALU64 | AluOp.MOV | Source.X
_PC_LINE = re.compile(r"^\s*(\d+):\t")


def objdump_text(spec: ObjectSpec, *, source: bool = False, program: str | None = None,
                 file_label: str | None = None) -> str:
    """``llvm-objdump -d`` (``-S`` with ``source``) of the object's executable sections."""
    out = [f"\n{file_label or spec.path or spec.name}:\tfile format elf64-bpf\n"]
    for sec in spec.code_sections:
        functions = dict(sec.functions)
        if program is not None and program not in functions.values():
            continue
        out.append(f"\nDisassembly of section {sec.name}:\n\n")
        text = _llvm_spelling(listing(sec.insns, symbols=functions or {0: sec.name}))
        lines = spec.btf_ext.line_info.get(sec.name, ()) if (source and spec.btf_ext) else ()
        by_slot = {li.slot: li for li in lines}
        last = None
        for line in text.splitlines():
            m = _PC_LINE.match(line)
            if m and source:
                li = by_slot.get(int(m.group(1)))
                if li is not None and (li.line, li.file_name) != last:
                    out.append(f"; {li.line_text}\n")
                    last = (li.line, li.file_name)
            out.append(line + "\n")
    return "".join(out)


_PC_CALL = re.compile(r"\tcall pc([+-]\d+)$", re.MULTILINE)


def _llvm_spelling(text: str) -> str:
    """llvm-objdump prints a bpf-to-bpf call as ``call -1``; our syntax says ``call pc-1`` (so that it
    assembles back to src=1, which LLVM's text cannot express).  The objdump view speaks LLVM's."""
    return _PC_CALL.sub(lambda m: f"\tcall {int(m.group(1))}", text)


def program_signature(spec: ObjectSpec, prog: Program, pc: int) -> str | None:
    """``int hello(struct xdp_md *ctx)`` for a function starting at ``pc`` (BTF func info)."""
    if spec.btf is None:
        return None
    for fi in prog.func_info:
        if fi.pc == pc:
            try:
                from bpfbuild.btf.cdecl import declaration

                func = spec.btf.type(fi.type_id)
                if isinstance(func, Func):
                    return declaration(spec.btf, func.type, func.name)
            except BpfBuildError:
                return None
    return None


class Annotator(Protocol):
    """The names an xlated listing prints beside an instruction, from wherever the program came
    from: an object's maps and BTF (:class:`ObjectAnnotator`), or a loaded program's map ids and
    the kernel's symbols (``bpfbuild.kernel.show``)."""

    def map_ref(self, insn: Instruction) -> str | None:
        """``map[NAME]``, ``map[NAME][0]+OFF``... for an ``ld_imm64`` of a map (None: not one)."""

    def helper(self, insn: Instruction) -> str | None:
        """``NAME`` of ``call NAME#ID`` for a helper or kfunc call (None: print the plain call)."""

    def subprog(self, pc: int, insn: Instruction) -> str | None:
        """The name of the function a bpf-to-bpf call at ``pc`` calls, if known."""


@dataclass(frozen=True, slots=True)
class XlatedInsn:
    """One instruction of a program as loaded, with what bpftool prints around it."""

    pc: int
    opcode: int
    text: str                  # the instruction, without pc and opcode
    raw: bytes                 # its 8 (or 16) bytes
    proto: str | None          # function signature when a BTF func starts here
    src: str | None            # source line when a BTF line-info record starts here
    file: str | None = None
    line: int | None = None
    column: int | None = None

    @property
    def disasm(self) -> str:
        return f"({self.opcode:02x}) {self.text}"


def annotated_text(pc: int, insn: Instruction, names: Annotator) -> str:
    """The instruction in the one syntax, with names where bpftool prints them: a map load is
    ``r1 = map[hello.bss][0]+0``, a helper call ``call bpf_trace_printk#6``, a bpf-to-bpf call
    ``call pc+7#get_opcode``."""
    if insn.opcode == LD_IMM64_OPCODE:
        ref = names.map_ref(insn)
        if ref is not None:
            return f"r{insn.dst} = {ref}"
    elif insn.opcode == _CALL and insn.src == PseudoCall.CALL:
        name = names.subprog(pc, insn)
        return f"call pc{insn.imm:+d}" + (f"#{name}" if name else "")
    elif insn.opcode == _CALL:
        name = names.helper(insn)
        if name is not None:
            return f"call {name}#{insn.imm}"
    elif insn.opcode == _MOV64_X and insn.off == -1:
        return f"r{insn.dst} = &(void __percpu *)(r{insn.src})"   # the verifier's per-CPU address move
    return format_insn(insn)


@dataclass(frozen=True, slots=True)
class ObjectAnnotator:
    """Names from the object: its maps by index, helpers by id, functions by BTF func info."""

    spec: ObjectSpec
    prog: Program

    def map_ref(self, insn: Instruction) -> str | None:
        if insn.src not in (PseudoLoad.MAP_FD, PseudoLoad.MAP_VALUE):
            return None
        maps = self.spec.maps
        name = maps[insn.imm].name if 0 <= insn.imm < len(maps) else f"#{insn.imm}"
        return f"map[{name}]" if insn.src == PseudoLoad.MAP_FD else f"map[{name}][0]+{insn.imm_hi}"

    def helper(self, insn: Instruction) -> str | None:
        if insn.src != PseudoCall.HELPER:
            return None   # a kfunc: the object has only its BTF id
        return helper_name(insn.imm) or "unknown"

    def subprog(self, pc: int, insn: Instruction) -> str | None:
        target = insn.call_target(pc)
        return next((f.name for f in self.prog.func_info if f.pc == target), None)


def xlated_listing(spec: ObjectSpec, prog: Program, *,
                   call_names: Mapping[int, str] | None = None) -> list[XlatedInsn]:
    """Each instruction of a program as loaded (subprograms appended), with its function
    header and the source line that starts at it.  ``call_names``: by pc, the kernel function
    a call calls instead of the helper its id names (the verifier's rewrites: give the program
    and names of ``bpfbuild.verifier.fixups.xlated``)."""
    names = ObjectAnnotator(spec, prog)
    out: list[XlatedInsn] = []
    last_line = None
    for pc, insn in iter_insns(prog.insns):
        rec = prog.line_at(pc)
        src = None
        if rec is not None and rec.pc == pc and (rec.location, rec.line_text) != last_line:
            src = rec
            last_line = (rec.location, rec.line_text)
        out.append(XlatedInsn(
            pc=pc, opcode=insn.opcode, raw=encode([insn], check=False),
            text=(f"call {call_names[pc]}#{insn.imm}" if call_names and pc in call_names and insn.is_call
                  else annotated_text(pc, insn, names)),
            proto=program_signature(spec, prog, pc), src=src.line_text.strip() if src else None,
            file=src.location.file if src else None, line=src.location.line if src else None,
            column=src.location.column if src else None))
    return out


def xlated_text(listing: Sequence[XlatedInsn], *, linum: bool = False, opcodes: bool = False) -> str:
    """``bpftool prog dump xlated`` text (``linum``: file and line of each source line;
    ``opcodes``: the bytes under each instruction), without a final newline."""
    rows: list[str] = []
    for insn in listing:
        if insn.proto:
            rows.append(f"{insn.proto}:")
        if insn.src:
            where = f" [file:{insn.file} line_num:{insn.line} line_col:{insn.column}]" if linum else ""
            rows.append(f"; {insn.src}{where}")
        rows.append(f"{insn.pc:4d}: {insn.disasm}")
        if opcodes:
            rows.append(f"       {insn.raw.hex(' ')}")
    return "\n".join(rows)


def xlated_json(listing: Sequence[XlatedInsn], *, linum: bool = False,
                opcodes: bool = False) -> list[dict[str, Any]]:
    """``bpftool prog dump xlated --json``: one record per instruction."""
    out: list[dict[str, Any]] = []
    for insn in listing:
        rec: dict[str, Any] = {}
        if insn.proto:
            rec["proto"] = insn.proto
        if insn.src:
            rec["src"] = insn.src
            if linum:
                rec["file"] = insn.file
                rec["line_num"] = insn.line
                rec["line_col"] = insn.column
        rec["disasm"] = insn.disasm
        if opcodes:
            code, dst, src, off, imm = raw_slots(insn.raw[:8])[0]
            rec["opcodes"] = {"code": f"0x{code:02x}", "src_reg": f"0x{src:x}", "dst_reg": f"0x{dst:x}",
                              "off": [f"0x{b:02x}" for b in insn.raw[2:4]],
                              "imm": [f"0x{b:02x}" for b in insn.raw[4:8]]}
        out.append(rec)
    return out

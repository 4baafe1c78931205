"""Text views of an object: llvm-objdump ``-d``/``-S`` and bpftool ``dump xlated`` styles.

Instructions are always in the one text syntax (llvm-objdump's); names are annotations beside
it: ``map[hello.bss][0]+0`` for a map value load, ``call bpf_trace_printk#6`` for a helper,
``call pc+5#get_opcode`` for a bpf-to-bpf call.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from bpfbuild.abi.helpers import helper_name
from bpfbuild.btf.types import Func
from bpfbuild.errors import BpfBuildError
from bpfbuild.isa.codec import encode, iter_insns
from bpfbuild.isa.fields import InsnClass, JmpOp, PseudoCall, PseudoLoad
from bpfbuild.isa.instruction import LD_IMM64_OPCODE, Instruction
from bpfbuild.isa.listing import listing
from bpfbuild.isa.syntax import format_insn
from bpfbuild.obj.spec import ObjectSpec, Program

__all__ = ["objdump_text", "program_signature", "xlated_lines", "xlated_text"]

_CALL = InsnClass.JMP | JmpOp.CALL
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


def _annotated(spec: ObjectSpec, prog: Program, pc: int, insn: Instruction) -> str:
    if insn.opcode == LD_IMM64_OPCODE and insn.src in (PseudoLoad.MAP_FD, PseudoLoad.MAP_VALUE):
        name = spec.maps[insn.imm].name if 0 <= insn.imm < len(spec.maps) else f"#{insn.imm}"
        if insn.src == PseudoLoad.MAP_FD:
            return f"r{insn.dst} = map[{name}]"
        return f"r{insn.dst} = map[{name}][0]+{insn.imm_hi}"
    if insn.opcode == _CALL and insn.src == PseudoCall.HELPER:
        return f"call {helper_name(insn.imm) or 'unknown'}#{insn.imm}"
    if insn.opcode == _CALL and insn.src == PseudoCall.CALL:
        target = pc + insn.imm + 1
        name = next((f.name for f in prog.func_info if f.pc == target), None)
        return f"call pc{insn.imm:+d}" + (f"#{name}" if name else "")
    return format_insn(insn)


def xlated_lines(spec: ObjectSpec, prog: Program) -> Iterator[dict[str, Any]]:
    """Each instruction of a program as loaded, with its function header and source line."""
    last_line = None
    for pc, insn in iter_insns(prog.insns):
        rec = prog.line_at(pc)
        src = None
        if rec is not None and rec.pc == pc and (rec.location, rec.line_text) != last_line:
            src = rec
            last_line = (rec.location, rec.line_text)
        yield {
            "pc": pc,
            "insn": insn,
            "text": _annotated(spec, prog, pc, insn),
            "proto": program_signature(spec, prog, pc),
            "source": src,
            "bytes": encode([insn], check=False),
        }


def xlated_text(spec: ObjectSpec, prog: Program, *, opcodes: bool = False, linum: bool = False) -> str:
    """bpftool ``prog dump xlated`` layout: ``   0: (18) r6 = map[hello.bss][0]+0``."""
    out = []
    for row in xlated_lines(spec, prog):
        if row["proto"]:
            out.append(f"{row['proto']}:")
        src = row["source"]
        if src is not None:
            where = f" [file:{src.location.file} line_num:{src.location.line} line_col:{src.location.column}]" \
                if linum else ""
            out.append(f"; {src.line_text.strip()}{where}")
        out.append(f"{row['pc']:4d}: ({row['insn'].opcode:02x}) {row['text']}")
        if opcodes:
            out.append("       " + " ".join(f"{b:02x}" for b in row["bytes"]))
    return "\n".join(out) + "\n"

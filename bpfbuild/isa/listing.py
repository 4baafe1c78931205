"""A listing in llvm-objdump's layout: the pc, the instruction's bytes and its text.

It needs both the codec (the bytes) and the syntax (the text), so it lives above both.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from bpfbuild.isa.codec import encode, iter_insns
from bpfbuild.isa.instruction import Instruction
from bpfbuild.isa.syntax import format_insn

__all__ = ["listing"]


def listing(insns: Iterable[Instruction], *, symbols: Mapping[int, str] | None = None) -> str:
    """A listing in llvm-objdump's layout: ``{pc:>8}:\\t{hex bytes}\\t{text}`` per line.

    ``symbols`` (pc -> name: functions, labels) adds what llvm-objdump prints with a
    symbol table: a header ``\\n{byte address:016x} <name>:`` before each symbol's first
    instruction, and ``<name>`` / ``<name+0xN>`` after every jump, naming its target by
    the nearest symbol at or before it.  Without symbols only instruction lines are
    printed.  The output assembles back (headers become labels, annotations are skipped).
    """
    marks = sorted(symbols.items()) if symbols else []
    lines: list[str] = []
    for pc, insn in iter_insns(insns):
        if symbols and pc in symbols:
            if lines:
                lines.append("")
            lines.append(f"{pc * 8:016x} <{symbols[pc]}>:")
        raw = encode([insn], check=False)
        text = format_insn(insn)
        if marks and insn.is_jump and insn.form is not None:
            note = _annotation(marks, insn.jump_target(pc))
            if note:
                text += " " + note
        lines.append(f"{pc:>8}:\t{' '.join(f'{b:02x}' for b in raw)}\t{text}")
    return "".join(line + "\n" for line in lines)


def _annotation(marks: list[tuple[int, str]], target: int) -> str:
    """``<sym>`` or ``<sym+0xN>`` for a jump target, as llvm-objdump computes it (byte
    addresses, wrapping below zero like its 64-bit arithmetic)."""
    address = (target * 8) & 0xFFFFFFFFFFFFFFFF
    best: tuple[int, str] | None = None
    for pc, name in marks:
        if pc * 8 <= address:
            best = (pc * 8, name)
        else:
            break
    if best is None:
        return ""
    base, name = best
    return f"<{name}>" if base == address else f"<{name}+{address - base:#x}>"

"""Text -> instructions, for the syntax of :mod:`bpfbuild.isa.syntax`.

One instruction per line.  Blank lines and comments (``;``, ``#``, ``//`` to the end of
the line) are ignored.  So that a pasted llvm-objdump listing assembles, a leading
``pc:`` and the raw bytes are skipped, a trailing ``<symbol+0xN>`` after an instruction is
dropped, the ``file format`` / ``Disassembly of section`` lines are ignored and symbol
headers (``0000000000000050 <LBB0_3>:``) define labels.

Labels (``name:`` on its own line or before an instruction) may stand for jump offsets (``goto name``,
``if r1 > r2 goto name``, ``gotol name``) and ``call name`` is a bpf-to-bpf call, as in
LLVM's assembler.  Numbers are decimal or ``0x`` hex; an ``imm`` may be given signed or
as its unsigned 32-bit pattern (``4294967295`` is -1), as llvm-mc allows.

Every error is an :class:`~bpfbuild.errors.AsmError` with the 1-based line.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, replace

from bpfbuild.errors import AsmError
from bpfbuild.isa.fields import PseudoCall
from bpfbuild.isa.instruction import Instruction
from bpfbuild.isa.opcodes import MAX_REG, Form, opcode_table
from bpfbuild.isa.syntax import Placeholder, template_pieces

__all__ = ["assemble"]

_NUM = r"[+-]?\s*(?:0[xX][0-9a-fA-F]+|[0-9]+)"
_LABEL = r"[A-Za-z_.$][\w.$]*"

# Regex for each placeholder (its groups are read back by _operand).
_OPERAND_RE = {
    "rd": r"r(\d+)", "rs": r"r(\d+)", "wd": r"w(\d+)", "ws": r"w(\d+)",
    "vd": r"[rw](\d+)", "vs": r"[rw](\d+)", "vws": r"[rw](\d+)",
    "imm": f"({_NUM})", "imm64": f"({_NUM})", "uimm64": f"({_NUM})",
    "joff": f"({_NUM}|{_LABEL})", "jimm": f"({_NUM}|{_LABEL})",
    "moff": rf"(?:\s*([+-])\s*({_NUM}))?", "mimm": rf"(?:\s*([+-])\s*({_NUM}))?",
    "koff": rf"(?:\s*,\s*({_NUM}))?",
}

_S16 = (-(1 << 15), 1 << 15)
_S32 = (-(1 << 31), 1 << 31)
_IMM32 = (-(1 << 31), 1 << 32)  # signed or the unsigned bit pattern, like llvm-mc
_IMM64 = (-(1 << 63), 1 << 64)

_COMMENT_RE = re.compile(r"(;|#|//).*$")
_PC_RE = re.compile(r"^\d+:\s*")
_BYTES_RE = re.compile(r"^(?:[0-9a-fA-F]{2}\s+){8}(?:(?:[0-9a-fA-F]{2}\s+){8})?")
_ANNOTATION_RE = re.compile(r"\s*<[^<>]*>$")
_LABEL_RE = re.compile(rf"^({_LABEL})\s*:\s*(.*)$")
_SYMBOL_HEADER_RE = re.compile(r"^[0-9a-fA-F]+\s+<([^<>]+)>:$")
_BANNER_RE = re.compile(r"^(?:\S.*:\s+file format \S+|Disassembly of section .*:)$")
_CALL_LABEL_RE = re.compile(rf"^call\s+({_LABEL})$")


@dataclass(frozen=True, slots=True)
class _Pattern:
    form: Form
    regex: re.Pattern[str]
    operands: tuple[tuple[Placeholder, int], ...]  # each with its number of regex groups


def _compile(form: Form) -> _Pattern:
    parts = []
    operands = []
    for piece in template_pieces(form.syntax):
        if isinstance(piece, str):
            parts.append(r"\s*".join(re.escape(word) for word in piece.split(" ")))
        else:
            parts.append(_OPERAND_RE[piece.name])
            operands.append((piece, re.compile(_OPERAND_RE[piece.name]).groups))
    return _Pattern(form, re.compile("".join(parts) + r"\Z"), tuple(operands))


@functools.cache
def _patterns() -> tuple[_Pattern, ...]:
    return tuple(_compile(form) for form in opcode_table().forms)


def _int(text: str) -> int:
    text = text.replace(" ", "")
    sign = -1 if text.startswith("-") else 1
    digits = text.lstrip("+-")
    return sign * (int(digits, 16) if digits[:2].lower() == "0x" else int(digits, 10))


def _bounded(value: int, bounds: tuple[int, int], what: str) -> int:
    low, high = bounds
    if not low <= value < high:
        raise ValueError(f"{what} {value} out of range [{low}, {high - 1}]")
    return value


def _wrap32(value: int) -> int:
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value & 0x80000000 else value


@dataclass(frozen=True, slots=True)
class _Pending:
    """An instruction whose jump/call operand names a label."""

    insn: Instruction
    field: str  # "off" or "imm"
    label: str
    line: int


def _operand(p: Placeholder, groups: list[str | None], labels: list[tuple[str, str]]) -> int:
    """The field value that placeholder ``p`` matched (``groups``: its regex groups)."""
    match p.name:
        case "rd" | "rs" | "wd" | "ws" | "vd" | "vs" | "vws":
            reg = int(groups[0] or "")
            if reg > MAX_REG:
                raise ValueError(f"invalid register {reg} (registers are r0..r{MAX_REG})")
            return reg
        case "moff" | "mimm":
            sign, number = groups
            value = 0 if number is None else _int(number) * (-1 if sign == "-" else 1)
            return _bounded(value, _S16 if p.name == "moff" else _S32, "offset")
        case "koff":
            return 0 if groups[0] is None else _bounded(_int(groups[0]), _S16, "kfunc offset")
        case "joff" | "jimm":
            text = groups[0] or ""
            if re.fullmatch(_LABEL, text):
                labels.append((p.field, text))
                return 0
            return _bounded(_int(text), _S16 if p.name == "joff" else _S32, "jump offset")
        case "imm":
            return _wrap32(_bounded(_int(groups[0] or ""), _IMM32, "immediate"))
        case _:  # imm64, uimm64
            return _bounded(_int(groups[0] or ""), _IMM64, "64-bit immediate") & ((1 << 64) - 1)


def _build(pattern: _Pattern, groups: list[str | None]) -> tuple[Instruction, list[tuple[str, str]]]:
    form = pattern.form
    values = {"dst": form.dst, "src": form.src, "off": form.off, "imm": form.imm, "imm64": None}
    seen: dict[str, int] = {}
    labels: list[tuple[str, str]] = []
    pos = 0
    for p, count in pattern.operands:
        value = _operand(p, groups[pos:pos + count], labels)
        pos += count
        if p.field in seen and seen[p.field] != value:
            raise ValueError(f"operands for {p.field} must be the same ({seen[p.field]} vs {value})")
        seen[p.field] = value
        values[p.field] = value
    imm64 = values["imm64"]
    if imm64 is not None:
        values["imm"] = _wrap32(imm64)
    insn = Instruction(form.opcode, values["dst"] or 0, values["src"] or 0, values["off"] or 0,
                       values["imm"] or 0, _wrap32(imm64 >> 32) if imm64 is not None else 0)
    return insn, labels


def _parse(text: str) -> tuple[Instruction, list[tuple[str, str]]]:
    """One instruction (and the labels it names, as (field, label)); ValueError if bad."""
    match = _CALL_LABEL_RE.match(text)
    if match and match.group(1) not in ("pc", "kfunc"):
        form = opcode_table().by_name["JMP_CALL_SUBPROG"]
        return Instruction(form.opcode, 0, PseudoCall.CALL, 0, 0), [("imm", match.group(1))]
    for pattern in _patterns():
        found = pattern.regex.match(text)
        if found is not None:
            return _build(pattern, list(found.groups()))
    raise ValueError(f"cannot parse instruction {text!r}")


def _clean(line: str) -> str:
    text = _COMMENT_RE.sub("", line).strip()
    if not text:
        return ""
    text = _PC_RE.sub("", text)
    text = _BYTES_RE.sub("", text)
    if text != "<unknown>":
        text = _ANNOTATION_RE.sub("", text)
    return " ".join(text.split())


def assemble(text: str) -> tuple[Instruction, ...]:
    """Assemble text (one instruction per line) into instructions."""
    insns: list[Instruction | _Pending] = []
    labels: dict[str, int] = {}
    pc = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = _clean(raw)
        if not line or _BANNER_RE.match(line):
            continue
        label = _LABEL_RE.match(line) or _SYMBOL_HEADER_RE.match(line)
        if label:
            name = label.group(1)
            if name in labels and labels[name] != pc:
                raise AsmError(f"label {name!r} defined twice", line=number)
            labels[name] = pc
            line = label.group(2) if label.re is _LABEL_RE else ""
            if not line:
                continue
        try:
            insn, named = _parse(line)
        except ValueError as exc:
            raise AsmError(str(exc), line=number) from exc
        if named:
            field, name = named[0]
            insns.append(_Pending(insn, field, name, number))
        else:
            insns.append(insn)
        pc += insn.slots
    return tuple(_resolve(insns, labels))


def _resolve(items: list[Instruction | _Pending], labels: dict[str, int]) -> list[Instruction]:
    out: list[Instruction] = []
    pc = 0
    for item in items:
        if isinstance(item, _Pending):
            if item.label not in labels:
                raise AsmError(f"undefined label {item.label!r}", line=item.line)
            delta = labels[item.label] - pc - 1
            bounds = _S16 if item.field == "off" else _S32
            if not bounds[0] <= delta < bounds[1]:
                raise AsmError(f"label {item.label!r} is out of reach ({delta} slots)", line=item.line)
            insn = replace(item.insn, **{item.field: delta})
        else:
            insn = item
        out.append(insn)
        pc += insn.slots
    return out

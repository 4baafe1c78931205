"""Instructions as text: the syntax llvm-objdump prints (LLVM's BPF asm printer), and the
kernel verifier log's dialect (kernel/bpf/disasm.c), both from the templates of the opcode table.

Examples: ``r6 = 0 ll``, ``r3 = *(u32 *)(r6 + 0)``, ``w0 += 1``, ``call 6``,
``if r1 s> 10 goto +3``, ``lock *(u64 *)(r10 - 8) += r1``,
``r0 = cmpxchg_64(r10 - 8, r0, r1)``, ``r1 = be16 r1``, ``r1 = (s8)r2``, ``gotol +5``.
Numbers are decimal, as llvm-objdump 14 prints them (LLVM 19 needs ``--no-print-imm-hex``).

Where LLVM's text loses information the syntax extends it (and only there), so that
every valid instruction has exactly one text and ``assemble(disassemble(p)) == p``:

=========================  ========================  ==================================
instruction                llvm-objdump prints       this syntax
=========================  ========================  ==================================
bpf-to-bpf call (src=1)    ``call -1``               ``call pc-1`` (the kernel log's form)
kfunc call (src=2)         ``call 77``               ``call kfunc 77`` (``, N`` if off=N)
pseudo ld_imm64 (src>=1)   ``ld_pseudo r1, 2, 3``    the same, but the last operand is the
                           (drops the high half)     full unsigned 64-bit value
``LD_IND`` with imm != 0   ``r0 = *(u8 *)skb[r1]``   ``r0 = *(u8 *)skb[r1 + 4]``
=========================  ========================  ==================================

Register naming follows llvm-objdump's default view: plain loads and stores print
``r`` registers even for 32-bit sizes (``r3 = *(u32 *)(r6 + 0)``), and so does the v1
32-bit ``lock *(u32 *)(...) += r1``.  The 32-bit atomics that only the alu32 view can
print use ``w`` (``w1 = xchg32_32(r10 - 8, w1)``).  The assembler accepts ``r`` or ``w``
for those value registers.

Each :class:`~bpfbuild.isa.opcodes.Form` carries a template.  Placeholders:

``{rd}`` ``{rs}``   dst / src as ``rN``           ``{wd}`` ``{ws}``  as ``wN``
``{vd}`` ``{vs}``   as ``rN`` (``wN`` accepted)    ``{vws}``         src as ``wN`` (``rN`` accepted)
``{imm}``           imm, signed decimal            ``{joff}`` ``{jimm}``  off / imm as ``+N`` / ``-N``
``{moff}``          off as `` + N`` / `` - N``     ``{mimm}``        the same from imm, empty if 0
``{imm64}``         signed 64-bit ``ld_imm64``     ``{uimm64}``      unsigned 64-bit ``ld_imm64``
``{koff}``          off as ``, N``, empty if 0

The kernel log's dialect (:func:`format_log_insn`, ``Form.log``) prints the opcode byte first,
``(61) r2 = *(u32 *)(r1 +4)``, ``(2d) if r3 > r2 goto pc+44``, ``(85) call bpf_map_lookup_elem#1``,
``(15) if r0 == 0x0 goto pc+3``, and adds:

``{soff}``          off as ``+N`` / ``-N``         ``{ximm}``        imm as unsigned 32-bit hex
``{helper}``        the helper's name (a callback) ``{ld64}``        an ``ld_imm64`` operand (a callback)

This module needs only an instruction's fields (:class:`InsnFields`), so it does not import
:mod:`~bpfbuild.isa.instruction`, whose ``__str__`` uses it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from bpfbuild.isa.opcodes import Form, opcode_table

__all__ = [
    "PLACEHOLDERS",
    "InsnFields",
    "Placeholder",
    "disassemble",
    "format_insn",
    "format_log_insn",
    "template_pieces",
]


class InsnFields(Protocol):
    """What the text needs of an instruction (:class:`~bpfbuild.isa.instruction.InsnFields`)."""

    @property
    def opcode(self) -> int: ...
    @property
    def dst(self) -> int: ...
    @property
    def src(self) -> int: ...
    @property
    def off(self) -> int: ...
    @property
    def imm(self) -> int: ...
    @property
    def imm_hi(self) -> int: ...
    @property
    def imm64(self) -> int: ...
    @property
    def simm64(self) -> int: ...
    @property
    def is_ld_imm64(self) -> bool: ...


def _signed(value: int) -> str:
    return f"+{value}" if value >= 0 else str(value)


def _spaced(value: int) -> str:
    return f" + {value}" if value >= 0 else f" - {-value}"


@dataclass(frozen=True, slots=True)
class Placeholder:
    """A template operand: the instruction field it shows and how it is rendered."""

    name: str
    field: str  # "dst", "src", "off", "imm" or "imm64"
    render: Callable[[InsnFields], str]


PLACEHOLDERS: Mapping[str, Placeholder] = {
    p.name: p
    for p in (
        Placeholder("rd", "dst", lambda i: f"r{i.dst}"),
        Placeholder("rs", "src", lambda i: f"r{i.src}"),
        Placeholder("wd", "dst", lambda i: f"w{i.dst}"),
        Placeholder("ws", "src", lambda i: f"w{i.src}"),
        Placeholder("vd", "dst", lambda i: f"r{i.dst}"),
        Placeholder("vs", "src", lambda i: f"r{i.src}"),
        Placeholder("vws", "src", lambda i: f"w{i.src}"),
        Placeholder("imm", "imm", lambda i: str(i.imm)),
        Placeholder("joff", "off", lambda i: _signed(i.off)),
        Placeholder("jimm", "imm", lambda i: _signed(i.imm)),
        Placeholder("moff", "off", lambda i: _spaced(i.off)),
        Placeholder("mimm", "imm", lambda i: _spaced(i.imm) if i.imm else ""),
        Placeholder("imm64", "imm64", lambda i: str(i.simm64)),
        Placeholder("uimm64", "imm64", lambda i: str(i.imm64)),
        Placeholder("koff", "off", lambda i: f", {i.off}" if i.off else ""),
        # the kernel log's dialect only
        Placeholder("soff", "off", lambda i: f"{i.off:+d}"),
        Placeholder("ximm", "imm", lambda i: f"{i.imm & 0xFFFFFFFF:#x}"),
        Placeholder("helper", "imm", lambda i: "unknown"),
        Placeholder("ld64", "imm64", lambda i: f"{i.imm64:#x}"),
    )
}

_PLACEHOLDER_RE = re.compile(r"\{(\w+)\}")


@functools.cache
def template_pieces(syntax: str) -> tuple[str | Placeholder, ...]:
    """A template split into literal text and placeholders (shared with the assembler)."""
    pieces: list[str | Placeholder] = []
    pos = 0
    for match in _PLACEHOLDER_RE.finditer(syntax):
        if match.start() > pos:
            pieces.append(syntax[pos:match.start()])
        pieces.append(PLACEHOLDERS[match.group(1)])
        pos = match.end()
    if pos < len(syntax):
        pieces.append(syntax[pos:])
    return tuple(pieces)


def _render(form: Form, insn: InsnFields) -> str:
    return "".join(p if isinstance(p, str) else p.render(insn) for p in template_pieces(form.syntax))


def format_insn(insn: InsnFields) -> str:
    """The instruction as text (``<unknown ...>`` with its fields if it is not valid)."""
    form = opcode_table().lookup(insn.opcode, insn.dst, insn.src, insn.off, insn.imm)
    if form is None or (insn.imm_hi and not insn.is_ld_imm64):
        return (f"<unknown opcode={insn.opcode:#04x} dst={insn.dst} src={insn.src} "
                f"off={insn.off} imm={insn.imm}>")
    return _render(form, insn)


def disassemble(insns: Iterable[InsnFields]) -> str:
    """One instruction per line, nothing else: the text :func:`~bpfbuild.isa.asm.assemble`
    turns back into the same instructions."""
    return "".join(format_insn(insn) + "\n" for insn in insns)


def format_log_insn(insn: InsnFields, *, helper: Callable[[int], str] | None = None,
                    ld64: Callable[[InsnFields], str] | None = None) -> str:
    """One instruction as the kernel verifier log prints it, without the ``pc:`` prefix:
    ``(61) r2 = *(u32 *)(r1 +4)``.  ``helper(func_id)`` names a helper (default ``unknown``),
    ``ld64(insn)`` spells an ``ld_imm64`` operand (default: the value in hex; the verifier
    names maps there)."""
    head = f"({insn.opcode:02x})"
    form = opcode_table().lookup(insn.opcode, insn.dst, insn.src, insn.off, insn.imm)
    if form is None:
        return f"{head} BUG_{insn.opcode:02x}"
    out = [head, " "]
    for piece in template_pieces(form.log):
        if isinstance(piece, str):
            out.append(piece)
        elif piece.name == "helper" and helper is not None:
            out.append(helper(insn.imm))
        elif piece.name == "ld64" and ld64 is not None:
            out.append(ld64(insn))
        else:
            out.append(piece.render(insn))
    return "".join(out)

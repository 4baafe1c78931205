"""Step-by-step traces: every executed instruction with its source line and what it changed.

Pass a :class:`Trace` to ``Machine.run(..., trace=t)`` (or ``obj.run(..., trace=t)``): the run
uses the traced translation of the program (same semantics, plus a hook per instruction, see
:mod:`bpfbuild.vm.compiler`) and the trace records one :class:`TraceStep` per executed
instruction: program, pc, depth (bpf-to-bpf call frames), the instruction's text with helper
and map names, its source ``file:line`` and line text, the registers it changed (old and new
values), the store it made, and the ``bpf_printk`` lines it printed.  ``on_step`` receives each
step as it happens (``bpfbuild run --trace`` prints them), and at most ``limit`` steps are kept.

:func:`format_step` renders a step as one line (plus a source line when it changes)::

    hello   3  call 6  ; bpf_trace_printk      r0 = 15             hello.bpf.c:9
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bpfbuild.abi.helpers import helper_name
from bpfbuild.isa.fields import ATOMIC_FETCH, AtomicOp, InsnClass, JmpOp, PseudoCall, PseudoLoad, Source
from bpfbuild.isa.instruction import LD_IMM64_OPCODE, Instruction
from bpfbuild.location import SourceLocation, shown_path
from bpfbuild.vm.compiler import STACK_SIZE
from bpfbuild.vm.memory import OFFSET_MASK, REGION_SHIFT, Memory, RegionKind

__all__ = ["Trace", "TraceStep", "describe_value", "format_step"]

_M64 = (1 << 64) - 1
_REG_NAMES = tuple(f"r{i}" for i in range(11))


@dataclass(frozen=True, slots=True)
class TraceStep:
    """One executed instruction.  ``changes``: (register, old, new) for each register it
    changed; ``store``: the memory it wrote, as text; ``printk``: lines it printed.
    ``kind`` is ``insn``, ``call`` (a bpf-to-bpf call or callx, before the callee runs) or
    ``return`` (the same call once it returned: r0 in ``changes``)."""

    program: str
    pc: int
    depth: int
    text: str
    location: SourceLocation | None
    source: str | None
    changes: tuple[tuple[str, int, int], ...] = ()
    store: str | None = None
    printk: tuple[str, ...] = ()
    kind: str = "insn"
    values: tuple[str, ...] = field(default=(), compare=False)
    #: a conditional jump: whether it was taken (None for anything else)
    taken: bool | None = None
    #: which run of the trace (1, 2... when one Trace follows several runs)
    run: int = 1


def describe_value(memory: Memory | None, value: int) -> str:
    """A register value for people: small numbers in decimal, pointers as ``region+offset``."""
    value &= _M64
    if memory is not None and value >> REGION_SHIFT:
        region = memory.region_of(value)
        if region is not None:
            off = value & OFFSET_MASK
            name = region.name or region.kind.value
            if region.kind is RegionKind.MAP:
                return f"&map {name}"
            if region.kind is RegionKind.CODE:
                return f"&{name}+{off}"
            if region.kind is RegionKind.STACK:
                frame = name.rsplit(" ", 1)[-1]
                delta = f"{off - STACK_SIZE:+d}" if off != STACK_SIZE else ""
                return f"fp{delta}" if frame == "0" else f"fp[{frame}]{delta}"
            return f"&{name}+{off}" if off else f"&{name}"
    if value < 1 << 31:
        return str(value)
    if value >> 63:
        return f"{value:#x} ({value - (1 << 64)})"
    return f"{value:#x}"


class Trace:
    """Collects the steps of traced runs (implements :class:`bpfbuild.vm.machine.Tracer`)."""

    def __init__(self, on_step: Callable[[TraceStep], None] | None = None, *, limit: int = 100_000) -> None:
        self.steps: list[TraceStep] = []
        self.count = 0
        self.runs = 0
        self.limit = limit
        self.on_step = on_step
        self._last: dict[int, tuple[int, ...]] = {}
        self._texts: dict[tuple[int, int], str] = {}
        self._seen_lines = 0
        self._lines: list[str] | None = None

    # --- events (called by the translated code through the linkage) -------------------------

    def entry(self, link: Any, pc: int, regs: tuple[int, ...]) -> None:
        if link.rt.lines is not self._lines:   # a new run (each run starts a new list of lines)
            self._lines = link.rt.lines
            self.runs += 1
            self._seen_lines = 0
            self._last.clear()
        self._last[regs[10] >> REGION_SHIFT] = regs

    def call(self, link: Any, pc: int, regs: tuple[int, ...]) -> None:
        self._emit(link, pc, regs, kind="call", changes=False)

    def after(self, link: Any, pc: int, regs: tuple[int, ...]) -> None:
        insn = link.compiled.slots[pc]
        is_call = insn is not None and insn.cls == InsnClass.JMP and (
            insn.is_callx or (insn.is_call and insn.src == PseudoCall.CALL))
        self._emit(link, pc, regs, kind="return" if is_call else "insn")

    def before(self, link: Any, pc: int, regs: tuple[int, ...]) -> None:
        self._emit(link, pc, regs, kind="insn", changes=False)

    # --- building steps -------------------------------------------------------------------

    @staticmethod
    def _depth(link: Any, regs: tuple[int, ...]) -> int:
        key = regs[10] >> REGION_SHIFT
        keys = link.rt.stack_keys
        return keys.index(key) if key in keys else 0

    def _emit(self, link: Any, pc: int, regs: tuple[int, ...], *, kind: str, changes: bool = True) -> None:
        frame = regs[10] >> REGION_SHIFT
        old = self._last.get(frame)
        self._last[frame] = regs
        self.count += 1
        if self.count > self.limit and self.on_step is None:
            return
        memory = link.rt.memory
        insn = link.compiled.slots[pc]
        diff: list[tuple[str, int, int]] = []
        if changes and old is not None:
            written = _written(insn) if insn is not None else ()
            diff = [(_REG_NAMES[i], old[i], regs[i]) for i in range(10) if old[i] != regs[i] or i in written]
        store = _store_text(memory, insn, regs) if insn is not None and kind == "insn" else None
        lines = link.rt.lines
        printed = tuple(lines[self._seen_lines:])
        self._seen_lines = len(lines)
        location = link.locate(pc) if link.locate is not None else None
        if location is not None and not location.line:   # compiler-made code: no line
            location = None
        source = link.line_text(pc) if link.line_text is not None else None
        values = tuple(describe_value(memory, new) for _, _, new in diff)
        taken = _taken(insn, regs) if insn is not None and kind == "insn" and not changes else None
        step = TraceStep(program=link.name, pc=pc, depth=self._depth(link, regs), text=self._text(link, pc),
                         location=location, source=source, changes=tuple(diff), store=store, printk=printed,
                         kind=kind, values=values, taken=taken, run=self.runs)
        if self.count <= self.limit:
            self.steps.append(step)
        if self.on_step is not None:
            self.on_step(step)

    def _text(self, link: Any, pc: int) -> str:
        key = (id(link.compiled), pc)
        text = self._texts.get(key)
        if text is None:
            insn = link.compiled.slots[pc]
            text = _insn_text(insn, link.maps) if insn is not None else "?"
            self._texts[key] = text
        return text


def _written(insn: Instruction) -> tuple[int, ...]:
    """The registers an instruction writes (shown even when the value stays the same)."""
    cls = insn.cls
    if cls in (InsnClass.ALU, InsnClass.ALU64, InsnClass.LDX) or insn.opcode == LD_IMM64_OPCODE:
        return (insn.dst,)
    if cls == InsnClass.LD or insn.is_call or insn.is_callx:
        return (0,)
    if insn.is_atomic and insn.imm & ATOMIC_FETCH:
        return (0,) if insn.imm == AtomicOp.CMPXCHG else (insn.src,)
    return ()


def _taken(insn: Instruction, regs: tuple[int, ...]) -> bool | None:
    """Whether a conditional jump about to execute with ``regs`` jumps."""
    cls = insn.cls
    if cls not in (InsnClass.JMP, InsnClass.JMP32):
        return None
    op = insn.jmp_op
    if op in (JmpOp.JA, JmpOp.CALL, JmpOp.EXIT, JmpOp.JCOND):
        return None
    bits = 64 if cls == InsnClass.JMP else 32
    mask = (1 << bits) - 1
    a = regs[insn.dst] & mask
    b = (regs[insn.src] if insn.source == Source.X else insn.imm) & mask
    sa, sb = (a ^ (1 << (bits - 1))) - (1 << (bits - 1)), (b ^ (1 << (bits - 1))) - (1 << (bits - 1))
    match op:
        case JmpOp.JEQ:
            return a == b
        case JmpOp.JNE:
            return a != b
        case JmpOp.JGT:
            return a > b
        case JmpOp.JGE:
            return a >= b
        case JmpOp.JLT:
            return a < b
        case JmpOp.JLE:
            return a <= b
        case JmpOp.JSET:
            return bool(a & b)
        case JmpOp.JSGT:
            return sa > sb
        case JmpOp.JSGE:
            return sa >= sb
        case JmpOp.JSLT:
            return sa < sb
        case JmpOp.JSLE:
            return sa <= sb
    return None


def _insn_text(insn: Instruction, maps: tuple[Any, ...]) -> str:
    text = str(insn)
    if insn.is_call and insn.src == PseudoCall.HELPER:
        name = helper_name(insn.imm)
        if name:
            text += f"  ; {name}"
    elif insn.opcode == LD_IMM64_OPCODE and 0 <= insn.imm < len(maps) and insn.src in (
            PseudoLoad.MAP_FD, PseudoLoad.MAP_IDX, PseudoLoad.MAP_VALUE, PseudoLoad.MAP_IDX_VALUE):
        name = maps[insn.imm].name
        if insn.src in (PseudoLoad.MAP_VALUE, PseudoLoad.MAP_IDX_VALUE):
            off = insn.imm_hi & 0xFFFFFFFF
            text = f"r{insn.dst} = &{name}" + (f"+{off}" if off else "") + " ll"
        else:
            text = f"r{insn.dst} = map {name} ll"
    return text


def _store_text(memory: Memory, insn: Instruction, regs: tuple[int, ...]) -> str | None:
    cls = insn.cls
    if cls not in (InsnClass.ST, InsnClass.STX):
        return None
    size = insn.access_size
    addr = (regs[insn.dst] + insn.off) & _M64
    where = describe_value(memory, addr)
    buf = memory.readable.get(addr >> REGION_SHIFT)
    off = addr & OFFSET_MASK
    if buf is None or off + size > len(buf):
        return None
    now = int.from_bytes(buf[off:off + size], "little")
    atomic = insn.is_atomic
    return f"{'atomic ' if atomic else ''}*({where}) = {describe_value(None, now)}"


def format_step(step: TraceStep, *, root: str | None = None, show_program: bool = False) -> str:
    """One line: ``[program] pc: indent text   changes / store   file:line`` (and the
    ``printk`` lines the instruction printed)."""
    indent = "  " * step.depth
    head = f"{step.program} " if show_program else ""
    if step.kind == "return":
        body = f"{indent}  -> returned"
    else:
        body = f"{indent}{step.text}"
    effects = [f"{reg} = {value}" for (reg, _, _), value in zip(step.changes, step.values, strict=True)]
    if step.store:
        effects.append(step.store)
    if step.taken is not None:
        effects.append("taken" if step.taken else "not taken")
    where = ""
    if step.location is not None:
        file = shown_path(step.location.file, root) if root else step.location.file
        where = f"{file}:{step.location.line}"
    line = f"{head}{step.pc:4d}: {body:<44s}"
    if effects:
        line += " " + ", ".join(effects)
    if where:
        line = f"{line:<96s} {where}" if len(line) < 96 else f"{line}  {where}"
    out = [line.rstrip()]
    out.extend(f"      printk: {text}" for text in step.printk)
    return "\n".join(out)

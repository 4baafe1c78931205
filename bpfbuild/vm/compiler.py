"""Instructions -> Python: each program is translated once into Python source and compiled.

Why: a decode-and-dispatch loop in Python runs ~3 million eBPF instructions per second;
a closure per instruction ~8 million.  Translating a whole function into one Python
function, with the eleven registers as *local variables* and each instruction as one or two
statements, lets CPython run straight-line code at its own speed; control flow between
basic blocks goes through a binary tree of ``if pc < N`` tests inside a ``while True`` loop,
and a block that jumps back to itself becomes an inner ``while`` loop.

The translation depends only on the instructions, so it is cached per program
(:func:`compile_program`, keyed by the instruction tuple).  What it needs from the outside
world (memory, helpers, map addresses, the budget) it gets from a *linkage* object when
the compiled factory is instantiated: ``factory(linkage) -> {entry pc: function}``.  A
linkage (see :class:`bpfbuild.vm.machine.Linkage`) must provide:

``readable`` / ``writable``   ``dict[int, bytearray]`` of :class:`~bpfbuild.vm.memory.Memory`
``budget``                    ``list[int]``: instructions left, shared by all frames
``push_frame()``/``pop_frame()``  allocate / release a 512-byte stack; push returns r10
``helper(id)``                a callable ``(r1..r5) -> int``
``pseudo(pc, src, imm, imm_hi)``  value of a pseudo ``ld_imm64`` (an int, or a Trap to raise)
``code_base``                 base address of this program's code pointers (``ld_imm64`` FUNC)
``callx(target, r1..r5)``     an indirect call
``tail_call(r1, r2, r3)``     the entry function of the tail-called program, or None
``ld_abs(size, offset)``      legacy packet load: the value, or None (the program returns 0)
``fault(exc, regs, frame)``   the VMError for an exception raised in a frame
``trap(message)``             raise a fault with that message (used for bad jumps etc.)
``last_exit``                 ``list`` of two: every ``exit`` stores its pc and the linkage
                              there, so a run knows which instruction ended it

A *traced* translation (``compile_program(insns, trace=True)``, cached separately) also
calls the linkage's hooks with the eleven registers as a tuple: ``trace_entry(pc, regs)``
when a function starts, ``trace_call(pc, regs)`` before a bpf-to-bpf call or callx,
``trace_after(pc, regs)`` after every other non-jump instruction (and after calls return),
``trace_before(pc, regs)`` before a jump, an ``exit`` or a tail call.  The plain translation
has none of these, so tracing costs nothing when it is off.

Semantics are those of the Linux 6.18 kernel where RFC 9669 leaves room (see DESIGN.md):
division by zero gives 0, modulo by zero leaves the dividend (32-bit: zero-extended), signed
``INT_MIN / -1`` is ``INT_MIN`` and ``INT_MIN % -1`` is 0, shift counts are masked to the
width, every 32-bit result is zero-extended, immediates are sign-extended in 64-bit
operations.  Immediate shift counts and divisors are treated like register ones (the
verifier would reject the out-of-range ones; the emulator need not).
"""

from __future__ import annotations

import functools
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bpfbuild.isa.fields import (
    ATOMIC_FETCH,
    AluOp,
    AtomicOp,
    InsnClass,
    JmpOp,
    Mode,
    PseudoCall,
    PseudoLoad,
    Size,
    Source,
)
from bpfbuild.isa.instruction import LD_IMM64_OPCODE, Instruction

__all__ = [
    "MAX_CALL_DEPTH",
    "MAY_GOTO_LOOPS",
    "STACK_SIZE",
    "CompiledProgram",
    "compile_program",
]

STACK_SIZE = 512
#: MAX_CALL_FRAMES: the entry function plus seven nested bpf-to-bpf calls.
MAX_CALL_DEPTH = 8
#: BPF_MAX_LOOPS: what one frame's ``may_goto`` counter starts at.
MAY_GOTO_LOOPS = 8 * 1024 * 1024

_M64 = (1 << 64) - 1
_M32 = (1 << 32) - 1
_S64 = 1 << 63
_S32 = 1 << 31
_TAIL_CALL = 12      # bpf_tail_call: the one helper that changes control flow
_REGS = tuple(f"r{i}" for i in range(11))


# --- runtime support bound into every compiled module ---------------------------------

def _sdiv64(a: int, b: int) -> int:
    if not b:
        return 0
    a = (a ^ _S64) - _S64
    b = (b ^ _S64) - _S64
    q = abs(a) // abs(b)
    return (-q if (a < 0) != (b < 0) else q) & _M64


def _smod64(a: int, b: int) -> int:
    if not b:
        return a
    a = (a ^ _S64) - _S64
    b = (b ^ _S64) - _S64
    r = abs(a) % abs(b)
    return (-r if a < 0 else r) & _M64


def _sdiv32(a: int, b: int) -> int:
    b &= _M32
    if not b:
        return 0
    a = ((a & _M32) ^ _S32) - _S32
    b = (b ^ _S32) - _S32
    q = abs(a) // abs(b)
    return (-q if (a < 0) != (b < 0) else q) & _M32


def _smod32(a: int, b: int) -> int:
    b &= _M32
    if not b:
        return a & _M32
    a = ((a & _M32) ^ _S32) - _S32
    b = (b ^ _S32) - _S32
    r = abs(a) % abs(b)
    return (-r if a < 0 else r) & _M32


def _bswap16(v: int) -> int:
    return ((v & 0xFF) << 8) | ((v >> 8) & 0xFF)


def _bswap32(v: int) -> int:
    return int.from_bytes((v & _M32).to_bytes(4, "little"), "big")


def _bswap64(v: int) -> int:
    return int.from_bytes(v.to_bytes(8, "little"), "big")


def _raise(trap: BaseException) -> int:
    raise trap


def _runtime_globals() -> dict[str, object]:
    g: dict[str, object] = {
        "SDIV64": _sdiv64, "SMOD64": _smod64, "SDIV32": _sdiv32, "SMOD32": _smod32,
        "BSWAP16": _bswap16, "BSWAP32": _bswap32, "BSWAP64": _bswap64, "RAISE": _raise,
        "bytearray": bytearray,
        "__builtins__": {"int": int, "Exception": Exception, "BaseException": BaseException},
    }
    for name, fmt in (("U16", "<H"), ("U32", "<I"), ("U64", "<Q"), ("I8", "<b"), ("I16", "<h"),
                      ("I32", "<i")):
        g[name] = struct.Struct(fmt).unpack_from
    for name, fmt in (("P16", "<H"), ("P32", "<I"), ("P64", "<Q")):
        g[name] = struct.Struct(fmt).pack_into
    return g


# --- result ------------------------------------------------------------------------------

Factory = Callable[[object], dict[int, Callable[..., int]]]


@dataclass(frozen=True, slots=True)
class CompiledProgram:
    """A translated program: instantiate with ``factory(linkage)``.

    ``line_pcs[lineno]`` is the pc of the instruction a line of the generated source
    belongs to (-1 for glue), so a fault's traceback line gives its instruction.
    ``frames`` maps each function's code object to its entry pc (for messages).
    """

    insns: tuple[Instruction, ...]
    slots: tuple[Instruction | None, ...]
    entries: tuple[int, ...]
    factory: Factory
    line_pcs: tuple[int, ...]
    source: str

    def pc_of_line(self, lineno: int) -> int:
        return self.line_pcs[lineno] if 0 <= lineno < len(self.line_pcs) else -1


# --- analysis ----------------------------------------------------------------------------

def _slots(insns: Sequence[Instruction]) -> tuple[Instruction | None, ...]:
    out: list[Instruction | None] = []
    for insn in insns:
        out.append(insn)
        if insn.opcode == LD_IMM64_OPCODE:
            out.append(None)
    return tuple(out)


def _is_terminator(insn: Instruction) -> bool:
    cls = insn.opcode & 0x07
    if cls not in (InsnClass.JMP, InsnClass.JMP32):
        return False
    op = insn.opcode & 0xF0
    if op == JmpOp.CALL:
        return insn.opcode == (InsnClass.JMP | JmpOp.CALL) and insn.src == PseudoCall.HELPER \
            and insn.imm == _TAIL_CALL
    return True


def _jump_target(pc: int, insn: Instruction) -> int:
    if insn.opcode == (InsnClass.JMP32 | JmpOp.JA):
        return pc + 1 + insn.imm
    return pc + 1 + insn.off


def _successors(pc: int, insn: Instruction) -> tuple[int, ...]:
    """Where control goes after ``insn`` inside its function (calls return to pc + 1)."""
    cls = insn.opcode & 0x07
    nxt = pc + insn.slots
    if cls not in (InsnClass.JMP, InsnClass.JMP32):
        return (nxt,)
    op = insn.opcode & 0xF0
    if op == JmpOp.EXIT:
        return ()
    if op == JmpOp.CALL:
        return (nxt,)
    if op == JmpOp.JA:
        return (_jump_target(pc, insn),)
    return (nxt, _jump_target(pc, insn))


def _entries(slots: Sequence[Instruction | None]) -> list[int]:
    found = {0}
    for pc, insn in enumerate(slots):
        if insn is None:
            continue
        subprog_call = insn.opcode == (InsnClass.JMP | JmpOp.CALL) and insn.src == PseudoCall.CALL
        func_address = insn.opcode == LD_IMM64_OPCODE and insn.src == PseudoLoad.FUNC
        if subprog_call or func_address:
            found.add(pc + 1 + insn.imm)
    return sorted(t for t in found if 0 <= t < len(slots) and slots[t] is not None)


def _valid_target(slots: Sequence[Instruction | None], target: int) -> bool:
    return 0 <= target < len(slots) and slots[target] is not None


def _function_blocks(slots: Sequence[Instruction | None], entry: int) -> dict[int, list[int]]:
    """Basic blocks reachable from ``entry``: leader pc -> the pcs of its instructions."""
    reach: set[int] = set()
    leaders = {entry}
    work = [entry]
    while work:
        pc = work.pop()
        if pc in reach or not _valid_target(slots, pc):
            continue
        reach.add(pc)
        insn = slots[pc]
        assert insn is not None
        succ = _successors(pc, insn)
        if _is_terminator(insn):
            leaders.update(succ)
        for s in succ:
            if s not in reach:
                work.append(s)
    leaders &= reach
    blocks: dict[int, list[int]] = {}
    for leader in sorted(leaders):
        pcs = []
        pc = leader
        while True:
            insn = slots[pc]
            assert insn is not None
            pcs.append(pc)
            if _is_terminator(insn):
                break
            nxt = pc + insn.slots
            if nxt in leaders or not _valid_target(slots, nxt):
                break
            pc = nxt
        blocks[leader] = pcs
    return blocks


# --- code generation ---------------------------------------------------------------------

_ALL_REGS = "(" + ", ".join(_REGS) + ")"


class _Emitter:
    def __init__(self, trace: bool = False) -> None:
        self.lines: list[str] = []
        self.pcs: list[int] = [-1]  # line numbers are 1-based
        self.trace = trace

    def emit(self, indent: int, text: str, pc: int = -1) -> None:
        self.lines.append("    " * indent + text)
        self.pcs.append(pc)


def _hex(v: int) -> str:
    return hex(v) if v > 9 else str(v)


_SIZE_SUFFIX = {Size.H: "16", Size.W: "32", Size.DW: "64"}
_MASK = {Size.B: "0xff", Size.H: "0xffff", Size.W: "0xffffffff", Size.DW: ""}
_SX = {Size.B: "I8", Size.H: "I16", Size.W: "I32"}


def _addr(reg: str, off: int) -> tuple[str, str]:
    """(key expression, offset expression) of ``reg + off`` (binds ``a`` when off != 0)."""
    if off == 0:
        return f"{reg} >> 32", f"{reg} & 0xffffffff"
    return f"(a := {reg} + {off}) >> 32", "a & 0xffffffff"


def _alu(insn: Instruction) -> list[str]:
    wide = insn.opcode & 0x07 == InsnClass.ALU64
    op = insn.opcode & 0xF0
    reg = insn.opcode & 0x08 == Source.X
    d, s = _REGS[insn.dst], _REGS[insn.src]
    imm = insn.imm
    if wide:
        k = imm & _M64
        x = s if reg else _hex(k)
        match op:
            case AluOp.ADD:
                return [f"{d} = ({d} + {x}) & 0xffffffffffffffff"]
            case AluOp.SUB:
                return [f"{d} = ({d} - {x}) & 0xffffffffffffffff"]
            case AluOp.MUL:
                return [f"{d} = ({d} * {x}) & 0xffffffffffffffff"]
            case AluOp.DIV if insn.off == 1:
                return [f"{d} = SDIV64({d}, {x})"]
            case AluOp.DIV:
                if reg:
                    return [f"{d} = {d} // {s} if {s} else 0"]
                return [f"{d} //= {x}"] if k else [f"{d} = 0"]
            case AluOp.MOD if insn.off == 1:
                return [f"{d} = SMOD64({d}, {x})"]
            case AluOp.MOD:
                if reg:
                    return [f"if {s}: {d} %= {s}"]
                return [f"{d} %= {x}"] if k else ["pass"]
            case AluOp.OR:
                return [f"{d} |= {x}"]
            case AluOp.AND:
                return [f"{d} &= {x}"]
            case AluOp.XOR:
                return [f"{d} ^= {x}"]
            case AluOp.LSH:
                amount = f"({s} & 63)" if reg else str(k & 63)
                return [f"{d} = ({d} << {amount}) & 0xffffffffffffffff"]
            case AluOp.RSH:
                amount = f"({s} & 63)" if reg else str(k & 63)
                return [f"{d} >>= {amount}"]
            case AluOp.ARSH:
                amount = f"({s} & 63)" if reg else str(k & 63)
                return [f"{d} = ((({d} ^ {_S64:#x}) - {_S64:#x}) >> {amount}) & 0xffffffffffffffff"]
            case AluOp.NEG:
                return [f"{d} = -{d} & 0xffffffffffffffff"]
            case AluOp.MOV if reg and insn.off in (8, 16, 32):
                bits = insn.off
                sign, mask = 1 << (bits - 1), (1 << bits) - 1
                return [f"{d} = ((({s} & {mask:#x}) ^ {sign:#x}) - {sign:#x}) & 0xffffffffffffffff"]
            case AluOp.MOV if reg and insn.off == 1:
                return ["TRAP('addr_space_cast (arena pointers) is not emulated')"]
            case AluOp.MOV:
                return [f"{d} = {x}"]
            case AluOp.END:
                return [f"{d} = BSWAP{imm}({d})"] if imm in (16, 32, 64) else ["pass"]
        raise AssertionError(f"unhandled ALU64 opcode {insn.opcode:#x}")
    k = imm & _M32
    x = s if reg else _hex(k)
    match op:
        case AluOp.ADD:
            return [f"{d} = ({d} + {x}) & 0xffffffff"]
        case AluOp.SUB:
            return [f"{d} = ({d} - {x}) & 0xffffffff"]
        case AluOp.MUL:
            return [f"{d} = ({d} * {x}) & 0xffffffff"]
        case AluOp.DIV if insn.off == 1:
            return [f"{d} = SDIV32({d}, {x})"]
        case AluOp.DIV:
            if reg:
                return [f"{d} = ({d} & 0xffffffff) // t if (t := {s} & 0xffffffff) else 0"]
            return [f"{d} = ({d} & 0xffffffff) // {x}"] if k else [f"{d} = 0"]
        case AluOp.MOD if insn.off == 1:
            return [f"{d} = SMOD32({d}, {x})"]
        case AluOp.MOD:
            if reg:
                return [f"{d} = ({d} & 0xffffffff) % t if (t := {s} & 0xffffffff) else {d} & 0xffffffff"]
            return [f"{d} = ({d} & 0xffffffff) % {x}"] if k else [f"{d} &= 0xffffffff"]
        case AluOp.OR:
            return [f"{d} = ({d} | {x}) & 0xffffffff"]
        case AluOp.AND:
            return [f"{d} = {d} & {x} & 0xffffffff"] if reg else [f"{d} &= {x}"]
        case AluOp.XOR:
            return [f"{d} = ({d} ^ {x}) & 0xffffffff"]
        case AluOp.LSH:
            amount = f"({s} & 31)" if reg else str(k & 31)
            return [f"{d} = ({d} << {amount}) & 0xffffffff"]
        case AluOp.RSH:
            amount = f"({s} & 31)" if reg else str(k & 31)
            return [f"{d} = ({d} & 0xffffffff) >> {amount}"]
        case AluOp.ARSH:
            amount = f"({s} & 31)" if reg else str(k & 31)
            return [f"{d} = (((({d} & 0xffffffff) ^ {_S32:#x}) - {_S32:#x}) >> {amount}) & 0xffffffff"]
        case AluOp.NEG:
            return [f"{d} = -{d} & 0xffffffff"]
        case AluOp.MOV if reg and insn.off in (8, 16):
            bits = insn.off
            sign, mask = 1 << (bits - 1), (1 << bits) - 1
            return [f"{d} = ((({s} & {mask:#x}) ^ {sign:#x}) - {sign:#x}) & 0xffffffff"]
        case AluOp.MOV:
            return [f"{d} = {s} & 0xffffffff"] if reg else [f"{d} = {x}"]
        case AluOp.END:
            if insn.opcode & 0x08:   # to big endian: swap, then truncate
                return [f"{d} = BSWAP{imm}({d})"] if imm in (16, 32, 64) else ["pass"]
            match imm:
                case 16:
                    return [f"{d} &= 0xffff"]
                case 32:
                    return [f"{d} &= 0xffffffff"]
            return ["pass"]
    raise AssertionError(f"unhandled ALU opcode {insn.opcode:#x}")


def _condition(insn: Instruction) -> str:
    wide = insn.opcode & 0x07 == InsnClass.JMP
    op = insn.opcode & 0xF0
    reg = insn.opcode & 0x08 == Source.X
    d, s = _REGS[insn.dst], _REGS[insn.src]
    signed = op in (JmpOp.JSGT, JmpOp.JSGE, JmpOp.JSLT, JmpOp.JSLE)
    symbol = {
        JmpOp.JEQ: "==", JmpOp.JNE: "!=", JmpOp.JGT: ">", JmpOp.JGE: ">=", JmpOp.JLT: "<",
        JmpOp.JLE: "<=", JmpOp.JSGT: ">", JmpOp.JSGE: ">=", JmpOp.JSLT: "<", JmpOp.JSLE: "<=",
    }.get(JmpOp(op))
    if wide:
        k = insn.imm & _M64
        if op == JmpOp.JSET:
            return f"{d} & {s}" if reg else f"{d} & {_hex(k)}"
        assert symbol is not None
        if signed:
            right = f"({s} ^ {_S64:#x})" if reg else _hex(k ^ _S64)
            return f"({d} ^ {_S64:#x}) {symbol} {right}"
        return f"{d} {symbol} {s if reg else _hex(k)}"
    k = insn.imm & _M32
    if op == JmpOp.JSET:
        return f"{d} & {s} & 0xffffffff" if reg else f"{d} & {_hex(k)}"
    assert symbol is not None
    if signed:
        right = f"(({s} & 0xffffffff) ^ {_S32:#x})" if reg else _hex(k ^ _S32)
        return f"(({d} & 0xffffffff) ^ {_S32:#x}) {symbol} {right}"
    right = f"({s} & 0xffffffff)" if reg else _hex(k)
    return f"({d} & 0xffffffff) {symbol} {right}"


def _memory(insn: Instruction) -> list[str]:
    cls = insn.opcode & 0x07
    mode = insn.opcode & 0xE0
    size = Size(insn.opcode & 0x18)
    d, s = _REGS[insn.dst], _REGS[insn.src]
    if cls == InsnClass.LDX:
        key, off = _addr(s, insn.off)
        if mode == Mode.MEMSX:
            return [f"{d} = {_SX[size]}(M[{key}], {off})[0] & 0xffffffffffffffff"]
        if size == Size.B:
            return [f"{d} = M[{key}][{off}]"]
        if size == Size.W:   # a context region answers 4-byte pointer-field loads with 64 bits
            return [f"{d} = U32(m, {off})[0] if (m := M[{key}]).__class__ is bytearray else m.load32({off})"]
        return [f"{d} = U{_SIZE_SUFFIX[size]}(M[{key}], {off})[0]"]
    key, off = _addr(d, insn.off)
    if cls == InsnClass.ST:
        value = _hex(insn.imm & ((1 << (8 * size.nbytes)) - 1))
    else:
        value = f"{s} & {_MASK[size]}" if size != Size.DW else s
    if size == Size.B:
        return [f"W[{key}][{off}] = {value}"]
    return [f"P{_SIZE_SUFFIX[size]}(W[{key}], {off}, {value})"]


def _atomic(insn: Instruction) -> list[str]:
    wide = insn.opcode & 0x18 == Size.DW
    bits = "64" if wide else "32"
    mask = "0xffffffffffffffff" if wide else "0xffffffff"
    d, s = _REGS[insn.dst], _REGS[insn.src]
    key, off = _addr(d, insn.off)
    head = f"m = W[{key}]; o = {off}; t = U{bits}(m, o)[0]; "
    op = insn.imm & ~ATOMIC_FETCH
    fetch = insn.imm & ATOMIC_FETCH
    match insn.imm:
        case AtomicOp.XCHG:
            return [head + f"P{bits}(m, o, {s} & {mask}); {s} = t"]
        case AtomicOp.CMPXCHG:
            return [head + f"P{bits}(m, o, {s} & {mask}) if t == r0 & {mask} else None; r0 = t"]
    symbol = {AtomicOp.ADD: "+", AtomicOp.OR: "|", AtomicOp.AND: "&", AtomicOp.XOR: "^"}[AtomicOp(op)]
    line = head + f"P{bits}(m, o, (t {symbol} {s}) & {mask})"
    if fetch:
        line += f"; {s} = t"
    return [line]


@dataclass
class _Uses:
    helpers: set[int]
    pseudo: dict[int, Instruction]


def _terminator(em: _Emitter, ind: int, pc: int, insn: Instruction, slots: Sequence[Instruction | None],
                leader: int, self_loop: bool) -> None:
    """Emit the control transfer that ends a block (sets ``pc`` or returns)."""
    op = insn.opcode & 0xF0
    nxt = pc + 1

    def goto(target: int) -> str:
        if _valid_target(slots, target):
            return f"pc = {target}"
        return f"TRAP({_bad_target(slots, target)!r})"

    if em.trace:
        em.emit(ind, f"TB({pc}, {_ALL_REGS})", pc)
    if op == JmpOp.EXIT:
        em.emit(ind, f"LX[0] = {pc}; LX[1] = L; B[0] = left; POP(); return r0", pc)
    elif op == JmpOp.JA:
        target = _jump_target(pc, insn)
        em.emit(ind, "continue" if self_loop and target == leader else goto(target), pc)
    elif op == JmpOp.JCOND:
        target = _jump_target(pc, insn)
        em.emit(ind, "if mg:", pc)
        em.emit(ind + 1, "mg -= 1; " + goto(nxt), pc)
        em.emit(ind, "else:", pc)
        em.emit(ind + 1, goto(target), pc)
    elif op == JmpOp.CALL:   # bpf_tail_call
        em.emit(ind, "B[0] = left; t = TAIL(r1, r2, r3)", pc)
        em.emit(ind, "if t is not None: POP(); return t(r1)", pc)
        em.emit(ind, "left = B[0]; " + goto(nxt), pc)
    else:
        target = _jump_target(pc, insn)
        cond = _condition(insn)
        if self_loop and target == leader:
            em.emit(ind, f"if {cond}: continue", pc)
            em.emit(ind, "break", pc)
        elif _valid_target(slots, target) and _valid_target(slots, nxt):
            em.emit(ind, f"pc = {target} if {cond} else {nxt}", pc)
        else:
            em.emit(ind, f"if {cond}: {goto(target)}", pc)
            em.emit(ind, goto(nxt), pc)


def _helper_var(ident: int) -> str:
    return f"h{ident}" if ident >= 0 else f"hm{-ident}"


def _bad_target(slots: Sequence[Instruction | None], target: int) -> str:
    if 0 <= target < len(slots):
        return f"jump into the middle of ld_imm64 at pc {target - 1}"
    if target == len(slots):
        return "execution fell off the end of the program (no exit)"
    return f"jump out of the program, to pc {target}"


def _body(em: _Emitter, ind: int, pc: int, insn: Instruction, slots: Sequence[Instruction | None],
          uses: _Uses) -> None:
    cls = insn.opcode & 0x07
    if cls in (InsnClass.ALU, InsnClass.ALU64):
        for text in _alu(insn):
            em.emit(ind, text, pc)
    elif cls == InsnClass.LDX or (cls in (InsnClass.ST, InsnClass.STX) and insn.opcode & 0xE0 == Mode.MEM):
        for text in _memory(insn):
            em.emit(ind, text, pc)
    elif cls == InsnClass.STX:
        for text in _atomic(insn):
            em.emit(ind, text, pc)
    elif insn.opcode == LD_IMM64_OPCODE:
        d = _REGS[insn.dst]
        if insn.src == PseudoLoad.IMM64:
            em.emit(ind, f"{d} = {_hex(insn.imm64)}", pc)
        elif insn.src == PseudoLoad.FUNC:
            target = pc + 1 + insn.imm
            if _valid_target(slots, target):
                em.emit(ind, f"{d} = CODE + {target}", pc)
            else:
                em.emit(ind, f"TRAP('ld_imm64 names a function at pc {target}, which is not an instruction')", pc)
        else:
            uses.pseudo[pc] = insn
            em.emit(ind, f"{d} = p{pc} if p{pc}.__class__ is int else RAISE(p{pc})", pc)
    elif cls == InsnClass.LD:   # legacy packet access (LD_ABS / LD_IND)
        size = Size(insn.opcode & 0x18).nbytes
        if insn.opcode & 0xE0 == Mode.ABS:
            em.emit(ind, f"r0 = LDABS({size}, {insn.imm})", pc)
        else:
            em.emit(ind, f"r0 = LDABS({size}, ((r{insn.src} + {insn.imm}) & 0xffffffff ^ {_S32:#x}) - {_S32:#x})",
                    pc)
        em.emit(ind, f"if r0 is None: LX[0] = {pc}; LX[1] = L; B[0] = left; POP(); return 0", pc)
    elif insn.opcode == (InsnClass.JMP | JmpOp.CALL):
        if insn.src == PseudoCall.HELPER:
            uses.helpers.add(insn.imm)
            em.emit(ind, f"B[0] = left; r0 = {_helper_var(insn.imm)}(r1, r2, r3, r4, r5) & 0xffffffffffffffff; "
                    "left = B[0]", pc)
        elif insn.src == PseudoCall.CALL:
            target = pc + 1 + insn.imm
            if _valid_target(slots, target):
                em.emit(ind, f"B[0] = left; r0 = f{target}(r1, r2, r3, r4, r5); left = B[0]", pc)
            else:
                em.emit(ind, f"TRAP({f'call to pc {target}: ' + _bad_target(slots, target)!r})", pc)
        else:
            em.emit(ind, f"TRAP('kfunc calls are not emulated (kfunc BTF id {insn.imm})')", pc)
    elif insn.opcode == (InsnClass.JMP | JmpOp.CALL | Source.X):
        em.emit(ind, f"B[0] = left; r0 = CALLX(r{insn.dst}, r1, r2, r3, r4, r5); left = B[0]", pc)
    else:  # pragma: no cover - the codec only produces the forms above
        em.emit(ind, f"TRAP('instruction {insn.opcode:#04x} is not emulated')", pc)


def _block(em: _Emitter, ind: int, leader: int, pcs: list[int], slots: Sequence[Instruction | None],
           uses: _Uses) -> None:
    last_pc = pcs[-1]
    last = slots[last_pc]
    assert last is not None
    terminated = _is_terminator(last)
    self_loop = False
    if terminated and last.opcode & 0xF0 not in (JmpOp.EXIT, JmpOp.CALL, JmpOp.JCOND):
        self_loop = _jump_target(last_pc, last) == leader
    if self_loop:
        em.emit(ind, "while True:", leader)
        ind += 1
    em.emit(ind, f"left -= {len(pcs)}", leader)
    em.emit(ind, f"if left < 0: BUDGET({leader})", leader)
    body = pcs[:-1] if terminated else pcs
    for pc in body:
        insn = slots[pc]
        assert insn is not None
        if em.trace and (insn.opcode == (InsnClass.JMP | JmpOp.CALL | Source.X) or (
                insn.opcode == (InsnClass.JMP | JmpOp.CALL) and insn.src == PseudoCall.CALL)):
            em.emit(ind, f"TC({pc}, {_ALL_REGS})", pc)
        _body(em, ind, pc, insn, slots, uses)
        if em.trace:
            em.emit(ind, f"TA({pc}, {_ALL_REGS})", pc)
    if terminated:
        _terminator(em, ind, last_pc, last, slots, leader, self_loop)
        if self_loop and last.opcode & 0xF0 == JmpOp.JA:
            pass  # unconditional self loop: the budget ends it
        elif self_loop:
            em.emit(ind - 1, f"pc = {last_pc + 1}" if _valid_target(slots, last_pc + 1)
                    else f"TRAP({_bad_target(slots, last_pc + 1)!r})", last_pc)
    else:
        nxt = last_pc + last.slots
        em.emit(ind, f"pc = {nxt}" if _valid_target(slots, nxt) else f"TRAP({_bad_target(slots, nxt)!r})",
                last_pc)


def _dispatch(em: _Emitter, ind: int, leaders: list[int], blocks: dict[int, list[int]],
              slots: Sequence[Instruction | None], uses: _Uses) -> None:
    if len(leaders) == 1:
        _block(em, ind, leaders[0], blocks[leaders[0]], slots, uses)
        return
    mid = len(leaders) // 2
    em.emit(ind, f"if pc < {leaders[mid]}:")
    _dispatch(em, ind + 1, leaders[:mid], blocks, slots, uses)
    em.emit(ind, "else:")
    _dispatch(em, ind + 1, leaders[mid:], blocks, slots, uses)


def _function(em: _Emitter, entry: int, slots: Sequence[Instruction | None], uses: _Uses) -> None:
    blocks = _function_blocks(slots, entry)
    leaders = sorted(blocks)
    may_goto = any(
        (insn := slots[pcs[-1]]) is not None and insn.opcode == (InsnClass.JMP | JmpOp.JCOND)
        for pcs in blocks.values())
    em.emit(1, f"def f{entry}(r1=0, r2=0, r3=0, r4=0, r5=0):")
    em.emit(2, "r0 = r6 = r7 = r8 = r9 = a = t = m = o = 0")
    em.emit(2, "r10 = PUSH(); left = B[0]" + (f"; mg = {MAY_GOTO_LOOPS}" if may_goto else ""))
    if em.trace:
        em.emit(2, f"TE({entry}, {_ALL_REGS})")
    em.emit(2, f"pc = {entry}")
    em.emit(2, "try:")
    em.emit(3, "while True:")
    _dispatch(em, 4, leaders, blocks, slots, uses)
    em.emit(2, "except Exception as e:")
    em.emit(3, f"raise FAULT(e, (r0, r1, r2, r3, r4, r5, r6, r7, r8, r9, r10), {entry})")


def _generate(insns: tuple[Instruction, ...], trace: bool = False) -> tuple[str, list[int], list[int]]:
    slots = _slots(insns)
    entries = _entries(slots) if slots else []
    em = _Emitter()
    uses = _Uses(set(), {})
    body = _Emitter(trace)
    body.pcs = []
    for entry in entries:
        _function(body, entry, slots, uses)
    em.emit(0, "def factory(L):")
    em.emit(1, "M = L.readable; W = L.writable; B = L.budget; PUSH = L.push_frame; POP = L.pop_frame")
    em.emit(1, "FAULT = L.fault; TRAP = L.trap; BUDGET = L.out_of_budget; CODE = L.code_base")
    em.emit(1, "CALLX = L.callx; TAIL = L.tail_call; LDABS = L.ld_abs; LX = L.last_exit")
    if trace:
        em.emit(1, "TE = L.trace_entry; TA = L.trace_after; TB = L.trace_before; TC = L.trace_call")
    for helper in sorted(uses.helpers):
        em.emit(1, f"{_helper_var(helper)} = L.helper({helper})")
    for pc, insn in sorted(uses.pseudo.items()):
        em.emit(1, f"p{pc} = L.pseudo({pc}, {insn.src}, {insn.imm}, {insn.imm_hi})")
    em.lines.extend(body.lines)
    em.pcs.extend(body.pcs)
    em.emit(1, "return {" + ", ".join(f"{e}: f{e}" for e in entries) + "}")
    return "\n".join(em.lines) + "\n", em.pcs, entries


@functools.lru_cache(maxsize=512)
def compile_program(insns: tuple[Instruction, ...], trace: bool = False) -> CompiledProgram:
    """Translate ``insns`` (a whole program with its subprograms) to Python, once.

    The result is cached per instruction tuple, so loading the same program again costs a
    dictionary lookup.  An empty program compiles to a factory with no functions.
    ``trace=True`` gives the translation that calls the linkage's trace hooks.
    """
    source, pcs, entries = _generate(insns, trace)
    namespace = _runtime_globals()
    code = compile(source, f"<bpf program, {len(insns)} insns>", "exec")
    exec(code, namespace)  # noqa: S102 - our own generated source
    factory = namespace["factory"]
    return CompiledProgram(insns=insns, slots=_slots(insns), entries=tuple(entries),
                           factory=factory,  # type: ignore[arg-type]
                           line_pcs=tuple(pcs), source=source)

"""Instructions -> Python: each program is translated once into Python source and compiled.

Why: a decode-and-dispatch loop in Python runs ~3 million eBPF instructions per second;
a closure per instruction ~8 million.  Translating a whole function into one Python
function, with the eleven registers as *local variables* and each instruction as one or two
statements, lets CPython run straight-line code at its own speed; control flow between
basic blocks goes through a binary tree of ``if pc < N`` tests inside a ``while True`` loop,
and a block that jumps back to itself becomes an inner ``while`` loop.

The translation depends only on the instructions, so it is cached per program
(:func:`compile_program`, keyed by the instruction tuple).  What it needs from the outside
world (memory, helpers, map addresses, the budget) it gets from a :class:`ProgramLink`
when the compiled factory is instantiated: ``factory(link) -> {entry pc: function}``.

Inside a function, straight-line paths are inlined: each dispatch *slot* is a block with
the blocks it leads to (one predecessor always, small ones while the growth allows), so a
loop body runs as one ``while True`` without going through the dispatch; loads and stores
at constant offsets from r10 (in functions that never write r10) index the frame directly.

A *traced* translation (``compile_program(insns, trace=True)``, cached separately) also
calls the link's hooks with the eleven registers as a tuple: ``trace_entry(pc, regs)``
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

import struct
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from bpfbuild.isa.fields import (
    ATOMIC_FETCH,
    CLASS_MASK,
    MODE_MASK,
    OP_MASK,
    SIZE_MASK,
    SOURCE_MASK,
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
from bpfbuild.errors import DecodeError
from bpfbuild.isa.codec import decode, raw_slots
from bpfbuild.isa.instruction import LD_IMM64_OPCODE, Instruction
from bpfbuild.isa.opcodes import opcode_table

__all__ = [
    "MAX_CALL_DEPTH",
    "MAY_GOTO_LOOPS",
    "STACK_SIZE",
    "SHARED_CACHE",
    "CompiledProgram",
    "Counter",
    "ProgramLink",
    "TranslationCache",
    "compile_program",
    "decode_program",
    "invalid_forms",
    "translate",
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

class ProgramLink(Protocol):
    """What a translated program needs from the outside world; ``factory(link)`` binds it.

    (:class:`bpfbuild.vm.machine.Link` is the machine's implementation.)  A traced
    translation also calls ``trace_entry/trace_call/trace_after/trace_before(pc, regs)``;
    a coverage translation increments ``counters[i]`` (see :attr:`CompiledProgram.counters`).
    """

    #: ``dict[int, bytearray]`` of :class:`~bpfbuild.vm.memory.Memory`
    readable: dict[int, bytearray]
    writable: dict[int, bytearray]
    #: instructions left, shared by all frames
    budget: list[int]
    #: base address of this program's code pointers (``ld_imm64`` FUNC)
    code_base: int
    #: ``[pc, link]`` of the last ``exit`` executed
    last_exit: list[Any]
    counters: list[int]

    def push_frame(self) -> int: ...          # a new 512-byte frame; returns r10
    def pop_frame(self) -> None: ...
    def helper(self, ident: int) -> Callable[..., int]: ...   # (r1..r5) -> r0
    def kfunc(self, pc: int, btf_id: int) -> Callable[..., int]: ...   # the call at pc: (r1..r5) -> r0
    def pseudo(self, pc: int, src: int, imm: int, imm_hi: int) -> int | BaseException: ...
    def callx(self, target: int, r1: int, r2: int, r3: int, r4: int, r5: int) -> int: ...
    def tail_call(self, ctx: int, map_ptr: int, index: int) -> Callable[..., int] | None: ...
    def ld_abs(self, size: int, offset: int) -> int | None: ...   # None: the program returns 0
    def fault(self, exc: BaseException, regs: tuple[int, ...], entry: int) -> BaseException: ...
    def trap(self, message: str) -> int: ...
    def out_of_budget(self, pc: int) -> None: ...


Factory = Callable[[ProgramLink], dict[int, Callable[..., int]]]


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
    #: coverage translations: what each entry of ``link.counters`` counts
    counters: tuple[Counter, ...] = ()

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


#: what the generator sees in place of an invalid instruction: an end of its block (which
#: then faults with the reason): the kernel accepts such encodings in code no path reaches
_INVALID = Instruction(InsnClass.JMP | JmpOp.EXIT)


def _invalid_forms(slots: Sequence[Instruction | None]) -> dict[int, str]:
    """pc -> why the instruction there is not a valid form."""
    table = opcode_table()
    out: dict[int, str] = {}
    for pc, insn in enumerate(slots):
        if insn is not None and insn.is_atomic and insn.imm in (0x100, 0x110):
            # BPF_LOAD_ACQ / BPF_STORE_REL: valid for the kernel, not in the emulator's table
            out[pc] = "load-acquire and store-release are not emulated"
        elif insn is not None and table.lookup(insn.opcode, insn.dst, insn.src, insn.off, insn.imm) is None:
            out[pc] = table.explain(insn.opcode, insn.dst, insn.src, insn.off, insn.imm) or "invalid instruction"
    return out


def invalid_forms(insns: Sequence[Instruction]) -> dict[int, str]:
    """pc -> why the instruction there is not a valid form (see :func:`decode_program`)."""
    return _invalid_forms(_slots(insns))


def decode_program(code: bytes) -> tuple[Instruction, ...]:
    """Decode ``code`` as the kernel loads it: an unknown opcode or a malformed ``ld_imm64``
    anywhere is refused (DecodeError), as BPF_PROG_LOAD refuses them before verifying; a known
    opcode whose other fields make no valid form is kept (the verifier only rejects it on a path
    that reaches it, so such code is dead) and faults if executed."""
    try:
        return decode(code)
    except DecodeError:
        pass
    slots = raw_slots(code)
    table = opcode_table()
    out: list[Instruction] = []
    pc = 0
    while pc < len(slots):
        op, dst, src, off, imm = slots[pc]
        if op == LD_IMM64_OPCODE or table.entry(op) is None:
            try:
                (insn,) = decode(code[8 * pc:8 * pc + (16 if op == LD_IMM64_OPCODE else 8)])
            except DecodeError as exc:
                raise DecodeError(exc.message, pc=pc + (exc.pc or 0)) from None
            out.append(insn)
            pc += insn.slots
            continue
        out.append(Instruction(op, dst, src, off, imm))
        pc += 1
    return tuple(out)


def _is_terminator(insn: Instruction) -> bool:
    cls = insn.opcode & CLASS_MASK
    if cls not in (InsnClass.JMP, InsnClass.JMP32):
        return False
    op = insn.opcode & OP_MASK
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
    cls = insn.opcode & CLASS_MASK
    nxt = pc + insn.slots
    if cls not in (InsnClass.JMP, InsnClass.JMP32):
        return (nxt,)
    op = insn.opcode & OP_MASK
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
        #: r10 is never written in the function being emitted: its frame is ``S``
        self.stack = False
        #: frame slots kept in locals ``s<offset>`` (see _promotable_slots)
        self.promoted: set[tuple[int, int]] | None = None
        #: how a return leaves the frame: unmap it, or (a frameless function) restore the depth
        self.pop = "POP()"

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
    wide = insn.opcode & CLASS_MASK == InsnClass.ALU64
    op = insn.opcode & OP_MASK
    reg = insn.opcode & SOURCE_MASK == Source.X
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
            if insn.opcode & SOURCE_MASK:   # to big endian: swap, then truncate
                return [f"{d} = BSWAP{imm}({d})"] if imm in (16, 32, 64) else ["pass"]
            match imm:
                case 16:
                    return [f"{d} &= 0xffff"]
                case 32:
                    return [f"{d} &= 0xffffffff"]
            return ["pass"]
    raise AssertionError(f"unhandled ALU opcode {insn.opcode:#x}")


def _condition(insn: Instruction) -> str:
    wide = insn.opcode & CLASS_MASK == InsnClass.JMP
    op = insn.opcode & OP_MASK
    reg = insn.opcode & SOURCE_MASK == Source.X
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


def _memory(insn: Instruction, stack: bool = False, promoted: set[tuple[int, int]] | None = None) -> list[str]:
    cls = insn.opcode & CLASS_MASK
    mode = insn.opcode & MODE_MASK
    size = Size(insn.opcode & SIZE_MASK)
    d, s = _REGS[insn.dst], _REGS[insn.src]
    base = insn.src if cls == InsnClass.LDX else insn.dst
    if stack and base == 10 and -STACK_SIZE <= insn.off and insn.off + size.nbytes <= 0:
        at = STACK_SIZE + insn.off
        if promoted and (at, size.nbytes) in promoted:
            return _promoted_access(insn, cls, mode, size, f"s{at}")
        return _stack_access(insn, cls, mode, size, at)
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


def _promoted_access(insn: Instruction, cls: int, mode: int, size: Size, var: str) -> list[str]:
    """A frame slot held in a local (its value as stored: masked to the access size)."""
    d, s = _REGS[insn.dst], _REGS[insn.src]
    if cls == InsnClass.LDX:
        if mode == Mode.MEMSX:
            bits = 8 * size.nbytes
            sign = 1 << (bits - 1)
            return [f"{d} = (({var} ^ {sign:#x}) - {sign:#x}) & 0xffffffffffffffff"]
        return [f"{d} = {var}"]
    if cls == InsnClass.ST:
        return [f"{var} = {_hex(insn.imm & ((1 << (8 * size.nbytes)) - 1))}"]
    return [f"{var} = {s} & {_MASK[size]}" if size != Size.DW else f"{var} = {s}"]


def _stack_access(insn: Instruction, cls: int, mode: int, size: Size, at: int) -> list[str]:
    """A load or store at a constant offset inside the function's own frame ``S`` (r10 is
    constant there): no address arithmetic, and the bounds were checked here."""
    d, s = _REGS[insn.dst], _REGS[insn.src]
    if cls == InsnClass.LDX:
        if mode == Mode.MEMSX:
            return [f"{d} = {_SX[size]}(S, {at})[0] & 0xffffffffffffffff"]
        if size == Size.B:
            return [f"{d} = S[{at}]"]
        return [f"{d} = U{_SIZE_SUFFIX[size] if size != Size.W else '32'}(S, {at})[0]"]
    if cls == InsnClass.ST:
        value = _hex(insn.imm & ((1 << (8 * size.nbytes)) - 1))
    else:
        value = f"{s} & {_MASK[size]}" if size != Size.DW else s
    if size == Size.B:
        return [f"S[{at}] = {value}"]
    return [f"P{_SIZE_SUFFIX[size] if size != Size.W else '32'}(S, {at}, {value})"]


def _atomic(insn: Instruction) -> list[str]:
    wide = insn.opcode & SIZE_MASK == Size.DW
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
    symbol = {AtomicOp.ADD: "+", AtomicOp.OR: "|", AtomicOp.AND: "&", AtomicOp.XOR: "^"}.get(op)   # type: ignore[call-overload]
    if symbol is None:   # reached: the kernel rejects any other atomic operation
        return [f"TRAP({f'invalid instruction: atomic operation imm={insn.imm:#x}'!r})"]
    line = head + f"P{bits}(m, o, (t {symbol} {s}) & {mask})"
    if fetch:
        line += f"; {s} = t"
    return [line]


@dataclass
class _Uses:
    helpers: set[int]
    pseudo: dict[int, Instruction]
    #: pc -> why the instruction there is not a valid form (it faults if executed)
    invalid: dict[int, str] = field(default_factory=dict)
    #: pc -> BTF id of every kfunc call
    kfuncs: dict[int, int] = field(default_factory=dict)


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
    if not (0 <= insn.dst < len(_REGS) and 0 <= insn.src < len(_REGS)):   # reached: r11..r15 do not exist
        em.emit(ind, f"TRAP({f'invalid instruction at pc {pc}: register r{max(insn.dst, insn.src)}'!r})", pc)
        return
    cls = insn.opcode & CLASS_MASK
    if cls in (InsnClass.ALU, InsnClass.ALU64):
        for text in _alu(insn):
            em.emit(ind, text, pc)
    elif cls == InsnClass.LDX or (cls in (InsnClass.ST, InsnClass.STX) and insn.opcode & MODE_MASK == Mode.MEM):
        for text in _memory(insn, em.stack, em.promoted):
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
        size = Size(insn.opcode & SIZE_MASK).nbytes
        if insn.opcode & MODE_MASK == Mode.ABS:
            em.emit(ind, f"r0 = LDABS({size}, {insn.imm})", pc)
        else:
            em.emit(ind, f"r0 = LDABS({size}, ((r{insn.src} + {insn.imm}) & 0xffffffff ^ {_S32:#x}) - {_S32:#x})",
                    pc)
        em.emit(ind, f"if r0 is None: LX[0] = {pc}; LX[1] = L; B[0] = left; {em.pop}; return 0", pc)
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
        else:   # a kfunc: the link binds the call site to the kfunc its extern names
            uses.kfuncs[pc] = insn.imm
            em.emit(ind, f"B[0] = left; r0 = k{pc}(r1, r2, r3, r4, r5) & 0xffffffffffffffff; left = B[0]", pc)
    elif insn.opcode == (InsnClass.JMP | JmpOp.CALL | Source.X):
        em.emit(ind, f"B[0] = left; r0 = CALLX(r{insn.dst}, r1, r2, r3, r4, r5); left = B[0]", pc)
    else:  # pragma: no cover - the codec only produces the forms above
        em.emit(ind, f"TRAP('instruction {insn.opcode:#04x} is not emulated')", pc)


def _writes_r10(insn: Instruction) -> bool:
    """Whether ``insn`` may change r10 (the verifier forbids it; raw bytecode may try)."""
    cls = insn.opcode & CLASS_MASK
    if cls in (InsnClass.ALU, InsnClass.ALU64, InsnClass.LDX) or insn.opcode == LD_IMM64_OPCODE:
        return insn.dst == 10
    if cls == InsnClass.STX and insn.opcode & MODE_MASK == Mode.ATOMIC:
        return insn.src == 10 and bool(insn.imm & ATOMIC_FETCH or insn.imm in (AtomicOp.XCHG, AtomicOp.CMPXCHG))
    return False


def _needs_frame(insns: Sequence[Instruction], promoted: set[tuple[int, int]]) -> bool:
    """Whether a function whose promotable slots are ``promoted`` still needs its frame mapped:
    r10 is used otherwise than as the base of a promoted slot's load or store."""
    for insn in insns:
        cls = insn.opcode & CLASS_MASK
        if cls in (InsnClass.LDX, InsnClass.ST, InsnClass.STX):
            if cls == InsnClass.STX and insn.src == 10:
                return True
            if (insn.src if cls == InsnClass.LDX else insn.dst) != 10:
                continue
            if cls != InsnClass.LDX and insn.opcode & MODE_MASK != Mode.MEM:
                return True
            n = Size(insn.opcode & SIZE_MASK).nbytes
            if (STACK_SIZE + insn.off, n) not in promoted or not -STACK_SIZE <= insn.off <= -n:
                return True
        elif insn.dst == 10 or (insn.opcode & SOURCE_MASK == Source.X and insn.src == 10 and cls != InsnClass.LD):
            return True
        elif cls == InsnClass.LD and insn.src == 10:
            return True
    return False


def _promotable_slots(insns: Sequence[Instruction]) -> set[tuple[int, int]] | None:
    """The frame slots ``(offset from the frame's start, size)`` of a function that may live in
    Python locals: r10 never escapes (it is only the base of in-frame loads and stores at
    constant offsets) and no two accesses overlap unless they are the same slot.  None: keep
    the frame in memory."""
    found: set[tuple[int, int]] = set()
    for insn in insns:
        cls = insn.opcode & CLASS_MASK
        reg = insn.opcode & SOURCE_MASK == Source.X
        if cls in (InsnClass.LDX, InsnClass.ST, InsnClass.STX):
            base = insn.src if cls == InsnClass.LDX else insn.dst
            if cls == InsnClass.STX and insn.src == 10:
                return None                       # r10's value stored somewhere
            if base != 10:
                continue
            if cls != InsnClass.LDX and insn.opcode & MODE_MASK != Mode.MEM:
                return None                       # an atomic on the frame
            size = (insn.opcode & SIZE_MASK)
            n = Size(size).nbytes
            if -STACK_SIZE <= insn.off and insn.off + n <= 0:
                found.add((STACK_SIZE + insn.off, n))
            continue
        if cls in (InsnClass.ALU, InsnClass.ALU64, InsnClass.JMP, InsnClass.JMP32, InsnClass.LD):
            if (reg and insn.src == 10) or (cls in (InsnClass.JMP, InsnClass.JMP32) and insn.dst == 10):
                return None
            if insn.opcode == (InsnClass.JMP | JmpOp.CALL | Source.X) or (cls == InsnClass.LD and insn.src == 10):
                return None
    spans = sorted(found)
    for (a, n), (b, _) in zip(spans, spans[1:]):
        if b < a + n:
            return None
    return found


@dataclass(frozen=True, slots=True)
class Counter:
    """What a coverage counter counts: a block's executions (``taken`` is None; ``pcs`` are
    its instructions) or one side of a conditional jump at ``pc`` (``taken`` True: the jump
    was taken; False: execution fell through)."""

    pc: int
    taken: bool | None
    pcs: tuple[int, ...] = ()


class _Counters:
    def __init__(self) -> None:
        self.index: dict[tuple[int, bool | None], int] = {}
        self.items: list[Counter] = []

    def get(self, pc: int, taken: bool | None, pcs: Sequence[int] = ()) -> int:
        key = (pc, taken)
        i = self.index.get(key)
        if i is None:
            i = self.index[key] = len(self.items)
            self.items.append(Counter(pc, taken, tuple(pcs)))
        return i


class _FuncGen:
    """Emits one function: a dispatch over *slots*; each slot is a block with its successors
    inlined (a successor with one predecessor always, a small one when the growth allows),
    so straight-line paths and whole loop bodies run without going through the dispatch.  A
    slot whose inlined code jumps back to its own leader is wrapped in ``while True`` and the
    jump becomes ``continue``; any other jump sets ``pc`` and leaves the slot."""

    INLINE_DEPTH = 20
    SMALL = 8

    def __init__(self, em: _Emitter, entry: int, slots: Sequence[Instruction | None], uses: _Uses,
                 counters: _Counters | None) -> None:
        self.em = em
        self.entry = entry
        self.slots = slots
        self.uses = uses
        self.counters = counters
        self.blocks = _function_blocks(slots, entry)
        self.preds: dict[int, int] = {entry: 1}
        self.headers: set[int] = set()
        size = 0
        for leader, pcs in self.blocks.items():
            size += len(pcs)
            last = slots[pcs[-1]]
            assert last is not None
            for succ in _successors(pcs[-1], last):
                if succ in self.blocks:
                    self.preds[succ] = self.preds.get(succ, 0) + 1
                    if succ <= pcs[-1]:
                        self.headers.add(succ)
        self.growth = 3 * size + 200
        self.emitted = 0
        self.stack = not any(_writes_r10(slots[pc]) for pcs in self.blocks.values() for pc in pcs)  # type: ignore[arg-type]
        self.promoted = None if not self.stack or em.trace else _promotable_slots(
            [slots[pc] for pcs in self.blocks.values() for pc in pcs])  # type: ignore[misc]
        #: no instruction needs the frame in memory (every frame access is a promoted slot):
        #: the call counts its depth but maps no region (r10 still holds the frame's address)
        self.frameless = self.promoted is not None and not _needs_frame(
            [slots[pc] for pcs in self.blocks.values() for pc in pcs], self.promoted)  # type: ignore[misc]
        self.wanted: list[int] = [entry]
        self.queued = {entry}
        self.seen: set[int] = set()
        self.leader = entry
        self.wrapped = False
        self.looped = False
        self.jumps_to_entry = False

    # --- one function -------------------------------------------------------------------

    def function(self) -> None:
        em, entry = self.em, self.entry
        may_goto = any(
            (insn := self.slots[pcs[-1]]) is not None and insn.opcode == (InsnClass.JMP | JmpOp.JCOND)
            for pcs in self.blocks.values())
        em.emit(1, f"def f{entry}(r1=0, r2=0, r3=0, r4=0, r5=0):")
        em.emit(2, "r0 = r6 = r7 = r8 = r9 = a = t = m = o = 0")
        if self.promoted:
            em.emit(2, " = ".join(f"s{at}" for at, _ in sorted(self.promoted)) + " = 0")
        if self.frameless:
            em.emit(2, "dp = D[0]")
            em.emit(2, f"if dp >= {MAX_CALL_DEPTH}: DEEP()")
            em.emit(2, "D[0] = dp + 1; r10 = TOPS[dp]; left = B[0]" + (f"; mg = {MAY_GOTO_LOOPS}" if may_goto else ""))
        else:
            em.emit(2, "r10 = PUSH(); left = B[0]" + ("; S = W[r10 >> 32]" if self.stack else "")
                    + (f"; mg = {MAY_GOTO_LOOPS}" if may_goto else ""))
        if em.trace:
            em.emit(2, f"TE({entry}, {_ALL_REGS})")
        em.emit(2, "try:")
        # the entry slot runs first without going through the dispatch; the dispatch loop
        # serves the jumps that leave it (and holds the entry slot again for jumps back)
        first = self.slot(entry)
        bodies: dict[int, tuple[list[str], list[int]]] = {}
        i = 1
        while i < len(self.wanted):
            leader = self.wanted[i]
            i += 1
            bodies[leader] = self.slot(leader)
        self.em.lines.extend("            " + line for line in first[0])
        self.em.pcs.extend(first[1])
        if self.jumps_to_entry:
            bodies[entry] = first
        if bodies:
            em.emit(3, "while True:")
            self.dispatch(4, sorted(bodies), bodies)
        em.emit(2, "except Exception as e:")
        em.emit(3, f"raise FAULT(e, (r0, r1, r2, r3, r4, r5, r6, r7, r8, r9, r10), {entry})")

    def dispatch(self, ind: int, leaders: list[int], bodies: dict[int, tuple[list[str], list[int]]]) -> None:
        if len(leaders) == 1:
            lines, pcs = bodies[leaders[0]]
            pad = "    " * ind
            self.em.lines.extend(pad + line for line in lines)
            self.em.pcs.extend(pcs)
            return
        mid = len(leaders) // 2
        self.em.emit(ind, f"if pc < {leaders[mid]}:")
        self.dispatch(ind + 1, leaders[:mid], bodies)
        self.em.emit(ind, "else:")
        self.dispatch(ind + 1, leaders[mid:], bodies)

    def slot(self, leader: int) -> tuple[list[str], list[int]]:
        """The code of the slot at ``leader``, indented from 0."""
        outer = self.em
        for wrapped in (False, True):
            self.em = _Emitter(outer.trace)
            self.em.pcs = []
            self.em.stack = self.stack
            self.em.promoted = self.promoted
            self.em.pop = "D[0] = dp" if self.frameless else "POP()"
            self.leader, self.wrapped, self.looped = leader, wrapped, False
            mark, seen = self.emitted, set(self.seen)
            if wrapped:
                self.em.emit(0, "while True:", leader)
            self.block(leader, 1 if wrapped else 0, 0)
            if not self.looped or wrapped:
                break
            self.emitted, self.seen = mark, seen
        lines, pcs = self.em.lines, self.em.pcs
        self.em = outer
        return lines, pcs

    # --- blocks and jumps -----------------------------------------------------------------

    def inlinable(self, target: int, depth: int) -> bool:
        if target == self.leader or target in self.headers or depth >= self.INLINE_DEPTH:
            return False
        n = len(self.blocks[target])
        if self.preds.get(target, 0) <= 1:
            return self.emitted + n <= self.growth or target not in self.seen
        return n <= self.SMALL and self.emitted + n <= self.growth

    def jump(self, ind: int, pc: int, target: int, depth: int) -> None:
        em = self.em
        if not _valid_target(self.slots, target):
            em.emit(ind, f"TRAP({_bad_target(self.slots, target)!r})", pc)
        elif target == self.leader:
            self.looped = True
            em.emit(ind, "continue" if self.wrapped else f"pc = {target}", pc)
        elif self.inlinable(target, depth):
            self.block(target, ind, depth + 1)
        else:
            self.queue(target)
            em.emit(ind, f"pc = {target}" + ("; break" if self.wrapped else ""), pc)

    def queue(self, target: int) -> None:
        if target == self.entry:
            self.jumps_to_entry = True
        if target not in self.queued:
            self.queued.add(target)
            self.wanted.append(target)

    def simple(self, target: int, depth: int) -> bool:
        """A jump to ``target`` is a plain ``pc = target``."""
        return _valid_target(self.slots, target) and target != self.leader and not self.inlinable(target, depth)

    def block(self, leader: int, ind: int, depth: int) -> None:
        em, slots = self.em, self.slots
        pcs = self.blocks[leader]
        self.emitted += len(pcs)
        self.seen.add(leader)
        last_pc = pcs[-1]
        last = slots[last_pc]
        assert last is not None
        terminated = _is_terminator(last)
        em.emit(ind, f"left -= {len(pcs)}", leader)
        em.emit(ind, f"if left < 0: BUDGET({leader})", leader)
        if self.counters is not None:
            em.emit(ind, f"K[{self.counters.get(leader, None, pcs)}] += 1", leader)
        for pc in (pcs[:-1] if terminated else pcs):
            insn = slots[pc]
            assert insn is not None
            if em.trace and (insn.opcode == (InsnClass.JMP | JmpOp.CALL | Source.X) or (
                    insn.opcode == (InsnClass.JMP | JmpOp.CALL) and insn.src == PseudoCall.CALL)):
                em.emit(ind, f"TC({pc}, {_ALL_REGS})", pc)
            _body(em, ind, pc, insn, slots, self.uses)
            if em.trace:
                em.emit(ind, f"TA({pc}, {_ALL_REGS})", pc)
        if last_pc in self.uses.invalid:
            em.emit(ind, f"TRAP({'invalid instruction: ' + self.uses.invalid[last_pc]!r})", last_pc)
        elif terminated:
            self.terminator(ind, last_pc, last, depth)
        else:
            self.jump(ind, last_pc, last_pc + last.slots, depth)

    def terminator(self, ind: int, pc: int, insn: Instruction, depth: int) -> None:
        em = self.em
        op = insn.opcode & OP_MASK
        nxt = pc + 1
        if em.trace:
            em.emit(ind, f"TB({pc}, {_ALL_REGS})", pc)
        if op == JmpOp.EXIT:
            em.emit(ind, f"LX[0] = {pc}; LX[1] = L; B[0] = left; {em.pop}; return r0", pc)
        elif op == JmpOp.JA:
            self.jump(ind, pc, _jump_target(pc, insn), depth)
        elif op == JmpOp.JCOND:
            em.emit(ind, "if mg:", pc)
            em.emit(ind + 1, "mg -= 1", pc)
            self.jump(ind + 1, pc, nxt, depth)
            em.emit(ind, "else:", pc)
            self.jump(ind + 1, pc, _jump_target(pc, insn), depth)
        elif op == JmpOp.CALL:   # bpf_tail_call
            em.emit(ind, "B[0] = left; t = TAIL(r1, r2, r3)", pc)
            em.emit(ind, f"if t is not None: {em.pop}; return t(r1)", pc)
            em.emit(ind, "left = B[0]", pc)
            self.jump(ind, pc, nxt, depth)
        else:
            target = _jump_target(pc, insn)
            cond = _condition(insn)
            if self.counters is None and self.simple(target, depth) and self.simple(nxt, depth):
                self.queue(target)
                self.queue(nxt)
                em.emit(ind, f"pc = {target} if {cond} else {nxt}" + ("; break" if self.wrapped else ""), pc)
                return
            em.emit(ind, f"if {cond}:", pc)
            if self.counters is not None:
                em.emit(ind + 1, f"K[{self.counters.get(pc, True)}] += 1", pc)
            self.jump(ind + 1, pc, target, depth)
            em.emit(ind, "else:", pc)
            if self.counters is not None:
                em.emit(ind + 1, f"K[{self.counters.get(pc, False)}] += 1", pc)
            self.jump(ind + 1, pc, nxt, depth)


def _generate(insns: tuple[Instruction, ...], trace: bool = False,
              coverage: bool = False) -> tuple[str, list[int], list[int], tuple[Counter, ...]]:
    slots = _slots(insns)
    invalid = _invalid_forms(slots)
    if invalid:   # the generator sees an exit there, and the block ends with the fault
        slots = tuple(_INVALID if pc in invalid else insn for pc, insn in enumerate(slots))
    entries = _entries(slots) if slots else []
    em = _Emitter()
    uses = _Uses(set(), {}, invalid)
    counters = _Counters() if coverage else None
    body = _Emitter(trace)
    body.pcs = []
    for entry in entries:
        _FuncGen(body, entry, slots, uses, counters).function()
    em.emit(0, "def factory(L):")
    em.emit(1, "M = L.readable; W = L.writable; B = L.budget; PUSH = L.push_frame; POP = L.pop_frame")
    em.emit(1, "FAULT = L.fault; TRAP = L.trap; BUDGET = L.out_of_budget; CODE = L.code_base")
    em.emit(1, "CALLX = L.callx; TAIL = L.tail_call; LDABS = L.ld_abs; LX = L.last_exit")
    em.emit(1, "D = L.depth; TOPS = L.stack_tops; DEEP = L.too_deep")
    if trace:
        em.emit(1, "TE = L.trace_entry; TA = L.trace_after; TB = L.trace_before; TC = L.trace_call")
    if coverage:
        em.emit(1, "K = L.counters")
    for helper in sorted(uses.helpers):
        em.emit(1, f"{_helper_var(helper)} = L.helper({helper})")
    for pc, insn in sorted(uses.pseudo.items()):
        em.emit(1, f"p{pc} = L.pseudo({pc}, {insn.src}, {insn.imm}, {insn.imm_hi})")
    for pc, ident in sorted(uses.kfuncs.items()):
        em.emit(1, f"k{pc} = L.kfunc({pc}, {ident})")
    em.lines.extend(body.lines)
    em.pcs.extend(body.pcs)
    em.emit(1, "return {" + ", ".join(f"{e}: f{e}" for e in entries) + "}")
    return "\n".join(em.lines) + "\n", em.pcs, entries, tuple(counters.items) if counters else ()


def translate(insns: tuple[Instruction, ...], *, trace: bool = False, coverage: bool = False) -> CompiledProgram:
    """Translate ``insns`` (a whole program with its subprograms) to Python (uncached).

    An empty program compiles to a factory with no functions.  ``trace=True`` gives the
    translation that calls the link's trace hooks; ``coverage=True`` the one that counts
    executed blocks and both sides of every conditional jump in ``link.counters``
    (:attr:`CompiledProgram.counters` says what each counter counts).
    """
    source, pcs, entries, counters = _generate(insns, trace, coverage)
    namespace = _runtime_globals()
    code = compile(source, f"<bpf program, {len(insns)} insns>", "exec")
    exec(code, namespace)  # noqa: S102 - our own generated source
    factory = namespace["factory"]
    return CompiledProgram(insns=insns, slots=_slots(insns), entries=tuple(entries),
                           factory=factory,  # type: ignore[arg-type]
                           line_pcs=tuple(pcs), source=source, counters=counters)


class TranslationCache:
    """Translations by instruction tuple and variant, least recently used dropped first.

    Translating is a pure function of the instructions, so a cache can be shared freely:
    its values are immutable and two machines using one cache never see each other.
    """

    def __init__(self, size: int = 512) -> None:
        self.size = size
        self._items: OrderedDict[tuple[tuple[Instruction, ...], bool, bool], CompiledProgram] = OrderedDict()
        self._bytes: OrderedDict[bytes, CompiledProgram] = OrderedDict()
        # the same tuple object asked for again (an object's program, per spec case): found by
        # identity, without hashing every instruction (the entry keeps the tuple, so its id holds)
        self._same: OrderedDict[tuple[int, bool, bool], tuple[tuple[Instruction, ...], CompiledProgram]] = \
            OrderedDict()

    def get(self, insns: tuple[Instruction, ...], *, trace: bool = False, coverage: bool = False) -> CompiledProgram:
        same = self._same.get((id(insns), trace, coverage))
        if same is not None and same[0] is insns:
            return same[1]
        compiled = self._get(insns, trace, coverage)
        self._same[(id(insns), trace, coverage)] = (insns, compiled)
        if len(self._same) > self.size:
            self._same.popitem(last=False)
        return compiled

    def _get(self, insns: tuple[Instruction, ...], trace: bool, coverage: bool) -> CompiledProgram:
        key = (insns, trace, coverage)
        compiled = self._items.get(key)
        if compiled is None:
            compiled = translate(insns, trace=trace, coverage=coverage)
            self._items[key] = compiled
            if len(self._items) > self.size:
                self._items.popitem(last=False)
        else:
            self._items.move_to_end(key)
        return compiled

    def get_bytes(self, code: bytes) -> CompiledProgram:
        """The plain translation of encoded instructions (DecodeError if the kernel would
        refuse them before verifying: see :func:`decode_program`)."""
        compiled = self._bytes.get(code)
        if compiled is None:
            compiled = self.get(decode_program(code))
            self._bytes[code] = compiled
            if len(self._bytes) > self.size:
                self._bytes.popitem(last=False)
        return compiled


#: the cache :func:`compile_program` uses (pure memoisation; see TranslationCache)
SHARED_CACHE = TranslationCache()


def compile_program(insns: tuple[Instruction, ...], trace: bool = False, coverage: bool = False, *,
                    cache: TranslationCache | None = None) -> CompiledProgram:
    """:func:`translate`, memoised in ``cache`` (default :data:`SHARED_CACHE`): loading the
    same program again costs a dictionary lookup."""
    return (cache or SHARED_CACHE).get(tuple(insns), trace=trace, coverage=coverage)

"""The machine: loads programs into a session, runs them, reports what happened.

::

    session = Session(pid=42, comm="curl")
    m = Machine.from_object(load_object_file("build/hello.bpf.o"), session=session)
    result = m.run("hello", XdpContext(packet))        # or m.run("hello", packet=b"...")
    result.retval, result.printk, result.packet
    session.map("hello.bss").lookup(0)

:func:`run_bytecode` is the raw entry point for bare instructions (conformance suites,
tooling): no maps, r1/r2 = a copy of ``mem`` and its length.

Programs are translated to Python once (:mod:`bpfbuild.vm.compiler`, cached per
instruction tuple) and *linked* to a machine when loaded: the link binds the machine's
memory, helpers, maps and budget into the translated functions.  A fault anywhere (bad
access, unknown helper, exhausted budget, too deep a call chain) is a
:class:`~bpfbuild.errors.VMError` naming the instruction index, the instruction, its source
line when known, and the registers.
"""

from __future__ import annotations

import functools
import operator
import os
import struct
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Protocol

from bpfbuild.abi.helpers import helper_name
from bpfbuild.abi.progtypes import ProgType
from bpfbuild.btf.record import parse_record
from bpfbuild.errors import DecodeError, NotEmulated, VMError, no_such
from bpfbuild.isa.fields import CLASS_MASK, MODE_MASK, InsnClass, JmpOp, Mode, PseudoLoad, Source
from bpfbuild.isa.instruction import Instruction
from bpfbuild.location import SourceLocation
from bpfbuild.vm.compiler import (MAX_CALL_DEPTH, SHARED_CACHE, STACK_SIZE, CompiledProgram, TranslationCache,
                                  compile_program, decode_program)
from bpfbuild.vm.context import Context, ContextState, MemState, context_for, make_state
from bpfbuild.vm.helpers import helper_table
from bpfbuild.vm.kfuncs import kfunc_impl
from bpfbuild.vm.maps import MAX_TAIL_CALLS, ArrayMap, Map, MapInMap, ProgArray
from bpfbuild.vm.memory import OFFSET_MASK, REGION_SHIFT, Memory, Region, RegionKind, Trap
from bpfbuild.vm.session import Session
from bpfbuild.vm.timers import fire_timers

__all__ = ["DEFAULT_BUDGET", "Link", "LoadedProgram", "Machine", "PreparedRun", "ProgramLike", "RunResult",
           "Runtime", "Tracer", "default_helpers", "run_bytecode"]

#: Instructions one run may execute before it is stopped (a runaway loop).
DEFAULT_BUDGET = 1_000_000

_M32 = (1 << 32) - 1
_M64 = (1 << 64) - 1
_TASK_SIZE = 0x00007FFFFFFFF000


class ProgramLike(Protocol):
    """What :meth:`Machine.load_program` reads from a program (``bpfbuild.obj.Program`` fits)."""

    name: str
    insns: tuple[Instruction, ...]

    @property
    def prog_type(self) -> ProgType | None: ...

    def source_location(self, pc: int) -> SourceLocation | None: ...


@dataclass(frozen=True, slots=True)
class RunResult:
    """What one run produced.

    ``retval`` is r0 as an unsigned 64-bit number (what the kernel's test_run reports is its
    low 32 bits: :attr:`retval32`).  ``printk`` holds this run's trace lines; ``packet`` the
    packet after the run (XDP: from ``data`` to ``data_end``; skb: the whole frame);
    ``ctx`` the context bytes after the run; ``redirect`` what ``bpf_redirect*`` chose.
    """

    retval: int
    printk: tuple[str, ...] = ()
    steps: int = 0
    packet: bytes | None = None
    ctx: bytes | None = None
    meta: bytes | None = None
    redirect: tuple[Any, ...] | None = None
    #: what the run did outside its maps (signals, overridden returns, timers started...):
    #: this run's share of the session's ``effects``
    effects: tuple[dict[str, Any], ...] = ()
    #: the program and pc of the ``exit`` that ended the run (after tail calls: the last
    #: program's), and that instruction's source line when the object has line info
    exit_program: str | None = None
    exit_pc: int | None = None
    exit_location: SourceLocation | None = None

    @property
    def retval32(self) -> int:
        return self.retval & _M32

    @property
    def signed(self) -> int:
        """r0 as a signed 64-bit number."""
        return self.retval - (1 << 64) if self.retval >> 63 else self.retval


class Runtime:
    """Execution state shared by every program of one machine (and read by the helpers)."""

    def __init__(self, session: Session, budget: int,
                 helpers: Mapping[int, Callable[..., int]] | None = None) -> None:
        self.session = session
        #: helper id -> implementation ``(runtime, r1..r5) -> r0`` (default: every emulated helper)
        self.helpers: Mapping[int, Callable[..., int]] = helpers if helpers is not None else default_helpers()
        self.memory: Memory = session.memory
        self.readable = self.memory.readable
        self.writable = self.memory.writable
        self.budget = [budget]
        self.limit = budget
        #: [frames active]: the call depth, shared with the translated code
        self.depth_cell = [0]
        self.tail_calls = 0
        # one key per call depth; a frame's region is mapped while a call at that depth runs
        # (a frameless function, whose frame lives in locals, only counts its depth)
        self.stack_keys = self.memory.new_keys(MAX_CALL_DEPTH)
        self.stack_tops = tuple((key << REGION_SHIFT) + STACK_SIZE for key in self.stack_keys)
        self.frames_described = 0   # frames registered in memory.regions (for messages)
        self.code: dict[int, dict[int, Callable[..., int]]] = {}
        self._helpers: dict[int, Callable[..., int]] = {}
        self.state: ContextState | None = None
        self.cache: TranslationCache | None = None
        self.lines: list[str] = []
        self.redirect: tuple[Any, ...] | None = None
        #: a cgroup program's run_ctx retval (bpf_get_retval / bpf_set_retval), 0 when a run starts
        self.cg_retval = 0
        #: this run's effects (also appended to the session's)
        self.effects: list[dict[str, Any]] = []
        self.ring_records: dict[int, Any] = {}
        #: [pc, linkage] of the last ``exit`` executed (set by the translated code)
        self.last_exit: list[Any] = [None, None]
        #: receives the trace hooks' events while a traced run is under way
        self.tracer: Tracer | None = None

    # --- frames ---------------------------------------------------------------------------

    @property
    def depth(self) -> int:
        return self.depth_cell[0]

    @staticmethod
    def too_deep() -> None:
        raise Trap(f"the call chain is too deep: more than {MAX_CALL_DEPTH} frames "
                   "(bpf-to-bpf calls and callbacks)")

    def push_frame(self) -> int:
        cell = self.depth_cell
        depth = cell[0]
        if depth >= MAX_CALL_DEPTH:
            self.too_deep()
        cell[0] = depth + 1
        key = self.stack_keys[depth]
        if depth >= self.frames_described:
            self.memory.regions[key] = Region(key, RegionKind.STACK, f"frame {depth}", bytearray(STACK_SIZE), True)
            self.frames_described = depth + 1
        self.readable[key] = self.writable[key] = bytearray(STACK_SIZE)
        return self.stack_tops[depth]

    def pop_frame(self) -> None:
        cell = self.depth_cell
        cell[0] -= 1
        key = self.stack_keys[cell[0]]
        # a frameless function's depth has no region (only a fault leaves one for this cleanup)
        self.readable.pop(key, None)
        self.writable.pop(key, None)

    def reset(self, budget: int) -> None:
        while self.depth:
            self.pop_frame()
        self.budget[0] = budget
        self.limit = budget
        self.tail_calls = 0
        self.lines = []
        self.redirect = None
        self.cg_retval = 0
        self.effects = []
        self.last_exit[0] = self.last_exit[1] = None

    # --- calls ----------------------------------------------------------------------------

    def helper(self, ident: int) -> Callable[..., int]:
        fn = self._helpers.get(ident)
        if fn is None:
            impl = self.helpers.get(ident)
            fn = functools.partial(impl, self) if impl is not None else _missing_helper(ident)
            self._helpers[ident] = fn
        return fn

    def code_at(self, ptr: int) -> Callable[..., int]:
        fn = self.code.get(ptr >> REGION_SHIFT, {}).get(ptr & OFFSET_MASK)
        if fn is None:
            raise Trap(f"{ptr:#x} is not the address of a function of a loaded program")
        return fn

    def callx(self, target: int, r1: int, r2: int, r3: int, r4: int, r5: int) -> int:
        table = self.code.get(target >> REGION_SHIFT)
        if table is not None:
            fn = table.get(target & OFFSET_MASK)
            if fn is None:
                raise Trap(f"callx to {target:#x}: not the start of a function")
            return fn(r1, r2, r3, r4, r5)
        if target <= _M32:   # uBPF's convention: the register holds a helper id
            return self.helper(target)(r1, r2, r3, r4, r5) & _M64
        raise Trap(f"callx to {target:#x}: neither a function nor a helper id")

    def tail_call(self, ctx: int, map_ptr: int, index: int) -> Callable[..., int] | None:
        m = self.session.map_at(map_ptr)
        if not isinstance(m, ProgArray):
            raise Trap(f"bpf_tail_call: {map_ptr:#x} is not a program array")
        index &= _M32
        if index >= m.max_entries or self.tail_calls >= MAX_TAIL_CALLS:
            return None
        self.tail_calls += 1
        target = m.get(index)
        if target is None:
            return None
        entry: Callable[..., int] = target.traced_entry if self.tracer is not None else target.entry
        return entry

    def ld_abs(self, size: int, offset: int) -> int | None:
        if self.state is None:
            raise Trap("legacy packet loads need a context")
        return self.state.ld_abs(size, offset)

    # --- helpers' view of the world ---------------------------------------------------------

    def map_at(self, ptr: int) -> Map:
        m = self.session.map_at(ptr)
        if m is None:
            raise Trap(f"{ptr:#x} is not a map")
        return m

    def effect(self, record: dict[str, Any]) -> None:
        """Record what a helper did outside the program's maps (a signal sent...)."""
        self.effects.append(record)
        self.session.effects.append(record)

    def printk(self, text: bytes) -> None:
        line = text.split(b"\0", 1)[0].decode("utf-8", "backslashreplace")
        self.lines.append(line)
        self.session.printk.append(line)

    def read_kernel_bytes(self, addr: int, size: int) -> bytes | None:
        if self.memory.readable_span(addr) >= size:
            return self.memory.read(addr, size)
        if self.memory.region_of(addr) is not None:
            return None
        return self.session.kernel_memory.read(addr, size)

    def read_kernel_string(self, addr: int, limit: int) -> bytes | None:
        """strncpy_from_kernel_nofault: the string (no NUL), at most ``limit - 1`` bytes."""
        if limit <= 0:
            return b""
        span = self.memory.readable_span(addr)
        if span:
            data = self.memory.read(addr, min(span, limit - 1))
            end = data.find(b"\0")
            if end >= 0:
                return data[:end]
            return data if span >= limit - 1 else None
        if self.memory.region_of(addr) is not None:
            return None
        text = self.session.kernel_memory.read_cstr(addr, limit - 1)
        return text

    def read_string(self, addr: int, limit: int, kind: str = "s") -> bytes | None:
        """A string for printf: %s reads user memory below TASK_SIZE unless the address is
        one of the emulator's regions (which are kernel memory); %pks kernel, %pus user."""
        user = kind == "us" or (kind == "s" and addr < _TASK_SIZE and self.memory.region_of(addr) is None)
        return self.read_user_string(addr, limit) if user else self.read_kernel_string(addr, limit)

    def read_user_bytes(self, addr: int, size: int) -> bytes | None:
        return self.session.user_memory.read(addr, size)

    def read_user_string(self, addr: int, limit: int) -> bytes | None:
        if limit <= 0:
            return b""
        return self.session.user_memory.read_cstr(addr, limit - 1)


def default_helpers() -> Mapping[int, Callable[..., int]]:
    """The emulated helpers, read-only (a machine's ``helpers=`` may extend or replace them)."""
    return MappingProxyType(helper_table())


def _missing_helper(ident: int) -> Callable[..., int]:
    name = helper_name(ident)
    what = f"helper {name}#{ident}" if name else f"unknown helper #{ident}"

    def missing(*_: int) -> int:
        raise NotEmulated(what)

    return missing


#: the instructions that can reach a helper (and so change the session)
_CALL_OPCODES = frozenset((InsnClass.JMP | JmpOp.CALL, InsnClass.JMP | JmpOp.CALL | Source.X))

_MEMORY_ERRORS = (KeyError, IndexError, TypeError, struct.error)


class _TracerFailed(BaseException):
    """Carries an exception of the tracer out of a traced run (not an Exception, so the
    translated code's fault handler lets it through)."""

    def __init__(self, exc: Exception) -> None:
        super().__init__(exc)
        self.exc = exc


class Tracer(Protocol):
    """What a traced run reports to (see :class:`bpfbuild.vm.trace.Trace`): one call per
    event, with the linkage of the program it happened in and the registers r0..r10."""

    def entry(self, link: Link, pc: int, regs: tuple[int, ...]) -> None: ...

    def call(self, link: Link, pc: int, regs: tuple[int, ...]) -> None: ...

    def after(self, link: Link, pc: int, regs: tuple[int, ...]) -> None: ...

    def before(self, link: Link, pc: int, regs: tuple[int, ...]) -> None: ...


class Link:
    """One program's bindings: the machine's :class:`~bpfbuild.vm.compiler.ProgramLink`."""

    def __init__(self, rt: Runtime, compiled: CompiledProgram, name: str, maps: Sequence[Map],
                 locate: Callable[[int], SourceLocation | None] | None,
                 line_text: Callable[[int], str | None] | None = None,
                 kfuncs: Mapping[int, str] | None = None) -> None:
        self.rt = rt
        #: pc -> name of the kfunc called there (the object's externs)
        self.kfunc_names = dict(kfuncs or {})
        #: coverage translations count here (see CompiledProgram.counters)
        self.counters = [0] * len(compiled.counters)
        #: pcs where runs of a coverage translation faulted (their block's rest did not run)
        self.faults: list[int] = []
        self.line_text = line_text
        self.last_exit = rt.last_exit
        self.compiled = compiled
        self.name = name
        self.maps = tuple(maps)
        self.locate = locate
        self.readable = rt.readable
        self.writable = rt.writable
        self.budget = rt.budget
        self.push_frame = rt.push_frame
        self.pop_frame = rt.pop_frame
        self.depth = rt.depth_cell
        self.stack_tops = rt.stack_tops
        self.too_deep = rt.too_deep
        self.callx = rt.callx
        self.tail_call = rt.tail_call
        self.ld_abs = rt.ld_abs
        self.code_base = rt.memory.reserve(RegionKind.CODE, name)

    def helper(self, ident: int) -> Callable[..., int]:
        return self.rt.helper(ident)

    def kfunc(self, pc: int, btf_id: int) -> Callable[..., int]:
        name = self.kfunc_names.get(pc)
        impl = kfunc_impl(name) if name is not None else None
        if impl is None:
            what = f"kfunc {name}" if name is not None else f"kfunc call (BTF id {btf_id}, no extern names it)"

            def missing(*_: int) -> int:
                raise NotEmulated(what)
            return missing
        return functools.partial(impl, self.rt)

    # trace hooks (only a traced translation calls them); what the tracer raises (a
    # closed pipe, Ctrl-C) passes through the program's fault handling unchanged
    def _trace(self, event: str, pc: int, regs: tuple[int, ...]) -> None:
        tracer = self.rt.tracer
        if tracer is None:
            return
        try:
            getattr(tracer, event)(self, pc, regs)
        except Exception as exc:
            raise _TracerFailed(exc) from exc

    def trace_entry(self, pc: int, regs: tuple[int, ...]) -> None:
        self._trace("entry", pc, regs)

    def trace_call(self, pc: int, regs: tuple[int, ...]) -> None:
        self._trace("call", pc, regs)

    def trace_after(self, pc: int, regs: tuple[int, ...]) -> None:
        self._trace("after", pc, regs)

    def trace_before(self, pc: int, regs: tuple[int, ...]) -> None:
        self._trace("before", pc, regs)

    def source_location(self, pc: int) -> SourceLocation | None:
        """The source line of ``pc``; for compiler-made code at line 0, the nearest line before."""
        if self.locate is None:
            return None
        for at in range(pc, -1, -1):
            loc = self.locate(at)
            if loc is None:
                return None
            if loc.line:
                return loc
        return None

    @staticmethod
    def trap(message: str) -> int:
        # the translator's "... is/are not emulated" traps (kfunc calls, arena casts) are
        # limits of the emulator, not faults of the program
        for tail in (" are not emulated", " is not emulated"):
            if tail in message:
                head, _, rest = message.partition(tail)
                raise NotEmulated(head + rest)
        raise Trap(message)

    def out_of_budget(self, pc: int) -> None:
        raise Trap(f"the step budget of {self.rt.limit} instructions is exhausted (an endless loop?)")

    def pseudo(self, pc: int, src: int, imm: int, imm_hi: int) -> int | Trap:
        """The value of a pseudo ``ld_imm64``: a map's pointer or the address of its value."""
        match src:
            case PseudoLoad.MAP_FD | PseudoLoad.MAP_IDX:
                if not 0 <= imm < len(self.maps):
                    return Trap(f"ld_imm64 refers to map #{imm}, but the program has {len(self.maps)} maps")
                return self.maps[imm].ptr
            case PseudoLoad.MAP_VALUE | PseudoLoad.MAP_IDX_VALUE:
                if not 0 <= imm < len(self.maps):
                    return Trap(f"ld_imm64 refers to map #{imm}, but the program has {len(self.maps)} maps")
                m = self.maps[imm]
                offset = imm_hi & _M32
                if not isinstance(m, ArrayMap) or m.per_cpu or m.max_entries != 1:
                    return Trap(f"map {m.name} ({m.type.name.lower()}, {m.max_entries} entries) has no "
                                "directly addressable value")
                if offset >= m.value_size:
                    return Trap(f"offset {offset} is outside the {m.value_size}-byte value of map {m.name}")
                return m.value_address(0) + offset
            case PseudoLoad.BTF_ID:
                return NotEmulated(f"ld_imm64 of a kernel variable (BTF id {imm})")
        return Trap(f"ld_imm64 with pseudo source {src} is not emulated")

    def fault(self, exc: BaseException, regs: tuple[int, ...], entry: int, at: int | None = None) -> VMError:
        """Turn an exception raised in a translated frame into the VMError to report (``at``:
        the pc, when the exception's traceback does not tell it: the C backend)."""
        if isinstance(exc, NotEmulated) and exc.pc is None:
            tb = exc.__traceback__
            pc = at if at is not None else self.compiled.pc_of_line(tb.tb_lineno if tb is not None else -1)
            if pc < 0:
                return exc
            if self.counters:
                self.faults.append(pc)
            located = NotEmulated(exc.what, pc=pc, location=self.source_location(pc))
            located.__suppress_context__ = True
            return located
        if isinstance(exc, VMError):
            if self.counters:   # a callee faulted: this frame's block stopped at the call
                tb = exc.__traceback__   # its head is this frame, at the call
                pc = self.compiled.pc_of_line(tb.tb_lineno if tb is not None else -1)
                if pc >= 0:
                    self.faults.append(pc)
            return exc
        tb = exc.__traceback__
        pc = at if at is not None else self.compiled.pc_of_line(tb.tb_lineno if tb is not None else -1)
        if self.counters and pc >= 0:
            self.faults.append(pc)
        slots = self.compiled.slots
        insn = slots[pc] if 0 <= pc < len(slots) else None
        internal = False
        if isinstance(exc, Trap):
            what = exc.message
        elif isinstance(exc, RecursionError):
            what = "the emulator's Python stack overflowed"
        elif insn is not None and isinstance(exc, _MEMORY_ERRORS) and _is_memory_access(insn):
            what = _explain_access(self.rt.memory, insn, regs)
        else:
            internal = True
            what = f"internal emulator error: {type(exc).__name__}: {exc}"
        text = f"`{insn}`" if insn is not None else "?"
        regs_text = " ".join(f"r{i}={v:#x}" for i, v in enumerate(regs))
        location = self.source_location(pc) if pc >= 0 else None
        where = f"insn {pc} " if location is not None else ""
        err = VMError(f"{where}{text}: {what} [{regs_text}]", pc=pc if pc >= 0 else None,
                      location=location)
        if internal:
            err.__cause__ = exc
        else:
            err.__suppress_context__ = True
        return err


def _is_memory_access(insn: Instruction) -> bool:
    cls = insn.opcode & CLASS_MASK
    return cls in (InsnClass.LDX, InsnClass.ST, InsnClass.STX)


def _explain_access(memory: Memory, insn: Instruction, regs: tuple[int, ...]) -> str:
    cls = insn.opcode & CLASS_MASK
    size = insn.access_size
    if cls == InsnClass.LDX:
        return memory.explain((regs[insn.src] + insn.off) & _M64, size, "read")
    atomic = cls == InsnClass.STX and insn.opcode & MODE_MASK == Mode.ATOMIC
    return memory.explain((regs[insn.dst] + insn.off) & _M64, size,
                          "atomic access" if atomic else "write", write=True)


@dataclass(eq=False)
class LoadedProgram:
    """A program linked into a machine: call :attr:`entry` with r1..r5 to run it."""

    name: str
    prog_type: ProgType | None
    insns: tuple[Instruction, ...]
    compiled: CompiledProgram
    linkage: Link
    functions: dict[int, Callable[..., int]]
    _traced: dict[int, Callable[..., int]] | None = None
    #: the C backend's entry (None: the program runs on the Python translation)
    native: Callable[..., int] | None = None
    #: the expected attach type its section gives (``bpf_attach_type``; None: unknown)
    attach_type: int | None = None

    @property
    def backend(self) -> str:
        return "c" if self.native is not None else "python"

    @property
    def entry(self) -> Callable[..., int]:
        if self.native is not None:
            return self.native
        fn = self.functions.get(0)
        if fn is None:
            raise VMError(f"program {self.name} is empty")
        return fn

    @property
    def traced_entry(self) -> Callable[..., int]:
        """The entry of the traced translation (linked on first use)."""
        if self._traced is None:
            link = self.linkage
            compiled = compile_program(self.insns, trace=True, cache=link.rt.cache)
            traced = Link(link.rt, compiled, self.name, link.maps, link.locate, link.line_text,
                          link.kfunc_names)
            self._traced = compiled.factory(traced)
            link.rt.code[traced.code_base >> REGION_SHIFT] = self._traced
        fn = self._traced.get(0)
        if fn is None:
            raise VMError(f"program {self.name} is empty")
        return fn

    def source_location(self, pc: int) -> SourceLocation | None:
        return self.linkage.source_location(pc)


class Machine:
    """Programs linked into a :class:`Session`; :meth:`run` runs one of them.

    ``budget`` (default :data:`DEFAULT_BUDGET`) caps the instructions one run executes.
    Two machines never interfere; two machines sharing a session share its maps.
    """

    def __init__(self, session: Session | None = None, *, budget: int = DEFAULT_BUDGET,
                 helpers: Mapping[int, Callable[..., int]] | None = None,
                 cache: TranslationCache | None = None, backend: str | None = None) -> None:
        self.session = session if session is not None else Session()
        #: "python", or "c": programs the C backend can build run natively (the others, and
        #: coverage or traced runs, on the Python translation); default $BPFBUILD_VM_BACKEND
        self.backend = backend or os.environ.get("BPFBUILD_VM_BACKEND") or "python"
        if self.backend not in ("python", "c"):
            raise VMError(f"unknown emulator backend {self.backend!r} (python, c)")
        self.budget = budget
        self.runtime = Runtime(self.session, budget, helpers)
        #: where translations are memoised (default: the process-wide pure cache)
        self.cache = cache
        self.runtime.cache = cache
        self.programs: dict[str, LoadedProgram] = {}
        self._kept: dict[tuple[Any, ...], PreparedRun] = {}
        #: load the coverage translations: each program's ``link.counters`` count executed
        #: blocks and both sides of every conditional jump (:mod:`bpfbuild.vm.coverage`)
        self.coverage = False

    @classmethod
    def from_object(cls, spec: Any, *, session: Session | None = None, budget: int = DEFAULT_BUDGET,
                    coverage: bool = False, backend: str | None = None) -> Machine:
        """Create every map of an ``ObjectSpec`` in the session, load every program, and fill
        program arrays from their initial slots (``MapSpec.values``).  ``coverage=True`` loads
        the counting translations (see :meth:`load`)."""
        machine = cls(session, budget=budget, backend=backend)
        machine.coverage = coverage
        maps = [machine.session.create_map(m) for m in spec.maps]
        btf = getattr(spec, "btf", None)
        for mspec, m in zip(spec.maps, maps, strict=True):
            if btf is not None and getattr(mspec, "value_type_id", 0):
                m.set_record(parse_record(btf, mspec.value_type_id))
        for program in spec.programs:
            machine.load_program(program, maps=maps)
        for mspec, m in zip(spec.maps, maps, strict=True):
            for index, target in getattr(mspec, "values", ()):
                if isinstance(m, ProgArray) and target in machine.programs:
                    m.update(index, machine.programs[target])
                elif isinstance(m, MapInMap) and target in machine.session.maps:
                    m.update(index, machine.session.maps[target])
        return machine

    @property
    def maps(self) -> dict[str, Map]:
        return self.session.maps

    def load_program(self, program: ProgramLike, *, maps: Sequence[Map] = ()) -> LoadedProgram:
        """Load an object's program (``bpfbuild.obj.Program``): its instructions as relocated,
        map ``ld_imm64`` immediates indexing ``maps``, source lines from its line info."""
        line_at = getattr(program, "line_at", None)

        def line_text(pc: int) -> str | None:
            rec = line_at(pc) if line_at is not None else None
            return rec.line_text if rec is not None else None

        info = getattr(program, "section_info", None)
        eat = info.expected_attach_type if info is not None else None
        return self.load(program.insns, name=program.name, prog_type=program.prog_type, maps=maps,
                         locate=program.source_location, line_text=line_text if line_at is not None else None,
                         kfuncs=dict(getattr(program, "kfunc_calls", ())),
                         attach_type=int(eat) if eat is not None else None)

    def load(self, insns: Sequence[Instruction] | bytes, *, name: str = "prog",
             prog_type: ProgType | int | None = None, maps: Sequence[Map] = (),
             locate: Callable[[int], SourceLocation | None] | None = None,
             line_text: Callable[[int], str | None] | None = None,
             kfuncs: Mapping[int, str] | None = None, attach_type: int | None = None) -> LoadedProgram:
        """Load instructions (or their bytes) under ``name``; map references are indexes
        into ``maps``; ``kfuncs`` names the kfunc each kfunc call calls (pc -> name, as
        ``Program.kfunc_calls``); ``attach_type`` is its expected attach type (fexit programs
        read their function's return value, cgroup storage is per attach type).  Translation is cached, so loading the same code again is cheap."""
        if isinstance(insns, (bytes, bytearray, memoryview)):
            try:
                insns = decode_program(bytes(insns))
            except DecodeError as exc:
                raise VMError(f"program {name}: {exc.message}", pc=exc.pc) from None
        ptype = ProgType(prog_type) if prog_type is not None else None
        compiled = compile_program(tuple(insns), coverage=self.coverage, cache=self.cache)
        link = Link(self.runtime, compiled, name, maps, locate, line_text, kfuncs)
        functions = compiled.factory(link)
        self.runtime.code[link.code_base >> REGION_SHIFT] = functions
        loaded = LoadedProgram(name, ptype, tuple(insns), compiled, link, functions, attach_type=attach_type)
        if self.backend == "c" and not self.coverage and insns:
            from bpfbuild.vm.cbackend import SHARED_C, CLink
            native = SHARED_C.get(tuple(insns))
            if native is not None and 0 in native.functions:
                loaded.native = CLink(native, link).entry(0)
        self.programs[name] = loaded
        return loaded

    def program(self, name: str | None = None) -> LoadedProgram:
        if name is None:
            if len(self.programs) != 1:
                raise VMError(f"name the program to run: this machine has {len(self.programs)} "
                              f"({', '.join(self.programs) or 'none'})")
            return next(iter(self.programs.values()))
        try:
            return self.programs[name]
        except KeyError:
            raise VMError(no_such("program", name, self.programs)) from None

    def run(self, program: str | LoadedProgram | None = None, ctx: Context | None = None, *,
            packet: bytes | None = None, args: Sequence[int] | None = None,
            budget: int | None = None, trace: Tracer | None = None) -> RunResult:
        """Run a program once.

        The context is ``ctx`` if given, else the program type's default context built from
        ``packet`` / ``args`` (see :func:`bpfbuild.vm.context.context_for`).  With ``trace``
        (e.g. a :class:`bpfbuild.vm.trace.Trace`) the run uses the traced translation and
        reports every executed instruction to it.
        """
        prog = program if isinstance(program, LoadedProgram) else self.program(program)
        if ctx is None:
            ctx = context_for(prog.prog_type, packet=packet, args=args)
        rt = self.runtime
        limit = self.budget if budget is None else budget
        if trace is None:
            prepared = self._prepared(prog, ctx, limit)
            if prepared is not None:
                prepared()
                return prepared.result()
        rt.reset(limit)
        try:
            state = make_state(self.session.memory, prog.prog_type, ctx, prog.attach_type)
        except Trap as exc:
            raise VMError(f"program {prog.name}: bad context: {exc.message}") from None
        rt.state = state
        rt.tracer = trace
        try:
            entry = prog.traced_entry if trace is not None else prog.entry
            try:
                r0 = entry(state.ctx_addr)
            except _TracerFailed as failed:
                raise failed.exc from None
            exit_pc, exit_link = rt.last_exit
            location = exit_link.source_location(exit_pc) if exit_link is not None else None
            return RunResult(retval=r0 & _M64, printk=tuple(rt.lines), steps=limit - rt.budget[0],
                             packet=state.packet_out(), ctx=state.ctx_out(), meta=state.meta_out(),
                             redirect=rt.redirect, effects=tuple(rt.effects),
                             exit_program=exit_link.name if exit_link else None,
                             exit_pc=exit_pc, exit_location=location)
        finally:
            rt.tracer = None
            self._end_run(state)

    #: inputs whose setup :meth:`run` keeps for the next run on an equal input
    KEEP_PREPARED = 8

    def _prepared(self, prog: LoadedProgram, ctx: Context, limit: int) -> PreparedRun | None:
        """The kept setup of ``prog`` on ``ctx`` (made now if new; None: ``ctx`` cannot be a key).
        A run on a kept setup sees exactly what a fresh one would (see :class:`PreparedRun`)."""
        try:
            key = (prog, ctx, limit)
            prepared = self._kept.get(key)
        except TypeError:   # an unhashable context
            return None
        if prepared is None:
            prepared = self._kept[key] = PreparedRun(self, prog, ctx, limit)
            if len(self._kept) > self.KEEP_PREPARED:
                self._kept.pop(next(iter(self._kept))).close()
        return prepared

    def prepare(self, program: str | LoadedProgram | None = None, ctx: Context | None = None, *,
                packet: bytes | None = None, args: Sequence[int] | None = None,
                budget: int | None = None) -> PreparedRun:
        """Set up a run once and repeat it cheaply: ``prepared()`` runs the program again on
        the same input (the context and packet bytes restored in place) and returns r0;
        :meth:`PreparedRun.result` gives the full :class:`RunResult` of the last call."""
        prog = program if isinstance(program, LoadedProgram) else self.program(program)
        if ctx is None:
            ctx = context_for(prog.prog_type, packet=packet, args=args)
        return PreparedRun(self, prog, ctx, self.budget if budget is None else budget)

    def fire_timers(self, until_ns: int | None = None) -> int:
        """Run the callbacks of the session's pending ``bpf_timer``s that are due by
        ``until_ns`` (default: all), in order of expiry (see :mod:`bpfbuild.vm.timers`); how
        many ran.  The session's clock moves to each timer's expiry."""
        rt = self.runtime
        return fire_timers(rt, lambda: rt.reset(self.budget), self._end_callbacks, until_ns)

    def _end_callbacks(self) -> None:
        rt = self.runtime
        for addr in list(rt.ring_records):   # records a faulting run left reserved: discard them
            rb = rt.ring_records.pop(addr)
            rb.commit(addr, True)
        for m in self.session.maps.values():
            if m.retired:
                m.end_run()
        while rt.depth:
            rt.pop_frame()

    def _end_run(self, state: ContextState) -> None:
        rt = self.runtime
        state.release()
        rt.state = None
        self._end_callbacks()


def _no_fields(_: Any) -> tuple[()]:
    return ()


def _no_call() -> None:
    return None


def _put_back(buf: bytearray, snap: bytes) -> None:
    if len(buf) == len(snap):
        memoryview(buf)[:] = snap   # in place, without bytearray's slice-assignment overhead
    else:
        buf[:] = snap


class PreparedRun:
    """One program on one input, mapped once (see :meth:`Machine.prepare`).

    Between calls the context's regions stay mapped; before each call their bytes (and the
    state's plain fields) are put back as they were after setup.  A run that remapped them
    (``bpf_xdp_adjust_head``...) makes the next call set the input up afresh, so every call
    sees exactly what :meth:`Machine.run` would give it.
    """

    def __init__(self, machine: Machine, prog: LoadedProgram, ctx: Context, budget: int) -> None:
        self.machine = machine
        self.prog = prog
        self.ctx = ctx
        self.budget = budget
        self.entry = prog.entry
        self.state: ContextState | None = None
        self._mapped: list[int] = []
        self._bytes: list[tuple[bytearray, bytes]] = []
        self._fields: dict[str, Any] = {}
        self._get_fields: Callable[[Any], Any] = _no_fields
        self._field_values: Any = ()
        self.runtime = machine.runtime
        self.maps = machine.session.maps
        self.retval = 0
        self._call: Callable[[], int | None] = _no_call

    def _setup(self) -> ContextState:
        if self.state is not None:
            self.state.release()
        try:
            state = make_state(self.machine.session.memory, self.prog.prog_type, self.ctx,
                               self.prog.attach_type)
        except Trap as exc:
            raise VMError(f"program {self.prog.name}: bad context: {exc.message}") from None
        regions = self.machine.session.memory.regions
        self._mapped = list(state._mapped)
        bufs = {id(regions[a >> REGION_SHIFT].buf): regions[a >> REGION_SHIFT].buf for a in self._mapped}
        fields = {}
        for name, value in vars(state).items():
            if isinstance(value, bytearray):
                bufs[id(value)] = value
            elif isinstance(value, (int, bytes, str, type(None))):
                fields[name] = value
        self._bytes = [(b, bytes(b)) for b in bufs.values()]
        self._fields = fields
        self._get_fields = operator.attrgetter(*fields) if fields else _no_fields
        self._field_values = self._get_fields(state)
        self.state = state
        return state

    def _restore(self) -> ContextState:
        state = self.state
        if state is None or state._mapped != self._mapped:
            return self._setup()
        for buf, snap in self._bytes:
            if buf != snap:   # comparing is cheaper than copying, and most runs write nothing
                _put_back(buf, snap)
        if self._get_fields(state) != self._field_values:
            state.__dict__.update(self._fields)
        return state

    def _fast_call(self, state: ContextState) -> Callable[[], int | None]:
        """One call on ``state`` as set up (None: the input was remapped: set it up again),
        with everything it touches bound once (a prepared call costs little more than the
        program itself)."""
        rt = self.runtime
        mapped, pairs, entry, limit = self._mapped, tuple(self._bytes), self.entry, self.budget
        get_fields, values, fields = self._get_fields, self._field_values, self._fields
        budget, depth, rings, maps = rt.budget, rt.depth_cell, rt.ring_records, self.maps
        ctx_addr = state.ctx_addr

        def call() -> int | None:
            if state._mapped != mapped:
                return None
            for buf, snap in pairs:
                if buf != snap:
                    _put_back(buf, snap)
            if get_fields(state) != values:
                state.__dict__.update(fields)
            budget[0] = rt.limit = limit
            if rt.tail_calls:
                rt.tail_calls = 0
            if rt.lines:
                rt.lines = []
            if rt.redirect is not None:
                rt.redirect = None
            if rt.cg_retval:
                rt.cg_retval = 0
            if rt.effects:
                rt.effects = []
            rt.state = state
            try:
                r0: int = entry(ctx_addr)
            finally:
                rt.state = None
                if rings or depth[0]:
                    for addr in list(rings):
                        rings.pop(addr).commit(addr, True)
                    while depth[0]:
                        rt.pop_frame()
                if maps:
                    for m in maps.values():
                        if m.retired:
                            m.end_run()
            return r0 & _M64

        return call

    def __call__(self) -> int:
        """Run once more; r0 as an unsigned 64-bit number (a fault raises VMError)."""
        r0 = self._call()
        if r0 is None:   # first call, or the last one remapped the input
            self._call = self._fast_call(self._setup())
            r0 = self._call()
            assert r0 is not None
        self.retval = r0
        return r0

    def result(self) -> RunResult:
        """What the last call produced, as :meth:`Machine.run` reports it."""
        rt = self.machine.runtime
        state = self.state
        assert state is not None, "call the prepared run first"
        exit_pc, exit_link = rt.last_exit
        return RunResult(retval=self.retval, printk=tuple(rt.lines), steps=self.budget - rt.budget[0],
                         packet=state.packet_out(), ctx=state.ctx_out(), meta=state.meta_out(),
                         redirect=rt.redirect, effects=tuple(rt.effects),
                         exit_program=exit_link.name if exit_link else None, exit_pc=exit_pc,
                         exit_location=exit_link.source_location(exit_pc) if exit_link is not None else None)

    def close(self) -> None:
        """Unmap the input's regions."""
        if self.state is not None:
            self.state.release()
            self.state = None


def run_bytecode(code: bytes, mem: bytes = b"", *, budget: int = DEFAULT_BUDGET,
                 cache: TranslationCache | None = None, backend: str = "python") -> int:
    """Run raw instructions; return r0 as an unsigned 64-bit number.

    r1 = the address of a writable copy of ``mem`` (0 when it is empty), r2 = ``len(mem)``,
    r10 = the top of a 512-byte stack.  Helpers are those of a default :class:`Session`
    (no maps).  Any fault, and bytes that are not valid instructions, raise VMError.
    The translation and the run's setup (session, linked program) are cached per ``code``
    and put back to their initial state before each call, so every call sees exactly what
    a fresh session gives and repeated calls cost microseconds.
    ``backend="c"`` runs the C translation when it can be built (see vm.cbackend).
    """
    code = bytes(code)
    runner = _RUNNERS.get((code, backend)) if cache is None else None
    if runner is None:
        runner = _BytecodeRunner(code, cache, backend)
        if cache is None:
            _RUNNERS[(code, backend)] = runner
            if len(_RUNNERS) > _RUNNERS_KEPT:
                del _RUNNERS[next(iter(_RUNNERS))]
    if not runner.lock.acquire(blocking=False):   # in use (another thread, or a re-entrant call)
        runner = _BytecodeRunner(code, cache, backend)
        runner.lock.acquire()
    try:
        return runner.run(bytes(mem), budget)
    finally:
        runner.lock.release()


_RUNNERS_KEPT = 256
#: run_bytecode's set-up runs by (code, backend), oldest first; each one is put back to its
#: initial state before every call, so sharing them changes no result
_RUNNERS: dict[tuple[bytes, str], _BytecodeRunner] = {}


class _BytecodeRunner:
    """One program's run_bytecode setup, reset before each call: the session's helper
    inputs, the runtime, the input region (mapped at the same address every time)."""

    def __init__(self, code: bytes, cache: TranslationCache | None, backend: str) -> None:
        try:
            compiled = (cache or SHARED_CACHE).get_bytes(code)
        except DecodeError as exc:
            raise VMError(exc.message, pc=exc.pc) from None
        self.lock = threading.Lock()
        self.session = session = Session()
        self.rt = rt = Runtime(session, DEFAULT_BUDGET)
        link = Link(rt, compiled, "bytecode", (), None)
        functions = compiled.factory(link)
        entry = functions.get(0)
        if entry is None:
            raise VMError("empty program")
        rt.code[link.code_base >> REGION_SHIFT] = functions
        if backend == "c":
            from bpfbuild.vm.cbackend import SHARED_C, CLink
            native = SHARED_C.get(compiled.insns)
            if native is not None and 0 in native.functions:
                entry = CLink(native, link).entry(0)
        self.entry = entry
        self.mem_key = session.memory.new_key()
        # what a helper may change in the session (the clock, the random generator, printk
        # and seq output...): put back before each call when the program calls helpers
        self.helpers = any(insn.opcode in _CALL_OPCODES for insn in compiled.insns)
        self.next_key = session.memory._next_key   # regions a helper maps later are dropped again
        self.initial = dict(vars(session))
        self.empty = {name: type(value) for name, value in self.initial.items()
                      if isinstance(value, (list, dict, bytearray, set))}
        if any(self.initial[name] for name in self.empty):   # pragma: no cover - Session starts empty
            raise VMError("internal emulator error: a new session holds state")

    def _reset_session(self) -> None:
        memory = self.session.memory
        if memory._next_key != self.next_key:
            for key in [k for k in memory.regions if k >= self.next_key]:
                memory.unmap(key << REGION_SHIFT)
            memory._next_key = self.next_key
        fields = vars(self.session)
        if fields.keys() != self.initial.keys():
            for name in [n for n in fields if n not in self.initial]:
                del fields[name]
        for name, value in self.initial.items():
            kind = self.empty.get(name)
            if kind is None:
                if fields.get(name, fields) is not value:
                    fields[name] = value
            elif fields.get(name):
                fields[name] = kind()

    def run(self, mem: bytes, budget: int) -> int:
        rt = self.rt
        rt.reset(budget)
        if self.helpers:
            self._reset_session()
        if rt.frames_described:   # as in a fresh session, frames are described as first used
            for key in rt.stack_keys:
                rt.memory.regions.pop(key, None)
            rt.frames_described = 0
        state = MemState(self.session.memory, mem, key=self.mem_key)
        rt.state = state
        try:
            return int(self.entry(state.ctx_addr, len(mem))) & _M64
        finally:
            rt.state = None
            state.release()
            while rt.depth_cell[0]:
                rt.pop_frame()
            for addr in list(rt.ring_records):
                rt.ring_records.pop(addr).commit(addr, True)

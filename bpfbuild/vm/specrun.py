"""Running test specs in the emulator, and saying what went wrong in words.

:func:`run_spec` runs every case of a :class:`~bpfbuild.vm.testspec.TestSpec` against an object
(each case in a fresh session) and returns a :class:`SpecResult`; :func:`smoke_run` is what a
program without a spec gets: each program once on a default input, failing only if it faults.

A :class:`Failure` knows where the broken expectation is written (``spec:line:col``), what was
expected and what came out, the ``bpf_printk`` lines of the case, and the source line of the
last instruction executed (the ``exit`` that ended the run, or the faulting instruction);
:meth:`Failure.render` prints it the way compilers print diagnostics::

    programs/tc_port_filter.test.toml:14:1: error: case "UDP to port 9 is dropped": retval: expected TC_ACT_SHOT (2), got TC_ACT_OK (0)
    programs/tc_port_filter.bpf.c:40:1: note: last instruction executed: insn 52 `exit` (tc_port_filter)
        expected: TC_ACT_SHOT (2)
        got:      TC_ACT_OK (0)
        printk:   (none)
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bpfbuild.abi.ctx import return_constants
from bpfbuild.abi.progtypes import ProgType
from bpfbuild.btf import types as bt
from bpfbuild.errors import BpfBuildError, NotEmulated, SpecError, VMError, no_such
from bpfbuild.location import SourceLocation, shown_path
from bpfbuild.vm.api import EmulatedObject, TypedMap
from bpfbuild.vm.coverage import Coverage
from bpfbuild.vm.kobjects import (
    current_task,
    function_params,
    kernel_type,
    target_btf_of,
    typed_args,
)
from bpfbuild.vm.machine import DEFAULT_BUDGET, Machine, RunResult
from bpfbuild.vm.maps import ArrayMap, PerfEventArray, ProgArray, RingBuf
from bpfbuild.vm.packet import build_packet, describe_packet, parse_hex
from bpfbuild.vm.propspec import NS, evaluate, snapshot
from bpfbuild.vm.session import Session
from bpfbuild.vm.testspec import CaseSpec, Expect, RunSpec, TestSpec
from bpfbuild.vm.typed import BtfType, Layout, RawType, ValueType, btf_type_named, same_value

__all__ = ["CaseResult", "Failure", "RunRecord", "SpecResult", "case_object", "retval_name", "retval_text", "run_case",
           "run_spec", "smoke_run"]

_M32 = (1 << 32) - 1
_M64 = (1 << 64) - 1


# --- results ------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Failure:
    """One broken expectation (or an unexpected fault)."""

    location: SourceLocation | None   # where the expectation is written (None: a smoke run)
    case: str
    message: str
    expected: str | None = None
    actual: str | None = None
    printk: tuple[str, ...] = ()
    last: SourceLocation | None = None   # source line of the last executed instruction
    last_insn: str | None = None         # "insn 52 `exit` (tc_port_filter)"

    def render(self, root: str | os.PathLike[str] | None = None) -> str:
        """``file:line:col: error: ...`` then a note at the last instruction, expected, got, printk."""
        where = _relative(self.location, root) if self.location is not None else None
        head = f"{where}: error: " if where else "error: "
        out = [f"{head}case \"{self.case}\": {self.message}"]
        if self.last is not None or self.last_insn:
            note = f"last instruction executed: {self.last_insn}" if self.last_insn else "last instruction executed"
            out.append(f"{_relative(self.last, root)}: note: {note}" if self.last is not None else f"note: {note}")
        if self.expected is not None:
            out.append(_labelled("expected", self.expected))
        if self.actual is not None:
            out.append(_labelled("got", self.actual))
        if not self.message.startswith("printk"):
            out.append(_labelled("printk", "\n".join(self.printk) if self.printk else "(none)"))
        return "\n".join(out)


def _labelled(label: str, text: str) -> str:
    lines = text.splitlines() or [""]
    pad = " " * 14
    first = f"    {label + ':':<10}{lines[0]}"
    return "\n".join([first, *(pad + line for line in lines[1:])])


def _relative(location: SourceLocation | None, root: str | os.PathLike[str] | None) -> str:
    if location is None:
        return ""
    if root is None:
        return str(location)
    return str(dataclasses.replace(location, file=shown_path(location.file, root)))


@dataclass(frozen=True, slots=True)
class RunRecord:
    """What one run did: its inputs as run, the result (or the fault)."""

    run: RunSpec
    program: str
    packet: bytes | None
    result: RunResult | None          # the last repetition's result (printk and steps of all)
    error: VMError | None = None


@dataclass(frozen=True)
class CaseResult:
    name: str
    failures: tuple[Failure, ...]
    runs: tuple[RunRecord, ...] = ()
    printk: tuple[str, ...] = ()
    case: CaseSpec | None = None
    obj: EmulatedObject | None = field(default=None, repr=False)
    #: what the emulator lacked to run the case (a helper, kfunc or map type), if anything:
    #: a smoke run that stops there passes with this warning; a spec case fails
    not_emulated: str | None = None

    @property
    def ok(self) -> bool:
        return not self.failures


@dataclass(frozen=True)
class SpecResult:
    """A spec's (or a smoke run's) outcome for one object."""

    object_path: str | None
    spec_path: str | None                  # None: no spec, a smoke run
    cases: tuple[CaseResult, ...]

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.cases)

    @property
    def failures(self) -> tuple[Failure, ...]:
        return tuple(f for c in self.cases for f in c.failures)

    @property
    def not_emulated(self) -> tuple[str, ...]:
        """What the emulator lacked, once each, in the order met."""
        return tuple(dict.fromkeys(c.not_emulated for c in self.cases if c.not_emulated))

    def summary(self) -> str:
        if self.spec_path is None:
            runs = ", ".join(f"{r.program} returned {retval_text(r.result, _prog_type(c, r.program))}"
                             for c in self.cases for r in c.runs if r.result)
            skipped = [f"{c.name}: not emulated: {c.not_emulated}" for c in self.cases if c.not_emulated]
            parts = [runs] if runs else []
            parts += skipped
            state = "passed" if self.ok else "FAILED"
            return f"no spec (smoke run {state}{': ' + '; '.join(parts) if parts else ''})"
        passed = sum(c.ok for c in self.cases)
        total = len(self.cases)
        if self.ok:
            return f"{total} case{'s' if total != 1 else ''} passed"
        return f"{total - passed} of {total} case{'s' if total != 1 else ''} FAILED"


def _prog_type(case: CaseResult, program: str) -> ProgType | None:
    if case.obj is None or program not in case.obj.machine.programs:
        return None
    return case.obj.machine.programs[program].prog_type


# --- values ------------------------------------------------------------------------------------

def _retval_names(prog_type: ProgType | None) -> dict[str, int]:
    return dict(return_constants(prog_type)) if prog_type is not None else {}


def retval_name(result: RunResult | int, prog_type: ProgType | None) -> str | None:
    """The name of a return value for the program type (``XDP_PASS``), None if it has none."""
    value = result.retval if isinstance(result, RunResult) else result & _M64
    if value >> 32 not in (0, _M32):
        return None
    for name, number in _retval_names(prog_type).items():
        if number & _M32 == value & _M32:
            return name
    return None


def retval_text(result: RunResult | int, prog_type: ProgType | None) -> str:
    """``XDP_PASS (2)`` (a name when the program type has one for the value), or the number."""
    value = result.retval if isinstance(result, RunResult) else result & _M64
    low = value & _M32
    signed = low - (1 << 32) if low >> 31 else low
    for name, number in _retval_names(prog_type).items():
        if number & _M32 == low and value >> 32 in (0, _M32):
            return f"{name} ({signed if number < 0 else low})"
    if value >> 32 not in (0, _M32):
        return f"{value:#x}"
    return str(signed) if signed < 0 and value >> 32 == _M32 else str(low)


def _expected_retval(expected: int | str, prog_type: ProgType | None, at: SourceLocation | None) -> int:
    if isinstance(expected, int):
        return expected
    names = _retval_names(prog_type)
    if expected in names:
        return names[expected]
    kind = prog_type.name.lower() if prog_type is not None else "this"
    known = ", ".join(names) or "none: give a number"
    raise SpecError(f"retval: {expected!r} is not a return value of {kind} programs (names: {known})",
                    location=at)


def _retval_matches(expected: int, result: RunResult) -> bool:
    if -(1 << 31) <= expected < (1 << 32):
        return expected & _M32 == result.retval32
    return expected & _M64 == result.retval


def _show(value: Any) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{k} = {_show(v)}" for k, v in value.items()) + " }"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    return str(value)


def _key_is_int(vtype: ValueType) -> bool:
    if isinstance(vtype, RawType):
        return vtype.size in (1, 2, 4, 8)
    if isinstance(vtype, BtfType):
        return isinstance(vtype.spec.resolve(vtype.type_id), (bt.Int, bt.Enum, bt.Enum64))
    return False


def _map_key(tm: TypedMap, key: Any, at: SourceLocation | None) -> bytes:
    """A key as a spec writes it (a TOML table key is text: "6", "0x11", an enum name)."""
    try:
        if isinstance(key, str) and _key_is_int(tm.key_type):
            try:
                key = int(key, 0)
            except ValueError:
                pass   # an enumerator name
        elif isinstance(key, str) and isinstance(tm.key_type, BtfType):
            raise SpecError(f"map {tm.name}: a {tm.key_type.name} key cannot be written as text: use "
                            "a list of { key = {...}, value = ... }")
        return tm.key_type.encode(key)
    except SpecError as exc:
        raise SpecError(f"map {tm.name}: key {_show(key)}: {exc.message}", location=at) from None


def _entries(contents: Any, what: str, at: SourceLocation | None) -> list[tuple[Any, Any]]:
    if isinstance(contents, Mapping):
        return list(contents.items())
    out = []
    for item in contents:
        if not isinstance(item, Mapping) or set(item) != {"key", "value"}:
            raise SpecError(f"{what}: each element must be {{ key = ..., value = ... }}, not {_show(item)}",
                            location=at)
        out.append((item["key"], item["value"]))
    return out


def _typed_map(obj: EmulatedObject, name: str, at: SourceLocation | None) -> TypedMap:
    try:
        return obj.maps[name]
    except KeyError:
        raise SpecError(f"the object has {no_such('map', name, obj.maps)}",
                        location=at) from None


def _record_type(obj: EmulatedObject, spec: Mapping[str, Any], at: SourceLocation | None) -> ValueType | None:
    try:
        if "layout" in spec:
            return Layout.parse(spec["layout"])
        if "type" in spec:
            if obj.spec.btf is None:
                raise SpecError("the object has no BTF: give a layout instead of a type")
            return btf_type_named(obj.spec.btf, spec["type"])
    except SpecError as exc:
        raise SpecError(exc.message, location=at) from None
    return None


# --- running a case ----------------------------------------------------------------------------

def _kernel_memory(objspec: Any, entries: Sequence[Mapping[str, Any]], at: SourceLocation | None) -> dict[int, bytes]:
    memory: dict[int, bytes] = {}
    for entry in entries:
        address = entry["address"]
        try:
            if "hex" in entry:
                data = parse_hex(entry["hex"], "kernel_memory hex")
            else:
                if "layout" in entry:
                    vtype: ValueType = Layout.parse(entry["layout"])
                else:
                    vtype = kernel_type(objspec, entry["type"])
                data = vtype.encode(entry["value"])
            size = entry.get("size")
            if size is not None:
                data = data.ljust(size, b"\0")
        except SpecError as exc:
            raise SpecError(f"kernel_memory at {address:#x}: {exc.message}", location=at) from None
        memory[address] = data
    ranges = sorted((a, a + len(d)) for a, d in memory.items())
    for (start, end), (nxt, _) in itertools.pairwise(ranges):
        if nxt < end:
            raise SpecError(f"kernel_memory: {start:#x}..{end:#x} overlaps the entry at {nxt:#x}", location=at)
    return memory


def case_object(objspec: Any, case: CaseSpec, *, budget: int | None = None, coverage: bool = False) -> EmulatedObject:
    """A fresh emulated object for ``case``: its world, kernel memory, seeded globals and maps."""
    at = case.where.get("kernel_memory", case.location)
    world = dict(case.world)
    if "task" in world:
        world["kernel_btf"] = target_btf_of(objspec)
    memory = _kernel_memory(objspec, case.kernel_memory, at)
    try:
        session = Session(**world, kernel_memory=memory)
    except (TypeError, BpfBuildError) as exc:
        raise SpecError(f"world: {exc}", location=case.where.get("world", case.location)) from None
    if session.task_fields is not None:   # built now, so a wrong member is an error at the spec
        fields = {"pid": session.pid, "tgid": session.tgid, "comm": session.comm[:15], **session.task_fields}
        try:
            session.task_object = current_task(session.memory, session.kernel_btf, fields)
        except SpecError as exc:
            raise SpecError(exc.message, location=case.where.get("world", case.location)) from None
    limit = case.budget or budget or DEFAULT_BUDGET
    obj = EmulatedObject(objspec, Machine.from_object(objspec, session=session, budget=limit, coverage=coverage))
    for name, value in case.globals.items():
        where = case.where.get(f"globals.{name}", case.location)
        if name not in obj.globals:
            raise SpecError(f"the object has no global variable {name!r} (globals: "
                            f"{', '.join(obj.globals) or 'none'})", location=where)
        try:
            obj.globals[name] = value
        except SpecError as exc:
            raise SpecError(f"globals.{name}: {exc.message}", location=where) from None
    for name, contents in case.maps.items():
        where = case.where.get(f"maps.{name}", case.location)
        tm = _typed_map(obj, name, where)
        for key, value in _entries(contents, f"maps.{name}", where):
            raw_key = _map_key(tm, key, where)
            try:
                _update(tm, raw_key, value)
            except SpecError as exc:
                raise SpecError(f"maps.{name}: {exc.message}", location=where) from None
            except NotEmulated:
                raise
            except VMError as exc:
                raise SpecError(f"maps.{name}: {exc.message}", location=where) from None
    return obj


def _update(tm: TypedMap, raw_key: bytes, value: Any) -> None:
    """Set one element from a spec value (program arrays: a program name)."""
    raw = tm.raw
    if isinstance(raw, ProgArray):
        if not isinstance(value, str) or value not in tm.obj.machine.programs:
            raise SpecError(f"a program array's value is a program name ({', '.join(tm.obj.programs)}), "
                            f"not {_show(value)}")
        raw.update(raw_key, tm.obj.machine.programs[value])
        return
    if raw.per_cpu and isinstance(value, list):
        raw.update(raw_key, [tm.value_type.encode(v) for v in value])
        return
    current = raw.lookup(raw_key)
    base = bytes(current) if isinstance(current, (bytes, bytearray)) else None
    raw.update(raw_key, tm.value_type.encode(value, base=base))


class _CaseRunner:
    def __init__(self, spec: TestSpec | None, objspec: Any, case: CaseSpec, budget: int | None,
                 coverage: Coverage | None = None) -> None:
        self.coverage = coverage
        self.spec = spec
        self.objspec = objspec
        self.case = case
        self.budget = budget
        self.failures: list[Failure] = []
        self.records: list[RunRecord] = []
        self.lines: list[str] = []
        self.last: RunResult | None = None
        self.last_error: VMError | None = None
        self.fault_expected = False
        self.not_emulated: str | None = None

    # where the run ended
    def _last(self) -> tuple[SourceLocation | None, str | None]:
        if self.last_error is not None:
            err = self.last_error
            return err.location, f"insn {err.pc} (it faulted)" if err.pc is not None else None
        result = self.last
        if result is None or result.exit_pc is None:
            return None, None
        insn = None
        prog = self.obj.machine.programs.get(result.exit_program or "")
        if prog is not None and 0 <= result.exit_pc < len(prog.compiled.slots):
            insn = prog.compiled.slots[result.exit_pc]
        text = f"insn {result.exit_pc}" + (f" `{insn}`" if insn is not None else "") + f" ({result.exit_program})"
        return result.exit_location, text

    def fail(self, at: SourceLocation | None, message: str, expected: str | None = None,
             actual: str | None = None) -> None:
        last, last_insn = self._last()
        self.failures.append(Failure(at or self.case.location, self.case.name, message, expected, actual,
                                     tuple(self.lines), last, last_insn))

    def program_for(self, run: RunSpec) -> str:
        name = run.program or (self.spec.program if self.spec is not None else None)
        programs = self.obj.machine.programs
        if name is None:
            if len(programs) != 1:
                raise SpecError(f"the object has {len(programs)} programs ({', '.join(programs)}): say which "
                                "with program = \"...\"", location=run.location)
            return next(iter(programs))
        if name not in programs:
            raise SpecError(f"the object has {no_such('program', name, programs)}",
                            location=run.location)
        return name

    def execute(self) -> CaseResult:
        case = self.case
        try:
            self.obj = case_object(self.objspec, case, budget=self.budget, coverage=self.coverage is not None)
        except NotEmulated as exc:
            self.fail(case.location, f"not emulated: {exc.what}", "a case the emulator can set up", str(exc))
            return CaseResult(case.name, tuple(self.failures), (), (), case, None, exc.what)
        self.before = None
        if case.expect.hold:
            self.before = snapshot(self.obj)
        expect = case.expect
        for run in case.runs:
            if run.wait is not None:
                if (stop := self.wait(run)) is not None:
                    return stop
                continue
            program = self.program_for(run)
            prog_type = self.obj.machine.programs[program].prog_type
            try:
                result = self.obj.run(program, packet=run.packet, args=run.args, ctx=run.ctx, repeat=run.repeat)
            except SpecError as exc:   # an input of the spec (a ctx field...): blame the spec, not the object
                if getattr(exc, "location", None) is None and run.location is not None:
                    raise SpecError(exc.message, location=run.location) from None
                raise
            except VMError as exc:
                self.last_error = exc
                self.records.append(RunRecord(run, program, run.packet, None, exc))
                wanted = run.expect.error or expect.error
                label = f"run {run.index + 1}" + (f" ({run.name})" if run.name else "")
                if isinstance(exc, NotEmulated):
                    self.not_emulated = exc.what
                    self.fail(run.location if len(case.runs) > 1 else case.location,
                              f"not emulated: {exc.what}" + (f" ({label})" if len(case.runs) > 1 else ""),
                              "a run the emulator can do", str(exc))
                elif wanted is None:
                    self.fail(run.location if len(case.runs) > 1 else case.location,
                              f"{label if len(case.runs) > 1 else 'the program'} faulted: {exc.message}",
                              "a normal run" + (" (no fault)" if expect.empty else ""), str(exc))
                elif wanted not in str(exc):
                    where = (run.expect if run.expect.error else expect).where.get("error")
                    self.fail(where, "the fault is not the one expected", f"a fault mentioning \"{wanted}\"",
                              str(exc))
                else:
                    self.fault_expected = True
                return self.finish(stop=True)
            self.last = result
            self.last_error = None
            self.lines.extend(result.printk)
            self.records.append(RunRecord(run, program, run.packet, result))
            self.check_run(run, run.expect, result, prog_type, run.expect.printk is not None)
            if run.expect.retval is None and expect.retval is not None:
                self.check_retval(expect, result, prog_type)
            if run.expect.error is not None:
                self.fail(run.expect.where.get("error"), "the run did not fault",
                          f"a fault mentioning \"{run.expect.error}\"", f"returned {retval_text(result, prog_type)}")
        return self.finish(stop=False)

    def wait(self, run: RunSpec) -> CaseResult | None:
        """A run that lets time pass: the callbacks of the timers that come due run (a fault
        in one ends the case, as a faulting run does)."""
        session = self.obj.machine.session
        until = None if run.wait is True else session.time_ns + int(run.wait or 0)
        seen = len(session.printk)
        try:
            self.obj.machine.fire_timers(until)
        except VMError as exc:
            self.last_error = exc
            what = f"not emulated: {exc.what}" if isinstance(exc, NotEmulated) else f"a timer callback faulted: {exc}"
            if isinstance(exc, NotEmulated):
                self.not_emulated = exc.what
            self.fail(run.location, what, "callbacks that return", str(exc))
            return self.finish(stop=True)
        finally:
            self.lines.extend(session.printk[seen:])   # the callbacks' lines
        if until is not None and session.time_ns < until:
            session.time_ns = until
        return None

    def check_retval(self, expect: Expect, result: RunResult, prog_type: ProgType | None) -> None:
        assert expect.retval is not None
        at = expect.where.get("retval")
        wanted = _expected_retval(expect.retval, prog_type, at)
        if not _retval_matches(wanted, result):
            self.fail(at, "retval: expected " + retval_text(wanted & _M64, prog_type) + ", got "
                      + retval_text(result, prog_type), retval_text(wanted & _M64, prog_type),
                      retval_text(result, prog_type))

    def check_run(self, run: RunSpec, expect: Expect, result: RunResult, prog_type: ProgType | None,
                  printk: bool) -> None:
        if expect.retval is not None:
            self.check_retval(expect, result, prog_type)
        if printk and expect.printk is not None and tuple(result.printk) != expect.printk:
            self.fail(expect.where.get("printk"), "printk lines differ", "\n".join(expect.printk) or "(none)",
                      "\n".join(result.printk) or "(none)")
        if expect.packet is not None:
            self.check_packet(run, expect, result)

    def check_packet(self, run: RunSpec, expect: Expect, result: RunResult) -> None:
        wanted = run.packet if expect.packet == "unchanged" else expect.packet
        assert not isinstance(wanted, str)
        got = result.packet
        if got is None:
            self.fail(expect.where.get("packet"), "this program type has no output packet")
            return
        if wanted is None:
            self.fail(expect.where.get("packet"), "packet = \"unchanged\" needs an input packet")
            return
        if (result.meta or b"") + got != wanted and got != wanted:
            first = next((i for i, (a, b) in enumerate(zip(wanted, got)) if a != b), min(len(wanted), len(got)))
            self.fail(expect.where.get("packet"), f"output packet differs (first at byte {first})",
                      f"{describe_packet(wanted)}\n{wanted.hex()}", f"{describe_packet(got)}\n{got.hex()}")

    def finish(self, *, stop: bool) -> CaseResult:
        expect = self.case.expect
        if not stop:
            if expect.error is not None:
                self.fail(expect.where.get("error"), "no run faulted", f"a fault mentioning \"{expect.error}\"",
                          "every run returned normally")
            if expect.printk is not None and tuple(self.lines) != expect.printk:
                self.fail(expect.where.get("printk"), "printk lines differ",
                          "\n".join(expect.printk) or "(none)", "\n".join(self.lines) or "(none)")
            if expect.packet is not None and self.records:
                last = self.records[-1]
                if last.result is not None:
                    self.check_packet(last.run, expect, last.result)
        if not stop and expect.effects is not None and self.obj is not None:
            self.check_effects(expect)
        if not stop or self.fault_expected:
            try:
                self.check_state(expect)
                if expect.hold:
                    self.check_hold(expect)
            except NotEmulated as exc:
                self.not_emulated = exc.what
                self.fail(self.case.location, f"not emulated: {exc.what}", "state the emulator can read", str(exc))
        if self.coverage is not None:
            self.coverage.add_machine(self.obj.machine)
        return CaseResult(self.case.name, tuple(self.failures), tuple(self.records), tuple(self.lines),
                          self.case, self.obj, self.not_emulated)

    def check_effects(self, expect: Expect) -> None:
        assert expect.effects is not None and self.obj is not None
        got = self.obj.machine.session.effects
        shown = "\n".join(str(e) for e in got) or "(none)"
        wanted = "\n".join(str(e) for e in expect.effects) or "(none)"
        at = expect.where.get("effects")
        if len(got) != len(expect.effects):
            self.fail(at, f"effects: expected {len(expect.effects)}, got {len(got)}", wanted, shown)
            return
        for i, (want, have) in enumerate(zip(expect.effects, got, strict=True)):
            if any(have.get(k) != v for k, v in want.items()):
                self.fail(at, f"effects: effect {i + 1} differs", wanted, shown)
                return

    def check_hold(self, expect: Expect) -> None:
        last = self.records[-1] if self.records else None
        result = last.result if last is not None else None
        prog_type = self.obj.machine.programs[last.program].prog_type if last is not None else None
        after = snapshot(self.obj)
        env = {**_retval_names(prog_type), "printk": list(self.lines), "globals": after.globals, "maps": after.maps,
               "effects": list(self.obj.machine.session.effects),
               "before": self.before,
               "retval": None if result is None else (result.retval32 if result.retval >> 32 in (0, _M32)
                                                      else result.retval),
               "packet": None if result is None else result.packet,
               "input": NS(packet=last.packet if last else None, layers=[], args=list(last.run.args or ())
                            if last else [])}
        for expr in expect.hold:
            at = expect.where.get("hold")
            try:
                ok = bool(evaluate(expr, env))
            except Exception as exc:  # noqa: BLE001 - the user's expression
                raise SpecError(f"expect.hold: {expr}: {type(exc).__name__}: {exc}", location=at) from None
            if not ok:
                self.fail(at, f"expect.hold: {expr} is false", "true", "false")

    def check_state(self, expect: Expect) -> None:
        obj = self.obj
        for name, value in expect.globals.items():
            at = expect.where.get(f"globals.{name}")
            if name not in obj.globals:
                raise SpecError(f"the object has no global variable {name!r} (globals: "
                                f"{', '.join(obj.globals) or 'none'})", location=at)
            vtype = obj.globals.value_type(name)
            raw = obj.globals.raw(name)
            try:
                ok = same_value(vtype, value, raw)
            except SpecError as exc:
                raise SpecError(f"globals.{name}: {exc.message}", location=at) from None
            if not ok:
                self.fail(at, f"global {name}: expected {_show(value)}, got {_show(vtype.decode(raw))}",
                          _show(value), _show(vtype.decode(raw)))
        for name, contents in expect.maps.items():
            self.check_map(name, contents, expect.where.get(f"maps.{name}"))
        for name, records in expect.ringbuf.items():
            self.check_records(name, records, expect.where.get(f"ringbuf.{name}"))

    def check_map(self, name: str, contents: Any, at: SourceLocation | None) -> None:
        tm = _typed_map(self.obj, name, at)
        raw = tm.raw
        if isinstance(raw, (RingBuf, PerfEventArray)):
            raise SpecError(f"map {name} holds records: check it with expect.ringbuf.{name}", location=at)
        wanted: dict[bytes, Any] = {}
        for key, value in _entries(contents, f"expect.maps.{name}", at):
            wanted[_map_key(tm, key, at)] = value
        cpu = self.obj.session.cpu
        problems: list[str] = []
        for key, value in wanted.items():
            shown_key = _show(tm.key_type.decode(key))
            actual = raw.lookup(key)
            if actual is None:
                problems.append(f"{shown_key}: missing (expected {_show(value)})")
                continue
            if isinstance(raw, ProgArray):
                got_name = getattr(actual, "name", actual)
                if got_name != value:
                    problems.append(f"{shown_key}: expected {_show(value)}, got {_show(got_name)}")
                continue
            try:
                if isinstance(actual, tuple):   # per-CPU: a list is every CPU, one value the current CPU
                    if isinstance(value, list):
                        if len(value) != len(actual):
                            problems.append(f"{shown_key}: {len(value)} per-CPU values given, the map has "
                                            f"{len(actual)} CPUs")
                            continue
                        ok = all(same_value(tm.value_type, v, a) for v, a in zip(value, actual, strict=True))
                        shown = _show([tm.value_type.decode(a) for a in actual])
                    else:
                        ok = same_value(tm.value_type, value, actual[cpu])
                        shown = _show(tm.value_type.decode(actual[cpu])) + f" on CPU {cpu}"
                else:
                    ok = same_value(tm.value_type, value, actual)
                    shown = _show(tm.value_type.decode(actual))
            except SpecError as exc:
                raise SpecError(f"expect.maps.{name}: {exc.message}", location=at) from None
            if not ok:
                problems.append(f"{shown_key}: expected {_show(value)}, got {shown}")
        if not isinstance(raw, ArrayMap):   # hash-like maps: exactly these keys
            for key in raw:
                if key not in wanted and raw.lookup(key) is not None:
                    value = raw.lookup(key)
                    shown = getattr(value, "name", None) or (
                        _show([tm.value_type.decode(v) for v in value]) if isinstance(value, tuple)
                        else _show(tm.value_type.decode(value)))
                    problems.append(f"{_show(tm.key_type.decode(key))}: unexpected element (value {shown})")
        if problems:
            self.fail(at, f"map {name}: " + problems[0] + (f" (and {len(problems) - 1} more)" if len(problems) > 1
                                                            else ""),
                      _show({str(k): v for k, v in _entries(contents, name, at)}),
                      _show(tm.as_dict()) + "\n" + "\n".join(problems))

    def check_records(self, name: str, spec: Any, at: SourceLocation | None) -> None:
        tm = _typed_map(self.obj, name, at)
        if not isinstance(tm.raw, (RingBuf, PerfEventArray)):
            raise SpecError(f"map {name} ({tm.raw.type.name.lower()}) has no records", location=at)
        got = tm.records(drain=False) if isinstance(tm.raw, RingBuf) else [d for _, d in tm.raw.events]
        if isinstance(spec, list):
            wanted_hex = [parse_hex(s, "record") for s in spec]
            if wanted_hex != got:
                self.fail(at, f"ring buffer {name}: records differ", "\n".join(w.hex() for w in wanted_hex) or "(none)",
                          "\n".join(g.hex() for g in got) or "(none)")
            return
        vtype = _record_type(self.obj, spec, at) or RawType(len(got[0]) if got else 0)
        wanted = spec.get("records")
        count = spec.get("count", len(wanted) if wanted is not None else 0)
        shown_got = [_show(vtype.decode(g)) if len(g) == vtype.size else g.hex() for g in got]
        if count != len(got) or (wanted is not None and len(wanted) > count):
            listing = "\n".join(shown_got[:20]) + (f"\n... ({len(got) - 20} more)" if len(got) > 20 else "")
            self.fail(at, f"ring buffer {name}: expected {count} record{'s' if count != 1 else ''}, got {len(got)}",
                      "\n".join(_show(w) for w in wanted or ()) or f"{count} records",
                      listing or "(none)")
            return
        if wanted is None:
            return
        for i, (w, g) in enumerate(zip(wanted, got)):  # records may list only the first few
            try:
                ok = len(g) == vtype.size and same_value(vtype, w, g)
            except SpecError as exc:
                raise SpecError(f"expect.ringbuf.{name} record {i + 1}: {exc.message}", location=at) from None
            if not ok:
                self.fail(at, f"ring buffer {name}: record {i + 1} differs", _show(w), shown_got[i])
                return


def run_case(spec: TestSpec | None, objspec: Any, case: CaseSpec, *, budget: int | None = None,
             coverage: Coverage | None = None) -> CaseResult:
    """Run one case in a fresh session (SpecError for a case that cannot run as written);
    with ``coverage``, its programs' executed lines and branches are added there."""
    return _CaseRunner(spec, objspec, case, budget, coverage).execute()


def run_spec(spec: TestSpec, objspec: Any, *, budget: int | None = None,
             coverage: Coverage | None = None) -> SpecResult:
    """Every case of ``spec`` against ``objspec`` (an ``ObjectSpec``); ``coverage`` collects
    what they executed (see :mod:`bpfbuild.vm.coverage`)."""
    cases = tuple(run_case(spec, objspec, case, budget=budget, coverage=coverage) for case in spec.cases)
    return SpecResult(getattr(objspec, "path", None), spec.path, cases)


# --- smoke runs --------------------------------------------------------------------------------

_SMOKE_PACKET: tuple[tuple[str, Any], ...] = (("eth", {}), ("ipv4", {}), ("udp", {"dport": 9}), ("payload", "smoke"))


_BTF_ARG_TYPES = (ProgType.TRACING, ProgType.RAW_TRACEPOINT, ProgType.RAW_TRACEPOINT_WRITABLE, ProgType.LSM,
                  ProgType.KPROBE)


def _typed_smoke_args(objspec: Any, program: Any, session: Session) -> tuple[int, ...] | None:
    """Arguments for a program whose attach target the target BTF types: pointers to zeroed
    objects of the right types (not NULL), as the kernel never passes NULL for them."""
    if program.prog_type not in _BTF_ARG_TYPES or "/" not in getattr(program, "section", ""):
        return None
    btf = target_btf_of(objspec)
    if btf is None:
        return None
    params = function_params(btf, program.section)
    if not params:
        return None
    limit = 6 if program.prog_type is ProgType.KPROBE else 12
    if program.section.startswith("iter"):
        # an iterator's context is its struct (meta, then the object pointers), not u64 args
        limit = 12
    args = typed_args(session.memory, btf, params[:limit])
    if program.section.startswith("fexit/") and len(args) < limit:
        args += (0,)   # the return value
    return args


def _absent_target(objspec: Any, program: Any) -> str | None:
    """The attach target of a BTF-typed program (fentry, fexit, lsm, tp_btf) that the target
    BTF lacks: a placeholder the loader retargets (``SEC("fentry/dummy_fentry")``) or a function
    this kernel does not have.  Its typed arguments cannot be built, so it is not run."""
    section = getattr(program, "section", "")
    if program.prog_type not in (ProgType.TRACING, ProgType.LSM) or "/" not in section \
            or section.lstrip("?").startswith("iter"):
        return None
    btf = target_btf_of(objspec)
    if btf is None or function_params(btf, section) is not None:
        return None
    return section.split("/", 1)[1]


def _smoke_input(prog_type: ProgType | None) -> dict[str, Any]:
    match prog_type:
        case ProgType.XDP | ProgType.SOCKET_FILTER | ProgType.SCHED_CLS | ProgType.SCHED_ACT | \
                ProgType.CGROUP_SKB | ProgType.LWT_IN | ProgType.LWT_OUT | ProgType.LWT_XMIT | ProgType.SK_SKB:
            return {"packet": build_packet(_SMOKE_PACKET)}
        case ProgType.TRACEPOINT:
            return {"packet": bytes(512)}
        case ProgType.KPROBE | ProgType.PERF_EVENT:
            return {"args": (0, 0, 0, 0, 0, 0)}
        case _:
            return {"args": (0,) * 12}


def smoke_run(objspec: Any, *, budget: int | None = None) -> SpecResult:
    """Each program once, in its own fresh session, on a default input (a UDP packet, zeroed
    arguments or record): it fails only if a program faults."""
    cases = []
    for program in objspec.programs:
        session = Session()
        # the kernel's current task is never NULL: a zeroed one of the target's layout
        session.task_fields, session.kernel_btf = {}, functools.partial(target_btf_of, objspec)
        obj = EmulatedObject(objspec, Machine.from_object(objspec, session=session,
                                                          budget=budget or DEFAULT_BUDGET))
        inputs = _smoke_input(program.prog_type)
        typed = _typed_smoke_args(objspec, program, session)
        if typed is not None:
            inputs["args"] = typed + tuple(inputs["args"][len(typed):])
        run = RunSpec(0, program.name, inputs.get("packet"), inputs.get("args"), None, 1, Expect(),
                      SourceLocation(getattr(objspec, "path", None) or "<object>", 0))
        absent = _absent_target(objspec, program) if typed is None else None
        what = None
        if program.prog_type is None:
            what = (f"{program.name}'s program type (section '{getattr(program, 'section', '')}' names none: "
                    "give it with the program's type setting)")
        elif absent is not None:
            what = (f"{program.name}'s attach target {absent} (not in the target kernel's BTF: a loader "
                    "retargets it with bpf_program__set_attach_target)")
        if what is not None:
            cases.append(CaseResult(program.name, (), (RunRecord(run, program.name, run.packet, None,
                                                                 NotEmulated(what)),), obj=obj, not_emulated=what))
            continue
        try:
            result = obj.run(program.name, packet=inputs.get("packet"), args=inputs.get("args"))
        except NotEmulated as exc:
            # not the program's fault: the emulator cannot say whether it runs; a warning
            cases.append(CaseResult(program.name, (), (RunRecord(run, program.name, run.packet, None, exc),),
                                    obj=obj, not_emulated=exc.what))
            continue
        except VMError as exc:
            failure = Failure(None, f"smoke run of {program.name}", f"the program faulted: {exc.message}",
                              "a normal run", str(exc), (), exc.location,
                              f"insn {exc.pc} (it faulted)" if exc.pc is not None else None)
            cases.append(CaseResult(program.name, (failure,), (RunRecord(run, program.name, run.packet, None, exc),),
                                    obj=obj))
            continue
        cases.append(CaseResult(program.name, (), (RunRecord(run, program.name, run.packet, result),),
                                result.printk, obj=obj))
    return SpecResult(getattr(objspec, "path", None), None, tuple(cases))


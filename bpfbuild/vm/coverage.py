"""Source coverage of emulated runs: executed lines and branch edges, per program and function.

A machine created with ``coverage=True`` loads the counting translations
(:func:`bpfbuild.vm.compiler.compile_program` with ``coverage=True``): every executed basic
block and each side of every conditional jump bumps a counter of the program's link.
:class:`Coverage` adds those counters up over many runs and machines (one per spec case),
and maps them to the source through the object's BTF line info:

* an instruction's count is the count of its block (a fault in the middle of a block is
  subtracted from the instructions after it, so counts equal what a trace of the same runs
  executed; the faulting instruction itself counts as executed);
* a source line's count, in one program, is the largest count of the instructions the line
  info attributes to it; over several programs of an object (a shared header) the counts
  add up;
* a branch is one side of a conditional jump (``taken`` or ``fallthrough``), at the line of
  the jump; a jump that never ran has both sides unexecuted;
* a function (BTF func info) counts the executions of its first instruction.

:meth:`Coverage.report` gives a :class:`CoverageReport` (percentages, the uncovered lines,
lcov text, an annotated listing).  Lines at line 0 (code the compiler made up) are not
counted.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bpfbuild.vm.compiler import CompiledProgram

__all__ = ["BranchCount", "Coverage", "CoverageReport", "FileCoverage", "FunctionCount", "LineCount",
           "ProgramCounts"]


class ProgramCounts:
    """Executions per instruction and per jump side of one program (summed over runs)."""

    def __init__(self, compiled: CompiledProgram) -> None:
        self.compiled = compiled
        self.insns = [0] * len(compiled.slots)
        self.taken: dict[int, int] = {}
        self.fallthrough: dict[int, int] = {}
        for c in compiled.counters:
            if c.taken is True:
                self.taken.setdefault(c.pc, 0)
            elif c.taken is False:
                self.fallthrough.setdefault(c.pc, 0)

    def add(self, counters: list[int], faults: Iterable[int] = ()) -> None:
        for c, n in zip(self.compiled.counters, counters, strict=True):
            if not n:
                continue
            if c.taken is None:
                for pc in c.pcs:
                    self.insns[pc] += n
            elif c.taken:
                self.taken[c.pc] += n
            else:
                self.fallthrough[c.pc] += n
        for pc in faults:   # the block was counted whole: its rest after the fault did not run
            for c in self.compiled.counters:
                if c.taken is None and pc in c.pcs:
                    for after in c.pcs[c.pcs.index(pc) + 1:]:
                        self.insns[after] -= 1
                    break


@dataclass(frozen=True, slots=True)
class LineCount:
    file: str
    line: int
    column: int
    count: int
    text: str = ""


@dataclass(frozen=True, slots=True)
class BranchCount:
    file: str
    line: int
    column: int
    pc: int
    program: str
    taken: int | None          # None: the jump never ran
    fallthrough: int | None


@dataclass(frozen=True, slots=True)
class FunctionCount:
    file: str
    line: int
    name: str
    program: str
    count: int


@dataclass
class FileCoverage:
    path: str
    lines: dict[int, LineCount] = field(default_factory=dict)
    branches: list[BranchCount] = field(default_factory=list)
    functions: list[FunctionCount] = field(default_factory=list)


def _pct(part: int, whole: int) -> float:
    return 100.0 * part / whole if whole else 100.0


@dataclass
class CoverageReport:
    """Coverage of one object's programs, by source file."""

    files: dict[str, FileCoverage]
    programs: tuple[str, ...]

    @property
    def lines_total(self) -> int:
        return sum(len(f.lines) for f in self.files.values())

    @property
    def lines_hit(self) -> int:
        return sum(1 for f in self.files.values() for c in f.lines.values() if c.count)

    @property
    def branches_total(self) -> int:
        return 2 * sum(len(f.branches) for f in self.files.values())

    @property
    def branches_hit(self) -> int:
        return sum(bool(b.taken) + bool(b.fallthrough) for f in self.files.values() for b in f.branches)

    @property
    def line_percent(self) -> float:
        return _pct(self.lines_hit, self.lines_total)

    @property
    def branch_percent(self) -> float:
        return _pct(self.branches_hit, self.branches_total)

    def summary(self) -> str:
        """``lines 87% · branches 70%`` (whole percent, rounded down: 100% means all)."""
        text = f"lines {int(self.line_percent)}%"
        if self.branches_total:
            text += f" · branches {int(self.branch_percent)}%"
        return text

    def as_dict(self) -> dict[str, Any]:
        return {"lines": [self.lines_hit, self.lines_total], "branches": [self.branches_hit, self.branches_total],
                "summary": self.summary(),
                "uncovered": [f"{c.file}:{c.line}:{c.column}" for c in self.uncovered_lines()]}

    def uncovered_lines(self) -> list[LineCount]:
        return [c for f in sorted(self.files) for _, c in sorted(self.files[f].lines.items()) if not c.count]

    def missed_branches(self) -> list[tuple[BranchCount, str]]:
        out = []
        for f in sorted(self.files):
            for b in self.files[f].branches:
                if not b.taken:
                    out.append((b, "taken"))
                if not b.fallthrough:
                    out.append((b, "not taken"))
        return out

    # --- lcov ------------------------------------------------------------------------------

    def lcov(self, test_name: str = "", root: str | os.PathLike[str] | None = None) -> str:
        """An lcov tracefile (``geninfo(1)`` format): TN, SF, FN/FNDA/FNF/FNH, BRDA/BRF/BRH,
        DA/LF/LH, end_of_record, one record per source file."""
        out: list[str] = []
        for path in sorted(self.files):
            fc = self.files[path]
            out.append(f"TN:{_tn(test_name)}")
            out.append(f"SF:{_absolute(path, root)}")
            seen: dict[str, FunctionCount] = {}
            for fn in fc.functions:
                prev = seen.get(fn.name)
                seen[fn.name] = fn if prev is None else FunctionCount(fn.file, fn.line, fn.name, fn.program,
                                                                      prev.count + fn.count)
            for fn in sorted(seen.values(), key=lambda f: (f.line, f.name)):
                out.append(f"FN:{fn.line},{fn.name}")
            for fn in sorted(seen.values(), key=lambda f: (f.line, f.name)):
                out.append(f"FNDA:{fn.count},{fn.name}")
            out.append(f"FNF:{len(seen)}")
            out.append(f"FNH:{sum(1 for f in seen.values() if f.count)}")
            hit = 0
            for block, b in enumerate(sorted(fc.branches, key=lambda b: (b.line, b.program, b.pc))):
                for branch, n in enumerate((b.taken, b.fallthrough)):
                    out.append(f"BRDA:{b.line},{block},{branch},{'-' if n is None else n}")
                    hit += bool(n)
            out.append(f"BRF:{2 * len(fc.branches)}")
            out.append(f"BRH:{hit}")
            for line, c in sorted(fc.lines.items()):
                out.append(f"DA:{line},{c.count}")
            out.append(f"LF:{len(fc.lines)}")
            out.append(f"LH:{sum(1 for c in fc.lines.values() if c.count)}")
            out.append("end_of_record")
        return "\n".join(out) + "\n" if out else ""

    # --- annotated source -----------------------------------------------------------------

    def annotate(self, read: Any = None) -> str:
        """Each source file with a mark per line, as ``coverage annotate`` does: ``>`` executed,
        ``!`` never executed, blank: no code; a line whose jump never went one way gets
        ``# never taken`` / ``# never fell through`` after it.  ``read(path)`` gives a file's
        text (default: read it from disk; a missing file lists only the counted lines)."""
        from bpfbuild.errors import BpfBuildError
        from bpfbuild.inputs import MAX_TEXT_BYTES, read_input

        out: list[str] = []
        for path in sorted(self.files):
            fc = self.files[path]
            try:   # the path comes from the object's line info: bounded, regular files only
                text = read(path) if read is not None else \
                    read_input(path, limit=MAX_TEXT_BYTES).decode("utf-8", "replace")
            except (OSError, BpfBuildError):
                text = None
            missed: dict[int, list[str]] = {}
            for b in fc.branches:
                if b.taken is None:
                    continue
                if not b.taken:
                    missed.setdefault(b.line, []).append("never taken")
                if not b.fallthrough:
                    missed.setdefault(b.line, []).append("never fell through")
            covered = sum(1 for c in fc.lines.values() if c.count)
            out.append(f"--- {path}: lines {covered}/{len(fc.lines)}")
            source = text.splitlines() if text is not None else [
                fc.lines[n].text if n in fc.lines else "" for n in range(1, max(fc.lines, default=0) + 1)]
            for lineno, line in enumerate(source, 1):
                c = fc.lines.get(lineno)
                mark = " " if c is None else (">" if c.count else "!")
                count = f"{c.count:>6}" if c is not None else "      "
                note = f"   # {', '.join(sorted(set(missed[lineno])))}" if lineno in missed else ""
                out.append(f"{mark}{count} {line}{note}")
        return "\n".join(out) + "\n"

    def warnings(self, root: str | os.PathLike[str] | None = None) -> list[str]:
        """``file:line:col: warning: never executed by any case`` for every uncovered line."""
        return [f"{_shown(c.file, root)}:{c.line}:{c.column}: warning: never executed by any case"
                for c in self.uncovered_lines()]


def _tn(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in name)


def _absolute(path: str, root: str | os.PathLike[str] | None) -> str:
    if os.path.isabs(path) or root is None:
        return path
    return os.path.normpath(os.path.join(root, path))


def _shown(path: str, root: str | os.PathLike[str] | None) -> str:
    if root is None or not os.path.isabs(path):
        return path
    rel = os.path.relpath(path, root)
    return path if rel.startswith("..") else rel


class Coverage:
    """Counters of coverage-translated programs, added up over runs (by program name)."""

    def __init__(self) -> None:
        self.programs: dict[str, ProgramCounts] = {}

    def add_machine(self, machine: Any) -> None:
        """Add (and reset) the counters of every program loaded in ``machine``."""
        for name, loaded in machine.programs.items():
            compiled = loaded.compiled
            if not compiled.counters:
                continue
            counts = self.programs.get(name)
            if counts is None or counts.compiled is not compiled:
                counts = self.programs[name] = ProgramCounts(compiled)
            link = loaded.linkage
            counts.add(link.counters, link.faults)
            link.counters[:] = [0] * len(link.counters)
            link.faults.clear()

    def report(self, objspec: Any, *, root: str | os.PathLike[str] | None = None) -> CoverageReport:
        """Map the counts to ``objspec``'s source lines (its programs' BTF line info).
        Programs that never ran count as all-unexecuted."""
        files: dict[str, FileCoverage] = {}
        names: list[str] = []
        for program in objspec.programs:
            names.append(program.name)
            counts = self.programs.get(program.name)
            _add_program(files, program, counts)
        return CoverageReport(files, tuple(names))


def _add_program(files: dict[str, FileCoverage], program: Any, counts: ProgramCounts | None) -> None:
    slots: list[Any] = []
    for insn in program.insns:
        slots.append(insn)
        if insn.slots == 2:
            slots.append(None)
    line_max: dict[tuple[str, int], list[Any]] = {}   # (file, line) -> [count, location, text]
    for pc, insn in enumerate(slots):
        if insn is None:
            continue
        rec = program.line_at(pc)
        if rec is None or not rec.location.line:
            continue
        n = counts.insns[pc] if counts is not None else 0
        entry = line_max.setdefault((rec.location.file, rec.location.line), [n, rec.location, rec.line_text])
        entry[0] = max(entry[0], n)
        if not entry[1].column and rec.location.column:
            entry[1] = rec.location
    for (file, line), (n, loc, text) in line_max.items():
        fc = files.setdefault(file, FileCoverage(file))
        old = fc.lines.get(line)
        fc.lines[line] = LineCount(file, line, loc.column if old is None else old.column,
                                   n + (old.count if old else 0), text)
    taken = counts.taken if counts is not None else {}
    fall = counts.fallthrough if counts is not None else {}
    executed = counts.insns if counts is not None else [0] * len(slots)
    for pc, insn in enumerate(slots):
        if insn is None or not insn.is_jump or insn.is_call or insn.is_exit or _unconditional(insn):
            continue
        rec = program.line_at(pc)
        if rec is None or not rec.location.line:
            continue
        ran = executed[pc] > 0
        fc = files.setdefault(rec.location.file, FileCoverage(rec.location.file))
        fc.branches.append(BranchCount(rec.location.file, rec.location.line, rec.location.column, pc, program.name,
                                       taken.get(pc, 0) if ran else None, fall.get(pc, 0) if ran else None))
    for func in getattr(program, "func_info", ()):
        rec = program.line_at(func.pc)
        if rec is None or not rec.location.line:
            continue
        fc = files.setdefault(rec.location.file, FileCoverage(rec.location.file))
        n = executed[func.pc] if 0 <= func.pc < len(executed) else 0
        fc.functions.append(FunctionCount(rec.location.file, rec.location.line, func.name, program.name, n))


def _unconditional(insn: Any) -> bool:
    from bpfbuild.isa.fields import JmpOp
    return insn.jmp_op in (JmpOp.JA, JmpOp.JCOND)


def counts_from_trace(events: Iterable[tuple[str, int]]) -> Mapping[tuple[str, int], int]:
    """Executions per (program, pc) from a trace's events (for checking the counters)."""
    out: dict[tuple[str, int], int] = {}
    for program, pc in events:
        out[(program, pc)] = out.get((program, pc), 0) + 1
    return out

"""``doit test``: run each program's test spec (``programs/<name>.test.toml``) in the emulator.

One subtask per program (``doit test:hello``).  It reruns when the object, the spec or the
emulator's code changes (file_dep) or bpfbuild's version does; otherwise it is up to date.  A
program without a spec gets a smoke run (each of its programs once on a default input; only a
fault fails it) and is reported as "no spec".  A failing case prints compiler-style
diagnostics -- ``programs/x.test.toml:LINE:COL: error: case "...": ...`` at the expectation,
a note at the source line of the last instruction executed, what was expected, what came out,
and the ``bpf_printk`` lines -- and fails the task.  Each outcome is recorded for the summary
(``build/.results/<program>.test.json``).

pyelftools and the emulator are imported inside the action, so a no-op ``doit`` stays cheap.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from doit.dependency import UptodateCalculator
from doit.exceptions import TaskFailed
from doit.tools import config_changed

from bpfbuild import __version__
from bpfbuild.config import ProgramSource
from bpfbuild.errors import BpfBuildError, TargetMismatch, format_error
from bpfbuild.location import shown_path
from bpfbuild.tasks.build import program_type_setting
from bpfbuild.tasks.project import code_identity, current_project
from bpfbuild.tasks.report import write_result

__all__ = ["EMULATOR_CODE", "run_tests", "spec_file", "task_test"]

SPEC_SUFFIX = ".test.toml"
#: The code a test result depends on: the emulator and what it reads the program with (the
#: instruction set, the ABI tables, BTF, the object loader).  A change there reruns every test.
EMULATOR_CODE = tuple(Path(__file__).resolve().parent.parent / d for d in ("isa", "abi", "btf", "obj", "vm"))


def spec_file(prog: ProgramSource) -> Path:
    """``programs/hello.bpf.c`` -> ``programs/hello.test.toml`` (the same rule as the emulator's)."""
    return prog.spec


def _failed(prog: ProgramSource, root: Path, shown_spec: str | None, message: str) -> TaskFailed:
    write_result(prog.object.parent, prog.name, "test", {"passed": 0, "failed": 1,
                                                         "spec": shown_spec or False, "error": message})
    sys.stderr.write(message + "\n")
    return TaskFailed(message)


def run_tests(prog: ProgramSource, spec: Path | None, root: Path, seed: int | None = None) -> TaskFailed | None:
    """The action of ``test:<prog>``: run the spec (or a smoke run) and report.

    With a spec, the cases run on the coverage-counting translation: the result records
    ``lines N% · branches M%``, ``build/.results/<prog>.lcov`` gets the lcov record (the
    report merges them into ``build/coverage.lcov``), and a spec's ``min_coverage`` fails the
    step below it, listing every line no case executed.  ``[[property]]`` blocks run after
    the cases (``seed`` overrides each property's own).
    """
    from bpfbuild.tasks.build import load_program_object
    from bpfbuild.vm.coverage import Coverage
    from bpfbuild.vm.specrun import run_spec, smoke_run
    from bpfbuild.vm.testspec import load_spec

    build_dir = prog.object.parent
    shown_spec = shown_path(spec, root) if spec is not None else None
    coverage = Coverage() if spec is not None else None
    properties: list[Any] = []
    try:
        objspec = load_program_object(prog)
        if spec is not None:
            test_spec = load_spec(spec, display=shown_spec)
            result = run_spec(test_spec, objspec, coverage=coverage)
            if test_spec.properties:
                from bpfbuild.vm.properties import run_property
                properties = [run_property(p, objspec, test_spec, seed=seed) for p in test_spec.properties]
        else:
            result = smoke_run(objspec)
    except TargetMismatch as exc:
        if spec is not None:   # a spec's cases need the program: they cannot run here
            return _failed(prog, root, shown_spec, format_error(exc.with_file(str(prog.object)), root=str(root)))
        what = f"{exc.message} (this kernel cannot load the object)"
        write_result(build_dir, prog.name, "test", {"passed": 0, "failed": 0, "spec": False, "cases": [],
                                                    "not_emulated": [what]})
        sys.stderr.write(f"{shown_path(prog.object, root)}: warning: not emulated: {what}\n")
        sys.stderr.flush()
        return None
    except BpfBuildError as exc:
        return _failed(prog, root, shown_spec, format_error(exc.with_file(str(prog.object)), root=str(root)))
    passed = sum(c.ok for c in result.cases)
    failed = len(result.cases) - passed
    record: dict[str, Any] = {
        "passed": passed, "failed": failed, "spec": shown_spec or False,
        "cases": [{"name": c.name, "ok": c.ok, **({"not_emulated": c.not_emulated} if c.not_emulated else {})}
                  for c in result.cases],
        "not_emulated": list(result.not_emulated),
    }
    problems: list[str] = []
    notes: list[str] = []
    lcov_path = build_dir / ".results" / f"{prog.name}.lcov"
    if coverage is not None:
        report = coverage.report(objspec)
        record["coverage"] = report.as_dict()
        lcov_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = lcov_path.with_name(lcov_path.name + ".tmp")
        tmp.write_text(report.lcov(prog.name, root))
        os.replace(tmp, lcov_path)
        minimum = test_spec.min_coverage
        below = [f"{what} {got:.1f}% < {want:g}%" for what, got, want in (
            ("lines", report.line_percent, minimum.get("lines")),
            ("branches", report.branch_percent, minimum.get("branches"))) if want is not None and got < want]
        if below:
            notes.extend(report.warnings(root))
            problems.append(f"{shown_spec}:1:1: error: coverage below min_coverage: {', '.join(below)}")
    else:
        lcov_path.unlink(missing_ok=True)
    if properties:
        record["properties"] = [{"name": p.name, "ok": p.ok, "inputs": p.inputs} for p in properties]
        for p in properties:
            if not p.ok:
                problems.append(p.render(root))
    label = shown_spec or prog.name
    write_result(build_dir, prog.name, "test", record)
    summary = result.summary()
    if coverage is not None:
        summary += f"; {record['coverage']['summary']}"
    if properties:
        held = sum(p.ok for p in properties)
        summary += f"; {held} of {len(properties)} propert{'y' if len(properties) == 1 else 'ies'} held"
    sys.stdout.write(f"{label}: {summary}\n")
    sys.stdout.flush()
    if spec is None:
        # a smoke run the emulator could not finish does not fail the build: say what is missing
        for what in result.not_emulated:
            sys.stderr.write(f"{shown_path(prog.object, root)}: warning: not emulated: {what} "
                             f"(the smoke run stopped there; a spec case that needs it fails)\n")
        sys.stderr.flush()
    if result.ok and not problems:
        return None
    text = "\n".join([*(f.render(root) for f in result.failures), *notes, *problems])
    sys.stderr.write(text + "\n")
    sys.stderr.flush()
    if not result.ok:
        what = f"{failed} of {len(result.cases)} cases failed" if spec is not None else "the smoke run failed"
    else:
        what = "; ".join(problems[-1:]) if problems else ""
    return TaskFailed(f"{label}: {what}")


_SEED_PARAM = {"name": "seed", "long": "seed", "type": int, "default": None,
               "help": "seed of every [[property]]'s inputs (default: each property's own)"}


class _SeedUnchanged(UptodateCalculator):
    """Up to date only for the seed of the last run: ``doit test:x --seed N`` (or ``doit test
    --seed N``, the group's option passed on to each program's task) reruns an up-to-date task."""

    def __call__(self, task: Any, values: dict[str, Any]) -> bool:
        task.init_options()
        seed = task.options.get("seed")
        group = (self.tasks_dict or {}).get(task.name.partition(":")[0])
        if seed is None and group is not None and group is not task and group.options:
            seed = task.options["seed"] = group.options.get("seed")
        return bool(values.get("seed") == seed)


def _record_seed(seed: int | None = None) -> dict[str, Any]:
    return {"seed": seed}


def task_test() -> Any:
    """Run each program's test spec (programs/<name>.test.toml) in the emulator; smoke-run the others."""
    project = current_project()
    programs = project.config.programs()
    if not programs:
        yield {"basename": "test", "name": None, "doc": task_test.__doc__, "actions": None}
        return
    root = project.config.root
    code = ";".join(f"{d.name}/{code_identity(str(d))}" for d in EMULATOR_CODE)
    yield {"basename": "test", "name": None, "doc": task_test.__doc__, "params": [_SEED_PARAM]}
    for prog in programs:
        spec = spec_file(prog)
        has_spec = spec.exists()
        yield {
            "name": prog.name,
            "doc": (f"run {spec} against {prog.object} in the emulator" if has_spec
                    else f"smoke-run {prog.object} in the emulator (no spec: add {spec})"),
            "actions": [(run_tests, [prog, spec if has_spec else None, root]), _record_seed],
            "params": [_SEED_PARAM],
            "file_dep": [str(prog.object), *([str(spec)] if has_spec else [])],
            "uptodate": [config_changed({"bpfbuild": __version__, "spec": str(spec) if has_spec else None, "code": code,
                                         **program_type_setting(prog)}), _SeedUnchanged()],
            "clean": [],
            "verbosity": 2,
        }

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

from doit.exceptions import TaskFailed
from doit.tools import config_changed

from bpfbuild import __version__
from bpfbuild.config import ProgramSource
from bpfbuild.errors import BpfBuildError
from bpfbuild.tasks.build import program_type_setting
from bpfbuild.tasks.project import code_identity, current_project
from bpfbuild.tasks.report import write_result

__all__ = ["EMULATOR_CODE", "run_tests", "spec_file", "task_test"]

SPEC_SUFFIX = ".test.toml"
#: The emulator's sources: a change there reruns every test.
EMULATOR_CODE = Path(__file__).resolve().parent.parent / "vm"


def spec_file(prog: ProgramSource) -> Path:
    """``programs/hello.bpf.c`` -> ``programs/hello.test.toml`` (the same rule as the emulator's)."""
    return prog.spec


def _shown(path: Path | str, root: Path) -> str:
    """A path as messages show it: relative to the project root when inside it."""
    try:
        text = os.path.relpath(path, root)
    except ValueError:
        return str(path)
    return str(path) if text.startswith("..") else text


def run_tests(prog: ProgramSource, spec: Path | None, root: Path) -> TaskFailed | None:
    """The action of ``test:<prog>``: run the spec (or a smoke run) and report."""
    from bpfbuild.tasks.build import load_program_object
    from bpfbuild.vm.specrun import run_spec, smoke_run
    from bpfbuild.vm.testspec import load_spec

    build_dir = prog.object.parent
    shown_spec = _shown(spec, root) if spec is not None else None
    try:
        objspec = load_program_object(prog)
        if spec is not None:
            result = run_spec(load_spec(spec, display=shown_spec), objspec)
        else:
            result = smoke_run(objspec)
    except BpfBuildError as exc:
        write_result(build_dir, prog.name, "test", {"passed": 0, "failed": 1,
                                                    "spec": shown_spec or False, "error": str(exc)})
        message = str(exc)
        if exc.file is None and "error:" not in message:
            message = f"{_shown(prog.object, root)}: error: {message}"
        sys.stderr.write(message + "\n")
        return TaskFailed(message)
    passed = sum(c.ok for c in result.cases)
    failed = len(result.cases) - passed
    write_result(build_dir, prog.name, "test", {
        "passed": passed, "failed": failed, "spec": shown_spec or False,
        "cases": [{"name": c.name, "ok": c.ok, **({"not_emulated": c.not_emulated} if c.not_emulated else {})}
                  for c in result.cases],
        "not_emulated": list(result.not_emulated),
    })
    label = shown_spec or prog.name
    sys.stdout.write(f"{label}: {result.summary()}\n")
    sys.stdout.flush()
    if spec is None:
        # a smoke run the emulator could not finish does not fail the build: say what is missing
        for what in result.not_emulated:
            sys.stderr.write(f"{_shown(prog.object, root)}: warning: not emulated: {what} "
                             f"(the smoke run stopped there; a spec case that needs it fails)\n")
        sys.stderr.flush()
    if result.ok:
        return None
    text = "\n".join(f.render(root) for f in result.failures)
    sys.stderr.write(text + "\n")
    sys.stderr.flush()
    what = f"{failed} of {len(result.cases)} cases failed" if spec is not None else "the smoke run failed"
    return TaskFailed(f"{label}: {what}")


def task_test() -> Any:
    """Run each program's test spec (programs/<name>.test.toml) in the emulator; smoke-run the others."""
    project = current_project()
    programs = project.config.programs()
    if not programs:
        yield {"basename": "test", "name": None, "doc": task_test.__doc__, "actions": None}
        return
    root = project.config.root
    code = code_identity(str(EMULATOR_CODE))
    for prog in programs:
        spec = spec_file(prog)
        has_spec = spec.exists()
        yield {
            "name": prog.name,
            "doc": (f"run {spec} against {prog.object} in the emulator" if has_spec
                    else f"smoke-run {prog.object} in the emulator (no spec: add {spec})"),
            "actions": [(run_tests, [prog, spec if has_spec else None, root])],
            "file_dep": [str(prog.object), *([str(spec)] if has_spec else [])],
            "uptodate": [config_changed({"bpfbuild": __version__, "spec": str(spec) if has_spec else None, "code": code,
                                         **program_type_setting(prog)})],
            "clean": [],
            "verbosity": 2,
        }

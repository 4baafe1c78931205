"""``doit verify``: every program of every object through bpfbuild's verifier, after ``build``.

A rejection fails the build with the kernel's message at the source line (``file:line:col:``,
relative to the project root) unless ``[tool.bpfbuild] verify = "warn"``.  Incremental on the
object (and on bpfbuild's verifier sources).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from doit.exceptions import TaskFailed
from doit.tools import config_changed

from bpfbuild import __version__
from bpfbuild.config import ProgramSource
from bpfbuild.tasks.project import current_project

__all__ = ["task_verify"]

VERIFIER_DIR = Path(__file__).resolve().parent.parent / "verifier"


def verify_object(prog: ProgramSource, root: str, mode: str) -> TaskFailed | None:
    from bpfbuild.cli.verify import relative_file, report_record
    from bpfbuild.errors import BpfBuildError
    from bpfbuild.obj.loader import load_object_file
    from bpfbuild.tasks.report import read_result, write_result
    from bpfbuild.verifier import verify

    try:
        spec = load_object_file(prog.object)
        reports = [verify(spec, p) for p in spec.programs]
    except BpfBuildError as exc:
        return TaskFailed(str(exc))
    rejected = False
    for r in reports:
        for d in r.errors:
            text = d.format(relative_file(d.location.file, root) if d.location else str(prog.object))
            if mode == "warn":
                text = text.replace(": error: ", ": warning: ", 1)
            sys.stdout.write(text + "\n")
        if not r.accepted:
            rejected = True
        sys.stdout.write(f"{prog.object}: {r.program}: {r.verdict} ({r.processed_insns} insns processed)\n")
    build = read_result(prog.object.parent, prog.name, "build") or {}
    write_result(prog.object.parent, prog.name, "verify", {
        "programs": [{**report_record(r), "verdict": r.verdict} for r in reports],
        "verdict": "rejected" if rejected else "accepted", "build": bool(build)})
    if rejected and mode != "warn":
        return TaskFailed(f"{prog.source}: rejected by the verifier")
    return None


def task_verify() -> Any:
    """Check every built program with bpfbuild's verifier (the kernel's rules, at the source line)."""
    project = current_project()
    root = str(project.config.root)
    sources = sorted(str(p) for p in VERIFIER_DIR.glob("*.py"))
    for prog in project.config.programs():
        yield {
            "name": prog.name,
            "doc": f"verify {prog.object}",
            "actions": [(verify_object, [prog, root, project.config.verify])],
            "file_dep": [str(prog.object), *sources],
            "uptodate": [config_changed({"bpfbuild": __version__, "mode": project.config.verify})],
            "verbosity": 2,
        }

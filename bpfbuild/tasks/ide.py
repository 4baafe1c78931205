"""``doit ide``: compile_commands.json for clangd, from the exact compile command of every program,
and .vscode/tasks.json (see :mod:`bpfbuild.editor`).

clangd reads ``arguments`` as a compiler command line; with the ziglang toolchain the driver is
``zig cc``, which clangd cannot run, so those entries name ``clang`` and the equivalent target
(clangd parses with its own built-in clang either way).  Kept current by every ``doit``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from doit.tools import config_changed

from bpfbuild.tasks.build import program_argv
from bpfbuild.tasks.project import Project, current_project
from bpfbuild.editor import vscode_tasks, write_vscode_tasks
from bpfbuild.toolchain.discover import CompilerKind

__all__ = ["compile_commands", "task_ide", "write_ide_files"]

COMPILE_COMMANDS = "compile_commands.json"


def compile_commands(project: Project) -> list[dict[str, Any]]:
    root = Path(os.path.abspath(project.config.root))
    entries = []
    for prog in project.config.programs():
        argv = program_argv(project, prog)
        assert project.compiler is not None
        if project.compiler.kind is CompilerKind.ZIG:
            argv = ["clang", *argv[len(project.compiler.command):]]
            argv = ["bpfel" if a == "bpfel-freestanding" else a for a in argv]
        argv = [_absolute(a, root) for a in argv]
        entries.append({"directory": str(root), "file": str(root / prog.source), "output": str(root / prog.object),
                        "arguments": argv})
    return entries


def _absolute(arg: str, root: Path) -> str:
    """-I relative dirs made absolute so editors opening files elsewhere still resolve headers."""
    if arg.startswith("-I") and len(arg) > 2 and not os.path.isabs(arg[2:]):
        return "-I" + str(root / arg[2:])
    return arg


def write_ide_files(entries: list[dict[str, Any]], path: Path) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(entries, indent=2) + "\n")
    os.replace(tmp, path)
    write_vscode_tasks(path.parent)


def task_ide() -> Any:
    """Write compile_commands.json (clangd: completion and diagnostics for -target bpf)."""
    project = current_project()
    path = Path(project.config.root) / COMPILE_COMMANDS
    if project.compiler is None:
        return {"actions": None, "doc": "compile_commands.json (no compiler found)", "uptodate": [True]}
    entries = compile_commands(project)
    return {
        "actions": [(write_ide_files, [entries, path])],
        "targets": [path, Path(project.config.root) / ".vscode" / "tasks.json"],
        "uptodate": [config_changed({"entries": entries, "vscode": vscode_tasks()})],
        "clean": True,
        "doc": "write compile_commands.json (clangd) and .vscode/tasks.json (kept current by every doit)",
    }

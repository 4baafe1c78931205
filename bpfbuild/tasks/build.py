"""``doit build``: compile every programs/*.bpf.c into build/*.bpf.o (and ``headers``).

A program is rebuilt when, and only when, the content of its source or of any header it includes
changed, its compile command changed, or the compiler (path + version) changed.  The header list
comes from clang's ``-MD -MF`` depfile of the last compile and is recorded, with each file's md5,
in a kbuild-style ``.<name>.bpf.o.cmd`` beside the object: a new or removed include is seen by
the compile that introduced it, and headers first listed by a compile do not make the next
``doit`` rebuild (as they would as doit file_deps with no recorded state).  Each compile says why
it ran.  Outputs are written to temporary names and renamed into place, and a failed compile
removes the old object, so nothing stale can pass for up to date.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from doit.exceptions import TaskFailed
from doit.tools import config_changed

from bpfbuild import __version__
from bpfbuild.config import ProgramSource
from bpfbuild.errors import BpfBuildError
from bpfbuild.tasks.project import Project, current_project
from bpfbuild.toolchain.depfile import parse_depfile
from bpfbuild.toolchain.flags import compile_argv

__all__ = ["changed_deps", "program_argv", "task_build", "task_headers"]


def _cmd_file(prog: ProgramSource) -> Path:
    """kbuild-style record of the command and inputs that made the object."""
    return prog.object.with_name(f".{prog.name}.bpf.o.cmd")


def program_argv(project: Project, prog: ProgramSource, *, output: Path | None = None,
                 depfile: Path | None = None) -> list[str]:
    assert project.compiler is not None and project.includes is not None
    s = prog.settings
    return compile_argv(
        project.compiler, prog.source, output or prog.object,
        include_flags=project.includes.flags, cflags=s.cflags, defines=s.defines,
        include_dirs=s.include_dirs, mcpu=s.mcpu, depfile=depfile,
    )


def _stat_key(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns


def _digest(path: str) -> str | None:
    try:
        with open(path, "rb") as fh:
            return hashlib.md5(fh.read(), usedforsecurity=False).hexdigest()
    except OSError:
        return None


def _snapshot(paths: list[str]) -> dict[str, list[Any]]:
    """size, mtime and md5 of each dependency, as recorded after a compile."""
    out: dict[str, list[Any]] = {}
    for p in paths:
        key = _stat_key(p)
        out[p] = [key[0], key[1], _digest(p)] if key else [None, None, None]
    return out


def _read_record(prog: ProgramSource) -> dict[str, Any] | None:
    try:
        record = json.loads(_cmd_file(prog).read_text())
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def changed_deps(prog: ProgramSource, record: dict[str, Any] | None = None) -> list[str] | None:
    """The dependencies (source and every header of the last compile) whose content changed.

    A bare ``touch`` changes nothing (md5 compared when size or mtime moved, as doit does).
    None: no usable record of the last compile -- none, or its depfile did not parse (then
    the headers are unknown, and the program is rebuilt until the depfile parses).
    """
    record = _read_record(prog) if record is None else record
    if record is None or not isinstance(record.get("deps"), dict) or record.get("deps_error"):
        return None
    changed = []
    for path, old in record["deps"].items():
        key = _stat_key(path)
        if key is None:
            changed.append(path)   # removed: the compile will tell whether it is still included
        elif [key[0], key[1]] != old[:2] and _digest(path) != old[2]:
            changed.append(path)
    return changed


def deps_uptodate(prog: ProgramSource) -> bool:
    """doit uptodate check: the object exists and no source or header content changed."""
    return prog.object.exists() and changed_deps(prog) == []


def _reason(prog: ProgramSource, record: dict[str, Any]) -> str:
    if not prog.object.exists():
        return "no object yet"
    old = _read_record(prog)
    if old is None:
        return "no record of the last compile"
    if old.get("compiler") != record["compiler"]:
        return f"compiler changed: {old.get('compiler')} -> {record['compiler']}"
    if old.get("argv") != record["argv"]:
        return "flags changed"
    if old.get("bpfbuild") != record["bpfbuild"]:
        return f"bpfbuild changed: {old.get('bpfbuild')} -> {record['bpfbuild']}"
    if old.get("deps_error"):
        return f"the last depfile did not parse, so its headers are unknown: {old['deps_error']}"
    changed = changed_deps(prog, old)
    if changed:
        return "changed: " + " ".join(changed)
    return "forced"


def _remove(*paths: Path) -> None:
    for p in paths:
        try:
            p.unlink()
        except FileNotFoundError:
            pass


def compile_program(prog: ProgramSource, argv: list[str], record: dict[str, Any]) -> TaskFailed | None:
    """Run the compiler into temporary files, then rename them into place."""
    # one write call: under `doit -n 2` workers share the terminal with doit's own reporter
    sys.stdout.write(f"{prog.source}: compiling ({_reason(prog, record)})\n")
    sys.stdout.flush()
    prog.object.parent.mkdir(parents=True, exist_ok=True)
    tmp_obj = prog.object.with_name(prog.object.name + ".tmp")
    tmp_dep = prog.depfile.with_name(prog.depfile.name + ".tmp")
    swap = {str(prog.depfile): str(tmp_dep), str(prog.object): str(tmp_obj)}
    argv = [swap.get(a, a) for a in argv]
    try:
        res = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, check=False)
    except OSError as exc:
        _remove(tmp_obj, tmp_dep)
        return TaskFailed(f"{prog.source}: cannot run the compiler: {exc}")
    if res.stdout:
        sys.stdout.write(res.stdout)
    if res.stderr:
        sys.stderr.write(res.stderr)   # clang's diagnostics, unchanged (file:line:col: error: ...)
        sys.stderr.flush()
    if res.returncode != 0 or not tmp_obj.exists():
        _remove(tmp_obj, tmp_dep, prog.object, prog.depfile, _cmd_file(prog))
        return TaskFailed(f"{prog.source}: compile failed (exit {res.returncode})")
    deps_error: dict[str, str] = {}
    try:
        deps = list(parse_depfile(tmp_dep.read_text(), file=str(prog.depfile)))
    except (OSError, BpfBuildError) as exc:
        # Without the headers an edit to one would not rebuild: say so, and rebuild every time.
        deps = [str(prog.source)]
        deps_error["deps_error"] = exc.message if isinstance(exc, BpfBuildError) else str(exc)
        sys.stdout.write(f"{prog.depfile}: warning: {deps_error['deps_error']}; "
                         "the program is rebuilt on every run until its depfile parses\n")
    if tmp_dep.exists():
        os.replace(tmp_dep, prog.depfile)
    os.replace(tmp_obj, prog.object)
    cmd = _cmd_file(prog)
    tmp_cmd = cmd.with_name(cmd.name + ".tmp")
    tmp_cmd.write_text(json.dumps({**record, "deps": _snapshot(deps), **deps_error}, indent=1) + "\n")
    os.replace(tmp_cmd, cmd)
    _record_programs(prog)
    return None


def _record_programs(prog: ProgramSource) -> None:
    """What the object holds (for the summary): read once, right after the compile."""
    from bpfbuild.obj.loader import load_object_file
    from bpfbuild.tasks.report import write_result

    try:
        spec = load_object_file(prog.object)
    except BpfBuildError as exc:
        sys.stdout.write(f"{prog.object}: warning: cannot read the object: {exc.message}\n")
        write_result(prog.object.parent, prog.name, "build", {"programs": [], "error": exc.message})
        return
    write_result(prog.object.parent, prog.name, "build", {"programs": [
        {"name": p.name, "section": p.section, "type": p.prog_type.name.lower() if p.prog_type else "unknown",
         "insns": p.slot_count} for p in spec.programs]})


def _fail(message: str) -> TaskFailed:
    return TaskFailed(message)


def task_headers() -> Any:
    """Generate bpf/bpf_helper_defs.h from linux/bpf.h (only without libbpf's headers)."""
    project = current_project()
    inc = project.includes
    if inc is None or inc.libbpf != "bpfbuild" or inc.uapi_header is None:
        return {"actions": None, "doc": "generate helper declarations (not needed: libbpf headers installed)",
                "uptodate": [True]}
    from bpfbuild.tasks.headers import TEMPLATE, write_helper_defs
    return {
        "doc": "generate build/include/bpf/bpf_helper_defs.h from the kernel UAPI linux/bpf.h",
        "actions": [(write_helper_defs, [inc.uapi_header, project.helper_defs])],
        "file_dep": [inc.uapi_header, str(TEMPLATE)],
        "targets": [project.helper_defs],
        "uptodate": [config_changed({"bpfbuild": __version__})],
        "clean": True,
    }


def task_build() -> Any:
    """Compile programs/*.bpf.c -> build/*.bpf.o (clang -target bpf -g -O2)."""
    project = current_project()
    programs = project.config.programs()
    if not programs:
        yield {"basename": "build", "name": None, "doc": task_build.__doc__, "actions": None}
        return
    for prog in programs:
        if project.compiler is None:
            yield {"name": prog.name, "doc": f"compile {prog.source}",
                   "actions": [(_fail, [project.compiler_error])], "file_dep": [prog.source],
                   "targets": [prog.object]}
            continue
        argv = program_argv(project, prog, depfile=prog.depfile)
        record = {"argv": argv, "compiler": project.compiler.identity, "bpfbuild": __version__}
        file_dep = [str(prog.source)]
        assert project.includes is not None
        if project.includes.libbpf == "bpfbuild":
            file_dep.append(str(project.helper_defs))
        task: dict[str, Any] = {
            "name": prog.name,
            "doc": f"compile {prog.source} -> {prog.object}",
            "actions": [(compile_program, [prog, argv, record])],
            "file_dep": file_dep,
            "targets": [prog.object, prog.depfile, _cmd_file(prog)],
            "uptodate": [config_changed(record), (deps_uptodate, [prog])],
            "clean": True,
            "verbosity": 2,
        }
        if _uses_build_dir(project, prog):
            task["task_dep"] = ["vmlinux"]   # build/vmlinux.h must exist before its first compile
        yield task


def _uses_build_dir(project: Project, prog: ProgramSource) -> bool:
    """A program whose include dirs name the build dir may include build/vmlinux.h (CO-RE)."""
    build = os.path.normpath(project.config.build_dir)
    return any(os.path.normpath(project.config.root / d) == os.path.normpath(project.config.root / build)
               or os.path.normpath(d) == build for d in prog.settings.include_dirs)

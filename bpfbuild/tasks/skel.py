"""``doit skel`` (loader skeletons per program) and ``doit vmlinux`` (build/vmlinux.h).

``skel:<prog>`` writes ``build/<prog>.skel.h`` (the C skeleton, the API `bpftool gen skeleton`
writes) and ``build/<prog_ident>_skel.py`` (the Python skeleton; ``-`` in a program name becomes
``_`` so it can be imported) from ``build/<prog>.bpf.o``.  It reruns when the object's content,
a template or bpfbuild's version changes.  ``vmlinux`` writes ``build/vmlinux.h`` from the running
kernel's BTF (``/sys/kernel/btf/vmlinux``) for CO-RE programs; without kernel BTF it has nothing
to do (``doit list`` says so) and programs that use vmlinux.h fall back to their own declarations.

Generating never imports jinja2 or pyelftools until an action runs.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from doit.exceptions import TaskFailed
from doit.tools import config_changed

from bpfbuild import __version__
from bpfbuild.config import ProgramSource
from bpfbuild.errors import BpfBuildError, format_error
from bpfbuild.tasks.project import current_project

__all__ = ["python_skeleton_path", "skeleton_ident", "skeleton_paths", "stem_skeleton_path", "task_skel",
           "task_vmlinux", "write_skeletons"]

_PACKAGE = Path(__file__).resolve().parent.parent
TEMPLATES = (_PACKAGE / "skel" / "templates" / "skel.h.j2", _PACKAGE / "skel" / "templates" / "skel.py.j2")
#: The code a vmlinux.h depends on besides the kernel's BTF.
VMLINUX_CODE = (_PACKAGE / "btf" / "cdecl.py", _PACKAGE / "skel" / "btfdump.py")
VMLINUX_BTF = "/sys/kernel/btf/vmlinux"


def python_skeleton_path(prog: ProgramSource) -> Path:
    """``build/<prog>_skel.py`` with the program name made importable (``hello-func`` -> ``hello_func``)."""
    ident = "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in prog.name)
    return prog.object.with_name(f"{ident}_skel.py")


def skeleton_paths(prog: ProgramSource) -> tuple[Path, Path]:
    return prog.object.with_name(f"{prog.name}.skel.h"), python_skeleton_path(prog)


def stem_skeleton_path(prog: ProgramSource) -> Path | None:
    """Where two sources share a file name, the program's C skeleton under the file's own name
    (``build/skel/chapter7-hello/hello.skel.h``, ``struct hello_bpf``, as bpftool names it from
    ``hello.bpf.o``), so a loader beside the source compiles unchanged; None otherwise."""
    if not prog.stem or prog.stem == prog.name:
        return None
    return prog.object.parent / "skel" / prog.name / f"{prog.stem}.skel.h"


def skeleton_ident(name: str) -> str:
    """The C skeleton's name for ``<name>.bpf.o``: bpftool's derivation (``hello-func`` ->
    ``hello_func_bpf``), with ``_`` in front where that starts with a digit, as a name bpfbuild
    made from the path of clashing sources may (``38-btf-uprobe/uprobe.bpf.c`` ->
    ``38-btf-uprobe-uprobe`` -> ``struct _38_btf_uprobe_uprobe_bpf``)."""
    from bpfbuild.skel.names import MAX_NAME_LEN, sanitize

    derived = sanitize(f"{name}.bpf.o"[:MAX_NAME_LEN].removesuffix(".o"))
    return f"_{derived}"[:MAX_NAME_LEN] if derived[:1].isdigit() else derived


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def write_skeletons(prog: ProgramSource) -> TaskFailed | None:
    """The action of ``skel:<prog>``: both skeletons, or a one-line failure."""
    from bpfbuild.skel.generate import c_header, python_module, skeleton_from_file

    header, module = skeleton_paths(prog)
    by_stem = stem_skeleton_path(prog)
    try:
        skel = skeleton_from_file(prog.object, name=prog.skeleton or skeleton_ident(prog.name))
        c_text = c_header(skel)
        py_text = python_module(skel)
        stem_name = prog.skeleton or skeleton_ident(prog.stem)
        stem_text = c_header(skeleton_from_file(prog.object, name=stem_name)) if by_stem else None
    except BpfBuildError as exc:
        return TaskFailed(format_error(exc.with_file(str(prog.object))))
    try:
        _write(header, c_text)
        _write(module, py_text)
        if by_stem is not None and stem_text is not None:
            by_stem.parent.mkdir(parents=True, exist_ok=True)
            _write(by_stem, stem_text)
    except OSError as exc:
        return TaskFailed(f"{header.parent}: cannot write skeletons: {exc.strerror or exc}")
    return None


def task_skel() -> Any:
    """Generate build/<prog>.skel.h (C, bpftool-compatible) and build/<prog>_skel.py (Python)."""
    project = current_project()
    programs = project.config.programs()
    if not programs:
        yield {"basename": "skel", "name": None, "doc": task_skel.__doc__, "actions": None}
        return
    for prog in programs:
        header, module = skeleton_paths(prog)
        by_stem = stem_skeleton_path(prog)
        yield {
            "name": prog.name,
            "doc": f"skeletons of {prog.object}: {header.name}, {module.name}",
            "actions": [(write_skeletons, [prog])],
            "file_dep": [str(prog.object), *(str(t) for t in TEMPLATES)],
            "targets": [str(header), str(module), *([str(by_stem)] if by_stem else [])],
            "uptodate": [config_changed({"bpfbuild": __version__, "name": prog.skeleton})],
            "clean": True,
        }


def write_vmlinux(output: Path, source: str) -> TaskFailed | None:
    from bpfbuild.skel.btfdump import write_vmlinux_header

    try:
        write_vmlinux_header(output, source)
    except BpfBuildError as exc:
        return TaskFailed(format_error(exc))
    return None


def task_vmlinux() -> Any:
    """Generate build/vmlinux.h from the running kernel's BTF (for CO-RE programs)."""
    build_dir = current_project().config.build_dir
    output = build_dir / "vmlinux.h"
    if not os.path.exists(VMLINUX_BTF):
        return {"doc": f"generate build/vmlinux.h (nothing to do here: no {VMLINUX_BTF}; programs that "
                       "include vmlinux.h fall back to their own declarations)",
                "actions": None, "uptodate": [True]}
    return {
        "doc": task_vmlinux.__doc__,
        "actions": [(write_vmlinux, [output, VMLINUX_BTF])],
        "file_dep": [VMLINUX_BTF, *(str(p) for p in VMLINUX_CODE)],
        "targets": [str(output)],
        "uptodate": [config_changed({"bpfbuild": __version__})],
        "clean": True,
    }

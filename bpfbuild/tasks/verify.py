"""``doit verify``: every program of every object through bpfbuild's verifier, after ``build``.

One subtask per object (``doit verify:hello``).  A rejection prints compiler-style diagnostics
-- ``programs/x.bpf.c:LINE:COL: error: <kernel message>`` (relative to the project root), the
source line, notes, an explanation and a fix hint -- and fails the task, unless
``[tool.bpfbuild] verify = "warn"`` (then they are warnings).  Each outcome is recorded for the
summary (``build/.results/<program>.verify.json``, the ``bpfbuild verify --json`` document).
With ``target_kernels`` configured, each object is also checked against each target kernel
(``bpfbuild verify --kernel``): every feature a target lacks is an error (a warning with
``verify = "warn"``) at the line that uses it, and the summary gets a column per target.
Incremental on the object and on the verifier's sources; pyelftools and the verifier are
imported inside the action, so a no-op ``doit`` stays cheap.
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
from bpfbuild.tasks.build import program_type_setting
from bpfbuild.tasks.project import code_identity, current_project

__all__ = ["VERIFIER_CODE", "task_verify", "verify_object"]

#: The code a verdict depends on: the verifier and what it reads the program with (the
#: instruction set, the ABI tables, BTF, the object loader and its CO-RE relocations).  A
#: change in any of them reruns every verification.
VERIFIER_CODE = tuple(Path(__file__).resolve().parent.parent / d for d in ("isa", "abi", "btf", "obj", "verifier"))


def _shown(prog: ProgramSource, file: str, root: str) -> str:
    """A source file of the object as messages show it: the project's path for the program's own
    source (BTF may hold it as compiled, absolute or relative to another directory)."""
    from bpfbuild.location import shown_path

    if Path(file).name == prog.source.name:
        file = str(prog.source)
    return shown_path(file, root)


def _check_targets(spec: Any, prog: ProgramSource, root: str, mode: str,
                   targets: tuple[str, ...]) -> tuple[dict[str, list[dict[str, Any]]], bool]:
    """Per target: the features it lacks (records), printed as diagnostics; and whether any."""
    from bpfbuild.kernel.probe import target_for
    from bpfbuild.obj.compat import check_object

    out: dict[str, list[dict[str, Any]]] = {}
    lacking = False
    for name in targets:
        found = check_object(spec, target_for(name, root))
        records = []
        for lack in found:
            loc = lack.feature.location
            where = (f"{_shown(prog, loc.file, root)}:{loc.line}" + (f":{loc.column}" if loc.column else "")
                     if loc is not None else _shown(prog, str(prog.object), root))
            kind = "warning" if mode == "warn" else "error"
            sys.stdout.write(f"{where}: {kind}: {lack.message}\n")
            records.append({"program": lack.feature.program, "feature": lack.feature.title,
                            "since": lack.feature.since, "message": lack.message, "where": where})
        out[name] = records
        lacking |= bool(records)
    return out, lacking


def verify_object(prog: ProgramSource, root: str, mode: str, kernels: tuple[str, ...] = ()) -> TaskFailed | None:
    """The action of ``verify:<prog>``."""
    from bpfbuild.errors import BpfBuildError, TargetMismatch, format_error
    from bpfbuild.tasks.build import load_program_object
    from bpfbuild.tasks.report import write_result
    from bpfbuild.verifier import verify

    obj_shown = _shown(prog, str(prog.object), root)
    try:
        spec = load_program_object(prog)
        reports = [verify(spec, p) if p.prog_type is not None else _untyped(prog, p) for p in spec.programs]
    except TargetMismatch as exc:
        # the object is sound; this kernel cannot take it (another may): no verdict, not a failure
        message = (f"{obj_shown}: warning: {exc.message}: this kernel cannot load the object (libbpf fails the "
                   "same way); not verified")
        write_result(prog.object.parent, prog.name, "verify", {"programs": [], "verdict": "unknown",
                                                               "note": message})
        sys.stdout.write(message + "\n")
        sys.stdout.flush()
        return None
    except BpfBuildError as exc:
        message = format_error(exc.with_file(str(prog.object)), root=root)
        write_result(prog.object.parent, prog.name, "verify", {"programs": [], "error": message})
        sys.stderr.write(message + "\n")
        return TaskFailed(message)
    rejected = False
    target_only: set[str] = set()
    for r in reports:
        # the program is sound; this kernel's kallsyms cannot give a typed __ksym's address
        # (built without CONFIG_KALLSYMS_ALL): libbpf fails here, another kernel loads it
        here_only = r.rejected and all(d.message.startswith(_NO_ADDRESS) for d in r.errors)
        for d in r.errors:
            text = d.format(_shown(prog, d.location.file, root) if d.location else obj_shown, r.program,
                            severity="warning" if mode == "warn" or r.unknown or here_only else "error")
            sys.stdout.write(text + "\n")
            if here_only:
                sys.stdout.write(_no_address_note(d.location and _shown(prog, d.location.file, root) or obj_shown,
                                                  d.location) + "\n")
            if _POISON in d.message or d.message.startswith(_POISON_LIBBPF):
                sys.stdout.write(_poison_note(spec, d.location and _shown(prog, d.location.file, root) or obj_shown,
                                              d.location) + "\n")
        if here_only:
            target_only.add(r.program)
            sys.stdout.write(f"{obj_shown}: prog '{r.program}': unknown (this kernel cannot load it; not verified)\n")
            continue
        rejected |= r.rejected
        sys.stdout.write(f"{obj_shown}: prog '{r.program}': {r.summary} ({r.processed_insns} insns processed)\n")
    try:
        lacks, lacking = _check_targets(spec, prog, root, mode, kernels) if kernels else ({}, False)
    except BpfBuildError as exc:
        message = format_error(exc, root=root)
        sys.stderr.write(message + "\n")
        return TaskFailed(message)
    sys.stdout.flush()
    programs = [r.as_dict(lambda f: _shown(prog, f, root)) for r in reports]
    for entry in programs:
        if entry["name"] in target_only:
            entry["verdict"] = "unknown"
            entry["target"] = "no address for a typed __ksym (built without CONFIG_KALLSYMS_ALL)"
    write_result(prog.object.parent, prog.name, "verify", {
        "programs": programs,
        "verdict": "rejected" if rejected else "unknown" if target_only or any(r.unknown for r in reports)
        else "accepted",
        "targets": lacks})
    if rejected and mode != "warn":
        return TaskFailed(f"{_shown(prog, str(prog.source), root)}: rejected by the verifier")
    if lacking and mode != "warn":
        names = ", ".join(n for n, found in lacks.items() if found)
        return TaskFailed(f"{_shown(prog, str(prog.source), root)}: uses features target {names} lacks")
    return None


#: how the kernel names the call libbpf writes over an instruction whose CO-RE relocation failed
_POISON = "unknown#195896080"
#: and how libbpf rewrites that message in the log it shows (the verifier reports it so)
_POISON_LIBBPF = "failed to resolve CO-RE relocation"


#: the kernel's refusal of a typed __ksym whose address its kallsyms lacks
_NO_ADDRESS = "ldimm64 failed to find the address for kernel symbol"


def _no_address_note(file: str, location: Any) -> str:
    where = f"{file}:{location.line}" if location is not None else file
    return (f"{where}: note: this kernel lists no address for the symbol (it lacks CONFIG_KALLSYMS_ALL): libbpf's "
            "load fails here the same way, a kernel that lists it in /proc/kallsyms loads the program; not verified")


def _poison_note(spec: Any, file: str, location: Any) -> str:
    """One ``note:`` line after a rejection of libbpf's poisoned call: which relocations failed,
    against which BTF (the program reads types the target does not have: the user's to fix)."""
    failed = [r for r in (spec.core.results if spec.core is not None else ()) if r.poisoned]
    what = ", ".join(dict.fromkeys(f"{r.kind} of {r.type_name} ({r.access})" for r in failed[:8])) or "?"
    where = f"{file}:{location.line}" if location is not None else file
    btf = spec.core.btf if spec.core is not None and spec.core.btf else "the target BTF"
    return (f"{where}: note: this call is libbpf's mark for a CO-RE relocation it could not resolve against {btf} "
            f"({what}): the program reads a type or field that BTF lacks (a kernel without that feature, or a "
            "user-space type whose BTF its loader must pass in btf_custom_path); libbpf's load fails the same way")


def _untyped(prog: ProgramSource, program: Any) -> Any:
    """A section libbpf cannot type has no verdict here (the build warned, naming the setting);
    its loader may give the type (``bpf_program__set_type``), so it is ``unknown``, not a failure."""
    from bpfbuild.verifier import Report

    return Report(program.name, program.section, False, 0, notes=(
        f"the program type of section '{program.section}' (libbpf cannot type it: set [tool.bpfbuild.programs."
        f"{prog.name}] type = \"...\", as a loader's bpf_program__set_type does)",))


def task_verify() -> Any:
    """Check every built program with bpfbuild's verifier (the kernel's rules, at the source line)."""
    project = current_project()
    programs = project.config.programs()
    if not programs:
        yield {"basename": "verify", "name": None, "doc": task_verify.__doc__, "actions": None}
        return
    root = str(project.config.root)
    code = ";".join(f"{d.name}/{code_identity(str(d))}" for d in VERIFIER_CODE)
    targets = project.config.target_kernels
    # a saved probe is an input; `running` is the kernel booted now (its release and build)
    probe_files = [str(project.config.root / t) for t in targets if t.endswith(".json")]
    running = " ".join(os.uname()[2:4]) if "running" in targets else None
    for prog in programs:
        yield {
            "name": prog.name,
            "doc": f"verify {prog.object} with bpfbuild's verifier",
            "actions": [(verify_object, [prog, root, project.config.verify_mode(prog.name), targets])],
            "file_dep": [str(prog.object), *probe_files],
            "uptodate": [config_changed({"bpfbuild": __version__, "mode": project.config.verify_mode(prog.name),
                                         "code": code,
                                         "targets": list(targets), "running": running,
                                         **program_type_setting(prog)})],
            "clean": [],
            "verbosity": 2,
        }

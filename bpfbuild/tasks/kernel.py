"""``doit load`` / ``doit unload``: put every built program into the kernel, pinned; take it out.

``load:<prog>`` loads ``build/<prog>.bpf.o`` through libbpf and pins each of its programs at
``<pin_dir>/<prog>/<program name>`` (``pin_dir`` defaults to ``/sys/fs/bpf/<project>``),
replacing the pins of a previous load, and prints one line per program (id, tag, xlated
and jited sizes, map ids).  A program the kernel rejects fails the task with the verifier's
error at the source line (``file:line: error: ...``) and its log.  ``unload:<prog>``
removes those pins.  Both need root (CAP_BPF) and always run; neither is a default task.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from doit.exceptions import TaskFailed

from bpfbuild.config import Config, ProgramSource, load_config
from bpfbuild.errors import BpfBuildError, format_error

__all__ = ["load_program", "pin_dir_for", "task_load", "task_unload", "unload_program"]


def pin_dir_for(config: Config, prog: ProgramSource, bpffs: Path | None = None) -> Path:
    """Where ``doit load`` pins the programs of one object (``bpffs``: config.bpffs_dir, when
    the caller has it already: the project's name costs a realpath)."""
    return (bpffs if bpffs is not None else Path(config.bpffs_dir)) / prog.name.replace(".", "_")


def _source_for(prog: ProgramSource, file: str) -> str:
    """The kernel prints the basename of the file BTF names: give the user's path for it."""
    return str(prog.source) if Path(file).name == prog.source.name else file


def _rejection(prog: ProgramSource, program: str, log: str) -> str:
    from bpfbuild.kernel import parse_log_error

    error, insn, raw_source = parse_log_error(log)
    where = str(prog.object)
    if raw_source and " @ " in raw_source:
        loc = raw_source.rpartition(" @ ")[2]
        file, _, line = loc.rpartition(":")
        if line.isdigit() and int(line):
            where = f"{_source_for(prog, file)}:{line}"
    at = f", insn {insn}" if insn is not None else ""
    return f"{where}: error: {error} (kernel verifier, prog '{program}'{at})"


def load_program(config_root: str, name: str) -> TaskFailed | None:
    """The action of ``load:<name>``."""
    from bpfbuild.kernel import KernelObject, availability, remove_pins

    config = load_config(Path(config_root))
    prog = next((p for p in config.programs() if p.name == name), None)
    if prog is None:
        return TaskFailed(f"no program {name!r} in {config.source_dir}")
    reason = availability()
    if reason is not None:
        return TaskFailed(f"load:{name}: {reason}")
    pin_dir = pin_dir_for(config, prog)
    try:
        with KernelObject.open(prog.object) as obj:
            if prog.prog_type is not None:     # [tool.bpfbuild.programs.<name>] type = "xdp"
                obj.type_untyped(prog.prog_type, prog.attach)
            try:
                obj.load()
            except BpfBuildError as exc:
                failed = obj.last_failed
                if failed is None or not failed.log.strip():
                    return TaskFailed(format_error(exc))
                print(_rejection(prog, failed.name, failed.log), file=sys.stderr)
                sys.stderr.write(failed.log if failed.log.endswith("\n") else failed.log + "\n")
                return TaskFailed(f"{prog.object}: the kernel rejected prog '{failed.name}'")
            remove_pins(pin_dir)                 # replace what a previous load pinned
            for program in obj.programs.values():
                path = program.pin(pin_dir / program.name.replace(".", "_"))
                info = program.info()
                maps = ",".join(str(i) for i in info.map_ids) or "-"
                jited = f"jited {info.bytes_jited}B" if info.jited else "not jited"
                print(f"{prog.name}: {program.name} id {info.id} tag {info.tag} xlated {info.bytes_xlated}B "
                      f"{jited} map_ids {maps} -> {path}")
    except BpfBuildError as exc:
        return TaskFailed(format_error(exc))
    return None


def unload_program(config_root: str, name: str) -> TaskFailed | None:
    """The action of ``unload:<name>``."""
    from bpfbuild.kernel import availability, remove_pins

    config = load_config(Path(config_root))
    prog = next((p for p in config.programs() if p.name == name), None)
    if prog is None:
        return TaskFailed(f"no program {name!r} in {config.source_dir}")
    reason = availability()
    if reason is not None:
        return TaskFailed(f"unload:{name}: {reason}")
    try:
        removed = remove_pins(pin_dir_for(config, prog))
    except BpfBuildError as exc:
        return TaskFailed(format_error(exc))
    try:
        Path(config.bpffs_dir).rmdir()          # the project's pin dir, once its last object is gone
    except OSError:
        pass
    for path in removed:
        print(f"{prog.name}: unpinned {path}")
    if not removed:
        print(f"{prog.name}: nothing pinned")
    return None


def _unknown_requests(basename: str, programs: list[ProgramSource] | tuple[ProgramSource, ...]) -> Any:
    """Tasks that fail for ``doit <basename>:<name>`` naming no program.  These generators are
    delayed (created only when asked for), and doit runs nothing, successfully, for a delayed
    task name its generator does not make: the user would not learn of the typo."""
    known = {p.name for p in programs}
    for arg in sys.argv[1:]:
        base, sep, name = arg.partition(":")
        if base == basename and sep and name and name not in known:
            message = f"no program {name!r} (programs: {', '.join(sorted(known)) or 'none'})"
            yield {"basename": basename, "name": name, "doc": message, "uptodate": [False],
                   "actions": [(lambda m=message: TaskFailed(m), [])]}


def task_load() -> Any:
    """Load every built program into the kernel and pin it (needs root)."""
    config = load_config(Path("."))
    programs = config.programs()
    yield from _unknown_requests("load", programs)
    if not programs:
        yield {"basename": "load", "name": None, "doc": task_load.__doc__, "actions": None}
        return
    bpffs = Path(config.bpffs_dir)
    for prog in programs:
        yield {
            "basename": "load",
            "name": prog.name,
            "doc": f"load {prog.object} and pin it under {pin_dir_for(config, prog, bpffs)}",
            "actions": [(load_program, [str(config.root), prog.name])],
            "file_dep": [prog.object],
            "uptodate": [False],
            "verbosity": 2,
        }


def task_unload() -> Any:
    """Remove the pins `doit load` made (the programs go when nothing else holds them)."""
    config = load_config(Path("."))
    programs = config.programs()
    yield from _unknown_requests("unload", programs)
    if not programs:
        yield {"basename": "unload", "name": None, "doc": task_unload.__doc__, "actions": None}
        return
    bpffs = Path(config.bpffs_dir)
    for prog in programs:
        yield {
            "basename": "unload",
            "name": prog.name,
            "doc": f"remove the pins under {pin_dir_for(config, prog, bpffs)}",
            "actions": [(unload_program, [str(config.root), prog.name])],
            "uptodate": [False],
            "verbosity": 2,
        }

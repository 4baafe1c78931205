"""``doit build``: compile every programs/*.bpf.c into build/*.bpf.o (and ``headers``).

A program is rebuilt when, and only when, the content of its source or of any header it includes
changed, its compile command changed, or the compiler (path + version) changed.  The header list
comes from clang's ``-MD -MF`` depfile of the last compile and is recorded, with each file's md5,
in a kbuild-style ``.<name>.bpf.o.cmd`` beside the object: a new or removed include is seen by
the compile that introduced it, and headers first listed by a compile do not make the next
``doit`` rebuild (as they would as doit file_deps with no recorded state).  Each compile says why
it ran.  Outputs are written to temporary names and renamed into place, and a failed compile
removes the old object, so nothing stale can pass for up to date.

Every compile defines ``__TARGET_ARCH_<arch>`` (bpf_tracing.h's pt_regs layout); a source that
includes ``vmlinux.h`` gets ``build/vmlinux.h`` (``doit vmlinux``, from the kernel's BTF) and the
build dir on its include path with no configuration -- found by a scan of the source, by the
record of the last compile (a header that includes it), or by the compiler's "file not found"
(then generated and compiled again).  ``compiler_launcher`` (ccache, sccache) runs in front of the
compiler without changing the recorded command.  After a "file not found" for a header users
commonly miss, a ``note:`` line says what to do.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import subprocess
import sys
import time
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

__all__ = ["changed_deps", "load_program_object", "missing_header_hints", "program_argv", "task_build",
           "task_headers", "uses_vmlinux"]


def _cmd_file(prog: ProgramSource) -> Path:
    """kbuild-style record of the command and inputs that made the object."""
    return prog.object.with_name(f".{prog.name}.bpf.o.cmd")


def program_argv(project: Project, prog: ProgramSource, *, output: Path | None = None,
                 depfile: Path | None = None, vmlinux: bool | None = None) -> list[str]:
    """The compile command (without the compiler launcher); ``vmlinux``: put the build dir on
    the include path for build/vmlinux.h (None: decide from the source and the last compile)."""
    assert project.compiler is not None and project.includes is not None
    s = prog.settings
    if vmlinux is None:
        vmlinux = uses_vmlinux(prog)
    include_dirs = s.include_dirs
    if vmlinux and not _names_build_dir(project, include_dirs):
        include_dirs = (*include_dirs, _relative_to_root(project, project.config.build_dir))
    return compile_argv(
        project.compiler, prog.source, output or prog.object,
        include_flags=project.includes.flags, cflags=s.cflags, defines=s.defines,
        include_dirs=include_dirs, mcpu=s.mcpu, depfile=depfile, target_arch=project.config.target_arch,
    )


# --- vmlinux.h users, found with no configuration ----------------------------------------------

# (a `__has_include("vmlinux.h")` is optional by design: such a source keeps its fallback unless
# its include dirs name the build dir)
_VMLINUX_INCLUDE = re.compile(rb'^[ \t]*#[ \t]*include[ \t]*[<"]vmlinux\.h[>"]', re.MULTILINE)
_RECORDS: dict[str, tuple[tuple[int, int] | None, dict[str, Any] | None]] = {}


def _cached_record(prog: ProgramSource) -> dict[str, Any] | None:
    """The last compile's record, read once per process while the file is unchanged."""
    path = str(_cmd_file(prog))
    key = _stat_key(path)
    hit = _RECORDS.get(path)
    if hit is not None and hit[0] == key:
        return hit[1]
    record = _read_record(prog) if key is not None else None
    _RECORDS[path] = (key, record)
    return record


def uses_vmlinux(prog: ProgramSource) -> bool:
    """Does the program include vmlinux.h?  The last compile's record knows (its depfile listed
    it) while the source is unchanged; otherwise a scan of the source's text."""
    record = _cached_record(prog)
    if record is not None and isinstance(record.get("vmlinux"), bool) and isinstance(record.get("deps"), dict):
        old = record["deps"].get(str(prog.source))
        key = _stat_key(str(prog.source))
        if old is not None and key is not None and list(key) == old[:2]:
            return bool(record["vmlinux"])
        if record["vmlinux"]:
            return True      # a header may include it: keep it until a compile says otherwise
    from bpfbuild.inputs import MAX_TEXT_BYTES, read_input

    try:
        return _VMLINUX_INCLUDE.search(read_input(prog.source, limit=MAX_TEXT_BYTES)) is not None
    except BpfBuildError:   # unreadable, a FIFO, too large: the compile says what is wrong
        return False


def _names_build_dir(project: Project, include_dirs: tuple[str, ...]) -> bool:
    build = os.path.normpath(project.config.build_dir)
    root = project.config.root
    return any(os.path.normpath(root / d) == build or os.path.normpath(d) == build for d in include_dirs)


def _relative_to_root(project: Project, path: Path) -> str:
    try:
        return str(path.relative_to(project.config.root))
    except ValueError:
        return str(path)


def _vmlinux_in(deps: list[str], build_dir: Path) -> bool:
    target = os.path.normpath(os.path.abspath(build_dir / "vmlinux.h"))
    return any(os.path.normpath(os.path.abspath(d)) == target for d in deps)


# --- hints after clang's "file not found" ------------------------------------------------------

_NOT_FOUND = re.compile(r"^(?P<loc>[^\n:]+:\d+:\d+): fatal error: '(?P<header>[^']+)' file not found$", re.MULTILINE)
_INCLUDED_FROM = re.compile(r"^In file included from (?P<loc>[^\n]+:\d+):$", re.MULTILINE)


def _hint_for(header: str, vmlinux_source: str, machine: str) -> str | None:
    if header == "vmlinux.h":
        return (f"bpfbuild writes build/vmlinux.h from the kernel's BTF ({vmlinux_source}), which this "
                "machine does not provide: build where the kernel has CONFIG_DEBUG_INFO_BTF, or declare the "
                "kernel types the program reads yourself (CO-RE matches them by name)")
    if header in ("gnu/stubs-32.h", "gnu/stubs.h"):
        return ("a user-space (glibc) header was included into BPF code, and glibc picks its 32-bit stubs for "
                "-target bpf: install them (libc6-dev-i386 on Debian/Ubuntu, glibc-devel.i686 on Fedora, as "
                "XDP tutorials' setups do), or include only headers that do not pull in glibc (vmlinux.h) "
                "and declare what else you need yourself")
    if header.startswith("asm/"):
        return (f"<{header}> comes from the kernel headers for this architecture "
                f"(/usr/include/{machine}-linux-gnu/asm on Debian/Ubuntu, which bpfbuild adds when it exists): "
                "install linux-libc-dev, or add its directory to [tool.bpfbuild] include_dirs")
    if header.startswith("bpf/") and header.endswith(".h"):
        return (f"<{header}> is one of libbpf's headers: install libbpf-dev (Debian/Ubuntu) or libbpf-devel; "
                "without them bpfbuild uses its own smaller set (bpf_helpers.h, bpf_tracing.h, bpf_core_read.h, "
                "bpf_endian.h, usdt.bpf.h)")
    if header.startswith("linux/"):
        return f"<{header}> comes from the kernel's UAPI headers: install linux-libc-dev (Debian/Ubuntu) or kernel-headers"
    return None


_BACKEND_ERROR = re.compile(r"error in backend|Cannot select: |unsupported signed division", re.IGNORECASE)
_CLANG_MAJOR = re.compile(r"clang version (\d+)")


def backend_error_hint(stderr: str, source: str, argv: list[str], path_env: str | None = None) -> list[str]:
    """One ``note:`` after clang's "error in backend" (an older clang's BPF code generator cannot
    lower something the program does, such as a signed division), or after ``bool`` unknown under
    ``-std=gnu2x`` (a keyword from clang 15): the source is fine for a newer clang; name the
    newest clang-NN on PATH that is newer than the one used, if any."""
    c23 = any(a in ("-std=gnu2x", "-std=c2x", "-std=gnu23", "-std=c23") for a in argv)
    c23_bool = c23 and re.search(r"(undeclared identifier|unknown type name) 'bool'", stderr) is not None
    if not _BACKEND_ERROR.search(stderr) and not c23_bool:
        return []
    from bpfbuild.toolchain.discover import versioned_clangs

    used = os.path.basename(argv[0]) if argv else "clang"
    newer = [c for c in versioned_clangs(path_env if path_env is not None else os.environ.get("PATH"))
             if os.path.realpath(c) != os.path.realpath(argv[0] if argv else "")]
    current = re.search(r"clang-(\d+)$", os.path.realpath(argv[0])) if argv else None
    if current is not None:
        newer = [c for c in newer if int(re.search(r"(\d+)$", c).group(1)) > int(current.group(1))]  # type: ignore[union-attr]
    fix = (f"build with a newer one: compiler = \"{os.path.basename(newer[0])}\" in [tool.bpfbuild] (on PATH), "
           "or $BPF_CLANG" if newer
           else "build with a newer clang (18 or later lowers what older ones cannot): compiler = \"/path/to/clang\" "
                "in [tool.bpfbuild], or $BPF_CLANG")
    if c23_bool:
        return [f"{source}: note: under {next(a for a in argv if a.startswith('-std='))} bool is a keyword from "
                f"clang 15 on, and {used} is older; {fix}"]
    return [f"{source}: note: {used}'s BPF code generator cannot compile this program (its error, not the "
            f"program's); {fix}"]


def missing_header_hints(stderr: str, *, vmlinux_source: str = "/sys/kernel/btf/vmlinux",
                         machine: str | None = None) -> list[str]:
    """One ``file:line:col: note: ...`` line per well-known missing header in clang's output.

    The note is placed where the user's own file starts the include chain (clang's first
    "In file included from" line before the error: ``file:line: note:``), else at the error.
    """
    machine = machine or os.uname().machine
    notes = []
    block_start = 0
    for m in _NOT_FOUND.finditer(stderr):
        hint = _hint_for(m.group("header"), vmlinux_source, machine)
        chain = list(_INCLUDED_FROM.finditer(stderr, block_start, m.start()))
        block_start = m.end()
        if hint is None:
            continue
        loc = m.group("loc")
        if chain:   # clang lists the chain outermost first: the deepest of the project's own files
            hint = f"'{m.group('header')}' is reached through this #include: " + hint
            own = [c.group("loc") for c in chain if not os.path.isabs(c.group("loc"))]
            loc = own[-1] if own else chain[0].group("loc")
        notes.append(f"{loc}: note: {hint}")
    return notes


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


#: Linux's CLOCK_REALTIME_COARSE: the clock file timestamps come from (a write after we read it
#: is stamped no earlier).  Elsewhere: the fine clock minus a margin for a coarser file clock.
_COARSE_CLOCK = getattr(time, "CLOCK_REALTIME_COARSE", 5 if sys.platform.startswith("linux") else None)
_CLOCK_SLACK_NS = 20_000_000


def _compile_start_ns() -> int:
    """A time no later than the mtime of any write that happens after this call, and later than
    the mtime of every write that happened before it.

    File times come from the coarse clock, so a header written just before the compile (the
    generated bpf_helper_defs.h, a vmlinux.h) can carry the very tick the compile starts in; we
    wait for the next tick (a few ms at most) so that "modified after the compile started" is
    never said of a file written before it."""
    if _COARSE_CLOCK is not None:
        try:
            first = time.clock_gettime_ns(_COARSE_CLOCK)
            now = first
            while now == first:
                time.sleep(0.0005)
                now = time.clock_gettime_ns(_COARSE_CLOCK)
            return now
        except OSError:
            pass
    return time.time_ns() - _CLOCK_SLACK_NS


def _valid_dep(value: Any) -> bool:
    """One recorded dependency: ``[size, mtime_ns, md5]`` (all None: force a rebuild)."""
    if not isinstance(value, list) or len(value) != 3:
        return False
    size, mtime, digest = value      # ints, not bools (type(...) is int); checked per header on every run
    return ((size is None or type(size) is int) and (mtime is None or type(mtime) is int)
            and (digest is None or isinstance(digest, str)))


def record_problem(prog: ProgramSource, record: Any) -> str | None:
    """Why a ``.cmd`` record cannot be trusted (wrong shape, no deps, no source), or None."""
    if not isinstance(record, dict):
        return "not a JSON object"
    deps = record.get("deps")
    if not isinstance(deps, dict) or not deps:
        return "no dependency list"
    if not all(isinstance(k, str) and _valid_dep(v) for k, v in deps.items()):
        return "malformed dependency entry"
    if str(prog.source) not in deps:
        return "the source is not among its dependencies"
    for key in ("argv", "compiler", "bpfbuild"):
        if key in record and not isinstance(record[key], (str, list)):
            return f"malformed {key!r}"
    return None


def _load_record(prog: ProgramSource) -> tuple[dict[str, Any] | None, str]:
    """The last compile's record, or None and why it is unusable."""
    from bpfbuild.inputs import read_text_input

    if not _cmd_file(prog).exists():
        return None, "no record of the last compile"
    try:
        text = read_text_input(_cmd_file(prog), limit=16 << 20)
    except BpfBuildError as exc:
        return None, f"record of the last compile unreadable: {exc.message.removeprefix('cannot read: ')}"
    try:
        record = json.loads(text)
    except ValueError:
        return None, "record of the last compile is not JSON"
    problem = record_problem(prog, record)
    if problem is not None:
        return None, f"record of the last compile unusable: {problem}"
    return record, ""


def _read_record(prog: ProgramSource) -> dict[str, Any] | None:
    return _load_record(prog)[0]


def changed_deps(prog: ProgramSource, record: dict[str, Any] | None = None) -> list[str] | None:
    """The dependencies (source and every header of the last compile) whose content changed.

    A bare ``touch`` changes nothing (md5 compared when size or mtime moved, as doit does).
    None: no usable record of the last compile -- none, or its depfile did not parse (then
    the headers are unknown, and the program is rebuilt until the depfile parses).
    """
    # a record comes from _load_record, which checked its shape (record_problem) already
    record = _read_record(prog) if record is None else record
    if record is None or record.get("deps_error"):
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
    return os.path.exists(prog.object) and changed_deps(prog, _cached_record(prog)) == []


def _reason(prog: ProgramSource, record: dict[str, Any]) -> str:
    if not prog.object.exists():
        return "no object yet"
    old, why = _load_record(prog)
    if old is None:
        return why
    if old.get("compiler") != record["compiler"]:
        return f"compiler changed: {old.get('compiler')} -> {record['compiler']}"
    if old.get("argv") != record["argv"]:
        return "flags changed"
    if old.get("bpfbuild") != record["bpfbuild"]:
        return f"bpfbuild changed: {old.get('bpfbuild')} -> {record['bpfbuild']}"
    if old.get("type") != record.get("type"):
        return "program type setting changed"
    if old.get("deps_error"):
        return f"the last depfile did not parse, so its headers are unknown: {old['deps_error']}"
    changed = changed_deps(prog, old)
    if changed:
        return "changed: " + " ".join(changed)
    return "forced"


def _remove(*paths: Path) -> None:
    """Remove temporaries: one that is gone, or cannot go (a read-only build dir), is no error."""
    for p in paths:
        try:
            p.unlink()
        except OSError:
            pass


def compile_program(prog: ProgramSource, argv: list[str], record: dict[str, Any],
                    build: dict[str, Any] | None = None) -> TaskFailed | None:
    """Run the compiler into temporary files, then rename them into place.

    ``build``: launcher, the argv to use if the compiler cannot find vmlinux.h, and where
    vmlinux.h comes from (see :func:`_build_options`).
    """
    build = build or {}
    # one write call: under `doit -n 2` workers share the terminal with doit's own reporter
    sys.stdout.write(f"{prog.source}: compiling ({_reason(prog, record)})\n")
    sys.stdout.flush()
    try:
        prog.object.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return TaskFailed(f"{prog.object.parent}: cannot create: {exc.strerror or exc}")
    tmp_obj = _tmp_name(prog.object)
    tmp_dep = _tmp_name(prog.depfile)
    if build.get("uses_vmlinux"):
        _ensure_vmlinux(build)        # before the snapshots: written now, it is an input like any header
    before = _pre_compile_snapshot(prog)
    start_ns = _compile_start_ns()
    res = _run_compiler(prog, argv, build, tmp_obj, tmp_dep)
    if isinstance(res, TaskFailed):
        _remove_stale_outputs(prog)
        return res
    retry = build.get("vmlinux_argv")
    if res.returncode != 0 and retry and "'vmlinux.h' file not found" in res.stderr and _ensure_vmlinux(build):
        # a header of the program includes vmlinux.h: generated now, compiled again with the build dir
        sys.stdout.write(f"{prog.source}: including build/vmlinux.h (generated from {build['vmlinux_btf']})\n")
        argv, record = retry, {**record, "argv": retry}
        res = _run_compiler(prog, argv, build, tmp_obj, tmp_dep)
        if isinstance(res, TaskFailed):
            _remove_stale_outputs(prog)
            return res
    if res.stdout:
        sys.stdout.write(res.stdout)
    if res.stderr:
        sys.stderr.write(res.stderr)   # clang's diagnostics, unchanged (file:line:col: error: ...)
        notes = missing_header_hints(res.stderr, vmlinux_source=build.get("vmlinux_btf", "/sys/kernel/btf/vmlinux"))
        if res.returncode != 0:
            notes += backend_error_hint(res.stderr, str(prog.source), argv)
        if notes:
            sys.stderr.write("\n".join(notes) + "\n")
        sys.stderr.flush()
    if res.returncode != 0 or not tmp_obj.exists():
        _remove(tmp_obj, tmp_dep)
        _remove_stale_outputs(prog)
        return TaskFailed(f"{prog.source}: compile failed (exit {res.returncode})")
    deps_error: dict[str, str] = {}
    try:
        deps = list(parse_depfile(tmp_dep.read_text(), file=str(prog.depfile)))
    except (OSError, UnicodeDecodeError, BpfBuildError) as exc:
        # Without the headers an edit to one would not rebuild: say so, and rebuild every time.
        deps = [str(prog.source)]
        deps_error["deps_error"] = exc.message if isinstance(exc, BpfBuildError) else str(exc)
        sys.stdout.write(f"{prog.depfile}: warning: {deps_error['deps_error']}; "
                         "the program is rebuilt on every run until its depfile parses\n")
    if str(prog.source) not in deps:
        deps.insert(0, str(prog.source))
    cmd = _cmd_file(prog)
    tmp_cmd = _tmp_name(cmd)
    record = {**record, "vmlinux": _vmlinux_in(deps, prog.object.parent)}
    try:
        tmp_cmd.write_text(json.dumps({**record, "deps": _post_compile_snapshot(deps, before, start_ns, prog.object.parent),
                                       **deps_error}, indent=1) + "\n")
        if tmp_dep.exists():
            os.replace(tmp_dep, prog.depfile)
        os.replace(tmp_obj, prog.object)
        os.replace(tmp_cmd, cmd)
    except OSError as exc:
        _remove(tmp_obj, tmp_dep, tmp_cmd)
        _remove_stale_outputs(prog)
        return TaskFailed(f"{prog.object.parent}: cannot write the object: {exc.strerror or exc}")
    _record_programs(prog)
    return None


def _run_compiler(prog: ProgramSource, argv: list[str], build: dict[str, Any], tmp_obj: Path,
                  tmp_dep: Path) -> subprocess.CompletedProcess[str] | TaskFailed:
    swap = {str(prog.depfile): str(tmp_dep), str(prog.object): str(tmp_obj)}
    argv = [*build.get("launcher", ()), *(swap.get(a, a) for a in argv)]
    try:
        return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, check=False)
    except OSError as exc:
        _remove(tmp_obj, tmp_dep)
        what = "the compiler launcher" if build.get("launcher") else "the compiler"
        return TaskFailed(f"{prog.source}: cannot run {what}: {exc}")


def _ensure_vmlinux(build: dict[str, Any]) -> bool:
    """build/vmlinux.h exists and is not older than the kernel's BTF, or was just generated."""
    out = Path(build["vmlinux_header"])
    try:
        if out.stat().st_mtime_ns >= os.stat(build["vmlinux_btf"]).st_mtime_ns:
            return True
    except FileNotFoundError:
        if out.exists():
            return True
    if not os.path.exists(build["vmlinux_btf"]):
        return False
    from bpfbuild.tasks.skel import write_vmlinux

    failed = write_vmlinux(out, build["vmlinux_btf"])
    if failed is not None:
        sys.stderr.write(f"{failed}\n")
        return False
    return True


@functools.lru_cache(maxsize=1)
def _running_target() -> Any:
    """One target per process for every stage's reading (its kernel BTF is parsed once, on the
    first extern or CO-RE relocation, not once per object and stage)."""
    from bpfbuild.obj.loader import default_target

    return default_target()


def program_type_setting(prog: ProgramSource) -> dict[str, Any]:
    """The ``type``/``attach`` setting as a key of a stage's recorded settings (absent when unset,
    so projects without it keep their records)."""
    return {"type": [prog.prog_type, prog.attach]} if prog.prog_type is not None else {}


def load_program_object(prog: ProgramSource) -> Any:
    """The object of a program as every stage reads it: ``build/<name>.bpf.o`` with the project's
    per-program ``type``/``attach`` given to untyped sections (ObjectSpec; BpfBuildError)."""
    from bpfbuild.obj.loader import load_object_file
    from bpfbuild.obj.overrides import with_program_types

    spec = load_object_file(prog.object, target=_running_target())
    if prog.prog_type is not None:
        try:
            spec = with_program_types(spec, prog.prog_type, prog.attach)
        except BpfBuildError as exc:
            raise exc.with_file(f"[tool.bpfbuild.programs.{prog.name}]") from None
    return spec


# -- hardening: per-process temporaries, digests taken before the compile, stale outputs -------------


def _tmp_name(path: Path) -> Path:
    """A temporary beside ``path`` that no other process (a second ``doit``) uses."""
    return path.with_name(f"{path.name}.{os.getpid()}.tmp")


def _pre_compile_snapshot(prog: ProgramSource) -> dict[str, list[Any]]:
    """size, mtime and md5 of the source and of every header of the last compile, taken *before*
    the compiler runs: what is recorded is at most as new as what the compiler read."""
    old = _read_record(prog)
    paths = [str(prog.source)] + (list(old["deps"]) if old is not None else [])
    # headers bpfbuild generated before this compile (bundled helper defs, vmlinux.h) are known
    # now, even on a first compile: snapshot them too, under each spelling a depfile may use
    build = prog.object.parent
    for gen in (build / "vmlinux.h", *(build / "include").rglob("*.h")):
        if gen.is_file():
            paths += [str(gen), os.path.relpath(gen), os.path.abspath(gen)]
    return _snapshot(list(dict.fromkeys(paths)))


def _post_compile_snapshot(deps: list[str], before: dict[str, list[Any]], start_ns: int,
                           build_dir: Path | None = None) -> dict[str, list[Any]]:
    """The record of a compile's dependencies.

    A dependency snapshotted before the compile keeps that snapshot: an edit during the compile
    differs from it, so the next ``doit`` rebuilds.  A dependency first seen in this compile's
    depfile has no earlier snapshot; if it was modified after the compile started it is recorded
    as unknown (rebuilt next time) rather than as the content the compiler may not have read.
    Headers inside ``build_dir`` are bpfbuild's own outputs (helper definitions, vmlinux.h,
    skeletons), written by tasks doit runs before this one under the project lock: their content
    now is what the compiler read.
    """
    generated = os.path.abspath(build_dir) + os.sep if build_dir is not None else None
    out: dict[str, list[Any]] = {}
    for path in deps:
        snap = before.get(path)
        if snap is not None and snap[0] is not None:
            out[path] = snap
            continue
        key = _stat_key(path)
        if key is None or (key[1] >= start_ns and not (generated and os.path.abspath(path).startswith(generated))):
            out[path] = [None, None, None]
        else:
            out[path] = [key[0], key[1], _digest(path)]
    return out


def _remove_stale_outputs(prog: ProgramSource) -> None:
    """After a failed compile nothing derived from the old object may remain: the object, its
    depfile and record, and the skeletons generated from it."""
    from bpfbuild.tasks.skel import skeleton_paths

    for path in (prog.object, prog.depfile, _cmd_file(prog), *skeleton_paths(prog)):
        try:
            path.unlink()
        except FileNotFoundError:
            pass
        except OSError as exc:
            sys.stderr.write(f"{path}: warning: cannot remove the stale output: {exc.strerror or exc}\n")


def _record_programs(prog: ProgramSource) -> None:
    """What the object holds (for the summary): read once, right after the compile."""
    from bpfbuild.obj.overrides import untyped_hint
    from bpfbuild.tasks.report import write_result

    try:
        spec = load_program_object(prog)
    except BpfBuildError as exc:
        sys.stdout.write(f"{prog.object}: warning: cannot read the object: {exc.message}\n")
        write_result(prog.object.parent, prog.name, "build", {"programs": [], "error": exc.message})
        return
    for p in spec.programs:
        if p.section_info is None:
            sys.stdout.write(untyped_hint(str(prog.source), prog.name, p.section) + "\n")
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
    from bpfbuild.tasks.skel import VMLINUX_BTF

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
        vmlinux = uses_vmlinux(prog)
        argv = program_argv(project, prog, depfile=prog.depfile, vmlinux=vmlinux)
        record = {"argv": argv, "compiler": project.compiler.identity, "bpfbuild": __version__,
                  **program_type_setting(prog)}
        file_dep = [str(prog.source)]
        assert project.includes is not None
        if project.includes.libbpf == "bpfbuild":
            file_dep.append(str(project.helper_defs))
        task: dict[str, Any] = {
            "name": prog.name,
            "doc": f"compile {prog.source} -> {prog.object}",
            "actions": [(compile_program, [prog, argv, record, _build_options(project, prog, vmlinux)])],
            "file_dep": file_dep,
            "targets": [prog.object, prog.depfile, _cmd_file(prog)],
            "uptodate": [config_changed(record), (deps_uptodate, [prog])],
            "clean": True,
            "verbosity": 2,
        }
        if _names_build_dir(project, prog.settings.include_dirs):
            task["task_dep"] = ["vmlinux"]   # build/vmlinux.h must exist before its first compile
        elif vmlinux and os.path.exists(VMLINUX_BTF):
            file_dep.append(VMLINUX_BTF)      # the compile writes build/vmlinux.h when missing or older
        yield task


def _build_options(project: Project, prog: ProgramSource, vmlinux: bool) -> dict[str, Any]:
    """What the compile action needs besides the recorded command (plain data for doit -n)."""
    from bpfbuild.tasks.skel import VMLINUX_BTF

    options: dict[str, Any] = {"launcher": list(project.config.compiler_launcher),
                               "vmlinux_btf": VMLINUX_BTF,
                               "vmlinux_header": str(project.config.build_dir / "vmlinux.h")}
    if not vmlinux and not _names_build_dir(project, prog.settings.include_dirs):
        options["vmlinux_argv"] = program_argv(project, prog, depfile=prog.depfile, vmlinux=True)
    if vmlinux and not _names_build_dir(project, prog.settings.include_dirs):
        options["uses_vmlinux"] = True
    return options

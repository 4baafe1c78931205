"""``doit loader``: the user-space loaders beside the objects, linked with the system's libbpf.

``loaders = ["loaders/*.c"]`` (or ``loader = "..."`` in a program's table) makes one task per
loader, ``loader:<name>``, writing the executable ``build/<name>``.  It runs after the skeletons
it includes (``#include "<prog>.skel.h"``; ``build/`` is on its include path), with
``cc -g -O2 -Wall`` (``$CC`` if set), ``pkg-config --cflags --libs libbpf`` or, without
pkg-config, ``-lbpf -lelf -lz``.  Rebuilt, like the objects, when the content of its source or of
a header it includes (clang/gcc depfile, md5 per file) or its command changes.  Without
libbpf's development files a loader task says so in one line and succeeds, so the rest of
``doit`` still passes; so does a loader that needs a header or library this machine lacks
(``blazesym.h``, ``-lfoo``): it is named in one line and the loader is not built.

``loader_sources`` (helpers such as trace_helpers.c) are compiled into every loader and
``loader_libs`` (``-lelf -lz``) are linked after libbpf, ``loader_cflags`` (``-Iinclude``) come
before the sources; all are tracked like the loader's own
source.  Loader names that include a program's skeleton by its file name where two sources
share one (``#include "hello.skel.h"`` next to ``chapter7/hello.bpf.c`` whose program is
``chapter7-hello``) get that program's skeleton under its file name (``build/skel/<program>/``).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from doit.exceptions import TaskFailed
from doit.tools import config_changed

from bpfbuild import __version__
from bpfbuild.config import LoaderSource, ProgramSource
from bpfbuild.errors import BpfBuildError
from bpfbuild.tasks.build import (
    _compile_start_ns,
    _digest,
    _post_compile_snapshot,
    _remove,
    _snapshot,
    _stat_key,
    _tmp_name,
    _valid_dep,
)
from bpfbuild.tasks.project import current_project
from bpfbuild.tasks.skel import stem_skeleton_path
from bpfbuild.toolchain.depfile import parse_depfile

__all__ = ["LIBBPF_MISSING", "libbpf_flags", "loader_argv", "newer_libbpf_api", "task_loader"]

LOADER_FLAGS = ("-g", "-O2", "-Wall")
FALLBACK_LIBS = ("-lbpf", "-lelf", "-lz")
LIBBPF_MISSING = ("libbpf's development files were not found (pkg-config libbpf, <bpf/libbpf.h>, -lbpf): "
                  "install libbpf-dev (Debian/Ubuntu) or libbpf-devel; loader not built")
_SKEL_INCLUDE = re.compile(rb'^[ \t]*#[ \t]*include[ \t]*[<"](?:[^">]*/)?([^/">]+)\.skel\.h[">]', re.MULTILINE)
_LOCAL_INCLUDE = re.compile(rb'^[ \t]*#[ \t]*include[ \t]*"([^"/]+\.h)"', re.MULTILINE)
_MISSING = re.compile(r"bpf/(?:libbpf|bpf|btf|libbpf_common)\.h'?:? (?:[Nn]o such file|file not found)"
                      r"|cannot find -l(?:bpf|elf|z)\b|library not found for -l(?:bpf|elf|z)\b")
#: a header or a library the loader needs that this machine does not have (gcc's and clang's words)
_MISSING_DEP = re.compile(r"fatal error: '?(?P<header>[^':\n]+\.h)'?:? "
                          r"(?:[Nn]o such file or directory|file not found)"
                          r"|(?:cannot find|library not found for) (?P<lib>-l[\w.+-]+)")


def _cmd_file(loader: LoaderSource) -> Path:
    return loader.executable.with_name(f".{loader.name}.loader.cmd")


def c_compiler(environ: dict[str, str] | None = None) -> list[str]:
    """The user-space C compiler: ``$CC`` (may carry flags), else cc, gcc or clang on PATH."""
    env = os.environ if environ is None else environ
    if env.get("CC", "").strip():
        return shlex.split(env["CC"])
    for name in ("cc", "gcc", "clang"):
        if shutil.which(name):
            return [name]
    return ["cc"]


def libbpf_flags(cc: list[str]) -> tuple[list[str], list[str]] | None:
    """(cflags, libs) for libbpf: pkg-config's answer, else the classic libs when the compiler
    finds <bpf/libbpf.h>; None when libbpf's development files are missing."""
    if shutil.which("pkg-config"):
        try:
            cflags = subprocess.run(["pkg-config", "--cflags", "libbpf"], capture_output=True, text=True,
                                    timeout=30, check=False)
            libs = subprocess.run(["pkg-config", "--libs", "libbpf"], capture_output=True, text=True,
                                  timeout=30, check=False)
        except (OSError, subprocess.SubprocessError):
            cflags = libs = None   # type: ignore[assignment]
        if cflags is not None and libs is not None and cflags.returncode == 0 and libs.returncode == 0:
            return shlex.split(cflags.stdout), shlex.split(libs.stdout)
    try:
        res = subprocess.run([*cc, "-E", "-x", "c", "-", "-o", os.devnull], input="#include <bpf/libbpf.h>\n",
                             capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    if res.returncode != 0:
        return None
    return [], list(FALLBACK_LIBS)


def loader_argv(cc: list[str], loader: LoaderSource, build_dir: Path, cflags: list[str], libs: list[str],
                *, output: Path | None = None, depfile: Path | None = None,
                skel_dirs: tuple[str, ...] = ()) -> list[str]:
    """The compile-and-link command: ``loader_sources`` then the loader last (with several
    sources gcc and clang write the last one's dependencies to -MF), libbpf's libs, then
    ``loader_libs``."""
    return [*cc, *LOADER_FLAGS, *(f"-I{d}" for d in skel_dirs), f"-I{build_dir}", *cflags,
            "-MD", "-MF", str(depfile or loader.depfile), *(str(p) for p in loader.extra_sources),
            str(loader.source), "-o", str(output or loader.executable), *libs, *loader.libs]


#: names a failed loader build complains about, in gcc's and clang's words (quotes: ‘’ or '')
_Q = "[‘'`]"
_E = "[’']"
_UNKNOWN_NAME = re.compile(
    rf"implicit declaration of function {_Q}(?P<a>\w+){_E}"
    rf"|{_Q}(?P<b>\w+){_E} undeclared|use of undeclared identifier {_Q}(?P<c>\w+){_E}"
    rf"|{_Q}(?P<d>(?:struct|enum|union) \w+){_E} has no member named {_Q}(?P<e>\w+){_E}"
    rf"|no member named {_Q}(?P<f>\w+){_E} in {_Q}(?P<g>(?:struct|enum|union) \w+){_E}"
    rf"|incomplete type {_Q}(?P<h>(?:struct|enum|union) \w+){_E}"
    rf"|undefined reference to {_Q}(?P<i>\w+){_E}")
_ERROR_LINE = re.compile(r"^(?P<file>[^\n:]+):\d+(?::\d+)?: (?:fatal )?error: ", re.MULTILINE)
#: libbpf's API and the kernel UAPI names that come with it
_LIBBPF_NAME = re.compile(r"^(?:(?:struct|enum|union) )?(?:bpf_|btf_|libbpf_|ring_buffer|user_ring_buffer|perf_buffer"
                          r"|BPF_|BTF_|LIBBPF_|XDP_)")


def newer_libbpf_api(stderr: str) -> list[str] | None:
    """The libbpf names a failed loader build did not find, when they are the only reason it
    failed (every error is in the loader's own files, none in a skeleton bpfbuild wrote, and
    every unknown name is libbpf's): the loader was written for a newer libbpf than this
    machine's.  None when anything else failed."""
    names: list[str] = []
    for m in _UNKNOWN_NAME.finditer(stderr):
        groups = {k: v for k, v in m.groupdict().items() if v}
        if "d" in groups or "g" in groups:
            struct = groups.get("d") or groups["g"]
            names.append(struct)
            continue
        names.append(next(iter(groups.values())))
    if not names or not all(_LIBBPF_NAME.match(n) for n in names):
        return None
    if any(m.group("file").endswith(".skel.h") for m in _ERROR_LINE.finditer(stderr)):
        return None
    return list(dict.fromkeys(names))


def _libbpf_release(cflags: list[str]) -> str:
    """The installed libbpf's release as its headers say (``1.1``), or "" where unreadable."""
    from bpfbuild.toolchain.discover import libbpf_headers_version

    roots = [f[2:] for f in cflags if f.startswith("-I")] + ["/usr/include", "/usr/local/include"]
    for root in roots:
        version = libbpf_headers_version(root)
        if version != (0, 0):
            return f"{version[0]}.{version[1]}"
    return ""


def missing_dependency(stderr: str) -> str | None:
    """The header or library a failed loader build names as missing, if that is why it failed."""
    m = _MISSING_DEP.search(stderr)
    if m is None:
        return None
    return f"<{m.group('header')}>" if m.group("header") else m.group("lib")


def _read_record(loader: LoaderSource) -> dict[str, Any] | None:
    from bpfbuild.errors import BpfBuildError
    from bpfbuild.inputs import read_text_input

    try:
        record = json.loads(read_text_input(_cmd_file(loader), limit=16 << 20))
    except (BpfBuildError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def _changed(record: dict[str, Any] | None) -> list[str] | None:
    deps = record.get("deps") if record is not None else None
    if not isinstance(deps, dict) or not deps or not all(isinstance(k, str) and _valid_dep(v) for k, v in deps.items()):
        return None   # no record, or one of the wrong shape: rebuild
    changed = []
    for path, old in record["deps"].items():
        key = _stat_key(path)
        if key is None or ([key[0], key[1]] != old[:2] and _digest(path) != old[2]):
            changed.append(path)
    return changed


def loader_uptodate(loader: LoaderSource) -> bool:
    """Built and unchanged; or, where it needs what this machine lacks, not changed since that
    was said (a no-op ``doit`` does not try again; ``doit forget loader:<name>`` does)."""
    record = _read_record(loader)
    if record is None or not (loader.executable.exists() or record.get("missing")):
        return False
    return _changed(record) == []


def _reason(loader: LoaderSource) -> str:
    if not loader.executable.exists():
        return "no executable yet"
    changed = _changed(_read_record(loader))
    if changed is None:
        return "no record of the last build"
    return "changed: " + " ".join(changed) if changed else "flags changed"


def build_loader(loader: LoaderSource, build_dir: str, settings: dict[str, Any]) -> TaskFailed | None:
    """The action of ``loader:<name>``: compile and link, or one line saying libbpf is missing."""
    cc = list(settings["cc"])
    flags = libbpf_flags(cc)
    if flags is None:
        sys.stdout.write(f"{loader.source}: warning: {LIBBPF_MISSING}\n")
        sys.stdout.flush()
        _remove(loader.executable, _cmd_file(loader))
        return None
    sys.stdout.write(f"{loader.source}: compiling the loader ({_reason(loader)})\n")
    sys.stdout.flush()
    loader.executable.parent.mkdir(parents=True, exist_ok=True)
    tmp_exe = _tmp_name(loader.executable)
    tmp_dep = _tmp_name(loader.depfile)
    old = _read_record(loader)
    old_deps = list(old["deps"]) if old is not None and isinstance(old.get("deps"), dict) else []
    extras = [str(p) for p in loader.extra_sources]
    # digests before the compile
    before = _snapshot(list(dict.fromkeys([str(loader.source), *extras, *old_deps])))
    start_ns = _compile_start_ns()
    argv = loader_argv(cc, loader, Path(build_dir), [*flags[0], *settings["cflags"]], flags[1],
                       output=tmp_exe, depfile=tmp_dep, skel_dirs=tuple(settings.get("skel_dirs", ())))
    try:
        res = subprocess.run(argv, capture_output=True, text=True, check=False)
    except OSError as exc:
        return TaskFailed(f"{loader.source}: cannot run the C compiler {cc[0]}: {exc.strerror or exc}")
    if res.returncode != 0 and _MISSING.search(res.stderr):
        _remove(tmp_exe, tmp_dep, loader.executable, _cmd_file(loader))
        sys.stdout.write(f"{loader.source}: warning: {LIBBPF_MISSING}\n")
        return None
    missing = missing_dependency(res.stderr) if res.returncode != 0 else None
    if missing is not None and not missing.endswith(".skel.h>") \
            and not _in_project(missing, Path(settings.get("root", "."))):
        _remove(tmp_exe, tmp_dep, loader.executable, _cmd_file(loader))
        sys.stdout.write(f"{loader.source}: warning: needs {missing}, which this machine does not have (install "
                         "its development files, or add its folder to loader_cflags/loader_libs); loader not built "
                         f"(`doit forget loader:{loader.name}` tries again)\n")
        sys.stdout.flush()
        cmd = _cmd_file(loader)
        tmp_cmd = _tmp_name(cmd)
        tmp_cmd.write_text(json.dumps({"argv": argv, "settings": settings, "missing": missing,
                                       "deps": _snapshot(list(dict.fromkeys([str(loader.source), *extras])))}))
        os.replace(tmp_cmd, cmd)
        return None
    newer = newer_libbpf_api(res.stderr) if res.returncode != 0 else None
    if newer is not None:
        _remove(tmp_exe, tmp_dep, loader.executable, _cmd_file(loader))
        release = _libbpf_release(flags[0])
        shown = ", ".join(newer[:4]) + (", ..." if len(newer) > 4 else "")
        sys.stdout.write(f"{loader.source}: warning: uses libbpf API this machine's libbpf"
                         f"{' ' + release if release else ''} lacks ({shown}): it was written for a newer "
                         "libbpf-dev; loader not built "
                         f"(`doit forget loader:{loader.name}` tries again)\n")
        sys.stdout.flush()
        cmd = _cmd_file(loader)
        tmp_cmd = _tmp_name(cmd)
        tmp_cmd.write_text(json.dumps({"argv": argv, "settings": settings, "missing": f"libbpf API: {shown}",
                                       "deps": _snapshot(list(dict.fromkeys([str(loader.source), *extras])))}))
        os.replace(tmp_cmd, cmd)
        return None
    if res.stdout:
        sys.stdout.write(res.stdout)
    if res.stderr:
        sys.stderr.write(res.stderr)     # the C compiler's diagnostics, unchanged
        sys.stderr.flush()
    if res.returncode != 0 or not tmp_exe.exists():
        _remove(tmp_exe, tmp_dep, loader.executable, _cmd_file(loader))
        return TaskFailed(f"{loader.source}: loader build failed (exit {res.returncode})")
    try:
        deps = list(parse_depfile(tmp_dep.read_text(), file=str(loader.depfile)))
    except (OSError, BpfBuildError):
        deps = [str(loader.source)]
    deps = list(dict.fromkeys([*deps, *extras]))
    os.replace(tmp_dep, loader.depfile)
    os.replace(tmp_exe, loader.executable)
    cmd = _cmd_file(loader)
    tmp_cmd = _tmp_name(cmd)
    tmp_cmd.write_text(json.dumps({"argv": argv, "settings": settings,
                                   "deps": _post_compile_snapshot(deps, before, start_ns, Path(build_dir))}, indent=1) + "\n")
    os.replace(tmp_cmd, cmd)
    return None


def _clean(loader: LoaderSource) -> None:
    _remove(loader.executable, loader.depfile, _cmd_file(loader))


def _in_project(missing: str, root: Path) -> bool:
    """Is a header the compiler did not find a file of the project (a wrong include path, the
    user's mistake to see) rather than a library this machine lacks?"""
    if not missing.startswith("<"):
        return False
    name = os.path.basename(missing.strip("<>"))
    for _dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        if name in filenames:
            return True
    return False


def _skeletons_included(loader: LoaderSource) -> list[str]:
    """The skeleton names the loader includes: in its source and its ``loader_sources`` (a tool
    whose parts each include a skeleton), or in a header of their folder that one of them
    includes with quotes (one level: ``#include "common.h"`` that includes ``x.skel.h``)."""
    from bpfbuild.errors import BpfBuildError
    from bpfbuild.inputs import MAX_TEXT_BYTES, read_input

    found: list[bytes] = []
    for source in (loader.source, *loader.extra_sources):
        try:
            text = read_input(source, limit=MAX_TEXT_BYTES)
        except BpfBuildError:   # unreadable, a FIFO, too large: the compile says what is wrong
            continue
        found += _SKEL_INCLUDE.findall(text)
        for header in dict.fromkeys(_LOCAL_INCLUDE.findall(text)):
            path = source.parent / header.decode("utf-8", "replace")
            if path.suffix == ".h" and path.is_file():
                try:
                    found += _SKEL_INCLUDE.findall(read_input(path, limit=MAX_TEXT_BYTES))
                except BpfBuildError:
                    continue
    return list(dict.fromkeys(m.decode("utf-8", "replace") for m in found))


def _skeleton_program(name: str, loader: LoaderSource,
                      programs: tuple[ProgramSource, ...]) -> ProgramSource | None:
    """The program whose skeleton ``#include "<name>.skel.h"`` means: the program of that name, else
    the one whose source has that file name in the loader's folder, else the only one anywhere."""
    for prog in programs:
        if prog.name == name:
            return prog
    same_stem = [prog for prog in programs if prog.stem == name]
    folder = os.path.normpath(loader.source.parent)
    here = [prog for prog in same_stem if os.path.normpath(prog.source.parent) == folder]
    if len(here) == 1:
        return here[0]
    return same_stem[0] if len(same_stem) == 1 else None


def task_loader() -> Any:
    """Build the user-space loaders (loaders = [...]) against the skeletons and the system's libbpf."""
    project = current_project()
    loaders = project.config.loader_sources()
    if not loaders:
        yield {"basename": "loader", "name": None, "doc": task_loader.__doc__, "actions": None}
        return
    programs = project.config.programs()
    cc = c_compiler()
    build_dir = str(project.config.build_dir)
    for loader in loaders:
        skels = _skeletons_included(loader)
        found = [_skeleton_program(n, loader, programs) for n in skels]
        skel_dirs = sorted({str(header.parent) for prog in found
                            if prog is not None and (header := stem_skeleton_path(prog)) is not None})
        settings = {"cc": cc, "cflags": list(loader.cflags), "bpfbuild": __version__,
                    "root": str(project.config.root),
                    "sources": [str(p) for p in loader.extra_sources], "libs": list(loader.libs),
                    "skel_dirs": skel_dirs}
        task_dep = [f"skel:{prog.name}" for prog in found if prog is not None]
        if len(task_dep) < len(skels):
            task_dep = ["skel"]   # an unknown or generated-elsewhere name: wait for every skeleton
        # (a loader that includes no skeleton, a test program or a tool beside the lessons, waits
        # for none: a program whose skeleton fails does not fail it)
        yield {
            "name": loader.name,
            "doc": f"compile the loader {loader.source} -> {loader.executable} (libbpf)",
            "actions": [(build_loader, [loader, build_dir, settings])],
            "file_dep": [str(loader.source), *(str(p) for p in loader.extra_sources)],
            "task_dep": task_dep,
            # the record is the one target doit checks: a loader this machine cannot build has no
            # executable, and must not be retried by every doit (loader_uptodate decides)
            "targets": [_cmd_file(loader)],
            "uptodate": [config_changed(settings), (loader_uptodate, [loader])],
            "clean": [(_clean, [loader])],
            "verbosity": 2,
        }

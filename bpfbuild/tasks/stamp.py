"""The whole-project no-op stamp: a ``doit`` with nothing to do ends before doit loads a task.

After a successful ``doit`` (bare, or naming only tasks, with or without ``--continue`` as the
editor tasks run it), :class:`StampReporter` writes ``build/.noop-stamp.json``: the stat keys
(size, mtime_ns, inode) of everything that can change the outcome of the same command run
again, and the exact text doit would print then.  What it records:

* every ``file_dep`` and target of every task the run processed (sources, test specs, objects,
  skeletons, templates, the kernel BTF, ...), each as doit saw it when the task finished or was
  found up to date (a file edited later in the run writes no stamp);
* every header of every compile: the ``deps`` of the ``.cmd`` records the build writes from
  clang's depfiles (checked against the digests recorded there);
* the folders the ``sources``/``loaders`` globs list and the folders of every input (a new
  source or test spec), the whole build dir (doit's DB, results, caches) and bpfbuild's own
  files; pyproject.toml, dodo.py, doit.cfg; the compiler, the PATH folders, the system headers
  the include set is chosen by;
* the argv, the interpreter, doit's version, the running kernel and the environment variables
  that choose compilers and headers.

The text is what the next run would print: ``-- <task>`` for each task found up to date, and
for ``report`` (always run) its line and the summary it prints from its cache.  The stamp is
written only when that prediction is sure: the task generators, run again after the build, give
the same definitions (a compile that changed its own include path would make the next run
rebuild), no task other than ``report`` would run again, no check is one we cannot predict.

:func:`serve_noop` runs first thing when dodo.py imports ``bpfbuild.tasks`` under ``doit``:
when the stamp holds, it prints that text and exits 0 -- no task generator, no dependency DB,
no verifier, emulator, BTF, jinja2 or pyelftools.  Anything else (no stamp, another argv, any
key different, an unreadable stamp) goes down doit's normal path, which writes a fresh stamp
when it succeeds; a run that executes tasks removes the stamp before it starts.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from doit.reporter import ConsoleReporter   # loaded already: doit's run command imports it

__all__ = ["STAMP_FILE", "NoStamp", "StampReporter", "build_stamp", "discard_stamp", "running_doit", "serve_noop",
           "stale_reason"]

#: Where the stamp lives, relative to the project root (only the default build dir has one: it
#: must be found before the configuration is read).
STAMP_FILE = os.path.join("build", ".noop-stamp.json")
_VERSION = 1
#: Files of the build dir that change after the stamp is written, or belong to no outcome.
_BUILD_SKIP = frozenset({".noop-stamp.json", ".lock", ".doit.sqlite3.ok"})
#: Environment variables that choose a compiler, headers, flags or code (besides the prefixes).
_ENV_NAMES = ("PATH", "CC", "PYTHONPATH", "PKG_CONFIG_PATH", "PKG_CONFIG_LIBDIR", "PKG_CONFIG_SYSROOT_DIR")
_ENV_PREFIXES = ("BPF", "DOIT", "CCACHE_", "SCCACHE_")
_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def running_doit() -> bool:
    """This process is ``doit`` (``python3 -m doit`` or the ``doit`` script), not a test importing a dodo."""
    argv0 = sys.argv[0] if sys.argv and sys.argv[0] else ""
    name = os.path.basename(argv0)
    return name == "doit" or (name == "__main__.py" and os.path.basename(os.path.dirname(argv0)) == "doit")


# --- keys -----------------------------------------------------------------------------------------


def _key(path: str) -> list[int] | None:
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return [st.st_size, st.st_mtime_ns, st.st_ino]


def _tree(top: str, skip: frozenset[str] = frozenset()) -> dict[str, Any]:
    """Every file below ``top`` (not ``__pycache__``, not ``*.tmp``, not ``skip``) -> its key."""
    out: dict[str, Any] = {}
    stack = [top]
    while stack:
        folder = stack.pop()
        try:
            it = os.scandir(folder)
        except (OSError, ValueError):
            out[folder] = None
            continue
        with it:
            for entry in it:
                name = entry.name
                try:
                    if entry.is_dir():
                        if name != "__pycache__":
                            stack.append(entry.path)
                        continue
                    if name in skip or name.endswith(".tmp"):
                        continue
                    st = entry.stat()
                    out[entry.path] = [st.st_size, st.st_mtime_ns, st.st_ino]
                except OSError:
                    out[entry.path] = None
    return out


def _runtime() -> list[Any]:
    import doit

    uname = os.uname()
    return [sys.executable, sys.version, list(doit.__version__), os.path.dirname(doit.__file__), _PACKAGE,
            os.getcwd(), uname.release, uname.version, os.getuid()]


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items()
            if (k in _ENV_NAMES or k.startswith(_ENV_PREFIXES)) and k != "BPFBUILD_STAMP_DEBUG"}


# --- the check, on every doit -------------------------------------------------------------------


def stale_reason(stamp: Any, argv: list[str], root: str = ".") -> str | None:
    """Why ``stamp`` does not hold for ``doit <argv>`` in ``root`` now (None: it holds)."""
    if not isinstance(stamp, dict) or stamp.get("version") != _VERSION or not isinstance(stamp.get("output"), str):
        return "not a stamp"
    if stamp.get("argv") != argv:
        return "argv"
    if stamp.get("runtime") != _runtime():
        return "runtime"
    if stamp.get("env") != _env():
        return "environment"
    files = stamp.get("files")
    trees = stamp.get("trees")
    if not isinstance(files, dict) or not isinstance(trees, dict):
        return "not a stamp"
    for path, key in files.items():
        if _key(path) != key:
            return path
    for top, entries in trees.items():
        if not isinstance(entries, dict) or _tree(top, _BUILD_SKIP) != entries:
            return top
    return None


def discard_stamp(root: str = ".") -> None:
    try:
        os.unlink(os.path.join(root, STAMP_FILE))
    except OSError:
        pass


def serve_noop(root: str = ".") -> None:
    """Under ``doit``: when the stamp holds, print what doit would print and exit 0 (SystemExit
    through doit's loader: nothing of doit's run has started, nothing is left half done)."""
    if not running_doit():
        return
    try:
        with open(os.path.join(root, STAMP_FILE), "rb") as fh:
            stamp = json.loads(fh.read())
    except (OSError, ValueError):
        return
    argv = sys.argv[1:]
    why = stale_reason(stamp, argv, root)
    if why is not None:
        if why != "argv":
            discard_stamp(root)   # never right again; `doit list` & co. leave a good one alone
        return
    sys.stdout.write(stamp["output"])
    sys.stdout.flush()
    raise SystemExit(0)


# --- writing it, after a successful run ---------------------------------------------------------


class StampReporter(ConsoleReporter):
    """doit's console reporter, which also notes what each task looked like when doit was done
    with it, and writes the stamp at the end of a run without failures."""

    def initialize(self, tasks: dict[str, Any], selected_tasks: list[str]) -> None:
        super().initialize(tasks, selected_tasks)
        discard_stamp()   # this run may change anything: no stale stamp may outlive it
        self.stamp_selected = list(selected_tasks)
        self.stamp_events: list[tuple[Any, str, dict[str, Any]]] = []
        self.stamp_doubt = False
        try:
            self.stamp_start = {p: _key(p) for p in _start_keys()}
        except Exception:   # noqa: BLE001 -- no stamp, and doit goes on as ever
            self.stamp_doubt = True

    def _note(self, task: Any, status: str) -> None:
        if hasattr(self, "stamp_events"):
            self.stamp_events.append((task, status, {p: _key(str(p)) for p in task.file_dep}))

    def skip_uptodate(self, task: Any) -> None:
        super().skip_uptodate(task)
        self._note(task, "uptodate")

    def add_success(self, task: Any) -> None:
        super().add_success(task)
        self._note(task, "ran")

    def add_failure(self, task: Any, fail: Any) -> None:
        self.stamp_doubt = True
        super().add_failure(task, fail)

    def skip_ignore(self, task: Any) -> None:
        self.stamp_doubt = True
        super().skip_ignore(task)

    def runtime_error(self, msg: str) -> None:
        self.stamp_doubt = True
        super().runtime_error(msg)

    def complete_run(self) -> None:
        super().complete_run()
        if not hasattr(self, "stamp_events") or self.stamp_doubt or self.failures or self.runtime_errors:
            return
        try:
            _write(build_stamp(self.stamp_events, self.stamp_selected, self.stamp_start, sys.argv[1:]))
        except Exception as exc:   # noqa: BLE001 -- a stamp is an optimisation: any doubt, no stamp
            if os.environ.get("BPFBUILD_STAMP_DEBUG"):   # why a no-op is not served
                sys.stderr.write(f"{STAMP_FILE}: not written: {exc if isinstance(exc, NoStamp) else repr(exc)}\n")


class NoStamp(Exception):
    """Why a run writes no stamp (shown with BPFBUILD_STAMP_DEBUG=1)."""


def _start_keys() -> list[str]:
    """What the task generators read at the start of the run: the configuration and the folders
    the globs list (a source added during the run must not be missed by the stamp)."""
    return ["pyproject.toml", "dodo.py", "doit.cfg", *_glob_dirs()]


def _write(stamp: dict[str, Any]) -> None:
    path = STAMP_FILE
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        with open(tmp, "w") as fh:
            json.dump(stamp, fh, separators=(",", ":"))
        os.replace(tmp, path)
    except OSError:
        try:
            os.unlink(tmp)
        except OSError:
            pass


def _glob_dirs() -> list[str]:
    """The folders the ``sources`` and ``loaders`` globs list (a new file there is a new task)."""
    import fnmatch

    from bpfbuild.tasks.project import current_project

    config = current_project().config
    out: list[str] = []
    for pattern in (*config.source_globs, *config.loaders):
        parts = pattern.split("/")
        if os.path.isabs(pattern):
            level = ["/"]
            parts = parts[1:]
        else:
            level = [str(config.root)]
        for part in parts[:-1]:
            if any(c in part for c in "*?["):
                out += level     # listed by the glob (a literal part is a path: its key says if it exists)
            nxt: list[str] = []
            for d in level:
                if part == "**":
                    nxt.append(d)
                    nxt += _subdirs(d)
                elif any(c in part for c in "*?["):
                    try:
                        nxt += [os.path.join(d, n) for n in sorted(os.listdir(d))
                                if fnmatch.fnmatchcase(n, part) and os.path.isdir(os.path.join(d, n))]
                    except OSError:
                        pass
                else:
                    nxt.append(os.path.join(d, part))
            level = nxt
        out += level
    return list(dict.fromkeys(os.path.normpath(p) for p in out))


def _subdirs(top: str) -> list[str]:
    found = []
    for folder, dirs, _files in os.walk(top):
        dirs.sort()
        found += [os.path.join(folder, d) for d in dirs]
    return found


#: Paths that choose the include set (bpfbuild.toolchain.discover.include_set): libbpf's headers
#: installed or not, the UAPI header, the architecture's include dir.
def _include_probes() -> list[str]:
    root = "/usr/include"
    return [os.path.join(root, "bpf"), os.path.join(root, "bpf", "bpf_helpers.h"),
            os.path.join(root, "linux", "bpf.h"), f"{root}/{os.uname().machine}-linux-gnu"]


#: Options that change nothing in a run with nothing to do (the editor tasks pass --continue).
_NOOP_OPTIONS = frozenset({"-c", "--continue"})


def _servable(argv: list[str], selected: list[str]) -> bool:
    """A bare ``doit``, or one that names tasks (and maybe ``--continue``) and nothing else, is
    answered from a stamp."""
    names = [a for a in argv if a not in _NOOP_OPTIONS]
    if any(a.startswith("-") or "=" in a for a in names):
        return False
    return names == [] or names == selected


def _definition(task: Any) -> Any:
    """What of a task decides whether doit finds it up to date (and what it prints)."""
    from doit.tools import config_changed

    checks = []
    for utd, args, kwargs in task.uptodate:
        if isinstance(utd, config_changed):
            checks.append(["config", utd._calc_digest()])
        elif isinstance(utd, (bool, type(None), str)):
            checks.append(["value", utd])
        else:
            checks.append(["call", f"{type(utd).__module__}.{getattr(utd, '__qualname__', type(utd).__qualname__)}",
                           repr(args), repr(sorted(kwargs.items()))])
    return [sorted(task.file_dep), [str(t) for t in task.targets], list(task.task_dep), checks,
            bool(task.actions), task.title(), list(task.setup_tasks), bool(task.calc_dep), bool(task.getargs)]


def _next_status(task: Any) -> str:
    """"uptodate" or "run": what the same doit, run again with nothing changed, does with this
    task (which just succeeded or was up to date); NoStamp when we cannot tell."""
    from doit.dependency import UptodateCalculator
    from doit.tools import config_changed, run_once

    if task.setup_tasks or task.calc_dep or task.getargs:
        raise NoStamp(f"{task.name}: setup, calc_dep or getargs")
    results = []
    for utd, args, kwargs in task.uptodate:
        if isinstance(utd, config_changed) or utd is run_once:
            results.append(True)        # its value was saved by this run (or matched it)
        elif isinstance(utd, UptodateCalculator):
            if not type(utd).__module__.startswith("bpfbuild."):
                raise NoStamp(f"{task.name}: uptodate {utd!r}")   # doit's timeout, result_dep, ...
            results.append(True)        # ours depend only on the argv (the seed)
        elif isinstance(utd, bool):
            results.append(utd)
        elif utd is None:
            continue
        elif callable(utd) and getattr(utd, "__module__", "").startswith("bpfbuild."):
            results.append(bool(utd(*args, **kwargs)))   # ours are pure stat/digest checks
        else:
            raise NoStamp(f"{task.name}: uptodate {utd!r}")
    if not all(results) or not (task.file_dep or results):
        return "run"
    if not all(os.path.exists(t) for t in task.targets):
        return "run"
    return "uptodate"


def _check_definitions(events: list[tuple[Any, str, dict[str, Any]]]) -> None:
    """Run the task generators again: the next doit must define the tasks this one ran."""
    import contextlib
    import io

    from doit.control import TaskControl
    from doit.loader import load_tasks

    dodo = sys.modules.get("dodo")
    if dodo is None or os.path.abspath(getattr(dodo, "__file__", "")) != os.path.abspath("dodo.py"):
        raise NoStamp("the tasks do not come from ./dodo.py")
    namespace = {name: getattr(dodo, name) for name in dir(dodo)}
    said = io.StringIO()
    with contextlib.redirect_stdout(said), contextlib.redirect_stderr(said):
        tasks = load_tasks(namespace, allow_delayed=True)
    if said.getvalue():   # printed on every run, before any task: not in the stamp's text
        raise NoStamp(f"the task generators print: {said.getvalue()[:200]!r}")
    TaskControl.set_implicit_deps({}, tasks)    # as doit adds them to the tasks it runs
    again = {t.name: t for t in tasks}
    for task, _status, _deps in events:
        other = again.get(task.name)
        if other is None or _definition(other) != _definition(task):
            raise NoStamp(f"{task.name}: the next run defines it differently")


def _summary_text() -> str | None:
    """What ``report`` prints on the next run: the summary it keeps with what it was made of
    (the report module's own cache check, so the text is the one it would print)."""
    from bpfbuild.tasks.project import current_project
    from bpfbuild.tasks.report import cached_summary

    return cached_summary(current_project())


def _digest(path: str) -> str | None:
    """The md5 a compile record keeps of a dependency (as build.py and doit's checker take it)."""
    import hashlib

    try:
        with open(path, "rb") as fh:
            return hashlib.file_digest(fh, lambda: hashlib.md5(usedforsecurity=False)).hexdigest()
    except OSError:
        return None


def _record_deps(cmd: str, files: dict[str, Any]) -> None:
    """The headers of a compile (its ``.cmd`` record): each must still be what was compiled."""
    try:
        with open(cmd) as fh:
            record = json.load(fh)
    except (OSError, ValueError) as exc:
        raise NoStamp(f"{cmd}: unreadable") from exc
    deps = record.get("deps") if isinstance(record, dict) else None
    if not isinstance(deps, dict):
        raise NoStamp(f"{cmd}: no deps")
    for path, old in deps.items():
        if not isinstance(old, list) or len(old) != 3 or old[0] is None:
            raise NoStamp(f"{cmd}: {path} is unknown (the next build compiles again)")
        key = _key(path)
        if key is None or (key[:2] != old[:2] and (_digest(path) != old[2] or _key(path) != key)):
            raise NoStamp(f"{path}: changed since the compile read it")
        files[path] = key


def build_stamp(events: list[tuple[Any, str, dict[str, Any]]], selected: list[str],
                start: dict[str, Any], argv: list[str]) -> dict[str, Any]:
    """The stamp of a run that just succeeded (NoStamp when a no-op run cannot be predicted)."""
    from bpfbuild.tasks.project import current_project

    if not _servable(argv, selected) or not events:
        raise NoStamp(f"argv {argv}: not only task names")
    project = current_project()
    build_dir = os.path.abspath(project.config.build_dir)
    if build_dir != os.path.abspath(os.path.dirname(STAMP_FILE)):
        raise NoStamp("not the default build dir")
    _check_definitions(events)
    inputs: dict[str, Any] = {}   # what the tasks read: their folders are listed too
    files: dict[str, Any] = {}
    output: list[str] = []
    for task, _status, deps in events:
        for path, key in deps.items():
            if _key(path) != key:
                raise NoStamp(f"{path}: changed after doit was done with {task.name}")
            inputs[path] = key
        for target in task.targets:
            target = str(target)
            files[target] = _key(target)
            if target.endswith(".cmd") and os.path.exists(target):
                _record_deps(target, inputs)
        if _next_status(task) == "uptodate":
            if task.name[0] != "_":
                output.append(f"-- {task.title()}\n")
        elif task.actions:
            if task.name != "report":    # only the summary's output is known
                raise NoStamp(f"{task.name}: would run again")
            text = _summary_text()
            if text is None:
                raise NoStamp("report: no cached summary")
            output.append(f".  {task.title()}\n{text}")
    for path, key in start.items():
        if _key(path) != key:
            raise NoStamp(f"{path}: changed during the run")
    files.update(inputs)
    files.update(start)
    for folder in {os.path.dirname(os.path.abspath(p)) for p in inputs}:
        if not (folder + os.sep).startswith(build_dir + os.sep):   # the build dir is walked whole
            files[folder] = _key(folder)
    compiler = project.compiler
    extra = [*_include_probes(), *(os.environ.get("PATH", "").split(os.pathsep))]
    if compiler is not None:
        extra += [compiler.path, os.path.realpath(compiler.path)]
    for path in extra:
        if path:
            files[path] = _key(path)
    trees = {os.path.relpath(build_dir): None, _PACKAGE: None}
    return {
        "version": _VERSION,
        "argv": argv,
        "runtime": _runtime(),
        "env": _env(),
        "files": files,
        "trees": {top: _tree(top, _BUILD_SKIP) for top in trees},
        "output": "".join(output),
    }

"""doit task generators (the only package that imports doit).

``dodo.py`` imports ``DOIT_CONFIG`` and the ``task_*`` generators from here.  One generator per
stage; ``basename`` is the stage the user types and ``name`` the program (``doit build:hello``).

The ``task_*`` functions here are two-line forwards to the generators in the stage modules, on
purpose: doit reads each task creator's source (``inspect.getsourcelines``) to order them, and
tokenising a short function costs nothing where the long generators cost milliseconds on every
``doit``, even one with nothing to do.
"""

# ruff: noqa: E402  (the stamp check runs before the stage modules are imported)
from __future__ import annotations

from bpfbuild.tasks.stamp import StampReporter, running_doit, serve_noop

serve_noop()   # a no-op `doit` whose stamp holds ends here, before any task is loaded (stamp.py)

from pathlib import Path
from typing import Any

from doit import create_after

from bpfbuild.tasks import build as _build
from bpfbuild.tasks import ide as _ide
from bpfbuild.tasks import kernel as _kernel
from bpfbuild.tasks import loaders as _loaders
from bpfbuild.tasks import report as _report
from bpfbuild.tasks import skel as _skel
from bpfbuild.tasks import test as _test
from bpfbuild.tasks import verify as _verify

__all__ = ["DEFAULT_TASKS", "doit_config", "task_build", "task_headers", "task_ide", "task_load", "task_loader",
           "task_report", "task_skel", "task_test", "task_unload", "task_verify", "task_vmlinux"]

# What a bare `doit` runs, in order (`load`/`unload` need privileges: never by default).
DEFAULT_TASKS = ["build", "verify", "ide", "test", "skel", "loader", "report"]


def task_build() -> Any:
    return _build.task_build()


def task_headers() -> Any:
    return _build.task_headers()


def task_ide() -> Any:
    return _ide.task_ide()


@create_after()   # generated only when asked for (`doit load[:x]`, `doit list`): never on a plain `doit`
def task_load() -> Any:
    return _kernel.task_load()


def task_loader() -> Any:
    return _loaders.task_loader()


def task_report() -> Any:
    return _report.task_report()


def task_skel() -> Any:
    return _skel.task_skel()


def task_test() -> Any:
    return _test.task_test()


@create_after()
def task_unload() -> Any:
    return _kernel.task_unload()


def task_verify() -> Any:
    return _verify.task_verify()


def task_vmlinux() -> Any:
    return _skel.task_vmlinux()


for _creator, _stage in ((task_build, _build.task_build), (task_headers, _build.task_headers),
                         (task_ide, _ide.task_ide), (task_load, _kernel.task_load),
                         (task_loader, _loaders.task_loader), (task_report, _report.task_report),
                         (task_skel, _skel.task_skel), (task_test, _test.task_test),
                         (task_unload, _kernel.task_unload), (task_verify, _verify.task_verify),
                         (task_vmlinux, _skel.task_vmlinux)):
    _creator.__doc__ = _stage.__doc__   # `doit list` shows the stage's own description
del _creator, _stage


def doit_config(root: Path | str = ".") -> dict[str, Any]:
    """DOIT_CONFIG for a bpfbuild project: default stages, and doit's dependency DB in the build dir.

    The DB is doit's sqlite3 backend (every save is one transaction: a full disk or a kill leaves
    the previous state, never an empty file); a DB that is corrupted anyway is reported in one line
    and started afresh.  Under ``doit`` the process also takes the project lock (build/.lock), so two
    ``doit`` runs in one project run one after the other instead of over each other's files.
    """
    from bpfbuild.config import load_config
    from bpfbuild.errors import BpfBuildError
    from bpfbuild.tasks.state import check_state_file, mark_state_file, project_lock

    try:
        build_dir = load_config(Path(root)).build_dir
        build_dir.mkdir(parents=True, exist_ok=True)
    except BpfBuildError as exc:
        raise SystemExit(f"{exc}") from None          # one line, exit status 1, no traceback
    except OSError as exc:
        raise SystemExit(f"{exc.filename}: cannot create the build dir: {exc.strerror or exc}") from None
    dep_file = build_dir / ".doit.sqlite3"
    running = running_doit()
    if running:
        project_lock(build_dir)
    check_state_file(dep_file)
    if running:
        import atexit

        atexit.register(mark_state_file, dep_file)   # the DB as this run leaves it is known good
    return {
        "default_tasks": list(DEFAULT_TASKS),
        "dep_file": str(dep_file),
        "backend": "sqlite3",
        "verbosity": 2,
        "action_string_formatting": "new",
        "reporter": StampReporter,   # doit's console output; writes build/.noop-stamp.json after a success
    }


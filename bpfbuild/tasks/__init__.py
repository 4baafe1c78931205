"""doit task generators (the only package that imports doit).

``dodo.py`` imports ``DOIT_CONFIG`` and the ``task_*`` generators from here.  One generator per
stage; ``basename`` is the stage the user types and ``name`` the program (``doit build:hello``).

The ``task_*`` functions here are two-line forwards to the generators in the stage modules, on
purpose: doit reads each task creator's source (``inspect.getsourcelines``) to order them, and
tokenising a short function costs nothing where the long generators cost milliseconds on every
``doit``, even one with nothing to do.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

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
    """DOIT_CONFIG for a bpfbuild project: default stages, and a JSON dependency DB in the build dir."""
    from bpfbuild.config import load_config

    build_dir = load_config(Path(root)).build_dir
    build_dir.mkdir(parents=True, exist_ok=True)
    return {
        "default_tasks": list(DEFAULT_TASKS),
        "dep_file": str(build_dir / ".doit.db"),
        "backend": "json",
        "verbosity": 2,
        "action_string_formatting": "new",
    }

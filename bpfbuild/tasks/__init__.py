"""doit task generators (the only package that imports doit).

``dodo.py`` imports ``DOIT_CONFIG`` and the ``task_*`` generators from here.  One generator per
stage; ``basename`` is the stage the user types and ``name`` the program (``doit build:hello``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bpfbuild.config import load_config
from bpfbuild.tasks.build import task_build, task_headers
from bpfbuild.tasks.ide import task_ide
from bpfbuild.tasks.kernel import task_load, task_unload
from bpfbuild.tasks.report import task_report
from bpfbuild.tasks.skel import task_skel, task_vmlinux
from bpfbuild.tasks.test import task_test
from bpfbuild.tasks.verify import task_verify

__all__ = ["DEFAULT_TASKS", "doit_config", "task_build", "task_headers", "task_ide", "task_load", "task_report", "task_skel",
           "task_test", "task_unload", "task_verify", "task_vmlinux"]

# What a bare `doit` runs, in order (`load`/`unload` need privileges: never by default).
DEFAULT_TASKS = ["build", "verify", "ide", "test", "skel", "report"]


def doit_config(root: Path | str = ".") -> dict[str, Any]:
    """DOIT_CONFIG for a bpfbuild project: default stages, and a JSON dependency DB in the build dir."""
    build_dir = load_config(Path(root)).build_dir
    build_dir.mkdir(parents=True, exist_ok=True)
    return {
        "default_tasks": list(DEFAULT_TASKS),
        "dep_file": str(build_dir / ".doit.db"),
        "backend": "json",
        "verbosity": 2,
        "action_string_formatting": "new",
    }

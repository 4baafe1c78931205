"""doit task generators (the only package that imports doit).

``dodo.py`` imports ``DOIT_CONFIG`` and the ``task_*`` generators from here.  One generator per
stage; ``basename`` is the stage the user types and ``name`` the program (``doit build:hello``).
"""

from __future__ import annotations

import sys
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
    """DOIT_CONFIG for a bpfbuild project: default stages, and doit's dependency DB in the build dir.

    The DB is doit's sqlite3 backend (every save is one transaction: a full disk or a kill leaves
    the previous state, never an empty file); a DB that is corrupted anyway is reported in one line
    and started afresh.  Under ``doit`` the process also takes the project lock (build/.lock), so two
    ``doit`` runs in one project run one after the other instead of over each other's files.
    """
    from bpfbuild.tasks.state import check_state_file, project_lock

    build_dir = load_config(Path(root)).build_dir
    build_dir.mkdir(parents=True, exist_ok=True)
    dep_file = build_dir / ".doit.sqlite3"
    if _running_doit():
        project_lock(build_dir)
    check_state_file(dep_file)
    return {
        "default_tasks": list(DEFAULT_TASKS),
        "dep_file": str(dep_file),
        "backend": "sqlite3",
        "verbosity": 2,
        "action_string_formatting": "new",
    }


def _running_doit() -> bool:
    """This process is ``doit`` (``python3 -m doit`` or the ``doit`` script), not a test importing a dodo."""
    argv0 = Path(sys.argv[0]) if sys.argv and sys.argv[0] else Path()
    return argv0.name == "doit" or (argv0.name == "__main__.py" and argv0.parent.name == "doit")

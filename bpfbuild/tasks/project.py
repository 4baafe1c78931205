"""The project as the task generators see it: configuration and toolchain, computed once per run.

Everything here is cheap on purpose: ``doit`` with nothing to do reads pyproject.toml, lists
``programs/``, stats the compiler (its probe results are cached in the build dir) and reads
the depfiles; it never starts a compiler or imports pyelftools/jinja2.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path

from bpfbuild.config import Config, load_config
from bpfbuild.errors import BpfBuildError
from bpfbuild.toolchain.discover import Compiler, IncludeSet, discover, include_set

__all__ = ["Project", "current_project"]


@dataclass(frozen=True, slots=True)
class Project:
    config: Config
    compiler: Compiler | None
    compiler_error: str | None
    includes: IncludeSet | None

    @property
    def generated_include_dir(self) -> Path:
        return self.config.build_dir / "include"

    @property
    def helper_defs(self) -> Path:
        return self.generated_include_dir / "bpf" / "bpf_helper_defs.h"


def load_project(root: Path) -> Project:
    config = load_config(root)
    try:
        compiler = discover(config.compiler_environ(), cache_file=config.build_dir / ".toolchain.json")
    except BpfBuildError as exc:
        return Project(config, None, str(exc), None)
    bundled = os.environ.get("BPFBUILD_HEADERS", "auto") == "bundled"
    includes = include_set(compiler, config.build_dir / "include", bundled=bundled)
    return Project(config, compiler, None, includes)


def current_project() -> Project:
    """The project of the current directory (doit runs from the dodo.py's folder).

    The stage generators of one ``doit`` run share one discovery: the result is memoised on
    everything :func:`load_project` reads -- the directory, the size and mtime of its
    ``pyproject.toml``, and the environment variables that choose the compiler and headers --
    so a different project, an edited configuration or another compiler choice is never
    served a stale project (and tests need not clear anything).
    """
    cwd = os.getcwd()
    try:
        st = os.stat(os.path.join(cwd, "pyproject.toml"))
        config_key: tuple[int, int] | None = (st.st_size, st.st_mtime_ns)
    except OSError:
        config_key = None
    env = tuple(os.environ.get(name) for name in ("BPF_CLANG", "BPFBUILD_HEADERS", "PATH"))
    return _load_cached(cwd, config_key, env)


@functools.lru_cache(maxsize=8)
def _load_cached(cwd: str, config_key: tuple[int, int] | None, env: tuple[str | None, ...]) -> Project:
    """``load_project`` of the current directory, ``cwd`` (the arguments are the memo's key; the
    project is loaded as ``.`` so that its paths read relative, as messages show them)."""
    return load_project(Path("."))


@functools.lru_cache(maxsize=16)
def code_identity(directory: str) -> str:
    """What changes when bpfbuild's own code in ``directory`` (its ``*.py``) changes: names,
    sizes and mtimes, computed once per process.  One ``config_changed`` value for every task
    that depends on that code costs one listing per run, where a file_dep on each source costs
    doit a check per task and file."""
    entries = []
    with os.scandir(directory) as it:
        for entry in it:
            if entry.name.endswith(".py"):
                st = entry.stat()
                entries.append(f"{entry.name}:{st.st_size}:{st.st_mtime_ns}")
    return ",".join(sorted(entries))

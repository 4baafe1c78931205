"""Objects built from programs/ once per session (clang if present, else zig)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def built(tmp_path_factory) -> Path:
    """A copy of the project with `doit` run: returns its build dir."""
    root = tmp_path_factory.mktemp("objproj")
    shutil.copytree(REPO / "programs", root / "programs", ignore=shutil.ignore_patterns("*.toml"))
    shutil.copy(REPO / "dodo.py", root / "dodo.py")
    (root / "pyproject.toml").write_text("[tool.bpfbuild]\n")
    env = {k: v for k, v in os.environ.items() if k not in ("BPF_CLANG", "BPFBUILD_HEADERS")}
    res = subprocess.run([sys.executable, "-m", "doit"], cwd=root, capture_output=True, text=True, env=env)
    if res.returncode != 0:
        pytest.skip(f"cannot build programs/: {res.stderr[-500:]}")
    return root / "build"


@pytest.fixture(scope="session")
def objects(built) -> list[Path]:
    return sorted(built.glob("*.bpf.o"))

"""A throwaway copy of the project (programs/, dodo.py) to run doit in."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest


REPO = Path(__file__).resolve().parents[2]
COMPILING = re.compile(r"^programs/(\S+)\.bpf\.c: compiling \((.*)\)$", re.MULTILINE)


@dataclass
class Project:
    root: Path
    env: dict[str, str]

    def doit(self, *args: str, env: dict[str, str] | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
        res = subprocess.run([sys.executable, "-m", "doit", *args], cwd=self.root, capture_output=True, text=True,
                             env={**self.env, **(env or {})}, timeout=600)
        if check and res.returncode != 0:
            raise AssertionError(f"doit {' '.join(args)} failed ({res.returncode}):\n{res.stdout}\n{res.stderr}")
        return res

    def compiled(self, res: subprocess.CompletedProcess[str]) -> dict[str, str]:
        """program name -> the reason the compile gave."""
        return dict(COMPILING.findall(res.stdout))


def _make_project(tmp_path: Path, env: dict[str, str] | None = None, only: tuple[str, ...] = ()) -> Project:
    """A copy of programs/ (without test specs), or only the named programs' sources and headers."""
    root = tmp_path / "proj"
    if only:
        (root / "programs").mkdir(parents=True)
        for name in (*(f"{n}.bpf.c" for n in only), *(p.name for p in (REPO / "programs").glob("*.h"))):
            shutil.copy2(REPO / "programs" / name, root / "programs" / name)
    else:
        shutil.copytree(REPO / "programs", root / "programs", ignore=shutil.ignore_patterns("*.toml"))
    shutil.copy(REPO / "dodo.py", root / "dodo.py")
    (root / "pyproject.toml").write_text("[tool.bpfbuild]\n")
    base = {k: v for k, v in os.environ.items() if k not in ("BPF_CLANG", "BPFBUILD_HEADERS")}
    return Project(root, {**base, **(env or {})})


@pytest.fixture
def project(tmp_path: Path) -> Project:
    """A project built with whatever compiler discovery picks on this machine."""
    return _make_project(tmp_path)


@pytest.fixture
def hello_project(tmp_path: Path) -> Project:
    """A project of hello.bpf.c alone: for tests of one program's build records (a fraction of the
    full project's compile time: no vmlinux.h, one compile)."""
    return _make_project(tmp_path, only=("hello",))


@pytest.fixture
def make_project():
    """Factory: make_project(tmp_dir, env=None) -> Project."""
    return _make_project

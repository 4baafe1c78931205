"""``doit load`` / ``doit unload`` in a scratch project (bpfbuild/tasks/kernel.py)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import DATA, PROGRAMS, REPO

pytestmark = pytest.mark.kernel

DODO = """\
from bpfbuild.tasks import doit_config
from bpfbuild.tasks.build import task_build, task_headers  # noqa: F401
from bpfbuild.tasks.kernel import task_load, task_unload  # noqa: F401

DOIT_CONFIG = doit_config()
"""


def make_project(root: Path, pins: Path, sources: list[Path]) -> Path:
    (root / "programs").mkdir(parents=True)
    for src in sources:
        shutil.copy(src, root / "programs" / src.name)
    (root / "dodo.py").write_text(DODO)
    (root / "pyproject.toml").write_text(f'[tool.bpfbuild]\npin_dir = "{pins}"\n')
    return root


def doit(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "doit", *args], cwd=root, env=env, capture_output=True,
                          text=True, check=False, timeout=300)


def test_every_program_loads_and_unloads(clang: str, tmp_path: Path, pin_dir: Path) -> None:
    sources = sorted(PROGRAMS.glob("*"))
    names = sorted(p.name[: -len(".bpf.c")] for p in sources if p.name.endswith(".bpf.c"))
    project = make_project(tmp_path / "proj", pin_dir / "proj", sources)
    res = doit(project, "load")
    assert res.returncode == 0, res.stdout + res.stderr
    summary = re.findall(r"^(\S+): (\S+) id (\d+) tag ([0-9a-f]{16}) xlated (\d+)B (?:jited \d+B|not jited) "
                         r"map_ids (\S+) -> (\S+)$", res.stdout, re.MULTILINE)
    assert sorted({s[0] for s in summary}) == names
    for obj, prog, _id, _tag, _xlated, _maps, path in summary:
        assert Path(path) == pin_dir / "proj" / obj / prog
        assert Path(path).exists()
    again = doit(project, "load:hello")                     # never up to date: loads again, replaces the pin
    assert again.returncode == 0 and "hello: hello id" in again.stdout
    res = doit(project, "unload")
    assert res.returncode == 0, res.stdout + res.stderr
    assert not (pin_dir / "proj").exists()


def test_a_rejected_program_fails_its_task_at_the_source_line(clang: str, tmp_path: Path, pin_dir: Path) -> None:
    project = make_project(tmp_path / "proj", pin_dir / "proj", [PROGRAMS / "hello.bpf.c", DATA / "bad.bpf.c"])
    res = doit(project, "--continue", "load")
    assert res.returncode != 0
    line = next(i for i, t in enumerate((DATA / "bad.bpf.c").read_text().splitlines(), 1) if "REJECTED HERE" in t)
    assert (f"programs/bad.bpf.c:{line}: error: R0 invalid mem access 'map_value_or_null' "
            f"(kernel verifier, prog 'bad', insn ") in res.stderr
    assert "processed" in res.stderr                      # the verifier log follows
    assert (pin_dir / "proj" / "hello" / "hello").exists()  # the other program still loaded
    assert not (pin_dir / "proj" / "bad").exists()
    assert doit(project, "unload").returncode == 0

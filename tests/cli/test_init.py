"""`bpfbuild init DIR`: a new project that builds (and, with the emulator, tests) at once."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from bpfbuild.cli import main


def test_init_creates_a_project_that_builds_and_passes_its_tests(tmp_path, capsys):
    root = tmp_path / "newproj"
    assert main(["init", str(root)]) == 0
    for rel in ("dodo.py", "pyproject.toml", "programs/hello.bpf.c", "programs/hello.test.toml",
                ".vscode/tasks.json", "README.md"):
        assert (root / rel).exists(), rel
    tasks = json.loads((root / ".vscode" / "tasks.json").read_text())
    assert any(t.get("group", {}).get("isDefault") and t["command"].startswith("python3 -m doit")
               for t in tasks["tasks"])
    env = {k: v for k, v in os.environ.items() if k not in ("BPF_CLANG", "BPFBUILD_HEADERS")}
    res = subprocess.run([sys.executable, "-m", "doit"], cwd=root, capture_output=True, text=True, env=env)
    assert res.returncode == 0, res.stdout + res.stderr
    assert (root / "build" / "hello.bpf.o").exists()
    assert "hello.test.toml: 1 case passed" in res.stdout
    again = subprocess.run([sys.executable, "-m", "doit", "test"], cwd=root, capture_output=True, text=True, env=env)
    assert again.returncode == 0, again.stdout + again.stderr
    listed = subprocess.run([sys.executable, "-m", "doit", "list"], cwd=root, capture_output=True, text=True,
                            env=env).stdout
    for stage in ("build", "verify", "test", "skel", "ide", "load"):
        assert stage in listed


def test_init_refuses_a_folder_with_files(tmp_path, capsys):
    (tmp_path / "x.txt").write_text("mine")
    assert main(["init", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not empty" in err
    assert (tmp_path / "x.txt").read_text() == "mine"

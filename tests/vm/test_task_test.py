"""``doit test`` in a throwaway copy of the project: specs pass, reruns are incremental, a broken
spec or program fails with file:line:col diagnostics, a program without a spec is smoke-run."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import PROGRAMS

DODO = """\
from bpfbuild.tasks import doit_config, task_build, task_headers, task_vmlinux  # noqa: F401
from bpfbuild.tasks.test import task_test  # noqa: F401

DOIT_CONFIG = {**doit_config(), "default_tasks": ["build", "test"]}
"""


def doit(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("BPF_CLANG", "BPFBUILD_HEADERS")}
    return subprocess.run([sys.executable, "-m", "doit", *args], cwd=root, capture_output=True, text=True,
                          env=env, timeout=600, check=False)


@pytest.fixture
def project(tmp_path: Path, compile_bpf: object) -> Path:   # compile_bpf: skip without a compiler
    root = tmp_path / "proj"
    shutil.copytree(PROGRAMS, root / "programs")
    (root / "dodo.py").write_text(DODO)
    (root / "pyproject.toml").write_text("[tool.bpfbuild]\n")
    return root


def test_doit_test(project: Path) -> None:
    res = doit(project)
    assert res.returncode == 0, res.stdout + res.stderr
    for spec in sorted(PROGRAMS.glob("*.test.toml")):
        assert f"programs/{spec.name}: " in res.stdout and "cases passed" in res.stdout
    record = json.loads((project / "build" / ".results" / "hello.test.json").read_text())
    assert record["passed"] == 4 and record["failed"] == 0 and record["spec"] == "programs/hello.test.toml"

    # nothing changed: every test is up to date
    res = doit(project, "test")
    assert res.returncode == 0
    assert "-- test:hello" in res.stdout and "cases passed" not in res.stdout

    # a wrong expectation: only that spec reruns, and fails at the expectation's line
    spec = project / "programs" / "hello.test.toml"
    text = spec.read_text()
    spec.write_text(text.replace("expect.globals = { counter = 3 }", "expect.globals = { counter = 4 }"))
    line = next(i for i, s in enumerate(spec.read_text().splitlines(), 1) if "counter = 4" in s)
    res = doit(project, "test")
    assert res.returncode != 0
    assert "programs/exec_events.test.toml:" not in res.stdout   # up to date (or after the failure): not rerun
    assert (f'programs/hello.test.toml:{line}:1: error: case "three runs print 0, 1, 2 and leave counter = 3": '
            "global counter: expected 4, got 3") in res.stderr
    assert "programs/hello.bpf.c:11:2: note: last instruction executed: insn 11 `exit` (hello)" in res.stderr
    assert "printk:   Hello World 0" in res.stderr
    assert "programs/hello.test.toml: 1 of 4 cases failed" in res.stdout + res.stderr
    spec.write_text(text)

    # a spec that cannot be read: one line at the key
    spec.write_text(text + "\n[[case]]\nnmae = 'typo'\n")
    res = doit(project, "test:hello")
    assert res.returncode != 0
    assert "programs/hello.test.toml:" in res.stderr and "error: case 5: unknown key 'nmae'" in res.stderr
    spec.write_text(text)

    # a seed given to the group reruns every up-to-date test with it; the same seed again does not
    res = doit(project, "test", "--seed", "5")
    assert res.returncode == 0, res.stdout + res.stderr
    assert "-- test:" not in res.stdout and "programs/xdp_proto_count.test.toml: " in res.stdout
    res = doit(project, "test:xdp_proto_count", "--seed", "5")
    assert res.returncode == 0 and "-- test:xdp_proto_count" in res.stdout
    res = doit(project, "test:xdp_proto_count", "--seed", "6")
    assert res.returncode == 0 and "-- test:xdp_proto_count" not in res.stdout, res.stdout

    # no spec: a smoke run, reported as such
    (project / "programs" / "xdp_proto_count.test.toml").unlink()
    res = doit(project, "test:xdp_proto_count")
    assert res.returncode == 0
    assert "xdp_proto_count: no spec (smoke run passed: xdp_proto_count returned XDP_PASS (2))" in res.stdout
    record = json.loads((project / "build" / ".results" / "xdp_proto_count.test.json").read_text())
    assert record["spec"] is False

    # a broken program: rebuilt, and its spec fails
    source = project / "programs" / "tc_port_filter.bpf.c"
    source.write_text(source.read_text().replace("return TC_ACT_SHOT;", "return TC_ACT_OK;"))
    res = doit(project)
    assert res.returncode != 0
    assert "retval: expected TC_ACT_SHOT (2), got TC_ACT_OK (0)" in res.stderr
    assert "programs/tc_port_filter.bpf.c:" in res.stderr


def test_generating_the_test_tasks_imports_no_emulator(project: Path) -> None:
    """A no-op `doit` must stay cheap: the generator stats files, the action imports the rest."""
    code = ("import runpy, sys; dodo = runpy.run_path('dodo.py'); tasks = list(dodo['task_test']()); "
            "print(len(tasks), sorted(n for n in sys.modules "
            "if n.startswith(('elftools', 'jinja2', 'bpfbuild.vm', 'bpfbuild.obj'))))")
    probe = subprocess.run([sys.executable, "-c", code], cwd=project, capture_output=True, text=True, check=False)
    assert probe.returncode == 0, probe.stderr
    # one task per program, and the group's (it takes `doit test --seed N`)
    assert probe.stdout.strip() == f"{len(list(PROGRAMS.glob('*.bpf.c'))) + 1} []"
    res = doit(project, "list")
    assert res.returncode == 0 and "test " in res.stdout


FULL_DODO = """\
from bpfbuild.tasks import *  # noqa: F401,F403
from bpfbuild.tasks import doit_config

DOIT_CONFIG = doit_config()
"""


def test_what_the_emulator_lacks_is_a_warning_not_a_failure(tmp_path: Path, compile_bpf: object) -> None:
    """A smoke run that meets a helper or map type the emulator lacks passes with a
    "not emulated" warning in the test output and the summary; doit succeeds."""
    root = tmp_path / "proj"
    (root / "programs").mkdir(parents=True)
    realworld = Path(__file__).resolve().parent / "realworld"
    shutil.copy(realworld / "partly_emulated.bpf.c", root / "programs" / "partly_emulated.bpf.c")
    shutil.copy(PROGRAMS / "hello.bpf.c", root / "programs" / "hello.bpf.c")
    (root / "dodo.py").write_text(FULL_DODO)
    (root / "pyproject.toml").write_text("[tool.bpfbuild]\n")
    res = doit(root)
    assert res.returncode == 0, res.stdout + res.stderr
    assert ("build/partly_emulated.bpf.o: warning: not emulated: helper bpf_sk_select_reuseport#82"
            in res.stderr), res.stderr
    assert "partly_emulated: no spec (smoke run passed: counter returned TC_ACT_OK (0); " \
           "steer: not emulated: helper bpf_sk_select_reuseport#82)" in res.stdout
    row = next(line for line in res.stdout.splitlines() if line.startswith("partly_emulated "))
    assert "no spec (not emulated)" in row
    assert "partly_emulated: warning: not emulated: helper bpf_sk_select_reuseport#82" in res.stdout
    hello = next(line for line in res.stdout.splitlines() if line.startswith("hello "))
    assert "not emulated" not in hello
    report = json.loads((root / "build" / "report.json").read_text())
    tests = {p["program"]: p["tests"] for p in report["programs"]}
    assert tests["partly_emulated"]["not_emulated"] == ["helper bpf_sk_select_reuseport#82"]
    assert tests["hello"]["not_emulated"] == []

"""The no-op stamp (build/.noop-stamp.json): a no-op `doit` answered before doit loads a task.

A run served from the stamp leaves doit's dependency DB and its health marker untouched (the
normal path always rewrites them: `report` runs on every doit), which is how these tests tell the
two paths apart.  Each change a user makes must send the next `doit` down the normal path, and
the run after that must be served again.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bpfbuild.tasks.stamp import STAMP_FILE, stale_reason

from .conftest import Project, _make_project

SPEC = """program = "hello"

[[case]]
name = "passes"
packet = { eth = {}, ipv4 = {}, udp = {} }
expect.retval = "XDP_PASS"
"""


def _marks(project: Project) -> tuple[int, int]:
    build = project.root / "build"
    return (build / ".doit.sqlite3").stat().st_mtime_ns, (build / ".doit.sqlite3.ok").stat().st_mtime_ns


def run(project: Project, *args: str, env: dict[str, str] | None = None,
        check: bool = True) -> tuple[bool, subprocess.CompletedProcess[str]]:
    """(served from the stamp, the result) of `doit *args`."""
    before = _marks(project)
    res = project.doit(*args, env=env, check=check)
    return _marks(project) == before, res


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Project:
    """hello.bpf.c, including a local header, built once for the module."""
    project = _make_project(tmp_path_factory.mktemp("stamp"), only=("hello",))
    src = project.root / "programs" / "hello.bpf.c"
    (project.root / "programs" / "extra.h").write_text("#define EXTRA 1\n")
    src.write_text('#include "extra.h"\n' + src.read_text())
    project.doit()
    return project


@pytest.fixture
def project(built: Project, tmp_path: Path) -> Project:
    """A copy of the built project, stamped again where it now is (a stamp names its folder)."""
    root = tmp_path / "proj"
    shutil.copytree(built.root, root, symlinks=True)
    copy = Project(root, dict(built.env))
    served, res = run(copy)
    assert not served
    assert (root / STAMP_FILE).exists(), res.stdout + res.stderr
    return copy


def test_the_first_noop_after_a_build_is_served_and_prints_what_doit_prints(project):
    src = project.root / "programs" / "hello.bpf.c"
    src.write_text(src.read_text() + "/* edited */\n")
    served, build = run(project)
    assert not served and "programs/hello.bpf.c: compiling (changed: programs/hello.bpf.c)" in build.stdout
    assert (project.root / STAMP_FILE).exists()
    served, first = run(project)
    assert served
    served, again = run(project)
    assert served and again.stdout == first.stdout
    # the same command down doit's normal path prints the same
    (project.root / STAMP_FILE).unlink()
    served, normal = run(project)
    assert not served
    assert (normal.stdout, normal.stderr, normal.returncode) == (first.stdout, first.stderr, first.returncode)
    assert "-- build:hello" in first.stdout and ".  report" in first.stdout and "hello" in first.stdout.splitlines()[-1]


def test_a_served_noop_imports_no_stage_verifier_emulator_or_parser(project):
    res = subprocess.run([sys.executable, "-X", "importtime", "-m", "doit"], cwd=project.root, env=project.env,
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0
    imported = {line.rsplit("|", 1)[-1].strip() for line in res.stderr.splitlines() if "|" in line}
    assert "bpfbuild.tasks.stamp" in imported
    for heavy in ("bpfbuild.tasks.build", "bpfbuild.verifier", "bpfbuild.vm", "bpfbuild.btf", "bpfbuild.obj",
                  "bpfbuild.config", "jinja2", "elftools"):
        assert heavy not in imported, heavy


def _change(project: Project, change: str) -> str:
    """Make one kind of change; return what the normal path then prints."""
    root = project.root
    if change == "source":
        src = root / "programs" / "hello.bpf.c"
        src.write_text(src.read_text() + "/* more */\n")
        return "compiling (changed: programs/hello.bpf.c)"
    if change == "header":
        (root / "programs" / "extra.h").write_text("#define EXTRA 2\n")
        return "compiling (changed: programs/extra.h)"
    if change == "new spec":
        (root / "programs" / "hello.test.toml").write_text(SPEC)
        return "programs/hello.test.toml: "
    if change == "spec":
        (root / "programs" / "hello.test.toml").write_text(SPEC.replace('"passes"', '"still passes"'))
        return ".  test:hello"
    if change == "pyproject":
        (root / "pyproject.toml").write_text('[tool.bpfbuild]\ncflags = ["-DSTAMP_TEST"]\n')
        return "compiling (flags changed)"
    if change == "object":
        (root / "build" / "hello.bpf.o").unlink()
        return "compiling (no object yet)"
    if change == "doit forget":
        project.doit("forget", "test:hello")
        return ".  test:hello"
    raise AssertionError(change)


def test_each_change_goes_down_the_normal_path_then_is_served_again(project):
    for change in ("source", "header", "new spec", "spec", "pyproject", "object", "doit forget"):
        expect = _change(project, change)
        served, res = run(project)
        assert not served, change
        assert expect in res.stdout, (change, res.stdout)
        served, res = run(project)
        assert served, (change, res.stdout)


def test_another_compiler_on_path_or_a_changed_compiler_is_seen(project, tmp_path):
    from bpfbuild.toolchain.discover import discover

    compiler = discover()
    if compiler.kind != "clang":
        pytest.skip("the wrapper stands in for a clang on PATH")
    wrapper_dir = tmp_path / "bin"
    wrapper_dir.mkdir()
    wrapper = wrapper_dir / "clang"
    wrapper.write_text(f'#!/bin/sh\nexec {compiler.path} "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IEXEC)
    env = {"PATH": f"{wrapper_dir}{os.pathsep}{project.env.get('PATH', '')}"}
    served, res = run(project, env=env)
    assert not served and "compiling (compiler changed" in res.stdout
    served, _ = run(project, env=env)
    assert served
    wrapper.write_text(wrapper.read_text() + "# changed\n")   # the same path, another file
    served, _ = run(project, env=env)
    assert not served


def _ran(res) -> str:
    """The task lines of a run, without the bundled-headers task (it runs only where the machine
    has no libbpf headers)."""
    return "".join(line for line in res.stdout.splitlines(keepends=True) if line != "-- headers\n")


def test_another_argv_takes_the_normal_path_and_keeps_the_stamp(project):
    served, res = run(project, "list")
    assert not served and "build" in res.stdout
    served, _ = run(project)
    assert served           # `doit list` left the stamp of `doit` alone
    served, res = run(project, "build")
    assert not served and _ran(res) == "-- build:hello\n"
    served, res = run(project, "build")
    assert served and _ran(res) == "-- build:hello\n"
    served, _ = run(project)
    assert not served       # one stamp: `doit build` wrote its own
    served, _ = run(project)
    assert served
    served, res = run(project, "--continue", "verify")   # as the editor's tasks run it
    assert not served and _ran(res) == "-- build:hello\n-- verify:hello\n"
    served, res = run(project, "--continue", "verify")
    assert served and _ran(res) == "-- build:hello\n-- verify:hello\n"


def test_clean_then_a_failed_build_leaves_no_stamp(project):
    project.doit("clean")
    assert not (project.root / "build" / "hello.bpf.o").exists()
    served, res = run(project)
    assert not served and "compiling (no object yet)" in res.stdout
    src = project.root / "programs" / "hello.bpf.c"
    src.write_text(src.read_text() + "\nthis is not C;\n")
    served, res = run(project, check=False)
    assert not served and res.returncode != 0
    assert not (project.root / STAMP_FILE).exists()
    served, res = run(project, check=False)
    assert not served and res.returncode != 0


def test_an_unreadable_or_foreign_stamp_is_ignored(project):
    path = project.root / STAMP_FILE
    first = project.doit().stdout
    for text in ("{not json", '{"version": 1}'):
        path.write_text(text)
        served, res = run(project)
        assert not served and res.stdout == first


_JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8),
                     lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                     max_leaves=12)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(stamp=st.fixed_dictionaries({"version": st.just(1), "output": st.text(max_size=4), "argv": st.just([]),
                                    "files": _JSON, "trees": _JSON}) | _JSON)
def test_any_json_as_a_stamp_is_an_answer_not_a_traceback(stamp):
    from bpfbuild.tasks import stamp as module

    if isinstance(stamp, dict) and "files" in stamp:   # past the argv, runtime and environment checks
        stamp = {**stamp, "runtime": module._runtime(), "env": module._env()}
    why = stale_reason(stamp, [], ".")
    assert why is None or isinstance(why, str)

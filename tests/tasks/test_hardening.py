"""Build faults (issue 15): edits during a compile, bad ``.cmd`` records, stale skeletons after a
failed compile, a corrupted doit DB, and two ``doit`` at once in one project."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from .test_build import objects

# a compiler doit finds (clang, else zig's): skips with the reason where there is none
needs_clang = pytest.mark.usefixtures("bpf_cc")

WRAPPER = """#!/bin/sh
# A compiler that edits the source while it "runs": before clang reads it (before) or after (after).
mode=""
case " $* " in *" -c "*) [ -f "{marker}" ] && mode=$(cat "{marker}") && rm -f "{marker}";; esac
if [ "$mode" = before ]; then printf '\\n/* edited during the compile */\\n' >> "{source}"; fi
{run}
rc=$?
if [ "$mode" = after ]; then printf '\\n/* edited during the compile */\\n' >> "{source}"; fi
exit $rc
"""


def _wrapped(project, tmp_path: Path) -> tuple[dict[str, str], Path]:
    from tests.bpfcc import find

    marker = tmp_path / "edit-mode"
    wrapper = tmp_path / "clang-wrapper"
    wrapper.write_text(WRAPPER.format(marker=marker, source=project.root / "programs" / "hello.bpf.c",
                                       run=find().clang_script()))
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    return {"BPF_CLANG": str(wrapper)}, marker


@needs_clang
@pytest.mark.parametrize("mode", ["before", "after"])
def test_an_edit_during_the_compile_is_never_recorded_as_built(hello_project, tmp_path, mode):
    env, marker = _wrapped(hello_project, tmp_path)
    hello_project.doit("build", env=env)
    src = hello_project.root / "programs" / "hello.bpf.c"
    src.write_text(src.read_text() + "\n/* next */\n")
    marker.write_text(mode)
    assert set(hello_project.compiled(hello_project.doit("build", env=env))) == {"hello"}
    assert not marker.exists(), "the wrapper did not run"
    # the edit came after the digest was taken: the next run must compile the edited source
    assert hello_project.compiled(hello_project.doit("build", env=env)) == {"hello": "changed: programs/hello.bpf.c"}
    assert hello_project.compiled(hello_project.doit("build", env=env)) == {}


@needs_clang
@pytest.mark.parametrize("record", ['{"deps": {}}', '{"deps": []}', '[]', '{"deps": {"programs/hello.bpf.c": 3}}',
                                    '{"deps": {"programs/hello.bpf.c": [1, 2, 3]}}', 'null', '{', ''])
def test_a_cmd_record_of_the_wrong_shape_forces_a_rebuild_with_a_reason(hello_project, record):
    hello_project.doit("build")
    cmd = hello_project.root / "build" / ".hello.bpf.o.cmd"
    cmd.write_text(record)
    res = hello_project.doit("build")
    reason = hello_project.compiled(res)["hello"]
    assert "record of the last compile" in reason
    assert "Traceback" not in res.stderr
    assert hello_project.compiled(hello_project.doit("build")) == {}


@needs_clang
def test_a_header_edit_is_seen_after_a_record_lost_its_deps(make_project, tmp_path):
    project = make_project(tmp_path, only=("tc_port_filter",))
    project.doit("build")
    (project.root / "build" / ".tc_port_filter.bpf.o.cmd").write_text(json.dumps({"deps": {}}))
    project.doit("build")
    header = project.root / "programs" / "parsing.h"
    header.write_text(header.read_text() + "\n/* tweak */\n")
    assert "tc_port_filter" in project.compiled(project.doit("build"))


@needs_clang
def test_a_failed_compile_removes_the_old_skeletons(hello_project):
    hello_project.doit("build", "skel:hello")
    header = hello_project.root / "build" / "hello.skel.h"
    module = hello_project.root / "build" / "hello_skel.py"
    assert header.exists() and module.exists()
    src = hello_project.root / "programs" / "hello.bpf.c"
    src.write_text(src.read_text() + "\nthis is not C;\n")
    res = hello_project.doit("build:hello", check=False)
    assert res.returncode != 0
    for stale in (header, module, hello_project.root / "build" / "hello.bpf.o"):
        assert not stale.exists(), stale


@needs_clang
def test_a_read_only_build_dir_fails_in_one_line(hello_project):
    if os.geteuid() == 0:
        pytest.skip("root ignores directory permissions")
    hello_project.doit("build")
    build = hello_project.root / "build"
    src = hello_project.root / "programs" / "hello.bpf.c"
    src.write_text(src.read_text() + "\n/* e */\n")
    build.chmod(0o555)
    try:
        res = hello_project.doit("build:hello", check=False)
    finally:
        build.chmod(0o755)
    assert res.returncode != 0 and "Traceback" not in res.stdout + res.stderr


@needs_clang
@pytest.mark.parametrize("content", [b"", b"{\"build:hello\": ", b"SQLite format 3\x00" + b"\xff" * 200,
                                     b"garbage" * 100])
def test_a_corrupted_doit_db_is_reported_and_started_afresh(hello_project, content):
    hello_project.doit("build")
    db = hello_project.root / "build" / ".doit.sqlite3"
    db.write_bytes(content)
    res = hello_project.doit("build")
    assert "Traceback" not in res.stderr
    if content:
        assert f"{db.relative_to(hello_project.root)}: corrupted doit state" in res.stderr
    assert hello_project.compiled(hello_project.doit("build")) == {}


@needs_clang
def test_two_doit_at_once_build_the_same_objects_as_one(project):
    env = {**project.env}
    procs = [subprocess.Popen([sys.executable, "-m", "doit", "build"], cwd=project.root, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert not any("Traceback" in o + e for o, e in outs)
    first = objects(project)
    assert project.compiled(project.doit("build")) == {}
    assert objects(project) == first
    assert not list((project.root / "build").glob("*.tmp"))

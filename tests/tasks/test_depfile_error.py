"""A depfile that does not parse: the program is rebuilt on every run, saying why, until it parses
(a silent fallback to "the source only" would stop header edits from rebuilding it)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest


def test_an_unparsable_depfile_rebuilds_every_time_until_it_parses(make_project, bpf_cc, tmp_path: Path) -> None:
    # A compiler wrapper that writes a broken depfile while programs/BROKEN_DEPFILE exists.
    wrapper = tmp_path / "clang-wrapper"
    wrapper.write_text(f"""#!/bin/sh
{{ {bpf_cc.clang_script()}
}} || exit $?
[ -e programs/BROKEN_DEPFILE ] || exit 0
while [ $# -gt 0 ]; do
  if [ "$1" = "-MF" ]; then echo "this line has no rule" > "$2"; fi
  shift
done
""")
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    project = make_project(tmp_path, env={"BPF_CLANG": str(wrapper)})
    flag = project.root / "programs" / "BROKEN_DEPFILE"
    flag.write_text("")

    first = project.doit("build:hello")
    assert project.compiled(first) == {"hello": "no object yet"}
    assert "build/hello.d: warning: malformed depfile" in first.stdout
    assert "rebuilt on every run until its depfile parses" in first.stdout

    second = project.doit("build:hello")
    reason = project.compiled(second)["hello"]
    assert reason.startswith("the last depfile did not parse, so its headers are unknown: malformed depfile")

    flag.unlink()
    third = project.doit("build:hello")
    assert project.compiled(third)["hello"].startswith("the last depfile did not parse")
    assert "warning" not in third.stdout
    assert project.compiled(project.doit("build:hello")) == {}   # parsed: up to date again
    source = project.root / "programs" / "hello.bpf.c"
    source.write_text(source.read_text() + "\n/* edit */\n")
    assert project.compiled(project.doit("build:hello")) == {"hello": "changed: programs/hello.bpf.c"}

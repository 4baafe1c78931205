"""`doit ide`: compile_commands.json for clangd and VS Code tasks whose matchers catch real diagnostics."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

from bpfbuild.editor import LABEL_PREFIX, PROBLEM_MATCHERS, merge_tasks


def _match(line: str) -> dict[str, str] | None:
    """Apply the generated matchers as VS Code does (first matching pattern wins)."""
    for matcher in PROBLEM_MATCHERS:
        pat = matcher["pattern"]
        m = re.match(pat["regexp"], line)
        if m:
            return {k: m.group(pat[k]) for k in ("file", "line", "column", "severity", "message") if k in pat}
    return None


def test_compile_commands_has_every_program(project):
    project.doit()
    entries = json.loads((project.root / "compile_commands.json").read_text())
    files = sorted(e["file"].rsplit("/", 1)[1] for e in entries)
    assert files == sorted(p.name for p in (project.root / "programs").glob("*.bpf.c"))
    for e in entries:
        assert e["directory"] == str(project.root)
        assert "-target" in e["arguments"] and "-c" in e["arguments"]
        assert e["arguments"][0].endswith("clang") or e["arguments"][0] == "clang"


def test_vscode_tasks_keep_the_users_own(tmp_path):
    user = """{
      // my tasks
      "version": "2.0.0",
      "tasks": [
        {"label": "my lint", "type": "shell", "command": "make lint",},
        {"label": "bpfbuild: doit", "type": "shell", "command": "stale"},
      ]
    }"""
    doc = merge_tasks(user)
    labels = [t["label"] for t in doc["tasks"]]
    assert labels[0] == "my lint"
    assert labels.count(LABEL_PREFIX + "doit") == 1
    default = [t for t in doc["tasks"] if t.get("group") == {"kind": "build", "isDefault": True}]
    assert [t["label"] for t in default] == [LABEL_PREFIX + "doit"]
    assert {LABEL_PREFIX + s for s in ("doit test", "doit skel", "doit verify", "doit load")} <= set(labels)


def test_matchers_catch_a_real_compile_error(project):
    src = project.root / "programs" / "hello.bpf.c"
    src.write_text(src.read_text().replace("counter++;", "counter++;\n\tcounter = no_such_variable;"))
    res = project.doit(check=False)
    found = [m for m in map(_match, (res.stdout + res.stderr).splitlines()) if m]
    errors = [m for m in found if m["severity"] == "error"]
    assert errors, res.stderr
    first = errors[0]
    assert first["file"] == "programs/hello.bpf.c" and first["line"] == "11" and first["column"] == "12"
    assert "no_such_variable" in first["message"]


def test_matchers_on_the_other_shapes():
    assert _match("programs/x.bpf.c:18:9: error: R0 invalid mem access 'map_value_or_null'") == {
        "file": "programs/x.bpf.c", "line": "18", "column": "9", "severity": "error",
        "message": "R0 invalid mem access 'map_value_or_null'"}
    assert _match("programs/x.bpf.c:18: error: (kernel verifier) invalid") == {
        "file": "programs/x.bpf.c", "line": "18", "severity": "error", "message": "(kernel verifier) invalid"}
    assert _match(".  build:hello") is None


@pytest.mark.skipif(shutil.which("clangd") is None, reason="clangd not installed (Debian package clangd)")
def test_clangd_understands_the_bpf_target(project):
    project.doit()
    good = subprocess.run(["clangd", "--check=programs/xdp_proto_count.bpf.c"], cwd=project.root,
                          capture_output=True, text=True, timeout=120)
    assert "0 errors" in good.stderr, good.stderr[-2000:]
    src = project.root / "programs" / "hello.bpf.c"
    src.write_text(src.read_text().replace("return XDP_PASS;", "return XDP_PAS;"))
    bad = subprocess.run(["clangd", "--check=programs/hello.bpf.c"], cwd=project.root,
                         capture_output=True, text=True, timeout=120)
    assert "XDP_PAS" in bad.stderr and "undeclared identifier" in bad.stderr


def test_matchers_catch_a_failing_test_spec(project):
    """A spec expectation that does not hold: the error points at the expectation in the spec, with a note
    at the source line of the last instruction the program executed."""
    from pathlib import Path

    spec = Path(__file__).resolve().parents[2] / "programs" / "hello.test.toml"
    text = spec.read_text().replace("expect.globals = { counter = 3 }", "expect.globals = { counter = 4 }")
    (project.root / "programs" / "hello.test.toml").write_text(text)
    res = project.doit("test", check=False)
    assert res.returncode != 0
    found = [m for m in map(_match, (res.stdout + res.stderr).splitlines()) if m]
    errors = [m for m in found if m["severity"] == "error"]
    notes = [m for m in found if m["severity"] == "note"]
    assert errors and errors[0]["file"] == "programs/hello.test.toml"
    key_line = next(i for i, line in enumerate(text.splitlines(), 1) if "counter = 4" in line)
    assert int(errors[0]["line"]) == key_line and errors[0]["column"] == "1"
    assert "expected 4, got 3" in errors[0]["message"]
    assert notes and notes[0]["file"] == "programs/hello.bpf.c" and notes[0]["line"] == "11"

"""`bpfbuild verify` (exit codes and JSON contract) and `doit verify` (fails the build at the source line)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bpfbuild.editor import PROBLEM_MATCHERS

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "tests" / "verifier" / "corpus"


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in ("BPF_CLANG", "BPFBUILD_HEADERS")}


@pytest.fixture
def project(tmp_path):
    """hello (accepted) and a classic mistake (rejected) in a fresh project, built by doit."""
    root = tmp_path / "p"
    (root / "programs").mkdir(parents=True)
    shutil.copy(REPO / "programs" / "hello.bpf.c", root / "programs")
    shutil.copy(CORPUS / "map_lookup_no_null_check.bpf.c", root / "programs" / "unchecked.bpf.c")
    shutil.copy(REPO / "dodo.py", root)
    res = subprocess.run([sys.executable, "-m", "doit", "build"], cwd=root, capture_output=True, text=True,
                         env=_env())
    if res.returncode != 0:
        pytest.skip(f"cannot build: {res.stderr[-300:]}")
    return root


def _verify(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bpfbuild", "verify", *args], cwd=root, capture_output=True,
                          text=True, env=_env())


def test_exit_codes_and_json_contract(project, tmp_path):
    ok = _verify(project, "build/hello.bpf.o", "--json")
    assert ok.returncode == 0
    doc = json.loads(ok.stdout)
    assert list(doc) == ["programs"]
    (prog,) = doc["programs"]
    assert list(prog) == ["name", "section", "verdict", "processed_insns", "errors"]
    assert (prog["name"], prog["section"], prog["verdict"], prog["errors"]) == ("hello", "xdp", "accepted", [])
    assert isinstance(prog["processed_insns"], int) and prog["processed_insns"] > 0

    bad = _verify(project, "build/unchecked.bpf.o", "--json")
    assert bad.returncode == 1
    (prog,) = json.loads(bad.stdout)["programs"]
    assert prog["verdict"] == "rejected"
    (err,) = prog["errors"]
    assert list(err) == ["insn", "file", "line", "column", "message"]
    assert err["file"] == "programs/unchecked.bpf.c" and err["line"] == 18
    assert err["message"] == "R0 invalid mem access 'map_value_or_null'"

    junk = tmp_path / "junk.o"
    junk.write_bytes(b"not an object")
    unusable = _verify(project, str(junk))
    assert unusable.returncode == 2 and unusable.stderr.count("\n") == 1


def test_text_output_has_the_error_explanation_and_hint(project):
    res = _verify(project, "build/unchecked.bpf.o")
    assert res.returncode == 1
    lines = res.stdout.splitlines()
    assert lines[0].startswith("programs/unchecked.bpf.c:18:") and ": error: R0 invalid mem access" in lines[0]
    assert any("hint:" in line for line in lines)


def test_log_option_prints_a_kernel_style_log(project):
    res = _verify(project, "build/hello.bpf.o", "--log")
    assert res.returncode == 0
    assert re.search(r"processed \d+ insns \(limit 1000000\)", res.stdout)


def test_doit_verify_fails_the_build_where_the_matchers_find_it(project):
    res = subprocess.run([sys.executable, "-m", "doit", "verify"], cwd=project, capture_output=True, text=True,
                         env=_env())
    assert res.returncode != 0
    found = []
    for line in (res.stdout + res.stderr).splitlines():
        for matcher in PROBLEM_MATCHERS:
            m = re.match(matcher["pattern"]["regexp"], line)
            if m:
                pat = matcher["pattern"]
                found.append({k: m.group(pat[k]) for k in ("file", "line", "severity", "message")})
                break
    assert {"file": "programs/unchecked.bpf.c", "line": "18", "severity": "error",
            "message": "R0 invalid mem access 'map_value_or_null'"} in found
    assert "hello" not in " ".join(f["file"] for f in found)


def test_warn_mode_reports_without_failing(project):
    (project / "pyproject.toml").write_text('[tool.bpfbuild]\nverify = "warn"\n')
    res = subprocess.run([sys.executable, "-m", "doit", "verify"], cwd=project, capture_output=True, text=True,
                         env=_env())
    assert res.returncode == 0, res.stdout + res.stderr
    assert "programs/unchecked.bpf.c:18:9: warning: R0 invalid mem access" in res.stdout

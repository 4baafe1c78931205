"""``target_kernels``: doit verify per target kernel, the summary's target columns, the config key."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bpfbuild.config import config_from_table
from bpfbuild.errors import ConfigError


def test_config_key() -> None:
    cfg = config_from_table(Path("."), {"target_kernels": ["5.15", "6.1", "running", "fleet-a.json"]})
    assert cfg.target_kernels == ("5.15", "6.1", "running", "fleet-a.json")
    assert config_from_table(Path("."), {}).target_kernels == ()
    for bad in (["five"], "5.15", [5.15]):
        with pytest.raises(ConfigError):
            config_from_table(Path("."), {"target_kernels": bad})


def _write(project, targets: list[str], mode: str) -> None:
    (project.root / "pyproject.toml").write_text(
        f"[tool.bpfbuild]\nverify = \"{mode}\"\ntarget_kernels = {json.dumps(targets)}\n")


def test_doit_verify_reports_per_target_and_the_summary_has_a_column_each(project) -> None:
    """hello (xdp, global data: 5.2) and exec_events (a ring buffer: 5.8) on 4.19, 5.4 and 6.1."""
    _write(project, ["4.19", "5.4", "6.1"], "warn")
    res = project.doit("build", "verify", "report")
    out = res.stdout
    # line 9 uses `counter` (.bss); the column is the compiler's (clang 14: 2, zig's clang: 31)
    assert any(re.fullmatch(r"programs/hello\.bpf\.c:9:\d+: warning: global variables \(\.data/\.rodata/\.bss maps\) "
                            r"needs Linux 5\.2; target 4\.19 lacks it", line) for line in out.splitlines()), out
    assert "target 6.1 lacks it" not in out
    header = next(line for line in out.splitlines() if line.startswith("program "))
    assert header.split()[-3:] == ["4.19", "5.4", "6.1"]
    rows = {line.split()[0]: line.split() for line in out.splitlines() if line.split() and
            line.split()[0] in ("hello", "exec_events", "xdp_proto_count")}
    assert rows["hello"][-3:] == ["1", "ok", "ok"] and rows["hello"][-4] == "lacks"
    # exec_events: a ring buffer map, bpf_ringbuf_reserve/submit (5.8) and global data (5.2)
    assert rows["exec_events"][-5:] == ["lacks", "4", "lacks", "3", "ok"]
    report = json.loads((project.root / "build" / "report.json").read_text())
    hello = next(r for r in report["programs"] if r["program"] == "hello")
    assert hello["targets"] == {"4.19": ["global variables (.data/.rodata/.bss maps)"], "5.4": [], "6.1": []}


def test_a_lacking_target_fails_doit_verify_in_error_mode(project) -> None:
    _write(project, ["4.19"], "error")
    res = project.doit("build", "verify:hello", check=False)
    assert res.returncode != 0
    assert re.search(r"^programs/hello\.bpf\.c:9:\d+: error: global variables", res.stdout, re.M)
    assert "Traceback" not in res.stdout + res.stderr


def test_a_saved_probe_is_a_target_and_changing_it_reruns_verify(project, tmp_path: Path) -> None:
    probe = {"format": "bpfbuild-probe/1", "kernel": {"release": "6.1.0", "version": "#1", "machine": "x86_64"},
             "isa": "v3", "limits": {}, "prog_types": {"XDP": True}, "map_types": {"ARRAY": True},
             "helpers": {"XDP": ["map_lookup_elem"]}, "kfuncs": []}
    (project.root / "fleet-a.json").write_text(json.dumps(probe))
    _write(project, ["fleet-a.json"], "warn")
    out = project.doit("build", "verify:hello").stdout
    assert "bpf_trace_printk (helper 6) target fleet-a.json (Linux 6.1.0) does not offer it to xdp programs" in out
    probe["helpers"]["XDP"].append("trace_printk")
    (project.root / "fleet-a.json").write_text(json.dumps(probe))
    again = project.doit("build", "verify:hello").stdout
    assert "verify:hello" in again and "does not offer" not in again


def test_toolchain_names_the_targets(project) -> None:
    _write(project, ["5.15", "running"], "warn")
    out = subprocess.run([sys.executable, "-m", "bpfbuild", "toolchain", "-C", str(project.root)],
                         capture_output=True, text=True, check=True, env=project.env).stdout
    assert "mainline Linux 5.15" in out and "this machine's kernel" in out

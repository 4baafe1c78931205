"""Every reader of a user or state file goes through the bounded reader: a FIFO, a device, a
directory or an oversized file is one line (or, for a record under build/, ignored), never a hang,
a MemoryError or a traceback; and the fuzz findings of these readers stay fixed."""

from __future__ import annotations

import json
import os
from pathlib import Path
from types import SimpleNamespace

import pytest

from bpfbuild.errors import BpfBuildError, ConfigError

from .harness import run_cli

KINDS = ["fifo", "/dev/zero", "dir", "big", "not-utf8"]


def _bad_file(tmp_path: Path, kind: str, suffix: str) -> Path:
    if kind == "fifo":
        path = tmp_path / f"pipe{suffix}"
        os.mkfifo(path)
    elif kind == "dir":
        path = tmp_path / f"dir{suffix}"
        path.mkdir()
    elif kind == "big":
        path = tmp_path / f"sparse{suffix}"
        with open(path, "wb") as fh:
            fh.truncate(1 << 30)
    elif kind == "not-utf8":
        path = tmp_path / f"latin1{suffix}"
        path.write_bytes(b'{"format": "\xe9"}')
    else:
        path = Path(kind)
        if not path.exists():
            pytest.skip("no /dev/zero")
    return path


@pytest.mark.parametrize("kind", KINDS)
def test_saved_probes_and_target_files_are_read_bounded(tmp_path, kind):
    path = _bad_file(tmp_path, kind, ".json")
    for argv in (["probe", "--from", str(path)], ["verify", str(tmp_path / "absent.o"), "--kernel", str(path)]):
        out = run_cli(argv)
        assert out.kind == "error", (argv, out)
    out = run_cli(["probe", "--from", str(path)])
    assert out.detail.startswith(f"{path}: cannot read"), out.detail
    from bpfbuild.abi.target import Target

    with pytest.raises(ConfigError, match="cannot read") as info:
        Target.from_file(path)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("kind", KINDS)
def test_results_and_lcov_records_that_cannot_be_read_are_ignored(tmp_path, kind):
    from bpfbuild.tasks.report import RESULTS_DIR, read_result, write_lcov

    results = tmp_path / RESULTS_DIR
    results.mkdir()
    bad = _bad_file(tmp_path, kind, "")
    for name in ("x.build.json", "x.lcov"):
        (results / name).symlink_to(bad)
    assert read_result(tmp_path, "x", "build") is None
    write_lcov(tmp_path, ["x"])
    assert not (tmp_path / "coverage.lcov").exists()


@pytest.mark.parametrize("record", [
    {"programs": 1}, {"programs": [1]}, {"programs": [{"type": ["xdp"]}]}, {"targets": {"t": 1}},
    {"targets": {"t": [1]}}, {"coverage": "x"}, {"coverage": {}}, {"not_emulated": [1]}, {"passed": "1"},
    {"programs": [{"verdict": 1}]}, {"programs": [{"not_modelled": "x"}]}, [],
])
def test_a_result_record_of_another_shape_is_ignored_by_the_report(tmp_path, capsys, record):
    from bpfbuild.tasks.report import RESULTS_DIR, print_report, read_result

    (tmp_path / RESULTS_DIR).mkdir()
    for stage in ("build", "verify", "test"):
        (tmp_path / RESULTS_DIR / f"x.{stage}.json").write_text(json.dumps(record))
    assert read_result(tmp_path, "x", "build") is None
    prog = SimpleNamespace(name="x", source=Path("x.bpf.c"), object=tmp_path / "x.bpf.o")
    config = SimpleNamespace(build_dir=tmp_path, programs=lambda: [prog], target_kernels=["t"])
    print_report(SimpleNamespace(config=config))
    assert "x" in capsys.readouterr().out


def test_a_result_record_of_the_right_shape_is_read(tmp_path):
    from bpfbuild.tasks.report import read_result, write_result

    record = {"programs": [{"name": "p", "type": "xdp", "insns": 3, "verdict": "rejected", "processed_insns": 4,
                            "errors": [{"message": "R1 invalid mem access", "line": 3}], "not_modelled": ["x"]}],
              "targets": {"t.json": [{"feature": "helper"}]}, "passed": 1, "failed": 0,
              "coverage": {"summary": "1/1"}, "not_emulated": []}
    write_result(tmp_path, "x", "verify", record)
    assert read_result(tmp_path, "x", "verify") == record


@pytest.mark.parametrize("kind", ["fifo", "dir", "big", "not-utf8"])
def test_the_project_configuration_is_read_bounded(tmp_path, kind):
    from bpfbuild.config import load_config

    bad = _bad_file(tmp_path, kind, "")
    if kind == "dir":
        (tmp_path / "pyproject.toml").mkdir()
    else:
        (tmp_path / "pyproject.toml").symlink_to(bad)
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path)
    assert str(info.value).startswith(str(tmp_path / "pyproject.toml")) and "\n" not in str(info.value)


def test_a_tool_key_that_is_not_a_table_is_no_traceback(tmp_path):
    from bpfbuild.config import load_config

    (tmp_path / "pyproject.toml").write_text("tool = 1\n")
    load_config(tmp_path)


@pytest.mark.parametrize("kind", ["fifo", "/dev/zero", "big"])
def test_a_compile_record_that_cannot_be_read_means_a_rebuild(tmp_path, kind):
    from bpfbuild.tasks import build, loaders

    bad = _bad_file(tmp_path, kind, "")
    prog = SimpleNamespace(source=tmp_path / "x.bpf.c", object=tmp_path / "x.bpf.o", name="x")
    cmd = build._cmd_file(prog)   # type: ignore[arg-type]
    cmd.parent.mkdir(parents=True, exist_ok=True)
    cmd.symlink_to(bad)
    record, why = build._load_record(prog)   # type: ignore[arg-type]
    assert record is None and "unreadable" in why and "\n" not in why
    loader = SimpleNamespace(source=tmp_path / "l.c", executable=tmp_path / "l", name="l")
    lcmd = loaders._cmd_file(loader)   # type: ignore[arg-type]
    lcmd.parent.mkdir(parents=True, exist_ok=True)
    lcmd.symlink_to(bad)
    assert loaders._read_record(loader) is None   # type: ignore[arg-type]


def test_coverage_never_reads_a_fifo_named_by_the_line_info(tmp_path):
    from bpfbuild.vm.coverage import CoverageReport, FileCoverage

    fifo = tmp_path / "src.c"
    os.mkfifo(fifo)
    report = CoverageReport(files={str(fifo): FileCoverage(str(fifo))}, programs=("p",))
    assert str(fifo) in report.annotate()


def test_a_nul_byte_in_any_argument_is_one_usage_line(tmp_path):
    for argv in (["unload", "/sys/fs/bpf/a\0b"], ["show", "a\0b"], ["probe", "--from", "\0"],
                 ["skel", "x\0"], ["init", "\0"], ["load", "a\0", "/sys/fs/bpf/x"]):
        out = run_cli(argv)
        assert out.kind == "error" and out.code == 2, (argv, out)
        assert "contains a NUL byte" in out.detail


def test_the_bounded_reader_names_a_nul_byte_in_a_path():
    from bpfbuild.inputs import read_input

    with pytest.raises(BpfBuildError, match="NUL byte"):
        read_input("a\0b")


def test_a_probe_whose_release_is_no_version_is_one_line(real_objects, tmp_path):
    # fuzz input 12077 (seed 15): "kernel": {"release": [1]} escaped as a TargetError traceback
    from bpfbuild.kernel.probe import FORMAT

    obj = tmp_path / "hello.bpf.o"
    obj.write_bytes(real_objects["hello"])
    probe = tmp_path / "fleet.json"
    probe.write_text(json.dumps({"format": FORMAT, "kernel": {"release": [1], "version": "#1", "machine": "x86_64"},
                                 "prog_types": {}, "map_types": {}, "helpers": {}}))
    out = run_cli(["verify", str(obj), "--kernel", str(probe)])
    assert out.kind == "error" and out.detail == f"{probe}: malformed probe: '[1]' is not a kernel version " \
        "(expected e.g. 5.15)", out


def test_a_fifo_as_program_or_loader_source_is_not_waited_on(tmp_path):
    from bpfbuild.tasks import build, loaders

    fifo = tmp_path / "x.bpf.c"
    os.mkfifo(fifo)
    prog = SimpleNamespace(source=fifo, object=tmp_path / "x.bpf.o", name="x")
    assert build.uses_vmlinux(prog) is False   # type: ignore[arg-type]
    loader = SimpleNamespace(source=fifo, executable=tmp_path / "l", name="l", extra_sources=())
    assert loaders._skeletons_included(loader) == []   # type: ignore[arg-type]


def test_a_result_record_whose_programs_are_null_is_ignored(tmp_path, capsys):
    # fuzz input 63228 (seed 16): "programs": null gave a TypeError in the report
    from bpfbuild.tasks.report import RESULTS_DIR, print_report, read_result

    (tmp_path / RESULTS_DIR).mkdir()
    for stage in ("build", "verify", "test"):
        (tmp_path / RESULTS_DIR / f"x.{stage}.json").write_text('{"programs": null, "targets": null}')
    assert read_result(tmp_path, "x", "build") is None
    prog = SimpleNamespace(name="x", source=Path("x.bpf.c"), object=tmp_path / "x.bpf.o")
    print_report(SimpleNamespace(config=SimpleNamespace(build_dir=tmp_path, programs=lambda: [prog],
                                                        target_kernels=[])))
    assert "x" in capsys.readouterr().out

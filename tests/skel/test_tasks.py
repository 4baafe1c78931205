"""`doit skel` and `doit vmlinux` (bpfbuild/tasks/skel.py) in a throwaway project."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bpfbuild.skel.generate import c_header, python_module, skeleton_from_file

from .conftest import clean_env, make_project, run_doit


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = make_project(tmp_path / "proj")
    for src in (root / "programs").glob("*.bpf.c"):
        if src.name not in ("hello.bpf.c", "xdp_proto_count.bpf.c", "hello-func.bpf.c"):
            src.unlink()
    res = run_doit(root, "build")
    if res.returncode != 0:
        pytest.skip(f"cannot build: {res.stderr[-400:]}")
    return root


def ran(res: subprocess.CompletedProcess[str]) -> list[str]:
    return sorted(line[3:] for line in res.stdout.splitlines() if line.startswith(".  skel:"))


def test_skel_writes_both_skeletons_and_is_incremental(project: Path) -> None:
    build = project / "build"
    res = run_doit(project, "skel")
    assert res.returncode == 0, res.stderr
    assert ran(res) == ["skel:hello", "skel:hello-func", "skel:xdp_proto_count"]
    skel = skeleton_from_file(build / "hello.bpf.o")
    assert (build / "hello.skel.h").read_text() == c_header(skel)
    assert (build / "hello_skel.py").read_text() == python_module(skel)
    assert (build / "hello_func_skel.py").exists() and (build / "hello-func.skel.h").exists()

    assert ran(run_doit(project, "skel")) == []                      # nothing changed
    src = project / "programs" / "hello.bpf.c"
    src.write_text(src.read_text().replace("Hello World", "Hello again"))
    res = run_doit(project, "skel")                                  # the object changed: rebuilt, regenerated
    assert ran(res) == ["skel:hello"], res.stdout
    assert b"Hello again".hex() in (build / "hello_skel.py").read_text().replace("'\n    '", "")

    res = run_doit(project, "clean", "skel")
    assert res.returncode == 0
    assert not (build / "hello.skel.h").exists() and not (build / "hello_skel.py").exists()


def test_up_to_date_skel_does_not_import_jinja2_or_pyelftools(project: Path) -> None:
    run_doit(project, "skel")
    res = subprocess.run([sys.executable, "-X", "importtime", "-m", "doit", "skel"], cwd=project,
                         check=False, capture_output=True, text=True, env=clean_env())
    assert res.returncode == 0
    assert "jinja2" not in res.stderr and "elftools" not in res.stderr


def test_a_failing_object_fails_its_task_in_one_line(project: Path) -> None:
    (project / "build" / "hello.bpf.o").write_bytes(b"junk")
    res = run_doit(project, "skel:hello")
    assert res.returncode != 0
    assert "build/hello.bpf.o: not an ELF file" in res.stdout + res.stderr


@pytest.mark.skipif(not Path("/sys/kernel/btf/vmlinux").exists(), reason="no /sys/kernel/btf/vmlinux")
def test_vmlinux_task(project: Path) -> None:
    res = run_doit(project, "vmlinux")
    assert res.returncode == 0, res.stderr
    header = project / "build" / "vmlinux.h"
    assert header.read_text().count("struct task_struct {") == 1
    assert "-- vmlinux" in run_doit(project, "vmlinux").stdout      # up to date
    assert run_doit(project, "clean", "vmlinux").returncode == 0 and not header.exists()


def test_vmlinux_without_kernel_btf_has_nothing_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bpfbuild.tasks import skel as skel_tasks

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(skel_tasks, "VMLINUX_BTF", str(tmp_path / "no-btf"))
    task = skel_tasks.task_vmlinux()
    assert task["actions"] is None and task["uptodate"] == [True] and "no-btf" in task["doc"]

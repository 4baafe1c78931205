"""Objects for the skeleton tests: programs/ built by doit in a throwaway project (with
build/vmlinux.h first when the kernel has BTF), and the test programs of tests/skel/data."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from .tools import DATA, REPO

DODO = """\
from bpfbuild.tasks import doit_config, task_build, task_headers  # noqa: F401
from bpfbuild.tasks.skel import task_skel, task_vmlinux  # noqa: F401

DOIT_CONFIG = doit_config()
"""
PYPROJECT = """\
[tool.bpfbuild]

[tool.bpfbuild.programs.core_task]
include_dirs = ["build"]
"""


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in ("BPF_CLANG", "BPFBUILD_HEADERS")}


def make_project(root: Path) -> Path:
    """A copy of programs/ with a dodo.py running build, skel and vmlinux."""
    shutil.copytree(REPO / "programs", root / "programs", ignore=shutil.ignore_patterns("*.toml"))
    (root / "dodo.py").write_text(DODO)
    (root / "pyproject.toml").write_text(PYPROJECT)
    return root


def run_doit(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "doit", *args], cwd=root, check=False, capture_output=True, text=True,
                          env=clean_env(), timeout=600)


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The build dir of a project where `doit vmlinux build skel` ran."""
    root = make_project(tmp_path_factory.mktemp("skelproj"))
    res = run_doit(root, "vmlinux", "build", "skel")
    if res.returncode != 0:
        pytest.skip(f"cannot build programs/: {(res.stdout + res.stderr)[-800:]}")
    return root / "build"


@pytest.fixture(scope="session")
def program_objects(built: Path) -> dict[str, Path]:
    """programs/*.bpf.c -> their objects, by program name."""
    return {p.name[: -len(".bpf.o")]: p for p in sorted(built.glob("*.bpf.o"))}


@pytest.fixture(scope="session")
def compile_bpf(tmp_path_factory: pytest.TempPathFactory) -> Callable[[Path], Path]:
    """Compile a test program with the compiler bpfbuild discovers (skip without one)."""
    from bpfbuild.errors import BpfBuildError
    from bpfbuild.toolchain.discover import discover, include_set
    from bpfbuild.toolchain.flags import compile_argv

    out_dir = tmp_path_factory.mktemp("skelobj")
    try:
        compiler = discover(cache_file=out_dir / ".toolchain.json")
    except BpfBuildError as exc:
        pytest.skip(f"no BPF compiler: {exc}")
    includes = include_set(compiler, out_dir / "include",
                           bundled=os.environ.get("BPFBUILD_HEADERS", "auto") == "bundled")
    if includes.libbpf != "system":
        # no libbpf headers: bpfbuild's own set, with generated helper declarations
        from bpfbuild.tasks.headers import write_helper_defs

        if includes.uapi_header is None:
            pytest.skip("no linux/bpf.h for the compiler (neither the system's nor ziglang's)")
        write_helper_defs(includes.uapi_header, out_dir / "include" / "bpf" / "bpf_helper_defs.h")
    cache: dict[Path, Path] = {}

    def build(source: Path) -> Path:
        if source not in cache:
            obj = out_dir / (source.name[: -len(".c")] + ".o")
            argv = compile_argv(compiler, source, obj, include_flags=includes.flags)
            res = subprocess.run(argv, check=False, capture_output=True, text=True)
            if res.returncode != 0:
                pytest.fail(f"cannot compile {source}: {res.stderr}")
            cache[source] = obj
        return cache[source]

    return build


@pytest.fixture(scope="session")
def kitchen(compile_bpf: Callable[[Path], Path]) -> Path:
    return compile_bpf(DATA / "kitchen.bpf.c")


@pytest.fixture(scope="session")
def names_object(compile_bpf: Callable[[Path], Path]) -> bytes:
    return compile_bpf(DATA / "names.bpf.c").read_bytes()


@pytest.fixture(scope="session")
def port_count(compile_bpf: Callable[[Path], Path]) -> Path:
    return compile_bpf(DATA / "port_count.bpf.c")

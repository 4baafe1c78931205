"""Fixtures for the kernel bridge tests: objects compiled here, a per-test bpffs directory, tools.

Objects are compiled (``-target bpf -g -O2``) by the compiler doit would use (``bpf_cc``: clang,
else zig's) into a session tmp dir.  ``pin_dir`` is a fresh /sys/fs/bpf subdirectory
removed with everything in it when the test ends, passed or failed (and leftovers of killed
runs are swept first).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bpfbuild.cli import main as cli_main

REPO = Path(__file__).resolve().parents[2]
PROGRAMS = REPO / "programs"
DATA = Path(__file__).resolve().parent / "data"
SOURCES = {
    "hello": PROGRAMS / "hello.bpf.c",
    "hello-func": PROGRAMS / "hello-func.bpf.c",
    "maps": DATA / "maps.bpf.c",
    "bad": DATA / "bad.bpf.c",
}


@pytest.fixture(scope="session")
def clang(bpf_cc: Any) -> str:
    """The compiler doit will find (tests that run doit need one): its path."""
    return str(bpf_cc.path)


def compile_bpf(cc: Any, source: Path, out: Path) -> Path:
    res = cc.run(source, out, include_dirs=[source.parent])
    if res.returncode != 0:
        pytest.fail(f"cannot compile {source}:\n{res.stderr}")
    return out


@pytest.fixture(scope="session")
def objects(bpf_cc: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """hello, hello-func (the user's programs), maps and bad (tests/kernel/data) as .bpf.o files."""
    out = tmp_path_factory.mktemp("bpf-objects")
    return {name: compile_bpf(bpf_cc, src, out / f"{name}.bpf.o") for name, src in SOURCES.items()}


@pytest.fixture
def pin_dir(requires_kernel: None) -> Iterator[Path]:
    """A per-test directory on bpffs, removed with its pins afterwards (even on failure)."""
    from bpfbuild.kernel import PinDir, sweep_stale

    sweep_stale()
    with PinDir() as d:
        yield d.path
    assert not d.path.exists()


@pytest.fixture(scope="session")
def bpftool() -> str:
    path = shutil.which("bpftool") or next(
        (p for p in ("/usr/sbin/bpftool", "/sbin/bpftool") if os.path.exists(p)), None)
    if path is None:
        pytest.skip("bpftool not installed (the reference for the comparisons)")
    return path


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str, str]]:
    """Run ``bpfbuild ARGS`` in process: (exit code, stdout, stderr)."""

    def run(*args: str) -> tuple[int, str, str]:
        code = cli_main(list(args))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run

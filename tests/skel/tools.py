"""Helpers shared by the skeleton tests: the reference tools, paths."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DATA = Path(__file__).resolve().parent / "data"


def gcc() -> str:
    path = shutil.which("gcc")
    if path is None:
        pytest.skip("needs gcc")
    if not Path("/usr/include/bpf/libbpf.h").exists():
        pytest.skip("needs libbpf-dev (bpf/libbpf.h)")
    return path


def bpftool() -> str:
    path = shutil.which("bpftool")
    if path is None:
        pytest.skip("needs bpftool (the reference skeleton generator)")
    return path


def bpftool_skeleton(obj: Path, name: str | None = None) -> str:
    argv = [bpftool(), "gen", "skeleton", str(obj)] + (["name", name] if name else [])
    res = subprocess.run(argv, check=False, capture_output=True, text=True)
    if res.returncode != 0:
        pytest.fail(f"bpftool gen skeleton {obj}: {res.stderr}")
    return res.stdout

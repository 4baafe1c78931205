"""Objects built from programs/ once per session (clang if present, else zig)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def built(tmp_path_factory) -> Path:
    """A copy of the project with `doit` run: returns its build dir."""
    root = tmp_path_factory.mktemp("objproj")
    shutil.copytree(REPO / "programs", root / "programs", ignore=shutil.ignore_patterns("*.toml"))
    shutil.copy(REPO / "dodo.py", root / "dodo.py")
    (root / "pyproject.toml").write_text("[tool.bpfbuild]\n")
    env = {k: v for k, v in os.environ.items() if k not in ("BPF_CLANG", "BPFBUILD_HEADERS")}
    res = subprocess.run([sys.executable, "-m", "doit"], cwd=root, capture_output=True, text=True, env=env)
    if res.returncode != 0:
        pytest.skip(f"cannot build programs/: {res.stderr[-500:]}")
    return root / "build"


@pytest.fixture(scope="session")
def objects(built) -> list[Path]:
    return sorted(built.glob("*.bpf.o"))


DATA = Path(__file__).resolve().parent / "data"
VMLINUX_BTF = "/sys/kernel/btf/vmlinux"
# compile_bpf(cc=...): the compiler doit would use, or one that knows cpu v4 and every CO-RE builtin
COMPILERS = {"default": 0, "clang>=18": 18}


@pytest.fixture(scope="session")
def vmlinux_h(tmp_path_factory) -> Path:
    """build/vmlinux.h as `doit vmlinux` makes it: bpfbuild's own dump of the running kernel's BTF."""
    if not os.access(VMLINUX_BTF, os.R_OK):
        pytest.skip(f"{VMLINUX_BTF} not readable: no kernel BTF to generate vmlinux.h from")
    from bpfbuild.skel.btfdump import write_vmlinux_header

    out = tmp_path_factory.mktemp("vmlinux") / "vmlinux.h"
    write_vmlinux_header(out, VMLINUX_BTF)
    return out


@pytest.fixture(scope="session")
def compile_bpf(tmp_path_factory, request):
    """compile_bpf(source or text, cc="default") -> object path.

    ``cc="default"`` is the compiler doit would use (clang, else zig's); ``"clang>=18"`` a newer
    one (clang-19 on PATH, else zig's).  Both with bpfbuild's include set (libbpf's headers or
    its bundled ones); skips with the reason when there is no such compiler."""
    from tests.bpfcc import Unavailable, find

    out_dir = tmp_path_factory.mktemp("objdata")
    counter = iter(range(1_000_000))

    def build(source: str | Path, cc: str = "default", name: str | None = None) -> Path:
        try:
            compiler = find(min_major=COMPILERS[cc])
        except Unavailable as exc:
            pytest.skip(str(exc))
        if isinstance(source, str) and "\n" in source:
            src = out_dir / f"{name or 'inline'}{next(counter)}.bpf.c"
            src.write_text(source)
        else:
            src = DATA / source if not Path(source).is_absolute() else Path(source)
        tag = "v18" if COMPILERS[cc] else "cc"
        obj = out_dir / f"{(name or Path(src).name.removesuffix('.bpf.c'))}.{tag}.bpf.o"
        includes = []
        if '"vmlinux.h"' in Path(src).read_text():
            includes.append(request.getfixturevalue('vmlinux_h').parent)
        res = compiler.run(src, obj, include_dirs=includes, target_arch="x86")
        assert res.returncode == 0, res.stderr[-3000:]
        return obj

    return build

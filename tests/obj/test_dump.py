"""``bpfbuild dump --xlated`` (offline, from the object) against golden listings.

The goldens in data/ were printed from objects that Debian's clang 14 built from programs/ with
``-target bpf -g -O2``; another compiler makes other code, so the test needs that clang.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DATA = Path(__file__).resolve().parent / "data"


def _clang14() -> str | None:
    clang = shutil.which("clang")
    if clang is None:
        return None
    res = subprocess.run([clang, "--version"], capture_output=True, text=True, check=False)
    return clang if re.search(r"clang version 14\.", res.stdout) else None


CLANG = _clang14()


@pytest.mark.skipif(CLANG is None, reason="the goldens are clang 14's code: needs clang 14 as `clang`")
@pytest.mark.parametrize("name", ["hello", "hello-func"])
def test_dump_xlated_matches_the_golden(name: str, tmp_path: Path) -> None:
    import platform

    assert CLANG is not None
    obj = tmp_path / f"{name}.bpf.o"
    include = f"-I/usr/include/{platform.machine()}-linux-gnu"
    subprocess.run([CLANG, "-target", "bpf", include, "-g", "-O2", "-c", str(REPO / "programs" / f"{name}.bpf.c"),
                    "-o", str(obj)], check=True, cwd=tmp_path)
    res = subprocess.run([sys.executable, "-m", "bpfbuild", "dump", "--xlated", str(obj)],
                         capture_output=True, text=True, check=False)
    assert res.returncode == 0, res.stderr
    assert res.stdout == (DATA / f"{name}.xlated").read_text()

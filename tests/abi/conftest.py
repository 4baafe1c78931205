"""Fixtures for the abi tests: the bpf.h copies on this machine, a BPF C compiler, and the running
kernel as an oracle (``kernel`` tests skip unless bpf(2) works here)."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
from pathlib import Path

import pytest

from .bpfsys import SYS_BPF, Bpf

SYSTEM_BPF_H = Path("/usr/include/linux/bpf.h")
VMLINUX = Path("/sys/kernel/btf/vmlinux")


def zig_include() -> Path | None:
    try:
        import ziglang  # type: ignore[import-untyped]
    except ImportError:
        return None
    path = Path(ziglang.__file__).parent / "lib/libc/include/any-linux-any"
    return path if (path / "linux/bpf.h").is_file() else None


def bpf_headers() -> dict[str, Path]:
    """Every linux/bpf.h copy this machine has, by label."""
    out: dict[str, Path] = {}
    if SYSTEM_BPF_H.is_file():
        out["system"] = SYSTEM_BPF_H
    zig = zig_include()
    if zig is not None:
        out["ziglang"] = zig / "linux/bpf.h"
    return out


@pytest.fixture(scope="session")
def bpf() -> Bpf:
    if platform.system() != "Linux" or SYS_BPF is None:
        pytest.skip("needs Linux on x86_64 or aarch64 for bpf(2)")
    if os.geteuid() != 0:
        pytest.skip("needs root to load programs of every type")
    oracle = Bpf()
    if not oracle.loads(1):
        pytest.skip("bpf(BPF_PROG_LOAD) does not work here")
    return oracle


@pytest.fixture(scope="session")
def clang(bpf_cc) -> tuple[str, ...]:  # type: ignore[no-untyped-def]
    """The compiler doit would use (clang, else zig's) as an argv prefix with its BPF target."""
    return (*bpf_cc.command, *bpf_cc.target_flags)


@pytest.fixture(scope="session")
def vmlinux_c() -> str:
    """The running kernel's BTF as C (bpftool btf dump ... format c)."""
    bpftool = shutil.which("bpftool")
    if bpftool is None or not VMLINUX.is_file():
        pytest.skip("needs bpftool and /sys/kernel/btf/vmlinux")
    proc = subprocess.run([bpftool, "btf", "dump", "file", str(VMLINUX), "format", "c"],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        pytest.skip(f"bpftool btf dump failed: {proc.stderr.strip()[:200]}")
    return proc.stdout


def kernel_enum(vmlinux_c: str, name: str) -> dict[str, int]:
    """Members of ``enum name`` in a bpftool C dump."""
    start = vmlinux_c.index(f"enum {name} {{")
    body = vmlinux_c[start:vmlinux_c.index("};", start)]
    out: dict[str, int] = {}
    for line in body.splitlines()[1:]:
        line = line.strip().rstrip(",")
        if "=" in line:
            key, value = (part.strip() for part in line.split("=", 1))
            out[key] = int(value, 0)
    return out

"""Run one program of an object under BPF_PROG_TEST_RUN, the others not loaded (a kernel that
refuses it skips the test, with the kernel's reason)."""

from __future__ import annotations

from pathlib import Path

import pytest


def kernel_retval(obj_path: Path, name: str, data: bytes, *, repeat: int = 1) -> int:
    from bpfbuild.errors import KernelError
    from bpfbuild.kernel import KernelObject

    ko = KernelObject.open(str(obj_path))
    try:
        for prog_name, prog in ko.programs.items():
            prog.autoload = prog_name == name
        try:
            ko.load()
        except KernelError as exc:
            pytest.skip(f"this kernel refuses {name}: {exc}")
        return ko.program(name).test_run(data, repeat=repeat).retval
    finally:
        ko.close()

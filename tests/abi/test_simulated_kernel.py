"""The suite on a kernel configured differently: simulated with ``--probe-without``, the tests
that compare with the kernel skip what it lacks, naming it, instead of failing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.kernel
def test_a_kernel_without_a_helper_and_a_map_type_skips_with_the_reason(kernel_probe) -> None:
    if kernel_probe.note:
        pytest.skip(f"already simulated ({kernel_probe.note})")
    env = {k: v for k, v in os.environ.items() if not k.startswith("BPFBUILD_TEST_PROBE")}
    res = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", "-n", "0",
         "--probe-without=helper:bpf_loop,map:RINGBUF",
         "tests/abi/test_maptypes.py::test_size_rules_against_the_kernel",
         "tests/abi/test_protos.py::test_who_may_call_what_matches_the_kernel",
         "tests/abi/test_protos.py::test_gpl_only_matches_the_kernel",
         "-k", "RINGBUF or bpf_loop or HASH"],
        cwd=REPO, capture_output=True, text=True, env=env, check=False, timeout=600)
    out = res.stdout
    assert res.returncode == 0, out[-2000:]
    assert " failed" not in out
    assert "refuses to create RINGBUF maps (absent (fake probe))" in out
    assert "offers bpf_loop to no program type" in out
    # the rest still ran against the kernel
    assert " passed" in out

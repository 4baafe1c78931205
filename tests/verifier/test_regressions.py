"""Programs where this verifier once disagreed with the kernel (found by differential fuzzing
against Linux 6.18); each expectation is the kernel's.  The programs are assembler text in
``regressions/<name>.asm``, whose header line ``; kernel: accepted|rejected: <message>,
processed N insns`` is the kernel's verdict:

* stack slots dead after an escaped frame pointer (6.18's call-chain stack liveness);
* JNE/JEQ decided by disagreeing known bits (``tnum_overlap``);
* packet pointers with AT/BEYOND_PKT_END ranges equal only to themselves when pruning;
* those ranges dropped by pointer arithmetic (a loop the kernel rejects fast, issue 15).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bpfbuild.abi.progtypes import ProgType
from bpfbuild.isa import assemble, encode
from bpfbuild.verifier import verify_insns

DATA = Path(__file__).resolve().parent / "regressions"
CASES = sorted(p.stem for p in DATA.glob("*.asm"))
_KERNEL = re.compile(r"^; kernel: (?:accepted|rejected: (?P<message>.*)), processed (?P<n>\d+) insns$", re.MULTILINE)


def _case(name: str) -> tuple[bytes, str | None, int]:
    """(bytecode, the kernel's message or None when accepted, its processed count)."""
    text = (DATA / f"{name}.asm").read_text()
    m = _KERNEL.search(text)
    assert m is not None, f"{name}.asm: no '; kernel: ...' line"
    return encode(assemble(text)), m["message"], int(m["n"])


def test_the_regressions_are_there():
    assert CASES == ["dead_slots_after_escaped_fp", "jne_decided_by_known_bits", "pkt_end_marker_dropped_by_arithmetic",
                     "pkt_end_markers_do_not_prune"]


@pytest.mark.parametrize("name", CASES)
def test_matches_the_kernel(name):
    code, message, processed = _case(name)
    report = verify_insns(code, ProgType.XDP)
    assert report.accepted == (message is None)
    if message is not None:
        assert report.errors[0].message == message
    assert report.processed_insns == processed


@pytest.mark.kernel
@pytest.mark.parametrize("name", CASES)
def test_expectations_are_the_kernels(name):
    from bpfbuild.kernel import verdict_insns

    code, message, processed = _case(name)
    kernel = verdict_insns(code, "xdp")
    assert kernel.accepted == (message is None)
    assert kernel.processed_insns == processed

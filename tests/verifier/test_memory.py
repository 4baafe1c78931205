"""A verification leaves no reference cycles: everything it allocated (states, registers, the
environment, the error's traceback) is freed as soon as the report is returned, so ``doit``
verifying many programs neither grows nor pays the cycle collector for them."""

from __future__ import annotations

import gc

import pytest

from bpfbuild.abi.progtypes import ProgType
from bpfbuild.isa import assemble, encode
from bpfbuild.verifier import verify_insns

_PROGRAMS = {
    "accepted, with a bpf-to-bpf call": """
        r1 = 1
        call sub
        exit
    sub:
        *(u64 *)(r10 - 8) = r1
        r0 = *(u64 *)(r10 - 8)
        if r0 > 3 goto out
        r0 = 0
    out:
        exit
    """,
    "rejected on one path": """
        r0 = *(u32 *)(r1 + 12)
        if r0 > 3 goto bad
        r0 = 0
        exit
    bad:
        r0 = r5
        exit
    """,
}


@pytest.mark.parametrize("level", [0, 1, 2])
@pytest.mark.parametrize("name", sorted(_PROGRAMS))
def test_verification_leaves_no_cycles(name: str, level: int) -> None:
    code = encode(assemble(_PROGRAMS[name]))
    verify_insns(code, ProgType.XDP, log_level=level)     # imports and caches outside the count
    gc.collect()
    report = verify_insns(code, ProgType.XDP, log_level=level)
    assert report.accepted == name.startswith("accepted"), report.errors
    del report
    assert gc.collect() == 0

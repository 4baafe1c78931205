"""Programs where this verifier once disagreed with the kernel (found by differential fuzzing
against Linux 6.18); each expectation is the kernel's.

* stack slots dead after an escaped frame pointer (6.18's call-chain stack liveness);
* JNE/JEQ decided by disagreeing known bits (``tnum_overlap``);
* packet pointers with AT/BEYOND_PKT_END ranges equal only to themselves when pruning.
"""

from __future__ import annotations

import pytest

from bpfbuild.abi.progtypes import ProgType
from bpfbuild.verifier import verify_insns

# name: (hex bytecode of an XDP program, kernel message or None, kernel processed_insns)
CASES = {
    "dead_slots_after_escaped_fp": ((
        "bf16000000000000b4000000ffffffffb701000003000000b702000001000000b403000001000000b704000003000000b7050000"
        "03000000b407000007000000b408000004000000b7090000ff0000005f72000000000000bd81000000000000d402000040000000"
        "9c31000000000000731ae0ff00000000bfa900000000000007090000f0ffffffd404000020000000be1502000000000061630c00"
        "00000000735af8ff00000000b7000000000000009500000000000000"), None, 24),
    "jne_decided_by_known_bits": ((
        "bf16000000000000b700000000000000b701000008000000b402000007000000b404000055000000b705000008000000b4070000"
        "00000080b408000000010000b70900000001000069a5f0ff00000000bfa300000000000007030000e8ffffff6405000014000000"
        "bd23030000000000940000000400000056050000400000005f59000000000000b5040100ff00000025000100ad106bd167040000"
        "0f000000737ae8ff000000006b0af0ff0000000057070000feffffff9c48000000000000b7000000000000009500000000000000"), None, 33),
    "pkt_end_markers_do_not_prune": ((
        "bf16000000000000b700000001000000b7010000ffffffffb702000040000000b70300000e000000b705000010000000b7070000"
        "8f02e9d2b708000001000000b409000020000000bfa100000000000007010000e0ffffffb702000004000000bf63000000000000"
        "8500000071000000b702000020000000b703000002000000b704000008000000b705000040000000dc0700004000000069a1e0ff"
        "00000000bfa400000000000007040000f8ffffff9c08000000000000631ae0ff000000000f800000000000003d87010000000000"
        "bfa200000000000007020000e0ffffff0f2900000000000061620000000000006163040000000000bf2400000000000007040000"
        "080000002d34010000000000612100000000000061a5f8ff0000000069a9e0ff00000000dc070000400000008510000008000000"
        "b7010000ffffffffb7020000f8ffffffb70300000e000000b704000008000000b70500001d000000d402000020000000b7000000"
        "000000009500000000000000b7000000000000000700000008000000b7000000010000009500000000000000"), None, 70),
}


def _code(name: str) -> bytes:
    return bytes.fromhex(CASES[name][0])


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_the_kernel(name):
    _, message, processed = CASES[name]
    report = verify_insns(_code(name), ProgType.XDP)
    assert report.accepted == (message is None)
    if message is not None:
        assert report.errors[0].message == message
    assert report.processed_insns == processed


@pytest.mark.kernel
@pytest.mark.parametrize("name", sorted(CASES))
def test_expectations_are_the_kernels(name):
    from bpfbuild.kernel import verdict_insns

    _, message, processed = CASES[name]
    kernel = verdict_insns(_code(name), "xdp")
    assert kernel.accepted == (message is None)
    assert kernel.processed_insns == processed

"""Differential testing against the running kernel: random straight-line-and-branches XDP programs
(ALU and JMP32 on initialised registers, stack spills and fills, context loads, byte swaps,
pointer arithmetic) get the same verdict, message, processed-instruction count and the same
level-2 log, byte for byte, from bpfbuild as from Linux 6.18.  Half of them are verified with
BPF_F_TEST_STATE_FREQ, which checkpoints at every prune point and so exercises pruning.
"""

from __future__ import annotations

import struct

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from bpfbuild.abi.progtypes import ProgType
from bpfbuild.verifier import verify_insns

_SLOT = struct.Struct("<BBhi")
_REGS = [0, 1, 2, 3, 4, 5, 7, 8, 9]
_ALU = [0x00, 0x10, 0x20, 0x30, 0x40, 0x50, 0x90, 0xA0, 0xB0, 0xC0]
_SHIFTS = [0x60, 0x70, 0xC0]
_JMP = [0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0xA0, 0xB0, 0xC0, 0xD0]
_imm = st.one_of(st.sampled_from([0, 1, 2, 3, 7, 8, 14, 16, 31, 32, 63, 64, 255, 256, -1, -2, -8, -256,
                                  0x7FFFFFFF, -0x80000000]),
                 st.integers(-(1 << 31), (1 << 31) - 1), st.integers(-100, 100))
_reg = st.sampled_from(_REGS)
_size = st.sampled_from([0x18, 0x00, 0x08, 0x10])   # DW, W, H, B
_slot = st.integers(1, 4).map(lambda n: -8 * n)


@st.composite
def _op(draw: st.DrawFn) -> list[tuple]:  # type: ignore[type-arg]
    kind = draw(st.sampled_from(["alu", "alu", "alu", "shift", "neg", "jmp", "jmp", "st", "ld", "ctx", "fp", "end"]))
    cls = draw(st.sampled_from([0x07, 0x04]))   # ALU64, ALU
    dst, src = draw(_reg), draw(_reg)
    if kind == "alu":
        op = draw(st.sampled_from(_ALU))
        if draw(st.booleans()):
            return [(op | cls, dst, 0, 0, draw(_imm))]
        return [(op | cls | 0x08, dst, src, 0, 0)]
    if kind == "shift":
        return [(draw(st.sampled_from(_SHIFTS)) | cls, dst, 0, 0, draw(st.integers(0, 31)))]
    if kind == "neg":
        return [(0x80 | cls, dst, 0, 0, 0)]
    if kind == "jmp":
        op = draw(st.sampled_from(_JMP)) | draw(st.sampled_from([0x05, 0x06]))
        off = draw(st.integers(0, 3))
        if draw(st.booleans()):
            return [("J", op, dst, 0, off, draw(_imm))]
        return [("J", op | 0x08, dst, src, off, 0)]
    if kind == "st":
        return [(0x63 | draw(_size), 10, src, draw(_slot), 0)]
    if kind == "ld":
        return [(0x61 | draw(_size), dst, 10, draw(_slot), 0)]
    if kind == "ctx":
        return [(0x61, dst, 6, draw(st.sampled_from([0, 4, 8, 12, 16, 20])), 0)]
    if kind == "fp":
        return [(0xBF, dst, 10, 0, 0), (0x07, dst, 0, 0, draw(_slot))]
    return [(draw(st.sampled_from([0xD4, 0xDC])), dst, 0, 0, draw(st.sampled_from([16, 32, 64])))]


@st.composite
def programs(draw: st.DrawFn) -> bytes:
    out = [_SLOT.pack(0xBF, 6 | 1 << 4, 0, 0)]                  # r6 = r1 (the context)
    for r in _REGS:
        out.append(_SLOT.pack(draw(st.sampled_from([0xB7, 0xB4])), r, 0, draw(_imm)))
    body: list[tuple] = [i for ops in draw(st.lists(_op(), min_size=3, max_size=20)) for i in ops]  # type: ignore[type-arg]
    for n, item in enumerate(body):
        if item[0] == "J":
            _, op, dst, src, off, imm = item
            out.append(_SLOT.pack(op, dst | src << 4, min(off, len(body) - n - 1), imm))
        else:
            op, dst, src, off, imm = item
            out.append(_SLOT.pack(op, dst | src << 4, off, imm))
    out.append(_SLOT.pack(0xB7, 0, 0, draw(st.sampled_from([0, 1, 2]))))
    out.append(_SLOT.pack(0x95, 0, 0, 0))
    return b"".join(out)


@pytest.mark.kernel
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(code=programs(), freq=st.booleans())
def test_same_verdict_count_and_log_as_the_kernel(code, freq):
    from bpfbuild.kernel import verdict_insns

    note(code.hex())
    kernel = verdict_insns(code, "xdp", log_level=2, prog_flags=8 if freq else 0)   # BPF_F_TEST_STATE_FREQ
    ours = verify_insns(code, ProgType.XDP, log_level=2, test_state_freq=freq)
    assert ours.accepted == kernel.accepted
    assert ours.log == kernel.log

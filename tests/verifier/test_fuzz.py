"""Random and mutated bytecode: the verifier only ever returns a verdict, within its limit.

Any exception out of :func:`verify_insns` (other than its documented BpfBuildError for a
byte string that is not whole instructions) is a crash; processed instructions never exceed
the limit by more than the one instruction the kernel's "Processed N+1 insn" message counts.
"""

from __future__ import annotations

import struct

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from bpfbuild.abi.progtypes import ProgType
from bpfbuild.errors import ProgramError
from bpfbuild.isa import encode
from bpfbuild.obj.loader import load_object_file
from bpfbuild.verifier import Report, verify_insns

LIMIT = 2000
_SLOT = struct.Struct("<BBhi")
_TYPES = [ProgType.XDP, ProgType.SOCKET_FILTER, ProgType.SCHED_CLS, ProgType.KPROBE, ProgType.TRACEPOINT,
          ProgType.RAW_TRACEPOINT, ProgType.CGROUP_SKB]

# Opcodes that occur in real programs: random slots built from them get past the opcode check
# far more often than random bytes do, and so exercise the state machinery.
_OPCODES = [0x07, 0x0F, 0x17, 0x1F, 0x27, 0x2F, 0x37, 0x3F, 0x47, 0x4F, 0x57, 0x5F, 0x67, 0x6F, 0x77, 0x7F,
            0x87, 0x97, 0x9F, 0xA7, 0xAF, 0xB7, 0xBF, 0xC7, 0xCF, 0xD4, 0xDC, 0x04, 0x0C, 0x14, 0x24, 0x34,
            0x44, 0x54, 0x64, 0x74, 0x84, 0x94, 0xA4, 0xB4, 0xBC, 0xC4, 0x05, 0x15, 0x1D, 0x25, 0x2D, 0x35,
            0x3D, 0x45, 0x55, 0x5D, 0x65, 0x6D, 0x75, 0xA5, 0xB5, 0xC5, 0xD5, 0x16, 0x1E, 0x26, 0x56, 0xA6,
            0x61, 0x69, 0x71, 0x79, 0x62, 0x6A, 0x72, 0x7A, 0x63, 0x6B, 0x73, 0x7B, 0xDB, 0xC3, 0x18, 0x85,
            0x95, 0x20, 0x28, 0x30]

_slot = st.builds(lambda op, dst, src, off, imm: _SLOT.pack(op, dst | src << 4, off, imm),
                  st.sampled_from(_OPCODES), st.integers(0, 10), st.integers(0, 10),
                  st.one_of(st.integers(-8, 8), st.integers(-512, 512), st.integers(-(1 << 15), (1 << 15) - 1)),
                  st.one_of(st.integers(-16, 16), st.sampled_from([1, 2, 4, 8, 14, 64, 113, 130, 0xFF, -1]),
                            st.integers(-(1 << 31), (1 << 31) - 1)))


class _Short(list):
    def __repr__(self) -> str:  # keep hypothesis' falsifying examples short
        return f"<{len(self)} programs>"


def _check(report: Report) -> None:
    assert isinstance(report, Report)
    assert report.processed_insns <= LIMIT + 1
    assert report.accepted == (not report.errors)
    for diag in report.errors:
        assert diag.message


@settings(max_examples=400, deadline=None)
@given(code=st.binary(min_size=8, max_size=8 * 24).map(lambda b: b[: len(b) // 8 * 8]),
       prog_type=st.sampled_from(_TYPES), unprivileged=st.booleans())
def test_random_bytes_only_get_verdicts(code, prog_type, unprivileged):
    note(code.hex())
    _check(verify_insns(code, prog_type, unprivileged=unprivileged, insn_limit=LIMIT))


@settings(max_examples=400, deadline=None)
@given(slots=st.lists(_slot, min_size=1, max_size=40), exit_last=st.booleans(),
       prog_type=st.sampled_from(_TYPES))
def test_random_slots_only_get_verdicts(slots, exit_last, prog_type):
    code = b"".join(slots) + (_SLOT.pack(0xB7, 0, 0, 0) + _SLOT.pack(0x95, 0, 0, 0) if exit_last else b"")
    _check(verify_insns(code, prog_type, insn_limit=LIMIT, log_level=2))


@pytest.fixture(scope="module")
def corpus_code(build_corpus, corpus_lib) -> list[tuple[bytes, ProgType, tuple]]:
    out = _Short()
    for src in corpus_lib.corpus_sources():
        spec = load_object_file(build_corpus(src))
        for prog in spec.programs:
            try:
                code = encode(prog.insns)
            except ProgramError:     # load-acquire/store-release: not in the isa's form table yet
                continue
            out.append((code, prog.prog_type, spec.maps))
    return out


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), mutations=st.integers(1, 4))
def test_mutated_corpus_bytecode_only_gets_verdicts(corpus_code, data, mutations):
    code, prog_type, maps = corpus_code[data.draw(st.integers(0, len(corpus_code) - 1), label="program")]
    buf = bytearray(code)
    for _ in range(mutations):
        kind = data.draw(st.sampled_from(["byte", "slot", "delete", "duplicate"]))
        n = len(buf) // 8
        i = data.draw(st.integers(0, n - 1))
        if kind == "byte":
            buf[i * 8 + data.draw(st.integers(0, 7))] = data.draw(st.integers(0, 255))
        elif kind == "slot":
            buf[i * 8:i * 8 + 8] = data.draw(_slot)
        elif kind == "delete" and n > 1:
            del buf[i * 8:i * 8 + 8]
        else:
            buf[i * 8:i * 8] = buf[i * 8:i * 8 + 8]
    _check(verify_insns(bytes(buf), prog_type, maps=maps, insn_limit=LIMIT,
                        unprivileged=data.draw(st.booleans())))


def test_the_limit_is_the_kernels_message():
    # r0 = 0; loop: r0 += 1; if r0 != -1 goto loop  -- bounded only by 2**64 iterations
    code = b"".join(_SLOT.pack(*s) for s in [(0xB7, 0, 0, 0), (0x07, 0, 0, 1), (0x55, 0, -2, -1),
                                             (0x95, 0, 0, 0)])
    report = verify_insns(code, ProgType.XDP, insn_limit=LIMIT)
    assert not report.accepted
    assert report.errors[0].message == f"BPF program is too large. Processed {LIMIT + 1} insn"
    assert report.processed_insns == LIMIT + 1

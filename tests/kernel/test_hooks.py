"""verdict(): the kernel verifier as the judge, and the log parser behind it."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bpfbuild.errors import KernelError
from bpfbuild.kernel import KernelObject, parse_log_error, verdict

from .conftest import SOURCES

LOG = """\
func#0 @0
0: R1=ctx() R10=fp0
; __u32 key = 0; @ bad.bpf.c:14
1: (63) *(u32 *)(r10 -4) = r1         ; R1=0 R10=fp0 fp-8=0000????
; *value += 1; /* REJECTED HERE */ @ bad.bpf.c:18
7: (79) r1 = *(u64 *)(r0 +0)
R0 invalid mem access 'map_value_or_null'
processed 7 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0
"""


def test_parse_log_error_finds_message_insn_and_source() -> None:
    assert parse_log_error(LOG) == ("R0 invalid mem access 'map_value_or_null'", 7,
                                    "*value += 1; /* REJECTED HERE */ @ bad.bpf.c:18")


def test_parse_log_error_without_a_walk_takes_the_insn_from_the_message() -> None:
    log = "back-edge from insn 3 to 1\nprocessed 0 insns (limit 1000000)\n"
    assert parse_log_error(log) == ("back-edge from insn 3 to 1", 3, None)
    assert parse_log_error("") == (None, None, None)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_parse_log_error_never_raises(text: str) -> None:
    error, insn, _source = parse_log_error(text)
    assert error is None or isinstance(error, str)
    assert insn is None or insn >= 0


def _line_of(path: Path, needle: str) -> int:
    return next(i for i, text in enumerate(path.read_text().splitlines(), 1) if needle in text)


@pytest.mark.kernel
def test_rejected_with_the_kernels_message_at_the_source_line(objects: dict[str, Path]) -> None:
    v = verdict(objects["bad"], "bad")
    assert not v.accepted
    assert v.error_line == "R0 invalid mem access 'map_value_or_null'"
    assert v.errno == errno.EACCES
    assert v.source is not None and v.source.file == "bad.bpf.c"
    assert v.source.line == _line_of(SOURCES["bad"], "REJECTED HERE")
    assert v.source_line == "*value += 1; /* REJECTED HERE */"
    assert v.insn is not None
    # the failing instruction is the last one the kernel printed: a load through r0
    assert f"\n{v.insn}: (79) r1 = *(u64 *)(r0 +0)\n" in v.log
    assert v.processed_insns is not None and 0 < v.processed_insns <= v.insn + 1


@pytest.mark.kernel
def test_accepted_with_the_log_of_a_successful_load(objects: dict[str, Path]) -> None:
    v = verdict(objects["hello"].read_bytes(), "hello", log_level=1 | 4)
    assert v.accepted
    assert (v.error_line, v.insn, v.source) == (None, None, None)
    assert "processed" in v.log and "verification time" in v.log
    assert v.verification_time_usec is not None
    with KernelObject.open(objects["hello"]) as obj:      # the same count the kernel keeps in prog info
        obj.load()
        assert v.processed_insns == obj.program().info().verified_insns


@pytest.mark.kernel
def test_log_level_two_prints_states_and_never_truncates(objects: dict[str, Path]) -> None:
    v = verdict(objects["bad"], log_level=2, log_size=1024)    # too small: retried with more room
    assert not v.accepted
    assert "R0=map_value_or_null" in v.log
    assert v.error_line == "R0 invalid mem access 'map_value_or_null'"


@pytest.mark.kernel
def test_failures_that_are_not_verdicts_raise(objects: dict[str, Path]) -> None:
    with pytest.raises(KernelError, match="no program 'nope'"):
        verdict(objects["hello"], "nope")

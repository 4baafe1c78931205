"""Bare instructions through bpf_prog_load: verdicts and test runs without an ELF."""

from __future__ import annotations

import errno

import pytest

from bpfbuild.errors import KernelError
from bpfbuild.isa import assemble, encode
from bpfbuild.kernel import load_insns, test_run_insns, verdict_insns
from bpfbuild.kernel.rawload import prog_type_number

XDP, SOCKET_FILTER = 6, 1


def code(text: str) -> bytes:
    return encode(assemble(text))


@pytest.mark.kernel
def test_program_type_names_are_libbpfs() -> None:
    assert prog_type_number("xdp") == XDP
    assert prog_type_number("socket_filter") == SOCKET_FILTER
    assert prog_type_number(XDP) == XDP
    with pytest.raises(KernelError, match="unknown program type 'nope'"):
        prog_type_number("nope")


def test_partial_instructions_are_refused() -> None:
    with pytest.raises(KernelError, match="not a whole number of 8-byte instructions"):
        load_insns(b"\x95\0\0\0", XDP)


@pytest.mark.kernel
def test_run_returns_r0() -> None:
    assert test_run_insns(code("r0 = 2\nexit"), "xdp", packet=bytes(64)).retval == 2


@pytest.mark.kernel
def test_division_by_zero_register_gives_zero() -> None:
    run = test_run_insns(code("r0 = 7\nr1 = 0\nr0 /= r1\nexit"), "socket_filter", packet=bytes(64))
    assert run.retval == 0


@pytest.mark.kernel
def test_reading_an_unset_register_is_rejected_at_its_insn() -> None:
    v = verdict_insns(code("r1 = 1\nexit"), "xdp")
    assert (v.accepted, v.error_line, v.insn, v.errno) == (False, "R0 !read_ok", 1, errno.EACCES)
    assert "1: (95) exit" in v.log
    with pytest.raises(KernelError, match="rejected by the kernel verifier at insn 1: R0 !read_ok"):
        test_run_insns(code("r1 = 1\nexit"), "xdp", packet=bytes(64))


@pytest.mark.kernel
def test_rejections_found_before_the_walk_name_their_insn() -> None:
    v = verdict_insns(code("goto +5\nexit"), XDP)
    assert not v.accepted
    assert v.error_line == "jump out of range from insn 0 to 6"
    assert v.insn == 0


@pytest.mark.kernel
def test_accepted_without_a_log_still_counts_insns() -> None:
    v = verdict_insns(code("r0 = 0\nexit"), "xdp", log_level=0)
    assert v.accepted and v.log == ""
    assert v.processed_insns == 2

"""Session inputs: deterministic world for the helpers."""

from __future__ import annotations

import pytest

from bpfbuild.vm import Session, VMError


def test_clock_steps_and_jiffies() -> None:
    s = Session(time_ns=100, time_step_ns=7, hz=1000)
    assert [s.clock_ns(), s.clock_ns()] == [100, 107]
    assert s.jiffies() == (1 << 32) - 300 * 1000


def test_tgid_defaults_to_pid() -> None:
    assert Session(pid=5).tgid == 5
    assert Session(pid=5, tgid=4).tgid == 4


def test_cpu_must_exist() -> None:
    with pytest.raises(VMError, match="cpu 2"):
        Session(nr_cpus=2, cpu=2)


def test_fake_memory_ranges() -> None:
    s = Session(kernel_memory={0x1000: b"abc", 0x2000: b"xyz\0"})
    assert s.kernel_memory.read(0x1001, 2) == b"bc"
    assert s.kernel_memory.read(0x1002, 2) is None
    assert s.kernel_memory.read_cstr(0x2000, 10) == b"xyz"
    assert s.user_memory.read(0x1000, 1) is None

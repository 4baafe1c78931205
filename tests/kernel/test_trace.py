"""Trace pipe lines: parsing, and a bounded non-blocking read."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bpfbuild.kernel.trace import TraceLine, TracePipe, parse_trace_line


def test_parse_printk_line() -> None:
    raw = "          <idle>-0       [001] ..s21  5271.193561: bpf_trace_printk: Hello World 0"
    assert parse_trace_line(raw) == TraceLine(raw=raw, task="<idle>", pid=0, cpu=1, timestamp=5271.193561,
                                              event="bpf_trace_printk", message="Hello World 0")


def test_parse_line_with_tgid_column_and_dashes_in_the_task() -> None:
    raw = " python3-my-tool-4242  (   4242) [000] d..31   12.000001: bpf_trace_printk: x: y"
    line = parse_trace_line(raw)
    assert (line.task, line.pid, line.cpu, line.message) == ("python3-my-tool", 4242, 0, "x: y")


def test_unparsable_line_keeps_its_text() -> None:
    line = parse_trace_line("CPU:1 [LOST 3 EVENTS]")
    assert line.message == "CPU:1 [LOST 3 EVENTS]" and line.pid is None and line.event == ""


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_parse_never_raises(text: str) -> None:
    assert parse_trace_line(text).raw == text


@pytest.mark.kernel
def test_read_returns_at_the_timeout_without_blocking() -> None:
    with TracePipe() as pipe:
        start = time.monotonic()
        lines = pipe.read(timeout=0.3, marker="a marker nothing prints 7f3a")
        elapsed = time.monotonic() - start
    assert lines == []
    assert 0.25 <= elapsed < 2.0

"""BPF_PROG_TEST_RUN through run_prog and the ``test_run`` hook."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from bpfbuild.errors import KernelError
from bpfbuild.kernel import KernelObject, test_run

pytestmark = pytest.mark.kernel

XDP_DROP, XDP_PASS = 1, 2
PACKET = bytes(range(64))


def counter(result_maps: dict[str, list[tuple[bytes, bytes]]], name: str = "hello.bss") -> int:
    ((key, value),) = result_maps[name]
    assert key == bytes(4)
    return int.from_bytes(value, "little")


def test_hello_passes_and_counts(objects: dict[str, Path]) -> None:
    result = test_run(objects["hello"], "hello", packet=PACKET)
    assert result.retval == XDP_PASS
    assert result.packet_out == PACKET
    assert result.ctx_out is None
    assert counter(result.maps_after) == 1
    assert result.maps_after["hello.rodata"] == [(bytes(4), b"Hello World %d\0")]


def test_repeat_runs_the_program_that_many_times(objects: dict[str, Path]) -> None:
    result = test_run(objects["hello"].read_bytes(), packet=PACKET, repeat=25, name="hello")
    assert result.retval == XDP_PASS
    assert counter(result.maps_after) == 25


def test_maps_are_seeded_by_name_or_section(objects: dict[str, Path]) -> None:
    seeded = test_run(objects["hello"], packet=PACKET, maps={".bss": {0: (41).to_bytes(4, "little")}})
    assert counter(seeded.maps_after) == 42
    value = struct.pack("<IH6s", 1234, 5, b"tag")
    result = test_run(objects["maps"], "maps_prog", packet=PACKET, maps={"pairs": [(0, value)]})
    assert counter(result.maps_after, "maps.bss") == 1234
    assert result.maps_after["pairs"] == [(bytes(4), value)]


def test_rodata_is_set_before_load(objects: dict[str, Path]) -> None:
    assert test_run(objects["maps"], packet=PACKET).retval == XDP_PASS
    assert test_run(objects["maps"], packet=PACKET, rodata={"verdict": XDP_DROP}).retval == XDP_DROP
    with pytest.raises(KernelError, match="frozen"):
        test_run(objects["maps"], packet=PACKET, maps={".rodata": {0: bytes(4)}})


def test_xdp_needs_an_ethernet_header(objects: dict[str, Path]) -> None:
    with pytest.raises(KernelError, match="at least 14 bytes"):
        test_run(objects["hello"], packet=b"")


def test_raw_tracepoint_runs_on_a_ctx(objects: dict[str, Path]) -> None:
    # hello-func returns 0 and prints args[1] of its ctx (struct bpf_raw_tracepoint_args)
    result = test_run(objects["hello-func"], ctx=struct.pack("<QQ", 0, 59))
    assert result.retval == 0
    assert result.packet_out == b""


def test_run_prog_on_a_loaded_program_reports_duration(objects: dict[str, Path]) -> None:
    with KernelObject.open(objects["hello"]) as obj:
        obj.load()
        run = obj.program().test_run(PACKET, repeat=1000)
        bss = obj.map(".bss").handle()
        assert int.from_bytes(bss.lookup(0) or b"", "little") == 1000
    assert run.retval == XDP_PASS
    assert 0 < run.duration_ns < 1_000_000

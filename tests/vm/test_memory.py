"""The address space: regions, checked access, and the words a fault is explained with."""

from __future__ import annotations

import pytest

from bpfbuild.vm.memory import Memory, RegionKind, Trap


def test_regions_do_not_overlap_and_null_is_never_mapped() -> None:
    mem = Memory()
    a = mem.map(bytearray(16), RegionKind.MAP_VALUE, "a")
    b = mem.map(bytearray(16), RegionKind.MAP_VALUE, "b")
    assert a >= 1 << 32 and b >= 1 << 32 and abs(a - b) >= 1 << 32
    assert mem.region_of(0) is None


def test_checked_read_and_write() -> None:
    mem = Memory()
    a = mem.map(bytearray(b"0123456789"), RegionKind.MEM)
    assert mem.read(a + 2, 3) == b"234"
    mem.write(a + 8, b"xy")
    assert mem.read(a + 8, 2) == b"xy"
    with pytest.raises(Trap, match="the access ends 1 past it"):
        mem.read(a + 8, 3)
    with pytest.raises(Trap, match="not a pointer"):
        mem.read(16, 1)


def test_read_only_regions_refuse_writes() -> None:
    mem = Memory()
    ro = mem.map(bytearray(4), RegionKind.GLOBAL, "x.rodata", writable=False)
    assert mem.read(ro, 4) == bytes(4)
    with pytest.raises(Trap, match="global data x.rodata is read-only"):
        mem.write(ro, b"\1")


def test_code_and_map_keys_have_no_bytes() -> None:
    mem = Memory()
    code = mem.reserve(RegionKind.CODE, "prog")
    with pytest.raises(Trap, match="points to a code prog"):
        mem.read(code, 1)


def test_unmapped_regions_fault() -> None:
    mem = Memory()
    a = mem.map(bytearray(4), RegionKind.RINGBUF, "rec")
    mem.unmap(a)
    with pytest.raises(Trap, match="no memory there"):
        mem.read(a, 1)


def test_explain_an_access_just_below_a_region() -> None:
    mem = Memory()
    mem.new_key()
    a = mem.map(bytearray(512), RegionKind.STACK, "frame 0")
    assert "8 bytes before the start of stack frame 0" in mem.explain(a - 8, 8, "read")


def test_read_cstr() -> None:
    mem = Memory()
    a = mem.map(bytearray(b"abc\0def"), RegionKind.MEM)
    assert mem.read_cstr(a, 100) == b"abc"
    assert mem.read_cstr(a + 4, 100) is None      # no NUL before the region ends
    assert mem.read_cstr(a, 2) is None

"""The .BTF header and string section as the wire layer checks them (seen through Spec)."""

from __future__ import annotations

import struct

import pytest

from bpfbuild.btf.spec import Spec
from bpfbuild.errors import BTFError, ObjectError

from .btfwriter import BTFWriter


def _blob(byteorder: str = "little") -> BTFWriter:
    w = BTFWriter(byteorder)
    i = w.int_("int", 4, 1)
    w.typedef("myint", i)
    return w


def _patch(data: bytes, offset: int, fmt: str, value: int) -> bytes:
    out = bytearray(data)
    struct.pack_into(fmt, out, offset, value)
    return bytes(out)


@pytest.mark.parametrize("byteorder", ["little", "big"])
def test_both_byte_orders(byteorder: str) -> None:
    data = _blob(byteorder).to_bytes()
    assert data[:2] == (b"\x9f\xeb" if byteorder == "little" else b"\xeb\x9f")
    spec = Spec.from_bytes(data)
    assert spec.byteorder == byteorder
    assert spec.name_of(2) == "myint" and spec.resolve(2).name == "int"


GOOD = _blob().to_bytes()


@pytest.mark.parametrize(("data", "offset", "message"), [
    (b"", 0, "too short"),
    (b"\x9f", 0, "too short"),
    (b"\x9f\xeb\x01", 0, "truncated header"),
    (b"\x00\x00" + GOOD[2:], 0, "bad magic"),
    (_patch(GOOD, 2, "<B", 2), 2, "unsupported version 2"),
    (_patch(GOOD, 3, "<B", 1), 3, "unsupported flags"),
    (_patch(GOOD, 4, "<I", 16), 4, "header length 16 < 24"),
    (_patch(GOOD, 4, "<I", 10_000), 4, "past the end"),
    (_patch(GOOD, 8, "<I", 2), 8, "not 4-byte aligned"),
    (_patch(GOOD, 12, "<I", 30), 12, "not a multiple of 4"),
    (_patch(GOOD, 12, "<I", 4096), 12, "type section"),
    (_patch(GOOD, 20, "<I", 4096), 20, "string section"),
    (_patch(GOOD, 16, "<I", 4), 16, "overlap"),
    (GOOD[:-1], 20, "string section"),
    (GOOD[:-1] + b"x", len(GOOD) - 1, "does not end with NUL"),
])
def test_bad_headers(data: bytes, offset: int, message: str) -> None:
    with pytest.raises(BTFError, match=message) as err:
        Spec.from_bytes(data)
    assert err.value.section == ".BTF" and err.value.offset == offset
    assert isinstance(err.value, ObjectError)


def test_unknown_header_fields_must_be_zero() -> None:
    data = bytearray(_blob().to_bytes(hdr_len=28))
    Spec.from_bytes(bytes(data))
    data[25] = 1
    with pytest.raises(BTFError, match="unknown non-zero header fields"):
        Spec.from_bytes(bytes(data))


def test_string_section_must_start_empty_and_not_be_empty() -> None:
    w = _blob()
    w.strings[0:1] = b"x"
    with pytest.raises(BTFError, match="does not start with an empty string"):
        Spec.from_bytes(w.to_bytes())
    empty = BTFWriter()
    empty.strings = bytearray()
    empty.raw(2, 0)  # a PTR to void
    with pytest.raises(BTFError, match="empty string section"):
        Spec.from_bytes(empty.to_bytes())


def test_non_utf8_names_are_errors() -> None:
    w = BTFWriter()
    w.int_("int", 4, 1)
    w.strings[1:4] = b"\xff\xfe\xfd"
    spec = Spec.from_bytes(w.to_bytes())
    with pytest.raises(BTFError, match="not UTF-8"):
        spec.type(1)


def test_errors_carry_a_file_when_read_from_a_path(tmp_path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.btf"
    bad.write_bytes(b"\x00\x00garbage")
    with pytest.raises(BTFError) as err:
        Spec.from_file(bad)
    assert str(err.value) == f"{bad}: section .BTF+0x0: bad magic 0000 (want 0xeb9f)"
    with pytest.raises(BTFError, match="cannot read"):
        Spec.from_file(tmp_path / "missing")

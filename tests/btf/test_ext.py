""".BTF.ext: func info, line info and CO-RE relocations, from clang and by hand."""

from __future__ import annotations

import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bpfbuild.btf.ext import CoreRelo, CoreReloKind, Ext, FuncInfo, LineInfo
from bpfbuild.btf.spec import Spec
from bpfbuild.btf.types import Func, Struct
from bpfbuild.errors import BTFError
from bpfbuild.location import SourceLocation

from .btfwriter import BTFWriter, ext_bytes
from .test_spec import mutations


def _parse(item) -> tuple[Spec, Ext]:  # type: ignore[no-untyped-def]
    spec = Spec.from_bytes(item.btf)
    return spec, Ext.from_bytes(item.ext, strings_from=spec)


# -- clang's output --------------------------------------------------------------------------


def test_hello_line_and_func_info(compiled) -> None:  # type: ignore[no-untyped-def]
    spec, ext = _parse(compiled["hello"])
    assert ext.sections == ("xdp",)
    (func,) = ext.func_info["xdp"]
    assert func.slot == 0 and spec.type(func.type_id) == spec.type(spec.find_one("hello", Func))
    first = ext.line_info["xdp"][0]
    assert first.slot == 0 and first.line == 9
    assert first.file_name.endswith("hello.bpf.c")
    assert first.location == SourceLocation(first.file_name, 9, first.column)
    assert "bpf_printk" in first.line_text
    assert ext.core_relos == {}


@pytest.mark.parametrize("name", ["hello", "hello-func", "core"])
def test_line_text_is_the_source_line(compiled, name: str) -> None:  # type: ignore[no-untyped-def]
    item = compiled[name]
    _, ext = _parse(item)
    source = item.source.read_text().splitlines()
    infos = [info for lines in ext.line_info.values() for info in lines]
    assert infos
    for info in infos:
        assert info.file_name == str(item.source)
        assert info.insn_off == 8 * info.slot
        if info.line == 0:  # compiler-made code (clang emits these for the CO-RE sample)
            assert info.line_text == "" and info.location.line == 0
            continue
        assert info.line_text == source[info.line - 1]
        assert 0 < info.column <= len(info.line_text) + 1


def test_hello_func_has_two_functions(compiled) -> None:  # type: ignore[no-untyped-def]
    spec, ext = _parse(compiled["hello-func"])
    names = {sec: [spec.name_of(f.type_id) for f in funcs] for sec, funcs in ext.func_info.items()}
    assert names == {"raw_tp/": ["hello"], ".text": ["get_opcode"]}
    assert [i.line for i in ext.line_info[".text"]] == [6, 6]
    # the instruction at slot 1 of raw_tp/ was generated from line 13 (bpf_printk)
    at = ext.line_at("raw_tp/", 1)
    assert at is not None and at.line == 13
    assert ext.line_at("raw_tp/", 3) == at and ext.line_at("nothing", 0) is None


def test_core_relocations(compiled) -> None:  # type: ignore[no-untyped-def]
    spec, ext = _parse(compiled["core"])
    (relos,) = ext.core_relos.values()
    summary = [(r.kind, spec.name_of(r.type_id), r.access) for r in relos]
    assert summary == [
        (CoreReloKind.FIELD_BYTE_OFFSET, "task_struct", "0:0"),  # t->pid
        (CoreReloKind.FIELD_EXISTS, "task_struct", "0:1"),  # t->tgid
        (CoreReloKind.TYPE_SIZE, "task_struct", "0"),
        (CoreReloKind.ENUMVAL_VALUE, "core_mode", "1"),  # MODE_B is enumerator 1
    ]
    task = spec.type(relos[0].type_id)
    assert isinstance(task, Struct) and task.members[relos[1].accessors[1]].name == "tgid"
    labels = [r.kind.label for r in relos]
    assert labels == ["field_byte_offset", "field_exists", "type_size", "enumval_value"]
    slots = [r.slot for r in relos]
    assert slots == sorted(slots) and all(r.insn_off == 8 * r.slot for r in relos)


# -- by hand ---------------------------------------------------------------------------------


def _handmade(byteorder: str = "little", **kw) -> tuple[BTFWriter, bytes]:  # type: ignore[no-untyped-def]
    w = BTFWriter(byteorder)
    i32 = w.int_("int", 4, 1)
    proto = w.func_proto(i32, [])
    f1 = w.func("main", proto)
    f2 = w.func("helper", proto, linkage=0)
    s = w.struct("thing", 8, [("a", i32, 0), ("b", i32, 32)])
    ext = ext_bytes(
        w,
        func_info={"tc": [(0, f1)], ".text": [(0, f2), (64, f2)]},
        line_info={"tc": [(0, "a.c", "int main() {", 3, 1), (16, "a.c", "  return 0;", 4, 1023)],
                   ".text": [(8, "b.h", "x", (1 << 22) - 1, 0)]},
        core_relos={"tc": [(8, s, "0:1", 0), (24, s, "0", 8), (40, i32, "0", 12)]},
        **kw,
    )
    return w, ext


@pytest.mark.parametrize("byteorder", ["little", "big"])
def test_every_record_kind_by_hand(byteorder: str) -> None:
    w, data = _handmade(byteorder)
    spec = Spec.from_bytes(w.to_bytes())
    ext = Ext.from_bytes(data, spec)
    assert dict(ext.func_info) == {"tc": (FuncInfo(0, 3),), ".text": (FuncInfo(0, 4), FuncInfo(64, 4))}
    assert ext.func_info[".text"][1].slot == 8
    assert dict(ext.line_info) == {
        "tc": (LineInfo(0, "a.c", "int main() {", 3, 1), LineInfo(16, "a.c", "  return 0;", 4, 1023)),
        ".text": (LineInfo(8, "b.h", "x", (1 << 22) - 1, 0),),
    }
    assert dict(ext.core_relos) == {"tc": (
        CoreRelo(8, 5, "0:1", CoreReloKind.FIELD_BYTE_OFFSET),
        CoreRelo(24, 5, "0", CoreReloKind.TYPE_EXISTS),
        CoreRelo(40, 1, "0", CoreReloKind.TYPE_MATCHES),
    )}
    assert ext.sections == ("tc", ".text")


def test_larger_records_and_short_header_are_accepted() -> None:
    w, data = _handmade(rec_sizes=(12, 20, 24))
    ext = Ext.from_bytes(data, Spec.from_bytes(w.to_bytes()))
    assert [f.type_id for f in ext.func_info[".text"]] == [4, 4]
    assert ext.core_relos["tc"][0].access == "0:1"
    w, data = _handmade(with_core=False)
    ext = Ext.from_bytes(data, Spec.from_bytes(w.to_bytes()))
    assert ext.core_relos == {} and len(ext.line_info["tc"]) == 2


def _patched(data: bytes, offset: int, value: int) -> bytes:
    out = bytearray(data)
    struct.pack_into("<I", out, offset, value)
    return bytes(out)


# offsets in the hand-made .BTF.ext: header 32; func_info at 32: rec_size, "tc" {name, count, 1 record},
# ".text" {name, count, 2 records} = 4 + 16 + 24 = 44 bytes; line_info at 76.
@pytest.mark.parametrize(("offset", "value", "message"), [
    (32, 4, "func_info record size 4 invalid"),
    (32, 10, "func_info record size 10 invalid"),
    (40, 0, "func_info section with no records"),
    (40, 1000, "run past the end"),
    (44, 4, "not a multiple of 8"),
    (48, 1, r"type \[1\] is INT, not FUNC"),
    (48, 500, "type id 500 out of range"),
    (36, 99999, "string offset 99999 out of range"),
    (76, 8, "line_info record size 8 invalid"),
    (8, 2, "func_info offset 2 not 4-byte aligned"),
    (12, 4000, r"func_info \[0, \+4000\) past the end"),
    (4, 16, "header length 16 < 24"),
])
def test_bad_ext_data(offset: int, value: int, message: str) -> None:
    w, data = _handmade()
    spec = Spec.from_bytes(w.to_bytes())
    with pytest.raises(BTFError, match=message) as err:
        Ext.from_bytes(_patched(data, offset, value), spec)
    assert err.value.section == ".BTF.ext" and err.value.offset is not None


def test_bad_core_relo_kind_and_access_string() -> None:
    w, data = _handmade()
    spec = Spec.from_bytes(w.to_bytes())
    core_at = 32 + struct.unpack_from("<I", data, 24)[0]
    first = core_at + 4 + 8  # rec_size, then "tc" header
    with pytest.raises(BTFError, match="unknown CO-RE relocation kind 13"):
        Ext.from_bytes(_patched(data, first + 12, 13), spec)
    with pytest.raises(BTFError, match="invalid CO-RE access string"):
        Ext.from_bytes(_patched(data, first + 8, w.s("int")), spec)  # access string "int"


def test_truncated_ext_is_an_error() -> None:
    w, data = _handmade()
    spec = Spec.from_bytes(w.to_bytes())
    for cut in (0, 1, 7, 20, 31, 40, len(data) - 1):
        with pytest.raises(BTFError):
            Ext.from_bytes(data[:cut], spec)


# -- fuzzing ---------------------------------------------------------------------------------


def exercise(data: bytes, spec: Spec) -> None:
    try:
        ext = Ext.from_bytes(data, spec)
    except BTFError:
        return
    for relos in ext.core_relos.values():
        for relo in relos:
            assert all(n >= 0 for n in relo.accessors)
    for section in ext.sections:
        ext.line_at(section, 0)


_W, _EXT = _handmade()
_SPEC = Spec.from_bytes(_W.to_bytes())


@settings(max_examples=300, deadline=None)
@given(mutations(_EXT))
def test_fuzz_handmade_ext(data: bytes) -> None:
    exercise(data, _SPEC)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fuzz_compiled_ext(compiled, data) -> None:  # type: ignore[no-untyped-def]
    item = compiled[data.draw(st.sampled_from(sorted(compiled)))]
    exercise(data.draw(mutations(item.ext)), Spec.from_bytes(item.btf))

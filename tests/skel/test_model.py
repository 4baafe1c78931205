"""The skeleton model: names, order, section structs, and what crafted objects cannot do."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bpfbuild.errors import BpfBuildError, SkelError
from bpfbuild.skel.generate import c_header, python_module, skeleton_from_bytes, skeleton_from_file
from bpfbuild.skel.layout import LayoutKind
from bpfbuild.skel.model import Padding, Variable


def members(skel, ident):
    ds = next(d for d in skel.datasecs if d.ident == ident)
    return [(m.ident, m.decl if isinstance(m, Variable) else f"pad {m.size}", m.offset) for m in ds.members]


def test_maps_and_programs_in_libbpf_order(kitchen: Path) -> None:
    skel = skeleton_from_file(kitchen)
    assert skel.name == "kitchen_bpf"
    assert [(m.ident, m.name) for m in skel.maps] == [
        ("pairs", "pairs"), ("bss", "kitchen_.bss"), ("data", "kitchen_.data"), ("rodata", "kitchen_.rodata"),
        ("data_custom", ".data.custom"), ("rodata_custom", ".rodata.custom"),
        ("data_my_very_long_section_name", ".data.my_very_long_section_name"),
        ("rodata_str1_1", ".rodata.str1.1")]
    assert [(p.name, p.auto_attach, p.xdp) for p in skel.programs] == [
        ("kitchen", False, True), ("strlit", False, True), ("tp_prog", True, False)]


def test_section_structs_have_fixed_offsets_padding_and_no_statics(kitchen: Path) -> None:
    skel = skeleton_from_file(kitchen)
    assert members(skel, "bss") == [
        ("counter", "int counter", 0), ("__pad0", "pad 4", 4),
        ("anon_s", "struct {\n\t\t\tint x;\n\t\t\tchar y;\n\t\t} anon_s", 8),
        ("arr2", "int arr2[3][4]", 16), ("vol", "int vol", 64), ("bl", "_Bool bl", 68),
        ("fptr", "int (*fptr)(int, char *)", 72)]
    # const/volatile stripped so a loader can assign before load; the static format string is absent
    assert members(skel, "rodata") == [
        ("port", "__u16 port", 0), ("name", "char name[16]", 2), ("__pad0", "pad 6", 18),
        ("strs", "char *strs[2]", 24)]
    assert members(skel, "data") == [
        ("flag", "char flag", 0), ("__pad0", "pad 7", 1), ("big", "long big", 8), ("gp", "struct pair gp", 16),
        ("td", "myu32 td", 32), ("col", "enum color col", 36)]
    assert members(skel, "rodata_str1_1") == []     # no BTF for compiler strings: an empty struct
    rodata = next(d for d in skel.datasecs if d.ident == "rodata")
    assert rodata.readonly and rodata.map_name == "kitchen_.rodata"


def test_python_layouts(kitchen: Path) -> None:
    skel = skeleton_from_file(kitchen)
    layouts = {v.ident: v.layout for ds in skel.datasecs for v in ds.variables}
    assert layouts["counter"].data() == ("int", 4, True)
    assert layouts["port"].data() == ("int", 2, False)
    assert layouts["name"].kind is LayoutKind.STR
    assert layouts["bl"].kind is LayoutKind.BOOL
    assert layouts["arr2"].data() == ("array", 48, 3, ("array", 16, 4, ("int", 4, True)))
    assert layouts["gp"].data() == ("struct", 16, (("a", 0, 0, ("int", 4, True)), ("b", 64, 0, ("int", 8, True))))
    pairs = skel.maps[0]
    assert pairs.key.data() == ("int", 4, False)
    assert pairs.value.data() == layouts["gp"].data()


def test_name_override_changes_map_names(kitchen: Path) -> None:
    skel = skeleton_from_file(kitchen, name="k")
    assert skel.guard == "__K_SKEL_H__"
    assert [m.name for m in skel.maps][:4] == ["pairs", "k.bss", "k.data", "k.rodata"]
    assert next(d for d in skel.datasecs if d.ident == "bss").struct == "k__bss"


def test_same_object_same_output(kitchen: Path, tmp_path: Path) -> None:
    data = kitchen.read_bytes()
    copy = tmp_path / kitchen.name
    copy.write_bytes(data)
    a, b = skeleton_from_file(kitchen), skeleton_from_file(copy)
    assert c_header(a) == c_header(b) == c_header(skeleton_from_bytes(data, path=str(kitchen)))
    assert python_module(a) == python_module(b)


# -- crafted objects: each placeholder name of names.bpf.c overwritten in every string table --


def craft(data: bytes, placeholder: bytes, new: bytes) -> bytes:
    assert data.count(placeholder) >= 2        # ELF symbol table and BTF both carry it
    new = new[: len(placeholder)].ljust(len(placeholder), b"_")
    return data.replace(placeholder, new)


MAP = b"map_placeholder_0123456789abcdef"
PROG = b"prog_placeholder_0123456789abcdef"
VAR = b"var_placeholder_0123456789abcdef"
SEC = b"sec_placeholder_0123456789"


@pytest.mark.parametrize(("placeholder", "new", "what"), [
    (MAP, b"x;}maps;int evil(void){return;}", "map name"),
    (MAP, b"int\0", "map name"),
    (PROG, b'p"); system("id"); //', "program name"),
    (VAR, b"1var", "variable in .data"),
])
def test_names_that_would_inject_code_are_rejected(names_object: bytes, placeholder: bytes, new: bytes,
                                                   what: str) -> None:
    with pytest.raises(SkelError, match=what) as info:
        skeleton_from_bytes(craft(names_object, placeholder, new), path="names.bpf.o")
    assert "\n" not in str(info.value) and str(info.value).startswith("names.bpf.o: ")


def test_variable_and_section_names_are_sanitized_like_bpftool(names_object: bytes) -> None:
    data = craft(names_object, VAR, b"v;} *bss; int evil; struct {")
    data = craft(data, SEC, b'a"b\n*/?\\x\'c')
    skel = skeleton_from_bytes(data, path="names.bpf.o")
    header = c_header(skel)
    assert "int evil;" not in header and "*/?" not in header
    custom = next(d for d in skel.datasecs if d.section.startswith(".data.a"))
    assert custom.ident == "data_a_b_____x_c_______________"
    # the map name keeps the section's real name, escaped inside its string literal
    assert '".data.a\\042b\\012\\052\\057\\077\\134x\\047c' in header
    ast.parse(python_module(skel))


def test_python_keywords_only_block_the_python_skeleton(names_object: bytes) -> None:
    skel = skeleton_from_bytes(craft(names_object, b"qzkeyw", b"lambda"), path="names.bpf.o")
    assert "int lambda;" in c_header(skel)
    with pytest.raises(SkelError, match="'lambda' is not a valid Python identifier"):
        python_module(skel)


def test_duplicate_member_names_are_rejected(names_object: bytes) -> None:
    # a .maps map called like a global-data member would give two `struct bpf_map *data;`
    data = names_object.replace(MAP, b"data\0" + MAP[5:])
    with pytest.raises(BpfBuildError):
        skeleton_from_bytes(data, path="names.bpf.o")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(st.data())
def test_fuzzed_objects_give_a_skeleton_or_a_bpfbuild_error(names_object: bytes, data: st.DataObject) -> None:
    raw = bytearray(names_object)
    for _ in range(data.draw(st.integers(1, 8))):
        at = data.draw(st.integers(0, len(raw) - 1))
        raw[at] = data.draw(st.integers(0, 255))
    try:
        skel = skeleton_from_bytes(bytes(raw), path="fuzz.bpf.o")
        header = c_header(skel)
        module = python_module(skel)
    except BpfBuildError:
        return
    for m in skel.maps:
        assert f"\t\tstruct bpf_map *{m.ident};\n" in header
    ast.parse(module)
    for ds in skel.datasecs:   # a mutation may leave no data section (its BTF gone): nothing to check
        assert all(isinstance(m, (Variable, Padding)) for m in ds.members)

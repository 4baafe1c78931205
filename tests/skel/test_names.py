"""Skeleton names as bpftool and libbpf derive them, and the identifier checks."""

from __future__ import annotations

import keyword
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bpfbuild.errors import SkelError
from bpfbuild.obj.loader import internal_map_name
from bpfbuild.skel.names import (
    c_identifier,
    datasec_ident,
    header_guard,
    internal_map_ident,
    libbpf_map_name,
    python_identifier,
    skeleton_name,
)

IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


@pytest.mark.parametrize(("path", "name"), [
    ("build/hello.bpf.o", "hello_bpf"),
    ("hello-func.bpf.o", "hello_func_bpf"),
    ("/x/y/tc_port_filter.bpf.o", "tc_port_filter_bpf"),
    ("prog.o", "prog"),
    ("prog", "prog"),
    ("a.b.c", "a_b_c"),
])
def test_skeleton_name_as_bpftool_derives_it(path: str, name: str) -> None:
    assert skeleton_name(path) == name


def test_long_file_names_keep_63_characters_before_dropping_dot_o() -> None:
    base = "x" * 70 + ".bpf.o"
    assert skeleton_name(base) == "x" * 63


def test_name_override_is_checked() -> None:
    assert skeleton_name("hello.bpf.o", "my_skel") == "my_skel"
    for bad in ("a;b", "1abc", "", "int", "a b", "x" * 64, "héllo"):
        with pytest.raises(SkelError):
            skeleton_name("hello.bpf.o", bad)


def test_a_file_name_starting_with_a_digit_is_rejected_with_a_hint() -> None:
    with pytest.raises(SkelError, match="--name"):
        skeleton_name("1prog.bpf.o")


def test_header_guard() -> None:
    assert header_guard("hello_bpf") == "__HELLO_BPF_SKEL_H__"


def test_global_data_map_names_follow_libbpf() -> None:
    assert libbpf_map_name("hello_bpf", ".bss") == "hello_bp.bss"
    assert libbpf_map_name("hello_bpf", ".rodata") == "hello_bp.rodata"
    assert libbpf_map_name("hello_bpf", ".kconfig") == "hello_b.kconfig"
    assert libbpf_map_name("a", ".data") == "a.data"
    # custom sections: the whole section name, even past 15 characters (libbpf 1.1)
    assert libbpf_map_name("hello_bpf", ".data.my_very_long_section_name") == ".data.my_very_long_section_name"
    assert libbpf_map_name("hello_bpf", ".rodata.str1.1") == ".rodata.str1.1"


@settings(max_examples=200, deadline=None)
@given(st.text("abcdefghijklmnopqrstuvwxyz_0123456789", min_size=1, max_size=40),
       st.sampled_from([".bss", ".data", ".rodata", ".kconfig"]))
def test_standard_sections_are_named_as_the_object_reader_names_them(obj: str, section: str) -> None:
    assert libbpf_map_name(obj, section) == internal_map_name(obj, section)


@pytest.mark.parametrize(("map_name", "ident"), [
    ("hello_bp.bss", "bss"),
    ("hello_bp.rodata", "rodata"),
    ("x.data", "data"),
    ("hello_b.kconfig", "kconfig"),
    (".data.custom", "data_custom"),
    (".rodata.str1.1", "rodata_str1_1"),
    ("hello", None),
])
def test_map_members(map_name: str, ident: str | None) -> None:
    assert internal_map_ident(map_name) == ident


def test_datasec_members() -> None:
    assert datasec_ident(".bss") == "bss"
    assert datasec_ident(".data.a-b") == "data_a_b"
    assert datasec_ident(".maps") is None
    assert datasec_ident("license") is None


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=30))
def test_accepted_identifiers_are_identifiers(text: str) -> None:
    for check in (c_identifier, python_identifier):
        try:
            assert check(text, "name") == text
        except SkelError as exc:
            assert "\n" not in str(exc)
            continue
        assert IDENT.match(text)
    if IDENT.match(text) and not keyword.iskeyword(text):
        assert python_identifier(text, "name") == text


def test_keywords_are_rejected_per_language() -> None:
    with pytest.raises(SkelError):
        c_identifier("struct", "map name")
    assert c_identifier("lambda", "map name") == "lambda"
    with pytest.raises(SkelError, match="Python"):
        python_identifier("lambda", "map name")
    assert python_identifier("struct", "map name") == "struct"

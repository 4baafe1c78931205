"""Typed values: BTF-typed globals and maps read and written as Python values; layouts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bpfbuild.errors import SpecError
from bpfbuild.vm import Layout, load
from bpfbuild.vm.typed import RawType, same_value

from .conftest import Compiler

KITCHEN = r"""
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

enum color { RED = 1, GREEN = 2, BLUE = 40 };
struct point { int x; unsigned char y; };
struct flags { unsigned int a : 3; unsigned int b : 5; unsigned short c; };
struct rec {
	struct point p;
	char name[8];
	enum color c;
	union { __u32 u; __s16 s; };
	long arr[3];
	struct flags f;
};

struct rec record = { .p = { -1, 2 }, .name = "ab", .c = GREEN };
const volatile __s64 limit = -5;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8);
	__type(key, struct point);
	__type(value, enum color);
} by_point SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} pcpu SEC(".maps");

SEC("xdp")
int prog(struct xdp_md *ctx)
{
	struct point k = { .x = record.p.x, .y = 0 };
	enum color *c;
	__u32 zero = 0;
	__u64 *n;

	record.arr[1] += limit;
	c = bpf_map_lookup_elem(&by_point, &k);
	if (c)
		record.c = *c;
	n = bpf_map_lookup_elem(&pcpu, &zero);
	if (n)
		*n += 1;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
"""


@pytest.fixture(scope="module")
def kitchen(compile_bpf: Compiler, tmp_path_factory: pytest.TempPathFactory) -> Path:
    src = tmp_path_factory.mktemp("typed") / "kitchen.bpf.c"
    src.write_text(KITCHEN)
    return compile_bpf(src)


def test_globals_decode_by_btf(kitchen: Path) -> None:
    obj = load(kitchen)
    rec = obj.globals.record
    assert rec["p"] == {"x": -1, "y": 2}
    assert rec["name"] == "ab" and rec["c"] == "GREEN" and rec["arr"] == [0, 0, 0]
    assert rec["u"] == 0 and rec["s"] == 0          # an anonymous union's members, flattened
    assert rec["f"] == {"a": 0, "b": 0, "c": 0}
    assert obj.globals.limit == -5 and obj.globals.is_readonly("limit")
    assert obj.globals.type_name("record") == "struct rec"


def test_writing_a_struct_changes_only_the_members_given(kitchen: Path) -> None:
    obj = load(kitchen)
    obj.globals.record = {"p": {"y": 9}, "c": "BLUE", "f": {"a": 5, "b": 17}, "name": "xyz", "s": -2}
    rec = obj.globals.record
    assert rec["p"] == {"x": -1, "y": 9} and rec["c"] == "BLUE" and rec["name"] == "xyz"
    assert rec["f"] == {"a": 5, "b": 17, "c": 0} and rec["s"] == -2 and rec["u"] == 0xFFFE
    obj.globals.record = {"c": 2}
    assert obj.globals.record["c"] == "GREEN"


def test_programs_see_written_rodata_and_struct_keyed_maps(kitchen: Path) -> None:
    obj = load(kitchen)
    obj.globals.limit = 40
    obj.maps.by_point[{"x": -1}] = "BLUE"
    assert obj.maps.by_point.items() == [({"x": -1, "y": 0}, "BLUE")]
    obj.run(packet=bytes(14), repeat=2)
    assert obj.globals.record["arr"] == [0, 80, 0]
    assert obj.globals.record["c"] == "BLUE"
    # a per-CPU array: one value per CPU; the program ran on CPU 0
    assert obj.maps.pcpu[0] == [2, 0]
    obj.maps.pcpu[1] = [5, 6]
    obj.maps.pcpu[0] = 7
    assert obj.maps.pcpu[1] == [5, 6] and obj.maps.pcpu[0] == [7, 7]


@pytest.mark.parametrize(("value", "message"), [
    ({"c": "PURPLE"}, "'PURPLE' is not an enumerator of enum color"),
    ({"name": "too long!"}, "longer than 8 bytes"),
    ({"p": {"z": 1}}, "no member 'z'"),
    ({"arr": [1, 2, 3, 4]}, "4 elements given, the array has 3"),
    ({"p": {"y": 256}}, "does not fit in 1 byte"),
    ({"p": 5}, "expected a table of members"),
    (7, "expected a table of members"),
])
def test_bad_values_are_spec_errors(kitchen: Path, value: Any, message: str) -> None:
    obj = load(kitchen)
    with pytest.raises(SpecError, match=message):
        obj.globals.record = value


def test_unknown_global_is_an_attribute_error(kitchen: Path) -> None:
    obj = load(kitchen)
    with pytest.raises(AttributeError, match="no global variable 'nope'"):
        _ = obj.globals.nope
    assert "record" in obj.globals and set(dir(obj.globals)) >= {"record", "limit"}


def test_layouts_place_members_at_their_natural_alignment() -> None:
    layout = Layout.parse("u8 a; u32 b; u16 c[3], u64 d; char name[5]")
    assert [(f.name, f.offset) for f in layout.fields] == [("a", 0), ("b", 4), ("c", 8), ("d", 16), ("name", 24)]
    assert layout.size == 32
    data = layout.encode({"a": 1, "b": 0xDEADBEEF, "c": [1, 2], "d": -1, "name": "bpf"})
    assert len(data) == 32
    assert layout.decode(data) == {"a": 1, "b": 0xDEADBEEF, "c": [1, 2, 0], "d": 0xFFFFFFFFFFFFFFFF, "name": "bpf"}
    assert Layout.parse("s16 x; void *p").decode(b"\xff\xff" + bytes(14)) == {"x": -1, "p": 0}


@pytest.mark.parametrize("text", ["", "u7 x", "u32", "u32 x[0]", "u32 x; u32 x", "float f"])
def test_bad_layouts_are_spec_errors(text: str) -> None:
    with pytest.raises(SpecError):
        Layout.parse(text)


def test_same_value_compares_only_what_is_expected() -> None:
    layout = Layout.parse("u32 pid; u32 uid; char comm[16]")
    data = layout.encode({"pid": 7, "uid": 1000, "comm": "bash"})
    assert same_value(layout, {"pid": 7}, data)
    assert same_value(layout, {"comm": "bash", "uid": 1000}, data)
    assert not same_value(layout, {"pid": 8}, data)
    assert same_value(RawType(4), 0xFFFFFFFF, b"\xff" * 4) and same_value(RawType(4), -1, b"\xff" * 4)
    assert same_value(RawType(3), "010203", b"\x01\x02\x03")


_values = st.recursive(
    st.one_of(st.integers(-(1 << 70), 1 << 70), st.text(max_size=10), st.booleans(), st.none(), st.floats()),
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.sampled_from(["p", "x", "y", "name", "c", "arr", "f", "a", "b", "u",
                                                             "s", "zz"]), inner, max_size=4)),
    max_leaves=8)


@settings(max_examples=300, deadline=None)
@given(_values)
def test_random_values_encode_or_raise_spec_error(kitchen: Path, value: Any) -> None:
    obj = load(kitchen)
    try:
        obj.globals.record = value
    except SpecError:
        return
    obj.globals.record   # noqa: B018 - decodes


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="us8163264 ;,[]*abcdefxyz_\n0", max_size=40), st.binary(max_size=40))
def test_random_layouts_parse_or_raise_spec_error(text: str, data: bytes) -> None:
    try:
        layout = Layout.parse(text)
    except SpecError:
        return
    assert len(layout.encode(layout.decode(data))) == layout.size

"""Reading test specs: structure, inherited run inputs, and errors at file:line:col."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bpfbuild.errors import SpecError, format_error
from bpfbuild.vm import load_spec, parse_spec
from bpfbuild.vm.packet import build_packet
from bpfbuild.vm.testspec import spec_path_for

from .conftest import PROGRAMS

SPEC = """\
program = "xdp_proto_count"
[world]
pid = 7

[[case]]
name = "one"
packet = { eth = {}, ipv4 = {}, udp = { dport = 9 } }
expect.retval = "XDP_PASS"
expect.maps.proto_count = { 17 = 1 }

[[case]]
name = "two"
repeat = 2
world = { comm = "x" }
packet = "0102030405060708090a0b0c0d0e"
globals = { counter = 5 }

  [[case.run]]
  name = "first"

  [[case.run]]
  packet = { eth = {}, ipv6 = {}, tcp = {} }
  repeat = 1
  [case.run.expect]
  retval = 1
  printk = "one line"

[case.expect]
globals = { counter = 8 }
"""


def test_cases_runs_and_inherited_inputs() -> None:
    spec = parse_spec(SPEC, "x.test.toml")
    assert spec.program == "xdp_proto_count" and spec.world == {"pid": 7}
    one, two = spec.cases
    assert one.name == "one" and len(one.runs) == 1
    assert one.runs[0].packet == build_packet({"eth": {}, "ipv4": {}, "udp": {"dport": 9}})
    assert one.expect.retval == "XDP_PASS" and one.expect.maps == {"proto_count": {"17": 1}}
    assert two.world == {"pid": 7, "comm": "x"} and two.globals == {"counter": 5}
    first, second = two.runs
    assert first.name == "first" and first.repeat == 2 and first.packet == bytes(range(1, 15))
    assert second.repeat == 1 and second.packet is not None and second.packet[12:14] == b"\x86\xdd"
    assert second.expect.retval == 1 and second.expect.printk == ("one line",)
    assert two.expect.globals == {"counter": 8}


def test_locations_point_at_the_keys() -> None:
    spec = parse_spec(SPEC, "x.test.toml")
    one, two = spec.cases
    assert (one.location.line, one.location.column) == (5, 1)
    assert one.expect.where["retval"].line == 8
    assert one.expect.where["maps.proto_count"].line == 9
    assert two.where["globals.counter"].line == 16
    assert (two.runs[1].location.line, two.runs[1].location.column) == (21, 3)
    assert two.runs[1].expect.where["retval"].line == 25
    assert two.runs[1].expect.where["printk"].line == 26
    assert two.expect.where["globals.counter"].line == 29


@pytest.mark.parametrize(("text", "message", "line", "column"), [
    ("[[case]]\npakcet = 1\n", "case 1: unknown key 'pakcet'", 2, 1),
    ("[[case]]\nname = 'a'\n[[case]]\nname = 'a'\n", "two cases are named 'a'", 4, 1),
    ("[[case]]\nrepeat = 0\n", "repeat must be an integer >= 1", 2, 1),
    ("[[case]]\npacket = { eth = {}, ipv5 = {} }\n", "unknown packet layer 'ipv5'", 2, 1),
    ("[[case]]\npacket = 'xyz'\n", "packet is not hex", 2, 1),
    ("[[case]]\nargs = [1, 'a']\n", "args must be a list of integers", 2, 1),
    ("[[case]]\nexpect = { retval = true }\n", "expect.retval must be a number or a name", 2, 1),
    ("[[case]]\n  [case.expect]\n  printk = [1]\n", "expect.printk must be a list of lines", 3, 3),
    ("[[case]]\nexpect.ringbuf.events = { layout = 'u32 a' }\n", "needs records", 2, 1),
    ("[[case]]\n[[case.run]]\nexpect.globals = {}\n", "expect: unknown key 'globals'", 3, 1),
    ("[[case]]\nworld = { pid = 'x' }\n", "world.pid must be an integer", 2, 1),
    ("[[case]]\nkernel_memory = [{ address = 1 }]\n", "needs hex", 2, 1),
    ("program = 3\n[[case]]\n", "program must be a program name", 1, 1),
    ("[[case]]\nname = 'a'\nname = 'b'\n", "invalid TOML: Cannot overwrite a value", 3, 11),
    ("case = 5\n", "a spec needs at least one", 1, 1),
    ("", "a spec needs at least one", 1, 1),
    ("[[case]]\n[case.expect.maps]\nm = 5\n", "expect.maps.m must be a table", 3, 1),
    ("[[case]]\nworld = { kernel_stack = 5 }\n", "world.kernel_stack must be a list of integers", 2, 1),
    ("[[case]]\nworld = { user_stack = [1, -2] }\n", r"world.user_stack\[1\] must be an integer", 2, 1),
    ("[world]\nroutes = [{ dst = '10.0.0.0/8', via = '1.2.3.4' }]\n[[case]]\n",
     "world.routes\\[0\\]: unknown key 'via'", 2, 1),
    ("[world]\nroutes = [{ dst = '10.0.0.0/8', gateway = '::1' }]\n[[case]]\n",
     "gateway is IPv6, but dst is IPv4", 2, 1),
    ("[world]\nroutes = [{ dst = '10.0.0.0/8', dmac = '02:00' }]\n[[case]]\n", "must be a MAC address", 2, 1),
    ("[[case]]\nworld = { task = 3 }\n", "world.task must be a table", 2, 1),
    ("[[case]]\nworld = { task = { real_parent = { tgid = true } } }\n",
     "world.task.real_parent.tgid must be an integer", 2, 1),
])
def test_errors_point_at_the_key(text: str, message: str, line: int, column: int) -> None:
    with pytest.raises(SpecError, match=message) as info:
        parse_spec(text, "s.test.toml")
    assert info.value.location is not None
    assert (info.value.location.line, info.value.location.column) == (line, column), str(info.value)
    assert format_error(info.value).startswith(f"s.test.toml:{line}:{column}: error: ")


def test_load_spec_names_the_file_as_displayed(tmp_path: object) -> None:
    with pytest.raises(SpecError, match="cannot read"):
        load_spec("/nonexistent/x.test.toml", display="programs/x.test.toml")


def test_spec_path_for() -> None:
    assert spec_path_for(PROGRAMS / "hello-func.bpf.c") == PROGRAMS / "hello-func.test.toml"


_keys = st.sampled_from(["name", "packet", "args", "ctx", "repeat", "expect", "globals", "maps", "world", "run",
                         "kernel", "retval", "printk", "program", "kernel_memory", "records", "layout", "x"])
_scalars = st.one_of(st.integers(-3, 300), st.text(alphabet="abc019 ", max_size=6), st.booleans())
_tables = st.recursive(_scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                          st.dictionaries(_keys, inner, max_size=4)), max_leaves=10)


def _toml(value: object) -> str:
    match value:
        case bool():
            return "true" if value else "false"
        case int():
            return str(value)
        case str():
            return '"' + value + '"'
        case list():
            return "[" + ", ".join(_toml(v) for v in value) + "]"
        case dict():
            return "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + " }"
    raise AssertionError(value)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.dictionaries(_keys, _tables, max_size=5), min_size=0, max_size=3), st.booleans())
def test_random_specs_parse_or_raise_spec_error(cases: list[dict[str, object]], top_program: bool) -> None:
    text = ('program = "p"\n' if top_program else "")
    for case in cases:
        text += "[[case]]\n" + "".join(f"{k} = {_toml(v)}\n" for k, v in case.items())
    try:
        spec = parse_spec(text, "fuzz.toml")
    except SpecError as exc:
        assert exc.location is not None and exc.location.file == "fuzz.toml"
        return
    assert len(spec.cases) == len(cases)

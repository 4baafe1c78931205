"""[[property]] blocks: parsing, a property that holds on xdp_proto_count over 1,000 generated
packets, a deliberately broken copy that breaks it, and the printed [[case]] reproducing the
failure when pasted into the spec."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bpfbuild.errors import SpecError
from bpfbuild.obj.loader import load_object_file
from bpfbuild.vm.properties import run_property
from bpfbuild.vm.specrun import run_spec
from bpfbuild.vm.testspec import parse_spec

from .conftest import PROGRAMS

PROPERTY = "every IPv4/IPv6 packet increments exactly one protocol counter"
BUG = ("proto = ip6->nexthdr;\n\t\tbreak;",
       "proto = ip6->nexthdr;\n\t\tif (ip6->hop_limit == 0)\n\t\t\treturn XDP_PASS;\n\t\tbreak;")


def _spec_text() -> str:
    return (PROGRAMS / "xdp_proto_count.test.toml").read_text()


def test_the_property_holds_over_1000_inputs(program_objects: dict[str, Path]) -> None:
    spec = parse_spec(_spec_text(), "programs/xdp_proto_count.test.toml")
    prop = next(p for p in spec.properties if p.name == PROPERTY)
    assert prop.inputs == 1000
    result = run_property(prop, load_object_file(program_objects["xdp_proto_count"]), spec)
    assert result.ok, result.render()


@pytest.fixture(scope="module")
def broken_object(compile_bpf: object, tmp_path_factory: pytest.TempPathFactory) -> Path:
    src_dir = tmp_path_factory.mktemp("broken")
    shutil.copy(PROGRAMS / "parsing.h", src_dir / "parsing.h")
    text = (PROGRAMS / "xdp_proto_count.bpf.c").read_text()
    assert BUG[0] in text
    (src_dir / "xdp_proto_count.bpf.c").write_text(text.replace(BUG[0], BUG[1]))
    # its own object name: the compiler fixture writes every object into one directory
    return compile_bpf(src_dir / "xdp_proto_count.bpf.c", "xdp_proto_count_broken.bpf.o")  # type: ignore[operator, no-any-return]


def test_a_broken_copy_fails_and_the_printed_case_reproduces_it(broken_object: Path,
                                                               program_objects: dict[str, Path]) -> None:
    spec_text = _spec_text()
    spec = parse_spec(spec_text, "programs/xdp_proto_count.test.toml")
    prop = next(p for p in spec.properties if p.name == PROPERTY)
    broken = load_object_file(broken_object)
    result = run_property(prop, broken, spec)
    assert not result.ok
    rendered = result.render()
    assert f'property "{PROPERTY}" does not hold' in rendered and "[[case]]" in rendered
    assert result.example is not None and result.example["layers"][1] == "ipv6"
    assert result.example["fields"]["ipv6.hop_limit"] == 0   # shrunk to the one failing value

    # pasted at the end of the spec, the case fails on the broken program and passes on the real one
    pasted = parse_spec(spec_text + "\n" + result.case_text, "pasted.test.toml")
    case = pasted.cases[-1]
    assert case.name.startswith(PROPERTY)
    on_broken = run_spec(pasted, broken)
    assert [c.ok for c in on_broken.cases][-1] is False
    assert all(c.ok for c in on_broken.cases[:-1])
    assert "expect.hold" in on_broken.cases[-1].failures[0].message
    on_good = run_spec(pasted, load_object_file(program_objects["xdp_proto_count"]))
    assert on_good.ok, "\n".join(f.render() for f in on_good.failures)


def test_runs_repeat_with_the_same_seed(broken_object: Path) -> None:
    spec = parse_spec(_spec_text(), "s.test.toml")
    prop = next(p for p in spec.properties if p.name == PROPERTY)
    obj = load_object_file(broken_object)
    first = run_property(prop, obj, spec, inputs=300)
    again = run_property(prop, obj, spec, inputs=300)
    assert first.case_text == again.case_text


@pytest.mark.parametrize(("text", "message"), [
    ('[[property]]\npacket.fields = { "ttl" = 3 }\n', "must be layer.field"),
    ('[[property]]\nargs = [{ range = [5, 1] }]\n', "low <= high"),
    ('[[property]]\nexpect.hold = ["retval ==="]\n', "not an expression"),
    ('[[property]]\nexpect.hold = ["x.__class__"]\n', "not available"),
    ('[[property]]\ninputs = 0\n', "inputs must be an integer >= 1"),
    ('[[property]]\nbogus = 1\n', "unknown key 'bogus'"),
])
def test_bad_properties_are_spec_errors_at_their_line(text: str, message: str) -> None:
    with pytest.raises(SpecError) as info:
        parse_spec("program = 'p'\n" + text, "p.test.toml")
    assert message in str(info.value)
    assert info.value.location is not None and info.value.location.line >= 2

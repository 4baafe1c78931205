"""Random inputs to the programs of programs/: a run either returns or raises VMError, and never
executes more instructions than its budget."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bpfbuild.errors import VMError
from bpfbuild.obj.loader import load_object_file
from bpfbuild.vm import DEFAULT_BUDGET, Session, build_packet, load
from bpfbuild.vm.maps import ArrayMap, HashMap, ProgArray

from .conftest import PROGRAMS

NAMES = sorted(p.name[: -len(".bpf.c")] for p in PROGRAMS.glob("*.bpf.c"))
_M64 = (1 << 64) - 1


@pytest.fixture(scope="module")
def specs(program_objects: dict[str, Path]) -> dict[str, Any]:
    return {name: load_object_file(path) for name, path in program_objects.items()}


_layered = st.builds(
    lambda l3, l4, port, trunc: build_packet([("eth", {}), *l3, *l4, ("truncate", trunc)]),
    st.sampled_from([[("ipv4", {})], [("ipv6", {})], [("ipv4", {"ihl": 15})], [("ipv4", {"ihl": 3})], [("arp", {})],
                     [("vlan", {}), ("ipv4", {})]]),
    st.sampled_from([[("udp", {})], [("tcp", {})], [("tcp", {"doff": 15})], [("icmp", {})], [("icmpv6", {})], []]),
    st.integers(0, 65535),
    st.integers(0, 80),
)
_packets = st.one_of(st.none(), st.binary(max_size=120), _layered)
_world = st.fixed_dictionaries({
    "pid": st.integers(0, (1 << 32) - 1), "tgid": st.integers(0, (1 << 32) - 1),
    "uid": st.integers(0, (1 << 32) - 1), "comm": st.text(max_size=20),
    "current_task": st.integers(0, _M64), "seed": st.integers(0, 1 << 30),
    "kernel_memory": st.dictionaries(st.integers(0, _M64), st.binary(max_size=64), max_size=3),
})


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from(NAMES), packet=_packets, args=st.one_of(st.none(), st.lists(st.integers(0, _M64), max_size=12)),
       budget=st.one_of(st.just(DEFAULT_BUDGET), st.integers(1, 120)), world=_world, data=st.data())
def test_random_inputs_return_or_raise_vm_error(specs: dict[str, Any], name: str, packet: bytes | None,
                                                args: list[int] | None, budget: int, world: dict[str, Any],
                                                data: st.DataObject) -> None:
    spec = specs[name]
    obj = load(spec, session=Session(**world), budget=budget)
    for m in spec.maps:   # random globals (.rodata too) and map contents
        raw = obj.session.map(m.name)
        if m.is_global_data:
            raw.update(0, data.draw(st.binary(min_size=m.value_size, max_size=m.value_size)))
        elif isinstance(raw, HashMap):
            for _ in range(data.draw(st.integers(0, 3))):
                raw.update(data.draw(st.binary(min_size=m.key_size, max_size=m.key_size)),
                           data.draw(st.binary(min_size=m.value_size, max_size=m.value_size)))
        elif isinstance(raw, ProgArray):
            for _ in range(data.draw(st.integers(0, 3))):
                raw.update(data.draw(st.integers(0, m.max_entries - 1)),
                           obj.machine.programs[data.draw(st.sampled_from(obj.programs))])
        elif isinstance(raw, ArrayMap):
            raw.update(data.draw(st.integers(0, m.max_entries - 1)),
                       data.draw(st.binary(min_size=m.value_size, max_size=m.value_size)))
    for program in obj.programs:
        try:
            result = obj.run(program, packet=packet, args=args, repeat=data.draw(st.integers(1, 3)))
        except VMError:
            continue
        assert result.steps <= budget * 3
        assert 0 <= result.retval <= _M64


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from(NAMES), budget=st.integers(1, 40), packet=_layered)
def test_a_small_budget_stops_runs_with_a_clear_error(specs: dict[str, Any], name: str, budget: int,
                                                      packet: bytes) -> None:
    obj = load(specs[name], budget=budget)
    for program in obj.programs:
        try:
            result = obj.run(program, packet=packet, args=[0] * 12)
        except VMError as exc:
            if "budget" in exc.message:
                assert f"step budget of {budget} instructions is exhausted" in exc.message
            continue
        assert result.steps <= budget

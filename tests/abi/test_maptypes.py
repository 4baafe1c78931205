from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bpfbuild.abi.maptypes import (
    KeyKind,
    MapFlag,
    MapType,
    SizeRule,
    map_helper_allowed,
    map_type_info,
)
from bpfbuild.abi.progtypes import AttachType, ProgType

from .bpfsys import Bpf, errname
from .conftest import kernel_enum


def test_every_map_type_has_facts() -> None:
    for mt in MapType:
        info = map_type_info(mt)
        if mt is MapType.UNSPEC:
            assert info is None
            continue
        assert info is not None and info.map_type is mt
        assert info.has_keys == (info.key is not KeyKind.NONE)
    assert map_type_info(999) is None and map_type_info(-1) is None


def test_well_known_rules() -> None:
    array = map_type_info(MapType.ARRAY)
    hash_ = map_type_info(MapType.HASH)
    ring = map_type_info(MapType.RINGBUF)
    pcpu = map_type_info(MapType.PERCPU_ARRAY)
    lpm = map_type_info(MapType.LPM_TRIE)
    assert array and hash_ and ring and pcpu and lpm
    assert array.key_size.allows(4) and not array.key_size.allows(8) and array.array_like
    assert array.delete_einval and not hash_.delete_einval
    assert pcpu.per_cpu and not array.per_cpu
    assert ring.max_entries.allows(4096) and ring.max_entries.allows(1 << 20)
    assert not ring.max_entries.allows(3 * 4096) and not ring.max_entries.allows(2048)
    assert MapFlag.NO_PREALLOC in lpm.required_flags
    assert map_type_info(MapType.HASH_OF_MAPS).map_in_map  # type: ignore[union-attr]


def test_program_operations() -> None:
    def ops(mt: MapType) -> tuple[bool, bool, bool]:
        info = map_type_info(mt)
        assert info is not None
        return info.prog_lookup, info.prog_update, info.prog_delete

    assert ops(MapType.HASH) == (True, True, True)
    assert ops(MapType.ARRAY) == (True, True, True)
    assert ops(MapType.QUEUE) == (False, False, False)
    assert ops(MapType.RINGBUF) == (False, False, False)
    assert ops(MapType.HASH_OF_MAPS) == (True, False, False)
    assert ops(MapType.XSKMAP) == (True, False, False)
    assert ops(MapType.CPUMAP) == (False, False, False)


def test_size_rule_text() -> None:
    assert str(SizeRule(exact=(4, 8))) == "4 or 8"
    assert str(SizeRule(minimum=8, maximum=1016, step=8)) == "8..1016, multiple of 8"


@pytest.mark.parametrize(("map_type", "helper", "allowed"), [
    (MapType.HASH, "bpf_map_lookup_elem", True),
    (MapType.ARRAY, "map_delete_elem", True),  # accepted; the map answers -EINVAL
    (MapType.QUEUE, "map_lookup_elem", False),
    (MapType.QUEUE, "map_pop_elem", True),
    (MapType.BLOOM_FILTER, "map_pop_elem", False),
    (MapType.BLOOM_FILTER, "map_peek_elem", True),
    (MapType.HASH, "map_push_elem", False),
    (MapType.RINGBUF, "ringbuf_reserve", True),
    (MapType.RINGBUF, "map_lookup_elem", False),
    (MapType.HASH, "ringbuf_output", False),
    (MapType.PROG_ARRAY, "tail_call", True),
    (MapType.ARRAY, "tail_call", False),
    (MapType.PERCPU_HASH, "map_lookup_percpu_elem", True),
    (MapType.HASH, "map_lookup_percpu_elem", False),
    (MapType.DEVMAP, "redirect_map", True),
    (MapType.DEVMAP, "map_update_elem", False),
    (MapType.ARRAY_OF_MAPS, "map_lookup_elem", True),
    (MapType.ARRAY_OF_MAPS, "map_update_elem", False),
])
def test_map_helper_compatibility(map_type: MapType, helper: str, allowed: bool) -> None:
    assert map_helper_allowed(map_type, helper) is allowed


def test_sockmap_updates_depend_on_program_type() -> None:
    assert map_helper_allowed(MapType.SOCKMAP, "map_update_elem", ProgType.XDP)
    assert not map_helper_allowed(MapType.SOCKMAP, "map_update_elem", ProgType.KPROBE)
    assert not map_helper_allowed(MapType.SOCKHASH, "map_update_elem", ProgType.SOCK_OPS)
    assert map_helper_allowed(MapType.SOCKHASH, "map_delete_elem", ProgType.SOCK_OPS)
    assert map_helper_allowed(MapType.SOCKMAP, "map_update_elem", ProgType.TRACING, AttachType.TRACE_ITER)
    assert not map_helper_allowed(MapType.SOCKMAP, "map_update_elem")


def test_map_types_match_the_running_kernel(vmlinux_c: str) -> None:
    kernel = {k: v for k, v in kernel_enum(vmlinux_c, "bpf_map_type").items()
              if not k.startswith("__") and not k.endswith("_DEPRECATED")}
    assert kernel == {t.kernel_name: int(t) for t in MapType}


@settings(max_examples=200, deadline=None)
@given(st.integers(-10, 40), st.text(max_size=30), st.integers(0, 40))
def test_compatibility_never_raises(map_type: int, helper: str, prog_type: int) -> None:
    try:
        pt = ProgType(prog_type)
    except ValueError:
        pt = None
    assert map_helper_allowed(map_type, helper, pt) in (True, False)


def _pick(rule: SizeRule, default: int) -> int:
    if rule.exact:
        return rule.exact[0]
    n = max(rule.minimum, default)
    while not rule.allows(n):
        n += 1
    return n


_SIZED = [mt for mt in MapType if (info := map_type_info(mt)) is not None and not info.needs_btf
          and not info.map_in_map]

# errnos that mean "this kernel refuses the type as such" (configuration, lockdown, no JIT
# support), not "these sizes are wrong" (EINVAL): those are the tables' business
_REFUSED_AS_A_TYPE = ("EPERM", "EOPNOTSUPP", "ENOTSUPP", "absent (fake probe)")


def _config_skip(kernel_probe, mt: MapType) -> None:
    """Skip (with the reason) a map type this kernel does not create whatever the sizes."""
    if kernel_probe.has_map_type(mt.name):
        return
    error = kernel_probe.map_error(mt.name)
    if error in _REFUSED_AS_A_TYPE:
        pytest.skip(f"{kernel_probe.identity} refuses to create {mt.name} maps ({error}): it differs "
                    f"from upstream by configuration; the size rules cannot be checked here")


@pytest.mark.kernel
@pytest.mark.parametrize("mt", _SIZED, ids=lambda mt: mt.name)
def test_size_rules_against_the_kernel(bpf: Bpf, kernel_probe, mt: MapType) -> None:
    """Create the map type with allowed sizes (must work) and with neighbouring sizes the
    rules refuse (must fail).  Map types needing BTF or an inner map are left out."""
    _config_skip(kernel_probe, mt)
    info = map_type_info(mt)
    assert info is not None
    key, value = _pick(info.key_size, 4), _pick(info.value_size, 8)
    entries = _pick(info.max_entries, 1)
    flags = int(info.required_flags)
    err = bpf.create_map(mt, key, value, entries, flags)
    assert err == 0, (mt.name, key, value, entries, errname(err))
    for k in (key - 1, key + 1):
        if k >= 0 and not info.key_size.allows(k):
            assert bpf.create_map(mt, k, value, entries, flags) != 0, (mt.name, "key", k)
    for v in (value - 1, value + 1):
        if v >= 0 and not info.value_size.allows(v):
            assert bpf.create_map(mt, key, v, entries, flags) != 0, (mt.name, "value", v)
    if info.max_entries.exact == (0,):
        assert bpf.create_map(mt, key, value, 1, flags) != 0, (mt.name, "max_entries")
    if flags:
        err = bpf.create_map(mt, key, value, entries, 0)
        assert err != 0, (mt.name, "without required flags", errname(err))


def test_size_rules_check_enough_neighbours() -> None:
    """The kernel test above refuses more than 30 neighbouring sizes in all."""
    refused = 0
    for mt in _SIZED:
        info = map_type_info(mt)
        assert info is not None
        key, value = _pick(info.key_size, 4), _pick(info.value_size, 8)
        refused += sum(1 for k in (key - 1, key + 1) if k >= 0 and not info.key_size.allows(k))
        refused += sum(1 for v in (value - 1, value + 1) if v >= 0 and not info.value_size.allows(v))
    assert refused > 30


@pytest.mark.kernel
def test_the_probe_creates_every_map_type_the_tables_know(kernel_probe) -> None:
    """bpfbuild's probe found each map type creatable, or refused as a type (never EINVAL:
    that would mean the sizes it took from the tables are wrong)."""
    wrong = {mt.name: kernel_probe.map_error(mt.name) for mt in _SIZED
             if not kernel_probe.has_map_type(mt.name) and kernel_probe.map_error(mt.name) not in _REFUSED_AS_A_TYPE}
    assert wrong == {}

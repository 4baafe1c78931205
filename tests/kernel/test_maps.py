"""MapHandle: element access on a hash map and a per-CPU array of a loaded object."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path

import pytest

from bpfbuild.errors import KernelError
from bpfbuild.kernel import KernelObject
from bpfbuild.kernel.maps import possible_cpus

pytestmark = pytest.mark.kernel


def pair(a: int, b: int, tag: bytes) -> bytes:
    return struct.pack("<IH6s", a, b, tag)


@pytest.fixture
def loaded(objects: dict[str, Path]) -> Iterator[KernelObject]:
    with KernelObject.open(objects["maps"]) as obj:
        obj.load()
        yield obj


def test_hash_map_update_lookup_delete_iterate(loaded: KernelObject) -> None:
    pairs = loaded.map("pairs").handle()
    assert pairs.items() == []
    assert pairs.lookup(1) is None
    pairs.update(1, pair(10, 2, b"one"))
    pairs.update((2).to_bytes(4, "little"), pair(20, 3, b"two"))
    assert pairs.lookup(1) == pair(10, 2, b"one")
    assert sorted(pairs.keys()) == [(1).to_bytes(4, "little"), (2).to_bytes(4, "little")]
    assert dict(pairs.items())[(2).to_bytes(4, "little")] == pair(20, 3, b"two")
    assert pairs.delete(1) is True
    assert pairs.delete(1) is False
    assert [k for k, _ in pairs.items()] == [(2).to_bytes(4, "little")]


def test_update_flags_follow_the_kernel(loaded: KernelObject) -> None:
    pairs = loaded.map("pairs").handle()
    with pytest.raises(KernelError, match="update failed: No such file"):
        pairs.update(5, pair(1, 1, b""), flags=2)           # BPF_EXIST on a missing key
    pairs.update(5, pair(1, 1, b""), flags=1)               # BPF_NOEXIST
    with pytest.raises(KernelError, match="File exists"):
        pairs.update(5, pair(1, 1, b""), flags=1)


def test_sizes_are_checked(loaded: KernelObject) -> None:
    pairs = loaded.map("pairs").handle()
    with pytest.raises(KernelError, match="key is 2 bytes, expected 4"):
        pairs.lookup(b"ab")
    with pytest.raises(KernelError, match="value is 3 bytes, expected 12"):
        pairs.update(0, b"abc")


def test_per_cpu_values_one_per_possible_cpu(loaded: KernelObject) -> None:
    hits = loaded.map("hits").handle()
    assert hits.percpu
    assert hits.value_buffer_size == 8 * possible_cpus()
    hits.update(1, (7).to_bytes(8, "little"))                 # one value: every CPU gets it
    values = hits.split_percpu(hits.lookup(1) or b"")
    assert values == [(7).to_bytes(8, "little")] * possible_cpus()
    loaded.program().test_run(bytes(64), repeat=5)
    total = sum(int.from_bytes(v, "little") for v in hits.split_percpu(hits.lookup(0) or b""))
    assert total == 5


def test_array_iteration_lists_every_index(loaded: KernelObject) -> None:
    hits = loaded.map("hits").handle()
    assert [int.from_bytes(k, "little") for k in hits.keys()] == [0, 1]  # noqa: SIM118 (not a dict)

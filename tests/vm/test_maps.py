"""Maps: the user-side API (seed, read) and the kernel's semantics on the program side."""

from __future__ import annotations

import errno

import pytest

from bpfbuild.abi.maptypes import MapFlag, MapType
from bpfbuild.vm import NotEmulated, Session, VMError
from bpfbuild.vm.maps import HashMap, LpmTrieMap, MapInMap, QueueMap, RingBuf
from bpfbuild.vm.memory import Trap


def k(i: int) -> bytes:
    return i.to_bytes(4, "little")


def v(i: int) -> bytes:
    return i.to_bytes(8, "little")


def test_array_elements_always_exist_and_keep_their_address() -> None:
    s = Session()
    a = s.new_map("a", MapType.ARRAY, 4, 8, 3)
    assert a.lookup(2) == bytes(8)
    assert a.lookup(3) is None
    a.update(1, 5)
    assert a[1] == v(5) and len(a) == 3
    addr = a.prog_lookup(k(1), 0)
    assert addr and a.prog_lookup(k(1), 0) == addr
    assert a.prog_lookup(k(3), 0) == 0
    assert a.prog_update(k(3), v(1), 0, 0) == -errno.E2BIG
    assert a.prog_update(k(0), v(1), 1, 0) == -errno.EEXIST
    assert a.prog_update(k(0), v(1), 4, 0) == -errno.EINVAL      # BPF_F_LOCK without a spin lock
    assert a.prog_delete(k(0)) == -errno.EINVAL
    with pytest.raises(VMError, match="EEXIST"):
        a.update(0, 1, flags=1)


def test_global_data_starts_with_its_initial_bytes() -> None:
    s = Session()
    g = s.new_map("x.data", MapType.ARRAY, 4, 6, 1, initial=b"abc")
    assert g[0] == b"abc\0\0\0"
    ro = s.new_map("x.rodata", MapType.ARRAY, 4, 2, 1, readonly=True)
    assert ro.prog_lookup(k(0), 0) >> 32 in s.memory.readable
    assert ro.prog_lookup(k(0), 0) >> 32 not in s.memory.writable


def test_percpu_array_has_a_value_per_cpu() -> None:
    s = Session(nr_cpus=3)
    p = s.new_map("p", MapType.PERCPU_ARRAY, 4, 8, 1)
    p.update(0, 7)
    assert p[0] == (v(7),) * 3
    p.update(0, [v(1), v(2), v(3)])
    assert p.prog_lookup(k(0), 1) != p.prog_lookup(k(0), 2)
    assert p.prog_update(k(0), v(9), 0, 2) == 0
    assert p[0] == (v(1), v(2), v(9))
    with pytest.raises(VMError, match="needs 3 values"):
        p.update(0, [v(1)])


@pytest.mark.parametrize("map_type", [MapType.HASH, MapType.PERCPU_HASH])
def test_hash_update_flags(map_type: MapType) -> None:
    h = Session().new_map("h", map_type, 4, 8, 2)
    assert h.prog_update(k(1), v(1), 0, 0) == 0
    assert h.prog_update(k(1), v(2), 1, 0) == -errno.EEXIST
    assert h.prog_update(k(2), v(2), 2, 0) == -errno.ENOENT
    assert h.prog_update(k(2), v(2), 0, 0) == 0
    assert h.prog_update(k(3), v(3), 0, 0) == -errno.E2BIG
    assert h.prog_update(k(1), v(4), 2, 0) == 0
    assert h.prog_update(k(1), v(4), 3, 0) == -errno.EINVAL
    assert h.prog_delete(k(3)) == -errno.ENOENT
    assert h.prog_delete(k(2)) == 0
    assert sorted(h.keys()) == [k(1)]


def test_hash_replace_gives_a_new_element_and_retires_the_old() -> None:
    s = Session()
    h = s.new_map("h", MapType.HASH, 4, 8, 2)
    h.prog_update(k(1), v(1), 0, 0)
    old = h.prog_lookup(k(1), 0)
    h.prog_update(k(1), v(2), 0, 0)
    new = h.prog_lookup(k(1), 0)
    assert old != new
    assert s.memory.read(old, 8) == v(1)        # still readable until the run ends
    h.end_run()
    with pytest.raises(Trap, match="no memory there"):
        s.memory.read(old, 8)


def test_per_cpu_hash_updates_in_place() -> None:
    h = Session().new_map("h", MapType.PERCPU_HASH, 4, 8, 2)
    h.prog_update(k(1), v(1), 0, 1)
    assert h[k(1)] == (bytes(8), v(1))
    before = h.prog_lookup(k(1), 0)
    h.prog_update(k(1), v(5), 0, 0)
    assert h.prog_lookup(k(1), 0) == before
    assert h[k(1)] == (v(5), v(1))


def test_lru_hash_evicts_instead_of_failing() -> None:
    h = Session().new_map("lru", MapType.LRU_HASH, 4, 8, 8)
    assert isinstance(h, HashMap)
    for i in range(20):
        assert h.prog_update(k(i), v(i), 0, 0) == 0
        assert len(h) <= 8
    assert k(19) in set(h.keys())
    assert h.prog_update(k(1), v(1), 4, 0) == -errno.EINVAL    # no BPF_F_LOCK for LRU maps


def test_lru_lookups_protect_an_element() -> None:
    h = Session(nr_cpus=1).new_map("lru", MapType.LRU_HASH, 4, 8, 4)
    for i in range(4):
        h.prog_update(k(i), v(i), 0, 0)
    for _ in range(3):
        for i in range(100, 104):
            h.prog_lookup(k(0), 0)           # keep key 0 referenced
            h.prog_update(k(i), v(i), 0, 0)
    assert k(0) in set(h.keys())


def test_lru_no_common_lru_rounds_max_entries_per_cpu() -> None:
    h = Session(nr_cpus=2).new_map("lru", MapType.LRU_HASH, 4, 8, 3, flags=MapFlag.NO_COMMON_LRU)
    assert h.max_entries == 4
    for i in range(10):
        assert h.prog_update(k(i), v(i), 0, 0) == 0
    assert len(h) <= 2          # CPU 0 owns half of the nodes


def test_lpm_trie_longest_prefix_match() -> None:
    t = Session().new_map("t", MapType.LPM_TRIE, 8, 8, 8, flags=1)
    assert isinstance(t, LpmTrieMap)

    def key(plen: int, ip: str) -> bytes:
        return plen.to_bytes(4, "little") + bytes(int(x) for x in ip.split("."))

    t.update(key(8, "10.0.0.0"), 8)
    t.update(key(24, "10.1.2.0"), 24)
    assert t.match(key(32, "10.1.2.3")) == v(24)
    assert t.match(key(32, "10.9.9.9")) == v(8)
    assert t.match(key(32, "11.0.0.0")) is None
    assert t.match(key(16, "10.1.2.3")) == v(8)      # the key's own prefix length caps the match
    assert t.lookup(key(8, "10.7.7.7")) == v(8)      # exact lookup ignores bits past the prefix
    with pytest.raises(VMError, match="EINVAL"):
        t.update(key(33, "1.2.3.4"), 1)
    t.update(key(8, "10.0.0.0"), 9, flags=2)
    with pytest.raises(VMError, match="EEXIST"):
        t.update(key(8, "10.0.0.0"), 9, flags=1)


def test_lpm_trie_full_is_enospc() -> None:
    t = Session().new_map("t", MapType.LPM_TRIE, 5, 1, 1, flags=1)
    assert t.prog_update(b"\x08\0\0\0\x0a", b"\x01", 0, 0) == 0
    assert t.prog_update(b"\x08\0\0\0\x0b", b"\x01", 0, 0) == -errno.ENOSPC


def test_queue_and_stack_order_and_overwrite() -> None:
    s = Session()
    q = s.new_map("q", MapType.QUEUE, 0, 1, 2)
    st = s.new_map("s", MapType.STACK, 0, 1, 2)
    assert isinstance(q, QueueMap) and isinstance(st, QueueMap)
    for m in (q, st):
        m.push(b"a")
        m.push(b"b")
        with pytest.raises(VMError, match="E2BIG"):
            m.push(b"c")
        m.push(b"c", flags=2)                 # BPF_EXIST drops the oldest
    assert q.values() == [b"b", b"c"] and q.pop() == b"b"
    assert st.values() == [b"c", b"b"] and st.pop() == b"c"
    assert q.prog_push(b"x", 1) == -errno.EINVAL
    q.pop()
    assert q.pop() is None and q.prog_pop(False) == -errno.ENOENT


def test_ringbuf_accounting() -> None:
    rb = Session().new_map("rb", MapType.RINGBUF, 0, 0, 4096)
    assert isinstance(rb, RingBuf)
    assert rb.output(b"x" * 10) == 0
    assert rb.producer_pos == 24 and rb.avail_data == 24
    assert rb.drain() == [b"x" * 10] and rb.consumer_pos == 24
    assert rb.output(b"y" * 5000) == -errno.EAGAIN


def test_map_in_map_lookup_yields_the_inner_map() -> None:
    s = Session()
    inner = s.new_map("inner", MapType.ARRAY, 4, 4, 1)
    outer = s.new_map("outer", MapType.ARRAY_OF_MAPS, 4, 4, 2)
    assert isinstance(outer, MapInMap)
    outer.update(1, inner)
    assert outer.prog_lookup(k(1), 0) == inner.ptr
    assert outer.prog_lookup(k(0), 0) == 0
    with pytest.raises(VMError, match="values of a map of maps are maps"):
        outer.update(0, b"1234")


def test_user_keys_and_values_are_checked() -> None:
    h = Session().new_map("h", MapType.HASH, 3, 2, 4)
    with pytest.raises(VMError, match="key must be 3 bytes"):
        h.update(b"ab", b"cd")
    with pytest.raises(VMError, match="cannot be given as an int"):
        h.update(1, b"cd")
    with pytest.raises(VMError, match="must be bytes or an int"):
        h.update(b"abc", "cd")


def test_unemulated_map_types_load_and_fail_where_used() -> None:
    m = Session().new_map("socks", MapType.REUSEPORT_SOCKARRAY, 4, 4, 8)   # creating it is fine
    with pytest.raises(NotEmulated, match="^not emulated: reuseport_sockarray map socks$"):
        m.lookup(0)
    with pytest.raises(NotEmulated, match="reuseport_sockarray map socks"):
        m.prog_lookup(bytes(4), 0)


def test_session_reuses_a_map_of_the_same_definition() -> None:
    s = Session()
    a = s.new_map("m", MapType.HASH, 4, 4, 1)
    assert s.new_map("m", MapType.HASH, 4, 4, 1) is a
    with pytest.raises(VMError, match="another definition"):
        s.new_map("m", MapType.HASH, 4, 8, 1)
    with pytest.raises(KeyError, match="maps: m"):
        s.map("nope")

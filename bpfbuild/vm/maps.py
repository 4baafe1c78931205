"""Maps with the kernel's semantics, living in a session's address space.

Each map keeps its values as regions of the session's :class:`~bpfbuild.vm.memory.Memory`,
so the pointer ``bpf_map_lookup_elem`` returns is a real (emulated) address the program
can load from and store to, and every such access is bounds-checked like any other.

Two faces:

* the program's (``prog_*`` methods, used by the helpers): raw key bytes in, an address or
  a negative errno out, exactly as the kernel's ``map_ops`` answer (update flags
  ``BPF_ANY``/``BPF_NOEXIST``/``BPF_EXIST`` and their -EEXIST/-ENOENT/-EINVAL, -E2BIG when
  full, LRU eviction, queue/stack overwrite with ``BPF_EXIST``, ring-buffer space);
* the user's (``lookup``/``update``/``delete``/``items``/``[]``), to seed a map before a
  run and read it after: keys and values as bytes (or ints, little-endian, for sizes of
  1/2/4/8 bytes); per-CPU maps give and take one value per CPU.

Both faces copy a value around its special fields (locks, timers, kptrs: the value's BTF
record, :meth:`Map.set_record`), and user space reads them as zeros, as the bpf() syscall
does; overwriting, replacing or deleting an element frees its fields (its timer is cancelled).

Differences from the kernel, on purpose: LRU maps evict the exact least recently used
element (the kernel's LRU is approximate and per-CPU); a hash map never runs out of
preallocated elements before ``max_entries``; replaced or deleted hash elements stay
readable until the end of the run (the kernel frees them after an RCU grace period).
"""

from __future__ import annotations

import collections
import errno
from collections.abc import Callable, Iterator
from typing import Any, Protocol

from bpfbuild.abi.maptypes import MapFlag, MapType, UpdateFlag
from bpfbuild.btf.record import FieldKind, Record
from bpfbuild.errors import NotEmulated, VMError
from bpfbuild.vm.lru import Lru, LruNode
from bpfbuild.vm.memory import Memory, RegionKind

#: KMALLOC_MAX_SIZE (x86-64, arm64): the kernel refuses larger array values with E2BIG.
MAX_VALUE_SIZE = 4 << 20

__all__ = [
    "ArrayMap",
    "CgroupArray",
    "CgroupStorageMap",
    "HashMap",
    "LocalStorageMap",
    "LpmTrieMap",
    "Map",
    "MapInMap",
    "MapSpecLike",
    "NotEmulatedMap",
    "PerfEventArray",
    "ProgArray",
    "QueueMap",
    "RedirectArray",
    "RingBuf",
    "SockMap",
    "RingRecord",
    "StackTraceMap",
    "create_map",
    "jhash2",
]

Key = bytes | int
Value = bytes | bytearray | int

_ANY, _NOEXIST, _EXIST, _F_LOCK = UpdateFlag.ANY, UpdateFlag.NOEXIST, UpdateFlag.EXIST, UpdateFlag.F_LOCK
_M32 = (1 << 32) - 1
_M64 = (1 << 64) - 1
#: MAX_TAIL_CALL_CNT
MAX_TAIL_CALLS = 33
#: BPF_RINGBUF_HDR_SZ: every record is preceded by an 8-byte header.
RINGBUF_HDR_SIZE = 8
#: special fields bpf_obj_free_fields leaves as they are (the rest it clears)
_KEPT_FIELDS = frozenset({FieldKind.SPIN_LOCK, FieldKind.RES_SPIN_LOCK, FieldKind.REFCOUNT,
                          FieldKind.LIST_NODE, FieldKind.RB_NODE})


class MapSpecLike(Protocol):
    """What :func:`create_map` reads from a map definition (``bpfbuild.obj.MapSpec`` fits)."""

    name: str
    type: MapType | int
    key_size: int
    value_size: int
    max_entries: int
    flags: int
    initial: bytes | None
    readonly: bool
    inner: Any


def _check_flags(flags: int) -> int:
    """-EINVAL for update flags the kernel refuses (anything above BPF_EXIST but F_LOCK)."""
    return -errno.EINVAL if (flags & ~_F_LOCK) > _EXIST else 0


class Map:
    """Base of every map: name, type, sizes, and the map's own "pointer" (an address that
    names the map for the helpers; dereferencing it faults)."""

    per_cpu = False

    def __init__(self, memory: Memory, name: str, map_type: MapType, key_size: int, value_size: int,
                 max_entries: int, flags: int = 0, *, nr_cpus: int = 1, readonly: bool = False) -> None:
        self.memory = memory
        self.name = name
        self.type = map_type
        self.key_size = key_size
        self.value_size = value_size
        self.max_entries = max_entries
        self.flags = flags
        self.nr_cpus = nr_cpus
        self.readonly = readonly or bool(flags & MapFlag.RDONLY_PROG) or map_type == MapType.DEVMAP_HASH
        #: the value holds a struct bpf_spin_lock (BTF tells; needed for BPF_F_LOCK updates)
        self.spin_lock = False
        #: the special fields of the value (its BTF record: locks, timers, kptrs, graph roots) as
        #: (offset, size, cleared when the element's fields are freed); see :meth:`set_record`
        self.special: tuple[tuple[int, int, bool], ...] = ()
        #: called with the addresses of elements whose special fields are freed
        #: (``bpf_obj_free_fields``): the session cancels and forgets their timers
        self.on_free: Callable[[list[int]], None] | None = None
        self.ptr = memory.reserve(RegionKind.MAP, name)
        #: regions replaced or deleted during a run, unmapped when it ends
        self.retired: list[int] = []

    def set_record(self, record: Record) -> None:
        """The value's special fields, from its BTF (``map->record``): user space neither
        writes nor reads them, and an update copies around them (``copy_map_value``)."""
        self.special = tuple(sorted((f.offset, f.size, f.kind not in _KEPT_FIELDS) for f in record.fields))
        self.spin_lock = record.has(FieldKind.SPIN_LOCK)

    # --- special fields (kernel/bpf/syscall.c, include/linux/bpf.h) ----------------------

    def _copy_value(self, dst: bytearray, src: bytes) -> None:
        """``copy_map_value``: ``src`` into ``dst`` around the special fields, which keep
        ``dst``'s bytes."""
        if not self.special:
            dst[:] = src
            return
        start = 0
        for off, size, _ in self.special:
            dst[start:off] = src[start:off]
            start = off + size
        dst[start:] = src[start:]

    def _free_fields(self, addrs: list[int]) -> None:
        """``bpf_obj_free_fields`` on elements that stay in place (an array's, overwritten):
        kptrs and timers cleared, locks kept."""
        for addr in addrs if self.special else ():
            buf = self.memory.regions[addr >> 32].buf
            for off, size, cleared in self.special:
                if cleared:
                    buf[off:off + size] = bytes(size)
        if self.on_free is not None:
            self.on_free(addrs)

    def _retire(self, addrs: list[int]) -> None:
        """Elements replaced or deleted: their fields are freed now, their regions unmapped
        when the run ends."""
        self.retired.extend(addrs)
        if self.on_free is not None:
            self.on_free(addrs)

    def _user_view(self, buf: bytes | bytearray) -> bytes:
        """What the bpf() syscall's lookup copies out: the value with its special fields zeroed
        (``check_and_init_map_value``)."""
        if not self.special:
            return bytes(buf)
        out = bytearray(buf)
        for off, size, _ in self.special:
            out[off:off + size] = bytes(size)
        return bytes(out)

    def __repr__(self) -> str:
        return (f"<{type(self).__name__} {self.name!r} {self.type.name.lower()} key {self.key_size} "
                f"value {self.value_size} max {self.max_entries}>")

    # --- key/value conversion (user side) ----------------------------------------------

    def _key(self, key: Key) -> bytes:
        return _as_bytes(key, self.key_size, "key", self.name)

    def _value(self, value: Value) -> bytes:
        return _as_bytes(value, self.value_size, "value", self.name)

    def _fail(self, what: str, err: int) -> VMError:
        return VMError(f"map {self.name}: {what} failed: {errno.errorcode.get(-err, str(-err))}"
                       f" ({_ERR_TEXT.get(-err, 'error')})")

    # --- program side (overridden) -----------------------------------------------------

    def prog_lookup(self, key: bytes, cpu: int) -> int:
        return 0

    def prog_update(self, key: bytes, value: bytes, flags: int, cpu: int) -> int:
        return -errno.EINVAL

    def prog_delete(self, key: bytes) -> int:
        return -errno.EINVAL

    def prog_push(self, value: bytes, flags: int) -> int:
        return -errno.EINVAL

    def prog_pop(self, peek: bool) -> bytes | int:
        return -errno.EINVAL

    def end_run(self) -> None:
        """Unmap what the run retired (called by the machine after every run)."""
        for addr in self.retired:
            self.memory.unmap(addr)
        self.retired.clear()

    # --- user side ---------------------------------------------------------------------

    def lookup(self, key: Key) -> Any:
        """The value for ``key`` (bytes; a tuple per CPU for per-CPU maps), None if absent."""
        return None

    def update(self, key: Key, value: Any, flags: int = 0) -> None:
        """Set ``key`` (``BPF_ANY`` by default); raises VMError with the kernel's errno."""
        raise self._fail("update", -errno.EINVAL)

    def delete(self, key: Key) -> None:
        raise self._fail("delete", -errno.EINVAL)

    def keys(self) -> Iterator[bytes]:
        return iter(())

    def items(self) -> Iterator[tuple[bytes, Any]]:
        for key in list(self.keys()):
            value = self.lookup(key)
            if value is not None:
                yield key, value

    def __getitem__(self, key: Key) -> Any:
        value = self.lookup(key)
        if value is None:
            raise KeyError(key)
        return value

    def __setitem__(self, key: Key, value: Any) -> None:
        self.update(key, value)

    def __delitem__(self, key: Key) -> None:
        self.delete(key)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, (bytes, int)) and self.lookup(key) is not None

    def __len__(self) -> int:
        return sum(1 for _ in self.keys())

    def __iter__(self) -> Iterator[bytes]:
        return self.keys()


_ERR_TEXT = {
    errno.EEXIST: "the key exists (BPF_NOEXIST)", errno.ENOENT: "no such key",
    errno.E2BIG: "the map is full or the index is out of range", errno.EINVAL: "invalid argument",
    errno.ENOSPC: "the map is full", errno.EPERM: "not permitted",
}


def _as_bytes(value: Value, size: int, what: str, name: str) -> bytes:
    if isinstance(value, int) and not isinstance(value, bool):
        if size not in (1, 2, 4, 8):
            raise VMError(f"map {name}: a {size}-byte {what} cannot be given as an int")
        return (value & ((1 << (8 * size)) - 1)).to_bytes(size, "little")
    if isinstance(value, (bytes, bytearray, memoryview)):
        data = bytes(value)
        if len(data) != size:
            raise VMError(f"map {name}: {what} must be {size} bytes, got {len(data)}")
        return data
    raise VMError(f"map {name}: a {what} must be bytes or an int, not {type(value).__name__}")


# --- arrays ------------------------------------------------------------------------------

class ArrayMap(Map):
    """ARRAY and PERCPU_ARRAY (and the single-entry arrays of global data sections).

    Every index below ``max_entries`` exists (zeroed); its region is created on first use,
    so a large array costs nothing until touched, and its address never changes.
    """

    def __init__(self, *args: Any, initial: bytes | None = None, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.per_cpu = self.type == MapType.PERCPU_ARRAY
        self._slots: dict[tuple[int, int], int] = {}
        if initial is not None:
            data = bytes(initial[: self.value_size]).ljust(self.value_size, b"\0")
            for cpu in self._cpus():
                self._buf(0, cpu)[:] = data

    def _cpus(self) -> range:
        return range(self.nr_cpus if self.per_cpu else 1)

    def _addr(self, index: int, cpu: int) -> int:
        slot = (index, cpu if self.per_cpu else 0)
        addr = self._slots.get(slot)
        if addr is None:
            label = f"{self.name}[{index}]" + (f" cpu {cpu}" if self.per_cpu else "")
            if self.value_size > MAX_VALUE_SIZE:   # a header's number, never allocated as is
                raise VMError(f"map {self.name}: a {self.value_size}-byte value is larger than the kernel "
                              f"allocates ({MAX_VALUE_SIZE} bytes, KMALLOC_MAX_SIZE)")
            kind = RegionKind.GLOBAL if self.name.endswith((".bss", ".data", ".rodata")) or "." in self.name \
                else RegionKind.MAP_VALUE
            addr = self.memory.map(bytearray(self.value_size), kind, label, writable=not self.readonly)
            self._slots[slot] = addr
        return addr

    def _buf(self, index: int, cpu: int) -> bytearray:
        return self.memory.regions[self._addr(index, cpu) >> 32].buf

    @staticmethod
    def _index(key: bytes) -> int:
        return int.from_bytes(key[:4], "little")

    def value_address(self, index: int = 0, cpu: int = 0) -> int:
        """The address of element ``index`` (global data: the section's base)."""
        return self._addr(index, cpu)

    def prog_lookup(self, key: bytes, cpu: int) -> int:
        index = self._index(key)
        return self._addr(index, cpu) if index < self.max_entries else 0

    def prog_update(self, key: bytes, value: bytes, flags: int, cpu: int) -> int:
        if err := _check_flags(flags):
            return err
        index = self._index(key)
        if index >= self.max_entries:
            return -errno.E2BIG
        if flags & _NOEXIST:
            return -errno.EEXIST
        if flags & _F_LOCK and not self.spin_lock:
            return -errno.EINVAL
        # from a program: a per-CPU array's current CPU's copy only; copied around the
        # special fields, then the element's fields are freed (array_map_update_elem)
        addr = self._addr(index, cpu if self.per_cpu else 0)
        self._copy_value(self.memory.regions[addr >> 32].buf, value)
        self._free_fields([addr])
        return 0

    def prog_delete(self, key: bytes) -> int:
        return -errno.EINVAL

    def prog_elements(self, cpu: int) -> list[tuple[bytes, int]]:
        """(key, value address) of every index, for bpf_for_each_map_elem."""
        return [(i.to_bytes(4, "little"), self._addr(i, cpu)) for i in range(self.max_entries)]

    def lookup(self, key: Key) -> Any:
        index = self._index(self._key(key))
        if index >= self.max_entries:
            return None
        if self.per_cpu:
            return tuple(self._user_view(self._buf(index, cpu)) for cpu in self._cpus())
        return self._user_view(self._buf(index, 0))

    def update(self, key: Key, value: Any, flags: int = 0) -> None:
        raw = self._key(key)
        values = _per_cpu_values(self, value)
        if err := self._user_check(raw, flags):
            raise self._fail("update", err)
        for cpu, data in values:
            addr = self._addr(self._index(raw), cpu)
            self._copy_value(self.memory.regions[addr >> 32].buf, data)
            self._free_fields([addr])

    def _user_check(self, key: bytes, flags: int) -> int:
        if err := _check_flags(flags):
            return err
        if self._index(key) >= self.max_entries:
            return -errno.E2BIG
        if flags & _NOEXIST:
            return -errno.EEXIST
        if flags & _F_LOCK and not self.spin_lock:
            return -errno.EINVAL
        return 0

    def keys(self) -> Iterator[bytes]:
        return (i.to_bytes(4, "little") for i in range(self.max_entries))

    def __len__(self) -> int:
        return self.max_entries


def _per_cpu_values(m: Map, value: Any) -> list[tuple[int, bytes]]:
    """A value for every CPU: one value (copied to all) or a sequence with one per CPU."""
    if not m.per_cpu:
        return [(0, m._value(value))]
    if isinstance(value, (list, tuple)):
        if len(value) != m.nr_cpus:
            raise VMError(f"map {m.name}: per-CPU update needs {m.nr_cpus} values, got {len(value)}")
        return [(cpu, m._value(v)) for cpu, v in enumerate(value)]
    data = m._value(value)
    return [(cpu, data) for cpu in range(m.nr_cpus)]


# --- hash maps -----------------------------------------------------------------------------

class HashMap(Map):
    """HASH, PERCPU_HASH, LRU_HASH, LRU_PERCPU_HASH.

    Elements are kept in insertion order (``get_next_key`` order is unspecified in the
    kernel; insertion order is what a reader of this emulator can predict).  LRU maps run
    the kernel's LRU algorithm (:mod:`bpfbuild.vm.lru`): an insert into a full map evicts
    the element the kernel would evict; a program's lookup sets the element's reference bit.
    """

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.per_cpu = self.type in (MapType.PERCPU_HASH, MapType.LRU_PERCPU_HASH)
        self.lru: Lru | None = None
        # key -> one address per CPU (one entry for non-per-CPU maps)
        self._elems: dict[bytes, list[int]] = {}
        self._nodes: dict[bytes, LruNode] = {}
        if self.type in (MapType.LRU_HASH, MapType.LRU_PERCPU_HASH):
            percpu_lru = bool(self.flags & MapFlag.NO_COMMON_LRU)
            if percpu_lru:   # every CPU's list gets the same number of nodes
                rounded = -(-self.max_entries // self.nr_cpus) * self.nr_cpus
                self.max_entries = max(rounded, self.max_entries)
            self.lru = Lru(self.max_entries, self.nr_cpus, self._evict, percpu=percpu_lru)

    def _evict(self, node: LruNode) -> bool:
        """htab_lru_map_delete_node: drop the node's element if it is still in the map."""
        key = node.key
        if key is None or self._nodes.get(key) is not node:
            return False
        del self._nodes[key]
        self._retire(self._elems.pop(key))
        return True

    def _new_elem(self, key: bytes, values: list[tuple[int, bytes]]) -> list[int]:
        addrs = []
        count = self.nr_cpus if self.per_cpu else 1
        by_cpu = dict(values)
        for cpu in range(count):
            label = f"{self.name}[{key.hex()}]" + (f" cpu {cpu}" if self.per_cpu else "")
            data = bytearray(self.value_size)    # a new element: its special fields zero
            self._copy_value(data, by_cpu.get(cpu, data))
            addrs.append(self.memory.map(data, RegionKind.MAP_VALUE, label, writable=not self.readonly))
        return addrs

    def _check(self, old: bool, flags: int) -> int:
        mode = flags & ~_F_LOCK
        if old and mode == _NOEXIST:
            return -errno.EEXIST
        if not old and mode == _EXIST:
            return -errno.ENOENT
        return 0

    def _store(self, key: bytes, values: list[tuple[int, bytes]], flags: int, cpu: int) -> int:
        """Insert or replace, with the checks in the kernel's order."""
        if self.lru is not None or self.per_cpu:
            if flags > _EXIST:             # no BPF_F_LOCK for these
                return -errno.EINVAL
        else:
            if err := _check_flags(flags):
                return err
            if flags & _F_LOCK and not self.spin_lock:
                return -errno.EINVAL
        if self.lru is not None:
            return self._store_lru(key, values, flags, cpu)
        old = self._elems.get(key)
        if err := self._check(old is not None, flags):
            return err
        if old is None and len(self._elems) >= self.max_entries:
            return -errno.E2BIG
        if old is not None and (self.per_cpu or flags & _F_LOCK):
            # per-CPU values, and with BPF_F_LOCK the value under its lock, are updated in place
            for c, data in values:
                self._copy_value(self.memory.regions[old[c] >> 32].buf, data)
            return 0
        if old is not None:   # a new element replaces the old one (old pointers see the old value)
            self._retire(old)
        self._elems[key] = self._new_elem(key, values)
        return 0

    def _store_lru(self, key: bytes, values: list[tuple[int, bytes]], flags: int, cpu: int) -> int:
        lru = self.lru
        assert lru is not None
        node = None
        if not (self.per_cpu and flags == _EXIST):
            node = lru.pop_free(cpu)        # may evict another element
            if node is None:
                return -errno.ENOMEM
        old = self._elems.get(key)
        if err := self._check(old is not None, flags):
            if node is not None:
                lru.push_free(node)
            return err
        if old is not None and self.per_cpu:
            self._nodes[key].ref = True
            for c, data in values:
                self._copy_value(self.memory.regions[old[c] >> 32].buf, data)
            if node is not None:
                lru.push_free(node)
            return 0
        assert node is not None
        if old is not None:
            node.ref = True
            self._retire(old)
            lru.push_free(self._nodes[key])
        node.key = key
        self._nodes[key] = node
        self._elems[key] = self._new_elem(key, values)
        return 0

    def _remove(self, key: bytes) -> None:
        self._retire(self._elems.pop(key))
        node = self._nodes.pop(key, None)
        if node is not None and self.lru is not None:
            self.lru.push_free(node)

    def prog_lookup(self, key: bytes, cpu: int) -> int:
        addrs = self._elems.get(key)
        if addrs is None:
            return 0
        node = self._nodes.get(key)
        if node is not None:
            node.ref = True
        return addrs[cpu if self.per_cpu else 0]

    def prog_update(self, key: bytes, value: bytes, flags: int, cpu: int) -> int:
        # a program's update of a per-CPU map writes the current CPU's copy (a new
        # element's other copies are zero)
        values = [(cpu if self.per_cpu else 0, value)]
        if self.per_cpu:
            values += [(c, bytes(self.value_size)) for c in range(self.nr_cpus) if c != cpu]
            if key in self._elems:
                values = values[:1]
        return self._store(key, values, flags, cpu)

    def prog_delete(self, key: bytes) -> int:
        if key not in self._elems:
            return -errno.ENOENT
        self._remove(key)
        return 0

    def prog_elements(self, cpu: int) -> list[tuple[bytes, int]]:
        """(key, value address) of every element, for bpf_for_each_map_elem (insertion order;
        the kernel walks its buckets)."""
        return [(key, addrs[cpu if self.per_cpu else 0]) for key, addrs in list(self._elems.items())]

    def lookup(self, key: Key) -> Any:
        addrs = self._elems.get(self._key(key))
        if addrs is None:
            return None
        values = tuple(self._user_view(self.memory.regions[a >> 32].buf) for a in addrs)
        return values if self.per_cpu else values[0]

    def update(self, key: Key, value: Any, flags: int = 0, *, cpu: int = 0) -> None:
        """Set ``key`` as the bpf() syscall does (per-CPU maps: every CPU's value; LRU maps:
        ``cpu`` is the CPU the syscall runs on)."""
        err = self._store(self._key(key), _per_cpu_values(self, value), flags, cpu)
        self.end_run()
        if err:
            raise self._fail("update", err)

    def delete(self, key: Key) -> None:
        err = self.prog_delete(self._key(key))
        self.end_run()
        if err:
            raise self._fail("delete", err)

    def clear(self) -> None:
        for key in list(self._elems):
            self._remove(key)
        self.end_run()

    def keys(self) -> Iterator[bytes]:
        return iter(list(self._elems))

    def __len__(self) -> int:
        return len(self._elems)


# --- LPM trie ------------------------------------------------------------------------------

class LpmTrieMap(Map):
    """LPM_TRIE: keys are ``u32 prefixlen`` (host order) + data; lookup finds the longest
    stored prefix that matches the first ``prefixlen`` bits of the key's data."""

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.data_size = self.key_size - 4
        # (prefixlen, masked data) -> (key as given, address)
        self._nodes: dict[tuple[int, bytes], tuple[bytes, int]] = {}

    def _canon(self, key: bytes) -> tuple[int, bytes] | None:
        plen = int.from_bytes(key[:4], "little")
        if plen > 8 * self.data_size:
            return None
        return plen, _mask_prefix(key[4:], plen)

    def prog_lookup(self, key: bytes, cpu: int) -> int:
        plen = min(int.from_bytes(key[:4], "little"), 8 * self.data_size)
        data = key[4:]
        best: tuple[int, int] | None = None
        for (node_len, node_data), (_, addr) in self._nodes.items():
            if node_len <= plen and (best is None or node_len > best[0]) \
                    and _mask_prefix(data, node_len) == node_data:
                best = (node_len, addr)
        return best[1] if best else 0

    def prog_update(self, key: bytes, value: bytes, flags: int, cpu: int) -> int:
        if flags & ~_F_LOCK > _EXIST:
            return -errno.EINVAL
        canon = self._canon(key)
        if canon is None:
            return -errno.EINVAL
        old = self._nodes.get(canon)
        mode = flags & ~_F_LOCK
        if old is not None and mode == _NOEXIST:
            return -errno.EEXIST
        if old is None and mode == _EXIST:
            return -errno.ENOENT
        if old is None and len(self._nodes) >= self.max_entries:
            return -errno.ENOSPC
        if old is not None:
            self.retired.append(old[1])
        label = f"{self.name}[{canon[0]}/{canon[1].hex()}]"
        addr = self.memory.map(bytearray(value), RegionKind.MAP_VALUE, label, writable=not self.readonly)
        self._nodes[canon] = (bytes(key), addr)
        return 0

    def prog_delete(self, key: bytes) -> int:
        canon = self._canon(key)
        if canon is None:
            return -errno.EINVAL
        node = self._nodes.pop(canon, None)
        if node is None:
            return -errno.ENOENT
        self.retired.append(node[1])
        return 0

    def lookup(self, key: Key) -> Any:
        """The value stored for exactly this prefix (use :meth:`match` for longest-prefix)."""
        canon = self._canon(self._key(key))
        node = self._nodes.get(canon) if canon else None
        return bytes(self.memory.regions[node[1] >> 32].buf) if node else None

    def match(self, key: Key) -> bytes | None:
        """Longest-prefix match, as a program's lookup does."""
        addr = self.prog_lookup(self._key(key), 0)
        return bytes(self.memory.regions[addr >> 32].buf) if addr else None

    def update(self, key: Key, value: Any, flags: int = 0) -> None:
        err = self.prog_update(self._key(key), self._value(value), flags, 0)
        self.end_run()
        if err:
            raise self._fail("update", err)

    def delete(self, key: Key) -> None:
        err = self.prog_delete(self._key(key))
        self.end_run()
        if err:
            raise self._fail("delete", err)

    def keys(self) -> Iterator[bytes]:
        return iter([k for k, _ in self._nodes.values()])

    def __len__(self) -> int:
        return len(self._nodes)


def _mask_prefix(data: bytes, bits: int) -> bytes:
    full, rest = divmod(bits, 8)
    out = bytearray(data[:full])
    if rest and full < len(data):
        out.append(data[full] & (0xFF << (8 - rest)) & 0xFF)
    return bytes(out)


# --- queue / stack -------------------------------------------------------------------------

class QueueMap(Map):
    """QUEUE (FIFO) and STACK (LIFO): push/pop/peek; a full map refuses a push with -E2BIG
    unless ``BPF_EXIST`` is given, which drops the oldest element to make room."""

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.fifo = self.type == MapType.QUEUE
        self._items: collections.deque[bytes] = collections.deque()

    def prog_push(self, value: bytes, flags: int) -> int:
        if flags & ~_EXIST:
            return -errno.EINVAL
        if len(self._items) >= self.max_entries:
            if not flags & _EXIST:
                return -errno.E2BIG
            self._items.popleft()   # the oldest element goes, for queues and stacks alike
        self._items.append(bytes(value))
        return 0

    def prog_pop(self, peek: bool) -> bytes | int:
        if not self._items:
            return -errno.ENOENT
        if self.fifo:
            return self._items[0] if peek else self._items.popleft()
        return self._items[-1] if peek else self._items.pop()

    def prog_update(self, key: bytes, value: bytes, flags: int, cpu: int) -> int:
        return self.prog_push(value, flags)

    def push(self, value: Value, flags: int = 0) -> None:
        err = self.prog_push(self._value(value), flags)
        if err:
            raise self._fail("push", err)

    def pop(self) -> bytes | None:
        out = self.prog_pop(False)
        return out if isinstance(out, bytes) else None

    def peek(self) -> bytes | None:
        out = self.prog_pop(True)
        return out if isinstance(out, bytes) else None

    def values(self) -> list[bytes]:
        """The elements in the order pops would return them."""
        return list(self._items) if self.fifo else list(reversed(self._items))

    def __len__(self) -> int:
        return len(self._items)


# --- ring buffer ---------------------------------------------------------------------------

class RingRecord:
    """A reserved ring-buffer record: its region, and whether it was submitted or discarded."""

    __slots__ = ("addr", "discarded", "done", "pos", "size")

    def __init__(self, addr: int, size: int, pos: int) -> None:
        self.addr = addr
        self.size = size
        self.pos = pos
        self.done = False
        self.discarded = False


class RingBuf(Map):
    """RINGBUF: ``max_entries`` bytes; each record takes its size plus an 8-byte header,
    rounded up to 8.  Records reach the reader in reservation order; a record still reserved
    holds back the ones after it (as the kernel's consumer stops at a busy record)."""

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.size = self.max_entries
        self.producer_pos = 0
        self.consumer_pos = 0
        self._records: collections.deque[RingRecord] = collections.deque()
        self._by_addr: dict[int, RingRecord] = {}
        self._data: dict[int, bytes] = {}   # record address -> bytes, once committed

    @staticmethod
    def _footprint(size: int) -> int:
        return (size + RINGBUF_HDR_SIZE + 7) & ~7

    def reserve(self, size: int) -> int:
        """Reserve ``size`` bytes: the record's address, 0 if it does not fit."""
        need = self._footprint(size)
        # __bpf_ringbuf_reserve: RINGBUF_MAX_RECORD_SZ, then the free space (mask = size - 1)
        if size > _M32 // 4 or need > self.size or self.producer_pos + need - self.consumer_pos > self.size - 1:
            return 0
        addr = self.memory.map(bytearray(size), RegionKind.RINGBUF, f"{self.name} record @{self.producer_pos}")
        rec = RingRecord(addr, size, self.producer_pos)
        self.producer_pos += need
        self._records.append(rec)
        self._by_addr[addr] = rec
        return addr

    def commit(self, addr: int, discard: bool) -> bool:
        """Submit or discard the record at ``addr``; False if it is not a reserved record."""
        rec = self._by_addr.pop(addr, None)
        if rec is None:
            return False
        rec.done = True
        rec.discarded = discard
        self._data[addr] = bytes(self.memory.regions[addr >> 32].buf)
        self.memory.unmap(addr)
        return True

    def output(self, data: bytes) -> int:
        addr = self.reserve(len(data))
        if not addr:
            return -errno.EAGAIN
        self.memory.regions[addr >> 32].buf[:] = data
        self.commit(addr, False)
        return 0

    def pending(self) -> list[bytes]:
        """Submitted records the reader has not consumed yet (discarded ones skipped)."""
        out = []
        for rec in self._records:
            if not rec.done:
                break
            if not rec.discarded:
                out.append(self._data[rec.addr])
        return out

    def drain(self) -> list[bytes]:
        """Consume and return the submitted records, as a user-space reader would."""
        out = []
        while self._records and self._records[0].done:
            rec = self._records.popleft()
            data = self._data.pop(rec.addr)
            if not rec.discarded:
                out.append(data)
            self.consumer_pos = rec.pos + self._footprint(rec.size)
        return out

    @property
    def avail_data(self) -> int:
        return self.producer_pos - self.consumer_pos

    def __len__(self) -> int:
        return len(self.pending())


# --- perf event array ----------------------------------------------------------------------

class PerfEventArray(Map):
    """PERF_EVENT_ARRAY: ``bpf_perf_event_output`` appends ``(cpu index, bytes)`` events.

    The kernel needs a perf event opened by user space at the index (else -ENOENT); here
    every index below ``max_entries`` counts as open unless :attr:`closed` lists it.
    """

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        if self.max_entries == 0:
            self.max_entries = self.nr_cpus   # libbpf sizes it to the possible CPUs
        self.events: list[tuple[int, bytes]] = []
        self.closed: set[int] = set()

    def output(self, index: int, data: bytes) -> int:
        if index >= self.max_entries:
            return -errno.E2BIG
        if index in self.closed:
            return -errno.ENOENT
        self.events.append((index, bytes(data)))
        return 0

    def drain(self) -> list[tuple[int, bytes]]:
        out, self.events = self.events, []
        return out

    def __len__(self) -> int:
        return len(self.events)


# --- program array and maps of maps ---------------------------------------------------------

class ProgArray(Map):
    """PROG_ARRAY: slots hold programs (whatever object the machine uses for a program)."""

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.slots: dict[int, Any] = {}

    def get(self, index: int) -> Any:
        return self.slots.get(index)

    def update(self, key: Key, value: Any, flags: int = 0) -> None:
        index = key if isinstance(key, int) else int.from_bytes(self._key(key), "little")
        if index >= self.max_entries:
            raise self._fail("update", -errno.E2BIG)
        self.slots[index] = value

    def delete(self, key: Key) -> None:
        index = key if isinstance(key, int) else int.from_bytes(self._key(key), "little")
        if self.slots.pop(index, None) is None:
            raise self._fail("delete", -errno.ENOENT)

    def lookup(self, key: Key) -> Any:
        index = key if isinstance(key, int) else int.from_bytes(self._key(key), "little")
        return self.slots.get(index)

    def prog_delete(self, key: bytes) -> int:
        index = int.from_bytes(key[:4], "little")
        if index >= self.max_entries:
            return -errno.E2BIG
        return 0 if self.slots.pop(index, None) is not None else -errno.ENOENT

    def keys(self) -> Iterator[bytes]:
        return (i.to_bytes(4, "little") for i in sorted(self.slots))


class MapInMap(Map):
    """ARRAY_OF_MAPS / HASH_OF_MAPS: values are inner maps; a program's lookup yields the
    inner map's pointer, usable with the map helpers.  Only user space fills them."""

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.array = self.type == MapType.ARRAY_OF_MAPS
        self.inner: dict[bytes, Map] = {}

    def prog_lookup(self, key: bytes, cpu: int) -> int:
        inner = self.inner.get(key)
        return inner.ptr if inner is not None else 0

    def prog_delete(self, key: bytes) -> int:
        if self.array:
            return -errno.EINVAL
        return 0 if self.inner.pop(key, None) is not None else -errno.ENOENT

    def lookup(self, key: Key) -> Any:
        return self.inner.get(self._key(key))

    def update(self, key: Key, value: Any, flags: int = 0) -> None:
        raw = self._key(key)
        if not isinstance(value, Map):
            raise VMError(f"map {self.name}: the values of a map of maps are maps, not {type(value).__name__}")
        if self.array and int.from_bytes(raw, "little") >= self.max_entries:
            raise self._fail("update", -errno.E2BIG)
        if raw not in self.inner and not self.array and len(self.inner) >= self.max_entries:
            raise self._fail("update", -errno.E2BIG)
        self.inner[raw] = value

    def delete(self, key: Key) -> None:
        if self.inner.pop(self._key(key), None) is None:
            raise self._fail("delete", -errno.ENOENT)

    def keys(self) -> Iterator[bytes]:
        return iter(list(self.inner))


# --- redirect targets ----------------------------------------------------------------------

class RedirectArray(Map):
    """DEVMAP, CPUMAP and XSKMAP: an array whose slots are empty until user space fills them
    (with an ifindex, a CPU's queue size, an AF_XDP socket's fd: here the value bytes).

    As in the kernel (devmap.c, cpumap.c, xskmap.c), a program's lookup of an empty slot,
    or of an index past the end, gives NULL; a filled slot of a DEVMAP / CPUMAP gives its
    value, read-only (the kernel sets ``BPF_F_RDONLY_PROG`` on both); a filled XSKMAP slot
    gives the socket (``struct xdp_sock``), which the emulator shows as a read-only zeroed
    object.  ``bpf_redirect_map`` (see :mod:`bpfbuild.vm.helpers`) reads :meth:`filled`.
    """

    #: sizeof(struct xdp_sock) is the kernel's business: what a program may read of it is
    #: nothing but its existence (the verifier only allows a NULL check)
    XSK_OBJECT_SIZE = 8

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.readonly = True
        self.slots: dict[int, tuple[bytes, int]] = {}

    def filled(self, index: int) -> bool:
        return (index & _M32) in self.slots

    def prog_lookup(self, key: bytes, cpu: int) -> int:
        slot = self.slots.get(int.from_bytes(key[:4], "little"))
        return slot[1] if slot is not None else 0

    def prog_delete(self, key: bytes) -> int:
        index = int.from_bytes(key[:4], "little")
        if index >= self.max_entries:
            return -errno.EINVAL
        self._drop(index)
        return 0

    def _drop(self, index: int) -> bool:
        slot = self.slots.pop(index, None)
        if slot is None:
            return False
        self.retired.append(slot[1])
        return True

    def lookup(self, key: Key) -> Any:
        slot = self.slots.get(int.from_bytes(self._key(key), "little"))
        return slot[0] if slot is not None else None

    def update(self, key: Key, value: Any, flags: int = 0) -> None:
        index = int.from_bytes(self._key(key), "little")
        data = self._value(value)
        if err := _check_flags(flags):
            raise self._fail("update", err)
        if index >= self.max_entries:
            raise self._fail("update", -errno.E2BIG)
        if flags & _NOEXIST and index in self.slots:
            raise self._fail("update", -errno.EEXIST)
        self._drop(index)
        shown = bytearray(self.XSK_OBJECT_SIZE if self.type == MapType.XSKMAP else len(data))
        if self.type != MapType.XSKMAP:
            shown[:] = data
        addr = self.memory.map(shown, RegionKind.MAP_VALUE, f"{self.name}[{index}]", writable=False)
        self.slots[index] = (data, addr)

    def delete(self, key: Key) -> None:
        index = int.from_bytes(self._key(key), "little")
        if index >= self.max_entries or not self._drop(index):
            raise self._fail("delete", -errno.ENOENT if index < self.max_entries else -errno.EINVAL)

    def keys(self) -> Iterator[bytes]:
        return (i.to_bytes(4, "little") for i in sorted(self.slots))


class CgroupArray(Map):
    """CGROUP_ARRAY: user space stores cgroups (by fd in the kernel; here by cgroup id, the
    value's 4 bytes) for ``bpf_skb_under_cgroup`` / ``bpf_current_task_under_cgroup``.
    Programs cannot look it up (the verifier allows only those two helpers)."""

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.cgroups: dict[int, int] = {}

    def cgroup(self, index: int) -> int | None:
        return self.cgroups.get(index)

    def prog_delete(self, key: bytes) -> int:
        index = int.from_bytes(key[:4], "little")
        if index >= self.max_entries:
            return -errno.E2BIG
        return 0 if self.cgroups.pop(index, None) is not None else -errno.ENOENT

    def lookup(self, key: Key) -> Any:
        cgid = self.cgroups.get(int.from_bytes(self._key(key), "little"))
        return cgid.to_bytes(self.value_size, "little") if cgid is not None else None

    def update(self, key: Key, value: Any, flags: int = 0) -> None:
        index = int.from_bytes(self._key(key), "little")
        if index >= self.max_entries:
            raise self._fail("update", -errno.E2BIG)
        self.cgroups[index] = int.from_bytes(self._value(value), "little")

    def delete(self, key: Key) -> None:
        if self.cgroups.pop(int.from_bytes(self._key(key), "little"), None) is None:
            raise self._fail("delete", -errno.ENOENT)

    def keys(self) -> Iterator[bytes]:
        return (i.to_bytes(4, "little") for i in sorted(self.cgroups))


# --- stack traces ----------------------------------------------------------------------------

def _rol32(v: int, n: int) -> int:
    return ((v << n) | (v >> (32 - n))) & _M32


def jhash2(words: list[int], initval: int = 0) -> int:
    """The kernel's ``jhash2`` (Bob Jenkins' lookup3 over 32-bit words), as stackmap.c
    hashes a stack's instruction pointers."""
    a = b = c = (0xDEADBEEF + (len(words) << 2) + initval) & _M32
    i, n = 0, len(words)
    while n > 3:
        a = (a + words[i]) & _M32
        b = (b + words[i + 1]) & _M32
        c = (c + words[i + 2]) & _M32
        a = (a - c) & _M32; a ^= _rol32(c, 4); c = (c + b) & _M32          # noqa: E702
        b = (b - a) & _M32; b ^= _rol32(a, 6); a = (a + c) & _M32          # noqa: E702
        c = (c - b) & _M32; c ^= _rol32(b, 8); b = (b + a) & _M32          # noqa: E702
        a = (a - c) & _M32; a ^= _rol32(c, 16); c = (c + b) & _M32         # noqa: E702
        b = (b - a) & _M32; b ^= _rol32(a, 19); a = (a + c) & _M32         # noqa: E702
        c = (c - b) & _M32; c ^= _rol32(b, 4); b = (b + a) & _M32          # noqa: E702
        i += 3
        n -= 3
    if n == 0:
        return c
    if n == 3:
        c = (c + words[i + 2]) & _M32
    if n >= 2:
        b = (b + words[i + 1]) & _M32
    a = (a + words[i]) & _M32
    c ^= b; c = (c - _rol32(b, 14)) & _M32      # noqa: E702
    a ^= c; a = (a - _rol32(c, 11)) & _M32      # noqa: E702
    b ^= a; b = (b - _rol32(a, 25)) & _M32      # noqa: E702
    c ^= b; c = (c - _rol32(b, 16)) & _M32      # noqa: E702
    a ^= c; a = (a - _rol32(c, 4)) & _M32       # noqa: E702
    b ^= a; b = (b - _rol32(a, 14)) & _M32      # noqa: E702
    c ^= b; c = (c - _rol32(b, 24)) & _M32      # noqa: E702
    return c


class StackTraceMap(Map):
    """STACK_TRACE: ``bpf_get_stackid`` stores a stack's instruction pointers in bucket
    ``jhash2(ips) & (n_buckets - 1)`` (``n_buckets`` = ``max_entries`` rounded up to a power
    of two) and returns that id; user space reads a bucket as ``value_size / 8`` u64s, the
    unused ones zero.  Programs cannot look it up (only bpf_get_stackid takes it)."""

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.n_buckets = 1 << max(self.max_entries - 1, 0).bit_length()
        self.buckets: dict[int, tuple[int, tuple[int, ...]]] = {}

    @property
    def max_depth(self) -> int:
        """How many frames one bucket holds (value_size / 8)."""
        return self.value_size // 8

    def store(self, ips: tuple[int, ...], *, fast_cmp: bool, reuse: bool) -> int:
        """The id for ``ips`` (already skipped and truncated), or -EEXIST (stackmap.c)."""
        raw = b"".join(ip.to_bytes(8, "little") for ip in ips)
        words = [int.from_bytes(raw[i:i + 4], "little") for i in range(0, len(raw), 4)]
        hash_ = jhash2(words)
        ident = hash_ & (self.n_buckets - 1)
        bucket = self.buckets.get(ident)
        if bucket is not None and bucket[0] == hash_ and fast_cmp:
            return ident
        if bucket is not None and bucket[1] == ips:
            return ident
        if bucket is not None and not reuse:
            return -errno.EEXIST
        self.buckets[ident] = (hash_, ips)
        return ident

    def prog_delete(self, key: bytes) -> int:
        ident = int.from_bytes(key[:4], "little")
        if ident >= self.n_buckets:
            return -errno.EINVAL
        return 0 if self.buckets.pop(ident, None) is not None else -errno.ENOENT

    def lookup(self, key: Key) -> Any:
        bucket = self.buckets.get(int.from_bytes(self._key(key), "little"))
        if bucket is None:
            return None
        return b"".join(ip.to_bytes(8, "little") for ip in bucket[1]).ljust(self.value_size, b"\0")

    def delete(self, key: Key) -> None:
        if self.buckets.pop(int.from_bytes(self._key(key), "little"), None) is None:
            raise self._fail("delete", -errno.ENOENT)

    def keys(self) -> Iterator[bytes]:
        return (i.to_bytes(4, "little") for i in sorted(self.buckets))


# --- local storage: one value per socket, inode, task or cgroup --------------------------------

class LocalStorageMap(Map):
    """SK_STORAGE, INODE_STORAGE, TASK_STORAGE, CGRP_STORAGE (bpf_local_storage): each owner --
    a socket, inode, task or cgroup, named here by the address a program holds for it -- carries
    its own value, reached with ``bpf_<owner>_storage_get/delete``.  Programs cannot look these
    maps up by key; the user side (``lookup``/``update``/``delete``/``keys``) takes the owner's
    address where the kernel takes an fd."""

    OWNERS = {MapType.SK_STORAGE: "socket", MapType.INODE_STORAGE: "inode",
              MapType.TASK_STORAGE: "task", MapType.CGRP_STORAGE: "cgroup"}

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        #: owner address -> the address of its value
        self._elems: dict[int, int] = {}

    @property
    def owner(self) -> str:
        return self.OWNERS.get(self.type, "owner")

    def storage(self, owner: int) -> int:
        """The address of ``owner``'s value (0: it has none)."""
        return self._elems.get(owner & _M64, 0)

    def create(self, owner: int, init: bytes | None) -> int:
        """bpf_local_storage_update(BPF_NOEXIST): a new value, ``init`` or zeros."""
        owner &= _M64
        data = bytearray(init if init is not None else bytes(self.value_size))
        addr = self.memory.map(data, RegionKind.MAP_VALUE, f"{self.name}[{self.owner} {owner:#x}]",
                               writable=not self.readonly)
        self._elems[owner] = addr
        return addr

    def remove(self, owner: int) -> int:
        """bpf_<owner>_storage_delete: 0, or -ENOENT when the owner has no value."""
        addr = self._elems.pop(owner & _M64, None)
        if addr is None:
            return -errno.ENOENT
        self.retired.append(addr)
        return 0

    # user side: keys are owner addresses
    def _owner(self, key: Key) -> int:
        return int.from_bytes(key, "little") if isinstance(key, (bytes, bytearray)) else int(key) & _M64

    def lookup(self, key: Key) -> Any:
        addr = self.storage(self._owner(key))
        return bytes(self.memory.regions[addr >> 32].buf) if addr else None

    def update(self, key: Key, value: Any, flags: int = 0) -> None:
        owner, data = self._owner(key), self._value(value)
        addr = self.storage(owner)
        mode = flags & ~_F_LOCK
        err = _check_flags(flags) or (-errno.EEXIST if addr and mode == _NOEXIST else 0) \
            or (-errno.ENOENT if not addr and mode == _EXIST else 0)
        if err:
            raise self._fail("update", err)
        if addr:
            self.memory.regions[addr >> 32].buf[:] = data
        else:
            self.create(owner, data)

    def delete(self, key: Key) -> None:
        if err := self.remove(self._owner(key)):
            raise self._fail("delete", err)

    def keys(self) -> Iterator[bytes]:
        return iter([owner.to_bytes(8, "little") for owner in self._elems])


# --- sockmap / sockhash: sockets, named by their cookies -------------------------------------

class SockMap(Map):
    """SOCKMAP (a u32 index below max_entries) and SOCKHASH (any key): each slot holds a socket,
    here its cookie (what the kernel's user-side lookup of an 8-byte-value map returns; a spec
    seeds ``maps.socks = { 0 = 7 }``: socket 7 at key 0).  Programs redirect to them
    (``bpf_sk_redirect_*``, ``bpf_msg_redirect_*``) and sock_ops programs add the current socket
    (``bpf_sock_map_update``, ``bpf_sock_hash_update``); a program's own lookup gives a socket
    reference the emulator does not model."""

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.hash = self.type == MapType.SOCKHASH
        self._socks: dict[bytes, int] = {}

    def sock(self, key: bytes) -> int | None:
        """The cookie of the socket at ``key`` (None: none)."""
        return self._socks.get(bytes(key))

    def put(self, key: bytes, cookie: int, flags: int) -> int:
        """sock_map_update_common / sock_hash_update_common: 0 or the kernel's -errno."""
        if flags > _EXIST:
            return -errno.EINVAL
        key = bytes(key)
        if not self.hash and int.from_bytes(key[:4], "little") >= self.max_entries:
            return -errno.E2BIG
        old = key in self._socks
        if old and flags == _NOEXIST:
            return -errno.EEXIST
        if not old and flags == _EXIST:
            return -errno.ENOENT
        if self.hash and not old and len(self._socks) >= self.max_entries:
            return -errno.E2BIG
        self._socks[key] = cookie & _M64
        return 0

    def prog_lookup(self, key: bytes, cpu: int) -> int:
        raise NotEmulated(f"a program's lookup in {self.type.name.lower()} {self.name} (a socket reference)")

    def prog_update(self, key: bytes, value: bytes, flags: int, cpu: int) -> int:
        raise NotEmulated(f"a program's update of {self.type.name.lower()} {self.name} (a socket reference)")

    def prog_delete(self, key: bytes) -> int:
        """sock_map_delete_elem: -EINVAL for an index out of range or an empty slot;
        sock_hash_delete_elem: -ENOENT for a missing key."""
        key = bytes(key)
        if not self.hash and int.from_bytes(key[:4], "little") >= self.max_entries:
            return -errno.EINVAL
        if self._socks.pop(key, None) is None:
            return -errno.ENOENT if self.hash else -errno.EINVAL
        return 0

    # user side: values are socket cookies
    def lookup(self, key: Key) -> Any:
        if self.value_size != 8:
            raise self._fail("lookup", -errno.ENOSPC)
        cookie = self.sock(self._key(key))
        return cookie.to_bytes(8, "little") if cookie is not None else None

    def update(self, key: Key, value: Any, flags: int = 0) -> None:
        cookie = int.from_bytes(self._value(value), "little") if not isinstance(value, int) else value
        if err := self.put(self._key(key), cookie, flags):
            raise self._fail("update", err)

    def delete(self, key: Key) -> None:
        if err := self.prog_delete(self._key(key)):
            raise self._fail("delete", err)

    def keys(self) -> Iterator[bytes]:
        return iter(list(self._socks))


# --- what the emulator lacks ------------------------------------------------------------------

class NotEmulatedMap(Map):
    """A map of a type the emulator does not model.  It exists (its programs load, its
    pointer is valid), but the first use -- a helper, a seed, a read -- raises
    :class:`~bpfbuild.errors.NotEmulated` naming it, so only what touches it stops."""

    def __init__(self, memory: Memory, name: str, type_name: str, *args: Any, **kw: Any) -> None:
        super().__init__(memory, name, MapType.UNSPEC, *args, **kw)
        self.type_name = type_name

    def __repr__(self) -> str:
        return f"<NotEmulatedMap {self.name!r} {self.type_name}>"

    def _missing(self) -> NotEmulated:
        return NotEmulated(f"{self.type_name} map {self.name}")

    def prog_lookup(self, key: bytes, cpu: int) -> int:
        raise self._missing()

    def prog_update(self, key: bytes, value: bytes, flags: int, cpu: int) -> int:
        raise self._missing()

    def prog_delete(self, key: bytes) -> int:
        raise self._missing()

    def prog_push(self, value: bytes, flags: int) -> int:
        raise self._missing()

    def prog_pop(self, peek: bool) -> bytes | int:
        raise self._missing()

    def lookup(self, key: Key) -> Any:
        raise self._missing()

    def update(self, key: Key, value: Any, flags: int = 0) -> None:
        raise self._missing()

    def delete(self, key: Key) -> None:
        raise self._missing()

    def keys(self) -> Iterator[bytes]:
        raise self._missing()


class CgroupStorageMap(HashMap):
    """CGROUP_STORAGE and PERCPU_CGROUP_STORAGE: one value per cgroup and attach type (key
    ``struct bpf_cgroup_storage_key { u64 cgroup_inode_id; u32 attach_type; }``, or a plain
    u64 cgroup id shared by every attach type).  The kernel makes a cgroup's storage, zeroed,
    when a program is attached there; the emulator makes it at the first
    ``bpf_get_local_storage`` of a run in that cgroup (or when a spec seeds it)."""

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.per_cpu = self.type == MapType.PERCPU_CGROUP_STORAGE
        self.max_entries = 1 << 16    # max_entries is 0 in the definition: one per attachment

    def storage(self, cgroup_id: int, attach_type: int, cpu: int) -> int:
        """The address of the (cgroup, attach type) storage, made zeroed if missing."""
        key = (cgroup_id & ((1 << 64) - 1)).to_bytes(8, "little")
        if self.key_size > 8:
            key = (key + (attach_type & 0xFFFFFFFF).to_bytes(4, "little")).ljust(self.key_size, b"\0")
        addr = self.prog_lookup(key, cpu)
        if not addr:
            self.prog_update(key, bytes(self.value_size), 0, cpu)
            addr = self.prog_lookup(key, cpu)
        return addr


# --- construction --------------------------------------------------------------------------

_CLASSES: dict[MapType, type[Map]] = {
    MapType.ARRAY: ArrayMap, MapType.PERCPU_ARRAY: ArrayMap,
    MapType.HASH: HashMap, MapType.PERCPU_HASH: HashMap, MapType.LRU_HASH: HashMap,
    MapType.LRU_PERCPU_HASH: HashMap,
    MapType.LPM_TRIE: LpmTrieMap,
    MapType.QUEUE: QueueMap, MapType.STACK: QueueMap,
    MapType.RINGBUF: RingBuf,
    MapType.PERF_EVENT_ARRAY: PerfEventArray,
    MapType.PROG_ARRAY: ProgArray,
    MapType.ARRAY_OF_MAPS: MapInMap, MapType.HASH_OF_MAPS: MapInMap,
    MapType.DEVMAP: RedirectArray, MapType.CPUMAP: RedirectArray, MapType.XSKMAP: RedirectArray,
    MapType.DEVMAP_HASH: HashMap,
    MapType.CGROUP_ARRAY: CgroupArray,
    MapType.STACK_TRACE: StackTraceMap,
    MapType.SOCKMAP: SockMap, MapType.SOCKHASH: SockMap,
    MapType.SK_STORAGE: LocalStorageMap, MapType.INODE_STORAGE: LocalStorageMap,
    MapType.TASK_STORAGE: LocalStorageMap, MapType.CGRP_STORAGE: LocalStorageMap,
    MapType.CGROUP_STORAGE: CgroupStorageMap, MapType.PERCPU_CGROUP_STORAGE: CgroupStorageMap,
}


def create_map(memory: Memory, spec: MapSpecLike, *, nr_cpus: int = 1) -> Map:
    """A map for ``spec`` in ``memory``.  A type the emulator lacks gives a
    :class:`NotEmulatedMap`: the error comes when a program or a spec uses it."""
    kw: dict[str, Any] = {"nr_cpus": nr_cpus, "readonly": bool(getattr(spec, "readonly", False))}
    try:
        map_type = MapType(spec.type)
    except ValueError:
        map_type = None
    cls = _CLASSES.get(map_type) if map_type is not None else None
    if cls is None:
        type_name = map_type.name.lower() if map_type is not None else f"type {int(spec.type)}"
        return NotEmulatedMap(memory, spec.name, type_name, spec.key_size, spec.value_size, spec.max_entries,
                              int(getattr(spec, "flags", 0)), **kw)
    if cls is ArrayMap:
        kw["initial"] = getattr(spec, "initial", None)
    return cls(memory, spec.name, map_type, spec.key_size, spec.value_size, spec.max_entries,
               int(getattr(spec, "flags", 0)), **kw)

"""Map types and what the kernel promises about each (Linux 6.18).

Numbers are ``enum bpf_map_type`` of the running 6.18 kernel's BTF (the two ``*_DEPRECATED``
aliases of 19 and 21 are left out: one name per number).  Size rules are the ``map_alloc_check``
/ ``map_alloc`` checks of each map implementation; "helpers" are the verifier's
``check_map_func_compatibility`` (both directions: what a map type lets programs call on it,
and which map types a map-taking helper accepts).
"""

from __future__ import annotations

import enum
import functools
from dataclasses import dataclass

from bpfbuild.abi.progtypes import AttachType, ProgType

__all__ = [
    "KeyKind",
    "MapFlag",
    "MapType",
    "MapTypeInfo",
    "SizeRule",
    "UpdateFlag",
    "map_helper_allowed",
    "map_type_info",
]

#: Largest key a program can build on its stack (MAX_BPF_STACK).
MAX_BPF_STACK = 512
#: PCPU_MIN_UNIT_SIZE: the largest per-CPU value.
PCPU_MIN_UNIT_SIZE = 32768
#: BPF_LOCAL_STORAGE_MAX_VALUE_SIZE (U16_MAX minus the element header), measured on 6.18.
LOCAL_STORAGE_MAX_VALUE = 65407
PAGE_SIZE = 4096


class MapType(enum.IntEnum):
    """``enum bpf_map_type`` (Linux 6.18); member names drop ``BPF_MAP_TYPE_``."""

    UNSPEC = 0
    HASH = 1
    ARRAY = 2
    PROG_ARRAY = 3
    PERF_EVENT_ARRAY = 4
    PERCPU_HASH = 5
    PERCPU_ARRAY = 6
    STACK_TRACE = 7
    CGROUP_ARRAY = 8
    LRU_HASH = 9
    LRU_PERCPU_HASH = 10
    LPM_TRIE = 11
    ARRAY_OF_MAPS = 12
    HASH_OF_MAPS = 13
    DEVMAP = 14
    SOCKMAP = 15
    CPUMAP = 16
    XSKMAP = 17
    SOCKHASH = 18
    CGROUP_STORAGE = 19
    REUSEPORT_SOCKARRAY = 20
    PERCPU_CGROUP_STORAGE = 21
    QUEUE = 22
    STACK = 23
    SK_STORAGE = 24
    DEVMAP_HASH = 25
    STRUCT_OPS = 26
    RINGBUF = 27
    INODE_STORAGE = 28
    TASK_STORAGE = 29
    BLOOM_FILTER = 30
    USER_RINGBUF = 31
    CGRP_STORAGE = 32
    ARENA = 33

    @property
    def kernel_name(self) -> str:
        return f"BPF_MAP_TYPE_{self.name}"

    @property
    def libbpf_name(self) -> str:
        """The name libbpf/bpftool print, e.g. ``percpu_array``."""
        return self.name.lower()


class MapFlag(enum.IntFlag):
    """``map_flags`` of BPF_MAP_CREATE (uapi ``BPF_F_*``; names drop ``BPF_F_``)."""

    NO_PREALLOC = 1 << 0
    NO_COMMON_LRU = 1 << 1
    NUMA_NODE = 1 << 2
    RDONLY = 1 << 3
    WRONLY = 1 << 4
    STACK_BUILD_ID = 1 << 5
    ZERO_SEED = 1 << 6
    RDONLY_PROG = 1 << 7
    WRONLY_PROG = 1 << 8
    CLONE = 1 << 9
    MMAPABLE = 1 << 10
    PRESERVE_ELEMS = 1 << 11
    INNER_MAP = 1 << 12
    LINK = 1 << 13
    PATH_FD = 1 << 14
    VTYPE_BTF_OBJ_FD = 1 << 15
    TOKEN_FD = 1 << 16
    SEGV_ON_FAULT = 1 << 17
    NO_USER_CONV = 1 << 18


_NO_FLAGS = MapFlag(0)


class UpdateFlag(enum.IntEnum):
    """``flags`` of map update (helper and syscall); ``F_LOCK`` may be or-ed into the others."""

    ANY = 0
    NOEXIST = 1
    EXIST = 2
    F_LOCK = 4


class KeyKind(enum.Enum):
    """How a map is addressed."""

    #: arbitrary key bytes compared as a whole (hash maps)
    HASH = "hash"
    #: a u32 index below max_entries (array-like maps)
    INDEX = "index"
    #: longest-prefix match: u32 prefix length in bits followed by the data
    LPM = "lpm"
    #: a file descriptor / object owner (local storage maps: sk, inode, task, cgroup)
    OWNER = "owner"
    #: the cgroup storage key (u64 cgroup inode id, or struct bpf_cgroup_storage_key)
    CGROUP = "cgroup"
    #: no key at all (queue, stack, ring buffers, bloom filter, arena)
    NONE = "none"


@dataclass(frozen=True, slots=True)
class SizeRule:
    """Allowed sizes: ``exact`` if given, else ``minimum <= n <= maximum`` and a multiple of ``step``."""

    exact: tuple[int, ...] = ()
    minimum: int = 0
    maximum: int | None = None
    step: int = 1
    power_of_two: bool = False
    note: str = ""

    def allows(self, n: int) -> bool:
        if self.exact:
            return n in self.exact
        if n < self.minimum or (self.maximum is not None and n > self.maximum):
            return False
        if n % self.step:
            return False
        return not self.power_of_two or (n > 0 and n & (n - 1) == 0)

    def __str__(self) -> str:
        if self.exact:
            return " or ".join(map(str, self.exact))
        text = f">= {self.minimum}" if self.maximum is None else f"{self.minimum}..{self.maximum}"
        if self.step > 1:
            text += f", multiple of {self.step}"
        if self.power_of_two:
            text += ", power of 2"
        return text


@dataclass(frozen=True, slots=True)
class MapTypeInfo:
    """Per-map-type facts.

    ``helpers`` is the verifier's map-side list of helpers a program may call with this map
    (``None``: no map-side restriction; the generic map_lookup/update/delete_elem apply).
    ``delete_einval``: the verifier accepts ``bpf_map_delete_elem`` but the map returns -EINVAL
    (array maps: elements always exist).  ``prealloc_default``: elements are allocated at
    creation unless BPF_F_NO_PREALLOC.
    """

    map_type: MapType
    key: KeyKind
    key_size: SizeRule
    value_size: SizeRule
    max_entries: SizeRule
    per_cpu: bool = False
    map_in_map: bool = False
    helpers: frozenset[str] | None = None
    required_flags: MapFlag = _NO_FLAGS
    needs_btf: bool = False
    delete_einval: bool = False
    prealloc_default: bool = False
    mmapable: bool = False
    note: str = ""

    @property
    def has_keys(self) -> bool:
        return self.key is not KeyKind.NONE

    @property
    def array_like(self) -> bool:
        return self.key is KeyKind.INDEX

    @property
    def prog_lookup(self) -> bool:
        """Programs may call bpf_map_lookup_elem on it."""
        return map_helper_allowed(self.map_type, "map_lookup_elem")

    @property
    def prog_update(self) -> bool:
        """Programs may call bpf_map_update_elem on it (sockmap/sockhash: some program types)."""
        return map_helper_allowed(self.map_type, "map_update_elem", ProgType.SOCKET_FILTER)

    @property
    def prog_delete(self) -> bool:
        """Programs may call bpf_map_delete_elem on it (array maps then get -EINVAL)."""
        return map_helper_allowed(self.map_type, "map_delete_elem", ProgType.SOCKET_FILTER)

    def map_side_allows(self, helper: str) -> bool:
        """The map-side half of the check only (see :func:`map_helper_allowed` for both)."""
        return self.helpers is None or helper.removeprefix("bpf_") in self.helpers


_ANY_POSITIVE = SizeRule(minimum=1)
_HASH_KEY = SizeRule(minimum=1, note="bounded only by allocation limits (~4 MiB); a key built on"
                                     " the stack is bounded by its 512 bytes")
_U32 = SizeRule(exact=(4,))
_ZERO = SizeRule(exact=(0,))
_FD_OR_FD_PROG = SizeRule(exact=(4, 8), note="u32 fd, optionally followed by a program fd")
_PERCPU_VALUE = SizeRule(minimum=1, maximum=PCPU_MIN_UNIT_SIZE)
_STORAGE_VALUE = SizeRule(minimum=1, maximum=LOCAL_STORAGE_MAX_VALUE)
_RING = SizeRule(minimum=PAGE_SIZE, step=PAGE_SIZE, power_of_two=True,
                 note="ring size in bytes: a power of 2 and a multiple of the page size")

_LOOKUP = frozenset({"map_lookup_elem"})

def _info(map_type: MapType, key: KeyKind, key_size: SizeRule, value_size: SizeRule,
          max_entries: SizeRule = _ANY_POSITIVE, **kw: object) -> MapTypeInfo:
    return MapTypeInfo(map_type, key, key_size, value_size, max_entries, **kw)  # type: ignore[arg-type]


@functools.cache
def _table() -> dict[MapType, MapTypeInfo]:
    M = MapType
    K = KeyKind
    storage_helpers = {
        M.SK_STORAGE: frozenset({"sk_storage_get", "sk_storage_delete", "kptr_xchg"}),
        M.INODE_STORAGE: frozenset({"inode_storage_get", "inode_storage_delete", "kptr_xchg"}),
        M.TASK_STORAGE: frozenset({"task_storage_get", "task_storage_delete", "kptr_xchg"}),
        M.CGRP_STORAGE: frozenset({"cgrp_storage_get", "cgrp_storage_delete", "kptr_xchg"}),
    }
    sock_helpers = {"map_lookup_elem", "sk_select_reuseport"}
    rows = [
        _info(M.HASH, K.HASH, _HASH_KEY, _ANY_POSITIVE, prealloc_default=True),
        _info(M.ARRAY, K.INDEX, _U32, _ANY_POSITIVE, delete_einval=True, prealloc_default=True,
              mmapable=True, note="BPF_F_MMAPABLE arrays can be mmap()ed; global data sections use these"),
        _info(M.PROG_ARRAY, K.INDEX, _U32, _U32, helpers=frozenset({"tail_call"}),
              note="values are program fds (user space) / programs (kernel)"),
        _info(M.PERF_EVENT_ARRAY, K.INDEX, _U32, _U32,
              helpers=frozenset({"perf_event_read", "perf_event_output", "skb_output",
                                 "perf_event_read_value", "xdp_output"}),
              note="max_entries 0 lets libbpf size it to the number of possible CPUs"),
        _info(M.PERCPU_HASH, K.HASH, _HASH_KEY, _PERCPU_VALUE, per_cpu=True, prealloc_default=True),
        _info(M.PERCPU_ARRAY, K.INDEX, _U32, _PERCPU_VALUE, per_cpu=True, delete_einval=True,
              prealloc_default=True),
        _info(M.STACK_TRACE, K.INDEX, _U32,
              SizeRule(minimum=8, maximum=127 * 8, step=8,
                       note="u64 instruction pointers; at most perf_event_max_stack (default 127);"
                            " BPF_F_STACK_BUILD_ID: multiples of 32"),
              helpers=frozenset({"get_stackid"})),
        _info(M.CGROUP_ARRAY, K.INDEX, _U32, _U32,
              helpers=frozenset({"skb_under_cgroup", "current_task_under_cgroup"})),
        _info(M.LRU_HASH, K.HASH, _HASH_KEY, _ANY_POSITIVE, prealloc_default=True,
              note="BPF_F_NO_PREALLOC is refused (ENOTSUPP)"),
        _info(M.LRU_PERCPU_HASH, K.HASH, _HASH_KEY, _PERCPU_VALUE, per_cpu=True,
              prealloc_default=True),
        _info(M.LPM_TRIE, K.LPM, SizeRule(minimum=5, maximum=4 + 256,
                                           note="u32 prefixlen + 1..256 data bytes"),
              _ANY_POSITIVE, required_flags=MapFlag.NO_PREALLOC),
        _info(M.ARRAY_OF_MAPS, K.INDEX, _U32, _U32, map_in_map=True, helpers=_LOOKUP,
              note="created with inner_map_fd (a template map); lookup yields the inner map"),
        _info(M.HASH_OF_MAPS, K.HASH, _HASH_KEY, _U32, map_in_map=True, helpers=_LOOKUP,
              note="created with inner_map_fd (a template map); lookup yields the inner map"),
        _info(M.DEVMAP, K.INDEX, _U32, _FD_OR_FD_PROG,
              helpers=frozenset({"redirect_map", "map_lookup_elem"})),
        _info(M.SOCKMAP, K.INDEX, _U32, _FD_OR_FD_PROG,
              helpers=frozenset(sock_helpers | {"sk_redirect_map", "sock_map_update",
                                                "msg_redirect_map"}),
              note="map_update_elem/map_delete_elem only from some program types"),
        _info(M.CPUMAP, K.INDEX, _U32, SizeRule(exact=(4, 8), note="qsize, optionally a program fd"),
              helpers=frozenset({"redirect_map"})),
        _info(M.XSKMAP, K.INDEX, _U32, _U32, helpers=frozenset({"redirect_map", "map_lookup_elem"})),
        _info(M.SOCKHASH, K.HASH, _HASH_KEY, _FD_OR_FD_PROG,
              helpers=frozenset(sock_helpers | {"sk_redirect_hash", "sock_hash_update",
                                                "msg_redirect_hash"}),
              note="map_update_elem/map_delete_elem only from some program types"),
        _info(M.CGROUP_STORAGE, K.CGROUP, SizeRule(exact=(8, 12)), _STORAGE_VALUE, _ZERO,
              helpers=frozenset({"get_local_storage"})),
        _info(M.REUSEPORT_SOCKARRAY, K.INDEX, _U32, _FD_OR_FD_PROG,
              helpers=frozenset({"sk_select_reuseport"})),
        _info(M.PERCPU_CGROUP_STORAGE, K.CGROUP, SizeRule(exact=(8, 12)), _PERCPU_VALUE, _ZERO,
              per_cpu=True,
              helpers=frozenset({"get_local_storage"})),
        _info(M.QUEUE, K.NONE, _ZERO, _ANY_POSITIVE,
              helpers=frozenset({"map_push_elem", "map_pop_elem", "map_peek_elem"}),
              note="push on a full queue: -E2BIG, or with BPF_EXIST drops the oldest"),
        _info(M.STACK, K.NONE, _ZERO, _ANY_POSITIVE,
              helpers=frozenset({"map_push_elem", "map_pop_elem", "map_peek_elem"}),
              note="push on a full stack: -E2BIG, or with BPF_EXIST drops the oldest"),
        _info(M.SK_STORAGE, K.OWNER, _U32, _STORAGE_VALUE, _ZERO, helpers=storage_helpers[M.SK_STORAGE],
              required_flags=MapFlag.NO_PREALLOC, needs_btf=True),
        _info(M.DEVMAP_HASH, K.HASH, _U32, _FD_OR_FD_PROG,
              helpers=frozenset({"redirect_map", "map_lookup_elem"})),
        _info(M.STRUCT_OPS, K.INDEX, _U32,
              SizeRule(minimum=1, note="the size of the kernel's struct_ops value type"),
              SizeRule(exact=(1,)), needs_btf=True, helpers=frozenset()),
        _info(M.RINGBUF, K.NONE, _ZERO, _ZERO, _RING, mmapable=True,
              helpers=frozenset({"ringbuf_output", "ringbuf_reserve", "ringbuf_query",
                                 "ringbuf_reserve_dynptr", "ringbuf_submit_dynptr",
                                 "ringbuf_discard_dynptr"})),
        _info(M.INODE_STORAGE, K.OWNER, _U32, _STORAGE_VALUE, _ZERO,
              helpers=storage_helpers[M.INODE_STORAGE], required_flags=MapFlag.NO_PREALLOC,
              needs_btf=True),
        _info(M.TASK_STORAGE, K.OWNER, _U32, _STORAGE_VALUE, _ZERO,
              helpers=storage_helpers[M.TASK_STORAGE], required_flags=MapFlag.NO_PREALLOC,
              needs_btf=True),
        _info(M.BLOOM_FILTER, K.NONE, _ZERO, _ANY_POSITIVE,
              helpers=frozenset({"map_push_elem", "map_peek_elem"}),
              note="map_extra bits 0-3: number of hash functions (0 means 5)"),
        _info(M.USER_RINGBUF, K.NONE, _ZERO, _ZERO, _RING, mmapable=True,
              helpers=frozenset({"user_ringbuf_drain"})),
        _info(M.CGRP_STORAGE, K.OWNER, _U32, _STORAGE_VALUE, _ZERO,
              helpers=storage_helpers[M.CGRP_STORAGE], required_flags=MapFlag.NO_PREALLOC,
              needs_btf=True),
        _info(M.ARENA, K.NONE, _ZERO, _ZERO, SizeRule(minimum=1, note="number of pages"),
              required_flags=MapFlag.MMAPABLE, mmapable=True, helpers=frozenset()),
    ]
    return {row.map_type: row for row in rows}


def map_type_info(map_type: MapType | int) -> MapTypeInfo | None:
    """Facts about ``map_type``; None for UNSPEC or a number 6.18 does not know."""
    try:
        return _table().get(MapType(map_type))
    except ValueError:
        return None


# Program types that may call bpf_map_update_elem / bpf_map_delete_elem on a sockmap or
# sockhash (the verifier's may_update_sockmap).
_SOCKMAP_UPDATERS = frozenset({
    ProgType.SOCKET_FILTER, ProgType.SCHED_CLS, ProgType.SCHED_ACT, ProgType.XDP,
    ProgType.SK_REUSEPORT, ProgType.FLOW_DISSECTOR, ProgType.SK_LOOKUP,
})


def map_helper_allowed(map_type: MapType | int, helper: str, prog_type: ProgType | None = None,
                       attach_type: AttachType | None = None) -> bool:
    """Whether the verifier lets a program pass a map of ``map_type`` to ``helper``.

    ``helper`` is the helper's name with or without ``bpf_``.  ``prog_type`` matters only
    for map updates of sockmap/sockhash; without it those are refused.
    """
    info = map_type_info(map_type)
    if info is None:
        return False
    name = helper.removeprefix("bpf_")
    if info.map_type in (MapType.SOCKMAP, MapType.SOCKHASH) and name in (
            "map_update_elem", "map_delete_elem"):
        if prog_type is None:
            return False
        match prog_type:
            case ProgType.TRACING:
                return attach_type is AttachType.TRACE_ITER
            case ProgType.SOCK_OPS:
                return name == "map_delete_elem"
            case _:
                return prog_type in _SOCKMAP_UPDATERS
    if not info.map_side_allows(name):
        return False
    accepted = _func_side().get(name)
    return accepted is None or info.map_type in accepted


@functools.cache
def _func_side() -> dict[str, frozenset[MapType]]:
    """The function-side switch: helpers that accept only some map types."""
    M = MapType
    perf = frozenset({M.PERF_EVENT_ARRAY})
    ring = frozenset({M.RINGBUF})
    sockmap = frozenset({M.SOCKMAP})
    sockhash = frozenset({M.SOCKHASH})
    cg_storage = frozenset({M.CGROUP_STORAGE, M.PERCPU_CGROUP_STORAGE})
    table: dict[str, frozenset[MapType]] = {
        "tail_call": frozenset({M.PROG_ARRAY}),
        "get_stackid": frozenset({M.STACK_TRACE}),
        "current_task_under_cgroup": frozenset({M.CGROUP_ARRAY}),
        "skb_under_cgroup": frozenset({M.CGROUP_ARRAY}),
        "redirect_map": frozenset({M.DEVMAP, M.DEVMAP_HASH, M.CPUMAP, M.XSKMAP}),
        "get_local_storage": cg_storage,
        "sk_select_reuseport": frozenset({M.REUSEPORT_SOCKARRAY, M.SOCKMAP, M.SOCKHASH}),
        "map_pop_elem": frozenset({M.QUEUE, M.STACK}),
        "map_peek_elem": frozenset({M.QUEUE, M.STACK, M.BLOOM_FILTER}),
        "map_push_elem": frozenset({M.QUEUE, M.STACK, M.BLOOM_FILTER}),
        "map_lookup_percpu_elem": frozenset({M.PERCPU_ARRAY, M.PERCPU_HASH, M.LRU_PERCPU_HASH}),
        "user_ringbuf_drain": frozenset({M.USER_RINGBUF}),
        "sk_storage_get": frozenset({M.SK_STORAGE}),
        "sk_storage_delete": frozenset({M.SK_STORAGE}),
        "inode_storage_get": frozenset({M.INODE_STORAGE}),
        "inode_storage_delete": frozenset({M.INODE_STORAGE}),
        "task_storage_get": frozenset({M.TASK_STORAGE}),
        "task_storage_delete": frozenset({M.TASK_STORAGE}),
        "cgrp_storage_get": frozenset({M.CGRP_STORAGE}),
        "cgrp_storage_delete": frozenset({M.CGRP_STORAGE}),
    }
    for name in ("perf_event_read", "perf_event_output", "perf_event_read_value", "skb_output",
                 "xdp_output"):
        table[name] = perf
    for name in ("ringbuf_output", "ringbuf_reserve", "ringbuf_query", "ringbuf_reserve_dynptr",
                 "ringbuf_submit_dynptr", "ringbuf_discard_dynptr"):
        table[name] = ring
    for name in ("sk_redirect_map", "msg_redirect_map", "sock_map_update"):
        table[name] = sockmap
    for name in ("sk_redirect_hash", "msg_redirect_hash", "sock_hash_update"):
        table[name] = sockhash
    return table

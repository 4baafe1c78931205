"""A session: the state that outlives a single run.

Maps (with their contents), the address space they live in, every ``bpf_printk`` line, and
the world a program observes through helpers: the current task (pid, tgid, uid, gid,
comm), the clock, the CPU, random numbers, and "kernel" / "user" memory for
``bpf_probe_read_*``.  Everything is set by the user and deterministic: two sessions
created with the same arguments answer every helper the same way.

==========================  =================================================================
input                       used by
==========================  =================================================================
``pid``, ``tgid``           bpf_get_current_pid_tgid (tgid << 32 | pid)
``uid``, ``gid``            bpf_get_current_uid_gid (gid << 32 | uid)
``comm``                    bpf_get_current_comm (truncated to 15 bytes + NUL)
``time_ns``,                bpf_ktime_get_ns returns ``time_ns`` and then advances it by
``time_step_ns``            ``time_step_ns`` (so two readings differ, like a real clock)
``boot_offset_ns``          bpf_ktime_get_boot_ns = ktime + the time spent suspended
``tai_offset_ns``           bpf_ktime_get_tai_ns
``hz``                      bpf_jiffies64 (INITIAL_JIFFIES + time * HZ)
``cpu``, ``nr_cpus``        bpf_get_smp_processor_id, per-CPU maps, BPF_F_CURRENT_CPU
``numa_node``               bpf_get_numa_node_id
``seed``                    bpf_get_prandom_u32 (a seeded generator)
``current_task``            bpf_get_current_task(_btf): the address of the current task_struct
                            (what lies there is whatever ``kernel_memory`` says)
``kernel_memory``           bpf_probe_read_kernel*, %s of kernel pointers: {address: bytes}
``user_memory``             bpf_probe_read_user*: {address: bytes}
``kptr_restrict``           how %pK prints (0: hashed like %p, 1: raw, 2: zeros)
``kernel_stack``,           bpf_get_stack / bpf_get_stackid: the current kernel / user stack's
``user_stack``              return addresses, innermost first (default: empty)
``func_ip``                 bpf_get_func_ip: the traced function's address
``attach_cookie``           bpf_get_attach_cookie (default 0, as when none was attached)
``socket_cookie``           bpf_get_socket_cookie of the packet's / program's socket
``pidns_dev``, ``pidns_ino``  bpf_get_ns_current_pid_tgid: the current pid namespace (default:
                            the initial one, nsfs device 4, inode 0xEFFFFFFC)
``ns_pid``, ``ns_tgid``     ... and the task's ids in it (default: pid, tgid)
``cgroup_ancestors``        the cgroups the current one descends from (the root, id 1, always),
                            from the root down (bpf_get_current_ancestor_cgroup_id's levels)
``routes``                  bpf_fib_lookup's route table (:mod:`bpfbuild.vm.fib`); without it
                            bpf_fib_lookup is not emulated
``task``                    fields of the current task_struct (``pid``, ``comm``,
                            ``real_parent.tgid``...) laid out by ``kernel_btf`` for
                            bpf_get_current_task(_btf)
``func_args``               bpf_get_func_arg / _arg_cnt / _ret: the traced function's argument
                            count (default: the context's words, less the return value's)
``paths``                   bpf_d_path: {address of a struct path: its text}
``sockets``                 bpf_sk_lookup_tcp / _udp, bpf_skc_lookup_tcp: the sockets there are
                            (:mod:`bpfbuild.vm.sockets`)
``socket_family``,          bpf_setsockopt / bpf_getsockopt: the program's socket (default
``socket_protocol``         AF_INET 2, TCP 6)
``kernel_btf``              the target kernel's BTF (a ``bpfbuild.btf.Spec``, or a function
                            that returns it when first needed)
==========================  =================================================================
"""

from __future__ import annotations

import bisect
import random
from collections.abc import Mapping, Sequence
from typing import Any

from bpfbuild.abi.maptypes import MapType
from bpfbuild.errors import VMError, no_such
from bpfbuild.vm.fib import parse_routes
from bpfbuild.vm.maps import Map, MapSpecLike, create_map
from bpfbuild.vm.memory import Memory
from bpfbuild.vm.socktable import parse_sockets

__all__ = ["DEFAULT_CURRENT_TASK", "Session"]

_M64 = (1 << 64) - 1
#: where the emulated ``current`` task_struct lives by default (a direct-map kernel address;
#: nothing is readable there unless ``kernel_memory`` puts bytes at it)
DEFAULT_CURRENT_TASK = 0xFFFF888000A00000
#: what bpf_get_func_ip answers by default (the start of x86-64 kernel text)
DEFAULT_FUNC_IP = 0xFFFFFFFF81000000


class _SimpleSpec:
    """A map definition given field by field (satisfies MapSpecLike)."""

    def __init__(self, name: str, type: MapType | int, key_size: int, value_size: int, max_entries: int,
                 flags: int = 0, initial: bytes | None = None, readonly: bool = False) -> None:
        self.name = name
        self.type = type
        self.key_size = key_size
        self.value_size = value_size
        self.max_entries = max_entries
        self.flags = flags
        self.initial = initial
        self.readonly = readonly
        self.inner = None


class _FakeMemory:
    """Sparse memory for probe_read: non-overlapping ``{address: bytes}`` ranges."""

    def __init__(self, ranges: Mapping[int, bytes] | None) -> None:
        items = sorted((addr & _M64, bytes(data)) for addr, data in ranges.items()) if ranges else []
        self.starts = [a for a, _ in items]
        self.blobs = [d for _, d in items]

    def read(self, addr: int, size: int) -> bytes | None:
        i = bisect.bisect_right(self.starts, addr) - 1
        if i < 0:
            return None
        off = addr - self.starts[i]
        blob = self.blobs[i]
        if off + size > len(blob):
            return None
        return blob[off:off + size]

    def write(self, addr: int, data: bytes) -> bool:
        """Store ``data`` inside one range (False, nothing written: not all of it is there)."""
        i = bisect.bisect_right(self.starts, addr) - 1
        if i < 0:
            return False
        off = addr - self.starts[i]
        blob = self.blobs[i]
        if off + len(data) > len(blob):
            return False
        self.blobs[i] = blob[:off] + bytes(data) + blob[off + len(data):]
        return True

    def read_cstr(self, addr: int, limit: int) -> bytes | None:
        i = bisect.bisect_right(self.starts, addr) - 1
        if i < 0:
            return None
        off = addr - self.starts[i]
        blob = self.blobs[i]
        if off >= len(blob):
            return None
        end = blob.find(b"\0", off, off + limit)
        return blob[off:end] if end >= 0 else blob[off:off + limit]


class Session:
    """Maps, printk output and helper inputs shared by the runs of one or more machines."""

    def __init__(self, *, nr_cpus: int = 2, cpu: int = 0, numa_node: int = 0, seed: int = 0,
                 pid: int = 4242, tgid: int | None = None, uid: int = 1000, gid: int = 1000,
                 comm: str = "bpfbuild", time_ns: int = 1_000_000_000, time_step_ns: int = 1000,
                 boot_offset_ns: int = 0, tai_offset_ns: int = 37_000_000_000, hz: int = 250,
                 cgroup_id: int = 1, kptr_restrict: int = 0, current_task: int = DEFAULT_CURRENT_TASK,
                 kernel_memory: Mapping[int, bytes] | None = None,
                 user_memory: Mapping[int, bytes] | None = None,
                 kernel_stack: Sequence[int] = (), user_stack: Sequence[int] = (),
                 func_ip: int = DEFAULT_FUNC_IP, socket_cookie: int = 1,
                 pidns_dev: int = 4, pidns_ino: int = 0xEFFFFFFC, ns_pid: int | None = None,
                 ns_tgid: int | None = None, cgroup_ancestors: Sequence[int] = (),
                 routes: Sequence[Mapping[str, Any]] | None = None,
                 task: Mapping[str, Any] | None = None, kernel_btf: Any = None,
                 attach_cookie: int = 0, func_args: int | None = None,
                 paths: Mapping[int | str, str] | None = None, socket_family: int = 2,
                 socket_protocol: int = 6, sockets: Sequence[Mapping[str, Any]] | None = None) -> None:
        if not 0 <= cpu < nr_cpus:
            raise VMError(f"cpu {cpu} is not below nr_cpus {nr_cpus}")
        self.memory = Memory()
        self.maps: dict[str, Map] = {}
        self._by_ptr: dict[int, Map] = {}
        #: every bpf_printk / bpf_trace_printk line of every run, in order
        self.printk: list[str] = []
        #: what iterators wrote with bpf_seq_printf / bpf_seq_write (their file's contents)
        self.seq_output = bytearray()
        self.nr_cpus = nr_cpus
        self.cpu = cpu
        self.numa_node = numa_node
        self.seed = seed
        self._random: random.Random | None = None
        self.pid = pid
        self.tgid = pid if tgid is None else tgid
        self.uid = uid
        self.gid = gid
        self.comm = comm
        self.time_ns = time_ns
        self.time_step_ns = time_step_ns
        self.boot_offset_ns = boot_offset_ns
        self.tai_offset_ns = tai_offset_ns
        self.hz = hz
        self.cgroup_id = cgroup_id
        self.current_task = current_task & _M64
        self.kptr_restrict = kptr_restrict
        self.pointer_hash_key = repr(seed).encode()[:64]
        self.kernel_memory = _FakeMemory(kernel_memory)
        self.user_memory = _FakeMemory(user_memory)
        self.kernel_stack = tuple(a & _M64 for a in kernel_stack)
        self.user_stack = tuple(a & _M64 for a in user_stack)
        self.func_ip = func_ip & _M64
        self.socket_cookie = socket_cookie & _M64
        self.pidns_dev = pidns_dev
        self.pidns_ino = pidns_ino
        self.ns_pid = self.pid if ns_pid is None else ns_pid
        self.ns_tgid = self.tgid if ns_tgid is None else ns_tgid
        self.cgroup_ancestors = frozenset({1, self.cgroup_id, *cgroup_ancestors})
        #: the current cgroup's ancestors from the root (level 0) down to it
        path = [1]
        for cg in (*cgroup_ancestors, self.cgroup_id):
            if cg not in path:
                path.append(cg)
        self.cgroup_path = tuple(path)
        self.routes = None if routes is None else parse_routes(routes)
        self.task_fields = dict(task) if task is not None else None
        self.kernel_btf = kernel_btf
        self.attach_cookie = attach_cookie & _M64
        #: the task object built from ``task_fields`` and ``kernel_btf`` (on first use)
        self.task_object: Any = None
        #: the traced function's argument count (bpf_get_func_arg*; None: the context's words)
        self.func_args = func_args
        #: bpf_d_path's answers: the address of a ``struct path`` -> its text
        self.paths = {(int(k, 0) if isinstance(k, str) else k) & _M64: v for k, v in (paths or {}).items()}
        #: what programs did outside their maps, in order (signals sent, overridden returns,
        #: timers started): one dict per effect, ``{"effect": "signal", "sig": 9, ...}``
        self.effects: list[dict[str, Any]] = []
        #: the bpf_timer states, by the timer's address (see :mod:`bpfbuild.vm.timers`)
        self.timers: dict[int, Any] = {}
        #: the program's socket (bpf_setsockopt / bpf_getsockopt): its family, protocol and
        #: the options set on it, {(level, optname): value bytes}
        self.socket_family = socket_family
        self.socket_protocol = socket_protocol
        self.sockopts: dict[tuple[int, int], bytes] = {}
        #: the sockets bpf_sk_lookup_* find (:mod:`bpfbuild.vm.sockets`), and the address of
        #: each one's struct bpf_sock once a lookup returned it
        self.sockets = parse_sockets(sockets) if sockets is not None else ()
        self.socket_objects: dict[int, int] = {}

    def __repr__(self) -> str:
        return f"<Session maps={sorted(self.maps)} cpu={self.cpu}/{self.nr_cpus} pid={self.pid}>"

    # --- maps ------------------------------------------------------------------------------

    def create_map(self, spec: MapSpecLike) -> Map:
        """Create a map from a definition (``bpfbuild.obj.MapSpec`` or anything alike).

        A map of the same name that already exists is returned instead when its type and
        sizes match (two objects sharing a session share such maps, as pinned maps are
        shared); a mismatch is a VMError.
        """
        existing = self.maps.get(spec.name)
        if existing is not None:
            same = (int(existing.type), existing.key_size, existing.value_size, existing.max_entries) == \
                (int(spec.type), spec.key_size, spec.value_size, spec.max_entries)
            if not same and not (existing.type == MapType.PERF_EVENT_ARRAY and spec.max_entries == 0):
                raise VMError(f"map {spec.name} already exists in this session with another definition")
            return existing
        m = create_map(self.memory, spec, nr_cpus=self.nr_cpus)
        m.on_free = self.free_fields
        self.maps[m.name] = m
        self._by_ptr[m.ptr] = m
        return m

    def free_fields(self, addresses: list[int]) -> None:
        """``bpf_obj_free_fields`` of the map elements at ``addresses`` (each a memory region of
        its own): their timers are cancelled and forgotten (``bpf_timer_cancel_and_free``)."""
        if not self.timers:
            return
        regions = {addr >> 32 for addr in addresses}
        for addr in [a for a in self.timers if a >> 32 in regions]:
            self.timers.pop(addr).pending = False

    def new_map(self, name: str, type: MapType | int, key_size: int, value_size: int, max_entries: int,
                *, flags: int = 0, initial: bytes | None = None, readonly: bool = False) -> Map:
        """Create a map field by field (e.g. an inner map for a map of maps)."""
        return self.create_map(_SimpleSpec(name, type, key_size, value_size, max_entries, flags, initial,
                                           readonly))

    def map(self, name: str) -> Map:
        """The map called ``name``; KeyError (listing the maps) if there is none."""
        try:
            return self.maps[name]
        except KeyError:
            raise KeyError(no_such("map", name, sorted(self.maps))) from None

    def map_at(self, ptr: int) -> Map | None:
        """The map whose pointer is ``ptr`` (what ``ld_imm64 map`` gives a program)."""
        return self._by_ptr.get(ptr)

    @property
    def random(self) -> random.Random:
        """The generator behind bpf_get_prandom_u32 (seeded with ``seed``)."""
        if self._random is None:
            self._random = random.Random(self.seed)
        return self._random

    # --- world -----------------------------------------------------------------------------

    def clock_ns(self) -> int:
        """CLOCK_MONOTONIC now; each reading advances the clock by ``time_step_ns``."""
        now = self.time_ns
        self.time_ns += self.time_step_ns
        return now & _M64

    def jiffies(self) -> int:
        initial = (1 << 32) - 300 * self.hz   # INITIAL_JIFFIES on a 64-bit kernel
        return (initial + self.time_ns * self.hz // 1_000_000_000) & _M64

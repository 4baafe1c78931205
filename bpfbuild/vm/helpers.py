"""Helper functions, as Linux 6.18 implements them (return values, errors, side effects).

Each helper is ``fn(rt, r1, r2, r3, r4, r5) -> int`` where ``rt`` is the machine's
:class:`~bpfbuild.vm.machine.Runtime` and the arguments are raw u64 register values; it
returns the kernel's return value (negative errno as a negative int; the caller masks it to
64 bits).  Pointer arguments are checked by the emulated memory: a bad one is a fault (the
verifier would have refused the program).  Helpers are looked up by name; the name <-> id
table is :mod:`bpfbuild.abi.helpers`.

Where a helper depends on the world (time, the current task, random numbers, the CPU,
kernel memory for ``bpf_probe_read_*``), the value comes from the session
(:class:`~bpfbuild.vm.session.Session`), so runs are reproducible.
"""

from __future__ import annotations

import errno
import functools
import ipaddress
from collections.abc import Callable

from bpfbuild.abi.helpers import helper_id
from bpfbuild.abi.maptypes import MapType
from bpfbuild.errors import NotEmulated
from bpfbuild.vm.cgroup import CGROUP_HELPERS
from bpfbuild.vm.context import SkbState, XdpState
from bpfbuild.vm.dynptr import DYNPTR_HELPERS
from bpfbuild.vm.fib import best_route
from bpfbuild.vm.kobjects import current_task, running_kernel_btf
from bpfbuild.vm.maps import (
    CgroupArray,
    HashMap,
    LocalStorageMap,
    MapInMap,
    NotEmulatedMap,
    PerfEventArray,
    QueueMap,
    RedirectArray,
    RingBuf,
    SockMap,
    StackTraceMap,
)
from bpfbuild.vm.memory import RegionKind, Trap
from bpfbuild.vm.printk import MAX_BPRINTF_VARARGS, bprintf
from bpfbuild.vm.runtime import Runtime
from bpfbuild.vm.sockets import SOCKET_HELPERS
from bpfbuild.vm.timers import TIMER_HELPERS
from bpfbuild.vm.tracing import TRACING_HELPERS

__all__ = ["HelperFn", "Runtime", "emulated_helpers", "helper_table"]


HelperFn = Callable[..., int]

_M32 = (1 << 32) - 1
_M64 = (1 << 64) - 1
#: BPF_MAX_LOOPS: the most iterations bpf_loop accepts
BPF_MAX_LOOPS = 8 * 1024 * 1024
#: TASK_SIZE on x86-64 (4-level paging): addresses below it are user addresses
TASK_SIZE = 0x00007FFFFFFFF000
TASK_COMM_LEN = 16

XDP_ABORTED, XDP_DROP, XDP_PASS, XDP_TX, XDP_REDIRECT = range(5)
TC_ACT_SHOT, TC_ACT_REDIRECT = 2, 7
BPF_F_INGRESS = 1
BPF_F_INDEX_MASK = 0xFFFFFFFF
BPF_F_CURRENT_CPU = BPF_F_INDEX_MASK
BPF_F_CTXLEN_MASK = 0xFFFFF << 32
BPF_RB_NO_WAKEUP, BPF_RB_FORCE_WAKEUP = 1, 2
BPF_F_RECOMPUTE_CSUM, BPF_F_INVALIDATE_HASH = 1, 2
BPF_F_HDR_FIELD_MASK = 0xF
BPF_F_PSEUDO_HDR, BPF_F_MARK_MANGLED_0, BPF_F_MARK_ENFORCE, BPF_F_IPV6 = 1 << 4, 1 << 5, 1 << 6, 1 << 7
CSUM_MANGLED_0 = 0xFFFF
BPF_F_ACTION_MASK = 3
BPF_F_BROADCAST, BPF_F_EXCLUDE_INGRESS = 1 << 3, 1 << 4


def _s32(v: int) -> int:
    v &= _M32
    return v - (1 << 32) if v >> 31 else v


def _s64(v: int) -> int:
    v &= _M64
    return v - (1 << 64) if v >> 63 else v


# --- maps ----------------------------------------------------------------------------------

def map_lookup_elem(rt: Runtime, map_ptr: int, key: int, *_: int) -> int:
    m = rt.map_at(map_ptr)
    if isinstance(m, (QueueMap, RingBuf, CgroupArray, StackTraceMap)):
        return 0   # the verifier refuses these lookups
    return m.prog_lookup(rt.memory.read(key, m.key_size, "read of the key"), rt.session.cpu)


def map_update_elem(rt: Runtime, map_ptr: int, key: int, value: int, flags: int, *_: int) -> int:
    m = rt.map_at(map_ptr)
    if isinstance(m, QueueMap):
        return m.prog_push(rt.memory.read(value, m.value_size, "read of the value"), flags)
    if isinstance(m, MapInMap) or m.type == MapType.PROG_ARRAY:
        return -errno.EINVAL   # only user space fills these (the verifier refuses it)
    k = rt.memory.read(key, m.key_size, "read of the key")
    v = rt.memory.read(value, m.value_size, "read of the value")
    # the replaced element's fields (an array's, overwritten in place) are freed by the map
    # (Map.on_free: the session's timers in them are cancelled and forgotten)
    return m.prog_update(k, v, flags, rt.session.cpu)


def map_delete_elem(rt: Runtime, map_ptr: int, key: int, *_: int) -> int:
    m = rt.map_at(map_ptr)
    return m.prog_delete(rt.memory.read(key, m.key_size, "read of the key"))


def map_lookup_percpu_elem(rt: Runtime, map_ptr: int, key: int, cpu: int, *_: int) -> int:
    m = rt.map_at(map_ptr)
    if (cpu & _M32) >= rt.session.nr_cpus:
        return 0
    return m.prog_lookup(rt.memory.read(key, m.key_size, "read of the key"), cpu & _M32)


def map_push_elem(rt: Runtime, map_ptr: int, value: int, flags: int, *_: int) -> int:
    m = rt.map_at(map_ptr)
    return m.prog_push(rt.memory.read(value, m.value_size, "read of the value"), flags)


def _pop(rt: Runtime, map_ptr: int, value: int, peek: bool) -> int:
    m = rt.map_at(map_ptr)
    rt.memory.view(value, m.value_size, write=True, what="write of the value")
    out = m.prog_pop(peek)
    if isinstance(out, int):   # the kernel zeroes the value when the map is empty
        rt.memory.write(value, bytes(m.value_size))
        return out
    rt.memory.write(value, out)
    return 0


def map_pop_elem(rt: Runtime, map_ptr: int, value: int, *_: int) -> int:
    return _pop(rt, map_ptr, value, False)


def map_peek_elem(rt: Runtime, map_ptr: int, value: int, *_: int) -> int:
    return _pop(rt, map_ptr, value, True)


def kptr_xchg(rt: Runtime, dst: int, ptr: int, *_: int) -> int:
    """xchg() of the 8-byte kptr field at ``dst`` (in a map value or an allocated object): the
    old pointer, ``ptr`` stored (the emulator keeps no reference counts)."""
    view = rt.memory.view(dst, 8, write=True, what="exchange of the kptr")
    old = int.from_bytes(view, "little")
    view[:] = (ptr & _M64).to_bytes(8, "little")
    return old


def spin_lock(rt: Runtime, lock: int, *_: int) -> int:
    view = rt.memory.view(lock, 4, write=True, what="access of the spin lock")
    view[:] = (1).to_bytes(4, "little")
    return 0


def spin_unlock(rt: Runtime, lock: int, *_: int) -> int:
    view = rt.memory.view(lock, 4, write=True, what="access of the spin lock")
    view[:] = bytes(4)
    return 0


# --- printing ------------------------------------------------------------------------------

def _fmt_bytes(rt: Runtime, fmt: int, size: int) -> bytes | None:
    """The format up to its NUL within ``size`` bytes; None when there is no NUL."""
    raw = rt.memory.read(fmt, size, "read of the format string")
    end = raw.find(b"\0")
    return raw[:end] if end >= 0 else None


def _printf(rt: Runtime, fmt: bytes, args: list[int]) -> tuple[bytes, int, int]:
    s = rt.session
    res = bprintf(fmt, args, read_string=rt.read_string, read_bytes=rt.read_kernel_bytes,
                  hash_key=s.pointer_hash_key, kptr_restrict=s.kptr_restrict)
    return res.text, res.length, res.error


def trace_printk(rt: Runtime, fmt: int, fmt_size: int, a1: int, a2: int, a3: int) -> int:
    text = _fmt_bytes(rt, fmt, fmt_size & _M32)
    if text is None:
        return -errno.EINVAL
    out, length, err = _printf(rt, text, [a1, a2, a3])
    if err:
        return err
    rt.printk(out)
    return length


def trace_vprintk(rt: Runtime, fmt: int, fmt_size: int, data: int, data_len: int, *_: int) -> int:
    data_len &= _M32
    if data_len % 8 or data_len > MAX_BPRINTF_VARARGS * 8 or (data_len and not data):
        return -errno.EINVAL
    text = _fmt_bytes(rt, fmt, fmt_size & _M32)
    if text is None:
        return -errno.EINVAL
    raw = rt.memory.read(data, data_len, "read of the arguments")
    args = [int.from_bytes(raw[i:i + 8], "little") for i in range(0, data_len, 8)]
    out, length, err = _printf(rt, text, args)
    if err:
        return err
    rt.printk(out)
    return length


def seq_printf(rt: Runtime, seq: int, fmt: int, fmt_size: int, data: int, data_len: int) -> int:
    """bpf_seq_printf (iterators): the text goes to the session's ``seq_output`` (what a
    reader of the iterator's file gets); 0, or the format's -EINVAL."""
    data_len &= _M32
    if data_len % 8 or data_len > MAX_BPRINTF_VARARGS * 8 or (data_len and not data):
        return -errno.EINVAL
    text = _fmt_bytes(rt, fmt, fmt_size & _M32)
    if text is None:
        return -errno.EINVAL
    raw = rt.memory.read(data, data_len, "read of the arguments") if data_len else b""
    args = [int.from_bytes(raw[i:i + 8], "little") for i in range(0, data_len, 8)]
    out, _, err = _printf(rt, text, args)
    if err:
        return err
    rt.session.seq_output += out.split(b"\0", 1)[0]
    return 0


def seq_write(rt: Runtime, seq: int, data: int, length: int, *_: int) -> int:
    """bpf_seq_write: the bytes go to the session's ``seq_output``; 0."""
    rt.session.seq_output += rt.memory.read(data, length & _M32, "read of the data")
    return 0


def snprintf(rt: Runtime, out: int, out_size: int, fmt: int, data: int, data_len: int) -> int:
    data_len &= _M32
    out_size &= _M32
    if data_len % 8 or data_len > MAX_BPRINTF_VARARGS * 8 or (data_len and not data):
        return -errno.EINVAL
    text = rt.memory.read_cstr(fmt, rt.memory.readable_span(fmt))
    if text is None:
        raise Trap("bpf_snprintf: the format string is not NUL-terminated")
    raw = rt.memory.read(data, data_len, "read of the arguments") if data_len else b""
    args = [int.from_bytes(raw[i:i + 8], "little") for i in range(0, data_len, 8)]
    s = rt.session
    res = bprintf(text, args, read_string=rt.read_string, read_bytes=rt.read_kernel_bytes,
                  hash_key=s.pointer_hash_key, kptr_restrict=s.kptr_restrict, bufsize=max(out_size, 1))
    if res.error:
        return res.error
    if out_size:
        rt.memory.write(out, res.text[: out_size - 1] + b"\0", "write of the output")
    return res.length + 1


# --- time, task, cpu -------------------------------------------------------------------------

def ktime_get_ns(rt: Runtime, *_: int) -> int:
    return rt.session.clock_ns()


def ktime_get_boot_ns(rt: Runtime, *_: int) -> int:
    return rt.session.clock_ns() + rt.session.boot_offset_ns


def ktime_get_coarse_ns(rt: Runtime, *_: int) -> int:
    return rt.session.clock_ns()


def ktime_get_tai_ns(rt: Runtime, *_: int) -> int:
    return rt.session.clock_ns() + rt.session.tai_offset_ns


def jiffies64(rt: Runtime, *_: int) -> int:
    return rt.session.jiffies()


def get_prandom_u32(rt: Runtime, *_: int) -> int:
    return rt.session.random.getrandbits(32)


def get_smp_processor_id(rt: Runtime, *_: int) -> int:
    return rt.session.cpu


def get_numa_node_id(rt: Runtime, *_: int) -> int:
    return rt.session.numa_node


def get_current_pid_tgid(rt: Runtime, *_: int) -> int:
    s = rt.session
    return ((s.tgid & _M32) << 32) | (s.pid & _M32)


def get_current_uid_gid(rt: Runtime, *_: int) -> int:
    s = rt.session
    return ((s.gid & _M32) << 32) | (s.uid & _M32)


def get_current_comm(rt: Runtime, buf: int, size: int, *_: int) -> int:
    size &= _M32
    comm = rt.session.comm.encode()[: TASK_COMM_LEN - 1]
    if size == 0:
        return -errno.EINVAL
    data = comm[: size - 1]
    rt.memory.write(buf, data + bytes(size - len(data)), "write of the comm")
    return 0


def get_current_cgroup_id(rt: Runtime, *_: int) -> int:
    return rt.session.cgroup_id


def get_current_ancestor_cgroup_id(rt: Runtime, level: int, *_: int) -> int:
    """cgroup_ancestor(): the id of the current cgroup's ancestor at ``level`` (0: the root;
    the cgroup's own level gives its own id); 0 below it or for a negative level."""
    level = _s32(level)
    path = rt.session.cgroup_path
    return path[level] if 0 <= level < len(path) else 0


def get_current_task(rt: Runtime, *_: int) -> int:
    """The current task_struct: with ``task`` fields in the session, an object laid out by
    the target BTF (:mod:`bpfbuild.vm.kobjects`); else the session's ``current_task``
    address, whose bytes come from ``kernel_memory`` (bpf_probe_read_kernel, CO-RE reads)."""
    s = rt.session
    if s.task_fields is None:
        return s.current_task
    if s.task_object is None:
        # the task's own ids and name agree with what bpf_get_current_pid_tgid/comm answer
        fields = {"pid": s.pid, "tgid": s.tgid, "comm": s.comm[:TASK_COMM_LEN - 1], **s.task_fields}
        s.task_object = current_task(rt.memory, s.kernel_btf, fields)
    return int(s.task_object)


def get_current_task_btf(rt: Runtime, *_: int) -> int:
    """As bpf_get_current_task, except that a program loads from the result directly (a
    PTR_TO_BTF_ID, never NULL): with neither ``task`` fields nor kernel memory at
    ``current_task``, the task is a zeroed one of the target BTF's layout."""
    s = rt.session
    if s.task_fields is None and s.kernel_memory.read(s.current_task, 1) is None:
        s.task_fields = {}
        if s.kernel_btf is None:
            s.kernel_btf = running_kernel_btf
    return get_current_task(rt)


# --- probe_read ----------------------------------------------------------------------------

def _probe(rt: Runtime, dst: int, size: int, src: int, user: bool | None) -> int:
    size &= _M32
    if user is None:
        user = src < TASK_SIZE and rt.memory.region_of(src) is None
    data = rt.read_user_bytes(src, size) if user else rt.read_kernel_bytes(src, size)
    if data is None:
        rt.memory.write(dst, bytes(size), "write of the destination")
        return -errno.EFAULT
    rt.memory.write(dst, data, "write of the destination")
    return 0


def _probe_str(rt: Runtime, dst: int, size: int, src: int, user: bool | None) -> int:
    size &= _M32
    if size == 0:
        return 0
    if user is None:
        user = src < TASK_SIZE and rt.memory.region_of(src) is None
    text = rt.read_user_string(src, size) if user else rt.read_kernel_string(src, size)
    if text is None:
        rt.memory.write(dst, bytes(size), "write of the destination")
        return -errno.EFAULT
    text = text[: size - 1]
    rt.memory.write(dst, text + b"\0", "write of the destination")
    return len(text) + 1


def copy_from_user(rt: Runtime, dst: int, size: int, user_ptr: int, *_: int) -> int:
    """Sleepable programs' copy_from_user: 0, or -EFAULT with ``dst`` zeroed when any byte of
    the user range is not there (the session's ``user_memory``)."""
    size &= _M32
    data = rt.read_user_bytes(user_ptr, size) if size else b""
    if data is None:
        rt.memory.write(dst, bytes(size), "write of the destination")
        return -errno.EFAULT
    rt.memory.write(dst, data, "write of the destination")
    return 0


def copy_from_user_task(rt: Runtime, dst: int, size: int, user_ptr: int, task: int, flags: int) -> int:
    """access_process_vm() on ``task`` (every task sees the session's ``user_memory``): -EINVAL
    for flags, 0 for size 0, else as copy_from_user."""
    if flags:
        return -errno.EINVAL
    if not size & _M32:
        return 0
    return copy_from_user(rt, dst, size, user_ptr)


def probe_read(rt: Runtime, dst: int, size: int, src: int, *_: int) -> int:
    return _probe(rt, dst, size, src, None)


def probe_read_kernel(rt: Runtime, dst: int, size: int, src: int, *_: int) -> int:
    return _probe(rt, dst, size, src, False)


def probe_read_user(rt: Runtime, dst: int, size: int, src: int, *_: int) -> int:
    return _probe(rt, dst, size, src, True)


def probe_read_str(rt: Runtime, dst: int, size: int, src: int, *_: int) -> int:
    return _probe_str(rt, dst, size, src, None)


def probe_read_kernel_str(rt: Runtime, dst: int, size: int, src: int, *_: int) -> int:
    return _probe_str(rt, dst, size, src, False)


def probe_read_user_str(rt: Runtime, dst: int, size: int, src: int, *_: int) -> int:
    return _probe_str(rt, dst, size, src, True)


# --- ring buffer and perf events --------------------------------------------------------------

def _ringbuf(rt: Runtime, ptr: int) -> RingBuf:
    m = rt.map_at(ptr)
    if not isinstance(m, RingBuf):
        raise Trap(f"map {m.name} is not a ring buffer")
    return m


def ringbuf_output(rt: Runtime, ptr: int, data: int, size: int, flags: int, *_: int) -> int:
    rb = _ringbuf(rt, ptr)
    if flags & ~(BPF_RB_NO_WAKEUP | BPF_RB_FORCE_WAKEUP):
        return -errno.EINVAL
    return rb.output(rt.memory.read(data, size & _M32, "read of the record"))


def ringbuf_reserve(rt: Runtime, ptr: int, size: int, flags: int, *_: int) -> int:
    rb = _ringbuf(rt, ptr)
    if flags:
        return 0
    addr = rb.reserve(size)
    if addr:
        rt.ring_records[addr] = rb
    return addr


def _commit(rt: Runtime, data: int, flags: int, discard: bool) -> int:
    rb = rt.ring_records.pop(data, None)
    if rb is None or not rb.commit(data, discard):
        raise Trap(f"{data:#x} is not a reserved ring buffer record (already submitted or discarded?)")
    return 0


def ringbuf_submit(rt: Runtime, data: int, flags: int, *_: int) -> int:
    return _commit(rt, data, flags, False)


def ringbuf_discard(rt: Runtime, data: int, flags: int, *_: int) -> int:
    return _commit(rt, data, flags, True)


def ringbuf_query(rt: Runtime, ptr: int, flags: int, *_: int) -> int:
    rb = _ringbuf(rt, ptr)
    match flags:
        case 0:
            return rb.avail_data
        case 1:
            return rb.size
        case 2:
            return rb.consumer_pos
        case 3:
            return rb.producer_pos
    return 0


def perf_event_output(rt: Runtime, ctx: int, map_ptr: int, flags: int, data: int, size: int) -> int:
    m = rt.map_at(map_ptr)
    if not isinstance(m, PerfEventArray):
        raise Trap(f"map {m.name} is not a perf event array")
    state = rt.state
    packet_ok = isinstance(state, (SkbState, XdpState))
    allowed = BPF_F_INDEX_MASK | (BPF_F_CTXLEN_MASK if packet_ok else 0)
    if flags & ~allowed:
        return -errno.EINVAL
    index = flags & BPF_F_INDEX_MASK
    if index == BPF_F_CURRENT_CPU:
        index = rt.session.cpu
    payload = rt.memory.read(data, size & _M32, "read of the event")
    ctx_len = (flags & BPF_F_CTXLEN_MASK) >> 32
    if ctx_len:
        assert isinstance(state, (SkbState, XdpState))
        packet = state.packet_out()
        if ctx_len > len(packet):
            return -errno.EFAULT
        payload += packet[:ctx_len]
    return m.output(index, payload)


# --- control flow ----------------------------------------------------------------------------

def loop(rt: Runtime, nr_loops: int, callback: int, callback_ctx: int, flags: int, *_: int) -> int:
    if flags:
        return -errno.EINVAL
    nr_loops &= _M32
    if nr_loops > BPF_MAX_LOOPS:
        return -errno.E2BIG
    fn = rt.code_at(callback)
    for i in range(nr_loops):
        if fn(i, callback_ctx, 0, 0, 0) & _M64:
            return i + 1
    return nr_loops


def for_each_map_elem(rt: Runtime, map_ptr: int, callback: int, callback_ctx: int, flags: int, *_: int) -> int:
    """bpf_for_each_map_elem (arraymap.c, hashtab.c): ``callback(map, &key, &value, ctx)`` per
    element (per-CPU maps: the current CPU's value) until it returns non-zero; the number of
    elements visited, or -EINVAL for flags.  The key is a read-only copy."""
    m = rt.map_at(map_ptr)
    if flags:
        return -errno.EINVAL
    if isinstance(m, NotEmulatedMap):
        raise NotEmulated(f"{m.type_name} map {m.name}")
    elements = getattr(m, "prog_elements", None)
    if elements is None:
        raise NotEmulated(f"bpf_for_each_map_elem over a {m.type.name.lower()} map ({m.name})")
    fn = rt.code_at(callback)
    visited = 0
    for key, value in elements(rt.session.cpu):
        visited += 1
        key_addr = rt.memory.map(bytearray(key), RegionKind.SCRATCH, f"{m.name} key", writable=False)
        try:
            stop = fn(map_ptr, key_addr, value, callback_ctx, 0) & _M64
        finally:
            rt.memory.unmap(key_addr)
        if stop:
            break
    return visited


def tail_call(rt: Runtime, *_: int) -> int:
    raise Trap("bpf_tail_call can only be called directly (call 12), not through callx")


# --- packets ---------------------------------------------------------------------------------

def _xdp(rt: Runtime, name: str) -> XdpState:
    if not isinstance(rt.state, XdpState):
        raise Trap(f"bpf_{name} needs an XDP context")
    return rt.state


def _skb(rt: Runtime, name: str) -> SkbState:
    if not isinstance(rt.state, SkbState):
        raise Trap(f"bpf_{name} needs a socket buffer context")
    return rt.state


def xdp_adjust_head(rt: Runtime, ctx: int, delta: int, *_: int) -> int:
    return _xdp(rt, "xdp_adjust_head").adjust_head(_s32(delta))


def xdp_adjust_tail(rt: Runtime, ctx: int, delta: int, *_: int) -> int:
    return _xdp(rt, "xdp_adjust_tail").adjust_tail(_s32(delta))


def xdp_adjust_meta(rt: Runtime, ctx: int, delta: int, *_: int) -> int:
    return _xdp(rt, "xdp_adjust_meta").adjust_meta(_s32(delta))


def redirect(rt: Runtime, ifindex: int, flags: int, *_: int) -> int:
    if isinstance(rt.state, XdpState):
        if flags:
            return XDP_ABORTED
        rt.redirect = ("ifindex", ifindex & _M32, 0)
        return XDP_REDIRECT
    if isinstance(rt.state, SkbState):
        if flags & ~BPF_F_INGRESS:
            return TC_ACT_SHOT
        rt.redirect = ("ifindex", ifindex & _M32, flags)
        return TC_ACT_REDIRECT
    raise Trap("bpf_redirect needs an XDP or socket buffer context")


def redirect_map(rt: Runtime, map_ptr: int, key: int, flags: int, *_: int) -> int:
    """__bpf_xdp_redirect_map (net/core/filter.c): flags other than the two action bits and
    the map type's own (DEVMAP/DEVMAP_HASH: BPF_F_BROADCAST, BPF_F_EXCLUDE_INGRESS; CPUMAP,
    XSKMAP: none) abort; an empty slot returns the action bits (XDP_ABORTED/DROP/PASS/TX)
    unless broadcasting; else XDP_REDIRECT."""
    m = rt.map_at(map_ptr)
    _xdp(rt, "redirect_map")
    if isinstance(m, NotEmulatedMap):
        raise NotEmulated(f"bpf_redirect_map into {m.type_name} map {m.name}")
    own = BPF_F_BROADCAST | BPF_F_EXCLUDE_INGRESS if m.type in (MapType.DEVMAP, MapType.DEVMAP_HASH) else 0
    if flags & ~(BPF_F_ACTION_MASK | own):
        return XDP_ABORTED
    index = key & _M32
    if isinstance(m, RedirectArray):
        present = index < m.max_entries and m.filled(index)
    elif isinstance(m, HashMap):
        present = m.lookup(index.to_bytes(4, "little")) is not None if m.key_size == 4 else False
    else:
        raise NotEmulated(f"bpf_redirect_map into a {m.type.name.lower()} map ({m.name})")
    if not present and not flags & BPF_F_BROADCAST:
        return flags & BPF_F_ACTION_MASK
    rt.redirect = ("map", m.name, index)
    return XDP_REDIRECT


def skb_load_bytes(rt: Runtime, ctx: int, offset: int, to: int, size: int, *_: int) -> int:
    skb = _skb(rt, "skb_load_bytes")
    size &= _M32
    offset &= _M32
    data = skb.data_view()
    if offset > 0xFFFF or offset + size > len(data):
        rt.memory.write(to, bytes(size), "write of the destination")
        return -errno.EFAULT
    rt.memory.write(to, bytes(data[offset:offset + size]), "write of the destination")
    return 0


def skb_store_bytes(rt: Runtime, ctx: int, offset: int, frm: int, size: int, flags: int) -> int:
    skb = _skb(rt, "skb_store_bytes")
    size &= _M32
    offset &= _M32
    if flags & ~(BPF_F_RECOMPUTE_CSUM | BPF_F_INVALIDATE_HASH):
        return -errno.EINVAL
    if offset > 0x7FFFFFFF or offset + size > skb.length:
        return -errno.EFAULT
    data = rt.memory.read(frm, size, "read of the source")
    skb.data_view()[offset:offset + size] = data
    if flags & BPF_F_INVALIDATE_HASH:
        skb._put("hash", 0)
    skb.packet_changed()
    return 0


def skb_pull_data(rt: Runtime, ctx: int, length: int, *_: int) -> int:
    skb = _skb(rt, "skb_pull_data")
    if (length & _M32) > skb.length:
        return -errno.ENOMEM
    skb.packet_changed()
    return 0


def skb_change_head(rt: Runtime, ctx: int, head_room: int, flags: int, *_: int) -> int:
    skb = _skb(rt, "skb_change_head")
    if flags or not skb.l2:
        return -errno.EINVAL
    return skb.change_head(head_room & _M32)


# one's-complement checksum arithmetic on raw (memory-order) values, as include/net/checksum.h

def _csum_add(a: int, b: int) -> int:
    s = (a & _M32) + (b & _M32)
    return (s & _M32) + (s >> 32)


def _csum_sub(a: int, b: int) -> int:
    return _csum_add(a, ~b & _M32)


def _csum_fold(s: int) -> int:
    s = (s & 0xFFFF) + (s >> 16)
    s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def _csum16_add(c: int, addend: int) -> int:
    r = (c + addend) & 0xFFFF
    return (r + (1 if r < (addend & 0xFFFF) else 0)) & 0xFFFF


def _csum_replace4(old_sum: int, frm: int, to: int) -> int:
    tmp = _csum_sub(~old_sum & _M32, frm & _M32)   # csum_unfold(): the 16-bit sum as a u32
    return _csum_fold(_csum_add(tmp, to & _M32))


def _csum_replace2(old_sum: int, frm: int, to: int) -> int:
    s = _csum16_add(_csum16_add(~old_sum & 0xFFFF, ~frm & 0xFFFF), to & 0xFFFF)
    return ~s & 0xFFFF


def _csum_replace_by_diff(old_sum: int, diff: int) -> int:
    return _csum_fold(_csum_add(diff & _M32, ~old_sum & _M32))


def _csum_field(rt: Runtime, skb: SkbState, offset: int) -> tuple[memoryview, int] | int:
    offset &= _M32
    if offset > 0xFFFF or offset & 1:
        return -errno.EFAULT
    if offset + 2 > skb.length:
        return -errno.EFAULT
    view = skb.data_view()[offset:offset + 2]
    return view, int.from_bytes(view, "little")


def l3_csum_replace(rt: Runtime, ctx: int, offset: int, frm: int, to: int, flags: int) -> int:
    skb = _skb(rt, "l3_csum_replace")
    if flags & ~BPF_F_HDR_FIELD_MASK:
        return -errno.EINVAL
    field = _csum_field(rt, skb, offset)
    if isinstance(field, int):
        return field
    view, old = field
    match flags & BPF_F_HDR_FIELD_MASK:
        case 0:
            if frm:
                return -errno.EINVAL
            new = _csum_replace_by_diff(old, to)
        case 2:
            new = _csum_replace2(old, frm, to)
        case 4:
            new = _csum_replace4(old, frm, to)
        case _:
            return -errno.EINVAL
    view[:] = new.to_bytes(2, "little")
    return 0


def l4_csum_replace(rt: Runtime, ctx: int, offset: int, frm: int, to: int, flags: int) -> int:
    skb = _skb(rt, "l4_csum_replace")
    allowed = BPF_F_MARK_MANGLED_0 | BPF_F_MARK_ENFORCE | BPF_F_PSEUDO_HDR | BPF_F_HDR_FIELD_MASK | BPF_F_IPV6
    if flags & ~allowed:
        return -errno.EINVAL
    field = _csum_field(rt, skb, offset)
    if isinstance(field, int):
        return field
    view, old = field
    mangled0 = bool(flags & BPF_F_MARK_MANGLED_0)
    if mangled0 and not flags & BPF_F_MARK_ENFORCE and not old:
        return 0
    # test_run skbs are CHECKSUM_NONE: inet_proto_csum_replace* update the field only
    match flags & BPF_F_HDR_FIELD_MASK:
        case 0:
            if frm:
                return -errno.EINVAL
            new = _csum_replace_by_diff(old, to)
        case 2:
            new = _csum_replace4(old, frm & 0xFFFF, to & 0xFFFF)
        case 4:
            new = _csum_replace4(old, frm, to)
        case _:
            return -errno.EINVAL
    if mangled0 and not new:
        new = CSUM_MANGLED_0
    view[:] = new.to_bytes(2, "little")
    return 0


def _csum_partial(data: bytes, seed: int) -> int:
    total = seed & _M32
    for i in range(0, len(data) - 3, 4):
        total += int.from_bytes(data[i:i + 4], "little")
    rest = len(data) % 4
    if rest:
        total += int.from_bytes(data[len(data) - rest:], "little")
    while total >> 32:
        total = (total & _M32) + (total >> 32)
    return total


def _csum_from32to16(s: int) -> int:
    s &= _M32
    s = (s + (((s >> 16) | (s << 16)) & _M32)) & _M32
    return s >> 16


def csum_diff(rt: Runtime, frm: int, from_size: int, to: int, to_size: int, seed: int) -> int:
    """Linux 6.18 returns the difference folded to 16 bits (not complemented)."""
    from_size &= _M32
    to_size &= _M32
    seed &= _M32
    if (from_size | to_size) & 3 or from_size + to_size > 512:
        return -errno.EINVAL
    old = rt.memory.read(frm, from_size, "read of 'from'") if from_size else b""
    new = rt.memory.read(to, to_size, "read of 'to'") if to_size else b""
    if from_size and to_size:
        ret = _csum_sub(_csum_partial(new, seed), _csum_partial(old, 0))
    elif to_size:
        ret = _csum_partial(new, seed)
    elif from_size:
        ret = ~_csum_partial(old, ~seed & _M32) & _M32
    else:
        ret = seed
    return _csum_from32to16(ret)


# --- stacks ----------------------------------------------------------------------------------

BPF_F_SKIP_FIELD_MASK = 0xFF
BPF_F_USER_STACK = 1 << 8
BPF_F_FAST_STACK_CMP = 1 << 9
BPF_F_REUSE_STACKID = 1 << 10
BPF_F_USER_BUILD_ID = 1 << 11
#: kernel.perf_event_max_stack's default
PERF_MAX_STACK_DEPTH = 127


def _stack(rt: Runtime, flags: int) -> tuple[int, ...]:
    s = rt.session
    return s.user_stack if flags & BPF_F_USER_STACK else s.kernel_stack


def get_stackid(rt: Runtime, ctx: int, map_ptr: int, flags: int, *_: int) -> int:
    """bpf_get_stackid (kernel/bpf/stackmap.c): the stack from the session (``kernel_stack``
    / ``user_stack``), ``skip`` frames dropped, at most value_size / 8 kept."""
    m = rt.map_at(map_ptr)
    if isinstance(m, NotEmulatedMap):
        raise NotEmulated(f"{m.type_name} map {m.name}")
    if not isinstance(m, StackTraceMap):
        raise Trap(f"bpf_get_stackid: map {m.name} is not a stack trace map")
    if flags & ~(BPF_F_SKIP_FIELD_MASK | BPF_F_USER_STACK | BPF_F_FAST_STACK_CMP | BPF_F_REUSE_STACKID):
        return -errno.EINVAL
    if m.flags & (1 << 5):   # BPF_F_STACK_BUILD_ID
        raise NotEmulated(f"build-id stack traces (map {m.name})")
    skip = flags & BPF_F_SKIP_FIELD_MASK
    depth = min(m.max_depth + skip, PERF_MAX_STACK_DEPTH)
    trace = _stack(rt, flags)[:depth]
    if len(trace) <= skip:
        return -errno.EFAULT
    return m.store(trace[skip:], fast_cmp=bool(flags & BPF_F_FAST_STACK_CMP),
                   reuse=bool(flags & BPF_F_REUSE_STACKID))


def get_stack(rt: Runtime, ctx: int, buf: int, size: int, flags: int, *_: int) -> int:
    """bpf_get_stack: copy the stack's addresses into ``buf``, zero the rest; the number of
    bytes copied (0 for an empty stack), or -EINVAL / -EFAULT with ``buf`` zeroed."""
    size &= _M32
    rt.memory.view(buf, size, write=True, what="write of the stack buffer")
    err = 0
    if flags & ~(BPF_F_SKIP_FIELD_MASK | BPF_F_USER_STACK | BPF_F_USER_BUILD_ID):
        err = -errno.EINVAL
    elif flags & BPF_F_USER_BUILD_ID:
        if not flags & BPF_F_USER_STACK:
            err = -errno.EINVAL
        else:
            raise NotEmulated("bpf_get_stack with BPF_F_USER_BUILD_ID")
    elif size % 8:
        err = -errno.EINVAL
    if err:
        rt.memory.write(buf, bytes(size))
        return err
    skip = flags & BPF_F_SKIP_FIELD_MASK
    num = size // 8
    trace = _stack(rt, flags)[:min(num + skip, PERF_MAX_STACK_DEPTH)]
    if len(trace) < skip:
        rt.memory.write(buf, bytes(size))
        return -errno.EFAULT
    ips = trace[skip:skip + num]
    data = b"".join(ip.to_bytes(8, "little") for ip in ips)
    rt.memory.write(buf, data + bytes(size - len(data)))
    return len(data)


# --- ids, cookies, namespaces, cgroups -----------------------------------------------------------

def get_ns_current_pid_tgid(rt: Runtime, dev: int, ino: int, nsdata: int, size: int, *_: int) -> int:
    """bpf_get_ns_current_pid_tgid (kernel/bpf/helpers.c): ``struct bpf_pidns_info`` {pid,
    tgid} in the namespace ``dev``/``ino`` when it is the current one, else -EINVAL and
    zeroes."""
    size &= _M32
    s = rt.session
    rt.memory.view(nsdata, size, write=True, what="write of the pid namespace info")
    if size != 8 or (dev & _M64) != (dev & _M32) or (dev & _M32) != s.pidns_dev or             (ino & _M64) != s.pidns_ino:
        rt.memory.write(nsdata, bytes(size))
        return -errno.EINVAL
    rt.memory.write(nsdata, (s.ns_pid & _M32).to_bytes(4, "little") + (s.ns_tgid & _M32).to_bytes(4, "little"))
    return 0


def get_func_ip(rt: Runtime, *_: int) -> int:
    """The traced function's address (the session's ``func_ip``): fentry/fexit, kprobes."""
    return rt.session.func_ip


def get_socket_cookie(rt: Runtime, ctx: int, *_: int) -> int:
    """The socket's cookie: for a packet, test_run's socket (the session's
    ``socket_cookie``); for a socket pointer (tracing), 0 when it is NULL."""
    if isinstance(rt.state, XdpState):
        raise Trap("bpf_get_socket_cookie needs a socket buffer or a socket, not an XDP context")
    return rt.session.socket_cookie if ctx else 0


def _cgroup(rt: Runtime, map_ptr: int, index: int, name: str) -> int:
    m = rt.map_at(map_ptr)
    if isinstance(m, NotEmulatedMap):
        raise NotEmulated(f"{m.type_name} map {m.name}")
    if not isinstance(m, CgroupArray):
        raise Trap(f"bpf_{name}: map {m.name} is not a cgroup array")
    index &= _M32
    if index >= m.max_entries:
        return -errno.E2BIG
    cgid = m.cgroup(index)
    if cgid is None:
        return -errno.EAGAIN
    return int(cgid in rt.session.cgroup_ancestors)


def skb_under_cgroup(rt: Runtime, ctx: int, map_ptr: int, index: int, *_: int) -> int:
    """1 when the packet's socket (test_run's: in the session's cgroup) is in the cgroup at
    ``index`` or below it; -E2BIG / -EAGAIN for a bad index / an empty slot."""
    _skb(rt, "skb_under_cgroup")
    return _cgroup(rt, map_ptr, index, "skb_under_cgroup")


def current_task_under_cgroup(rt: Runtime, map_ptr: int, index: int, *_: int) -> int:
    return _cgroup(rt, map_ptr, index, "current_task_under_cgroup")


def get_attach_cookie(rt: Runtime, ctx: int, *_: int) -> int:
    """The cookie user space attached the program with (the session's ``attach_cookie``;
    USDT programs keep their spec id there)."""
    return rt.session.attach_cookie


def skb_cgroup_id(rt: Runtime, ctx: int, *_: int) -> int:
    """The cgroup of the packet's socket: test_run's socket is the caller's, the session's
    ``cgroup_id``."""
    _skb(rt, "skb_cgroup_id")
    return rt.session.cgroup_id


def get_task_stack(rt: Runtime, task: int, buf: int, size: int, flags: int, *_: int) -> int:
    """bpf_get_task_stack: the session's stacks are the current task's; another task's are
    empty (nothing copied)."""
    s = rt.session
    current = s.task_object if s.task_object is not None else s.current_task
    if task == current:
        return get_stack(rt, 0, buf, size, flags)
    size &= _M32
    rt.memory.write(buf, bytes(size), "write of the stack buffer")
    if flags & ~(BPF_F_SKIP_FIELD_MASK | BPF_F_USER_STACK | BPF_F_USER_BUILD_ID) or size % 8:
        return -errno.EINVAL
    return 0


# --- xdp bytes --------------------------------------------------------------------------------

def xdp_get_buff_len(rt: Runtime, ctx: int, *_: int) -> int:
    return _xdp(rt, "xdp_get_buff_len").length


def _xdp_span(rt: Runtime, name: str, offset: int, length: int) -> tuple[XdpState, int] | int:
    """bpf_xdp_pointer's checks: -EFAULT past 64 KiB, -EINVAL past the packet."""
    xdp = _xdp(rt, name)
    offset &= _M32
    length &= _M32
    if offset > 0xFFFF or length > 0xFFFF:
        return -errno.EFAULT
    if offset + length > xdp.length:
        return -errno.EINVAL
    return xdp, xdp.data - xdp.meta + offset   # where the packet's mapped region holds it


def xdp_load_bytes(rt: Runtime, ctx: int, offset: int, buf: int, length: int, *_: int) -> int:
    span = _xdp_span(rt, "xdp_load_bytes", offset, length)
    if isinstance(span, int):
        return span
    xdp, start = span
    length &= _M32
    assert xdp.region is not None
    rt.memory.write(buf, bytes(xdp.region[start:start + length]), "write of the buffer")
    return 0


def xdp_store_bytes(rt: Runtime, ctx: int, offset: int, buf: int, length: int, *_: int) -> int:
    """Writes in place: packet pointers stay valid (it is not a packet-changing helper)."""
    span = _xdp_span(rt, "xdp_store_bytes", offset, length)
    if isinstance(span, int):
        return span
    xdp, start = span
    length &= _M32
    data = rt.memory.read(buf, length, "read of the buffer")
    assert xdp.region is not None
    xdp.region[start:start + length] = data
    return 0


def strncmp(rt: Runtime, s1: int, s1_sz: int, s2: int, *_: int) -> int:
    """The kernel's strncmp over at most ``s1_sz`` bytes: -1, 0 or 1 (``s2`` is a constant,
    NUL-terminated string)."""
    size = s1_sz & _M32
    a = rt.memory.read(s1, size, "read of s1")
    span = rt.memory.readable_span(s2)
    b = rt.memory.read(s2, min(size, span), "read of s2") if span else b""
    for i in range(size):
        c1 = a[i]
        c2 = b[i] if i < len(b) else 0
        if c1 != c2:
            return -1 if c1 < c2 else 1
        if not c1:
            break
    return 0


# --- fib lookup ---------------------------------------------------------------------------------

AF_INET, AF_INET6 = 2, 10
BPF_FIB_LOOKUP_DIRECT, BPF_FIB_LOOKUP_OUTPUT, BPF_FIB_LOOKUP_SKIP_NEIGH = 1, 2, 4
BPF_FIB_LOOKUP_TBID, BPF_FIB_LOOKUP_SRC, BPF_FIB_LOOKUP_MARK = 8, 16, 32
(BPF_FIB_LKUP_RET_SUCCESS, BPF_FIB_LKUP_RET_BLACKHOLE, BPF_FIB_LKUP_RET_UNREACHABLE, BPF_FIB_LKUP_RET_PROHIBIT,
 BPF_FIB_LKUP_RET_NOT_FWDED, BPF_FIB_LKUP_RET_FWD_DISABLED, BPF_FIB_LKUP_RET_UNSUPP_LWT, BPF_FIB_LKUP_RET_NO_NEIGH,
 BPF_FIB_LKUP_RET_FRAG_NEEDED, BPF_FIB_LKUP_RET_NO_SRC_ADDR) = range(10)
#: sizeof(struct bpf_fib_lookup)
FIB_PARAMS_SIZE = 64
_FIB_FLAGS = (BPF_FIB_LOOKUP_DIRECT | BPF_FIB_LOOKUP_OUTPUT | BPF_FIB_LOOKUP_SKIP_NEIGH | BPF_FIB_LOOKUP_TBID
              | BPF_FIB_LOOKUP_SRC | BPF_FIB_LOOKUP_MARK)
_FIB_RET = {"blackhole": BPF_FIB_LKUP_RET_BLACKHOLE, "unreachable": BPF_FIB_LKUP_RET_UNREACHABLE,
            "prohibit": BPF_FIB_LKUP_RET_PROHIBIT, "local": BPF_FIB_LKUP_RET_NOT_FWDED}


def fib_lookup(rt: Runtime, ctx: int, params: int, plen: int, flags: int, *_: int) -> int:
    """bpf_fib_lookup against the session's route table (``routes`` in the spec); the
    outputs as net/core/filter.c writes them: ``ifindex``, ``rt_metric``, ``ipv*_dst``
    (the gateway when there is one), ``smac``/``dmac``, ``mtu_result``, VLAN zeroed."""
    s = rt.session
    plen &= _M32
    if plen < FIB_PARAMS_SIZE or flags & ~_FIB_FLAGS:
        return -errno.EINVAL
    p = bytearray(rt.memory.read(params, FIB_PARAMS_SIZE, "read of the lookup parameters"))
    family = p[0]
    if family == AF_INET:
        dst: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.IPv4Address(bytes(p[32:36]))
    elif family == AF_INET6:
        dst = ipaddress.IPv6Address(bytes(p[32:48]))
    else:
        return -errno.EAFNOSUPPORT
    if s.routes is None:
        raise NotEmulated("bpf_fib_lookup without a route table (give routes = [...] in the spec's world)")
    if flags & BPF_FIB_LOOKUP_TBID:
        raise NotEmulated("bpf_fib_lookup in a given table (BPF_FIB_LOOKUP_TBID)")
    route = best_route(s.routes, dst)
    if route is None:
        return BPF_FIB_LKUP_RET_NOT_FWDED
    if route.type != "unicast":
        return _FIB_RET[route.type]
    tot_len = int.from_bytes(p[6:8], "little")
    check_mtu = isinstance(rt.state, XdpState) or tot_len != 0
    mtu = route.mtu if check_mtu else 0
    if check_mtu and tot_len > mtu:
        p[6:8] = mtu.to_bytes(2, "little")                      # mtu_result (union with tot_len)
        rt.memory.write(params, bytes(p))
        return BPF_FIB_LKUP_RET_FRAG_NEEDED
    p[12:16] = (route.metric & _M32).to_bytes(4, "little")      # rt_metric
    p[8:12] = route.ifindex.to_bytes(4, "little")               # ifindex
    if flags & BPF_FIB_LOOKUP_SRC:
        if route.src is None:
            rt.memory.write(params, bytes(p))
            return BPF_FIB_LKUP_RET_NO_SRC_ADDR
        if family == AF_INET:
            p[16:20] = route.src.packed
        else:
            p[16:32] = route.src.packed
    if route.gateway is not None:
        if family == AF_INET:
            p[32:36] = route.gateway.packed
        else:
            p[32:48] = route.gateway.packed
    if not flags & BPF_FIB_LOOKUP_SKIP_NEIGH:
        if route.dmac is None:
            rt.memory.write(params, bytes(p))
            return BPF_FIB_LKUP_RET_NO_NEIGH
        p[52:58] = route.smac
        p[58:64] = route.dmac
    p[48:52] = bytes(4)                                         # h_vlan_proto, h_vlan_TCI
    if mtu:
        p[6:8] = mtu.to_bytes(2, "little")                      # mtu_result
    rt.memory.write(params, bytes(p))
    return BPF_FIB_LKUP_RET_SUCCESS


# --- cgroup programs' return value ------------------------------------------------------------

def get_retval(rt: Runtime, *_: int) -> int:
    """The bpf_cg_run_ctx's retval (0 when the run starts, as for most cgroup hooks)."""
    return rt.cg_retval


def set_retval(rt: Runtime, retval: int, *_: int) -> int:
    rt.cg_retval = _s32(retval)
    return 0


# --- local storage ---------------------------------------------------------------------------

BPF_LOCAL_STORAGE_GET_F_CREATE = 1


def _storage_map(rt: Runtime, map_ptr: int, kind: MapType, name: str) -> LocalStorageMap:
    m = rt.map_at(map_ptr)
    if isinstance(m, NotEmulatedMap):
        raise m._missing()
    if not isinstance(m, LocalStorageMap) or m.type != kind:
        raise Trap(f"{name}: map {m.name} is not a {kind.name.lower()} map")
    return m


def _storage_get(rt: Runtime, m: LocalStorageMap, owner: int, value: int, flags: int) -> int:
    if flags & ~BPF_LOCAL_STORAGE_GET_F_CREATE or not owner:
        return 0
    addr = m.storage(owner)
    if addr or not flags & BPF_LOCAL_STORAGE_GET_F_CREATE:
        return addr
    init = rt.memory.read(value, m.value_size, "read of the initial value") if value else None
    return m.create(owner, init)


def _storage_delete(m: LocalStorageMap, owner: int) -> int:
    return m.remove(owner) if owner else -errno.EINVAL


def sk_storage_get(rt: Runtime, map_ptr: int, sk: int, value: int, flags: int, *_: int) -> int:
    """The socket's value (F_CREATE: made from ``value``, or zeros, when missing); NULL for
    no socket, other flags, or no value without F_CREATE."""
    return _storage_get(rt, _storage_map(rt, map_ptr, MapType.SK_STORAGE, "bpf_sk_storage_get"), sk, value, flags)


def sk_storage_delete(rt: Runtime, map_ptr: int, sk: int, *_: int) -> int:
    return _storage_delete(_storage_map(rt, map_ptr, MapType.SK_STORAGE, "bpf_sk_storage_delete"), sk)


def task_storage_get(rt: Runtime, map_ptr: int, task: int, value: int, flags: int, *_: int) -> int:
    return _storage_get(rt, _storage_map(rt, map_ptr, MapType.TASK_STORAGE, "bpf_task_storage_get"), task, value,
                        flags)


def task_storage_delete(rt: Runtime, map_ptr: int, task: int, *_: int) -> int:
    return _storage_delete(_storage_map(rt, map_ptr, MapType.TASK_STORAGE, "bpf_task_storage_delete"), task)


def cgrp_storage_get(rt: Runtime, map_ptr: int, cgroup: int, value: int, flags: int, *_: int) -> int:
    return _storage_get(rt, _storage_map(rt, map_ptr, MapType.CGRP_STORAGE, "bpf_cgrp_storage_get"), cgroup, value,
                        flags)


def cgrp_storage_delete(rt: Runtime, map_ptr: int, cgroup: int, *_: int) -> int:
    return _storage_delete(_storage_map(rt, map_ptr, MapType.CGRP_STORAGE, "bpf_cgrp_storage_delete"), cgroup)


def inode_storage_get(rt: Runtime, map_ptr: int, inode: int, value: int, flags: int, *_: int) -> int:
    return _storage_get(rt, _storage_map(rt, map_ptr, MapType.INODE_STORAGE, "bpf_inode_storage_get"), inode, value,
                        flags)


def inode_storage_delete(rt: Runtime, map_ptr: int, inode: int, *_: int) -> int:
    return _storage_delete(_storage_map(rt, map_ptr, MapType.INODE_STORAGE, "bpf_inode_storage_delete"), inode)


# --- sockmap / sockhash ---------------------------------------------------------------------

SK_DROP, SK_PASS = 0, 1
#: the sock_ops callbacks in which bpf_sock_map_update / bpf_sock_hash_update may add the socket
#: (sock_map_op_okay): BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB, _PASSIVE_ESTABLISHED_CB, _TCP_LISTEN_CB
_SOCK_MAP_OPS = (4, 5, 11)


def _sock_map(rt: Runtime, map_ptr: int, kind: MapType, name: str) -> SockMap:
    m = rt.map_at(map_ptr)
    if isinstance(m, NotEmulatedMap):
        raise m._missing()
    if not isinstance(m, SockMap) or m.type != kind:
        raise Trap(f"{name}: map {m.name} is not a {kind.name.lower()}")
    return m


def _sock_redirect(rt: Runtime, m: SockMap, key: bytes, flags: int) -> int:
    """bpf_sk_redirect_* / bpf_msg_redirect_*: SK_DROP for flags other than BPF_F_INGRESS or no
    socket at ``key``; else the redirect is recorded and the verdict is SK_PASS."""
    if flags & ~BPF_F_INGRESS:
        return SK_DROP
    cookie = m.sock(key)
    if cookie is None:
        return SK_DROP
    rt.redirect = ("socket", cookie, flags & BPF_F_INGRESS)
    return SK_PASS


def sk_redirect_map(rt: Runtime, skb: int, map_ptr: int, key: int, flags: int, *_: int) -> int:
    m = _sock_map(rt, map_ptr, MapType.SOCKMAP, "bpf_sk_redirect_map")
    return _sock_redirect(rt, m, (key & _M32).to_bytes(4, "little"), flags)


def msg_redirect_map(rt: Runtime, msg: int, map_ptr: int, key: int, flags: int, *_: int) -> int:
    m = _sock_map(rt, map_ptr, MapType.SOCKMAP, "bpf_msg_redirect_map")
    return _sock_redirect(rt, m, (key & _M32).to_bytes(4, "little"), flags)


def sk_redirect_hash(rt: Runtime, skb: int, map_ptr: int, key: int, flags: int, *_: int) -> int:
    m = _sock_map(rt, map_ptr, MapType.SOCKHASH, "bpf_sk_redirect_hash")
    return _sock_redirect(rt, m, rt.memory.read(key, m.key_size, "read of the key"), flags)


def msg_redirect_hash(rt: Runtime, msg: int, map_ptr: int, key: int, flags: int, *_: int) -> int:
    m = _sock_map(rt, map_ptr, MapType.SOCKHASH, "bpf_msg_redirect_hash")
    return _sock_redirect(rt, m, rt.memory.read(key, m.key_size, "read of the key"), flags)


def _sock_ops_update(rt: Runtime, ops: int, m: SockMap, key: bytes, flags: int) -> int:
    """Adds the program's socket (the session's ``socket_cookie``) in an established or listen
    callback (the ``op`` field, the first u32 of ``struct bpf_sock_ops``); -EOPNOTSUPP in others."""
    op = int.from_bytes(rt.memory.read(ops, 4, "read of bpf_sock_ops.op"), "little")
    if op not in _SOCK_MAP_OPS:
        return -errno.EOPNOTSUPP
    return m.put(key, rt.session.socket_cookie, flags)


def sock_map_update(rt: Runtime, ops: int, map_ptr: int, key: int, flags: int, *_: int) -> int:
    m = _sock_map(rt, map_ptr, MapType.SOCKMAP, "bpf_sock_map_update")
    return _sock_ops_update(rt, ops, m, rt.memory.read(key, 4, "read of the key"), flags)


def sock_hash_update(rt: Runtime, ops: int, map_ptr: int, key: int, flags: int, *_: int) -> int:
    m = _sock_map(rt, map_ptr, MapType.SOCKHASH, "bpf_sock_hash_update")
    return _sock_ops_update(rt, ops, m, rt.memory.read(key, m.key_size, "read of the key"), flags)


# --- table -----------------------------------------------------------------------------------

_IMPLEMENTATIONS: tuple[HelperFn, ...] = (
    map_lookup_elem, map_update_elem, map_delete_elem, map_lookup_percpu_elem, map_push_elem,
    map_pop_elem, map_peek_elem, spin_lock, spin_unlock, kptr_xchg,
    trace_printk, trace_vprintk, snprintf,
    ktime_get_ns, ktime_get_boot_ns, ktime_get_coarse_ns, ktime_get_tai_ns, jiffies64, get_prandom_u32,
    get_smp_processor_id, get_numa_node_id, get_current_pid_tgid, get_current_uid_gid,
    get_current_comm, get_current_cgroup_id, get_current_task, get_current_task_btf,
    probe_read, probe_read_kernel, probe_read_user, probe_read_str, probe_read_kernel_str,
    probe_read_user_str,
    ringbuf_output, ringbuf_reserve, ringbuf_submit, ringbuf_discard, ringbuf_query, perf_event_output,
    loop, tail_call, for_each_map_elem,
    xdp_adjust_head, xdp_adjust_tail, xdp_adjust_meta, redirect, redirect_map,
    skb_load_bytes, skb_store_bytes, skb_pull_data, skb_change_head, l3_csum_replace, l4_csum_replace,
    csum_diff,
    get_stack, get_stackid, get_ns_current_pid_tgid, get_func_ip, get_socket_cookie, skb_under_cgroup,
    current_task_under_cgroup, fib_lookup, get_attach_cookie, skb_cgroup_id, get_task_stack, xdp_get_buff_len,
    xdp_load_bytes, xdp_store_bytes, strncmp, seq_printf, seq_write,
    get_current_ancestor_cgroup_id, copy_from_user, copy_from_user_task,
    sk_storage_get, sk_storage_delete, task_storage_get, task_storage_delete, cgrp_storage_get,
    cgrp_storage_delete, inode_storage_get, inode_storage_delete,
    get_retval, set_retval,
    sk_redirect_map, msg_redirect_map, sk_redirect_hash, msg_redirect_hash, sock_map_update, sock_hash_update,
    *DYNPTR_HELPERS, *TRACING_HELPERS, *TIMER_HELPERS, *CGROUP_HELPERS, *SOCKET_HELPERS,
)


@functools.cache
def helper_table() -> dict[int, HelperFn]:
    """Helper id -> implementation, for every emulated helper."""
    table: dict[int, HelperFn] = {}
    for fn in _IMPLEMENTATIONS:
        ident = helper_id(fn.__name__)
        if ident is None:  # pragma: no cover - the abi table knows every helper above
            raise AssertionError(f"unknown helper name bpf_{fn.__name__}")
        table[ident] = fn
    return table


def emulated_helpers() -> tuple[str, ...]:
    """The names of the emulated helpers (``bpf_map_lookup_elem``...), sorted."""
    return tuple(sorted("bpf_" + fn.__name__ for fn in _IMPLEMENTATIONS))


"""The kfuncs the emulator runs, by name, with the kernel's semantics (Linux 6.18).

A kfunc call instruction carries only a BTF id of the target kernel; the object reader knows
which extern each call site names (``Program.kfunc_calls``), and a loaded program's link binds
each call site to the implementation here (:func:`kfunc_impl`).  A kfunc not in this table
stops the run that reaches it with ``not emulated: kfunc <name>`` (never at load).

What is modelled:

* open-coded number iterators (``bpf_for``, ``bpf_repeat``): ``bpf_iter_num_new`` /
  ``_next`` / ``_destroy`` keep the kernel's state in the 8-byte ``struct bpf_iter_num`` on the
  program's stack (``int cur, end``: ``cur`` starts one below ``start``; ``next`` returns a
  pointer to ``cur`` or NULL and then zeroes both; a range wider than ``BPF_MAX_LOOPS`` or
  reversed gives ``-E2BIG`` / ``-EINVAL`` and an exhausted iterator);
* sections that only matter to the verifier: ``bpf_rcu_read_lock`` / ``_unlock``,
  ``bpf_preempt_disable`` / ``_enable`` (no effect on a run);
* reference counting of the emulated task and cgroup: ``bpf_task_acquire`` / ``bpf_cgroup_acquire``
  return their argument, the releases do nothing (the emulator's objects live for the run);
* ``bpf_rdonly_cast`` returns its pointer (the cast only changes what the verifier allows);
* dynptrs: ``bpf_dynptr_from_skb`` / ``_from_xdp``, ``_slice`` / ``_slice_rdwr``, ``_adjust``,
  ``_is_null``, ``_is_rdonly``, ``_size``, ``_clone``, ``_copy``, ``_memset``
  (:mod:`bpfbuild.vm.dynptr`).
"""

from __future__ import annotations

import errno
import struct
from collections.abc import Callable
from typing import TYPE_CHECKING

from bpfbuild.vm.dynptr import DYNPTR_KFUNCS

if TYPE_CHECKING:
    from bpfbuild.vm.runtime import Runtime

__all__ = ["BPF_MAX_LOOPS", "KFUNCS", "kfunc_impl"]

#: include/linux/bpf.h: the most iterations bpf_loop() and a number iterator may take
BPF_MAX_LOOPS = 8 * 1024 * 1024

_M32 = (1 << 32) - 1
_ITER = struct.Struct("<ii")   # struct bpf_iter_num_kern { int cur; int end; }


def _s32(v: int) -> int:
    v &= _M32
    return v - (1 << 32) if v >> 31 else v


def iter_num_new(rt: Runtime, it: int, start: int, end: int, *_: int) -> int:
    start, end = _s32(start), _s32(end)
    if start > end:
        rt.memory.write(it, _ITER.pack(0, 0), "write of the iterator")
        return -errno.EINVAL
    if end - start > BPF_MAX_LOOPS:
        rt.memory.write(it, _ITER.pack(0, 0), "write of the iterator")
        return -errno.E2BIG
    rt.memory.write(it, _ITER.pack(_s32(start - 1), end), "write of the iterator")
    return 0


def iter_num_next(rt: Runtime, it: int, *_: int) -> int:
    cur, end = _ITER.unpack(rt.memory.read(it, _ITER.size, "read of the iterator"))
    nxt = _s32(cur + 1)          # an int addition in the kernel (it wraps: -fno-strict-overflow)
    if nxt >= end:
        rt.memory.write(it, _ITER.pack(0, 0), "write of the iterator")
        return 0
    rt.memory.write(it, _ITER.pack(nxt, end), "write of the iterator")
    return it                    # &s->cur: the first field


def iter_num_destroy(rt: Runtime, it: int, *_: int) -> int:
    rt.memory.write(it, _ITER.pack(0, 0), "write of the iterator")
    return 0


def _nothing(rt: Runtime, *_: int) -> int:
    return 0


def _first_argument(rt: Runtime, ptr: int, *_: int) -> int:
    return ptr


#: kfunc name -> implementation ``f(runtime, r1, r2, r3, r4, r5) -> r0``
KFUNCS: dict[str, Callable[..., int]] = {
    "bpf_iter_num_new": iter_num_new,
    "bpf_iter_num_next": iter_num_next,
    "bpf_iter_num_destroy": iter_num_destroy,
    "bpf_rcu_read_lock": _nothing,
    "bpf_rcu_read_unlock": _nothing,
    "bpf_preempt_disable": _nothing,
    "bpf_preempt_enable": _nothing,
    "bpf_task_acquire": _first_argument,
    "bpf_task_release": _nothing,
    "bpf_cgroup_acquire": _first_argument,
    "bpf_cgroup_release": _nothing,
    "bpf_rdonly_cast": _first_argument,
    **DYNPTR_KFUNCS,
}


def kfunc_impl(name: str) -> Callable[..., int] | None:
    """The implementation of kfunc ``name`` (None: not emulated).  A ``___suffix`` that a
    program gives a declaration to tell two of them apart (libbpf ignores it) is ignored."""
    base = name.split("___", 1)[0]
    return KFUNCS.get(base)

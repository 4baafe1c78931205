"""``struct bpf_timer`` in map values, as Linux 6.18 implements it (kernel/bpf/helpers.c).

A timer's state lives in the session (``session.timers``, by the timer's address), not in the
16 opaque bytes of the map value (user space reads those as zeros in the kernel too).

* ``bpf_timer_init(timer, map, flags)``: ``-EINVAL`` for a clock other than
  ``CLOCK_REALTIME`` (0), ``CLOCK_MONOTONIC`` (1), ``CLOCK_BOOTTIME`` (7) or flags past them,
  ``-EBUSY`` for a timer already initialised;
* ``bpf_timer_set_callback``: ``-EINVAL`` before init;
* ``bpf_timer_start(timer, nsecs, flags)``: ``-EINVAL`` for flags other than
  ``BPF_F_TIMER_ABS`` / ``BPF_F_TIMER_CPU_PIN`` or a timer without callback; it is then
  pending, due at ``nsecs`` (absolute) or the session's clock + ``nsecs``, and recorded in
  the session's ``effects`` (``{"effect": "timer_start", ...}``);
* ``bpf_timer_cancel``: ``-EINVAL`` before init, ``-EDEADLK`` from the timer's own callback,
  else 1 if it was pending and 0 if not; it also drops the callback, as the kernel does (a
  later start needs a new ``bpf_timer_set_callback``).

Callbacks run only when asked: :func:`fire_timers` (``Machine.fire_timers()``, or a spec
run with ``timers = true``) calls the callback of each pending timer that is due, in order of
expiry, as ``callback(map, &key, &value)``, and moves the session's clock to its expiry.
A map update or delete, by a program or from user space (``obj.maps[...]``), frees the special
fields of the element it replaces, deletes or overwrites (``bpf_obj_free_fields``): the
element's timer is cancelled and forgotten, so a later ``bpf_timer_start`` on it fails with
``-EINVAL`` until it is initialised again (the maps' ``on_free``, ``Session.free_fields``).
"""

from __future__ import annotations

import errno
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bpfbuild.vm.memory import RegionKind, Trap

if TYPE_CHECKING:
    from bpfbuild.vm.runtime import Runtime

__all__ = ["TIMER_HELPERS", "Timer", "fire_timers"]

_M32 = (1 << 32) - 1
_M64 = (1 << 64) - 1
MAX_CLOCKS = 16
_CLOCKS = (0, 1, 7)          # CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME
BPF_F_TIMER_ABS, BPF_F_TIMER_CPU_PIN = 1, 2


@dataclass(slots=True)
class Timer:
    """One initialised ``bpf_timer``."""

    addr: int
    map_ptr: int
    flags: int
    callback: int = 0          # the callback's address (0: none)
    pending: bool = False
    expires: int = 0           # when it is due, on the session's clock (ns)
    running: bool = False      # its callback is running now


def timer_init(rt: Runtime, timer: int, map_ptr: int, flags: int, *_: int) -> int:
    if flags >= MAX_CLOCKS or flags & (MAX_CLOCKS - 1) not in _CLOCKS:
        return -errno.EINVAL
    rt.map_at(map_ptr)
    timers = rt.session.timers
    if timer in timers:
        return -errno.EBUSY
    timers[timer] = Timer(timer, map_ptr, flags)
    return 0


def timer_set_callback(rt: Runtime, timer: int, callback: int, *_: int) -> int:
    t = rt.session.timers.get(timer)
    if t is None:
        return -errno.EINVAL
    rt.code_at(callback)            # a function of a loaded program
    t.callback = callback
    return 0


def timer_start(rt: Runtime, timer: int, nsecs: int, flags: int, *_: int) -> int:
    if flags & ~(BPF_F_TIMER_ABS | BPF_F_TIMER_CPU_PIN):
        return -errno.EINVAL
    t = rt.session.timers.get(timer)
    if t is None or not t.callback:
        return -errno.EINVAL
    nsecs &= _M64
    t.pending = True
    t.expires = nsecs if flags & BPF_F_TIMER_ABS else rt.session.time_ns + nsecs
    rt.effect({"effect": "timer_start", "nsecs": nsecs, "flags": flags & _M32,
                               "expires": t.expires})
    return 0


def timer_cancel(rt: Runtime, timer: int, *_: int) -> int:
    t = rt.session.timers.get(timer)
    if t is None:
        return -errno.EINVAL
    if t.running:
        return -errno.EDEADLK
    t.callback = 0                  # drop_prog_refcnt(): the callback goes with the cancel
    was = t.pending
    t.pending = False
    return 1 if was else 0


#: helper implementations (named as the helpers without ``bpf_``)
TIMER_HELPERS = (timer_init, timer_set_callback, timer_start, timer_cancel)


def _key_of(rt: Runtime, t: Timer) -> tuple[bytes, int]:
    """The key and value address of the map element that holds the timer."""
    m = rt.map_at(t.map_ptr)
    elements = getattr(m, "prog_elements", None)
    if elements is not None:
        for key, value in elements(rt.session.cpu):
            if value <= t.addr < value + m.value_size:
                return key, value
    raise Trap(f"the timer at {t.addr:#x} is no longer in map {m.name}")


def fire_timers(rt: Any, reset: Any, end: Any, until_ns: int | None = None) -> int:
    """Run the callbacks of the pending timers due by ``until_ns`` (default: all of them) in
    order of expiry; ``reset()`` prepares each callback's run and ``end()`` cleans up after
    it.  A callback may start timers again: those due by ``until_ns`` fire too.  Returns
    how many callbacks ran."""
    session = rt.session
    fired = 0
    while True:
        due = [t for t in session.timers.values()
               if t.pending and t.callback and (until_ns is None or t.expires <= until_ns)]
        if not due:
            return fired
        t = min(due, key=lambda x: (x.expires, x.addr))
        t.pending = False
        if t.expires > session.time_ns:
            session.time_ns = t.expires
        key, value = _key_of(rt, t)
        fn = rt.code_at(t.callback)
        key_addr = session.memory.map(bytearray(key), RegionKind.SCRATCH, "timer key", writable=False)
        reset()
        t.running = True
        try:
            fn(t.map_ptr, key_addr, value, 0, 0)
        finally:
            t.running = False
            session.memory.unmap(key_addr)
            end()
        fired += 1
        if fired > 10_000:
            raise Trap("timer callbacks keep restarting their timers (more than 10000 runs)")

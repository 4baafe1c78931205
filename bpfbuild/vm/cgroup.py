"""Helpers of cgroup and socket programs, as Linux 6.18 implements them.

* ``bpf_get_local_storage`` (kernel/bpf/helpers.c, local_storage.c): the value of the
  ``CGROUP_STORAGE`` / ``PERCPU_CGROUP_STORAGE`` map for the session's ``cgroup_id`` and the
  program's attach type (the current CPU's for the per-CPU map), zeroed when first used
  (the kernel makes it when the program is attached).
* ``bpf_setsockopt`` / ``bpf_getsockopt`` (net/core/filter.c): the program's socket is the
  session's (``socket_family`` 2 = AF_INET or 10 = AF_INET6, ``socket_protocol`` 6 = TCP or
  17 = UDP; default an IPv4 TCP socket).  The options the kernel lets a program use, with its
  length rules and ``-EINVAL`` for the rest (``SOL_SOCKET``: ``SO_REUSEADDR``, ``SO_SNDBUF``,
  ``SO_RCVBUF``, ``SO_KEEPALIVE``, ``SO_PRIORITY``, ``SO_REUSEPORT``, ``SO_RCVLOWAT``, ``SO_MARK``,
  ``SO_MAX_PACING_RATE``, ``SO_BINDTOIFINDEX``, ``SO_TXREHASH``, ``SK_BPF_CB_FLAGS``,
  set-only ``SO_BINDTODEVICE``; ``SOL_IP``: ``IP_TOS`` on AF_INET; ``SOL_IPV6``:
  ``IPV6_TCLASS``, ``IPV6_AUTOFLOWLABEL`` on AF_INET6; ``SOL_TCP`` on TCP sockets: the
  integer options, ``TCP_CONGESTION`` (``-ENOTSUPP`` for "cdg"), ``TCP_BPF_IW``,
  ``TCP_BPF_SNDCWND_CLAMP`` (positive), ``TCP_BPF_SOCK_OPS_CB_FLAGS`` (known flags),
  ``TCP_BPF_DELACK_MAX``, ``TCP_BPF_RTO_MIN``); a sock_ops program outside the locked
  callbacks gets ``-EOPNOTSUPP``.  A set value is what a later get reads (the session's
  ``sockopts``: ``{(level, optname): bytes}``); an option never set reads as 0
  (``TCP_CONGESTION``: "cubic").  A failed get zeroes the buffer.  The kernel's own
  adjustments of some values (``SO_SNDBUF`` doubled, clamps) are not modelled.
"""

from __future__ import annotations

import errno
from typing import TYPE_CHECKING

from bpfbuild.vm.maps import CgroupStorageMap
from bpfbuild.vm.memory import Trap

if TYPE_CHECKING:
    from bpfbuild.vm.runtime import Runtime

__all__ = ["CGROUP_HELPERS"]

_M32 = (1 << 32) - 1
ENOTSUPP = 524                      # the kernel-internal errno bpf_setsockopt returns for "cdg"
AF_INET, AF_INET6 = 2, 10
IPPROTO_TCP = 6
SOL_IP, SOL_SOCKET, SOL_TCP, SOL_IPV6 = 0, 1, 6, 41
SO_BINDTODEVICE = 25
#: SOL_SOCKET options with an int value
_SOCKET_INTS = frozenset((2, 7, 8, 9, 12, 15, 18, 36, 47, 62, 74, 1009))
IP_TOS = 1
_IPV6_INTS = frozenset((67, 70))    # IPV6_TCLASS, IPV6_AUTOFLOWLABEL
#: SOL_TCP options with an int value that do_tcp_setsockopt handles
_TCP_INTS = frozenset((1, 2, 4, 5, 6, 7, 10, 16, 18, 25, 27, 44))
TCP_CONGESTION, TCP_SAVED_SYN = 13, 28
TCP_BPF_IW, TCP_BPF_SNDCWND_CLAMP, TCP_BPF_DELACK_MAX, TCP_BPF_RTO_MIN = 1001, 1002, 1003, 1004
TCP_BPF_SOCK_OPS_CB_FLAGS = 1008
BPF_SOCK_OPS_ALL_CB_FLAGS = 0x7F
BPF_CGROUP_SOCK_OPS = 3
BPF_SOCK_OPS_WRITE_HDR_OPT_CB = 15


def get_local_storage(rt: Runtime, map_ptr: int, flags: int, *_: int) -> int:
    m = rt.map_at(map_ptr)
    if not isinstance(m, CgroupStorageMap):
        raise Trap(f"map {m.name} is not a cgroup storage map")
    state = rt.state
    attach = state.attach_type if state is not None and state.attach_type is not None else 0
    return m.storage(rt.session.cgroup_id, attach, rt.session.cpu)


def _signed(v: int) -> int:
    v &= _M32
    return v - (1 << 32) if v >> 31 else v


def _locked(rt: Runtime, ctx: int) -> bool:
    """is_locked_tcp_sock_ops(): a sock_ops program may set options only in the callbacks
    up to BPF_SOCK_OPS_WRITE_HDR_OPT_CB."""
    state = rt.state
    if state is None or state.attach_type != BPF_CGROUP_SOCK_OPS:
        return True
    op = int.from_bytes(rt.memory.read(ctx, 4, "read of bpf_sock_ops.op"), "little")
    return op <= BPF_SOCK_OPS_WRITE_HDR_OPT_CB


def _check(rt: Runtime, level: int, optname: int, optlen: int, getopt: bool) -> int:
    """The kernel's checks for (level, optname, optlen): 0 or the error."""
    s = rt.session
    if level == SOL_SOCKET:
        if optname in _SOCKET_INTS:
            return 0 if optlen == 4 else -errno.EINVAL
        if optname == SO_BINDTODEVICE:
            return -errno.EINVAL if getopt else 0
        return -errno.EINVAL
    if level == SOL_IP:
        if s.socket_family != AF_INET or optname != IP_TOS or optlen != 4:
            return -errno.EINVAL
        return 0
    if level == SOL_IPV6:
        if s.socket_family != AF_INET6 or optname not in _IPV6_INTS or optlen != 4:
            return -errno.EINVAL
        return 0
    if level == SOL_TCP:
        if s.socket_protocol != IPPROTO_TCP:
            return -errno.EINVAL
        if optname in _TCP_INTS:
            return 0 if optlen == 4 else -errno.EINVAL
        if optname == TCP_CONGESTION:
            return 0 if optlen >= 2 else -errno.EINVAL
        if optname == TCP_SAVED_SYN:
            if optlen < 1:
                return -errno.EINVAL
            return -errno.EINVAL if getopt else -errno.ENOPROTOOPT   # no saved SYN; get-only
        if optlen != 4:
            return -errno.EINVAL
        allowed = ((TCP_BPF_SOCK_OPS_CB_FLAGS, TCP_BPF_RTO_MIN, TCP_BPF_DELACK_MAX) if getopt else
                   (TCP_BPF_IW, TCP_BPF_SNDCWND_CLAMP, TCP_BPF_DELACK_MAX, TCP_BPF_RTO_MIN,
                    TCP_BPF_SOCK_OPS_CB_FLAGS))
        return 0 if optname in allowed else -errno.EINVAL
    return -errno.EINVAL


def setsockopt(rt: Runtime, ctx: int, level: int, optname: int, optval: int, optlen: int) -> int:
    if not _locked(rt, ctx):
        return -errno.EOPNOTSUPP
    level, optname, optlen = _signed(level), _signed(optname), _signed(optlen)
    if err := _check(rt, level, optname, optlen, False):
        return err
    data = rt.memory.read(optval, max(optlen, 0), "read of optval")
    if level == SOL_TCP and optname == TCP_CONGESTION:
        name = data.split(b"\0", 1)[0]
        if len(data) >= 3 and data.startswith(b"cdg"):
            return -ENOTSUPP
        rt.session.sockopts[(level, optname)] = name
        return 0
    if optlen == 4 and level == SOL_TCP:
        val = _signed(int.from_bytes(data, "little"))
        if optname in (TCP_BPF_IW, TCP_BPF_SNDCWND_CLAMP) and val <= 0:
            return -errno.EINVAL
        if optname == TCP_BPF_SOCK_OPS_CB_FLAGS and val & ~BPF_SOCK_OPS_ALL_CB_FLAGS:
            return -errno.EINVAL
    rt.session.sockopts[(level, optname)] = data
    return 0


def getsockopt(rt: Runtime, ctx: int, level: int, optname: int, optval: int, optlen: int) -> int:
    level, optname, size = _signed(level), _signed(optname), _signed(optlen)
    out = rt.memory.view(optval, max(size, 0), write=True, what="write of optval")
    err = _check(rt, level, optname, size, True)
    if err:
        out[:] = bytes(len(out))
        return err
    if level == SOL_TCP and optname == TCP_CONGESTION:
        name = rt.session.sockopts.get((level, optname), b"cubic")[: size - 1]
        out[:] = name.ljust(size, b"\0")
        return 0
    value = rt.session.sockopts.get((level, optname), bytes(4))
    out[:] = value[:size].ljust(size, b"\0")
    return 0


#: helper implementations (named as the helpers without ``bpf_``)
CGROUP_HELPERS = (get_local_storage, setsockopt, getsockopt)

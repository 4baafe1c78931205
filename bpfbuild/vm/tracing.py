"""Tracing helpers with effects outside the program, as Linux 6.18 implements them
(kernel/trace/bpf_trace.c).

* ``bpf_get_func_arg`` / ``_ret`` / ``_arg_cnt`` (fentry, fexit, fmod_ret, lsm): the context is
  the traced function's arguments as u64s; the kernel keeps their number below it, here the
  session's ``func_args`` or, by default, every word of the context (less the last, the return
  value, for fexit / fmod_ret / lsm, as the kernel lays it out).  ``_ret`` of an fentry program
  is ``-EOPNOTSUPP`` (the verifier patches it so).
* ``bpf_send_signal`` / ``_thread``: recorded in the session's ``effects`` as
  ``{"effect": "signal", "sig": N, "scope": "process" | "thread", "pid": ...}``; ``-EPERM``
  when the current task is init (tgid 1), ``-EINVAL`` for a signal above 64.
* ``bpf_override_return``: recorded as ``{"effect": "override_return", "rc": rc}``, and the
  kprobe's ``pt_regs->ax`` holds ``rc`` after the run, as the kernel sets it.
* ``bpf_probe_write_user``: writes into the session's ``user_memory`` (``-EFAULT`` unless every
  byte is there) and records ``{"effect": "probe_write_user", "addr": ..., "size": ...}``.
* ``bpf_d_path``: the text the session's ``paths`` gives the ``struct path`` at that address,
  copied NUL-terminated (its length with the NUL), ``-ENAMETOOLONG`` when it does not fit;
  ``-EFAULT`` for an address that is no memory; a path the session does not name is not
  emulated.
"""

from __future__ import annotations

import errno
import struct
from typing import TYPE_CHECKING

from bpfbuild.abi.ctx import ctx_layout
from bpfbuild.errors import NotEmulated
from bpfbuild.vm.memory import Trap

if TYPE_CHECKING:
    from bpfbuild.vm.runtime import Runtime

__all__ = ["TRACING_HELPERS"]

_M32 = (1 << 32) - 1
_M64 = (1 << 64) - 1
_U64 = struct.Struct("<Q")
#: attach types whose context ends with the traced function's return value
_WITH_RETVAL = frozenset((25, 26, 27))     # BPF_TRACE_FEXIT, BPF_MODIFY_RETURN, BPF_LSM_MAC
_NSIG = 64


def _arg_words(rt: Runtime, ctx: int) -> int:
    region = rt.memory.region_of(ctx)
    if region is None:
        raise Trap("bpf_get_func_arg* needs the program's context")
    return len(region.buf) // 8


def _nr_args(rt: Runtime, ctx: int) -> int:
    given = rt.session.func_args
    if given is not None:
        return given
    state = rt.state
    words = _arg_words(rt, ctx)
    with_ret = state is not None and state.attach_type in _WITH_RETVAL
    return max(words - 1, 0) if with_ret else words


def _ctx_word(rt: Runtime, ctx: int, n: int) -> int:
    if n >= _arg_words(rt, ctx):
        return 0      # past what the case gave: the kernel's slot holds what the caller put there
    return _U64.unpack(rt.memory.read(ctx + 8 * n, 8, "read of the argument"))[0]


def get_func_arg(rt: Runtime, ctx: int, n: int, value: int, *_: int) -> int:
    nr_args = _nr_args(rt, ctx)
    n &= _M32
    if n >= nr_args & _M32:            # a 32-bit comparison in the verifier's inlined code
        return -errno.EINVAL
    rt.memory.write(value, _U64.pack(_ctx_word(rt, ctx, n)), "write of the value")
    return 0


def get_func_ret(rt: Runtime, ctx: int, value: int, *_: int) -> int:
    state = rt.state
    if state is None or state.attach_type not in _WITH_RETVAL:
        return -errno.EOPNOTSUPP
    rt.memory.write(value, _U64.pack(_ctx_word(rt, ctx, _nr_args(rt, ctx))), "write of the value")
    return 0


def get_func_arg_cnt(rt: Runtime, ctx: int, *_: int) -> int:
    return _nr_args(rt, ctx)


def _signal(rt: Runtime, sig: int, scope: str) -> int:
    s = rt.session
    sig &= _M32
    if s.tgid == 1:                    # is_global_init(): never signal init
        return -errno.EPERM
    if sig > _NSIG:
        return -errno.EINVAL
    rt.effect({"effect": "signal", "sig": sig, "scope": scope,
                      "pid": s.pid if scope == "thread" else s.tgid})
    return 0


def send_signal(rt: Runtime, sig: int, *_: int) -> int:
    return _signal(rt, sig, "process")


def send_signal_thread(rt: Runtime, sig: int, *_: int) -> int:
    return _signal(rt, sig, "thread")


_RAX = next(f.offset for f in ctx_layout("pt_regs").fields if f.name == "rax")


def override_return(rt: Runtime, regs: int, rc: int, *_: int) -> int:
    rc &= _M64
    region = rt.memory.region_of(regs)
    if region is not None and len(region.buf) >= _RAX + 8 and regs & 0xFFFFFFFF == 0:
        region.buf[_RAX:_RAX + 8] = _U64.pack(rc)     # regs_set_return_value()
    rt.effect({"effect": "override_return", "rc": rc - (1 << 64) if rc >> 63 else rc})
    return 0


def d_path(rt: Runtime, path: int, buf: int, sz: int, *_: int) -> int:
    sz &= _M32
    if not sz:
        return 0
    path &= _M64
    text = rt.session.paths.get(path)
    if text is None:
        if rt.read_kernel_bytes(path, 16) is None:   # copy_from_kernel_nofault(struct path)
            return -errno.EFAULT
        raise NotEmulated(f"bpf_d_path of the path at {path:#x} (name it in world.paths)")
    data = text.encode() + b"\0"
    if len(data) > sz:
        return -errno.ENAMETOOLONG
    rt.memory.write(buf, data, "write of the buffer")
    return len(data)


def probe_write_user(rt: Runtime, dst: int, src: int, size: int, *_: int) -> int:
    """copy_to_user_nofault() into the session's ``user_memory``: 0, or -EFAULT (nothing
    written) unless every byte lies in one of its ranges; -EPERM for a kernel thread (pid 0)."""
    s = rt.session
    if s.pid == 0:
        return -errno.EPERM
    size &= _M32
    data = rt.memory.read(src, size, "read of the source")
    if size and not s.user_memory.write(dst & _M64, data):
        return -errno.EFAULT
    rt.effect({"effect": "probe_write_user", "addr": dst & _M64, "size": size})
    return 0


#: helper implementations (named as the helpers without ``bpf_``)
TRACING_HELPERS = (get_func_arg, get_func_ret, get_func_arg_cnt, send_signal, send_signal_thread,
                   override_return, d_path, probe_write_user)

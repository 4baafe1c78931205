"""BPF_PROG_TEST_RUN on a loaded program (``bpf_prog_test_run_opts``)."""

from __future__ import annotations

import ctypes
import errno
from dataclasses import dataclass

from bpfbuild.errors import KernelError
from bpfbuild.kernel import _ffi
from bpfbuild.kernel.fd import Fd

__all__ = ["TestRun", "run_prog"]

# Program types whose test run takes only a ctx: no data, no ctx_out, no repeat, no duration.
_CTX_ONLY_TYPES = frozenset({17, 24})   # RAW_TRACEPOINT, RAW_TRACEPOINT_WRITABLE
_XDP, _SCHED_CLS, _SCHED_ACT, _SOCKET_FILTER = 6, 3, 4, 1
_DEFAULT_OUT = 32 * 1024
_ENOTSUPP = 524   # the kernel's internal "operation not supported" (no test run for this type)


@dataclass(frozen=True, slots=True)
class TestRun:
    """One BPF_PROG_TEST_RUN: r0 (low 32 bits), data and ctx after the run, mean ns per run."""

    __test__ = False  # not a pytest class

    retval: int
    data_out: bytes
    ctx_out: bytes | None
    duration_ns: int


def run_prog(fd: int | Fd, *, data: bytes = b"", ctx: bytes | None = None, repeat: int = 1,
             prog_type: int | None = None, data_size_out: int | None = None,
             ctx_size_out: int | None = None, flags: int = 0, cpu: int = 0) -> TestRun:
    """Run the program once (or ``repeat`` times) in the kernel on ``data`` / ``ctx``.

    ``prog_type`` (when known) adapts the request to the type's rules: raw tracepoints take a
    ctx only and run exactly once.
    """
    if repeat < 0 or repeat > 0x7FFFFFFF:
        raise KernelError(f"test_run: repeat must be in 0..2**31-1, got {repeat}")
    ctx_only = prog_type in _CTX_ONLY_TYPES
    opts = _ffi.sized(_ffi.TestRunOpts)
    keep: list[ctypes.Array[ctypes.c_char]] = []
    data_out = None
    if data and not ctx_only:
        data_in = ctypes.create_string_buffer(bytes(data), len(data))
        out_size = data_size_out if data_size_out is not None else len(data) + _DEFAULT_OUT
        data_out = ctypes.create_string_buffer(max(out_size, 1))
        keep += [data_in, data_out]
        opts.data_in, opts.data_size_in = ctypes.addressof(data_in), len(data)
        opts.data_out, opts.data_size_out = ctypes.addressof(data_out), out_size
    elif data and ctx_only:
        raise KernelError("test_run: this program type takes a ctx, not packet data")
    ctx_out = None
    if ctx is not None:
        ctx_in = ctypes.create_string_buffer(bytes(ctx), max(len(ctx), 1))
        keep.append(ctx_in)
        opts.ctx_in, opts.ctx_size_in = ctypes.addressof(ctx_in), len(ctx)
        if not ctx_only:
            size = ctx_size_out if ctx_size_out is not None else len(ctx)
            ctx_out = ctypes.create_string_buffer(max(size, 1))
            keep.append(ctx_out)
            opts.ctx_out, opts.ctx_size_out = ctypes.addressof(ctx_out), size
    opts.repeat = 0 if ctx_only else repeat
    opts.flags, opts.cpu = flags, cpu
    ret = _ffi.libbpf().bpf_prog_test_run_opts(int(fd), ctypes.byref(opts))
    if ret < 0:
        err = _ffi.errno_of(ret)
        hint = ""
        if err == errno.EINVAL and prog_type == _XDP and len(data) < 14:
            hint = " (XDP needs a packet of at least 14 bytes, an Ethernet header)"
        elif err == errno.EINVAL and prog_type in (_SCHED_CLS, _SCHED_ACT, _SOCKET_FILTER) and len(data) < 14:
            hint = " (skb programs need a packet of at least 14 bytes)"
        elif err in (_ENOTSUPP, errno.EOPNOTSUPP):
            hint = " (this program type has no test run)"
        raise _ffi.fail(f"test_run failed{hint}", err)
    packet = data_out.raw[: opts.data_size_out] if data_out is not None else b""
    ctx_after = ctx_out.raw[: opts.ctx_size_out] if ctx_out is not None else None
    return TestRun(retval=opts.retval, data_out=packet, ctx_out=ctx_after, duration_ns=opts.duration)

"""Load bare instructions (no ELF, no maps) with ``bpf_prog_load``: the verifier and test-run
oracle for instruction-level corpora (ISA semantics, verifier rules).

The program is whatever bytes you give (8-byte slots, e.g. :func:`bpfbuild.isa.encode` of an
assembled text); ``prog_type`` is a number (``bpfbuild.abi.ProgType`` works) or libbpf's
name for it (``"xdp"``, ``"socket_filter"``, ``"sched_cls"``...).
"""

from __future__ import annotations

import ctypes
import errno
from dataclasses import dataclass

from bpfbuild.errors import KernelError
from bpfbuild.kernel import _ffi
from bpfbuild.kernel.fd import Fd
from bpfbuild.kernel.info import prog_type_name

__all__ = ["RawLoad", "load_insns", "prog_type_number"]

DEFAULT_LOG_SIZE = 1 << 20
MAX_LOG_SIZE = (1 << 30) - 1


@dataclass(frozen=True, slots=True)
class RawLoad:
    """The result of one load: the program fd (None when rejected), the verifier log, errno."""

    fd: Fd | None
    log: str
    errno: int | None


def prog_type_number(prog_type: int | str) -> int:
    """``"xdp"`` -> 6 (libbpf's names); numbers pass through."""
    if isinstance(prog_type, int):
        return int(prog_type)
    for number in range(256):
        name = prog_type_name(number)
        if not name:
            break
        if name == prog_type:
            return number
    raise KernelError(f"unknown program type {prog_type!r}")


def load_insns(code: bytes, prog_type: int | str, *, license: str = "GPL", log_level: int = 1,
               log_size: int | None = None, expected_attach_type: int = 0, prog_flags: int = 0,
               name: str = "bpfbuild") -> RawLoad:
    """BPF_PROG_LOAD of ``code``; a rejection is a result (fd None, the log, errno), not an error.

    Errors that are not verdicts raise KernelError: no permission (EPERM), bad arguments.
    A log that does not fit is retried with a larger buffer; a rejection at ``log_level`` 0
    is retried at 1 for the kernel's message.  The caller closes ``fd``.
    """
    if not code or len(code) % 8:
        raise KernelError(f"program is {len(code)} bytes: not a whole number of 8-byte instructions")
    ptype = prog_type_number(prog_type)
    lib = _ffi.libbpf()
    insns = ctypes.create_string_buffer(bytes(code), len(code))
    size = min(max(log_size or DEFAULT_LOG_SIZE, 1024), MAX_LOG_SIZE)
    while True:
        buf = ctypes.create_string_buffer(size) if log_level else None
        opts = _ffi.sized(_ffi.ProgLoadOpts, expected_attach_type=expected_attach_type, prog_flags=prog_flags,
                          log_level=log_level, log_size=size if buf is not None else 0,
                          log_buf=ctypes.addressof(buf) if buf is not None else None)
        ret = lib.bpf_prog_load(ptype, name.encode()[:15], license.encode(), insns, len(code) // 8,
                                ctypes.byref(opts))
        log = buf.value.decode("utf-8", "replace") if buf is not None else ""
        if ret >= 0:
            return RawLoad(Fd(ret, f"prog {name}"), log, None)
        err = _ffi.errno_of(ret)
        if not log_level and err != errno.EPERM:
            log_level = 1                      # as libbpf does: ask again, with a log, to say why
            continue
        if err == errno.ENOSPC and log_level and size < MAX_LOG_SIZE:
            size = min(size * 8, MAX_LOG_SIZE)
            continue
        if err == errno.EPERM or (err in (errno.EACCES, errno.EINVAL) and not log.strip()):
            raise _ffi.fail(f"cannot load {prog_type_name(ptype) or ptype} program", err)
        return RawLoad(None, log, err)

"""Map elements: look up, update, delete and iterate through a map fd.

Keys and values are ``bytes`` of the map's sizes.  Per-CPU maps take and return one value
per possible CPU, each padded to 8 bytes, concatenated (as the syscall does);
:meth:`MapHandle.split_percpu` cuts such a blob into per-CPU values.
"""

from __future__ import annotations

import ctypes
import errno
import functools
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Self

from bpfbuild.errors import KernelError
from bpfbuild.kernel import _ffi
from bpfbuild.kernel.fd import Fd
from bpfbuild.kernel.info import MapInfo, map_info

__all__ = ["MapHandle", "possible_cpus"]

# BPF_MAP_TYPE_* whose values are per CPU
_PERCPU_TYPES = frozenset({5, 6, 10, 21})        # PERCPU_HASH, PERCPU_ARRAY, LRU_PERCPU_HASH, PERCPU_CGROUP_STORAGE
# map types without keyed elements to read: PERF_EVENT_ARRAY, QUEUE, STACK, RINGBUF, BLOOM_FILTER,
# USER_RINGBUF
_NO_LOOKUP_TYPES = frozenset({4, 22, 23, 27, 30, 31})


@functools.cache
def possible_cpus() -> int:
    """Number of possible CPUs (``/sys/devices/system/cpu/possible``, e.g. ``0-3`` -> 4)."""
    try:
        text = Path("/sys/devices/system/cpu/possible").read_text().strip()
    except OSError as exc:
        raise KernelError(f"cannot read the possible CPUs: {exc.strerror}") from exc
    count = 0
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        count += (int(hi) if hi else int(lo)) - int(lo) + 1
    return count


class MapHandle:
    """Element access to one map.  Owns its fd only when given an :class:`Fd` with ``own=True``."""

    def __init__(self, fd: int | Fd, info: MapInfo | None = None, *, own: bool = False) -> None:
        self._fd = fd
        self._own = own
        self.info = info if info is not None else map_info(fd)

    @property
    def fd(self) -> int:
        return int(self._fd)

    @property
    def percpu(self) -> bool:
        return self.info.type in _PERCPU_TYPES

    @property
    def readable(self) -> bool:
        """False for maps whose values lookup cannot return (prog arrays, ring buffers...)."""
        return self.info.type not in _NO_LOOKUP_TYPES

    @property
    def value_buffer_size(self) -> int:
        if self.percpu:
            return ((self.info.value_size + 7) // 8) * 8 * possible_cpus()
        return self.info.value_size

    def split_percpu(self, blob: bytes) -> list[bytes]:
        step = ((self.info.value_size + 7) // 8) * 8
        return [blob[i:i + self.info.value_size] for i in range(0, len(blob), step)]

    def _key(self, key: bytes | int) -> ctypes.Array[ctypes.c_char]:
        if isinstance(key, int):
            key = key.to_bytes(self.info.key_size, "little", signed=key < 0)
        if len(key) != self.info.key_size:
            raise KernelError(f"map {self.info.name}: key is {len(key)} bytes, expected {self.info.key_size}")
        return ctypes.create_string_buffer(bytes(key), max(len(key), 1))

    def lookup(self, key: bytes | int) -> bytes | None:
        """The value at ``key``, or None when there is no such element."""
        kbuf = self._key(key)
        vbuf = ctypes.create_string_buffer(max(self.value_buffer_size, 1))
        ret = _ffi.libbpf().bpf_map_lookup_elem(self.fd, kbuf, vbuf)
        if ret < 0:
            err = _ffi.errno_of(ret)
            if err == errno.ENOENT:
                return None
            raise _ffi.fail(f"map {self.info.name}: lookup failed", err)
        return vbuf.raw[: self.value_buffer_size]

    def update(self, key: bytes | int, value: bytes, flags: int = _ffi.BPF_ANY) -> None:
        """Set ``key`` to ``value`` (flags: BPF_ANY 0, BPF_NOEXIST 1, BPF_EXIST 2)."""
        kbuf = self._key(key)
        value = bytes(value)
        if self.percpu and len(value) == self.info.value_size:
            step = ((self.info.value_size + 7) // 8) * 8
            value = value.ljust(step, b"\0") * possible_cpus()
        if len(value) != self.value_buffer_size:
            raise KernelError(f"map {self.info.name}: value is {len(value)} bytes, "
                              f"expected {self.value_buffer_size}")
        vbuf = ctypes.create_string_buffer(value, max(len(value), 1))
        ret = _ffi.libbpf().bpf_map_update_elem(self.fd, kbuf, vbuf, flags)
        if ret < 0:
            raise _ffi.fail(f"map {self.info.name}: update failed", _ffi.errno_of(ret))

    def delete(self, key: bytes | int) -> bool:
        """Delete ``key``; False if it was not there."""
        ret = _ffi.libbpf().bpf_map_delete_elem(self.fd, self._key(key))
        if ret < 0:
            err = _ffi.errno_of(ret)
            if err == errno.ENOENT:
                return False
            raise _ffi.fail(f"map {self.info.name}: delete failed", err)
        return True

    def keys(self) -> Iterator[bytes]:
        """Every key, in the kernel's iteration order (``bpf_map_get_next_key``)."""
        size = max(self.info.key_size, 1)
        prev: ctypes.Array[ctypes.c_char] | None = None
        while True:
            nxt = ctypes.create_string_buffer(size)
            ret = _ffi.libbpf().bpf_map_get_next_key(self.fd, prev, nxt)
            if ret < 0:
                err = _ffi.errno_of(ret)
                if err == errno.ENOENT:
                    return
                raise _ffi.fail(f"map {self.info.name}: cannot iterate", err)
            yield nxt.raw[: self.info.key_size]
            prev = nxt

    def items(self) -> list[tuple[bytes, bytes]]:
        """Every (key, value) pair; elements deleted while iterating are skipped."""
        out = []
        for key in self.keys():
            value = self.lookup(key)
            if value is not None:
                out.append((key, value))
        return out

    def close(self) -> None:
        if self._own and isinstance(self._fd, Fd):
            self._fd.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

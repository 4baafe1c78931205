"""The emulated address space: disjoint regions behind virtual addresses.

Every region (a stack frame, the context, the packet, one map value, a global data
section, a ring-buffer record, the caller's input memory) gets a *key*; its bytes sit at
``key << 32`` .. ``(key << 32) + len(buf)``.  An address is therefore split into
``key = addr >> 32`` and ``offset = addr & 0xFFFFFFFF``, and an access is valid only when
the key names a region and ``offset + size`` stays inside it.  Addresses below ``1 << 32``
(NULL, small integers) never name a region, and two regions can never overlap, so a
program cannot reach one region from another nor any host memory: the only bytes it
touches are the ``bytearray`` of a region.

Read-only regions (``.rodata``, a map frozen for programs) are in :attr:`Memory.readable`
but not in :attr:`Memory.writable`; code and map "pointers" are keys with no bytes at all.
The two dicts are what the translated code indexes directly (see
:mod:`bpfbuild.vm.compiler`), so they are plain ``dict[int, bytearray]``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = ["OFFSET_MASK", "REGION_SHIFT", "Memory", "Region", "RegionKind", "Trap"]

REGION_SHIFT = 32
OFFSET_MASK = (1 << REGION_SHIFT) - 1
_M64 = (1 << 64) - 1


class Trap(Exception):
    """A fault inside the emulator (bad access, bad helper argument, unknown helper...).

    Never escapes :mod:`bpfbuild.vm`: the frame of the translated program that sees it turns
    it into a :class:`~bpfbuild.errors.VMError` with the pc, source line and registers.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class RegionKind(enum.Enum):
    """What a region holds (for messages and for the helpers' argument checks)."""

    STACK = "stack"
    CTX = "ctx"
    PACKET = "packet"
    MEM = "input memory"
    MAP_VALUE = "map value"
    GLOBAL = "global data"
    RINGBUF = "ring buffer record"
    CODE = "code"
    MAP = "map"
    SCRATCH = "helper scratch"
    KERNEL = "kernel object"


@dataclass(slots=True, eq=False)
class Region:
    """One mapped region; ``buf`` is the region's own bytes (empty for code and map keys)."""

    key: int
    kind: RegionKind
    name: str
    buf: bytearray
    writable: bool

    @property
    def base(self) -> int:
        return self.key << REGION_SHIFT

    @property
    def size(self) -> int:
        return len(self.buf)

    def describe(self) -> str:
        return f"{self.kind.value} {self.name}" if self.name else self.kind.value


class Memory:
    """The address space of one session (or one ``run_bytecode`` call).

    Keys are never reused, so a stale pointer to an unmapped region faults instead of
    silently aliasing a newer region (except stack frames, which are reused per call depth
    as the kernel reuses its stack).
    """

    __slots__ = ("_next_key", "readable", "regions", "writable")

    def __init__(self) -> None:
        self.readable: dict[int, bytearray] = {}
        self.writable: dict[int, bytearray] = {}
        self.regions: dict[int, Region] = {}
        self._next_key = 1

    # --- mapping -------------------------------------------------------------------------

    def new_key(self) -> int:
        key = self._next_key
        self._next_key += 1
        return key

    def new_keys(self, count: int) -> list[int]:
        first = self._next_key
        self._next_key += count
        return list(range(first, first + count))

    def map(self, buf: bytearray, kind: RegionKind, name: str = "", *, writable: bool = True,
            key: int | None = None) -> int:
        """Map ``buf`` (kept by reference: writes by the program land in it); returns its base."""
        if key is None:
            key = self.new_key()
        region = Region(key, kind, name, buf, writable)
        self.regions[key] = region
        if kind not in (RegionKind.CODE, RegionKind.MAP):
            self.readable[key] = buf
            if writable:
                self.writable[key] = buf
            else:
                self.writable.pop(key, None)
        return key << REGION_SHIFT

    def reserve(self, kind: RegionKind, name: str = "") -> int:
        """A key with no bytes (code, maps): a valid pointer value that faults if dereferenced."""
        return self.map(bytearray(), kind, name, writable=False)

    def unmap(self, addr: int) -> None:
        key = addr >> REGION_SHIFT
        self.regions.pop(key, None)
        self.readable.pop(key, None)
        self.writable.pop(key, None)

    def region_of(self, addr: int) -> Region | None:
        return self.regions.get(addr >> REGION_SHIFT)

    # --- checked access (helpers) ------------------------------------------------------------

    def read(self, addr: int, size: int, what: str = "read") -> bytes:
        """``size`` bytes at ``addr``; :class:`Trap` if any of them is not readable."""
        if size == 0:
            return b""
        buf = self.readable.get(addr >> REGION_SHIFT)
        off = addr & OFFSET_MASK
        if buf is None or size < 0 or off + size > len(buf):
            raise Trap(self.explain(addr, size, what))
        return bytes(buf[off:off + size])

    def write(self, addr: int, data: bytes | bytearray, what: str = "write") -> None:
        """Store ``data`` at ``addr``; :class:`Trap` unless the whole range is writable."""
        size = len(data)
        if size == 0:
            return
        buf = self.writable.get(addr >> REGION_SHIFT)
        off = addr & OFFSET_MASK
        if buf is None or off + size > len(buf):
            raise Trap(self.explain(addr, size, what, write=True))
        buf[off:off + size] = data

    def view(self, addr: int, size: int, *, write: bool = False, what: str = "access") -> memoryview:
        """A checked window on the bytes at ``addr`` (for helpers that work in place)."""
        table = self.writable if write else self.readable
        buf = table.get(addr >> REGION_SHIFT)
        off = addr & OFFSET_MASK
        if buf is None or size < 0 or off + size > len(buf):
            raise Trap(self.explain(addr, size, what, write=write))
        return memoryview(buf)[off:off + size]

    def readable_span(self, addr: int) -> int:
        """How many bytes are readable from ``addr`` on (0 if none)."""
        buf = self.readable.get(addr >> REGION_SHIFT)
        off = addr & OFFSET_MASK
        return max(len(buf) - off, 0) if buf is not None else 0

    def read_cstr(self, addr: int, limit: int) -> bytes | None:
        """The NUL-terminated string at ``addr`` (without the NUL), at most ``limit`` bytes;
        None if no NUL is found inside the region within ``limit`` bytes."""
        buf = self.readable.get(addr >> REGION_SHIFT)
        if buf is None:
            return None
        off = addr & OFFSET_MASK
        end = buf.find(0, off, min(off + limit, len(buf)))
        if end < 0:
            return None
        return bytes(buf[off:end])

    # --- messages ------------------------------------------------------------------------

    def explain(self, addr: int, size: int, what: str, *, write: bool = False) -> str:
        """Why an access of ``size`` bytes at ``addr`` is invalid, in words."""
        addr &= _M64
        head = f"invalid {what} of {size} byte{'s' if size != 1 else ''} at {addr:#x}"
        key = addr >> REGION_SHIFT
        region = self.regions.get(key)
        off = addr & OFFSET_MASK
        above = self.regions.get(key + 1)
        if above is not None and off > OFFSET_MASK - (1 << 20) and (region is None or off > region.size + (1 << 20)):
            return f"{head}: {(1 << REGION_SHIFT) - off} bytes before the start of {above.describe()}"
        if region is not None:
            if region.kind == RegionKind.MAP and not write:   # map->max_entries & co (the verifier allows them)
                return f"{head}: it points to a {region.describe()} (reads of struct bpf_map fields are not emulated)"
            if region.kind in (RegionKind.CODE, RegionKind.MAP):
                return f"{head}: it points to a {region.describe()}, which has no readable bytes"
            if key not in self.readable:
                return f"{head}: {region.describe()} is gone (a returned call, a freed element)"
            if write and not region.writable and off + size <= region.size:
                return f"{head}: {region.describe()} is read-only"
            if off < region.size:
                return (f"{head}: {region.describe()} is {region.size} bytes, the access ends "
                        f"{off + size - region.size} past it (offset {off})")
            return f"{head}: {off - region.size} bytes past the end of {region.describe()} " \
                   f"({region.size} bytes)"
        if addr < (1 << REGION_SHIFT):
            return f"{head}: not a pointer (NULL or a plain number)"
        return f"{head}: no memory there"

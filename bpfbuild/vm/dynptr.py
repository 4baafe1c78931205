"""Dynamic pointers (``struct bpf_dynptr``), as Linux 6.18 implements them.

The 16 opaque bytes a program keeps on its stack hold the kernel's ``struct bpf_dynptr_kern``
``{ void *data; u32 size; u32 offset; }``: bits 0-23 of ``size`` are the usable size, bits
28-30 the type (1 local memory, 2 ring-buffer record, 3 skb, 4 xdp), bit 31 read-only.  A
NULL dynptr is sixteen zero bytes.  Local and ring-buffer dynptrs point at emulated memory;
skb and xdp dynptrs hold the context's address and reach the packet of the current run, at
``offset`` from ``skb->data`` / ``xdp->data``.

Helpers (kernel/bpf/helpers.c, kernel/bpf/ringbuf.c): ``bpf_ringbuf_reserve_dynptr``
(``-EINVAL`` for flags or no room, ``-E2BIG`` past 16 MiB, a NULL dynptr on failure),
``bpf_ringbuf_submit_dynptr`` / ``_discard_dynptr`` (nothing for a NULL dynptr),
``bpf_dynptr_from_mem``, ``bpf_dynptr_read`` / ``_write`` (``-EINVAL`` for a NULL or read-only
dynptr or flags, ``-E2BIG`` past its end) and ``bpf_dynptr_data`` (NULL for skb/xdp dynptrs).

kfuncs (kernel/bpf/helpers.c, net/core/filter.c): ``bpf_dynptr_from_skb`` (read-only in program
types that may not write the packet, as the verifier patches it), ``bpf_dynptr_from_xdp``,
``bpf_dynptr_slice`` / ``_slice_rdwr`` (the emulator's packets are linear, so a slice points
into the packet; a socket filter's packet, which the emulator does not map, is copied into
the buffer), ``bpf_dynptr_adjust``, ``_is_null``, ``_is_rdonly``, ``_size``, ``_clone``,
``_copy``, ``_memset``.
"""

from __future__ import annotations

import errno
import struct
from typing import TYPE_CHECKING

from bpfbuild.errors import NotEmulated
from bpfbuild.vm.context import SkbState, XdpState
from bpfbuild.vm.maps import RingBuf
from bpfbuild.vm.memory import Trap

if TYPE_CHECKING:
    from bpfbuild.vm.runtime import Runtime

__all__ = ["DYNPTR_HELPERS", "DYNPTR_KFUNCS"]

_M32 = (1 << 32) - 1
_KERN = struct.Struct("<QII")       # struct bpf_dynptr_kern { void *data; u32 size; u32 offset; }
_NULL = bytes(_KERN.size)
SIZE_MASK = 0xFFFFFF                # DYNPTR_SIZE_MASK, also DYNPTR_MAX_SIZE
TYPE_SHIFT = 28
RDONLY_BIT = 1 << 31
LOCAL, RINGBUF, SKB, XDP = 1, 2, 3, 4
BPF_F_RECOMPUTE_CSUM, BPF_F_INVALIDATE_HASH = 1, 2


class _Dynptr:
    """One decoded dynptr and where it lives."""

    __slots__ = ("addr", "data", "offset", "word")

    def __init__(self, rt: Runtime, addr: int) -> None:
        self.addr = addr
        self.data, self.word, self.offset = _KERN.unpack(rt.memory.read(addr, _KERN.size, "read of the dynptr"))

    @property
    def size(self) -> int:
        return self.word & SIZE_MASK

    @property
    def kind(self) -> int:
        return (self.word & ~RDONLY_BIT) >> TYPE_SHIFT

    @property
    def rdonly(self) -> bool:
        return bool(self.word & RDONLY_BIT)

    def fits(self, offset: int, length: int) -> bool:
        """bpf_dynptr_check_off_len."""
        size = self.size
        return not (length > size or offset > size - length)


def _init(rt: Runtime, addr: int, data: int, kind: int, size: int, *, rdonly: bool = False) -> None:
    word = size | kind << TYPE_SHIFT | (RDONLY_BIT if rdonly else 0)
    rt.memory.write(addr, _KERN.pack(data, word, 0), "write of the dynptr")


def _set_null(rt: Runtime, addr: int) -> None:
    rt.memory.write(addr, _NULL, "write of the dynptr")


# --- the bytes behind a dynptr -----------------------------------------------------------------

def _skb_state(rt: Runtime) -> SkbState:
    if not isinstance(rt.state, SkbState):
        raise Trap("an skb dynptr used outside the run that made it")
    return rt.state


def _xdp_state(rt: Runtime) -> XdpState:
    if not isinstance(rt.state, XdpState):
        raise Trap("an xdp dynptr used outside the run that made it")
    return rt.state


def _xdp_start(xdp: XdpState, offset: int, length: int) -> int | None:
    """bpf_xdp_pointer: where ``offset`` lies in the packet's region (None: -EFAULT/-EINVAL)."""
    if offset > 0xFFFF or length > 0xFFFF or offset + length > xdp.length:
        return None
    return xdp.data - xdp.meta + offset


def _read(rt: Runtime, d: _Dynptr, offset: int, length: int) -> bytes | int:
    """__bpf_dynptr_read's copy: the bytes, or an error (the checks already passed)."""
    start = d.offset + offset
    match d.kind:
        case 1 | 2:
            return rt.memory.read(d.data + start, length, "read of the dynptr's memory")
        case 3:
            skb = _skb_state(rt)
            data = skb.data_view()
            if start > 0x7FFFFFFF or start + length > len(data):
                return -errno.EFAULT
            return bytes(data[start:start + length])
        case 4:
            xdp = _xdp_state(rt)
            at = _xdp_start(xdp, start, length)
            if at is None:
                return -errno.EINVAL
            assert xdp.region is not None
            return bytes(xdp.region[at:at + length])
    return -errno.EFAULT


def _write(rt: Runtime, d: _Dynptr, offset: int, data: bytes, flags: int) -> int:
    """__bpf_dynptr_write after its checks."""
    start = d.offset + offset
    match d.kind:
        case 1 | 2:
            if flags:
                return -errno.EINVAL
            rt.memory.write(d.data + start, data, "write of the dynptr's memory")
            return 0
        case 3:   # __bpf_skb_store_bytes
            skb = _skb_state(rt)
            if flags & ~(BPF_F_RECOMPUTE_CSUM | BPF_F_INVALIDATE_HASH):
                return -errno.EINVAL
            if start > 0x7FFFFFFF or start + len(data) > skb.length:
                return -errno.EFAULT
            skb.data_view()[start:start + len(data)] = data
            if flags & BPF_F_INVALIDATE_HASH:
                skb._put("hash", 0)
            skb.packet_changed()   # the verifier invalidates packet pointers after it
            return 0
        case 4:
            if flags:
                return -errno.EINVAL
            xdp = _xdp_state(rt)
            at = _xdp_start(xdp, start, len(data))
            if at is None:
                return -errno.EINVAL
            assert xdp.region is not None
            xdp.region[at:at + len(data)] = data
            return 0
    return -errno.EFAULT


# --- helpers -----------------------------------------------------------------------------------

def ringbuf_reserve_dynptr(rt: Runtime, map_ptr: int, size: int, flags: int, ptr: int, *_: int) -> int:
    m = rt.map_at(map_ptr)
    if not isinstance(m, RingBuf):
        raise Trap(f"map {m.name} is not a ring buffer")
    size &= _M32
    if flags:
        _set_null(rt, ptr)
        return -errno.EINVAL
    if size > SIZE_MASK:
        _set_null(rt, ptr)
        return -errno.E2BIG
    addr = m.reserve(size)
    if not addr:
        _set_null(rt, ptr)
        return -errno.EINVAL
    rt.ring_records[addr] = m
    _init(rt, ptr, addr, RINGBUF, size)
    return 0


def _ring_commit(rt: Runtime, ptr: int, discard: bool) -> int:
    d = _Dynptr(rt, ptr)
    if not d.data:
        return 0
    rb = rt.ring_records.pop(d.data, None)
    if rb is None or not rb.commit(d.data, discard):
        raise Trap(f"{d.data:#x} is not a reserved ring buffer record (already submitted or discarded?)")
    _set_null(rt, ptr)
    return 0


def ringbuf_submit_dynptr(rt: Runtime, ptr: int, flags: int, *_: int) -> int:
    return _ring_commit(rt, ptr, False)


def ringbuf_discard_dynptr(rt: Runtime, ptr: int, flags: int, *_: int) -> int:
    return _ring_commit(rt, ptr, True)


def dynptr_from_mem(rt: Runtime, data: int, size: int, flags: int, ptr: int, *_: int) -> int:
    size &= _M32
    if size > SIZE_MASK:
        _set_null(rt, ptr)
        return -errno.E2BIG
    if flags:
        _set_null(rt, ptr)
        return -errno.EINVAL
    _init(rt, ptr, data, LOCAL, size)
    return 0


def dynptr_read(rt: Runtime, dst: int, length: int, src: int, offset: int, flags: int) -> int:
    length &= _M32
    offset &= _M32
    d = _Dynptr(rt, src)
    if not d.data or flags:
        return -errno.EINVAL
    if not d.fits(offset, length):
        return -errno.E2BIG
    got = _read(rt, d, offset, length)
    if isinstance(got, int):
        if d.kind == SKB:   # ____bpf_skb_load_bytes clears the destination on failure
            rt.memory.write(dst, bytes(length), "write of the destination")
        return got
    rt.memory.write(dst, got, "write of the destination")
    return 0


def dynptr_write(rt: Runtime, dst: int, offset: int, src: int, length: int, flags: int) -> int:
    length &= _M32
    offset &= _M32
    d = _Dynptr(rt, dst)
    if not d.data or d.rdonly:
        return -errno.EINVAL
    if not d.fits(offset, length):
        return -errno.E2BIG
    return _write(rt, d, offset, rt.memory.read(src, length, "read of the source"), flags)


def dynptr_data(rt: Runtime, ptr: int, offset: int, length: int, *_: int) -> int:
    offset &= _M32
    length &= _M32
    d = _Dynptr(rt, ptr)
    if not d.data or not d.fits(offset, length) or d.rdonly or d.kind not in (LOCAL, RINGBUF):
        return 0
    return d.data + d.offset + offset


#: helper implementations (the names are the helpers' without ``bpf_``)
DYNPTR_HELPERS = (ringbuf_reserve_dynptr, ringbuf_submit_dynptr, ringbuf_discard_dynptr, dynptr_from_mem,
                  dynptr_read, dynptr_write, dynptr_data)


# --- kfuncs ------------------------------------------------------------------------------------

def dynptr_from_skb(rt: Runtime, ctx: int, flags: int, ptr: int, *_: int) -> int:
    if flags:
        _set_null(rt, ptr)
        return -errno.EINVAL
    skb = _skb_state(rt)
    _init(rt, ptr, ctx, SKB, skb.length, rdonly=not skb.packet_writable)
    return 0


def dynptr_from_xdp(rt: Runtime, ctx: int, flags: int, ptr: int, *_: int) -> int:
    if flags:
        _set_null(rt, ptr)
        return -errno.EINVAL
    _init(rt, ptr, ctx, XDP, _xdp_state(rt).length)
    return 0


def dynptr_slice(rt: Runtime, ptr: int, offset: int, buffer: int, length: int, *_: int) -> int:
    offset &= _M32
    length &= _M32
    d = _Dynptr(rt, ptr)
    if not d.data or not d.fits(offset, length):
        return 0
    start = d.offset + offset
    match d.kind:
        case 1 | 2:
            return d.data + start
        case 3:
            skb = _skb_state(rt)
            if start + length > skb.length:
                return 0
            if skb.region_addr and skb.data_off == 0:
                return skb.region_addr + start
            if not buffer:   # the kernel's skb is linear: it would return a direct pointer
                raise NotEmulated("bpf_dynptr_slice without a buffer on a packet the program cannot address")
            rt.memory.write(buffer, bytes(skb.data_view()[start:start + length]), "write of the buffer")
            return buffer
        case 4:
            xdp = _xdp_state(rt)
            at = _xdp_start(xdp, start, length)
            if at is None:
                return 0
            return xdp.region_addr + at
    return 0


def dynptr_slice_rdwr(rt: Runtime, ptr: int, offset: int, buffer: int, length: int, *_: int) -> int:
    d = _Dynptr(rt, ptr)
    if not d.data or d.rdonly:
        return 0
    return dynptr_slice(rt, ptr, offset, buffer, length)


def dynptr_adjust(rt: Runtime, ptr: int, start: int, end: int, *_: int) -> int:
    start &= _M32
    end &= _M32
    d = _Dynptr(rt, ptr)
    if not d.data or start > end:
        return -errno.EINVAL
    if start > d.size or end > d.size:
        return -errno.ERANGE
    word = (d.word & ~SIZE_MASK) | (end - start)
    rt.memory.write(ptr, _KERN.pack(d.data, word, (d.offset + start) & _M32), "write of the dynptr")
    return 0


def dynptr_is_null(rt: Runtime, ptr: int, *_: int) -> int:
    return int(not _Dynptr(rt, ptr).data)


def dynptr_is_rdonly(rt: Runtime, ptr: int, *_: int) -> int:
    d = _Dynptr(rt, ptr)
    return int(bool(d.data) and d.rdonly)


def dynptr_size(rt: Runtime, ptr: int, *_: int) -> int:
    d = _Dynptr(rt, ptr)
    return d.size if d.data else -errno.EINVAL & _M32   # a __u32 return


def dynptr_clone(rt: Runtime, ptr: int, clone: int, *_: int) -> int:
    raw = rt.memory.read(ptr, _KERN.size, "read of the dynptr")
    if not _KERN.unpack(raw)[0]:
        _set_null(rt, clone)
        return -errno.EINVAL
    rt.memory.write(clone, raw, "write of the clone")
    return 0


def dynptr_copy(rt: Runtime, dst: int, dst_off: int, src: int, src_off: int, size: int) -> int:
    """bpf_dynptr_copy: its errors in the kernel's order (a side that has a slice is taken as
    it is; the other side's read or write reports its own error)."""
    dst_off &= _M32
    src_off &= _M32
    size &= _M32
    s, d = _Dynptr(rt, src), _Dynptr(rt, dst)
    src_ok = bool(s.data) and s.fits(src_off, size)
    dst_ok = bool(d.data) and not d.rdonly and d.fits(dst_off, size)
    if not src_ok and not dst_ok:   # the chunked read-then-write path
        if not d.fits(dst_off, size) or not s.fits(src_off, size):
            return -errno.E2BIG
        return 0                     # only a size of 0 gets here
    if not dst_ok:                   # __bpf_dynptr_write's checks
        return -errno.EINVAL if not d.data or d.rdonly else -errno.E2BIG
    if not src_ok:                   # __bpf_dynptr_read's checks
        return -errno.EINVAL if not s.data else -errno.E2BIG
    got = _read(rt, s, src_off, size)
    if isinstance(got, int):
        return got
    return _write(rt, d, dst_off, got, 0)


def dynptr_memset(rt: Runtime, ptr: int, offset: int, size: int, val: int, *_: int) -> int:
    offset &= _M32
    size &= _M32
    d = _Dynptr(rt, ptr)
    if d.rdonly:
        return -errno.EINVAL
    if not d.fits(offset, size):
        return -errno.E2BIG
    if not d.data:                   # a NULL dynptr fits only a size of 0: nothing to do
        return 0
    return _write(rt, d, offset, bytes([val & 0xFF]) * size, 0)


#: kfunc name -> implementation
DYNPTR_KFUNCS = {
    "bpf_dynptr_from_skb": dynptr_from_skb,
    "bpf_dynptr_from_xdp": dynptr_from_xdp,
    "bpf_dynptr_slice": dynptr_slice,
    "bpf_dynptr_slice_rdwr": dynptr_slice_rdwr,
    "bpf_dynptr_adjust": dynptr_adjust,
    "bpf_dynptr_is_null": dynptr_is_null,
    "bpf_dynptr_is_rdonly": dynptr_is_rdonly,
    "bpf_dynptr_size": dynptr_size,
    "bpf_dynptr_clone": dynptr_clone,
    "bpf_dynptr_copy": dynptr_copy,
    "bpf_dynptr_memset": dynptr_memset,
}

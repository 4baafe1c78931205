"""What the kernel says about loaded programs, maps and BTF (``bpf_obj_get_info_by_fd``).

Everything ``bpftool prog show`` / ``map show`` prints, plus the images ``prog dump`` reads
(xlated and jited instructions, line and func info, subprogram symbols).  Objects are found
by id (``*_get_next_id`` / ``*_get_fd_by_id``), by pin path (``bpf_obj_get``), by name or tag.
Each function that opens something returns an :class:`~bpfbuild.kernel.fd.Fd` the caller
closes (``with``).
"""

from __future__ import annotations

import ctypes
import errno
import os
import time
from collections.abc import Iterator
from ctypes import c_uint32
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from bpfbuild.errors import KernelError
from bpfbuild.kernel import _ffi
from bpfbuild.kernel.fd import Fd

__all__ = [
    "BtfInfo",
    "FuncInfo",
    "LineInfo",
    "MapInfo",
    "ObjKind",
    "ProgImages",
    "ProgInfo",
    "btf_info",
    "fdinfo",
    "find_maps",
    "find_progs",
    "ids",
    "loaded_at",
    "map_info",
    "map_type_name",
    "open_by_id",
    "open_pinned",
    "pinned_ids",
    "prog_images",
    "prog_info",
    "prog_type_name",
]


class ObjKind(Enum):
    """The kinds of kernel BPF objects with ids."""

    PROG = "prog"
    MAP = "map"
    BTF = "btf"
    LINK = "link"


_NEXT_ID = {ObjKind.PROG: "bpf_prog_get_next_id", ObjKind.MAP: "bpf_map_get_next_id",
            ObjKind.BTF: "bpf_btf_get_next_id", ObjKind.LINK: "bpf_link_get_next_id"}
_BY_ID = {ObjKind.PROG: "bpf_prog_get_fd_by_id", ObjKind.MAP: "bpf_map_get_fd_by_id",
          ObjKind.BTF: "bpf_btf_get_fd_by_id", ObjKind.LINK: "bpf_link_get_fd_by_id"}


@dataclass(frozen=True, slots=True)
class ProgInfo:
    """A loaded program as the kernel describes it (``struct bpf_prog_info`` + fdinfo memlock)."""

    id: int
    type: int
    type_name: str              # libbpf's name for the type ("xdp", "raw_tracepoint"), or ""
    name: str                   # the kernel's (<= 15 chars)
    tag: str                    # 16 hex digits
    gpl_compatible: bool
    load_time_ns: int           # since boot
    uid: int
    bytes_xlated: int
    bytes_jited: int
    map_ids: tuple[int, ...]
    btf_id: int
    ifindex: int
    nr_func_info: int
    nr_line_info: int
    nr_jited_ksyms: int
    verified_insns: int
    run_time_ns: int
    run_cnt: int
    recursion_misses: int
    bytes_memlock: int | None

    @property
    def jited(self) -> bool:
        return self.bytes_jited > 0

    @property
    def loaded_at(self) -> int:
        """Load time as seconds since the epoch (what ``bpftool --json`` prints)."""
        return loaded_at(self.load_time_ns)


@dataclass(frozen=True, slots=True)
class LineInfo:
    """One BTF line-info record of a loaded program (``insn`` is a slot index)."""

    insn: int
    file_name_off: int
    line_off: int
    line: int
    column: int


@dataclass(frozen=True, slots=True)
class FuncInfo:
    insn: int
    type_id: int


@dataclass(frozen=True, slots=True)
class ProgImages:
    """The program as the kernel runs it: xlated instructions, JIT image, debug info."""

    xlated: bytes
    jited: bytes
    func_info: tuple[FuncInfo, ...]
    line_info: tuple[LineInfo, ...]
    jited_ksyms: tuple[int, ...]       # address of each (sub)program's JIT image
    jited_func_lens: tuple[int, ...]
    prog_tags: tuple[str, ...]         # tag of each subprogram


@dataclass(frozen=True, slots=True)
class MapInfo:
    id: int
    type: int
    type_name: str
    name: str
    key_size: int
    value_size: int
    max_entries: int
    flags: int
    btf_id: int
    btf_key_type_id: int
    btf_value_type_id: int
    btf_vmlinux_value_type_id: int
    ifindex: int
    map_extra: int
    bytes_memlock: int | None
    frozen: bool


@dataclass(frozen=True, slots=True)
class BtfInfo:
    id: int
    name: str
    kernel_btf: bool
    data: bytes


# --- helpers --------------------------------------------------------------------------------

def prog_type_name(prog_type: int) -> str:
    return _ffi.cstr(_ffi.libbpf().libbpf_bpf_prog_type_str(prog_type))


def map_type_name(map_type: int) -> str:
    return _ffi.cstr(_ffi.libbpf().libbpf_bpf_map_type_str(map_type))


def fdinfo(fd: int | Fd) -> dict[str, str]:
    """``/proc/self/fdinfo/<fd>`` as a dict (``memlock``, ``frozen``, ``prog_tag``, ...)."""
    out: dict[str, str] = {}
    try:
        text = Path(f"/proc/self/fdinfo/{int(fd)}").read_text()
    except OSError:
        return out
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            out[key.strip()] = value.strip()
    return out


def _int_or_none(text: str | None) -> int | None:
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


def loaded_at(load_time_ns: int) -> int:
    """Boot-relative nanoseconds -> epoch seconds, computed as bpftool does."""
    real = time.clock_gettime_ns(time.CLOCK_REALTIME)
    boot = time.clock_gettime_ns(time.CLOCK_BOOTTIME)
    real_s, real_ns = divmod(real, 1_000_000_000)
    boot_s, boot_ns = divmod(boot, 1_000_000_000)
    rest = real_ns - boot_ns + load_time_ns
    return (real_s - boot_s) + int(rest / 1_000_000_000)   # C division truncates toward zero


def _get_info(fd: int | Fd, info: ctypes.Structure, what: str) -> None:
    length = c_uint32(ctypes.sizeof(info))
    ret = _ffi.libbpf().bpf_obj_get_info_by_fd(int(fd), ctypes.byref(info), ctypes.byref(length))
    _ffi.check(ret, what)


def _u32_array(n: int) -> ctypes.Array[ctypes.c_uint32]:
    return (c_uint32 * max(n, 1))()


# --- programs -------------------------------------------------------------------------------

def prog_info(fd: int | Fd) -> ProgInfo:
    """Everything ``bpftool prog show`` prints about the program behind ``fd``."""
    info = _ffi.BpfProgInfo()
    _get_info(fd, info, "cannot get program info")
    map_ids: tuple[int, ...] = ()
    if info.nr_map_ids:
        # The map list may change between calls (bpf_prog_bind_map); ask with room to spare.
        room = info.nr_map_ids + 8
        ids_buf = _u32_array(room)
        again = _ffi.BpfProgInfo(nr_map_ids=room, map_ids=ctypes.addressof(ids_buf))
        _get_info(fd, again, "cannot get program map ids")
        map_ids = tuple(ids_buf[: min(again.nr_map_ids, room)])
    meta = fdinfo(fd)
    return ProgInfo(
        id=info.id,
        type=info.type,
        type_name=prog_type_name(info.type),
        name=_ffi.cstr(info.name),
        tag=bytes(info.tag).hex(),
        gpl_compatible=bool(info.gpl_compatible),
        load_time_ns=info.load_time,
        uid=info.created_by_uid,
        bytes_xlated=info.xlated_prog_len,
        bytes_jited=info.jited_prog_len,
        map_ids=map_ids,
        btf_id=info.btf_id,
        ifindex=info.ifindex,
        nr_func_info=info.nr_func_info,
        nr_line_info=info.nr_line_info,
        nr_jited_ksyms=info.nr_jited_ksyms,
        verified_insns=info.verified_insns,
        run_time_ns=info.run_time_ns,
        run_cnt=info.run_cnt,
        recursion_misses=info.recursion_misses,
        bytes_memlock=_int_or_none(meta.get("memlock")),
    )


def prog_images(fd: int | Fd) -> ProgImages:
    """The xlated and jited images with func/line info (a second info call with buffers).

    Without ``CAP_SYS_ADMIN`` / with ``kernel.kptr_restrict`` the kernel returns empty images.
    """
    head = _ffi.BpfProgInfo()
    _get_info(fd, head, "cannot get program info")
    xlated = ctypes.create_string_buffer(max(head.xlated_prog_len, 1))
    jited = ctypes.create_string_buffer(max(head.jited_prog_len, 1))
    ksyms = (ctypes.c_uint64 * max(head.nr_jited_ksyms, 1))()
    func_lens = _u32_array(head.nr_jited_func_lens)
    finfo = ctypes.create_string_buffer(max(head.nr_func_info * head.func_info_rec_size, 1))
    linfo = ctypes.create_string_buffer(max(head.nr_line_info * head.line_info_rec_size, 1))
    tags = ctypes.create_string_buffer(max(head.nr_prog_tags * _ffi.BPF_TAG_SIZE, 1))
    full = _ffi.BpfProgInfo(
        xlated_prog_len=head.xlated_prog_len, xlated_prog_insns=ctypes.addressof(xlated),
        jited_prog_len=head.jited_prog_len, jited_prog_insns=ctypes.addressof(jited),
        nr_jited_ksyms=head.nr_jited_ksyms, jited_ksyms=ctypes.addressof(ksyms),
        nr_jited_func_lens=head.nr_jited_func_lens, jited_func_lens=ctypes.addressof(func_lens),
        nr_func_info=head.nr_func_info, func_info_rec_size=head.func_info_rec_size,
        func_info=ctypes.addressof(finfo),
        nr_line_info=head.nr_line_info, line_info_rec_size=head.line_info_rec_size,
        line_info=ctypes.addressof(linfo),
        nr_prog_tags=head.nr_prog_tags, prog_tags=ctypes.addressof(tags),
    )
    _get_info(fd, full, "cannot get program images")
    fsize = full.func_info_rec_size or 8
    funcs = tuple(
        FuncInfo(*_u32s(finfo.raw, i * fsize, 2))
        for i in range(min(full.nr_func_info, head.nr_func_info)) if fsize >= 8
    )
    lsize = full.line_info_rec_size or 16
    lines = []
    for i in range(min(full.nr_line_info, head.nr_line_info)):
        if lsize < 16:
            break
        insn, file_off, line_off, line_col = _u32s(linfo.raw, i * lsize, 4)
        lines.append(LineInfo(insn, file_off, line_off, line_col >> 10, line_col & 0x3FF))
    n_tags = min(full.nr_prog_tags, head.nr_prog_tags)
    return ProgImages(
        xlated=xlated.raw[: min(full.xlated_prog_len, head.xlated_prog_len)],
        jited=jited.raw[: min(full.jited_prog_len, head.jited_prog_len)],
        func_info=funcs,
        line_info=tuple(lines),
        jited_ksyms=tuple(ksyms[: min(full.nr_jited_ksyms, head.nr_jited_ksyms)]),
        jited_func_lens=tuple(func_lens[: min(full.nr_jited_func_lens, head.nr_jited_func_lens)]),
        prog_tags=tuple(tags.raw[i * 8:(i + 1) * 8].hex() for i in range(n_tags)),
    )


def _u32s(raw: bytes, offset: int, count: int) -> tuple[int, ...]:
    return tuple(int.from_bytes(raw[offset + 4 * k: offset + 4 * k + 4], "little") for k in range(count))


# --- maps and BTF ---------------------------------------------------------------------------

def map_info(fd: int | Fd) -> MapInfo:
    info = _ffi.BpfMapInfo()
    _get_info(fd, info, "cannot get map info")
    meta = fdinfo(fd)
    return MapInfo(
        id=info.id,
        type=info.type,
        type_name=map_type_name(info.type),
        name=_ffi.cstr(info.name),
        key_size=info.key_size,
        value_size=info.value_size,
        max_entries=info.max_entries,
        flags=info.map_flags,
        btf_id=info.btf_id,
        btf_key_type_id=info.btf_key_type_id,
        btf_value_type_id=info.btf_value_type_id,
        btf_vmlinux_value_type_id=info.btf_vmlinux_value_type_id,
        ifindex=info.ifindex,
        map_extra=info.map_extra,
        bytes_memlock=_int_or_none(meta.get("memlock")),
        frozen=meta.get("frozen", "0") not in ("0", ""),
    )


def btf_info(fd: int | Fd) -> BtfInfo:
    """A loaded BTF object with its raw bytes (parse them with :mod:`bpfbuild.btf`)."""
    head = _ffi.BpfBtfInfo()
    _get_info(fd, head, "cannot get BTF info")
    data = ctypes.create_string_buffer(max(head.btf_size, 1))
    name = ctypes.create_string_buffer(max(head.name_len + 1, 64))
    full = _ffi.BpfBtfInfo(btf=ctypes.addressof(data), btf_size=head.btf_size,
                           name=ctypes.addressof(name), name_len=len(name))
    _get_info(fd, full, "cannot get BTF data")
    return BtfInfo(id=full.id, name=_ffi.cstr(name.value), kernel_btf=bool(full.kernel_btf),
                   data=data.raw[: min(full.btf_size, head.btf_size)])


# --- finding objects ------------------------------------------------------------------------

def ids(kind: ObjKind) -> Iterator[int]:
    """Every id of ``kind`` currently in the kernel, ascending (needs CAP_SYS_ADMIN)."""
    fn = getattr(_ffi.libbpf(), _NEXT_ID[kind])
    cur = c_uint32(0)
    while True:
        ret = fn(cur.value, ctypes.byref(cur))
        if ret < 0:
            err = _ffi.errno_of(ret)
            if err == errno.ENOENT:
                return
            raise _ffi.fail(f"cannot list {kind.value}s", err)
        yield cur.value


def open_by_id(kind: ObjKind, obj_id: int) -> Fd | None:
    """An fd for the object with this id, or None if it is gone."""
    ret = getattr(_ffi.libbpf(), _BY_ID[kind])(obj_id)
    if ret < 0:
        err = _ffi.errno_of(ret)
        if err == errno.ENOENT:
            return None
        raise _ffi.fail(f"cannot open {kind.value} id {obj_id}", err)
    return Fd(ret, f"{kind.value} {obj_id}")


def open_pinned(path: str | os.PathLike[str]) -> Fd:
    """``bpf_obj_get``: the object pinned at ``path``."""
    ret = _ffi.libbpf().bpf_obj_get(os.fsencode(path))
    if ret < 0:
        raise _ffi.fail(f"cannot open pinned object {os.fspath(path)}", _ffi.errno_of(ret))
    return Fd(ret, f"pinned {os.fspath(path)}")


def _check_kind(fd: Fd, kind: ObjKind, path: str) -> None:
    """A pin may hold a map where a program was asked for (and vice versa): fdinfo tells."""
    meta = fdinfo(fd)
    found = "prog" if "prog_tag" in meta else "map" if "map_type" in meta else "link"
    if found != kind.value:
        fd.close()
        raise KernelError(f"{path}: not a {kind.value} (it is a {found})")


def _find(kind: ObjKind, how: str, value: str) -> list[Fd]:
    match how:
        case "id":
            try:
                obj_id = int(value, 0)
            except ValueError:
                raise KernelError(f"invalid {kind.value} id {value!r}") from None
            fd = open_by_id(kind, obj_id)
            if fd is None:
                raise KernelError(f"no {kind.value} with id {obj_id}", errno=errno.ENOENT)
            return [fd]
        case "pinned":
            fd = open_pinned(value)
            _check_kind(fd, kind, value)
            return [fd]
        case "name" | "tag":
            if how == "tag":
                value = value.lower().replace(":", "")
            found = []
            try:
                for obj_id in ids(kind):
                    fd = open_by_id(kind, obj_id)
                    if fd is None:
                        continue
                    if kind is ObjKind.PROG:
                        p = prog_info(fd)
                        hit = p.name == value if how == "name" else p.tag == value
                    else:
                        hit = map_info(fd).name == value
                    if hit:
                        found.append(fd)
                    else:
                        fd.close()
            except BaseException:
                for fd in found:
                    fd.close()
                raise
            if not found:
                raise KernelError(f"no {kind.value} with {how} {value!r}", errno=errno.ENOENT)
            return found
        case _:
            raise KernelError(f"cannot select a {kind.value} by {how!r} (expected id, name, tag or pinned)")


def find_progs(how: str, value: str) -> list[Fd]:
    """Programs selected as bpftool selects them: ``id N``, ``name X``, ``tag T``, ``pinned P``."""
    return _find(ObjKind.PROG, how, value)


def find_maps(how: str, value: str) -> list[Fd]:
    """Maps selected by ``id N``, ``name X`` or ``pinned P``."""
    if how == "tag":
        raise KernelError("maps have no tag (select by id, name or pinned)")
    return _find(ObjKind.MAP, how, value)


def pinned_ids(kind: ObjKind) -> dict[int, list[str]]:
    """id -> pin paths, for every pin of ``kind`` on every mounted bpffs (bpftool ``-f``)."""
    from bpfbuild.kernel.env import mounts

    found: dict[int, list[str]] = {}
    want = {ObjKind.PROG: "prog_tag", ObjKind.MAP: "map_type", ObjKind.LINK: "link_type"}.get(kind)
    if want is None:
        return found
    for mount in mounts():
        if mount.fstype != "bpf":
            continue
        for root, _dirs, files in os.walk(mount.target):
            for fname in files:
                path = os.path.join(root, fname)
                ret = _ffi.libbpf().bpf_obj_get(os.fsencode(path))
                if ret < 0:
                    continue
                with Fd(ret, path) as fd:
                    meta = fdinfo(fd)
                    if want not in meta:
                        continue
                    obj_id = _int_or_none(meta.get(f"{kind.value}_id"))
                    if obj_id is None:
                        obj_id = prog_info(fd).id if kind is ObjKind.PROG else map_info(fd).id
                found.setdefault(obj_id, []).append(path)
    return found

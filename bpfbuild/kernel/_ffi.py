"""ctypes bindings (private): libbpf.so.1, a few libc calls, and the kernel's structs.

Only this module knows C layouts.  The structs are written from the field lists in
``linux/bpf.h`` and ``bpf/*.h`` (UAPI and libbpf 1.1); ``tests/kernel/test_ffi.py`` checks
every size and offset against a C compiler when one is present.  Nothing is loaded at
import time: :func:`libbpf` opens the library on first use.

libbpf 1.x conventions: int-returning calls return ``-errno`` (and set ``errno``);
pointer-returning calls return NULL and set ``errno``.
"""

from __future__ import annotations

import ctypes
import errno as _errno
import functools
import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from ctypes import (
    CFUNCTYPE,
    POINTER,
    Structure,
    c_bool,
    c_char,
    c_char_p,
    c_int,
    c_size_t,
    c_uint8,
    c_uint32,
    c_uint64,
    c_void_p,
)
from typing import Any, TypeVar

from bpfbuild.errors import KernelError

LIBBPF_SONAME = "libbpf.so.1"

_S = TypeVar("_S", bound=Structure)

BPF_OBJ_NAME_LEN = 16
BPF_TAG_SIZE = 8
BTF_KIND_DATASEC = 15

BPF_XDP = 37                      # enum bpf_attach_type
XDP_FLAGS_UPDATE_IF_NOEXIST = 1 << 0
XDP_FLAGS_SKB_MODE = 1 << 1
XDP_FLAGS_DRV_MODE = 1 << 2
XDP_FLAGS_REPLACE = 1 << 4

BPF_ANY, BPF_NOEXIST, BPF_EXIST = 0, 1, 2


# --- kernel UAPI structs (linux/bpf.h) ---------------------------------------------------

class BpfProgInfo(Structure):
    """``struct bpf_prog_info`` as of Linux 6.1 UAPI (the kernel accepts a shorter struct)."""

    _fields_ = [
        ("type", c_uint32),
        ("id", c_uint32),
        ("tag", c_uint8 * BPF_TAG_SIZE),
        ("jited_prog_len", c_uint32),
        ("xlated_prog_len", c_uint32),
        ("jited_prog_insns", c_uint64),
        ("xlated_prog_insns", c_uint64),
        ("load_time", c_uint64),
        ("created_by_uid", c_uint32),
        ("nr_map_ids", c_uint32),
        ("map_ids", c_uint64),
        ("name", c_char * BPF_OBJ_NAME_LEN),
        ("ifindex", c_uint32),
        ("gpl_compatible", c_uint32, 1),
        ("_pad0", c_uint32, 31),
        ("netns_dev", c_uint64),
        ("netns_ino", c_uint64),
        ("nr_jited_ksyms", c_uint32),
        ("nr_jited_func_lens", c_uint32),
        ("jited_ksyms", c_uint64),
        ("jited_func_lens", c_uint64),
        ("btf_id", c_uint32),
        ("func_info_rec_size", c_uint32),
        ("func_info", c_uint64),
        ("nr_func_info", c_uint32),
        ("nr_line_info", c_uint32),
        ("line_info", c_uint64),
        ("jited_line_info", c_uint64),
        ("nr_jited_line_info", c_uint32),
        ("line_info_rec_size", c_uint32),
        ("jited_line_info_rec_size", c_uint32),
        ("nr_prog_tags", c_uint32),
        ("prog_tags", c_uint64),
        ("run_time_ns", c_uint64),
        ("run_cnt", c_uint64),
        ("recursion_misses", c_uint64),
        ("verified_insns", c_uint32),
        ("attach_btf_obj_id", c_uint32),
        ("attach_btf_id", c_uint32),
        ("_pad1", c_uint32),
    ]


class BpfMapInfo(Structure):
    """``struct bpf_map_info``."""

    _fields_ = [
        ("type", c_uint32),
        ("id", c_uint32),
        ("key_size", c_uint32),
        ("value_size", c_uint32),
        ("max_entries", c_uint32),
        ("map_flags", c_uint32),
        ("name", c_char * BPF_OBJ_NAME_LEN),
        ("ifindex", c_uint32),
        ("btf_vmlinux_value_type_id", c_uint32),
        ("netns_dev", c_uint64),
        ("netns_ino", c_uint64),
        ("btf_id", c_uint32),
        ("btf_key_type_id", c_uint32),
        ("btf_value_type_id", c_uint32),
        ("_pad0", c_uint32),
        ("map_extra", c_uint64),
    ]


class BpfBtfInfo(Structure):
    """``struct bpf_btf_info``."""

    _fields_ = [
        ("btf", c_uint64),
        ("btf_size", c_uint32),
        ("id", c_uint32),
        ("name", c_uint64),
        ("name_len", c_uint32),
        ("kernel_btf", c_uint32),
    ]


class BpfLinkInfoHead(Structure):
    """The fixed head of ``struct bpf_link_info`` (type, id, prog_id); the union is not read."""

    _fields_ = [
        ("type", c_uint32),
        ("id", c_uint32),
        ("prog_id", c_uint32),
        ("_pad0", c_uint32),
        ("_union", c_uint64 * 8),
    ]


class BtfType(Structure):
    """``struct btf_type`` head: name_off, info (vlen:16, kind:5 at bit 24, kflag at 31), size/type."""

    _fields_ = [("name_off", c_uint32), ("info", c_uint32), ("size", c_uint32)]


class BtfVarSecinfo(Structure):
    _fields_ = [("type", c_uint32), ("offset", c_uint32), ("size", c_uint32)]


# --- libbpf option structs (bpf/libbpf.h, bpf/bpf.h) --------------------------------------

class ObjectOpenOpts(Structure):
    """``struct bpf_object_open_opts`` (libbpf 1.1)."""

    _fields_ = [
        ("sz", c_size_t),
        ("object_name", c_char_p),
        ("relaxed_maps", c_bool),
        ("pin_root_path", c_char_p),
        ("_stub_attach_prog_fd", c_uint32),
        ("kconfig", c_char_p),
        ("btf_custom_path", c_char_p),
        ("kernel_log_buf", c_void_p),
        ("kernel_log_size", c_size_t),
        ("kernel_log_level", c_uint32),
    ]


class TestRunOpts(Structure):
    """``struct bpf_test_run_opts`` (libbpf 1.1)."""

    __test__ = False  # not a pytest class

    _fields_ = [
        ("sz", c_size_t),
        ("data_in", c_void_p),
        ("data_out", c_void_p),
        ("data_size_in", c_uint32),
        ("data_size_out", c_uint32),
        ("ctx_in", c_void_p),
        ("ctx_out", c_void_p),
        ("ctx_size_in", c_uint32),
        ("ctx_size_out", c_uint32),
        ("retval", c_uint32),
        ("repeat", c_int),
        ("duration", c_uint32),
        ("flags", c_uint32),
        ("cpu", c_uint32),
        ("batch_size", c_uint32),
    ]


class ProgLoadOpts(Structure):
    """``struct bpf_prog_load_opts`` (libbpf 1.1)."""

    _fields_ = [
        ("sz", c_size_t),
        ("attempts", c_int),
        ("expected_attach_type", c_int),
        ("prog_btf_fd", c_uint32),
        ("prog_flags", c_uint32),
        ("prog_ifindex", c_uint32),
        ("kern_version", c_uint32),
        ("attach_btf_id", c_uint32),
        ("attach_prog_fd", c_uint32),
        ("attach_btf_obj_fd", c_uint32),
        ("fd_array", c_void_p),
        ("func_info", c_void_p),
        ("func_info_cnt", c_uint32),
        ("func_info_rec_size", c_uint32),
        ("line_info", c_void_p),
        ("line_info_cnt", c_uint32),
        ("line_info_rec_size", c_uint32),
        ("log_level", c_uint32),
        ("log_size", c_uint32),
        ("log_buf", c_void_p),
    ]


class XdpAttachOpts(Structure):
    """``struct bpf_xdp_attach_opts``."""

    _fields_ = [("sz", c_size_t), ("old_prog_fd", c_int)]


class LinkCreateOpts(Structure):
    """The first two fields of ``struct bpf_link_create_opts``; ``sz`` tells libbpf the rest is zero."""

    _fields_ = [("sz", c_size_t), ("flags", c_uint32)]


def sized(cls: type[_S], **fields: Any) -> _S:
    """An options struct with ``sz`` set, as ``LIBBPF_OPTS()`` does."""
    opts = cls(**fields)
    opts.sz = ctypes.sizeof(cls)
    return opts


# --- the library ---------------------------------------------------------------------------

PRINT_FN = CFUNCTYPE(c_int, c_int, c_char_p, c_void_p)

_P = c_void_p      # opaque struct pointers (bpf_object*, bpf_program*, bpf_map*, btf*)
_U32P = POINTER(c_uint32)

# name -> (restype, argtypes)
_PROTOTYPES: dict[str, tuple[Any, tuple[Any, ...]]] = {
    "libbpf_set_print": (c_void_p, (PRINT_FN,)),
    "libbpf_bpf_prog_type_str": (c_char_p, (c_int,)),
    "libbpf_bpf_map_type_str": (c_char_p, (c_int,)),
    "libbpf_bpf_attach_type_str": (c_char_p, (c_int,)),
    "libbpf_bpf_link_type_str": (c_char_p, (c_int,)),
    "bpf_object__open_file": (_P, (c_char_p, POINTER(ObjectOpenOpts))),
    "bpf_object__open_mem": (_P, (c_void_p, c_size_t, POINTER(ObjectOpenOpts))),
    "bpf_object__load": (c_int, (_P,)),
    "bpf_object__close": (None, (_P,)),
    "bpf_object__name": (c_char_p, (_P,)),
    "bpf_object__next_program": (_P, (_P, _P)),
    "bpf_object__next_map": (_P, (_P, _P)),
    "bpf_object__btf": (_P, (_P,)),
    "bpf_object__find_map_by_name": (_P, (_P, c_char_p)),
    "bpf_program__name": (c_char_p, (_P,)),
    "bpf_program__section_name": (c_char_p, (_P,)),
    "bpf_program__set_autoload": (c_int, (_P, c_bool)),
    "bpf_program__autoload": (c_bool, (_P,)),
    "bpf_program__type": (c_int, (_P,)),
    "bpf_program__set_type": (c_int, (_P, c_int)),
    "bpf_program__set_expected_attach_type": (c_int, (_P, c_int)),
    "bpf_program__fd": (c_int, (_P,)),
    "bpf_program__insn_cnt": (c_size_t, (_P,)),
    "bpf_program__set_log_level": (c_int, (_P, c_uint32)),
    "bpf_program__set_log_buf": (c_int, (_P, c_void_p, c_size_t)),
    "bpf_program__attach": (_P, (_P,)),
    "bpf_link__destroy": (c_int, (_P,)),
    "bpf_link__fd": (c_int, (_P,)),
    "bpf_map__name": (c_char_p, (_P,)),
    "bpf_map__fd": (c_int, (_P,)),
    "bpf_map__type": (c_int, (_P,)),
    "bpf_map__key_size": (c_uint32, (_P,)),
    "bpf_map__value_size": (c_uint32, (_P,)),
    "bpf_map__max_entries": (c_uint32, (_P,)),
    "bpf_map__is_internal": (c_bool, (_P,)),
    "bpf_map__initial_value": (c_void_p, (_P, POINTER(c_size_t))),
    "bpf_map__set_initial_value": (c_int, (_P, c_void_p, c_size_t)),
    "bpf_map__btf_value_type_id": (c_uint32, (_P,)),
    "btf__find_by_name_kind": (c_int, (_P, c_char_p, c_uint32)),
    "btf__type_by_id": (POINTER(BtfType), (_P, c_uint32)),
    "btf__name_by_offset": (c_char_p, (_P, c_uint32)),
    "bpf_prog_load": (c_int, (c_int, c_char_p, c_char_p, c_void_p, c_size_t, POINTER(ProgLoadOpts))),
    "bpf_prog_get_next_id": (c_int, (c_uint32, _U32P)),
    "bpf_map_get_next_id": (c_int, (c_uint32, _U32P)),
    "bpf_btf_get_next_id": (c_int, (c_uint32, _U32P)),
    "bpf_link_get_next_id": (c_int, (c_uint32, _U32P)),
    "bpf_prog_get_fd_by_id": (c_int, (c_uint32,)),
    "bpf_map_get_fd_by_id": (c_int, (c_uint32,)),
    "bpf_btf_get_fd_by_id": (c_int, (c_uint32,)),
    "bpf_link_get_fd_by_id": (c_int, (c_uint32,)),
    "bpf_obj_get_info_by_fd": (c_int, (c_int, c_void_p, _U32P)),
    "bpf_obj_get": (c_int, (c_char_p,)),
    "bpf_obj_pin": (c_int, (c_int, c_char_p)),
    "bpf_map_lookup_elem": (c_int, (c_int, c_void_p, c_void_p)),
    "bpf_map_update_elem": (c_int, (c_int, c_void_p, c_void_p, c_uint64)),
    "bpf_map_delete_elem": (c_int, (c_int, c_void_p)),
    "bpf_map_get_next_key": (c_int, (c_int, c_void_p, c_void_p)),
    "bpf_prog_test_run_opts": (c_int, (c_int, POINTER(TestRunOpts))),
    "bpf_xdp_attach": (c_int, (c_int, c_int, c_uint32, POINTER(XdpAttachOpts))),
    "bpf_xdp_detach": (c_int, (c_int, c_uint32, POINTER(XdpAttachOpts))),
    "bpf_xdp_query_id": (c_int, (c_int, c_int, _U32P)),
    "bpf_link_create": (c_int, (c_int, c_int, c_int, POINTER(LinkCreateOpts))),
    "bpf_link_detach": (c_int, (c_int,)),
}

# libbpf's print callback is process-wide; messages go to the innermost capture() of the
# calling context (the callback runs synchronously in the thread that called libbpf).
_CAPTURE: ContextVar[list[str] | None] = ContextVar("bpfbuild_libbpf_capture", default=None)


class LibBPF:
    """``libbpf.so.1`` with prototypes declared; get the one instance with :func:`libbpf`."""

    def __init__(self, cdll: ctypes.CDLL, libc: ctypes.CDLL) -> None:
        self._cdll = cdll
        self._libc = libc
        for name, (restype, argtypes) in _PROTOTYPES.items():
            fn = getattr(cdll, name)
            fn.restype = restype
            fn.argtypes = list(argtypes)
            setattr(self, name, fn)
        self._vsnprintf = libc.vsnprintf
        self._vsnprintf.restype = c_int
        self._vsnprintf.argtypes = [c_char_p, c_size_t, c_char_p, c_void_p]
        self._print_fn = PRINT_FN(self._on_print)  # kept alive as long as the library
        cdll.libbpf_set_print(self._print_fn)

    def __getattr__(self, name: str) -> Any:  # only reached for undeclared names
        raise AttributeError(f"libbpf function {name!r} is not declared in _PROTOTYPES")

    def _on_print(self, level: int, fmt: bytes | None, args: int | None) -> int:
        sink = _CAPTURE.get()
        if sink is None or fmt is None or level > 1:   # drop debug output and uncaptured noise
            return 0
        buf = ctypes.create_string_buffer(4096)
        self._vsnprintf(buf, len(buf), fmt, args)
        sink.append(buf.value.decode("utf-8", "replace"))
        return 0


@contextmanager
def capture() -> Iterator[list[str]]:
    """Collect libbpf's warning/info messages printed inside the block."""
    sink: list[str] = []
    token = _CAPTURE.set(sink)
    try:
        yield sink
    finally:
        _CAPTURE.reset(token)


def last_message(messages: list[str]) -> str | None:
    """libbpf's most telling line: the last non-empty warning, without the ``libbpf: `` prefix."""
    for msg in reversed("".join(messages).splitlines()):
        msg = msg.strip()
        if msg and not msg.startswith("--"):
            return msg.removeprefix("libbpf: ")
    return None


def open_libbpf(soname: str = LIBBPF_SONAME) -> LibBPF:
    """Load libbpf and declare its prototypes (KernelError when missing or too old)."""
    try:
        cdll = ctypes.CDLL(soname, use_errno=True)
    except OSError as exc:
        raise KernelError(f"{soname} not found (install libbpf1): {exc}") from exc
    try:
        return LibBPF(cdll, ctypes.CDLL(None, use_errno=True))
    except AttributeError as exc:
        raise KernelError(f"{soname} is too old (need libbpf >= 1.0): {exc}") from exc


@functools.cache
def libbpf() -> LibBPF:
    """The process's libbpf, opened on first use (the instance keeps libbpf's print callback alive)."""
    return open_libbpf()


@functools.cache
def libc() -> ctypes.CDLL:
    lib = ctypes.CDLL(None, use_errno=True)
    lib.mount.restype = c_int
    lib.mount.argtypes = [c_char_p, c_char_p, c_char_p, ctypes.c_ulong, c_void_p]
    return lib


def errno_of(ret: int) -> int:
    """The errno of a failed libbpf int call (negative return), falling back to ctypes' errno."""
    if ret < -1:
        return -ret
    return ctypes.get_errno() or _errno.EINVAL


def explain(err: int) -> str:
    """``strerror``, with the hint a user needs for the permission errors."""
    text = os.strerror(err)
    if err in (_errno.EPERM, _errno.EACCES) and os.geteuid() != 0:
        text += " (need root, or CAP_BPF with CAP_PERFMON/CAP_NET_ADMIN)"
    return text


def fail(what: str, err: int) -> KernelError:
    return KernelError(f"{what}: {explain(err)}", errno=err)


def check(ret: int, what: str) -> int:
    """Raise KernelError for a negative libbpf return; return ret otherwise."""
    if ret < 0:
        raise fail(what, errno_of(ret))
    return ret


def cstr(raw: bytes | None) -> str:
    return raw.decode("utf-8", "replace") if raw else ""


def addr(buf: ctypes.Array[Any] | None) -> int:
    return ctypes.addressof(buf) if buf is not None else 0

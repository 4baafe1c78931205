"""An object file opened and loaded by libbpf: its programs and maps, while it is open.

::

    with KernelObject.open("build/hello.bpf.o") as obj:
        obj.set_globals(".rodata", {"limit": 3})     # before load
        obj.load(log_level=1)                          # verifier log kept even on success
        prog = obj.program("hello")
        print(prog.log, prog.info().tag)
        prog.pin("/sys/fs/bpf/x/hello")

Closing the object (``with`` exit, or :meth:`KernelObject.close`) closes every program
and map fd libbpf opened; pins stay until removed.
"""

from __future__ import annotations

import ctypes
import errno
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from bpfbuild.errors import BpfBuildError, KernelError, ObjectError, no_such
from bpfbuild.inputs import read_input
from bpfbuild.kernel import _ffi
from bpfbuild.kernel.info import (
    MapInfo,
    ProgImages,
    ProgInfo,
    map_info,
    prog_images,
    prog_info,
    prog_type_name,
)
from bpfbuild.kernel.maps import MapHandle
from bpfbuild.kernel.pins import pin_fd
from bpfbuild.kernel.testrun import TestRun, run_prog

__all__ = ["DEFAULT_LOG_SIZE", "GlobalValue", "KernelObject", "Link", "Map", "Program", "parse_log_error"]

DEFAULT_LOG_SIZE = 1 << 20          # 1 MiB: ample for log level 1 (level 2 asks for more)
LEVEL2_LOG_SIZE = 64 << 20
MAX_LOG_SIZE = (1 << 30) - 1        # the kernel's limit (UINT_MAX >> 2)

GlobalValue = int | bool | bytes | str

_FAILED_PROG = re.compile(r"prog '([^']+)': (?:BPF program load failed|failed to load)")
# an instruction the verifier printed, or one libbpf's log fixup rewrote (a poisoned CO-RE
# relocation, map reference or kfunc call: "12: <invalid CO-RE relocation>")
_INSN_LINE = re.compile(r"^(\d+): (?:\([0-9a-f]{2}\)|<invalid (?:CO-RE relocation|BPF map reference|kfunc call)>$)")
_INSN_WORD = re.compile(r"\binsn (\d+)\b")
_STATS = re.compile(r"^(processed \d+ insns|verification time|stack depth|max_states_per_insn)")


def parse_log_error(log: str) -> tuple[str | None, int | None, str | None]:
    """From a rejection log: (last error line, failing insn index, its "; source" line).

    The error line is the last line that is not a statistics line; the failing instruction is
    the last one the verifier printed (``N: (op) ...``), else an ``insn N`` in the error line.
    """
    lines = [ln.rstrip() for ln in log.splitlines() if ln.strip()]
    error = None
    for ln in reversed(lines):
        if not _STATS.match(ln):
            error = ln
            break
    insn = None
    source = None
    for i in range(len(lines) - 1, -1, -1):
        m = _INSN_LINE.match(lines[i])
        if m:
            insn = int(m.group(1))
            for j in range(i - 1, -1, -1):
                if lines[j].startswith("; "):
                    source = lines[j][2:]
                    break
                if _INSN_LINE.match(lines[j]):
                    break
            break
    if insn is None and error is not None:
        m2 = _INSN_WORD.search(error)
        if m2:
            insn = int(m2.group(1))
    return error, insn, source


class Program:
    """A program of an open object (valid while the object is open)."""

    def __init__(self, obj: KernelObject, ptr: int) -> None:
        self._obj = obj
        self._ptr = ptr
        lib = _ffi.libbpf()
        self.name = _ffi.cstr(lib.bpf_program__name(ptr))
        self.section = _ffi.cstr(lib.bpf_program__section_name(ptr))
        self._log_buf: ctypes.Array[ctypes.c_char] | None = None

    def _p(self) -> int:
        self._obj._check_open()
        return self._ptr

    @property
    def type(self) -> int:
        return int(_ffi.libbpf().bpf_program__type(self._p()))

    @property
    def type_name(self) -> str:
        return prog_type_name(self.type)

    @property
    def insn_count(self) -> int:
        """Instruction slots as libbpf holds them (after load: as submitted to the kernel)."""
        return int(_ffi.libbpf().bpf_program__insn_cnt(self._p()))

    @property
    def autoload(self) -> bool:
        return bool(_ffi.libbpf().bpf_program__autoload(self._p()))

    @autoload.setter
    def autoload(self, value: bool) -> None:
        _ffi.check(_ffi.libbpf().bpf_program__set_autoload(self._p(), bool(value)),
                   f"prog '{self.name}': cannot change autoload after load")

    def set_type(self, prog_type: int, expected_attach_type: int = 0) -> None:
        """``bpf_program__set_type`` and ``set_expected_attach_type`` (before load): the type of
        a program whose section libbpf cannot type."""
        lib = _ffi.libbpf()
        _ffi.check(lib.bpf_program__set_type(self._p(), int(prog_type)),
                   f"prog '{self.name}': cannot set the program type after load")
        _ffi.check(lib.bpf_program__set_expected_attach_type(self._p(), int(expected_attach_type)),
                   f"prog '{self.name}': cannot set the expected attach type after load")

    @property
    def loaded(self) -> bool:
        return self._obj.loaded and _ffi.libbpf().bpf_program__fd(self._p()) >= 0

    @property
    def fd(self) -> int:
        fd = _ffi.libbpf().bpf_program__fd(self._p())
        if fd < 0:
            raise KernelError(f"prog '{self.name}' is not loaded")
        return int(fd)

    @property
    def log(self) -> str:
        """The kernel verifier's log of the last load attempt ("" if none was asked or produced)."""
        if self._log_buf is None:
            return ""
        return self._log_buf.value.decode("utf-8", "replace")

    def _set_log(self, level: int, size: int) -> None:
        self._log_buf = ctypes.create_string_buffer(size)
        lib = _ffi.libbpf()
        _ffi.check(lib.bpf_program__set_log_buf(self._p(), self._log_buf, size), "cannot set log buffer")
        _ffi.check(lib.bpf_program__set_log_level(self._p(), level), "cannot set log level")

    def info(self) -> ProgInfo:
        return prog_info(self.fd)

    def images(self) -> ProgImages:
        return prog_images(self.fd)

    def pin(self, path: str | os.PathLike[str]) -> Path:
        return pin_fd(self.fd, path)

    def test_run(self, data: bytes = b"", *, ctx: bytes | None = None, repeat: int = 1,
                 **kwargs: Any) -> TestRun:
        return run_prog(self.fd, data=data, ctx=ctx, repeat=repeat, prog_type=self.type, **kwargs)

    def attach(self) -> Link:
        """Attach as the section name says (libbpf's auto-attach: tracepoint/, kprobe/, raw_tp/...).

        Not for XDP or TC, which need an interface: use :func:`bpfbuild.kernel.attach_xdp`.
        """
        lib = _ffi.libbpf()
        ctypes.set_errno(0)
        link = lib.bpf_program__attach(self._p())
        if not link:
            err = ctypes.get_errno() or errno.EINVAL
            raise KernelError(f"prog '{self.name}': cannot attach ({self.section}): {os.strerror(err)}",
                              errno=err)
        return Link(self, int(link))


class Link:
    """A bpf_link made by :meth:`Program.attach`; detached by :meth:`detach` or on exit."""

    def __init__(self, prog: Program, ptr: int) -> None:
        self.program = prog
        self._ptr: int | None = ptr

    @property
    def attached(self) -> bool:
        return self._ptr is not None

    @property
    def fd(self) -> int:
        if self._ptr is None:
            raise KernelError(f"link of prog '{self.program.name}' is detached")
        return int(_ffi.libbpf().bpf_link__fd(self._ptr))

    def detach(self) -> None:
        if self._ptr is not None:
            ptr, self._ptr = self._ptr, None
            _ffi.libbpf().bpf_link__destroy(ptr)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.detach()

    def __del__(self) -> None:
        try:
            self.detach()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass

    def __repr__(self) -> str:
        return f"<Program {self.name} sec={self.section!r}>"


class Map:
    """A map of an open object: definition before load, fd and elements after."""

    def __init__(self, obj: KernelObject, ptr: int) -> None:
        self._obj = obj
        self._ptr = ptr
        lib = _ffi.libbpf()
        self.name = _ffi.cstr(lib.bpf_map__name(ptr))
        self.internal = bool(lib.bpf_map__is_internal(ptr))
        self.type = int(lib.bpf_map__type(ptr))
        self.key_size = int(lib.bpf_map__key_size(ptr))
        self.value_size = int(lib.bpf_map__value_size(ptr))
        self.max_entries = int(lib.bpf_map__max_entries(ptr))

    def _p(self) -> int:
        self._obj._check_open()
        return self._ptr

    @property
    def initial_value(self) -> bytes | None:
        """The initial contents of a global-data map (``.data``, ``.rodata``, ``.bss``...)."""
        size = ctypes.c_size_t(0)
        ptr = _ffi.libbpf().bpf_map__initial_value(self._p(), ctypes.byref(size))
        if not ptr:
            return None
        return ctypes.string_at(ptr, size.value)

    @initial_value.setter
    def initial_value(self, data: bytes) -> None:
        if self._obj.loaded:
            raise KernelError(f"map {self.name}: initial value can only be set before load")
        buf = ctypes.create_string_buffer(bytes(data), max(len(data), 1))
        _ffi.check(_ffi.libbpf().bpf_map__set_initial_value(self._p(), buf, len(data)),
                   f"map {self.name}: cannot set initial value ({len(data)} bytes, map holds {self.value_size})")

    @property
    def fd(self) -> int:
        fd = _ffi.libbpf().bpf_map__fd(self._p())
        if fd < 0:
            raise KernelError(f"map {self.name} is not created (load the object first)")
        return int(fd)

    def info(self) -> MapInfo:
        return map_info(self.fd)

    def handle(self) -> MapHandle:
        """Element access (the fd stays owned by the object)."""
        return MapHandle(self.fd)

    def pin(self, path: str | os.PathLike[str]) -> Path:
        return pin_fd(self.fd, path)

    def __repr__(self) -> str:
        return f"<Map {self.name} type={self.type} key={self.key_size} value={self.value_size}>"




def _errno_name(err: int) -> str:
    """``EINVAL`` (the errno a load failed with: kept in the message, as bpftool prints it)."""
    return errno.errorcode.get(err, f"errno {err}")

def _check_with_our_reader(data: bytes, name: str, label: str) -> None:
    """bpfbuild's own ELF/BTF reader sees the object before libbpf does: a malformed object is
    refused in one line here, instead of reaching C code that may crash on it (libbpf 1.1
    segfaults on some mutated objects)."""
    from bpfbuild.obj.loader import load_object

    try:
        load_object(data, name=name)
    except BpfBuildError as exc:
        exc.file = None
        raise KernelError(f"cannot open the object: {exc}", errno=errno.EINVAL, file=label) from None

class KernelObject:
    """A ``struct bpf_object``: open from a path or bytes, optionally set globals, load, close."""

    def __init__(self, ptr: int, source: str, keep: Any = None) -> None:
        self._ptr: int | None = ptr
        self._keep = keep          # the ELF bytes of open_mem stay alive with the object
        self.source = source
        self.loaded = False
        self.last_failed: Program | None = None   # the program a failed load() was rejected on
        lib = _ffi.libbpf()
        self.name = _ffi.cstr(lib.bpf_object__name(ptr))
        self.programs: dict[str, Program] = {}
        cur = lib.bpf_object__next_program(ptr, None)
        while cur:
            prog = Program(self, cur)
            self.programs[prog.name] = prog
            cur = lib.bpf_object__next_program(ptr, cur)
        self.maps: dict[str, Map] = {}
        cur = lib.bpf_object__next_map(ptr, None)
        while cur:
            m = Map(self, cur)
            self.maps[m.name] = m
            cur = lib.bpf_object__next_map(ptr, cur)

    # --- lifetime ---
    @classmethod
    def open(cls, source: str | os.PathLike[str] | bytes, *, name: str | None = None) -> KernelObject:
        """Open an object file (path) or an in-memory ELF image (bytes); nothing is loaded yet.

        ``name`` overrides the object name libbpf derives from the file name (it prefixes the
        global-data map names: ``hello.bss``); for bytes it defaults to ``obj``.
        """
        if isinstance(source, (bytes, bytearray, memoryview)):
            data = bytes(source)
            label = f"<{len(data)} bytes>"
            obj_name = name or "obj"
        else:
            # one bounded read; libbpf then opens these very bytes (no second look at the path)
            label = os.fspath(source)
            try:
                data = read_input(label, error=ObjectError)
            except ObjectError as exc:
                raise KernelError(exc.message, errno=errno.EINVAL, file=label) from None
            obj_name = name or os.path.basename(label).split(".", 1)[0] or "obj"
        _check_with_our_reader(data, obj_name, label)
        lib = _ffi.libbpf()
        opts = _ffi.sized(_ffi.ObjectOpenOpts, object_name=obj_name.encode())
        keep = ctypes.create_string_buffer(data, max(len(data), 1))
        with _ffi.capture() as msgs:
            ptr = lib.bpf_object__open_mem(keep, len(data), ctypes.byref(opts))
        if not ptr:
            err = ctypes.get_errno() or errno.EINVAL
            detail = _ffi.last_message(msgs)
            what = f"libbpf cannot open the object: {detail}" if detail else \
                f"libbpf cannot open the object: {os.strerror(err)}"
            raise KernelError(what, errno=err, file=label)
        return cls(ptr, label, keep)

    def _check_open(self) -> int:
        if self._ptr is None:
            raise KernelError("the object is closed", file=self.source)
        return self._ptr

    def close(self) -> None:
        """Close the object: every program and map fd libbpf holds (pins stay)."""
        ptr, self._ptr = self._ptr, None
        if ptr is not None:
            _ffi.libbpf().bpf_object__close(ptr)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    # --- contents ---
    def program(self, name: str | None = None) -> Program:
        """The program called ``name`` (or the first program when name is None)."""
        if name is None:
            if not self.programs:
                raise KernelError("the object has no programs", file=self.source)
            return next(iter(self.programs.values()))
        try:
            return self.programs[name]
        except KeyError:
            raise KernelError(no_such("program", name, self.programs), file=self.source) from None

    def map(self, name: str) -> Map:
        """A map by its name (``hello.bss``) or, for global data, by section (``.bss``)."""
        if name in self.maps:
            return self.maps[name]
        ptr = _ffi.libbpf().bpf_object__find_map_by_name(self._check_open(), name.encode())
        if ptr:
            for m in self.maps.values():
                if m._ptr == ptr:
                    return m
        raise KernelError(no_such("map", name, self.maps), file=self.source)

    def datasec_vars(self, section: str) -> dict[str, tuple[int, int]]:
        """Variables of a global-data section: name -> (offset, size), from the object's BTF."""
        lib = _ffi.libbpf()
        btf = lib.bpf_object__btf(self._check_open())
        if not btf:
            raise KernelError(f"no BTF in the object: cannot find the variables of {section}", file=self.source)
        type_id = lib.btf__find_by_name_kind(btf, section.encode(), _ffi.BTF_KIND_DATASEC)
        if type_id < 0:
            raise KernelError(f"no BTF for section {section}", file=self.source)
        head = lib.btf__type_by_id(btf, type_id)
        vlen = head.contents.info & 0xFFFF
        infos = ctypes.cast(ctypes.addressof(head.contents) + ctypes.sizeof(_ffi.BtfType),
                            ctypes.POINTER(_ffi.BtfVarSecinfo))
        out: dict[str, tuple[int, int]] = {}
        for i in range(vlen):
            vs = infos[i]
            var = lib.btf__type_by_id(btf, vs.type)
            out[_ffi.cstr(lib.btf__name_by_offset(btf, var.contents.name_off))] = (vs.offset, vs.size)
        return out

    def set_globals(self, section: str, values: Mapping[str, GlobalValue]) -> None:
        """Set variables of a global-data section before load (``.rodata`` constants, ``.data``...).

        Integers are stored little-endian in the variable's size (two's complement when
        negative), strings as UTF-8 plus NUL, bytes as given; shorter values are zero-padded.
        """
        if self.loaded:
            raise KernelError(f"{section}: globals can only be set before load", file=self.source)
        m = self.map(section)
        data = bytearray(m.initial_value or bytes(m.value_size))
        layout = self.datasec_vars(section if section.startswith(".") else "." + section.split(".", 1)[-1])
        for var, value in values.items():
            if var not in layout:
                known = ", ".join(sorted(layout)) or "none"
                raise KernelError(f"{section}: no variable {var!r} (variables: {known})", file=self.source)
            offset, size = layout[var]
            data[offset:offset + size] = _encode_global(var, value, size)
        m.initial_value = bytes(data)

    def type_untyped(self, prog_type: str, attach: str | None = None) -> list[str]:
        """Give every program whose section libbpf cannot type (``bpf_program__type`` is 0) the
        type of the section name ``prog_type`` (``xdp``, ``tc``, ``kprobe``...; ``attach`` its
        target), as a ``[tool.bpfbuild.programs.<name>] type`` override says; returns their names."""
        from bpfbuild.obj.overrides import section_info_for

        done = []
        for prog in self.programs.values():
            if prog.type == 0:
                info = section_info_for(prog.section, prog_type, attach)
                prog.set_type(int(info.prog_type), info.expected_attach_type_value)
                done.append(prog.name)
        return done

    # --- loading ---
    def load(self, *, log_level: int = 0, log_size: int | None = None,
             programs: Iterable[str] | None = None) -> None:
        """Create the maps and load the programs (only ``programs`` if given).

        Every program gets its own log buffer: with ``log_level`` >= 1 the verifier log is
        kept even on success (:attr:`Program.log`); with 0 libbpf asks for a level-1 log only
        when a load fails.  A rejection raises KernelError naming the program and the
        kernel's last error line; the full log stays on the program.
        """
        ptr = self._check_open()
        if self.loaded:
            raise KernelError("the object is already loaded", file=self.source)
        if programs is not None:
            wanted = set(programs)
            for n in wanted:
                self.program(n)
            for prog in self.programs.values():
                prog.autoload = prog.name in wanted
        size = log_size or (LEVEL2_LOG_SIZE if log_level >= 2 else DEFAULT_LOG_SIZE)
        size = min(max(size, 1024), MAX_LOG_SIZE)
        for prog in self.programs.values():
            if prog.autoload:
                prog._set_log(log_level, size)
        with _ffi.capture() as msgs:
            ret = _ffi.libbpf().bpf_object__load(ptr)
        if ret >= 0:
            self.loaded = True
            return
        err = _ffi.errno_of(ret)
        raise self._load_error(err, msgs, size)

    def failed_program(self, messages: list[str] | None = None) -> Program | None:
        """After a failed load: the program the kernel rejected (from libbpf's report or the logs)."""
        for msg in reversed(messages or []):
            m = _FAILED_PROG.search(msg)
            if m and m.group(1) in self.programs:
                return self.programs[m.group(1)]
        with_log = [p for p in self.programs.values() if p.autoload and p.log.strip()]
        return with_log[-1] if with_log else None

    def _load_error(self, err: int, msgs: list[str], size: int) -> KernelError:
        prog = self.failed_program(msgs)
        self.last_failed = prog
        if prog is not None and prog.log.strip():
            if err == errno.ENOSPC:
                return KernelError(f"prog '{prog.name}': verifier log exceeds {size} bytes "
                                   f"(pass a larger log_size)", errno=err, file=self.source)
            line, insn, _ = parse_log_error(prog.log)
            at = f" at insn {insn}" if insn is not None else ""
            return KernelError(f"prog '{prog.name}': rejected by the kernel verifier{at}: {line} "
                               f"[{_errno_name(err)}]", errno=err, file=self.source)
        if err in (errno.EPERM, errno.EACCES) and os.geteuid() != 0:
            return _ffi.fail("cannot load", err)
        detail = _ffi.last_message(msgs)
        text = f"cannot load: {detail} [{_errno_name(err)}]" if detail else \
            f"cannot load: {_ffi.explain(err)} [{_errno_name(err)}]"
        return KernelError(text, errno=err, file=self.source)

    def __repr__(self) -> str:
        state = "closed" if self._ptr is None else "loaded" if self.loaded else "open"
        return f"<KernelObject {self.name} {state}: programs={list(self.programs)} maps={list(self.maps)}>"


def _encode_global(var: str, value: GlobalValue, size: int) -> bytes:
    match value:
        case bool():
            raw = int(value).to_bytes(size, "little")
        case int():
            lo, hi = -(1 << (8 * size - 1)), (1 << (8 * size)) - 1
            if not lo <= value <= hi:
                raise KernelError(f"{var}: {value} does not fit in {size} bytes")
            raw = value.to_bytes(size, "little", signed=value < 0)
        case str():
            raw = value.encode() + b"\0"
        case bytes() | bytearray():
            raw = bytes(value)
        case _:
            raise KernelError(f"{var}: cannot store a {type(value).__name__} (use int, bool, str or bytes)")
    if len(raw) > size:
        raise KernelError(f"{var}: {len(raw)} bytes do not fit in {size}")
    return raw.ljust(size, b"\0")

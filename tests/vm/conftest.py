"""The kernel as an oracle: raw bpf(2) through ctypes (BPF_PROG_LOAD, BPF_PROG_TEST_RUN,
maps), enough to run the same bytecode in the kernel and in the emulator.

Kept here, in the tests, on purpose: the comparison must not depend on the code it checks.
Tests that use the ``kernel`` fixture skip (with the reason) when bpf() is not permitted.
"""

from __future__ import annotations

import ctypes
import errno
import os
import platform
import struct
import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

_SYS_BPF = {"x86_64": 321, "aarch64": 280}.get(platform.machine())
BPF_MAP_CREATE, BPF_MAP_LOOKUP_ELEM, BPF_MAP_UPDATE_ELEM, BPF_MAP_DELETE_ELEM = 0, 1, 2, 3
BPF_PROG_LOAD, BPF_PROG_TEST_RUN = 5, 10
ATTR_SIZE = 144

PROG_SOCKET_FILTER, PROG_SCHED_CLS, PROG_XDP = 1, 3, 6


class KernelRefused(Exception):
    def __init__(self, what: str, err: int, log: str = "") -> None:
        super().__init__(f"{what}: {os.strerror(err)}\n{log}")
        self.errno = err
        self.log = log


@dataclass
class TestRunResult:
    __test__ = False
    retval: int
    data: bytes
    ctx: bytes | None


class Kernel:
    """Minimal bpf(2) client; every fd it opens is closed by :meth:`close_all`."""

    def __init__(self) -> None:
        self.libc = ctypes.CDLL(None, use_errno=True)
        self.libc.syscall.restype = ctypes.c_long
        self.fds: list[int] = []

    def _bpf(self, cmd: int, attr: ctypes.Array[ctypes.c_char]) -> int:
        ret = self.libc.syscall(_SYS_BPF, cmd, attr, ATTR_SIZE)
        if ret < 0:
            return -ctypes.get_errno()
        return ret

    def prog_load(self, prog_type: int, code: bytes, *, license: bytes = b"GPL") -> int:
        insns = ctypes.create_string_buffer(code, len(code))
        lic = ctypes.create_string_buffer(license)
        for log_level in (0, 1):   # load quietly; on a refusal, load again for the verifier's log
            log = ctypes.create_string_buffer(1 << 20 if log_level else 1)
            attr = ctypes.create_string_buffer(ATTR_SIZE)
            struct.pack_into("<IIQQIIQ", attr, 0, prog_type, len(code) // 8, ctypes.addressof(insns),
                             ctypes.addressof(lic), log_level, len(log) if log_level else 0,
                             ctypes.addressof(log) if log_level else 0)
            fd = self._bpf(BPF_PROG_LOAD, attr)
            if fd >= 0:
                self.fds.append(fd)
                return fd
        raise KernelRefused("BPF_PROG_LOAD", -fd, log.value.decode(errors="replace"))

    def test_run(self, fd: int, data: bytes = b"", ctx: bytes | None = None, *, repeat: int = 1,
                 out_size: int | None = None) -> TestRunResult:
        din = ctypes.create_string_buffer(data, max(len(data), 1))
        size_out = out_size if out_size is not None else len(data) + 4096
        dout = ctypes.create_string_buffer(max(size_out, 1))
        attr = ctypes.create_string_buffer(ATTR_SIZE)
        struct.pack_into("<IIIIQQII", attr, 0, fd, 0, len(data), size_out,
                         ctypes.addressof(din) if data else 0, ctypes.addressof(dout), repeat, 0)
        cin = cout = None
        if ctx is not None:
            cin = ctypes.create_string_buffer(ctx, max(len(ctx), 1))
            cout = ctypes.create_string_buffer(max(len(ctx), 1))
            struct.pack_into("<IIQQ", attr, 40, len(ctx), len(ctx), ctypes.addressof(cin), ctypes.addressof(cout))
        ret = self._bpf(BPF_PROG_TEST_RUN, attr)
        if ret < 0:
            raise KernelRefused("BPF_PROG_TEST_RUN", -ret)
        retval, = struct.unpack_from("<I", attr, 4)
        data_size_out, = struct.unpack_from("<I", attr, 12)
        ctx_size_out, = struct.unpack_from("<I", attr, 44)
        return TestRunResult(retval, dout.raw[:data_size_out],
                             cout.raw[:ctx_size_out] if cout is not None else None)

    def test_run_duration(self, fd: int, data: bytes, repeat: int) -> int:
        """Mean nanoseconds per run (the kernel's own measurement)."""
        din = ctypes.create_string_buffer(data, max(len(data), 1))
        dout = ctypes.create_string_buffer(len(data) + 4096)
        attr = ctypes.create_string_buffer(ATTR_SIZE)
        struct.pack_into("<IIIIQQII", attr, 0, fd, 0, len(data), len(data) + 4096, ctypes.addressof(din),
                         ctypes.addressof(dout), repeat, 0)
        ret = self._bpf(BPF_PROG_TEST_RUN, attr)
        if ret < 0:
            raise KernelRefused("BPF_PROG_TEST_RUN", -ret)
        return struct.unpack_from("<I", attr, 36)[0]

    def map_create(self, map_type: int, key_size: int, value_size: int, max_entries: int, flags: int = 0) -> int:
        attr = ctypes.create_string_buffer(ATTR_SIZE)
        struct.pack_into("<IIIII", attr, 0, map_type, key_size, value_size, max_entries, flags)
        fd = self._bpf(BPF_MAP_CREATE, attr)
        if fd < 0:
            raise KernelRefused("BPF_MAP_CREATE", -fd)
        self.fds.append(fd)
        return fd

    def _elem(self, cmd: int, fd: int, key: bytes | None, value: ctypes.Array[ctypes.c_char] | None,
              flags: int = 0) -> int:
        kbuf = ctypes.create_string_buffer(key, max(len(key), 1)) if key is not None else None
        attr = ctypes.create_string_buffer(ATTR_SIZE)
        struct.pack_into("<IIQQQ", attr, 0, fd, 0, ctypes.addressof(kbuf) if kbuf is not None else 0,
                         ctypes.addressof(value) if value is not None else 0, flags)
        return self._bpf(cmd, attr)

    def map_update(self, fd: int, key: bytes | None, value: bytes, flags: int = 0) -> int:
        return self._elem(BPF_MAP_UPDATE_ELEM, fd, key, ctypes.create_string_buffer(value, len(value)), flags)

    def map_lookup(self, fd: int, key: bytes | None, value_size: int) -> bytes | None:
        out = ctypes.create_string_buffer(max(value_size, 1))
        ret = self._elem(BPF_MAP_LOOKUP_ELEM, fd, key, out)
        if ret == -errno.ENOENT:
            return None
        if ret < 0:
            raise KernelRefused("BPF_MAP_LOOKUP_ELEM", -ret)
        return out.raw[:value_size]

    def close_all(self) -> None:
        while self.fds:
            os.close(self.fds.pop())


def _availability() -> str | None:
    if _SYS_BPF is None:
        return f"no bpf() syscall number known for {platform.machine()}"
    k = Kernel()
    try:
        k.prog_load(PROG_SOCKET_FILTER, bytes.fromhex("b700000000000000" "9500000000000000"))
    except KernelRefused as exc:
        return f"bpf() is not permitted here ({os.strerror(exc.errno)}); run as root"
    finally:
        k.close_all()
    return None


@pytest.fixture(scope="session")
def kernel() -> Iterator[Kernel]:
    reason = _availability()
    if reason is not None:
        pytest.skip(reason)
    k = Kernel()
    try:
        yield k
    finally:
        k.close_all()


# --- programs/ compiled once per session (specs, API, CLI, trace and fuzz tests) ------------

REPO = Path(__file__).resolve().parents[2]
PROGRAMS = REPO / "programs"


class Compiler:
    """Compiles BPF C with the compiler bpfbuild discovers (clang, or zig's clang)."""

    def __init__(self, out_dir: Path) -> None:
        from bpfbuild.errors import BpfBuildError
        from bpfbuild.toolchain.discover import discover, include_set

        self.out_dir = out_dir
        try:
            self.compiler = discover(cache_file=out_dir / ".toolchain.json")
        except BpfBuildError as exc:
            pytest.skip(f"no BPF compiler: {exc}")
        bundled = os.environ.get("BPFBUILD_HEADERS", "auto") == "bundled"
        includes = include_set(self.compiler, out_dir / "include", bundled=bundled)
        if includes.libbpf != "system":
            # no libbpf headers: bpfbuild's own set, with helper declarations generated from the
            # linux/bpf.h the compiler sees (what `doit` does on a machine with only Python)
            from bpfbuild.tasks.headers import write_helper_defs

            if includes.uapi_header is None:
                pytest.skip("no linux/bpf.h for the compiler (neither the system's nor ziglang's)")
            write_helper_defs(includes.uapi_header, out_dir / "include" / "bpf" / "bpf_helper_defs.h")
        self.include_flags = includes.flags

    def __call__(self, source: Path, name: str | None = None, *, extra: Sequence[str] = ()) -> Path:
        from bpfbuild.toolchain.flags import compile_argv

        obj = self.out_dir / (name or source.name.replace(".bpf.c", ".bpf.o"))
        argv = compile_argv(self.compiler, source, obj, include_flags=self.include_flags,
                            include_dirs=[str(source.parent)], cflags=list(extra))
        res = subprocess.run(argv, capture_output=True, text=True, check=False)
        if res.returncode:
            raise AssertionError(f"cannot compile {source}:\n{res.stderr}")
        return obj


@pytest.fixture(scope="session")
def compile_bpf(tmp_path_factory: pytest.TempPathFactory) -> Compiler:
    return Compiler(tmp_path_factory.mktemp("vm-programs"))


@pytest.fixture(scope="session")
def program_objects(compile_bpf: Compiler) -> dict[str, Path]:
    """programs/*.bpf.c compiled (core_task with its own two-field task_struct), by name."""
    out = {}
    for src in sorted(PROGRAMS.glob("*.bpf.c")):
        name = src.name[: -len(".bpf.c")]
        flags = ["-DCORE_TASK_NO_VMLINUX"] if name == "core_task" else []
        out[name] = compile_bpf(src, extra=flags)
    return out


@pytest.fixture(scope="session")
def program_specs() -> dict[str, Path]:
    """programs/<name>.test.toml by program name."""
    return {p.name[: -len(".test.toml")]: p for p in sorted(PROGRAMS.glob("*.test.toml"))}

"""A minimal bpf(2) caller for the abi tests: load tiny programs and create maps to ask the
running kernel's verifier what it accepts (the oracle for the abi tables).

Deliberately independent of bpfbuild.kernel and bpfbuild.isa: these tests check facts, and
should not fail because another layer is being rewritten.
"""

from __future__ import annotations

import ctypes
import errno
import os
import platform
import struct
from dataclasses import dataclass

SYS_BPF = {"x86_64": 321, "aarch64": 280}.get(platform.machine())
BPF_MAP_CREATE, BPF_PROG_LOAD = 0, 5
SLEEPABLE = 1 << 4


def insn(code: int, dst: int = 0, src: int = 0, off: int = 0, imm: int = 0) -> bytes:
    return struct.pack("<BBhi", code, (src << 4) | dst, off, imm)


def mov(dst: int, imm: int) -> bytes:
    return insn(0xB7, dst, 0, 0, imm)


def call(helper: int) -> bytes:
    return insn(0x85, 0, 0, 0, helper)


EXIT = insn(0x95)
_LDX = {1: 0x71, 2: 0x69, 4: 0x61, 8: 0x79}
_STX = {1: 0x73, 2: 0x6B, 4: 0x63, 8: 0x7B}


def ldx(size: int, dst: int, src: int, off: int) -> bytes:
    return insn(_LDX[size], dst, src, off)


def stx(size: int, dst: int, src: int, off: int) -> bytes:
    return insn(_STX[size], dst, src, off)


@dataclass(frozen=True)
class LoadResult:
    ok: bool
    errno: int
    log: str


class Bpf:
    """Calls bpf(2) through libc; every fd it gets is closed at once."""

    def __init__(self) -> None:
        self._libc = ctypes.CDLL(None, use_errno=True)
        self._libc.syscall.restype = ctypes.c_long

    def _sys(self, cmd: int, attr: ctypes.Array[ctypes.c_char]) -> tuple[int, int]:
        fd = self._libc.syscall(SYS_BPF, cmd, attr, len(attr))
        return fd, ctypes.get_errno()

    def load(self, prog_type: int, insns: list[bytes], attach_type: int = 0, *,
             license: str = "GPL", log_level: int = 1, flags: int = 0) -> LoadResult:
        code = b"".join(insns)
        buf = ctypes.create_string_buffer(code, len(code))
        lic = ctypes.create_string_buffer(license.encode())
        log = ctypes.create_string_buffer(1 << 16)
        attr = ctypes.create_string_buffer(144)
        struct.pack_into("<IIQQIIQII", attr, 0, prog_type, len(code) // 8, ctypes.addressof(buf),
                         ctypes.addressof(lic), log_level, len(log), ctypes.addressof(log), 0, flags)
        struct.pack_into("<I", attr, 68, attach_type)
        fd, err = self._sys(BPF_PROG_LOAD, attr)
        text = log.value.decode(errors="replace")
        if fd >= 0:
            os.close(fd)
            return LoadResult(True, 0, text)
        return LoadResult(False, err, text)

    def create_map(self, map_type: int, key_size: int, value_size: int, max_entries: int,
                   flags: int = 0) -> int:
        """0 on success (the map is closed again), else the errno."""
        attr = ctypes.create_string_buffer(128)
        struct.pack_into("<IIIII", attr, 0, map_type, key_size, value_size, max_entries, flags)
        fd, err = self._sys(BPF_MAP_CREATE, attr)
        if fd >= 0:
            os.close(fd)
            return 0
        return err

    def loads(self, prog_type: int, attach_type: int = 0, *, flags: int = 0) -> bool:
        """Whether a trivial program of this type loads here at all."""
        return self.load(prog_type, [mov(0, 1), EXIT], attach_type, flags=flags).ok


def errname(code: int) -> str:
    return errno.errorcode.get(code, str(code))

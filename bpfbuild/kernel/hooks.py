"""The kernel as the judge: cross-check hooks for bpfbuild's own verifier and emulator.

Each call opens the object, loads one program, does its work and closes everything (fds,
maps, programs) before returning; nothing is pinned or attached.
"""

from __future__ import annotations

import errno
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from bpfbuild.errors import KernelError
from bpfbuild.kernel.objects import (
    DEFAULT_LOG_SIZE,
    LEVEL2_LOG_SIZE,
    MAX_LOG_SIZE,
    GlobalValue,
    KernelObject,
    parse_log_error,
)
from bpfbuild.location import SourceLocation

__all__ = ["RunResult", "Verdict", "test_run", "test_run_insns", "verdict", "verdict_insns"]

ObjSource = str | os.PathLike[str] | bytes
MapSeed = Mapping[bytes | int, bytes] | Iterable[tuple[bytes | int, bytes]]

_PROCESSED = re.compile(r"^processed (\d+) insns", re.MULTILINE)
_VTIME = re.compile(r"^verification time (\d+) usec", re.MULTILINE)
_AT_FILE = re.compile(r"^(?P<text>.*?)\s*@ (?P<file>.+):(?P<line>\d+)$")


@dataclass(frozen=True, slots=True)
class Verdict:
    """The kernel verifier's verdict on one program.

    ``error_line``: the kernel's last message line (None when accepted); ``insn``: the
    failing instruction (slot index) parsed from the log; ``source_line``: the ``; ...``
    source text the kernel printed for it (from the object's BTF line info);
    ``processed_insns``: "processed N insns" (or the kernel's verified_insns count when
    accepted without a log); ``verification_time_usec``: only with log_level & 4 (stats).
    """

    accepted: bool
    log: str
    error_line: str | None
    insn: int | None
    source_line: str | None
    processed_insns: int | None
    verification_time_usec: int | None
    errno: int | None = None
    source: SourceLocation | None = None


@dataclass(frozen=True, slots=True)
class RunResult:
    """One BPF_PROG_TEST_RUN: r0 (low 32 bits), packet and ctx after, mean ns per run,
    and every readable map's elements afterwards (by the map's kernel name, e.g. ``hello.bss``)."""

    retval: int
    packet_out: bytes
    ctx_out: bytes | None
    duration_ns: int
    maps_after: dict[str, list[tuple[bytes, bytes]]]


def _split_source(raw: str | None) -> tuple[str | None, SourceLocation | None]:
    if raw is None:
        return None, None
    m = _AT_FILE.match(raw)
    if m is None:
        return raw.strip() or None, None
    line = int(m["line"])
    return m["text"].strip() or None, SourceLocation(m["file"], line) if line else None


def _int(pattern: re.Pattern[str], log: str) -> int | None:
    found = pattern.findall(log)
    return int(found[-1]) if found else None


def verdict(obj: ObjSource, prog_name: str | None = None, *, log_level: int = 1,
            rodata: Mapping[str, GlobalValue] | None = None, log_size: int | None = None,
            name: str | None = None) -> Verdict:
    """Load ``prog_name`` (default: the first program) alone and report the kernel's verdict.

    The log is requested at ``log_level`` from the first attempt, so it is there even when
    the program is accepted.  A log that does not fit is retried with a larger buffer.
    Failures that are not the verifier's (no permission, map creation, libbpf relocation
    errors) raise KernelError.
    """
    size = log_size or (LEVEL2_LOG_SIZE if log_level >= 2 else DEFAULT_LOG_SIZE)
    while True:
        with KernelObject.open(obj, name=name) as ko:
            if rodata:
                ko.set_globals(".rodata", rodata)
            prog = ko.program(prog_name)
            try:
                ko.load(log_level=log_level, log_size=size, programs=[prog.name])
            except KernelError as exc:
                if exc.errno == errno.ENOSPC and size < MAX_LOG_SIZE:
                    size = min(size * 8, MAX_LOG_SIZE)
                    continue
                if ko.last_failed is not prog or not prog.log.strip():
                    raise
                return _verdict_from_log(False, prog.log, exc.errno)
            result = _verdict_from_log(True, prog.log, None)
            if result.processed_insns is None:
                result = replace(result, processed_insns=prog.info().verified_insns or None)
            return result


def _verdict_from_log(accepted: bool, log: str, err: int | None) -> Verdict:
    if accepted:
        return Verdict(accepted=True, log=log, error_line=None, insn=None, source_line=None,
                       processed_insns=_int(_PROCESSED, log), verification_time_usec=_int(_VTIME, log))
    line, insn, raw_source = parse_log_error(log)
    text, where = _split_source(raw_source)
    return Verdict(accepted=False, log=log, error_line=line, insn=insn, source_line=text,
                   processed_insns=_int(_PROCESSED, log), verification_time_usec=_int(_VTIME, log),
                   errno=err, source=where)


def verdict_insns(code: bytes, prog_type: int | str, *, log_level: int = 1, license: str = "GPL",
                  expected_attach_type: int = 0, prog_flags: int = 0) -> Verdict:
    """The kernel's verdict on bare instructions (no ELF, no maps): see :func:`rawload.load_insns`."""
    from bpfbuild.kernel.info import prog_info
    from bpfbuild.kernel.rawload import load_insns

    loaded = load_insns(code, prog_type, license=license, log_level=log_level,
                        expected_attach_type=expected_attach_type, prog_flags=prog_flags)
    if loaded.fd is None:
        return _verdict_from_log(False, loaded.log, loaded.errno)
    with loaded.fd as fd:
        result = _verdict_from_log(True, loaded.log, None)
        if result.processed_insns is None:
            result = replace(result, processed_insns=prog_info(fd).verified_insns or None)
    return result


def test_run_insns(code: bytes, prog_type: int | str, *, packet: bytes = b"", ctx: bytes | None = None,
                   repeat: int = 1, license: str = "GPL") -> RunResult:
    """Load bare instructions and run them once (or ``repeat`` times) with BPF_PROG_TEST_RUN.

    A rejection raises KernelError with the kernel's last message line.  ``maps_after`` is empty.
    """
    from bpfbuild.kernel.rawload import load_insns, prog_type_number
    from bpfbuild.kernel.testrun import run_prog

    loaded = load_insns(code, prog_type, license=license, log_level=0)
    if loaded.fd is None:
        line, insn, _ = parse_log_error(loaded.log)
        at = f" at insn {insn}" if insn is not None else ""
        raise KernelError(f"rejected by the kernel verifier{at}: {line}", errno=loaded.errno)
    with loaded.fd as fd:
        run = run_prog(fd, data=packet, ctx=ctx, repeat=repeat, prog_type=prog_type_number(prog_type))
    return RunResult(retval=run.retval, packet_out=run.data_out, ctx_out=run.ctx_out,
                     duration_ns=run.duration_ns, maps_after={})


def _pairs(seed: MapSeed) -> Iterable[tuple[bytes | int, bytes]]:
    if isinstance(seed, Mapping):
        return seed.items()
    return seed


def test_run(obj: ObjSource, prog_name: str | None = None, *, packet: bytes = b"", ctx: bytes | None = None,
             repeat: int = 1, rodata: Mapping[str, GlobalValue] | None = None,
             maps: Mapping[str, MapSeed] | None = None, name: str | None = None) -> RunResult:
    """Load ``prog_name`` alone, seed maps, run it with BPF_PROG_TEST_RUN, read every map.

    ``rodata`` sets ``.rodata`` variables before load; ``maps`` seeds elements after load,
    by map name (``hello.bss``, or the section ``.bss`` for global data; int keys are
    encoded in the key size).  ``duration_ns`` is the kernel's mean per repetition.
    """
    with KernelObject.open(obj, name=name) as ko:
        if rodata:
            ko.set_globals(".rodata", rodata)
        prog = ko.program(prog_name)
        ko.load(programs=[prog.name])
        for map_name, seed in (maps or {}).items():
            m = ko.map(map_name)
            handle = m.handle()
            if handle.info.frozen:
                raise KernelError(f"map {m.name} is frozen (read-only) after load: set .rodata with rodata=")
            for key, value in _pairs(seed):
                handle.update(key, value)
        run = prog.test_run(packet, ctx=ctx, repeat=repeat)
        after: dict[str, list[tuple[bytes, bytes]]] = {}
        for m in ko.maps.values():
            handle = m.handle()
            if not handle.readable:
                continue
            try:
                after[m.name] = handle.items()
            except KernelError:
                continue
        return RunResult(retval=run.retval, packet_out=run.data_out, ctx_out=run.ctx_out,
                         duration_ns=run.duration_ns, maps_after=after)


# not pytest tests when imported into a test module
test_run.__test__ = False  # type: ignore[attr-defined]
test_run_insns.__test__ = False  # type: ignore[attr-defined]

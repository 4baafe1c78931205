"""The fuzzing harness shared by tests/fuzz and benchmarks/fuzz.py: build real objects, mutate
inputs, and run every command that reads a file in-process, classifying each outcome.

An outcome is one of: ``ok`` (exit 0), ``error`` (non-zero exit with at most a few lines on
stderr and no traceback), ``traceback`` (an exception other than a clean exit escaped, or a
``Traceback`` on stderr).  The caller decides whether exit 0 is right for its input (garbage
must not exit 0; a mutated-but-valid object may).
"""

from __future__ import annotations

import contextlib
import io
import os
import random
import traceback
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PROGRAMS = REPO / "programs"

#: Commands that read one file (FILE is replaced by the input's path).
FILE_COMMANDS: dict[str, list[str]] = {
    "show": ["show", "FILE"],
    "dump": ["dump", "FILE"],
    "maps": ["maps", "FILE"],
    "verify": ["verify", "FILE"],
    "skel-c": ["skel", "FILE", "-o", "OUT"],
    "skel-py": ["skel", "FILE", "--lang", "python", "-o", "OUT"],
    "btf-raw": ["btf", "dump", "FILE", "--format", "raw"],
    "btf-c": ["btf", "dump", "FILE"],
    "run": ["run", "FILE"],
}


@dataclass(frozen=True)
class Outcome:
    kind: str        # ok | error | traceback
    code: int
    detail: str


def build_objects(out: Path, names: tuple[str, ...] = ("hello", "xdp_proto_count", "tc_port_filter",
                                                        "exec_events", "core_task", "hello-func")) -> dict[str, bytes]:
    """Compile programs/<name>.bpf.c with the compiler doit would use (``tests/bpfcc.py``: clang,
    else zig's, with libbpf's headers or bpfbuild's own set); ones that do not compile are left out."""
    from tests.bpfcc import Unavailable, find

    try:
        cc = find()
    except Unavailable as exc:
        from bpfbuild.errors import BpfBuildError

        raise BpfBuildError(str(exc)) from None
    objs = {}
    for name in names:
        src = PROGRAMS / f"{name}.bpf.c"
        obj = out / f"{name}.bpf.o"
        if cc.run(src, obj, include_dirs=[PROGRAMS]).returncode == 0:
            objs[name] = obj.read_bytes()
    return objs


def mutate(data: bytes, rng: random.Random) -> bytes:
    """One of: flip bytes, overwrite a 4/8-byte field with an extreme value, truncate, splice."""
    buf = bytearray(data)
    how = rng.randrange(5)
    if how == 0 or not buf:
        for _ in range(rng.randint(1, 8)):
            if buf:
                buf[rng.randrange(len(buf))] = rng.randrange(256)
    elif how == 1:
        at = rng.randrange(max(1, len(buf) - 8))
        width = rng.choice((2, 4, 8))
        value = rng.choice((0, 1, 0x7F, 0xFF, 0x7FFF, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF, 0x80000000,
                            (1 << 63) - 1, (1 << 64) - 1, rng.getrandbits(64)))
        buf[at:at + width] = (value & ((1 << (8 * width)) - 1)).to_bytes(width, "little")
    elif how == 2:
        buf = buf[: rng.randrange(len(buf) + 1)]
    elif how == 3:
        at = rng.randrange(len(buf) + 1)
        buf[at:at] = bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 64)))
    else:   # the section header fields: e_shnum / e_shoff / e_shstrndx
        if len(buf) >= 64:
            field = rng.choice(((0x28, 8), (0x3C, 2), (0x3E, 2), (0x30, 2)))
            buf[field[0]:field[0] + field[1]] = rng.getrandbits(8 * field[1]).to_bytes(field[1], "little")
    return bytes(buf)


def run_cli(argv: list[str]) -> Outcome:
    """``bpfbuild ARGV`` in this process: its exit status, and whether anything escaped."""
    from bpfbuild.cli import main

    err, out = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
            code = main(argv)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 2
    except (KeyboardInterrupt, MemoryError) as exc:
        return Outcome("traceback", -1, f"{type(exc).__name__}")
    except BaseException:  # noqa: BLE001 - anything else escaping is the bug we count
        return Outcome("traceback", -1, traceback.format_exc(limit=-3))
    text = err.getvalue()
    if "Traceback (most recent call last)" in text:
        return Outcome("traceback", code, text[-2000:])
    return Outcome("ok" if code == 0 else "error", code, text.strip().splitlines()[-1] if text.strip() else "")


def file_argv(command: str, path: Path, out: Path) -> list[str]:
    return [str(path) if a == "FILE" else str(out) if a == "OUT" else a for a in FILE_COMMANDS[command]]


def garbage(rng: random.Random) -> bytes:
    """Inputs that are no object at all: random bytes, text, an ELF header on nothing."""
    kind = rng.randrange(4)
    if kind == 0:
        return bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 256)))
    if kind == 1:
        return "".join(rng.choice("[]{}=\"'#\n ab01.") for _ in range(rng.randint(0, 200))).encode()
    if kind == 2:
        return b"\x7fELF" + bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 120)))
    return b""


def spec_text(rng: random.Random) -> str:
    """A TOML test spec built from valid pieces with hostile values."""
    values = ["1", "-1", "99999999999999999999", "-99999999999999999999", "1000000000", "0", "\"XDP_PASS\"",
              "\"x\"", "[]", "{}", "true", "1.5", "\"u32 a; char b[3000000000]\"", "[1, 2, 99999999999999999999]"]
    keys = ["repeat", "packet", "args", "ctx", "program", "name", "expect.retval", "expect.printk",
            "expect.globals", "expect.error", "world.ktime_ns"]
    programs = ['"hello"', "1", '"nope"']
    lines = [f"program = {rng.choice(programs)}"]
    for _ in range(rng.randint(0, 4)):
        lines.append("[[case]]")
        lines.append(f'name = "c{rng.randrange(1000)}"')
        for _ in range(rng.randint(0, 4)):
            lines.append(f"{rng.choice(keys)} = {rng.choice(values)}")
    return "\n".join(lines) + "\n"


def ensure_dir(path: Path) -> Path:
    os.makedirs(path, exist_ok=True)
    return path

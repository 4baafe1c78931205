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
    from bpfbuild import cli
    from bpfbuild.cli import main

    if not hasattr(cli.build_parser, "cache_info"):   # built once (60% of a run on garbage was argparse)
        import functools
        cli.build_parser = functools.lru_cache(maxsize=1)(cli.build_parser)

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


# --- text inputs: test specs, saved probes (target files), state files ---------------------------

#: Commands whose fuzzed input is a text file read beside a valid object (OBJ: hello.bpf.o, SPEC:
#: hello's own spec): the spec of `coverage`, a saved probe for `probe --from` and `verify --kernel`,
#: and an object `coverage` runs a valid spec on.  Each maps to (argv, input kind).
TEXT_COMMANDS: dict[str, tuple[list[str], str]] = {
    "coverage-spec": (["coverage", "OBJ", "--spec", "FILE", "--lcov", "OUT"], "spec"),
    "coverage-obj": (["coverage", "FILE", "--spec", "SPEC"], "object"),
    "probe-from": (["probe", "--from", "FILE"], "probe"),
    "verify-kernel": (["verify", "OBJ", "--kernel", "FILE"], "probe"),
}


def text_argv(command: str, path: Path, out: Path, obj: Path, spec: Path) -> list[str]:
    subst = {"FILE": str(path), "OUT": str(out), "OBJ": str(obj), "SPEC": str(spec)}
    return [subst.get(a, a) for a in TEXT_COMMANDS[command][0]]


_PROPERTY = ['[[property]]\nname = "p"\ninputs = {n}\npacket = {{ layers = ["eth", "ipv4", "udp"] }}\n'
             'expect.hold = "{expr}"\n',
             '[[property]]\nname = "q"\nargs = [{{ range = [{lo}, {hi}] }}]\nexpect.retval = {rv}\n']
_EXPRS = ["retval == 2", "retval in (1, 2)", "len(packet) > 0", "__import__('os')", "(lambda: 1)()",
          "9**9**9", "'a' * 10**10", "retval.__class__", "x", "", "[" * 50]


def mutate_text(text: str, rng: random.Random) -> str:
    """Line-level mutations of a TOML/JSON text: drop, duplicate, swap a value, insert hostile text."""
    lines = text.splitlines()
    for _ in range(rng.randint(1, 3)):
        if not lines:
            lines = [""]
        at = rng.randrange(len(lines))
        how = rng.randrange(6)
        if how == 0:
            del lines[at]
        elif how == 1:
            lines.insert(at, lines[at])
        elif how == 2 and "=" in lines[at]:
            key = lines[at].split("=", 1)[0]
            lines[at] = f"{key}= {rng.choice(_HOSTILE_VALUES)}"
        elif how == 3:
            lines.insert(at, rng.choice(_HOSTILE_LINES))
        elif how == 4:
            line = lines[at]
            cut = rng.randrange(len(line) + 1)
            lines[at] = line[:cut] + rng.choice("[]{}\"'=,.#\\\x00é") + line[cut:]
        else:
            lines[at:] = lines[at:][: rng.randrange(len(lines) - at + 1)]
    return "\n".join(lines) + rng.choice(["\n", ""])


_HOSTILE_VALUES = ["1", "-1", "0", "99999999999999999999", "-99999999999999999999", "1e400", "nan", "true", "\"\"",
                   "\"x\"", "[]", "{}", "[[]]", "[1, \"a\"]", "{ a = 1 }", "1000000000", "\"XDP_DROP\"",
                   "\"u32 a; char b[3000000000]\"", "\"\\u0000\"", "null", "{\"a\": []}"]
_HOSTILE_LINES = ["[[case]]", "[[property]]", "[case]", "repeat = 1000000000", "inputs = 100000000",
                  "budget = 99999999999", "min_coverage.lines = 101", "expect.hold = \"9**9**9\"",
                  "packet = { layers = [\"eth\", \"ipv4\"], truncate = -5 }", "program = \"\"",
                  "ctx = { data = 1 }", "maps = { nope = [[1, 2]] }", "world.ktime_ns = -1",
                  "args = [{ range = [5, 1] }]", "seed = -1", "expect.fault = true", "{", "}", "\"kernel\": 7,"]


def spec_input(rng: random.Random, bases: list[str]) -> str:
    """A hostile test spec: a real one mutated, a generated one, or one with property blocks."""
    kind = rng.randrange(3)
    if kind == 0:
        return mutate_text(rng.choice(bases), rng)
    if kind == 1:
        return spec_text(rng)
    text = 'program = "hello"\n'
    for _ in range(rng.randint(1, 2)):
        text += rng.choice(_PROPERTY).format(n=rng.choice([0, 1, 3, -1, 10**9]), expr=rng.choice(_EXPRS),
                                             lo=rng.choice([0, -5, 2**64]), hi=rng.choice([1, 2**63, -1]),
                                             rv=rng.choice(["2", "\"XDP_PASS\"", "[]"]))
    return mutate_text(text, rng) if rng.random() < 0.5 else text


def _json_mutate(value: object, rng: random.Random, depth: int = 0) -> object:
    pool: list[object] = [None, True, 0, -1, 2**64, 1.5, "", "x", [], {}, [1], {"a": 1}, "5.15", "9" * 30]
    if depth > 6 or rng.random() < 0.15:
        return rng.choice(pool)
    if isinstance(value, dict) and value:
        value = dict(value)
        key = rng.choice(sorted(value))
        how = rng.randrange(3)
        if how == 0:
            del value[key]
        elif how == 1:
            value[key] = _json_mutate(value[key], rng, depth + 1)
        else:
            value[key] = rng.choice(pool)
        return value
    if isinstance(value, list) and value:
        value = list(value)
        at = rng.randrange(len(value))
        value[at] = _json_mutate(value[at], rng, depth + 1)
        return value
    return rng.choice(pool)


def probe_input(rng: random.Random, base: dict) -> str:
    """A hostile saved probe: the running kernel's probe with mutated values or text."""
    import json

    data: object = base
    for _ in range(rng.randint(1, 4)):
        data = _json_mutate(data, rng)
    text = json.dumps(data, indent=rng.choice([None, 1]))
    return mutate_text(text, rng) if rng.random() < 0.3 else text


# --- state files: read back by doit tasks (any content: used, ignored or one line, never a traceback) ----

def state_readers() -> dict[str, object]:
    """name -> function(path of a fuzzed file, its directory) reading it the way the tasks do."""
    import json as _json
    from types import SimpleNamespace

    def cmd_record(path: Path, tmp: Path) -> None:
        from bpfbuild.tasks.build import record_problem
        try:
            record = _json.loads(path.read_bytes())
        except ValueError:
            return
        record_problem(SimpleNamespace(source=Path("programs/x.bpf.c")), record)   # type: ignore[arg-type]

    def toolchain(path: Path, tmp: Path) -> None:
        from bpfbuild.toolchain.discover import _valid_entries
        _valid_entries(path)

    def results(path: Path, tmp: Path) -> None:
        from bpfbuild.tasks.report import RESULTS_DIR, print_report
        build = tmp / "build"
        (build / RESULTS_DIR).mkdir(parents=True, exist_ok=True)
        data = path.read_bytes()
        for stage in ("build", "verify", "test"):
            (build / RESULTS_DIR / f"x.{stage}.json").write_bytes(data)
        (build / RESULTS_DIR / "x.lcov").write_bytes(data)
        prog = SimpleNamespace(name="x", source=Path("programs/x.bpf.c"), object=build / "x.bpf.o")
        config = SimpleNamespace(build_dir=build, programs=lambda: [prog], target_kernels=["t.json"])
        with contextlib.redirect_stdout(io.StringIO()):
            print_report(SimpleNamespace(config=config))

    def doit_state(path: Path, tmp: Path) -> None:
        from bpfbuild.tasks.state import check_state_file
        with contextlib.redirect_stderr(io.StringIO()):
            check_state_file(path)

    return {"state-cmd": cmd_record, "state-toolchain": toolchain, "state-results": results,
            "state-doit": doit_state}


def run_reader(fn: object, path: Path, tmp: Path) -> Outcome:
    """A state reader on one file: ``ok`` (used or ignored), ``error`` (one-line BpfBuildError), or ``traceback``."""
    from bpfbuild.errors import BpfBuildError

    try:
        fn(path, tmp)   # type: ignore[operator]
    except BpfBuildError as exc:
        return Outcome("error" if "\n" not in str(exc) else "traceback", 1, str(exc))
    except BaseException:  # noqa: BLE001
        return Outcome("traceback", -1, traceback.format_exc(limit=-3))
    return Outcome("ok", 0, "")


def state_input(rng: random.Random) -> bytes:
    """A state file of any shape: garbage, or JSON whose values have the wrong types."""
    import json

    if rng.random() < 0.3:
        return garbage(rng)
    base = rng.choice([
        {"argv": ["clang"], "deps": {"a.h": "0" * 32}, "version": 1, "compiler": "clang"},
        {"/usr/bin/clang": {"bpf": True, "version": "18.1", "mtime": 1.0}},
        {"programs": [{"name": "x", "type": "xdp", "insns": 3, "verdict": "accepted"}],
         "targets": {"t.json": [{"feature": "helper"}]}, "passed": 1, "failed": 0, "spec": "x.test.toml",
         "coverage": {"summary": "1/1"}, "not_emulated": ["x"]},
    ])
    data: object = base
    for _ in range(rng.randint(0, 4)):
        data = _json_mutate(data, rng)
    return json.dumps(data).encode()


# --- CLI argv --------------------------------------------------------------------------------------

ARGV_COMMANDS = ["show", "dump", "maps", "verify", "skel", "btf", "run", "toolchain", "coverage", "probe"]
ARGV_TOKENS = ["FILE", "GARBAGE", "MISSING", "DIR", "FIFO", "--json", "--pretty", "--format", "raw", "c", "--lang",
               "python", "--name", "x y", "-o", "OUT", "--ctx", "len=99999999999999999999", "--args", "1,2,x",
               "--packet", "zz", "--repeat", "0", "100000000000", "--budget", "-1", "--set", "a=1", "--map",
               "m[1]=2", "--world", "pid=1", "--trace", "--source", "dump", "hello", "-", "", "\x00", "--help",
               "--spec", "SPEC", "--lcov", "--from", "--kernel", "5.15", "default", "running", "--log", "2",
               "--unprivileged", "--btf", "--target", "--xlated", "--raw", "--sections", "--tag-hash", "sha256",
               "--helpers", "--kfuncs", "-C"]


def argv_input(rng: random.Random) -> tuple[str, list[str]]:
    command = rng.choice(ARGV_COMMANDS)
    head = [command, "--from"] if command == "probe" else [command]   # never a real probe per input
    return command, head + [rng.choice(ARGV_TOKENS) for _ in range(rng.randint(0, 7))]


# --- kernel commands: load / show / unload in a forked child (libbpf runs in C: a crash is a signal) ---

def _warm_up() -> None:
    """Import the CLI, its commands and libbpf once in the parent: each child starts with them."""
    import importlib

    from bpfbuild.cli import _AREAS, build_parser

    build_parser()
    for area in _AREAS:
        importlib.import_module(f"bpfbuild.cli.{area}")
    for mod in ("bpfbuild.kernel", "bpfbuild.kernel.objects", "bpfbuild.kernel.info", "bpfbuild.kernel.pins",
                "bpfbuild.obj.loader"):
        importlib.import_module(mod)


def run_forked(argv: list[str], timeout: float) -> Outcome:
    """``bpfbuild ARGV`` in a forked child: a signal (libbpf crashing) is ``crash``, past ``timeout`` ``hang``."""
    import signal
    import time

    _warm_up()
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:   # pragma: no cover - the child
        os.close(rfd)
        code = 3
        try:
            out = run_cli(argv)
            code = {"ok": 0, "error": 1}.get(out.kind, 3)
            os.write(wfd, out.detail.encode(errors="replace")[-4000:])
        finally:
            os._exit(code)
    os.close(wfd)
    deadline = time.monotonic() + timeout
    status = None
    while status is None:
        done, st = os.waitpid(pid, os.WNOHANG)
        if done:
            status = st
        elif time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            os.close(rfd)
            return Outcome("hang", -1, f"> {timeout} s")
        else:
            time.sleep(0.002)
    with os.fdopen(rfd, "rb") as fh:
        detail = fh.read().decode(errors="replace")
    if os.WIFSIGNALED(status):
        return Outcome("crash", -os.WTERMSIG(status), f"killed by signal {os.WTERMSIG(status)}")
    code = os.WEXITSTATUS(status)
    return Outcome({0: "ok", 1: "error"}.get(code, "traceback"), code, detail)


def kernel_cycle(path: Path, pin_dir: Path, timeout: float = 10.0) -> list[tuple[str, Outcome]]:
    """load PATH at PIN_DIR/p; if pinned, ``prog show pinned`` it; unload it. Leaves nothing pinned."""
    pin = pin_dir / "p"
    steps = [("load", run_forked(["load", str(path), str(pin)], timeout))]
    if pin.exists():
        steps.append(("show", run_forked(["prog", "show", "pinned", str(pin)], timeout)))
        steps.append(("unload", run_forked(["unload", str(pin)], timeout)))
        if pin.exists():
            pin.unlink()
    return steps

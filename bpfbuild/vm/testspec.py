"""Test specs: ``programs/<name>.test.toml`` read into frozen records (the format is
documented in docs/test-specs.md).

A spec is a list of cases; a case is one or more runs of the object's programs in one fresh
emulator session, with inputs (packet, args, ctx fields, repeat, seeded globals and maps, the
world the helpers see) and expectations (return value by name, printk lines, globals, map
contents, output packet, ring-buffer records, or a fault).  ``[[case.run]]`` tables give a
sequence of runs; a run takes every input it does not set from its case.

Parsing checks everything that does not need the object (keys, types, packets); map keys and
typed values are checked when the case runs against the object (:mod:`bpfbuild.vm.specrun`).
Every problem is a :class:`~bpfbuild.errors.SpecError` at ``file:line:col`` of the spec.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bpfbuild.errors import SpecError
from bpfbuild.location import SourceLocation
from bpfbuild.vm.fib import parse_routes
from bpfbuild.vm.socktable import parse_sockets
from bpfbuild.vm.packet import build_packet, parse_hex
from bpfbuild.vm.propspec import check_expr, parse_property

__all__ = ["CaseSpec", "Expect", "RunSpec", "TestSpec", "load_spec", "parse_spec", "spec_path_for"]

SPEC_SUFFIX = ".test.toml"

_FILE_KEYS = {"program", "world", "kernel", "case", "description", "min_coverage", "property"}
_COVERAGE_KEYS = {"lines", "branches"}
#: Most runs one case may ask for (``repeat``): a spec is a test, not a load generator.
MAX_REPEAT = 10_000
U64_MAX = (1 << 64) - 1
S64_MIN = -(1 << 63)
_INPUT_KEYS = {"program", "packet", "args", "ctx", "repeat"}
_CASE_KEYS = _INPUT_KEYS | {"name", "globals", "maps", "world", "kernel_memory", "kernel", "expect", "run", "budget"}
_RUN_KEYS = _INPUT_KEYS | {"expect", "name", "wait"}
_EXPECT_KEYS = {"retval", "printk", "globals", "maps", "packet", "ringbuf", "error", "hold", "effects"}
_RUN_EXPECT_KEYS = {"retval", "printk", "packet", "error"}
_WORLD_KEYS = {"pid", "tgid", "uid", "gid", "comm", "time_ns", "time_step_ns", "boot_offset_ns", "tai_offset_ns",
               "hz", "cpu", "nr_cpus", "numa_node", "seed", "cgroup_id", "kptr_restrict", "current_task",
               "kernel_stack", "user_stack", "func_ip", "socket_cookie", "pidns_dev", "pidns_ino", "ns_pid",
               "ns_tgid", "cgroup_ancestors", "routes", "task", "attach_cookie",
               "func_args", "paths", "socket_family", "socket_protocol", "sockets"}
#: world keys that take a list of integers (addresses, ids)
_WORLD_LISTS = {"kernel_stack", "user_stack", "cgroup_ancestors"}


def spec_path_for(source: Path) -> Path:
    """``programs/hello.bpf.c`` -> ``programs/hello.test.toml``."""
    name = source.name
    stem = name[: -len(".bpf.c")] if name.endswith(".bpf.c") else source.stem
    return source.with_name(stem + SPEC_SUFFIX)


# --- records ---------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class Expect:
    """What a case (or one run) must produce; None / empty: not checked.

    ``where`` maps each expectation (``"retval"``, ``"globals.dropped"``, ``"maps.proto_count"``)
    to its place in the spec, for messages.
    """

    retval: int | str | None = None
    printk: tuple[str, ...] | None = None
    globals: Mapping[str, Any] = field(default_factory=dict)
    maps: Mapping[str, Any] = field(default_factory=dict)
    packet: bytes | str | None = None          # bytes, or "unchanged"
    ringbuf: Mapping[str, Any] = field(default_factory=dict)
    error: str | None = None
    where: Mapping[str, SourceLocation] = field(default_factory=dict)
    #: expressions that must be true after the runs (see :mod:`bpfbuild.vm.properties`)
    hold: tuple[str, ...] = ()
    #: the session's effects after the runs, in order (signals, overridden returns, timers
    #: started): each table names the fields it checks; None: not checked
    effects: tuple[Mapping[str, Any], ...] | None = None

    @property
    def empty(self) -> bool:
        return (self.retval is None and self.printk is None and not self.globals and not self.maps
                and self.packet is None and not self.ringbuf and self.error is None and not self.hold
                and self.effects is None)


@dataclass(frozen=True, eq=False)
class RunSpec:
    """One run (``repeat`` times) of a program with its inputs."""

    index: int
    program: str | None
    packet: bytes | None
    args: tuple[int, ...] | None
    ctx: Mapping[str, Any] | None
    repeat: int
    expect: Expect
    location: SourceLocation
    name: str | None = None
    #: not a run of a program: let this many ns pass (True: until no timer is pending),
    #: running the callbacks of the bpf_timers that come due
    wait: bool | int | None = None


@dataclass(frozen=True, eq=False)
class CaseSpec:
    """A fresh session: seed it, do the runs in order, then check the case's expectations."""

    index: int
    name: str
    location: SourceLocation
    runs: tuple[RunSpec, ...]
    globals: Mapping[str, Any]
    maps: Mapping[str, Any]
    world: Mapping[str, Any]
    kernel_memory: tuple[Mapping[str, Any], ...]
    kernel: bool | str              # cross-check in the kernel (a string: why not)
    expect: Expect
    budget: int | None = None
    where: Mapping[str, SourceLocation] = field(default_factory=dict)


@dataclass(frozen=True, eq=False)
class TestSpec:
    __test__ = False   # not a pytest class

    path: str
    program: str | None
    world: Mapping[str, Any]
    cases: tuple[CaseSpec, ...]
    description: str | None = None
    #: ``min_coverage = { lines = 90, branches = 70 }``: percentages the cases must reach
    min_coverage: Mapping[str, float] = field(default_factory=dict)
    #: ``[[property]]`` blocks, parsed by :mod:`bpfbuild.vm.properties`
    properties: tuple[Any, ...] = ()


# --- where things are in the text ---------------------------------------------------------------

_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"^\s*((?:[A-Za-z0-9_\-]+|\"[^\"]*\"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_\-]+|\"[^\"]*\"|'[^']*'))*)\s*=")


def _split_key(text: str) -> tuple[str, ...]:
    parts = re.findall(r"\"[^\"]*\"|'[^']*'|[A-Za-z0-9_\-]+", text)
    return tuple(p[1:-1] if p[0] in "\"'" else p for p in parts)


class _Locator:
    """Line numbers of TOML keys: ``find(("case", 2, "expect", "retval"))`` -> (line, column).

    A line-based reading of the file (headers, ``key =`` lines, array-of-tables counters); it
    answers with the closest enclosing key it saw, which is what a message needs.
    """

    def __init__(self, text: str) -> None:
        self.entries: list[tuple[tuple[Any, ...], int, int]] = []
        self._first: dict[tuple[Any, ...], tuple[int, int]] = {}
        counters: dict[tuple[Any, ...], int] = {}
        table: tuple[Any, ...] = ()
        in_multiline = False
        for lineno, line in enumerate(text.splitlines(), 1):
            if in_multiline:
                if line.count('"""') % 2 or line.count("'''") % 2:
                    in_multiline = False
                continue
            header = _HEADER.match(line)
            if header and not _KEY.match(line):
                names = _split_key(header[2])
                path: list[Any] = []
                for i, name in enumerate(names):
                    path.append(name)
                    key = tuple(path)
                    last = i == len(names) - 1
                    if header[1] == "[[" and last:
                        counters[key] = counters.get(key, -1) + 1
                        path.append(counters[key])
                    elif key in counters:
                        path.append(counters[key])
                table = tuple(path)
                col = len(line) - len(line.lstrip()) + 1
                self.entries.append((table, lineno, col))
                continue
            assignment = _KEY.match(line)
            if assignment:
                col = len(line) - len(line.lstrip()) + 1
                self.entries.append((table + _split_key(assignment[1]), lineno, col))
                if line.count('"""') % 2 or line.count("'''") % 2:
                    in_multiline = True

    def find(self, path: tuple[Any, ...]) -> tuple[int, int]:
        """The first entry that is the longest prefix of ``path`` (a dict look-up per prefix length:
        parsing stays linear in the size of the spec)."""
        if len(self._first) == 0 and self.entries:
            for entry, line, col in self.entries:
                self._first.setdefault(entry, (line, col))
        for n in range(len(path), 0, -1):
            hit = self._first.get(path[:n])
            if hit is not None:
                return hit
        return 1, 1


# --- parsing -----------------------------------------------------------------------------------

class _Parser:
    def __init__(self, text: str, path: str) -> None:
        self.path = path
        self.locator = _Locator(text)

    def at(self, *path: Any) -> SourceLocation:
        line, col = self.locator.find(tuple(path))
        return SourceLocation(self.path, line, col)

    def fail(self, message: str, *path: Any) -> SpecError:
        return SpecError(message, location=self.at(*path))

    def table(self, value: Any, what: str, *path: Any) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.fail(f"{what} must be a table, not {_show(value)}", *path)
        return value

    def keys(self, table: Mapping[str, Any], allowed: set[str], what: str, *path: Any) -> None:
        for key in table:
            if key not in allowed:
                raise self.fail(f"{what}: unknown key {key!r} (keys: {', '.join(sorted(allowed))})", *path, key)

    def integer(self, value: Any, what: str, *path: Any, low: int = 0, high: int = U64_MAX) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise self.fail(f"{what} must be an integer >= {low}, not {_show(value)}", *path)
        if value > high:
            raise self.fail(f"{what} must be at most {high}, not {_show(value)}", *path)
        return value

    def numbers_in_range(self, value: Any, *path: Any) -> None:
        """Every integer of the spec fits a 64-bit register (-2**63 .. 2**64-1): a larger one
        would wrap silently where it is used.  Iterative walk, blamed at the key's file:line."""
        todo: list[tuple[Any, tuple[Any, ...]]] = [(value, path)]
        while todo:
            item, where = todo.pop()
            if isinstance(item, bool):
                continue
            if isinstance(item, int):
                if not S64_MIN <= item <= U64_MAX:
                    raise self.fail(f"{_show(item)} does not fit in 64 bits", *where)
            elif isinstance(item, Mapping):
                todo.extend((v, (*where, k)) for k, v in item.items())
            elif isinstance(item, list):
                # arrays of tables are numbered in the locator's paths; inline arrays blame their key
                todo.extend((v, (*where, i) if isinstance(v, Mapping) else where) for i, v in enumerate(item))

    def spec(self, data: Mapping[str, Any]) -> TestSpec:
        self.keys(data, _FILE_KEYS, "spec")
        self.numbers_in_range(data)
        program = data.get("program")
        if program is not None and not isinstance(program, str):
            raise self.fail(f"program must be a program name, not {_show(program)}", "program")
        world = self.world(data.get("world", {}), "world")
        kernel = self.kernel_flag(data.get("kernel", True), "kernel")
        cases_raw = data.get("case", [])
        if not isinstance(cases_raw, list) or (not cases_raw and not data.get("property")):
            raise self.fail("a spec needs at least one [[case]] (or [[property]])", "case")
        cases = tuple(self.case(i, c, program, world, kernel) for i, c in enumerate(cases_raw))
        seen: set[str] = set()
        for c in cases:
            if c.name in seen:
                raise self.fail(f"two cases are named {c.name!r}", "case", c.index, "name")
            seen.add(c.name)
        description = data.get("description")
        if description is not None and not isinstance(description, str):
            raise self.fail("description must be text", "description")
        minimum = self.table(data.get("min_coverage", {}), "min_coverage", "min_coverage")
        self.keys(minimum, _COVERAGE_KEYS, "min_coverage", "min_coverage")
        for key, value in minimum.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 100:
                raise self.fail(f"min_coverage.{key} must be a percentage (0 to 100), not {_show(value)}",
                                "min_coverage", key)
        properties = self.properties(data.get("property", []), program)
        return TestSpec(self.path, program, world, cases, description, dict(minimum), properties)

    def properties(self, raw: Any, program: str | None) -> tuple[Any, ...]:
        if not isinstance(raw, list):
            raise self.fail("property must be a list of [[property]] tables", "property")
        return tuple(parse_property(self, i, item, program) for i, item in enumerate(raw))

    def kernel_flag(self, value: Any, *path: Any) -> bool | str:
        if isinstance(value, (bool, str)):
            return value
        raise self.fail(f"kernel must be true, false or the reason it cannot run there, not {_show(value)}", *path)

    def world(self, value: Any, *path: Any) -> Mapping[str, Any]:
        table = self.table(value, "world", *path)
        self.keys(table, _WORLD_KEYS, "world", *path)
        for key, item in table.items():
            if key == "comm":
                if not isinstance(item, str):
                    raise self.fail(f"world.comm must be text, not {_show(item)}", *path, key)
            elif key in _WORLD_LISTS:
                if not isinstance(item, list):
                    raise self.fail(f"world.{key} must be a list of integers, not {_show(item)}", *path, key)
                for i, value in enumerate(item):
                    self.integer(value, f"world.{key}[{i}]", *path, key)
            elif key == "routes":
                try:
                    parse_routes(item)
                except SpecError as exc:
                    raise self.fail(f"world.{exc.message}", *path, key) from None
            elif key == "sockets":
                try:
                    parse_sockets(item)
                except SpecError as exc:
                    raise self.fail(f"world.{exc.message}", *path, key) from None
            elif key == "paths":
                for addr, text in self.table(item, "world.paths", *path, key).items():
                    try:
                        int(addr, 0)
                    except ValueError:
                        raise self.fail(f"world.paths: {addr!r} is not an address", *path, key) from None
                    if not isinstance(text, str):
                        raise self.fail(f"world.paths.{addr} must be text, not {_show(text)}", *path, key)
            elif key == "task":
                self.task(self.table(item, "world.task", *path, key), "world.task", *path, key)
            else:
                self.integer(item, f"world.{key}", *path, key)
        return dict(table)

    def task(self, table: Mapping[str, Any], what: str, *path: Any) -> None:
        """Task fields: integers or text (``comm``), or tables of them for the structs a task
        points to (``real_parent = { tgid = 1 }``)."""
        for key, item in table.items():
            if isinstance(item, dict):
                self.task(item, f"{what}.{key}", *path, key)
            elif not isinstance(item, str):
                self.integer(item, f"{what}.{key}", *path, key)

    def case(self, index: int, raw: Any, program: str | None, world: Mapping[str, Any],
             kernel: bool | str) -> CaseSpec:
        at = ("case", index)
        table = self.table(raw, f"case {index + 1}", *at)
        self.keys(table, _CASE_KEYS, f"case {index + 1}", *at)
        name = table.get("name", f"case {index + 1}")
        if not isinstance(name, str) or not name:
            raise self.fail(f"case name must be text, not {_show(name)}", *at, "name")
        defaults = self.inputs(table, program, at)
        runs_raw = table.get("run")
        expect = self.expect(table.get("expect", {}), _EXPECT_KEYS, *at, "expect")
        if runs_raw is None:
            runs: tuple[RunSpec, ...] = (RunSpec(0, defaults["program"], defaults["packet"], defaults["args"],
                                                 defaults["ctx"], defaults["repeat"], Expect(), self.at(*at)),)
        else:
            if not isinstance(runs_raw, list) or not runs_raw:
                raise self.fail("run must be a list of [[case.run]] tables", *at, "run")
            runs = tuple(self.run(i, r, defaults, at) for i, r in enumerate(runs_raw))
        globals_ = self.table(table.get("globals", {}), "globals", *at, "globals")
        maps = self.table(table.get("maps", {}), "maps", *at, "maps")
        for map_name, seed in maps.items():
            if not isinstance(seed, (Mapping, list)):
                raise self.fail(f"maps.{map_name} must be a table of key = value or a list of "
                                "{ key = ..., value = ... }", *at, "maps", map_name)
        case_world = {**world, **self.world(table.get("world", {}), *at, "world")}
        memory = self.kernel_memory(table.get("kernel_memory", []), at)
        budget = table.get("budget")
        if budget is not None:
            budget = self.integer(budget, "budget", *at, "budget", low=1)
        where = {key: self.at(*at, key) for key in table}
        for key, sub_table in (("globals", globals_), ("maps", maps)):
            for entry in sub_table:
                where[f"{key}.{entry}"] = self.at(*at, key, entry)
        return CaseSpec(index, name, self.at(*at), runs, dict(globals_), dict(maps), case_world, memory,
                        self.kernel_flag(table.get("kernel", kernel), *at, "kernel"), expect, budget, where)

    def inputs(self, table: Mapping[str, Any], program: str | None, at: tuple[Any, ...],
               base: Mapping[str, Any] | None = None) -> dict[str, Any]:
        out: dict[str, Any] = dict(base) if base is not None else {"program": program, "packet": None, "args": None,
                                                   "ctx": None, "repeat": 1}
        if "program" in table:
            if not isinstance(table["program"], str):
                raise self.fail(f"program must be a program name, not {_show(table['program'])}", *at, "program")
            out["program"] = table["program"]
        if "packet" in table:
            out["packet"] = self.packet(table["packet"], *at, "packet")
        if "args" in table:
            args = table["args"]
            if not isinstance(args, list) or not all(isinstance(a, int) and not isinstance(a, bool) for a in args):
                raise self.fail(f"args must be a list of integers, not {_show(args)}", *at, "args")
            if len(args) > 12:
                raise self.fail("args: at most 12 arguments", *at, "args")
            out["args"] = tuple(a & ((1 << 64) - 1) for a in args)
        if "ctx" in table:
            out["ctx"] = dict(self.table(table["ctx"], "ctx", *at, "ctx"))
        if "repeat" in table:
            out["repeat"] = self.integer(table["repeat"], "repeat", *at, "repeat", low=1, high=MAX_REPEAT)
        return out

    def packet(self, value: Any, *path: Any) -> bytes:
        try:
            if isinstance(value, str):
                return parse_hex(value, "packet")
            if isinstance(value, Mapping):
                return build_packet(value)
        except SpecError as exc:
            raise self.fail(exc.message, *path) from None
        raise self.fail(f"packet must be hex text or a table of layers, not {_show(value)}", *path)

    def run(self, index: int, raw: Any, defaults: Mapping[str, Any], case_at: tuple[Any, ...]) -> RunSpec:
        at = (*case_at, "run", index)
        table = self.table(raw, f"run {index + 1}", *at)
        self.keys(table, _RUN_KEYS, f"run {index + 1}", *at)
        values = self.inputs(table, None, at, base=defaults)
        expect = self.expect(table.get("expect", {}), _RUN_EXPECT_KEYS, *at, "expect")
        name = table.get("name")
        if name is not None and not isinstance(name, str):
            raise self.fail("a run's name must be text", *at, "name")
        wait = table.get("wait")
        if wait is not None:
            if wait is not True:
                wait = self.integer(wait, "wait (nanoseconds, or true: until no timer is pending)", *at, "wait",
                                    low=0)
            others = sorted(set(table) & (_INPUT_KEYS | {"expect"}))
            if others:
                raise self.fail(f"a run that waits runs no program: drop {', '.join(others)}", *at, others[0])
        return RunSpec(index, values["program"], values["packet"], values["args"], values["ctx"],
                       values["repeat"], expect, self.at(*at), name, wait)

    def expect(self, raw: Any, allowed: set[str], *at: Any) -> Expect:
        table = self.table(raw, "expect", *at)
        self.keys(table, allowed, "expect", *at)
        where: dict[str, SourceLocation] = {key: self.at(*at, key) for key in table}
        retval = table.get("retval")
        if retval is not None and (isinstance(retval, bool) or not isinstance(retval, (int, str))):
            raise self.fail(f"expect.retval must be a number or a name such as XDP_PASS, not {_show(retval)}",
                            *at, "retval")
        printk = table.get("printk")
        if printk is not None:
            if isinstance(printk, str):
                printk = [printk]
            if not isinstance(printk, list) or not all(isinstance(p, str) for p in printk):
                raise self.fail("expect.printk must be a list of lines", *at, "printk")
            printk = tuple(printk)
        packet: bytes | str | None = None
        if "packet" in table:
            packet = "unchanged" if table["packet"] == "unchanged" else self.packet(table["packet"], *at, "packet")
        error = table.get("error")
        if error is not None and not isinstance(error, str):
            raise self.fail("expect.error must be text (a part of the fault's message)", *at, "error")
        sub: dict[str, Mapping[str, Any]] = {}
        for key in ("globals", "maps", "ringbuf"):
            sub[key] = dict(self.table(table.get(key, {}), f"expect.{key}", *at, key))
            for name in sub[key]:
                where[f"{key}.{name}"] = self.at(*at, key, name)
        for name, records in sub["ringbuf"].items():
            self.records(records, *at, "ringbuf", name)
        for name, contents in sub["maps"].items():
            if not isinstance(contents, (Mapping, list)):
                raise self.fail(f"expect.maps.{name} must be a table of key = value or a list of "
                                "{ key = ..., value = ... }", *at, "maps", name)
        hold = table.get("hold", [])
        if isinstance(hold, str):
            hold = [hold]
        if not isinstance(hold, list) or not all(isinstance(h, str) for h in hold):
            raise self.fail("expect.hold must be a list of expressions", *at, "hold")
        if hold:
            hold = [check_expr(self, h, "expect.hold", *at, "hold") for h in hold]
        effects = table.get("effects")
        if effects is not None:
            if not isinstance(effects, list) or not all(isinstance(e, Mapping) for e in effects):
                raise self.fail("expect.effects must be a list of tables such as { effect = \"signal\", sig = 9 }",
                                *at, "effects")
            effects = tuple(dict(e) for e in effects)
        return Expect(retval, printk, sub["globals"], sub["maps"], packet, sub["ringbuf"], error, where, tuple(hold),
                      effects)

    def records(self, value: Any, *at: Any) -> None:
        if isinstance(value, list):
            for item in value:
                if not isinstance(item, str):
                    raise self.fail("records given as a list must be hex strings (or use "
                                    "{ layout = \"...\", records = [...] })", *at)
                self.packet(item, *at)
            return
        table = self.table(value, "ringbuf expectation", *at)
        self.keys(table, {"layout", "type", "records", "count"}, "ringbuf expectation", *at)
        if "layout" in table and "type" in table:
            raise self.fail("give either layout or type, not both", *at)
        if "records" not in table and "count" not in table:
            raise self.fail("a ringbuf expectation needs records = [...] and/or count = N", *at)
        if "records" in table and not isinstance(table["records"], list):
            raise self.fail("records must be a list", *at, "records")
        if "count" in table:
            self.integer(table["count"], "count", *at, "count")

    def kernel_memory(self, value: Any, at: tuple[Any, ...]) -> tuple[Mapping[str, Any], ...]:
        if not isinstance(value, list):
            raise self.fail("kernel_memory must be a list of { address = ..., hex = ... } or "
                            "{ address = ..., type = \"struct x\", value = {...} }", *at, "kernel_memory")
        out = []
        for i, item in enumerate(value):
            where = (*at, "kernel_memory", i)
            table = self.table(item, "kernel_memory entry", *where)
            self.keys(table, {"address", "hex", "type", "layout", "value", "size"}, "kernel_memory entry", *where)
            self.integer(table.get("address"), "kernel_memory address", *where)
            if ("hex" in table) == ("value" in table):
                raise self.fail("a kernel_memory entry needs hex = \"...\" or value = ... (with type or layout)",
                                *where)
            if "hex" in table:
                self.packet(table["hex"], *where)
            elif "type" not in table and "layout" not in table:
                raise self.fail("a kernel_memory value needs its type (\"struct task_struct\") or layout", *where)
            out.append(dict(table))
        return tuple(out)


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def parse_spec(text: str, path: str = "<spec>") -> TestSpec:
    """Parse the text of a spec (``path`` is what messages name)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        m = re.search(r"\(at line (\d+), column (\d+)\)", message)
        location = SourceLocation(path, int(m[1]), int(m[2])) if m else SourceLocation(path, 1, 1)
        raise SpecError(f"invalid TOML: {re.sub(r' ?[(]at line.*[)]', '', message)}", location=location) from None
    return _Parser(text, path).spec(data)


def load_spec(path: str | Path, *, display: str | None = None) -> TestSpec:
    """Read and parse a spec file; ``display`` is the path messages show (default: as given)."""
    shown = display or str(path)
    from bpfbuild.inputs import read_text_input

    text = read_text_input(path, error=SpecError, shown=shown)
    return parse_spec(text, shown)


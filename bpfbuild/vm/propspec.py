"""What ``[[property]]`` blocks say: their parsed form (generators, invariants) and the
expression evaluator that property runs and ``expect.hold`` in ``[[case]]`` blocks share.

The runner is :mod:`bpfbuild.vm.properties`; this module sits below the spec reader
(:mod:`bpfbuild.vm.testspec`) and the spec runner (:mod:`bpfbuild.vm.specrun`), which both use it.
"""

from __future__ import annotations

import ast
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bpfbuild.errors import SpecError
from bpfbuild.location import SourceLocation

__all__ = ["Gen", "PropertySpec", "check_expr", "evaluate", "parse_property", "snapshot"]

DEFAULT_INPUTS = 1000
_KEYS = {"name", "program", "inputs", "seed", "packet", "args", "ctx", "globals", "maps", "world", "expect", "budget"}
_PACKET_KEYS = {"layers", "fields", "payload", "truncate"}
_EXPECT_KEYS = {"retval", "fault", "packet", "packet_unless", "hold"}
_BUILTINS = {"len": len, "sum": sum, "min": min, "max": max, "any": any, "all": all, "abs": abs, "set": set,
             "sorted": sorted, "True": True, "False": False, "None": None}


@dataclass(frozen=True)
class Gen:
    """A generated value: ``const``, or a ``range`` (lo, hi), or a ``choice`` among values."""

    const: Any = None
    range: tuple[int, int] | None = None
    choice: tuple[Any, ...] | None = None

    def strategy(self) -> Any:
        from hypothesis import strategies as st
        if self.range is not None:
            return st.integers(*self.range)
        if self.choice is not None:
            return st.sampled_from(self.choice)
        return st.just(self.const)


@dataclass(frozen=True)
class PropertySpec:
    index: int
    name: str
    location: SourceLocation
    program: str | None
    inputs: int
    seed: int
    layers: tuple[tuple[str, ...], ...] = ()
    fields: Mapping[str, Gen] = field(default_factory=dict)
    payload: Gen | None = None
    truncate: Gen | None = None
    args: tuple[Gen, ...] | None = None
    ctx: Mapping[str, Gen] = field(default_factory=dict)
    globals: Mapping[str, Gen] = field(default_factory=dict)
    maps: Mapping[str, Mapping[str, Gen]] = field(default_factory=dict)
    world: Mapping[str, Any] = field(default_factory=dict)
    retval: tuple[int | str, ...] | None = None
    fault: bool = False
    packet_unchanged: bool = False
    packet_unless: str | None = None
    hold: tuple[str, ...] = ()
    budget: int | None = None
    where: Mapping[str, SourceLocation] = field(default_factory=dict)


# --- parsing -----------------------------------------------------------------------------------

def _gen(parser: Any, value: Any, what: str, *at: Any) -> Gen:
    if isinstance(value, Mapping):
        if set(value) == {"range"}:
            r = value["range"]
            if (not isinstance(r, list) or len(r) != 2 or not all(isinstance(x, int) and not isinstance(x, bool)
                                                                   for x in r) or r[0] > r[1]):
                raise parser.fail(f"{what}: range must be [low, high] integers with low <= high", *at)
            return Gen(range=(r[0], r[1]))
        if set(value) == {"choice"}:
            c = value["choice"]
            if not isinstance(c, list) or not c:
                raise parser.fail(f"{what}: choice must be a non-empty list", *at)
            return Gen(choice=tuple(c))
        raise parser.fail(f"{what}: a generator is a value, {{ range = [lo, hi] }} or {{ choice = [...] }}", *at)
    return Gen(const=value)


def check_expr(parser: Any, text: Any, what: str, *at: Any) -> str:
    if not isinstance(text, str):
        raise parser.fail(f"{what} must be an expression (text)", *at)
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        raise parser.fail(f"{what}: not an expression: {exc.msg}: {text}", *at) from None
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr.startswith("_"):
            raise parser.fail(f"{what}: {node.attr} is not available in expressions", *at)
        if isinstance(node, (ast.Lambda, ast.NamedExpr)):
            raise parser.fail(f"{what}: keep expressions small (no lambda or :=)", *at)
    return text


def parse_property(parser: Any, index: int, raw: Any, program: str | None) -> PropertySpec:
    """One ``[[property]]`` table (``parser`` is the spec parser: locations, errors)."""
    at = ("property", index)
    table = parser.table(raw, f"property {index + 1}", *at)
    parser.keys(table, _KEYS, f"property {index + 1}", *at)
    name = table.get("name", f"property {index + 1}")
    if not isinstance(name, str) or not name:
        raise parser.fail("a property's name must be text", *at, "name")
    inputs = parser.integer(table.get("inputs", DEFAULT_INPUTS), "inputs", *at, "inputs", low=1)
    default_seed = int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "little")
    seed = parser.integer(table.get("seed", default_seed), "seed", *at, "seed")
    prog = table.get("program", program)
    if prog is not None and not isinstance(prog, str):
        raise parser.fail("program must be a program name", *at, "program")
    packet = parser.table(table.get("packet", {}), "packet", *at, "packet")
    parser.keys(packet, _PACKET_KEYS, "packet", *at, "packet")
    layers_raw = packet.get("layers", [])
    if not isinstance(layers_raw, list) or not all(
            isinstance(x, (str, list)) and (isinstance(x, str) or (x and all(isinstance(y, str) for y in x)))
            for x in layers_raw):
        raise parser.fail("packet.layers must be a list of layer names or lists of names (one is chosen)",
                          *at, "packet", "layers")
    layers = tuple((x,) if isinstance(x, str) else tuple(x) for x in layers_raw)
    fields_raw = parser.table(packet.get("fields", {}), "packet.fields", *at, "packet", "fields")
    fields = {}
    for key, value in fields_raw.items():
        if key.count(".") != 1:
            raise parser.fail(f"packet.fields: {key!r} must be layer.field (e.g. \"ipv4.ttl\")",
                              *at, "packet", "fields", key)
        fields[key] = _gen(parser, value, f"packet.fields.{key}", *at, "packet", "fields", key)
    payload = _gen(parser, packet["payload"], "packet.payload", *at, "packet", "payload") \
        if "payload" in packet else None
    truncate = _gen(parser, packet["truncate"], "packet.truncate", *at, "packet", "truncate") \
        if "truncate" in packet else None
    args = None
    if "args" in table:
        if not isinstance(table["args"], list):
            raise parser.fail("args must be a list of generators", *at, "args")
        args = tuple(_gen(parser, a, "args", *at, "args") for a in table["args"])
    ctx = {k: _gen(parser, v, f"ctx.{k}", *at, "ctx", k)
           for k, v in parser.table(table.get("ctx", {}), "ctx", *at, "ctx").items()}
    globals_ = {k: _gen(parser, v, f"globals.{k}", *at, "globals", k)
                for k, v in parser.table(table.get("globals", {}), "globals", *at, "globals").items()}
    maps = {}
    for mname, contents in parser.table(table.get("maps", {}), "maps", *at, "maps").items():
        contents = parser.table(contents, f"maps.{mname}", *at, "maps", mname)
        maps[mname] = {k: _gen(parser, v, f"maps.{mname}.{k}", *at, "maps", mname, k) for k, v in contents.items()}
    world = dict(parser.world(table.get("world", {}), *at, "world"))
    expect = parser.table(table.get("expect", {}), "expect", *at, "expect")
    parser.keys(expect, _EXPECT_KEYS, "expect", *at, "expect")
    retval = expect.get("retval")
    if retval is not None:
        retval = retval if isinstance(retval, list) else [retval]
        if not all(isinstance(r, (int, str)) and not isinstance(r, bool) for r in retval):
            raise parser.fail("expect.retval must be a value or a list of values (numbers or names)",
                              *at, "expect", "retval")
        retval = tuple(retval)
    fault = expect.get("fault", False)
    if not isinstance(fault, bool):
        raise parser.fail("expect.fault must be true or false", *at, "expect", "fault")
    packet_expect = expect.get("packet")
    if packet_expect not in (None, "unchanged"):
        raise parser.fail("a property's expect.packet can only be \"unchanged\"", *at, "expect", "packet")
    unless = expect.get("packet_unless")
    if unless is not None:
        unless = check_expr(parser, unless, "expect.packet_unless", *at, "expect", "packet_unless")
    hold = expect.get("hold", [])
    if isinstance(hold, str):
        hold = [hold]
    if not isinstance(hold, list):
        raise parser.fail("expect.hold must be a list of expressions", *at, "expect", "hold")
    hold = tuple(check_expr(parser, h, "expect.hold", *at, "expect", "hold") for h in hold)
    budget = table.get("budget")
    if budget is not None:
        budget = parser.integer(budget, "budget", *at, "budget", low=1)
    where = {k: parser.at(*at, "expect", k) for k in expect}
    return PropertySpec(index, name, parser.at(*at), prog, inputs, seed, layers, fields, payload, truncate, args,
                        ctx, globals_, maps, world, retval, fault, packet_expect == "unchanged", unless, hold, budget,
                        where)


# --- evaluation ------------------------------------------------------------------------------

class NS(dict):  # type: ignore[type-arg]
    """A dict whose keys are also attributes (``maps.proto_count``)."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"no {name!r} (have: {', '.join(map(str, self)) or 'none'})") from None


def evaluate(expr: str, names: Mapping[str, Any]) -> Any:
    """Evaluate a spec expression over ``names`` (and the few builtins listed above)."""
    code = compile(expr, "<expect.hold>", "eval")
    # names are globals so that comprehensions see them
    return eval(code, {**names, "__builtins__": _BUILTINS})  # noqa: S307 - the user's own spec


def snapshot(obj: Any) -> NS:
    """``globals`` and ``maps`` of an emulated object, decoded (for expressions)."""
    from bpfbuild.vm.maps import PerfEventArray, ProgArray, RingBuf
    maps = NS()
    for name in obj.maps:
        tm = obj.maps[name]
        if isinstance(tm.raw, (RingBuf, PerfEventArray)):
            maps[name] = tm.records(drain=False) if isinstance(tm.raw, RingBuf) else [d for _, d in tm.raw.events]
        elif isinstance(tm.raw, ProgArray):
            maps[name] = {}
        else:
            try:
                maps[name] = dict(tm.as_dict())
            except Exception:   # a value type we cannot decode: leave it out  # noqa: BLE001
                continue
    glob = NS()
    for name in obj.globals:
        glob[name] = obj.globals[name]
    return NS(globals=glob, maps=maps)

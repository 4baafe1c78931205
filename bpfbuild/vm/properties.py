"""Property tests: ``[[property]]`` blocks of a test spec, run on many generated inputs.

::

    [[property]]
    name = "every IPv4/IPv6 packet increments exactly one protocol counter"
    inputs = 1000                       # default 1000
    seed = 7                            # default: derived from the name (runs repeat)
    packet.layers = [["eth"], ["ipv4", "ipv6"], ["tcp", "udp", "icmp"]]   # one of each, in order
    packet.fields = { "ipv4.ttl" = { range = [0, 255] }, "tcp.dport" = { choice = [22, 80] } }
    packet.payload = { range = [0, 64] }    # random payload of 0..64 bytes
    packet.truncate = { range = [14, 80] }  # optional: cut the packet
    args = [{ range = [0, 10] }, 0]         # or ctx = { ... } / globals = { ... } / maps = { m = { key = gen } }
    expect.retval = ["XDP_PASS"]            # the return value is one of these
    expect.fault = false                    # default: a fault breaks the property
    expect.packet = "unchanged"             # ... unless expect.packet_unless holds
    expect.packet_unless = "retval == XDP_TX"
    expect.hold = ["sum(maps.proto_count.values()) == sum(before.maps.proto_count.values()) + 1"]

A *generator* value is a constant, ``{ range = [lo, hi] }`` (integers, inclusive) or
``{ choice = [...] }``.  ``expect.hold`` lists Python expressions over ``retval``, ``printk``
(this run's lines), ``globals`` and ``maps`` after the run (``maps.NAME`` is a dict of
decoded keys and values), ``before`` (the same before the run), ``packet`` (bytes after),
``input`` (``input.packet``, ``input.layers``, ``input.args``) and the program type's
return-value names (``XDP_PASS``...); builtins: ``len sum min max any all abs set sorted``.

hypothesis drives the generation (``inputs`` examples, the property's seed) and shrinks a
failing input to a minimal one; :meth:`PropertyResult.render` prints the failure and a
``[[case]]`` block that reproduces it, ready to paste into the spec (its ``expect.hold``
carries the broken invariant, which ``[[case]]`` blocks understand too).
"""

from __future__ import annotations

import ast
import hashlib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bpfbuild.errors import SpecError, VMError
from bpfbuild.location import SourceLocation

__all__ = ["Gen", "PropertyResult", "PropertySpec", "evaluate", "parse_property", "run_property"]

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


def _check_expr(parser: Any, text: Any, what: str, *at: Any) -> str:
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
        unless = _check_expr(parser, unless, "expect.packet_unless", *at, "expect", "packet_unless")
    hold = expect.get("hold", [])
    if isinstance(hold, str):
        hold = [hold]
    if not isinstance(hold, list):
        raise parser.fail("expect.hold must be a list of expressions", *at, "expect", "hold")
    hold = tuple(_check_expr(parser, h, "expect.hold", *at, "expect", "hold") for h in hold)
    budget = table.get("budget")
    if budget is not None:
        budget = parser.integer(budget, "budget", *at, "budget", low=1)
    where = {k: parser.at(*at, "expect", k) for k in expect}
    return PropertySpec(index, name, parser.at(*at), prog, inputs, seed, layers, fields, payload, truncate, args,
                        ctx, globals_, maps, world, retval, fault, packet_expect == "unchanged", unless, hold, budget,
                        where)


# --- evaluation ------------------------------------------------------------------------------

class _NS(dict):  # type: ignore[type-arg]
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


def snapshot(obj: Any) -> _NS:
    """``globals`` and ``maps`` of an emulated object, decoded (for expressions)."""
    from bpfbuild.vm.maps import PerfEventArray, ProgArray, RingBuf
    maps = _NS()
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
    glob = _NS()
    for name in obj.globals:
        glob[name] = obj.globals[name]
    return _NS(globals=glob, maps=maps)


# --- running ---------------------------------------------------------------------------------

@dataclass
class PropertyResult:
    spec: PropertySpec
    inputs: int
    failure: str | None = None              # the first broken invariant, in words
    example: Mapping[str, Any] | None = None   # the shrunk input
    case_text: str | None = None
    error: str | None = None

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def ok(self) -> bool:
        return self.failure is None and self.error is None

    def render(self, root: str | os.PathLike[str] | None = None) -> str:
        loc = self.spec.location
        where = str(loc)
        if root is not None and os.path.isabs(loc.file):
            where = str(SourceLocation(os.path.relpath(loc.file, root), loc.line, loc.column))
        if self.error is not None:
            return f"{where}: error: property \"{self.name}\": {self.error}"
        out = [f"{where}: error: property \"{self.name}\" does not hold: {self.failure}",
               f"note: smallest failing input found in {self.inputs} inputs (seed {self.spec.seed}); "
               "paste this case into the spec to keep it:"]
        if self.case_text:
            out.append(self.case_text.rstrip())
        return "\n".join(out)


def _packet_layers(example: Mapping[str, Any], spec: PropertySpec) -> dict[str, Any] | None:
    chosen = example.get("layers")
    if chosen is None:
        return None
    layers: dict[str, Any] = {}
    for name in chosen:
        layers[name] = {f.split(".", 1)[1]: example["fields"][f] for f in sorted(spec.fields)
                        if f.split(".", 1)[0] == name and f in example["fields"]}
    if example.get("payload") is not None:
        layers["payload"] = {"hex": example["payload"].hex()} if example["payload"] else {"size": 0}
    return layers


def build_input(example: Mapping[str, Any], spec: PropertySpec) -> bytes | None:
    from bpfbuild.vm.packet import build_packet
    layers = _packet_layers(example, spec)
    if layers is None:
        return None
    packet = build_packet(layers)
    if example.get("truncate") is not None:
        packet = packet[:example["truncate"]]
    return packet


def strategy(spec: PropertySpec) -> Any:
    """The hypothesis strategy of a property's inputs (a dict)."""
    from hypothesis import strategies as st
    parts: dict[str, Any] = {}
    if spec.layers:
        parts["layers"] = st.tuples(*(st.sampled_from(c) for c in spec.layers))
        parts["fields"] = st.fixed_dictionaries({k: g.strategy() for k, g in spec.fields.items()})
        if spec.payload is not None:
            n = spec.payload
            parts["payload"] = n.strategy().flatmap(lambda k: st.binary(min_size=k, max_size=k)) \
                if n.range is not None or n.choice is not None else st.just(bytes(int(n.const)))
        if spec.truncate is not None:
            parts["truncate"] = spec.truncate.strategy()
    if spec.args is not None:
        parts["args"] = st.tuples(*(g.strategy() for g in spec.args))
    if spec.ctx:
        parts["ctx"] = st.fixed_dictionaries({k: g.strategy() for k, g in spec.ctx.items()})
    if spec.globals:
        parts["globals"] = st.fixed_dictionaries({k: g.strategy() for k, g in spec.globals.items()})
    if spec.maps:
        parts["maps"] = st.fixed_dictionaries({m: st.fixed_dictionaries({k: g.strategy() for k, g in c.items()})
                                               for m, c in spec.maps.items()})
    return st.fixed_dictionaries(parts)


class _Broken(AssertionError):
    pass


def _check(spec: PropertySpec, objspec: Any, test_spec: Any, example: Mapping[str, Any]) -> str | None:
    """Run one input; the broken invariant in words, or None."""
    from bpfbuild.vm.specrun import case_object, retval_text
    case = _case_for(spec, test_spec, example)
    obj = case_object(objspec, case, budget=spec.budget)
    program = spec.program or (next(iter(obj.machine.programs)) if len(obj.machine.programs) == 1 else None)
    if program is None:
        raise SpecError("the object has several programs: say which with program = \"...\"", location=spec.location)
    prog_type = obj.machine.programs[program].prog_type
    run = case.runs[0]
    before = snapshot(obj)
    try:
        result = obj.run(program, packet=run.packet, args=run.args, ctx=run.ctx)
    except VMError as exc:
        return None if spec.fault else f"the program faulted: {exc.message}"
    after = snapshot(obj)
    from bpfbuild.vm.specrun import _retval_names  # the program type's return-value names
    names = _retval_names(prog_type)
    if spec.retval is not None:
        wanted = []
        for r in spec.retval:
            if isinstance(r, str):
                if r not in names:
                    raise SpecError(f"expect.retval: {r!r} is not a return value name ({', '.join(names)})",
                                    location=spec.where.get("retval", spec.location))
                wanted.append(names[r] & 0xFFFFFFFF)
            else:
                wanted.append(r & 0xFFFFFFFF)
        if result.retval32 not in wanted:
            return (f"retval {retval_text(result, prog_type)} is not one of "
                    f"{', '.join(str(r) for r in spec.retval)}")
    env = {**names, "retval": result.retval32 if result.retval >> 32 in (0, 0xFFFFFFFF) else result.retval,
           "printk": list(result.printk), "globals": after.globals, "maps": after.maps, "before": before,
           "packet": result.packet, "input": _NS(packet=run.packet, layers=list(example.get("layers", ())),
                                                 args=list(run.args or ()))}
    if spec.packet_unchanged:
        exempt = spec.packet_unless is not None and _truth(spec.packet_unless, env, spec)
        if not exempt and result.packet != run.packet:
            return "the packet changed" + (f" although {spec.packet_unless} is false" if spec.packet_unless else "")
    for expr in spec.hold:
        if not _truth(expr, env, spec):
            return f"{expr} is false"
    return None


def _truth(expr: str, env: Mapping[str, Any], spec: PropertySpec) -> bool:
    try:
        return bool(evaluate(expr, env))
    except Exception as exc:  # noqa: BLE001 - the user's expression
        raise SpecError(f"property \"{spec.name}\": {expr}: {type(exc).__name__}: {exc}",
                        location=spec.where.get("hold", spec.location)) from None


def _case_for(spec: PropertySpec, test_spec: Any, example: Mapping[str, Any]) -> Any:
    from bpfbuild.vm.testspec import CaseSpec, Expect, RunSpec
    packet = build_input(example, spec)
    args = tuple(a & ((1 << 64) - 1) for a in example["args"]) if "args" in example else None
    run = RunSpec(0, spec.program, packet, args, dict(example["ctx"]) if "ctx" in example else None, 1, Expect(),
                  spec.location)
    world = {**(test_spec.world if test_spec is not None else {}), **spec.world}
    maps = {m: dict(c) for m, c in example.get("maps", {}).items()}
    return CaseSpec(0, spec.name, spec.location, (run,), dict(example.get("globals", {})), maps, world, (),
                    False, Expect(), spec.budget, {})


def run_property(spec: PropertySpec, objspec: Any, test_spec: Any = None, *, seed: int | None = None,
                 inputs: int | None = None) -> PropertyResult:
    """Run ``spec`` on its inputs; on a failure, shrink it and build the ``[[case]]`` text."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hyp_seed

    n = inputs or spec.inputs
    failures: list[tuple[Mapping[str, Any], str]] = []
    errors: list[SpecError] = []

    @hyp_seed(spec.seed if seed is None else seed)
    @settings(max_examples=n, database=None, deadline=None, derandomize=False, print_blob=False,
              suppress_health_check=list(HealthCheck), phases=[Phase.generate, Phase.shrink])
    @given(strategy(spec))
    def check(example: Mapping[str, Any]) -> None:
        try:
            broken = _check(spec, objspec, test_spec, example)
        except SpecError as exc:
            errors.append(exc)
            raise
        if broken is not None:
            failures.append((example, broken))
            raise _Broken(broken)

    try:
        check()
    except _Broken:
        pass
    except SpecError as exc:
        return PropertyResult(spec, n, error=exc.message)
    except Exception as exc:  # hypothesis' own complaints (e.g. an unsatisfiable generator)  # noqa: BLE001
        if errors:
            return PropertyResult(spec, n, error=errors[-1].message)
        return PropertyResult(spec, n, error=f"{type(exc).__name__}: {exc}")
    if not failures:
        return PropertyResult(spec, n)
    example, broken = failures[-1]   # hypothesis replays the shrunk example last
    return PropertyResult(spec, n, broken, example, case_block(spec, example, broken))


# --- the [[case]] to paste -----------------------------------------------------------------

def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, bytes):
        return _toml(value.hex())
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{_key(k)} = {_toml(v)}" for k, v in value.items()) + " }"
    if isinstance(value, Sequence):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return _toml(str(value))


def _key(k: Any) -> str:
    text = str(k)
    return text if text.replace("_", "").replace("-", "").isalnum() else _toml(text)


def case_block(spec: PropertySpec, example: Mapping[str, Any], broken: str) -> str:
    """A ``[[case]]`` that runs the failing input and checks the property's invariants."""
    from bpfbuild.vm.packet import describe_packet
    lines = ["[[case]]", f"name = {_toml(spec.name + ' (found by the property)')}"]
    if spec.program:
        lines.append(f"program = {_toml(spec.program)}")
    packet = build_input(example, spec)
    if packet is not None:
        layers = _packet_layers(example, spec)
        if "truncate" not in example or example["truncate"] is None:
            lines.append(f"packet = {_toml(layers)}")
        else:
            lines.append(f"# {describe_packet(packet)}")
            lines.append(f"packet = {_toml(packet.hex())}")
    if "args" in example:
        lines.append(f"args = {_toml(list(example['args']))}")
    if example.get("ctx"):
        lines.append(f"ctx = {_toml(dict(example['ctx']))}")
    if spec.world:
        lines.append(f"world = {_toml(dict(spec.world))}")
    if example.get("globals"):
        lines.append(f"globals = {_toml(dict(example['globals']))}")
    for m, contents in example.get("maps", {}).items():
        lines.append(f"maps.{_key(m)} = {_toml(dict(contents))}")
    hold = list(spec.hold)
    if spec.retval is not None and len(spec.retval) == 1:
        lines.append(f"expect.retval = {_toml(spec.retval[0])}")
    elif spec.retval is not None:
        hold.insert(0, f"retval in ({', '.join(str(r) for r in spec.retval)})")
    if spec.packet_unchanged and spec.packet_unless is None:
        lines.append('expect.packet = "unchanged"')
    if hold:
        lines.append(f"expect.hold = {_toml(hold)}")
    lines.append(f"# property broken: {broken}")
    return "\n".join(lines) + "\n"

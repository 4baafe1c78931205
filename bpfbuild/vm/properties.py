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

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bpfbuild.errors import SpecError, VMError
from bpfbuild.location import SourceLocation
from bpfbuild.vm.propspec import NS, Gen, PropertySpec, evaluate, parse_property, snapshot

__all__ = ["Gen", "PropertyResult", "PropertySpec", "evaluate", "parse_property", "run_property"]


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
           "packet": result.packet, "input": NS(packet=run.packet, layers=list(example.get("layers", ())),
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

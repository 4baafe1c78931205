"""The emulator for people: load an object, run its programs, read and write its globals and maps
as typed values (see the package docstring for a tour).

:func:`load` returns an :class:`EmulatedObject`: a :class:`~bpfbuild.vm.machine.Machine` with
every map and program of the object, plus typed views:

* ``obj.globals`` - the global variables of ``.bss``, ``.data`` and ``.rodata`` by name,
  decoded by BTF (``obj.globals.counter``), writable (``obj.globals.blocked_port = 80``:
  ``.rodata`` too, as a loader sets it before load; programs still cannot write it);
* ``obj.maps`` - every map by name (``obj.maps.proto_count[6]``), keys and values encoded and
  decoded by their BTF types; program arrays take program names
  (``obj.maps.handlers[17] = "xdp_udp_handler"``); ring buffers give their records
  (``obj.maps.events.records()``);
* ``obj.run(program, packet=..., args=..., ctx=..., repeat=N)`` - the result of the last run
  with the ``bpf_printk`` lines and steps of all ``N``.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from bpfbuild.abi.progtypes import ProgType
from bpfbuild.errors import BpfBuildError, SpecError, VMError, no_such
from bpfbuild.vm.context import Context, KprobeContext, TracepointContext, context_for
from bpfbuild.vm.machine import DEFAULT_BUDGET, Machine, RunResult, Tracer
from bpfbuild.vm.maps import Map, PerfEventArray, ProgArray, RingBuf
from bpfbuild.vm.packet import build_packet, parse_hex
from bpfbuild.vm.session import Session
from bpfbuild.vm.typed import Layout, ValueType, btf_type_named, value_type

__all__ = ["EmulatedObject", "Globals", "Maps", "TypedMap", "load", "make_context"]

#: Instructions all the runs of one ``repeat`` may execute together (each run has its own budget too).
MAX_REPEAT_STEPS = 50_000_000

PacketInput = bytes | bytearray | str | Mapping[str, Any] | Sequence[tuple[str, Any]]


def _packet(packet: PacketInput | None) -> bytes | None:
    match packet:
        case None:
            return None
        case bytes() | bytearray():
            return bytes(packet)
        case str():
            return parse_hex(packet, "packet")
        case _:
            return build_packet(packet)


def make_context(prog_type: ProgType | None, *, packet: PacketInput | None = None,
                 args: Sequence[int] | None = None, fields: Mapping[str, Any] | None = None) -> Context:
    """The context for a run: the program type's default one (see
    :func:`bpfbuild.vm.context.context_for`) from ``packet`` (bytes, hex or layers) and
    ``args``, with ``fields`` set on it (``mark``, ``ingress_ifindex``, ``cb``, a kprobe's
    registers, a tracepoint's ``record`` as hex...)."""
    data = _packet(packet)
    if args is not None and (not isinstance(args, Sequence) or isinstance(args, (str, bytes))
                             or not all(isinstance(a, int) and not isinstance(a, bool) for a in args)):
        raise SpecError(f"args must be a list of integers, not {args!r}")
    ctx = context_for(prog_type, packet=data, args=args)
    if not fields:
        return ctx
    if not isinstance(fields, Mapping):
        raise SpecError(f"ctx must be a table of fields, not {fields!r}")
    if isinstance(ctx, KprobeContext):
        return dataclasses.replace(ctx, regs={**ctx.regs, **fields})
    known = {f.name: f for f in dataclasses.fields(ctx)}
    changes: dict[str, Any] = {}
    for name, value in fields.items():
        if name not in known or name in ("packet", "args"):
            usable = ", ".join(n for n in known if n not in ("packet", "args")) or "none"
            raise SpecError(f"{type(ctx).__name__} has no field {name!r} (fields: {usable})")
        if name in ("meta", "record", "data", "dev_addr", "dev_broadcast") and isinstance(value, str):
            value = parse_hex(value, f"ctx.{name}")
        elif name == "cb":
            if not isinstance(value, Sequence) or len(value) > 5:
                raise SpecError(f"ctx.cb must be a list of up to 5 integers, not {value!r}")
            value = tuple(list(value) + [0] * (5 - len(value)))
        elif name == "writable":
            if not isinstance(value, bool):
                raise SpecError(f"ctx.writable must be true or false, not {value!r}")
        elif isinstance(value, bool) or not isinstance(value, int):
            raise SpecError(f"ctx.{name} must be an integer, not {value!r}")
        changes[name] = value
    if isinstance(ctx, TracepointContext) and data is not None and "record" in changes:
        raise SpecError("a tracepoint's record is given once: as packet or as ctx.record")
    return dataclasses.replace(ctx, **changes)


# --- globals --------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True, slots=True)
class _Var:
    name: str
    map: Map
    offset: int
    size: int
    vtype: ValueType
    readonly: bool


class Globals:
    """The object's global variables by name: ``g.counter``, ``g["hello.____fmt"]``, ``dict(g)``.

    Reading decodes the current bytes by BTF; assigning encodes the value into the section
    (structs take a dict of the members to change).  Values are shared with the programs:
    what a run writes is what you read next.
    """

    __slots__ = ("_vars",)

    def __init__(self, variables: Mapping[str, _Var]) -> None:
        object.__setattr__(self, "_vars", dict(variables))

    def _var(self, name: str) -> _Var:
        try:
            return self._vars[name]  # type: ignore[no-any-return]
        except KeyError:
            known = ", ".join(sorted(self._vars)) or "none"
            raise AttributeError(f"no global variable {name!r} (globals: {known})") from None

    def raw(self, name: str) -> bytes:
        """The variable's bytes."""
        v = self._var(name)
        return bytes(v.map.lookup(0))[v.offset:v.offset + v.size]

    def type_name(self, name: str) -> str:
        return self._var(name).vtype.name

    def value_type(self, name: str) -> ValueType:
        """How the variable's bytes become a value (its BTF type, or raw bytes)."""
        return self._var(name).vtype

    def place(self, name: str) -> tuple[str, int, int]:
        """Where the variable lives: (map name, offset, size), e.g. ``("hello.bss", 0, 4)``."""
        v = self._var(name)
        return v.map.name, v.offset, v.size

    def is_readonly(self, name: str) -> bool:
        """Whether programs see the variable read-only (``.rodata``: set it before running)."""
        return self._var(name).readonly

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return self[name]

    def __setattr__(self, name: str, value: Any) -> None:
        self[name] = value

    def __getitem__(self, name: str) -> Any:
        v = self._var(name)
        return v.vtype.decode(self.raw(name))

    def __setitem__(self, name: str, value: Any) -> None:
        v = self._var(name)
        whole = bytes(v.map.lookup(0))
        data = v.vtype.encode(value, base=whole[v.offset:v.offset + v.size])
        v.map.update(0, whole[:v.offset] + data + whole[v.offset + v.size:])

    def __contains__(self, name: object) -> bool:
        return name in self._vars

    def __iter__(self) -> Iterator[str]:
        return iter(self._vars)

    def __len__(self) -> int:
        return len(self._vars)

    def keys(self) -> list[str]:
        return list(self._vars)

    def as_dict(self) -> dict[str, Any]:
        return {name: self[name] for name in self._vars}

    def __dir__(self) -> list[str]:
        return [n for n in self._vars if n.isidentifier()]

    def __repr__(self) -> str:
        return f"Globals({self.as_dict()!r})"


# --- maps ---------------------------------------------------------------------------------

class TypedMap:
    """A map with its keys and values as typed values (``m[6]``, ``m.items()``, ``m[6] = 1``).

    Per-CPU maps give a list with one value per CPU (and take one value for all CPUs, or a
    list).  :attr:`raw` is the underlying :class:`~bpfbuild.vm.maps.Map` (bytes in, bytes out).
    """

    def __init__(self, obj: EmulatedObject, raw: Map, key: ValueType, value: ValueType) -> None:
        self.obj = obj
        self.raw = raw
        self.key_type = key
        self.value_type = value

    @property
    def name(self) -> str:
        return self.raw.name

    def _key(self, key: Any) -> bytes:
        return self.key_type.encode(key)

    def _decode(self, value: Any) -> Any:
        if isinstance(self.raw, ProgArray):
            return getattr(value, "name", value)
        if isinstance(value, tuple):
            return [self.value_type.decode(v) for v in value]
        if isinstance(value, (bytes, bytearray)):
            return self.value_type.decode(bytes(value))
        return value

    def get(self, key: Any, default: Any = None) -> Any:
        value = self.raw.lookup(self._key(key))
        return default if value is None else self._decode(value)

    def __getitem__(self, key: Any) -> Any:
        value = self.raw.lookup(self._key(key))
        if value is None:
            raise KeyError(key)
        return self._decode(value)

    def __setitem__(self, key: Any, value: Any) -> None:
        self.update(key, value)

    def update(self, key: Any, value: Any, flags: int = 0) -> None:
        raw_key = self._key(key)
        if isinstance(self.raw, ProgArray):
            if not isinstance(value, str):
                raise SpecError(f"map {self.name}: a program array's value is a program name, not {value!r}")
            prog = self.obj.machine.programs.get(value)
            if prog is None:
                raise SpecError(f"map {self.name}: {no_such('program', value, self.obj.machine.programs)}")
            self.raw.update(raw_key, prog, flags)
            return
        if self.raw.per_cpu and isinstance(value, list):
            self.raw.update(raw_key, [self.value_type.encode(v) for v in value], flags)
            return
        current = self.raw.lookup(raw_key)
        base = bytes(current) if isinstance(current, (bytes, bytearray)) else None
        self.raw.update(raw_key, self.value_type.encode(value, base=base), flags)

    def __delitem__(self, key: Any) -> None:
        self.raw.delete(self._key(key))

    def __contains__(self, key: object) -> bool:
        try:
            return self.raw.lookup(self._key(key)) is not None
        except BpfBuildError:
            return False

    def keys(self) -> list[Any]:
        return [self.key_type.decode(k) for k in self.raw]

    def items(self) -> list[tuple[Any, Any]]:
        return [(self.key_type.decode(k), self._decode(v)) for k, v in self.raw.items()]

    def values(self) -> list[Any]:
        return [v for _, v in self.items()]

    def as_dict(self) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        for k, v in self.items():
            out[k if isinstance(k, (int, str)) else repr(k)] = v
        return out

    def __iter__(self) -> Iterator[Any]:
        return iter(self.keys())

    def __len__(self) -> int:
        return len(self.raw)

    def records(self, layout: str | ValueType | None = None, *, drain: bool = True) -> list[Any]:
        """Ring buffer / perf event array records (consumed unless ``drain=False``), as bytes,
        or decoded by ``layout`` (a :class:`~bpfbuild.vm.typed.Layout` string such as
        ``"u32 pid; char comm[16]"``, a BTF type name such as ``"struct event"``, or a type)."""
        if isinstance(self.raw, RingBuf):
            data = self.raw.drain() if drain else self.raw.pending()
        elif isinstance(self.raw, PerfEventArray):
            data = [d for _, d in (self.raw.drain() if drain else list(self.raw.events))]
        else:
            raise SpecError(f"map {self.name} ({self.raw.type.name.lower()}) has no records")
        if layout is None:
            return [bytes(d) for d in data]
        vtype = self.obj.record_type(layout) if isinstance(layout, str) else layout
        return [vtype.decode(bytes(d)) for d in data]

    def __repr__(self) -> str:
        return f"<TypedMap {self.name} {self.raw.type.name.lower()} key {self.key_type.name} value {self.value_type.name}>"


class Maps(Mapping[str, TypedMap]):
    """The object's maps by name (``maps.proto_count``, ``maps["hello.bss"]``)."""

    def __init__(self, maps: Mapping[str, TypedMap]) -> None:
        self._maps = dict(maps)

    def __getitem__(self, name: str) -> TypedMap:
        try:
            return self._maps[name]
        except KeyError:
            raise KeyError(no_such("map", name, self._maps)) from None

    def __getattr__(self, name: str) -> TypedMap:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self._maps[name]
        except KeyError:
            raise AttributeError(no_such("map", name, self._maps)) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._maps)

    def __len__(self) -> int:
        return len(self._maps)

    def __dir__(self) -> list[str]:
        return [n for n in self._maps if n.isidentifier()]


# --- the object -----------------------------------------------------------------------------

class EmulatedObject:
    """An object's programs and maps in one emulator session (see :func:`load`)."""

    def __init__(self, spec: Any, machine: Machine) -> None:
        self.spec = spec
        self.machine = machine
        self.session: Session = machine.session
        btf = spec.btf
        typed: dict[str, TypedMap] = {}
        variables: dict[str, _Var] = {}
        for mspec in spec.maps:
            m = self.session.map(mspec.name)
            key = value_type(btf, mspec.key_type_id, mspec.key_size)
            val = value_type(btf, mspec.value_type_id, mspec.value_size)
            typed[mspec.name] = TypedMap(self, m, key, val)
            for var in mspec.variables:
                vtype = value_type(btf, var.type_id, var.size)
                variables[var.name] = _Var(var.name, m, var.offset, var.size, vtype, mspec.readonly)
        self.maps = Maps(typed)
        self.globals = Globals(variables)

    @property
    def path(self) -> str | None:
        return getattr(self.spec, "path", None)

    @property
    def programs(self) -> tuple[str, ...]:
        return tuple(self.machine.programs)

    def program_type(self, program: str | None = None) -> ProgType | None:
        return self.machine.program(program).prog_type

    @property
    def printk(self) -> list[str]:
        """Every ``bpf_printk`` line of every run so far."""
        return self.session.printk

    def record_type(self, layout: str) -> ValueType:
        """``"struct event"`` (from the object's BTF) or a layout like ``"u32 pid; char comm[16]"``."""
        words = layout.split()
        if len(words) == 2 and words[0] in ("struct", "union") and self.spec.btf is not None:
            return btf_type_named(self.spec.btf, layout)
        if len(words) == 1 and self.spec.btf is not None and self.spec.btf.find(layout):
            return btf_type_named(self.spec.btf, layout)
        return Layout.parse(layout)

    def run(self, program: str | None = None, *, packet: PacketInput | None = None,
            args: Sequence[int] | None = None, ctx: Context | Mapping[str, Any] | None = None,
            repeat: int = 1, budget: int | None = None, trace: Tracer | None = None) -> RunResult:
        """Run ``program`` (the only one if None) ``repeat`` times on the same input.

        ``packet``: bytes, hex text, or layers (``{"eth": {}, "ipv4": {}, "udp": {"dport": 9}}``,
        see :mod:`bpfbuild.vm.packet`); ``args``: a raw tracepoint's / kprobe's arguments;
        ``ctx``: a context record, or a dict of context fields to set.  Returns the last run's
        result, with the printk lines, effects and step counts of all runs.
        """
        if isinstance(repeat, bool) or not isinstance(repeat, int) or repeat < 1:
            raise SpecError(f"repeat must be a positive integer, not {repeat!r}")
        prog = self.machine.program(program)
        if ctx is None or isinstance(ctx, Mapping):
            context = make_context(prog.prog_type, packet=packet, args=args, fields=ctx)
        else:
            if packet is not None or args is not None:
                raise SpecError("give either a context record or packet/args, not both")
            context = ctx
        lines: list[str] = []
        effects: list[dict[str, Any]] = []
        steps = 0
        result: RunResult | None = None
        for done in range(repeat):
            result = self.machine.run(prog, context, budget=budget, trace=trace)
            lines.extend(result.printk)
            effects.extend(result.effects)
            steps += result.steps
            if steps > MAX_REPEAT_STEPS and done + 1 < repeat:   # a repeat is a test, not a hang
                raise VMError(f"repeat = {repeat}: {done + 1} runs already executed {steps} instructions "
                              f"(the limit for one repeated run is {MAX_REPEAT_STEPS})")
        assert result is not None
        return dataclasses.replace(result, printk=tuple(lines), effects=tuple(effects), steps=steps)

    def __repr__(self) -> str:
        return f"<EmulatedObject {self.spec.name}: programs={list(self.programs)} maps={list(self.maps)}>"


def load(obj: str | os.PathLike[str] | Any, *, session: Session | None = None, budget: int = DEFAULT_BUDGET,
         **world: Any) -> EmulatedObject:
    """Load an object file (or an already loaded ``ObjectSpec``) into a new emulator session.

    ``world`` sets the session's inputs when no ``session`` is given: ``pid``, ``tgid``, ``uid``,
    ``gid``, ``comm``, ``time_ns``, ``seed``, ``cpu``, ``nr_cpus``, ``current_task``,
    ``kernel_memory``... (see :class:`~bpfbuild.vm.session.Session`).
    """
    if isinstance(obj, (str, os.PathLike)):
        from bpfbuild.obj.loader import load_object_file  # pyelftools: only when an object is read

        spec = load_object_file(os.fspath(obj))
    else:
        spec = obj
    if session is None:
        try:
            session = Session(**world)
        except TypeError as exc:
            raise SpecError(f"unknown session input: {exc}") from None
    elif world:
        raise VMError("give either a session or session inputs, not both")
    return EmulatedObject(spec, Machine.from_object(spec, session=session, budget=budget))


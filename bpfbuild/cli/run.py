"""Emulator commands: ``bpfbuild run`` and ``bpfbuild conformance-plugin``.

``run`` loads an object into the emulator, sets globals and the world, runs one program
(``--repeat`` times) on a packet (hex, or layers as a TOML inline table) or arguments, and
prints the ``bpf_printk`` lines, the return value by name, what changed in the globals and maps,
and the effects outside them (signals sent, returns overridden, timers started); ``--trace``
prints every executed instruction with its source line and the registers it changed; ``--json`` prints all of it as one JSON object.  A fault prints the emulator's error
(instruction, source line, registers) and exits 1.

``conformance-plugin`` speaks the plugin protocol of the bpf_conformance suite
(github.com/Alan-Jowett/bpf_conformance): the runner starts ``plugin [MEM_HEX] [options]``,
writes the program as hex bytes on stdin, and reads r0 in hex from stdout (exit 0); any
error is one line on stderr and a non-zero exit.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

__all__ = ["register"]


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    _register_run(sub)
    p = sub.add_parser(
        "conformance-plugin",
        help="run one program for the bpf_conformance suite (hex bytes on stdin, r0 in hex out)",
        description="Plugin for github.com/Alan-Jowett/bpf_conformance: reads the program as hex "
        "bytes on stdin, runs it in the emulator with r1 = a copy of MEM (r2 = its length), "
        "prints r0 in hex. The runner puts MEM_HEX first, so point it at a two-line wrapper "
        "script ('#!/bin/sh' and 'exec bpfbuild conformance-plugin \"$@\"'): "
        "bpf_conformance_runner --test_file_directory tests --plugin_path ./wrapper --cpu_version v4 "
        "--include_groups callx",
    )
    p.add_argument("memory", nargs="?", default="", metavar="MEM_HEX",
                   help="the input memory as hex bytes (spaces allowed)")
    p.add_argument("--elf", action="store_true", help="the input is an ELF object (not supported)")
    p.add_argument("--budget", type=int, default=None, metavar="N",
                   help="instructions a run may execute (default: 1000000)")
    p.add_argument("--debug", action="store_true", help="accepted for compatibility; ignored")
    p.set_defaults(handler=_cmd)


def _hex(text: str, what: str) -> bytes:
    from bpfbuild.errors import ConfigError

    try:
        return bytes.fromhex("".join(text.split()))
    except ValueError:
        raise ConfigError(f"{what} is not hex bytes") from None


def _cmd(args: argparse.Namespace) -> int:
    from bpfbuild.errors import BpfBuildError, format_error
    from bpfbuild.vm import DEFAULT_BUDGET, run_bytecode

    try:
        if args.elf:
            print("ELF input is not supported: run the suite without --elf", file=sys.stderr)
            return 1
        mem = _hex(args.memory, "MEM_HEX")
        code = _hex(sys.stdin.read(), "the program on stdin")
        r0 = run_bytecode(code, mem, budget=args.budget or DEFAULT_BUDGET)
    except BpfBuildError as exc:
        print(format_error(exc), file=sys.stderr)
        return 1
    print(f"{r0:x}")
    return 0


# --- bpfbuild run -----------------------------------------------------------------------------

def _register_run(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "run", help="run a program in the emulator: printk lines, return value, changed globals and maps",
        description="Run a program of an object in bpfbuild's emulator (no kernel, no root). "
        "Prints the bpf_printk lines, the return value by name (XDP_PASS...), and the globals and maps "
        "the runs changed. A packet is hex bytes, or layers as a TOML inline table, e.g. "
        "--packet '{eth = {}, ipv4 = {dst = \"10.0.0.9\"}, udp = {dport = 53}}' "
        "(layers eth vlan ipv4 ipv6 tcp udp icmp icmpv6 arp payload; see docs/test-specs.md).",
        epilog="Exit status: 0 when the program ran, 1 when it faulted, 2 for bad input.",
    )
    p.add_argument("object", metavar="OBJ", help="the object file (build/hello.bpf.o)")
    p.add_argument("program", metavar="PROG", nargs="?", help="the program (required if the object has several)")
    p.add_argument("--packet", metavar="HEX|LAYERS", help="the packet (XDP, TC, socket filter; tracepoint: the record)")
    p.add_argument("--args", metavar="N,N,...", help="arguments (raw_tp/fentry args[], kprobe PARM1..)")
    p.add_argument("--ctx", metavar="FIELD=V", action="append", default=[],
                   help="a context field (mark=1, ingress_ifindex=2, a kprobe register rdi=5...); repeatable")
    p.add_argument("--set", metavar="VAR=VALUE", action="append", default=[], dest="set_globals",
                   help="set a global before running (.rodata too, as a loader does before load); "
                   "VALUE is a TOML value: 53, \"text\", {member = 1}; repeatable")
    p.add_argument("--map", metavar="MAP[KEY]=VALUE", action="append", default=[], dest="map_updates",
                   help="seed a map element, e.g. --map 'handlers[17]=\"xdp_udp_handler\"'; repeatable")
    p.add_argument("--world", metavar="KEY=VALUE", action="append", default=[],
                   help="what helpers see: pid, tgid, uid, gid, comm, time_ns, seed, cpu, current_task...; repeatable")
    p.add_argument("--repeat", type=int, default=1, metavar="N", help="run N times (maps and globals carry over)")
    p.add_argument("--budget", type=int, default=None, metavar="N", help="instructions one run may execute "
                   "(default 1000000)")
    p.add_argument("--trace", action="store_true",
                   help="print every executed instruction: pc, text, source file:line, changed registers")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(handler=_run)


def _toml_value(text: str, what: str) -> Any:
    import tomllib

    from bpfbuild.errors import ConfigError

    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        pass
    if text.startswith(("{", "[", '"', "'")):
        raise ConfigError(f"{what}: {text!r} is not a TOML value")
    try:
        return int(text, 0)
    except ValueError:
        return text   # bare text: a string


def _assignments(items: list[str], what: str) -> list[tuple[str, Any]]:
    from bpfbuild.errors import ConfigError

    out = []
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise ConfigError(f"{what}: expected NAME=VALUE, got {item!r}")
        out.append((name.strip(), _toml_value(value.strip(), f"{what} {name.strip()}")))
    return out


def _packet_arg(text: str | None) -> Any:
    from bpfbuild.errors import ConfigError

    if text is None:
        return None
    if text.lstrip().startswith("{"):
        value = _toml_value(text, "--packet")
        if not isinstance(value, dict):
            raise ConfigError("--packet: layers must be a TOML inline table")
        return value
    return text   # hex; parsed (and checked) by the emulator


def _args_arg(text: str | None) -> list[int] | None:
    from bpfbuild.errors import ConfigError

    if text is None:
        return None
    try:
        return [int(part, 0) & ((1 << 64) - 1) for part in text.replace(" ", "").split(",") if part]
    except ValueError:
        raise ConfigError(f"--args: expected numbers separated by commas, got {text!r}") from None


def _snapshot(obj: Any) -> tuple[dict[str, Any], dict[str, dict[Any, Any]]]:
    """Globals and (small) maps as values, to say what a run changed."""
    from bpfbuild.errors import BpfBuildError
    from bpfbuild.vm.maps import ArrayMap, HashMap, LpmTrieMap, ProgArray, QueueMap

    globals_ = obj.globals.as_dict()
    global_data = {m.name for m in obj.spec.maps if m.is_global_data}   # shown as globals
    maps: dict[str, dict[Any, Any]] = {}
    for name, tm in obj.maps.items():
        raw = tm.raw
        if name in global_data:
            continue
        if isinstance(raw, ArrayMap) and raw.max_entries > 1024:
            continue
        if isinstance(raw, (ArrayMap, HashMap, LpmTrieMap, ProgArray, QueueMap)):
            try:
                maps[name] = tm.as_dict()
            except BpfBuildError:   # a map whose values cannot be shown is left out
                maps.pop(name, None)
    return globals_, maps


def _changes(before: dict[Any, Any], after: dict[Any, Any]) -> list[tuple[Any, Any, Any]]:
    missing = object()
    out = []
    for key in list(before) + [k for k in after if k not in before]:
        old, new = before.get(key, missing), after.get(key, missing)
        if old != new:
            out.append((key, None if old is missing else old, None if new is missing else new))
    return out


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, bytes):
        return value.hex()
    return value


def _run(args: argparse.Namespace) -> int:
    import json
    import os

    from bpfbuild.errors import ConfigError, VMError, format_error, no_such
    from bpfbuild.vm.api import load
    from bpfbuild.vm.maps import PerfEventArray, RingBuf
    from bpfbuild.vm.packet import describe_packet
    from bpfbuild.vm.specrun import retval_name, retval_text
    from bpfbuild.vm.trace import Trace, format_step

    if args.repeat < 1:
        raise ConfigError("--repeat must be at least 1")
    if args.budget is not None and args.budget < 1:
        raise ConfigError("--budget must be at least 1")
    world = dict(_assignments(args.world, "--world"))
    obj = load(args.object, budget=args.budget or 1_000_000, **world)
    if args.program is None and len(obj.programs) != 1:
        raise ConfigError(f"{args.object} has {len(obj.programs)} programs: name one "
                          f"({', '.join(obj.programs)})")
    program = args.program or obj.programs[0]
    if program not in obj.programs:
        raise ConfigError(no_such("program", program, obj.programs), file=args.object)
    for name, value in _assignments(args.set_globals, "--set"):
        if name not in obj.globals:
            raise ConfigError(f"--set: no global {name!r} (globals: {', '.join(obj.globals) or 'none'})")
        obj.globals[name] = value
    for item in args.map_updates:
        target, sep, value_text = item.partition("=")
        map_name, bracket, key_text = target.partition("[")
        if not sep or not bracket or not key_text.endswith("]"):
            raise ConfigError(f"--map: expected MAP[KEY]=VALUE, got {item!r}")
        if map_name not in obj.maps:
            raise ConfigError(f"--map: {no_such('map', map_name, obj.maps)}")
        obj.maps[map_name][_toml_value(key_text[:-1], "--map key")] = _toml_value(value_text, "--map value")
    ctx = dict(_assignments(args.ctx, "--ctx")) or None
    packet = _packet_arg(args.packet)
    call_args = _args_arg(args.args)
    prog_type = obj.program_type(program)
    before_globals, before_maps = _snapshot(obj)
    root = os.getcwd()
    steps: list[dict[str, Any]] = []

    def show(step: Any) -> None:
        if args.json:
            steps.append({"run": step.run, "program": step.program, "pc": step.pc, "depth": step.depth, "insn": step.text,
                          "source": str(step.location) if step.location else None, "line": step.source,
                          "changed": {reg: new for reg, _, new in step.changes}, "store": step.store,
                          "printk": list(step.printk), "taken": step.taken})
            return
        if (step.program, step.run) != shown[0]:
            print(f"-- {step.program}" + (f" (run {step.run})" if args.repeat > 1 else ""))
            shown[0] = (step.program, step.run)
        print(format_step(step, root=root))

    shown: list[tuple[str, int]] = [("", 0)]
    trace = Trace(show, limit=0) if args.trace else None
    try:
        result = obj.run(program, packet=packet, args=call_args, ctx=ctx, repeat=args.repeat, trace=trace)
    except VMError as exc:
        if not args.trace and not args.json:
            for line in obj.printk:
                print(line)
        if args.json:
            print(json.dumps({"program": program, "error": format_error(exc, root=root), "printk": list(obj.printk),
                              "trace": steps if args.trace else None}, indent=2))
        else:
            print(format_error(exc, root=root), file=sys.stderr)
        return 1
    after_globals, after_maps = _snapshot(obj)
    changed_globals = _changes(before_globals, after_globals)
    changed_maps = {name: _changes(before_maps.get(name, {}), contents) for name, contents in after_maps.items()}
    records = {name: [r.hex() for r in tm.records(drain=False)] for name, tm in obj.maps.items()
               if isinstance(tm.raw, RingBuf)}
    records.update({name: [d.hex() for _, d in tm.raw.events] for name, tm in obj.maps.items()
                    if isinstance(tm.raw, PerfEventArray)})
    if args.json:
        print(json.dumps({
            "program": program, "type": prog_type.name.lower() if prog_type else None,
            "retval": result.retval, "retval_name": retval_name(result, prog_type), "runs": args.repeat,
            "steps": result.steps, "printk": list(result.printk),
            "packet_out": result.packet.hex() if result.packet is not None else None,
            "globals": _jsonable(after_globals),
            "globals_changed": {str(k): _jsonable([old, new]) for k, old, new in changed_globals},
            "maps_changed": {name: {str(k): _jsonable([old, new]) for k, old, new in items}
                             for name, items in changed_maps.items() if items},
            "records": records,
            "effects": _jsonable(list(result.effects)),
            "exit": _relative(result.exit_location, root),
            "trace": steps if args.trace else None,
        }, indent=2))
        return 0
    if not args.trace:
        for line in result.printk:
            print(line)
    runs = f" ({args.repeat} runs)" if args.repeat > 1 else ""
    print(f"{program} returned {retval_text(result, prog_type)} after {result.steps} instructions{runs}")
    for name, old, new in changed_globals:
        print(f"  {name}: {_text(old)} -> {_text(new)}")
    for map_name, items in changed_maps.items():
        for key, old, new in items:
            print(f"  {map_name}[{_text(key)}]: {_text(old) if old is not None else '(none)'} -> "
                  f"{_text(new) if new is not None else '(deleted)'}")
    for map_name, hexes in records.items():
        if hexes:
            print(f"  {map_name}: {len(hexes)} record{'s' if len(hexes) != 1 else ''}")
            for h in hexes[:10]:
                print(f"    {h}")
    for effect in result.effects:
        print(f"  {_effect_text(effect)}")
    if result.packet is not None and packet is not None:
        print(f"  packet out: {describe_packet(result.packet)}")
    return 0


def _effect_text(effect: dict[str, Any]) -> str:
    """One effect as a line: ``signal: sig=9 scope=process pid=1000``."""
    rest = " ".join(f"{k}={_text(v)}" for k, v in effect.items() if k != "effect")
    return f"{effect.get('effect', 'effect')}: {rest}" if rest else str(effect.get("effect", "effect"))


def _relative(location: Any, root: str) -> str | None:
    import dataclasses

    from bpfbuild.location import shown_path

    if location is None:
        return None
    return str(dataclasses.replace(location, file=shown_path(location.file, root)))


def _text(value: Any) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    return str(value)

"""The emulator: runs eBPF programs as the Linux 6.18 kernel would, without a kernel.

For tests (pytest) and scripts::

    from bpfbuild import vm

    obj = vm.load("build/hello.bpf.o")              # every map and program of the object
    r = obj.run(repeat=3)                           # XDP: a 14-byte zero frame unless packet= is given
    r.retval, r.printk                              # 2, ('Hello World 0', 'Hello World 1', 'Hello World 2')
    obj.globals.counter                             # 3 (decoded by BTF; assign to change it)

    tc = vm.load("build/tc_port_filter.bpf.o")
    tc.globals.blocked_port = 53                    # .rodata, as a loader sets it before load
    r = tc.run(packet={"eth": {}, "ipv4": {}, "udp": {"dport": 53}})
    vm.retval_text(r, tc.program_type())            # 'TC_ACT_SHOT (2)'; r.packet is the packet after

    pc = vm.load("build/xdp_proto_count.bpf.o")
    pc.run(packet=vm.build_packet({"eth": {}, "ipv6": {}, "icmpv6": {}}))
    pc.maps.proto_count[58]                         # 1; .items(), [key] = value, del, .raw (bytes)

    tail = vm.load("build/xdp_tail_call.bpf.o")
    tail.maps.handlers[17] = "xdp_udp_handler"      # program arrays take program names
    ev = vm.load("build/exec_events.bpf.o", pid=7, tgid=7, comm="bash")   # the world helpers see
    ev.run(); ev.maps.events.records("u32 pid; u32 uid; char comm[16]")    # ring-buffer records

``run(program=None, *, packet=, args=, ctx=, repeat=1, budget=, trace=)``: ``packet`` is bytes,
hex text or layers (:mod:`~bpfbuild.vm.packet`); ``args`` a raw tracepoint's / kprobe's
arguments; ``ctx`` a context record (:class:`XdpContext`...) or a dict of context fields
(``{"mark": 1}``).  It returns the last run's :class:`RunResult` (``retval``, ``retval32``,
``signed``, ``printk`` of all runs, ``steps``, ``packet``, ``meta``, ``ctx``, ``redirect``,
``exit_program``/``exit_pc``/``exit_location``: the ``exit`` that ended it).  A fault raises
:class:`VMError` naming the instruction, its source line and the registers.  ``load(path,
**world)`` takes the session's inputs (``pid tgid uid gid comm time_ns seed cpu nr_cpus
current_task kernel_memory``...: see :class:`Session`); ``Trace`` records every executed
instruction (``obj.run(trace=vm.Trace())``, what ``bpfbuild run --trace`` prints).

Test specs (``programs/<name>.test.toml``, docs/test-specs.md): :func:`load_spec` /
:func:`parse_spec` read one, :func:`run_spec` runs it against an object (``doit test``), and
:func:`smoke_run` is what a program without a spec gets.

The modules, bottom up:

* :mod:`~bpfbuild.vm.compiler` - instructions -> Python, translated once and cached.
* :mod:`~bpfbuild.vm.memory` - the address space: disjoint, bounds-checked regions.
* :mod:`~bpfbuild.vm.maps` - maps with the kernel's semantics.
* :mod:`~bpfbuild.vm.helpers` - helper functions; :mod:`~bpfbuild.vm.printk` - bpf_printk.
* :mod:`~bpfbuild.vm.context` - contexts per program type (XDP, skb, tracing...).
* :mod:`~bpfbuild.vm.session` - state that outlives a run: maps, printk lines, inputs.
* :mod:`~bpfbuild.vm.machine` - :class:`Machine`, :class:`RunResult`, :func:`run_bytecode`.
* :mod:`~bpfbuild.vm.trace` - step-by-step traces.
* :mod:`~bpfbuild.vm.packet` - packets from layers of header fields, and back to text.
* :mod:`~bpfbuild.vm.typed` - values <-> bytes by BTF or a small layout language.
* :mod:`~bpfbuild.vm.api` - :func:`load` and :class:`EmulatedObject` (globals, maps, run).
* :mod:`~bpfbuild.vm.testspec` / :mod:`~bpfbuild.vm.specrun` - test specs: format and runner.

Importing this package reads no object and imports no pyelftools: :func:`load` does, when
called.
"""

from bpfbuild.errors import NotEmulated, SpecError, VMError
from bpfbuild.vm.api import EmulatedObject, Globals, Maps, TypedMap, load, make_context
from bpfbuild.vm.context import (
    ArgsContext,
    Context,
    KprobeContext,
    RawContext,
    SkbContext,
    TracepointContext,
    XdpContext,
)
from bpfbuild.vm.machine import DEFAULT_BUDGET, LoadedProgram, Machine, RunResult, run_bytecode
from bpfbuild.vm.maps import Map
from bpfbuild.vm.packet import build_packet, describe_packet
from bpfbuild.vm.session import Session
from bpfbuild.vm.specrun import CaseResult, Failure, SpecResult, retval_text, run_spec, smoke_run
from bpfbuild.vm.testspec import TestSpec, load_spec, parse_spec
from bpfbuild.vm.trace import Trace, TraceStep, format_step
from bpfbuild.vm.typed import Layout

__all__ = [
    "DEFAULT_BUDGET",
    "ArgsContext",
    "CaseResult",
    "Context",
    "EmulatedObject",
    "Failure",
    "Globals",
    "KprobeContext",
    "Layout",
    "LoadedProgram",
    "Machine",
    "Map",
    "Maps",
    "NotEmulated",
    "RawContext",
    "RunResult",
    "Session",
    "SkbContext",
    "SpecError",
    "SpecResult",
    "TestSpec",
    "Trace",
    "TraceStep",
    "TracepointContext",
    "TypedMap",
    "VMError",
    "XdpContext",
    "build_packet",
    "describe_packet",
    "format_step",
    "load",
    "load_spec",
    "make_context",
    "parse_spec",
    "retval_text",
    "run_bytecode",
    "run_spec",
    "smoke_run",
]

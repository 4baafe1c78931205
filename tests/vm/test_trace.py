"""Traced runs: one step per executed instruction, with source lines and register changes, and the
same results as untraced runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from bpfbuild.obj.loader import load_object_file
from bpfbuild.vm import Trace, TraceStep, format_step, load, load_spec
from bpfbuild.vm.specrun import case_object

UDP9 = {"eth": {}, "ipv4": {}, "udp": {"dport": 9}}


def test_hello_trace_steps(program_objects: dict[str, Path]) -> None:
    obj = load(program_objects["hello"])
    trace = Trace()
    result = obj.run(trace=trace, repeat=2)
    steps = trace.steps
    assert len(steps) == result.steps == 20
    assert [s.pc for s in steps[:10]] == [0, 2, 3, 5, 6, 7, 8, 9, 10, 11]
    assert [s.run for s in (steps[0], steps[10])] == [1, 2]
    first = steps[0]
    assert first.text == "r6 = &hello.bss ll" and first.values == ("&hello.bss[0]",)
    call = steps[4]
    assert call.text == "call 6  ; bpf_trace_printk" and call.printk == ("Hello World 0",)
    assert call.changes[0][0] == "r0" and call.values == ("13",)
    store = steps[7]
    assert store.text == "*(u32 *)(r6 + 0) = r1" and store.store == "*(&hello.bss[0]) = 1"
    assert store.location is not None and store.location.line == 10 and store.source == "\tcounter++;"
    assert steps[-1].text == "exit" and steps[-1].printk == ()
    assert steps[14].printk == ("Hello World 1",)
    line = format_step(store, root=str(store.location.file).rsplit("/", 2)[0])
    assert line.startswith("   9: *(u32 *)(r6 + 0) = r1") and line.endswith("programs/hello.bpf.c:10")


def test_bpf_to_bpf_calls_are_nested(program_objects: dict[str, Path]) -> None:
    obj = load(program_objects["hello-func"])
    trace = Trace()
    obj.run(args=[0, 7], trace=trace)
    kinds = [(s.kind, s.pc, s.depth) for s in trace.steps[:4]]
    assert kinds == [("call", 0, 0), ("insn", 8, 1), ("insn", 9, 1), ("return", 0, 0)]
    assert trace.steps[3].changes == (("r0", 0, 7),)
    assert "-> returned" in format_step(trace.steps[3])


def test_conditional_jumps_say_whether_they_were_taken(program_objects: dict[str, Path]) -> None:
    obj = load(program_objects["tc_port_filter"])
    trace = Trace()
    obj.run(packet={"eth": {}, "arp": {}}, trace=trace)
    jumps = [s for s in trace.steps if s.taken is not None]
    assert jumps and jumps[-1].taken is True   # not IPv4: the jump to `return TC_ACT_OK` is taken
    assert all(s.taken is False for s in jumps[:-1])


def test_tail_calls_continue_in_the_other_program(program_objects: dict[str, Path]) -> None:
    obj = load(program_objects["xdp_tail_call"])
    obj.maps.handlers[17] = "xdp_udp_handler"
    trace = Trace()
    result = obj.run("xdp_dispatch", packet=UDP9, trace=trace)
    programs = [s.program for s in trace.steps]
    assert programs[0] == "xdp_dispatch" and programs[-1] == "xdp_udp_handler"
    assert result.retval == 1


def test_on_step_streams_and_limit_bounds_memory(program_objects: dict[str, Path]) -> None:
    seen: list[TraceStep] = []
    trace = Trace(seen.append, limit=3)
    load(program_objects["hello"]).run(trace=trace)
    assert len(seen) == 10 and len(trace.steps) == 3 and trace.count == 10


def test_a_tracer_that_raises_stops_the_run_with_its_own_exception(program_objects: dict[str, Path]) -> None:
    def boom(step: TraceStep) -> None:
        if step.pc == 6:
            raise BrokenPipeError("closed")

    obj = load(program_objects["hello"])
    with pytest.raises(BrokenPipeError):
        obj.run(trace=Trace(boom))
    assert obj.run().retval == 2   # the machine is still usable


def test_traced_runs_give_the_results_of_untraced_runs(program_objects: dict[str, Path],
                                                       program_specs: dict[str, Path]) -> None:
    """Every run of every spec case, traced and not: same retval, packet, printk, steps and maps."""
    for name, path in program_specs.items():
        spec = load_spec(path)
        objspec = load_object_file(program_objects[name])
        for case in spec.cases:
            plain, traced = case_object(objspec, case), case_object(objspec, case)
            for run in case.runs:
                program = run.program or spec.program
                outcomes = []
                for obj, traced_run in ((plain, False), (traced, True)):
                    executed: list[int] = []
                    trace = Trace(lambda step, n=executed: n.append(step.kind != "return"), limit=0) \
                        if traced_run else None
                    try:
                        r = obj.run(program, packet=run.packet, args=run.args, ctx=run.ctx, repeat=run.repeat,
                                    trace=trace)
                        outcomes.append((r.retval, r.packet, r.printk, r.steps, r.exit_pc))
                        if traced_run:
                            assert sum(executed) == r.steps
                    except Exception as exc:  # noqa: BLE001 - both must fail alike
                        outcomes.append((type(exc).__name__, str(exc)))
                assert outcomes[0] == outcomes[1], f"{name}: {case.name}"
            for m in plain.maps:
                mine, theirs = plain.maps[m], traced.maps[m]
                assert mine.items() == theirs.items(), f"{name}: {m}"
                if mine.raw.type.name in ("RINGBUF", "PERF_EVENT_ARRAY"):
                    assert mine.records(drain=False) == theirs.records(drain=False)

"""The C backend against the Python translation: identical r0, steps, packet, maps, printk and
fault messages on the ISA corpus, on every spec case of programs/, and on generated programs
(a fixed example budget: each new program is one C compile).  Skips without a C compiler."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bpfbuild.abi.progtypes import ProgType
from bpfbuild.isa import Instruction, assemble, encode
from bpfbuild.obj.loader import load_object_file
from bpfbuild.vm import Machine, Session, SkbContext, VMError, XdpContext, run_bytecode
from bpfbuild.vm.cbackend import CUnsupported, c_compiler, translate_c
from bpfbuild.vm.specrun import run_spec
from bpfbuild.vm.testspec import load_spec

from .conftest import PROGRAMS
from .test_compiler import CASES, parse
from .test_fuzz import BUDGET, programs

pytestmark = pytest.mark.skipif(c_compiler() is None, reason="no C compiler (cc, gcc, clang or ziglang)")


def _outcome(fn: Any) -> tuple[str, Any]:
    try:
        return "ok", fn()
    except VMError as err:
        return "fault", (str(err), err.pc)


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_corpus_agrees(path: Path) -> None:
    case = parse(path)
    code = encode(assemble(case.asm))
    py = _outcome(lambda: run_bytecode(code, case.mem, backend="python"))
    c = _outcome(lambda: run_bytecode(code, case.mem, backend="c"))
    assert py == c


def _spec_outcome(name: str, objspec: Any, backend: str, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    monkeypatch.setenv("BPFBUILD_VM_BACKEND", backend)
    result = run_spec(load_spec(PROGRAMS / f"{name}.test.toml"), objspec)
    out = []
    for case in result.cases:
        assert case.obj is not None
        programs = {n: p.backend for n, p in case.obj.machine.programs.items()}
        maps = {}
        for m in case.obj.maps:
            try:
                maps[m] = case.obj.maps[m].as_dict()
            except Exception:  # noqa: BLE001 - records: compared through printk/runs
                maps[m] = None
        runs = [(r.program, r.result.retval if r.result else None, r.result.steps if r.result else None,
                 r.result.packet if r.result else None, str(r.error) if r.error else None) for r in case.runs]
        out.append((case.name, case.ok, case.printk, runs, maps, programs))
    return out


@pytest.mark.parametrize("name", sorted(p.name[: -len(".test.toml")] for p in PROGRAMS.glob("*.test.toml")))
def test_spec_cases_agree(name: str, program_objects: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    objspec = load_object_file(program_objects[name])
    py = _spec_outcome(name, objspec, "python", monkeypatch)
    c = _spec_outcome(name, objspec, "c", monkeypatch)
    assert all(backend == "python" for case in py for backend in case[5].values())
    assert any(backend == "c" for case in c for backend in case[5].values()), "no program ran natively"
    assert [case[:5] for case in py] == [case[:5] for case in c]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs, st.binary(min_size=14, max_size=80), st.sampled_from([ProgType.XDP, ProgType.SCHED_CLS]))
def test_generated_programs_agree(insns: list[Instruction], packet: bytes, prog_type: ProgType) -> None:
    outcomes = []
    for backend in ("python", "c"):
        session = Session()
        hash_map = session.new_map("h", 1, 4, 8, 4)
        machine = Machine(session, budget=BUDGET, backend=backend)
        prog = machine.load(insns, prog_type=prog_type, maps=[hash_map])
        ctx = XdpContext(packet) if prog_type is ProgType.XDP else SkbContext(packet)

        def run(machine: Machine = machine, prog: Any = prog, ctx: Any = ctx,
                hash_map: Any = hash_map, session: Session = session) -> Any:
            r = machine.run(prog, ctx)
            return r.retval, r.steps, r.packet, r.printk, sorted(hash_map.items()) if hasattr(hash_map, "items") \
                else None, r.exit_pc
        outcomes.append(_outcome(run))
    assert outcomes[0] == outcomes[1]


def test_unsupported_constructs_run_in_python() -> None:
    insns = assemble("r1 = 2\ncallx r1\nexit")
    with pytest.raises(CUnsupported):
        translate_c(insns)
    machine = Machine(Session(), backend="c")
    prog = machine.load(insns, prog_type=ProgType.XDP)
    assert prog.backend == "python"
    assert machine.load(assemble("r0 = 1\nexit"), name="one", prog_type=ProgType.XDP).backend == "c"


def test_a_long_loop_and_its_budget_fault_agree() -> None:
    text = "r0 = 0\nr1 = 0\nloop:\nr0 += r1\n*(u64 *)(r10 - 8) = r0\nr0 = *(u64 *)(r10 - 8)\nr1 += 1\n" \
           "if r1 < 100000 goto loop\nexit"
    for budget in (10_000_000, 12_345):
        got = []
        for backend in ("python", "c"):
            m = Machine(Session(), budget=budget, backend=backend)
            p = m.load(assemble(text), prog_type=ProgType.XDP)
            got.append(_outcome(lambda m=m, p=p: (m.run(p, XdpContext(bytes(64))).retval,
                                                  m.run(p, XdpContext(bytes(64))).steps)))
        assert got[0] == got[1]

"""Coverage: counts equal a trace of the same runs, the lcov file is a valid tracefile (genhtml
reads it when installed), uncovered lines are reported at file:line:col, min_coverage fails,
and the plain (no-coverage) translation carries no counters."""

from __future__ import annotations

import shutil
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bpfbuild.cli import main
from bpfbuild.isa import assemble, encode
from bpfbuild.obj.loader import load_object_file
from bpfbuild.vm import Machine, Session, VMError, XdpContext
from bpfbuild.vm.compiler import compile_program
from bpfbuild.vm.coverage import Coverage
from bpfbuild.vm.specrun import case_object, run_spec
from bpfbuild.vm.testspec import load_spec, parse_spec

from .conftest import PROGRAMS

NAMES = ["xdp_proto_count", "tc_port_filter", "xdp_tail_call", "hello-func"]


class Counting:
    """A tracer counting executed instructions per (program, pc)."""

    def __init__(self) -> None:
        self.counts: Counter[tuple[str, int]] = Counter()

    def entry(self, link: Any, pc: int, regs: tuple[int, ...]) -> None:
        pass

    def call(self, link: Any, pc: int, regs: tuple[int, ...]) -> None:
        self.counts[(link.name, pc)] += 1

    def after(self, link: Any, pc: int, regs: tuple[int, ...]) -> None:
        insn = link.compiled.slots[pc]
        if not (insn.is_subprog_call or insn.is_callx):   # counted by call()
            self.counts[(link.name, pc)] += 1

    def before(self, link: Any, pc: int, regs: tuple[int, ...]) -> None:
        self.counts[(link.name, pc)] += 1


def _traced_line_counts(objspec: Any, spec: Any) -> dict[tuple[str, int], int]:
    tracer = Counting()
    for case in spec.cases:
        obj = case_object(objspec, case)
        for run in case.runs:
            program = run.program or spec.program or objspec.programs[0].name
            for _ in range(run.repeat):
                try:
                    obj.run(program, packet=run.packet, args=run.args, ctx=run.ctx, trace=tracer)
                except VMError as exc:   # the faulting instruction ran (the trace shows none after it)
                    if exc.pc is not None:
                        tracer.counts[(program, exc.pc)] += 1
                    break
    per_program: dict[str, dict[tuple[str, int], int]] = {}
    for program in objspec.programs:
        lines = per_program.setdefault(program.name, {})
        for (name, pc), n in tracer.counts.items():
            if name != program.name:
                continue
            rec = program.line_at(pc)
            if rec is None or not rec.location.line:
                continue
            key = (rec.location.file, rec.location.line)
            lines[key] = max(lines.get(key, 0), n)
    total: dict[tuple[str, int], int] = {}
    for lines in per_program.values():
        for key, n in lines.items():
            total[key] = total.get(key, 0) + n
    return total


def _lcov_lines(text: str) -> dict[tuple[str, int], int]:
    out = {}
    file = ""
    for line in text.splitlines():
        if line.startswith("SF:"):
            file = line[3:]
        elif line.startswith("DA:"):
            lineno, count = line[3:].split(",")[:2]
            out[(file, int(lineno))] = int(count)
    return out


@pytest.mark.parametrize("name", NAMES)
def test_lcov_line_counts_equal_the_trace(name: str, program_objects: dict[str, Path]) -> None:
    objspec = load_object_file(program_objects[name])
    spec = load_spec(PROGRAMS / f"{name}.test.toml")
    cov = Coverage()
    assert run_spec(spec, objspec, coverage=cov).ok
    lcov = _lcov_lines(cov.report(objspec).lcov(name))
    traced = _traced_line_counts(objspec, spec)
    assert {k: v for k, v in lcov.items() if v} == {k: v for k, v in traced.items() if v}
    assert lcov.keys() >= traced.keys()


def _check_lcov_format(text: str) -> None:
    records = text.split("end_of_record\n")
    assert records[-1] == ""
    for record in records[:-1]:
        lines = record.splitlines()
        assert lines[0].startswith("TN:") and lines[1].startswith("SF:")
        da = [tuple(map(int, x[3:].split(","))) for x in lines if x.startswith("DA:")]
        fields = dict(x.split(":", 1) for x in lines if x.split(":", 1)[0] in ("LF", "LH", "BRF", "BRH", "FNF", "FNH"))
        assert int(fields["LF"]) == len(da) and int(fields["LH"]) == sum(1 for _, n in da if n)
        brda = [x[5:].split(",") for x in lines if x.startswith("BRDA:")]
        assert int(fields["BRF"]) == len(brda)
        assert int(fields["BRH"]) == sum(1 for b in brda if b[3] not in ("-", "0"))
        fn = [x for x in lines if x.startswith("FN:")]
        assert int(fields["FNF"]) == len(fn) == len([x for x in lines if x.startswith("FNDA:")])


def test_lcov_is_a_valid_tracefile(program_objects: dict[str, Path], tmp_path: Path) -> None:
    parts = []
    for name in NAMES:
        objspec = load_object_file(program_objects[name])
        cov = Coverage()
        run_spec(load_spec(PROGRAMS / f"{name}.test.toml"), objspec, coverage=cov)
        parts.append(cov.report(objspec).lcov(name))
    text = "".join(parts)
    _check_lcov_format(text)
    genhtml = shutil.which("genhtml")
    if genhtml is None:
        pytest.skip("genhtml (lcov) is not installed; the format was checked by hand")
    (tmp_path / "coverage.lcov").write_text(text)
    res = subprocess.run([genhtml, "--branch-coverage", "-q", "-o", str(tmp_path / "html"),
                          str(tmp_path / "coverage.lcov")], capture_output=True, text=True, check=False)
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "html" / "index.html").exists()


def test_an_unreached_line_is_reported_and_min_coverage_fails(program_objects: dict[str, Path], tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "tc.test.toml"
    spec.write_text('program = "tc_port_filter"\nmin_coverage = { lines = 90 }\n[[case]]\n'
                    'packet = { eth = {}, ipv4 = {}, udp = { dport = 9 } }\nexpect.retval = "TC_ACT_SHOT"\n')
    code = main(["coverage", str(program_objects["tc_port_filter"]), "--spec", str(spec)])
    out, err = capsys.readouterr()
    assert code == 1
    assert "coverage below min_coverage: lines" in err
    warnings = [line for line in out.splitlines() if line.endswith(": warning: never executed by any case")]
    assert warnings and all("tc_port_filter.bpf.c:" in w or "parsing.h:" in w for w in warnings)
    file, line, col = warnings[0].split(": warning")[0].rsplit(":", 2)
    assert int(line) > 0 and int(col) >= 0
    assert any(text.startswith("!") for text in out.splitlines())   # the annotated source marks it


def test_the_plain_translation_counts_nothing() -> None:
    insns = tuple(assemble("r0 = 0\nloop:\nr0 += 1\nif r0 < 10 goto loop\nexit"))
    plain, counted = compile_program(insns), compile_program(insns, coverage=True)
    assert "K[" not in plain.source and not plain.counters
    assert "K[" in counted.source and counted.counters


_ops = st.sampled_from(["r0 += {k}", "r0 ^= {k}", "r1 = r0", "r1 &= {k}", "r0 -= r1", "w0 *= {k}",
                        "r0 >>= 1", "if r0 > {k} goto +1", "if w1 s< {k} goto +2", "r0 |= {k}",
                        "*(u64 *)(r10 - 8) = r0", "r1 = *(u64 *)(r10 - 8)", "r0 /= r1", "r0 %= r1"])


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(_ops, st.integers(0, 1000)), min_size=1, max_size=25))
def test_plain_counting_and_traced_translations_agree(body: list[tuple[str, int]]) -> None:
    text = "r0 = 0\nr1 = 3\n*(u64 *)(r10 - 8) = r1\n" + "\n".join(op.format(k=k) for op, k in body) \
        + "\nr0 &= 0xffff\nexit\nexit\nexit"
    insns = assemble(text)
    results = []
    for coverage, trace in ((False, None), (True, None), (False, Counting())):
        machine = Machine(Session())
        machine.coverage = coverage
        prog = machine.load(insns, name="p", prog_type=6)
        res = machine.run(prog, XdpContext(bytes(64)), trace=trace)
        results.append((res.retval, res.steps, res.packet))
    assert results[0] == results[1] == results[2]
    assert encode(insns)

"""Hypothesis: whatever the bytes, the emulator answers with r0 or a VMError, within budget.

Two generators: raw bytes (mostly invalid encodings) and valid instructions drawn from the
ISA's form table with random operands (registers, offsets, immediates), so the translator
sees every instruction shape, wild pointers, divisions by zero, jumps anywhere and calls.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bpfbuild.abi.progtypes import ProgType
from bpfbuild.isa.codec import encode
from bpfbuild.isa.instruction import Instruction
from bpfbuild.isa.opcodes import opcode_table
from bpfbuild.vm import Machine, Session, SkbContext, VMError, XdpContext, run_bytecode

BUDGET = 2000
FORMS = opcode_table().forms


@st.composite
def instruction(draw: st.DrawFn) -> Instruction:
    form = draw(st.sampled_from(FORMS))
    reg = st.integers(0, 10)
    dst = form.dst if form.dst is not None else draw(reg)
    src = form.src if form.src is not None else draw(reg)
    off = form.off if form.off is not None else draw(st.one_of(st.integers(-4, 8), st.integers(-32768, 32767)))
    imm = form.imm if form.imm is not None else draw(st.one_of(
        st.integers(-4, 8), st.sampled_from([0x7FFFFFFF, -0x80000000, 1, 12, 6, 5, 7, 130, 131, 181]),
        st.integers(-(1 << 31), (1 << 31) - 1)))
    imm_hi = draw(st.integers(-(1 << 31), (1 << 31) - 1)) if form.slots == 2 else 0
    return Instruction(form.opcode, dst, src, off, imm, imm_hi)


programs = st.lists(instruction(), min_size=1, max_size=24)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=96), st.binary(max_size=32))
def test_random_bytes_give_r0_or_vm_error(code: bytes, mem: bytes) -> None:
    try:
        r0 = run_bytecode(code, mem, budget=BUDGET)
    except VMError:
        return
    assert 0 <= r0 < 1 << 64


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs, st.binary(max_size=64))
def test_random_valid_programs_give_r0_or_vm_error(insns: list[Instruction], mem: bytes) -> None:
    try:
        r0 = run_bytecode(encode(insns), mem, budget=BUDGET)
    except VMError as err:
        assert "internal emulator error" not in str(err)
        return
    assert 0 <= r0 < 1 << 64


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs, st.binary(min_size=14, max_size=80), st.sampled_from([ProgType.XDP, ProgType.SCHED_CLS,
                                                                        ProgType.SOCKET_FILTER]))
def test_random_programs_on_packets_stay_within_budget(insns: list[Instruction], packet: bytes,
                                                       prog_type: ProgType) -> None:
    session = Session()
    hash_map = session.new_map("h", 1, 4, 8, 4)
    ring = session.new_map("rb", 27, 0, 0, 4096)
    machine = Machine(session, budget=BUDGET)
    prog = machine.load(insns, prog_type=prog_type, maps=[hash_map, ring])
    ctx = XdpContext(packet) if prog_type is ProgType.XDP else SkbContext(packet)
    try:
        result = machine.run(prog, ctx)
    except VMError as err:
        assert "internal emulator error" not in str(err)
        return
    assert 0 <= result.steps <= BUDGET
    assert machine.runtime.depth == 0

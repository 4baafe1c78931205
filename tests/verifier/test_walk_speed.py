"""The shortcuts of the path walk give what the general path gives.

StackLiveness plans a function whose every edge leads forward from its last instruction back
(``_forward_plan``) instead of in DFS post-order: on random loop-free programs that spill,
fill and branch, the verdict, the counts and the log are those of the post-order plan."""

from __future__ import annotations

import copy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bpfbuild.abi.progtypes import ProgType
from bpfbuild.isa import assemble, encode
from bpfbuild.verifier import verify_insns
from bpfbuild.verifier.liveness import NEVER_WRITES, StackLiveness

_REGS = (0, 6, 7)
_step = st.one_of(
    st.tuples(st.just("spill"), st.sampled_from(_REGS), st.integers(1, 4)),
    st.tuples(st.just("fill"), st.sampled_from(_REGS), st.integers(1, 4)),
    st.tuples(st.just("add"), st.sampled_from(_REGS), st.integers(-8, 8)),
    st.tuples(st.just("rand"), st.just(0), st.just(0)),
    st.tuples(st.just("branch"), st.sampled_from(_REGS), st.integers(0, 40)),
)


def _program(steps: list[tuple[str, int, int]]) -> str:
    """Every jump goes forward, to a label of a later step or of the exit."""
    lines = ["call 7", "r6 = r0", "call 7", "r7 = r0", "call 7"]
    n = len(steps)
    for i, (what, reg, arg) in enumerate(steps):
        lines.append(f"l{i}:")
        if what == "spill":
            lines.append(f"*(u64 *)(r10 - {8 * arg}) = r{reg}")
        elif what == "fill":
            lines.append(f"r{reg} = *(u64 *)(r10 - {8 * arg})")
        elif what == "add":
            lines.append(f"r{reg} += {arg}")
        elif what == "rand":
            lines.append("call 7")
        else:
            target = min(i + 1 + arg % 5, n)
            lines.append(f"if r{reg} > {arg} goto l{target}")
    lines += [f"l{n}:", "r0 = 0", "exit"]
    return "\n".join(lines)


def _summary(code: bytes, level: int) -> tuple[object, ...]:
    r = verify_insns(code, ProgType.XDP, log_level=level)
    return (r.verdict, r.processed_insns, r.total_states, r.peak_states, r.max_states_per_insn,
            [d.message for d in r.errors], r.log)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(st.lists(_step, min_size=1, max_size=24))
def test_forward_plan_gives_the_post_order_result(steps: list[tuple[str, int, int]]) -> None:
    code = encode(assemble(_program(steps)))
    fast = [_summary(code, level) for level in (0, 1)]
    mp = pytest.MonkeyPatch()
    try:
        mp.setattr(StackLiveness, "_forward_plan", lambda self, subprog: None)
        general = [_summary(code, level) for level in (0, 1)]
    finally:
        mp.undo()
    assert fast == general


@settings(max_examples=60, deadline=None, derandomize=True)
@given(st.lists(_step, min_size=1, max_size=24))
def test_forward_plan_reaches_the_post_order_fixed_point(steps: list[tuple[str, int, int]]) -> None:
    """Each update of the stack liveness: the live and written sets of every instruction
    after one forward round equal those of the post-order rounds from the same marks."""
    real_update = StackLiveness._update_instance
    real_plan = StackLiveness._forward_plan
    general = False
    compared = 0

    def forward_plan(self: StackLiveness, subprog: int) -> object:
        return None if general else real_plan(self, subprog)

    def update(self: StackLiveness, inst: object) -> None:
        nonlocal general, compared
        twin = copy.deepcopy(inst)
        real_update(self, inst)
        plans, self.plans = self.plans, {}
        general = True
        try:
            real_update(self, twin)
        finally:
            general = False
            self.plans = plans
        assert twin.live == inst.live and twin.acc == inst.acc   # type: ignore[attr-defined]
        compared += 1

    mp = pytest.MonkeyPatch()
    mp.setattr(StackLiveness, "_forward_plan", forward_plan)
    mp.setattr(StackLiveness, "_update_instance", update)
    try:
        verify_insns(encode(assemble(_program(steps))), ProgType.XDP)
    finally:
        mp.undo()
    if any(what == "fill" for what, _, _ in steps):
        assert compared


def test_the_forward_plan_is_used_and_the_loop_falls_back() -> None:
    """A loop-free program gets a forward plan; a loop (a backward edge) the post-order one."""
    plans: list[object] = []
    real = StackLiveness._forward_plan

    def spy(self: StackLiveness, subprog: int) -> object:
        plan = real(self, subprog)
        plans.append(plan)
        return plan

    mp = pytest.MonkeyPatch()
    mp.setattr(StackLiveness, "_forward_plan", spy)
    try:
        flat = "call 7\n*(u64 *)(r10 - 8) = r0\nif r0 > 3 goto l1\nr0 = *(u64 *)(r10 - 8)\nl1:\nr0 = 0\nexit"
        assert verify_insns(encode(assemble(flat)), ProgType.XDP).accepted
        assert plans and plans[-1] is not None
        plans.clear()
        loop = ("r1 = 0\nl0:\n*(u64 *)(r10 - 8) = r1\nr2 = *(u64 *)(r10 - 8)\nr1 += 1\n"
                "if r1 < 4 goto l0\nr0 = 0\nexit")
        assert verify_insns(encode(assemble(loop)), ProgType.XDP).accepted
        assert plans and plans[-1] is None
    finally:
        mp.undo()


def test_stores_and_calls_are_the_only_stack_writers() -> None:
    """The explorer collects stack writes only where NEVER_WRITES says they may happen."""
    writers = {code & 0x07 for code in range(256) if not NEVER_WRITES[code]}
    assert writers == {0x02, 0x03, 0x05, 0x06}     # ST, STX, and the calls of JMP/JMP32
    assert not NEVER_WRITES[0x85] and NEVER_WRITES[0x95] and NEVER_WRITES[0x05]

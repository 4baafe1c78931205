"""A program the verifier accepts never faults in the emulator, whatever its input.

The accepted programs of the corpus and of programs/ run on random packets, arguments,
registers, tracepoint records and map contents; a ``VMError`` other than "not emulated" (a
helper the emulator lacks) means the verifier let through a program that can fault.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from bpfbuild.abi.ctx import MAX_BPF_FUNC_ARGS, PERF_MAX_TRACE_SIZE
from bpfbuild.abi.progtypes import ProgType
from bpfbuild.errors import VMError
from bpfbuild.isa.fields import InsnClass, JmpOp
from bpfbuild.obj.loader import load_object_file
from bpfbuild.verifier import verify

_M64 = (1 << 64) - 1
_PT_REGS = ("r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10", "r9", "r8", "rax", "rcx",
            "rdx", "rsi", "rdi", "orig_rax", "rip", "cs", "eflags", "rsp", "ss")


# program types whose context the emulator does not build (it would run them on a generic
# argument block, and their loads of sk_msg_md/bpf_sock_ops... fields would fault there); tracing
# and LSM contexts hold BTF-typed kernel objects (task_struct...) the emulator has none of, and
# the kernel turns loads through them into fault-tolerant probe loads
_NO_EMULATED_CTX = frozenset({ProgType.SK_MSG, ProgType.SOCK_OPS, ProgType.SK_LOOKUP, ProgType.SK_REUSEPORT,
                              ProgType.FLOW_DISSECTOR, ProgType.CGROUP_SOCK, ProgType.CGROUP_SOCK_ADDR,
                              ProgType.CGROUP_SOCKOPT, ProgType.TRACING, ProgType.LSM})


class _Accepted(list):
    def __repr__(self) -> str:  # keep hypothesis' falsifying examples short
        return f"<{len(self)} accepted programs>"


@pytest.fixture(scope="module")
def accepted(build_corpus, corpus_lib, built_programs) -> list[tuple[Any, str]]:
    objects: list[Path] = [build_corpus(src) for src in corpus_lib.corpus_sources()] + list(built_programs)
    out = _Accepted()
    for obj in objects:
        spec = load_object_file(obj)
        for prog in spec.programs:
            if prog.prog_type in _NO_EMULATED_CTX:
                continue
            if verify(spec, prog).accepted:
                out.append((spec, prog.name))
    assert len(out) >= 30
    return out


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), packet=st.binary(max_size=128), seed=st.integers(0, 1 << 30),
       args=st.lists(st.integers(0, _M64), min_size=MAX_BPF_FUNC_ARGS, max_size=MAX_BPF_FUNC_ARGS))
def test_accepted_programs_do_not_fault(accepted, data, packet, seed, args):
    from bpfbuild.vm import KprobeContext, Session, TracepointContext, load
    from bpfbuild.vm.maps import ArrayMap, HashMap

    spec, name = accepted[data.draw(st.integers(0, len(accepted) - 1), label="program")]
    note(f"program {name}")
    try:
        obj = load(spec, session=Session(seed=seed))
    except VMError as exc:   # a map type (reuseport_sockarray...) or program type the emulator lacks
        if "not emulated" in str(exc):
            return
        raise
    for m in spec.maps:
        raw = obj.session.map(m.name)
        if isinstance(raw, HashMap) and not m.is_global_data:
            for _ in range(data.draw(st.integers(0, 2))):
                # user space's update: the value's special fields (kptrs, timers...) are not copied
                raw.update(data.draw(st.binary(min_size=m.key_size, max_size=m.key_size)),
                           data.draw(st.binary(min_size=m.value_size, max_size=m.value_size)))
        elif isinstance(raw, ArrayMap) and not m.readonly and m.max_entries:
            raw.update(data.draw(st.integers(0, m.max_entries - 1)),
                       data.draw(st.binary(min_size=m.value_size, max_size=m.value_size)))
    prog_type = obj.program_type(name)
    try:
        if prog_type == ProgType.TRACEPOINT:
            record = data.draw(st.binary(min_size=PERF_MAX_TRACE_SIZE, max_size=PERF_MAX_TRACE_SIZE))
            obj.run(name, ctx=TracepointContext(record))
        elif prog_type in (ProgType.KPROBE, ProgType.PERF_EVENT):
            regs = data.draw(st.lists(st.integers(0, _M64), min_size=len(_PT_REGS), max_size=len(_PT_REGS)))
            obj.run(name, ctx=KprobeContext(dict(zip(_PT_REGS, regs))))
        else:
            obj.run(name, packet=packet, args=args)
    except VMError as exc:
        if "not emulated" in str(exc):
            return
        if "step budget" in str(exc) and _has_may_goto(spec, name):
            return   # a loop bounded only by may_goto runs BPF_MAX_LOOPS times: more than the default budget
        raise


_MAY_GOTO = InsnClass.JMP | JmpOp.JCOND


def _has_may_goto(spec, name: str) -> bool:
    prog = next(p for p in spec.programs if p.name == name)
    return any(insn is not None and insn.opcode == _MAY_GOTO for insn in prog.insns)

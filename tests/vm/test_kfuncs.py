"""kfuncs in the emulator (bpfbuild/vm/kfuncs.py): number iterators with the kernel's state and
errors, RCU sections, and the one-line "not emulated" stop for the others; the same programs
under BPF_PROG_TEST_RUN give the same return values."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from bpfbuild.errors import KernelError, NotEmulated
from bpfbuild.isa import assemble
from bpfbuild.vm import load
from bpfbuild.vm.machine import Machine

HERE = Path(__file__).resolve().parent / "kfuncs"
_U32 = 0xFFFFFFFF

#: the return value of each program of iter_num.bpf.c, worked out by hand from the kernel's rules
EXPECTED = {
    "sum_to_ten": 45,
    "negative_range": 100 - 12,
    "reversed_range": errno.EINVAL * 10,
    "too_wide": errno.E2BIG * 10,
    "in_rcu_section": 6,
}

LOOP = """
    r6 = 0
    r1 = r10
    r1 += -8
    r2 = {start}
    r3 = {end}
    call kfunc 1
    r7 = r0
loop:
    r1 = r10
    r1 += -8
    call kfunc 2
    if r0 == 0 goto out
    r1 = *(u32 *)(r0 + 0)
    r6 += r1
    goto loop
out:
    r1 = r10
    r1 += -8
    call kfunc 3
    r8 = *(u64 *)(r10 - 8)
    r0 = r6
    exit
"""


def _run(start: int, end: int) -> tuple[int, int]:
    text = LOOP.format(start=start, end=end)
    insns = assemble(text)
    calls = [pc for pc, insn in enumerate(insns) if insn is not None and insn.opcode == 0x85 and insn.src == 2]
    names = dict(zip(calls, ["bpf_iter_num_new", "bpf_iter_num_next", "bpf_iter_num_destroy"], strict=True))
    machine = Machine()
    prog = machine.load(insns, prog_type=6, kfuncs=names)
    return machine.run(prog, packet=bytes(64)).retval, len(insns)


@pytest.mark.parametrize("start, end, total", [(0, 5, 10), (3, 3, 0), (-2, 2, -2), (7, 1, 0),
                                               (0, 8 * 1024 * 1024 + 1, 0)])
def test_number_iterator_yields_the_kernels_range(start: int, end: int, total: int) -> None:
    retval, _ = _run(start, end)
    assert retval & _U32 == total & _U32     # the u32 values are summed in a 64-bit register


def test_a_kfunc_named_by_no_extern_or_not_modelled_stops_the_run_with_its_name() -> None:
    insns = assemble("call kfunc 7\nr0 = 0\nexit")
    machine = Machine()
    prog = machine.load(insns, prog_type=6, kfuncs={0: "bpf_obj_new_impl"})
    with pytest.raises(NotEmulated, match="not emulated: kfunc bpf_obj_new_impl"):
        machine.run(prog, packet=bytes(64))


@pytest.fixture(scope="module")
def iter_obj(compile_bpf) -> Path:
    return compile_bpf(HERE / "iter_num.bpf.c")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_programs_with_kfuncs_run_in_the_emulator(iter_obj: Path, name: str) -> None:
    obj = load(iter_obj)
    assert obj.run(name, packet=bytes(64)).retval & _U32 == EXPECTED[name]   # XDP's return value is a u32


@pytest.mark.kernel
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_the_kernel_returns_the_same(iter_obj: Path, name: str, requires_kernel) -> None:
    from bpfbuild.kernel import KernelObject

    ko = KernelObject.open(str(iter_obj))
    try:
        for prog in ("sum_to_ten", "negative_range", "reversed_range", "too_wide", "in_rcu_section"):
            ko.program(prog).autoload = prog == name
        try:
            ko.load()
        except KernelError as exc:
            pytest.skip(f"this kernel refuses {name}: {exc}")
        got = ko.program(name).test_run(bytes(64)).retval
    finally:
        ko.close()
    assert got == EXPECTED[name] == load(iter_obj).run(name, packet=bytes(64)).retval & _U32


def test_a_traced_run_calls_the_same_kfuncs(iter_obj: Path) -> None:
    from bpfbuild.vm.trace import Trace

    obj = load(iter_obj)
    machine = obj.machine
    traced = machine.run("sum_to_ten", packet=bytes(64), trace=Trace())
    assert traced.retval & _U32 == EXPECTED["sum_to_ten"]

"""The xlated image against the kernel: every programs/ program, loaded by libbpf, holds after
verification the instructions ``bpfbuild.verifier.fixups.xlated`` computes offline (dead code
removed, context fields converted, map lookups inlined...), with the source lines at the same
instructions.  Only what a load decides is masked: map ids and helper addresses."""

from __future__ import annotations

import os

import pytest

from bpfbuild.isa.codec import encode, raw_slots
from bpfbuild.isa.fields import InsnClass, JmpOp, PseudoLoad
from bpfbuild.isa.instruction import LD_IMM64_OPCODE
from bpfbuild.obj.loader import load_object_file
from bpfbuild.verifier.fixups import xlated

from .conftest import DATA

pytestmark = pytest.mark.kernel

_CALL = InsnClass.JMP | JmpOp.CALL


def comparable(image: bytes) -> list[tuple[int, ...]]:
    """The slots of an image with what the load decides masked: a call's target (helper address,
    subprogram index), a map load's map (id or object index; its value offset stays)."""
    slots = raw_slots(image)
    out: list[tuple[int, ...]] = []
    i = 0
    while i < len(slots):
        code, dst, src, off, imm = slots[i]
        if code == _CALL:
            out.append((code, dst, src))
        elif code == LD_IMM64_OPCODE and src in (PseudoLoad.MAP_FD, PseudoLoad.MAP_VALUE) and i + 1 < len(slots):
            out.append((code, dst, src, off))
            out.append((0, 0, 0, 0, slots[i + 1][4]))
            i += 1
        else:
            out.append((code, dst, src, off, imm))
        i += 1
    return out


@pytest.fixture(scope="module")
def kernel_objects():
    if os.geteuid() != 0:
        pytest.skip("loading programs needs root (CAP_BPF)")
    from bpfbuild.kernel.objects import KernelObject

    return KernelObject


def _check(obj, kernel_objects) -> int:
    spec = load_object_file(obj)
    with kernel_objects.open(obj) as kobj:
        kobj.load()
        for prog in spec.programs:
            ours = xlated(spec, prog)
            assert ours.notes == (), (obj.name, prog.name, ours.notes)
            kprog = kobj.program(prog.name)
            images = kprog.images()
            what = f"{obj.name}:{prog.name}"
            assert kprog.info().bytes_xlated == ours.bytes_xlated, what
            assert comparable(images.xlated) == comparable(encode(ours.program.insns, check=False)), what
            assert [li.insn for li in images.line_info] == [r.pc for r in ours.program.line_info], what
            assert [fi.insn for fi in images.func_info] == [f.pc for f in ours.program.func_info], what
    return len(spec.programs)


def test_xlated_images_equal_the_kernels(objects, kernel_objects):
    assert sum(_check(obj, kernel_objects) for obj in objects) >= len(objects)


@pytest.mark.parametrize("cc", ["default", "clang>=18"])
def test_every_rewrite_equals_the_kernels(compile_bpf, kernel_objects, cc):
    """Each map type's inlined lookup, the ops called directly, xdp_md and __sk_buff fields,
    div/mod guards (signed ones from clang 18's cpu v4)."""
    obj = compile_bpf("fixups.bpf.c", cc=cc)
    if cc != "default":   # cpu v4 where the compiler has it
        from tests.bpfcc import find

        src = obj.with_suffix(".v4.o")
        res = find(min_major=18).run(DATA / "fixups.bpf.c", src, mcpu="v4", target_arch="x86")
        assert res.returncode == 0, res.stderr
        obj = src
    assert _check(obj, kernel_objects) == 2


@pytest.mark.parametrize("name", ["fc_kfunc_cast", "fc_two_spills", "fc_frames_fit"])
def test_fastcall_spills_and_fills_go_as_in_the_kernel(name, build_corpus, kernel_objects):
    """The spill/fill pairs around a bpf_fastcall call (an inlined bpf_get_smp_processor_id, a
    KF_FASTCALL kfunc) are removed from the image, as remove_fastcall_spills_fills removes them."""
    from pathlib import Path

    obj = build_corpus(Path(__file__).parents[1] / "verifier" / "corpus" / f"{name}.bpf.c")
    spec = load_object_file(obj)
    with kernel_objects.open(obj) as kobj:
        try:
            kobj.load()
        except Exception as exc:  # noqa: BLE001 - a kernel without the kfunc or helper inlining
            pytest.skip(f"{name}: this kernel does not load it ({exc})")
        for prog in spec.programs:
            ours = xlated(spec, prog)
            kprog = kobj.program(prog.name)
            assert kprog.info().bytes_xlated == ours.bytes_xlated, prog.name
            if not ours.notes:   # (a per-CPU variable's address is the kernel's: only the size compares)
                assert comparable(kprog.images().xlated) == comparable(encode(ours.program.insns, check=False))

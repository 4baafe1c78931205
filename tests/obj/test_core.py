"""CO-RE relocations applied offline: against a small "kernel" whose BTF we compile ourselves (so
every rule has a known answer), against the running kernel's BTF, and with no BTF at all."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bpfbuild.abi.target import Target
from bpfbuild.btf.compat import essential_name, types_are_compat, types_match
from bpfbuild.btf.ext import CoreRelo, CoreReloKind
from bpfbuild.btf.spec import Spec
from bpfbuild.btf.types import Struct
from bpfbuild.cli import main as cli_main
from bpfbuild.errors import ObjectError
from bpfbuild.obj.core import POISON_IMM, Candidates, _Fail, resolve_relo
from bpfbuild.obj.elf import read_elf
from bpfbuild.obj.loader import load_object_file

from .conftest import VMLINUX_BTF

KERNEL = """
struct foo___a { int x; int y; };
struct foo___b { long pad; int x; };
struct bar { long pad; int x; unsigned int bits:3; int sbits:5; };
struct bar___v2 { long pad; int x; unsigned int bits:3; int sbits:5; };
enum color { RED = 1, GREEN = -2 };
struct foo___a a; struct foo___b b; struct bar c; struct bar___v2 d; enum color e;
"""

PROGRAM = """
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
struct bar { int x; unsigned int bits:3; int sbits:5; } __attribute__((preserve_access_index));
struct nothere { int z; } __attribute__((preserve_access_index));
enum color { RED = 7, GREEN = 8, BLUE = 9 };
long long out[16];
SEC("xdp") int prog(void *ctx)
{
	struct bar *b = (void *)out;
	struct nothere *n = (void *)out;
	out[0] = bpf_core_field_offset(b->x);
	out[1] = __builtin_preserve_field_info(b->bits, BPF_FIELD_BYTE_OFFSET);
	out[2] = __builtin_preserve_field_info(b->bits, BPF_FIELD_LSHIFT_U64);
	out[3] = __builtin_preserve_field_info(b->bits, BPF_FIELD_RSHIFT_U64);
	out[4] = __builtin_preserve_field_info(b->sbits, BPF_FIELD_LSHIFT_U64);
	out[5] = __builtin_preserve_field_info(b->sbits, BPF_FIELD_RSHIFT_U64);
	out[6] = __builtin_preserve_field_info(b->sbits, BPF_FIELD_SIGNED);
	out[7] = bpf_core_type_size(struct bar);
	out[8] = bpf_core_enum_value(enum color, GREEN);
	out[9] = bpf_core_enum_value_exists(enum color, BLUE);
	out[10] = bpf_core_type_exists(struct nothere);
	out[11] = n->z;
	return 2;
}
char LICENSE[] SEC("license") = "GPL";
"""

AMBIGUOUS = """
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
struct foo { int x; } __attribute__((preserve_access_index));
long long out;
SEC("xdp") int prog(void *ctx) { struct foo *f = (void *)&out; out = f->x; return 2; }
char LICENSE[] SEC("license") = "GPL";
"""


@pytest.fixture(scope="module")
def small_kernel(compile_bpf, tmp_path_factory) -> Target:
    obj = compile_bpf(KERNEL, name="kernel")
    btf = read_elf(obj.read_bytes()).section(".BTF")
    path = tmp_path_factory.mktemp("kbtf") / "small.btf"
    path.write_bytes(btf.data)
    return Target.for_version("6.1", btf_path=str(path))


def _pcs(insns):
    pc = 0
    for insn in insns:
        yield pc, insn
        pc += insn.slots


def _by_slot(spec):
    return {(r.slot, r.kind): r for r in spec.core.results}


def test_relocations_against_a_known_kernel(compile_bpf, small_kernel):
    spec = load_object_file(compile_bpf(PROGRAM, name="prog"), target=small_kernel)
    res = {f"{r.type_name}.{r.kind}:{r.access}": r for r in spec.core.results}
    assert spec.core.btf == small_kernel.btf_path
    assert res["bar.field_byte_offset:0:0"].new == 8                 # moved by the target's `pad`
    assert res["bar.field_byte_offset:0:1"].new == 12                # bitfield: its 4-byte unit
    assert res["bar.field_lshift_u64:0:1"].new == 61 and res["bar.field_rshift_u64:0:1"].new == 61
    assert res["bar.field_lshift_u64:0:2"].new == 56 and res["bar.field_rshift_u64:0:2"].new == 59
    assert res["bar.field_signed:0:2"].new == 1
    assert res["bar.type_size:0"].new == 16
    assert res["color.enumval_value:1"].new == (-2) % (1 << 64)       # an s32 enumerator, sign-extended
    assert res["color.enumval_exists:2"].new == 0
    assert res["nothere.type_exists:0"].new == 0
    poisoned = [r for r in spec.core.results if r.poisoned]
    assert [(r.kind, r.type_name) for r in poisoned] == [("field_byte_offset", "nothere")]
    prog = spec.programs[0]
    pc = 0
    for insn in prog.insns:
        if pc == poisoned[0].slot:
            assert insn.is_helper_call and insn.imm == POISON_IMM
        pc += insn.slots


def test_disagreeing_flavours_are_an_error(compile_bpf, small_kernel):
    with pytest.raises(ObjectError, match="field offset ambiguity: "):
        load_object_file(compile_bpf(AMBIGUOUS, name="amb"), target=small_kernel)


def test_without_target_btf_the_compiled_offsets_stay(compile_bpf, capsys):
    obj = compile_bpf(PROGRAM, name="prog")
    spec = load_object_file(obj, target=Target.default())
    assert spec.core.btf is None and spec.core.results == () and spec.core.unapplied == 12
    from bpfbuild.isa.codec import decode
    compiled = decode(read_elf(obj.read_bytes()).section("xdp").data)
    slots = {r.slot for r in spec.btf_ext.core_relos["xdp"]}
    pcs = dict(_pcs(spec.programs[0].insns))
    by_pc = dict(_pcs(compiled))
    assert all(pcs[s] == by_pc[s] for s in slots)
    assert cli_main(["show", str(obj)]) == 0   # the CLI's default target is the running kernel
    capsys.readouterr()


def test_essential_names():
    assert essential_name("task_struct___v2") == "task_struct"
    assert essential_name("a___b___c") == "a___b"
    assert essential_name("x____y") == "x____y"      # four underscores: no flavour
    assert essential_name("___x") == "___x"


@pytest.fixture(scope="module")
def vmlinux() -> Spec:
    if not os.access(VMLINUX_BTF, os.R_OK):
        pytest.skip(f"{VMLINUX_BTF} not readable")
    return Spec.from_file(VMLINUX_BTF)


def _member(btf: Spec, struct: str, name: str):
    t = btf.type(btf.find_one(struct, Struct))
    return next(m for m in t.members if m.name == name)


@pytest.mark.parametrize("cc", ["default", "clang>=18"])
def test_running_kernel_relocations(compile_bpf, vmlinux, cc):
    spec = load_object_file(compile_bpf("core_reads.bpf.c", cc=cc), target=Target.running())
    assert spec.core.btf == VMLINUX_BTF
    res = {(r.section.split("_")[-1], r.kind, r.type_name, r.access): r for r in spec.core.results}
    getppid = {k[1:]: v for k, v in res.items() if k[0] == "getppid"}
    task_id = vmlinux.find_one("task_struct", Struct)
    rp = _member(vmlinux, "task_struct", "real_parent")
    assert any(r.new == rp.byte_offset for (kind, name, _), r in getppid.items()
               if kind == "field_byte_offset" and name == "task_struct___mine")
    assert getppid[("type_id_target", "task_struct", "0")].new == task_id
    assert getppid[("type_size", "task_struct", "0")].new == vmlinux.type(task_id).size
    # a flavour exists when its essential name does: type existence does not look at members
    assert getppid[("type_exists", "task_struct___future", "0")].new == 1
    assert getppid[("field_exists", "task_struct___future", "0:0")].new == 0
    bit = _member(vmlinux, "task_struct", "sched_reset_on_fork")
    size = vmlinux.type(vmlinux.resolve(bit.type).id).size
    unit = bit.bit_offset // 8 // size * size
    byte_offsets = [r.new for (kind, name, _), r in getppid.items()
                    if kind == "field_byte_offset" and name == "task_struct"]
    assert unit in byte_offsets
    assert getppid[next(k for k in getppid if k[0] == "field_lshift_u64")].new == \
        64 - (bit.bit_offset + bit.bitfield_size - unit * 8)
    if cc == "clang>=18":
        assert getppid[("type_matches", "task_struct___mine", "0")].new == 1
    dead = [r for r in spec.core.results if r.poisoned]
    assert len(dead) == 1 and dead[0].section.endswith("getpid")


def test_show_says_how_many_relocations_against_which_btf(compile_bpf, vmlinux, capsys):
    obj = compile_bpf("core_reads.bpf.c")
    assert cli_main(["show", str(obj)]) == 0
    out = capsys.readouterr().out
    n = len(load_object_file(obj).core.results) - 1
    assert f"core: {n} relocations applied against {VMLINUX_BTF}, 1 poisoned" in out


def test_compat_relations_on_kernel_types(vmlinux):
    tid = vmlinux.find_one("task_struct", Struct)
    assert types_are_compat(vmlinux, tid, vmlinux, tid) == 1
    assert types_match(vmlinux, tid, vmlinux, tid) == 1
    other = vmlinux.find_one("mm_struct", Struct)
    assert types_match(vmlinux, tid, vmlinux, other) == 0


@pytest.fixture(scope="module")
def fuzz_subject(compile_bpf, small_kernel):
    obj = compile_bpf(PROGRAM, name="prog")
    spec = load_object_file(obj, target=small_kernel)
    return spec.btf, small_kernel.btf


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(type_id=st.integers(0, 80), access=st.lists(st.integers(0, 6), min_size=1, max_size=6),
       kind=st.sampled_from(list(CoreReloKind)))
def test_fuzz_relocation_reader(fuzz_subject, type_id, access, kind):
    """Any relocation record over any local type either resolves or fails with a message."""
    local, targ = fuzz_subject
    if type_id >= len(local):
        return
    relo = CoreRelo(0, type_id, ":".join(map(str, access)), kind)
    try:
        res, _ = resolve_relo(local, relo, targ, Candidates(targ))
    except _Fail as exc:
        assert str(exc)
        return
    assert 0 <= res.new % (1 << 64) < 1 << 64


@pytest.fixture(scope="module")
def core_object(compile_bpf, vmlinux):
    """core_reads' bytes, where its CO-RE records lie in them, and one shared running target."""
    import struct

    data = compile_bpf("core_reads.bpf.c").read_bytes()
    ext = read_elf(data).section(".BTF.ext").data
    at = data.find(ext)
    hdr_len = struct.unpack_from("<I", ext, 4)[0]
    cr_off, cr_len = struct.unpack_from("<II", ext, 24)
    start = at + hdr_len + cr_off
    return data, start, start + cr_len, Target.running()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_fuzz_core_records_in_an_object(core_object, data):
    """Corrupted CO-RE records (type ids, access strings, kinds, offsets) give one ObjectError
    line or a relocated object, never another exception."""
    from bpfbuild.errors import BpfBuildError
    from bpfbuild.obj.loader import load_object

    raw, start, end, target = core_object
    buf = bytearray(raw)
    for _ in range(data.draw(st.integers(1, 4))):
        pos = data.draw(st.integers(start, end - 1))
        buf[pos] = data.draw(st.integers(0, 255))
    try:
        spec = load_object(bytes(buf), name="core_reads", target=target)
    except BpfBuildError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    assert spec.core is not None

"""Honesty: what the verifier does not model gives the verdict ``unknown`` with the reason,
never a confident ``rejected`` or ``accepted``; ``SEC("?...")`` programs are verified as their type."""

from __future__ import annotations

import json
import subprocess

import pytest

from bpfbuild.abi.helpers import helper_name
from bpfbuild.abi.progtypes import ProgType, classify_section
from bpfbuild.abi.protos import BpfFunc
from bpfbuild.cli import main
from bpfbuild.isa import assemble
from bpfbuild.isa.instruction import Instruction
from bpfbuild.obj.loader import load_object_file
from bpfbuild.verifier import verify, verify_insns

# A map-element iterator reading through its context: the kernel types it (key and value
# buffers that may be NULL); this verifier does not model those contexts, so it must not say
# "rejected".
TP_BTF = r"""
typedef unsigned long long __u64;
struct task_struct { int pid; } __attribute__((preserve_access_index));
#define SEC(n) __attribute__((section(n), used))
SEC("iter/bpf_map_elem")
int on_exec(__u64 *ctx)
{
	struct task_struct *p = (struct task_struct *)ctx[0];
	return p->pid;
}
SEC("?xdp")
int off_by_default(void *ctx) { return 2; }
char LICENSE[] SEC("license") = "GPL";
"""


@pytest.fixture
def tp_btf_object(bpf_cc, tmp_path):
    src = tmp_path / "tp.bpf.c"
    src.write_text(TP_BTF)
    obj = tmp_path / "tp.bpf.o"
    bpf_cc.compile(src, obj)
    return obj


def test_untyped_tracing_context_is_unknown_not_rejected(tp_btf_object):
    spec = load_object_file(tp_btf_object)
    report = verify(spec, spec.program("on_exec"))
    assert report.verdict == "unknown"
    assert not report.rejected and report.unknown
    assert any("context of" in n and "bpf_map_elem" in n for n in report.notes)
    assert report.summary.startswith("unknown (not modelled: ")


def test_cli_exit_3_and_json_for_unknown(tp_btf_object, capsys):
    assert main(["verify", str(tp_btf_object)]) == 3
    out = capsys.readouterr().out
    assert "prog 'on_exec' (iter/bpf_map_elem): unknown (not modelled: " in out
    assert ": error: " not in out                      # what the partial model found is a warning
    assert main(["verify", str(tp_btf_object), "--json"]) == 3
    doc = json.loads(capsys.readouterr().out)
    progs = {p["name"]: p for p in doc["programs"]}
    assert progs["on_exec"]["verdict"] == "unknown" and progs["on_exec"]["errors"] == []
    assert progs["on_exec"]["not_modelled"]
    assert progs["off_by_default"]["verdict"] == "accepted"


def test_autoload_off_section_is_its_program_type(tp_btf_object):
    info = classify_section("?xdp")
    assert info is not None and info.prog_type is ProgType.XDP and not info.autoload
    assert info.section == "xdp"
    plain = classify_section("xdp")
    assert plain is not None and plain.autoload
    spec = load_object_file(tp_btf_object)
    assert verify(spec, spec.program("off_by_default")).verdict == "accepted"


def test_kfunc_call_is_unknown():
    # call a kernel function (src_reg 2, a BTF id) and use its result as a pointer: without
    # kfunc prototypes r0 is a scalar, which would be a false rejection
    insns = [Instruction(0x85, 0, 2, 0, 1234), *assemble("r0 = *(u32 *)(r0 + 0)\nexit\n")]
    report = verify_insns(insns, ProgType.SCHED_CLS)
    assert report.verdict == "unknown", report
    assert any("kfunc" in n for n in report.notes)


def test_helper_names_are_the_uapi_ones():
    """The ids the verifier's rules name (sync callbacks: bpf_find_vma is 180, not 201)."""
    for func in BpfFunc:
        if func:
            assert helper_name(func) == f"bpf_{func.name}", func


TWO = r"""
#define SEC(n) __attribute__((section(n), used))
SEC("xdp")
int first(void *ctx) { return 2; }
SEC("tc")
int second(void *ctx) { return 0; }
char LICENSE[] SEC("license") = "GPL";
"""


@pytest.fixture
def bad_register_object(bpf_cc, tmp_path):
    """Two programs; the first's first instruction names r11 (patched in after compiling)."""
    from elftools.elf.elffile import ELFFile

    src = tmp_path / "two.bpf.c"
    src.write_text(TWO)
    obj = tmp_path / "two.bpf.o"
    bpf_cc.compile(src, obj)
    with open(obj, "rb") as fh:
        offset = ELFFile(fh).get_section_by_name("xdp")["sh_offset"]
    data = bytearray(obj.read_bytes())
    data[offset + 1] = (data[offset + 1] & 0xF0) | 11
    obj.write_bytes(data)
    return obj


def test_invalid_instruction_rejects_its_program_only(bad_register_object, capsys):
    spec = load_object_file(bad_register_object)
    first, second = spec.program("first"), spec.program("second")
    assert "r11" in first.invalid and not second.invalid
    report = verify(spec, first)
    assert report.verdict == "rejected"
    assert [d.message for d in report.errors] == ["R11 is invalid"]
    assert verify(spec, second).verdict == "accepted"
    assert main(["verify", str(bad_register_object)]) == 1
    assert "prog 'second' (tc): accepted" in capsys.readouterr().out


@pytest.mark.kernel
def test_invalid_instruction_as_the_kernel_says(bad_register_object, corpus_lib):
    labels = corpus_lib.kernel_labels(bad_register_object)
    assert labels["second"]["verdict"] == "accepted"
    assert labels["first"]["verdict"] == "rejected" and labels["first"]["message"] == "R11 is invalid"


def test_kfunc_outside_the_table_is_unknown():
    """A kfunc the target's BTF has but bpfbuild's flag table does not (a key or stream one, a
    dynptr one): its rules are unknown, so is the verdict -- never a guess."""
    from bpfbuild.btf.types import Func
    from bpfbuild.obj.loader import default_target

    btf = default_target().btf_or_none()
    if btf is None:
        pytest.skip("the default target has no readable BTF")
    for name in ("bpf_stream_vprintk_impl", "bpf_lookup_system_key", "bpf_dynptr_memset"):
        ids = btf.find(name, Func)
        if not ids:
            continue
        insns = [Instruction(0x85, 0, 2, 0, ids[0]), *assemble("r0 = 0\nexit\n")]
        report = verify_insns(insns, ProgType.SCHED_CLS)
        assert report.verdict == "unknown", (name, report)
        assert any(name in n for n in report.notes), report.notes
        return
    pytest.skip("the target's BTF has none of the sample kfuncs")

"""Typed ``__ksym`` variables against a made-up kernel: its BTF compiled from C (per-CPU variables in a
``.data..percpu`` section, others in ``.bss``) and its kallsyms a file, so the cases Linux 6.18's
``__check_pseudo_btf_id`` tells apart are checked on any machine (the running kernel may list no data
symbols in kallsyms at all, and then refuses every typed variable; the ks_* corpus asks it)."""

from __future__ import annotations

import pytest

from bpfbuild.abi.progtypes import ProgType
from bpfbuild.abi.target import Kconfig, Target
from bpfbuild.isa.fields import PseudoLoad
from bpfbuild.isa.instruction import Instruction
from bpfbuild.obj.elf import read_elf
from bpfbuild.obj.loader import load_object_file
from bpfbuild.verifier import verify, verify_insns

KERNEL = """
struct rq { int cpu; int nr_running; };
struct rq runqueues __attribute__((section(".data..percpu")));
int cpu_number __attribute__((section(".data..percpu")));
struct rq global_rq;
long jiffies_array[4];
long not_exported;
int kernel_func(int x) { return x + (int)not_exported; }
"""

KALLSYMS = """\
ffffffff81000000 T kernel_func
0000000000001000 D runqueues
0000000000002000 D cpu_number
ffffffff82000000 B global_rq
ffffffff82001000 B jiffies_array
"""

PROGRAMS = """
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#define __ksym __attribute__((section(".ksyms")))
struct rq { int cpu; };
extern const struct rq runqueues __ksym;
extern const int cpu_number __ksym;
extern const struct rq global_rq __ksym;
extern const long jiffies_array[4] __ksym;
extern const long not_exported __ksym;

SEC("tracepoint/sched/sched_switch") int struct_var(void *ctx) { return global_rq.cpu; }
SEC("tracepoint/sched/sched_switch") int array_var(void *ctx) { return jiffies_array[3]; }
SEC("tracepoint/sched/sched_switch") int array_var_past_end(void *ctx) { return ((volatile const long *)jiffies_array)[4]; }
SEC("tracepoint/sched/sched_switch") int array_var_write(void *ctx) { *(volatile long *)jiffies_array = 1; return 0; }
SEC("tracepoint/sched/sched_switch") int percpu_struct(void *ctx) { return runqueues.cpu; }
SEC("tracepoint/sched/sched_switch") int percpu_int(void *ctx) { return cpu_number; }
SEC("tracepoint/sched/sched_switch") int no_address(void *ctx) { return not_exported; }
SEC("tracepoint/sched/sched_switch") int this_cpu_struct(void *ctx)
{ const struct rq *rq = bpf_this_cpu_ptr(&runqueues); return rq->cpu; }
SEC("tracepoint/sched/sched_switch") int this_cpu_int(void *ctx)
{ const int *n = bpf_this_cpu_ptr(&cpu_number); return *n; }
SEC("tracepoint/sched/sched_switch") int this_cpu_int_write(void *ctx)
{ volatile int *n = (volatile int *)bpf_this_cpu_ptr(&cpu_number); *n = 1; return 0; }
SEC("tracepoint/sched/sched_switch") int per_cpu_checked(void *ctx)
{ const struct rq *rq = bpf_per_cpu_ptr(&runqueues, 1); return rq ? rq->cpu : 0; }
SEC("tracepoint/sched/sched_switch") int per_cpu_unchecked(void *ctx)
{ const struct rq *rq = bpf_per_cpu_ptr(&runqueues, 1); return rq->cpu; }
SEC("tracepoint/sched/sched_switch") int this_cpu_not_percpu(void *ctx)
{ const struct rq *rq = bpf_this_cpu_ptr(&global_rq); return rq->cpu; }
char LICENSE[] SEC("license") = "GPL";
"""


@pytest.fixture(scope="module")
def kernel(bpf_cc, tmp_path_factory):
    d = tmp_path_factory.mktemp("ksym")
    (d / "kernel.c").write_text(KERNEL)
    obj = bpf_cc.compile(d / "kernel.c", d / "kernel.o")
    (d / "vmlinux").write_bytes(read_elf(obj.read_bytes()).section(".BTF").data)
    (d / "kallsyms").write_text(KALLSYMS)
    (d / "progs.bpf.c").write_text(PROGRAMS)
    target = Target("ksym", None, (6, 18, 0), "x86", Kconfig({}), str(d / "vmlinux"), str(d / "kallsyms"))
    spec = load_object_file(bpf_cc.compile(d / "progs.bpf.c", d / "progs.bpf.o"), target=target)
    return target, spec


def _report(kernel, name):
    target, spec = kernel
    return verify(spec, spec.program(name), target=target, log_level=2)


def test_struct_variable_is_a_btf_pointer(kernel):
    r = _report(kernel, "struct_var")
    assert r.verdict == "accepted", (r.errors, r.notes)
    assert "ptr_rq(" in r.log


def test_other_variable_is_readonly_memory_of_its_size(kernel):
    assert _report(kernel, "array_var").verdict == "accepted"
    r = _report(kernel, "array_var_past_end")
    (e,) = r.errors
    assert e.message.endswith("min value is outside of the allowed memory range")
    assert "invalid access to memory, mem_size=32 off=32 size=8" in r.log
    (e,) = _report(kernel, "array_var_write").errors
    assert "cannot write into rdonly_mem" in e.message


@pytest.mark.parametrize(("name", "tname"), [("percpu_struct", "rq"), ("percpu_int", "int")])
def test_percpu_variable_cannot_be_read_directly(kernel, name, tname):
    (e,) = _report(kernel, name).errors
    assert e.message == f"R1 is ptr_{tname} access percpu memory: off=0"


def test_symbol_without_address_is_refused(kernel):
    r = _report(kernel, "no_address")
    assert r.verdict == "rejected"
    assert r.errors[0].message == "ldimm64 failed to find the address for kernel symbol 'not_exported'."


def test_invalid_ids_and_fds(kernel):
    target, _ = kernel
    n = len(target.btf_or_none())

    def first_error(imm, hi=0):
        ld = Instruction(0x18, 1, PseudoLoad.BTF_ID, 0, imm, hi)
        return verify_insns([ld, Instruction(0xB7, 0, 0, 0, 0), Instruction(0x95, 0, 0, 0, 0)],
                            ProgType.TRACEPOINT, target=target).errors[0].message

    assert first_error(n + 5) == f"ldimm64 insn specifies invalid btf_id {n + 5}."
    assert first_error(0) == "pseudo btf_id 0 in ldimm64 isn't KIND_VAR or KIND_FUNC"
    assert first_error(1, hi=2) == "invalid module BTF object FD specified."


@pytest.mark.parametrize("name", ["this_cpu_struct", "this_cpu_int", "per_cpu_checked"])
def test_cpu_copy_of_percpu_variable(kernel, name):
    """bpf_this_cpu_ptr/bpf_per_cpu_ptr give one CPU's copy: a struct as a BTF pointer, an int as
    read-only memory of its size (per_cpu_ptr's may be NULL)."""
    r = _report(kernel, name)
    assert r.verdict == "accepted", (r.errors, r.notes)


def test_cpu_copy_misuse_is_refused(kernel):
    (e,) = _report(kernel, "this_cpu_int_write").errors
    assert "cannot write into rdonly_mem" in e.message
    (e,) = _report(kernel, "per_cpu_unchecked").errors
    assert e.message == "R0 invalid mem access 'ptr_or_null_'"
    (e,) = _report(kernel, "this_cpu_not_percpu").errors
    assert e.message == "R1 type=ptr_ expected=percpu_ptr_, percpu_rcu_ptr_, percpu_trusted_ptr_"

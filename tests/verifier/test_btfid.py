"""Tracing contexts typed from the target kernel's BTF where the corpus cannot hold them.

fentry/fexit/fmod_ret/lsm loads are refused with EPERM before verification on some kernel
builds (this project's reference machine among them), so their kernel labels cannot be
recorded; these tests hold the rules of ``btf_ctx_access`` (Linux 6.18) against the running
kernel's BTF instead: which argument slots exist, which pointers are trusted, what the
return-value slot gives, and the loader's error for an attach target the BTF lacks.
"""

from __future__ import annotations

import pytest

from bpfbuild.abi.target import Target
from bpfbuild.obj.loader import load_object_file
from bpfbuild.verifier import verify

SRC = r"""
typedef unsigned long long __u64;
#define SEC(n) __attribute__((section(n), used))
struct filename { const char *name; } __attribute__((preserve_access_index));
struct file { unsigned int f_flags; } __attribute__((preserve_access_index));
__u64 seen;

SEC("fentry/do_unlinkat")
int fentry_arg(__u64 *ctx)
{
	struct filename *name = (struct filename *)ctx[1];
	seen = (__u64)name->name;
	return 0;
}

SEC("fexit/do_unlinkat")
int fexit_ret(__u64 *ctx)
{
	seen = ctx[2];            /* do_unlinkat(dfd, name) returns int: the slot after the args */
	return 0;
}

SEC("fentry/do_unlinkat")
int fentry_no_ret(__u64 *ctx)
{
	seen = ctx[2];            /* fentry has no return-value slot */
	return 0;
}

SEC("lsm/file_open")
int lsm_file(__u64 *ctx)
{
	struct file *f = (struct file *)ctx[0];
	seen = f->f_flags;
	return 0;
}

SEC("lsm/file_open")
int lsm_bad_ret(__u64 *ctx)
{
	return 1;                 /* int hooks return 0 or -errno */
}

SEC("lsm/file_open")
int lsm_prev_ret(__u64 *ctx)
{
	return ctx[1];            /* the previous program's verdict: within [-4095, 0] */
}

SEC("tp_btf/no_such_tracepoint_anywhere")
int missing(__u64 *ctx)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
"""


@pytest.fixture(scope="module")
def spec(bpf_cc, tmp_path_factory):
    target = Target.running()
    btf = target.btf_or_none()
    if btf is None or not btf.find("do_unlinkat") or not btf.find("bpf_lsm_file_open"):
        pytest.skip("the running kernel's BTF lacks do_unlinkat or bpf_lsm_file_open")
    out = tmp_path_factory.mktemp("btfid")
    src = out / "t.bpf.c"
    src.write_text(SRC)
    obj = out / "t.bpf.o"
    res = bpf_cc.run(src, obj)
    assert res.returncode == 0, res.stderr
    return load_object_file(obj)


def test_fentry_pointer_argument_is_typed_not_trusted(spec):
    report = verify(spec, spec.program("fentry_arg"), log_level=2)
    assert report.verdict == "accepted", report.errors
    assert "func 'do_unlinkat' arg1 has btf_id " in report.log
    assert "=ptr_filename()" in report.log and "trusted_ptr_filename" not in report.log


def test_fexit_reads_the_return_value_slot(spec):
    report = verify(spec, spec.program("fexit_ret"))
    assert report.verdict == "accepted", report.errors


def test_fentry_has_no_return_value_slot(spec):
    report = verify(spec, spec.program("fentry_no_ret"))
    assert report.verdict == "rejected"
    (diag,) = report.errors
    assert diag.message == "invalid bpf_context access off=16 size=8"
    assert diag.detail == ("func 'do_unlinkat' doesn't have 3-th argument",)


def test_lsm_hook_arguments_are_trusted(spec):
    report = verify(spec, spec.program("lsm_file"), log_level=2)
    assert report.verdict == "accepted", report.errors
    assert "trusted_ptr_file()" in report.log


def test_lsm_int_hook_returns_zero_or_errno(spec):
    report = verify(spec, spec.program("lsm_bad_ret"))
    assert report.verdict == "rejected"
    assert report.errors[0].message == "At program exit the register R0 has smin=1 smax=1 should have been in [-4095, 0]"
    assert verify(spec, spec.program("lsm_prev_ret")).verdict == "accepted"


def test_attach_target_missing_from_the_btf_is_left_to_the_loader(spec):
    # a placeholder a loader retargets (bpf_program__set_attach_target), or a function this
    # kernel lacks: libbpf fails the load only if the loader does not retarget it
    report = verify(spec, spec.program("missing"))
    assert report.verdict == "unknown"
    (note,) = report.notes
    assert "btf_trace_no_such_tracepoint_anywhere" in note and "bpf_program__set_attach_target" in note

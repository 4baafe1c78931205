"""The kfunc table (abi/kfuncs.py): its shape, and who may call what, checked against the kernel."""

from __future__ import annotations

import pytest

from bpfbuild.abi.kfuncs import KF, Hook, kfunc_allowed, kfunc_info, kfuncs, prog_type_hook
from bpfbuild.abi.progtypes import ProgType
from bpfbuild.isa import assemble, encode
from bpfbuild.isa.instruction import Instruction


def test_flags_follow_the_kernels_conventions():
    table = kfuncs()
    assert len(table) > 100
    for kf in table.values():
        iters = kf.flags & (KF.ITER_NEW | KF.ITER_NEXT | KF.ITER_DESTROY)
        assert bin(int(iters)).count("1") <= 1, kf.name
        if kf.flags & KF.ITER_NEXT:
            assert kf.flags & KF.RET_NULL, kf.name        # the end of an iteration is NULL
        if kf.flags & KF.ACQUIRE:
            assert not kf.flags & KF.RELEASE, kf.name
        assert kf.hooks, kf.name
    assert kfunc_info("bpf_iter_num_new").flags == KF.ITER_NEW
    assert kfunc_info("bpf_task_from_pid").flags == KF.ACQUIRE | KF.RET_NULL


def test_program_types_share_hooks_as_the_kernel_maps_them():
    assert prog_type_hook(ProgType.TRACEPOINT) is Hook.TRACING
    assert prog_type_hook(ProgType.SOCK_OPS) is Hook.CGROUP
    assert prog_type_hook(ProgType.SK_LOOKUP) is None
    assert kfunc_allowed("bpf_task_from_pid", ProgType.TRACEPOINT) is True
    assert kfunc_allowed("bpf_task_from_pid", ProgType.SOCKET_FILTER) is False
    assert kfunc_allowed("bpf_rcu_read_lock", ProgType.SK_LOOKUP) is True       # the common set
    assert kfunc_allowed("no_such_kfunc", ProgType.XDP) is None


_TYPES = (ProgType.SOCKET_FILTER, ProgType.KPROBE, ProgType.SCHED_CLS, ProgType.SCHED_ACT, ProgType.XDP,
          ProgType.TRACEPOINT, ProgType.CGROUP_SKB, ProgType.SK_SKB, ProgType.CGROUP_SOCK)
_SAMPLE = ("bpf_task_from_pid", "bpf_task_release", "bpf_cgroup_from_id", "bpf_iter_num_new", "bpf_rcu_read_lock",
           "bpf_cpumask_create", "bpf_obj_drop_impl", "bpf_copy_from_user_str")


@pytest.fixture(scope="module")
def vmlinux_btf():
    from bpfbuild.btf.spec import Spec
    from bpfbuild.errors import BpfBuildError

    try:
        return Spec.from_file("/sys/kernel/btf/vmlinux")
    except (OSError, BpfBuildError) as exc:
        pytest.skip(f"no readable vmlinux BTF: {exc}")


@pytest.mark.kernel
@pytest.mark.parametrize("name", _SAMPLE)
def test_who_may_call_a_kfunc_matches_the_kernel(name, vmlinux_btf):
    """A call the kernel does not allow fails first with "calling kernel function X is not
    allowed" (before its arguments are looked at): that and the table must agree."""
    from bpfbuild.btf.types import Func
    from bpfbuild.kernel import verdict_insns

    ids = vmlinux_btf.find(name, Func)
    if not ids:
        pytest.skip(f"the running kernel has no kfunc {name} (configuration)")
    code = encode([Instruction(0x85, 0, 2, 0, ids[0]), *assemble("r0 = 0\nexit\n")])
    for prog_type in _TYPES:
        v = verdict_insns(code, int(prog_type))
        refused = f"calling kernel function {name} is not allowed" in v.log
        assert refused == (not kfunc_allowed(name, prog_type)), (name, prog_type.name, v.error_line)

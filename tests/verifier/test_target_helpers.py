"""Helpers a kernel may refuse although upstream offers them: a locked-down kernel refuses
bpf_probe_write_user (integrity) and the kernel-memory reads (confidentiality); a kernel built
without CONFIG_BPF_KPROBE_OVERRIDE refuses bpf_override_return.  The verdict follows the target."""

from __future__ import annotations

import pytest

from bpfbuild.abi.progtypes import ProgType
from bpfbuild.abi.target import Kconfig, Target
from bpfbuild.isa import assemble, encode
from bpfbuild.verifier import verify_insns

WRITE_USER = encode(assemble("""
r1 = 0
*(u64 *)(r10 - 8) = r1
r2 = r10
r2 += -8
r3 = 8
call 36
r0 = 0
exit
"""))

OVERRIDE = encode(assemble("""
r2 = 0
call 58
r0 = 0
exit
"""))

UPSTREAM = Target("6.18", None, (6, 18, 0), "x86", Kconfig({"CONFIG_BPF_KPROBE_OVERRIDE": "y"}))
LOCKED = Target("6.18", None, (6, 18, 0), "x86", Kconfig({
    "CONFIG_SECURITY_LOCKDOWN_LSM": "y", "CONFIG_LOCK_DOWN_KERNEL_FORCE_INTEGRITY": "y"}))


@pytest.mark.parametrize("prog_type", [ProgType.KPROBE, ProgType.TRACEPOINT, ProgType.RAW_TRACEPOINT])
def test_probe_write_user_follows_the_targets_lockdown(prog_type: ProgType) -> None:
    assert verify_insns(WRITE_USER, prog_type, target=UPSTREAM).accepted
    report = verify_insns(WRITE_USER, prog_type, target=LOCKED)
    assert not report.accepted
    assert report.errors[0].message == "program of this type cannot use helper bpf_probe_write_user#36"


def test_override_return_needs_the_build_option() -> None:
    assert verify_insns(OVERRIDE, ProgType.KPROBE, target=UPSTREAM).accepted
    assert not verify_insns(OVERRIDE, ProgType.KPROBE, target=LOCKED).accepted
    assert not verify_insns(OVERRIDE, ProgType.TRACEPOINT, target=UPSTREAM).accepted   # kprobes only


@pytest.mark.kernel
@pytest.mark.parametrize(("code", "prog_type"), [(WRITE_USER, "kprobe"), (WRITE_USER, "tracepoint"),
                                                 (OVERRIDE, "kprobe")], ids=["write_user-kprobe",
                                                                             "write_user-tp", "override"])
def test_the_running_kernels_verdict(code: bytes, prog_type: str) -> None:
    """Whatever this kernel's lockdown and build: our verdict for it is its own."""
    from bpfbuild.kernel import verdict_insns

    kernel = verdict_insns(code, prog_type)
    ours = verify_insns(code, ProgType[prog_type.upper()], target=Target.running())
    assert ours.accepted == kernel.accepted, (ours.errors, kernel.error_line)
    if not kernel.accepted:
        assert ours.errors[0].message == kernel.error_line

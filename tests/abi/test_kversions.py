"""The per-program-type helper releases and the map-field rules of bpfbuild.abi.kversions: the
table is well formed, says what the kernel's history says for the helpers users ask about, and
agrees with the running kernel for every pair it dates at or before this kernel's release."""

from __future__ import annotations

import pytest

from bpfbuild.abi.helpers import helper_id
from bpfbuild.abi.kversions import HELPER_PROG_TYPE_VERSIONS, KernelFeatures, helper_since, helper_since_for, \
    map_field_since, parse_version, prog_type_since
from bpfbuild.abi.progtypes import ProgType

# pairs whose kernel rule depends on the attach type the probe does not use: bpf_{get,set}sockopt
# in cgroup sockopt programs only for BPF_CGROUP_SETSOCKOPT (the probe loads getsockopt hooks)
_ATTACH_DEPENDENT = {("getsockopt", "CGROUP_SOCKOPT"), ("setsockopt", "CGROUP_SOCKOPT")}


def test_the_table_names_known_helpers_and_program_types() -> None:
    names = {p.name for p in ProgType if p.value}
    assert len(HELPER_PROG_TYPE_VERSIONS) >= 848
    for (helper, prog_type), release in HELPER_PROG_TYPE_VERSIONS.items():
        assert helper_id(helper) is not None, helper
        assert prog_type in names, prog_type
        own = helper_since(helper)
        # a row is a release later than the helper's own: the type reached it afterwards
        assert own is not None and release > own, (helper, prog_type, release, own)
        assert (4, 12) < release <= (6, 18)


@pytest.mark.parametrize(("helper", "prog_type", "since"), [
    # bpf_get_socket_cookie (4.12): socket filters, tc, cgroup skb from the start; then each type
    ("get_socket_cookie", "SOCKET_FILTER", "4.12"), ("get_socket_cookie", "SCHED_CLS", "4.12"),
    ("get_socket_cookie", "SOCK_OPS", "4.19"), ("get_socket_cookie", "CGROUP_SOCK_ADDR", "4.19"),
    ("get_socket_cookie", "CGROUP_SOCK", "5.7"), ("get_socket_cookie", "TRACING", "5.12"),
    ("get_socket_cookie", "LSM", "5.12"), ("get_socket_cookie", "SK_REUSEPORT", "5.14"),
    # bpf_get_netns_cookie (5.7, cgroup sock/sock_addr)
    ("get_netns_cookie", "CGROUP_SOCK_ADDR", "5.7"), ("get_netns_cookie", "SOCK_OPS", "5.15"),
    ("get_netns_cookie", "SK_MSG", "5.15"), ("get_netns_cookie", "SCHED_CLS", "6.13"),
    ("get_netns_cookie", "SOCKET_FILTER", "6.15"), ("get_netns_cookie", "CGROUP_SKB", "6.15"),
    # local storage, current task, coarse time
    ("sk_storage_get", "SCHED_CLS", "5.2"), ("sk_storage_get", "SOCK_OPS", "5.3"),
    ("sk_storage_get", "LSM", "5.10"), ("sk_storage_get", "TRACING", "5.11"),
    ("get_current_task_btf", "TRACING", "5.11"), ("get_current_task_btf", "XDP", "5.15"),
    ("ktime_get_coarse_ns", "XDP", "5.11"), ("ktime_get_coarse_ns", "KPROBE", "5.11"),
    # bpf_get_func_ip came to fentry/fexit and kprobe programs in one release
    ("get_func_ip", "TRACING", "5.15"), ("get_func_ip", "KPROBE", "5.15"),
    # spin locks: the helper reached LSM in 5.11 and fentry/fexit (bpf_base_func_proto) in 5.15
    ("spin_lock", "SCHED_CLS", "5.1"), ("spin_lock", "LSM", "5.11"), ("spin_lock", "TRACING", "5.15"),
    # timers came with bpf_base_func_proto to every type at once
    ("timer_init", "TRACING", "5.15"), ("timer_init", "XDP", "5.15"),
    # ebpf-docs' tagged rows
    ("get_current_pid_tgid", "XDP", "6.10"), ("get_current_cgroup_id", "SCHED_CLS", "6.4"),
    ("setsockopt", "CGROUP_SOCK_ADDR", "5.8"), ("setsockopt", "CGROUP_SOCKOPT", "5.15"),
    ("setsockopt", "LSM", "6.0"), ("get_attach_cookie", "TRACING", "5.19"),
    ("skb_change_head", "SCHED_CLS", "5.8"),
    # a helper's own release where no later row exists
    ("skb_load_bytes", "SCHED_CLS", "4.5"), ("skb_load_bytes", "SK_SKB", "4.5"),
])
def test_releases_of_helpers_per_program_type(helper: str, prog_type: str, since: str) -> None:
    assert helper_since_for(helper, prog_type) == parse_version(since)
    assert helper_since_for("bpf_" + helper, prog_type.lower()) == parse_version(since)


def test_a_version_target_names_the_program_type_and_the_release() -> None:
    before, after = KernelFeatures.from_version("5.11"), KernelFeatures.from_version("5.12")
    assert before.lacks_helper("bpf_get_socket_cookie", "TRACING") == \
        "needs Linux 5.12 in tracing programs; target 5.11 lacks it"
    assert after.lacks_helper("bpf_get_socket_cookie", "TRACING") is None
    # the helper itself missing: its own release, no program type
    assert KernelFeatures.from_version("4.11").lacks_helper("bpf_get_socket_cookie", "SCHED_CLS") == \
        "needs Linux 4.12; target 4.11 lacks it"


@pytest.mark.parametrize(("field", "prog_type", "sleepable", "target", "lack"), [
    ("bpf_spin_lock", "SCHED_CLS", False, "5.0", "needs Linux 5.1; target 5.0 lacks it"),
    ("bpf_spin_lock", "SCHED_CLS", False, "5.1", None),
    ("bpf_spin_lock", "KPROBE", False, "6.18", "cannot be used by kprobe programs on any release (target 6.18)"),
    ("bpf_spin_lock", "SOCKET_FILTER", False, "6.18",
     "cannot be used by socket_filter programs on any release (target 6.18)"),
    ("bpf_spin_lock", "LSM", True, "6.5", "needs Linux 6.6 in sleepable programs; target 6.5 lacks it"),
    ("bpf_spin_lock", "LSM", True, "6.6", None),
    ("bpf_timer", "TRACEPOINT", False, "6.18", "cannot be used by tracepoint programs on any release (target 6.18)"),
    ("bpf_timer", "RAW_TRACEPOINT_WRITABLE", False, "5.15", None),     # joined the "tracing progs" in 6.0
    ("bpf_timer", "RAW_TRACEPOINT_WRITABLE", False, "6.0",
     "cannot be used by raw_tracepoint_writable programs on any release (target 6.0)"),
    ("bpf_timer", "TRACING", False, "5.14", "needs Linux 5.15; target 5.14 lacks it"),
    ("bpf_wq", "PERF_EVENT", False, "6.18", "cannot be used by perf_event programs on any release (target 6.18)"),
    ("kptr", "KPROBE", False, "5.19", None),
    ("kptr", "XDP", False, "5.18", "needs Linux 5.19; target 5.18 lacks it"),
])
def test_map_fields_by_program_type(field: str, prog_type: str, sleepable: bool, target: str,
                                    lack: str | None) -> None:
    assert KernelFeatures.from_version(target).lacks_map_field(field, prog_type, sleepable=sleepable) == lack


def test_map_field_rules_name_known_fields() -> None:
    assert map_field_since("bpf_res_spin_lock") == (None, False)     # not tabulated: nothing claimed
    assert map_field_since("bpf_list_head", "XDP") == ((6, 2), False)
    assert map_field_since("bpf_rb_root", "RAW_TRACEPOINT") == ((6, 3), True)


@pytest.mark.kernel
def test_the_table_agrees_with_the_running_kernel(kernel_probe) -> None:
    """Every (helper, program type) pair the table dates at or before this kernel's release is
    one this kernel's probe lets that program type call, except where this kernel configures the
    helper out (it offers it to no program type) or the rule depends on an attach type."""
    release = parse_version(kernel_probe.release)
    checked, wrong, skipped = 0, [], []
    for (helper, prog_type), since in sorted(HELPER_PROG_TYPE_VERSIONS.items()):
        if since > release or (prog_type_since(prog_type) or (0, 0)) > release:
            continue
        if prog_type not in kernel_probe.helpers or helper not in kernel_probe.helper_ids:
            skipped.append(f"{helper}@{prog_type}: {prog_type.lower()} programs not probed here")
            continue
        if kernel_probe.helper_allowed(helper, prog_type):
            checked += 1
        elif not kernel_probe.helper_known(helper):
            skipped.append(f"{helper}@{prog_type}: {kernel_probe.identity} configures bpf_{helper} out")
        elif (helper, prog_type) in _ATTACH_DEPENDENT:
            skipped.append(f"{helper}@{prog_type}: depends on the attach type the probe does not use")
        else:
            wrong.append(f"{helper}@{prog_type} (table: {since})")
    assert wrong == []
    if checked < 200:
        pytest.skip(f"only {checked} pairs could be checked on {kernel_probe.identity}; "
                    f"{len(skipped)} not: " + "; ".join(skipped[:8]))

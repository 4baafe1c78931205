from __future__ import annotations

import ctypes
import ctypes.util

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bpfbuild.abi.progtypes import (
    AttachType,
    AutoAttach,
    ProgLoadFlag,
    ProgType,
    classify_section,
    section_defs,
)

from .conftest import kernel_enum

P = ProgType
A = AttachType

# (section, prog type, expected attach type libbpf passes on 6.18, attach target) as libbpf's
# documentation (Documentation/bpf/libbpf/program_types.rst) and section_defs describe them.
EXAMPLES = [
    ("socket", P.SOCKET_FILTER, None, None),
    ("xdp", P.XDP, A.XDP, None),
    ("xdp.frags", P.XDP, A.XDP, None),
    ("xdp/devmap", P.XDP, A.XDP_DEVMAP, None),
    ("xdp.frags/cpumap", P.XDP, A.XDP_CPUMAP, None),
    ("tc", P.SCHED_CLS, None, None),
    ("tc/ingress", P.SCHED_CLS, A.TCX_INGRESS, None),
    ("tc/egress", P.SCHED_CLS, A.TCX_EGRESS, None),
    ("tcx/ingress", P.SCHED_CLS, A.TCX_INGRESS, None),
    ("tcx/egress", P.SCHED_CLS, A.TCX_EGRESS, None),
    ("netkit/primary", P.SCHED_CLS, A.NETKIT_PRIMARY, None),
    ("classifier", P.SCHED_CLS, None, None),
    ("action", P.SCHED_ACT, None, None),
    ("sk_skb", P.SK_SKB, None, None),
    ("sk_skb/stream_parser", P.SK_SKB, A.SK_SKB_STREAM_PARSER, None),
    ("sk_skb/stream_verdict", P.SK_SKB, A.SK_SKB_STREAM_VERDICT, None),
    ("sk_skb/verdict", P.SK_SKB, A.SK_SKB_VERDICT, None),
    ("sk_msg", P.SK_MSG, A.SK_MSG_VERDICT, None),
    ("sk_reuseport", P.SK_REUSEPORT, A.SK_REUSEPORT_SELECT, None),
    ("sk_reuseport/migrate", P.SK_REUSEPORT, A.SK_REUSEPORT_SELECT_OR_MIGRATE, None),
    ("kprobe", P.KPROBE, None, None),
    ("kprobe/do_unlinkat", P.KPROBE, None, "do_unlinkat"),
    ("kprobe/tcp_v4_connect+0x10", P.KPROBE, None, "tcp_v4_connect+0x10"),
    ("kretprobe/do_unlinkat", P.KPROBE, None, "do_unlinkat"),
    ("kprobe.multi/tcp_*", P.KPROBE, A.TRACE_KPROBE_MULTI, "tcp_*"),
    ("kretprobe.multi/tcp_*", P.KPROBE, A.TRACE_KPROBE_MULTI, "tcp_*"),
    ("kprobe.session/bpf_fentry_test*", P.KPROBE, A.TRACE_KPROBE_SESSION, "bpf_fentry_test*"),
    ("uprobe", P.KPROBE, None, None),
    ("uprobe//proc/self/exe:main", P.KPROBE, None, "/proc/self/exe:main"),
    ("uretprobe/libc.so.6:malloc", P.KPROBE, None, "libc.so.6:malloc"),
    ("uprobe.s/libc.so.6:malloc", P.KPROBE, None, "libc.so.6:malloc"),
    ("uprobe.multi/libc.so.6:*", P.KPROBE, A.TRACE_UPROBE_MULTI, "libc.so.6:*"),
    ("uprobe.session/x:y", P.KPROBE, A.TRACE_UPROBE_SESSION, "x:y"),
    ("ksyscall/openat", P.KPROBE, None, "openat"),
    ("kretsyscall/openat", P.KPROBE, None, "openat"),
    ("usdt/./app:provider:probe", P.KPROBE, A.TRACE_UPROBE_MULTI, "./app:provider:probe"),
    ("tracepoint/syscalls/sys_enter_openat", P.TRACEPOINT, None, "syscalls/sys_enter_openat"),
    ("tp/sched/sched_switch", P.TRACEPOINT, None, "sched/sched_switch"),
    ("tp", P.TRACEPOINT, None, None),
    ("raw_tracepoint/sys_enter", P.RAW_TRACEPOINT, None, "sys_enter"),
    ("raw_tp/sys_enter", P.RAW_TRACEPOINT, None, "sys_enter"),
    ("raw_tp", P.RAW_TRACEPOINT, None, None),
    ("raw_tp/", P.RAW_TRACEPOINT, None, ""),
    ("raw_tp.w/bpf_test_finish", P.RAW_TRACEPOINT_WRITABLE, None, "bpf_test_finish"),
    ("tp_btf/sched_switch", P.TRACING, A.TRACE_RAW_TP, "sched_switch"),
    ("fentry/do_unlinkat", P.TRACING, A.TRACE_FENTRY, "do_unlinkat"),
    ("fentry.s/do_unlinkat", P.TRACING, A.TRACE_FENTRY, "do_unlinkat"),
    ("fexit/do_unlinkat", P.TRACING, A.TRACE_FEXIT, "do_unlinkat"),
    ("fmod_ret/bpf_modify_return_test", P.TRACING, A.MODIFY_RETURN, "bpf_modify_return_test"),
    ("freplace/handler", P.EXT, None, "handler"),
    ("lsm/file_open", P.LSM, A.LSM_MAC, "file_open"),
    ("lsm.s/bprm_committed_creds", P.LSM, A.LSM_MAC, "bprm_committed_creds"),
    ("lsm_cgroup/socket_bind", P.LSM, A.LSM_CGROUP, "socket_bind"),
    ("iter/task", P.TRACING, A.TRACE_ITER, "task"),
    ("iter.s/task_vma", P.TRACING, A.TRACE_ITER, "task_vma"),
    ("struct_ops/tcp_ca_init", P.STRUCT_OPS, None, "tcp_ca_init"),
    ("struct_ops", P.STRUCT_OPS, None, None),
    ("syscall", P.SYSCALL, None, None),
    ("perf_event", P.PERF_EVENT, None, None),
    ("lwt_in", P.LWT_IN, None, None),
    ("lwt_out", P.LWT_OUT, None, None),
    ("lwt_xmit", P.LWT_XMIT, None, None),
    ("lwt_seg6local", P.LWT_SEG6LOCAL, None, None),
    ("sockops", P.SOCK_OPS, A.CGROUP_SOCK_OPS, None),
    ("lirc_mode2", P.LIRC_MODE2, A.LIRC_MODE2, None),
    ("flow_dissector", P.FLOW_DISSECTOR, A.FLOW_DISSECTOR, None),
    ("cgroup_skb/ingress", P.CGROUP_SKB, A.CGROUP_INET_INGRESS, None),
    ("cgroup_skb/egress", P.CGROUP_SKB, A.CGROUP_INET_EGRESS, None),
    ("cgroup/skb", P.CGROUP_SKB, None, None),
    ("cgroup/sock", P.CGROUP_SOCK, A.CGROUP_INET_SOCK_CREATE, None),
    ("cgroup/sock_create", P.CGROUP_SOCK, A.CGROUP_INET_SOCK_CREATE, None),
    ("cgroup/sock_release", P.CGROUP_SOCK, A.CGROUP_INET_SOCK_RELEASE, None),
    ("cgroup/post_bind4", P.CGROUP_SOCK, A.CGROUP_INET4_POST_BIND, None),
    ("cgroup/bind6", P.CGROUP_SOCK_ADDR, A.CGROUP_INET6_BIND, None),
    ("cgroup/connect4", P.CGROUP_SOCK_ADDR, A.CGROUP_INET4_CONNECT, None),
    ("cgroup/connect_unix", P.CGROUP_SOCK_ADDR, A.CGROUP_UNIX_CONNECT, None),
    ("cgroup/sendmsg6", P.CGROUP_SOCK_ADDR, A.CGROUP_UDP6_SENDMSG, None),
    ("cgroup/recvmsg4", P.CGROUP_SOCK_ADDR, A.CGROUP_UDP4_RECVMSG, None),
    ("cgroup/getpeername6", P.CGROUP_SOCK_ADDR, A.CGROUP_INET6_GETPEERNAME, None),
    ("cgroup/getsockname_unix", P.CGROUP_SOCK_ADDR, A.CGROUP_UNIX_GETSOCKNAME, None),
    ("cgroup/sysctl", P.CGROUP_SYSCTL, A.CGROUP_SYSCTL, None),
    ("cgroup/getsockopt", P.CGROUP_SOCKOPT, A.CGROUP_GETSOCKOPT, None),
    ("cgroup/setsockopt", P.CGROUP_SOCKOPT, A.CGROUP_SETSOCKOPT, None),
    ("cgroup/dev", P.CGROUP_DEVICE, A.CGROUP_DEVICE, None),
    ("sk_lookup", P.SK_LOOKUP, A.SK_LOOKUP, None),
    ("netfilter", P.NETFILTER, A.NETFILTER, None),
]

UNKNOWN = [
    "", "xdp/foo", "xdp.frags/foo", "xdp_foo", "tc/ingres", "tcx", "socket/filter", "sk_lookup/x",
    "kprobe.foo", "kprobex/x", "kprobe_", "fentry_s/x", "cgroup/connect5", "cgroup", "cgroup/",
    "classifier/x", "maps", ".text", "license", "SEC", "XDP", "lsmx", "raw_tp.x/y", "perf_event/x",
    "syscall/x", "freplace_x",
]

# Section definitions libbpf gained after 1.1 (the libbpf1 Debian 12 ships).
NEW_SINCE_LIBBPF_1_1 = {
    "tc/ingress", "tc/egress", "tcx/ingress", "tcx/egress", "netkit/primary", "netkit/peer",
    "sk_skb/verdict", "struct_ops.s+", "kprobe.session+", "uprobe.multi+", "uprobe.multi.s+",
    "uretprobe.multi+", "uretprobe.multi.s+", "uprobe.session+", "uprobe.session.s+", "usdt.s+",
    "cgroup/connect_unix", "cgroup/sendmsg_unix", "cgroup/recvmsg_unix", "cgroup/getpeername_unix",
    "cgroup/getsockname_unix", "netfilter",
}


@pytest.mark.parametrize(("section", "prog_type", "attach", "target"), EXAMPLES,
                         ids=[e[0] or "empty" for e in EXAMPLES])
def test_libbpf_examples(section: str, prog_type: ProgType, attach: AttachType | None,
                         target: str | None) -> None:
    info = classify_section(section)
    assert info is not None
    assert (info.prog_type, info.expected_attach_type, info.attach_target) == (prog_type, attach, target)


@pytest.mark.parametrize("section", UNKNOWN)
def test_sections_libbpf_rejects(section: str) -> None:
    assert classify_section(section) is None


def test_flags_follow_the_section() -> None:
    frags = classify_section("xdp.frags")
    plain = classify_section("xdp")
    sleepy = classify_section("fentry.s/do_unlinkat")
    syscall = classify_section("syscall")
    assert frags and plain and sleepy and syscall
    assert frags.prog_flags == ProgLoadFlag.XDP_HAS_FRAGS and frags.xdp_frags
    assert plain.prog_flags == ProgLoadFlag(0)
    assert sleepy.sleepable and sleepy.prog_flags == ProgLoadFlag.SLEEPABLE
    assert syscall.sleepable


def test_probe_details() -> None:
    ret = classify_section("kretprobe/do_unlinkat")
    entry = classify_section("kprobe/do_unlinkat")
    uret = classify_section("uretprobe.s/libc.so.6:malloc")
    sys_ret = classify_section("kretsyscall/openat")
    assert ret and entry and uret and sys_ret
    assert ret.is_retprobe and uret.is_retprobe and sys_ret.is_retprobe and not entry.is_retprobe
    assert entry.auto_attach is AutoAttach.KPROBE and sys_ret.auto_attach is AutoAttach.KSYSCALL


def test_btf_targets() -> None:
    cases = {
        "lsm/file_open": "bpf_lsm_file_open",
        "lsm_cgroup/socket_bind": "bpf_lsm_socket_bind",
        "tp_btf/sched_switch": "btf_trace_sched_switch",
        "iter/task": "bpf_iter_task",
        "fentry/do_unlinkat": "do_unlinkat",
        "fexit/nf_conntrack:nf_confirm": "nf_confirm",
        "fentry": None,
        "freplace/handler": None,
    }
    for section, expected in cases.items():
        info = classify_section(section)
        assert info is not None and info.needs_btf_target
        assert info.btf_target_name == expected, section
    xdp = classify_section("xdp")
    assert xdp is not None and not xdp.needs_btf_target and xdp.btf_target_name is None


def test_tracepoint_targets() -> None:
    info = classify_section("tp/sched/sched_switch")
    short = classify_section("tp/sched_switch")
    bare = classify_section("tracepoint")
    assert info and short and bare
    assert info.tracepoint() == ("sched", "sched_switch")
    assert short.tracepoint() is None  # libbpf cannot auto-attach it: no category
    assert bare.tracepoint() is None
    kprobe = classify_section("kprobe/x")
    assert kprobe is not None and kprobe.tracepoint() is None


def test_first_matching_definition_wins() -> None:
    # "sk_reuseport/migrate" sits before "sk_reuseport"; "kprobe+" must not swallow
    # "kprobe.multi" (no '/' after the stem).
    info = classify_section("sk_reuseport/migrate")
    multi = classify_section("kprobe.multi")
    assert info is not None and info.sec_def.pattern == "sk_reuseport/migrate"
    assert multi is not None and multi.sec_def.pattern == "kprobe.multi+"


def test_table_patterns_are_unique() -> None:
    patterns = [d.pattern for d in section_defs()]
    assert len(patterns) == len(set(patterns))


def _corpus() -> list[str]:
    names = {e[0] for e in EXAMPLES} | set(UNKNOWN)
    for d in section_defs():
        p = d.prefix
        names |= {p, p + "/", p + "/foo", p + "/a/b", p + "x", p + ".s", p + "/foo:bar"}
    return sorted(names)


def test_agrees_with_system_libbpf() -> None:
    """Ask libbpf 1.x itself (libbpf_prog_type_by_name) where it is installed."""
    soname = ctypes.util.find_library("bpf")
    if soname is None:
        pytest.skip("libbpf is not installed")
    try:
        lib = ctypes.CDLL(soname)
    except OSError as exc:
        pytest.skip(f"libbpf is not loadable: {exc}")
    by_name = lib.libbpf_prog_type_by_name
    checked = 0
    for name in _corpus():
        prog_type, attach = ctypes.c_int(), ctypes.c_int()
        rc = by_name(name.encode(), ctypes.byref(prog_type), ctypes.byref(attach))
        ours = classify_section(name)
        if rc == 0:
            assert ours is not None, name
            eat = ours.sec_def.expected_attach_type
            assert (prog_type.value, attach.value) == (int(ours.prog_type), 0 if eat is None else int(eat)), name
            checked += 1
        elif ours is not None:
            assert ours.sec_def.pattern in NEW_SINCE_LIBBPF_1_1, name
    assert checked > 100


def test_enums_match_the_running_kernel(vmlinux_c: str) -> None:
    progs = kernel_enum(vmlinux_c, "bpf_prog_type")
    attach = kernel_enum(vmlinux_c, "bpf_attach_type")
    assert {k: v for k, v in progs.items() if not k.startswith("__")} == {
        t.kernel_name: int(t) for t in ProgType}
    assert {k: v for k, v in attach.items() if not k.startswith("__")} == {
        t.kernel_name: int(t) for t in AttachType}


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40) | st.sampled_from(_corpus()).flatmap(
    lambda s: st.tuples(st.just(s), st.text(max_size=8)).map("".join)))
def test_classify_any_text(name: str) -> None:
    info = classify_section(name)
    if info is None:
        return
    assert info.sec_def.matches(name)
    if info.attach_target is not None:
        assert name == info.sec_def.prefix + "/" + info.attach_target
    assert isinstance(info.prog_type, ProgType)

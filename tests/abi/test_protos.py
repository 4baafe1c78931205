from __future__ import annotations

import re

import pytest

from bpfbuild.abi.helpers import helper_name, helper_signature
from bpfbuild.abi.progtypes import AttachType, ProgType
from bpfbuild.abi.protos import (
    ArgType,
    FuncProto,
    Privilege,
    RetType,
    TypeFlag,
    base_helper_privilege,
    func_proto,
    func_protos,
    helper_allowed,
    helper_prog_types,
    prog_type_helpers,
    prog_type_protos,
    target_denied,
)

from bpfbuild.abi.target import Kconfig, Target

from .bpfsys import EXIT, SLEEPABLE, Bpf, call, mov

# The helpers the brief asks for; each must have a prototype.
REQUIRED = [
    "map_lookup_elem", "map_update_elem", "map_delete_elem", "map_push_elem", "map_pop_elem",
    "map_peek_elem", "trace_printk", "trace_vprintk", "snprintf", "ktime_get_ns",
    "ktime_get_boot_ns", "ktime_get_coarse_ns", "jiffies64", "get_prandom_u32",
    "get_smp_processor_id", "get_numa_node_id", "get_current_pid_tgid", "get_current_uid_gid",
    "get_current_comm", "get_current_task", "probe_read", "probe_read_kernel",
    "probe_read_kernel_str", "probe_read_user", "probe_read_user_str", "ringbuf_output",
    "ringbuf_reserve", "ringbuf_submit", "ringbuf_discard", "ringbuf_query", "perf_event_output",
    "tail_call", "loop", "redirect", "redirect_map", "xdp_adjust_head", "xdp_adjust_tail",
    "xdp_adjust_meta", "skb_load_bytes", "skb_store_bytes", "l3_csum_replace", "l4_csum_replace",
    "csum_diff", "skb_change_head", "skb_pull_data", "spin_lock", "spin_unlock", "get_func_ip",
    "send_signal", "for_each_map_elem", "timer_init", "timer_set_callback", "timer_start",
    "timer_cancel",
]

# Load each tabulated type with the attach type its rules were measured with.
ATTACH = {ProgType.XDP: AttachType.XDP, ProgType.CGROUP_SOCK: AttachType.CGROUP_INET_SOCK_CREATE,
          ProgType.SOCK_OPS: AttachType.CGROUP_SOCK_OPS, ProgType.SK_SKB: AttachType.SK_SKB_STREAM_VERDICT,
          ProgType.CGROUP_DEVICE: AttachType.CGROUP_DEVICE, ProgType.SK_MSG: AttachType.SK_MSG_VERDICT,
          ProgType.CGROUP_SOCK_ADDR: AttachType.CGROUP_INET4_CONNECT,
          ProgType.SK_REUSEPORT: AttachType.SK_REUSEPORT_SELECT,
          ProgType.FLOW_DISSECTOR: AttachType.FLOW_DISSECTOR, ProgType.CGROUP_SYSCTL: AttachType.CGROUP_SYSCTL,
          ProgType.CGROUP_SOCKOPT: AttachType.CGROUP_GETSOCKOPT, ProgType.SK_LOOKUP: AttachType.SK_LOOKUP,
          ProgType.NETFILTER: AttachType.NETFILTER}


def _attach(pt: ProgType) -> int:
    at = ATTACH.get(pt)
    return 0 if at is None else int(at)


def test_required_helpers_have_prototypes() -> None:
    missing = [name for name in REQUIRED if func_proto("bpf_" + name) is None]
    assert not missing


def test_prototypes_agree_with_the_uapi_header() -> None:
    for proto in func_protos():
        assert helper_name(proto.func_id) == proto.name
        assert func_proto(proto.func_id) is func_proto(proto.name) is proto
        sig = helper_signature(proto.func_id)
        assert sig is not None
        params = [p for p in sig.params if p.ctype != "..."]
        assert len(proto.args) == len(params), proto.name
        for arg, param in zip(proto.args, params, strict=True):
            if arg.base.is_pointer:
                assert param.ctype.endswith("*"), (proto.name, param)
            if arg.base.is_size:
                assert not param.ctype.endswith("*"), (proto.name, param)


def test_memory_arguments_are_followed_by_their_size() -> None:
    for proto in func_protos():
        for i, arg in enumerate(proto.args):
            if arg.base is ArgType.ARG_PTR_TO_MEM and TypeFlag.MEM_FIXED_SIZE not in arg.flags:
                assert i + 1 < len(proto.args) and proto.args[i + 1].base.is_size, proto.name
                assert arg.size is None
            if TypeFlag.MEM_FIXED_SIZE in arg.flags:
                assert arg.size, proto.name


def test_kernel_vocabulary() -> None:
    reserve = func_proto("bpf_ringbuf_reserve")
    submit = func_proto(132)
    lookup = func_proto("map_lookup_elem")
    comm = func_proto("bpf_get_current_comm")
    assert reserve and submit and lookup and comm
    assert reserve.ret.base is RetType.RET_PTR_TO_MEM and reserve.ret.maybe_null
    assert TypeFlag.MEM_RINGBUF in reserve.ret.flags and reserve.ret.mem_size_arg == 2
    assert submit.args[0].releases and submit.ret.base is RetType.RET_VOID
    assert str(lookup.ret) == "RET_PTR_TO_MAP_VALUE | PTR_MAYBE_NULL" and lookup.pkt_access
    assert str(comm.args[0]) == "ARG_PTR_TO_MEM | MEM_UNINIT | MEM_WRITE" and comm.args[0].writes
    assert str(lookup) == "bpf_map_lookup_elem#1(ARG_CONST_MAP_PTR, ARG_PTR_TO_MAP_KEY) -> " \
                          "RET_PTR_TO_MAP_VALUE | PTR_MAYBE_NULL"
    adjust = func_proto("bpf_xdp_adjust_head")
    assert adjust and adjust.changes_pkt_data and not lookup.changes_pkt_data


def test_program_type_sets() -> None:
    xdp = prog_type_helpers(ProgType.XDP)
    tc = prog_type_helpers(ProgType.SCHED_CLS)
    assert xdp and tc
    assert "xdp_adjust_head" in xdp and "xdp_adjust_head" not in tc
    assert "skb_store_bytes" in tc and "skb_store_bytes" not in xdp
    assert helper_allowed("bpf_trace_printk", ProgType.KPROBE)
    assert not helper_allowed(44, ProgType.SOCKET_FILTER)
    assert helper_allowed("copy_from_user", ProgType.KPROBE) is False
    assert helper_allowed("copy_from_user", ProgType.SYSCALL, sleepable=True) is True
    assert helper_allowed("map_lookup_elem", ProgType.LSM) is None  # not tabulated
    assert helper_allowed(9999, ProgType.XDP) is False
    assert ProgType.XDP in helper_prog_types("redirect_map")
    assert ProgType.SCHED_CLS not in helper_prog_types("redirect_map")


def test_base_privileges() -> None:
    assert base_helper_privilege("bpf_map_lookup_elem") is Privilege.UNPRIVILEGED
    assert base_helper_privilege("spin_lock") is Privilege.CAP_BPF
    assert base_helper_privilege("trace_printk") is Privilege.CAP_PERFMON
    assert base_helper_privilege("probe_read_kernel") is Privilege.CAP_PERFMON
    assert base_helper_privilege("xdp_adjust_head") is None


def _load_call(bpf: Bpf, pt: ProgType, helper: int, license: str = "GPL") -> tuple[bool, str]:
    flags = SLEEPABLE if pt is ProgType.SYSCALL else 0
    res = bpf.load(int(pt), [*(mov(r, 0) for r in range(1, 6)), call(helper), mov(0, 1), EXIT],
                   _attach(pt), license=license, flags=flags)
    return res.ok, res.log


_ALL_HELPERS = [(ident, name) for ident in range(1, 212) if (name := helper_name(ident)) is not None]


def _configured_out(kernel_probe, name: str) -> None:
    """Skip a helper no program type of this kernel may call although upstream offers it to a
    program type probed here: the kernel differs from upstream by configuration (unless the
    table knows why: lockdown and build options, target_denied)."""
    if name.removeprefix("bpf_") in target_denied(Target.running()):
        return
    upstream = {pt.name for pt in helper_prog_types(name)} & set(kernel_probe.helpers)
    if upstream and not kernel_probe.helper_known(name):
        pytest.skip(f"{kernel_probe.identity} offers {name} to no program type (upstream: "
                    f"{', '.join(sorted(t.lower() for t in upstream))}): configured out, nothing to compare")


@pytest.mark.kernel
def test_the_probe_covers_the_tabulated_program_types(kernel_probe) -> None:
    types = [pt for pt in ProgType if pt is not ProgType.TRACING and prog_type_helpers(pt) is not None
             and pt.name in kernel_probe.helpers]
    assert len(types) >= 20 or kernel_probe.note


@pytest.mark.kernel
@pytest.mark.parametrize(("ident", "name"), _ALL_HELPERS, ids=[n for _, n in _ALL_HELPERS])
def test_who_may_call_what_matches_the_kernel(kernel_probe, ident: int, name: str) -> None:
    """For every program type probed here, the kernel's verifier (bpfbuild's probe loads a
    program calling the helper) and our table agree on whether it may call ``name``."""
    _configured_out(kernel_probe, name)
    wrong = []
    for pt_name, allowed in kernel_probe.helpers.items():
        pt = ProgType[pt_name]
        if pt is ProgType.TRACING or prog_type_helpers(pt) is None:
            continue
        ours = name.removeprefix("bpf_") in (prog_type_helpers(pt, Target.running()) or ())
        kernel_says = name.removeprefix("bpf_") in allowed
        if kernel_says != ours:
            wrong.append((pt.name, kernel_says))
    assert not wrong


def _load_type(kernel_probe, proto: FuncProto) -> ProgType:
    """A program type both our table and the probed kernel let call ``proto``, in which
    ``proto`` is the helper's prototype (a might-sleep helper: the sleepable SYSCALL type)."""
    _configured_out(kernel_probe, proto.name)
    types = sorted(t for t in helper_prog_types(proto.name) - {ProgType.TRACING}
                   if kernel_probe.helper_allowed(proto.name, t.name)
                   and func_proto(proto.func_id, t) is proto
                   and (t is ProgType.SYSCALL or not proto.might_sleep))
    if not types:
        pytest.skip(f"{kernel_probe.identity}: no program type probed here may call {proto.name}")
    return next((t for t in (ProgType.SOCKET_FILTER, ProgType.SCHED_CLS, ProgType.XDP) if t in types), types[0])


def _accepts_zero(proto: FuncProto, i: int) -> bool:
    arg = proto.args[i]
    if arg.base in (ArgType.ARG_ANYTHING, ArgType.ARG_CONST_SIZE_OR_ZERO,
                    ArgType.ARG_CONST_ALLOC_SIZE_OR_ZERO, ArgType.ARG_DONTCARE):
        return True
    return arg.maybe_null


# what the verifier prints as "expected=" for an argument of each base type
_EXPECTED = {ArgType.ARG_CONST_MAP_PTR: "map_ptr", ArgType.ARG_PTR_TO_CTX: "ctx",
             ArgType.ARG_PTR_TO_FUNC: "func", ArgType.ARG_PTR_TO_MAP_KEY: "map_key",
             ArgType.ARG_PTR_TO_MAP_VALUE: "map_value", ArgType.ARG_PTR_TO_MEM: "mem",
             ArgType.ARG_PTR_TO_RINGBUF_MEM: "ringbuf_mem", ArgType.ARG_PTR_TO_TIMER: "map_value",
             ArgType.ARG_PTR_TO_SPIN_LOCK: "map_value", ArgType.ARG_PTR_TO_CONST_STR: "map_value"}


_PROTOS = list(func_protos())


@pytest.mark.kernel
@pytest.mark.parametrize("proto", _PROTOS, ids=[p.name for p in _PROTOS])
def test_argument_types_match_the_kernel(bpf: Bpf, kernel_probe, proto: FuncProto) -> None:
    """Call the helper with every argument register 0: the verifier must reject exactly the
    first argument our table says cannot be a constant zero, naming the register types that
    argument's base type accepts, and must accept the call if every argument may be zero."""
    ok, log = _load_call(bpf, _load_type(kernel_probe, proto), proto.func_id)
    first = next((i for i in range(len(proto.args)) if not _accepts_zero(proto, i)), None)
    lines = [line for line in log.splitlines() if re.match(r"R\d ", line)]
    if first is None:
        assert ok, lines[:1] or log[-200:]
        return
    expected = _EXPECTED.get(proto.args[first].base, "")
    assert not ok and lines, log[-200:]
    assert lines[0].startswith(f"R{first + 1} ") and expected in lines[0], (f"R{first + 1} {expected}", lines[0])


@pytest.mark.kernel
@pytest.mark.parametrize("proto", _PROTOS, ids=[p.name for p in _PROTOS])
def test_gpl_only_matches_the_kernel(bpf: Bpf, kernel_probe, proto: FuncProto) -> None:
    _, log = _load_call(bpf, _load_type(kernel_probe, proto), proto.func_id, license="MIT")
    assert ("GPL-restricted" in log) == proto.gpl_only


def test_program_type_variants() -> None:
    assert prog_type_protos()
    for pt, proto in prog_type_protos():
        assert func_proto(proto.func_id, pt) is func_proto(proto.name, pt) is proto
        assert func_proto(proto.short_name, pt) is proto
        sig = helper_signature(proto.func_id)
        assert sig is not None and len(proto.args) == len([p for p in sig.params if p.ctype != "..."])
    cookie_tc = func_proto("bpf_get_socket_cookie", ProgType.SCHED_CLS)
    cookie_trace = func_proto("bpf_get_socket_cookie", ProgType.TRACING)
    assert cookie_tc and cookie_trace and cookie_tc is not cookie_trace
    assert cookie_tc.args[0].base is ArgType.ARG_PTR_TO_CTX
    assert cookie_trace.args[0].base is ArgType.ARG_PTR_TO_BTF_ID_SOCK_COMMON
    assert cookie_trace.args[0].maybe_null
    # no prototype rather than another program type's
    assert func_proto("setsockopt", ProgType.EXT) is None and func_proto(49) is None
    assert func_proto("setsockopt", ProgType.LSM).args[0].base is ArgType.ARG_PTR_TO_BTF_ID_SOCK_COMMON
    assert func_proto("bpf_setsockopt", ProgType.SOCK_OPS) is not None
    assert func_proto("bpf_sk_storage_get", ProgType.TRACING) is None
    assert func_proto("xdp_get_buff_len", ProgType.SYSCALL) is None
    assert func_proto("xdp_get_buff_len", ProgType.XDP) is func_proto("xdp_get_buff_len")
    assert func_proto("get_cgroup_classid", ProgType.SOCKET_FILTER) is func_proto(17)
    assert func_proto("get_cgroup_classid", ProgType.EXT) is None


_VARIANTS = list(prog_type_protos())


@pytest.mark.kernel
@pytest.mark.parametrize(("pt", "proto"), _VARIANTS,
                         ids=[f"{pt.name.lower()}-{p.short_name}" for pt, p in _VARIANTS])
def test_program_type_variants_match_the_kernel(bpf: Bpf, kernel_probe, pt: ProgType,
                                                proto: FuncProto) -> None:
    """A program-type-specific prototype, loaded in its program type: argument types and gpl_only."""
    _configured_out(kernel_probe, proto.name)
    if pt.name not in kernel_probe.helpers or not kernel_probe.helper_allowed(proto.name, pt.name):
        pytest.skip(f"{kernel_probe.identity}: {pt.name.lower()} programs loaded as probed here cannot call "
                    f"{proto.name}")
    ok, log = _load_call(bpf, pt, proto.func_id)
    first = next((i for i in range(len(proto.args)) if not _accepts_zero(proto, i)), None)
    lines = [line for line in log.splitlines() if re.match(r"R\d ", line)]
    if first is None:
        assert ok, lines[:1] or log[-200:]
    else:
        assert not ok and lines, log[-200:]
        expected = _EXPECTED.get(proto.args[first].base, "")
        assert lines[0].startswith(f"R{first + 1} ") and expected in lines[0], \
            (f"R{first + 1} {expected}", lines[0])
    _, log = _load_call(bpf, pt, proto.func_id, license="MIT")
    assert ("GPL-restricted" in log) == proto.gpl_only


def _kernel(kconfig: dict[str, str]) -> Target:
    return Target("6.18", None, (6, 18, 0), "x86", Kconfig(kconfig))


def test_a_locked_down_or_differently_built_kernel_takes_helpers_away() -> None:
    """Upstream offers bpf_probe_write_user to tracing programs and bpf_override_return to
    kprobes; lockdown (integrity and up) and a kernel built without CONFIG_BPF_KPROBE_OVERRIDE
    take them away, confidentiality also the kernel-memory reads."""
    assert helper_allowed("probe_write_user", ProgType.KPROBE) is True
    assert helper_allowed("probe_write_user", ProgType.TRACEPOINT, target=_kernel({})) is True
    assert helper_allowed("override_return", ProgType.KPROBE, target=_kernel({})) is True   # config unknown
    assert helper_allowed("probe_write_user", ProgType.XDP) is False
    forced = {"CONFIG_SECURITY_LOCKDOWN_LSM": "y", "CONFIG_LOCK_DOWN_KERNEL_FORCE_INTEGRITY": "y"}
    integrity = _kernel(forced)
    assert integrity.lockdown == "integrity"
    assert helper_allowed("probe_write_user", ProgType.KPROBE, target=integrity) is False
    assert helper_allowed("probe_read_kernel", ProgType.KPROBE, target=integrity) is True
    assert helper_allowed("override_return", ProgType.KPROBE, target=integrity) is False   # option absent
    secret = _kernel({"CONFIG_SECURITY_LOCKDOWN_LSM": "y", "CONFIG_LOCK_DOWN_KERNEL_FORCE_CONFIDENTIALITY": "y",
                      "CONFIG_BPF_KPROBE_OVERRIDE": "y"})
    assert secret.lockdown == "confidentiality"
    assert not {"probe_read_kernel", "probe_read", "probe_write_user"} & prog_type_helpers(ProgType.KPROBE, secret)
    assert helper_allowed("override_return", ProgType.KPROBE, target=secret) is True
    assert _kernel({"CONFIG_LOCK_DOWN_KERNEL_FORCE_INTEGRITY": "y"}).lockdown == "none"   # no lockdown LSM

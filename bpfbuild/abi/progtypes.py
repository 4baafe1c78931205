"""Program types, attach types and libbpf's ``SEC()`` naming rules.

The numbers are ``enum bpf_prog_type`` / ``enum bpf_attach_type`` of Linux 6.18 (read from the
running 6.18 kernel's BTF).  The section table is libbpf's ``section_defs`` as of libbpf 1.6
(the last libbpf whose table needs no attach type newer than 6.18; libbpf 1.7 only adds
``fsession``), matched with libbpf 1.x rules: a definition ending in ``+`` matches the exact
name or the name followed by ``/`` and anything; one ending in ``/`` matches that prefix; any
other definition matches only exactly.  The first definition in table order that matches wins.
"""

from __future__ import annotations

import enum
import functools
from dataclasses import dataclass

__all__ = [
    "AttachType",
    "AutoAttach",
    "ProgLoadFlag",
    "ProgType",
    "SecDef",
    "SecFlag",
    "SectionInfo",
    "classify_section",
    "section_defs",
]


class ProgType(enum.IntEnum):
    """``enum bpf_prog_type`` (Linux 6.18); member names drop ``BPF_PROG_TYPE_``."""

    UNSPEC = 0
    SOCKET_FILTER = 1
    KPROBE = 2
    SCHED_CLS = 3
    SCHED_ACT = 4
    TRACEPOINT = 5
    XDP = 6
    PERF_EVENT = 7
    CGROUP_SKB = 8
    CGROUP_SOCK = 9
    LWT_IN = 10
    LWT_OUT = 11
    LWT_XMIT = 12
    SOCK_OPS = 13
    SK_SKB = 14
    CGROUP_DEVICE = 15
    SK_MSG = 16
    RAW_TRACEPOINT = 17
    CGROUP_SOCK_ADDR = 18
    LWT_SEG6LOCAL = 19
    LIRC_MODE2 = 20
    SK_REUSEPORT = 21
    FLOW_DISSECTOR = 22
    CGROUP_SYSCTL = 23
    RAW_TRACEPOINT_WRITABLE = 24
    CGROUP_SOCKOPT = 25
    TRACING = 26
    STRUCT_OPS = 27
    EXT = 28
    LSM = 29
    SK_LOOKUP = 30
    SYSCALL = 31
    NETFILTER = 32

    @property
    def kernel_name(self) -> str:
        """The C enumerator, e.g. ``BPF_PROG_TYPE_XDP``."""
        return f"BPF_PROG_TYPE_{self.name}"

    @property
    def libbpf_name(self) -> str:
        """The name libbpf and bpftool print (``libbpf_bpf_prog_type_str``), e.g. ``sched_cls``."""
        return self.name.lower()


class AttachType(enum.IntEnum):
    """``enum bpf_attach_type`` (Linux 6.18); member names drop the ``BPF_`` prefix."""

    CGROUP_INET_INGRESS = 0
    CGROUP_INET_EGRESS = 1
    CGROUP_INET_SOCK_CREATE = 2
    CGROUP_SOCK_OPS = 3
    SK_SKB_STREAM_PARSER = 4
    SK_SKB_STREAM_VERDICT = 5
    CGROUP_DEVICE = 6
    SK_MSG_VERDICT = 7
    CGROUP_INET4_BIND = 8
    CGROUP_INET6_BIND = 9
    CGROUP_INET4_CONNECT = 10
    CGROUP_INET6_CONNECT = 11
    CGROUP_INET4_POST_BIND = 12
    CGROUP_INET6_POST_BIND = 13
    CGROUP_UDP4_SENDMSG = 14
    CGROUP_UDP6_SENDMSG = 15
    LIRC_MODE2 = 16
    FLOW_DISSECTOR = 17
    CGROUP_SYSCTL = 18
    CGROUP_UDP4_RECVMSG = 19
    CGROUP_UDP6_RECVMSG = 20
    CGROUP_GETSOCKOPT = 21
    CGROUP_SETSOCKOPT = 22
    TRACE_RAW_TP = 23
    TRACE_FENTRY = 24
    TRACE_FEXIT = 25
    MODIFY_RETURN = 26
    LSM_MAC = 27
    TRACE_ITER = 28
    CGROUP_INET4_GETPEERNAME = 29
    CGROUP_INET6_GETPEERNAME = 30
    CGROUP_INET4_GETSOCKNAME = 31
    CGROUP_INET6_GETSOCKNAME = 32
    XDP_DEVMAP = 33
    CGROUP_INET_SOCK_RELEASE = 34
    XDP_CPUMAP = 35
    SK_LOOKUP = 36
    XDP = 37
    SK_SKB_VERDICT = 38
    SK_REUSEPORT_SELECT = 39
    SK_REUSEPORT_SELECT_OR_MIGRATE = 40
    PERF_EVENT = 41
    TRACE_KPROBE_MULTI = 42
    LSM_CGROUP = 43
    STRUCT_OPS = 44
    NETFILTER = 45
    TCX_INGRESS = 46
    TCX_EGRESS = 47
    TRACE_UPROBE_MULTI = 48
    CGROUP_UNIX_CONNECT = 49
    CGROUP_UNIX_SENDMSG = 50
    CGROUP_UNIX_RECVMSG = 51
    CGROUP_UNIX_GETPEERNAME = 52
    CGROUP_UNIX_GETSOCKNAME = 53
    NETKIT_PRIMARY = 54
    NETKIT_PEER = 55
    TRACE_KPROBE_SESSION = 56
    TRACE_UPROBE_SESSION = 57

    @property
    def kernel_name(self) -> str:
        """The C enumerator, e.g. ``BPF_CGROUP_INET_INGRESS``."""
        return f"BPF_{self.name}"

    @property
    def libbpf_name(self) -> str:
        """The name libbpf prints (``libbpf_bpf_attach_type_str``), e.g. ``cgroup_inet_ingress``."""
        return self.name.lower()


class ProgLoadFlag(enum.IntFlag):
    """``prog_flags`` of BPF_PROG_LOAD (uapi ``BPF_F_*`` defines; names drop ``BPF_F_``)."""

    STRICT_ALIGNMENT = 1 << 0
    ANY_ALIGNMENT = 1 << 1
    TEST_RND_HI32 = 1 << 2
    TEST_STATE_FREQ = 1 << 3
    SLEEPABLE = 1 << 4
    XDP_HAS_FRAGS = 1 << 5
    XDP_DEV_BOUND_ONLY = 1 << 6
    TEST_REG_INVARIANTS = 1 << 7
    TOKEN_FD = 1 << 16


class SecFlag(enum.IntFlag):
    """libbpf's ``enum sec_def_flags`` (same bit values; ``SEC_`` dropped)."""

    NONE = 0
    #: expected_attach_type may be dropped on kernels that do not know it (old kernels only)
    EXP_ATTACH_OPT = 1
    #: legacy marker of BPF_PROG_ATTACH-able types; libbpf itself ignores it
    ATTACHABLE = 2
    #: attach target is a BTF id (kernel function, LSM hook, iterator, or another program)
    ATTACH_BTF = 4
    #: loaded with BPF_F_SLEEPABLE
    SLEEPABLE = 8
    #: XDP program loaded with BPF_F_XDP_HAS_FRAGS
    XDP_FRAGS = 16
    #: USDT: libbpf switches the attach type to TRACE_UPROBE_MULTI where the kernel has it
    USDT = 32


class AutoAttach(enum.Enum):
    """Which libbpf auto-attach routine a section definition carries (``attach_*`` in libbpf.c)."""

    KPROBE = "attach_kprobe"
    UPROBE = "attach_uprobe"
    KPROBE_MULTI = "attach_kprobe_multi"
    KPROBE_SESSION = "attach_kprobe_session"
    UPROBE_MULTI = "attach_uprobe_multi"
    KSYSCALL = "attach_ksyscall"
    USDT = "attach_usdt"
    TRACEPOINT = "attach_tp"
    RAW_TRACEPOINT = "attach_raw_tp"
    TRACE = "attach_trace"
    LSM = "attach_lsm"
    ITER = "attach_iter"


@dataclass(frozen=True, slots=True)
class SecDef:
    """One row of libbpf's ``section_defs``: the pattern as libbpf writes it (``"kprobe+"``)."""

    pattern: str
    prog_type: ProgType
    expected_attach_type: AttachType | None
    flags: SecFlag = SecFlag.NONE
    auto_attach: AutoAttach | None = None

    @property
    def prefix(self) -> str:
        """The pattern without its trailing ``+`` (the text a section name starts with)."""
        return self.pattern.removesuffix("+")

    def matches(self, name: str) -> bool:
        """libbpf 1.x ``sec_def_matches``."""
        pattern = self.pattern
        if pattern.endswith("/"):
            return name.startswith(pattern)
        if pattern.endswith("+"):
            stem = pattern[:-1]
            return name == stem or name.startswith(stem + "/")
        return name == pattern


@dataclass(frozen=True, slots=True)
class SectionInfo:
    """What libbpf infers from a program's ELF section name.

    ``attach_target`` is the text after the first ``/`` for patterns that take one (``+`` rows),
    ``""`` for e.g. ``raw_tp/`` (libbpf would try to attach to an empty name), and ``None`` when
    the section names no target (exact names, or ``SEC("kprobe")``: no auto-attach).
    ``expected_attach_type`` is ``None`` where libbpf passes 0 meaning "none" (libbpf writes 0,
    which is numerically ``CGROUP_INET_INGRESS``; see :attr:`expected_attach_type_value`).
    ``autoload`` is False for ``SEC("?name")``: libbpf's convention for a program that is
    just like ``SEC("name")`` but not loaded unless the loader asks for it; ``section`` is then
    the name without the ``?``, as libbpf keeps it.
    """

    section: str
    sec_def: SecDef
    attach_target: str | None
    autoload: bool = True

    @property
    def prog_type(self) -> ProgType:
        return self.sec_def.prog_type

    @property
    def expected_attach_type(self) -> AttachType | None:
        """The attach type libbpf passes at load on Linux 6.18 (USDT becomes uprobe_multi)."""
        if SecFlag.USDT in self.sec_def.flags:
            return AttachType.TRACE_UPROBE_MULTI
        return self.sec_def.expected_attach_type

    @property
    def expected_attach_type_value(self) -> int:
        """The number written into ``bpf_attr.expected_attach_type`` (0 where there is none)."""
        eat = self.expected_attach_type
        return 0 if eat is None else int(eat)

    @property
    def flags(self) -> SecFlag:
        return self.sec_def.flags

    @property
    def sleepable(self) -> bool:
        return SecFlag.SLEEPABLE in self.sec_def.flags

    @property
    def xdp_frags(self) -> bool:
        return SecFlag.XDP_FRAGS in self.sec_def.flags

    @property
    def prog_flags(self) -> ProgLoadFlag:
        """``prog_flags`` libbpf adds at load for this section (sleepable, XDP frags)."""
        out = ProgLoadFlag(0)
        if self.sleepable:
            out |= ProgLoadFlag.SLEEPABLE
        if self.xdp_frags and self.prog_type is ProgType.XDP:
            out |= ProgLoadFlag.XDP_HAS_FRAGS
        return out

    @property
    def auto_attach(self) -> AutoAttach | None:
        return self.sec_def.auto_attach

    @property
    def is_retprobe(self) -> bool:
        """True for kretprobe / uretprobe / kretsyscall families (libbpf tests the prefix)."""
        return self.section.startswith(("kretprobe", "uretprobe", "kretsyscall"))

    @property
    def needs_btf_target(self) -> bool:
        """The program is loaded against a BTF id (fentry, lsm, iter, tp_btf, freplace...)."""
        return SecFlag.ATTACH_BTF in self.sec_def.flags

    @property
    def btf_target_name(self) -> str | None:
        """The BTF name libbpf looks up for ATTACH_BTF sections (``bpf_lsm_`` + hook etc.).

        ``module:func`` targets give the function part.  None if there is no target in the
        name (libbpf then needs ``bpf_program__set_attach_target``) or for ``freplace``
        (the target is a function of another BPF program).
        """
        if not self.needs_btf_target or not self.attach_target:
            return None
        if self.prog_type is ProgType.EXT:
            return None
        name = self.attach_target.split(":", 1)[1] if ":" in self.attach_target else self.attach_target
        match self.expected_attach_type:
            case AttachType.TRACE_RAW_TP:
                return "btf_trace_" + name
            case AttachType.LSM_MAC | AttachType.LSM_CGROUP:
                return "bpf_lsm_" + name
            case AttachType.TRACE_ITER:
                return "bpf_iter_" + name
            case _:
                return name

    def tracepoint(self) -> tuple[str, str] | None:
        """``(category, name)`` for ``tp/<category>/<name>`` sections, else None.

        None also for a tracepoint section whose target has no second ``/`` (libbpf refuses
        to auto-attach it).
        """
        if self.prog_type is not ProgType.TRACEPOINT or not self.attach_target:
            return None
        category, sep, name = self.attach_target.partition("/")
        if not sep:
            return None
        return category, name


P = ProgType
A = AttachType
F = SecFlag
AA = AutoAttach
_ATT_OPT = F.ATTACHABLE | F.EXP_ATTACH_OPT


def _d(pattern: str, prog_type: ProgType, attach: AttachType | None, flags: SecFlag = F.NONE,
       auto: AutoAttach | None = None) -> SecDef:
    return SecDef(pattern, prog_type, attach, flags, auto)


@functools.cache
def section_defs() -> tuple[SecDef, ...]:
    """libbpf 1.6's ``section_defs`` in order (first match wins)."""
    return (
        _d("socket", P.SOCKET_FILTER, None),
        _d("sk_reuseport/migrate", P.SK_REUSEPORT, A.SK_REUSEPORT_SELECT_OR_MIGRATE, F.ATTACHABLE),
        _d("sk_reuseport", P.SK_REUSEPORT, A.SK_REUSEPORT_SELECT, F.ATTACHABLE),
        _d("kprobe+", P.KPROBE, None, F.NONE, AA.KPROBE),
        _d("uprobe+", P.KPROBE, None, F.NONE, AA.UPROBE),
        _d("uprobe.s+", P.KPROBE, None, F.SLEEPABLE, AA.UPROBE),
        _d("kretprobe+", P.KPROBE, None, F.NONE, AA.KPROBE),
        _d("uretprobe+", P.KPROBE, None, F.NONE, AA.UPROBE),
        _d("uretprobe.s+", P.KPROBE, None, F.SLEEPABLE, AA.UPROBE),
        _d("kprobe.multi+", P.KPROBE, A.TRACE_KPROBE_MULTI, F.NONE, AA.KPROBE_MULTI),
        _d("kretprobe.multi+", P.KPROBE, A.TRACE_KPROBE_MULTI, F.NONE, AA.KPROBE_MULTI),
        _d("kprobe.session+", P.KPROBE, A.TRACE_KPROBE_SESSION, F.NONE, AA.KPROBE_SESSION),
        _d("uprobe.multi+", P.KPROBE, A.TRACE_UPROBE_MULTI, F.NONE, AA.UPROBE_MULTI),
        _d("uretprobe.multi+", P.KPROBE, A.TRACE_UPROBE_MULTI, F.NONE, AA.UPROBE_MULTI),
        _d("uprobe.session+", P.KPROBE, A.TRACE_UPROBE_SESSION, F.NONE, AA.UPROBE_MULTI),
        _d("uprobe.multi.s+", P.KPROBE, A.TRACE_UPROBE_MULTI, F.SLEEPABLE, AA.UPROBE_MULTI),
        _d("uretprobe.multi.s+", P.KPROBE, A.TRACE_UPROBE_MULTI, F.SLEEPABLE, AA.UPROBE_MULTI),
        _d("uprobe.session.s+", P.KPROBE, A.TRACE_UPROBE_SESSION, F.SLEEPABLE, AA.UPROBE_MULTI),
        _d("ksyscall+", P.KPROBE, None, F.NONE, AA.KSYSCALL),
        _d("kretsyscall+", P.KPROBE, None, F.NONE, AA.KSYSCALL),
        _d("usdt+", P.KPROBE, None, F.USDT, AA.USDT),
        _d("usdt.s+", P.KPROBE, None, F.USDT | F.SLEEPABLE, AA.USDT),
        _d("tc/ingress", P.SCHED_CLS, A.TCX_INGRESS),
        _d("tc/egress", P.SCHED_CLS, A.TCX_EGRESS),
        _d("tcx/ingress", P.SCHED_CLS, A.TCX_INGRESS),
        _d("tcx/egress", P.SCHED_CLS, A.TCX_EGRESS),
        _d("tc", P.SCHED_CLS, None),
        _d("classifier", P.SCHED_CLS, None),
        _d("action", P.SCHED_ACT, None),
        _d("netkit/primary", P.SCHED_CLS, A.NETKIT_PRIMARY),
        _d("netkit/peer", P.SCHED_CLS, A.NETKIT_PEER),
        _d("tracepoint+", P.TRACEPOINT, None, F.NONE, AA.TRACEPOINT),
        _d("tp+", P.TRACEPOINT, None, F.NONE, AA.TRACEPOINT),
        _d("raw_tracepoint+", P.RAW_TRACEPOINT, None, F.NONE, AA.RAW_TRACEPOINT),
        _d("raw_tp+", P.RAW_TRACEPOINT, None, F.NONE, AA.RAW_TRACEPOINT),
        _d("raw_tracepoint.w+", P.RAW_TRACEPOINT_WRITABLE, None, F.NONE, AA.RAW_TRACEPOINT),
        _d("raw_tp.w+", P.RAW_TRACEPOINT_WRITABLE, None, F.NONE, AA.RAW_TRACEPOINT),
        _d("tp_btf+", P.TRACING, A.TRACE_RAW_TP, F.ATTACH_BTF, AA.TRACE),
        _d("fentry+", P.TRACING, A.TRACE_FENTRY, F.ATTACH_BTF, AA.TRACE),
        _d("fmod_ret+", P.TRACING, A.MODIFY_RETURN, F.ATTACH_BTF, AA.TRACE),
        _d("fexit+", P.TRACING, A.TRACE_FEXIT, F.ATTACH_BTF, AA.TRACE),
        _d("fentry.s+", P.TRACING, A.TRACE_FENTRY, F.ATTACH_BTF | F.SLEEPABLE, AA.TRACE),
        _d("fmod_ret.s+", P.TRACING, A.MODIFY_RETURN, F.ATTACH_BTF | F.SLEEPABLE, AA.TRACE),
        _d("fexit.s+", P.TRACING, A.TRACE_FEXIT, F.ATTACH_BTF | F.SLEEPABLE, AA.TRACE),
        _d("freplace+", P.EXT, None, F.ATTACH_BTF, AA.TRACE),
        _d("lsm+", P.LSM, A.LSM_MAC, F.ATTACH_BTF, AA.LSM),
        _d("lsm.s+", P.LSM, A.LSM_MAC, F.ATTACH_BTF | F.SLEEPABLE, AA.LSM),
        _d("lsm_cgroup+", P.LSM, A.LSM_CGROUP, F.ATTACH_BTF),
        _d("iter+", P.TRACING, A.TRACE_ITER, F.ATTACH_BTF, AA.ITER),
        _d("iter.s+", P.TRACING, A.TRACE_ITER, F.ATTACH_BTF | F.SLEEPABLE, AA.ITER),
        _d("syscall", P.SYSCALL, None, F.SLEEPABLE),
        _d("xdp.frags/devmap", P.XDP, A.XDP_DEVMAP, F.XDP_FRAGS),
        _d("xdp/devmap", P.XDP, A.XDP_DEVMAP, F.ATTACHABLE),
        _d("xdp.frags/cpumap", P.XDP, A.XDP_CPUMAP, F.XDP_FRAGS),
        _d("xdp/cpumap", P.XDP, A.XDP_CPUMAP, F.ATTACHABLE),
        _d("xdp.frags", P.XDP, A.XDP, F.XDP_FRAGS),
        _d("xdp", P.XDP, A.XDP, _ATT_OPT),
        _d("perf_event", P.PERF_EVENT, None),
        _d("lwt_in", P.LWT_IN, None),
        _d("lwt_out", P.LWT_OUT, None),
        _d("lwt_xmit", P.LWT_XMIT, None),
        _d("lwt_seg6local", P.LWT_SEG6LOCAL, None),
        _d("sockops", P.SOCK_OPS, A.CGROUP_SOCK_OPS, _ATT_OPT),
        _d("sk_skb/stream_parser", P.SK_SKB, A.SK_SKB_STREAM_PARSER, _ATT_OPT),
        _d("sk_skb/stream_verdict", P.SK_SKB, A.SK_SKB_STREAM_VERDICT, _ATT_OPT),
        _d("sk_skb/verdict", P.SK_SKB, A.SK_SKB_VERDICT, _ATT_OPT),
        _d("sk_skb", P.SK_SKB, None),
        _d("sk_msg", P.SK_MSG, A.SK_MSG_VERDICT, _ATT_OPT),
        _d("lirc_mode2", P.LIRC_MODE2, A.LIRC_MODE2, _ATT_OPT),
        _d("flow_dissector", P.FLOW_DISSECTOR, A.FLOW_DISSECTOR, _ATT_OPT),
        _d("cgroup_skb/ingress", P.CGROUP_SKB, A.CGROUP_INET_INGRESS, _ATT_OPT),
        _d("cgroup_skb/egress", P.CGROUP_SKB, A.CGROUP_INET_EGRESS, _ATT_OPT),
        _d("cgroup/skb", P.CGROUP_SKB, None),
        _d("cgroup/sock_create", P.CGROUP_SOCK, A.CGROUP_INET_SOCK_CREATE, F.ATTACHABLE),
        _d("cgroup/sock_release", P.CGROUP_SOCK, A.CGROUP_INET_SOCK_RELEASE, F.ATTACHABLE),
        _d("cgroup/sock", P.CGROUP_SOCK, A.CGROUP_INET_SOCK_CREATE, _ATT_OPT),
        _d("cgroup/post_bind4", P.CGROUP_SOCK, A.CGROUP_INET4_POST_BIND, F.ATTACHABLE),
        _d("cgroup/post_bind6", P.CGROUP_SOCK, A.CGROUP_INET6_POST_BIND, F.ATTACHABLE),
        _d("cgroup/bind4", P.CGROUP_SOCK_ADDR, A.CGROUP_INET4_BIND, F.ATTACHABLE),
        _d("cgroup/bind6", P.CGROUP_SOCK_ADDR, A.CGROUP_INET6_BIND, F.ATTACHABLE),
        _d("cgroup/connect4", P.CGROUP_SOCK_ADDR, A.CGROUP_INET4_CONNECT, F.ATTACHABLE),
        _d("cgroup/connect6", P.CGROUP_SOCK_ADDR, A.CGROUP_INET6_CONNECT, F.ATTACHABLE),
        _d("cgroup/connect_unix", P.CGROUP_SOCK_ADDR, A.CGROUP_UNIX_CONNECT, F.ATTACHABLE),
        _d("cgroup/sendmsg4", P.CGROUP_SOCK_ADDR, A.CGROUP_UDP4_SENDMSG, F.ATTACHABLE),
        _d("cgroup/sendmsg6", P.CGROUP_SOCK_ADDR, A.CGROUP_UDP6_SENDMSG, F.ATTACHABLE),
        _d("cgroup/sendmsg_unix", P.CGROUP_SOCK_ADDR, A.CGROUP_UNIX_SENDMSG, F.ATTACHABLE),
        _d("cgroup/recvmsg4", P.CGROUP_SOCK_ADDR, A.CGROUP_UDP4_RECVMSG, F.ATTACHABLE),
        _d("cgroup/recvmsg6", P.CGROUP_SOCK_ADDR, A.CGROUP_UDP6_RECVMSG, F.ATTACHABLE),
        _d("cgroup/recvmsg_unix", P.CGROUP_SOCK_ADDR, A.CGROUP_UNIX_RECVMSG, F.ATTACHABLE),
        _d("cgroup/getpeername4", P.CGROUP_SOCK_ADDR, A.CGROUP_INET4_GETPEERNAME, F.ATTACHABLE),
        _d("cgroup/getpeername6", P.CGROUP_SOCK_ADDR, A.CGROUP_INET6_GETPEERNAME, F.ATTACHABLE),
        _d("cgroup/getpeername_unix", P.CGROUP_SOCK_ADDR, A.CGROUP_UNIX_GETPEERNAME, F.ATTACHABLE),
        _d("cgroup/getsockname4", P.CGROUP_SOCK_ADDR, A.CGROUP_INET4_GETSOCKNAME, F.ATTACHABLE),
        _d("cgroup/getsockname6", P.CGROUP_SOCK_ADDR, A.CGROUP_INET6_GETSOCKNAME, F.ATTACHABLE),
        _d("cgroup/getsockname_unix", P.CGROUP_SOCK_ADDR, A.CGROUP_UNIX_GETSOCKNAME, F.ATTACHABLE),
        _d("cgroup/sysctl", P.CGROUP_SYSCTL, A.CGROUP_SYSCTL, F.ATTACHABLE),
        _d("cgroup/getsockopt", P.CGROUP_SOCKOPT, A.CGROUP_GETSOCKOPT, F.ATTACHABLE),
        _d("cgroup/setsockopt", P.CGROUP_SOCKOPT, A.CGROUP_SETSOCKOPT, F.ATTACHABLE),
        _d("cgroup/dev", P.CGROUP_DEVICE, A.CGROUP_DEVICE, _ATT_OPT),
        _d("struct_ops+", P.STRUCT_OPS, None),
        _d("struct_ops.s+", P.STRUCT_OPS, None, F.SLEEPABLE),
        _d("sk_lookup", P.SK_LOOKUP, A.SK_LOOKUP, F.ATTACHABLE),
        _d("netfilter", P.NETFILTER, A.NETFILTER),
    )


def classify_section(name: str) -> SectionInfo | None:
    """What libbpf makes of ``SEC(name)``; None where libbpf 1.x would not recognise it.

    A leading ``?`` turns autoload off and is otherwise ignored (``SEC("?xdp")`` is an XDP
    program that libbpf does not load by default).
    """
    autoload = not name.startswith("?")
    if not autoload:
        name = name[1:]
    for sec_def in section_defs():
        if sec_def.matches(name):
            target: str | None = None
            if sec_def.pattern.endswith("+") and len(name) > len(sec_def.prefix):
                target = name[len(sec_def.prefix) + 1:]
            return SectionInfo(name, sec_def, target, autoload)
    return None

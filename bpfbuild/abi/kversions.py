"""When each BPF feature appeared in mainline Linux, and target kernels to check objects against.

Source of the facts (kernel release that first shipped each helper, map type and program type):
the public "BPF Features by Linux Kernel Version" document (bcc's docs/kernel-versions.md,
which cites the introducing kernel commit of each row), cross-checked against the helper ids of
the UAPI header (``___BPF_FUNC_MAPPER``) bpfbuild's abi tables are generated from.  Rows the
document lacks (skc_to_mptcp_sock, cgrp_storage map, arena map, netfilter programs) and the
instruction/verifier facts come from the kernel's own history (UAPI bpf.h and verifier.c,
release by release).  The table is data, restated here per release; there is no generator.

Per program type: whether a program type may call a helper at all is today's rule
(:mod:`bpfbuild.abi.protos`); when a helper reached a program type later than it was added
(``bpf_get_socket_cookie``: socket filters and tc 4.12, sock_ops and cgroup sock_addr 4.19,
cgroup sock 5.7, fentry/LSM 5.12, sk_reuseport 5.14) is :data:`HELPER_PROG_TYPE_VERSIONS`, read
from the kernel's sources release by release (the table's comment says how).  Which program
types may use a map whose value holds a spin lock, timer, workqueue, list or rbtree, and since
when, is :func:`map_field_since` (kprobe/tracepoint/perf_event/raw_tracepoint programs never
could up to 6.18).  A probe target (``bpfbuild probe --json``)
answers exactly for its kernel.  Stable and
distribution kernels backport features: a version target is mainline's promise, a probe file
is the truth for one kernel build.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["FEATURE_VERSIONS", "Version", "HELPER_PROG_TYPE_VERSIONS", "HELPER_VERSIONS", "KernelFeatures",
           "MAP_TYPE_VERSIONS", "PROG_TYPE_VERSIONS", "TargetError", "helper_since", "helper_since_for",
           "map_field_since", "map_type_since", "parse_version", "prog_type_since", "version_text"]

Version = tuple[int, int]

# helper names (without bpf_), grouped by the release that added them
_HELPERS_BY_RELEASE = """
3.19: map_lookup_elem map_update_elem map_delete_elem
4.1: probe_read ktime_get_ns trace_printk get_prandom_u32 get_smp_processor_id skb_store_bytes
     l3_csum_replace l4_csum_replace
4.2: tail_call clone_redirect get_current_pid_tgid get_current_uid_gid get_current_comm
4.3: get_cgroup_classid skb_vlan_push skb_vlan_pop skb_get_tunnel_key skb_set_tunnel_key perf_event_read
4.4: redirect get_route_realm perf_event_output
4.5: skb_load_bytes
4.6: get_stackid csum_diff skb_get_tunnel_opt skb_set_tunnel_opt
4.8: skb_change_proto skb_change_type skb_under_cgroup get_hash_recalc get_current_task probe_write_user
4.9: current_task_under_cgroup skb_change_tail skb_pull_data csum_update set_hash_invalid
4.10: get_numa_node_id skb_change_head xdp_adjust_head
4.11: probe_read_str
4.12: get_socket_cookie get_socket_uid
4.13: set_hash setsockopt skb_adjust_room
4.14: redirect_map sk_redirect_map sock_map_update
4.15: xdp_adjust_meta perf_event_read_value perf_prog_read_value getsockopt
4.16: override_return sock_ops_cb_flags_set
4.17: msg_redirect_map msg_apply_bytes msg_cork_bytes msg_pull_data bind
4.18: xdp_adjust_tail skb_get_xfrm_state get_stack skb_load_bytes_relative fib_lookup sock_hash_update
      msg_redirect_hash sk_redirect_hash lwt_push_encap lwt_seg6_store_bytes lwt_seg6_adjust_srh
      lwt_seg6_action rc_repeat rc_keydown skb_cgroup_id get_current_cgroup_id
4.19: get_local_storage sk_select_reuseport skb_ancestor_cgroup_id
4.20: sk_lookup_tcp sk_lookup_udp sk_release map_push_elem map_pop_elem map_peek_elem msg_push_data
5.0: msg_pop_data rc_pointer_rel
5.1: spin_lock spin_unlock sk_fullsock tcp_sock skb_ecn_set_ce get_listener_sock
5.2: skc_lookup_tcp tcp_check_syncookie sysctl_get_name sysctl_get_current_value sysctl_get_new_value
     sysctl_set_new_value strtol strtoul sk_storage_get sk_storage_delete
5.3: send_signal tcp_gen_syncookie
5.5: skb_output probe_read_user probe_read_kernel probe_read_user_str probe_read_kernel_str tcp_send_ack
     send_signal_thread jiffies64
5.6: read_branch_records xdp_output get_current_ancestor_cgroup_id sk_assign
5.7: get_ns_current_pid_tgid get_netns_cookie seq_printf seq_write sk_cgroup_id sk_ancestor_cgroup_id
     csum_level
5.8: ktime_get_boot_ns ringbuf_output ringbuf_reserve ringbuf_submit ringbuf_discard ringbuf_query
5.9: skc_to_tcp6_sock skc_to_tcp_sock skc_to_tcp_timewait_sock skc_to_tcp_request_sock skc_to_udp6_sock
     get_task_stack
5.10: load_hdr_opt store_hdr_opt reserve_hdr_opt inode_storage_get inode_storage_delete d_path
      copy_from_user snprintf_btf seq_printf_btf skb_cgroup_classid redirect_neigh per_cpu_ptr
      this_cpu_ptr redirect_peer
5.11: task_storage_get task_storage_delete get_current_task_btf bprm_opts_set ktime_get_coarse_ns
      ima_inode_hash sock_from_file
5.12: check_mtu
5.13: for_each_map_elem snprintf
5.14: sys_bpf btf_find_by_name_kind sys_close
5.15: timer_init timer_set_callback timer_start timer_cancel get_func_ip get_attach_cookie task_pt_regs
5.16: get_branch_snapshot trace_vprintk skc_to_unix_sock kallsyms_lookup_name
5.17: find_vma loop strncmp get_func_arg get_func_ret get_func_arg_cnt
5.18: get_retval set_retval xdp_get_buff_len xdp_load_bytes xdp_store_bytes copy_from_user_task
      skb_set_tstamp ima_file_hash
5.19: kptr_xchg map_lookup_percpu_elem skc_to_mptcp_sock dynptr_from_mem ringbuf_reserve_dynptr
      ringbuf_submit_dynptr ringbuf_discard_dynptr dynptr_read dynptr_write dynptr_data
6.0: tcp_raw_gen_syncookie_ipv4 tcp_raw_gen_syncookie_ipv6 tcp_raw_check_syncookie_ipv4
     tcp_raw_check_syncookie_ipv6
6.1: ktime_get_tai_ns user_ringbuf_drain
6.2: cgrp_storage_get cgrp_storage_delete
"""

# enum bpf_map_type members (bpfbuild's MapType names), by the release that added them
_MAP_TYPES_BY_RELEASE = """
3.19: HASH ARRAY
4.2: PROG_ARRAY
4.3: PERF_EVENT_ARRAY
4.6: PERCPU_HASH PERCPU_ARRAY STACK_TRACE
4.8: CGROUP_ARRAY
4.10: LRU_HASH LRU_PERCPU_HASH
4.11: LPM_TRIE
4.12: ARRAY_OF_MAPS HASH_OF_MAPS
4.14: DEVMAP SOCKMAP
4.15: CPUMAP
4.18: XSKMAP SOCKHASH
4.19: CGROUP_STORAGE REUSEPORT_SOCKARRAY
4.20: PERCPU_CGROUP_STORAGE QUEUE STACK
5.2: SK_STORAGE
5.4: DEVMAP_HASH
5.6: STRUCT_OPS
5.8: RINGBUF
5.10: INODE_STORAGE
5.11: TASK_STORAGE
5.16: BLOOM_FILTER
6.1: USER_RINGBUF
6.2: CGRP_STORAGE
6.9: ARENA
"""

# enum bpf_prog_type members (bpfbuild's ProgType names), by the release that added them
_PROG_TYPES_BY_RELEASE = """
3.19: SOCKET_FILTER
4.1: KPROBE SCHED_CLS SCHED_ACT
4.7: TRACEPOINT
4.8: XDP
4.9: PERF_EVENT
4.10: CGROUP_SKB CGROUP_SOCK LWT_IN LWT_OUT LWT_XMIT
4.13: SOCK_OPS
4.14: SK_SKB
4.15: CGROUP_DEVICE
4.17: SK_MSG RAW_TRACEPOINT CGROUP_SOCK_ADDR
4.18: LWT_SEG6LOCAL LIRC_MODE2
4.19: SK_REUSEPORT
4.20: FLOW_DISSECTOR
5.2: CGROUP_SYSCTL RAW_TRACEPOINT_WRITABLE
5.3: CGROUP_SOCKOPT
5.5: TRACING
5.6: STRUCT_OPS EXT
5.7: LSM
5.9: SK_LOOKUP
5.14: SYSCALL
6.4: NETFILTER
"""

# Helpers offered to a program type in a later release than the helper itself (and than the
# program type): "release: helper names @ PROG_TYPEs or groups of _PROG_TYPE_GROUPS".
#
# Source of the facts: the kernel's own sources, release by release: for each release the
# program types' get_func_proto chains (net/core/filter.c, kernel/trace/bpf_trace.c,
# kernel/bpf/helpers.c, cgroup.c, bpf_lsm.c, bpf_tcp_ca.c, nf_bpf_link.c, bpf-lirc.c, each
# `case BPF_FUNC_x:` that returns a prototype, followed through the *_func_proto functions a
# type's verifier ops delegate to), read in the public source trees of 37 releases (4.12, 4.14-4.17,
# 4.19-5.0, 5.2-5.4, 5.6-5.12, 5.14, 5.15, 5.17, 5.19-6.5, 6.8-6.14, 6.17, 6.18; 5.14 and 5.17 at -rc5);
# a row's release is the first of those trees that offers the pair.  Cross-checked with isovalent/ebpf-docs
# (docs/linux/helper-function/*.md tag the later program types of a helper with the release and
# commit: get_current_pid_tgid 6.10, get_netns_cookie in tc 6.13 and in socket filters/cgroup skb
# 6.15, cgroup ids in networking programs 6.4, get/setsockopt 5.8/5.15/6.0, get_attach_cookie in
# tracing 5.19, sk_storage in tracing 5.11).  84 of its 92 tagged pairs agree; of the other 8, two
# are netfilter programs (the program type itself is 6.4) and six are cgroup device/sysctl/sockopt
# programs, which the sources show calling get_current_pid_tgid and the cgroup ids from 6.1
# (cgroup_current_func_proto) where ebpf-docs dates the networking change (6.4/6.10).  Where a release is
# missing from the trees the pair arrived with the helper or the program type if either is new in
# the gap; otherwise the gap's release is the dated commit's: bpf_redirect in XDP 4.14,
# bpf_lwt_push_encap in lwt_xmit 5.1, task storage in tracing programs 5.13, get_netns_cookie 6.15
# (ebpf-docs), and the tracing helpers bpf_base_func_proto offers every program type with
# CAP_PERFMON (copy_from_user, send_signal, task_storage_*, get_current_comm, ... row 6.16:
# absent in 6.14, present in 6.17; 6.16 is the series' release).  Conditions inside a case
# (attach type, capabilities, Kconfig) are not modelled: the row says the program type may call
# it at all; pairs whose every attach type gets NULL are left out.  848 (helper, program type) pairs.
_HELPER_PROG_TYPES_BY_RELEASE = """
4.14: get_current_uid_gid @ CGROUP_SOCK
4.14: redirect @ XDP
4.16: csum_diff @ XDP
4.19: get_socket_cookie @ CGROUP_SOCK_ADDR SOCK_OPS
4.20: get_current_cgroup_id @ CGROUP_DEVICE
5.0: perf_event_output @ SOCK_OPS
5.0: sk_lookup_tcp sk_lookup_udp sk_release @ CGROUP_SOCK_ADDR XDP
5.1: lwt_push_encap @ LWT_XMIT
5.2: map_peek_elem map_pop_elem map_push_elem @ CGROUP_DEVICE KPROBE LIRC_MODE2 PERF_EVENT RAW_TRACEPOINT
      TRACEPOINT
5.3: sk_storage_delete sk_storage_get @ CGROUP_SOCK_ADDR SOCK_OPS
5.3: skb_cgroup_id @ CGROUP_SKB
5.3: tcp_sock @ SOCK_OPS
5.4: perf_event_output @ CGROUP_SKB SK_SKB SOCKET_FILTER
5.4: tcp_gen_syncookie @ TC XDP
5.7: get_cgroup_classid get_current_ancestor_cgroup_id get_current_cgroup_id get_current_comm
      get_current_pid_tgid perf_event_output @ CGROUP_SOCK CGROUP_SOCK_ADDR
5.7: get_socket_cookie @ CGROUP_SOCK
5.7: perf_event_read_value @ PERF_EVENT RAW_TRACEPOINT RAW_TRACEPOINT_WRITABLE TRACEPOINT TRACING
5.7: read_branch_records @ PERF_EVENT
5.7: sk_assign @ TC
5.7: sk_storage_delete sk_storage_get @ STRUCT_OPS
5.7: xdp_output @ TRACING
5.8: csum_level @ TC LWT_XMIT
5.8: get_cgroup_classid get_current_ancestor_cgroup_id get_current_cgroup_id get_current_pid_tgid
      get_current_uid_gid sk_storage_delete sk_storage_get @ SK_MSG
5.8: get_current_task probe_read_kernel probe_read_kernel_str probe_read_user probe_read_user_str @
      NON_TRACING
5.8: get_numa_node_id get_prandom_u32 get_smp_processor_id jiffies64 ktime_get_ns spin_lock spin_unlock
      tail_call @ CGROUP_DEVICE CGROUP_SOCKOPT CGROUP_SYSCTL
5.8: get_stack get_stackid skb_output xdp_output @ LSM
5.8: getsockopt setsockopt @ CGROUP_SOCK_ADDR
5.8: perf_event_output @ CGROUP_DEVICE CGROUP_SOCKOPT CGROUP_SYSCTL LSM SK_MSG
5.8: seq_printf seq_write @ LSM TRACING
5.8: sk_ancestor_cgroup_id sk_cgroup_id sk_lookup_tcp sk_lookup_udp sk_release skb_ancestor_cgroup_id
      skc_lookup_tcp @ CGROUP_SKB
5.8: skb_change_head @ TC
5.9: jiffies64 @ TRACE_PROBES LSM TRACING
5.9: sk_storage_get @ CGROUP_SOCK
5.10: sk_storage_delete sk_storage_get @ LSM
5.10: skb_adjust_room @ SK_SKB
5.10: skc_to_tcp6_sock skc_to_tcp_request_sock skc_to_tcp_sock skc_to_tcp_timewait_sock skc_to_udp6_sock @
      LWT TC CGROUP_SKB CGROUP_SOCK_ADDR FLOW_DISSECTOR SK_LOOKUP SK_MSG SK_SKB SOCKET_FILTER SOCK_OPS XDP
5.11: sk_storage_delete sk_storage_get @ TRACING
5.11: spin_lock spin_unlock @ LSM
5.12: get_socket_cookie @ LSM TRACING
5.13: task_storage_delete task_storage_get @ TRACE_PROBES TRACING
5.14: get_current_ancestor_cgroup_id @ TRACE_PROBES LSM TRACING
5.14: get_socket_cookie @ SK_REUSEPORT
5.15: get_current_task_btf @ NON_TRACING
5.15: get_netns_cookie @ CGROUP_SOCKOPT SK_MSG SOCK_OPS
5.15: getsockopt setsockopt @ CGROUP_SOCKOPT STRUCT_OPS
5.15: spin_lock spin_unlock @ TRACE_PROBES SYSCALL TRACING
5.19: get_attach_cookie @ LSM TRACING
6.0: get_local_storage get_retval getsockopt set_retval setsockopt @ LSM
6.1: get_cgroup_classid get_current_ancestor_cgroup_id get_current_comm get_current_pid_tgid @ CGROUP_DEVICE
      CGROUP_SOCKOPT CGROUP_SYSCTL
6.1: get_retval set_retval @ CGROUP_SOCK CGROUP_SOCK_ADDR
6.1: strtol strtoul @ TRACE_PROBES LWT TC CGROUP_DEVICE CGROUP_SKB CGROUP_SOCK CGROUP_SOCKOPT
      CGROUP_SOCK_ADDR FLOW_DISSECTOR LSM SK_LOOKUP SK_MSG SK_REUSEPORT SK_SKB SOCKET_FILTER SOCK_OPS
      STRUCT_OPS SYSCALL TRACING XDP
6.4: get_current_ancestor_cgroup_id get_current_cgroup_id @ LWT TC CGROUP_SKB FLOW_DISSECTOR SK_LOOKUP
      SK_REUSEPORT SK_SKB SOCKET_FILTER SOCK_OPS STRUCT_OPS XDP
6.10: get_attach_cookie @ RAW_TRACEPOINT RAW_TRACEPOINT_WRITABLE
6.10: get_current_pid_tgid @ LWT TC CGROUP_SKB FLOW_DISSECTOR NETFILTER SK_LOOKUP SK_REUSEPORT SK_SKB
      SOCKET_FILTER SOCK_OPS STRUCT_OPS XDP
6.10: get_ns_current_pid_tgid @ NON_TRACING
6.12: current_task_under_cgroup @ CGROUP_DEVICE CGROUP_SOCK CGROUP_SOCKOPT CGROUP_SOCK_ADDR CGROUP_SYSCTL
6.13: get_netns_cookie @ TC
6.15: get_netns_cookie @ CGROUP_SKB SOCKET_FILTER
6.16: copy_from_user copy_from_user_task find_vma get_branch_snapshot get_task_stack perf_event_read
      perf_event_read_value send_signal send_signal_thread task_storage_delete task_storage_get @
      NON_TRACING
6.16: current_task_under_cgroup get_current_comm @ LWT TC CGROUP_SKB FLOW_DISSECTOR NETFILTER SK_LOOKUP
      SK_MSG SK_REUSEPORT SK_SKB SOCKET_FILTER SOCK_OPS STRUCT_OPS XDP
6.16: get_cgroup_classid @ TRACE_PROBES CGROUP_SKB FLOW_DISSECTOR LSM NETFILTER SK_LOOKUP SK_REUSEPORT
      SK_SKB SOCKET_FILTER SOCK_OPS STRUCT_OPS SYSCALL TRACING XDP
6.16: get_current_uid_gid @ LWT TC CGROUP_SKB FLOW_DISSECTOR NETFILTER SK_LOOKUP SK_REUSEPORT SK_SKB
      SOCKET_FILTER SOCK_OPS STRUCT_OPS XDP
"""

# groups of program types in the table above
_PROG_TYPE_GROUPS: Mapping[str, tuple[str, ...]] = {
    # is_tracing_prog_type() in kernel/bpf/verifier.c (RAW_TRACEPOINT_WRITABLE counted from 6.0)
    "TRACE_PROBES": ("KPROBE", "TRACEPOINT", "PERF_EVENT", "RAW_TRACEPOINT", "RAW_TRACEPOINT_WRITABLE"),
    # types whose helpers end in bpf_base_func_proto without the tracing set (networking, cgroup)
    "NON_TRACING": ("SOCKET_FILTER", "SCHED_CLS", "SCHED_ACT", "XDP", "CGROUP_SKB", "CGROUP_SOCK",
                    "CGROUP_SOCK_ADDR", "LWT_IN", "LWT_OUT", "LWT_XMIT", "LWT_SEG6LOCAL", "SOCK_OPS", "SK_SKB",
                    "SK_MSG", "FLOW_DISSECTOR", "SK_REUSEPORT", "SK_LOOKUP", "CGROUP_DEVICE", "CGROUP_SYSCTL",
                    "CGROUP_SOCKOPT", "STRUCT_OPS", "NETFILTER"),
    "LWT": ("LWT_IN", "LWT_OUT", "LWT_XMIT", "LWT_SEG6LOCAL"),
    "TC": ("SCHED_CLS", "SCHED_ACT"),
}

# Special fields of map values by program type: check_map_prog_compatibility in
# kernel/bpf/verifier.c, read in the same trees.  field -> (release that added it, program types
# that can never use it, or since when one may).  The kernel's messages: "tracing progs cannot use
# bpf_spin_lock yet", "socket filter progs cannot use bpf_spin_lock yet", "sleepable progs cannot
# use bpf_spin_lock yet" (5.11 to 6.5; gone in 6.8, the commit is 6.6's), "tracing progs cannot use
# bpf_timer yet" (from 5.15, the release of timers), bpf_wq (6.10) and bpf_{list_head,rb_root}
# (6.2/6.3) likewise; none of these was lifted up to 6.18.  "Tracing progs" are TRACE_PROBES
# (RAW_TRACEPOINT_WRITABLE joined them in 6.0: before, it could use these fields).  Kptrs (5.19)
# have no program-type rule.  fentry/fexit/tp_btf (TRACING) and LSM programs use them once they
# may call the helpers: bpf_spin_lock in LSM 5.11, in TRACING 5.15 (table above).
_MAP_FIELDS: Mapping[str, tuple[Version, tuple[str, ...]]] = {
    "bpf_spin_lock": ((5, 1), ("SOCKET_FILTER", "TRACE_PROBES")),
    "bpf_timer": ((5, 15), ("TRACE_PROBES",)),
    "kptr": ((5, 19), ()),
    "bpf_list_head": ((6, 2), ("TRACE_PROBES",)),
    "bpf_rb_root": ((6, 3), ("TRACE_PROBES",)),
    "bpf_wq": ((6, 10), ("TRACE_PROBES",)),
}
_SLEEPABLE_SPIN_LOCK: tuple[Version, Version] = ((5, 11), (6, 6))   # refused in sleepable programs
_WRITABLE_IS_TRACING_SINCE: Version = (6, 0)

# instruction-set and verifier features: key -> (release, what the user reads)
FEATURE_VERSIONS: Mapping[str, tuple[Version, str]] = {
    "jmp_lt": ((4, 14), "JLT/JLE/JSLT/JSLE jumps (cpu v2)"),
    "bpf2bpf_calls": ((4, 16), "bpf-to-bpf function calls"),
    "jmp32": ((5, 1), "32-bit jumps (JMP32 class, cpu v3)"),
    "global_data": ((5, 2), "global variables (.data/.rodata/.bss maps)"),
    "insns_over_4096": ((5, 2), "more than 4,096 instructions (the limit was 4,096 before)"),
    "bounded_loops": ((5, 3), "bounded loops (back-edges)"),
    "atomics": ((5, 12), "atomic fetch/xchg/cmpxchg/and/or/xor instructions (cpu v3)"),
    "kfunc_calls": ((5, 13), "kfunc calls"),
    "callbacks": ((5, 13), "callback functions (ld_imm64 of a function)"),
    "cpu_v4": ((6, 6), "cpu v4 instructions (sdiv/smod, movsx, ldsx, bswap, gotol)"),
}


class TargetError(ValueError):
    """A target name or file that cannot be used."""


def parse_version(text: str) -> Version:
    """``"5.15"`` / ``"5.15.0-91-generic"`` -> ``(5, 15)``."""
    m = re.match(r"^\s*(\d+)\.(\d+)", text)
    if m is None:
        raise TargetError(f"{text!r} is not a kernel version (expected e.g. 5.15)")
    return int(m.group(1)), int(m.group(2))


def version_text(version: Version) -> str:
    return f"{version[0]}.{version[1]}"


def _parse(table: str) -> dict[str, Version]:
    out: dict[str, Version] = {}
    release: Version | None = None
    for line in table.strip().splitlines():
        head, sep, rest = line.partition(":")
        if sep and re.fullmatch(r"\d+\.\d+", head.strip()):
            release = parse_version(head)
            names = rest
        else:
            names = line
        assert release is not None
        for name in names.split():
            out[name] = release
    return out


@functools.cache
def _helpers() -> dict[str, Version]:
    return _parse(_HELPERS_BY_RELEASE)


def _rows(table: str) -> Iterator[tuple[Version, str]]:
    """``release: text`` rows, continuation lines (indented) joined to theirs."""
    release: Version | None = None
    text = ""
    for line in table.strip().splitlines():
        if line[:1].isspace():
            text += " " + line.strip()
            continue
        if release is not None:
            yield release, text
        head, _, text = line.partition(":")
        release = parse_version(head)
    if release is not None:
        yield release, text


def _types(words: str) -> list[str]:
    return [t for w in words.split() for t in _PROG_TYPE_GROUPS.get(w, (w,))]


@functools.cache
def _helper_prog_types() -> dict[tuple[str, str], Version]:
    out: dict[tuple[str, str], Version] = {}
    for release, text in _rows(_HELPER_PROG_TYPES_BY_RELEASE):
        names, _, types = text.partition("@")
        for name in names.split():
            for prog_type in _types(types):
                out[name, prog_type] = release
    return out


@functools.cache
def _map_types() -> dict[str, Version]:
    return _parse(_MAP_TYPES_BY_RELEASE)


@functools.cache
def _prog_types() -> dict[str, Version]:
    return _parse(_PROG_TYPES_BY_RELEASE)


def helper_since(name: str) -> Version | None:
    """The release that added helper ``name`` (with or without ``bpf_``)."""
    return _helpers().get(name.removeprefix("bpf_"))


def helper_since_for(name: str, prog_type: str | None) -> Version | None:
    """The release from which programs of ``prog_type`` may call helper ``name``: the helper's
    own release, or the later one that offered it to that program type."""
    bare = name.removeprefix("bpf_")
    since = helper_since(bare)
    later = _helper_prog_types().get((bare, prog_type.upper())) if prog_type else None
    if later is not None and (since is None or later > since):
        return later
    return since


def map_field_since(field: str, prog_type: str | None = None, *, sleepable: bool = False,
                    target: Version | None = None) -> tuple[Version | None, bool]:
    """For a map value holding special field ``field`` (``bpf_spin_lock``, ``bpf_timer``, ``kptr``,
    ``bpf_list_head``, ``bpf_rb_root``, ``bpf_wq``) referenced by a ``prog_type`` program: the
    release from which the kernel accepts it (None: not tabulated), and whether ``prog_type``
    can never use it (on ``target``, where the rule changed with releases)."""
    row = _MAP_FIELDS.get(field)
    if row is None:
        return None, False
    since, never = row
    pt = (prog_type or "").upper()
    refused = set(_types(" ".join(never)))
    if pt == "RAW_TRACEPOINT_WRITABLE" and target is not None and target < _WRITABLE_IS_TRACING_SINCE:
        refused.discard(pt)
    if pt in refused:
        return since, True
    if field == "bpf_spin_lock" and sleepable:
        since = max(since, _SLEEPABLE_SPIN_LOCK[1])
    return since, False


def map_type_since(name: str) -> Version | None:
    return _map_types().get(name.upper())


def prog_type_since(name: str) -> Version | None:
    return _prog_types().get(name.upper())


class _Lazy:
    def __init__(self, fn: Any) -> None:
        self.fn = fn

    def __getitem__(self, key: str) -> Version:
        return self.fn()[key]

    def __iter__(self) -> Any:
        return iter(self.fn())

    def __len__(self) -> int:
        return len(self.fn())

    def items(self) -> Any:
        return self.fn().items()

    def get(self, key: str, default: Any = None) -> Any:
        return self.fn().get(key, default)


HELPER_VERSIONS = _Lazy(_helpers)
HELPER_PROG_TYPE_VERSIONS = _Lazy(_helper_prog_types)   # (helper, PROG_TYPE) -> release
MAP_TYPE_VERSIONS = _Lazy(_map_types)
PROG_TYPE_VERSIONS = _Lazy(_prog_types)


@dataclass(frozen=True)
class KernelFeatures:
    """What a target kernel offers, for "will it load there?": a mainline version, or a probe
    (the running kernel's, or one saved with ``bpfbuild probe --json``) as a JSON mapping.

    The features side of a target; :class:`bpfbuild.abi.target.Target` is the side libbpf
    consults at load time (Kconfig, BTF, symbols for externs and CO-RE), and reads the same
    probe files."""

    name: str                                   # as configured: "5.15", "running", "fleet-a.json"
    version: Version | None = None              # mainline release (for a probe: its release's)
    probe: Mapping[str, Any] | None = field(default=None, compare=False, repr=False)

    @classmethod
    def from_version(cls, text: str) -> KernelFeatures:
        return cls(text, parse_version(text))

    @classmethod
    def from_probe(cls, name: str, data: Mapping[str, Any]) -> KernelFeatures:
        try:
            release = str(data["kernel"]["release"])
        except (KeyError, TypeError) as exc:
            raise TargetError(f"{name}: not a bpfbuild probe (no kernel.release)") from exc
        return cls(name, parse_version(release), data)

    @property
    def label(self) -> str:
        """How messages name the target: ``5.15``, ``running (Linux 6.18.44)``."""
        if self.probe is None:
            return self.name
        return f"{self.name} (Linux {self.probe['kernel']['release']})"

    # --- questions each return None (has it) or why not ------------------------------------

    def _since(self, since: Version | None, prog_type: str | None = None, *,
               plural: bool = False) -> str | None:
        """``needs Linux X[ in T programs]; target Y lacks it``, the verb agreeing with the
        subject the caller's message puts first: ``need`` after a plural one ("lsm programs")."""
        if since is None or self.version is None or since <= self.version:
            return None
        where = f" in {prog_type.lower()} programs" if prog_type else ""
        verb = "need" if plural else "needs"
        return f"{verb} Linux {version_text(since)}{where}; target {self.label} lacks it"

    def _helper_since(self, name: str, prog_type: str | None) -> str | None:
        """``needs Linux X[ in T programs]``: the per-type release named only where it is later
        than the helper's own."""
        own = helper_since(name)
        since = helper_since_for(name, prog_type)
        return self._since(since, prog_type if since != own else None)

    def lacks_helper(self, name: str, prog_type: str | None) -> str | None:
        bare = name.removeprefix("bpf_")
        if self.probe is not None:
            helpers: Mapping[str, Any] = self.probe.get("helpers", {})
            if prog_type is not None and prog_type in helpers:
                if bare in helpers[prog_type]:
                    return None
                by_version = self._helper_since(bare, prog_type)
                if by_version is not None:
                    return by_version
                return f"target {self.label} does not offer it to {prog_type.lower()} programs"
            if any(bare in names for names in helpers.values()) or not helpers:
                return None
            return f"target {self.label} offers it to no program type"
        return self._helper_since(bare, prog_type)

    def lacks_map_type(self, name: str) -> str | None:
        if self.probe is not None:
            value = self.probe.get("map_types", {}).get(name)
            if value is True or value is None:
                return None
            since = map_type_since(name)
            if since is not None and self.version is not None and since > self.version:
                return self._since(since)
            return f"target {self.label} cannot create it ({value})"
        return self._since(map_type_since(name))

    def lacks_map_field(self, name: str, prog_type: str | None, *, sleepable: bool = False) -> str | None:
        """A map value holding special field ``name`` in a ``prog_type`` program: from the
        release (a probe: its kernel's), since no verifier rule can be probed without the map."""
        since, never = map_field_since(name, prog_type, sleepable=sleepable, target=self.version)
        if never and prog_type is not None:
            return f"cannot be used by {prog_type.lower()} programs on any release (target {self.label})"
        later = since is not None and since != map_field_since(name)[0]
        return self._since(since, "SLEEPABLE" if later else None)

    def lacks_prog_type(self, name: str) -> str | None:
        """Programs of type ``name``: the reason follows a plural subject ("lsm programs need ...")."""
        if self.probe is not None:
            value = self.probe.get("prog_types", {}).get(name)
            if value is True or value is None:
                return None
            since = prog_type_since(name)
            if since is not None and self.version is not None and since > self.version:
                return self._since(since, plural=True)
            return f"target {self.label} cannot load it ({value})"
        return self._since(prog_type_since(name), plural=True)

    def lacks_feature(self, key: str) -> str | None:
        since, _ = FEATURE_VERSIONS[key]
        if self.probe is not None:
            isa = int(str(self.probe.get("isa", "v4")).lstrip("v"))
            limits = self.probe.get("limits", {})
            probed = {"jmp_lt": isa >= 2, "jmp32": isa >= 3, "cpu_v4": isa >= 4,
                      "bounded_loops": limits.get("bounded_loops", True),
                      "insns_over_4096": limits.get("more_than_4096_insns", True)}
            if key in probed:
                return None if probed[key] else (self._since(since) or f"target {self.label} lacks it")
        return self._since(since)

    def lacks_kfunc(self, name: str, since: Version | None = None) -> str | None:
        """A probe answers from its BTF; a version target from ``since`` (the kfunc's release, as
        a kfunc table gives it: None, not tabulated, lacks nothing beyond kfunc calls as such)."""
        if self.probe is not None:
            kfuncs = self.probe.get("kfuncs")
            if kfuncs and name not in kfuncs:
                return f"target {self.label} has no kfunc {name} (not in its BTF)"
            return None
        return self._since(since)

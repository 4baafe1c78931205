"""Kernel functions (kfuncs) of Linux 6.18: their flags and the program types that may call them.

A kfunc is a kernel function a BPF program calls by its BTF id (``call`` with src_reg
``BPF_PSEUDO_KFUNC_CALL``).  Its prototype comes from the target kernel's BTF; what BTF does not
say is here: the ``KF_*`` flags each kfunc is registered with (``BTF_ID_FLAGS(func, name,
flags)`` inside ``BTF_KFUNCS_START(set) ... BTF_KFUNCS_END(set)``) and the program types whose
kfunc hook holds the set (``register_btf_kfunc_id_set(BPF_PROG_TYPE_..., &set)``).

Facts gathered from the Linux 6.18 sources and written down as our own data:

- kernel/bpf/helpers.c: ``generic_btf_ids`` (registered for TRACING, SCHED_CLS, XDP,
  STRUCT_OPS, SYSCALL and CGROUP_SKB) and ``common_btf_ids`` (registered for
  BPF_PROG_TYPE_UNSPEC: every program type);
- kernel/bpf/cpumask.c: ``cpumask_kfunc_btf_ids`` (TRACING, STRUCT_OPS, SYSCALL);
- kernel/bpf/rqspinlock.c: ``rqspinlock_kfunc_ids`` (BPF_PROG_TYPE_UNSPEC: every program type);
- kernel/bpf/btf.c: ``bpf_prog_type_to_kfunc_hook`` -- program types share hooks: tracepoint,
  perf event and LSM programs use the tracing hook (raw tracepoints have no hook: only the
  common set; tp_btf programs are TRACING); every cgroup program type
  and sock_ops the cgroup hook; the lwt types one lwt hook.  ``btf_kfunc_id_set_contains``
  looks in the common hook first, then in the program type's.

The first release that has each kfunc (:func:`kfunc_since`, for "kfunc X needs Linux N") is
the version of the commit that added it, as the eBPF documentation project records it per kfunc
(docs.ebpf.io, ``docs/linux/kfuncs/<name>.md``); a kfunc whose version is not recorded there
has none here (no claim is made).

A kfunc absent from this table is not modelled: the verifier answers ``unknown`` for a program
that calls it rather than guessing its rules.
"""

from __future__ import annotations

import enum
import functools
from dataclasses import dataclass

from bpfbuild.abi.progtypes import ProgType

__all__ = ["KF", "Hook", "Kfunc", "kfunc_allowed", "kfunc_info", "kfunc_since", "kfuncs", "prog_type_hook"]


class KF(enum.IntFlag):
    """``KF_*`` kfunc flags (include/linux/btf.h); the bit values are ours."""

    ACQUIRE = 1 << 0
    RELEASE = 1 << 1
    RET_NULL = 1 << 2
    TRUSTED_ARGS = 1 << 4
    SLEEPABLE = 1 << 5
    DESTRUCTIVE = 1 << 6
    RCU = 1 << 7
    ITER_NEW = 1 << 8
    ITER_NEXT = 1 << 9
    ITER_DESTROY = 1 << 10
    RCU_PROTECTED = 1 << 11
    FASTCALL = 1 << 12


class Hook(enum.Enum):
    """``enum btf_kfunc_hook``: the registries kfunc sets are added to."""

    COMMON = "common"
    XDP = "xdp"
    TC = "tc"
    STRUCT_OPS = "struct_ops"
    TRACING = "tracing"
    SYSCALL = "syscall"
    FMODRET = "fmodret"
    CGROUP = "cgroup"
    SCHED_ACT = "sched_act"
    SK_SKB = "sk_skb"
    SOCKET_FILTER = "socket_filter"
    LWT = "lwt"
    NETFILTER = "netfilter"
    KPROBE = "kprobe"


_HOOK_OF = {
    ProgType.XDP: Hook.XDP,
    ProgType.SCHED_CLS: Hook.TC,
    ProgType.STRUCT_OPS: Hook.STRUCT_OPS,
    ProgType.TRACING: Hook.TRACING,
    ProgType.TRACEPOINT: Hook.TRACING,
    ProgType.PERF_EVENT: Hook.TRACING,
    ProgType.LSM: Hook.TRACING,
    ProgType.SYSCALL: Hook.SYSCALL,
    ProgType.CGROUP_SKB: Hook.CGROUP,
    ProgType.CGROUP_SOCK: Hook.CGROUP,
    ProgType.CGROUP_DEVICE: Hook.CGROUP,
    ProgType.CGROUP_SOCK_ADDR: Hook.CGROUP,
    ProgType.CGROUP_SOCKOPT: Hook.CGROUP,
    ProgType.CGROUP_SYSCTL: Hook.CGROUP,
    ProgType.SOCK_OPS: Hook.CGROUP,
    ProgType.SCHED_ACT: Hook.SCHED_ACT,
    ProgType.SK_SKB: Hook.SK_SKB,
    ProgType.SOCKET_FILTER: Hook.SOCKET_FILTER,
    ProgType.LWT_IN: Hook.LWT,
    ProgType.LWT_OUT: Hook.LWT,
    ProgType.LWT_XMIT: Hook.LWT,
    ProgType.LWT_SEG6LOCAL: Hook.LWT,
    ProgType.NETFILTER: Hook.NETFILTER,
    ProgType.KPROBE: Hook.KPROBE,
}


def prog_type_hook(prog_type: ProgType) -> Hook | None:
    """``bpf_prog_type_to_kfunc_hook``: the hook a program type's kfunc sets are registered in
    (None: a type with no hook of its own; it may still call the common set)."""
    return _HOOK_OF.get(prog_type)


@dataclass(frozen=True, slots=True)
class Kfunc:
    """One kfunc: its name, ``KF_*`` flags, the hooks its set is registered in and where the
    registration is (the source file of its set)."""

    name: str
    flags: KF
    hooks: frozenset[Hook]
    source: str


_A, _R, _N, _T, _S, _D, _U = KF.ACQUIRE, KF.RELEASE, KF.RET_NULL, KF.TRUSTED_ARGS, KF.SLEEPABLE, KF.DESTRUCTIVE, KF.RCU
_INEW, _INEXT, _IDEL, _RP, _FC = KF.ITER_NEW, KF.ITER_NEXT, KF.ITER_DESTROY, KF.RCU_PROTECTED, KF.FASTCALL
_0 = KF(0)

# (set name, source file, hooks, ((kfunc, flags), ...))
_SETS: tuple[tuple[str, str, frozenset[Hook], tuple[tuple[str, KF], ...]], ...] = (
    ("generic_btf_ids", "kernel/bpf/helpers.c",
     frozenset({Hook.TRACING, Hook.TC, Hook.XDP, Hook.STRUCT_OPS, Hook.SYSCALL, Hook.CGROUP}), (
        ("crash_kexec", _D),
        ("bpf_obj_new_impl", _A | _N),
        ("bpf_percpu_obj_new_impl", _A | _N),
        ("bpf_obj_drop_impl", _R),
        ("bpf_percpu_obj_drop_impl", _R),
        ("bpf_refcount_acquire_impl", _A | _N | _U),
        ("bpf_list_push_front_impl", _0),
        ("bpf_list_push_back_impl", _0),
        ("bpf_list_pop_front", _A | _N),
        ("bpf_list_pop_back", _A | _N),
        ("bpf_list_front", _N),
        ("bpf_list_back", _N),
        ("bpf_task_acquire", _A | _U | _N),
        ("bpf_task_release", _R),
        ("bpf_rbtree_remove", _A | _N),
        ("bpf_rbtree_add_impl", _0),
        ("bpf_rbtree_first", _N),
        ("bpf_rbtree_root", _N),
        ("bpf_rbtree_left", _N),
        ("bpf_rbtree_right", _N),
        ("bpf_cgroup_acquire", _A | _U | _N),
        ("bpf_cgroup_release", _R),
        ("bpf_cgroup_ancestor", _A | _U | _N),
        ("bpf_cgroup_from_id", _A | _N),
        ("bpf_task_under_cgroup", _U),
        ("bpf_task_get_cgroup1", _A | _U | _N),
        ("bpf_task_from_pid", _A | _N),
        ("bpf_task_from_vpid", _A | _N),
        ("bpf_throw", _0),
        ("bpf_send_signal_task", _T),
    )),
    ("common_btf_ids", "kernel/bpf/helpers.c", frozenset({Hook.COMMON}), (
        ("bpf_cast_to_kern_ctx", _FC),
        ("bpf_rdonly_cast", _FC),
        ("bpf_rcu_read_lock", _0),
        ("bpf_rcu_read_unlock", _0),
        ("bpf_dynptr_slice", _N),
        ("bpf_dynptr_slice_rdwr", _N),
        ("bpf_iter_num_new", _INEW),
        ("bpf_iter_num_next", _INEXT | _N),
        ("bpf_iter_num_destroy", _IDEL),
        ("bpf_iter_task_vma_new", _INEW | _U),
        ("bpf_iter_task_vma_next", _INEXT | _N),
        ("bpf_iter_task_vma_destroy", _IDEL),
        ("bpf_iter_css_task_new", _INEW | _T),
        ("bpf_iter_css_task_next", _INEXT | _N),
        ("bpf_iter_css_task_destroy", _IDEL),
        ("bpf_iter_css_new", _INEW | _T | _RP),
        ("bpf_iter_css_next", _INEXT | _N),
        ("bpf_iter_css_destroy", _IDEL),
        ("bpf_iter_task_new", _INEW | _T | _RP),
        ("bpf_iter_task_next", _INEXT | _N),
        ("bpf_iter_task_destroy", _IDEL),
        ("bpf_dynptr_adjust", _0),
        ("bpf_dynptr_is_null", _0),
        ("bpf_dynptr_is_rdonly", _0),
        ("bpf_dynptr_size", _0),
        ("bpf_dynptr_clone", _0),
        ("bpf_dynptr_copy", _0),
        ("bpf_modify_return_test_tp", _0),
        ("bpf_wq_init", _0),
        ("bpf_wq_set_callback_impl", _0),
        ("bpf_wq_start", _0),
        ("bpf_preempt_disable", _0),
        ("bpf_preempt_enable", _0),
        ("bpf_iter_bits_new", _INEW),
        ("bpf_iter_bits_next", _INEXT | _N),
        ("bpf_iter_bits_destroy", _IDEL),
        ("bpf_copy_from_user_str", _S),
        ("bpf_copy_from_user_task_str", _S),
        ("bpf_get_kmem_cache", _0),
        ("bpf_iter_kmem_cache_new", _INEW | _S),
        ("bpf_iter_kmem_cache_next", _INEXT | _N | _S),
        ("bpf_iter_kmem_cache_destroy", _IDEL | _S),
        ("bpf_local_irq_save", _0),
        ("bpf_local_irq_restore", _0),
        ("bpf_probe_read_user_dynptr", _0),
        ("bpf_probe_read_kernel_dynptr", _0),
        ("bpf_probe_read_user_str_dynptr", _0),
        ("bpf_probe_read_kernel_str_dynptr", _0),
        ("bpf_copy_from_user_dynptr", _S),
        ("bpf_copy_from_user_str_dynptr", _S),
        ("bpf_copy_from_user_task_dynptr", _S | _T),
        ("bpf_copy_from_user_task_str_dynptr", _S | _T),
        ("bpf_iter_dmabuf_new", _INEW | _S),
        ("bpf_iter_dmabuf_next", _INEXT | _N | _S),
        ("bpf_iter_dmabuf_destroy", _IDEL | _S),
        ("__bpf_trap", _0),
        *((f"bpf_{op}", _0) for op in (      # read-only string kfuncs: their pointers are __ign
            "strcmp", "strcasecmp", "strchr", "strchrnul", "strnchr", "strrchr", "strlen", "strnlen", "strspn",
            "strcspn", "strstr", "strnstr")),
        ("bpf_cgroup_read_xattr", _U),
    )),
    ("rqspinlock_kfunc_ids", "kernel/bpf/rqspinlock.c", frozenset({Hook.COMMON}), (
        ("bpf_res_spin_lock", _N),
        ("bpf_res_spin_unlock", _0),
        ("bpf_res_spin_lock_irqsave", _N),
        ("bpf_res_spin_unlock_irqrestore", _0),
    )),
    ("cpumask_kfunc_btf_ids", "kernel/bpf/cpumask.c",
     frozenset({Hook.TRACING, Hook.STRUCT_OPS, Hook.SYSCALL}), (
        ("bpf_cpumask_create", _A | _N),
        ("bpf_cpumask_release", _R),
        ("bpf_cpumask_acquire", _A | _T),
        *((f"bpf_cpumask_{op}", _U) for op in (
            "first", "first_zero", "first_and", "set_cpu", "clear_cpu", "test_cpu", "test_and_set_cpu",
            "test_and_clear_cpu", "setall", "clear", "and", "or", "xor", "equal", "intersects", "subset",
            "empty", "full", "copy", "any_distribute", "any_and_distribute", "weight", "populate")),
    )),
    # net/core/filter.c bpf_kfunc_init: the skb set for every skb program type (cgroup_skb puts
    # it in the cgroup hook, which all cgroup types share) and tracing; skb_meta for tc; xdp
    ("bpf_kfunc_check_set_skb", "net/core/filter.c",
     frozenset({Hook.TC, Hook.SCHED_ACT, Hook.SK_SKB, Hook.SOCKET_FILTER, Hook.CGROUP, Hook.LWT, Hook.NETFILTER,
                Hook.TRACING}), (
        ("bpf_dynptr_from_skb", _T),
    )),
    ("bpf_kfunc_check_set_skb_meta", "net/core/filter.c", frozenset({Hook.TC, Hook.SCHED_ACT}), (
        ("bpf_dynptr_from_skb_meta", _T),
    )),
    ("bpf_kfunc_check_set_xdp", "net/core/filter.c", frozenset({Hook.XDP}), (
        ("bpf_dynptr_from_xdp", _0),
    )),
)


@functools.cache
def kfuncs() -> dict[str, Kfunc]:
    """Every kfunc of the table by name (a kfunc in several sets has their hooks' union)."""
    out: dict[str, Kfunc] = {}
    for _set, source, hooks, members in _SETS:
        for name, flags in members:
            old = out.get(name)
            if old is not None:
                out[name] = Kfunc(name, old.flags, old.hooks | hooks, old.source)
            else:
                out[name] = Kfunc(name, flags, hooks, source)
    return out


def kfunc_info(name: str) -> Kfunc | None:
    """The table's entry for ``name`` (None: not in the table, not modelled)."""
    return kfuncs().get(name)


def kfunc_allowed(name: str, prog_type: ProgType) -> bool | None:
    """``btf_kfunc_id_set_contains``: may a program of ``prog_type`` call ``name``?
    None when the table does not know the kfunc."""
    kf = kfunc_info(name)
    if kf is None:
        return None
    if Hook.COMMON in kf.hooks:
        return True
    hook = prog_type_hook(prog_type)
    return hook is not None and hook in kf.hooks


#: the first Linux release with each kfunc, by release
_SINCE: dict[tuple[int, int], tuple[str, ...]] = {
    (6, 1): (
        "crash_kexec",
    ),
    (6, 2): (
        "bpf_cast_to_kern_ctx", "bpf_cgroup_acquire", "bpf_cgroup_ancestor", "bpf_cgroup_release",
        "bpf_list_pop_back", "bpf_list_pop_front", "bpf_obj_drop_impl", "bpf_obj_new_impl",
        "bpf_rcu_read_lock", "bpf_rcu_read_unlock", "bpf_rdonly_cast", "bpf_task_acquire",
        "bpf_task_from_pid", "bpf_task_release",
    ),
    (6, 3): (
        "bpf_cpumask_acquire", "bpf_cpumask_and", "bpf_cpumask_clear", "bpf_cpumask_clear_cpu",
        "bpf_cpumask_copy", "bpf_cpumask_create", "bpf_cpumask_empty", "bpf_cpumask_equal",
        "bpf_cpumask_first", "bpf_cpumask_first_zero", "bpf_cpumask_full", "bpf_cpumask_intersects",
        "bpf_cpumask_or", "bpf_cpumask_release", "bpf_cpumask_set_cpu", "bpf_cpumask_setall",
        "bpf_cpumask_subset", "bpf_cpumask_test_and_clear_cpu", "bpf_cpumask_test_and_set_cpu",
        "bpf_cpumask_test_cpu", "bpf_cpumask_xor", "bpf_rbtree_first", "bpf_rbtree_remove",
    ),
    (6, 4): (
        "bpf_cgroup_from_id", "bpf_dynptr_from_skb", "bpf_dynptr_from_xdp", "bpf_dynptr_slice", "bpf_dynptr_slice_rdwr", "bpf_iter_num_destroy",
        "bpf_iter_num_new", "bpf_iter_num_next", "bpf_list_push_back_impl", "bpf_list_push_front_impl",
        "bpf_rbtree_add_impl", "bpf_refcount_acquire_impl",
    ),
    (6, 5): (
        "bpf_cpumask_any_and_distribute", "bpf_cpumask_any_distribute", "bpf_cpumask_first_and",
        "bpf_dynptr_adjust", "bpf_dynptr_clone", "bpf_dynptr_is_null", "bpf_dynptr_size",
        "bpf_task_under_cgroup",
    ),
    (6, 7): (
        "bpf_iter_css_destroy", "bpf_iter_css_new", "bpf_iter_css_next", "bpf_iter_css_task_destroy",
        "bpf_iter_css_task_new", "bpf_iter_css_task_next", "bpf_iter_task_destroy", "bpf_iter_task_new",
        "bpf_iter_task_next", "bpf_iter_task_vma_destroy", "bpf_iter_task_vma_new", "bpf_iter_task_vma_next",
        "bpf_percpu_obj_drop_impl", "bpf_percpu_obj_new_impl", "bpf_throw",
    ),
    (6, 8): (
        "bpf_cpumask_weight", "bpf_task_get_cgroup1",
    ),
    (6, 10): (
        "bpf_preempt_disable", "bpf_preempt_enable", "bpf_wq_init", "bpf_wq_set_callback_impl",
        "bpf_wq_start",
    ),
    (6, 11): (
        "bpf_iter_bits_destroy", "bpf_iter_bits_new", "bpf_iter_bits_next",
    ),
    (6, 12): (
        "bpf_copy_from_user_str",
    ),
    (6, 13): (
        "bpf_get_kmem_cache", "bpf_iter_kmem_cache_destroy", "bpf_iter_kmem_cache_new",
        "bpf_iter_kmem_cache_next", "bpf_send_signal_task", "bpf_task_from_vpid",
    ),
    (6, 14): (
        "bpf_local_irq_restore", "bpf_local_irq_save",
    ),
    (6, 15): (
        "bpf_copy_from_user_task_str", "bpf_cpumask_populate", "bpf_dynptr_copy",
    ),
    (6, 16): (
        "__bpf_trap", "bpf_copy_from_user_dynptr", "bpf_copy_from_user_str_dynptr",
        "bpf_copy_from_user_task_dynptr", "bpf_copy_from_user_task_str_dynptr", "bpf_iter_dmabuf_destroy",
        "bpf_iter_dmabuf_new", "bpf_iter_dmabuf_next", "bpf_list_back", "bpf_list_front",
        "bpf_probe_read_kernel_dynptr", "bpf_probe_read_kernel_str_dynptr", "bpf_probe_read_user_dynptr",
        "bpf_probe_read_user_str_dynptr", "bpf_rbtree_left", "bpf_rbtree_right", "bpf_rbtree_root",
    ),
    (6, 17): (
        "bpf_cgroup_read_xattr",
    ),
}


@functools.cache
def _since_by_name() -> dict[str, tuple[int, int]]:
    return {name: version for version, names in _SINCE.items() for name in names}


def kfunc_since(name: str) -> tuple[int, int] | None:
    """The first Linux release (major, minor) that has kfunc ``name``; None when not recorded."""
    return _since_by_name().get(name)

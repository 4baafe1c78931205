"""PTR_TO_BTF_ID: kernel objects typed by the target kernel's BTF.

What Linux 6.18 does, in its own words (facts from ``kernel/bpf/btf.c`` and ``verifier.c``; the
code is ours):

* **Attach targets** (``bpf_check_attach_target``): a ``tp_btf/<tp>`` program is typed by the
  ``btf_trace_<tp>`` typedef (a pointer to a prototype whose first parameter, ``void *__data``,
  is skipped); ``fentry``/``fexit``/``fmod_ret`` by the function's prototype; ``lsm/<hook>`` by
  ``bpf_lsm_<hook>``; ``iter/<name>`` by ``bpf_iter_<name>``.  :func:`resolve_attach` finds
  them as libbpf does (the target BTF, by name and kind) and raises the loader's error where
  the target BTF lacks one: libbpf refuses the load before the verifier sees it.
* **Context loads** (``btf_ctx_access``): 8-byte slots, one per argument (the return value
  after them for fexit/fmod_ret/lsm); integers, enums and structs give scalars, a pointer to a
  struct gives ``PTR_TO_BTF_ID`` -- trusted for tp_btf, iterators and (most) LSM hooks, may be
  NULL where the kernel says so (``raw_tp_null_args``, ``__nullable``, the iterator's
  ``ctx_arg_info``); any other pointer is a scalar.
* **Member walks** (``btf_struct_walk``/``btf_struct_access``, ``check_ptr_to_btf_access``):
  loads anywhere inside the struct (PROBE_MEM: no bounds beyond the type's), a pointer member
  gives a typed pointer whose trust follows the ``<type>__safe_{trusted,rcu,...}`` types the
  kernel emits into its BTF, writes are refused.
* Helper arguments of BTF type (``ARG_PTR_TO_BTF_ID``, ``btf_struct_ids_match``) and return
  values (``RET_PTR_TO_BTF_ID``).

Where the kernel's rule depends on something this verifier does not track (a program BTF's
allocated objects, module BTF, struct_ops, map-element iterators), :meth:`Env.not_modelled`
keeps the verdict honest (``unknown``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bpfbuild.abi.progtypes import AttachType, ProgType
from bpfbuild.btf.types import Array, Func, FuncProto, Kind, Param, Pointer, Struct, Typedef, Union
from bpfbuild.errors import BpfBuildError
from bpfbuild.verifier.state import BASE_MASK, Reg, RegFlag, RegType
from bpfbuild.verifier.tnum import tnum_str

if TYPE_CHECKING:
    from bpfbuild.btf.spec import Spec
    from bpfbuild.verifier.env import Env

__all__ = [
    "AttachTarget",
    "alloc_fields",
    "btf_ctx_access",
    "btf_struct_ids_match",
    "check_btf_arg",
    "check_ptr_to_btf_access",
    "has_btf_ctx",
    "is_trusted_reg",
    "iter_only_helper",
    "lsm_retval_range",
    "resolve_attach",
    "ret_btf_reg",
]

_F = RegFlag
_MODIFIERS = frozenset({Kind.TYPEDEF, Kind.VOLATILE, Kind.CONST, Kind.RESTRICT, Kind.TYPE_TAG})
_SIZED = frozenset({Kind.INT, Kind.STRUCT, Kind.UNION, Kind.ENUM, Kind.FLOAT, Kind.ENUM64})
MAX_BPF_FUNC_ARGS = 12
MAX_RESOLVE_DEPTH = 32
#: BPF_REG_TRUSTED_MODIFIERS
_TRUSTED_MODIFIERS = _F.MEM_ALLOC | _F.PTR_TRUSTED | _F.NON_OWN_REF
_FLAG_MASK = ~BASE_MASK

#: ``raw_tp_null_args`` of Linux 6.18 (btf.c): tracepoints whose arguments may be NULL (bit 4*i)
#: or an ERR_PTR (bit 4*i + 1, the argument becomes a scalar), argument i counted from 0.
_RAW_TP_NULL_ARGS: dict[str, int] = {
    "sched_pi_setprio": 0x10, "sched_stick_numa": 0x100, "sched_swap_numa": 0x100,
    "afs_make_fs_call": 0x10, "afs_make_fs_calli": 0x10, "afs_make_fs_call1": 0x10, "afs_make_fs_call2": 0x10,
    "afs_protocol_error": 0x1, "afs_flock_ev": 0x10,
    "cachefiles_lookup": 0x201, "cachefiles_unlink": 0x1, "cachefiles_rename": 0x1,
    "cachefiles_prep_read": 0x1, "cachefiles_mark_active": 0x1, "cachefiles_mark_failed": 0x1,
    "cachefiles_mark_inactive": 0x1, "cachefiles_vfs_error": 0x1, "cachefiles_io_error": 0x1,
    "cachefiles_ondemand_open": 0x1, "cachefiles_ondemand_copen": 0x1, "cachefiles_ondemand_close": 0x1,
    "cachefiles_ondemand_read": 0x1, "cachefiles_ondemand_cread": 0x1, "cachefiles_ondemand_fd_write": 0x1,
    "cachefiles_ondemand_fd_release": 0x1,
    "ext4_mballoc_discard": 0x10, "ext4_mballoc_free": 0x10, "fib_table_lookup": 0x100,
    "posix_lock_inode": 0x10, "fcntl_setlk": 0x10, "locks_remove_posix": 0x10, "flock_lock_inode": 0x10,
    "break_lease_noblock": 0x10, "break_lease_block": 0x10, "break_lease_unblock": 0x10,
    "generic_delete_lease": 0x10, "time_out_leases": 0x10, "host1x_cdma_push_gather": 0x10000,
    "mm_khugepaged_scan_pmd": 0x10, "mm_collapse_huge_page_isolate": 0x1, "mm_khugepaged_scan_file": 0x10,
    "mm_khugepaged_collapse_file": 0x10, "mm_page_alloc": 0x1, "mm_page_pcpu_drain": 0x1,
    "mm_page_alloc_zone_locked": 0x1, "netfs_failure": 0x10, "device_pm_callback_start": 0x10,
    "qdisc_dequeue": 0x1000, "rxrpc_recvdata": 0x1, "rxrpc_resend": 0x10, "rxrpc_tq": 0x10,
    "rxrpc_client": 0x1, "kfree_skb": 0x1000, "xs_stream_read_data": 0x1, "xprt_reserve_cong": 0x10,
    "xprt_release_cong": 0x10, "xprt_get_cong": 0x10, "xprt_put_cong": 0x10, "tcp_send_reset": 0x11,
    "tcp_sendmsg_locked": 0x100, "tegra_dma_tx_status": 0x100, "tmigr_update_events": 0x1,
    "writeback_dirty_folio": 0x10, "folio_wait_writeback": 0x10, "mr_integ_alloc": 0x2000,
    "bpf_testmod_test_read": 0x0, "amdgpu_vm_bo_map": 0x1, "amdgpu_vm_bo_unmap": 0x1, "netfs_folioq": 0x1,
    "xfs_defer_create_intent": 0x1, "xfs_defer_cancel_list": 0x1, "xfs_defer_pending_finish": 0x1,
    "xfs_defer_pending_abort": 0x1, "xfs_defer_relog_intent": 0x1, "xfs_defer_isolate_paused": 0x1,
    "xfs_defer_item_pause": 0x1, "xfs_defer_item_unpause": 0x1, "xfs_defer_add_item": 0x1,
    "xfs_defer_cancel_item": 0x1, "xfs_defer_finish_item": 0x1, "xfs_ioc_free_eofblocks": 0x10,
    "xfs_blockgc_free_space": 0x10, "xfs_btree_updkeys": 0x100, "xfs_btree_overlapped_query_range": 0x100,
    "xfs_map_blocks_found": 0x10000, "xfs_map_blocks_alloc": 0x10000, "xfs_iomap_alloc": 0x1000,
    "xfs_iomap_found": 0x1000, "xfs_inodegc_flush": 0x1, "xfs_inodegc_push": 0x1, "xfs_inodegc_start": 0x1,
    "xfs_inodegc_stop": 0x1, "xfs_inodegc_queue": 0x1, "xfs_inodegc_throttle": 0x1, "xfs_fs_sync_fs": 0x1,
    "xfs_blockgc_start": 0x1, "xfs_blockgc_stop": 0x1, "xfs_blockgc_worker": 0x1,
    "xfs_blockgc_flush_all": 0x1, "xchk_nlinks_live_update": 0x10, "xchk_metapath_lookup": 0x100,
    "nfsd_dirent": 0x1, "nfsd_file_acquire": 0x1001, "nfsd_file_insert_err": 0x1, "nfsd_file_cons_err": 0x1,
    "nfs4_setup_sequence": 0x1, "pnfs_update_layout": 0x10000, "nfs4_inode_callback_event": 0x200,
    "nfs4_inode_stateid_callback_event": 0x200, "pnfs_mds_fallback_pg_init_read": 0x10000,
    "pnfs_mds_fallback_pg_init_write": 0x10000, "pnfs_mds_fallback_pg_get_mirror_count": 0x10000,
    "pnfs_mds_fallback_read_done": 0x10000, "pnfs_mds_fallback_write_done": 0x10000,
    "pnfs_mds_fallback_read_pagelist": 0x10000, "pnfs_mds_fallback_write_pagelist": 0x10000,
    "coda_dec_pic_run": 0x10, "coda_dec_pic_done": 0x10, "cfg80211_scan_done": 0x11,
    "rdev_set_coalesce": 0x10, "cfg80211_report_wowlan_wakeup": 0x100, "cfg80211_inform_bss_frame": 0x100,
    "cfg80211_michael_mic_failure": 0x10000, "wiphy_work_queue": 0x10, "wiphy_work_run": 0x10,
    "wiphy_work_cancel": 0x10, "wiphy_work_flush": 0x10, "hugetlbfs_alloc_inode": 0x10, "spufs_context": 0x10,
    "kvm_page_fault_enter": 0x100, "dpu_crtc_setup_mixer": 0x100, "binder_transaction": 0x100,
    "btree_path_free": 0x100, "hfi1_sdma_progress": 0x1000, "iptfs_ingress_postq_event": 0x1000,
    "neigh_update": 0x10, "amdtp_packet": 0x100,
}

#: The ``ctx_arg_info`` iterators register (``bpf_iter_reg``): ctx offset -> flags of the
#: PTR_TO_BTF_ID it gives (always may be NULL; PTR_TRUSTED for some), measured on Linux 6.18.
_NULL = int(_F.PTR_MAYBE_NULL)
_TRUSTED_NULL = int(_F.PTR_MAYBE_NULL | _F.PTR_TRUSTED)
_ITER_CTX_ARGS: dict[str, dict[int, int]] = {
    "task": {8: _TRUSTED_NULL}, "task_file": {8: _NULL, 24: _NULL}, "task_vma": {8: _NULL, 16: _NULL},
    "bpf_map": {8: _TRUSTED_NULL}, "bpf_prog": {8: _NULL}, "bpf_link": {8: _NULL},
    "cgroup": {8: _TRUSTED_NULL}, "kmem_cache": {8: _TRUSTED_NULL}, "dmabuf": {8: _NULL},
    "netlink": {8: _NULL}, "tcp": {8: _TRUSTED_NULL}, "udp": {8: _TRUSTED_NULL}, "unix": {8: _NULL},
    "ipv6_route": {8: _NULL}, "ksym": {8: _NULL},
}
#: iterators whose context holds PTR_TO_BUF members (map elements): not modelled here
_ITER_BUF_CTX = frozenset({"bpf_map_elem", "sockmap", "bpf_sk_storage_map"})

#: ``untrusted_lsm_hooks`` (bpf_lsm.c): hooks whose arguments are not trusted
_UNTRUSTED_LSM_HOOKS = frozenset({
    "bpf_lsm_bpf_map_free", "bpf_lsm_bpf_prog_free", "bpf_lsm_file_alloc_security",
    "bpf_lsm_file_free_security", "bpf_lsm_sk_alloc_security", "bpf_lsm_sk_free_security",
    "bpf_lsm_task_free",
})

#: ``bool_lsm_hooks`` (bpf_lsm.c): hooks returning 0 or 1
_BOOL_LSM_HOOKS = frozenset({"bpf_lsm_audit_rule_known", "bpf_lsm_inode_xattr_skipcap"})
MAX_ERRNO = 4095

_KIND_STR = {
    Kind.VOID: "UNKNOWN", Kind.INT: "INT", Kind.PTR: "PTR", Kind.ARRAY: "ARRAY", Kind.STRUCT: "STRUCT",
    Kind.UNION: "UNION", Kind.ENUM: "ENUM", Kind.FWD: "FWD", Kind.TYPEDEF: "TYPEDEF",
    Kind.VOLATILE: "VOLATILE", Kind.CONST: "CONST", Kind.RESTRICT: "RESTRICT", Kind.FUNC: "FUNC",
    Kind.FUNC_PROTO: "FUNC_PROTO", Kind.VAR: "VAR", Kind.DATASEC: "DATASEC", Kind.FLOAT: "FLOAT",
    Kind.DECL_TAG: "DECL_TAG", Kind.TYPE_TAG: "TYPE_TAG", Kind.ENUM64: "ENUM64",
}


@dataclass(slots=True)
class AttachTarget:
    """``prog->aux->attach_func_proto`` and friends: what types a tracing program's context."""

    btf: Spec
    tname: str                          # attach_func_name as the log prints it
    proto: FuncProto
    raw_tp: bool = False                # attach_btf_trace: skip the 'void *__data' parameter
    raw_tp_name: str = ""               # the tracepoint (raw_tp_null_args key)
    iter_args: dict[int, int] = field(default_factory=dict)   # iterators' ctx_arg_info


# ---- BTF helpers ----------------------------------------------------------------------------------------

def find(btf: Spec, name: str, kind: Kind) -> tuple[int, ...]:
    """``btf_find_by_name_kind``: ids of the types called ``name`` of ``kind``.  Searches the
    string table (``Spec.find_prefixed``) rather than building the full name index, which costs
    seconds on a vmlinux BTF."""
    return tuple(i for i in btf.find_prefixed(name, "___") if btf.kind_of(i) == kind and btf.name_of(i) == name)


def _kind(btf: Spec, tid: int) -> Kind:
    return Kind.VOID if tid == 0 else btf.kind_of(tid)


def _skip_mods(btf: Spec, tid: int) -> int:
    """``btf_type_skip_modifiers``: the id under typedefs, qualifiers and type tags."""
    for _ in range(MAX_RESOLVE_DEPTH):
        if _kind(btf, tid) not in _MODIFIERS:
            return tid
        tid = btf.type(tid).type  # type: ignore[union-attr]
    return tid


def _name(btf: Spec, tid: int) -> str:
    return btf.name_of(tid) if tid else ""


def _is_struct(btf: Spec, tid: int) -> bool:
    """``btf_type_is_struct``: a struct or a union."""
    return _kind(btf, tid) in (Kind.STRUCT, Kind.UNION)


def _is_small_int(btf: Spec, tid: int) -> bool:
    return _kind(btf, tid) == Kind.INT and btf.type(tid).size <= 8  # type: ignore[union-attr]


def _kind_str(btf: Spec, tid: int) -> str:
    return _KIND_STR.get(_kind(btf, tid), "UNKNOWN")


def _type_name(btf: object, tid: int) -> str:
    try:
        return _name(btf, tid)  # type: ignore[arg-type]
    except (LookupError, ValueError):
        return ""


# ---- attach targets ---------------------------------------------------------------------------------

def has_btf_ctx(env: Env) -> bool:
    """Whether the program's context is typed by an attach target's BTF (btf_ctx_access)."""
    if env.prog_type is ProgType.LSM:
        return True
    return env.prog_type is ProgType.TRACING and env.attach_type in (
        AttachType.TRACE_RAW_TP, AttachType.TRACE_FENTRY, AttachType.TRACE_FEXIT,
        AttachType.MODIFY_RETURN, AttachType.TRACE_ITER)


def _in_module(target: object, module: str, name: str) -> bool:
    try:
        mbtf = target.module_btf(module)  # type: ignore[attr-defined]
        return mbtf is not None and bool(mbtf.find_prefixed(name, "___"))
    except (BpfBuildError, OSError, LookupError, ValueError):
        return False


def resolve_attach(env: Env) -> AttachTarget | None:
    """The attach target in the target kernel's BTF (cached on ``env``).

    None (and a note: verdict ``unknown``) where it cannot be known here; raises
    :class:`BpfBuildError` where libbpf would fail the load because the target BTF lacks it.
    """
    if env.btf_attach is not None:
        return env.btf_attach  # type: ignore[return-value]
    name = env.attach_btf_name
    if not name:
        env.not_modelled(f"the context of program type {env.prog_type.name.lower()} (no attach target)")
        return None
    btf = env.kernel_btf
    if btf is None:
        env.not_modelled(f"the context of {name} (the target kernel has no BTF)")
        return None
    raw_tp = env.attach_type is AttachType.TRACE_RAW_TP
    ids = find(btf, name, Kind.TYPEDEF if raw_tp else Kind.FUNC)
    if not ids:
        target = env.target
        if target is not None and any(_in_module(target, mod, name) for mod in target.module_btf_names):
            env.not_modelled(f"the attach target {name} (in a module's BTF)")
            return None
        # a placeholder (SEC("fentry/dummy_fentry")) a loader retargets, or a function this kernel
        # lacks: libbpf's load fails only if the loader does not retarget it, so no verdict here
        env.not_modelled(f"the attach target {name}: the target kernel's BTF has no "
                         f"{'typedef' if raw_tp else 'function'} '{name}' (libbpf fails the load with -ESRCH "
                         "unless the loader retargets the program with bpf_program__set_attach_target)")
        return None
    t = btf.type(ids[0])
    tname = name
    if raw_tp:
        assert isinstance(t, Typedef)
        ptr = btf.type(t.type) if t.type else None
        proto = btf.type(ptr.type) if isinstance(ptr, Pointer) and ptr.type else None
        tname = name.removeprefix("btf_trace_")
    else:
        assert isinstance(t, Func)
        proto = btf.type(t.type) if t.type else None
    if not isinstance(proto, FuncProto):
        raise BpfBuildError(f"attach target {name} is not a function in the target kernel's BTF")
    att = AttachTarget(btf, tname, proto, raw_tp, tname if raw_tp else "")
    if env.attach_type is AttachType.TRACE_ITER:
        it = name.removeprefix("bpf_iter_")
        if it in _ITER_BUF_CTX or it not in _ITER_CTX_ARGS:
            env.not_modelled(f"the context of the {it} iterator")
            return None
        att.iter_args = _ITER_CTX_ARGS[it]
    env.btf_attach = att
    return att


# ---- context loads (btf_ctx_access) ---------------------------------------------------------------------

def _arg_idx(btf: Spec, proto: FuncProto, off: int) -> int:
    """``btf_ctx_arg_idx``: which argument slot ``off`` falls in (the return value after them)."""
    offset = 0
    for i, p in enumerate(proto.params):
        offset += _slot_size(btf, p.type)
        if off < offset:
            return i
    offset += _slot_size(btf, proto.return_type)
    if off < offset:
        return len(proto.params)
    return len(proto.params) + 1


def _slot_size(btf: Spec, tid: int) -> int:
    t = _skip_mods(btf, tid)
    if _kind(btf, t) == Kind.PTR:
        return 8
    if t == 0:
        return 0
    try:
        size = btf.size_of(t)
    except (LookupError, ValueError, BpfBuildError):
        return 8
    return (size + 7) // 8 * 8


def _prog_args_trusted(env: Env) -> bool:
    if env.prog_type is ProgType.TRACING:
        return env.attach_type in (AttachType.TRACE_RAW_TP, AttachType.TRACE_ITER)
    if env.prog_type is ProgType.LSM:
        # bpf_lsm_is_trusted: all hooks but those of untrusted_lsm_hooks pass trusted arguments
        return env.attach_btf_name not in _UNTRUSTED_LSM_HOOKS
    return False


def btf_ctx_access(env: Env, off: int, size: int, write: bool) -> Reg | None | str:
    """``tracing_prog_is_valid_access`` + ``btf_ctx_access``.

    Returns the loaded register (a PTR_TO_BTF_ID), None for a scalar, or the kernel's log
    lines (a string) when the access is invalid.
    """
    att = resolve_attach(env)
    if att is None:
        return None
    if env.prog_type is ProgType.TRACING:
        if off < 0 or off >= 8 * MAX_BPF_FUNC_ARGS or write or off % size:
            return ""
    btf, tname, proto = att.btf, att.tname, att.proto
    if off % 8:
        return f"func '{tname}' offset {off} is not multiple of 8"
    arg = _arg_idx(btf, proto, off)
    params: tuple[Param, ...] = proto.params
    if att.raw_tp:
        params = params[1:]
    nr_args = len(params)
    if arg > nr_args:
        return f"func '{tname}' doesn't have {arg + 1}-th argument"
    if arg == nr_args:
        at = env.attach_type
        if at in (AttachType.LSM_MAC, AttachType.LSM_CGROUP, AttachType.TRACE_FEXIT):
            tid = proto.return_type
        elif at is AttachType.MODIFY_RETURN:
            tid = _skip_mods(btf, proto.return_type)
            if not _is_small_int(btf, tid):
                return f"ret type {_kind_str(btf, tid)} not allowed for fmod_ret"
        else:
            return f"func '{tname}' doesn't have {arg + 1}-th argument"
    else:
        tid = params[arg].type
    tid = _skip_mods(btf, tid)
    k = _kind(btf, tid)
    if _is_small_int(btf, tid) or k in (Kind.ENUM, Kind.ENUM64, Kind.STRUCT, Kind.UNION):
        if arg == nr_args and env.attach_type is AttachType.LSM_MAC:
            rng = lsm_retval_range(env)     # info->is_retval: the hook's return range
            if rng is not None:
                return _s32_range_scalar(*rng)
        return None
    if k != Kind.PTR:
        return (f"func '{tname}' arg{arg} '{_name(btf, tid)}' has type {_kind_str(btf, tid)}. "
                "Only pointer access is allowed")
    if size != 8:
        return f"func '{tname}' size {size} must be 8"
    ptr = btf.type(tid)
    assert isinstance(ptr, Pointer)
    if not _is_struct(btf, _skip_mods(btf, ptr.type)):
        return None   # pointers to anything but a struct are scalars (no further walking)
    if off in att.iter_args:
        pointee = _skip_mods(btf, ptr.type)
        return _btf_reg(env, btf, pointee, int(RegType.PTR_TO_BTF_ID) | att.iter_args[off])
    t = int(RegType.PTR_TO_BTF_ID)
    if _prog_args_trusted(env):
        t |= _F.PTR_TRUSTED
    if arg < nr_args and params[arg].name.endswith("__nullable"):
        t |= _F.PTR_MAYBE_NULL
    ptr_err = False
    if att.raw_tp:
        mask = _RAW_TP_NULL_ARGS.get(att.raw_tp_name)
        if mask is not None:
            if mask & (1 << (arg * 4)):
                t |= _F.PTR_MAYBE_NULL
            if mask & (2 << (arg * 4)):
                ptr_err = True
    btf_id = ptr.type
    first = ptr.type
    if _kind(btf, first) == Kind.TYPE_TAG and not btf.type(first).attribute:  # type: ignore[union-attr]
        tag = _name(btf, first)
        if tag == "user":
            t |= _F.MEM_USER
        elif tag == "percpu":
            t |= _F.MEM_PERCPU
    while _kind(btf, btf_id) in _MODIFIERS:
        btf_id = btf.type(btf_id).type  # type: ignore[union-attr]
    if not _is_struct(btf, btf_id):
        return f"func '{tname}' arg{arg} type {_kind_str(btf, btf_id)} is not a struct"
    env.verbose(f"func '{tname}' arg{arg} has btf_id {btf_id} type {_kind_str(btf, btf_id)} "
                f"'{_name(btf, btf_id)}'\n")
    if ptr_err:
        env.verbose(f"marking pointer arg{arg} as scalar as it may encode error")
        return None
    return _btf_reg(env, btf, btf_id, t)


def _s32_range_scalar(lo: int, hi: int) -> Reg:
    """``mark_reg_unknown`` then ``__mark_reg_s32_range``."""
    from bpfbuild.verifier.bounds import reg_bounds_sync

    r = Reg()
    r.mark_unknown()
    r.s32_min, r.s32_max = max(r.s32_min, lo), min(r.s32_max, hi)
    r.smin, r.smax = max(r.smin, lo), min(r.smax, hi)
    reg_bounds_sync(r)
    return r


def lsm_retval_range(env: Env) -> tuple[int, int] | None:
    """``bpf_lsm_get_retval_range``: [0, 1] for the boolean hooks, [-MAX_ERRNO, 0] for the
    other int hooks, None for void hooks (or an unresolved target)."""
    att = resolve_attach(env)
    if att is None or not att.proto.return_type:
        return None
    if env.attach_btf_name in _BOOL_LSM_HOOKS:
        return 0, 1
    return -MAX_ERRNO, 0


def _btf_reg(env: Env, btf: object, btf_id: int, t: int, *, null_id: bool = True) -> Reg:
    """A register holding a PTR_TO_BTF_ID (``mark_btf_ld_reg``); one that may be NULL gets an id
    (``null_id``) for its NULL check."""
    r = Reg()
    r.mark_known_zero()
    r.type = t
    r.btf = btf
    r.btf_id = btf_id
    if t & _F.PTR_MAYBE_NULL and null_id:
        r.id = env.new_id()
    return r


def ret_btf_reg(env: Env, type_name: str, flags: int) -> Reg | None:
    """r0 of a helper returning ``RET_PTR_TO_BTF_ID`` of the kernel struct ``type_name``."""
    btf = env.kernel_btf
    if btf is None:
        env.not_modelled(f"a helper's {type_name} pointer (the target kernel has no BTF)")
        return None
    ids = find(btf, type_name, Kind.STRUCT)
    if not ids:
        env.not_modelled(f"a helper's {type_name} pointer (not in the target BTF)")
        return None
    return _btf_reg(env, btf, ids[0], int(RegType.PTR_TO_BTF_ID) | flags, null_id=False)


# ---- member walks (btf_struct_walk, btf_struct_access) --------------------------------------------------

_WALK_SCALAR, _WALK_PTR, _WALK_PTR_UNTRUSTED, _WALK_STRUCT = range(4)


class _WalkError(Exception):
    pass


def _resolve_size(btf: Spec, tid: int) -> tuple[int, int, int, int, int] | None:
    """``__btf_resolve_size``: (type id found (the array for arrays), total size, element id,
    element count, the id after the last modifier) or None for a type without size."""
    array_id = 0
    nelems = 1
    mid = tid
    cur = tid
    for _ in range(MAX_RESOLVE_DEPTH):
        k = _kind(btf, cur)
        if k in _SIZED:
            size = btf.type(cur).size  # type: ignore[union-attr]
            break
        if k == Kind.PTR:
            size = 8
            break
        if k in _MODIFIERS:
            cur = btf.type(cur).type  # type: ignore[union-attr]
            mid = cur
            continue
        if k == Kind.ARRAY:
            a = btf.type(cur)
            assert isinstance(a, Array)
            if not array_id:
                array_id = cur
            nelems *= a.nelems
            cur = a.type
            mid = cur
            continue
        return None
    else:
        return None
    return (array_id or cur, nelems * size, cur, nelems, mid)


def _struct_walk(btf: Spec, tid: int, off: int, size: int, flag: int) -> tuple[int, int, int, str]:
    """``btf_struct_walk``: (result, next btf id, flags, field name); raises _WalkError(log line)."""
    while True:
        if _kind(btf, tid) in _MODIFIERS:
            tid = _skip_mods(btf, btf.type(tid).type)  # type: ignore[union-attr]
        tname = _name(btf, tid)
        if not _is_struct(btf, tid):
            raise _WalkError(f"Type '{tname}' is not a struct")
        t = btf.type(tid)
        assert isinstance(t, (Struct, Union))
        members = t.members
        if isinstance(t, Union) and len(members) != 1 and not flag & _F.PTR_UNTRUSTED:
            flag |= _F.PTR_UNTRUSTED
        if off + size > t.size:
            ok = False
            if members:
                last = members[-1]
                mt = _skip_mods(btf, last.type)
                if _kind(btf, mt) == Kind.ARRAY:
                    arr = btf.type(mt)
                    assert isinstance(arr, Array)
                    moff = last.bit_offset // 8
                    if arr.nelems == 0 and off >= moff:
                        et = _skip_mods(btf, arr.type)
                        if _kind(btf, et) == Kind.INT:
                            return _WALK_SCALAR, 0, flag, ""
                        if _is_struct(btf, et):
                            off = (off - moff) % btf.type(et).size  # type: ignore[union-attr]
                            tid = et
                            ok = True
            if ok:
                continue
            raise _WalkError(f"access beyond struct {tname} at off {off} size {size}")
        restart = False
        for m in members:
            moff = m.bit_offset // 8
            if off + size <= moff:
                break
            if m.bitfield_size:
                end_bit = m.bit_offset + m.bitfield_size
                if off <= moff and (end_bit + 7) // 8 <= off + size:
                    return _WALK_SCALAR, 0, flag, ""
                continue
            if off < moff:
                break
            resolved = _resolve_size(btf, m.type)
            if resolved is None:
                raise _WalkError(f"field {m.name} doesn't have size")
            mtype, msize, elem_id, total, mid = resolved
            mtrue_end = moff + msize
            if off >= mtrue_end:
                continue
            if _kind(btf, mtype) == Kind.ARRAY:
                if moff == mtrue_end:
                    continue
                msize //= total
                elem_idx = (off - moff) // msize
                moff += elem_idx * msize
                mtype = elem_id
                mid = elem_id
            if _is_struct(btf, mtype):
                if off == moff:
                    return _WALK_STRUCT, mid, flag, ""
                off -= moff
                tid = mtype
                restart = True
                break
            if _kind(btf, mtype) == Kind.PTR:
                if msize != size or off != moff:
                    raise _WalkError(f"cannot access ptr member {m.name} with moff {moff} in struct {tname} "
                                     f"with off {off} size {size}")
                pointee = btf.type(mtype).type  # type: ignore[union-attr]
                tmp = 0
                if _kind(btf, pointee) == Kind.TYPE_TAG and not btf.type(pointee).attribute:  # type: ignore[union-attr]
                    tag = _name(btf, pointee)
                    tmp = {"user": _F.MEM_USER, "percpu": _F.MEM_PERCPU, "rcu": _F.MEM_RCU}.get(tag, 0)
                sid = _skip_mods(btf, pointee)
                if _is_struct(btf, sid):
                    return _WALK_PTR, sid, flag | tmp, m.name
                return _WALK_PTR_UNTRUSTED, 0, flag, m.name
            if off + size > mtrue_end and not flag & _F.PTR_UNTRUSTED:
                raise _WalkError(f"access beyond the end of member {m.name} (mend:{mtrue_end}) in struct "
                                 f"{tname} with off {off} size {size}")
            return _WALK_SCALAR, 0, flag, ""
        if restart:
            continue
        raise _WalkError(f"struct {tname} doesn't have field at offset {off}")


def _struct_access(btf: Spec, btf_id: int, off: int, size: int) -> tuple[int, int, int, str]:
    """``btf_struct_access``: (reg type, next btf id, flags, field name)."""
    tid = btf_id
    while True:
        res, nid, flag, fname = _struct_walk(btf, tid, off, size, 0)
        if res == _WALK_PTR:
            return int(RegType.PTR_TO_BTF_ID), nid, flag, fname
        if res == _WALK_PTR_UNTRUSTED:
            return int(RegType.PTR_TO_MEM), 0, int(_F.MEM_RDONLY | _F.PTR_UNTRUSTED), fname
        if res == _WALK_SCALAR:
            return int(RegType.SCALAR_VALUE), 0, 0, ""
        tid = nid
        off = 0


def btf_struct_ids_match(btf: Spec, btf_id: int, off: int, need_btf: Spec, need_id: int, strict: bool) -> bool:
    """``btf_struct_ids_match``: the object at ``off`` of ``btf_id`` is (or starts with) ``need_id``."""
    if off == 0 and btf is need_btf and btf_id == need_id:
        return True
    if strict:
        return False
    tid = btf_id
    while True:
        try:
            res, nid, _, _ = _struct_walk(btf, tid, off, 1, 0)
        except _WalkError:
            return False
        if res != _WALK_STRUCT:
            return False
        if btf is need_btf and nid == need_id:
            return True
        tid = nid
        off = 0


# ---- trust (check_ptr_to_btf_access) --------------------------------------------------------------------

def is_trusted_reg(reg: Reg) -> bool:
    """``is_trusted_reg`` for PTR_TO_BTF_ID registers (referenced, or only trusted modifiers)."""
    if reg.ref_obj_id:
        return True
    flags = reg.type & _FLAG_MASK
    return bool(flags & _TRUSTED_MODIFIERS) and not flags & ~_TRUSTED_MODIFIERS


def _nested_is(btf: Spec, reg_btf_id: int, field_name: str, btf_id: int, suffix: str) -> bool:
    """``btf_nested_type_is_trusted``: ``<type><suffix>`` in the BTF lists the field with this type."""
    kind = _kind(btf, reg_btf_id)
    safe = find(btf, _name(btf, reg_btf_id) + suffix, kind)
    if not safe:
        return False
    st = btf.type(safe[0])
    for m in getattr(st, "members", ()):
        if _kind(btf, m.type) != Kind.PTR:
            continue
        if _skip_mods(btf, btf.type(m.type).type) == btf_id and m.name == field_name:  # type: ignore[union-attr]
            return True
    return False


def check_ptr_to_btf_access(env: Env, regno: int, reg: Reg, off: int, size: int, write: bool) -> Reg | None:
    """``check_ptr_to_btf_access``: raises the kernel's error, else the loaded register (None: scalar)."""
    btf = reg.btf
    tname = _type_name(btf, reg.btf_id)
    if not env.allow_ptr_leaks:
        raise env.error(f"'struct {tname}' access is allowed only to CAP_PERFMON and CAP_SYS_ADMIN")
    local = btf is not None and btf is not env.kernel_btf and reg.type & _F.MEM_ALLOC
    if btf is None or (btf is not env.kernel_btf and not local):
        env.not_modelled(f"loads through a {tname or 'local'} object pointer (program BTF or allocated object)")
        return None
    assert btf is not None
    if local:
        return _local_object_access(env, regno, reg, tname, off, size)
    if not env.gpl:
        raise env.error(f"Cannot access kernel 'struct {tname}' from non-GPL compatible program")
    _check_btf_ptr_off(env, regno, reg, tname, off)
    if write:
        if env.prog_type in (ProgType.SCHED_CLS, ProgType.SCHED_ACT, ProgType.XDP, ProgType.STRUCT_OPS):
            env.not_modelled(f"writes into kernel 'struct {tname}' ({env.prog_type.name.lower()} btf_struct_access)")
            return None
        raise env.error("only read is supported")
    try:
        ret, btf_id, flag, field_name = _struct_access(btf, reg.btf_id, off, size)  # type: ignore[arg-type]
    except _WalkError as exc:
        raise env.error(str(exc)) from None
    if ret == RegType.SCALAR_VALUE:
        return None
    if ret == RegType.PTR_TO_MEM:
        r = Reg()
        r.mark_known_zero()
        r.type = int(RegType.PTR_TO_MEM) | flag
        r.mem_size = 0
        return r
    if reg.type & _F.PTR_UNTRUSTED:
        flag = int(_F.PTR_UNTRUSTED)
    elif is_trusted_reg(reg) or reg.type & _F.MEM_RCU:
        kb = btf  # the walked type's BTF
        if _nested_is(kb, reg.btf_id, field_name, btf_id, "__safe_trusted"):  # type: ignore[arg-type]
            flag |= _F.PTR_TRUSTED
        elif _nested_is(kb, reg.btf_id, field_name, btf_id, "__safe_trusted_or_null"):  # type: ignore[arg-type]
            flag |= _F.PTR_TRUSTED | _F.PTR_MAYBE_NULL
        elif not env.sleepable:   # in_rcu_cs: a non-sleepable program always is
            if _nested_is(kb, reg.btf_id, field_name, btf_id, "__safe_rcu"):  # type: ignore[arg-type]
                flag |= _F.MEM_RCU
            elif flag & _F.MEM_RCU or _nested_is(kb, reg.btf_id, field_name, btf_id,  # type: ignore[arg-type]
                                                 "__safe_rcu_or_null"):
                rcu_or_null = _nested_is(kb, reg.btf_id, field_name, btf_id,  # type: ignore[arg-type]
                                         "__safe_rcu_or_null")
                flag |= _F.MEM_RCU | _F.PTR_MAYBE_NULL
                if rcu_or_null and flag & _F.PTR_UNTRUSTED:
                    flag &= ~_F.PTR_UNTRUSTED
            elif flag & (_F.MEM_PERCPU | _F.MEM_USER):
                pass
            else:
                # walking unknown pointers: Linux 6.18 as measured gives an untrusted pointer
                # (later kernels give the deprecated plain PTR_TO_BTF_ID)
                flag = int(_F.PTR_UNTRUSTED)
        else:
            env.not_modelled("walks of trusted pointers in a sleepable program (RCU read sections)")
            flag = int(_F.PTR_UNTRUSTED)
    else:
        flag &= ~(_TRUSTED_MODIFIERS | _F.MEM_RCU)
    return _btf_reg(env, btf, btf_id, int(RegType.PTR_TO_BTF_ID) | int(flag))


def _check_btf_ptr_off(env: Env, regno: int, reg: Reg, tname: str, off: int) -> None:
    """The checks ``check_ptr_to_btf_access`` makes of every access, kernel or allocated object:
    a constant, non-negative offset into memory that is neither user nor per-CPU."""
    if off < 0:
        raise env.error(f"R{regno} is ptr_{tname} invalid negative access: off={off}")
    if reg.var_off.mask or reg.var_off.value:
        raise env.error(f"R{regno} is ptr_{tname} invalid variable offset: off={off}, var_off={tnum_str(reg.var_off)}")
    if reg.type & _F.MEM_USER:
        raise env.error(f"R{regno} is ptr_{tname} access user memory: off={off}")
    if reg.type & _F.MEM_PERCPU:
        raise env.error(f"R{regno} is ptr_{tname} access percpu memory: off={off}")


def _local_object_access(env: Env, regno: int, reg: Reg, tname: str, off: int, size: int) -> Reg | None:
    """``check_ptr_to_btf_access`` on an object of the program's own struct from bpf_obj_new
    (PTR_TO_BTF_ID | MEM_ALLOC): reads and writes of its scalar members."""
    _check_btf_ptr_off(env, regno, reg, tname, off)
    for name, foff, fsize in alloc_fields(reg.btf, reg.btf_id):
        if off < foff + fsize and foff < off + size:
            if name == "kptr":
                env.not_modelled(f"insn {env.insn_idx}: an access to a kptr in the allocated struct {tname}")
                return None
            raise env.error(f"direct access to {name} is disallowed")
    try:
        ret, _btf_id, _flag, _name = _struct_access(reg.btf, reg.btf_id, off, size)  # type: ignore[arg-type]
    except _WalkError as exc:
        raise env.error(str(exc)) from None
    if ret != RegType.SCALAR_VALUE:
        env.not_modelled(f"insn {env.insn_idx}: a pointer member of the allocated struct {tname}")
    return None


def alloc_fields(btf: object, type_id: int) -> tuple[tuple[str, int, int], ...]:
    """The special fields of a program struct an allocated object has (``btf_find_struct_meta``'s
    record): (type name, offset, size), kptrs named "kptr", nested structs and arrays included."""
    from bpfbuild.btf.record import ALLOC_STRUCTS, KPTRS, parse_record

    return tuple(("kptr" if f.kind in KPTRS else f.name, f.offset, f.size)
                 for f in parse_record(btf, type_id, ALLOC_STRUCTS).fields)  # type: ignore[arg-type]


# ---- helpers ---------------------------------------------------------------------------------------------

#: bpf_seq_printf, bpf_seq_write, bpf_seq_printf_btf: offered to iterator programs only
_ITER_HELPERS = frozenset({126, 127, 128})
_SK_RELEASE = 86
_SPIN_LOCK, _SPIN_UNLOCK = 93, 94
_KPTR_XCHG = 194


def iter_only_helper(env: Env, func_id: int) -> bool:
    """``tracing_prog_func_proto`` offers the seq_file helpers to iterators (and only them)."""
    return (func_id in _ITER_HELPERS and env.prog_type is ProgType.TRACING
            and env.attach_type is AttachType.TRACE_ITER)


def check_btf_arg(env: Env, regno: int, reg: Reg, arg: object, base: object, func_id: int) -> None:
    """The PTR_TO_BTF_ID case of ``check_reg_type``: NULL-ness, then the struct the helper wants
    (``btf_struct_ids_match``: the object, or its first member, recursively)."""
    from bpfbuild.abi.protos import Arg, ArgType

    assert isinstance(arg, Arg)
    if reg.type & _F.MEM_ALLOC and func_id in (_SPIN_LOCK, _SPIN_UNLOCK, _KPTR_XCHG):
        return      # the lock in an allocated object, a kptr's: process_spin_lock / process_kptr_func
    if reg.type & (_F.MEM_ALLOC | _F.MEM_PERCPU):
        env.not_modelled(f"{reg.type & _F.MEM_ALLOC and 'allocated' or 'per-CPU'} objects passed to helpers")
        return
    if reg.type & _F.PTR_MAYBE_NULL and (not arg.maybe_null or arg.releases):
        raise env.error(f"Possibly NULL pointer passed to helper arg{regno}")
    need = "sock_common" if base is ArgType.ARG_PTR_TO_BTF_ID_SOCK_COMMON else arg.btf_type
    kb = env.kernel_btf
    if need is None or kb is None or reg.btf is not kb:
        env.not_modelled(f"the BTF type of helper argument R{regno}")
        return
    ids = find(kb, need, Kind.STRUCT)
    if not ids:
        env.not_modelled(f"the BTF type {need} of helper argument R{regno} (not in the target BTF)")
        return
    strict = arg.releases and func_id != _SK_RELEASE
    if not btf_struct_ids_match(kb, reg.btf_id, reg.off, kb, ids[0], strict):
        raise env.error(f"R{regno} is of type {_type_name(kb, reg.btf_id)} but {need} is expected")

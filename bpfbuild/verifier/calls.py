"""Calls and exits: helpers (``check_helper_call``), bpf-to-bpf calls (``check_func_call``),
callbacks (``bpf_loop``, ``bpf_for_each_map_elem``), function exit and the program's return
value (``prepare_func_exit``, ``check_return_code``), and reference tracking.

As elsewhere, each step checks first and changes the state afterwards: the arguments of a
helper are all checked (:func:`check_helper_args`) before its effects are applied.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from bpfbuild.abi.ctx import ReturnRange, return_range
from bpfbuild.abi.maptypes import MapType, map_helper_allowed
from bpfbuild.abi.progtypes import AttachType, ProgType
from bpfbuild.abi.protos import (
    Arg,
    ArgType,
    BpfFunc,
    FuncProto,
    Privilege,
    RetType,
    TypeFlag,
    base_helper_privilege,
    helper_allowed,
    offered_helper,
)
from bpfbuild.verifier import btfid, dynptr, fastcall, fields, globalargs, graph, irq, percpu, precision, transfer
from bpfbuild.verifier.bounds import S64_MAX, S64_MIN, reg_bounds_sync, s64
from bpfbuild.verifier.cfg import unmodelled_helper_nargs
from bpfbuild.verifier.checks import (
    Access,
    check_map_access_type,
    check_mem_access,
    check_mem_region_access,
    check_mem_size_reg,
    check_packet_access,
    check_ptr_alignment,
    check_ptr_off_reg,
    check_reg_read,
    check_stack_range_initialized,
    is_pointer_value,
    may_access_direct_pkt_data,
)
from bpfbuild.verifier.disasm import helper_log_name
from bpfbuild.verifier.env import MAX_CALL_FRAMES, Env
from bpfbuild.verifier.equiv import widen_imprecise_scalars
from bpfbuild.verifier.fastenum import members
from bpfbuild.verifier.log import frame_str
from bpfbuild.verifier.state import (
    BASE_MASK,
    FuncState,
    MapInfo,
    RefState,
    Reg,
    RegFlag,
    RegType,
    SlotType,
    VerifierState,
    reg_type_str,
)
from bpfbuild.verifier.tnum import U32_MAX

__all__ = [
    "check_reference_leak",
    "check_return_code",
    "do_helper_call",
    "do_subprog_call",
    "prepare_func_exit",
]

MAX_HELPER_ID = 211        # bpf_cgrp_storage_delete; __BPF_FUNC_MAX_ID is 212 in Linux 6.18
MAX_ERRNO = 4095

# plain-class views of the enums read per call (see .fastenum)
_T = members(RegType)
_F = members(RegFlag)
ArgType, BpfFunc, MapType, RetType, TypeFlag = (members(ArgType), members(BpfFunc), members(MapType),
                                                members(RetType), members(TypeFlag))
_MAYBE_NULL, _RINGBUF = int(RegFlag.PTR_MAYBE_NULL), int(RegFlag.MEM_RINGBUF)
# TypeFlag bits of prototypes as plain ints (``flag in arg.flags`` is a Python-level Flag call)
_TF_RDONLY, _TF_MAYBE_NULL, _TF_RINGBUF = (TypeFlag.MEM_RDONLY.value, TypeFlag.PTR_MAYBE_NULL.value,
                                           TypeFlag.MEM_RINGBUF.value)
_TF_RELEASE, _TF_UNINIT, _TF_WRITE = (TypeFlag.OBJ_RELEASE.value, TypeFlag.MEM_UNINIT.value,
                                      TypeFlag.MEM_WRITE.value)
_TF_FIXED_SIZE, _TF_ALIGNED = TypeFlag.MEM_FIXED_SIZE.value, TypeFlag.MEM_ALIGNED.value
_RDONLY = int(RegFlag.MEM_RDONLY)
_MEM_TYPES = (_T.PTR_TO_STACK, _T.PTR_TO_PACKET, _T.PTR_TO_PACKET_META, _T.PTR_TO_MAP_KEY,
              _T.PTR_TO_MAP_VALUE, _T.PTR_TO_MEM, _T.PTR_TO_MEM | _F.MEM_RINGBUF, _T.PTR_TO_BUF,
              _T.PTR_TO_BTF_ID | _F.PTR_TRUSTED)
_COMPATIBLE: dict[ArgType, tuple[int, ...]] = {
    ArgType.ARG_PTR_TO_MAP_KEY: _MEM_TYPES,
    ArgType.ARG_PTR_TO_MAP_VALUE: _MEM_TYPES,
    ArgType.ARG_PTR_TO_MEM: _MEM_TYPES,
    ArgType.ARG_CONST_SIZE: (_T.SCALAR_VALUE,),
    ArgType.ARG_CONST_SIZE_OR_ZERO: (_T.SCALAR_VALUE,),
    ArgType.ARG_CONST_ALLOC_SIZE_OR_ZERO: (_T.SCALAR_VALUE,),
    ArgType.ARG_CONST_MAP_PTR: (_T.CONST_PTR_TO_MAP,),
    ArgType.ARG_PTR_TO_CTX: (_T.PTR_TO_CTX,),
    ArgType.ARG_PTR_TO_SOCK_COMMON: (_T.PTR_TO_SOCK_COMMON, _T.PTR_TO_SOCKET, _T.PTR_TO_TCP_SOCK,
                                     _T.PTR_TO_XDP_SOCK),
    ArgType.ARG_PTR_TO_BTF_ID_SOCK_COMMON: (_T.PTR_TO_SOCK_COMMON, _T.PTR_TO_SOCKET, _T.PTR_TO_TCP_SOCK,
                                            _T.PTR_TO_XDP_SOCK, _T.PTR_TO_BTF_ID,
                                            _T.PTR_TO_BTF_ID | _F.PTR_TRUSTED),
    ArgType.ARG_PTR_TO_SOCKET: (_T.PTR_TO_SOCKET,),
    ArgType.ARG_PTR_TO_BTF_ID: (_T.PTR_TO_BTF_ID, _T.PTR_TO_BTF_ID | _F.PTR_TRUSTED, _T.PTR_TO_BTF_ID | _F.MEM_RCU),
    ArgType.ARG_PTR_TO_SPIN_LOCK: (_T.PTR_TO_MAP_VALUE, _T.PTR_TO_BTF_ID | _F.MEM_ALLOC),
    ArgType.ARG_PTR_TO_RINGBUF_MEM: (_T.PTR_TO_MEM | _F.MEM_RINGBUF,),
    ArgType.ARG_PTR_TO_FUNC: (_T.PTR_TO_FUNC,),
    ArgType.ARG_PTR_TO_STACK: (_T.PTR_TO_STACK,),
    ArgType.ARG_PTR_TO_CONST_STR: (_T.PTR_TO_MAP_VALUE,),
    ArgType.ARG_PTR_TO_TIMER: (_T.PTR_TO_MAP_VALUE,),
    ArgType.ARG_KPTR_XCHG_DEST: (_T.PTR_TO_MAP_VALUE, _T.PTR_TO_BTF_ID | _F.MEM_ALLOC),
    ArgType.ARG_PTR_TO_DYNPTR: (_T.PTR_TO_STACK, _T.CONST_PTR_TO_DYNPTR),
    ArgType.ARG_PTR_TO_PERCPU_BTF_ID: percpu.ARG_TYPES,
}
_FIXED_OFF_OK = frozenset({
    _T.PTR_TO_STACK, _T.PTR_TO_PACKET, _T.PTR_TO_PACKET_META, _T.PTR_TO_MAP_KEY, _T.PTR_TO_MAP_VALUE,
    _T.PTR_TO_MEM, _T.PTR_TO_MEM | _F.MEM_RDONLY, _T.PTR_TO_MEM | _F.MEM_RINGBUF, _T.PTR_TO_BUF,
    _T.PTR_TO_BUF | _F.MEM_RDONLY, _T.PTR_TO_ARENA, _T.SCALAR_VALUE,
})
_NOT_MODELLED_ARGS = frozenset({
    ArgType.ARG_PTR_TO_ARENA,
})
_ARRAYS = (MapType.ARRAY, MapType.PERCPU_ARRAY)
_MAPS_OF_MAPS = (MapType.ARRAY_OF_MAPS, MapType.HASH_OF_MAPS)
_SOCK_MAPS = (MapType.SOCKMAP, MapType.SOCKHASH)
#: map types bpf_for_each_map_elem iterates (their ops have map_for_each_callback)
_FOR_EACH_MAPS = (MapType.HASH, MapType.ARRAY, MapType.PERCPU_HASH, MapType.PERCPU_ARRAY, MapType.LRU_HASH,
                  MapType.LRU_PERCPU_HASH)
#: is_ptr_cast_function: r0 is the argument seen as another type, holding its reference
_PTR_CAST = frozenset({BpfFunc.sk_fullsock, BpfFunc.tcp_sock, BpfFunc.skc_to_tcp6_sock, BpfFunc.skc_to_tcp_sock,
                       BpfFunc.skc_to_tcp_timewait_sock, BpfFunc.skc_to_tcp_request_sock,
                       BpfFunc.skc_to_udp6_sock, BpfFunc.skc_to_mptcp_sock, BpfFunc.sock_from_file})
# record_func_map: helpers that must be given a map
_MAP_FUNCS = frozenset({BpfFunc.tail_call, BpfFunc.map_lookup_elem, BpfFunc.map_update_elem,
                        BpfFunc.map_delete_elem, BpfFunc.map_push_elem, BpfFunc.map_pop_elem,
                        BpfFunc.map_peek_elem, BpfFunc.for_each_map_elem, BpfFunc.redirect_map,
                        BpfFunc.map_lookup_percpu_elem})
_RDONLY_FORBIDDEN = frozenset({BpfFunc.map_delete_elem, BpfFunc.map_update_elem, BpfFunc.map_push_elem,
                               BpfFunc.map_pop_elem})
#: the helpers do_helper_call's match has a case for
_SPECIAL_CALLS = frozenset({BpfFunc.per_cpu_ptr, BpfFunc.this_cpu_ptr, BpfFunc.tail_call,
                           BpfFunc.get_local_storage, BpfFunc.dynptr_from_mem, BpfFunc.dynptr_data, BpfFunc.dynptr_write,
                           BpfFunc.for_each_map_elem, BpfFunc.user_ringbuf_drain, BpfFunc.timer_set_callback,
                           BpfFunc.loop})
#: helpers returning a size or an error (do_refine_retval_range)
_STR_SIZED = frozenset({BpfFunc.get_stack, BpfFunc.get_task_stack, BpfFunc.probe_read_str,
                        BpfFunc.probe_read_kernel_str, BpfFunc.probe_read_user_str})
_ACQUIRE = frozenset({BpfFunc.sk_lookup_tcp, BpfFunc.sk_lookup_udp, BpfFunc.skc_lookup_tcp,
                      BpfFunc.ringbuf_reserve, BpfFunc.kptr_xchg})


@dataclass(slots=True)
class CallMeta:
    """``struct bpf_call_arg_meta``: what the argument checks learnt."""

    func_id: int
    map: MapInfo | None = None
    raw_regno: int = 0
    raw_size: int = 0
    release_regno: int = 0
    ref_obj_id: int = 0
    mem_size: int = 0
    msize_max_value: int = 0
    subprogno: int = -1
    const_map_key: int = -1
    dynptr_new: tuple[int, int] | None = None   # (regno, type): a MEM_UNINIT dynptr argument
    dynptr_id: int = 0                          # bpf_dynptr_data: the dynptr its slice is of
    kptr_field: tuple | None = None             # bpf_kptr_xchg: (field, BTF, pointee id) of its destination
    stack_writes: list[tuple[int, int, int, bool]] = field(default_factory=list)   # regno, min, max, raw


# ---- helpers ------------------------------------------------------------------------------------------

def _helper_proto(env: Env, func_id: int, name: str) -> FuncProto | None:
    """The prototype the program type offers (``name``: the helper's log name); raises the
    kernel's error when there is none."""
    if func_id < 0 or func_id > MAX_HELPER_ID:
        raise env.error(f"invalid func {name}#{func_id}")
    allowed, proto = offered_helper(func_id, env.prog_type, env.kernel)   # get_func_proto
    if allowed is False and btfid.iter_only_helper(env, func_id):
        allowed = None
    if func_id == 0 or allowed is False or name == "unknown":
        raise env.error(f"program of this type cannot use helper {name}#{func_id}")
    if not env.bpf_capable:
        priv = base_helper_privilege(name)
        if priv is not None and priv > Privilege.UNPRIVILEGED:
            raise env.error(f"program of this type cannot use helper {name}#{func_id}")
    return proto


def do_helper_call(env: Env, st: VerifierState, func_id: int) -> VerifierState | None:
    """``check_helper_call``; returns the state of a callback to explore (bpf_loop...), if any."""
    name = _log_name(func_id)
    proto = _helper_proto(env, func_id, name)
    if proto is None:
        _unmodelled_helper(env, st, func_id, name)
        return None
    if proto.gpl_only and not env.gpl:
        raise env.error("cannot call GPL-restricted function from non-GPL compatible program")
    if proto.might_sleep and not env.sleepable:
        raise env.error("helper call might sleep in a non-sleepable prog")
    if proto.might_sleep and st.active_rcu_lock:
        raise env.error(f"sleepable helper {name}#{func_id} in rcu_read_lock region")
    if proto.might_sleep and st.active_preempt_locks:
        raise env.error(f"sleepable helper {name}#{func_id} in non-preemptible region")
    if proto.might_sleep and st.irqs:
        raise env.error(f"sleepable helper {name}#{func_id} in IRQ-disabled region")
    meta = check_helper_args(env, st, proto)
    regs = st.frames[-1].regs
    # record_func_map
    if func_id in _MAP_FUNCS:
        m = meta.map
        if m is None:
            raise env.error("kernel subsystem misconfigured verifier")
        if m.rdonly_prog and func_id in _RDONLY_FORBIDDEN:
            raise env.error("write into map forbidden")
        aux = env.aux[env.insn_idx]
        aux.map_index = m.index if aux.map_index in (None, m.index) else -1
    if func_id == BpfFunc.tail_call:
        key = regs[3]
        aux = env.aux[env.insn_idx]
        if meta.map is not None and key.is_const and key.var_off.value < meta.map.max_entries:
            precision.mark_chain_precision(env, st, 3)
            aux.map_key = key.var_off.value if aux.map_key in (None, key.var_off.value) else -1
        else:
            aux.map_key = -1
    # --- effects ---
    if meta.dynptr_new is not None:
        mark_dynptr_stack_slots(env, st, *meta.dynptr_new)
    for regno, lo, hi, raw in meta.stack_writes:
        reg = regs[regno]
        transfer.stack_helper_write(env, st.frames[reg.frameno], lo, hi, raw)
        _grow_depth(env, st, reg, lo)
        if raw:   # the kernel's byte writes in raw mode (check_mem_access) reach the fastcall check
            fastcall.check_stack_contract(env, st.frames[reg.frameno].subprogno, lo)
    if meta.release_regno and proto.args[meta.release_regno - 1].base == ArgType.ARG_PTR_TO_DYNPTR:
        unmark_dynptr_stack_slots(env, st, regs[meta.release_regno])
    elif meta.release_regno:
        ok = False
        if meta.ref_obj_id and func_id == BpfFunc.kptr_xchg:
            ok = percpu.release_xchg_reference(env, st, meta.ref_obj_id)
        elif meta.ref_obj_id:
            ok = transfer.release_reference(env, st, meta.ref_obj_id)
        elif regs[meta.release_regno].is_null:
            ok = True
        if not ok:
            raise env.error(f"func {name}#{func_id} reference has not been acquired before")
    callback: VerifierState | None = None
    changes_pkt = False
    percpu_src: Reg | None = None
    if func_id in _SPECIAL_CALLS:           # (the common helpers need no look at the cases)
        match func_id:
            case BpfFunc.per_cpu_ptr | BpfFunc.this_cpu_ptr:
                percpu_src = percpu.check_call(env, regs[1])
            case BpfFunc.tail_call:
                check_reference_leak(env, st, "tail_call")
            case BpfFunc.get_local_storage:
                if not regs[2].is_null:
                    raise env.error("get_local_storage() doesn't support non-zero flags")
            case BpfFunc.dynptr_from_mem:
                if regs[1].type != _T.PTR_TO_MAP_VALUE:
                    raise env.error(f"Unsupported reg type {reg_type_str(regs[1].type)} "
                                    "for bpf_dynptr_from_mem data")
            case BpfFunc.dynptr_data:
                _dtype, meta.dynptr_id, meta.ref_obj_id = dynptr.dynptr_info(st, regs[1])
            case BpfFunc.dynptr_write:
                # writing into an skb makes every packet pointer (and packet slice) invalid
                changes_pkt = dynptr.dynptr_info(st, regs[1])[0] in (dynptr.SKB, dynptr.SKB_META)
            case BpfFunc.for_each_map_elem:
                callback = _push_callback(env, st, meta, _set_map_elem_callback_state)
            case BpfFunc.user_ringbuf_drain:
                callback = _push_callback(env, st, meta, _set_user_ringbuf_callback_state)
            case BpfFunc.timer_set_callback:
                callback = _push_async_callback(env, meta)
            case BpfFunc.loop:
                if regs[4].is_null:
                    precision.mark_chain_precision(env, st, 4)
                precision.mark_chain_precision(env, st, 1)
                frame = st.frames[-1]
                if frame.callback_depth < regs[1].umax:
                    callback = _push_callback(env, st, meta, _set_loop_callback_state)
                else:
                    frame.callback_depth = 0
                    if env.log.level >= 2:
                        env.verbose(f"frame{st.curframe} bpf_loop iteration limit reached\n")
    for reg in regs[:6]:                    # the call clobbers r0-r5
        reg.mark_not_init()
    r0 = regs[0]
    ret = proto.ret
    flags = 0                               # RegFlag bits, as a plain int (an int | Flag is slow)
    ret_flags = ret.flags._value_           # TypeFlag bits as an int (``in`` on a Flag is slow)
    if ret_flags & _TF_MAYBE_NULL and not (func_id == BpfFunc.map_lookup_elem and meta.map is not None
                                           and meta.map.map_type in _ARRAYS
                                           and 0 <= meta.const_map_key < meta.map.max_entries):
        flags |= _MAYBE_NULL
    if ret_flags & _TF_RINGBUF:
        flags |= _RINGBUF
    if ret_flags & _TF_RDONLY:
        flags |= _RDONLY
    match ret.base:
        case RetType.RET_INTEGER:
            r0.mark_unknown()
        case RetType.RET_VOID:
            r0.type = _T.NOT_INIT
        case RetType.RET_PTR_TO_MAP_VALUE if meta.map is not None and meta.map.map_type in _MAPS_OF_MAPS:
            r0.mark_known_zero()          # a lookup in a map of maps gives the inner map
            if meta.map.inner is None:
                env.not_modelled(f"insn {env.insn_idx}: the inner map of {meta.map.name} (no template)")
            r0.map = meta.map.inner
            r0.type = _T.CONST_PTR_TO_MAP | flags
        case RetType.RET_PTR_TO_MAP_VALUE if (func_id == BpfFunc.map_lookup_elem and meta.map is not None
                                              and meta.map.map_type in _SOCK_MAPS):
            r0.mark_known_zero()          # a sockmap/sockhash lookup gives the socket (a reference)
            r0.type = _T.PTR_TO_SOCKET | flags
        case RetType.RET_PTR_TO_MAP_VALUE:
            r0.mark_known_zero()
            r0.map = meta.map
            r0.type = _T.PTR_TO_MAP_VALUE | flags
            if not flags & _MAYBE_NULL and fields.keeps_id(r0):
                r0.id = env.new_id()      # a value holding a lock: its id names the lock
        case RetType.RET_PTR_TO_MEM:
            r0.mark_known_zero()
            r0.type = _T.PTR_TO_MEM | flags
            r0.mem_size = meta.mem_size
        case RetType.RET_PTR_TO_SOCKET:
            r0.mark_known_zero()
            r0.type = _T.PTR_TO_SOCKET | flags
        case RetType.RET_PTR_TO_SOCK_COMMON:
            r0.mark_known_zero()
            r0.type = _T.PTR_TO_SOCK_COMMON | flags
        case RetType.RET_PTR_TO_TCP_SOCK:
            r0.mark_known_zero()
            r0.type = _T.PTR_TO_TCP_SOCK | flags
        case RetType.RET_PTR_TO_MEM_OR_BTF_ID if percpu_src is not None:
            r0.assign(percpu.helper_return(env, percpu_src, flags))
        case RetType.RET_PTR_TO_BTF_ID if func_id == BpfFunc.kptr_xchg and meta.kptr_field is not None:
            _field, kbtf, kid = meta.kptr_field
            r0.mark_known_zero()
            r0.type = _T.PTR_TO_BTF_ID | flags | (_F.MEM_ALLOC if kbtf is not env.kernel_btf else 0)
            if kbtf is not env.kernel_btf and _field.kind is fields.FieldKind.KPTR_PERCPU:
                r0.type |= _F.MEM_PERCPU
            r0.btf = kbtf
            r0.btf_id = kid
        case RetType.RET_PTR_TO_BTF_ID if ret.btf_type is not None:
            if TypeFlag.PTR_TRUSTED in ret.flags:
                flags |= _F.PTR_TRUSTED
            btf_r0 = btfid.ret_btf_reg(env, ret.btf_type, flags)
            if btf_r0 is None:
                r0.mark_unknown()
            else:
                r0.assign(btf_r0)
        case _:
            env.not_modelled(f"insn {env.insn_idx}: the return value of {name}")
            r0.mark_unknown()
    if r0.type & _MAYBE_NULL:
        r0.id = env.new_id()
    if func_id == BpfFunc.dynptr_data:
        r0.dynptr_id = meta.dynptr_id
    if func_id in _PTR_CAST or func_id == BpfFunc.dynptr_data:
        r0.ref_obj_id = meta.ref_obj_id
    elif func_id in _ACQUIRE or (func_id == BpfFunc.map_lookup_elem and meta.map is not None
                               and meta.map.map_type in _SOCK_MAPS):
        rid = env.new_id()
        st.refs.append(RefState(rid, env.insn_idx))
        r0.id = rid
        r0.ref_obj_id = rid
    _refine_retval(env, r0, func_id, meta)
    if meta.map is not None and not _map_helper_allowed(meta.map.map_type, name, env.prog_type,
                                                          env.attach_type):
        raise env.error(f"cannot pass map_type {meta.map.map_type} into func {name}#{func_id}")
    if proto.changes_pkt_data or changes_pkt:
        transfer.clear_all_pkt_pointers(env, st)
    return callback


#: helper_log_name by helper id (a fixed table, asked at every call)
_log_name = functools.lru_cache(maxsize=512)(helper_log_name)


@functools.cache
def _map_helper_allowed(map_type: MapType, name: str, prog_type: ProgType,
                        attach_type: AttachType | None) -> bool:
    """``check_map_func_compatibility``'s answer (a fixed table: asked once per combination)."""
    return map_helper_allowed(map_type, name, prog_type, attach_type)


def _grow_depth(env: Env, st: VerifierState, reg: Reg, min_off: int) -> None:
    frame = st.frames[reg.frameno]
    if -min_off > 0:
        sp = env.subprogs[frame.subprogno]
        sp.stack_depth = max(sp.stack_depth, (-min_off + 7) // 8 * 8)


def _refine_retval(env: Env, r0: Reg, func_id: int, meta: CallMeta) -> None:
    if r0.type != _T.SCALAR_VALUE:
        return
    if func_id in _STR_SIZED:
        r0.smax = meta.msize_max_value if meta.msize_max_value <= S64_MAX else -1
        r0.s32_max = _s32(meta.msize_max_value)
        r0.smin = -MAX_ERRNO
        r0.s32_min = -MAX_ERRNO
        reg_bounds_sync(r0)
    elif func_id == BpfFunc.get_smp_processor_id:
        top = env.options.cpus() - 1
        r0.umax = r0.u32_max = r0.smax = r0.s32_max = top
        r0.umin = r0.u32_min = r0.smin = r0.s32_min = 0
        reg_bounds_sync(r0)


def _s32(x: int) -> int:
    x &= U32_MAX
    return x - (1 << 32) if x >> 31 else x


def _unmodelled_helper(env: Env, st: VerifierState, func_id: int, name: str) -> None:
    """A helper this table has no prototype for: its arguments must be set, the rest is assumed."""
    if not env.sleepable and helper_allowed(func_id, env.prog_type, sleepable=False) is False:
        raise env.error("helper call might sleep in a non-sleepable prog")
    # noted first: without the prototype an earlier argument's type error (the kernel's first
    # message) cannot be told from an unset register, so a rejection here is not confident
    env.not_modelled(f"the arguments of {name} (no verifier prototype)")
    for i in range(1, unmodelled_helper_nargs(env.prog_type, func_id) + 1):
        check_reg_read(env, st, i)
    regs = st.frames[-1].regs
    for i in range(6):
        regs[i].mark_not_init()
    regs[0].mark_unknown()


def check_helper_args(env: Env, st: VerifierState, proto: FuncProto) -> CallMeta:
    """``check_func_arg`` for each argument, in order; nothing is changed."""
    meta = CallMeta(proto.func_id)
    for i, arg in enumerate(proto.args):
        _check_func_arg(env, st, i + 1, arg, proto, meta)
    if meta.raw_regno:
        reg = st.frames[-1].regs[meta.raw_regno]
        if reg.type == _T.PTR_TO_STACK:
            lo = reg.off + (s64(reg.var_off.value) if not reg.var_off.mask else reg.smin)
            meta.stack_writes.append((meta.raw_regno, lo, lo + meta.raw_size, True))
    return meta


# the bits _check_reg_type tests and clears, as plain ints (Flag operations are Python calls)
_NOT_RDONLY, _NOT_MAYBE_NULL = ~int(RegFlag.MEM_RDONLY), ~int(RegFlag.PTR_MAYBE_NULL)
_NOT_DYNPTR = ~int(RegFlag.DYNPTR_TYPED | RegFlag.DYNPTR_PKT)
_ARG_PTR_TO_MEM, _ARG_DONTCARE = ArgType.ARG_PTR_TO_MEM, ArgType.ARG_DONTCARE
_ARG_ANYTHING = ArgType.ARG_ANYTHING
_NOT_INIT, _PKT, _PKT_META = int(_T.NOT_INIT), int(_T.PTR_TO_PACKET), int(_T.PTR_TO_PACKET_META)
#: _COMPATIBLE by the argument type's name (hashing an Enum member is a Python-level call)
_COMPATIBLE_BY_NAME = {k.name: v for k, v in _COMPATIBLE.items()}


def _check_reg_type(env: Env, regno: int, reg: Reg, arg: Arg, base: ArgType, func_id: int) -> None:
    t = reg.type
    flags = arg.flags._value_          # (.value is a property: slower)
    if flags & _TF_RDONLY:
        t &= _NOT_RDONLY
    if flags & _TF_MAYBE_NULL:
        t &= _NOT_MAYBE_NULL
    if base is _ARG_PTR_TO_MEM:
        t &= _NOT_DYNPTR
    compatible = _COMPATIBLE_BY_NAME.get(base._name_)
    if compatible is None:
        raise env.error(f"verifier internal error: unsupported arg type {base.value}")
    if t in compatible:
        if t & BASE_MASK == _T.PTR_TO_BTF_ID and base != ArgType.ARG_PTR_TO_PERCPU_BTF_ID:
            btfid.check_btf_arg(env, regno, reg, arg, base, func_id)
        return
    expected = ", ".join(reg_type_str(c) for c in compatible)
    raise env.error(f"R{regno} type={reg_type_str(reg.type)} expected={expected}")


def _check_func_arg(env: Env, st: VerifierState, regno: int, arg: Arg, proto: FuncProto,
                    meta: CallMeta) -> None:
    base = arg.base
    if base is _ARG_DONTCARE:
        return
    reg = st.frames[-1].regs[regno]
    if reg.type == _NOT_INIT:
        check_reg_read(env, st, regno)      # its error
    if base is _ARG_ANYTHING:
        if is_pointer_value(env, reg):
            raise env.error(f"R{regno} leaks addr into helper function")
        return
    arg_flags = arg.flags._value_         # TypeFlag bits as an int
    maybe_null = arg_flags & _TF_MAYBE_NULL
    t = reg.type
    if (t == _PKT or t == _PKT_META) and not may_access_direct_pkt_data(env, Access.READ, proto.pkt_access):
        raise env.error("helper access to the packet is not allowed")
    if base == ArgType.ARG_PTR_TO_MAP_VALUE and meta.map is None:
        raise env.error("invalid map_ptr to access map->type")
    if base == ArgType.ARG_PTR_TO_MAP_VALUE and meta.map is not None and meta.map.map_type in _SOCK_MAPS:
        # resolve_map_arg_type: a sockmap/sockhash value is a socket
        if arg_flags:
            raise env.error("invalid arg_type for sockmap/sockhash")
        base = ArgType.ARG_PTR_TO_BTF_ID_SOCK_COMMON
    if proto.func_id == BpfFunc.kptr_xchg and regno == 2 and not (maybe_null and reg.is_null):
        t = reg.type & ~_F.PTR_MAYBE_NULL
        if not t & _F.MEM_ALLOC and t not in _COMPATIBLE[ArgType.ARG_PTR_TO_BTF_ID]:
            _check_reg_type(env, regno, reg, arg, base, proto.func_id)   # the kernel's type error
        if meta.kptr_field is None:   # the destination is not modelled (a note says so)
            pass
        elif reg.type & _F.PTR_MAYBE_NULL and reg.type & BASE_MASK == _T.PTR_TO_BTF_ID:
            raise env.error(f"Possibly NULL pointer passed to helper arg{regno}")
        else:
            _kptr_match_type(env, meta.kptr_field, reg, regno)
    elif not (maybe_null and reg.is_null):
        _check_reg_type(env, regno, reg, arg, base, proto.func_id)
        _check_func_arg_reg_off(env, reg, regno, arg)
    if arg_flags & _TF_RELEASE:
        if base == ArgType.ARG_PTR_TO_DYNPTR:
            dynptr.unacquired(env, st, reg, regno)
        elif not reg.ref_obj_id and not reg.is_null:
            raise env.error(f"R{regno} must be referenced when passed to release function")
        meta.release_regno = regno
    if reg.ref_obj_id and base != ArgType.ARG_KPTR_XCHG_DEST:
        meta.ref_obj_id = reg.ref_obj_id
    match base:
        case ArgType.ARG_CONST_MAP_PTR:
            if meta.map is not None and meta.map is not reg.map:
                # bpf_timer_init: the timer's map (map_uid: 0 outside maps of maps)
                raise env.error("timer pointer in R1 map_uid=0 doesn't match map pointer in R2 map_uid=0")
            meta.map = reg.map
        case ArgType.ARG_PTR_TO_SPIN_LOCK:
            graph.process_spin_lock(env, st, regno, meta.func_id == BpfFunc.spin_lock)
        case ArgType.ARG_PTR_TO_TIMER:
            timer_map = fields.process_timer(env, st, regno)
            if meta.map is not None:
                raise env.error("verifier bug. Two map pointers in a timer helper")
            meta.map = timer_map
            if timer_map is not None and timer_map.inner is not None:
                env.not_modelled(f"insn {env.insn_idx}: a timer in a map of maps (map_uid)")
        case ArgType.ARG_KPTR_XCHG_DEST:
            meta.kptr_field = fields.process_kptr_xchg(env, st, regno, graph.reg_btf_record(env, reg))
        case ArgType.ARG_PTR_TO_MAP_KEY:
            if meta.map is None:
                raise env.error("invalid map_ptr to access map->key")
            _check_helper_mem_access(env, st, regno, meta.map.key_size, Access.READ, False, meta, False)
            if meta.map.map_type in _ARRAYS:
                meta.const_map_key = _constant_map_key(env, st, reg, meta.map.key_size)
        case ArgType.ARG_PTR_TO_MAP_VALUE:
            if maybe_null and reg.is_null:
                return
            if meta.map is None:
                raise env.error("invalid map_ptr to access map->value")
            raw = bool(arg_flags & _TF_UNINIT)
            access = Access.WRITE if arg_flags & _TF_WRITE else Access.READ
            _check_helper_mem_access(env, st, regno, meta.map.value_size, access, False, meta, raw)
        case ArgType.ARG_PTR_TO_FUNC:
            meta.subprogno = reg.subprogno
        case ArgType.ARG_PTR_TO_MEM:
            if arg_flags & _TF_FIXED_SIZE and arg.size:
                raw = bool(arg_flags & _TF_UNINIT)
                access = Access.WRITE if arg_flags & _TF_WRITE else Access.READ
                _check_helper_mem_access(env, st, regno, arg.size, access, False, meta, raw)
                if arg_flags & _TF_ALIGNED:
                    check_ptr_alignment(env, reg, 0, arg.size, True)
        case ArgType.ARG_CONST_SIZE | ArgType.ARG_CONST_SIZE_OR_ZERO:
            prev = proto.args[regno - 2]
            prev_flags = prev.flags._value_
            access = Access.WRITE if prev_flags & _TF_WRITE else Access.READ
            raw = bool(prev_flags & _TF_UNINIT) and not reg.var_off.mask
            meta.msize_max_value = reg.umax
            zero_ok = base == ArgType.ARG_CONST_SIZE_OR_ZERO
            check_mem_size_reg(env, reg, regno, zero_ok)
            _check_helper_mem_access(env, st, regno - 1, reg.umax, access, zero_ok, meta, raw)
            precision.mark_chain_precision(env, st, regno)
        case ArgType.ARG_CONST_ALLOC_SIZE_OR_ZERO:
            if reg.var_off.mask:
                raise env.error(f"R{regno} is not a known constant'")
            meta.mem_size = reg.var_off.value & U32_MAX   # an int in bpf_call_arg_meta
            precision.mark_chain_precision(env, st, regno)
        case ArgType.ARG_PTR_TO_CONST_STR:
            _check_reg_const_str(env, regno, reg)
        case ArgType.ARG_PTR_TO_DYNPTR:
            _check_dynptr_arg(env, st, regno, reg, arg, meta)
        case ArgType.ARG_PTR_TO_PERCPU_BTF_ID:
            percpu.check_arg(env, regno, reg)
        case _ if base in _NOT_MODELLED_ARGS:
            env.not_modelled(f"{base.value} arguments ({helper_log_name(meta.func_id)})")


_DYNPTR_TYPES = ((TypeFlag.DYNPTR_TYPE_LOCAL, dynptr.LOCAL), (TypeFlag.DYNPTR_TYPE_RINGBUF, dynptr.RINGBUF),
                 (TypeFlag.DYNPTR_TYPE_SKB, dynptr.SKB), (TypeFlag.DYNPTR_TYPE_XDP, dynptr.XDP))


def _check_dynptr_arg(env: Env, st: VerifierState, regno: int, reg: Reg, arg: Arg, meta: CallMeta) -> None:
    """``process_dynptr_func`` for a helper argument: a new dynptr is built after the checks."""
    want = next((d for flag, d in _DYNPTR_TYPES if flag in arg.flags), 0)
    if TypeFlag.MEM_UNINIT in arg.flags:
        dynptr.check_uninit(env, st, reg)
        meta.dynptr_new = (regno, want)
        return
    dynptr.check_init(env, st, reg, regno - 1, want, TypeFlag.MEM_RDONLY not in arg.flags)
    dynptr.mark_read(env, st, reg)


# ---- dynptrs on the stack: built and released (helpers and kfuncs) ------------------------------------

def mark_dynptr_stack_slots(env: Env, st: VerifierState, regno: int, dtype: int, clone_ref_obj_id: int = 0) -> None:
    """``process_dynptr_func`` for ``MEM_UNINIT``: the 16 bytes at R[regno] are written, then
    become a new dynptr of type ``dtype`` (``mark_stack_slots_dynptr``)."""
    from bpfbuild.verifier.insns import grow_stack

    reg = st.frames[-1].regs[regno]
    frame = st.frames[reg.frameno]
    for k in range(dynptr.NR_SLOTS):
        check_mem_access(env, st, regno, k * 8, 8, Access.WRITE, -1)
        grow_stack(env, st, reg, reg.off + k * 8, 8)
        transfer.stack_write(env, st, frame, reg, reg.off + k * 8, 8, None, None)
    spi = dynptr.get_spi(env, st, reg, None)
    dynptr.destroy_if_dynptr_stack_slot(env, st, frame, spi)
    dynptr.destroy_if_dynptr_stack_slot(env, st, frame, spi - 1)
    did = env.new_id()
    for k, first in ((spi, True), (spi - 1, False)):
        slot = frame.wslot(k)
        for j in range(8):
            slot.slot_type[j] = SlotType.STACK_DYNPTR
        sp = slot.spilled_ptr
        sp.mark_known_zero()
        sp.type = _T.CONST_PTR_TO_DYNPTR
        sp.id = did
        sp.dynptr_type = dtype
        sp.dynptr_first = first
    if dynptr.refcounted(dtype):
        rid = clone_ref_obj_id
        if not rid:
            rid = env.new_id()
            st.refs.append(RefState(rid, env.insn_idx))
        frame.wslot(spi).spilled_ptr.ref_obj_id = rid
        frame.wslot(spi - 1).spilled_ptr.ref_obj_id = rid
    live = env.stack_live
    assert live is not None
    live.mark_write(frame.frameno, 3 << (spi - 1))
    env.scratched_slots.update((spi, spi - 1))


def unmark_dynptr_stack_slots(env: Env, st: VerifierState, reg: Reg) -> None:
    """``unmark_stack_slots_dynptr``: a release helper consumed the dynptr at ``reg``; a ring
    buffer's reference goes (with the slices holding it) and so do its clones."""
    frame = st.frames[reg.frameno]
    spi = dynptr.get_spi(env, st, reg, None)
    sp = frame.stack[spi].spilled_ptr
    if not dynptr.refcounted(sp.dynptr_type):
        dynptr.clear(env, frame, spi)
        return
    rid = sp.ref_obj_id
    transfer.release_reference(env, st, rid)
    for k in range(1, len(frame.stack)):
        other = frame.stack[k].spilled_ptr
        if other.ref_obj_id == rid and frame.stack[k].slot_type[0] == SlotType.STACK_DYNPTR and other.dynptr_first:
            dynptr.clear(env, frame, k)


def _kptr_match_type(env: Env, kptr: tuple, reg: Reg, regno: int) -> None:
    """``map_kptr_match_type``: the object given to bpf_kptr_xchg is of the kptr's struct."""
    field, kb, kid = kptr
    local = kb is not env.kernel_btf      # a kptr to the program's own struct (bpf_obj_new)
    perm = _F.PTR_MAYBE_NULL | (_F.MEM_ALLOC if local else _F.PTR_TRUSTED | _F.MEM_RCU)
    if local and field.kind is fields.FieldKind.KPTR_PERCPU:
        perm |= _F.MEM_PERCPU
    targ = btfid._type_name(kb, kid)
    reg_name = ""
    if reg.type & BASE_MASK == _T.PTR_TO_BTF_ID and local != (reg.btf is not env.kernel_btf):
        reg_name = btfid._type_name(reg.btf, reg.btf_id)
    elif reg.type & BASE_MASK == _T.PTR_TO_BTF_ID and not reg.type & ~BASE_MASK & ~perm:
        if reg.btf is not kb:
            env.not_modelled(f"insn {env.insn_idx}: a kptr of another BTF given to bpf_kptr_xchg")
            return
        reg_name = btfid._type_name(kb, reg.btf_id)
        check_ptr_off_reg(env, reg, regno, fixed_off_ok=True)
        if btfid.btf_struct_ids_match(kb, reg.btf_id, reg.off, kb, kid, True):  # type: ignore[arg-type]
            return
    elif reg.type & BASE_MASK == _T.PTR_TO_BTF_ID:
        reg_name = btfid._type_name(reg.btf, reg.btf_id)
    raise env.error(f"invalid kptr access, R{regno} type={reg_type_str(reg.type)}{reg_name} "
                    f"expected={reg_type_str(_T.PTR_TO_BTF_ID)}{targ}")


def _constant_map_key(env: Env, st: VerifierState, key: Reg, key_size: int) -> int:
    """``get_constant_map_key``: the key's value when the stack holds a known constant there
    (all-zero bytes, or a spilled constant of exactly the key's size); -1 otherwise."""
    if not env.bpf_capable or key.type != _T.PTR_TO_STACK or key.var_off.mask:
        return -1
    frame = st.frames[key.frameno]
    stack_off = key.off + s64(key.var_off.value)
    slot = -stack_off - 1
    spi, off = slot // 8, slot % 8
    if spi >= len(frame.stack):
        return -1
    stype = frame.stack[spi].slot_type
    zero = 0
    i = off
    while i >= 0 and stype[i] == 3:
        zero += 1
        i -= 1
    if zero >= key_size:
        return 0
    if not frame.stack[spi].is_spilled_scalar:
        return -1
    spill = 0
    i = off
    while i >= 0 and stype[i] == 1:
        spill += 1
        i -= 1
    if spill != key_size:
        return -1
    reg = frame.stack[spi].spilled_ptr
    if reg.var_off.mask:
        return -1
    bt = precision.Backtrack(st.curframe)
    bt.set_slot(key.frameno, spi)
    precision.mark_chain_precision(env, st, -1, bt)
    return reg.var_off.value


def _check_func_arg_reg_off(env: Env, reg: Reg, regno: int, arg: Arg) -> None:
    if arg.flags._value_ & _TF_RELEASE and not (arg.base == ArgType.ARG_PTR_TO_DYNPTR
                                               and reg.type == _T.PTR_TO_STACK):
        if reg.off:
            raise env.error(f"R{regno} must have zero offset when passed to release func or trusted arg to kfunc")
        check_ptr_off_reg(env, reg, regno)
        return
    if reg.type in _FIXED_OFF_OK:
        return
    if reg.type & BASE_MASK == _T.PTR_TO_BTF_ID:
        check_ptr_off_reg(env, reg, regno, fixed_off_ok=True)
        return
    check_ptr_off_reg(env, reg, regno)


def _check_helper_mem_access(env: Env, st: VerifierState, regno: int, size: int, access: Access,
                             zero_size_allowed: bool, meta: CallMeta, raw: bool) -> None:
    reg = st.frames[-1].regs[regno]
    t = reg.type
    base = t & BASE_MASK
    if base in (_T.PTR_TO_PACKET, _T.PTR_TO_PACKET_META):
        check_packet_access(env, regno, reg, reg.off, size, zero_size_allowed)
        return
    if base == _T.PTR_TO_MAP_KEY:
        if access is Access.WRITE:
            raise env.error(f"R{regno} cannot write into {reg_type_str(t)}")
        assert reg.map is not None
        check_mem_region_access(env, regno, reg, reg.off, size, reg.map.key_size)
        return
    if base == _T.PTR_TO_MAP_VALUE:
        assert reg.map is not None
        check_map_access_type(env, reg, reg.off, size, access)
        check_mem_region_access(env, regno, reg, reg.off, size, reg.map.value_size, zero_size_allowed)
        fields.check_map_fields(env, regno, reg, reg.off, size, helper=True)
        return
    if base == _T.PTR_TO_MEM:
        if t & _F.MEM_RDONLY and access is Access.WRITE:
            raise env.error(f"R{regno} cannot write into {reg_type_str(t)}")
        check_mem_region_access(env, regno, reg, reg.off, size, reg.mem_size, zero_size_allowed)
        return
    if base == _T.PTR_TO_STACK:
        if raw:
            check_stack_range_initialized(env, st, regno, reg, reg.off, size, zero_size_allowed, helper=True,
                                          raw=True, access=access)
            meta.raw_regno = regno
            meta.raw_size = size
            return
        written = check_stack_range_initialized(env, st, regno, reg, reg.off, size, zero_size_allowed,
                                                helper=True, raw=False, access=access)
        if written is not None:
            meta.stack_writes.append((regno, written[0], written[1], False))
        return
    if zero_size_allowed and size == 0 and reg.is_null:
        return
    raise env.error(f"R{regno} type={reg_type_str(t)} expected={reg_type_str(_T.PTR_TO_STACK)}")


def _check_reg_const_str(env: Env, regno: int, reg: Reg) -> None:
    m = reg.map
    if reg.type != _T.PTR_TO_MAP_VALUE or m is None:
        return
    if not m.is_rdonly:
        raise env.error(f"R{regno} does not point to a readonly map'")
    if reg.var_off.mask:
        raise env.error(f"R{regno} is not a constant address'")
    check_mem_region_access(env, regno, reg, reg.off, m.value_size - reg.off, m.value_size)
    off = reg.off + reg.var_off.value
    data = m.initial or b""
    if 0 not in data[off:m.value_size]:
        raise env.error("string is not zero-terminated")


# ---- callbacks --------------------------------------------------------------------------------------------

def _set_loop_callback_state(env: Env, caller: FuncState, callee: FuncState) -> None:
    callee.regs[1].mark_unknown()
    callee.regs[2].assign(caller.regs[3])
    for i in (3, 4, 5):
        callee.regs[i].mark_not_init()
    callee.in_callback_fn = True
    callee.callback_ret_range = (0, 1)


def _set_map_elem_callback_state(env: Env, caller: FuncState, callee: FuncState) -> None:
    m = caller.regs[1].map
    if m is None or m.map_type not in _FOR_EACH_MAPS:
        raise env.error("callback function not allowed for map")
    callee.regs[1].assign(caller.regs[1])
    for regno, typ in ((2, _T.PTR_TO_MAP_KEY), (3, _T.PTR_TO_MAP_VALUE)):
        r = callee.regs[regno]
        r.mark_known_zero()
        r.type = typ
        r.map = m
    callee.regs[3].id = env.new_id()      # the element's value gets an id of its own, as in the kernel
    callee.regs[4].assign(caller.regs[3])
    callee.regs[5].mark_not_init()
    callee.in_callback_fn = True
    callee.callback_ret_range = (0, 1)


def _set_user_ringbuf_callback_state(env: Env, caller: FuncState, callee: FuncState) -> None:
    """``set_user_ringbuf_callback_state``: R1 a read-only local dynptr over the sample
    (``mark_dynptr_cb_reg``), R2 the caller's context argument."""
    callee.regs[0].mark_not_init()
    r1 = callee.regs[1]
    r1.mark_known_zero()
    r1.type = _T.CONST_PTR_TO_DYNPTR
    r1.id = env.new_id()
    r1.dynptr_type = dynptr.LOCAL
    r1.dynptr_first = True
    callee.regs[2].assign(caller.regs[3])
    for i in (3, 4, 5):
        callee.regs[i].mark_not_init()
    callee.in_callback_fn = True
    callee.callback_ret_range = (0, 1)


def _push_async_callback(env: Env, meta: CallMeta) -> VerifierState:
    """``push_async_cb`` + ``set_timer_callback_state``: the timer callback is verified later
    on a fresh stack (one frame, called from nowhere) with R1 the map, R2 its key, R3 its value;
    it must return 0."""
    subprog = meta.subprogno
    if subprog < 0:
        raise env.error("verifier internal error: callback without a function")
    sp = env.subprogs[subprog]
    sp.is_async_cb = True
    cb = VerifierState()
    frame = FuncState(0, -1, subprog)
    cb.frames.append(frame)
    m = meta.map
    for regno, typ in ((1, _T.CONST_PTR_TO_MAP), (2, _T.PTR_TO_MAP_KEY), (3, _T.PTR_TO_MAP_VALUE)):
        r = frame.regs[regno]
        r.mark_known_zero()
        r.type = typ
        r.map = m
    frame.regs[3].id = env.new_id()
    frame.in_async_callback_fn = True
    frame.callback_ret_range = (0, 0)
    cb.first_insn_idx = 0      # push_async_cb leaves it unset: the kernel's log says first_idx 0
    cb.insn_idx = sp.start
    return cb


def _push_callback(env: Env, st: VerifierState, meta: CallMeta, setup: object) -> VerifierState:
    """``push_callback_call``: a copy of the state entering the callback (explored later)."""
    subprog = meta.subprogno
    if subprog < 0:
        raise env.error("verifier internal error: callback without a function")
    env.subprogs[subprog].is_cb = True
    cb = st.copy()
    _setup_func_entry(env, cb, subprog, env.insn_idx, setup)  # type: ignore[arg-type]
    cb.callback_unroll_depth += 1
    cb.frames[-2].callback_depth += 1
    st.frames[-1].callback_depth = 0
    cb.insn_idx = env.subprogs[subprog].start
    return cb


def _setup_func_entry(env: Env, st: VerifierState, subprog: int, callsite: int,
                      setup) -> None:  # type: ignore[no-untyped-def]
    if st.curframe + 1 >= MAX_CALL_FRAMES:
        raise env.error(f"the call stack of {st.curframe + 2} frames is too deep")
    caller = st.frames[-1]
    callee = FuncState(st.curframe + 1, callsite, subprog)
    setup(env, caller, callee)
    st.frames.append(callee)


def _set_callee_state(env: Env, caller: FuncState, callee: FuncState) -> None:
    for i in range(1, 6):
        callee.regs[i].assign(caller.regs[i])


def do_subprog_call(env: Env, st: VerifierState, target: int) -> int:
    """``check_func_call``: returns the pc to continue at (the callee's first instruction, or the
    instruction after the call for a global function)."""
    subprog = env.find_subprog(target)
    if subprog < 0:
        raise env.error(f"verifier bug. No program starts at insn {target}")
    caller = st.frames[-1]
    sp = env.subprogs[subprog]
    if sp.is_global:
        if st.active_locks:
            raise env.error("global function calls are not allowed while holding a lock,\n"
                            "use static function instead")
        if ((st.active_rcu_lock or st.active_preempt_locks or st.irqs or not env.sleepable)
                and irq.subprog_might_sleep(env, subprog)):
            raise env.error("global functions that may sleep are not allowed in non-sleepable context,\n"
                            "i.e., in a RCU/IRQ/preempt-disabled section, or in\n"
                            "a non-sleepable BPF program context")
        globalargs.check_call_args(env, st, subprog, _global_reg_off, _global_mem)
        env.verbose(f"Func#{subprog} ('{sp.name}') is global and assumed valid.\n")
        if sp.changes_pkt_data:
            transfer.clear_all_pkt_pointers(env, st)
        sp.called = True
        for i in range(6):
            caller.regs[i].mark_not_init()
        caller.regs[0].mark_unknown()
        return env.insn_idx + 1
    _setup_func_entry(env, st, subprog, env.insn_idx, _set_callee_state)
    for i in range(6):
        caller.regs[i].mark_not_init()
    if env.log.level >= 1:
        env.verbose("caller:\n" + frame_str(st, caller) + "\ncallee:\n" + frame_str(st, st.frames[-1]) + "\n")
    return sp.start


#: ``ARG_DONTCARE`` for ``check_func_arg_reg_off`` (no release)
_DONTCARE = Arg(ArgType.ARG_DONTCARE)


def _global_reg_off(env: Env, reg: Reg, regno: int) -> None:
    _check_func_arg_reg_off(env, reg, regno, _DONTCARE)


def _global_mem(env: Env, st: VerifierState, regno: int, size: int) -> None:
    """``check_mem_reg`` of a global function's memory argument: readable and writable."""
    meta = CallMeta(func_id=0)
    _check_helper_mem_access(env, st, regno, size, Access.READ, True, meta, False)
    _check_helper_mem_access(env, st, regno, size, Access.WRITE, True, meta, False)


def prepare_func_exit(env: Env, st: VerifierState) -> int:
    """Return from a bpf-to-bpf call or a callback; returns the pc to continue at."""
    callee = st.frames[-1]
    r0 = callee.regs[0]
    if r0.type == _T.PTR_TO_STACK:
        raise env.error("cannot return stack pointer to the caller")
    caller = st.frames[-2]
    if callee.in_callback_fn:
        if r0.type != _T.SCALAR_VALUE:
            raise env.error("R0 not a scalar value")
        precision.mark_chain_precision(env, st, 0)
        lo, hi = callee.callback_ret_range
        if not (lo <= r0.smin and r0.smax <= hi):
            raise env.error(_invalid_scalar(r0, lo, hi, "At callback return", "R0"))
        next_pc = callee.callsite
    else:
        caller.regs[0].assign(r0)
        next_pc = callee.callsite + 1
    if env.log.level >= 1:
        env.verbose("returning from callee:\n" + frame_str(st, callee) + f"\nto caller at {next_pc}:\n")
    st.frames.pop()
    if env.log.level >= 1:
        env.verbose(frame_str(st, caller) + "\n")
    if callee.in_callback_fn:
        prev = _find_prev_entry(env, st, next_pc)
        if prev is not None:
            widen_imprecise_scalars(prev, st)
    return next_pc


def _find_prev_entry(env: Env, cur: VerifierState, pc: int) -> VerifierState | None:
    """An ancestor checkpoint of ``cur`` at ``pc`` (the previous iteration of a callback loop)."""
    for e in env.explored_bucket(pc, cur.frames[-1].callsite):
        old = e.state
        if old.insn_idx == pc and old.branches and old.same_callsites(cur) and old.dfs_depth < cur.dfs_depth:
            return old
    return None


def _invalid_scalar(reg: Reg, lo: int, hi: int, ctx: str, name: str) -> str:
    text = f"{ctx} the register {name} has"
    unknown = True
    if reg.smin > S64_MIN:
        text += f" smin={reg.smin}"
        unknown = False
    if reg.smax < S64_MAX:
        text += f" smax={reg.smax}"
        unknown = False
    if unknown:
        text += " unknown scalar value"
    return text + f" should have been in [{lo}, {hi}]"


def check_reference_leak(env: Env, st: VerifierState, prefix: str) -> None:
    """``check_resource_leak``: no acquired reference may outlive the program (or a tail call)."""
    if st.refs:
        lines = [f"Unreleased reference id={r.id} alloc_insn={r.insn_idx}" for r in st.refs]
        raise env.error("\n".join([*lines, f"{prefix} would lead to reference leak"]))
    irq.exit_error(env, st, prefix)
    if st.active_rcu_lock:
        raise env.error(f"{prefix} cannot be used inside bpf_rcu_read_lock-ed region")
    if st.active_preempt_locks:
        raise env.error(f"{prefix} cannot be used inside bpf_preempt_disable-ed region")


def check_return_code(env: Env, st: VerifierState) -> None:
    """R0 at the main program's exit: set, not a pointer (unprivileged), in the type's range."""
    frame = st.frames[0]
    r0 = check_reg_read(env, st, 0)
    if is_pointer_value(env, r0):
        raise env.error("R0 leaks addr as return value")
    if frame.in_async_callback_fn:
        if r0.type != _T.SCALAR_VALUE:
            raise env.error(f"At async callback return the register R0 is not a known value ({reg_type_str(r0.type)})")
        precision.mark_chain_precision(env, st, 0)
        lo, hi = frame.callback_ret_range
        if not (lo <= r0.smin and r0.smax <= hi):
            raise env.error(_invalid_scalar(r0, lo, hi, "At async callback return", "R0"))
        return
    if frame.subprogno:
        if r0.type != _T.SCALAR_VALUE:
            raise env.error(f"At subprogram exit the register R0 is not a scalar value ({reg_type_str(r0.type)})")
        return
    rng = return_range(env.prog_type, env.attach_type)
    if env.prog_type == ProgType.RAW_TRACEPOINT:
        rng = None
    lsm = env.prog_type == ProgType.LSM and env.attach_type is AttachType.LSM_MAC
    if lsm:
        lsm_range = btfid.lsm_retval_range(env)   # checked on the low 32 bits (return_32bit)
        rng = ReturnRange(*lsm_range) if lsm_range is not None else None
    if rng is None:
        return
    if r0.type != _T.SCALAR_VALUE:
        raise env.error(f"At program exit the register R0 is not a known value ({reg_type_str(r0.type)})")
    precision.mark_chain_precision(env, st, 0)
    lo, hi = (r0.s32_min, r0.s32_max) if lsm else (r0.smin, r0.smax)
    if not (rng.lo <= lo and hi <= rng.hi):
        raise env.error(_invalid_scalar(r0, rng.lo, rng.hi, "At program exit", "R0"))


